//! Criterion benchmarks of the acoustic time step (f32 and f64, order 8,
//! CPML and sponge) on a 1000 x 1000 grid: the same job as
//! `pdeinv bench forward --shape 1000,1000 --order 8` and the Devito anchor,
//! its adjoint step, and two adjoint steps fused into one sweep (per pair,
//! twice the elements of a step); and of the CPML's adjoints alone (the x strips of every row, the two z
//! strips) at 600 x 600, the parts of an adjoint step that cost the most
//! beyond the forward step's own work, beside the forward step's CPML work
//! on the same strips.

use criterion::{Criterion, Throughput, criterion_main};
use pdeinv_forward::acoustic::boundary::{Cpml, ImagedAdjoint, XStripRows};
use pdeinv_forward::acoustic::{AcousticConfig, AcousticModel, Boundary, Layout, PairFusion};
use pdeinv_forward::{AdjointPropagator, Parallelism, Propagator, Real};
use pdeinv_grid::{Grid, Interpolation, central_first_derivative, central_second_derivative, point_weights};

fn step_benchmark<T: Real>(c: &mut Criterion, boundary: Boundary, label: &str) {
    let n = 1000;
    let grid = Grid::new_2d(n, n, 10.0, 10.0).unwrap();
    let dt = 0.8 * pdeinv_forward::stability::stable_dt(&grid, 8, 2000.0);
    let config = AcousticConfig {
        grid: grid.clone(),
        space_order: 8,
        dt,
        nt: 100_000,
        boundary,
        free_surface: false,
        dominant_frequency: 10.0,
        cpml_velocity: None,
        parallelism: Parallelism::Rows,
        pair_fusion: PairFusion::Always,
    };
    let model = AcousticModel::<T>::new(config, &vec![2000.0; n * n]).unwrap();
    let source = point_weights(&grid, "source", 200.0, 5000.0, Interpolation::Hicks { radius: 4 }).unwrap();
    let wavelet = pdeinv_forward::wavelet::ricker(10.0, dt, 100_000, None);
    let shot = model.shot(&source, &wavelet, &[]).unwrap();
    let mut state = shot.initial_state();
    // warm up into a wavefield that is not all zeros
    for step in 0..200 {
        shot.step(step, &mut state);
    }
    let mut group = c.benchmark_group("acoustic_step_1000x1000_order8");
    group.throughput(Throughput::Elements((n * n) as u64));
    group.sample_size(20);
    let mut step = 200;
    group.bench_function(format!("{label}_{}", T::NAME), |b| {
        b.iter(|| {
            shot.step(step % 50_000, &mut state);
            step += 1;
        })
    });
    let mut adjoint = shot.initial_adjoint();
    let mut gradient = vec![0.0; shot.parameters()];
    group.bench_function(format!("{label}_{}_adjoint", T::NAME), |b| {
        b.iter(|| {
            shot.step_adjoint(step % 50_000, &state, &mut adjoint, &mut gradient);
            step += 1;
        })
    });
    // two adjoint steps in one fused sweep, as the gradient runs them
    // (declined under a sponge: no such entry there)
    let residuals = [&[][..], &[][..]];
    if shot.reverse_pair(1, &state, None, residuals, &mut adjoint, &mut gradient) {
        group.throughput(Throughput::Elements((2 * n * n) as u64));
        group.bench_function(format!("{label}_{}_adjoint_pair", T::NAME), |b| {
            b.iter(|| {
                shot.reverse_pair(1 + step % 50_000, &state, None, residuals, &mut adjoint, &mut gradient);
                step += 2;
            })
        });
    }
    group.finish();
}

/// The CPML adjoints of one step on their own, in `f32` on one thread:
/// `Cpml::adjoint_x_rows` on every computed row and `Cpml::adjoint_z_group`
/// on both z strips of a 600 x 600 grid (order 8, 20 cells), on fields of
/// smooth nonzero values.
fn cpml_adjoint_benchmark(c: &mut Criterion) {
    let n = 600;
    let layout = Layout::new(true, n, n, 4, 20, false);
    let (w1, w2) = (central_first_derivative(8), central_second_derivative(8));
    let cpml = Cpml::<f32>::new(&layout, 10.0, 10.0, 1e-3, 2000.0, 10.0, &w1, &w2);
    let len = layout.len();
    let field = |scale: f32| -> Vec<f32> { (0..len).map(|i| ((i % 97) as f32 - 48.0) * scale).collect() };
    let (lw, u, coefficient) = (field(1e-3), field(1e-3), field(1e-4));
    let (mut lu, mut image) = (field(0.0), field(0.0));
    let mut group = c.benchmark_group("cpml_adjoint_600x600_order8");
    group.sample_size(30);
    let z_len = cpml.z_len(&layout) / 2;
    let (mut psi, mut zeta) = (vec![0.0f32; z_len], vec![0.0f32; z_len]);
    let mut scratch = vec![0.0f32; cpml.adjoint_z_scratch_len(&layout)];
    group.bench_function("z_strips_f32", |b| {
        b.iter(|| {
            for strip in 0..2 {
                let out = ImagedAdjoint { lu: &mut lu, image: &mut image, u: &u, c: &coefficient };
                cpml.adjoint_z_group(&layout, strip, &lw, &mut psi, &mut zeta, out, 0, &mut scratch);
            }
        })
    });
    let rows = layout.computed_rows();
    let cells = rows.start * layout.nxp..rows.end * layout.nxp;
    let x_len = rows.len() * 2 * cpml.strip();
    let (mut psi, mut zeta) = (vec![0.0f32; x_len], vec![0.0f32; x_len]);
    let mut scratch = vec![0.0f32; cpml.adjoint_scratch_len(&layout)];
    group.bench_function("x_strips_f32", |b| {
        b.iter(|| {
            let out = ImagedAdjoint {
                lu: &mut lu[cells.clone()],
                image: &mut image[cells.clone()],
                u: &u[cells.clone()],
                c: &coefficient[cells.clone()],
            };
            cpml.adjoint_x_rows(&layout, &lw[cells.clone()], &mut psi, &mut zeta, out, &mut scratch);
        })
    });
    // the forward step's CPML work on the same strips, for comparison
    let (mut psi, mut zeta) = (vec![0.0f32; x_len], vec![0.0f32; x_len]);
    group.bench_function("x_strips_forward_f32", |b| {
        b.iter(|| {
            cpml.psi_x_rows(&layout, &u[cells.clone()], &mut psi);
            let rows = XStripRows {
                u: &u[cells.clone()],
                psi: &psi,
                zeta: &mut zeta,
                c: &coefficient[cells.clone()],
                out: &mut lu[cells.clone()],
            };
            cpml.correct_x_rows(&layout, rows);
        })
    });
    let nxp = layout.nxp;
    let (mut psi, mut zeta) = (vec![0.0f32; z_len], vec![0.0f32; z_len]);
    group.bench_function("z_strips_forward_f32", |b| {
        b.iter(|| {
            for (strip, &first) in cpml.z_strip_rows().iter().enumerate() {
                for (r, psi_row) in psi.chunks_exact_mut(nxp).enumerate() {
                    cpml.psi_z_row(&layout, strip, r, &u, psi_row);
                }
                for (r, zeta_row) in zeta.chunks_exact_mut(nxp).enumerate() {
                    let i = first + r;
                    let (c_row, out) = (&coefficient[i * nxp..(i + 1) * nxp], &mut lu[i * nxp..(i + 1) * nxp]);
                    cpml.correct_z_row(&layout, strip, r, &u, &psi, zeta_row, c_row, out);
                }
            }
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    cpml_adjoint_benchmark(c);
    step_benchmark::<f32>(c, Boundary::Cpml { width: 20 }, "cpml");
    if std::env::var_os("PDEINV_BENCH_ALL").is_some() {
        step_benchmark::<f32>(c, Boundary::Sponge { width: 20 }, "sponge");
        step_benchmark::<f64>(c, Boundary::Cpml { width: 20 }, "cpml");
    }
}

#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(acoustic, super::benches);
}
use group::acoustic;
criterion_main!(acoustic);
