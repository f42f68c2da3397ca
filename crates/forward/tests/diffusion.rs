//! The diffusion solver converges at its design orders and conserves what
//! it must: manufactured solutions with variable `κ` (second order in
//! space), time refinement on a fixed grid (first order for backward Euler,
//! second for Crank-Nicolson), decaying sine modes against the exact
//! `exp(−κ k² t)` in 1D and 2D, conservation of `Σ u·V` with Neumann sides
//! (and growth by exactly the injected amount with a source), and an
//! explicit time step above the stability limit refused with the limit named.

use pdeinv_forward::diffusion::{
    Boundaries, Boundary, DiffusionConfig, DiffusionError, DiffusionModel, Scheme, SourceTimeFunctions,
    explicit_dt_limit, log_kappa_gradient,
};
use pdeinv_forward::{Parallelism, Propagator, record};
use pdeinv_grid::{Grid, Interpolation, PointWeights, point_weights};
use std::f64::consts::PI;

/// A 1D grid of `n` cells covering `[0, 1]`: points at the cell centres.
fn unit_grid_1d(n: usize) -> Grid {
    let h = 1.0 / n as f64;
    Grid { dimension: 1, nz: 1, nx: n, dz: h, dx: h, z0: 0.0, x0: 0.5 * h }
}

/// A 2D grid of `n × n` cells covering the unit square.
fn unit_grid_2d(n: usize) -> Grid {
    let h = 1.0 / n as f64;
    Grid { dimension: 2, nz: n, nx: n, dz: h, dx: h, z0: 0.5 * h, x0: 0.5 * h }
}

/// Cell-centre coordinates `(z, x)` of every cell, flat.
fn centres(grid: &Grid) -> Vec<(f64, f64)> {
    (0..grid.nz).flat_map(|iz| (0..grid.nx).map(move |ix| (iz, ix))).map(|(iz, ix)| grid.coordinates(iz, ix)).collect()
}

/// Run `config` on `kappa` from `u0` with a distributed source `f(z, x, t)`
/// (one point source per cell centre) and return `u` at the last sample.
fn solve(config: DiffusionConfig, kappa: &[f64], u0: &[f64], f: Option<&dyn Fn(f64, f64, f64) -> f64>) -> Vec<f64> {
    let grid = config.grid.clone();
    let (nt, dt) = (config.nt, config.dt);
    let model = DiffusionModel::new(config, kappa).unwrap();
    let (sources, series): (Vec<PointWeights>, Vec<Vec<f64>>) = match f {
        None => (Vec::new(), Vec::new()),
        Some(f) => centres(&grid)
            .into_iter()
            .map(|(z, x)| {
                let weights = point_weights(&grid, "source", z, x, Interpolation::Bilinear).unwrap();
                (weights, (0..nt).map(|n| f(z, x, n as f64 * dt) * grid.cell_volume()).collect())
            })
            .unzip(),
    };
    let shot = model.shot(&sources, SourceTimeFunctions::PerSource(&series), &[]).unwrap();
    let shot = shot.with_initial_condition(u0).unwrap();
    let mut state = shot.initial_state();
    for n in 0..nt - 1 {
        shot.step(n, &mut state);
    }
    state.u
}

fn max_error(u: &[f64], exact: impl Iterator<Item = f64>) -> f64 {
    u.iter().zip(exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
}

/// `log2(e_k / e_{k+1})` for successive halvings.
fn orders(errors: &[f64]) -> Vec<f64> {
    errors.windows(2).map(|w| (w[0] / w[1]).log2()).collect()
}

fn assert_orders(name: &str, errors: &[f64], expected: f64, tolerance: f64) {
    let observed = orders(errors);
    let shown: Vec<String> = errors.iter().map(|e| format!("{e:.3e}")).collect();
    eprintln!("{name}: errors [{}], observed orders {observed:.3?}", shown.join(", "));
    for order in observed {
        assert!((order - expected).abs() < tolerance, "{name}: observed order {order:.3}, expected {expected}");
    }
}

/// `u = e^{−t} sin(πx)` on `[0, 1]` with `κ = 1 + 0.5 sin(2x + 0.3)`.
mod manufactured_1d {
    pub fn kappa(x: f64) -> f64 {
        1.0 + 0.5 * (2.0 * x + 0.3).sin()
    }
    pub fn u(x: f64, t: f64) -> f64 {
        (-t).exp() * (super::PI * x).sin()
    }
    /// `f = u_t − (κ u_x)_x`.
    pub fn f(x: f64, t: f64) -> f64 {
        let pi = super::PI;
        let dk = (2.0 * x + 0.3).cos();
        let e = (-t).exp();
        -e * (pi * x).sin() - e * (dk * pi * (pi * x).cos() - kappa(x) * pi * pi * (pi * x).sin())
    }
}

/// `u = e^{−t} sin(πz) sin(πx)` on the unit square with
/// `κ = 1 + 0.4 sin(2x + z)`.
mod manufactured_2d {
    pub fn kappa(z: f64, x: f64) -> f64 {
        1.0 + 0.4 * (2.0 * x + z).sin()
    }
    pub fn u(z: f64, x: f64, t: f64) -> f64 {
        (-t).exp() * (super::PI * z).sin() * (super::PI * x).sin()
    }
    /// `f = u_t − ∇·(κ∇u)`.
    pub fn f(z: f64, x: f64, t: f64) -> f64 {
        let pi = super::PI;
        let e = (-t).exp();
        let (sz, cz, sx, cx) = ((pi * z).sin(), (pi * z).cos(), (pi * x).sin(), (pi * x).cos());
        let c = (2.0 * x + z).cos();
        let (kx, kz) = (0.8 * c, 0.4 * c);
        let (ux, uz, lap) = (e * pi * sz * cx, e * pi * cz * sx, -2.0 * pi * pi * e * sz * sx);
        -e * sz * sx - (kx * ux + kz * uz + kappa(z, x) * lap)
    }
}

#[test]
fn manufactured_solution_is_second_order_in_space_1d() {
    let t_end: f64 = 0.2;
    let errors: Vec<f64> = [16, 32, 64, 128]
        .iter()
        .map(|&n| {
            let grid = unit_grid_1d(n);
            let xs: Vec<f64> = centres(&grid).iter().map(|c| c.1).collect();
            let kappa: Vec<f64> = xs.iter().map(|&x| manufactured_1d::kappa(x)).collect();
            let u0: Vec<f64> = xs.iter().map(|&x| manufactured_1d::u(x, 0.0)).collect();
            let dt = 2e-4;
            let nt = (t_end / dt).round() as usize + 1;
            let config =
                DiffusionConfig::new(grid, Scheme::CrankNicolson, Boundaries::all(Boundary::Dirichlet), dt, nt);
            let u = solve(config, &kappa, &u0, Some(&|_, x, t| manufactured_1d::f(x, t)));
            max_error(&u, xs.iter().map(|&x| manufactured_1d::u(x, t_end)))
        })
        .collect();
    assert_orders("1D manufactured, space (CN)", &errors, 2.0, 0.15);
}

#[test]
fn manufactured_solution_is_second_order_in_space_2d() {
    let t_end: f64 = 0.05;
    let errors: Vec<f64> = [8, 16, 32, 64]
        .iter()
        .map(|&n| {
            let grid = unit_grid_2d(n);
            let cells = centres(&grid);
            let kappa: Vec<f64> = cells.iter().map(|&(z, x)| manufactured_2d::kappa(z, x)).collect();
            let u0: Vec<f64> = cells.iter().map(|&(z, x)| manufactured_2d::u(z, x, 0.0)).collect();
            let dt = 5e-4;
            let nt = (t_end / dt).round() as usize + 1;
            let config =
                DiffusionConfig::new(grid, Scheme::CrankNicolson, Boundaries::all(Boundary::Dirichlet), dt, nt);
            let u = solve(config, &kappa, &u0, Some(&manufactured_2d::f));
            max_error(&u, cells.iter().map(|&(z, x)| manufactured_2d::u(z, x, t_end)))
        })
        .collect();
    assert_orders("2D manufactured, space (CN)", &errors, 2.0, 0.2);
}

/// Errors against a Crank-Nicolson reference at a much smaller `dt` on the
/// same grid (so only the time error is measured), for `u(0) = 0` and a
/// source `t² g(x)` that starts smoothly: with data compatible to second
/// order at `t = 0`, Crank-Nicolson shows no order reduction from the stiff
/// modes it does not damp.
fn time_errors(scheme: Scheme, steps: &[usize]) -> Vec<f64> {
    let t_end = 0.5;
    let grid = unit_grid_1d(200);
    let xs: Vec<f64> = centres(&grid).iter().map(|c| c.1).collect();
    let kappa: Vec<f64> = xs.iter().map(|&x| manufactured_1d::kappa(x)).collect();
    let u0 = vec![0.0; xs.len()];
    let source = |_: f64, x: f64, t: f64| 20.0 * t * t * (1.0 + x) * (PI * x).sin();
    let run = |scheme: Scheme, steps: usize| {
        let config = DiffusionConfig::new(
            grid.clone(),
            scheme,
            Boundaries::all(Boundary::Dirichlet),
            t_end / steps as f64,
            steps + 1,
        );
        solve(config, &kappa, &u0, Some(&source))
    };
    let reference = run(Scheme::CrankNicolson, 16 * steps[steps.len() - 1]);
    steps.iter().map(|&s| max_error(&run(scheme, s), reference.iter().copied())).collect()
}

#[test]
fn backward_euler_is_first_order_in_time() {
    assert_orders("backward Euler, time", &time_errors(Scheme::BackwardEuler, &[20, 40, 80, 160]), 1.0, 0.1);
}

#[test]
fn crank_nicolson_is_second_order_in_time() {
    assert_orders("Crank-Nicolson, time", &time_errors(Scheme::CrankNicolson, &[10, 20, 40, 80]), 2.0, 0.1);
}

#[test]
fn sine_modes_decay_at_the_continuous_rate() {
    let kappa0 = 0.7;
    let t_end: f64 = 0.1;
    // 1D: sin(2πx); the semi-discrete rate converges at second order
    let errors_1d: Vec<f64> = [16, 32, 64, 128]
        .iter()
        .map(|&n| {
            let grid = unit_grid_1d(n);
            let xs: Vec<f64> = centres(&grid).iter().map(|c| c.1).collect();
            let u0: Vec<f64> = xs.iter().map(|&x| (2.0 * PI * x).sin()).collect();
            let dt = 1e-4;
            let nt = (t_end / dt).round() as usize + 1;
            let config =
                DiffusionConfig::new(grid, Scheme::CrankNicolson, Boundaries::all(Boundary::Dirichlet), dt, nt);
            let u = solve(config, &vec![kappa0; n], &u0, None);
            let decay = (-kappa0 * 4.0 * PI * PI * t_end).exp();
            max_error(&u, u0.iter().map(|v| v * decay))
        })
        .collect();
    assert_orders("1D sine mode", &errors_1d, 2.0, 0.1);
    // 2D: sin(πz) sin(2πx) with Dirichlet sides decays as exp(−κ 5π² t)
    let errors_2d: Vec<f64> = [8, 16, 32, 64]
        .iter()
        .map(|&n| {
            let grid = unit_grid_2d(n);
            let cells = centres(&grid);
            let u0: Vec<f64> = cells.iter().map(|&(z, x)| (PI * z).sin() * (2.0 * PI * x).sin()).collect();
            let dt = 2e-4;
            let nt = (t_end / dt).round() as usize + 1;
            let config =
                DiffusionConfig::new(grid, Scheme::CrankNicolson, Boundaries::all(Boundary::Dirichlet), dt, nt);
            let u = solve(config, &vec![kappa0; n * n], &u0, None);
            let decay = (-kappa0 * 5.0 * PI * PI * t_end).exp();
            max_error(&u, u0.iter().map(|v| v * decay))
        })
        .collect();
    assert_orders("2D sine mode", &errors_2d, 2.0, 0.1);
    assert!(errors_2d[3] < 3e-3 * (-kappa0 * 5.0 * PI * PI * t_end).exp(), "{errors_2d:?}");
}

fn smooth_kappa(grid: &Grid) -> Vec<f64> {
    centres(grid).iter().map(|&(z, x)| 0.5 + 0.3 * (3.0 * x + 2.0 * z).sin().powi(2)).collect()
}

fn gaussian(grid: &Grid) -> Vec<f64> {
    let z_centre = if grid.dimension == 2 { 0.55 } else { 0.0 };
    centres(grid).iter().map(|&(z, x)| (-40.0 * ((x - 0.4).powi(2) + (z - z_centre).powi(2))).exp()).collect()
}

fn total(u: &[f64], grid: &Grid) -> f64 {
    u.iter().sum::<f64>() * grid.cell_volume()
}

/// A Neumann configuration with a stable `dt` for every scheme.
fn neumann_config(grid: &Grid, kappa: &[f64], scheme: Scheme, nt: usize) -> DiffusionConfig {
    let boundaries = Boundaries::all(Boundary::Neumann);
    let dt = 0.9 * explicit_dt_limit(grid, boundaries, kappa).unwrap();
    DiffusionConfig::new(grid.clone(), scheme, boundaries, dt, nt)
}

#[test]
fn neumann_sides_conserve_the_total() {
    for grid in [unit_grid_1d(50), unit_grid_2d(24)] {
        let kappa = smooth_kappa(&grid);
        let u0 = gaussian(&grid);
        for scheme in [Scheme::Explicit, Scheme::BackwardEuler, Scheme::CrankNicolson] {
            let config = neumann_config(&grid, &kappa, scheme, 201);
            let u = solve(config, &kappa, &u0, None);
            let (before, after) = (total(&u0, &grid), total(&u, &grid));
            let drift = (after - before).abs() / before;
            eprintln!("{}D {scheme:?}: total {before:.15} -> {after:.15}, relative drift {drift:.2e}", grid.dimension);
            assert!(drift < 1e-12, "{scheme:?}: drift {drift:e}");
            // and it did diffuse
            assert!(max_error(&u, u0.iter().copied()) > 0.05);
        }
    }
}

#[test]
fn a_source_adds_exactly_what_it_injects() {
    for grid in [unit_grid_1d(50), unit_grid_2d(24)] {
        let kappa = smooth_kappa(&grid);
        let u0 = gaussian(&grid);
        // off-grid: bilinear weights on 2 (1D) or 4 (2D) cells
        let source = point_weights(&grid, "source", 0.3137, 0.6071, Interpolation::Bilinear).unwrap();
        for scheme in [Scheme::Explicit, Scheme::BackwardEuler, Scheme::CrankNicolson] {
            let nt = 151;
            let config = neumann_config(&grid, &kappa, scheme, nt);
            let (dt, theta) = (config.dt, scheme.theta());
            let wavelet: Vec<f64> = (0..nt).map(|n| 2.0 + (0.05 * n as f64).sin()).collect();
            let model = DiffusionModel::new(config, &kappa).unwrap();
            let shot = model.shot(std::slice::from_ref(&source), SourceTimeFunctions::Shared(&wavelet), &[]).unwrap();
            let shot = shot.with_initial_condition(&u0).unwrap();
            let mut state = shot.initial_state();
            let mut injected = 0.0;
            for n in 0..nt - 1 {
                shot.step(n, &mut state);
                injected += dt * ((1.0 - theta) * wavelet[n] + theta * wavelet[n + 1]);
            }
            let expected = total(&u0, &grid) + injected;
            let error = (total(&state.u, &grid) - expected).abs() / expected;
            eprintln!("{}D {scheme:?}: injected {injected:.6}, relative error {error:.2e}", grid.dimension);
            assert!(error < 1e-12, "{scheme:?}: {error:e}");
        }
    }
}

#[test]
fn explicit_step_above_the_limit_is_refused_naming_it() {
    let grid = unit_grid_2d(20);
    let kappa = smooth_kappa(&grid);
    let boundaries = Boundaries::all(Boundary::Dirichlet);
    let limit = explicit_dt_limit(&grid, boundaries, &kappa).unwrap();
    let config = |dt| DiffusionConfig::new(grid.clone(), Scheme::Explicit, boundaries, dt, 10);
    let error = DiffusionModel::new(config(1.01 * limit), &kappa).unwrap_err();
    match &error {
        DiffusionError::Unstable { limit: l, lambda_max, .. } => {
            assert_eq!(*l, limit);
            assert!((2.0 / lambda_max - limit).abs() <= 1e-15 * limit);
        }
        other => panic!("expected Unstable, got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains("2/lambda_max") && message.contains(&format!("{limit:.6e}")), "{message}");
    assert!(DiffusionModel::new(config(limit), &kappa).is_ok());
    // implicit schemes take any step
    let implicit = DiffusionConfig { scheme: Scheme::CrankNicolson, ..config(1e3 * limit) };
    assert!(DiffusionModel::new(implicit, &kappa).is_ok());
}

#[test]
fn the_gershgorin_limit_is_the_classical_one_for_constant_kappa() {
    // 1D: dt <= h²/(2κ); 2D square cells: dt <= h²/(4κ)
    let (grid, kappa) = (unit_grid_1d(40), 0.8);
    let h = grid.dx;
    let limit = explicit_dt_limit(&grid, Boundaries::all(Boundary::Dirichlet), &[kappa; 40]).unwrap();
    assert!((limit - h * h / (2.0 * kappa)).abs() < 1e-14 * limit);
    let grid = unit_grid_2d(30);
    let limit = explicit_dt_limit(&grid, Boundaries::all(Boundary::Neumann), &vec![kappa; 900]).unwrap();
    assert!((limit - h.powi(2) * (40.0f64 / 30.0).powi(2) / (4.0 * kappa)).abs() < 1e-14 * limit);
    // at the limit, the explicit scheme stays bounded (the checkerboard mode does not grow)
    let grid = unit_grid_1d(40);
    let config = DiffusionConfig::new(
        grid.clone(),
        Scheme::Explicit,
        Boundaries::all(Boundary::Neumann),
        explicit_dt_limit(&grid, Boundaries::all(Boundary::Neumann), &[kappa; 40]).unwrap(),
        2001,
    );
    let checkerboard: Vec<f64> = (0..40).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
    let u = solve(config, &[kappa; 40], &checkerboard, None);
    assert!(u.iter().all(|v| v.abs() <= 1.0 + 1e-9));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let grid = unit_grid_2d(10);
    let boundaries = Boundaries::all(Boundary::Dirichlet);
    let config = DiffusionConfig::new(grid.clone(), Scheme::BackwardEuler, boundaries, 1e-3, 5);
    let mut kappa = vec![1.0; 100];
    kappa[17] = -1.0;
    assert!(matches!(DiffusionModel::new(config.clone(), &kappa), Err(DiffusionError::InvalidKappa { index: 17, .. })));
    kappa[17] = f64::NAN;
    assert!(DiffusionModel::new(config.clone(), &kappa).is_err());
    assert!(DiffusionModel::new(config.clone(), &[1.0; 99]).is_err());
    assert!(DiffusionModel::new(DiffusionConfig { dt: 0.0, ..config.clone() }, &[1.0; 100]).is_err());
    assert!(DiffusionModel::new(DiffusionConfig { nt: 1, ..config.clone() }, &[1.0; 100]).is_err());
    let bad_grid = Grid { nz: 1, ..grid.clone() };
    assert!(DiffusionModel::new(DiffusionConfig { grid: bad_grid, ..config.clone() }, &[1.0; 10]).is_err());
    let model = DiffusionModel::new(config, &[1.0; 100]).unwrap();
    let inside = point_weights(&grid, "r", 0.5, 0.5, Interpolation::Bilinear).unwrap();
    let outside = PointWeights { entries: vec![(0, 10, 1.0)] };
    let wavelet = [1.0; 5];
    assert!(model.shot(&[outside], SourceTimeFunctions::Shared(&wavelet), &[]).is_err());
    assert!(model.shot(std::slice::from_ref(&inside), SourceTimeFunctions::Shared(&[1.0; 4]), &[]).is_err());
    assert!(model.shot(std::slice::from_ref(&inside), SourceTimeFunctions::PerSource(&[]), &[]).is_err());
    let hicks = point_weights(&grid, "r", 0.07, 0.5, Interpolation::Hicks { radius: 4 }).unwrap();
    assert!(model.shot(&[], SourceTimeFunctions::PerSource(&[]), &[hicks]).is_err());
    let shot = model.shot(&[], SourceTimeFunctions::PerSource(&[]), std::slice::from_ref(&inside)).unwrap();
    assert!(shot.clone().with_initial_condition(&[1.0; 3]).is_err());
    assert!(shot.with_initial_condition(&[f64::INFINITY; 100]).is_err());
}

#[test]
fn serial_and_parallel_runs_agree_bitwise() {
    let grid = unit_grid_2d(48);
    let kappa = smooth_kappa(&grid);
    let receivers: Vec<PointWeights> = (0..6)
        .map(|r| {
            point_weights(&grid, "r", 0.1 + 0.13 * r as f64, 0.77 - 0.1 * r as f64, Interpolation::Bilinear).unwrap()
        })
        .collect();
    let source = point_weights(&grid, "s", 0.41, 0.52, Interpolation::Bilinear).unwrap();
    let wavelet: Vec<f64> = (0..40).map(|n| (-(n as f64 - 8.0).powi(2) / 10.0).exp()).collect();
    let traces = |parallelism| {
        let config = DiffusionConfig {
            parallelism,
            ..DiffusionConfig::new(grid.clone(), Scheme::CrankNicolson, Boundaries::all(Boundary::Dirichlet), 1e-3, 40)
        };
        let model = DiffusionModel::new(config, &kappa).unwrap();
        assert!(model.factor().unwrap().is_split());
        let shot =
            model.shot(std::slice::from_ref(&source), SourceTimeFunctions::Shared(&wavelet), &receivers).unwrap();
        record(&shot, |_| {})
    };
    let (serial, parallel) = (traces(Parallelism::Serial), traces(Parallelism::Rows));
    assert!(serial.iter().any(|&v| v != 0.0));
    assert!(serial.iter().zip(&parallel).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn log_kappa_gradient_is_the_chain_rule() {
    let kappa = [0.5, 2.0, 4.0];
    let mut g = [1.0, -3.0, 0.25];
    log_kappa_gradient(&kappa, &mut g);
    assert_eq!(g, [0.5, -6.0, 1.0]);
}

/// The SciPy anchor's job, timed the way the anchor times it (model build
/// with the factorisation, then `steps` Crank-Nicolson steps), printed in the
/// anchor's format. Run with
/// `cargo test --release -p pdeinv-forward --test diffusion -- --ignored --nocapture`
/// (`PDEINV_DIFFUSION_SIZES=256:100,512:50`, `PDEINV_DIFFUSION_ORDERING=amd`,
/// `PDEINV_DIFFUSION_SERIAL=1` to vary).
#[test]
#[ignore = "timing, not a test: run on a quiet machine"]
fn time_the_anchor_problem() {
    use pdeinv_forward::diffusion::{DiffusionBenchmark, FillOrdering};
    use std::time::Instant;
    let sizes = std::env::var("PDEINV_DIFFUSION_SIZES").unwrap_or_else(|_| "256:100,512:50".into());
    let parallelism =
        if std::env::var_os("PDEINV_DIFFUSION_SERIAL").is_some() { Parallelism::Serial } else { Parallelism::Rows };
    let ordering = match std::env::var("PDEINV_DIFFUSION_ORDERING").as_deref() {
        Ok("amd") => FillOrdering::Amd,
        Ok(levels) if levels.parse::<usize>().is_ok() => {
            FillOrdering::NestedDissection { levels: levels.parse().unwrap() }
        }
        _ => FillOrdering::default(),
    };
    for job in sizes.split(',') {
        let (n, steps) = job.split_once(':').unwrap();
        let (n, steps): (usize, usize) = (n.parse().unwrap(), steps.parse().unwrap());
        let mut problem = DiffusionBenchmark::new(n, steps, parallelism).unwrap();
        problem.config.ordering = ordering;
        let start = Instant::now();
        let model = problem.model().unwrap();
        let factor_time = start.elapsed().as_secs_f64();
        let shot = problem.shot(&model).unwrap();
        let mut state = shot.initial_state();
        let start = Instant::now();
        for step in 0..steps {
            shot.step(step, &mut state);
        }
        let step_time = start.elapsed().as_secs_f64();
        let factor = model.factor().unwrap();
        println!(
            "pdeinv-diffusion n={n} nt={steps} factor={factor_time:.3}s steps={step_time:.3}s per_step_ms={:.3} total={:.3}s ({ordering:?}, {parallelism:?}, L nonzeros {}, {} supernodes, split {})",
            1e3 * step_time / steps as f64,
            factor_time + step_time,
            factor.nonzeros(),
            factor.supernodes(),
            factor.is_split()
        );
    }
}
