//! From a validated scenario to solver inputs: the models, the time step
//! (chosen from the stability limit when the scenario omits it), the
//! acquisition as interpolation weights, the wavelet, and accuracy warnings.

use crate::error::IoError;
use crate::models;
use crate::scenario::{Physics, Scenario};
use pdeinv_forward::acoustic::{AcousticConfig, PairFusion, velocity_range};
use pdeinv_forward::{ForwardError, Parallelism, stability};
use pdeinv_grid::{PointWeights, point_weights};

/// Sources and receivers of one shot.
#[derive(Debug, Clone)]
pub struct ShotGeometry {
    /// Source position `[z, x]` (m).
    pub source_position: [f64; 2],
    /// Source interpolation weights.
    pub source: PointWeights,
    /// Receiver positions `[z, x]` (m).
    pub receiver_positions: Vec<[f64; 2]>,
    /// Receiver interpolation weights.
    pub receivers: Vec<PointWeights>,
}

/// Everything the acoustic solver needs for a scenario and a model.
#[derive(Debug, Clone)]
pub struct AcousticSetup {
    /// Solver configuration (grid, order, dt, nt, boundary).
    pub config: AcousticConfig,
    /// Source wavelet sampled at `t_n`.
    pub wavelet: Vec<f64>,
    /// One entry per shot.
    pub shots: Vec<ShotGeometry>,
    /// Accuracy warnings (under-resolved wavelengths).
    pub warnings: Vec<String>,
}

fn scenario_error(scenario: &Scenario, message: String) -> IoError {
    IoError::Scenario { path: scenario.path.clone(), message }
}

/// The true model of `scenario`.
pub fn true_model(scenario: &Scenario) -> Result<Vec<f64>, IoError> {
    models::build(&scenario.true_model, &scenario.grid, None, "model.true", &scenario.path)
}

/// The starting model of `scenario` (its `[model.initial]`).
pub fn initial_model(scenario: &Scenario) -> Result<Vec<f64>, IoError> {
    let spec = scenario.initial_model.as_ref().ok_or_else(|| {
        scenario_error(
            scenario,
            "[model.initial] is missing; add one (constant, layers, camembert, file or smooth)".into(),
        )
    })?;
    let truth = true_model(scenario)?;
    models::build(spec, &scenario.grid, Some(&truth), "model.initial", &scenario.path)
}

/// The time step of `scenario`: its `dt`, or 0.8 of the stability limit for
/// the largest velocity `v_max` when it gives none.
pub fn time_step(scenario: &Scenario, v_max: f64) -> f64 {
    scenario.dt.unwrap_or_else(|| {
        stability::DEFAULT_CFL_FRACTION * stability::stable_dt(&scenario.grid, scenario.space_order, v_max)
    })
}

/// The time step for modelling data of `scenario` that will also be
/// inverted: stable for the true model, the starting model and the upper
/// velocity bound of `[inversion]`, so `pdeinv forward` data can be given to
/// `pdeinv invert --data` unchanged.
pub fn data_time_step(scenario: &Scenario) -> Result<f64, IoError> {
    if scenario.physics == Physics::Diffusion {
        return scenario.dt.ok_or_else(|| scenario_error(scenario, "time.dt is required for diffusion".into()));
    }
    let mut v_max = true_model(scenario)?.iter().copied().fold(0.0, f64::max);
    if scenario.initial_model.is_some() {
        v_max = initial_model(scenario)?.iter().copied().fold(v_max, f64::max);
    }
    if let Some((_, hi)) = scenario.inversion_settings()?.bounds {
        v_max = v_max.max(hi);
    }
    Ok(time_step(scenario, v_max))
}

/// Set up the acoustic solver for `scenario` with velocity `vp` (m/s) and
/// time step `dt` (see [`time_step`]; a data file's `dt` when modelling
/// against recorded data). The CPML is tuned to `vp`'s largest velocity
/// and stays so for every model run with this setup, so misfits of nearby
/// models differ only through the model, as their gradients assume.
pub fn acoustic(scenario: &Scenario, vp: &[f64], dt: f64, parallelism: Parallelism) -> Result<AcousticSetup, IoError> {
    if scenario.physics != Physics::Acoustic {
        return Err(scenario_error(
            scenario,
            "problem.physics = \"diffusion\": this command models acoustic waves; diffusion scenarios run with forward, invert and sample".into(),
        ));
    }
    let grid = &scenario.grid;
    let (v_min, v_max) = velocity_range(vp).map_err(|e| match e {
        ForwardError::InvalidModel { value, index, .. } => {
            let (iz, ix) = (index / grid.nx, index % grid.nx);
            let at = if grid.dimension == 2 { format!("[{iz}, {ix}]") } else { format!("[{ix}]") };
            scenario_error(scenario, format!("the velocity model has the invalid value {value} at {at}: velocities must be finite and positive (m/s)"))
        }
        other => scenario_error(scenario, other.to_string()),
    })?;
    let limit = stability::stable_dt(grid, scenario.space_order, v_max);
    if dt > limit {
        let e = ForwardError::Unstable { dt, limit, order: scenario.space_order, v_max };
        return Err(scenario_error(scenario, format!("time.dt: {e}")));
    }
    let f_peak = scenario.wavelet.peak_frequency();
    let mut warnings = Vec::new();
    if let Some(w) =
        stability::dispersion_warning(grid, scenario.space_order, v_min, stability::ricker_max_frequency(f_peak))
    {
        warnings.push(w);
    }
    let weights = |what: String, p: &[f64; 2], scheme| {
        point_weights(grid, &what, p[0], p[1], scheme).map_err(|e| scenario_error(scenario, e.to_string()))
    };
    let receivers = scenario
        .receivers
        .iter()
        .enumerate()
        .map(|(i, p)| weights(format!("receivers.positions[{i}]"), p, scenario.receiver_interpolation))
        .collect::<Result<Vec<_>, _>>()?;
    let shots = scenario
        .sources
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(ShotGeometry {
                source_position: *p,
                source: weights(format!("source.positions[{i}]"), p, scenario.source_interpolation)?,
                receiver_positions: scenario.receivers.clone(),
                receivers: receivers.clone(),
            })
        })
        .collect::<Result<Vec<_>, IoError>>()?;
    let config = AcousticConfig {
        grid: grid.clone(),
        space_order: scenario.space_order,
        dt,
        nt: scenario.nt,
        boundary: scenario.boundary,
        free_surface: scenario.free_surface,
        dominant_frequency: f_peak,
        cpml_velocity: Some(v_max),
        parallelism,
        pair_fusion: PairFusion::Auto,
    };
    Ok(AcousticSetup { config, wavelet: scenario.wavelet.sample(dt, scenario.nt), shots, warnings })
}

/// Everything the diffusion solver needs for a scenario.
#[derive(Debug, Clone)]
pub struct DiffusionSetup {
    /// Solver configuration (grid, scheme, boundaries, dt, nt).
    pub config: pdeinv_forward::diffusion::DiffusionConfig,
    /// Source time function sampled at `t_n`.
    pub wavelet: Vec<f64>,
    /// One experiment per source; sensors by bilinear interpolation.
    pub shots: Vec<ShotGeometry>,
}

/// Set up the diffusion solver for `scenario` (`physics = "diffusion"`).
/// Sources and sensors use bilinear weights (the diffusion solver needs
/// weights on grid cells).
pub fn diffusion(scenario: &Scenario, parallelism: Parallelism) -> Result<DiffusionSetup, IoError> {
    use pdeinv_forward::diffusion::{Boundaries, DiffusionConfig};
    let solver = scenario.diffusion.ok_or_else(|| {
        scenario_error(scenario, "problem.physics is \"acoustic\"; this command needs a diffusion scenario".into())
    })?;
    let grid = &scenario.grid;
    let dt = scenario.dt.ok_or_else(|| scenario_error(scenario, "time.dt is required for diffusion".into()))?;
    let weights = |what: String, p: &[f64; 2]| {
        point_weights(grid, &what, p[0], p[1], pdeinv_grid::Interpolation::Bilinear)
            .map_err(|e| scenario_error(scenario, e.to_string()))
    };
    let receivers = scenario
        .receivers
        .iter()
        .enumerate()
        .map(|(i, p)| weights(format!("receivers.positions[{i}]"), p))
        .collect::<Result<Vec<_>, _>>()?;
    let shots = scenario
        .sources
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(ShotGeometry {
                source_position: *p,
                source: weights(format!("source.positions[{i}]"), p)?,
                receiver_positions: scenario.receivers.clone(),
                receivers: receivers.clone(),
            })
        })
        .collect::<Result<Vec<_>, IoError>>()?;
    let mut config =
        DiffusionConfig::new(grid.clone(), solver.scheme, Boundaries::all(solver.boundary), dt, scenario.nt);
    config.parallelism = parallelism;
    Ok(DiffusionSetup { config, wavelet: scenario.wavelet.sample(dt, scenario.nt), shots })
}
