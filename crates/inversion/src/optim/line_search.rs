//! Line searches along `φ(α) = f(P(x + α d))`, where `P` is the projection
//! onto the bounds (the identity without bounds).
//!
//! - [`strong_wolfe`]: Nocedal & Wright Alg. 3.5 (bracketing with cubic
//!   extrapolation) and Alg. 3.6 (zoom with safeguarded cubic interpolation,
//!   eq. 3.59). Used by L-BFGS and CG without bounds.
//! - [`backtracking`]: Armijo backtracking with safeguarded quadratic
//!   interpolation, along the projected path when there are bounds. Used by
//!   steepest descent, and by every method with bounds.
//!
//! Both evaluate the objective only at trial points, at most `budget` times,
//! and record every evaluation as a [`Trial`]. A trial with a non-finite value
//! or gradient (an unstable forward solve, a model outside its range) counts
//! as "too far": the search shrinks the step.

use super::bounds::Bounds;
use super::vector::{dot, predicted_change};
use super::{Objective, OptimError};

/// One objective evaluation made by a line search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// The trial step length `α`; the trial point is `P(x + α d)`.
    pub step: f64,
    /// The objective there.
    pub value: f64,
    /// `g(α)ᵀ d`: the derivative `φ'(α)` without bounds (along the bent path
    /// with bounds it is only the derivative of the unprojected line).
    pub slope: f64,
}

/// Which test the accepted step passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptance {
    /// Both strong Wolfe conditions: `φ(α) ≤ φ(0) + c1 α φ'(0)` and
    /// `|φ'(α)| ≤ c2 |φ'(0)|`.
    StrongWolfe,
    /// Sufficient decrease (Armijo) of the backtracking search:
    /// `f(x⁺) ≤ f(x) + c1 gᵀ(x⁺ − x)` with `gᵀ(x⁺ − x) < 0`.
    SufficientDecrease,
    /// The strong Wolfe search ran out of evaluations (or its bracket shrank
    /// to rounding) before the curvature condition held; the lowest trial
    /// with sufficient decrease was accepted.
    BudgetExhausted,
}

/// An evaluated trial point with the data needed to accept it.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    /// Step length.
    pub alpha: f64,
    /// `φ(α)`.
    pub value: f64,
    /// `g(α)ᵀ d`.
    pub slope: f64,
    /// The trial point (empty for the origin `α = 0`, which is never
    /// accepted).
    pub x: Vec<f64>,
    /// The gradient there (empty for the origin).
    pub gradient: Vec<f64>,
    /// Value and gradient are finite.
    pub finite: bool,
}

impl Point {
    /// `α = 0`: the current point, known without evaluation.
    fn origin(value: f64, slope: f64) -> Point {
        Point { alpha: 0.0, value, slope, x: Vec::new(), gradient: Vec::new(), finite: true }
    }
}

/// Evaluates trial points along one direction, within a budget.
pub(crate) struct Probe<'a, O: Objective> {
    /// The objective.
    pub objective: &'a mut O,
    /// The current point.
    pub x: &'a [f64],
    /// The search direction.
    pub d: &'a [f64],
    /// Projection of trial points, if any.
    pub bounds: Option<&'a Bounds>,
    /// Evaluations allowed.
    pub budget: usize,
    /// Evaluations made.
    pub evaluations: usize,
    /// Every evaluation, in order.
    pub trials: &'a mut Vec<Trial>,
}

impl<O: Objective> Probe<'_, O> {
    fn exhausted(&self) -> bool {
        self.evaluations >= self.budget
    }

    /// `P(x + α d)`.
    fn point(&self, alpha: f64) -> Vec<f64> {
        let mut p: Vec<f64> = self.x.iter().zip(self.d).map(|(x, d)| x + alpha * d).collect();
        if let Some(b) = self.bounds {
            b.project(&mut p);
        }
        p
    }

    /// Evaluate the objective at `x` (the trial point for `alpha`).
    fn evaluate(&mut self, alpha: f64, x: Vec<f64>) -> Result<Point, OptimError<O::Error>> {
        let (value, gradient) = self.objective.evaluate(&x).map_err(OptimError::Objective)?;
        if gradient.len() != x.len() {
            return Err(OptimError::Invalid(format!(
                "the objective returned {} gradient values for {} parameters",
                gradient.len(),
                x.len()
            )));
        }
        self.evaluations += 1;
        // along the projected path, components held at a bound do not move
        let slope = match self.bounds {
            None => dot(&gradient, self.d),
            Some(b) => gradient
                .iter()
                .zip(self.d)
                .zip(x.iter().zip(b.lower().iter().zip(b.upper())))
                .filter(|&((_, &d), (&xi, (&lo, &hi)))| !((d < 0.0 && xi <= lo) || (d > 0.0 && xi >= hi)))
                .map(|((g, d), _)| g * d)
                .sum(),
        };
        let finite = value.is_finite() && slope.is_finite() && gradient.iter().all(|g| g.is_finite());
        self.trials.push(Trial { step: alpha, value, slope });
        Ok(Point { alpha, value, slope, x, gradient, finite })
    }
}

/// The minimiser of the cubic through `(a, fa, da)` and `(b, fb, db)`
/// (values and derivatives), N&W eq. 3.59; `None` when it has none.
pub(crate) fn cubic_minimizer(a: f64, fa: f64, da: f64, b: f64, fb: f64, db: f64) -> Option<f64> {
    let d1 = da + db - 3.0 * (fa - fb) / (a - b);
    let discriminant = d1 * d1 - da * db;
    if discriminant.is_nan() || discriminant < 0.0 {
        return None;
    }
    let d2 = (b - a).signum() * discriminant.sqrt();
    let denominator = db - da + 2.0 * d2;
    let t = b - (b - a) * (db + d2 - d1) / denominator;
    t.is_finite().then_some(t)
}

/// Strong Wolfe line search (N&W Alg. 3.5 and 3.6) from `x` with value `f0`
/// along the descent direction `d` with `φ'(0) = slope0 < 0`, first trial
/// `alpha0`. `Ok(None)`: no point with sufficient decrease was found within
/// the budget.
pub(crate) fn strong_wolfe<O: Objective>(
    probe: &mut Probe<'_, O>,
    f0: f64,
    slope0: f64,
    alpha0: f64,
    c1: f64,
    c2: f64,
) -> Result<Option<(Point, Acceptance)>, OptimError<O::Error>> {
    let armijo = |p: &Point| p.finite && p.value <= f0 + c1 * p.alpha * slope0;
    let curvature = |p: &Point| p.slope.abs() <= -c2 * slope0;
    let mut previous = Point::origin(f0, slope0);
    let mut alpha = alpha0;
    loop {
        if probe.exhausted() {
            // `previous` satisfies sufficient decrease (else we would have
            // zoomed) and is the lowest such point so far.
            return Ok(best_of(previous));
        }
        let x = probe.point(alpha);
        let current = probe.evaluate(alpha, x)?;
        if !armijo(&current) || (previous.alpha > 0.0 && current.value >= previous.value) {
            return zoom(probe, previous, current, f0, slope0, c1, c2);
        }
        if curvature(&current) {
            return Ok(Some((current, Acceptance::StrongWolfe)));
        }
        if current.slope >= 0.0 {
            return zoom(probe, current, previous, f0, slope0, c1, c2);
        }
        // Still descending: extrapolate, growing the step by a factor 2 to 5
        // of the last interval (cubic through the last two points, clamped).
        let width = current.alpha - previous.alpha;
        let (low, high) = (current.alpha + width, current.alpha + 4.0 * width);
        alpha = cubic_minimizer(
            previous.alpha,
            previous.value,
            previous.slope,
            current.alpha,
            current.value,
            current.slope,
        )
        .map_or(high, |t| t.clamp(low, high));
        previous = current;
    }
}

/// N&W Alg. 3.6: `lo` satisfies sufficient decrease with the lowest value
/// seen, and `lo.slope · (hi.alpha − lo.alpha) < 0`, so `[lo, hi]` brackets
/// strong Wolfe points.
fn zoom<O: Objective>(
    probe: &mut Probe<'_, O>,
    mut lo: Point,
    mut hi: Point,
    f0: f64,
    slope0: f64,
    c1: f64,
    c2: f64,
) -> Result<Option<(Point, Acceptance)>, OptimError<O::Error>> {
    loop {
        let width = (hi.alpha - lo.alpha).abs();
        if probe.exhausted() || width <= f64::EPSILON * lo.alpha.abs().max(hi.alpha.abs()) {
            return Ok(best_of(lo));
        }
        let (left, right) = (lo.alpha.min(hi.alpha), lo.alpha.max(hi.alpha));
        let middle = 0.5 * (left + right);
        // Cubic interpolation kept inside the middle 80 % of the bracket;
        // bisection when the far end is not finite or there is no minimiser.
        let alpha = if hi.finite {
            cubic_minimizer(lo.alpha, lo.value, lo.slope, hi.alpha, hi.value, hi.slope)
                .map_or(middle, |t| t.clamp(left + 0.1 * width, right - 0.1 * width))
        } else {
            middle
        };
        let x = probe.point(alpha);
        let current = probe.evaluate(alpha, x)?;
        let sufficient = current.finite && current.value <= f0 + c1 * alpha * slope0;
        if !sufficient || current.value >= lo.value {
            hi = current;
        } else {
            if current.slope.abs() <= -c2 * slope0 {
                return Ok(Some((current, Acceptance::StrongWolfe)));
            }
            if current.slope * (hi.alpha - lo.alpha) >= 0.0 {
                hi = std::mem::replace(&mut lo, current);
            } else {
                lo = current;
            }
        }
    }
}

/// Accept `p` when it is an evaluated point (not the origin).
fn best_of(p: Point) -> Option<(Point, Acceptance)> {
    (p.alpha > 0.0).then_some((p, Acceptance::BudgetExhausted))
}

/// Armijo backtracking along the (projected) path `P(x + α d)` from `x` with
/// value `f0` and gradient `g`, `φ'(0) = gᵀd = slope0 < 0` (the direction is
/// restricted so the path starts straight). Accepts the first trial with
/// `f(x⁺) ≤ f0 + c1 gᵀ(x⁺ − x)` and `gᵀ(x⁺ − x) < 0`; otherwise the step
/// shrinks to the minimiser of the quadratic through `φ(0)`, `φ'(0)`, `φ(α)`,
/// kept within `[0.1 α, 0.5 α]` (halving after a non-finite trial).
/// `Ok(None)`: no such point within the budget, or the step fell below
/// rounding (`P(x + α d) = x`).
pub(crate) fn backtracking<O: Objective>(
    probe: &mut Probe<'_, O>,
    f0: f64,
    g: &[f64],
    slope0: f64,
    alpha0: f64,
    c1: f64,
) -> Result<Option<(Point, Acceptance)>, OptimError<O::Error>> {
    let mut alpha = alpha0;
    loop {
        if probe.exhausted() {
            return Ok(None);
        }
        let x = probe.point(alpha);
        if x == probe.x {
            return Ok(None);
        }
        let predicted = predicted_change(g, &x, probe.x);
        let current = probe.evaluate(alpha, x)?;
        if current.finite && predicted < 0.0 && current.value <= f0 + c1 * predicted {
            return Ok(Some((current, Acceptance::SufficientDecrease)));
        }
        alpha = if current.finite {
            let curvature = (current.value - f0 - slope0 * alpha) / (alpha * alpha);
            let quadratic = -slope0 / (2.0 * curvature);
            if curvature > 0.0 && quadratic.is_finite() {
                quadratic.clamp(0.1 * alpha, 0.5 * alpha)
            } else {
                0.5 * alpha
            }
        } else {
            0.5 * alpha
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    #[test]
    fn cubic_is_exact_for_quadratics_and_cubics() {
        // φ = (α − 1)²
        let t = cubic_minimizer(0.0, 1.0, -2.0, 2.0, 1.0, 2.0).unwrap();
        assert!((t - 1.0).abs() < 1e-15);
        // The same with the ends swapped.
        let t = cubic_minimizer(2.0, 1.0, 2.0, 0.0, 1.0, -2.0).unwrap();
        assert!((t - 1.0).abs() < 1e-15);
        // φ = α³ − 3α: local minimiser at 1.
        let f = |a: f64| a * a * a - 3.0 * a;
        let df = |a: f64| 3.0 * a * a - 3.0;
        let t = cubic_minimizer(0.0, f(0.0), df(0.0), 3.0, f(3.0), df(3.0)).unwrap();
        assert!((t - 1.0).abs() < 1e-14, "{t}");
        // A cubic without a minimiser (monotone).
        let f = |a: f64| a * a * a + a;
        let df = |a: f64| 3.0 * a * a + 1.0;
        assert_eq!(cubic_minimizer(0.0, f(0.0), df(0.0), 1.0, f(1.0), df(1.0)), None);
    }

    /// `f(x) = Σ (x_i − 3)²`, infinite beyond x_0 > 10.
    struct Bowl;
    impl Objective for Bowl {
        type Error = Infallible;
        fn evaluate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), Infallible> {
            if x[0] > 10.0 {
                return Ok((f64::INFINITY, vec![f64::NAN; x.len()]));
            }
            Ok((x.iter().map(|v| (v - 3.0) * (v - 3.0)).sum(), x.iter().map(|v| 2.0 * (v - 3.0)).collect()))
        }
    }

    fn run(search: &str, alpha0: f64, budget: usize) -> (Option<(Point, Acceptance)>, Vec<Trial>) {
        let x = [0.0, 0.0];
        let g = [-6.0, -6.0];
        let d = [6.0, 6.0];
        let mut trials = Vec::new();
        let mut objective = Bowl;
        let mut probe = Probe {
            objective: &mut objective,
            x: &x,
            d: &d,
            bounds: None,
            budget,
            evaluations: 0,
            trials: &mut trials,
        };
        let slope0 = dot(&g, &d);
        let result = match search {
            "wolfe" => strong_wolfe(&mut probe, 18.0, slope0, alpha0, 1e-4, 0.1),
            _ => backtracking(&mut probe, 18.0, &g, slope0, alpha0, 1e-4),
        }
        .unwrap();
        (result, trials)
    }

    #[test]
    fn strong_wolfe_extrapolates_and_interpolates() {
        // Exact minimum at α = 0.5 (c2 = 0.1 accepts α ∈ [0.45, 0.55]). From a
        // short step the extrapolation grows the step (at most 5 times the
        // last interval) until the cubic lands on it.
        let (result, trials) = run("wolfe", 0.01, 10);
        let (p, how) = result.unwrap();
        assert_eq!(how, Acceptance::StrongWolfe);
        assert!((p.alpha - 0.5).abs() < 1e-12, "{trials:?}");
        // From a long step with an infinite value: bisection, then cubic.
        let (result, trials) = run("wolfe", 5.0, 10);
        let (p, how) = result.unwrap();
        assert_eq!(how, Acceptance::StrongWolfe);
        assert!((p.alpha - 0.5).abs() < 1e-12, "{trials:?}");
        assert!(trials[0].value.is_infinite());
    }

    #[test]
    fn strong_wolfe_budget() {
        // One evaluation at a non-finite point: nothing to accept.
        let (result, trials) = run("wolfe", 5.0, 1);
        assert!(result.is_none());
        assert_eq!(trials.len(), 1);
        // Short steps that keep descending: the budget runs out and the
        // lowest point is accepted.
        let (result, trials) = run("wolfe", 1e-6, 2);
        let (p, how) = result.unwrap();
        assert_eq!(how, Acceptance::BudgetExhausted);
        assert_eq!(p.alpha, trials[1].step);
    }

    #[test]
    fn backtracking_shrinks_past_non_finite_values() {
        let (result, trials) = run("armijo", 5.0, 10);
        let (p, how) = result.unwrap();
        assert_eq!(how, Acceptance::SufficientDecrease);
        assert!(trials[0].value.is_infinite());
        assert_eq!(trials[1].step, 2.5);
        // The quadratic model is exact: the next trial is the minimiser.
        assert!((p.alpha - 0.5).abs() < 1e-12, "{trials:?}");
        let (result, _) = run("armijo", 5.0, 1);
        assert!(result.is_none());
    }
}
