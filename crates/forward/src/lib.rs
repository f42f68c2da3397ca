//! Forward physics: discrete time-stepping maps `S_{n+1} = F_n(S_n; m)` with
//! observations `d_n = R S_n`, generic over `f32`/`f64`.
//!
//! Now: the constant-density acoustic wave equation in 1D and 2D
//! ([`acoustic`]), with CPML or sponge absorbing layers and an optional free
//! surface; wavelets ([`wavelet`]); sparse source/receiver operators
//! ([`points`]); stability and dispersion guards ([`stability`]).
//!
//! Invariant: this crate knows nothing about checkpointing, optimisers, files
//! or the command line. Each operator's step is written so that its exact
//! discrete adjoint can sit beside it in the same file. Kernels allocate
//! nothing inside the time loop: callers own the state.

pub mod acoustic;
pub mod aligned;
pub mod cache;
pub mod diffusion;
pub mod error;
pub mod points;
pub mod propagator;
pub mod real;
pub mod stability;
pub mod subnormal;
pub mod wavelet;

pub use error::ForwardError;
pub use propagator::{AdjointPropagator, Parallelism, Propagator, record};
pub use real::Real;
