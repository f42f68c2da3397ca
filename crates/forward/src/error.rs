//! Errors of the forward solvers: each names the value at fault and what would
//! be valid.

use pdeinv_grid::GridError;
use thiserror::Error;

/// Invalid solver input.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ForwardError {
    /// Grid geometry problem (a point outside the grid, a bad shape).
    #[error(transparent)]
    Grid(#[from] GridError),
    /// The time step exceeds the stability limit.
    #[error(
        "time step dt = {dt} s exceeds the stability limit {limit:.6e} s for space order {order} and maximum velocity {v_max} m/s; use dt <= {limit:.6e} or omit dt to have it chosen"
    )]
    Unstable {
        /// The requested step.
        dt: f64,
        /// The largest stable step.
        limit: f64,
        /// The space order.
        order: usize,
        /// The largest velocity.
        v_max: f64,
    },
    /// A model value that no medium can have.
    #[error("{name} has an invalid value {value} at index {index}: it must be a finite positive number ({unit})")]
    InvalidModel {
        /// Parameter name ("vp").
        name: &'static str,
        /// The value.
        value: f64,
        /// Flat index `iz * nx + ix`.
        index: usize,
        /// Unit, for the message.
        unit: &'static str,
    },
    /// Any other invalid setting; the message names it.
    #[error("{0}")]
    Invalid(String),
}
