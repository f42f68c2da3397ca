//! `pdeinv plot`: a PNG of a model, a gradient or one shot gather of a pdeinv
//! HDF5 file, chosen by the file's `kind` attribute.

use crate::Output;
use crate::UserError;
use anyhow::Result;
use pdeinv_io::figure::{GatherSpec, ImageSpec, Palette, plot_gather, plot_model};
use pdeinv_io::h5;
use std::path::{Path, PathBuf};

/// Arguments of `plot`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A pdeinv HDF5 file: model, gradient or data (shot gathers).
    file: PathBuf,
    /// Dataset to draw: `/vp` or `/kappa` in a model file (default: whichever
    /// is present), `/gradient` in a gradient file, `/shots/NNNN/traces` in a
    /// data file (selects shot NNNN).
    #[arg(long, value_name = "PATH")]
    dataset: Option<String>,
    /// Shot to draw from a data file (0-based).
    #[arg(long, value_name = "N")]
    shot: Option<usize>,
    /// Output PNG file.
    #[arg(short = 'o', long = "out", value_name = "OUT.png")]
    out: PathBuf,
}

/// Run `plot`.
pub fn run(args: Args, out: Output) -> Result<()> {
    let (file, kind) = h5::open(&args.file, None)?;
    drop(file);
    if args.shot.is_some() && kind != "data" {
        return Err(UserError(format!(
            "{}: --shot applies to data files only; this is a `{kind}` file",
            args.file.display()
        ))
        .into());
    }
    let what = match kind.as_str() {
        "model" | "gradient" | "run" => plot_field(&args, &kind)?,
        "data" => plot_shot(&args)?,
        other => {
            return Err(UserError(format!(
                "{}: cannot plot a `{other}` file; plot model, gradient or data files",
                args.file.display()
            ))
            .into());
        }
    };
    if !out.quiet {
        println!("wrote {}: {what}", args.out.display());
    }
    Ok(())
}

/// The file name of `path`, for titles.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Draw a model or gradient dataset; returns a description for the summary line.
fn plot_field(args: &Args, kind: &str) -> Result<String> {
    let requested = args.dataset.as_deref().map(|d| d.trim_start_matches('/'));
    let name = match (kind, requested) {
        (_, Some(name)) => Some(name),
        ("gradient", None) => Some("gradient"),
        ("run", None) => {
            return Err(UserError(format!(
                "{}: a `run` file holds many models; name one with --dataset, e.g. /final/vp",
                args.file.display()
            ))
            .into());
        }
        _ => None,
    };
    if let Some(name) = name {
        check_dataset_exists(&args.file, name)?;
    }
    let model = h5::read_model(&args.file, name)?;
    let (nz, nx, dz, dx) = match (&model.shape[..], &model.spacing[..]) {
        (&[nz, nx], &[dz, dx]) => (nz, nx, dz, dx),
        (&[nx], &[dx]) => (1, nx, dx, dx),
        _ => {
            return Err(UserError(format!(
                "{}: dataset `{}` has shape {:?}; only [nz, nx] or [nx] datasets can be drawn",
                args.file.display(),
                model.name,
                model.shape
            ))
            .into());
        }
    };
    let leaf = model.name.rsplit('/').next().unwrap_or(&model.name).to_string();
    let is_gradient = kind == "gradient" || leaf == "gradient";
    let colour_label = match (leaf.as_str(), model.units.as_str()) {
        ("vp", _) => "vp (m/s)".to_string(),
        ("kappa", _) => "kappa (m^2/s)".to_string(),
        ("gradient", _) => "dJ/dm".to_string(),
        (other, "") => other.to_string(),
        (other, units) => format!("{other} ({units})"),
    };
    let (range, palette) = if is_gradient {
        let max = model.values.iter().filter(|v| v.is_finite()).fold(0.0f64, |m, v| m.max(v.abs()));
        let max = if max > 0.0 { max } else { 1.0 };
        (Some((-max, max)), Palette::Seismic)
    } else {
        (None, Palette::Viridis)
    };
    let title = file_name(&args.file);
    let spec =
        ImageSpec { values: &model.values, nz, nx, dz, dx, title: &title, colour_label: &colour_label, range, palette };
    plot_model(&args.out, &spec)?;
    Ok(format!("{} {:?}", model.name, model.shape))
}

/// Fail with the list of available datasets when `name` is not in `path`.
fn check_dataset_exists(path: &Path, name: &str) -> Result<()> {
    let (file, _) = h5::open(path, None)?;
    if file.dataset(name).is_ok() {
        return Ok(());
    }
    let available: Vec<String> = file
        .member_names()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| file.dataset(n).is_ok())
        .map(|n| format!("/{n}"))
        .collect();
    let hint = if available.is_empty() { String::new() } else { format!("; it has {}", available.join(", ")) };
    Err(UserError(format!("{}: no dataset `/{name}`{hint}", path.display())).into())
}

/// The shot number named by `--dataset /shots/NNNN/traces`.
fn shot_from_dataset(path: &Path, dataset: &str) -> Result<usize, UserError> {
    let parts: Vec<&str> = dataset.trim_start_matches('/').split('/').collect();
    match parts[..] {
        ["shots", n] | ["shots", n, "traces"] if n.parse::<usize>().is_ok() => Ok(n.parse().unwrap_or(0)),
        _ => Err(UserError(format!(
            "{}: --dataset {dataset} cannot be drawn from a data file; give /shots/NNNN/traces or --shot N",
            path.display()
        ))),
    }
}

/// Draw one shot gather of a data file.
fn plot_shot(args: &Args) -> Result<String> {
    let from_dataset = args.dataset.as_deref().map(|d| shot_from_dataset(&args.file, d)).transpose()?;
    let shot = match (args.shot, from_dataset) {
        (Some(a), Some(b)) if a != b => {
            return Err(UserError(format!(
                "--shot {a} and --dataset {} name different shots; give one of them",
                args.dataset.as_deref().unwrap_or_default()
            ))
            .into());
        }
        (a, b) => a.or(b).unwrap_or(0),
    };
    let data = h5::read_data(&args.file)?;
    let count = data.shots.len();
    let Some(record) = data.shots.get(shot) else {
        let valid = if count == 0 { "it has none".to_string() } else { format!("valid shots are 0 to {}", count - 1) };
        return Err(UserError(format!(
            "{}: shot {shot} is out of range: the file has {count} shot(s); {valid}",
            args.file.display()
        ))
        .into());
    };
    let nrec = record.receivers.len();
    let receiver_x: Vec<f64> = record.receivers.iter().map(|r| r.last().copied().unwrap_or(0.0)).collect();
    let source_x = record.source.last().copied().unwrap_or(0.0);
    let title = format!("shot {shot} of {count}, source at x = {source_x} m");
    let spec = GatherSpec {
        traces: &record.traces,
        nt: data.nt,
        nrec,
        dt: data.dt,
        receiver_x: &receiver_x,
        title: &title,
        clip_percentile: 0.99,
    };
    plot_gather(&args.out, &spec)?;
    Ok(format!("shot {shot} of {count} ({} samples x {nrec} receivers)", data.nt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shot_datasets() {
        let path = Path::new("d.h5");
        assert_eq!(shot_from_dataset(path, "/shots/0003/traces").unwrap(), 3);
        assert_eq!(shot_from_dataset(path, "shots/12").unwrap(), 12);
        for bad in ["/vp", "/shots/x/traces", "/shots/0001/receivers", "/shots"] {
            assert!(shot_from_dataset(path, bad).unwrap_err().0.contains("/shots/NNNN/traces"), "{bad}");
        }
    }
}
