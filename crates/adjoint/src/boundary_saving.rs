//! The boundary-saving gradient: no checkpoints of whole states. The first
//! sweep records the residuals and, at every step, the part of the state the
//! step cannot undo by itself ([`ReversiblePropagator::save_boundary`]: for
//! the acoustic solver the absorbing layer, the band the layer's correction
//! reaches and the CPML memory variables) into one preallocated buffer, and
//! keeps the final state. The reverse sweep then runs the forward wavefield
//! backwards in time alongside the adjoint: `step_back(n)` rebuilds `S_n`
//! from `S_{n+1}` and the saved record, and `step_adjoint(n)` uses it.
//!
//! Memory: `(nt − 1) · boundary_bytes + state_bytes`, against
//! `(nt − 1) · adjoint_state_bytes` (the forward field alone) for
//! store-all: smaller only when the layer is thin against the grid (83 % of
//! store-all on 200 x 300 cells with a 20-cell CPML). Work: no forward step is
//! recomputed, but the reverse sweep runs `nt − 1` reversed steps (one
//! interior sweep each, about the cost of a forward step without its
//! boundary work). The result equals store-all's to rounding, not bitwise:
//! the reversed interior step rounds differently from the forward one.

use crate::driver::{DriverError, GradientRun, Residuals};
use pdeinv_forward::Real;
pub use pdeinv_forward::acoustic::reverse::ReversiblePropagator;

/// Bytes the boundary-saving gradient keeps for `p`: the per-step records of
/// `nt − 1` steps and the final state (its
/// [`GradientRun::peak_checkpoint_bytes`]).
pub fn boundary_saving_bytes<P: ReversiblePropagator>(p: &P) -> usize {
    p.nt().saturating_sub(1) * p.boundary_bytes() + p.state_bytes()
}

/// Misfit and gradient by boundary saving (see the module documentation).
///
/// `recomputed_steps` is 0 and `forward_steps` is `nt − 1`: the reverse
/// sweep reruns the `nt − 1` steps backwards (`step_back`) rather than
/// forwards, and those are not counted. `peak_checkpoint_bytes` is
/// [`boundary_saving_bytes`].
pub fn gradient_boundary_saving<P: ReversiblePropagator>(
    p: &P,
    residuals: Residuals<'_, P::Real>,
) -> Result<GradientRun, DriverError> {
    gradient_boundary_saving_with_progress(p, residuals, &|| {})
}

/// [`gradient_boundary_saving`], calling `on_step` after every forward and
/// every adjoint step (for progress reporting).
pub fn gradient_boundary_saving_with_progress<P: ReversiblePropagator>(
    p: &P,
    residuals: Residuals<'_, P::Real>,
    on_step: &(dyn Fn() + Sync),
) -> Result<GradientRun, DriverError> {
    let nt = p.nt();
    let channels = p.channels();
    let steps = nt.saturating_sub(1);
    match residuals {
        Residuals::Observed(d) | Residuals::Given(d) if d.len() != nt * channels => {
            return Err(DriverError::Data { got: d.len(), expected: nt * channels });
        }
        _ => {}
    }
    let clock = std::time::Instant::now();
    let zero = P::Real::of(0.0);
    let mut r = vec![zero; nt * channels];
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
    // first sweep: residuals, per-step records, final state
    let len = p.boundary_len();
    let mut saved = vec![zero; steps * len];
    let peak = boundary_saving_bytes(p);
    let memory_timeline = vec![(0.0, 0), (clock.elapsed().as_secs_f64(), peak)];
    let mut state = p.initial_state();
    for n in 0..steps {
        record(n, &state, &mut r, &mut misfit);
        p.save_boundary(n, &state, &mut saved[n * len..(n + 1) * len]);
        p.step(n, &mut state);
        on_step();
    }
    if nt > 0 {
        record(steps, &state, &mut r, &mut misfit);
    }
    if let Residuals::Misfit(source) = residuals {
        misfit = source.misfit_and_adjoint_source(&mut r);
    }
    // reverse sweep: the forward state backwards alongside the adjoint
    let mut adjoint = p.initial_adjoint();
    let mut gradient = vec![0.0; p.parameters()];
    if nt > 0 {
        p.inject_residual(steps, &state, &r[steps * channels..], &mut adjoint);
    }
    for n in (0..steps).rev() {
        p.step_back(n, &mut state, &saved[n * len..(n + 1) * len]);
        p.step_adjoint(n, &state, &mut adjoint, &mut gradient);
        on_step();
        p.inject_residual(n, &state, &r[n * channels..(n + 1) * channels], &mut adjoint);
    }
    p.finish_gradient(&mut adjoint, &mut gradient);
    Ok(GradientRun {
        misfit,
        gradient,
        peak_checkpoint_bytes: peak,
        peak_disk_bytes: 0,
        forward_steps: steps,
        recomputed_steps: 0,
        skipped_steps: 0,
        fused_pairs: 0,
        memory_timeline,
    })
}
