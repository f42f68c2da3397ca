//! Exact discrete adjoints for any [`pdeinv_forward::Propagator`]: the
//! checkpoint schedules (pure data, unit-tested without a PDE), the driver
//! that computes the misfit and its gradient in one backward sweep, and the
//! verification tools (dot-product and Taylor tests).
//!
//! Invariant: this crate does not know which PDE it runs, and touches no
//! files except through its disk store.

pub mod boundary_saving;
pub mod driver;
pub mod schedule;
pub mod store;
pub mod strategy;
pub mod verify;

pub use boundary_saving::{
    ReversiblePropagator, boundary_saving_bytes, gradient_boundary_saving, gradient_boundary_saving_with_progress,
};
pub use driver::{
    AdjointSource, DriverError, GradientRun, Residuals, gradient, gradient_two_level, gradient_with_progress, misfit,
    misfit_of,
};
pub use schedule::{Action, Schedule};
pub use store::{DiskStore, StateBytes};
pub use strategy::{CostModel, DiskDir, Plan, Strategy, parse_bytes, plan_for_budget};
