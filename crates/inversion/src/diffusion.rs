//! The diffusion calibration objective: the least-squares misfit of a
//! diffusivity map `κ` against sensor time series, and its exact gradient by
//! the discrete adjoint of the diffusion solver (implicit solves transposed
//! with the same factor), one experiment per source, summed in experiment
//! order (bitwise the same whatever the thread count).

use crate::fwi::{Evaluation, FwiShot};
use crate::run::DataObjective;
use pdeinv_adjoint::{Residuals, Strategy, gradient_two_level};
use pdeinv_forward::diffusion::{DiffusionConfig, DiffusionError, DiffusionModel, SourceTimeFunctions};
use pdeinv_forward::{ForwardError, Parallelism, Propagator};
use pdeinv_grid::Grid;
use rayon::prelude::*;

/// Misfit and gradient of `κ` against observed sensor data.
#[derive(Debug, Clone)]
pub struct DiffusionCalibration {
    /// Solver configuration (its `dt` and `nt` are the data's).
    pub config: DiffusionConfig,
    /// Source time function at `t_n`.
    pub wavelet: Vec<f64>,
    /// One experiment per source: its source, the sensors and the record.
    pub shots: Vec<FwiShot>,
    /// How each gradient trades memory for recomputation.
    pub strategy: Strategy,
}

fn forward_error(e: DiffusionError) -> ForwardError {
    match e {
        // a trial κ the solver cannot use: the line search steps back
        DiffusionError::InvalidKappa { value, index } => {
            ForwardError::InvalidModel { name: "kappa", value, index, unit: "m^2/s" }
        }
        DiffusionError::Unstable { dt, limit, .. } => ForwardError::Unstable { dt, limit, order: 2, v_max: f64::NAN },
        other => other.into(),
    }
}

impl DiffusionCalibration {
    fn per_shot<R: Send>(
        &self,
        kappa: &[f64],
        f: impl Fn(&pdeinv_forward::diffusion::DiffusionShot<'_>, &[f64]) -> R + Sync,
    ) -> Result<Vec<R>, ForwardError> {
        let model = DiffusionModel::new(self.config.clone(), kappa).map_err(forward_error)?;
        let run = |shot: &FwiShot| -> Result<R, ForwardError> {
            let experiment = model
                .shot(std::slice::from_ref(&shot.source), SourceTimeFunctions::Shared(&self.wavelet), &shot.receivers)
                .map_err(forward_error)?;
            Ok(f(&experiment, &shot.observed))
        };
        match self.config.parallelism {
            Parallelism::Serial => self.shots.par_iter().map(run).collect(),
            Parallelism::Rows => self.shots.iter().map(run).collect(),
        }
    }

    /// Synthetic records `[nt, sensors]` of every experiment for `kappa`.
    pub fn simulate(&self, kappa: &[f64]) -> Result<Vec<Vec<f64>>, ForwardError> {
        self.per_shot(kappa, |experiment, _| pdeinv_forward::record(experiment, |_| {}))
    }
}

impl DataObjective for DiffusionCalibration {
    fn grid(&self) -> &Grid {
        &self.config.grid
    }

    fn evaluate(&self, kappa: &[f64]) -> Result<Evaluation, ForwardError> {
        let steps = self.config.nt - 1;
        let schedule = self.strategy.schedule(steps);
        let runs = self.per_shot(kappa, |experiment, observed| {
            debug_assert_eq!(observed.len(), experiment.nt() * experiment.channels());
            gradient_two_level(experiment, Residuals::Observed(observed), &schedule)
        })?;
        let mut total = Evaluation { misfit: 0.0, gradient: vec![0.0; kappa.len()] };
        for run in runs {
            let run = run.map_err(|e| ForwardError::Invalid(e.to_string()))?;
            total.misfit += run.misfit;
            for (g, r) in total.gradient.iter_mut().zip(&run.gradient) {
                *g += r;
            }
        }
        Ok(total)
    }

    fn illumination(&self, _kappa: &[f64]) -> Result<Option<Vec<f64>>, ForwardError> {
        Ok(None)
    }

    fn filtered(&self, cutoff: f64) -> Self {
        let mut filtered = self.clone();
        crate::fwi::filter_band(cutoff, filtered.config.dt, &mut filtered.wavelet, &mut filtered.shots);
        filtered
    }
}
