//! Criterion benchmarks of the acoustic time step (f32 and f64, order 8,
//! CPML and sponge) on a 1000 x 1000 grid: the same job as
//! `pdeinv bench forward --shape 1000,1000 --order 8` and the Devito anchor.

use criterion::{Criterion, Throughput, criterion_main};
use pdeinv_forward::acoustic::{AcousticConfig, AcousticModel, Boundary};
use pdeinv_forward::{AdjointPropagator, Parallelism, Propagator, Real};
use pdeinv_grid::{Grid, Interpolation, point_weights};

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
    group.finish();
}

fn benches(c: &mut Criterion) {
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
