//! The diffusion adjoint is the exact transpose of the discrete forward map,
//! implicit solves included: dot-product tests (f64, relative error ≤ 1e-12)
//! in 1D and 2D for every scheme with Dirichlet, Neumann and mixed sides;
//! Taylor tests of the gradient in `κ` and in `log κ` (second-order
//! remainder with slope 2); checkpointed gradients (periodic, binomial)
//! bitwise equal to store-all.

use pdeinv_adjoint::verify::{dot_product_test, pseudo_random, taylor_slopes, taylor_test};
use pdeinv_adjoint::{Residuals, Schedule, gradient, misfit};
use pdeinv_forward::diffusion::{
    Boundaries, Boundary, DiffusionConfig, DiffusionModel, DiffusionShot, Scheme, SourceTimeFunctions,
    explicit_dt_limit, log_kappa_gradient,
};
use pdeinv_forward::{AdjointPropagator, Propagator, record};
use pdeinv_grid::{Grid, Interpolation, PointWeights, point_weights};

/// A small problem: grid, scheme, sides, time samples.
#[derive(Clone)]
struct Case {
    grid: Grid,
    scheme: Scheme,
    boundaries: Boundaries,
    nt: usize,
}

impl Case {
    fn new(dimension: usize, scheme: Scheme, boundaries: Boundaries) -> Self {
        let grid = if dimension == 1 {
            Grid::new_1d(40, 1.0 / 40.0).unwrap()
        } else {
            Grid::new_2d(12, 14, 1.0 / 12.0, 1.0 / 14.0).unwrap()
        };
        Case { grid, scheme, boundaries, nt: 40 }
    }

    /// A smoothly varying diffusivity around 1.
    fn kappa(&self) -> Vec<f64> {
        let g = &self.grid;
        (0..g.len())
            .map(|i| 1.0 + 0.3 * ((i % g.nx) as f64 * 0.4).sin() + 0.2 * ((i / g.nx) as f64 * 0.7).cos())
            .collect()
    }

    /// Explicit: 90 % of the stability limit for the largest model the tests
    /// use; implicit: a step well beyond it (stiff).
    fn config(&self) -> DiffusionConfig {
        let limit = explicit_dt_limit(&self.grid, self.boundaries, &vec![1.8; self.grid.len()]).unwrap();
        let dt = if self.scheme == Scheme::Explicit { 0.9 * limit } else { 20.0 * limit };
        DiffusionConfig::new(self.grid.clone(), self.scheme, self.boundaries, dt, self.nt)
    }

    /// Two off-grid sources with their own time functions and five
    /// off-grid receivers (bilinear interpolation is part of the test).
    fn acquisition(&self) -> (Vec<PointWeights>, Vec<Vec<f64>>, Vec<PointWeights>) {
        let g = &self.grid;
        let (z_max, x_max) = g.coordinates(g.nz - 1, g.nx - 1);
        let at = |fz: f64, fx: f64| point_weights(g, "point", fz * z_max, fx * x_max, Interpolation::Bilinear).unwrap();
        let sources = vec![at(0.37, 0.31), at(0.71, 0.64)];
        let series = (0..2)
            .map(|s| (0..self.nt).map(|n| (-(n as f64 - 6.0 - 5.0 * s as f64).powi(2) / 8.0).exp()).collect())
            .collect();
        let receivers = (0..5).map(|r| at(0.15 + 0.17 * r as f64, 0.83 - 0.13 * r as f64)).collect();
        (sources, series, receivers)
    }

    fn model(&self, kappa: &[f64]) -> DiffusionModel {
        DiffusionModel::new(self.config(), kappa).unwrap()
    }

    fn shot<'a>(&self, model: &'a DiffusionModel, initial: Option<&[f64]>) -> DiffusionShot<'a> {
        let (sources, series, receivers) = self.acquisition();
        let shot = model.shot(&sources, SourceTimeFunctions::PerSource(&series), &receivers).unwrap();
        match initial {
            Some(u0) => shot.with_initial_condition(u0).unwrap(),
            None => shot,
        }
    }

    fn dot_product(&self, seed: u64) -> f64 {
        let model = self.model(&self.kappa());
        let shot = self.shot(&model, None);
        let dm = pseudo_random(seed, self.grid.len());
        let dd = pseudo_random(seed + 1, self.nt * shot.channels());
        let test = dot_product_test(&shot, &dm, &dd);
        assert!(test.forward.abs() > 1e-12, "degenerate test: {test:?}");
        test.relative_error()
    }
}

/// Assert a dot-product test passes to 1e-12 and return its error.
fn assert_exact(name: &str, error: f64) {
    eprintln!("dot-product test {name}: relative error {error:.2e}");
    assert!(error <= 1e-12, "{name}: relative error {error:.3e} > 1e-12");
}

const SCHEMES: [Scheme; 3] = [Scheme::Explicit, Scheme::BackwardEuler, Scheme::CrankNicolson];

#[test]
fn dot_product_1d_every_scheme_and_boundary() {
    for scheme in SCHEMES {
        for boundary in [Boundary::Dirichlet, Boundary::Neumann] {
            let case = Case::new(1, scheme, Boundaries::all(boundary));
            assert_exact(&format!("1D {scheme:?} {boundary:?}"), case.dot_product(3));
        }
    }
}

#[test]
fn dot_product_2d_every_scheme_and_boundary() {
    let mixed = Boundaries {
        z_min: Boundary::Neumann,
        z_max: Boundary::Dirichlet,
        x_min: Boundary::Dirichlet,
        x_max: Boundary::Neumann,
    };
    for scheme in SCHEMES {
        for (label, boundaries) in [
            ("Dirichlet", Boundaries::all(Boundary::Dirichlet)),
            ("Neumann", Boundaries::all(Boundary::Neumann)),
            ("mixed", mixed),
        ] {
            let case = Case::new(2, scheme, boundaries);
            assert_exact(&format!("2D {scheme:?} {label}"), case.dot_product(7));
        }
    }
}

/// `J dm` with the tangent started from zero (the initial condition does
/// not depend on `κ`).
fn linearized_from_zero(p: &DiffusionShot<'_>, dm: &[f64]) -> Vec<f64> {
    let (nt, channels) = (p.nt(), p.channels());
    let mut data = vec![0.0; nt * channels];
    let mut state = p.initial_state();
    let mut tangent = p.initial_state();
    tangent.u.fill(0.0);
    for n in 0..nt {
        p.observe(n, &tangent, &mut data[n * channels..(n + 1) * channels]);
        if n + 1 < nt {
            p.step_linearized(n, &state, &mut tangent, dm);
            p.step(n, &mut state);
        }
    }
    data
}

#[test]
fn dot_product_with_an_initial_condition() {
    for dimension in [1, 2] {
        for scheme in SCHEMES {
            let case = Case::new(dimension, scheme, Boundaries::all(Boundary::Dirichlet));
            let model = case.model(&case.kappa());
            let u0: Vec<f64> = pseudo_random(41, case.grid.len()).iter().map(|v| 1.0 + v).collect();
            let shot = case.shot(&model, Some(&u0));
            let dm = pseudo_random(42, case.grid.len());
            let dd = pseudo_random(43, case.nt * shot.channels());
            let jdm = linearized_from_zero(&shot, &dm);
            let forward: f64 = jdm.iter().zip(&dd).map(|(a, b)| a * b).sum();
            let run = gradient(&shot, Residuals::Given(&dd), &Schedule::store_all(case.nt - 1)).unwrap();
            let adjoint: f64 = run.gradient.iter().zip(&dm).map(|(a, b)| a * b).sum();
            let error = (forward - adjoint).abs() / forward.abs().max(adjoint.abs());
            assert!(forward.abs() > 1e-12);
            assert_exact(&format!("{dimension}D {scheme:?} with an initial condition"), error);
        }
    }
}

/// Observed data in a "true" model and the misfit of any model against it.
struct Inversion {
    case: Case,
    initial: Vec<f64>,
    observed: Vec<f64>,
}

impl Inversion {
    fn new(case: Case) -> Self {
        let truth: Vec<f64> =
            case.kappa().iter().enumerate().map(|(i, k)| k * if i % 5 == 0 { 1.3 } else { 1.0 }).collect();
        let initial: Vec<f64> = pseudo_random(9, case.grid.len()).iter().map(|v| 0.5 + 0.5 * v).collect();
        let model = case.model(&truth);
        let observed = record(&case.shot(&model, Some(&initial)), |_| {});
        Inversion { case, initial, observed }
    }

    fn with_shot<R>(&self, kappa: &[f64], f: impl FnOnce(&DiffusionShot<'_>) -> R) -> R {
        let model = self.case.model(kappa);
        f(&self.case.shot(&model, Some(&self.initial)))
    }

    fn misfit(&self, kappa: &[f64]) -> f64 {
        self.with_shot(kappa, |shot| misfit(shot, &self.observed))
    }

    fn gradient(&self, kappa: &[f64], schedule: Schedule) -> pdeinv_adjoint::GradientRun {
        self.with_shot(kappa, |shot| gradient(shot, Residuals::Observed(&self.observed), &schedule).unwrap())
    }
}

fn assert_taylor(name: &str, rows: &[pdeinv_adjoint::verify::TaylorRow]) {
    let slopes = taylor_slopes(rows);
    for (row, slope) in rows.iter().zip(std::iter::once(&(f64::NAN, f64::NAN)).chain(&slopes)) {
        eprintln!(
            "{name}: h {:.4e}  first {:.4e} (slope {:.3})  second {:.4e} (slope {:.3})",
            row.h, row.first_order, slope.0, row.second_order, slope.1
        );
    }
    assert!(slopes.len() >= 4);
    for &(_, second) in &slopes {
        assert!((second - 2.0).abs() < 0.1, "{name}: second-order slope {second}");
    }
    // (the first-order column reaches slope 1 only once h |d²J| ≪ |<g, dm>|,
    // which for a random direction may need smaller steps; it is printed)
}

#[test]
fn taylor_test_in_kappa_has_second_order_remainder() {
    for (dimension, scheme, boundary) in
        [(2, Scheme::CrankNicolson, Boundary::Dirichlet), (1, Scheme::Explicit, Boundary::Neumann)]
    {
        let inversion = Inversion::new(Case::new(dimension, scheme, Boundaries::all(boundary)));
        let m0 = inversion.case.kappa();
        let run = inversion.gradient(&m0, Schedule::store_all(inversion.case.nt - 1));
        assert!((run.misfit - inversion.misfit(&m0)).abs() <= 1e-12 * run.misfit);
        let dm: Vec<f64> = pseudo_random(5, m0.len()).iter().map(|r| 0.2 * r).collect();
        let rows = taylor_test(|m| inversion.misfit(m), &m0, &run.gradient, &dm, 0.5, 6);
        assert_taylor(&format!("{dimension}D {scheme:?} {boundary:?}"), &rows);
    }
}

#[test]
fn taylor_test_in_log_kappa_has_second_order_remainder() {
    let inversion = Inversion::new(Case::new(1, Scheme::BackwardEuler, Boundaries::all(Boundary::Dirichlet)));
    let kappa = inversion.case.kappa();
    let m0: Vec<f64> = kappa.iter().map(|k| k.ln()).collect();
    let mut g = inversion.gradient(&kappa, Schedule::store_all(inversion.case.nt - 1)).gradient;
    log_kappa_gradient(&kappa, &mut g);
    let dm: Vec<f64> = pseudo_random(6, m0.len()).iter().map(|r| 0.2 * r).collect();
    let misfit_of_log = |m: &[f64]| inversion.misfit(&m.iter().map(|v| v.exp()).collect::<Vec<_>>());
    let rows = taylor_test(misfit_of_log, &m0, &g, &dm, 0.5, 6);
    assert_taylor("1D backward Euler, log kappa", &rows);
}

#[test]
fn checkpointed_gradients_equal_store_all_bitwise() {
    for (dimension, scheme) in [(2, Scheme::CrankNicolson), (2, Scheme::BackwardEuler), (1, Scheme::Explicit)] {
        let inversion = Inversion::new(Case::new(dimension, scheme, Boundaries::all(Boundary::Dirichlet)));
        let m0 = inversion.case.kappa();
        let steps = inversion.case.nt - 1;
        let reference = inversion.gradient(&m0, Schedule::store_all(steps));
        assert_eq!(reference.recomputed_steps, 0);
        assert!(reference.gradient.iter().any(|&g| g != 0.0));
        for schedule in [
            Schedule::periodic(steps, 7),
            Schedule::periodic(steps, 13),
            Schedule::binomial(steps, 3),
            Schedule::binomial(steps, 6),
        ] {
            let other = inversion.gradient(&m0, schedule);
            assert!(other.recomputed_steps > 0);
            assert_eq!(other.misfit.to_bits(), reference.misfit.to_bits());
            assert!(
                other.gradient.iter().zip(&reference.gradient).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{dimension}D {scheme:?}: checkpointed gradient differs from store-all"
            );
        }
    }
}
