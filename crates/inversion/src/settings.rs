//! What shapes an inversion, apart from the data and the starting model:
//! plain data, filled from the scenario's `[inversion]` table by the io
//! crate and read by the inversion loop.

use crate::misfit::MisfitKind;
use crate::model_map::{MaskSpec, Parameterization};
use crate::regularization::Regularization;

/// Which optimiser runs the inversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimizer {
    /// L-BFGS with `memory` correction pairs and a strong-Wolfe line search.
    Lbfgs {
        /// Correction pairs kept.
        memory: usize,
    },
    /// Nonlinear conjugate gradient (Polak-Ribière+).
    ConjugateGradient,
    /// Steepest descent with Armijo backtracking.
    SteepestDescent,
}

/// How to condition the gradient.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Preconditioner {
    /// None: the plain gradient.
    None,
    /// Divide by the source illumination `Σ u²` plus `epsilon` times its
    /// maximum (the diagonal pseudo-Hessian).
    Illumination {
        /// Stabilisation, relative to the largest illumination.
        epsilon: f64,
    },
    /// The default: illumination with `epsilon = 0.01`.
    #[default]
    Default,
}

/// Everything that shapes an inversion, apart from the data and the
/// starting model.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Iterations in all (spread over the bands).
    pub iterations: usize,
    /// Velocity bounds (m/s).
    pub bounds: Option<(f64, f64)>,
    /// Representation of the velocity.
    pub parameterization: Parameterization,
    /// Data misfit.
    pub misfit: MisfitKind,
    /// Penalty on the model's roughness.
    pub regularization: Option<Regularization>,
    /// Gradient conditioning.
    pub preconditioner: Preconditioner,
    /// Frozen cells.
    pub mask: MaskSpec,
    /// Smoothing of the update (standard deviation, m).
    pub smoothing: Option<f64>,
    /// Low-pass cutoffs (Hz) of the bands, in order; empty: one band with
    /// the data as recorded.
    pub bands: Vec<f64>,
    /// Largest change of the first update, relative to the mean velocity.
    pub first_step: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            optimizer: Optimizer::Lbfgs { memory: 5 },
            iterations: 20,
            bounds: None,
            parameterization: Parameterization::Velocity,
            misfit: MisfitKind::LeastSquares,
            regularization: None,
            preconditioner: Preconditioner::Default,
            mask: MaskSpec::default(),
            smoothing: None,
            bands: Vec::new(),
            first_step: 0.02,
        }
    }
}

impl Settings {
    /// Number of bands (at least one).
    pub fn band_count(&self) -> usize {
        self.bands.len().max(1)
    }

    /// Iterations given to band `band`: an even share, the remainder to
    /// the last bands.
    pub fn band_iterations(&self, band: usize) -> usize {
        let bands = self.band_count();
        let share = self.iterations / bands;
        let extra = self.iterations % bands;
        share + usize::from(band >= bands - extra)
    }
}
