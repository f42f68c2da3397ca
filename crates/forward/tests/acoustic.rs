//! Accuracy and consistency of the acoustic solver against analytic
//! solutions, plus CPML reflection, reciprocity and f32/f64 agreement.

use pdeinv_forward::acoustic::{AcousticConfig, AcousticModel, Boundary};
use pdeinv_forward::wavelet::{ricker, ricker_integral};
use pdeinv_forward::{Parallelism, Real, record};
use pdeinv_grid::{Grid, Interpolation, point_weights};

const C: f64 = 2000.0;
const F_PEAK: f64 = 10.0;

/// Configuration with a CPML of `width` and the given order and step.
fn config(grid: Grid, order: usize, dt: f64, nt: usize, boundary: Boundary) -> AcousticConfig {
    AcousticConfig {
        grid,
        space_order: order,
        dt,
        nt,
        boundary,
        free_surface: false,
        dominant_frequency: F_PEAK,
        parallelism: Parallelism::Rows,
    }
}

/// Traces `[nt, nrec]` of one shot in model `vp`.
fn simulate<T: Real>(cfg: &AcousticConfig, vp: &[f64], src: (f64, f64), recs: &[(f64, f64)]) -> Vec<f64> {
    let model = AcousticModel::<T>::new(cfg.clone(), vp).unwrap();
    let scheme = Interpolation::Hicks { radius: 4 };
    let s = point_weights(&cfg.grid, "source", src.0, src.1, scheme).unwrap();
    let r: Vec<_> = recs.iter().map(|&(z, x)| point_weights(&cfg.grid, "receiver", z, x, scheme).unwrap()).collect();
    let wavelet = ricker(F_PEAK, cfg.dt, cfg.nt, None);
    let shot = model.shot(&s, &wavelet, &r).unwrap();
    record(&shot, |_| {}).into_iter().map(|v| v.as_f64()).collect()
}

/// Relative L2 difference `‖a − b‖ / ‖b‖`.
fn relative_error(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

/// Analytic 2D response at distance `r` to `u_tt = c²(∇²u + w δ)`:
/// `u(t) = (1/2π) ∫_0^{acosh(ct/r)} w(t − (r/c) cosh θ) dθ` (the Green's
/// function convolved with the Ricker wavelet, singularity removed by
/// `τ = (r/c) cosh θ`).
fn analytic_2d(r: f64, t: f64) -> f64 {
    if C * t <= r {
        return 0.0;
    }
    let top = (C * t / r).acosh();
    let n = 4000;
    let h = top / n as f64;
    let a = (std::f64::consts::PI * F_PEAK).powi(2);
    let w = |s: f64| {
        let s = s - 1.0 / F_PEAK;
        (1.0 - 2.0 * a * s * s) * (-a * s * s).exp()
    };
    let f = |theta: f64| w(t - r / C * f64::cosh(theta));
    let mut sum = 0.5 * (f(0.0) + f(top));
    for i in 1..n {
        sum += f(i as f64 * h);
    }
    sum * h / (2.0 * std::f64::consts::PI)
}

/// Relative error of a 2D homogeneous simulation at spacing `h`, order `order`.
fn error_2d(h: f64, order: usize) -> f64 {
    let extent = 800.0;
    let n = (extent / h).round() as usize + 1;
    let grid = Grid::new_2d(n, n, h, h).unwrap();
    let dt = 2.0e-4;
    let nt = 1100;
    let cfg = config(grid, order, dt, nt, Boundary::Cpml { width: 20 });
    let vp = vec![C; n * n];
    let src = (400.0, 400.0);
    let rec = (400.0, 700.0);
    let traces = simulate::<f64>(&cfg, &vp, src, &[rec]);
    let exact: Vec<f64> = (0..nt).map(|k| analytic_2d(300.0, k as f64 * dt)).collect();
    relative_error(&traces, &exact)
}

#[test]
fn homogeneous_2d_matches_the_analytic_green_function_and_converges() {
    let coarse2 = error_2d(10.0, 2);
    let fine2 = error_2d(5.0, 2);
    let coarse4 = error_2d(10.0, 4);
    let coarse8 = error_2d(10.0, 8);
    eprintln!(
        "2D errors: order 2: h=10 {coarse2:.3e}, h=5 {fine2:.3e}; h=10: order 4 {coarse4:.3e}, order 8 {coarse8:.3e}"
    );
    // second order in space: halving h divides the error by about 4
    assert!(coarse2 / fine2 > 3.0, "order-2 convergence ratio {}", coarse2 / fine2);
    // higher orders are more accurate on the same grid
    assert!(coarse4 < coarse2 / 3.0 && coarse8 < coarse4, "{coarse2} {coarse4} {coarse8}");
    assert!(coarse8 < 0.01, "order 8 error {coarse8}");
}

/// Relative error of a 1D homogeneous simulation at spacing `h`.
fn error_1d(h: f64, order: usize) -> f64 {
    let extent = 2000.0;
    let n = (extent / h).round() as usize + 1;
    let grid = Grid::new_1d(n, h).unwrap();
    let dt = 1.0e-4;
    let nt = 6000;
    let cfg = config(grid, order, dt, nt, Boundary::Cpml { width: 20 });
    let vp = vec![C; n];
    let traces = simulate::<f64>(&cfg, &vp, (0.0, 500.0), &[(0.0, 1300.0)]);
    // (1/c²)u_tt − u_xx = w δ  =>  u = (c/2) ∫_0^{t − |x|/c} w
    let exact: Vec<f64> = (0..nt)
        .map(|k| {
            let tau = k as f64 * dt - 800.0 / C;
            if tau > 0.0 { 0.5 * C * ricker_integral(F_PEAK, 1.0 / F_PEAK, tau) } else { 0.0 }
        })
        .collect();
    relative_error(&traces, &exact)
}

#[test]
fn homogeneous_1d_matches_the_analytic_solution_and_converges() {
    let e10 = error_1d(10.0, 2);
    let e5 = error_1d(5.0, 2);
    let e10_4 = error_1d(10.0, 4);
    let e10_8 = error_1d(10.0, 8);
    eprintln!("1D errors: order 2: h=10 {e10:.3e}, h=5 {e5:.3e}; h=10: order 4 {e10_4:.3e}, order 8 {e10_8:.3e}");
    assert!(e10 / e5 > 3.0, "order-2 convergence ratio {}", e10 / e5);
    assert!(e10_4 < e10 / 3.0 && e10_8 < e10_4);
    assert!(e10_8 < 0.01);
}
