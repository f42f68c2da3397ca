//! Criterion benchmarks of the implicit diffusion solver on the SciPy anchor's
//! problem (`shared/anchors/scipy_diffusion.py`, `run.sh scipy-diffusion N
//! NT`): Crank-Nicolson on the unit square, `N × N` unknowns, variable `κ`,
//! Dirichlet, `dt = 1e-4`. Per size: the model build (assembly, ordering and
//! sparse Cholesky factorisation), one forward time step (stencil right-hand
//! side and two triangular solves), and one adjoint step.
//!
//! `N = 256` by default; `PDEINV_BENCH_DIFFUSION_SIZES=256,512` picks others,
//! `PDEINV_BENCH_ALL` adds the AMD ordering and serial runs.

use criterion::{Criterion, Throughput, criterion_main};
use pdeinv_forward::diffusion::{DiffusionBenchmark, FillOrdering};
use pdeinv_forward::{AdjointPropagator, Parallelism, Propagator};

fn sizes() -> Vec<usize> {
    std::env::var("PDEINV_BENCH_DIFFUSION_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![256])
}

fn run(c: &mut Criterion, n: usize, ordering: FillOrdering, parallelism: Parallelism, label: &str) {
    let mut problem = DiffusionBenchmark::new(n, 1_000_000, parallelism).unwrap();
    problem.config.ordering = ordering;
    let mut group = c.benchmark_group(format!("diffusion_cn_{n}x{n}"));
    group.sample_size(10);
    group.bench_function(format!("factorise_{label}"), |b| b.iter(|| problem.model().unwrap()));
    let model = problem.model().unwrap();
    let shot = problem.shot(&model).unwrap();
    let mut state = shot.initial_state();
    group.throughput(Throughput::Elements((n * n) as u64));
    group.sample_size(50);
    let mut step = 0;
    group.bench_function(format!("step_{label}"), |b| {
        b.iter(|| {
            shot.step(step, &mut state);
            step += 1;
        })
    });
    let mut adjoint = shot.initial_adjoint();
    adjoint.mu.copy_from_slice(&state.u);
    let mut gradient = vec![0.0; shot.parameters()];
    group.bench_function(format!("adjoint_step_{label}"), |b| {
        b.iter(|| {
            // a fresh step index each call: the cached u^{n+1} never matches,
            // so this times the worst case (one extra solve)
            shot.step_adjoint(step, &state, &mut adjoint, &mut gradient);
            step += 2;
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let all = std::env::var_os("PDEINV_BENCH_ALL").is_some();
    for n in sizes() {
        run(c, n, FillOrdering::default(), Parallelism::Rows, "dissection");
        if all {
            run(c, n, FillOrdering::Amd, Parallelism::Rows, "amd");
            run(c, n, FillOrdering::default(), Parallelism::Serial, "dissection_serial");
        }
    }
}

#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(diffusion, super::benches);
}
use group::diffusion;
criterion_main!(diffusion);
