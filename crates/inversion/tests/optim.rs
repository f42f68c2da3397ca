//! The optimisers on problems with known minima: Rosenbrock (L-BFGS, CG,
//! steepest descent, and their ordering), an ill-conditioned quadratic
//! (accuracy, and the strong Wolfe conditions checked independently by an
//! observer of every evaluation), a bound-constrained quadratic (KKT point),
//! bitwise resume from a copied state, and error propagation without state
//! change.

use pdeinv_inversion::optim::{
    Acceptance, Bounds, FirstStep, Method, Objective, OptimError, Options, Restart, State, Termination, iterate,
    minimize,
};
use std::convert::Infallible;

/// `f = 100 (y − x²)² + (1 − x)²`, minimum 0 at (1, 1).
struct Rosenbrock;

impl Objective for Rosenbrock {
    type Error = Infallible;
    fn evaluate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), Infallible> {
        let (a, b) = (x[0], x[1]);
        let f = 100.0 * (b - a * a).powi(2) + (1.0 - a).powi(2);
        let g = vec![-400.0 * a * (b - a * a) - 2.0 * (1.0 - a), 200.0 * (b - a * a)];
        Ok((f, g))
    }
}

/// `A = H Λ H` with a Householder reflection `H = I − 2 v vᵀ / vᵀv` and
/// eigenvalues log-spaced in `[1, 1e4]`: an ill-conditioned SPD matrix that
/// is not diagonal, applied in O(n).
struct RotatedQuadratic {
    lambda: Vec<f64>,
    v: Vec<f64>,
    minimum: Vec<f64>,
}

impl RotatedQuadratic {
    fn new(n: usize, condition: f64) -> RotatedQuadratic {
        let lambda = (0..n).map(|i| condition.powf(i as f64 / (n - 1) as f64)).collect();
        let v = (0..n).map(|i| 1.0 + ((i * 7) % 11) as f64 / 5.0).collect();
        let minimum = (0..n).map(|i| 1.0 + (i as f64 * 0.37).sin()).collect();
        RotatedQuadratic { lambda, v, minimum }
    }

    fn reflect(&self, x: &[f64]) -> Vec<f64> {
        let c = 2.0 * dot(&self.v, x) / dot(&self.v, &self.v);
        x.iter().zip(&self.v).map(|(xi, vi)| xi - c * vi).collect()
    }
}

impl Objective for RotatedQuadratic {
    type Error = Infallible;
    /// `½ eᵀ A e` with `e = x − x*`, so that the minimum value is exactly 0.
    fn evaluate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), Infallible> {
        let e: Vec<f64> = x.iter().zip(&self.minimum).map(|(a, b)| a - b).collect();
        let he = self.reflect(&e);
        let f = 0.5 * he.iter().zip(&self.lambda).map(|(h, l)| l * h * h).sum::<f64>();
        let scaled: Vec<f64> = he.iter().zip(&self.lambda).map(|(h, l)| l * h).collect();
        Ok((f, self.reflect(&scaled)))
    }
}

/// Records every evaluation of the objective it wraps.
struct Observer<O> {
    inner: O,
    log: Vec<(Vec<f64>, f64, Vec<f64>)>,
}

impl<O: Objective> Objective for Observer<O> {
    type Error = O::Error;
    fn evaluate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), O::Error> {
        let (f, g) = self.inner.evaluate(x)?;
        self.log.push((x.to_vec(), f, g.clone()));
        Ok((f, g))
    }
}

/// Fails with its message on evaluation number `fail_at` (counting from 0),
/// and on every later one.
struct Failing<O> {
    inner: O,
    calls: usize,
    fail_at: usize,
}

impl<O: Objective<Error = Infallible>> Objective for Failing<O> {
    type Error = String;
    fn evaluate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), String> {
        self.calls += 1;
        if self.calls > self.fail_at {
            return Err(format!("solver crashed at call {}", self.calls - 1));
        }
        Ok(self.inner.evaluate(x).unwrap())
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
}

fn rosenbrock(options: &Options, max_iterations: usize, tolerance: f64) -> (usize, usize, Vec<f64>) {
    let m = minimize(options, vec![-1.2, 1.0], &mut Rosenbrock, max_iterations, tolerance).unwrap();
    assert_eq!(m.termination, Termination::Converged, "{:?}", m.state);
    assert_eq!(m.reports.len(), m.state.iteration);
    assert_eq!(m.state.evaluations, 1 + m.reports.iter().map(|r| r.evaluations).sum::<usize>());
    // Every iteration decreases the objective.
    for r in &m.reports {
        assert!(r.value < r.previous_value, "{r:?}");
    }
    (m.state.iteration, m.state.evaluations, m.state.x)
}

#[test]
fn rosenbrock_all_methods_converge_in_order() {
    let (lbfgs, lbfgs_evals, x) = rosenbrock(&Options::lbfgs(10), 100, 1e-8);
    assert!(distance(&x, &[1.0, 1.0]) < 1e-6, "{x:?}");
    assert!(lbfgs <= 60, "L-BFGS took {lbfgs} iterations");

    let (cg, cg_evals, x) = rosenbrock(&Options::conjugate_gradient(), 1000, 1e-8);
    assert!(distance(&x, &[1.0, 1.0]) < 1e-6, "{x:?}");

    let (sd, sd_evals, x) = rosenbrock(&Options::steepest_descent(), 100_000, 1e-5);
    assert!(distance(&x, &[1.0, 1.0]) < 1e-4, "{x:?}");

    println!(
        "Rosenbrock iterations (evaluations): L-BFGS {lbfgs} ({lbfgs_evals}), CG {cg} ({cg_evals}), SD {sd} ({sd_evals})"
    );
    // Evaluations are the cost (a PDE solve each). CG's tighter line search
    // (c2 = 0.1) buys fewer but dearer iterations than L-BFGS.
    assert!(lbfgs_evals < cg_evals, "L-BFGS {lbfgs_evals} vs CG {cg_evals} evaluations");
    assert!(cg_evals < sd_evals, "CG {cg_evals} vs SD {sd_evals} evaluations");
    assert!(lbfgs.max(cg) * 20 < sd, "L-BFGS {lbfgs}, CG {cg} vs SD {sd} iterations");
}

#[test]
fn rosenbrock_first_step_variants() {
    // The first trial step only changes the path, not the answer.
    for first_step in [FirstStep::Unit, FirstStep::MaxChange(0.1), FirstStep::Norm(1.0)] {
        let options = Options::lbfgs(5).with_first_step(first_step);
        let (iterations, _, x) = rosenbrock(&options, 200, 1e-8);
        assert!(distance(&x, &[1.0, 1.0]) < 1e-6, "{first_step:?}: {x:?}");
        println!("Rosenbrock L-BFGS(5) with {first_step:?}: {iterations} iterations");
    }
    // MaxChange bounds the first move.
    let options = Options::lbfgs(5).with_first_step(FirstStep::MaxChange(0.1));
    let mut state = State::new(vec![-1.2, 1.0], &mut Rosenbrock).unwrap();
    let report = iterate(&options, &mut state, &mut Rosenbrock).unwrap();
    // |∂f/∂x| = 215.6 is the largest gradient component at the start.
    assert!((report.trials[0].step * 215.6 - 0.1).abs() < 1e-15);
    assert!(report.max_change <= 0.1 * (1.0 + 1e-12));
}

#[test]
fn ill_conditioned_quadratic_lbfgs_accuracy() {
    let mut q = RotatedQuadratic::new(100, 1e4);
    let minimum = q.minimum.clone();
    // ‖e‖ ≤ ‖g‖ / λ_min = ‖g‖: a gradient of 1e-8 (1e-12 of the initial one)
    // is enough for a relative error of 1e-8.
    let m = minimize(&Options::lbfgs(10), vec![0.0; 100], &mut q, 2000, 1e-8).unwrap();
    assert_eq!(m.termination, Termination::Converged);
    let relative = distance(&m.state.x, &minimum) / dot(&minimum, &minimum).sqrt();
    println!(
        "quadratic n = 100, κ = 1e4: L-BFGS(10) {} iterations, {} evaluations, relative error {relative:.2e}",
        m.state.iteration, m.state.evaluations
    );
    assert!(relative < 1e-8, "relative error {relative}");
    // Nearly every step is accepted at the first trial.
    let extra = m.reports.iter().filter(|r| r.evaluations > 1).count();
    assert!(extra * 5 < m.reports.len(), "{extra} of {} iterations needed more than one trial", m.reports.len());
}

#[test]
fn accepted_steps_satisfy_strong_wolfe() {
    for (options, problem) in [
        (Options::lbfgs(5), "quadratic"),
        (Options::conjugate_gradient(), "quadratic"),
        (Options::lbfgs(5), "rosenbrock"),
        (Options::conjugate_gradient(), "rosenbrock"),
    ] {
        let (reports, log) = if problem == "quadratic" {
            let mut o = Observer { inner: RotatedQuadratic::new(100, 1e4), log: Vec::new() };
            let m = minimize(&options, vec![0.0; 100], &mut o, 200, 1e-9).unwrap();
            (m.reports, o.log)
        } else {
            let mut o = Observer { inner: Rosenbrock, log: Vec::new() };
            let m = minimize(&options, vec![-1.2, 1.0], &mut o, 200, 1e-9).unwrap();
            (m.reports, o.log)
        };
        assert_eq!(log.len(), 1 + reports.iter().map(|r| r.evaluations).sum::<usize>());
        // Walk the observer's log: each iteration starts at the last accepted
        // point and accepts one of its own evaluations.
        let (mut x, mut f, mut g) = log[0].clone();
        let mut next = 1;
        let mut wolfe = 0;
        for r in &reports {
            let evaluations = &log[next..next + r.evaluations];
            next += r.evaluations;
            let accepted = evaluations.iter().find(|(_, v, _)| *v == r.value).expect("accepted point evaluated");
            let (x_new, f_new, g_new) = accepted.clone();
            // Independently of the optimiser's bookkeeping: s = x⁺ − x = α d,
            // up to the rounding of x⁺ (bounded by `error`).
            let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
            let rounding = |g: &[f64]| {
                4.0 * f64::EPSILON * (0..s.len()).map(|i| g[i].abs() * (x[i].abs() + x_new[i].abs())).sum::<f64>()
            };
            let (slope0, error0) = (dot(&g, &s), rounding(&g));
            let (slope, error) = (dot(&g_new, &s), rounding(&g_new));
            assert!(slope0 < error0);
            assert!(f_new <= f + options.c1 * slope0 + error0, "{problem}: sufficient decrease fails: {r:?}");
            if r.acceptance == Acceptance::StrongWolfe {
                wolfe += 1;
                assert!(
                    slope.abs() <= options.c2 * slope0.abs() + error + error0,
                    "{problem} {:?}: curvature fails: |{slope}| > {} |{slope0}|",
                    options.method,
                    options.c2
                );
                // The report's φ'(α) agrees (up to the scale α).
                assert!((r.final_slope * r.step - slope).abs() <= error + 1e-12 * slope.abs());
            }
            (x, f, g) = (x_new, f_new, g_new);
        }
        println!("{problem} {:?}: {} of {} steps strong Wolfe", options.method, wolfe, reports.len());
        assert!(wolfe * 10 >= reports.len() * 9, "{wolfe} of {}", reports.len());
    }
}

/// `f = μᵀe + ½ eᵀAe` with `e = x − x*` and `A` tridiagonal (4 on the
/// diagonal, −1 beside it), so that `∇f(x*) = μ`. With `μ_i > 0` where
/// `x*_i = 0`, `μ_i < 0` where `x*_i = 1` and `μ_i = 0` elsewhere, `x*` is
/// the KKT point, hence the unique minimiser, of the convex `f` on
/// `[0, 1]^n`. Written in `e` so that `f(x*) = 0` and values near the
/// minimum keep their precision.
struct BoxedQuadratic;

const BOX_SOLUTION: [f64; 10] = [0.0, 0.3, 1.0, 0.5, 0.0, 0.7, 1.0, 0.2, 0.9, 0.0];
const BOX_MULTIPLIER: [f64; 10] = [0.5, 0.0, -1.0, 0.0, 2.0, 0.0, -0.3, 0.0, 0.0, 1.0];

fn tridiagonal(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    (0..n)
        .map(|i| {
            let mut v = 4.0 * x[i];
            if i > 0 {
                v -= x[i - 1];
            }
            if i + 1 < n {
                v -= x[i + 1];
            }
            v
        })
        .collect()
}

impl Objective for BoxedQuadratic {
    type Error = Infallible;
    fn evaluate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), Infallible> {
        let e: Vec<f64> = x.iter().zip(&BOX_SOLUTION).map(|(a, b)| a - b).collect();
        let ae = tridiagonal(&e);
        let f = dot(&BOX_MULTIPLIER, &e) + 0.5 * dot(&e, &ae);
        Ok((f, ae.iter().zip(&BOX_MULTIPLIER).map(|(a, m)| a + m).collect()))
    }
}

#[test]
fn bounds_give_the_kkt_point() {
    // The unconstrained minimum lies outside the box.
    let free = minimize(&Options::lbfgs(10), vec![0.5; 10], &mut BoxedQuadratic, 200, 1e-12).unwrap();
    assert!(free.state.x.iter().any(|&v| !(0.0..=1.0).contains(&v)), "{:?}", free.state.x);

    let bounds = Bounds::uniform(10, 0.0, 1.0).unwrap();
    for (options, tolerance) in
        [(Options::lbfgs(10), 1e-10), (Options::conjugate_gradient(), 1e-10), (Options::steepest_descent(), 1e-10)]
    {
        let options = options.with_bounds(bounds.clone());
        // Start partly outside the box: minimize projects x0.
        let x0 = vec![0.5, 1.5, -0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
        let mut problem = BoxedQuadratic;
        let m = minimize(&options, x0, &mut problem, 500, tolerance).unwrap();
        println!(
            "box-constrained quadratic, {:?}: {} iterations, {} evaluations, {:?}",
            options.method, m.state.iteration, m.state.evaluations, m.termination
        );
        assert_eq!(m.termination, Termination::Converged);
        let x = &m.state.x;
        for i in 0..10 {
            if BOX_MULTIPLIER[i] != 0.0 {
                // Active components sit exactly on their bound.
                assert_eq!(x[i], BOX_SOLUTION[i], "{:?}: x[{i}] {x:?}", options.method);
            } else {
                assert!((x[i] - BOX_SOLUTION[i]).abs() < 1e-9, "{:?}: x[{i}] {x:?}", options.method);
                assert!(x[i] > 0.0 && x[i] < 1.0);
            }
            // KKT: the gradient is the multiplier.
            assert!((m.state.gradient[i] - BOX_MULTIPLIER[i]).abs() < 1e-9);
        }
        assert_eq!(m.reports.last().unwrap().active, 5);
        for r in &m.reports {
            assert_eq!(r.acceptance, Acceptance::SufficientDecrease);
        }
    }
}

#[test]
fn fixed_parameters_do_not_move() {
    // lower == upper fixes a parameter; a one-sided bound leaves the other
    // side open.
    let bounds = Bounds::new(vec![-1.2, f64::NEG_INFINITY], vec![-1.2, 0.5]).unwrap();
    let options = Options::lbfgs(5).with_bounds(bounds);
    let m = minimize(&options, vec![-1.2, -1.0], &mut Rosenbrock, 100, 1e-9).unwrap();
    assert!(m.state.iteration > 0);
    assert_eq!(m.state.x[0], -1.2);
    // With x fixed at −1.2 the minimum over y ≤ 0.5 is at the bound 0.5
    // (the free minimum is y = 1.44).
    assert_eq!(m.state.x[1], 0.5);
    assert!(matches!(m.termination, Termination::Converged | Termination::Stationary));
}

/// A state copied through its bits, as writing it to a file and reading it
/// back does.
fn save_and_load(state: &State) -> State {
    let copy = |v: &Vec<f64>| v.iter().map(|x| f64::from_bits(x.to_bits())).collect::<Vec<f64>>();
    State {
        iteration: state.iteration,
        x: copy(&state.x),
        value: f64::from_bits(state.value.to_bits()),
        gradient: copy(&state.gradient),
        evaluations: state.evaluations,
        history_s: state.history_s.iter().map(copy).collect(),
        history_y: state.history_y.iter().map(copy).collect(),
        previous_direction: copy(&state.previous_direction),
        previous_gradient: copy(&state.previous_gradient),
        last_step: f64::from_bits(state.last_step.to_bits()),
    }
}

#[test]
fn resume_is_bitwise_identical() {
    // x ≤ 0.9 cuts off the minimum; the start is on the bound y = 1.
    let bounds = Bounds::new(vec![-1.5, -1.0], vec![0.9, 1.0]).unwrap();
    for options in [
        Options::lbfgs(3),
        Options::conjugate_gradient(),
        Options::steepest_descent(),
        Options::lbfgs(3).with_bounds(bounds.clone()),
        Options::conjugate_gradient().with_bounds(bounds),
    ] {
        let mut straight = State::new(vec![-1.2, 1.0], &mut Rosenbrock).unwrap();
        let mut reports = Vec::new();
        for _ in 0..10 {
            reports.push(iterate(&options, &mut straight, &mut Rosenbrock).unwrap());
        }
        let mut first = State::new(vec![-1.2, 1.0], &mut Rosenbrock).unwrap();
        for _ in 0..4 {
            iterate(&options, &mut first, &mut Rosenbrock).unwrap();
        }
        // "Kill" the run: only the stored state survives.
        let mut resumed = save_and_load(&first);
        drop(first);
        let mut resumed_reports = Vec::new();
        for _ in 0..6 {
            resumed_reports.push(iterate(&options, &mut resumed, &mut Rosenbrock).unwrap());
        }
        assert_eq!(resumed.x, straight.x, "{:?}", options.method);
        assert_eq!(resumed, straight);
        assert_eq!(resumed_reports[..], reports[4..]);
        assert_eq!(straight.iteration, 10);
        if let Method::Lbfgs { memory } = options.method {
            assert!(straight.history_s.len() <= memory && !straight.history_s.is_empty());
        }
    }
}

#[test]
fn objective_errors_leave_the_state_unchanged() {
    for options in [
        Options::lbfgs(5),
        Options::conjugate_gradient(),
        Options::steepest_descent(),
        Options::lbfgs(5).with_bounds(Bounds::uniform(2, -2.0, 2.0).unwrap()),
    ] {
        // Two good iterations, then the solver starts failing mid line
        // search.
        let mut objective = Failing { inner: Rosenbrock, calls: 0, fail_at: usize::MAX };
        let mut state = State::new(vec![-1.2, 1.0], &mut objective).unwrap();
        for _ in 0..2 {
            iterate(&options, &mut state, &mut objective).unwrap();
        }
        let before = state.clone();
        objective.fail_at = objective.calls;
        let error = iterate(&options, &mut state, &mut objective).unwrap_err();
        assert_eq!(error, OptimError::Objective(format!("solver crashed at call {}", objective.fail_at)));
        assert_eq!(state, before);
        assert!(error.to_string().contains("solver crashed"));
        // A failure at any later trial also leaves the state alone.
        for k in 1..4 {
            let mut state = before.clone();
            objective.fail_at = objective.calls + k;
            match iterate(&options, &mut state, &mut objective) {
                Err(error) => {
                    assert!(matches!(error, OptimError::Objective(_)));
                    assert_eq!(state, before);
                }
                Ok(report) => assert!(report.evaluations <= k),
            }
        }
    }
    // The first evaluation failing: no state at all.
    let mut objective = Failing { inner: Rosenbrock, calls: 0, fail_at: 0 };
    assert!(matches!(State::new(vec![0.0, 0.0], &mut objective), Err(OptimError::Objective(_))));
}

/// Rosenbrock with the gradient's sign flipped: no direction the optimiser
/// believes in decreases the objective.
struct Lying;

impl Objective for Lying {
    type Error = Infallible;
    fn evaluate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), Infallible> {
        let (f, g) = Rosenbrock.evaluate(x)?;
        Ok((f, g.iter().map(|v| -v).collect()))
    }
}

#[test]
fn failed_line_search_resets_lbfgs_then_reports_no_decrease() {
    let options = Options::lbfgs(5);
    // Build some memory on the true objective, then switch to the lying one.
    let mut state = State::new(vec![-1.2, 1.0], &mut Rosenbrock).unwrap();
    for _ in 0..3 {
        iterate(&options, &mut state, &mut Rosenbrock).unwrap();
    }
    state.gradient.iter_mut().for_each(|v| *v = -*v);
    state.history_y.iter_mut().flatten().for_each(|v| *v = -*v);
    state.history_s.iter_mut().flatten().for_each(|v| *v = -*v);
    let before = state.clone();
    let error = iterate(&options, &mut state, &mut Lying).unwrap_err();
    // Two full line searches: the L-BFGS one and the steepest-descent retry.
    assert_eq!(error, OptimError::LineSearchFailed { evaluations: 2 * options.max_evaluations_per_iteration });
    assert_eq!(state, before);
    let m = minimize(&options, vec![-1.2, 1.0], &mut Lying, 10, 1e-8).unwrap();
    assert_eq!(m.termination, Termination::NoDecrease);
    assert_eq!(m.state.iteration, 0);
}

#[test]
fn memory_reset_recovers() {
    // A stale memory pointing the wrong way (as after a change of objective,
    // e.g. a new frequency band): the first search fails, the reset one
    // succeeds and the memory restarts from the new pair.
    let options = Options::lbfgs(5);
    let mut state = State::new(vec![-1.2, 1.0], &mut Rosenbrock).unwrap();
    state.history_s = vec![vec![1.0, 0.0]];
    state.history_y = vec![vec![1e-30, 0.0]];
    let report = iterate(&options, &mut state, &mut Rosenbrock).unwrap();
    println!("memory reset: {} evaluations, restart {:?}", report.evaluations, report.restart);
    assert_eq!(report.restart, Some(Restart::MemoryReset));
    assert!(report.value < report.previous_value);
    assert!(state.history_s.len() <= 1);
}

#[test]
fn stationary_point_and_invalid_input() {
    let mut state = State::new(vec![1.0, 1.0], &mut Rosenbrock).unwrap();
    let before = state.clone();
    assert_eq!(iterate(&Options::default(), &mut state, &mut Rosenbrock).unwrap_err(), OptimError::NoDescentDirection);
    assert_eq!(state, before);
    // (A negative tolerance is never met, so the zero gradient is reported by
    // `iterate`.)
    let m = minimize(&Options::default(), vec![1.0, 1.0], &mut Rosenbrock, 10, -1.0).unwrap();
    assert_eq!(m.termination, Termination::Stationary);

    // A state outside the bounds, a corrupted state, bad options.
    let mut state = State::new(vec![-1.2, 1.0], &mut Rosenbrock).unwrap();
    let boxed = Options::default().with_bounds(Bounds::uniform(2, 0.0, 1.0).unwrap());
    assert!(matches!(iterate(&boxed, &mut state, &mut Rosenbrock), Err(OptimError::Invalid(_))));
    let mut broken = state.clone();
    broken.history_s.push(vec![1.0, 2.0]);
    assert!(matches!(iterate(&Options::default(), &mut broken, &mut Rosenbrock), Err(OptimError::Invalid(_))));
    let bad = Options { c2: 2.0, ..Options::default() };
    assert!(matches!(iterate(&bad, &mut state, &mut Rosenbrock), Err(OptimError::Invalid(_))));
}

#[test]
fn non_finite_trials_shorten_the_step() {
    /// Rosenbrock that "goes unstable" (returns NaN) for x₀ > 1.5.
    struct Unstable;
    impl Objective for Unstable {
        type Error = Infallible;
        fn evaluate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), Infallible> {
            if x[0] > 1.5 {
                return Ok((f64::NAN, vec![f64::NAN; 2]));
            }
            Rosenbrock.evaluate(x)
        }
    }
    for options in [
        Options::lbfgs(5).with_first_step(FirstStep::Unit),
        Options::steepest_descent().with_first_step(FirstStep::Unit),
    ] {
        let mut state = State::new(vec![-1.2, 1.0], &mut Unstable).unwrap();
        let report = iterate(&options, &mut state, &mut Unstable).unwrap();
        // The unit steepest-descent step jumps to x₀ ≈ 214: NaN.
        assert!(report.trials[0].value.is_nan());
        assert!(report.value < report.previous_value && report.value.is_finite());
    }
}
