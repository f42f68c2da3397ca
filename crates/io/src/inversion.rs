//! The scenario's `[inversion]` table: parsed with unknown keys rejected and
//! turned into [`Settings`] for the inversion loop.
//!
//! ```toml
//! [inversion]
//! optimizer = { lbfgs = { memory = 5 } }   # or "lbfgs", "conjugate-gradient", "steepest-descent"
//! iterations = 20
//! bounds = [1500.0, 4500.0]                # m/s, enforced by projection
//! parameterization = "velocity"            # or "log-velocity"
//! misfit = "least-squares"                 # or "correlation" (normalised cross-correlation per trace)
//! regularization = { tikhonov = 1e-4 }     # or { total_variation = { weight = 1e-3, epsilon = 0.1 } }
//! preconditioner = "illumination"          # or "none", or { illumination = { epsilon = 0.01 } }
//! mask = { water_depth = 100.0, source_radius = 50.0 }   # metres; frozen cells
//! smoothing = 60.0                         # metres: Gaussian smoothing of the update
//! bands = [3.0, 5.0]                       # Hz: low-pass cutoffs, one band each, in order
//! first_step = 0.02                        # largest change of the first update / mean velocity
//! ```

use crate::error::IoError;
use crate::scenario::Scenario;
use pdeinv_inversion::misfit::MisfitKind;
use pdeinv_inversion::model_map::{MaskSpec, Parameterization};
use pdeinv_inversion::regularization::Regularization;
use pdeinv_inversion::settings::{Optimizer, Preconditioner, Settings};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInversion {
    optimizer: Option<toml::Value>,
    iterations: Option<i64>,
    bounds: Option<Vec<f64>>,
    parameterization: Option<String>,
    misfit: Option<String>,
    regularization: Option<RawRegularization>,
    preconditioner: Option<toml::Value>,
    mask: Option<RawMask>,
    smoothing: Option<f64>,
    bands: Option<Vec<f64>>,
    first_step: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegularization {
    tikhonov: Option<f64>,
    total_variation: Option<RawTotalVariation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTotalVariation {
    weight: f64,
    epsilon: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMask {
    water_depth: Option<f64>,
    source_radius: Option<f64>,
}

impl Scenario {
    /// The inversion settings of `[inversion]` (defaults when absent).
    pub fn inversion_settings(&self) -> Result<Settings, IoError> {
        let fail = |message: String| IoError::Scenario { path: self.path.clone(), message };
        let mut settings = Settings::default();
        let Some(table) = &self.inversion else { return Ok(settings) };
        let raw = RawInversion::deserialize(toml::Value::Table(table.clone()))
            .map_err(|e| fail(format!("[inversion]: {}", e.message().trim())))?;
        if let Some(value) = &raw.optimizer {
            settings.optimizer = optimizer(value).map_err(fail)?;
        }
        if let Some(n) = raw.iterations {
            if n < 0 {
                return Err(fail(format!("inversion.iterations = {n} must be a non-negative integer")));
            }
            settings.iterations = n as usize;
        }
        if let Some(bounds) = raw.bounds {
            match bounds[..] {
                [lo, hi] if lo.is_finite() && hi.is_finite() && 0.0 < lo && lo < hi => settings.bounds = Some((lo, hi)),
                _ => {
                    return Err(fail(format!(
                        "inversion.bounds = {bounds:?} is not valid; give [lower, upper] with 0 < lower < upper (m/s)"
                    )));
                }
            }
        }
        if let Some(name) = raw.parameterization {
            settings.parameterization = match name.as_str() {
                "velocity" => Parameterization::Velocity,
                "log-velocity" | "log" => Parameterization::LogVelocity,
                other => {
                    return Err(fail(format!(
                        "inversion.parameterization = {other:?} is not known; use \"velocity\" (the parameter itself) or \"log-velocity\" (alias \"log\": its logarithm)"
                    )));
                }
            };
        }
        if let Some(name) = raw.misfit {
            settings.misfit = match name.as_str() {
                "least-squares" => MisfitKind::LeastSquares,
                "correlation" => MisfitKind::NormalizedCorrelation,
                other => {
                    return Err(fail(format!(
                        "inversion.misfit = {other:?} is not known; use \"least-squares\" or \"correlation\""
                    )));
                }
            };
        }
        if let Some(r) = raw.regularization {
            settings.regularization = match (r.tikhonov, r.total_variation) {
                (Some(weight), None) if weight >= 0.0 => Some(Regularization::Tikhonov { weight }),
                (None, Some(tv)) if tv.weight >= 0.0 && tv.epsilon.is_none_or(|e| e > 0.0) => {
                    Some(Regularization::TotalVariation { weight: tv.weight, epsilon: tv.epsilon.unwrap_or(1e-3) })
                }
                _ => {
                    return Err(fail(
                        "inversion.regularization must be one of { tikhonov = WEIGHT } or { total_variation = { weight = W, epsilon = E } } with non-negative weights and epsilon > 0".into(),
                    ));
                }
            };
        }
        if let Some(value) = &raw.preconditioner {
            settings.preconditioner = preconditioner(value).map_err(fail)?;
        }
        if let Some(mask) = raw.mask {
            for (key, value) in [("water_depth", mask.water_depth), ("source_radius", mask.source_radius)] {
                if value.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
                    return Err(fail(format!("inversion.mask.{key} must be a distance in metres (>= 0)")));
                }
            }
            settings.mask = MaskSpec { fixed_above: mask.water_depth, source_radius: mask.source_radius };
        }
        if let Some(sigma) = raw.smoothing {
            if !(sigma.is_finite() && sigma >= 0.0) {
                return Err(fail(format!("inversion.smoothing = {sigma} must be a length in metres (>= 0)")));
            }
            settings.smoothing = (sigma > 0.0).then_some(sigma);
        }
        if let Some(bands) = raw.bands {
            if bands.iter().any(|f| !(f.is_finite() && *f > 0.0)) || bands.windows(2).any(|w| w[0] >= w[1]) {
                return Err(fail(format!("inversion.bands = {bands:?} must be increasing positive frequencies (Hz)")));
            }
            settings.bands = bands;
        }
        if let Some(step) = raw.first_step {
            if !(step.is_finite() && step > 0.0 && step < 1.0) {
                return Err(fail(format!(
                    "inversion.first_step = {step} must be a fraction of the mean velocity in (0, 1), e.g. 0.02"
                )));
            }
            settings.first_step = step;
        }
        Ok(settings)
    }
}

fn optimizer(value: &toml::Value) -> Result<Optimizer, String> {
    let valid = "use \"lbfgs\", { lbfgs = { memory = M } }, \"conjugate-gradient\" or \"steepest-descent\"";
    let (name, inner) = match value {
        toml::Value::String(name) => (name.as_str(), None),
        toml::Value::Table(t) if t.len() == 1 => {
            let (name, inner) = t.iter().next().ok_or_else(|| valid.to_string())?;
            (name.as_str(), inner.as_table())
        }
        other => return Err(format!("inversion.optimizer = {other} is not valid; {valid}")),
    };
    let unknown = |allowed: &[&str]| -> Result<(), String> {
        for key in inner.map(|t| t.keys().collect::<Vec<_>>()).unwrap_or_default() {
            if !allowed.contains(&key.as_str()) {
                return Err(format!("unknown key `inversion.optimizer.{name}.{key}`; {valid}"));
            }
        }
        Ok(())
    };
    match name {
        "lbfgs" => {
            unknown(&["memory"])?;
            let memory = match inner.and_then(|t| t.get("memory")) {
                None => 5,
                Some(v) => match v.as_integer() {
                    Some(m) if (1..=100).contains(&m) => m as usize,
                    _ => return Err(format!("inversion.optimizer.lbfgs.memory = {v} must be an integer in 1..=100")),
                },
            };
            Ok(Optimizer::Lbfgs { memory })
        }
        "conjugate-gradient" => unknown(&[]).map(|_| Optimizer::ConjugateGradient),
        "steepest-descent" => unknown(&[]).map(|_| Optimizer::SteepestDescent),
        other => Err(format!("inversion.optimizer `{other}` is not known; {valid}")),
    }
}

fn preconditioner(value: &toml::Value) -> Result<Preconditioner, String> {
    let valid = "use \"none\", \"illumination\" or { illumination = { epsilon = E } } with E > 0";
    match value {
        toml::Value::String(name) if name == "none" => Ok(Preconditioner::None),
        toml::Value::String(name) if name == "illumination" => Ok(Preconditioner::Default),
        toml::Value::Table(t) if t.len() == 1 && t.contains_key("illumination") => {
            let inner = t["illumination"].as_table().ok_or_else(|| valid.to_string())?;
            if inner.keys().any(|k| k != "epsilon") {
                return Err(format!("inversion.preconditioner.illumination takes only `epsilon`; {valid}"));
            }
            match inner.get("epsilon").map(|v| v.as_float().or(v.as_integer().map(|i| i as f64))) {
                None => Ok(Preconditioner::Default),
                Some(Some(epsilon)) if epsilon > 0.0 && epsilon.is_finite() => {
                    Ok(Preconditioner::Illumination { epsilon })
                }
                _ => Err(format!("inversion.preconditioner.illumination.epsilon must be positive; {valid}")),
            }
        }
        other => Err(format!("inversion.preconditioner = {other} is not valid; {valid}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const BASE: &str = r#"
[problem]
physics = "acoustic"
dimension = 2
[grid]
shape = [20, 30]
spacing = [10.0, 10.0]
[model.true]
constant = 2000.0
[time]
nt = 100
[source]
wavelet = { ricker = { peak_frequency = 10.0 } }
positions = { points = [[50.0, 50.0]] }
[receivers]
positions = { points = [[50.0, 150.0]] }
"#;

    fn parse(inversion: &str) -> Result<Settings, IoError> {
        Scenario::parse(Path::new("s.toml"), &format!("{BASE}[inversion]\n{inversion}"))?.inversion_settings()
    }

    #[test]
    fn full_table_parses() {
        let s = parse(
            r#"optimizer = { lbfgs = { memory = 7 } }
iterations = 12
bounds = [1500.0, 4500.0]
parameterization = "log-velocity"
misfit = "correlation"
regularization = { total_variation = { weight = 0.5, epsilon = 0.1 } }
preconditioner = { illumination = { epsilon = 0.05 } }
mask = { water_depth = 30.0, source_radius = 20.0 }
smoothing = 40.0
bands = [3.0, 6.0]
first_step = 0.05
"#,
        )
        .unwrap();
        assert_eq!(s.optimizer, Optimizer::Lbfgs { memory: 7 });
        assert_eq!(s.iterations, 12);
        assert_eq!(s.bounds, Some((1500.0, 4500.0)));
        assert_eq!(s.parameterization, Parameterization::LogVelocity);
        assert_eq!(s.misfit, MisfitKind::NormalizedCorrelation);
        assert_eq!(s.regularization, Some(Regularization::TotalVariation { weight: 0.5, epsilon: 0.1 }));
        assert_eq!(s.preconditioner, Preconditioner::Illumination { epsilon: 0.05 });
        assert_eq!(s.mask, MaskSpec { fixed_above: Some(30.0), source_radius: Some(20.0) });
        assert_eq!(s.smoothing, Some(40.0));
        assert_eq!(s.bands, vec![3.0, 6.0]);
        assert_eq!(s.first_step, 0.05);
        assert_eq!(parse("optimizer = \"steepest-descent\"").unwrap().optimizer, Optimizer::SteepestDescent);
    }

    #[test]
    fn bad_values_name_the_key() {
        for (text, needle) in [
            ("optimizer = \"newton\"", "inversion.optimizer `newton`"),
            ("bounds = [3000.0, 2000.0]", "inversion.bounds"),
            ("misfit = \"l1\"", "inversion.misfit"),
            ("bands = [5.0, 3.0]", "inversion.bands"),
            ("iterationz = 3", "iterationz"),
            ("optimizer = { lbfgs = { memory = 0 } }", "memory"),
            ("preconditioner = \"diagonal\"", "inversion.preconditioner"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}

/// The scenario's `[sampling]` table (for `pdeinv sample`):
///
/// ```toml
/// [sampling]
/// zones = [4]                              # blocks per axis ([nz, nx] in 2D): the parameters
/// prior = { mean = 1.0, log_std = 0.5 }    # log-normal prior per zone (mean of the coefficient)
/// noise_std = 0.02                         # data noise; default: noise.relative × RMS of the data
/// burn_in = 300                            # adaptation steps before the kept samples
/// step = 0.05                              # initial MALA step
/// seed = 1
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingSettings {
    /// Zones per axis.
    pub zones: Vec<usize>,
    /// Prior median of the coefficient in every zone.
    pub prior_mean: f64,
    /// Prior standard deviation of its logarithm.
    pub prior_log_std: f64,
    /// Data noise standard deviation, if given.
    pub noise_std: Option<f64>,
    /// Burn-in (adaptation) iterations.
    pub burn_in: usize,
    /// Initial step size.
    pub step: f64,
    /// Seed of the chain.
    pub seed: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSampling {
    zones: Vec<usize>,
    prior: RawPrior,
    noise_std: Option<f64>,
    burn_in: Option<usize>,
    step: Option<f64>,
    seed: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrior {
    mean: f64,
    log_std: f64,
}

impl Scenario {
    /// The `[sampling]` table.
    pub fn sampling_settings(&self) -> Result<SamplingSettings, IoError> {
        let fail = |message: String| IoError::Scenario { path: self.path.clone(), message };
        let table = self.sampling.as_ref().ok_or_else(|| {
            fail(
                "[sampling] is missing; add zones = [...] and prior = { mean = M, log_std = S } (see the README)"
                    .into(),
            )
        })?;
        let raw = RawSampling::deserialize(toml::Value::Table(table.clone()))
            .map_err(|e| fail(format!("[sampling]: {}", e.message().trim())))?;
        if raw.zones.len() != self.grid.dimension || raw.zones.contains(&0) {
            return Err(fail(format!(
                "sampling.zones = {:?} must give {} positive count(s), one per axis",
                raw.zones, self.grid.dimension
            )));
        }
        let shape = self.grid.shape();
        if raw.zones.iter().zip(&shape).any(|(z, n)| z > n) {
            return Err(fail(format!("sampling.zones = {:?} has more zones than cells {shape:?}", raw.zones)));
        }
        if !(raw.prior.mean.is_finite()
            && raw.prior.mean > 0.0
            && raw.prior.log_std.is_finite()
            && raw.prior.log_std > 0.0)
        {
            return Err(fail("sampling.prior needs mean > 0 and log_std > 0".into()));
        }
        if raw.noise_std.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
            return Err(fail("sampling.noise_std must be positive".into()));
        }
        let step = raw.step.unwrap_or(0.05);
        if !(step.is_finite() && step > 0.0) {
            return Err(fail(format!("sampling.step = {step} must be positive")));
        }
        Ok(SamplingSettings {
            zones: raw.zones,
            prior_mean: raw.prior.mean,
            prior_log_std: raw.prior.log_std,
            noise_std: raw.noise_std,
            burn_in: raw.burn_in.unwrap_or(300),
            step,
            seed: raw.seed.unwrap_or(1),
        })
    }
}
