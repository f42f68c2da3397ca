//! Accuracy and consistency of the acoustic solver against analytic
//! solutions, plus CPML reflection, reciprocity and f32/f64 agreement.

use pdeinv_forward::acoustic::{AcousticConfig, AcousticModel, Boundary, PairFusion};
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
        cpml_velocity: None,
        parallelism: Parallelism::Rows,
        // the fused pair on these small grids too
        pair_fusion: PairFusion::Always,
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

/// Peak amplitude of the difference between a trace and a reference,
/// relative to the reference's peak.
fn relative_peak_difference(a: &[f64], reference: &[f64]) -> f64 {
    let peak = reference.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter().zip(reference).fold(0.0f64, |m, (x, y)| m.max((x - y).abs())) / peak
}

/// Trace at 30 m from the top edge of a 101 x 101 grid (source in the
/// middle), and the same trace on a grid large enough that nothing comes
/// back within the window; returns the reflected amplitude relative to the
/// direct wave.
fn boundary_reflection(boundary: Boundary) -> f64 {
    let h = 10.0;
    let nt = 900;
    let dt = 1e-3;
    let small = Grid::new_2d(101, 101, h, h).unwrap();
    let big = Grid::new_2d(301, 301, h, h).unwrap();
    let trace = |grid: Grid, offset: f64| {
        let n = grid.len();
        let cfg = config(grid, 8, dt, nt, boundary);
        simulate::<f64>(&cfg, &vec![C; n], (offset + 500.0, offset + 500.0), &[(offset + 30.0, offset + 500.0)])
    };
    let reflected = trace(small, 0.0);
    let reference = trace(big, 1000.0);
    relative_peak_difference(&reflected, &reference)
}

#[test]
fn cpml_of_width_20_reflects_well_under_one_percent() {
    let cpml = boundary_reflection(Boundary::Cpml { width: 20 });
    let sponge = boundary_reflection(Boundary::Sponge { width: 20 });
    eprintln!("reflected amplitude, width 20: CPML {cpml:.2e}, sponge {sponge:.2e}");
    // measured 1.7e-4 (0.017 % of the direct wave)
    assert!(cpml < 1e-3, "CPML reflection {cpml}");
    assert!(cpml < sponge, "CPML {cpml} should beat the sponge {sponge}");
}

/// A smooth heterogeneous model: background 2000 m/s with a 2400 m/s disc.
fn camembert(grid: &Grid) -> Vec<f64> {
    let mut vp = Vec::with_capacity(grid.len());
    for iz in 0..grid.nz {
        for ix in 0..grid.nx {
            let (z, x) = grid.coordinates(iz, ix);
            vp.push(if (z - 300.0).powi(2) + (x - 400.0).powi(2) < 150.0f64.powi(2) { 2400.0 } else { 2000.0 });
        }
    }
    vp
}

#[test]
fn swapping_source_and_receiver_gives_the_same_trace() {
    let grid = Grid::new_2d(61, 81, 10.0, 10.0).unwrap();
    let vp = camembert(&grid);
    let cfg = config(grid, 8, 1e-3, 700, Boundary::Cpml { width: 20 });
    let a = (100.0, 150.0);
    let b = (450.0, 650.0);
    let ab = simulate::<f64>(&cfg, &vp, a, &[b]);
    let ba = simulate::<f64>(&cfg, &vp, b, &[a]);
    let diff = relative_peak_difference(&ab, &ba);
    eprintln!("reciprocity: relative difference {diff:.2e}");
    assert!(diff < 1e-9, "reciprocity error {diff}");
}

#[test]
fn single_and_double_precision_agree_to_single_precision() {
    let grid = Grid::new_2d(61, 81, 10.0, 10.0).unwrap();
    let vp = camembert(&grid);
    let cfg = config(grid, 8, 1e-3, 700, Boundary::Cpml { width: 20 });
    let recs = [(30.0, 100.0), (30.0, 400.0), (500.0, 700.0)];
    let single = simulate::<f32>(&cfg, &vp, (50.0, 200.0), &recs);
    let double = simulate::<f64>(&cfg, &vp, (50.0, 200.0), &recs);
    let diff = relative_peak_difference(&single, &double);
    eprintln!("f32 vs f64: relative difference {diff:.2e}");
    assert!(diff < 1e-4 && diff > 0.0, "f32/f64 difference {diff}");
}

#[test]
fn free_surface_matches_the_image_source_solution() {
    // zero pressure at z = 0: the field is the direct wave minus the wave of
    // a mirror source at −z_s
    let h = 5.0;
    let grid = Grid::new_2d(121, 161, h, h).unwrap();
    let n = grid.len();
    let dt = 2e-4;
    let nt = 2000;
    let mut cfg = config(grid, 8, dt, nt, Boundary::Cpml { width: 20 });
    cfg.free_surface = true;
    let (zs, xs) = (100.0, 300.0);
    let (zr, xr) = (50.0, 500.0);
    let traces = simulate::<f64>(&cfg, &vec![C; n], (zs, xs), &[(zr, xr)]);
    let direct = ((zr - zs).powi(2) + (xr - xs).powi(2)).sqrt();
    let image = ((zr + zs).powi(2) + (xr - xs).powi(2)).sqrt();
    let exact: Vec<f64> =
        (0..nt).map(|k| analytic_2d(direct, k as f64 * dt) - analytic_2d(image, k as f64 * dt)).collect();
    let err = relative_error(&traces, &exact);
    eprintln!("free surface vs image solution: relative error {err:.2e}");
    assert!(err < 0.01, "free-surface error {err}");
}

#[test]
fn traces_are_bitwise_identical_whatever_the_thread_count() {
    let grid = Grid::new_2d(61, 81, 10.0, 10.0).unwrap();
    let vp = camembert(&grid);
    let mut cfg = config(grid, 8, 1e-3, 300, Boundary::Cpml { width: 20 });
    let run = |cfg: &AcousticConfig, threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| simulate::<f32>(cfg, &vp, (50.0, 200.0), &[(30.0, 100.0), (500.0, 700.0)]))
    };
    let one = run(&cfg, 1);
    let three = run(&cfg, 3);
    cfg.parallelism = Parallelism::Serial;
    let serial = run(&cfg, 2);
    assert!(one.iter().zip(&three).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(one.iter().zip(&serial).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(one.iter().any(|v| *v != 0.0));
}

/// Checkpoint restores copy states into existing buffers: `clone_from` must
/// copy every field and keep the destination's allocations.
#[test]
fn state_clone_from_copies_into_the_existing_buffers() {
    let grid = Grid::new_2d(30, 40, 10.0, 10.0).unwrap();
    let cfg = config(grid.clone(), 4, 1e-3, 50, Boundary::Cpml { width: 6 });
    let model = AcousticModel::<f64>::new(cfg, &vec![2000.0; grid.len()]).unwrap();
    let source = point_weights(&grid, "source", 100.0, 200.0, Interpolation::Bilinear).unwrap();
    let wavelet = ricker(15.0, 1e-3, 50, None);
    let shot = model.shot(&source, &wavelet, &[]).unwrap();
    let mut advanced = pdeinv_forward::Propagator::initial_state(&shot);
    for n in 0..30 {
        pdeinv_forward::Propagator::step(&shot, n, &mut advanced);
    }
    let mut copy = pdeinv_forward::Propagator::initial_state(&shot);
    let buffers = [copy.u.as_ptr(), copy.u_prev.as_ptr(), copy.psi_x.as_ptr(), copy.zeta_z.as_ptr()];
    copy.clone_from(&advanced);
    assert_eq!(copy, advanced);
    assert!(advanced.psi_x.iter().any(|&v| v != 0.0), "the CPML memory should be live after 30 steps");
    assert_eq!([copy.u.as_ptr(), copy.u_prev.as_ptr(), copy.psi_x.as_ptr(), copy.zeta_z.as_ptr()], buffers);
}

/// `step_from` (a restore fused into the next step) must equal a copy
/// followed by an in-place step, bit for bit, leave the source untouched and
/// write every field of a target holding unrelated values.
fn check_step_from<T: Real>(grid: Grid, boundary: Boundary, free_surface: bool, threads: usize) {
    let label = format!("{:?} {boundary:?} free surface {free_surface}, {threads} threads", grid.shape());
    let mut cfg = config(grid.clone(), 8, 1e-3, 60, boundary);
    cfg.free_surface = free_surface;
    let model = AcousticModel::<T>::new(cfg, &camembert(&grid)).unwrap();
    let (z, x) = if grid.dimension == 2 { (35.0, 105.0) } else { (0.0, 105.0) };
    let source = point_weights(&grid, "source", z, x, Interpolation::Hicks { radius: 4 }).unwrap();
    let wavelet = ricker(25.0, 1e-3, 60, None);
    let shot = model.shot(&source, &wavelet, &[]).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        use pdeinv_forward::Propagator;
        let mut checkpoint = shot.initial_state();
        let mut unrelated = shot.initial_state();
        for n in 0..40 {
            shot.step(n, &mut checkpoint);
            if n < 23 {
                shot.step(n, &mut unrelated);
            }
        }
        let kept = checkpoint.clone();
        let mut expected = checkpoint.clone();
        shot.step(40, &mut expected);
        shot.step_from(40, &checkpoint, &mut unrelated);
        assert_eq!(checkpoint, kept, "{label}: the source changed");
        let bits = |s: &pdeinv_forward::acoustic::AcousticState<T>| -> Vec<u64> {
            [&s.u, &s.u_prev, &s.psi_x, &s.zeta_x, &s.psi_z, &s.zeta_z]
                .iter()
                .flat_map(|f| f.iter().map(|v| v.as_f64().to_bits()))
                .collect()
        };
        assert!(bits(&unrelated) == bits(&expected), "{label}: step_from differs from copy + step");
        // a fresh target (its pages untouched) reads as the initial state and serves the same
        let fresh = shot.target_state();
        assert!(bits(&fresh) == bits(&shot.initial_state()), "{label}: target_state is not the initial state");
        let mut fresh = fresh;
        shot.step_from(40, &checkpoint, &mut fresh);
        assert!(bits(&fresh) == bits(&expected), "{label}: step_from into target_state differs");
        // and it goes on as the in-place state does
        shot.step(41, &mut expected);
        shot.step(41, &mut unrelated);
        assert!(bits(&unrelated) == bits(&expected), "{label}: the step after differs");
        assert!(expected.u.iter().any(|v| *v != T::zero()), "{label}: the wavefield should be live");
    });
}

#[test]
fn step_from_a_checkpoint_equals_copy_then_step_bitwise() {
    // 45 rows: not a whole number of blocks; CPML z strips at both ends
    let grid = Grid::new_2d(45, 50, 10.0, 10.0).unwrap();
    // (f32 on AVX-512 reads the source's u^{n−1} in the kernel's sweep,
    // f64 copies it first: both, with and without the free surface's
    // mirrored halo rows)
    for threads in [1, 3] {
        for free_surface in [false, true] {
            for boundary in [Boundary::Cpml { width: 10 }, Boundary::Sponge { width: 10 }] {
                check_step_from::<f32>(grid.clone(), boundary, free_surface, threads);
                check_step_from::<f64>(grid.clone(), boundary, free_surface, threads);
            }
        }
    }
    check_step_from::<f64>(Grid::new_1d(80, 10.0).unwrap(), Boundary::Cpml { width: 10 }, false, 2);
    check_step_from::<f32>(Grid::new_1d(80, 10.0).unwrap(), Boundary::Sponge { width: 10 }, false, 2);
}

/// A pseudo-random residual per receiver, in `[−1, 1)`.
fn residual<T: Real>(seed: u64, channels: usize) -> Vec<T> {
    (0..channels as u64)
        .map(|p| {
            let mut x = (seed * 1000 + p + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            x ^= x >> 29;
            x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x ^= x >> 32;
            T::of((x >> 11) as f64 / (1u64 << 52) as f64 - 1.0)
        })
        .collect()
}

/// `reverse_pair` (two reversals fused into one sweep) must equal the two
/// reversals one by one bitwise, from the successor's `u_prev` and from the
/// predecessor's state, with receivers in the z strips, at their edges and
/// near the seams between the threads' bands; it declines under a sponge
/// and in 1D.
fn check_reverse_pair<T: Real>(grid: Grid, boundary: Boundary, free_surface: bool, threads: usize) {
    check_reverse_pair_with::<T>(grid, boundary, free_surface, threads, (8, Parallelism::Rows, None));
}

/// [`check_reverse_pair`] at a space order, rows in parallel or not, and
/// with the receivers spread over every depth or (`line`) on one line at
/// that depth, as in surface seismics.
fn check_reverse_pair_with<T: Real>(
    grid: Grid,
    boundary: Boundary,
    free_surface: bool,
    threads: usize,
    (order, parallelism, line): (usize, Parallelism, Option<f64>),
) {
    use pdeinv_forward::{AdjointPropagator, Propagator};
    let label = format!(
        "{:?} {boundary:?} free surface {free_surface}, {threads} threads, order {order}, {parallelism:?}, receivers {line:?}",
        grid.shape()
    );
    let nt = 60;
    let mut cfg = config(grid.clone(), order, 1e-3, nt, boundary);
    cfg.free_surface = free_surface;
    cfg.parallelism = parallelism;
    let model = AcousticModel::<T>::new(cfg, &camembert(&grid)).unwrap();
    let scheme = Interpolation::Hicks { radius: 4 };
    let (z, x) = if grid.dimension == 2 { (35.0, 105.0) } else { (0.0, 105.0) };
    let source = point_weights(&grid, "source", z, x, scheme).unwrap();
    let depth = (grid.shape()[0] - 1) as f64 * grid.spacing()[0];
    let receivers: Vec<_> = if let Some(z) = line {
        (0..12).map(|k| point_weights(&grid, "receiver", z, 40.0 + 45.0 * k as f64, scheme).unwrap()).collect()
    } else if grid.dimension == 2 {
        [0.0, 10.0, 90.0, 110.0, 260.0, 270.0, 400.0, 530.0, depth - 10.0, depth]
            .iter()
            .enumerate()
            .filter(|&(_, &z)| z <= depth)
            .map(|(k, &z)| point_weights(&grid, "receiver", z, 40.0 + 35.0 * k as f64, scheme).unwrap())
            .collect()
    } else {
        vec![point_weights(&grid, "receiver", 0.0, 300.0, scheme).unwrap()]
    };
    let wavelet = ricker(25.0, 1e-3, nt, None);
    let shot = model.shot(&source, &wavelet, &receivers).unwrap();
    let channels = shot.channels();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let mut states = vec![shot.initial_state()];
        for n in 0..40 {
            let mut next = states[n].clone();
            shot.step(n, &mut next);
            states.push(next);
        }
        // an adjoint wave from residuals at every receiver over some
        // steps, then a pair from `top`: the pairs from 29 and 31 sweep
        // in opposite directions on one band (`acoustic/pair.rs`)
        for top in [29, 31] {
            let mut adjoint = shot.initial_adjoint();
            let mut gradient = vec![0.0; shot.parameters()];
            shot.inject_residual(40, &states[40], &residual(40, channels), &mut adjoint);
            for n in (top + 1..40).rev() {
                shot.step_adjoint(n, &states[n], &mut adjoint, &mut gradient);
                shot.inject_residual(n, &states[n], &residual(n as u64, channels), &mut adjoint);
            }
            let (r1, r2) = (residual::<T>(top as u64, channels), residual::<T>(top as u64 - 1, channels));
            let mut one_by_one = adjoint.clone();
            shot.step_adjoint(top, &states[top], &mut one_by_one, &mut gradient);
            shot.inject_residual(top, &states[top], &r1, &mut one_by_one);
            let serves = shot.reverse_from_next(top - 1, &states[top], &r2, &mut one_by_one, &mut gradient);
            let fused = matches!(boundary, Boundary::Cpml { .. }) && grid.dimension == 2;
            assert_eq!(serves, matches!(boundary, Boundary::Cpml { .. }), "{label}");
            let finished = |mut adjoint: pdeinv_forward::acoustic::AcousticAdjoint<T>| -> Vec<u64> {
                let s = &adjoint.state;
                let mut bits: Vec<u64> = [&s.u, &s.u_prev, &s.psi_x, &s.zeta_x, &s.psi_z, &s.zeta_z]
                    .iter()
                    .flat_map(|f| f.iter().map(|v| v.as_f64().to_bits()))
                    .collect();
                assert!(s.u.iter().filter(|v| **v != T::zero()).count() > 100, "the adjoint wavefield should be live");
                let mut gradient = vec![0.0; shot.parameters()];
                shot.finish_gradient(&mut adjoint, &mut gradient);
                bits.extend(gradient.iter().map(|g| g.to_bits()));
                bits
            };
            for below in [None, Some(&states[top - 1])] {
                let mut paired = adjoint.clone();
                let done = shot.reverse_pair(top, &states[top], below, [&r1, &r2], &mut paired, &mut gradient);
                assert_eq!(done, fused, "{label}: the pair runs fused exactly with a CPML in 2D");
                if done && serves {
                    let from = if below.is_some() { format!("S_{}", top - 1) } else { format!("S_{top}'s u_prev") };
                    assert!(
                        finished(paired) == finished(one_by_one.clone()),
                        "{label}: the fused pair at {top} from {from} differs"
                    );
                }
            }
        }
    });
}

#[test]
fn a_fused_pair_of_reversals_equals_two_reversals_bitwise() {
    // 3 threads: bands of about 36 rows, receivers at their seams; the
    // CPML's z strips hold receivers too
    let grid = Grid::new_2d(56, 64, 10.0, 10.0).unwrap();
    for threads in [1, 3] {
        for free_surface in [false, true] {
            check_reverse_pair::<f32>(grid.clone(), Boundary::Cpml { width: 10 }, free_surface, threads);
            check_reverse_pair::<f64>(grid.clone(), Boundary::Cpml { width: 10 }, free_surface, threads);
        }
    }
    // other stencil widths (what waits depends on H), and rows not in parallel (one band)
    for order in [2, 16] {
        check_reverse_pair_with::<f32>(
            grid.clone(),
            Boundary::Cpml { width: 10 },
            true,
            3,
            (order, Parallelism::Rows, None),
        );
        check_reverse_pair_with::<f64>(
            grid.clone(),
            Boundary::Cpml { width: 10 },
            false,
            3,
            (order, Parallelism::Rows, None),
        );
    }
    check_reverse_pair_with::<f32>(grid.clone(), Boundary::Cpml { width: 10 }, true, 3, (8, Parallelism::Serial, None));
    // receivers on one line, in the top z strip or below it, where the
    // pair injects the residuals inside its first phase
    for threads in [1, 2, 3] {
        for (free_surface, depth) in [(false, 20.0), (false, 150.0), (true, 20.0), (true, 150.0)] {
            let setup = (8, Parallelism::Rows, Some(depth));
            check_reverse_pair_with::<f32>(grid.clone(), Boundary::Cpml { width: 10 }, free_surface, threads, setup);
        }
    }
    check_reverse_pair::<f32>(grid.clone(), Boundary::Sponge { width: 10 }, false, 2);
    check_reverse_pair::<f64>(Grid::new_1d(80, 10.0).unwrap(), Boundary::Cpml { width: 10 }, false, 2);
}

/// `PairFusion`: `Never` and, on a grid whose arrays fit any level-2 cache,
/// `Auto` decline the pair (the caller then runs the reversals one by one,
/// the reference the pair is tested bitwise equal to); `Always` fuses it.
#[test]
fn the_pair_fusion_setting_decides_whether_pairs_fuse() {
    use pdeinv_forward::AdjointPropagator;
    use pdeinv_forward::Propagator;
    // 40 x 40 with a 10-cell CPML at order 8: 68 x 68 padded f32 cells, five
    // arrays of them 92 kB, under 0.8 of a 256 kB cache
    let grid = Grid::new_2d(40, 40, 10.0, 10.0).unwrap();
    let scheme = Interpolation::Hicks { radius: 4 };
    let source = point_weights(&grid, "source", 200.0, 200.0, scheme).unwrap();
    let receivers = vec![point_weights(&grid, "receiver", 100.0, 150.0, scheme).unwrap()];
    let wavelet = ricker(25.0, 1e-3, 20, None);
    for (setting, fuses) in [(PairFusion::Never, false), (PairFusion::Auto, false), (PairFusion::Always, true)] {
        let mut cfg = config(grid.clone(), 8, 1e-3, 20, Boundary::Cpml { width: 10 });
        cfg.pair_fusion = setting;
        let model = AcousticModel::<f32>::new(cfg, &vec![2000.0; 40 * 40]).unwrap();
        let shot = model.shot(&source, &wavelet, &receivers).unwrap();
        let mut state = shot.initial_state();
        for n in 0..10 {
            shot.step(n, &mut state);
        }
        let mut adjoint = shot.initial_adjoint();
        let mut gradient = vec![0.0; shot.parameters()];
        let residual = [1.0f32];
        let done = shot.reverse_pair(10, &state, None, [&residual, &residual], &mut adjoint, &mut gradient);
        assert_eq!(done, fuses, "{setting:?}");
    }
}
