//! Optimiser settings: the method, the bounds, the first trial step and the
//! line-search constants. Options are configuration, not state: a resumed run
//! must be given the same options to continue bitwise identically.

use super::bounds::Bounds;
use super::vector::{norm_inf, norm2};

/// The search-direction method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Limited-memory BFGS keeping the last `memory` curvature pairs
    /// (two-loop recursion, Nocedal & Wright Alg. 7.4, with the initial
    /// scaling `γ = sᵀy / yᵀy`).
    Lbfgs {
        /// Number of `(s, y)` pairs kept (at least 1; 5 to 20 is usual).
        memory: usize,
    },
    /// Nonlinear conjugate gradient, Polak–Ribière+ (`β = max(0, β_PR)`),
    /// restarted with steepest descent when its direction is not a descent
    /// direction.
    ConjugateGradient,
    /// Steepest descent with Armijo backtracking.
    SteepestDescent,
}

/// How long the first trial step of a line search is when there is no better
/// guess: on the very first iteration, for L-BFGS whenever its memory is
/// empty, and for steepest descent or CG when the previous step cannot be
/// scaled (N&W eq. 3.60 needs a previous accepted step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FirstStep {
    /// `α = 1`: the direction as it is.
    Unit,
    /// Scale the direction so that the largest parameter change
    /// `max_i |α d_i|` equals this (in model units, e.g. 50 m/s).
    MaxChange(f64),
    /// Scale the direction so that `‖α d‖₂` equals this (the choice of
    /// L-BFGS-B, with 1).
    Norm(f64),
}

impl FirstStep {
    /// The trial step length for direction `d` (`d` nonzero).
    pub fn step(&self, d: &[f64]) -> f64 {
        match *self {
            FirstStep::Unit => 1.0,
            FirstStep::MaxChange(change) => change / norm_inf(d),
            FirstStep::Norm(length) => length / norm2(d),
        }
    }
}

/// Which line search runs when there are bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoundedSearch {
    /// Armijo backtracking along the projected path `P(x + αd)`.
    #[default]
    ProjectedArmijo,
    /// The strong-Wolfe search (for L-BFGS and CG) along the projected path,
    /// with `φ'(α)` taken over the components the bounds do not hold at
    /// `P(x + αd)` (the one-sided derivative of the bent path). Its curvature
    /// condition gives L-BFGS better pairs than backtracking, which accepts
    /// the first step that decreases enough.
    ProjectedWolfe,
}

/// Settings of [`iterate`](super::iterate) and [`minimize`](super::minimize).
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The direction method.
    pub method: Method,
    /// Box constraints; `None` for an unconstrained problem. With bounds every
    /// trial point is projected and the line search is the projected-path
    /// Armijo backtracking (see the module documentation).
    pub bounds: Option<Bounds>,
    /// The first trial step when there is no better guess.
    pub first_step: FirstStep,
    /// Sufficient-decrease (Armijo) constant, `0 < c1 < 1/2`; usually 1e-4.
    pub c1: f64,
    /// Curvature constant of the strong Wolfe conditions, `c1 < c2 < 1`:
    /// 0.9 for L-BFGS, 0.1 for CG; unused by steepest descent and with bounds.
    pub c2: f64,
    /// Most objective evaluations one line search may spend (at least 1).
    /// L-BFGS may run a second, steepest-descent line search with the same
    /// budget after its first one failed.
    pub max_evaluations_per_iteration: usize,
    /// L-BFGS keeps a pair only when `sᵀy > curvature_tolerance · ‖s‖‖y‖`
    /// (the cosine of the angle between `s` and `y`), which keeps the
    /// inverse-Hessian approximation positive definite and well conditioned.
    pub curvature_tolerance: f64,
    /// The line search used with bounds.
    pub bounded_search: BoundedSearch,
}

impl Options {
    /// L-BFGS with `memory` pairs, strong Wolfe `c1 = 1e-4`, `c2 = 0.9`, at
    /// most 10 evaluations per line search, first step `‖αd‖₂ = 1`.
    pub fn lbfgs(memory: usize) -> Options {
        Options {
            method: Method::Lbfgs { memory },
            bounds: None,
            first_step: FirstStep::Norm(1.0),
            c1: 1e-4,
            c2: 0.9,
            max_evaluations_per_iteration: 10,
            curvature_tolerance: 1e-8,
            bounded_search: BoundedSearch::ProjectedArmijo,
        }
    }

    /// Polak–Ribière+ conjugate gradient with strong Wolfe `c2 = 0.1`.
    pub fn conjugate_gradient() -> Options {
        Options { method: Method::ConjugateGradient, c2: 0.1, ..Options::lbfgs(0) }
    }

    /// Steepest descent with Armijo backtracking.
    pub fn steepest_descent() -> Options {
        Options { method: Method::SteepestDescent, ..Options::lbfgs(0) }
    }

    /// The same options with box constraints.
    pub fn with_bounds(self, bounds: Bounds) -> Options {
        Options { bounds: Some(bounds), ..self }
    }

    /// The same options with another first step.
    pub fn with_first_step(self, first_step: FirstStep) -> Options {
        Options { first_step, ..self }
    }

    /// Check the settings for a problem with `n` parameters.
    pub(crate) fn validate(&self, n: usize) -> Result<(), String> {
        if let Method::Lbfgs { memory: 0 } = self.method {
            return Err("L-BFGS memory must be at least 1".into());
        }
        if !(self.c1 > 0.0 && self.c1 < 0.5) {
            return Err(format!("c1 = {} must lie in (0, 0.5)", self.c1));
        }
        if !(self.c2 > self.c1 && self.c2 < 1.0) {
            return Err(format!("c2 = {} must lie in (c1 = {}, 1)", self.c2, self.c1));
        }
        if self.max_evaluations_per_iteration == 0 {
            return Err("max_evaluations_per_iteration must be at least 1".into());
        }
        if !(self.curvature_tolerance >= 0.0 && self.curvature_tolerance < 1.0) {
            return Err(format!("curvature_tolerance = {} must lie in [0, 1)", self.curvature_tolerance));
        }
        match self.first_step {
            FirstStep::Unit => {}
            FirstStep::MaxChange(v) | FirstStep::Norm(v) => {
                if !(v > 0.0 && v.is_finite()) {
                    return Err(format!("the first step size {v} must be finite and positive"));
                }
            }
        }
        if let Some(b) = &self.bounds
            && b.len() != n
        {
            return Err(format!("bounds for {} parameters but x has {n}", b.len()));
        }
        Ok(())
    }
}

impl Default for Options {
    /// [`Options::lbfgs`] with 10 pairs.
    fn default() -> Options {
        Options::lbfgs(10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_scales() {
        let d = [3.0, -4.0];
        assert_eq!(FirstStep::Unit.step(&d), 1.0);
        assert_eq!(FirstStep::MaxChange(2.0).step(&d), 0.5);
        assert_eq!(FirstStep::Norm(10.0).step(&d), 2.0);
    }

    #[test]
    fn validation() {
        assert!(Options::default().validate(3).is_ok());
        assert!(Options::conjugate_gradient().validate(3).is_ok());
        assert!(Options::steepest_descent().validate(3).is_ok());
        assert!(Options::lbfgs(0).validate(3).is_err());
        assert!(Options { c2: 1e-5, ..Options::default() }.validate(3).is_err());
        assert!(Options::default().with_first_step(FirstStep::MaxChange(0.0)).validate(3).is_err());
        let b = Bounds::uniform(2, 0.0, 1.0).unwrap();
        assert!(Options::default().with_bounds(b).validate(3).is_err());
    }
}
