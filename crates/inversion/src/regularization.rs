//! Regularisation of a gridded model `m` (`[nz, nx]`, or `[nx]` in 1D):
//! penalties on its spatial gradient, computed with forward differences
//! `D_x m = (m[i, j+1] − m[i, j]) / dx` (and `D_z` likewise) on every
//! interior face.
//!
//! - **Tikhonov**: `R = ½ α Σ_faces (D m)²`, gradient `α Dᵀ D m`;
//! - **total variation** (smoothed): `R = α Σ_cells sqrt((D_x m)² + (D_z m)² + ε²)`,
//!   with the differences taken forwards from each cell (zero past the last
//!   row/column); it keeps sharp interfaces that Tikhonov blurs.
//!
//! Both return the value and add their gradient; the Taylor tests below
//! check the gradients.

use pdeinv_grid::Grid;

/// A penalty on the model's spatial gradient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Regularization {
    /// `½ α Σ (D m)²`.
    Tikhonov {
        /// Weight α.
        weight: f64,
    },
    /// `α Σ sqrt(|D m|² + ε²)`.
    TotalVariation {
        /// Weight α.
        weight: f64,
        /// Smoothing ε (units of the model per metre).
        epsilon: f64,
    },
}

impl Regularization {
    /// The penalty of `m` on `grid`; its gradient is added to `gradient`.
    pub fn evaluate(&self, grid: &Grid, m: &[f64], gradient: &mut [f64]) -> f64 {
        let (nz, nx) = (if grid.dimension == 2 { grid.nz } else { 1 }, grid.nx);
        let (dz, dx) = (grid.dz, grid.dx);
        match *self {
            Regularization::Tikhonov { weight } => {
                let mut value = 0.0;
                for iz in 0..nz {
                    for ix in 0..nx {
                        let i = iz * nx + ix;
                        if ix + 1 < nx {
                            let d = (m[i + 1] - m[i]) / dx;
                            value += 0.5 * weight * d * d;
                            gradient[i + 1] += weight * d / dx;
                            gradient[i] -= weight * d / dx;
                        }
                        if iz + 1 < nz {
                            let d = (m[i + nx] - m[i]) / dz;
                            value += 0.5 * weight * d * d;
                            gradient[i + nx] += weight * d / dz;
                            gradient[i] -= weight * d / dz;
                        }
                    }
                }
                value
            }
            Regularization::TotalVariation { weight, epsilon } => {
                let mut value = 0.0;
                for iz in 0..nz {
                    for ix in 0..nx {
                        let i = iz * nx + ix;
                        let gx = if ix + 1 < nx { (m[i + 1] - m[i]) / dx } else { 0.0 };
                        let gz = if iz + 1 < nz { (m[i + nx] - m[i]) / dz } else { 0.0 };
                        let norm = (gx * gx + gz * gz + epsilon * epsilon).sqrt();
                        value += weight * norm;
                        if ix + 1 < nx {
                            let c = weight * gx / (norm * dx);
                            gradient[i + 1] += c;
                            gradient[i] -= c;
                        }
                        if iz + 1 < nz {
                            let c = weight * gz / (norm * dz);
                            gradient[i + nx] += c;
                            gradient[i] -= c;
                        }
                    }
                }
                value
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pdeinv_adjoint::verify::pseudo_random;

    fn assert_taylor(regularization: Regularization, grid: &Grid) {
        let n = grid.nz.max(1) * grid.nx;
        let m: Vec<f64> = pseudo_random(1, n).iter().map(|r| 2000.0 + 100.0 * r).collect();
        let delta: Vec<f64> = pseudo_random(2, n).iter().map(|r| 50.0 * r).collect();
        let mut g = vec![0.0; n];
        let r0 = regularization.evaluate(grid, &m, &mut g);
        let slope: f64 = g.iter().zip(&delta).map(|(a, b)| a * b).sum();
        let mut previous: Option<f64> = None;
        for k in 0..5 {
            let h = 0.1 / 2f64.powi(k);
            let moved: Vec<f64> = m.iter().zip(&delta).map(|(a, b)| a + h * b).collect();
            let remainder = (regularization.evaluate(grid, &moved, &mut vec![0.0; n]) - r0 - h * slope).abs();
            if let Some(prev) = previous {
                let order = (prev / remainder).log2();
                assert!((order - 2.0).abs() < 0.1, "{regularization:?}: order {order}");
            }
            previous = Some(remainder);
        }
    }

    #[test]
    fn gradients_pass_the_taylor_test_in_1d_and_2d() {
        let grid2 = Grid::new_2d(7, 9, 10.0, 12.0).unwrap();
        let grid1 = Grid::new_1d(15, 10.0).unwrap();
        for grid in [&grid1, &grid2] {
            assert_taylor(Regularization::Tikhonov { weight: 0.3 }, grid);
            assert_taylor(Regularization::TotalVariation { weight: 0.3, epsilon: 1.0 }, grid);
        }
    }

    #[test]
    fn constant_models_cost_nothing_but_epsilon() {
        let grid = Grid::new_2d(4, 5, 10.0, 10.0).unwrap();
        let m = vec![2500.0; 20];
        let mut g = vec![0.0; 20];
        assert_eq!(Regularization::Tikhonov { weight: 1.0 }.evaluate(&grid, &m, &mut g), 0.0);
        let tv = Regularization::TotalVariation { weight: 2.0, epsilon: 0.5 }.evaluate(&grid, &m, &mut g);
        assert!((tv - 2.0 * 0.5 * 20.0).abs() < 1e-12);
        assert!(g.iter().all(|&v| v == 0.0));
    }
}
