//! The misfit-and-gradient driver: runs a [`Schedule`] of forward advances,
//! checkpoint stores/restores and adjoint steps over any
//! [`AdjointPropagator`], and reports the memory the checkpoints held.
//! Slots a schedule marks as on disk ([`Schedule::two_level`]) are kept by a
//! [`DiskStore`] (states written as bytes through [`StateBytes`]); the others
//! are clones in RAM.
//!
//! With observations `d_n = R S_n` (`n < nt`) and the least-squares misfit
//! `J = ½ Σ_n ‖R S_n − d^obs_n‖²`, the gradient is accumulated backwards:
//! `μ_{nt−1} = Rᵀ r_{nt−1}`, then for `n = nt−2, …, 0`:
//! `step_adjoint(n, S_n, μ)` followed by `μ += Rᵀ r_n`.

use crate::schedule::{Action, Schedule};
use crate::store::{DiskStore, StateBytes};
use pdeinv_forward::propagator::copy_into;
use pdeinv_forward::{AdjointPropagator, Real};
use std::path::PathBuf;
use thiserror::Error;

/// A schedule that does not fit the propagator or breaks its own rules.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DriverError {
    /// The schedule reverses a different number of steps.
    #[error("the schedule reverses {schedule} steps but the propagator has {propagator} (nt − 1)")]
    Length {
        /// Steps in the schedule.
        schedule: usize,
        /// Steps of the propagator.
        propagator: usize,
    },
    /// Observed data of the wrong size.
    #[error("observed data has {got} values; nt × channels = {expected}")]
    Data {
        /// Values given.
        got: usize,
        /// Values expected.
        expected: usize,
    },
    /// An action that cannot be carried out (the schedule is inconsistent).
    #[error("invalid schedule action {0}")]
    Action(String),
    /// A disk checkpoint could not be created, written, read or removed (the directory is missing or not
    /// writable, the disk is full, ...).
    #[error("checkpoint directory {}: {action}: {reason}", dir.display())]
    Disk {
        /// The directory named for disk checkpoints.
        dir: PathBuf,
        /// What failed.
        action: String,
        /// The operating system's reason.
        reason: String,
    },
}

/// Where the residuals `r_n` come from.
#[derive(Clone, Copy)]
pub enum Residuals<'a, T> {
    /// `r_n = R S_n − observed_n` (least-squares misfit), `[nt, channels]`.
    Observed(&'a [T]),
    /// Given residuals (`J_lin = <r, d>`: the adjoint of the linearised map).
    Given(&'a [T]),
    /// Any misfit of the whole record: its [`AdjointSource`] turns the
    /// synthetic traces into `∂J/∂d` once the first sweep has recorded them.
    Misfit(&'a dyn AdjointSource<T>),
}

impl<T> std::fmt::Debug for Residuals<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Residuals::Observed(_) => "Residuals::Observed",
            Residuals::Given(_) => "Residuals::Given",
            Residuals::Misfit(_) => "Residuals::Misfit",
        })
    }
}

/// A misfit `J(d)` of the synthetic traces `d` (`[nt, channels]`, row-major)
/// that also gives its derivative: the adjoint source of the backward sweep.
pub trait AdjointSource<T>: Sync {
    /// Return `J(d)` and overwrite `traces` (holding `d`) with `∂J/∂d`.
    fn misfit_and_adjoint_source(&self, traces: &mut [T]) -> f64;
}

/// What a gradient run computed and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientRun {
    /// `½ Σ ‖R S_n − d_n‖²` (0 for given residuals, `J` for a custom misfit).
    pub misfit: f64,
    /// `dJ/dm`, one value per model parameter.
    pub gradient: Vec<f64>,
    /// Largest number of bytes held by checkpoints in RAM at once.
    pub peak_checkpoint_bytes: usize,
    /// Largest number of bytes held by checkpoint files on disk at once (0 without disk slots).
    pub peak_disk_bytes: usize,
    /// Forward steps run in all (the first sweep included).
    pub forward_steps: usize,
    /// Forward steps beyond the first sweep.
    pub recomputed_steps: usize,
    /// Forward steps the schedule asked for that were not run: where its
    /// last advance before a reversal only reaches the step below the one
    /// just reversed, the propagator may reverse that step from the state
    /// at hand ([`AdjointPropagator::reverse_from_next`]) instead.
    pub skipped_steps: usize,
    /// Reversals run two at a time in one call
    /// ([`AdjointPropagator::reverse_pair`]): the pairs.
    pub fused_pairs: usize,
    /// `(seconds since the start, bytes held by checkpoints in RAM)` after
    /// every change of the checkpoint memory.
    pub memory_timeline: Vec<(f64, usize)>,
}

/// Compute the misfit and its gradient by running `schedule`, every slot in
/// RAM. Works for any propagator; a schedule with disk slots
/// ([`Schedule::two_level`]) is refused with [`DriverError::Action`]: run it
/// with [`gradient_two_level`] or [`gradient_with_progress`], which need the
/// state to be [`StateBytes`].
pub fn gradient<P: AdjointPropagator>(
    p: &P,
    residuals: Residuals<'_, P::Real>,
    schedule: &Schedule,
) -> Result<GradientRun, DriverError> {
    run_schedule(p, residuals, schedule, &|| {}, None)
}

/// [`gradient`] for any schedule, disk slots included: disk slots are kept
/// as files in a private subdirectory of `schedule.disk_dir` (or the system
/// temporary directory), which is removed before returning, also on error.
pub fn gradient_two_level<P: AdjointPropagator>(
    p: &P,
    residuals: Residuals<'_, P::Real>,
    schedule: &Schedule,
) -> Result<GradientRun, DriverError>
where
    P::State: StateBytes,
{
    gradient_with_progress(p, residuals, schedule, &|| {})
}

/// [`gradient_two_level`], calling `on_step` after every forward and every
/// adjoint step (for progress reporting).
pub fn gradient_with_progress<P: AdjointPropagator>(
    p: &P,
    residuals: Residuals<'_, P::Real>,
    schedule: &Schedule,
    on_step: &(dyn Fn() + Sync),
) -> Result<GradientRun, DriverError>
where
    P::State: StateBytes,
{
    run_schedule(p, residuals, schedule, on_step, Some(&Bytes))
}

/// How the driver moves states to and from disk slots.
trait DiskCodec<S> {
    fn store(&self, disk: &mut DiskStore, slot: usize, state: &S) -> Result<(), DriverError>;
    fn restore(&self, disk: &mut DiskStore, slot: usize, state: &mut S) -> Result<(), DriverError>;
}

/// States as bytes through [`StateBytes`].
struct Bytes;

impl<S: StateBytes> DiskCodec<S> for Bytes {
    fn store(&self, disk: &mut DiskStore, slot: usize, state: &S) -> Result<(), DriverError> {
        disk.store(slot, state)
    }

    fn restore(&self, disk: &mut DiskStore, slot: usize, state: &mut S) -> Result<(), DriverError> {
        disk.restore(slot, state)
    }
}

/// The executor; `codec` is `None` when the state cannot go to disk.
fn run_schedule<P: AdjointPropagator>(
    p: &P,
    residuals: Residuals<'_, P::Real>,
    schedule: &Schedule,
    on_step: &(dyn Fn() + Sync),
    codec: Option<&dyn DiskCodec<P::State>>,
) -> Result<GradientRun, DriverError> {
    let nt = p.nt();
    let channels = p.channels();
    let steps = nt - 1;
    if schedule.steps != steps {
        return Err(DriverError::Length { schedule: schedule.steps, propagator: steps });
    }
    match residuals {
        Residuals::Observed(d) | Residuals::Given(d) if d.len() != nt * channels => {
            return Err(DriverError::Data { got: d.len(), expected: nt * channels });
        }
        _ => {}
    }
    // residuals of every time sample, filled as the first sweep reaches each state
    let mut r = vec![P::Real::of(0.0); nt * channels];
    let mut observed = vec![false; nt];
    let mut misfit = 0.0;
    let record = |n: usize, state: &P::State, r: &mut [P::Real], misfit: &mut f64| {
        let out = &mut r[n * channels..(n + 1) * channels];
        match residuals {
            Residuals::Observed(d) => {
                p.observe(n, state, out);
                for (o, &obs) in out.iter_mut().zip(&d[n * channels..(n + 1) * channels]) {
                    *o -= obs;
                    *misfit += 0.5 * o.as_f64() * o.as_f64();
                }
            }
            Residuals::Given(d) => out.copy_from_slice(&d[n * channels..(n + 1) * channels]),
            Residuals::Misfit(_) => p.observe(n, state, out),
        }
    };
    let mut disk = match (schedule.disk_slots, codec) {
        (0, _) => None,
        (_, None) => {
            return Err(DriverError::Action(format!(
                "the schedule keeps {} slots on disk, but this entry point keeps states in RAM only \
                 (use gradient_two_level)",
                schedule.disk_slots
            )));
        }
        (slots, Some(codec)) => {
            let dir = schedule.disk_dir.clone().unwrap_or_else(std::env::temp_dir);
            Some((DiskStore::create(&dir, slots)?, codec))
        }
    };
    let state_bytes = p.state_bytes();
    let mut current = p.initial_state();
    let mut current_step = 0;
    let mut slots: Vec<Option<P::State>> = (0..schedule.slots).map(|_| None).collect();
    // freed snapshots keep their buffers for the next store: schedules free
    // and store again all the time, and a fresh allocation of a large state
    // costs page faults on every store (allocated buffers never exceed the
    // peak number of live snapshots). A slot whose copy only reversals read
    // keeps what the adjoint step reads (`adjoint_copy`); `spare[1]` holds
    // such buffers, `spare[0]` full states, and `slot_compact` each slot's kind.
    let mut spare: [Vec<P::State>; 2] = [Vec::new(), Vec::new()];
    let reverse_only = schedule.reverse_only_stores();
    let bytes_of = |compact: bool| if compact { p.adjoint_state_bytes() } else { state_bytes };
    let mut slot_compact = vec![false; schedule.slots];
    // the current state may live in a RAM slot (`current_in`) instead of in
    // `current`, whose buffers are then free: after a restore (lazily, so the
    // adjoint step that usually follows reads the slot and nothing is
    // copied) and after a full store (which takes `current`'s buffers
    // instead of copying them). The next advance steps from the slot into
    // `current` (`step_from`: what it copies rides in the step's sweep), and a
    // free of that slot hands its buffers back to `current`. `current`
    // always holds buffers of a full state.
    let mut current_in: Option<usize> = None;
    fn held_in<S>(slots: &[Option<S>], slot: usize) -> &S {
        slots[slot].as_ref().expect("a slot holding the current state is freed only after it is handed back")
    }
    fn live<'s, S>(current: &'s S, current_in: Option<usize>, slots: &'s [Option<S>]) -> &'s S {
        current_in.map_or(current, |slot| held_in(slots, slot))
    }
    let mut held = 0usize;
    let mut peak = 0usize;
    let mut forward_steps = 0usize;
    let mut skipped_steps = 0usize;
    let mut fused_pairs = 0usize;
    // the indices of an advance and a reversal left out (the reversal done
    // from its successor's state, see `successor_serves`)
    let mut skip: Option<(usize, usize)> = None;
    let mut adjoint = p.initial_adjoint();
    let mut gradient = vec![0.0; p.parameters()];
    let mut started = false;
    let clock = std::time::Instant::now();
    let mut memory_timeline = vec![(0.0, 0)];
    // the last state, kept from the end of the first sweep until its
    // residual is injected (the injection reads it)
    let mut last: Option<P::State> = None;
    let observe_new = |step: usize,
                       state: &P::State,
                       r: &mut [P::Real],
                       misfit: &mut f64,
                       observed: &mut [bool],
                       last: &mut Option<P::State>| {
        if !observed[step] {
            observed[step] = true;
            record(step, state, r, misfit);
            if step == steps {
                *last = Some(p.adjoint_copy(state, None));
            }
            // the last sample is never a reversal point: observe it from a copy
            if step + 1 == steps && !observed[steps] {
                let mut copy = state.clone();
                p.step(step, &mut copy);
                observed[steps] = true;
                record(steps, &copy, r, misfit);
                *last = Some(copy);
            }
        }
    };
    if steps == 0 {
        observe_new(0, &current, &mut r, &mut misfit, &mut observed, &mut last);
    }
    for (index, action) in schedule.actions.iter().enumerate() {
        if let Some((advance, reversal)) = skip {
            if index == advance {
                continue;
            }
            if index == reversal {
                skip = None;
                if let Action::Reverse { step } = *action {
                    current_step = step;
                }
                continue;
            }
        }
        if matches!(action, Action::Advance { .. } | Action::Store { .. } | Action::Reverse { .. }) {
            // the residual of the state the action starts from, once
            let state = live(&current, current_in, &slots);
            observe_new(current_step, state, &mut r, &mut misfit, &mut observed, &mut last);
        }
        match *action {
            Action::Advance { from, to } => {
                if from != current_step || to <= from || to > steps {
                    return Err(DriverError::Action(format!(
                        "{action:?} with the current state at step {current_step}"
                    )));
                }
                for k in from..to {
                    match current_in.take() {
                        Some(slot) => p.step_from(k, held_in(&slots, slot), &mut current),
                        None => p.step(k, &mut current),
                    }
                    on_step();
                    current_step = k + 1;
                    forward_steps += 1;
                    observe_new(current_step, &current, &mut r, &mut misfit, &mut observed, &mut last);
                }
            }
            Action::Store { slot, step } => {
                if step != current_step || slot >= slots.len() {
                    return Err(DriverError::Action(format!(
                        "{action:?} with the current state at step {current_step}"
                    )));
                }
                if let Some((store, codec)) = disk.as_mut().filter(|_| schedule.is_disk_slot(slot)) {
                    codec.store(store, slot, live(&current, current_in, &slots))?;
                    continue;
                }
                let (compact, was_compact) = (reverse_only[index], slot_compact[slot]);
                if current_in == Some(slot) {
                    // storing over the slot that holds the current state
                    // (no schedule of ours does): take the state out first
                    current.clone_from(held_in(&slots, slot));
                    current_in = None;
                }
                if let Some(buffer) = slots[slot].take() {
                    held -= bytes_of(was_compact);
                    spare[usize::from(was_compact)].push(buffer);
                }
                // a buffer of the wanted kind, else of the other kind: either
                // serves either kind (an adjoint copy releases the rest of a
                // full buffer, a full copy regrows it), so the buffers
                // allocated never exceed the peak held
                let kind = usize::from(compact);
                let buffer = match spare[kind].pop() {
                    Some(buffer) => Some((buffer, kind)),
                    None => spare[1 - kind].pop().map(|buffer| (buffer, 1 - kind)),
                };
                slots[slot] = Some(match (compact, current_in, buffer) {
                    (true, _, buffer) => {
                        p.adjoint_copy(live(&current, current_in, &slots), buffer.map(|(buffer, _)| buffer))
                    }
                    // the slot takes the current state's buffers; `current`
                    // takes a full spare (or a new state)
                    (false, None, Some((buffer, 0))) => {
                        current_in = Some(slot);
                        std::mem::replace(&mut current, buffer)
                    }
                    (false, None, None) => {
                        current_in = Some(slot);
                        std::mem::replace(&mut current, p.target_state())
                    }
                    (false, _, buffer) => {
                        copy_into(live(&current, current_in, &slots), buffer.map(|(buffer, _)| buffer))
                    }
                });
                held += bytes_of(compact);
                slot_compact[slot] = compact;
                peak = peak.max(held);
                memory_timeline.push((clock.elapsed().as_secs_f64(), held));
            }
            Action::Restore { slot, step } if schedule.is_disk_slot(slot) => match disk.as_mut() {
                Some((store, codec)) if store.holds(slot) => {
                    current_in = None;
                    codec.restore(store, slot, &mut current)?;
                    current_step = step;
                }
                _ => return Err(DriverError::Action(format!("{action:?} of an empty slot"))),
            },
            Action::Restore { slot, step } => match slots.get(slot).and_then(Option::as_ref) {
                Some(_) => {
                    current_in = Some(slot);
                    current_step = step;
                }
                None => return Err(DriverError::Action(format!("{action:?} of an empty slot"))),
            },
            Action::Free { slot } if schedule.is_disk_slot(slot) => {
                if let Some((store, _)) = disk.as_mut() {
                    store.free(slot)?;
                }
            }
            Action::Free { slot } => {
                let holds_current = current_in == Some(slot);
                if holds_current {
                    // a reverse-only copy: the schedule restores another
                    // slot before it needs a current state again; a full
                    // one hands its buffers (the current state) back
                    current_in = None;
                }
                if let Some(mut buffer) = slots.get_mut(slot).and_then(Option::take) {
                    if holds_current && !slot_compact[slot] {
                        std::mem::swap(&mut current, &mut buffer);
                        spare[0].push(buffer);
                    } else {
                        spare[usize::from(slot_compact[slot])].push(buffer);
                    }
                    held -= bytes_of(slot_compact[slot]);
                    memory_timeline.push((clock.elapsed().as_secs_f64(), held));
                }
            }
            Action::Reverse { step } => {
                if step != current_step {
                    return Err(DriverError::Action(format!(
                        "{action:?} with the current state at step {current_step}"
                    )));
                }
                let state = live(&current, current_in, &slots);
                if !started {
                    if let Residuals::Misfit(source) = residuals {
                        // every sample was observed on the way to the last step
                        misfit = source.misfit_and_adjoint_source(&mut r);
                    }
                    let Some(last) = last.take() else {
                        return Err(DriverError::Action(format!("{action:?} before the last state was reached")));
                    };
                    p.inject_residual(steps, &last, &r[steps * channels..], &mut adjoint);
                    started = true;
                }
                let residual = |k: usize| &r[k * channels..(k + 1) * channels];
                // the next reversal, of step − 1, and any advance before it,
                // left out where this one's state serves it: fused with this
                // reversal where the propagator can, else run after it
                let serves = successor_serves(&schedule.actions, index, step);
                let partner = partner(&schedule.actions, index, step, serves);
                let below = partner
                    .as_ref()
                    .and_then(|partner| partner.slot)
                    .filter(|&slot| !schedule.is_disk_slot(slot) && current_in != Some(slot))
                    .and_then(|slot| slots[slot].as_ref());
                // (a partner exists only for step ≥ 1)
                let pair = || [residual(step), residual(step - 1)];
                let left_out = match partner {
                    Some(partner) if p.reverse_pair(step, state, below, pair(), &mut adjoint, &mut gradient) => {
                        fused_pairs += 1;
                        let (advance, length) = partner.advance.unwrap_or((usize::MAX, 0));
                        Some((advance, partner.reversal, length))
                    }
                    _ => {
                        p.step_adjoint(step, state, &mut adjoint, &mut gradient);
                        p.inject_residual(step, state, residual(step), &mut adjoint);
                        // (`serves` only for step ≥ 1)
                        let served = serves.is_some()
                            && p.reverse_from_next(step - 1, state, residual(step - 1), &mut adjoint, &mut gradient);
                        serves.filter(|_| served)
                    }
                };
                on_step();
                if let Some((advance, reversal, length)) = left_out {
                    // progress counts the schedule's steps: the reversal and the advance left out
                    for _ in 0..=length {
                        on_step();
                    }
                    skip = Some((advance, reversal));
                    skipped_steps += length;
                }
            }
        }
    }
    if !started && let Residuals::Misfit(source) = residuals {
        misfit = source.misfit_and_adjoint_source(&mut r);
    }
    p.finish_gradient(&mut adjoint, &mut gradient);
    let peak_disk_bytes = disk.as_ref().map_or(0, |(store, _)| store.peak_bytes());
    drop(disk);
    Ok(GradientRun {
        misfit,
        gradient,
        peak_checkpoint_bytes: peak,
        peak_disk_bytes,
        forward_steps,
        recomputed_steps: forward_steps.saturating_sub(steps.saturating_sub(1)),
        skipped_steps,
        fused_pairs,
        memory_timeline,
    })
}

/// Where the schedule, after reversing `step` (action `index`), reaches
/// `step − 1` for its next reversal by an advance (from a restored
/// checkpoint, possibly storing checkpoints on the way) and restores again
/// after that reversal: the indices of that last advance and of the
/// reversal, and the advance's length. The state at `step` may serve that
/// reversal instead ([`AdjointPropagator::reverse_from_next`]), right away;
/// the actions between still run (they only move forward states), the last
/// advance does not.
fn successor_serves(actions: &[Action], index: usize, step: usize) -> Option<(usize, usize, usize)> {
    let next = (index + 1..actions.len()).find(|&i| matches!(actions[i], Action::Reverse { .. }))?;
    let (Action::Reverse { step: below }, Action::Advance { from, to }) = (actions[next], actions[next - 1]) else {
        return None;
    };
    let mut after = next + 1;
    while matches!(actions.get(after), Some(Action::Free { .. })) {
        after += 1;
    }
    let then_restores = matches!(actions.get(after), None | Some(Action::Restore { .. }));
    (below + 1 == step && to + 1 == step && then_restores).then_some((next - 1, next, to - from))
}

/// The reversal that can run fused with the reversal of `step` (action
/// `index`): the schedule's next reversal, of `step − 1`.
struct Partner {
    /// Its action index (left out once it has run).
    reversal: usize,
    /// The advance before it that only reaches `step − 1` for it, and its
    /// length (left out too, see [`successor_serves`]).
    advance: Option<(usize, usize)>,
    /// The RAM slot restored for it, which holds `S_{step−1}` already (no
    /// store into it before): the pair reads it instead of what `S_step`
    /// keeps of `S_{step−1}` (all of a slot kept for reversals only).
    slot: Option<usize>,
}

/// See [`Partner`]; `serves` is [`successor_serves`] of the same
/// reversal. `None` where the next reversal is not of `step − 1`, or where
/// it is better left to pair with the reversal after it.
fn partner(actions: &[Action], index: usize, step: usize, serves: Option<(usize, usize, usize)>) -> Option<Partner> {
    let next = (index + 1..actions.len()).find(|&i| matches!(actions[i], Action::Reverse { .. }))?;
    let Action::Reverse { step: below } = actions[next] else {
        return None;
    };
    if below + 1 != step {
        return None;
    }
    let advance = serves.map(|(advance, _, length)| (advance, length));
    // a pair that leaves no advance out must not take the next reversal
    // from a pair with the one after that would (forward steps cost more
    // than what fusing saves)
    if advance.is_none() && below > 0 && successor_serves(actions, next, below).is_some() {
        return None;
    }
    let slot = match actions[next - 1] {
        Action::Restore { slot, step } if step == below => Some(slot),
        _ => None,
    }
    .filter(|&slot| !actions[index + 1..next].iter().any(|a| matches!(*a, Action::Store { slot: s, .. } if s == slot)));
    Some(Partner { reversal: next, advance, slot })
}

/// The misfit alone (one forward sweep, nothing stored).
pub fn misfit<P: AdjointPropagator>(p: &P, observed: &[P::Real]) -> f64 {
    let channels = p.channels();
    let mut misfit = 0.0;
    let mut state = p.initial_state();
    let mut out = vec![P::Real::of(0.0); channels];
    for n in 0..p.nt() {
        p.observe(n, &state, &mut out);
        for (o, &d) in out.iter().zip(&observed[n * channels..(n + 1) * channels]) {
            let r = (*o - d).as_f64();
            misfit += 0.5 * r * r;
        }
        if n + 1 < p.nt() {
            p.step(n, &mut state);
        }
    }
    misfit
}

/// A custom misfit alone (one forward sweep, nothing stored).
pub fn misfit_of<P: AdjointPropagator>(p: &P, source: &dyn AdjointSource<P::Real>) -> f64 {
    let mut traces = pdeinv_forward::record(p, |_| {});
    source.misfit_and_adjoint_source(&mut traces)
}
