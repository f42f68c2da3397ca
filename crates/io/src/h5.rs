//! HDF5 layout v1 (see the contract): model, data (shot gathers) and
//! gradient files. Every file carries the root attributes
//! `pdeinv_format = 1` and `kind`. Files are written to a temporary path and
//! renamed into place.

use crate::atomic::write_atomically;
use crate::error::IoError;
use hdf5::types::VarLenUnicode;
use std::path::Path;

/// The format version written and accepted.
pub const FORMAT_VERSION: i64 = 1;

/// A model on a grid: `/vp` (or `/kappa`) with spacing, origin and units.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// Dataset name: `vp` or `kappa`.
    pub name: String,
    /// `[nz, nx]` or `[nx]`.
    pub shape: Vec<usize>,
    /// Spacing per axis (m).
    pub spacing: Vec<f64>,
    /// Coordinate of the first point per axis (m).
    pub origin: Vec<f64>,
    /// Units of the values (`m/s`, `m^2/s`).
    pub units: String,
    /// Row-major values.
    pub values: Vec<f64>,
}

/// One shot of a data file.
#[derive(Debug, Clone, PartialEq)]
pub struct ShotRecord {
    /// Source position `[z, x]` (2D) or `[x]` (1D), metres.
    pub source: Vec<f64>,
    /// Receiver positions, one `[z, x]` / `[x]` per receiver.
    pub receivers: Vec<Vec<f64>>,
    /// Traces `[nt, nrec]`, row-major.
    pub traces: Vec<f64>,
    /// Source wavelet `[nt]` (an extension of layout v1).
    pub wavelet: Vec<f64>,
}

/// Shot gathers: `/shots/NNNN/...` with root attributes `dt`, `nt`.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFile {
    /// Time step (s).
    pub dt: f64,
    /// Samples per trace.
    pub nt: usize,
    /// Shots in order.
    pub shots: Vec<ShotRecord>,
}

/// A gradient `/gradient` (model shape) with its misfit.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientFile {
    /// Parameter the gradient is taken with respect to (`vp`, ...).
    pub parameter: String,
    /// Misfit at the model.
    pub misfit: f64,
    /// Model shape.
    pub shape: Vec<usize>,
    /// Spacing per axis (m).
    pub spacing: Vec<f64>,
    /// Values `dJ/dm_i`.
    pub values: Vec<f64>,
}

fn h5err(path: &Path) -> impl Fn(hdf5::Error) -> IoError + '_ {
    move |e| IoError::Hdf5 { path: path.to_path_buf(), message: e.to_string() }
}

fn text(s: &str) -> VarLenUnicode {
    s.parse().unwrap_or_default()
}

/// Flush and close a file being written, so that everything is on disk
/// (and any failure reported) before it is renamed into place.
fn finish(file: hdf5::File, path: &Path) -> Result<(), IoError> {
    file.flush().map_err(h5err(path))?;
    file.close().map_err(h5err(path))
}

fn write_root(file: &hdf5::File, kind: &str, path: &Path) -> Result<(), IoError> {
    let e = h5err(path);
    file.new_attr::<i64>().create("pdeinv_format").and_then(|a| a.write_scalar(&FORMAT_VERSION)).map_err(&e)?;
    file.new_attr::<VarLenUnicode>().create("kind").and_then(|a| a.write_scalar(&text(kind))).map_err(&e)?;
    Ok(())
}

fn write_f64_attr(loc: &hdf5::Location, name: &str, values: &[f64], path: &Path) -> Result<(), IoError> {
    loc.new_attr::<f64>().shape([values.len()]).create(name).and_then(|a| a.write_raw(values)).map_err(h5err(path))
}

fn write_array(
    group: &hdf5::Group,
    name: &str,
    shape: &[usize],
    values: &[f64],
    path: &Path,
) -> Result<hdf5::Dataset, IoError> {
    let e = h5err(path);
    let ds = group.new_dataset::<f64>().shape(shape.to_vec()).create(name).map_err(&e)?;
    ds.write_raw(values).map_err(&e)?;
    Ok(ds)
}

/// Open a pdeinv HDF5 file and check its format version and kind.
pub fn open(path: &Path, expected_kind: Option<&str>) -> Result<(hdf5::File, String), IoError> {
    if !path.exists() {
        return Err(IoError::format(path, "no such file"));
    }
    if let Err(e) = std::fs::File::open(path) {
        return Err(IoError::file(path, "cannot open", e));
    }
    let file = hdf5::File::open(path).map_err(|_| {
        IoError::format(
            path,
            "not a readable HDF5 file (truncated or corrupt?); expected a pdeinv HDF5 file (layout v1)",
        )
    })?;
    let version = file
        .attr("pdeinv_format")
        .and_then(|a| a.read_scalar::<i64>())
        .map_err(|_| IoError::format(path, "missing root attribute `pdeinv_format`: not a pdeinv file (layout v1)"))?;
    if version != FORMAT_VERSION {
        return Err(IoError::format(
            path,
            format!("pdeinv_format = {version} is not supported; this pdeinv reads format {FORMAT_VERSION}"),
        ));
    }
    let kind = file
        .attr("kind")
        .and_then(|a| a.read_scalar::<VarLenUnicode>())
        .map(|k| k.as_str().to_string())
        .map_err(|_| IoError::format(path, "missing root attribute `kind` (model, data, gradient or run)"))?;
    if let Some(expected) = expected_kind
        && kind != expected
    {
        return Err(IoError::format(path, format!("this is a `{kind}` file; a `{expected}` file is needed here")));
    }
    Ok((file, kind))
}

fn read_f64_attr(loc: &hdf5::Location, name: &str, path: &Path) -> Result<Vec<f64>, IoError> {
    loc.attr(name)
        .and_then(|a| a.read_raw::<f64>())
        .map_err(|_| IoError::format(path, format!("missing or unreadable attribute `{name}`")))
}

fn read_array(group: &hdf5::Group, name: &str, path: &Path) -> Result<(Vec<usize>, Vec<f64>), IoError> {
    let ds = group.dataset(name).map_err(|_| IoError::format(path, format!("missing dataset `{name}`")))?;
    let values =
        ds.read_raw::<f64>().map_err(|e| IoError::format(path, format!("cannot read dataset `{name}`: {e}")))?;
    Ok((ds.shape(), values))
}

/// Write a model file.
pub fn write_model(path: &Path, model: &ModelFile) -> Result<(), IoError> {
    write_atomically(path, |tmp| {
        let file = hdf5::File::create(tmp).map_err(h5err(path))?;
        write_root(&file, "model", path)?;
        let ds = write_array(&file, &model.name, &model.shape, &model.values, path)?;
        write_f64_attr(&ds, "spacing", &model.spacing, path)?;
        write_f64_attr(&ds, "origin", &model.origin, path)?;
        ds.new_attr::<VarLenUnicode>()
            .create("units")
            .and_then(|a| a.write_scalar(&text(&model.units)))
            .map_err(h5err(path))?;
        drop(ds);
        finish(file, path)
    })
}

/// Read a model file; `dataset` picks `vp` or `kappa` (default: whichever is present).
pub fn read_model(path: &Path, dataset: Option<&str>) -> Result<ModelFile, IoError> {
    let (file, kind) = open(path, None)?;
    let group: &hdf5::Group = &file;
    let name = match dataset {
        Some(d) => d.to_string(),
        None => ["vp", "kappa", "gradient"]
            .into_iter()
            .find(|n| group.dataset(n).is_ok())
            .ok_or_else(|| {
                IoError::format(
                    path,
                    format!("a `{kind}` file with no `vp` or `kappa` dataset; name one with `dataset`"),
                )
            })?
            .to_string(),
    };
    let (shape, values) = read_array(group, &name, path)?;
    let ds = group.dataset(&name).map_err(h5err(path))?;
    let spacing = read_f64_attr(&ds, "spacing", path).or_else(|_| read_f64_attr(&file, "spacing", path))?;
    let origin = read_f64_attr(&ds, "origin", path).unwrap_or_else(|_| vec![0.0; shape.len()]);
    let units = ds
        .attr("units")
        .and_then(|a| a.read_scalar::<VarLenUnicode>())
        .map(|u| u.as_str().to_string())
        .unwrap_or_default();
    if shape.is_empty() || shape.len() > 2 || spacing.len() != shape.len() {
        return Err(IoError::format(
            path,
            format!(
                "dataset `{name}` has shape {shape:?} and spacing {spacing:?}; expected [nz, nx] or [nx] with one spacing per axis"
            ),
        ));
    }
    Ok(ModelFile { name, shape, spacing, origin, units, values })
}

/// Write a data file (shot gathers).
pub fn write_data(path: &Path, data: &DataFile) -> Result<(), IoError> {
    write_atomically(path, |tmp| {
        let e = h5err(path);
        let file = hdf5::File::create(tmp).map_err(&e)?;
        write_root(&file, "data", path)?;
        write_f64_attr(&file, "dt", &[data.dt], path)?;
        file.new_attr::<i64>().create("nt").and_then(|a| a.write_scalar(&(data.nt as i64))).map_err(&e)?;
        let shots = file.create_group("shots").map_err(&e)?;
        for (i, shot) in data.shots.iter().enumerate() {
            let g = shots.create_group(&format!("{i:04}")).map_err(&e)?;
            let nrec = shot.receivers.len();
            let dims = shot.source.len();
            write_array(&g, "traces", &[data.nt, nrec], &shot.traces, path)?;
            write_array(&g, "source", &[dims], &shot.source, path)?;
            let flat: Vec<f64> = shot.receivers.iter().flatten().copied().collect();
            write_array(&g, "receivers", &[nrec, dims], &flat, path)?;
            write_array(&g, "wavelet", &[shot.wavelet.len()], &shot.wavelet, path)?;
        }
        drop(shots);
        finish(file, path)
    })
}

/// Read a data file.
pub fn read_data(path: &Path) -> Result<DataFile, IoError> {
    let (file, _) = open(path, Some("data"))?;
    let dt = read_f64_attr(&file, "dt", path)?.first().copied().unwrap_or(f64::NAN);
    let nt = file
        .attr("nt")
        .and_then(|a| a.read_scalar::<i64>())
        .map_err(|_| IoError::format(path, "missing root attribute `nt`"))?;
    if !(dt.is_finite() && dt > 0.0) || nt < 1 {
        return Err(IoError::format(
            path,
            format!("root attributes dt = {dt}, nt = {nt}: dt must be positive and nt at least 1"),
        ));
    }
    let nt = nt as usize;
    let shots_group = file.group("shots").map_err(|_| IoError::format(path, "missing group `/shots`"))?;
    let mut names = shots_group.member_names().map_err(h5err(path))?;
    names.sort();
    let mut shots = Vec::with_capacity(names.len());
    for name in names {
        let g =
            shots_group.group(&name).map_err(|_| IoError::format(path, format!("`/shots/{name}` is not a group")))?;
        let (tshape, traces) = read_array(&g, "traces", path)?;
        let (_, source) = read_array(&g, "source", path)?;
        let (rshape, flat) = read_array(&g, "receivers", path)?;
        let dims = source.len();
        if tshape.len() != 2 || tshape[0] != nt || rshape.len() != 2 || rshape[1] != dims || rshape[0] != tshape[1] {
            return Err(IoError::format(
                path,
                format!(
                    "`/shots/{name}`: traces {tshape:?}, receivers {rshape:?} and source [{dims}] do not agree with nt = {nt}; expected traces [nt, nrec] and receivers [nrec, dims]"
                ),
            ));
        }
        let receivers = flat.chunks(dims.max(1)).map(|c| c.to_vec()).collect();
        let wavelet = read_array(&g, "wavelet", path).map(|(_, w)| w).unwrap_or_default();
        shots.push(ShotRecord { source, receivers, traces, wavelet });
    }
    Ok(DataFile { dt, nt, shots })
}

/// Write a gradient file.
pub fn write_gradient(path: &Path, gradient: &GradientFile) -> Result<(), IoError> {
    write_atomically(path, |tmp| {
        let e = h5err(path);
        let file = hdf5::File::create(tmp).map_err(&e)?;
        write_root(&file, "gradient", path)?;
        let ds = write_array(&file, "gradient", &gradient.shape, &gradient.values, path)?;
        write_f64_attr(&ds, "spacing", &gradient.spacing, path)?;
        ds.new_attr::<f64>().create("misfit").and_then(|a| a.write_scalar(&gradient.misfit)).map_err(&e)?;
        ds.new_attr::<VarLenUnicode>()
            .create("parameter")
            .and_then(|a| a.write_scalar(&text(&gradient.parameter)))
            .map_err(&e)?;
        drop(ds);
        finish(file, path)
    })
}

/// One iteration of an inversion run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunIteration {
    /// Model after the iteration (iteration 0: the starting model).
    pub model: Vec<f64>,
    /// Gradient `dJ/dm` at that model.
    pub gradient: Vec<f64>,
    /// Data misfit at the model (in the iteration's frequency band).
    pub misfit: f64,
    /// Euclidean norm of the gradient.
    pub gradient_norm: f64,
    /// Accepted step length.
    pub step: f64,
    /// Wall seconds since the run started.
    pub seconds: f64,
    /// Frequency band index.
    pub band: usize,
    /// Low-pass cutoff of the band (Hz; 0 when unfiltered).
    pub cutoff: f64,
}

/// An inversion run file (`kind = run`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunFile {
    /// Parameter name (`vp` or `kappa`).
    pub parameter: String,
    /// Model shape.
    pub shape: Vec<usize>,
    /// Spacing per axis (m).
    pub spacing: Vec<f64>,
    /// The scenario text, for provenance.
    pub scenario: String,
    /// Every completed iteration, in order.
    pub iterations: Vec<RunIteration>,
    /// The final model, once the run has finished.
    pub final_model: Option<Vec<f64>>,
    /// The true model, when known (synthetic runs), for figures and errors.
    pub true_model: Option<Vec<f64>>,
    /// Everything needed to resume after the last iteration: named vectors
    /// (`/resume/<name>`), written as they are so a resumed run continues
    /// bitwise.
    pub resume: Vec<(String, Vec<f64>)>,
}

/// Write a run file (the whole file, atomically: a run killed at any
/// moment leaves the previous complete version).
pub fn write_run(path: &Path, run: &RunFile) -> Result<(), IoError> {
    write_atomically(path, |tmp| {
        let e = h5err(path);
        let file = hdf5::File::create(tmp).map_err(&e)?;
        write_root(&file, "run", path)?;
        file.new_attr::<VarLenUnicode>()
            .create("parameter")
            .and_then(|a| a.write_scalar(&text(&run.parameter)))
            .map_err(&e)?;
        write_f64_attr(&file, "spacing", &run.spacing, path)?;
        let shape: Vec<i64> = run.shape.iter().map(|&n| n as i64).collect();
        file.new_attr::<i64>().shape([shape.len()]).create("shape").and_then(|a| a.write_raw(&shape)).map_err(&e)?;
        file.new_dataset::<VarLenUnicode>()
            .create("scenario")
            .and_then(|d| d.write_scalar(&text(&run.scenario)))
            .map_err(&e)?;
        let iterations = file.create_group("iterations").map_err(&e)?;
        for (i, it) in run.iterations.iter().enumerate() {
            let g = iterations.create_group(&format!("{i:04}")).map_err(&e)?;
            let model = write_array(&g, "model", &run.shape, &it.model, path)?;
            write_f64_attr(&model, "spacing", &run.spacing, path)?;
            let gradient = write_array(&g, "gradient", &run.shape, &it.gradient, path)?;
            for (name, value) in [
                ("misfit", it.misfit),
                ("gradient_norm", it.gradient_norm),
                ("step", it.step),
                ("seconds", it.seconds),
                ("cutoff", it.cutoff),
            ] {
                gradient.new_attr::<f64>().create(name).and_then(|a| a.write_scalar(&value)).map_err(&e)?;
            }
            gradient.new_attr::<i64>().create("band").and_then(|a| a.write_scalar(&(it.band as i64))).map_err(&e)?;
        }
        drop(iterations);
        if let Some(values) = &run.final_model {
            let g = file.create_group("final").map_err(&e)?;
            let ds = write_array(&g, &run.parameter, &run.shape, values, path)?;
            write_f64_attr(&ds, "spacing", &run.spacing, path)?;
        }
        if let Some(values) = &run.true_model {
            let g = file.create_group("true").map_err(&e)?;
            write_array(&g, &run.parameter, &run.shape, values, path)?;
        }
        if !run.resume.is_empty() {
            let g = file.create_group("resume").map_err(&e)?;
            for (name, values) in &run.resume {
                write_array(&g, name, &[values.len()], values, path)?;
            }
        }
        finish(file, path)
    })
}

/// Read a run file.
pub fn read_run(path: &Path) -> Result<RunFile, IoError> {
    let (file, _) = open(path, Some("run"))?;
    let e = h5err(path);
    let parameter = file
        .attr("parameter")
        .and_then(|a| a.read_scalar::<VarLenUnicode>())
        .map(|p| p.as_str().to_string())
        .map_err(|_| IoError::format(path, "missing root attribute `parameter`"))?;
    let spacing = read_f64_attr(&file, "spacing", path)?;
    let shape: Vec<usize> = file
        .attr("shape")
        .and_then(|a| a.read_raw::<i64>())
        .map_err(|_| IoError::format(path, "missing root attribute `shape`"))?
        .into_iter()
        .map(|n| n.max(0) as usize)
        .collect();
    let scenario = file
        .dataset("scenario")
        .and_then(|d| d.read_scalar::<VarLenUnicode>())
        .map(|s| s.as_str().to_string())
        .map_err(|_| IoError::format(path, "missing dataset `/scenario`"))?;
    let group = file.group("iterations").map_err(|_| IoError::format(path, "missing group `/iterations`"))?;
    let mut names = group.member_names().map_err(&e)?;
    names.sort();
    let mut iterations = Vec::with_capacity(names.len());
    for name in names {
        let g = group.group(&name).map_err(&e)?;
        let (_, model) = read_array(&g, "model", path)?;
        let (_, gradient) = read_array(&g, "gradient", path)?;
        let ds = g.dataset("gradient").map_err(&e)?;
        let scalar = |attr: &str| -> Result<f64, IoError> {
            ds.attr(attr).and_then(|a| a.read_scalar::<f64>()).map_err(|_| {
                IoError::format(path, format!("missing attribute `{attr}` of /iterations/{name}/gradient"))
            })
        };
        let band = ds.attr("band").and_then(|a| a.read_scalar::<i64>()).unwrap_or(0).max(0) as usize;
        iterations.push(RunIteration {
            misfit: scalar("misfit")?,
            gradient_norm: scalar("gradient_norm")?,
            step: scalar("step")?,
            seconds: scalar("seconds")?,
            cutoff: scalar("cutoff").unwrap_or(0.0),
            band,
            model,
            gradient,
        });
    }
    let final_model = file.group("final").ok().and_then(|g| read_array(&g, &parameter, path).ok()).map(|(_, v)| v);
    let true_model = file.group("true").ok().and_then(|g| read_array(&g, &parameter, path).ok()).map(|(_, v)| v);
    let mut resume = Vec::new();
    if let Ok(g) = file.group("resume") {
        let mut names = g.member_names().map_err(&e)?;
        names.sort();
        for name in names {
            let (_, values) = read_array(&g, &name, path)?;
            resume.push((name, values));
        }
    }
    Ok(RunFile { parameter, shape, spacing, scenario, iterations, final_model, true_model, resume })
}

/// A posterior sample file (`kind = posterior`), written by `pdeinv sample`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PosteriorFile {
    /// Parameter name (`kappa`).
    pub parameter: String,
    /// Model shape.
    pub shape: Vec<usize>,
    /// Spacing per axis (m).
    pub spacing: Vec<f64>,
    /// The chain `[samples, zones]` of `ln(parameter)` per zone.
    pub chain: Vec<f64>,
    /// Number of zones.
    pub zones: usize,
    /// Log-posterior of every sample.
    pub log_density: Vec<f64>,
    /// Zone of every cell (model shape).
    pub zone_map: Vec<f64>,
    /// Posterior mean of the parameter per cell (model shape).
    pub mean: Vec<f64>,
    /// Posterior standard deviation of the parameter per cell (model shape).
    pub std: Vec<f64>,
    /// Accepted proposals / proposals after burn-in.
    pub acceptance_rate: f64,
    /// The step size used after burn-in.
    pub step: f64,
    /// The scenario text.
    pub scenario: String,
}

/// Write a posterior file.
pub fn write_posterior(path: &Path, post: &PosteriorFile) -> Result<(), IoError> {
    write_atomically(path, |tmp| {
        let e = h5err(path);
        let file = hdf5::File::create(tmp).map_err(&e)?;
        write_root(&file, "posterior", path)?;
        file.new_attr::<VarLenUnicode>()
            .create("parameter")
            .and_then(|a| a.write_scalar(&text(&post.parameter)))
            .map_err(&e)?;
        write_f64_attr(&file, "spacing", &post.spacing, path)?;
        for (name, value) in [("acceptance_rate", post.acceptance_rate), ("step", post.step)] {
            file.new_attr::<f64>().create(name).and_then(|a| a.write_scalar(&value)).map_err(&e)?;
        }
        let samples = post.chain.len() / post.zones.max(1);
        write_array(&file, "chain", &[samples, post.zones], &post.chain, path)?;
        write_array(&file, "log_density", &[post.log_density.len()], &post.log_density, path)?;
        write_array(&file, "zones", &post.shape, &post.zone_map, path)?;
        write_array(&file, "mean", &post.shape, &post.mean, path)?;
        write_array(&file, "std", &post.shape, &post.std, path)?;
        file.new_dataset::<VarLenUnicode>()
            .create("scenario")
            .and_then(|d| d.write_scalar(&text(&post.scenario)))
            .map_err(&e)?;
        finish(file, path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_round_trips_with_layout_v1_attributes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.h5");
        let model = ModelFile {
            name: "vp".into(),
            shape: vec![2, 3],
            spacing: vec![10.0, 5.0],
            origin: vec![0.0, 0.0],
            units: "m/s".into(),
            values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        };
        write_model(&path, &model).unwrap();
        let (file, kind) = open(&path, Some("model")).unwrap();
        assert_eq!(kind, "model");
        assert_eq!(file.attr("pdeinv_format").unwrap().read_scalar::<i64>().unwrap(), 1);
        assert_eq!(read_model(&path, None).unwrap(), model);
        assert!(open(&path, Some("data")).unwrap_err().to_string().contains("`model` file"));
    }

    #[test]
    fn data_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.h5");
        let data = DataFile {
            dt: 0.001,
            nt: 3,
            shots: vec![ShotRecord {
                source: vec![10.0, 20.0],
                receivers: vec![vec![0.0, 1.0], vec![0.0, 2.0]],
                traces: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                wavelet: vec![0.0, 1.0, 0.0],
            }],
        };
        write_data(&path, &data).unwrap();
        assert_eq!(read_data(&path).unwrap(), data);
    }

    #[test]
    fn run_round_trips_bitwise() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.h5");
        let iteration = |k: f64| RunIteration {
            model: vec![1.0 / 3.0 + k, 2.0, 3.0, 4.0],
            gradient: vec![1e-300, -0.1, 0.2, k],
            misfit: 0.1 + k,
            gradient_norm: 0.5,
            step: 1.0 / 7.0,
            seconds: 2.5,
            band: k as usize,
            cutoff: 4.0,
        };
        let run = RunFile {
            parameter: "vp".into(),
            shape: vec![2, 2],
            spacing: vec![10.0, 10.0],
            scenario: "[problem]\nphysics = \"acoustic\"\n".into(),
            iterations: vec![iteration(0.0), iteration(1.0)],
            final_model: Some(vec![5.0, 6.0, 7.0, 8.0]),
            true_model: None,
            resume: vec![("a".into(), vec![0.1, 0.2]), ("b".into(), vec![])],
        };
        write_run(&path, &run).unwrap();
        assert_eq!(read_run(&path).unwrap(), run);
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.h5");
        std::fs::write(&path, b"definitely not hdf5").unwrap();
        let err = read_model(&path, None).unwrap_err().to_string();
        assert!(err.contains("not a readable HDF5 file"), "{err}");
    }
}
