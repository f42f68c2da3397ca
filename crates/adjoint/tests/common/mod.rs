//! The small acoustic problem the adjoint tests share: grid, boundary,
//! order, free surface and steps, a smooth velocity model and off-grid
//! acquisition.

use pdeinv_forward::Parallelism;
use pdeinv_forward::acoustic::{AcousticConfig, Boundary, PairFusion};
use pdeinv_grid::{Grid, Interpolation, PointWeights, point_weights};

/// A small problem: grid, boundary, order, free surface, steps.
#[derive(Clone)]
pub struct Case {
    pub grid: Grid,
    pub order: usize,
    pub boundary: Boundary,
    pub free_surface: bool,
    pub nt: usize,
}

impl Case {
    pub fn config(&self) -> AcousticConfig {
        AcousticConfig {
            grid: self.grid.clone(),
            space_order: self.order,
            dt: 1.0e-3,
            nt: self.nt,
            boundary: self.boundary,
            free_surface: self.free_surface,
            dominant_frequency: 15.0,
            cpml_velocity: None,
            parallelism: Parallelism::Rows,
            // the driver's fused pairs on these small grids too
            pair_fusion: PairFusion::Always,
        }
    }

    /// A smoothly varying velocity model around 2000 m/s (`scale` perturbs it).
    pub fn velocity(&self, scale: f64) -> Vec<f64> {
        let g = &self.grid;
        (0..g.len())
            .map(|i| {
                scale * (2000.0 + 150.0 * ((i % g.nx) as f64 * 0.3).sin() + 100.0 * ((i / g.nx) as f64 * 0.2).cos())
            })
            .collect()
    }

    /// Off-grid source and receivers (interpolation included in the tests);
    /// in 1D the source sits near the right layer so the wave reaches both.
    pub fn acquisition(&self) -> (PointWeights, Vec<PointWeights>) {
        let g = &self.grid;
        let scheme = Interpolation::Hicks { radius: 3 };
        let (z_max, x_max) = ((g.nz - 1) as f64 * g.dz, (g.nx - 1) as f64 * g.dx);
        let source = point_weights(g, "source", 0.37 * z_max, 0.41 * x_max, scheme).unwrap();
        let receivers = (0..5)
            .map(|r| {
                point_weights(g, "receiver", 0.23 * z_max + 3.3 * r as f64, (0.15 + 0.17 * r as f64) * x_max, scheme)
                    .unwrap()
            })
            .collect();
        (source, receivers)
    }
}
