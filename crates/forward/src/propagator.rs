//! The interface every physics implements: a discrete time-stepping map with
//! observations. The adjoint driver (a later crate) runs any `Propagator`
//! forwards, stores states per a checkpoint schedule and runs the adjoint
//! steps backwards.

use crate::real::Real;

/// How a kernel may use threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parallelism {
    /// Split each step's rows over the rayon thread pool (one big shot).
    #[default]
    Rows,
    /// Run on the calling thread (shots are already spread over threads).
    Serial,
}

/// A discrete map `S_{n+1} = F_n(S_n; m)` with observations `d_n = R S_n`.
pub trait Propagator: Sync {
    /// Scalar type of the state.
    type Real: Real;
    /// Everything needed to resume the time loop.
    type State: Clone + Send;
    /// Number of time samples recorded (`observe` is called for `n < nt`).
    fn nt(&self) -> usize;
    /// Number of observed channels.
    fn channels(&self) -> usize;
    /// The state at time 0.
    fn initial_state(&self) -> Self::State;
    /// Advance the state from time `n` to `n + 1` (sources at `n` included).
    fn step(&self, n: usize, state: &mut Self::State);
    /// Set `target` to the state after step `n` from `source` (a
    /// checkpoint, left as it is): a restore and a step in one. `target`'s
    /// values are not read. The default copies, then steps in place; a
    /// propagator may instead copy `source` within its own sweep.
    fn step_from(&self, n: usize, source: &Self::State, target: &mut Self::State) {
        target.clone_from(source);
        self.step(n, target);
    }
    /// A state to serve as [`step_from`](Propagator::step_from)'s target,
    /// reading as the initial state. The default is
    /// [`initial_state`](Propagator::initial_state); a propagator may leave
    /// its memory untouched, so that the pages are first touched by the
    /// writes of the step's parallel sweep instead of by a serial fill.
    fn target_state(&self) -> Self::State {
        self.initial_state()
    }
    /// Observations of the state at time `n` into `out` (`channels()` long).
    fn observe(&self, n: usize, state: &Self::State, out: &mut [Self::Real]);
    /// Bytes held by one state (for checkpoint memory accounting).
    fn state_bytes(&self) -> usize;
}

/// A propagator whose steps have exact discrete adjoints with respect to the
/// state and to the model parameters, and a tangent-linear (Born) step.
///
/// With `S_{n+1} = F_n(S_n; m)` and observations `d_n = R S_n`:
/// `step_adjoint(n, S_n, μ, g)` sets `μ ← (∂F_n/∂S)ᵀ μ` and adds
/// `(∂F_n/∂m)ᵀ μ` (μ on entry is the adjoint of `S_{n+1}`) to `g`;
/// `inject_residual(n, S_n, r, μ)` adds `Rᵀ r`; `step_linearized(n, S_n, δS, δm)`
/// sets `δS ← (∂F_n/∂S) δS + (∂F_n/∂m) δm`.
pub trait AdjointPropagator: Propagator {
    /// The adjoint state, with any scratch the adjoint step needs.
    type AdjointState: Send;
    /// Number of model parameters (the gradient's length).
    fn parameters(&self) -> usize;
    /// A zero adjoint state.
    fn initial_adjoint(&self) -> Self::AdjointState;
    /// Reverse step `n` (see the trait documentation).
    fn step_adjoint(&self, n: usize, forward: &Self::State, adjoint: &mut Self::AdjointState, gradient: &mut [f64]);
    /// Add `Rᵀ residual` (the adjoint of observing at time `n`); `forward`
    /// is the state `S_n` (a propagator may accumulate model derivatives
    /// that the injected increment carries, as the acoustic one does).
    fn inject_residual(
        &self,
        n: usize,
        forward: &Self::State,
        residual: &[Self::Real],
        adjoint: &mut Self::AdjointState,
    );
    /// Reverse step `n` and inject the residual of step `n`, reading what
    /// they read of `S_n` from its successor `next = S_{n+1}`: the same,
    /// bitwise, as `step_adjoint(n, S_n, ..)` then `inject_residual(n,
    /// S_n, residual, ..)`, for a propagator whose state still holds that
    /// part of its predecessor (a leapfrog state keeps `u^n` beside
    /// `u^{n+1}`). Returns `false`, doing nothing, where it does not (the
    /// default): the driver then recomputes `S_n`.
    fn reverse_from_next(
        &self,
        _n: usize,
        _next: &Self::State,
        _residual: &[Self::Real],
        _adjoint: &mut Self::AdjointState,
        _gradient: &mut [f64],
    ) -> bool {
        false
    }
    /// Two reversals in one call: `step_adjoint(n, S_n, ..)`,
    /// `inject_residual(n, S_n, residuals[0], ..)`, then the reversal of
    /// step `n − 1` and the injection of `residuals[1]`, reading `S_{n−1}`
    /// from `below`, or when `below` is `None` what `next = S_n` keeps of
    /// it (as [`reverse_from_next`](Self::reverse_from_next)). The same,
    /// bitwise, as those calls one by one; a propagator may fuse them
    /// into one sweep (the acoustic one reads each adjoint field once for
    /// both steps). Returns `false`, doing nothing, where it does not (the
    /// default): the caller then runs them one by one.
    fn reverse_pair(
        &self,
        _n: usize,
        _next: &Self::State,
        _below: Option<&Self::State>,
        _residuals: [&[Self::Real]; 2],
        _adjoint: &mut Self::AdjointState,
        _gradient: &mut [f64],
    ) -> bool {
        false
    }
    /// Bytes of a copy made by [`adjoint_copy`](Self::adjoint_copy).
    fn adjoint_state_bytes(&self) -> usize {
        self.state_bytes()
    }
    /// A copy of what `step_adjoint` and `inject_residual` read of `state`,
    /// for a checkpoint nothing else reads (the driver never advances from
    /// it), made in `buffer` (an earlier such copy) when given. The default
    /// copies the whole state.
    fn adjoint_copy(&self, state: &Self::State, buffer: Option<Self::State>) -> Self::State {
        copy_into(state, buffer)
    }
    /// Fold any gradient the adjoint steps accumulated internally into
    /// `gradient`; called once, after the last adjoint step.
    fn finish_gradient(&self, adjoint: &mut Self::AdjointState, gradient: &mut [f64]);
    /// Tangent-linear step `n` at `forward = S_n` for the model perturbation `dm`.
    fn step_linearized(&self, n: usize, forward: &Self::State, tangent: &mut Self::State, dm: &[f64]);
}

/// A copy of `state`, made in `buffer` (no new allocation when its buffers
/// are large enough) when given.
pub fn copy_into<S: Clone>(state: &S, buffer: Option<S>) -> S {
    match buffer {
        Some(mut buffer) => {
            buffer.clone_from(state);
            buffer
        }
        None => state.clone(),
    }
}

/// Run `propagator` over all its time samples and return the observations
/// `[nt, channels]`, row-major. `on_step` is called after every step (for
/// progress reporting).
pub fn record<P: Propagator>(propagator: &P, mut on_step: impl FnMut(usize)) -> Vec<P::Real> {
    let nt = propagator.nt();
    let channels = propagator.channels();
    let mut traces = vec![<P::Real as num_traits::Zero>::zero(); nt * channels];
    let mut state = propagator.initial_state();
    for n in 0..nt {
        propagator.observe(n, &state, &mut traces[n * channels..(n + 1) * channels]);
        if n + 1 < nt {
            propagator.step(n, &mut state);
        }
        on_step(n);
    }
    traces
}
