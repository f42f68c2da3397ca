//! Everything that touches a file: scenario TOML (unknown keys rejected),
//! HDF5 layout v1 (models, shot data), model import from raw binary and
//! SEG-Y, and PNG figures. All output is written atomically.
//!
//! Invariant: no numerics here beyond unit conversion and building models from
//! the scenario's generators; the physics lives in `pdeinv-forward`.

pub mod atomic;
pub mod error;
pub mod figure;
pub mod h5;
pub mod inversion;
pub mod models;
pub mod process;
pub mod raw;
pub mod scenario;
pub mod segy;
pub mod setup;

pub use error::IoError;
