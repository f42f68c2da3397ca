//! The acoustic full-waveform-inversion objective: the data misfit of a
//! velocity model over all shots and its exact gradient, one adjoint solve
//! per shot, shots spread over the rayon pool and summed in shot order (so
//! the result is bitwise the same whatever the thread count).

use crate::misfit::{MisfitKind, TraceMisfit};
use pdeinv_adjoint::{Residuals, Strategy, gradient_boundary_saving, gradient_two_level, misfit_of};
use pdeinv_forward::acoustic::{AcousticConfig, AcousticModel, ShotInput};
use pdeinv_forward::{ForwardError, Real};
use pdeinv_grid::PointWeights;

/// One shot's acquisition and observed record.
#[derive(Debug, Clone)]
pub struct FwiShot {
    /// Source interpolation weights.
    pub source: PointWeights,
    /// Receiver interpolation weights.
    pub receivers: Vec<PointWeights>,
    /// Observed traces `[nt, receivers]`.
    pub observed: Vec<f64>,
}

/// Low-pass filter the wavelet and every observed record to `cutoff` Hz
/// (a multiscale band; the same causal filter on both keeps them consistent).
pub(crate) fn filter_band(cutoff: f64, dt: f64, wavelet: &mut [f64], shots: &mut [FwiShot]) {
    let filter = crate::filter::LowPass::new(cutoff, dt);
    filter.apply(wavelet);
    for shot in shots {
        filter.apply_record(&mut shot.observed, shot.receivers.len());
    }
}

/// Floating-point precision of the wave simulations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimulationPrecision {
    /// Single precision (production).
    F32,
    /// Double precision (verification).
    F64,
}

/// Misfit and gradient of a velocity model against observed data.
#[derive(Debug, Clone)]
pub struct AcousticFwi {
    /// Solver configuration (its `dt` and `nt` are the data's).
    pub config: AcousticConfig,
    /// Source wavelet at `t_n`.
    pub wavelet: Vec<f64>,
    /// The shots.
    pub shots: Vec<FwiShot>,
    /// Misfit of each shot's record.
    pub misfit: MisfitKind,
    /// How each shot's gradient trades memory for recomputation.
    pub strategy: Strategy,
    /// Precision of the simulations.
    pub precision: SimulationPrecision,
}

/// What one evaluation returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Data misfit summed over shots.
    pub misfit: f64,
    /// `dJ/dv` per model cell.
    pub gradient: Vec<f64>,
}

impl AcousticFwi {
    /// Run `f` on every shot with its observed traces, results in shot
    /// order ([`AcousticModel::map_shots`]).
    fn per_shot<T: Real, R: Send>(
        &self,
        vp: &[f64],
        f: impl Fn(&pdeinv_forward::acoustic::AcousticShot<'_, T>, &[T]) -> R + Sync,
    ) -> Result<Vec<R>, ForwardError> {
        let model = AcousticModel::<T>::new(self.config.clone(), vp)?;
        model.map_shots(
            &self.shots,
            |shot| ShotInput { source: &shot.source, wavelet: &self.wavelet, receivers: &shot.receivers },
            |propagator, shot| {
                let observed: Vec<T> = shot.observed.iter().map(|&v| T::of(v)).collect();
                f(propagator, &observed)
            },
        )
    }

    fn evaluate_in<T: Real>(&self, vp: &[f64]) -> Result<Evaluation, ForwardError> {
        let steps = self.config.nt - 1;
        let schedule = self.strategy.schedule(steps);
        let channels =
            |shot: &pdeinv_forward::acoustic::AcousticShot<'_, T>| pdeinv_forward::Propagator::channels(shot);
        let runs = self.per_shot::<T, _>(vp, |shot, observed| {
            let misfit = TraceMisfit { kind: self.misfit, observed, channels: channels(shot) };
            match self.strategy {
                Strategy::BoundarySaving => gradient_boundary_saving(shot, Residuals::Misfit(&misfit)),
                _ => gradient_two_level(shot, Residuals::Misfit(&misfit), &schedule),
            }
        })?;
        let mut total = Evaluation { misfit: 0.0, gradient: vec![0.0; vp.len()] };
        for run in runs {
            let run = run.map_err(|e| ForwardError::Invalid(e.to_string()))?;
            total.misfit += run.misfit;
            for (g, r) in total.gradient.iter_mut().zip(&run.gradient) {
                *g += r;
            }
        }
        Ok(total)
    }

    /// Misfit and gradient with respect to the velocity of every cell.
    pub fn evaluate(&self, vp: &[f64]) -> Result<Evaluation, ForwardError> {
        match self.precision {
            SimulationPrecision::F32 => self.evaluate_in::<f32>(vp),
            SimulationPrecision::F64 => self.evaluate_in::<f64>(vp),
        }
    }

    fn misfit_in<T: Real>(&self, vp: &[f64]) -> Result<f64, ForwardError> {
        let values = self.per_shot::<T, _>(vp, |shot, observed| {
            let channels = pdeinv_forward::Propagator::channels(shot);
            misfit_of(shot, &TraceMisfit { kind: self.misfit, observed, channels })
        })?;
        Ok(values.into_iter().sum())
    }

    /// The data misfit alone (one forward sweep per shot).
    pub fn misfit(&self, vp: &[f64]) -> Result<f64, ForwardError> {
        match self.precision {
            SimulationPrecision::F32 => self.misfit_in::<f32>(vp),
            SimulationPrecision::F64 => self.misfit_in::<f64>(vp),
        }
    }

    /// Source illumination `Σ_shots Σ_n u²` per cell (the diagonal
    /// pseudo-Hessian), for preconditioning.
    pub fn illumination(&self, vp: &[f64]) -> Result<Vec<f64>, ForwardError> {
        let per_shot = match self.precision {
            SimulationPrecision::F32 => self.per_shot::<f32, _>(vp, |shot, _| shot.illumination())?,
            SimulationPrecision::F64 => self.per_shot::<f64, _>(vp, |shot, _| shot.illumination())?,
        };
        let mut total = vec![0.0; vp.len()];
        for energy in per_shot {
            for (t, e) in total.iter_mut().zip(&energy) {
                *t += e;
            }
        }
        Ok(total)
    }
}
