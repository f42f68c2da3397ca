//! The benchmark problem shared with the SciPy anchor
//! (`shared/anchors/scipy_diffusion.py`): Crank-Nicolson on the unit square
//! with `N × N` unknowns at spacing `h = 1/(N+1)` (points `h, 2h, …, 1−h`
//! along each axis), `κ = 1 + 0.5 sin(3z) cos(2x)` (z the first axis, as
//! the anchor's `X`), Dirichlet on every side, `dt = 1e-4` and the initial
//! condition `exp(−100((z−½)² + (x−½)²))`, no sources or receivers.
//!
//! The anchor's Dirichlet ghost value sits a whole cell outside the first
//! unknown, ours half a cell: the matrices have the same sparsity and differ
//! only on the boundary diagonal, so the timings compare like for like.

use super::{
    Boundaries, Boundary, DiffusionConfig, DiffusionError, DiffusionModel, DiffusionShot, Scheme, SourceTimeFunctions,
};
use crate::propagator::Parallelism;
use pdeinv_grid::Grid;

/// Time step of the benchmark.
pub const BENCHMARK_DT: f64 = 1e-4;

/// The benchmark problem: configuration, `κ` and the initial condition.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffusionBenchmark {
    /// Grid, scheme (Crank-Nicolson), boundaries, `dt`, `nt = steps + 1`.
    pub config: DiffusionConfig,
    /// `1 + 0.5 sin(3z) cos(2x)` per cell.
    pub kappa: Vec<f64>,
    /// The Gaussian initial condition per cell.
    pub initial: Vec<f64>,
}

impl DiffusionBenchmark {
    /// The problem with `n × n` unknowns (`n ≥ 2`) run for `steps ≥ 1` time
    /// steps, with the given thread use.
    pub fn new(n: usize, steps: usize, parallelism: Parallelism) -> Result<Self, DiffusionError> {
        if n < 2 || steps < 1 {
            return Err(DiffusionError::Invalid(format!(
                "the diffusion benchmark needs n >= 2 and at least one step (got n = {n}, steps = {steps})"
            )));
        }
        let h = 1.0 / (n as f64 + 1.0);
        let grid = Grid { dimension: 2, nz: n, nx: n, dz: h, dx: h, z0: h, x0: h };
        let mut kappa = Vec::with_capacity(n * n);
        let mut initial = Vec::with_capacity(n * n);
        for iz in 0..n {
            for ix in 0..n {
                let (z, x) = grid.coordinates(iz, ix);
                kappa.push(1.0 + 0.5 * (3.0 * z).sin() * (2.0 * x).cos());
                initial.push((-100.0 * ((z - 0.5).powi(2) + (x - 0.5).powi(2))).exp());
            }
        }
        let mut config = DiffusionConfig::new(
            grid,
            Scheme::CrankNicolson,
            Boundaries::all(Boundary::Dirichlet),
            BENCHMARK_DT,
            steps + 1,
        );
        config.parallelism = parallelism;
        Ok(DiffusionBenchmark { config, kappa, initial })
    }

    /// Build (and factorise) the model: the factorisation the anchor times.
    pub fn model(&self) -> Result<DiffusionModel, DiffusionError> {
        DiffusionModel::new(self.config.clone(), &self.kappa)
    }

    /// The shot to step: no sources or receivers, the Gaussian initial condition.
    pub fn shot<'a>(&self, model: &'a DiffusionModel) -> Result<DiffusionShot<'a>, DiffusionError> {
        model.shot(&[], SourceTimeFunctions::PerSource(&[]), &[])?.with_initial_condition(&self.initial)
    }
}
