//! The optimiser state: everything [`iterate`](super::iterate) reads and
//! writes, as plain numbers and vectors, so the caller can store it after
//! every iteration and resume a killed run bitwise identically.

use super::bounds::{Bounds, projected_gradient};
use super::vector::norm_inf;
use super::{Objective, OptimError};

/// The complete optimiser state (plain data). Store all fields to resume:
/// [`iterate`](super::iterate) depends on nothing else but the
/// [`Options`](super::Options) and the objective.
///
/// Every method fills every field, so a state can be stored with one layout
/// whatever the method.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Iterations completed.
    pub iteration: usize,
    /// The current point.
    pub x: Vec<f64>,
    /// The objective at `x`.
    pub value: f64,
    /// The gradient at `x`.
    pub gradient: Vec<f64>,
    /// Objective evaluations spent by accepted iterations, the initial one
    /// included (evaluations of an iteration that returned an error are not
    /// counted: the state is unchanged then).
    pub evaluations: usize,
    /// L-BFGS steps `s_k = x_{k+1} − x_k`, oldest first (empty for the other
    /// methods).
    pub history_s: Vec<Vec<f64>>,
    /// L-BFGS gradient changes `y_k = g_{k+1} − g_k`, oldest first.
    pub history_y: Vec<Vec<f64>>,
    /// The search direction of the previous iteration (empty before the first
    /// iteration). CG builds on it; with `previous_gradient` it also scales
    /// the first trial step of CG and steepest descent.
    pub previous_direction: Vec<f64>,
    /// The projected gradient at the previous point (empty before the first
    /// iteration).
    pub previous_gradient: Vec<f64>,
    /// The accepted step length `α` of the previous iteration (0 before the
    /// first iteration).
    pub last_step: f64,
}

impl State {
    /// The state at `x0`, evaluating the objective once. With bounds, `x0`
    /// must lie in the box (see [`Bounds::project`]).
    pub fn new<O: Objective>(x0: Vec<f64>, objective: &mut O) -> Result<State, OptimError<O::Error>> {
        if x0.is_empty() {
            return Err(OptimError::Invalid("x0 has no parameters".into()));
        }
        let (value, gradient) = objective.evaluate(&x0).map_err(OptimError::Objective)?;
        if gradient.len() != x0.len() {
            return Err(OptimError::Invalid(format!(
                "the objective returned {} gradient values for {} parameters",
                gradient.len(),
                x0.len()
            )));
        }
        if !value.is_finite() || gradient.iter().any(|g| !g.is_finite()) {
            return Err(OptimError::Invalid(format!(
                "the objective is not finite at the starting point (value {value})"
            )));
        }
        Ok(State {
            iteration: 0,
            x: x0,
            value,
            gradient,
            evaluations: 1,
            history_s: Vec::new(),
            history_y: Vec::new(),
            previous_direction: Vec::new(),
            previous_gradient: Vec::new(),
            last_step: 0.0,
        })
    }

    /// `max_i |g̃_i|` of the projected gradient (the gradient with the
    /// components zeroed that are held at a bound): zero at a KKT point. The
    /// convergence measure of [`minimize`](super::minimize).
    pub fn projected_gradient_norm(&self, bounds: Option<&Bounds>) -> f64 {
        norm_inf(&projected_gradient(bounds, &self.x, &self.gradient))
    }

    /// Check that the fields fit together (a state read back from a file).
    pub(crate) fn validate(&self) -> Result<(), String> {
        let n = self.x.len();
        if n == 0 {
            return Err("the state has no parameters".into());
        }
        if self.gradient.len() != n {
            return Err(format!("state gradient has {} values, x has {n}", self.gradient.len()));
        }
        if !self.value.is_finite() || self.x.iter().chain(&self.gradient).any(|v| !v.is_finite()) {
            return Err("the state holds non-finite values".into());
        }
        if self.history_s.len() != self.history_y.len() {
            return Err(format!(
                "state holds {} s vectors but {} y vectors",
                self.history_s.len(),
                self.history_y.len()
            ));
        }
        if self.history_s.iter().chain(&self.history_y).any(|v| v.len() != n) {
            return Err(format!("an L-BFGS history vector does not have {n} values"));
        }
        let (d, g) = (self.previous_direction.len(), self.previous_gradient.len());
        if d != g || (d != 0 && d != n) {
            return Err(format!(
                "previous direction ({d} values) and previous gradient ({g} values) must both be empty or have {n}"
            ));
        }
        if !(self.last_step >= 0.0 && self.last_step.is_finite()) {
            return Err(format!("last_step = {} must be finite and non-negative", self.last_step));
        }
        Ok(())
    }
}
