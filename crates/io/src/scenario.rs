//! Scenario TOML: parsing (unknown keys are an error), validation with
//! messages that name the key and what would be valid, and the glue that
//! turns a scenario into solver inputs (grid, models, acquisition, wavelet).

use crate::error::IoError;
use crate::h5;
use pdeinv_forward::acoustic::Boundary;
use pdeinv_grid::{Grid, Interpolation};
use serde::Deserialize;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------- raw TOML

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    problem: RawProblem,
    grid: RawGrid,
    model: RawModels,
    time: RawTime,
    source: RawSource,
    receivers: RawReceivers,
    #[serde(default)]
    solver: RawSolver,
    checkpointing: Option<toml::Table>,
    inversion: Option<toml::Table>,
    noise: Option<RawNoise>,
    sampling: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNoise {
    relative: f64,
    seed: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProblem {
    physics: String,
    dimension: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrid {
    shape: Vec<usize>,
    spacing: Vec<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModels {
    #[serde(rename = "true")]
    truth: RawModel,
    initial: Option<RawModel>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    constant: Option<f64>,
    layers: Option<Layers>,
    camembert: Option<Camembert>,
    file: Option<FileRef>,
    smooth: Option<Smooth>,
}

/// Horizontal layers (depth interfaces), optionally dipping and cut by a
/// normal fault.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layers {
    /// Values from top to bottom (one more than interfaces).
    pub velocities: Vec<f64>,
    /// Interface depths at x = 0 (m), top to bottom.
    pub interfaces: Vec<f64>,
    /// Dip of every interface in degrees (positive: deeper to the right).
    #[serde(default)]
    pub dip: f64,
    /// A fault that shifts the interfaces on its right-hand side.
    pub fault: Option<Fault>,
    /// Bodies (salt, intrusions) drawn over the layers, in order.
    #[serde(default)]
    pub bodies: Vec<Body>,
}

/// An elliptical body of one value, drawn over the layers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// Centre `[z, x]` (m).
    pub center: Vec<f64>,
    /// Semi-axes `[along z, along x]` (m).
    pub radii: Vec<f64>,
    /// Value inside.
    pub velocity: f64,
}

/// A planar fault through `(0, x)` dipping at `dip` degrees; interfaces to
/// the right of it are `throw` metres deeper.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Surface position (m).
    pub x: f64,
    /// Dip from horizontal (degrees, 0 < dip ≤ 90).
    pub dip: f64,
    /// Vertical offset of the hanging wall (m).
    pub throw: f64,
}

/// A disc of one value in a background of another.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Camembert {
    /// Value outside the disc.
    pub background: f64,
    /// Value inside the disc.
    pub anomaly: f64,
    /// Centre `[z, x]` (2D) or `[x]` (1D), metres.
    pub center: Vec<f64>,
    /// Radius (m).
    pub radius: f64,
}

/// A model read from an HDF5 file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// Path, relative to the scenario file.
    pub path: PathBuf,
    /// Dataset name (default: `vp` or `kappa`, whichever is present).
    pub dataset: Option<String>,
}

/// Gaussian smoothing of the true model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smooth {
    /// Standard deviation of the Gaussian (m).
    pub sigma: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTime {
    nt: usize,
    dt: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    wavelet: RawWavelet,
    positions: RawPositions,
    interpolation: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWavelet {
    ricker: Option<RawRicker>,
    file: Option<RawWaveletFile>,
    gaussian: Option<RawGaussian>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGaussian {
    center: f64,
    width: f64,
    amplitude: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRicker {
    peak_frequency: f64,
    delay: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaveletFile {
    path: PathBuf,
    dt: Option<f64>,
    dataset: Option<String>,
    peak_frequency: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPositions {
    line: Option<RawLine>,
    lines: Option<Vec<RawLine>>,
    points: Option<Vec<Vec<f64>>>,
}

/// A coordinate of a line: fixed, or `[first, last]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawCoordinate {
    Fixed(f64),
    Range(Vec<f64>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    z: Option<RawCoordinate>,
    x: RawCoordinate,
    count: usize,
}

/// The `count` evenly spaced points of a line from its first to its last
/// position (a horizontal line when `z` is fixed, vertical when `x` is,
/// slanted when both are ranges).
fn line_points(line: &RawLine, key: &str, dimension: usize) -> Result<Vec<[f64; 2]>, String> {
    let range = |c: &RawCoordinate, name: &str| -> Result<(f64, f64), String> {
        match c {
            RawCoordinate::Fixed(v) => Ok((*v, *v)),
            RawCoordinate::Range(r) if r.len() == 2 => Ok((r[0], r[1])),
            RawCoordinate::Range(r) => {
                Err(format!("{key}.{name} = {r:?} must be a position or [first, last] in metres"))
            }
        }
    };
    if line.count == 0 {
        return Err(format!("{key}.count must be at least 1"));
    }
    let (x0, x1) = range(&line.x, "x")?;
    let (z0, z1) = match (dimension, &line.z) {
        (2, Some(z)) => range(z, "z")?,
        (2, None) => return Err(format!("{key}.z (depth in metres) is required in 2D")),
        _ => (0.0, 0.0),
    };
    Ok((0..line.count)
        .map(|i| {
            let f = if line.count == 1 { 0.0 } else { i as f64 / (line.count - 1) as f64 };
            [z0 + f * (z1 - z0), x0 + f * (x1 - x0)]
        })
        .collect())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReceivers {
    positions: RawPositions,
    interpolation: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSolver {
    space_order: Option<usize>,
    boundary: Option<toml::Value>,
    free_surface: Option<bool>,
    precision: Option<String>,
    scheme: Option<String>,
}

// --------------------------------------------------------------- validated

/// The physics of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Physics {
    /// Constant-density acoustic wave equation.
    Acoustic,
    /// Diffusion (not yet available).
    Diffusion,
}

/// The diffusion solver of a scenario: `[solver] scheme` and `boundary`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiffusionSolver {
    /// Time discretisation.
    pub scheme: pdeinv_forward::diffusion::Scheme,
    /// The condition on every side.
    pub boundary: pdeinv_forward::diffusion::Boundary,
}

/// Gaussian noise added to synthesised data: standard deviation
/// `relative × RMS` of each shot's clean data, from a seeded generator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// Standard deviation relative to the RMS of the clean data.
    pub relative: f64,
    /// Seed of the generator.
    pub seed: u64,
}

/// Floating-point precision of the solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Single precision.
    F32,
    /// Double precision.
    F64,
}

/// How a model is built.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSpec {
    /// One value everywhere.
    Constant(f64),
    /// Layers.
    Layers(Layers),
    /// Disc anomaly.
    Camembert(Camembert),
    /// From an HDF5 model file (path resolved against the scenario).
    File(FileRef),
    /// The true model smoothed by a Gaussian.
    Smooth(Smooth),
}

/// The source time function.
#[derive(Debug, Clone, PartialEq)]
pub enum WaveletSpec {
    /// Ricker wavelet.
    Ricker {
        /// Peak frequency (Hz).
        peak_frequency: f64,
        /// Delay (s); default `1/peak_frequency`.
        delay: Option<f64>,
    },
    /// `amplitude · exp(−((t − center)/width)²)`: a smooth pulse, for
    /// diffusion sources.
    Gaussian {
        /// Time of the peak (s).
        center: f64,
        /// Width (s).
        width: f64,
        /// Peak value.
        amplitude: f64,
    },
    /// Samples read from a file.
    File {
        /// Samples.
        samples: Vec<f64>,
        /// Their interval (s).
        dt: f64,
        /// Dominant frequency used to tune the absorbing layer and the
        /// dispersion check (Hz).
        peak_frequency: f64,
    },
}

impl WaveletSpec {
    /// Dominant frequency (Hz).
    pub fn peak_frequency(&self) -> f64 {
        match *self {
            WaveletSpec::Ricker { peak_frequency, .. } | WaveletSpec::File { peak_frequency, .. } => peak_frequency,
            WaveletSpec::Gaussian { width, .. } => 1.0 / width,
        }
    }

    /// Samples at `t_n = n·dt`, `n < nt`.
    pub fn sample(&self, dt: f64, nt: usize) -> Vec<f64> {
        match self {
            WaveletSpec::Ricker { peak_frequency, delay } => {
                pdeinv_forward::wavelet::ricker(*peak_frequency, dt, nt, *delay)
            }
            WaveletSpec::File { samples, dt: dt_in, .. } => pdeinv_forward::wavelet::resample(samples, *dt_in, dt, nt),
            WaveletSpec::Gaussian { center, width, amplitude } => {
                (0..nt).map(|n| amplitude * (-((n as f64 * dt - center) / width).powi(2)).exp()).collect()
            }
        }
    }
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario file.
    pub path: PathBuf,
    /// Its text (stored in run files for provenance).
    pub text: String,
    /// Physics.
    pub physics: Physics,
    /// Model grid.
    pub grid: Grid,
    /// How to build the true model.
    pub true_model: ModelSpec,
    /// How to build the starting model, if given.
    pub initial_model: Option<ModelSpec>,
    /// Number of time samples.
    pub nt: usize,
    /// Time step, if given (else chosen from the stability limit).
    pub dt: Option<f64>,
    /// Source time function.
    pub wavelet: WaveletSpec,
    /// Source positions `[z, x]` (z = 0 in 1D), one shot each.
    pub sources: Vec<[f64; 2]>,
    /// Receiver positions `[z, x]`.
    pub receivers: Vec<[f64; 2]>,
    /// Interpolation of sources onto the grid.
    pub source_interpolation: Interpolation,
    /// Interpolation of receivers.
    pub receiver_interpolation: Interpolation,
    /// Even space order.
    pub space_order: usize,
    /// Absorbing layer.
    pub boundary: Boundary,
    /// Free surface at the top.
    pub free_surface: bool,
    /// Precision.
    pub precision: Precision,
    /// Diffusion solver settings (`physics = "diffusion"`).
    pub diffusion: Option<DiffusionSolver>,
    /// Noise added to synthesised data (`[noise]`).
    pub noise: Option<Noise>,
    /// `[sampling]` table, kept for the sample command.
    pub sampling: Option<toml::Table>,
    /// `[checkpointing]` table, kept for the gradient commands.
    pub checkpointing: Option<toml::Table>,
    /// `[inversion]` table, kept for the inversion command.
    pub inversion: Option<toml::Table>,
}

/// Line (1-based) and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

impl Scenario {
    /// Read and validate a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, IoError> {
        let text = std::fs::read_to_string(path).map_err(|e| IoError::file(path, "cannot read the scenario", e))?;
        Self::parse(path, &text)
    }

    /// Parse and validate scenario `text` (as if read from `path`).
    pub fn parse(path: &Path, text: &str) -> Result<Scenario, IoError> {
        let raw: RawScenario = toml::from_str(text).map_err(|e| {
            let place = e.span().map(|s| {
                let (l, c) = line_column(text, s.start);
                format!("line {l}, column {c}: ")
            });
            IoError::Scenario {
                path: path.to_path_buf(),
                message: format!("{}{}", place.unwrap_or_default(), e.message().replace('\n', " ")),
            }
        })?;
        let fail = |message: String| IoError::Scenario { path: path.to_path_buf(), message };
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();

        let physics = match raw.problem.physics.as_str() {
            "acoustic" => Physics::Acoustic,
            "diffusion" => Physics::Diffusion,
            other => {
                return Err(fail(format!(
                    "problem.physics = \"{other}\" is not known; use \"acoustic\" or \"diffusion\""
                )));
            }
        };
        let dimension = raw.problem.dimension;
        if dimension != 1 && dimension != 2 {
            return Err(fail(format!("problem.dimension = {dimension} is not supported; use 1 or 2")));
        }
        if raw.grid.shape.len() != dimension || raw.grid.spacing.len() != dimension {
            let want = if dimension == 2 { "[nz, nx]" } else { "[nx]" };
            return Err(fail(format!(
                "grid.shape {:?} and grid.spacing {:?} must each have {dimension} value(s), {want}, for a {dimension}D problem",
                raw.grid.shape, raw.grid.spacing
            )));
        }
        let grid = if dimension == 2 {
            Grid::new_2d(raw.grid.shape[0], raw.grid.shape[1], raw.grid.spacing[0], raw.grid.spacing[1])
        } else {
            Grid::new_1d(raw.grid.shape[0], raw.grid.spacing[0])
        }
        .map_err(|e| fail(format!("grid: {e}")))?;

        let true_model = model_spec(&raw.model.truth, "model.true", &base, false).map_err(&fail)?;
        let initial_model = raw
            .model
            .initial
            .as_ref()
            .map(|m| model_spec(m, "model.initial", &base, true))
            .transpose()
            .map_err(&fail)?;

        if raw.time.nt < 2 {
            return Err(fail(format!("time.nt = {} must be at least 2", raw.time.nt)));
        }
        if let Some(dt) = raw.time.dt
            && !(dt.is_finite() && dt > 0.0)
        {
            return Err(fail(format!(
                "time.dt = {dt} must be a positive number of seconds (or omit it to have it chosen)"
            )));
        }

        let wavelet = match (&raw.source.wavelet.ricker, &raw.source.wavelet.file) {
            (None, None) if raw.source.wavelet.gaussian.is_some() => {
                let g = raw.source.wavelet.gaussian.as_ref().expect("checked");
                if !(g.width.is_finite() && g.width > 0.0 && g.center.is_finite()) {
                    return Err(fail(format!("source.wavelet.gaussian needs a finite center and a positive width (s); got center = {}, width = {}", g.center, g.width)));
                }
                WaveletSpec::Gaussian { center: g.center, width: g.width, amplitude: g.amplitude.unwrap_or(1.0) }
            }
            (Some(r), None) if raw.source.wavelet.gaussian.is_none() => {
                if !(r.peak_frequency.is_finite() && r.peak_frequency > 0.0) {
                    return Err(fail(format!("source.wavelet.ricker.peak_frequency = {} must be a positive frequency in Hz", r.peak_frequency)));
                }
                WaveletSpec::Ricker { peak_frequency: r.peak_frequency, delay: r.delay }
            }
            (None, Some(f)) if raw.source.wavelet.gaussian.is_none() => read_wavelet_file(&base.join(&f.path), f).map_err(&fail)?,
            _ => return Err(fail("source.wavelet needs exactly one of `ricker = { peak_frequency = ... }`, `gaussian = { center = ..., width = ... }` or `file = { path = ..., dt = ... }`".into())),
        };

        let sources = positions(&raw.source.positions, "source.positions", dimension).map_err(&fail)?;
        let receivers = positions(&raw.receivers.positions, "receivers.positions", dimension).map_err(&fail)?;
        let source_interpolation =
            interpolation(raw.source.interpolation.as_deref(), "source.interpolation").map_err(&fail)?;
        let receiver_interpolation =
            interpolation(raw.receivers.interpolation.as_deref(), "receivers.interpolation").map_err(&fail)?;

        let space_order = raw.solver.space_order.unwrap_or(8);
        if space_order < 2 || !space_order.is_multiple_of(2) || space_order > pdeinv_forward::acoustic::MAX_SPACE_ORDER
        {
            return Err(fail(format!(
                "solver.space_order = {space_order} is not supported; use an even order from 2 to {}",
                pdeinv_forward::acoustic::MAX_SPACE_ORDER
            )));
        }
        let mut diffusion = None;
        let boundary = match physics {
            Physics::Acoustic => {
                let valid =
                    "solver.boundary needs exactly one of `{ cpml = { width = N } }` or `{ sponge = { width = N } }`";
                match &raw.solver.boundary {
                    None => Boundary::default(),
                    Some(toml::Value::Table(t)) if t.len() == 1 => {
                        let (kind, inner) = t.iter().next().expect("one entry");
                        let width = inner
                            .as_table()
                            .filter(|i| i.len() == 1)
                            .and_then(|i| i.get("width"))
                            .and_then(toml::Value::as_integer)
                            .ok_or_else(|| fail(valid.into()))?;
                        let width = usize::try_from(width).map_err(|_| fail(valid.into()))?;
                        match kind.as_str() {
                            "cpml" => Boundary::Cpml { width },
                            "sponge" => Boundary::Sponge { width },
                            _ => return Err(fail(valid.into())),
                        }
                    }
                    Some(_) => return Err(fail(valid.into())),
                }
            }
            Physics::Diffusion => {
                use pdeinv_forward::diffusion::{Boundary as Side, Scheme};
                let scheme = match raw.solver.scheme.as_deref().unwrap_or("crank-nicolson") {
                    "crank-nicolson" => Scheme::CrankNicolson,
                    "backward-euler" => Scheme::BackwardEuler,
                    "explicit" => Scheme::Explicit,
                    other => {
                        return Err(fail(format!(
                            "solver.scheme = \"{other}\" is not known; use \"crank-nicolson\", \"backward-euler\" or \"explicit\""
                        )));
                    }
                };
                let side = match &raw.solver.boundary {
                    None => Side::Dirichlet,
                    Some(toml::Value::String(name)) if name == "dirichlet" => Side::Dirichlet,
                    Some(toml::Value::String(name)) if name == "neumann" => Side::Neumann,
                    Some(other) => {
                        return Err(fail(format!(
                            "solver.boundary = {other} is not valid for diffusion; use \"dirichlet\" (u = 0) or \"neumann\" (no flux)"
                        )));
                    }
                };
                if raw.time.dt.is_none() {
                    return Err(fail("time.dt is required for diffusion (seconds)".into()));
                }
                diffusion = Some(DiffusionSolver { scheme, boundary: side });
                Boundary::default()
            }
        };
        if physics == Physics::Acoustic && raw.solver.scheme.is_some() {
            return Err(fail("solver.scheme is a diffusion setting; acoustic scenarios take space_order, boundary, free_surface and precision".into()));
        }
        let noise = match &raw.noise {
            None => None,
            Some(n) if n.relative.is_finite() && n.relative >= 0.0 => {
                Some(Noise { relative: n.relative, seed: n.seed.unwrap_or(1) })
            }
            Some(n) => {
                return Err(fail(format!(
                    "noise.relative = {} must be a non-negative fraction of the data's RMS (0.01 for 1 %)",
                    n.relative
                )));
            }
        };
        if boundary.width() == 0 {
            return Err(fail("solver.boundary width must be at least 1 cell (20 is a good start)".into()));
        }
        let free_surface = raw.solver.free_surface.unwrap_or(false);
        if free_surface && dimension == 1 {
            return Err(fail("solver.free_surface = true needs a 2D problem".into()));
        }
        let precision = match raw.solver.precision.as_deref().unwrap_or("f32") {
            "f32" => Precision::F32,
            "f64" => Precision::F64,
            other => return Err(fail(format!("solver.precision = \"{other}\" is not known; use \"f32\" or \"f64\""))),
        };
        Ok(Scenario {
            path: path.to_path_buf(),
            text: text.to_string(),
            physics,
            grid,
            true_model,
            initial_model,
            nt: raw.time.nt,
            dt: raw.time.dt,
            wavelet,
            sources,
            receivers,
            source_interpolation,
            receiver_interpolation,
            space_order,
            boundary,
            free_surface,
            precision,
            diffusion,
            noise,
            sampling: raw.sampling,
            checkpointing: raw.checkpointing,
            inversion: raw.inversion,
        })
    }
}

fn model_spec(raw: &RawModel, key: &str, base: &Path, allow_smooth: bool) -> Result<ModelSpec, String> {
    let mut found = Vec::new();
    if let Some(v) = raw.constant {
        found.push(ModelSpec::Constant(v));
    }
    if let Some(l) = &raw.layers {
        found.push(ModelSpec::Layers(l.clone()));
    }
    if let Some(c) = &raw.camembert {
        found.push(ModelSpec::Camembert(c.clone()));
    }
    if let Some(f) = &raw.file {
        found.push(ModelSpec::File(FileRef { path: base.join(&f.path), dataset: f.dataset.clone() }));
    }
    if let Some(s) = &raw.smooth {
        if !allow_smooth {
            return Err(format!("{key}.smooth is only valid for model.initial (it smooths the true model)"));
        }
        if !(s.sigma.is_finite() && s.sigma >= 0.0) {
            return Err(format!("{key}.smooth.sigma = {} must be a non-negative length in metres", s.sigma));
        }
        found.push(ModelSpec::Smooth(s.clone()));
    }
    let choices = if allow_smooth {
        "constant, layers, camembert, file or smooth"
    } else {
        "constant, layers, camembert or file"
    };
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!("[{key}] needs one of {choices}")),
        _ => Err(format!("[{key}] gives more than one of {choices}; keep exactly one")),
    }
}

fn positions(raw: &RawPositions, key: &str, dimension: usize) -> Result<Vec<[f64; 2]>, String> {
    let out = match (&raw.line, &raw.lines, &raw.points) {
        (Some(line), None, None) => line_points(line, &format!("{key}.line"), dimension)?,
        (None, Some(lines), None) => {
            if lines.is_empty() {
                return Err(format!("{key}.lines is empty; give at least one line"));
            }
            let mut all = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                all.extend(line_points(line, &format!("{key}.lines[{i}]"), dimension)?);
            }
            all
        }
        (None, None, Some(points)) => {
            if points.is_empty() {
                return Err(format!("{key}.points is empty; give at least one position"));
            }
            points
                .iter()
                .enumerate()
                .map(|(i, p)| match (dimension, p.as_slice()) {
                    (2, [z, x]) => Ok([*z, *x]),
                    (1, [x]) => Ok([0.0, *x]),
                    _ => Err(format!(
                        "{key}.points[{i}] = {p:?} must be {} in metres",
                        if dimension == 2 { "[z, x]" } else { "[x]" }
                    )),
                })
                .collect::<Result<_, _>>()?
        }
        _ => {
            return Err(format!(
                "{key} needs exactly one of `line = {{ z = ..., x = [first, last], count = N }}`, `lines = [{{ ... }}, ...]` or `points = [[z, x], ...]`"
            ));
        }
    };
    Ok(out)
}

fn interpolation(raw: Option<&str>, key: &str) -> Result<Interpolation, String> {
    match raw.unwrap_or("hicks") {
        "hicks" => Ok(Interpolation::Hicks { radius: 4 }),
        "bilinear" => Ok(Interpolation::Bilinear),
        other => Err(format!("{key} = \"{other}\" is not known; use \"hicks\" (windowed sinc) or \"bilinear\"")),
    }
}

fn read_wavelet_file(path: &Path, raw: &RawWaveletFile) -> Result<WaveletSpec, String> {
    let is_h5 = path.extension().is_some_and(|e| e == "h5" || e == "hdf5");
    let (samples, file_dt) = if is_h5 {
        let (file, _) = h5::open(path, None).map_err(|e| format!("source.wavelet.file: {e}"))?;
        let name = raw.dataset.as_deref().unwrap_or("wavelet");
        let ds = file
            .dataset(name)
            .map_err(|_| format!("source.wavelet.file: {}: missing dataset `{name}`", path.display()))?;
        let samples = ds.read_raw::<f64>().map_err(|e| format!("source.wavelet.file: {}: {e}", path.display()))?;
        let dt = ds.attr("dt").and_then(|a| a.read_scalar::<f64>()).ok();
        (samples, dt)
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("source.wavelet.file: {}: cannot read: {e}", path.display()))?;
        let samples = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .enumerate()
            .map(|(i, t)| {
                t.parse::<f64>().map_err(|_| {
                    format!("source.wavelet.file: {}: value {} `{t}` is not a number", path.display(), i + 1)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        (samples, None)
    };
    if samples.is_empty() || samples.iter().any(|v| !v.is_finite()) {
        return Err(format!("source.wavelet.file: {}: needs at least one sample, all finite", path.display()));
    }
    let dt = raw
        .dt
        .or(file_dt)
        .ok_or_else(|| "source.wavelet.file.dt (sample interval in seconds) is required".to_string())?;
    if !(dt.is_finite() && dt > 0.0) {
        return Err(format!("source.wavelet.file.dt = {dt} must be a positive number of seconds"));
    }
    let peak_frequency = raw.peak_frequency.unwrap_or_else(|| dominant_frequency(&samples, dt));
    Ok(WaveletSpec::File { samples, dt, peak_frequency })
}

/// Frequency of the largest spectral amplitude of `samples` (a plain DFT:
/// wavelets are short).
fn dominant_frequency(samples: &[f64], dt: f64) -> f64 {
    let n = samples.len().max(2) * 4; // zero-padded for resolution
    let mut best = (0.0, 0.0);
    for k in 1..n / 2 {
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &s) in samples.iter().enumerate() {
            let phase = -2.0 * std::f64::consts::PI * (k * i) as f64 / n as f64;
            re += s * phase.cos();
            im += s * phase.sin();
        }
        let amplitude = re * re + im * im;
        if amplitude > best.1 {
            best = (k as f64 / (n as f64 * dt), amplitude);
        }
    }
    best.0.max(1e-3)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[problem]
physics = "acoustic"
dimension = 2
[grid]
shape = [51, 61]
spacing = [10.0, 10.0]
[model.true]
camembert = { background = 2000.0, anomaly = 2400.0, center = [250.0, 300.0], radius = 100.0 }
[model.initial]
constant = 2000.0
[time]
nt = 500
[source]
wavelet = { ricker = { peak_frequency = 10.0 } }
positions = { line = { z = 20.0, x = [100.0, 500.0], count = 3 } }
[receivers]
positions = { points = [[20.0, 0.0], [20.0, 600.0]] }
[solver]
space_order = 4
boundary = { sponge = { width = 30 } }
"#;

    #[test]
    fn parses_the_contract_example() {
        let s = Scenario::parse(Path::new("s.toml"), GOOD).unwrap();
        assert_eq!(s.grid.shape(), vec![51, 61]);
        assert_eq!(s.sources, vec![[20.0, 100.0], [20.0, 300.0], [20.0, 500.0]]);
        assert_eq!(s.receivers.len(), 2);
        assert_eq!(s.boundary, Boundary::Sponge { width: 30 });
        assert_eq!(s.space_order, 4);
        assert_eq!(s.precision, Precision::F32);
        assert!(s.dt.is_none());
    }

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let text = GOOD.replace("nt = 500", "nt = 500\nsteps = 3");
        let err = Scenario::parse(Path::new("s.toml"), &text).unwrap_err().to_string();
        assert!(err.contains("steps") && err.contains("line 14"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases = [
            ("space_order = 4", "space_order = 5", "solver.space_order"),
            ("dimension = 2", "dimension = 3", "problem.dimension"),
            ("count = 3", "count = 0", "source.positions.line.count"),
            (
                "[model.initial]\nconstant = 2000.0",
                "[model.initial]\nconstant = 2000.0\nsmooth = { sigma = 1.0 }",
                "more than one",
            ),
        ];
        for (from, to, needle) in cases {
            let err = Scenario::parse(Path::new("s.toml"), &GOOD.replace(from, to)).unwrap_err().to_string();
            assert!(err.contains(needle), "{to}: {err}");
        }
    }
}

/// `[checkpointing] strategy`: a named strategy, or a memory budget for
/// which the fastest fitting strategy is chosen at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointSpec {
    /// A strategy named in the scenario.
    Fixed(pdeinv_adjoint::Strategy),
    /// `{ memory = "2GiB" }`: at most this many bytes of checkpoints.
    Budget(usize),
}

impl Scenario {
    /// The checkpointing strategy of `[checkpointing] strategy` (store-all
    /// when the table is absent).
    pub fn checkpoint_strategy(&self) -> Result<CheckpointSpec, IoError> {
        use pdeinv_adjoint::Strategy;
        let fail = |message: String| IoError::Scenario { path: self.path.clone(), message };
        let Some(table) = &self.checkpointing else { return Ok(CheckpointSpec::Fixed(Strategy::StoreAll)) };
        for key in table.keys() {
            if key != "strategy" {
                return Err(fail(format!("unknown key `checkpointing.{key}`; the table takes `strategy`")));
            }
        }
        let valid = "use \"store-all\", { periodic = { every = N } }, { binomial = { snapshots = S } }, { two-level = { ram = S, disk = D, dir = \"...\" } }, \"boundary-saving\" or { memory = \"2GiB\" }";
        let positive = |value: Option<&toml::Value>, key: &str| -> Result<usize, IoError> {
            match value.and_then(toml::Value::as_integer) {
                Some(v) if v >= 1 => Ok(v as usize),
                _ => Err(fail(format!("checkpointing.strategy.{key} must be a positive integer"))),
            }
        };
        let fixed = match table.get("strategy") {
            None => Strategy::StoreAll,
            Some(toml::Value::String(name)) if name == "store-all" => Strategy::StoreAll,
            Some(toml::Value::String(name)) if name == "boundary-saving" && self.physics == Physics::Diffusion => {
                return Err(fail(
                    "checkpointing.strategy = \"boundary-saving\" cannot be used for diffusion: rebuilding the forward field backwards in time would run the heat equation backwards, which is ill-posed; ".to_string() + valid,
                ));
            }
            Some(toml::Value::String(name)) if name == "boundary-saving" => Strategy::BoundarySaving,
            Some(toml::Value::Table(t)) if t.len() == 1 && t.contains_key("memory") => {
                let text = t.get("memory").and_then(toml::Value::as_str).unwrap_or_default();
                return pdeinv_adjoint::parse_bytes(text).map(CheckpointSpec::Budget).ok_or_else(|| {
                    fail(format!("checkpointing.strategy.memory = {:?} is not a size; give one like \"2GiB\", \"512MiB\" or \"1.5GB\"", t.get("memory").map(|v| v.to_string()).unwrap_or_default()))
                });
            }
            Some(toml::Value::Table(t)) if t.len() == 1 => {
                let (kind, value) = t.iter().next().ok_or_else(|| fail(valid.into()))?;
                let inner = value.as_table();
                match kind.as_str() {
                    "periodic" => {
                        Strategy::Periodic { every: positive(inner.and_then(|t| t.get("every")), "periodic.every")? }
                    }
                    "binomial" => Strategy::Binomial {
                        snapshots: positive(inner.and_then(|t| t.get("snapshots")), "binomial.snapshots")?,
                    },
                    "two-level" => {
                        let Some(inner) = inner else {
                            return Err(fail(format!(
                                "checkpointing.strategy.two-level must be a table {{ ram = S, disk = D, dir = \"...\" }}; {valid}"
                            )));
                        };
                        for key in inner.keys() {
                            if !matches!(key.as_str(), "ram" | "disk" | "dir") {
                                return Err(fail(format!(
                                    "unknown key `checkpointing.strategy.two-level.{key}`; it takes `ram` (RAM slots, >= 0), `disk` (disk slots, >= 1) and `dir` (directory for the disk slots)"
                                )));
                            }
                        }
                        let ram = match inner.get("ram").map(toml::Value::as_integer) {
                            Some(Some(v)) if v >= 0 => v as usize,
                            _ => {
                                return Err(fail(
                                    "checkpointing.strategy.two-level.ram must be an integer >= 0 (checkpoint slots in RAM)"
                                        .into(),
                                ));
                            }
                        };
                        let disk = positive(inner.get("disk"), "two-level.disk")?;
                        let dir = match inner.get("dir") {
                            None => None,
                            Some(toml::Value::String(text)) => {
                                let base = self.path.parent().unwrap_or(std::path::Path::new("."));
                                let dir = base.join(text);
                                match std::fs::metadata(&dir) {
                                    Ok(m) if m.is_dir() => {}
                                    Ok(_) => {
                                        return Err(fail(format!(
                                            "checkpointing.strategy.two-level.dir: {} is not a directory",
                                            dir.display()
                                        )));
                                    }
                                    Err(e) => {
                                        return Err(fail(format!(
                                            "checkpointing.strategy.two-level.dir: cannot use directory {}: {e}",
                                            dir.display()
                                        )));
                                    }
                                }
                                Some(pdeinv_adjoint::DiskDir::new(dir))
                            }
                            Some(other) => {
                                return Err(fail(format!(
                                    "checkpointing.strategy.two-level.dir = {other} must be a string (a directory, relative to the scenario file)"
                                )));
                            }
                        };
                        Strategy::TwoLevel { ram, disk, dir }
                    }
                    other => return Err(fail(format!("checkpointing.strategy `{other}` is not known; {valid}"))),
                }
            }
            Some(other) => return Err(fail(format!("checkpointing.strategy = {other} is not valid; {valid}"))),
        };
        Ok(CheckpointSpec::Fixed(fixed))
    }
}
