//! Uniform grids: shape, spacing and origin, with the coordinate checks every
//! solver needs.

use thiserror::Error;

/// A problem with grid geometry; the message names the offending value.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum GridError {
    /// A point lies outside the grid.
    #[error(
        "{what} at {position:?} m lies outside the grid, which spans z in [{z_min}, {z_max}] m and x in [{x_min}, {x_max}] m"
    )]
    PointOutside {
        /// What the point is (for example "source 3").
        what: String,
        /// The point, `[z, x]` (or `[x]` in 1D).
        position: Vec<f64>,
        /// Grid extent.
        z_min: f64,
        /// Grid extent.
        z_max: f64,
        /// Grid extent.
        x_min: f64,
        /// Grid extent.
        x_max: f64,
    },
    /// A shape or spacing that cannot describe a grid.
    #[error("invalid grid: {0}")]
    Invalid(String),
}

/// A uniform grid. 2D grids are `[nz, nx]` with z the slow axis; a 1D grid
/// has `nz = 1` and `dimension = 1` (its z spacing is unused).
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// 1 or 2.
    pub dimension: usize,
    /// Number of points along z (1 in 1D).
    pub nz: usize,
    /// Number of points along x.
    pub nx: usize,
    /// Spacing along z in metres (equal to `dx` in 1D).
    pub dz: f64,
    /// Spacing along x in metres.
    pub dx: f64,
    /// Coordinate of the first point along z, metres.
    pub z0: f64,
    /// Coordinate of the first point along x, metres.
    pub x0: f64,
}

impl Grid {
    /// A 2D grid `[nz, nx]` with spacings `[dz, dx]` and origin 0.
    pub fn new_2d(nz: usize, nx: usize, dz: f64, dx: f64) -> Result<Self, GridError> {
        let grid = Grid { dimension: 2, nz, nx, dz, dx, z0: 0.0, x0: 0.0 };
        grid.validate()?;
        Ok(grid)
    }

    /// A 1D grid of `nx` points with spacing `dx` and origin 0.
    pub fn new_1d(nx: usize, dx: f64) -> Result<Self, GridError> {
        let grid = Grid { dimension: 1, nz: 1, nx, dz: dx, dx, z0: 0.0, x0: 0.0 };
        grid.validate()?;
        Ok(grid)
    }

    fn validate(&self) -> Result<(), GridError> {
        let min_points = 2;
        if self.nx < min_points || (self.dimension == 2 && self.nz < min_points) {
            return Err(GridError::Invalid(format!(
                "shape [{}, {}] needs at least {min_points} points along each axis",
                self.nz, self.nx
            )));
        }
        for (name, h) in [("dz", self.dz), ("dx", self.dx)] {
            if !(h.is_finite() && h > 0.0) {
                return Err(GridError::Invalid(format!(
                    "spacing {name} = {h} must be a positive finite number of metres"
                )));
            }
        }
        Ok(())
    }

    /// Number of grid points.
    pub fn len(&self) -> usize {
        self.nz * self.nx
    }

    /// Whether the grid has no points (never, for a validated grid).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cell volume: `dz·dx` in 2D, `dx` in 1D (m² or m).
    pub fn cell_volume(&self) -> f64 {
        if self.dimension == 2 { self.dz * self.dx } else { self.dx }
    }

    /// Smallest spacing among the active axes.
    pub fn min_spacing(&self) -> f64 {
        if self.dimension == 2 { self.dz.min(self.dx) } else { self.dx }
    }

    /// Shape as a vector: `[nz, nx]` in 2D, `[nx]` in 1D.
    pub fn shape(&self) -> Vec<usize> {
        if self.dimension == 2 { vec![self.nz, self.nx] } else { vec![self.nx] }
    }

    /// Spacing as a vector: `[dz, dx]` in 2D, `[dx]` in 1D.
    pub fn spacing(&self) -> Vec<f64> {
        if self.dimension == 2 { vec![self.dz, self.dx] } else { vec![self.dx] }
    }

    /// Coordinates `(z, x)` of grid point `(iz, ix)`.
    pub fn coordinates(&self, iz: usize, ix: usize) -> (f64, f64) {
        (self.z0 + iz as f64 * self.dz, self.x0 + ix as f64 * self.dx)
    }

    /// Check that `(z, x)` lies inside the grid (closed extent, a tolerance
    /// of 1e-9 cells for round-off). In 1D `z` is ignored.
    pub fn check_inside(&self, what: &str, z: f64, x: f64) -> Result<(), GridError> {
        let (z_max, x_max) = self.coordinates(self.nz - 1, self.nx - 1);
        let tol_z = 1e-9 * self.dz;
        let tol_x = 1e-9 * self.dx;
        let inside_x = x.is_finite() && x >= self.x0 - tol_x && x <= x_max + tol_x;
        let inside_z = self.dimension == 1 || (z.is_finite() && z >= self.z0 - tol_z && z <= z_max + tol_z);
        if inside_x && inside_z {
            Ok(())
        } else {
            Err(GridError::PointOutside {
                what: what.to_string(),
                position: if self.dimension == 2 { vec![z, x] } else { vec![x] },
                z_min: self.z0,
                z_max,
                x_min: self.x0,
                x_max,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_spacing_and_shape() {
        assert!(Grid::new_2d(10, 10, 0.0, 1.0).is_err());
        assert!(Grid::new_2d(1, 10, 1.0, 1.0).is_err());
        assert!(Grid::new_1d(10, f64::NAN).is_err());
        assert!(Grid::new_1d(10, 2.0).is_ok());
    }

    #[test]
    fn inside_check_names_the_point() {
        let g = Grid::new_2d(11, 21, 10.0, 10.0).unwrap();
        assert!(g.check_inside("source 0", 50.0, 200.0).is_ok());
        let err = g.check_inside("receiver 4", 50.0, 201.0).unwrap_err().to_string();
        assert!(err.contains("receiver 4") && err.contains("[0, 200]"), "{err}");
    }
}
