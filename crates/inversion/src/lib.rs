//! Inversion for pdeinv: the objective (data misfit plus regularisation),
//! model parameterisations, gradient-based optimisers with their line
//! searches, multiscale frequency continuation and gradient conditioning.
//!
//! This crate knows no files and no command line: the inversion loop reports
//! each iteration to the caller, which decides what to save and print.

pub mod filter;
pub mod fwi;
pub mod misfit;
pub mod model_map;
pub mod optim;
pub mod regularization;
pub mod run;
pub mod settings;
