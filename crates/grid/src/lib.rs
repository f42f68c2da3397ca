//! Geometry without physics: uniform grids in 1D and 2D, finite-difference
//! weights of any even order (Fornberg's algorithm), and the weights that move
//! a value between an off-grid point and the grid (bilinear, or Hicks'
//! Kaiser-windowed sinc).
//!
//! Invariant: this crate knows nothing about PDEs, files or the command line.
//! Arrays are row-major `[nz, nx]` with z (depth) the slow axis; a 1D grid is
//! a 2D grid with `nz = 1`.

pub mod fd;
pub mod geometry;
pub mod interp;
pub mod smooth;

pub use fd::{central_first_derivative, central_second_derivative, fornberg_weights};
pub use geometry::{Grid, GridError};
pub use interp::{Interpolation, PointWeights, point_weights};
