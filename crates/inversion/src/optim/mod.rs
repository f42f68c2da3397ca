//! Gradient-based optimisers for expensive objectives: L-BFGS, nonlinear
//! conjugate gradient (Polak–Ribière+) and steepest descent, with strong
//! Wolfe and Armijo line searches and simple bounds.
//!
//! # Why not argmin
//!
//! These are written here rather than taken from `argmin` because an
//! inversion needs three things a general framework does not give together:
//!
//! 1. **Bounds inside the line search.** Physical parameters have hard limits
//!    (a velocity must stay positive and within the stability limit of the
//!    forward solver). Here every trial point is the projection
//!    `P(x + α d)` onto the box, so the objective is never evaluated outside
//!    it, and the line search works along the projected path.
//! 2. **The whole state is plain data.** [`State`] is a struct of numbers and
//!    vectors (`Clone + PartialEq + Debug`) that the caller writes to its run
//!    file after every iteration. [`iterate`] depends only on the state, the
//!    [`Options`] and the objective, and is deterministic (no randomness, no
//!    threads, no hash-map order, sums always in the same order), so an
//!    inversion killed and resumed from a stored state ends bitwise identical
//!    to an uninterrupted one.
//! 3. **Every evaluation is visible.** Each [`Objective::evaluate`] costs at
//!    least one PDE solve. The caller drives the loop one iteration at a
//!    time, the line search has a hard budget
//!    ([`Options::max_evaluations_per_iteration`]), the objective is called
//!    only at trial points, and every evaluation comes back in the
//!    [`IterationReport`] as a [`Trial`].
//!
//! # One iteration
//!
//! 1. The projected gradient `g̃` (gradient with the components zeroed that
//!    sit at a bound and whose `−g` points outward) is the optimality
//!    measure; when it is zero, [`OptimError::NoDescentDirection`].
//! 2. The direction: L-BFGS two-loop recursion on `g̃` (N&W Alg. 7.4, initial
//!    scaling `γ = sᵀy / yᵀy`), PR+ conjugate gradient, or `−g̃`. Components
//!    held at a bound are zeroed; a direction that is then not a descent
//!    direction is replaced by steepest descent ([`Restart::NotDescent`]).
//! 3. The first trial step: 1 for L-BFGS with pairs (γ scales the
//!    direction); N&W eq. 3.60 (the previous step scaled by the ratio of
//!    slopes) for CG and steepest descent; [`FirstStep`] otherwise, in
//!    particular on the very first iteration.
//! 4. The line search: without bounds, strong Wolfe (N&W Alg. 3.5 and 3.6,
//!    safeguarded cubic interpolation) for L-BFGS and CG, Armijo backtracking
//!    with quadratic interpolation for steepest descent. With bounds, every
//!    method uses Armijo backtracking along the projected path.
//! 5. When an L-BFGS line search finds no decrease, the memory is cleared and
//!    a steepest-descent search is tried once ([`Restart::MemoryReset`]); if
//!    that fails too, [`OptimError::LineSearchFailed`], which callers treat
//!    as convergence.
//! 6. L-BFGS stores the pair `s = x⁺ − x`, `y = g⁺ − g` only when
//!    `sᵀy > ε ‖s‖‖y‖` ([`Options::curvature_tolerance`]), which keeps its
//!    inverse-Hessian approximation positive definite.
//!
//! # Bounds
//!
//! With bounds the trial points `P(x + α d)` lie on a path that bends where
//! components reach the box, so `φ(α) = f(P(x + α d))` is not differentiable
//! there and the strong Wolfe curvature condition has no meaning past the
//! first bend. The line search is therefore backtracking on the projected
//! path with the sufficient-decrease test of Bertsekas,
//! `f(x⁺) ≤ f(x) + c1 gᵀ(x⁺ − x)` with `gᵀ(x⁺ − x) < 0` required. The
//! direction is restricted first (components at a bound whose gradient or
//! direction points outward are set to zero), so the path starts straight
//! with slope `gᵀd < 0` and backtracking always ends in sufficient decrease
//! for smooth objectives. Without the curvature condition `sᵀy > 0` is not
//! guaranteed, hence the curvature test on L-BFGS pairs.
//!
//! # Errors and the state
//!
//! [`iterate`] changes the state only when it returns `Ok`. An objective
//! error is returned as [`OptimError::Objective`]; a trial where the
//! objective is not finite (an unstable forward solve) is not an error: the
//! line search treats it as a step that went too far.

mod bounds;
mod direction;
mod iteration;
mod line_search;
mod options;
mod state;
mod vector;

pub use bounds::{Bounds, BoundsError};
pub use iteration::{IterationReport, Restart, iterate};
pub use line_search::{Acceptance, Trial};
pub use options::{BoundedSearch, FirstStep, Method, Options};
pub use state::State;

use thiserror::Error;

/// A differentiable objective. Each call costs a PDE solve or more.
pub trait Objective {
    /// The error of a failed evaluation (I/O, a solver failure); returned by
    /// the optimisers as [`OptimError::Objective`]. A value that is merely
    /// not finite should be returned as `Ok` (the line search then shortens
    /// the step).
    type Error;

    /// The value and the gradient (one entry per parameter) at `x`.
    fn evaluate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), Self::Error>;
}

/// Why an iteration could not be made. The state is unchanged in every case.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum OptimError<E> {
    /// The objective failed.
    #[error("objective evaluation failed: {0}")]
    Objective(#[source] E),
    /// The projected gradient is zero: the current point is stationary (a
    /// KKT point with bounds). Treat as convergence.
    #[error("no descent direction: the projected gradient is zero")]
    NoDescentDirection,
    /// No step with sufficient decrease was found (for L-BFGS also not after
    /// clearing the memory). Treat as convergence: the point is as good as
    /// the line search can resolve.
    #[error("the line search found no decrease in {evaluations} evaluations")]
    LineSearchFailed {
        /// Evaluations spent in the failed iteration.
        evaluations: usize,
    },
    /// Inconsistent options or state, or an objective that returned a
    /// gradient of the wrong length or a non-finite starting value.
    #[error("invalid optimiser input: {0}")]
    Invalid(String),
}

/// Why [`minimize`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// The projected gradient's max-norm fell to the tolerance.
    Converged,
    /// [`OptimError::NoDescentDirection`]: the projected gradient is zero.
    Stationary,
    /// [`OptimError::LineSearchFailed`]: no further decrease found.
    NoDecrease,
    /// The iteration limit was reached first.
    MaxIterations,
}

/// The result of [`minimize`].
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// The final state (its `x` is the minimiser found).
    pub state: State,
    /// One report per completed iteration.
    pub reports: Vec<IterationReport>,
    /// Why the loop stopped.
    pub termination: Termination,
}

/// Minimise from `x0` (projected onto the bounds first) until the projected
/// gradient's max-norm is at most `tolerance`, no progress is possible, or
/// `max_iterations` iterations were made. A convenience loop over
/// [`State::new`] and [`iterate`]; inversions drive [`iterate`] themselves to
/// save the state after every iteration.
pub fn minimize<O: Objective>(
    options: &Options,
    x0: Vec<f64>,
    objective: &mut O,
    max_iterations: usize,
    tolerance: f64,
) -> Result<Minimum, OptimError<O::Error>> {
    let mut x0 = x0;
    if let Some(b) = &options.bounds {
        if b.len() != x0.len() {
            return Err(OptimError::Invalid(format!("bounds for {} parameters but x0 has {}", b.len(), x0.len())));
        }
        b.project(&mut x0);
    }
    let mut state = State::new(x0, objective)?;
    let mut reports = Vec::new();
    let termination = loop {
        if state.projected_gradient_norm(options.bounds.as_ref()) <= tolerance {
            break Termination::Converged;
        }
        if state.iteration >= max_iterations {
            break Termination::MaxIterations;
        }
        match iterate(options, &mut state, objective) {
            Ok(report) => reports.push(report),
            Err(OptimError::NoDescentDirection) => break Termination::Stationary,
            Err(OptimError::LineSearchFailed { .. }) => break Termination::NoDecrease,
            Err(e) => return Err(e),
        }
    };
    Ok(Minimum { state, reports, termination })
}
