//! Inversion for pdeinv: the objective (data misfit plus regularisation),
//! model parameterisations, gradient-based optimisers with their line
//! searches, multiscale frequency continuation and gradient conditioning.
//!
//! This crate knows no files and no command line: the inversion loop reports
//! each iteration to the caller, which decides what to save and print.

pub mod diffusion;
pub mod filter;
pub mod fwi;
pub mod metrics;
pub mod misfit;
pub mod model_map;
pub mod noise;
pub mod optim;
pub mod posterior;
pub mod regularization;
pub mod run;
pub mod sampler;
pub mod settings;
