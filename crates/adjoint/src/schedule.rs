//! Checkpoint schedules for the adjoint sweep, as pure data (no PDE).
//!
//! A forward time loop has states `S_0 .. S_n` with `S_{k+1} = F_k(S_k)`. The adjoint sweep reverses the steps
//! `k = n-1, n-2, ..., 0` in that order, and reversing step `k` needs the current forward state to be `S_k` (the
//! adjoint step itself does not re-run `F_k`). Memory for every state is usually not available, so states are kept
//! in a few checkpoint *slots* and recomputed from them. A [`Schedule`] is the list of [`Action`]s that does this,
//! in the spirit of the action list of Revolve; an executor (the adjoint driver) only has to carry them out in order.
//!
//! Three families are provided:
//!
//! * [`Schedule::store_all`]: keep every state, no recomputation, `n` slots;
//! * [`Schedule::periodic`]: keep every `every`-th state plus a buffer for the segment being reversed;
//! * [`Schedule::binomial`]: the optimal binomial schedule of Griewank & Walther ("Algorithm 799: revolve", 2000)
//!   for a given number of slots; it needs exactly [`optimal_forward_steps`] forward steps;
//! * [`Schedule::two_level`]: the binomial schedule with some of its slots marked as kept on disk.
//!
//! [`Schedule::validate`] simulates a schedule and checks it, so executors may trust any schedule that validates.

use std::collections::BTreeMap;
use std::path::PathBuf;

use thiserror::Error;

/// One instruction of a checkpoint schedule.
///
/// The executor holds one *current* forward state (initially `S_0`) plus the checkpoint slots `0 .. slots`.
/// The `step` fields are redundant with the simulation (they say which state is involved) and are checked by
/// [`Schedule::validate`]; executors can use them for bookkeeping and assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Advance the current state from `S_from` to `S_to` (`to > from`), running `to - from` forward steps.
    Advance {
        /// Index of the current state before the advance.
        from: usize,
        /// Index of the current state after the advance.
        to: usize,
    },
    /// Copy the current state (which is `S_step`) into checkpoint slot `slot`, overwriting what it held.
    Store {
        /// Slot index, `< Schedule::slots`.
        slot: usize,
        /// Index of the stored state.
        step: usize,
    },
    /// Replace the current state by the copy in slot `slot` (which holds `S_step`); the slot keeps its copy.
    Restore {
        /// Slot index, `< Schedule::slots`.
        slot: usize,
        /// Index of the state the slot holds.
        step: usize,
    },
    /// Run the adjoint of step `step` (the current state is `S_step`); the current state is left unchanged.
    Reverse {
        /// The step being reversed.
        step: usize,
    },
    /// Slot `slot` is no longer needed (its memory may be freed or reused).
    Free {
        /// Slot index, `< Schedule::slots`.
        slot: usize,
    },
}

/// A checkpoint schedule: the actions that reverse `steps` time steps using at most `slots` checkpoint slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The actions, to be executed in order.
    pub actions: Vec<Action>,
    /// The number of forward steps `n` of the time loop (states `S_0 .. S_n`).
    pub steps: usize,
    /// The number of checkpoint slots the actions may use (slot indices are `< slots`); an executor can
    /// allocate this many state buffers up front. [`Schedule::peak_slots`] never exceeds it.
    pub slots: usize,
    /// Slots `0 .. disk_slots` are kept on disk, the others in RAM (0 for the RAM-only schedules; see
    /// [`Schedule::two_level`]). For the binomial schedule the lowest-numbered slots hold the longest-lived
    /// checkpoints (slot 0 holds `S_0` throughout), so they are the ones worth moving to disk.
    pub disk_slots: usize,
    /// The directory in which disk slots are kept (`None`: the system temporary directory); unused without disk
    /// slots. The executor creates a private subdirectory inside it.
    pub disk_dir: Option<PathBuf>,
}

/// Why a schedule is invalid (see [`Schedule::validate`]); `index` is the position of the offending action.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleError {
    /// An `Advance` does not start from the current state.
    #[error("action {index}: advance starts from S_{from} but the current state is S_{current}")]
    AdvanceFromWrongState {
        /// Position of the action.
        index: usize,
        /// The `from` of the action.
        from: usize,
        /// The actual current state.
        current: usize,
    },
    /// An `Advance` with `to <= from`.
    #[error("action {index}: advance from S_{from} to S_{to} does not move forward")]
    AdvanceNotForward {
        /// Position of the action.
        index: usize,
        /// The `from` of the action.
        from: usize,
        /// The `to` of the action.
        to: usize,
    },
    /// An `Advance` beyond the final state `S_steps`.
    #[error("action {index}: advance to S_{to} goes past the final state S_{steps}")]
    AdvancePastEnd {
        /// Position of the action.
        index: usize,
        /// The `to` of the action.
        to: usize,
        /// The schedule's number of steps.
        steps: usize,
    },
    /// A slot index `>= slots`.
    #[error("action {index}: slot {slot} is out of range (the schedule has {slots} slots)")]
    SlotOutOfRange {
        /// Position of the action.
        index: usize,
        /// The offending slot index.
        slot: usize,
        /// The schedule's number of slots.
        slots: usize,
    },
    /// A `Store` whose `step` is not the current state.
    #[error("action {index}: store of S_{step} into slot {slot} but the current state is S_{current}")]
    StoreWrongState {
        /// Position of the action.
        index: usize,
        /// The slot written.
        slot: usize,
        /// The `step` of the action.
        step: usize,
        /// The actual current state.
        current: usize,
    },
    /// A `Restore` from a slot that holds nothing (never stored, or freed).
    #[error("action {index}: restore of S_{step} from slot {slot}, which holds no state")]
    RestoreEmptySlot {
        /// Position of the action.
        index: usize,
        /// The slot read.
        slot: usize,
        /// The `step` of the action.
        step: usize,
    },
    /// A `Restore` from a slot that holds a different state.
    #[error("action {index}: restore of S_{step} from slot {slot}, which holds S_{held}")]
    RestoreWrongState {
        /// Position of the action.
        index: usize,
        /// The slot read.
        slot: usize,
        /// The `step` of the action.
        step: usize,
        /// The state the slot actually holds.
        held: usize,
    },
    /// A `Free` of a slot that holds nothing.
    #[error("action {index}: free of slot {slot}, which holds no state")]
    FreeEmptySlot {
        /// Position of the action.
        index: usize,
        /// The slot freed.
        slot: usize,
    },
    /// A `Reverse` out of the order `n-1, n-2, ..., 0`.
    #[error("action {index}: reverse of step {step} but step {expected} is the next one to reverse")]
    ReverseOutOfOrder {
        /// Position of the action.
        index: usize,
        /// The `step` of the action.
        step: usize,
        /// The step that had to be reversed next.
        expected: usize,
    },
    /// A `Reverse` after all steps were reversed.
    #[error("action {index}: reverse of step {step} after all steps were reversed")]
    ReverseAfterEnd {
        /// Position of the action.
        index: usize,
        /// The `step` of the action.
        step: usize,
    },
    /// A `Reverse` whose step is not the current state.
    #[error("action {index}: reverse of step {step} but the current state is S_{current}")]
    ReverseWrongState {
        /// Position of the action.
        index: usize,
        /// The `step` of the action.
        step: usize,
        /// The actual current state.
        current: usize,
    },
    /// The actions end before every step was reversed.
    #[error("the schedule ends before step {next} (and the steps below it) was reversed")]
    Incomplete {
        /// The next step that should have been reversed.
        next: usize,
    },
}

/// Slot contents during a simulation: dense for small slot indices, sparse beyond (so that a schedule with absurd
/// slot indices cannot make the simulation allocate absurd amounts of memory).
#[derive(Default)]
struct SlotTable {
    dense: Vec<Option<usize>>,
    sparse: BTreeMap<usize, usize>,
}

impl SlotTable {
    const DENSE_LIMIT: usize = 1 << 16;

    fn get(&self, slot: usize) -> Option<usize> {
        if slot < Self::DENSE_LIMIT { self.dense.get(slot).copied().flatten() } else { self.sparse.get(&slot).copied() }
    }

    /// Sets the content of `slot`; returns the previous content.
    fn set(&mut self, slot: usize, value: Option<usize>) -> Option<usize> {
        if slot < Self::DENSE_LIMIT {
            if slot >= self.dense.len() {
                value?;
                self.dense.resize(slot + 1, None);
            }
            std::mem::replace(&mut self.dense[slot], value)
        } else {
            match value {
                Some(v) => self.sparse.insert(slot, v),
                None => self.sparse.remove(&slot),
            }
        }
    }
}

impl Schedule {
    /// Keeps every state: one forward sweep storing `S_0 .. S_{n-1}` in slots `0 .. n` (slot `k` holds `S_k`),
    /// then for `k = n-1, ..., 0`: restore `S_k`, reverse step `k`, free slot `k`.
    ///
    /// `n - 1` forward steps (no recomputation), `n` slots.
    pub fn store_all(n: usize) -> Schedule {
        let mut actions = Vec::with_capacity(5 * n);
        for k in 0..n {
            if k > 0 {
                actions.push(Action::Advance { from: k - 1, to: k });
            }
            actions.push(Action::Store { slot: k, step: k });
        }
        for k in (0..n).rev() {
            actions.push(Action::Restore { slot: k, step: k });
            actions.push(Action::Reverse { step: k });
            actions.push(Action::Free { slot: k });
        }
        Schedule { actions, steps: n, slots: n, disk_slots: 0, disk_dir: None }
    }

    /// Periodic checkpointing: the first sweep stores every `every`-th state `S_0, S_e, S_2e, ...` (`e = every`)
    /// in the checkpoint slots `0 .. c`, `c = ceil(n / e)`; slot `k` holds `S_{k e}`, the start of segment
    /// `[k e, min((k + 1) e, n))`. The segments are then reversed from the last to the first: restore the segment
    /// start (not needed for the last segment, where the first sweep is), advance through the segment one step at a
    /// time storing its inner states `S_{ke+1} .. S_{b-2}` (`b` the segment end) in the segment buffer, and reverse
    /// the segment (its last state `S_{b-1}` is the current state, the others are restored from the buffer and the
    /// checkpoint slot, which are freed after use).
    ///
    /// Memory: `slots = c + max(min(e, n) - 2, 0)`: `c` checkpoint slots plus a segment buffer of `min(e, n) - 2`
    /// slots (the buffer starts at slot index `c`).
    ///
    /// Forward steps: `(n - 1) + (c - 1) (e - 1)`: the first sweep to `S_{n-1}` plus, for each segment but the
    /// last, a re-advance of `e - 1` steps; so `recomputed_steps() = (c - 1)(e - 1)`.
    ///
    /// `every = 0` is treated as `every = 1` (every state is a checkpoint, like [`Schedule::store_all`]).
    pub fn periodic(n: usize, every: usize) -> Schedule {
        let e = every.max(1);
        if n == 0 {
            return Schedule { actions: Vec::new(), steps: 0, slots: 0, disk_slots: 0, disk_dir: None };
        }
        let c = n.div_ceil(e);
        let buffer = e.min(n).saturating_sub(2);
        let mut actions = Vec::with_capacity(6 * n + 2 * c);
        for k in 0..c - 1 {
            actions.push(Action::Store { slot: k, step: k * e });
            actions.push(Action::Advance { from: k * e, to: (k + 1) * e });
        }
        actions.push(Action::Store { slot: c - 1, step: (c - 1) * e });
        let mut current = (c - 1) * e;
        for k in (0..c).rev() {
            let a = k * e;
            let b = (a + e).min(n);
            if current != a {
                actions.push(Action::Restore { slot: k, step: a });
            }
            for j in a + 1..b {
                actions.push(Action::Advance { from: j - 1, to: j });
                if j + 1 < b {
                    actions.push(Action::Store { slot: c + (j - a - 1), step: j });
                }
            }
            actions.push(Action::Reverse { step: b - 1 });
            for j in (a + 1..b - 1).rev() {
                let slot = c + (j - a - 1);
                actions.push(Action::Restore { slot, step: j });
                actions.push(Action::Reverse { step: j });
                actions.push(Action::Free { slot });
            }
            if b - 1 > a {
                actions.push(Action::Restore { slot: k, step: a });
                actions.push(Action::Reverse { step: a });
            }
            actions.push(Action::Free { slot: k });
            current = a;
        }
        Schedule { actions, steps: n, slots: c + buffer, disk_slots: 0, disk_dir: None }
    }

    /// The optimal binomial (Revolve) schedule with `snapshots` checkpoint slots, one of which holds `S_0`
    /// (Griewank & Walther 2000, "Algorithm 799: revolve").
    ///
    /// Recursively, to reverse the steps `[capo, fine)` with `S_capo` current and stored, and `s` slots available
    /// (counting the one that holds `S_capo`): advance to `capo + m`, reverse `[capo + m, fine)` with `s - 1` slots
    /// (storing `S_{capo+m}` unless that range is a single step), restore `S_capo` and reverse `[capo, capo + m)`
    /// with `s` slots. The split `m` is the one of Revolve, which makes the total number of forward steps exactly
    /// [`optimal_forward_steps`]`(n, snapshots)`. Slots are used as a stack (slot `d` holds the checkpoint at
    /// recursion depth `d`), so [`Schedule::peak_slots`] is at most `snapshots`.
    ///
    /// `snapshots = 0` is treated as 1. With `snapshots >= n - 1` no state is recomputed (`n - 1` forward steps).
    /// `slots` is `min(snapshots, n - 1)` (0 for `n <= 1`: `n = 1` is just `Reverse { step: 0 }`).
    pub fn binomial(n: usize, snapshots: usize) -> Schedule {
        if n <= 1 {
            let actions = if n == 1 { vec![Action::Reverse { step: 0 }] } else { Vec::new() };
            return Schedule { actions, steps: n, slots: 0, disk_slots: 0, disk_dir: None };
        }
        let slots = snapshots.clamp(1, n - 1);
        let mut actions = Vec::with_capacity(4 * n);
        // Stack of ranges still to reverse, `(capo, fine)`; the entry at depth `d` has `S_capo` in slot `d`.
        let mut stack: Vec<(usize, usize)> = vec![(0, n)];
        actions.push(Action::Store { slot: 0, step: 0 });
        // Invariant at the top of the loop: the current state is `S_capo` of the top entry.
        while let Some(&(capo, fine)) = stack.last() {
            let depth = stack.len() - 1;
            if fine - capo == 1 {
                actions.push(Action::Reverse { step: capo });
                actions.push(Action::Free { slot: depth });
                stack.pop();
                if let Some(parent) = stack.last_mut() {
                    parent.1 = capo;
                    actions.push(Action::Restore { slot: depth - 1, step: parent.0 });
                }
                continue;
            }
            let available = slots.saturating_sub(depth).max(1);
            let mid = capo + revolve_split(fine - capo, available);
            actions.push(Action::Advance { from: capo, to: mid });
            if fine - mid == 1 {
                actions.push(Action::Reverse { step: mid });
                actions.push(Action::Restore { slot: depth, step: capo });
                if let Some(top) = stack.last_mut() {
                    top.1 = mid;
                }
            } else {
                actions.push(Action::Store { slot: depth + 1, step: mid });
                stack.push((mid, fine));
            }
        }
        Schedule { actions, steps: n, slots, disk_slots: 0, disk_dir: None }
    }

    /// The two-level schedule: [`Schedule::binomial`] with `ram + disk` slots, of which the `disk` lowest-numbered
    /// (the longest-lived checkpoints) are kept on disk and the others in RAM.
    ///
    /// The actions, forward steps and recomputations are exactly those of `binomial(n, ram + disk)`. When the
    /// binomial schedule needs fewer slots than `ram + disk` (`n - 1` at most), the disk keeps `min(disk, slots)`
    /// of them, so at most `ram` slots are ever in RAM. `disk = 0` is treated as 1. Disk slots go to the system
    /// temporary directory unless [`Schedule::with_disk_dir`] names another.
    pub fn two_level(n: usize, ram: usize, disk: usize) -> Schedule {
        let mut schedule = Schedule::binomial(n, ram.saturating_add(disk.max(1)));
        schedule.disk_slots = disk.max(1).min(schedule.slots);
        schedule
    }

    /// This schedule with its disk slots kept in `dir` (`None`: the system temporary directory).
    pub fn with_disk_dir(mut self, dir: Option<PathBuf>) -> Schedule {
        self.disk_dir = dir;
        self
    }

    /// Whether `slot` is kept on disk (`slot < disk_slots`).
    pub fn is_disk_slot(&self, slot: usize) -> bool {
        slot < self.disk_slots
    }

    /// Per action, whether it is a `Store` into a RAM slot whose copy is only ever read by `Reverse` actions:
    /// after each `Restore` of it, the current state is neither advanced nor stored again before the next
    /// `Restore`, and no `Reverse` reads it once the slot is freed. Such a copy needs only what the adjoint step
    /// reads of a state (`AdjointPropagator::adjoint_copy`). Every store of [`Schedule::store_all`] and the
    /// segment buffer of [`Schedule::periodic`] qualify; the segment starts, which are advanced from, do not.
    pub fn reverse_only_stores(&self) -> Vec<bool> {
        let mut reverse_only = vec![false; self.actions.len()];
        // the `Store` each slot holds, and the one the current state was restored from (with whether that slot
        // has been freed since)
        let mut held: Vec<Option<usize>> = vec![None; self.slots];
        let mut current: Option<(usize, bool)> = None;
        for (index, action) in self.actions.iter().enumerate() {
            match *action {
                Action::Advance { .. } => {
                    if let Some((store, _)) = current.take() {
                        reverse_only[store] = false;
                    }
                }
                Action::Store { slot, .. } => {
                    if let Some((store, _)) = current {
                        reverse_only[store] = false;
                    }
                    reverse_only[index] = !self.is_disk_slot(slot);
                    if let Some(entry) = held.get_mut(slot) {
                        *entry = Some(index);
                    }
                }
                Action::Restore { slot, .. } => {
                    let store = held.get(slot).copied().flatten().filter(|_| !self.is_disk_slot(slot));
                    current = store.map(|store| (store, false));
                }
                Action::Reverse { .. } => {
                    if let Some((store, true)) = current {
                        reverse_only[store] = false;
                    }
                }
                Action::Free { slot } => {
                    if let Some(entry) = held.get_mut(slot) {
                        if let (Some(store), Some((restored, freed))) = (*entry, current.as_mut())
                            && store == *restored
                        {
                            *freed = true;
                        }
                        *entry = None;
                    }
                }
            }
        }
        reverse_only
    }

    /// Bytes every `Store` copies, with a full state taking `full` bytes and a reverse-only copy
    /// ([`Schedule::reverse_only_stores`]) `compact` bytes.
    pub fn stored_bytes(&self, full: usize, compact: usize) -> usize {
        let reverse_only = self.reverse_only_stores();
        self.actions
            .iter()
            .zip(reverse_only)
            .filter(|(action, _)| matches!(action, Action::Store { .. }))
            .map(|(_, compact_copy)| if compact_copy { compact } else { full })
            .sum()
    }

    /// The largest number of bytes simultaneously held by RAM slots, with a full state taking `full` bytes and
    /// a reverse-only copy ([`Schedule::reverse_only_stores`]) `compact` bytes.
    pub fn peak_ram_bytes(&self, full: usize, compact: usize) -> usize {
        let reverse_only = self.reverse_only_stores();
        let mut slot_bytes = vec![0usize; self.slots];
        let (mut held, mut peak) = (0usize, 0usize);
        for (index, action) in self.actions.iter().enumerate() {
            match *action {
                Action::Store { slot, .. } if !self.is_disk_slot(slot) && slot < self.slots => {
                    let bytes = if reverse_only[index] { compact } else { full };
                    held = held - slot_bytes[slot] + bytes;
                    slot_bytes[slot] = bytes;
                    peak = peak.max(held);
                }
                Action::Free { slot } if slot < self.slots => {
                    held -= std::mem::take(&mut slot_bytes[slot]);
                }
                _ => {}
            }
        }
        peak
    }

    /// The largest number of RAM slots (`slot >= disk_slots`) simultaneously holding a state.
    pub fn peak_ram_slots(&self) -> usize {
        let mut table = SlotTable::default();
        let (mut held, mut peak) = (0usize, 0usize);
        for action in &self.actions {
            match *action {
                Action::Store { slot, step } if !self.is_disk_slot(slot) => {
                    held += usize::from(table.set(slot, Some(step)).is_none());
                    peak = peak.max(held);
                }
                Action::Free { slot } if !self.is_disk_slot(slot) => {
                    held -= usize::from(table.set(slot, None).is_some());
                }
                _ => {}
            }
        }
        peak
    }

    /// Total number of forward steps in all `Advance` actions.
    pub fn forward_steps(&self) -> usize {
        self.actions
            .iter()
            .map(|a| match *a {
                Action::Advance { from, to } => to.saturating_sub(from),
                _ => 0,
            })
            .fold(0usize, usize::saturating_add)
    }

    /// Forward steps beyond the unavoidable first sweep up to `S_{n-1}`: `forward_steps() - (n - 1)`
    /// (0 for [`Schedule::store_all`]; saturating at 0).
    pub fn recomputed_steps(&self) -> usize {
        self.forward_steps().saturating_sub(self.steps.saturating_sub(1))
    }

    /// The largest number of slots simultaneously holding a state (a `Store` fills a slot, a `Free` empties it).
    pub fn peak_slots(&self) -> usize {
        let mut table = SlotTable::default();
        let (mut held, mut peak) = (0usize, 0usize);
        for action in &self.actions {
            match *action {
                Action::Store { slot, step } => {
                    let was_empty = table.set(slot, Some(step)).is_none();
                    held += usize::from(was_empty);
                    peak = peak.max(held);
                }
                Action::Free { slot } => {
                    let was_held = table.set(slot, None).is_some();
                    held -= usize::from(was_held);
                }
                _ => {}
            }
        }
        peak
    }

    /// Simulates the schedule and checks it: every `Advance` starts from the current state, moves forward and
    /// stays within `S_0 .. S_n`; every slot index is `< slots`; a `Store` names the current state; a `Restore`
    /// reads a slot holding the named state; a `Free` empties a slot that holds a state; the `Reverse` actions are
    /// exactly `n-1, n-2, ..., 0` in that order, each with the current state equal to its step.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        let steps = self.steps;
        let mut table = SlotTable::default();
        let mut current = 0usize;
        let mut next = steps.checked_sub(1);
        let check_slot = |index: usize, slot: usize| {
            if slot < self.slots {
                Ok(())
            } else {
                Err(ScheduleError::SlotOutOfRange { index, slot, slots: self.slots })
            }
        };
        for (index, action) in self.actions.iter().enumerate() {
            match *action {
                Action::Advance { from, to } => {
                    if from != current {
                        return Err(ScheduleError::AdvanceFromWrongState { index, from, current });
                    }
                    if to <= from {
                        return Err(ScheduleError::AdvanceNotForward { index, from, to });
                    }
                    if to > steps {
                        return Err(ScheduleError::AdvancePastEnd { index, to, steps });
                    }
                    current = to;
                }
                Action::Store { slot, step } => {
                    check_slot(index, slot)?;
                    if step != current {
                        return Err(ScheduleError::StoreWrongState { index, slot, step, current });
                    }
                    table.set(slot, Some(step));
                }
                Action::Restore { slot, step } => {
                    check_slot(index, slot)?;
                    match table.get(slot) {
                        None => return Err(ScheduleError::RestoreEmptySlot { index, slot, step }),
                        Some(held) if held != step => {
                            return Err(ScheduleError::RestoreWrongState { index, slot, step, held });
                        }
                        Some(_) => current = step,
                    }
                }
                Action::Reverse { step } => {
                    match next {
                        None => return Err(ScheduleError::ReverseAfterEnd { index, step }),
                        Some(expected) if expected != step => {
                            return Err(ScheduleError::ReverseOutOfOrder { index, step, expected });
                        }
                        Some(_) => {}
                    }
                    if current != step {
                        return Err(ScheduleError::ReverseWrongState { index, step, current });
                    }
                    next = step.checked_sub(1);
                }
                Action::Free { slot } => {
                    check_slot(index, slot)?;
                    if table.set(slot, None).is_none() {
                        return Err(ScheduleError::FreeEmptySlot { index, slot });
                    }
                }
            }
        }
        match next {
            Some(next) => Err(ScheduleError::Incomplete { next }),
            None => Ok(()),
        }
    }
}

/// The first split of Revolve: with `S_capo` stored, `len >= 2` steps to reverse and `s >= 1` slots (counting the
/// one holding `S_capo`), the number of steps `m` (`1 <= m < len`) to advance before the next checkpoint.
///
/// With `r` the repetition number (least `r` with `C(s + r, s) >= len`), Revolve places the checkpoint so that
/// the head `[0, m)` and the tail `[m, len)` (reversed with `s - 1` slots) both stay within the binomial bounds;
/// this is the position formula of Griewank & Walther's `revolve.c`.
fn revolve_split(len: usize, s: usize) -> usize {
    if len <= 1 {
        return 1;
    }
    if s <= 1 {
        // No slot for a second checkpoint: go to the last state, reverse it, start over from `S_capo`.
        return len - 1;
    }
    let (l, ds) = (len as u128, s as u128);
    // range = C(ds + reps, ds), reps the least with range >= len.
    let (mut reps, mut range) = (0u128, 1u128);
    while range < l {
        reps += 1;
        range = range * (reps + ds) / reps;
    }
    if reps == 1 {
        return 1;
    }
    let bino1 = range * reps / (ds + reps); // C(ds + reps - 1, ds)
    let bino2 = bino1 * ds / (ds + reps - 1); // C(ds + reps - 2, ds - 1)
    let bino3 = if ds > 2 { bino2 * (ds - 1) / (ds + reps - 2) } else { 1 }; // C(ds + reps - 3, ds - 2)
    let bino4 = bino2 * (reps - 1) / ds; // C(ds + reps - 2, ds)
    let bino5 = match ds {
        0..=2 => 0,
        3 => 1,
        _ => bino3 * (ds - 2) / reps, // C(ds + reps - 3, ds - 3)
    };
    let m = if l <= bino1 + bino3 {
        bino4
    } else if l >= range - bino5 {
        bino1
    } else {
        l - bino2 - bino3
    };
    // `m` is in `[0, len)`; 0 only in degenerate cases, where one step is the right move.
    usize::try_from(m).unwrap_or(len - 1).clamp(1, len - 1)
}

/// `t(n, s) = r·n − C(s + r, s + 1)`, `r` the least integer with `C(s + r, s) ≥ n`: the minimal number of forward
/// steps (all `Advance` steps, the first sweep included) needed to reverse `n` steps with `s` checkpoint slots
/// (Griewank's binomial bound, attained by [`Schedule::binomial`]).
///
/// `t(1, s) = 0`, `t(n, 1) = n (n − 1) / 2`, and `t(n, s) = n − 1` for `s ≥ n − 1`. `s = 0` is treated as 1 (as in
/// [`Schedule::binomial`]); the result saturates at `usize::MAX`.
pub fn optimal_forward_steps(n: usize, s: usize) -> usize {
    let s = s.max(1);
    if n <= 1 {
        return 0;
    }
    if s >= n - 1 {
        return n - 1;
    }
    let (nn, ss) = (n as u128, s as u128);
    let t = if s == 1 {
        Some(nn * (nn - 1) / 2)
    } else {
        // c = C(s + r, s) for the current r.
        let (mut r, mut c) = (0u128, 1u128);
        while c < nn {
            r += 1;
            c = c * (ss + r) / r;
        }
        // C(s + r, s + 1) = C(s + r, s) · r / (s + 1).
        c.checked_mul(r).map(|x| x / (ss + 1)).and_then(|b| r.checked_mul(nn).map(|rn| rn - b))
    };
    t.map_or(usize::MAX, |t| usize::try_from(t).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_only_stores_are_the_ones_never_advanced_from() {
        let stores = |schedule: &Schedule| -> Vec<(usize, bool)> {
            let flags = schedule.reverse_only_stores();
            schedule
                .actions
                .iter()
                .enumerate()
                .filter_map(|(i, a)| matches!(a, Action::Store { .. }).then_some((i, flags[i])))
                .collect()
        };
        let all = Schedule::store_all(20);
        assert!(stores(&all).iter().all(|&(_, compact)| compact));
        assert_eq!(all.peak_ram_bytes(10, 3), 20 * 3);
        // periodic: the segment starts are advanced from, except the last one
        // (the first sweep goes on from the current state), the segment
        // buffer is not
        let periodic = Schedule::periodic(20, 5);
        for (i, compact) in stores(&periodic) {
            let Action::Store { step, .. } = periodic.actions[i] else { unreachable!() };
            assert_eq!(compact, step % 5 != 0 || step == 15, "store of step {step}");
        }
        assert_eq!(periodic.peak_ram_bytes(10, 3), 3 * 10 + 4 * 3);
        // binomial: S_0 is restored and advanced from
        let binomial = Schedule::binomial(30, 4);
        assert!(!stores(&binomial)[0].1);
        assert!(binomial.peak_ram_bytes(10, 3) <= binomial.peak_slots() * 10);
    }
    use Action::*;

    /// Minimal forward steps by brute-force dynamic programming over the first split (independent of the closed
    /// form): `dp[len][s]`.
    fn brute_force(max_n: usize, max_s: usize) -> Vec<Vec<usize>> {
        let inf = usize::MAX / 4;
        let mut dp = vec![vec![inf; max_s + 1]; max_n + 1];
        for s in 0..=max_s {
            dp[1][s] = 0;
        }
        for s in 1..=max_s {
            for len in 2..=max_n {
                dp[len][s] = (1..len)
                    .map(|m| {
                        let tail = if len - m == 1 { 0 } else { dp[len - m][s - 1] };
                        m + tail + dp[m][s]
                    })
                    .min()
                    .unwrap_or(inf);
            }
        }
        dp
    }

    fn check_binomial(n: usize, s: usize) {
        let sched = Schedule::binomial(n, s);
        if let Err(e) = sched.validate() {
            panic!("binomial({n}, {s}) invalid: {e}");
        }
        assert!(sched.peak_slots() <= s, "binomial({n}, {s}): peak {} > {s}", sched.peak_slots());
        assert!(sched.peak_slots() <= sched.slots);
        assert_eq!(sched.forward_steps(), optimal_forward_steps(n, s), "binomial({n}, {s})");
    }

    fn check_binomial_range(s_range: std::ops::RangeInclusive<usize>) {
        for s in s_range {
            for n in s + 1..=1000 {
                check_binomial(n, s);
            }
        }
    }

    #[test]
    fn worked_examples() {
        assert_eq!(optimal_forward_steps(2, 1), 1);
        assert_eq!(
            Schedule::binomial(2, 1).actions,
            vec![
                Store { slot: 0, step: 0 },
                Advance { from: 0, to: 1 },
                Reverse { step: 1 },
                Restore { slot: 0, step: 0 },
                Reverse { step: 0 },
                Free { slot: 0 }
            ]
        );
        assert_eq!(optimal_forward_steps(3, 1), 3);
        assert_eq!(
            Schedule::binomial(3, 1).actions,
            vec![
                Store { slot: 0, step: 0 },
                Advance { from: 0, to: 2 },
                Reverse { step: 2 },
                Restore { slot: 0, step: 0 },
                Advance { from: 0, to: 1 },
                Reverse { step: 1 },
                Restore { slot: 0, step: 0 },
                Reverse { step: 0 },
                Free { slot: 0 },
            ]
        );
        for s in [0, 1, 2, 100] {
            assert_eq!(optimal_forward_steps(1, s), 0);
            let sched = Schedule::binomial(1, s);
            assert_eq!(sched.actions, vec![Reverse { step: 0 }]);
            assert_eq!(sched.slots, 0);
            sched.validate().unwrap();
        }
    }

    #[test]
    fn optimal_forward_steps_values() {
        // Hand-checked: n = 6, s = 2: r = 2 (C(4,2) = 6), t = 12 - C(4,3) = 8.
        assert_eq!(optimal_forward_steps(6, 2), 8);
        // n = 10, s = 3: r = 2 (C(5,3) = 10), t = 20 - C(5,4) = 15.
        assert_eq!(optimal_forward_steps(10, 3), 15);
        // n = 1000, s = 50: r = 2 (C(52,50) = 1326), t = 2000 - C(52,51) = 1948.
        assert_eq!(optimal_forward_steps(1000, 50), 1948);
        // n = 1000, s = 2: r = 44 (C(46,2) = 1035 >= 1000 > C(45,2) = 990), t = 44000 - C(46,3) = 28820.
        assert_eq!(optimal_forward_steps(1000, 2), 28820);
        assert_eq!(optimal_forward_steps(20, 2), 65);
        assert_eq!(optimal_forward_steps(100, 5), 316);
        assert_eq!(optimal_forward_steps(1_000_000, 10), 11_647_922);
        for n in 1..200 {
            assert_eq!(optimal_forward_steps(n, 1), n * (n - 1) / 2);
            assert_eq!(optimal_forward_steps(n, 0), optimal_forward_steps(n, 1));
            for s in n.saturating_sub(1).max(1)..n + 3 {
                assert_eq!(optimal_forward_steps(n, s), n - 1);
            }
        }
        assert_eq!(optimal_forward_steps(0, 3), 0);
        assert_eq!(optimal_forward_steps(usize::MAX, usize::MAX), usize::MAX - 1);
        assert_eq!(optimal_forward_steps(usize::MAX, 1), usize::MAX); // saturates
    }

    #[test]
    fn optimal_forward_steps_matches_brute_force() {
        let (max_n, max_s) = (150, 10);
        let dp = brute_force(max_n, max_s);
        for n in 1..=max_n {
            for s in 1..=max_s {
                assert_eq!(optimal_forward_steps(n, s), dp[n][s], "n = {n}, s = {s}");
            }
        }
    }

    #[test]
    fn binomial_exhaustive_s_1_to_3() {
        check_binomial_range(1..=3);
    }

    #[test]
    fn binomial_exhaustive_s_4_to_12() {
        check_binomial_range(4..=12);
    }

    #[test]
    fn binomial_exhaustive_s_13_to_25() {
        check_binomial_range(13..=25);
    }

    #[test]
    fn binomial_exhaustive_s_26_to_50() {
        check_binomial_range(26..=50);
    }

    #[test]
    fn binomial_many_snapshots_degenerates() {
        for n in [1usize, 2, 3, 5, 17, 100, 1000] {
            for s in [n.saturating_sub(1).max(1), n, n + 1, 2 * n, usize::MAX] {
                let sched = Schedule::binomial(n, s);
                sched.validate().unwrap();
                assert_eq!(sched.forward_steps(), n.saturating_sub(1), "n = {n}, s = {s}");
                assert_eq!(sched.recomputed_steps(), 0);
                assert!(sched.peak_slots() <= n.saturating_sub(1));
                assert_eq!(sched.slots, n.saturating_sub(1));
            }
        }
    }

    #[test]
    fn binomial_zero_snapshots_is_one() {
        for n in 1..50 {
            let sched = Schedule::binomial(n, 0);
            assert_eq!(sched, Schedule::binomial(n, 1));
            sched.validate().unwrap();
        }
        let empty = Schedule::binomial(0, 3);
        assert!(empty.actions.is_empty());
        empty.validate().unwrap();
    }

    #[test]
    fn binomial_large() {
        for (n, s) in [(100_000, 10), (20_000, 2), (5_000, 1), (100_000, 1000)] {
            check_binomial(n, s);
        }
    }

    #[test]
    fn two_level_is_binomial_with_the_lowest_slots_on_disk() {
        for (n, ram, disk) in [(100, 3, 2), (100, 0, 4), (50, 2, 1), (5, 10, 10), (1, 2, 2), (300, 7, 3)] {
            let sched = Schedule::two_level(n, ram, disk);
            let binomial = Schedule::binomial(n, ram + disk);
            assert_eq!(sched.actions, binomial.actions);
            assert_eq!(sched.slots, binomial.slots);
            sched.validate().unwrap();
            assert_eq!(sched.disk_slots, disk.min(binomial.slots));
            assert!(sched.peak_ram_slots() <= ram, "two_level({n}, {ram}, {disk})");
            assert!(sched.is_disk_slot(0) || sched.slots == 0);
            assert!(!sched.is_disk_slot(sched.disk_slots));
        }
        // the RAM slots are the deeper, most reused ones
        let sched = Schedule::two_level(100, 3, 2);
        assert_eq!(sched.peak_ram_slots(), 3);
        assert_eq!(Schedule::two_level(10, 1, 0), Schedule::two_level(10, 1, 1));
        assert_eq!(Schedule::binomial(10, 3).peak_ram_slots(), Schedule::binomial(10, 3).peak_slots());
        let dir = Some(PathBuf::from("/somewhere"));
        assert_eq!(Schedule::two_level(10, 1, 1).with_disk_dir(dir.clone()).disk_dir, dir);
    }

    #[test]
    fn store_all() {
        for n in 0..=200 {
            let sched = Schedule::store_all(n);
            sched.validate().unwrap();
            assert_eq!(sched.forward_steps(), n.saturating_sub(1));
            assert_eq!(sched.recomputed_steps(), 0);
            assert_eq!(sched.peak_slots(), n);
            assert_eq!(sched.slots, n);
        }
    }

    #[test]
    fn periodic() {
        for n in 1..=200 {
            for every in 0..=n + 3 {
                let sched = Schedule::periodic(n, every);
                if let Err(e) = sched.validate() {
                    panic!("periodic({n}, {every}) invalid: {e}");
                }
                let e = every.max(1);
                let c = n.div_ceil(e);
                assert_eq!(sched.slots, c + e.min(n).saturating_sub(2), "periodic({n}, {every})");
                assert!(sched.peak_slots() <= sched.slots);
                assert_eq!(sched.forward_steps(), (n - 1) + (c - 1) * (e - 1), "periodic({n}, {every})");
                assert_eq!(sched.recomputed_steps(), (c - 1) * (e - 1));
            }
        }
        let empty = Schedule::periodic(0, 4);
        assert!(empty.actions.is_empty());
        empty.validate().unwrap();
        // A full last segment uses every slot.
        assert_eq!(Schedule::periodic(12, 4).peak_slots(), 3 + 2);
    }

    #[test]
    fn periodic_example() {
        let sched = Schedule::periodic(5, 3);
        assert_eq!(
            sched.actions,
            vec![
                Store { slot: 0, step: 0 },
                Advance { from: 0, to: 3 },
                Store { slot: 1, step: 3 },
                Advance { from: 3, to: 4 },
                Reverse { step: 4 },
                Restore { slot: 1, step: 3 },
                Reverse { step: 3 },
                Free { slot: 1 },
                Restore { slot: 0, step: 0 },
                Advance { from: 0, to: 1 },
                Store { slot: 2, step: 1 },
                Advance { from: 1, to: 2 },
                Reverse { step: 2 },
                Restore { slot: 2, step: 1 },
                Reverse { step: 1 },
                Free { slot: 2 },
                Restore { slot: 0, step: 0 },
                Reverse { step: 0 },
                Free { slot: 0 },
            ]
        );
        assert_eq!(sched.slots, 3);
    }

    fn broken(actions: Vec<Action>, steps: usize, slots: usize) -> ScheduleError {
        Schedule { actions, steps, slots, disk_slots: 0, disk_dir: None }.validate().unwrap_err()
    }

    #[test]
    fn validate_rejects_broken_schedules() {
        // Wrong reverse order.
        let e = broken(vec![Reverse { step: 0 }], 2, 1);
        assert_eq!(e, ScheduleError::ReverseOutOfOrder { index: 0, step: 0, expected: 1 });
        let e = broken(
            vec![Store { slot: 0, step: 0 }, Advance { from: 0, to: 1 }, Reverse { step: 1 }, Reverse { step: 1 }],
            2,
            1,
        );
        assert_eq!(e, ScheduleError::ReverseOutOfOrder { index: 3, step: 1, expected: 0 });
        // Reverse at the wrong state.
        let e = broken(vec![Advance { from: 0, to: 1 }, Reverse { step: 1 }, Reverse { step: 0 }], 2, 1);
        assert_eq!(e, ScheduleError::ReverseWrongState { index: 2, step: 0, current: 1 });
        // Reverse after the end.
        let e = broken(vec![Reverse { step: 0 }, Reverse { step: 0 }], 1, 0);
        assert_eq!(e, ScheduleError::ReverseAfterEnd { index: 1, step: 0 });
        // Restore of an empty slot (never stored, or freed).
        let e = broken(vec![Advance { from: 0, to: 1 }, Reverse { step: 1 }, Restore { slot: 0, step: 0 }], 2, 1);
        assert_eq!(e, ScheduleError::RestoreEmptySlot { index: 2, slot: 0, step: 0 });
        let e = broken(vec![Store { slot: 0, step: 0 }, Free { slot: 0 }, Restore { slot: 0, step: 0 }], 1, 1);
        assert_eq!(e, ScheduleError::RestoreEmptySlot { index: 2, slot: 0, step: 0 });
        // Restore naming the wrong state.
        let e = broken(vec![Store { slot: 0, step: 0 }, Restore { slot: 0, step: 1 }], 2, 1);
        assert_eq!(e, ScheduleError::RestoreWrongState { index: 1, slot: 0, step: 1, held: 0 });
        // Advance from the wrong state.
        let e = broken(vec![Advance { from: 1, to: 2 }], 3, 1);
        assert_eq!(e, ScheduleError::AdvanceFromWrongState { index: 0, from: 1, current: 0 });
        let e = broken(vec![Advance { from: 0, to: 2 }, Advance { from: 1, to: 2 }], 3, 1);
        assert_eq!(e, ScheduleError::AdvanceFromWrongState { index: 1, from: 1, current: 2 });
        // Advance that does not move forward, or past the end.
        let e = broken(vec![Advance { from: 0, to: 0 }], 3, 1);
        assert_eq!(e, ScheduleError::AdvanceNotForward { index: 0, from: 0, to: 0 });
        let e = broken(vec![Advance { from: 0, to: 4 }], 3, 1);
        assert_eq!(e, ScheduleError::AdvancePastEnd { index: 0, to: 4, steps: 3 });
        // Slot out of range, for each slot action.
        let e = broken(vec![Store { slot: 1, step: 0 }], 2, 1);
        assert_eq!(e, ScheduleError::SlotOutOfRange { index: 0, slot: 1, slots: 1 });
        let e = broken(vec![Restore { slot: 5, step: 0 }], 2, 1);
        assert_eq!(e, ScheduleError::SlotOutOfRange { index: 0, slot: 5, slots: 1 });
        let e = broken(vec![Free { slot: usize::MAX }], 2, 1);
        assert_eq!(e, ScheduleError::SlotOutOfRange { index: 0, slot: usize::MAX, slots: 1 });
        // Store naming the wrong state; free of an empty slot.
        let e = broken(vec![Store { slot: 0, step: 1 }], 2, 1);
        assert_eq!(e, ScheduleError::StoreWrongState { index: 0, slot: 0, step: 1, current: 0 });
        let e = broken(vec![Free { slot: 0 }], 2, 1);
        assert_eq!(e, ScheduleError::FreeEmptySlot { index: 0, slot: 0 });
        // Missing reverses.
        let e = broken(vec![Store { slot: 0, step: 0 }, Advance { from: 0, to: 2 }, Reverse { step: 2 }], 3, 1);
        assert_eq!(e, ScheduleError::Incomplete { next: 1 });
        assert_eq!(broken(Vec::new(), 1, 0), ScheduleError::Incomplete { next: 0 });
        // Messages are descriptive.
        assert_eq!(
            ScheduleError::RestoreEmptySlot { index: 2, slot: 0, step: 0 }.to_string(),
            "action 2: restore of S_0 from slot 0, which holds no state"
        );
    }

    #[test]
    fn mutated_valid_schedules_are_rejected() {
        // Dropping any Reverse, Advance, Restore or Store from a minimal valid schedule breaks it.
        for (n, s) in [(10, 2), (20, 3), (7, 1)] {
            let sched = Schedule::binomial(n, s);
            for i in 0..sched.actions.len() {
                if matches!(sched.actions[i], Free { .. }) {
                    continue;
                }
                let mut actions = sched.actions.clone();
                actions.remove(i);
                let mutated = Schedule { actions, ..sched.clone() };
                assert!(mutated.validate().is_err(), "binomial({n}, {s}) without action {i} still validates");
            }
        }
    }

    #[test]
    fn huge_slot_indices_do_not_allocate() {
        let sched = Schedule {
            actions: vec![
                Store { slot: usize::MAX - 1, step: 0 },
                Restore { slot: usize::MAX - 1, step: 0 },
                Reverse { step: 0 },
            ],
            steps: 1,
            slots: usize::MAX,
            disk_slots: 0,
            disk_dir: None,
        };
        sched.validate().unwrap();
        assert_eq!(sched.peak_slots(), 1);
    }
}
