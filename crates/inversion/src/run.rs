//! The inversion loop: frequency bands one after another (multiscale), in
//! each band an optimiser over the conditioned variables of a
//! [`ModelMap`], one iteration per call so the caller can save the complete
//! [`Progress`] after every iteration and resume from it bitwise.
//!
//! A band starts from the model the previous band ended with: the observed
//! traces and the wavelet are low-pass filtered to the band's cutoff, the
//! illumination preconditioner is recomputed at that model, and the
//! optimiser starts afresh (its curvature pairs belong to the old band's
//! objective).

use crate::fwi::{AcousticFwi, Evaluation};
use crate::model_map::{ModelMap, Parameterization, Smoothing, illumination_scale};
use crate::optim::{self, BoundedSearch, Bounds, FirstStep, Method, Objective};
use crate::regularization::Regularization;
use crate::settings::{Optimizer, Preconditioner, Settings};
use pdeinv_forward::ForwardError;
use pdeinv_grid::Grid;
use thiserror::Error;

/// Errors of the inversion loop.
#[derive(Debug, Error)]
pub enum InversionError {
    /// A simulation could not run.
    #[error(transparent)]
    Forward(#[from] ForwardError),
    /// The settings do not fit the problem.
    #[error("{0}")]
    Settings(String),
    /// The optimiser could not start or go on.
    #[error("{0}")]
    Optimizer(String),
}

impl From<optim::OptimError<ForwardError>> for InversionError {
    fn from(e: optim::OptimError<ForwardError>) -> Self {
        match e {
            optim::OptimError::Objective(e) => InversionError::Forward(e),
            other => InversionError::Optimizer(other.to_string()),
        }
    }
}

/// The data side of an inversion: the misfit of a model (one value per grid
/// cell) against observed data and its exact gradient, for any physics.
pub trait DataObjective: Clone + Sync {
    /// The model grid.
    fn grid(&self) -> &Grid;
    /// Misfit and `dJ/dm` per cell.
    fn evaluate(&self, model: &[f64]) -> Result<Evaluation, ForwardError>;
    /// The diagonal pseudo-Hessian per cell for preconditioning, if the
    /// physics has one.
    fn illumination(&self, model: &[f64]) -> Result<Option<Vec<f64>>, ForwardError>;
    /// The same objective on data and sources low-pass filtered to `cutoff` Hz.
    fn filtered(&self, cutoff: f64) -> Self;
}

impl DataObjective for AcousticFwi {
    fn grid(&self) -> &Grid {
        &self.config.grid
    }

    fn evaluate(&self, model: &[f64]) -> Result<Evaluation, ForwardError> {
        AcousticFwi::evaluate(self, model)
    }

    fn illumination(&self, model: &[f64]) -> Result<Option<Vec<f64>>, ForwardError> {
        AcousticFwi::illumination(self, model).map(Some)
    }

    fn filtered(&self, cutoff: f64) -> Self {
        let mut fwi = self.clone();
        crate::fwi::filter_band(cutoff, fwi.config.dt, &mut fwi.wavelet, &mut fwi.shots);
        fwi
    }
}

/// The problem: the data objective on the recorded data (unfiltered) and
/// the source positions (for source masks).
#[derive(Debug, Clone)]
pub struct Problem<O = AcousticFwi> {
    /// The data objective on the recorded data.
    pub objective: O,
    /// Source positions `[z, x]` (m), for the source mask.
    pub source_positions: Vec<[f64; 2]>,
}

/// Where an inversion stands: everything needed to continue it.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Current band.
    pub band: usize,
    /// Iterations done in the current band.
    pub band_iteration: usize,
    /// Iterations done in all.
    pub iteration: usize,
    /// The current band's variable map.
    pub map: ModelMap,
    /// The optimiser's state in the current band.
    pub optimizer: optim::State,
    /// Set when the run has converged or used all its iterations.
    pub finished: bool,
}

/// What one iteration produced, for the caller to save and show.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationRecord {
    /// Iteration number (0: the starting model).
    pub iteration: usize,
    /// Band index.
    pub band: usize,
    /// The band's cutoff (Hz), if filtered.
    pub cutoff: Option<f64>,
    /// Velocity model after the iteration.
    pub model: Vec<f64>,
    /// `dJ/dv` at that model (data misfit plus regularisation).
    pub gradient: Vec<f64>,
    /// Data misfit at the model (in the band).
    pub misfit: f64,
    /// Objective: misfit plus regularisation.
    pub objective: f64,
    /// Step length accepted by the line search (0 for the start).
    pub step: f64,
    /// Misfit evaluations (gradients) used by the iteration.
    pub evaluations: usize,
}

/// The objective the optimiser sees: `J(v(x))` for one band.
struct BandObjective<'a, O> {
    fwi: &'a O,
    map: &'a ModelMap,
    regularization: Option<Regularization>,
    grid: &'a Grid,
    /// Every evaluation of the current iteration: `(x, data misfit, dJ/dv)`.
    seen: Vec<(Vec<f64>, f64, Vec<f64>)>,
}

impl<O: DataObjective> Objective for BandObjective<'_, O> {
    type Error = ForwardError;

    fn evaluate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), ForwardError> {
        let v = self.map.model(x);
        let Evaluation { misfit, mut gradient } = match self.fwi.evaluate(&v) {
            Ok(evaluation) => evaluation,
            // a trial model the solver cannot run (unstable for this dt, or
            // a non-positive velocity): an infinite objective makes the line
            // search step back
            Err(ForwardError::Unstable { .. } | ForwardError::InvalidModel { .. }) => {
                return Ok((f64::INFINITY, vec![0.0; x.len()]));
            }
            Err(e) => return Err(e),
        };
        let mut objective = misfit;
        if let Some(regularization) = &self.regularization {
            objective += regularization.evaluate(self.grid, &v, &mut gradient);
        }
        let gx = self.map.pullback(x, &gradient);
        self.seen.push((x.to_vec(), misfit, gradient));
        Ok((objective, gx))
    }
}

fn optimizer_options(settings: &Settings, map: &ModelMap, first_change: f64) -> Result<optim::Options, InversionError> {
    let bounds = match map.variable_bounds() {
        Some((lower, upper)) => {
            Some(Bounds::new(lower, upper).map_err(|e| InversionError::Settings(format!("inversion.bounds: {e}")))?)
        }
        None => None,
    };
    let method = match settings.optimizer {
        Optimizer::Lbfgs { memory } => Method::Lbfgs { memory },
        Optimizer::ConjugateGradient => Method::ConjugateGradient,
        Optimizer::SteepestDescent => Method::SteepestDescent,
    };
    let options = match method {
        Method::Lbfgs { memory } => optim::Options::lbfgs(memory),
        Method::ConjugateGradient => optim::Options::conjugate_gradient(),
        Method::SteepestDescent => optim::Options::steepest_descent(),
    };
    Ok(optim::Options {
        bounds,
        first_step: FirstStep::MaxChange(first_change),
        bounded_search: BoundedSearch::ProjectedWolfe,
        ..options
    })
}

/// The filtered problem of band `band`.
fn band_problem<O: DataObjective>(problem: &Problem<O>, settings: &Settings, band: usize) -> O {
    match settings.bands.get(band) {
        Some(&cutoff) => problem.objective.filtered(cutoff),
        None => problem.objective.clone(),
    }
}

fn first_change(settings: &Settings, reference_model: &[f64]) -> f64 {
    match settings.parameterization {
        Parameterization::Velocity => {
            settings.first_step * reference_model.iter().sum::<f64>() / reference_model.len().max(1) as f64
        }
        Parameterization::LogVelocity => settings.first_step,
    }
}

/// An inversion in progress.
pub struct Inversion<'a, O = AcousticFwi> {
    problem: &'a Problem<O>,
    settings: &'a Settings,
    band_fwi: O,
}

impl<'a, O: DataObjective> Inversion<'a, O> {
    /// Start from `initial` (velocity, m/s): sets up band 0 and evaluates
    /// the starting model (iteration 0).
    pub fn start(
        problem: &'a Problem<O>,
        settings: &'a Settings,
        initial: &[f64],
    ) -> Result<(Inversion<'a, O>, Progress, IterationRecord), InversionError> {
        let mut inversion = Inversion { problem, settings, band_fwi: band_problem(problem, settings, 0) };
        let mut start = initial.to_vec();
        if let Some((lo, hi)) = settings.bounds {
            start.iter_mut().for_each(|v| *v = v.clamp(lo, hi));
        }
        let (progress, record) = inversion.begin_band(0, 0, &start)?;
        Ok((inversion, progress, record))
    }

    /// Continue from saved `progress`.
    pub fn resume(problem: &'a Problem<O>, settings: &'a Settings, progress: &Progress) -> Inversion<'a, O> {
        Inversion { problem, settings, band_fwi: band_problem(problem, settings, progress.band) }
    }

    fn grid(&self) -> &Grid {
        self.problem.objective.grid()
    }

    /// Set up band `band` at `model`: map, optimiser state (one evaluation).
    fn begin_band(
        &mut self,
        band: usize,
        iteration: usize,
        model: &[f64],
    ) -> Result<(Progress, IterationRecord), InversionError> {
        let settings = self.settings;
        self.band_fwi = band_problem(self.problem, settings, band);
        let parameterization = settings.parameterization;
        let mut scale = settings.mask.weights(self.grid(), &self.problem.source_positions);
        let epsilon = match settings.preconditioner {
            Preconditioner::None => None,
            Preconditioner::Illumination { epsilon } => Some(epsilon),
            Preconditioner::Default => Some(0.01),
        };
        if let Some(epsilon) = epsilon
            && let Some(illumination) = self.band_fwi.illumination(model)?
        {
            for (s, p) in scale.iter_mut().zip(illumination_scale(&illumination, epsilon)) {
                *s *= p;
            }
        }
        let map = ModelMap {
            parameterization,
            reference: model.iter().map(|&v| parameterization.to_parameter(v)).collect(),
            scale,
            smoothing: settings.smoothing.map(|sigma| Smoothing::new(self.grid(), sigma)),
            bounds: settings.bounds,
        };
        let mut objective = BandObjective {
            fwi: &self.band_fwi,
            map: &map,
            regularization: settings.regularization,
            grid: self.problem.objective.grid(),
            seen: Vec::new(),
        };
        let state = optim::State::new(vec![0.0; model.len()], &mut objective)?;
        let (_, misfit, gradient) = objective.seen.pop().expect("State::new evaluates once");
        let record = IterationRecord {
            iteration,
            band,
            cutoff: settings.bands.get(band).copied(),
            model: map.model(&state.x),
            gradient,
            misfit,
            objective: state.value,
            step: 0.0,
            evaluations: 1,
        };
        let progress = Progress { band, band_iteration: 0, iteration, map, optimizer: state, finished: false };
        Ok((progress, record))
    }

    /// Run one iteration (switching to the next band first when the current
    /// one has used its iterations). Returns `None` when the run is over.
    pub fn iterate(&mut self, progress: &mut Progress) -> Result<Option<IterationRecord>, InversionError> {
        let settings = self.settings;
        if progress.iteration >= settings.iterations {
            progress.finished = true;
            return Ok(None);
        }
        if progress.band_iteration >= settings.band_iterations(progress.band) {
            if progress.band + 1 >= settings.band_count() {
                progress.finished = true;
                return Ok(None);
            }
            let model = progress.map.model(&progress.optimizer.x);
            let (next, _) = self.begin_band(progress.band + 1, progress.iteration, &model)?;
            *progress = next;
        }
        let reference_model: Vec<f64> = progress.map.model(&vec![0.0; progress.optimizer.x.len()]);
        let options = optimizer_options(settings, &progress.map, first_change(settings, &reference_model))?;
        let mut objective = BandObjective {
            fwi: &self.band_fwi,
            map: &progress.map,
            regularization: settings.regularization,
            grid: self.problem.objective.grid(),
            seen: Vec::new(),
        };
        let mut state = progress.optimizer.clone();
        let report = match optim::iterate(&options, &mut state, &mut objective) {
            Ok(report) => report,
            Err(optim::OptimError::Objective(e)) => return Err(e.into()),
            Err(e @ optim::OptimError::Invalid(_)) => return Err(e.into()),
            Err(optim::OptimError::NoDescentDirection | optim::OptimError::LineSearchFailed { .. }) => {
                // no decrease found even along the steepest descent: this
                // band has converged as far as the data allow
                progress.band_iteration = settings.band_iterations(progress.band);
                return self.iterate(progress);
            }
        };
        let (misfit, gradient) = objective
            .seen
            .iter()
            .rev()
            .find(|(x, _, _)| *x == state.x)
            .map(|(_, m, g)| (*m, g.clone()))
            .ok_or_else(|| InversionError::Settings("the optimiser accepted a point it never evaluated".into()))?;
        let model = progress.map.model(&state.x);
        progress.optimizer = state;
        progress.band_iteration += 1;
        progress.iteration += 1;
        Ok(Some(IterationRecord {
            iteration: progress.iteration,
            band: progress.band,
            cutoff: settings.bands.get(progress.band).copied(),
            model,
            gradient,
            misfit,
            objective: progress.optimizer.value,
            step: report.step,
            evaluations: report.evaluations,
        }))
    }
}

impl Progress {
    /// The progress as named vectors of numbers, for a run file; read back
    /// with [`Progress::from_named_vectors`], bitwise.
    pub fn to_named_vectors(&self) -> Vec<(String, Vec<f64>)> {
        let o = &self.optimizer;
        let mut out = vec![
            (
                "progress".to_string(),
                vec![
                    self.band as f64,
                    self.band_iteration as f64,
                    self.iteration as f64,
                    f64::from(u8::from(self.finished)),
                ],
            ),
            (
                "optimizer".to_string(),
                vec![o.iteration as f64, o.value, o.evaluations as f64, o.last_step, o.history_s.len() as f64],
            ),
            ("x".to_string(), o.x.clone()),
            ("gradient".to_string(), o.gradient.clone()),
            ("previous_direction".to_string(), o.previous_direction.clone()),
            ("previous_gradient".to_string(), o.previous_gradient.clone()),
            ("map_reference".to_string(), self.map.reference.clone()),
            ("map_scale".to_string(), self.map.scale.clone()),
        ];
        for (k, (s, y)) in o.history_s.iter().zip(&o.history_y).enumerate() {
            out.push((format!("history_s_{k:03}"), s.clone()));
            out.push((format!("history_y_{k:03}"), y.clone()));
        }
        out
    }

    /// Rebuild the progress saved by [`Progress::to_named_vectors`] for the
    /// same problem and settings.
    pub fn from_named_vectors<O: DataObjective>(
        vectors: &[(String, Vec<f64>)],
        problem: &Problem<O>,
        settings: &Settings,
    ) -> Result<Progress, String> {
        let get = |name: &str| -> Result<&Vec<f64>, String> {
            vectors
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
                .ok_or_else(|| format!("`/resume/{name}` is missing"))
        };
        let cells = problem.objective.grid().shape().iter().product::<usize>();
        let sized = |name: &str, allow_empty: bool| -> Result<Vec<f64>, String> {
            let v = get(name)?;
            if v.len() == cells || (allow_empty && v.is_empty()) {
                Ok(v.clone())
            } else {
                Err(format!("`/resume/{name}` has {} values; the model has {cells}", v.len()))
            }
        };
        let progress = get("progress")?;
        let optimizer = get("optimizer")?;
        if progress.len() != 4 || optimizer.len() != 5 {
            return Err("`/resume/progress` or `/resume/optimizer` has the wrong length".into());
        }
        let pairs = optimizer[4] as usize;
        let mut history_s = Vec::with_capacity(pairs);
        let mut history_y = Vec::with_capacity(pairs);
        for k in 0..pairs {
            history_s.push(sized(&format!("history_s_{k:03}"), false)?);
            history_y.push(sized(&format!("history_y_{k:03}"), false)?);
        }
        let parameterization = settings.parameterization;
        let map = ModelMap {
            parameterization,
            reference: sized("map_reference", false)?,
            scale: sized("map_scale", false)?,
            smoothing: settings.smoothing.map(|sigma| Smoothing::new(problem.objective.grid(), sigma)),
            bounds: settings.bounds,
        };
        let band = progress[0] as usize;
        if band >= settings.band_count() {
            return Err(format!("the run was in band {band} but the scenario has {} band(s)", settings.band_count()));
        }
        Ok(Progress {
            band,
            band_iteration: progress[1] as usize,
            iteration: progress[2] as usize,
            finished: progress[3] != 0.0,
            map,
            optimizer: optim::State {
                iteration: optimizer[0] as usize,
                x: sized("x", false)?,
                value: optimizer[1],
                gradient: sized("gradient", false)?,
                evaluations: optimizer[2] as usize,
                history_s,
                history_y,
                previous_direction: sized("previous_direction", true)?,
                previous_gradient: sized("previous_gradient", true)?,
                last_step: optimizer[3],
            },
        })
    }
}
