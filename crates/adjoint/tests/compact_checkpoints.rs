//! Checkpoints kept as adjoint copies (`AdjointPropagator::adjoint_copy`)
//! are only ever read by reversals: over every binomial and periodic
//! schedule of up to 60 steps, a propagator that refuses to step from such
//! a copy runs to the store-all gradient bitwise, and the driver's peak
//! memory is `Schedule::peak_ram_bytes`.

use pdeinv_adjoint::{Residuals, Schedule, gradient};
use pdeinv_forward::{AdjointPropagator, Propagator};

/// A scalar state; `full` is false on an adjoint copy.
#[derive(Debug, Clone)]
struct State {
    x: f64,
    full: bool,
}

/// `x_{n+1} = a x_n + sin(n + 1)`, observed at every step; the model is `a`.
struct Scalar {
    nt: usize,
    a: f64,
}

const FULL_BYTES: usize = 16;
const COMPACT_BYTES: usize = 8;

impl Propagator for Scalar {
    type Real = f64;
    type State = State;
    fn nt(&self) -> usize {
        self.nt
    }
    fn channels(&self) -> usize {
        1
    }
    fn initial_state(&self) -> State {
        State { x: 0.0, full: true }
    }
    fn step(&self, n: usize, s: &mut State) {
        assert!(s.full, "step {n} from an adjoint copy");
        s.x = self.a * s.x + (n as f64 + 1.0).sin();
    }
    fn observe(&self, _n: usize, s: &State, out: &mut [f64]) {
        out[0] = s.x;
    }
    fn state_bytes(&self) -> usize {
        FULL_BYTES
    }
}

impl AdjointPropagator for Scalar {
    type AdjointState = f64;
    fn parameters(&self) -> usize {
        1
    }
    fn initial_adjoint(&self) -> f64 {
        0.0
    }
    fn step_adjoint(&self, _n: usize, forward: &State, lambda: &mut f64, gradient: &mut [f64]) {
        gradient[0] += *lambda * forward.x;
        *lambda *= self.a;
    }
    fn inject_residual(&self, _n: usize, _forward: &State, residual: &[f64], lambda: &mut f64) {
        *lambda += residual[0];
    }
    fn adjoint_state_bytes(&self) -> usize {
        COMPACT_BYTES
    }
    fn adjoint_copy(&self, state: &State, _buffer: Option<State>) -> State {
        State { x: state.x, full: false }
    }
    fn finish_gradient(&self, _lambda: &mut f64, _gradient: &mut [f64]) {}
    fn step_linearized(&self, _n: usize, forward: &State, tangent: &mut State, dm: &[f64]) {
        tangent.x = self.a * tangent.x + dm[0] * forward.x;
    }
}

#[test]
fn adjoint_copies_are_only_read_by_reversals() {
    for steps in 1..=60 {
        let p = Scalar { nt: steps + 1, a: 0.97 };
        let observed = vec![0.5; steps + 1];
        let run = |schedule: &Schedule| gradient(&p, Residuals::Observed(&observed), schedule).unwrap();
        let reference = run(&Schedule::store_all(steps));
        assert_eq!(reference.peak_checkpoint_bytes, steps * COMPACT_BYTES);
        let binomial = (1..=8.min(steps)).map(|s| Schedule::binomial(steps, s));
        let periodic = (1..=10).map(|every| Schedule::periodic(steps, every));
        for schedule in binomial.chain(periodic) {
            let other = run(&schedule);
            assert_eq!(other.gradient[0].to_bits(), reference.gradient[0].to_bits(), "{steps} steps");
            assert_eq!(other.misfit.to_bits(), reference.misfit.to_bits());
            assert_eq!(other.peak_checkpoint_bytes, schedule.peak_ram_bytes(FULL_BYTES, COMPACT_BYTES));
        }
    }
}
