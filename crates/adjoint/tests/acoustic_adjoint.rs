//! The acoustic adjoint is the exact transpose of the discrete forward map:
//! dot-product tests (f64, relative error ≤ 1e-12) for every boundary and
//! order, 1D and 2D, and a Taylor test of the gradient (second-order
//! remainder with slope 2).

use pdeinv_adjoint::verify::{dot_product_test, pseudo_random, taylor_slopes, taylor_test};
use pdeinv_adjoint::{Residuals, Schedule, gradient, misfit};
use pdeinv_forward::acoustic::{AcousticConfig, AcousticModel, AcousticShot, Boundary};
use pdeinv_forward::wavelet::ricker;
use pdeinv_forward::{AdjointPropagator, Propagator, record};
use pdeinv_grid::{Grid, PointWeights};

mod common;
use common::Case;

impl Case {
    fn dot_product(&self, seed: u64) -> f64 {
        let model = AcousticModel::<f64>::new(self.config(), &self.velocity(1.0)).unwrap();
        let (source, receivers) = self.acquisition();
        let wavelet = ricker(15.0, 1.0e-3, self.nt, None);
        let shot = model.shot(&source, &wavelet, &receivers).unwrap();
        let dm = pseudo_random(seed, self.grid.len());
        let dd = pseudo_random(seed + 1, self.nt * shot.channels());
        let test = dot_product_test(&shot, &dm, &dd);
        assert!(test.forward.abs() > 1e-12, "degenerate test: {test:?}");
        test.relative_error()
    }
}

fn case_2d(boundary: Boundary, order: usize, free_surface: bool) -> Case {
    Case { grid: Grid::new_2d(28, 34, 10.0, 10.0).unwrap(), order, boundary, free_surface, nt: 120 }
}

/// Assert a dot-product test passes to 1e-12 and return its error.
fn assert_exact(name: &str, error: f64) {
    eprintln!("dot-product test {name}: relative error {error:.2e}");
    assert!(error <= 1e-12, "{name}: relative error {error:.3e} > 1e-12");
}

#[test]
fn dot_product_2d_cpml_every_order() {
    for order in [2, 4, 8] {
        assert_exact(
            &format!("2D CPML order {order}"),
            case_2d(Boundary::Cpml { width: 6 }, order, false).dot_product(order as u64),
        );
    }
}

#[test]
fn dot_product_2d_sponge_and_free_surface() {
    assert_exact("2D sponge", case_2d(Boundary::Sponge { width: 6 }, 4, false).dot_product(11));
    assert_exact("2D CPML + free surface", case_2d(Boundary::Cpml { width: 6 }, 8, true).dot_product(12));
    assert_exact("2D sponge + free surface", case_2d(Boundary::Sponge { width: 6 }, 4, true).dot_product(13));
}

/// A grid tall enough that the adjoint sweep runs in several blocks of rows
/// (each with its own ring of `q` rows), with pairs and single rows at the
/// block edges.
#[test]
fn dot_product_2d_tall_grid_spans_several_row_blocks() {
    for (boundary, free_surface, seed) in [
        (Boundary::Cpml { width: 6 }, false, 31),
        (Boundary::Cpml { width: 5 }, true, 32),
        (Boundary::Sponge { width: 7 }, false, 33),
    ] {
        let case = Case { grid: Grid::new_2d(151, 20, 10.0, 10.0).unwrap(), order: 8, boundary, free_surface, nt: 90 };
        assert_exact(&format!("2D tall {boundary:?} free surface {free_surface}"), case.dot_product(seed));
    }
}

#[test]
fn dot_product_1d() {
    let case = Case {
        grid: Grid::new_1d(60, 10.0).unwrap(),
        order: 8,
        boundary: Boundary::Cpml { width: 8 },
        free_surface: false,
        nt: 200,
    };
    assert_exact("1D CPML order 8", case.dot_product(21));
    let case = Case { boundary: Boundary::Sponge { width: 8 }, order: 4, ..case };
    assert_exact("1D sponge order 4", case.dot_product(22));
}

/// Observed data in a "true" model and the misfit of any model against it.
struct Inversion {
    config: AcousticConfig,
    source: PointWeights,
    receivers: Vec<PointWeights>,
    wavelet: Vec<f64>,
    observed: Vec<f64>,
}

impl Inversion {
    fn new(case: &Case) -> Self {
        let config = case.config();
        let (source, receivers) = case.acquisition();
        let wavelet = ricker(15.0, config.dt, config.nt, None);
        let truth: Vec<f64> =
            case.velocity(1.0).iter().enumerate().map(|(i, v)| v + if i % 7 == 0 { 60.0 } else { 0.0 }).collect();
        let model = AcousticModel::<f64>::new(config.clone(), &truth).unwrap();
        let observed = record(&model.shot(&source, &wavelet, &receivers).unwrap(), |_| {});
        Inversion { config, source, receivers, wavelet, observed }
    }

    fn with_shot<R>(&self, vp: &[f64], f: impl FnOnce(&AcousticShot<'_, f64>) -> R) -> R {
        let model = AcousticModel::<f64>::new(self.config.clone(), vp).unwrap();
        let shot = model.shot(&self.source, &self.wavelet, &self.receivers).unwrap();
        f(&shot)
    }
}

/// Pairs of numbers, one per halving of the perturbation.
type PerHalving = Vec<(f64, f64)>;

/// Taylor test of the misfit at the smooth model, with a random
/// perturbation, for the CPML velocity given: `(h, second-order remainder)`
/// per halving and the `(first, second)`-order slopes.
fn taylor_with(case: &Case, cpml_velocity: Option<f64>) -> (PerHalving, PerHalving) {
    let mut inversion = Inversion::new(case);
    inversion.config.cpml_velocity = cpml_velocity;
    let m0 = case.velocity(1.0);
    let run = inversion.with_shot(&m0, |shot| {
        gradient(shot, Residuals::Observed(&inversion.observed), &Schedule::store_all(case.nt - 1)).unwrap()
    });
    assert!((run.misfit - misfit_direct(&inversion, &m0)).abs() <= 1e-12 * run.misfit);
    let dm: Vec<f64> = pseudo_random(5, m0.len()).iter().map(|r| 20.0 * r).collect();
    let rows = taylor_test(
        |m| inversion.with_shot(m, |shot| misfit(shot, &inversion.observed)),
        &m0,
        &run.gradient,
        &dm,
        0.125,
        9,
    );
    let slopes = taylor_slopes(&rows);
    for (row, slope) in rows.iter().zip(std::iter::once(&(f64::NAN, f64::NAN)).chain(&slopes)) {
        eprintln!(
            "CPML velocity {cpml_velocity:?}: h {:.4e}  first {:.4e} (slope {:.3})  second {:.4e} (slope {:.3})",
            row.h, row.first_order, slope.0, row.second_order, slope.1
        );
    }
    (rows.iter().map(|r| (r.h, r.second_order)).collect(), slopes)
}

/// How far `remainder / h²` drifts from the largest `h` to the smallest
/// (0 for an exact gradient, up to higher-order terms).
fn curvature_drift(remainders: &[(f64, f64)]) -> f64 {
    let curvature = |&(h, r): &(f64, f64)| r / (h * h);
    (curvature(remainders.last().unwrap()) / curvature(&remainders[0]) - 1.0).abs()
}

#[test]
fn taylor_test_has_second_order_remainder() {
    let case = Case { nt: 300, ..case_2d(Boundary::Cpml { width: 6 }, 8, false) };
    // the layer tuned to a velocity that does not move with the model, as
    // `io::setup::acoustic` fixes it: the gradient is that of the misfit
    let fixed = case.velocity(1.0).iter().copied().fold(0.0, f64::max);
    let (remainders, slopes) = taylor_with(&case, Some(fixed));
    for (first, second) in slopes {
        assert!((first - 1.0).abs() < 0.1, "first-order slope {first}");
        assert!((second - 2.0).abs() < 0.1, "second-order slope {second}");
    }
    let exact = curvature_drift(&remainders);
    assert!(exact < 1e-3, "remainder / h² drifts by {exact:.2e}");
    // a layer tuned to each model's own largest velocity changes with the
    // model, which the gradient does not see: the remainder picks up a
    // first-order part as h falls
    let moving = curvature_drift(&taylor_with(&case, None).0);
    eprintln!("remainder / h² drift: {exact:.2e} with a fixed layer, {moving:.2e} with a moving one");
    assert!(moving > 2e-2, "remainder / h² drifts by only {moving:.2e}");
}

fn misfit_direct(inversion: &Inversion, vp: &[f64]) -> f64 {
    inversion.with_shot(vp, |shot| misfit(shot, &inversion.observed))
}

#[test]
fn every_recompute_strategy_gives_the_store_all_gradient_bitwise() {
    // under a sponge a state's u^{n−1} is tapered: no reversal is served
    // from the state at hand there, and every step runs
    for (boundary, free_surface, serves) in
        [(Boundary::Cpml { width: 6 }, true, true), (Boundary::Sponge { width: 6 }, false, false)]
    {
        every_recompute_strategy_matches(case_2d(boundary, 4, free_surface), serves);
    }
}

fn every_recompute_strategy_matches(case: Case, serves: bool) {
    let inversion = Inversion::new(&case);
    let m0 = case.velocity(1.0);
    let steps = case.nt - 1;
    inversion.with_shot(&m0, |shot| {
        let run = |schedule: Schedule| gradient(shot, Residuals::Observed(&inversion.observed), &schedule).unwrap();
        let reference = run(Schedule::store_all(steps));
        assert_eq!(reference.recomputed_steps, 0);
        for (schedule, binomial) in [
            (Schedule::periodic(steps, 10), false),
            (Schedule::periodic(steps, 37), false),
            (Schedule::binomial(steps, 3), true),
            (Schedule::binomial(steps, 12), true),
        ] {
            let peak_bytes = schedule.peak_ram_bytes(shot.state_bytes(), shot.adjoint_state_bytes());
            let forward_steps = schedule.forward_steps();
            let other = run(schedule);
            // every step of the schedule runs, or is left out where the
            // state at hand holds `u^{n−1}` for the next reversal (no sponge
            // here): binomial schedules restore a checkpoint only to reach
            // the step before the one just reversed many times
            assert_eq!(other.forward_steps + other.skipped_steps, forward_steps);
            assert!(if serves { !binomial || other.skipped_steps > 0 } else { other.skipped_steps == 0 });
            // reversals run two at a time where a state serves both (not under a sponge)
            assert_eq!(other.fused_pairs > 0, serves);
            assert_eq!(other.misfit.to_bits(), reference.misfit.to_bits());
            assert!(other.gradient.iter().zip(&reference.gradient).all(|(a, b)| a.to_bits() == b.to_bits()));
            // memory accounting: the slots the schedule fills, each a full
            // state or (read by reversals only) the forward field alone
            assert_eq!(other.peak_checkpoint_bytes, peak_bytes);
            assert!(other.recomputed_steps > 0);
        }
        assert_eq!(reference.peak_checkpoint_bytes, steps * shot.adjoint_state_bytes());
        // store-all reverses every pair of steps from the two slots in one call
        assert_eq!(reference.fused_pairs, if serves { steps / 2 } else { 0 });
        // and the pairs give the gradient of the reversals one by one
        let one_by_one = reverse_one_by_one(shot, &inversion.observed);
        assert!(reference.gradient.iter().zip(&one_by_one).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(2 * shot.adjoint_state_bytes() <= shot.state_bytes());
    });
}

/// The least-squares gradient with every state kept and every reversal
/// run by itself (`step_adjoint`, then `inject_residual`), no driver.
fn reverse_one_by_one(shot: &AcousticShot<'_, f64>, observed: &[f64]) -> Vec<f64> {
    let (nt, channels) = (shot.nt(), shot.channels());
    let mut states = vec![shot.initial_state()];
    for n in 0..nt - 1 {
        let mut next = states[n].clone();
        shot.step(n, &mut next);
        states.push(next);
    }
    let residual = |n: usize| -> Vec<f64> {
        let mut out = vec![0.0; channels];
        shot.observe(n, &states[n], &mut out);
        out.iter().zip(&observed[n * channels..]).map(|(o, d)| o - d).collect()
    };
    let mut adjoint = shot.initial_adjoint();
    let mut gradient = vec![0.0; shot.parameters()];
    shot.inject_residual(nt - 1, &states[nt - 1], &residual(nt - 1), &mut adjoint);
    for n in (0..nt - 1).rev() {
        shot.step_adjoint(n, &states[n], &mut adjoint, &mut gradient);
        shot.inject_residual(n, &states[n], &residual(n), &mut adjoint);
    }
    shot.finish_gradient(&mut adjoint, &mut gradient);
    gradient
}

#[test]
fn f32_gradient_agrees_with_f64_to_single_precision() {
    let case = case_2d(Boundary::Cpml { width: 6 }, 8, false);
    let inversion = Inversion::new(&case);
    let m0 = case.velocity(1.0);
    let double = inversion.with_shot(&m0, |shot| {
        gradient(shot, Residuals::Observed(&inversion.observed), &Schedule::binomial(case.nt - 1, 5)).unwrap()
    });
    let model = AcousticModel::<f32>::new(inversion.config.clone(), &m0).unwrap();
    let shot = model.shot(&inversion.source, &inversion.wavelet, &inversion.receivers).unwrap();
    let observed: Vec<f32> = inversion.observed.iter().map(|&v| v as f32).collect();
    let single = gradient(&shot, Residuals::Observed(&observed), &Schedule::binomial(case.nt - 1, 5)).unwrap();
    let peak = double.gradient.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    let diff = single.gradient.iter().zip(&double.gradient).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    eprintln!("f32 vs f64 gradient: max difference / max |g| = {:.2e}", diff / peak);
    assert!(diff / peak < 1e-3, "{}", diff / peak);
}
