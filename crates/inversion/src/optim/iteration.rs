//! One optimiser iteration: the search direction, the line search and the
//! update of the [`State`], which is changed only when the iteration
//! succeeds.

use super::bounds::{projected_gradient, restrict_direction};
use super::direction::{initial_scaling, lbfgs_direction, polak_ribiere_plus};
use super::line_search::{Acceptance, Point, Probe, Trial, backtracking, strong_wolfe};
use super::options::BoundedSearch;
use super::options::{Method, Options};
use super::state::State;
use super::vector::{dot, norm_inf, norm2, sub};
use super::{Objective, OptimError};

/// Why an iteration did not use the method's own direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// The method's direction was not a descent direction (CG, or L-BFGS
    /// after the bounds held some components): a steepest-descent direction
    /// was used instead (scaled by `γ` for L-BFGS, whose memory is kept).
    NotDescent,
    /// The L-BFGS line search failed: the memory was cleared and a
    /// steepest-descent line search (first step from
    /// [`FirstStep`](super::FirstStep)) succeeded.
    MemoryReset,
}

/// What one iteration did: for logging, and to decide when to stop.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationReport {
    /// Iterations completed, this one included.
    pub iteration: usize,
    /// The objective at the new point.
    pub value: f64,
    /// The objective at the previous point.
    pub previous_value: f64,
    /// The accepted step length `α` (the new point is `P(x + α d)`).
    pub step: f64,
    /// `max_i |x_new,i − x_i|`.
    pub max_change: f64,
    /// `gᵀd` at the previous point for the direction used (negative).
    pub initial_slope: f64,
    /// `g_newᵀd`: without bounds, `φ'(α)` of the accepted step.
    pub final_slope: f64,
    /// Objective evaluations this iteration (both line searches when L-BFGS
    /// reset its memory).
    pub evaluations: usize,
    /// `max_i |g̃_i|` of the projected gradient at the new point.
    pub gradient_norm: f64,
    /// Parameters exactly at a bound at the new point (0 without bounds).
    pub active: usize,
    /// The test the accepted step passed.
    pub acceptance: Acceptance,
    /// Set when the method's own direction was replaced.
    pub restart: Option<Restart>,
    /// L-BFGS stored the new curvature pair (false for the other methods and
    /// when `sᵀy` was too small).
    pub pair_stored: bool,
    /// Every evaluation of this iteration, in order.
    pub trials: Vec<Trial>,
}

/// One iteration of `options.method` from `state`: direction, line search
/// and, on success, the update of `state`.
///
/// On error `state` is unchanged (the evaluations spent are lost from its
/// count). [`OptimError::NoDescentDirection`] (the projected gradient is
/// zero) and [`OptimError::LineSearchFailed`] (no decrease found, after an
/// L-BFGS memory reset) mean that no progress is possible from this state:
/// callers treat them as convergence.
pub fn iterate<O: Objective>(
    options: &Options,
    state: &mut State,
    objective: &mut O,
) -> Result<IterationReport, OptimError<O::Error>> {
    state.validate().map_err(OptimError::Invalid)?;
    options.validate(state.x.len()).map_err(OptimError::Invalid)?;
    let bounds = options.bounds.as_ref();
    if let Some(b) = bounds
        && !b.contains(&state.x)
    {
        return Err(OptimError::Invalid(
            "the current point lies outside the bounds (project the starting point with Bounds::project)".into(),
        ));
    }
    let x = &state.x;
    let g = &state.gradient;
    let pg = projected_gradient(bounds, x, g);
    if norm_inf(&pg) == 0.0 {
        return Err(OptimError::NoDescentDirection);
    }
    // −scale·g̃, which is a descent direction that the bounds never hold.
    let steepest = |scale: f64| -> Vec<f64> {
        let mut d: Vec<f64> = pg.iter().map(|v| -scale * v).collect();
        restrict_direction(bounds, x, g, &mut d);
        d
    };

    // The L-BFGS pairs in use: the newest `memory` ones.
    let (hs, hy) = match options.method {
        Method::Lbfgs { memory } => {
            let first = state.history_s.len().saturating_sub(memory);
            (&state.history_s[first..], &state.history_y[first..])
        }
        _ => (&[][..], &[][..]),
    };

    // The direction and the first trial step.
    let mut restart = None;
    let (mut d, mut alpha0) = match options.method {
        Method::Lbfgs { .. } => {
            let mut d = lbfgs_direction(hs, hy, &pg);
            restrict_direction(bounds, x, g, &mut d);
            if !is_descent(dot(g, &d)) {
                restart = Some(Restart::NotDescent);
                d = steepest(initial_scaling(hs, hy));
            }
            // With pairs, γ scales the direction so that the unit step fits.
            let alpha0 = if hs.is_empty() { options.first_step.step(&d) } else { 1.0 };
            (d, alpha0)
        }
        Method::ConjugateGradient | Method::SteepestDescent => {
            let mut d = if options.method == Method::ConjugateGradient && !state.previous_direction.is_empty() {
                let beta = polak_ribiere_plus(&pg, &state.previous_gradient);
                let mut d: Vec<f64> = pg.iter().map(|v| -v).collect();
                for (di, pi) in d.iter_mut().zip(&state.previous_direction) {
                    *di += beta * pi;
                }
                restrict_direction(bounds, x, g, &mut d);
                d
            } else {
                steepest(1.0)
            };
            if !is_descent(dot(g, &d)) {
                restart = Some(Restart::NotDescent);
                d = steepest(1.0);
            }
            let alpha0 = scaled_previous_step(state, dot(g, &d)).unwrap_or_else(|| options.first_step.step(&d));
            (d, alpha0)
        }
    };

    let mut trials = Vec::new();
    let mut evaluations = 0;
    let mut reset_memory = false;
    let (point, acceptance) = loop {
        let slope0 = dot(g, &d);
        let mut probe = Probe {
            objective: &mut *objective,
            x,
            d: &d,
            bounds,
            budget: options.max_evaluations_per_iteration,
            evaluations: 0,
            trials: &mut trials,
        };
        let armijo = options.method == Method::SteepestDescent
            || (bounds.is_some() && options.bounded_search == BoundedSearch::ProjectedArmijo);
        let result = if armijo {
            backtracking(&mut probe, state.value, g, slope0, alpha0, options.c1)
        } else {
            strong_wolfe(&mut probe, state.value, slope0, alpha0, options.c1, options.c2)
        };
        evaluations += probe.evaluations;
        match result? {
            Some(accepted) => break accepted,
            None if matches!(options.method, Method::Lbfgs { .. }) && !hs.is_empty() && !reset_memory => {
                // The quasi-Newton model misled the search: forget it and try
                // steepest descent once.
                reset_memory = true;
                restart = Some(Restart::MemoryReset);
                d = steepest(1.0);
                alpha0 = options.first_step.step(&d);
            }
            None => return Err(OptimError::LineSearchFailed { evaluations }),
        }
    };
    Ok(commit(options, state, pg, d, point, acceptance, restart, reset_memory, evaluations, trials))
}

/// `gᵀd < 0` (false for NaN).
fn is_descent(slope: f64) -> bool {
    slope < 0.0
}

/// N&W eq. 3.60: the first trial step of CG and steepest descent makes the
/// first-order change `α gᵀd` equal to the previous iteration's,
/// `α = α_prev · g_prevᵀd_prev / gᵀd`. `None` before the first iteration.
fn scaled_previous_step(state: &State, slope: f64) -> Option<f64> {
    if state.last_step > 0.0 && !state.previous_direction.is_empty() {
        let previous_slope = dot(&state.previous_gradient, &state.previous_direction);
        let alpha = state.last_step * previous_slope / slope;
        (alpha > 0.0 && alpha.is_finite()).then_some(alpha)
    } else {
        None
    }
}

/// Move `state` to the accepted point and build the report (cannot fail).
fn commit(
    options: &Options,
    state: &mut State,
    pg: Vec<f64>,
    d: Vec<f64>,
    point: Point,
    acceptance: Acceptance,
    restart: Option<Restart>,
    reset_memory: bool,
    evaluations: usize,
    trials: Vec<Trial>,
) -> IterationReport {
    let bounds = options.bounds.as_ref();
    let s = sub(&point.x, &state.x);
    let max_change = norm_inf(&s);
    let initial_slope = dot(&state.gradient, &d);
    let mut pair_stored = false;
    match options.method {
        Method::Lbfgs { memory } => {
            if reset_memory {
                state.history_s.clear();
                state.history_y.clear();
            }
            let y = sub(&point.gradient, &state.gradient);
            let sy = dot(&s, &y);
            if sy > options.curvature_tolerance * norm2(&s) * norm2(&y) {
                state.history_s.push(s);
                state.history_y.push(y);
                pair_stored = true;
            }
            let excess = state.history_s.len().saturating_sub(memory);
            state.history_s.drain(..excess);
            state.history_y.drain(..excess);
        }
        Method::ConjugateGradient | Method::SteepestDescent => {
            state.history_s.clear();
            state.history_y.clear();
        }
    }
    let previous_value = state.value;
    let Point { alpha, value, slope, x, gradient, .. } = point;
    state.iteration += 1;
    state.x = x;
    state.value = value;
    state.gradient = gradient;
    state.evaluations += evaluations;
    state.previous_direction = d;
    state.previous_gradient = pg;
    state.last_step = alpha;
    IterationReport {
        iteration: state.iteration,
        value,
        previous_value,
        step: alpha,
        max_change,
        initial_slope,
        final_slope: slope,
        evaluations,
        gradient_norm: state.projected_gradient_norm(bounds),
        active: bounds.map_or(0, |b| b.active_count(&state.x)),
        acceptance,
        restart,
        pair_stored,
        trials,
    }
}
