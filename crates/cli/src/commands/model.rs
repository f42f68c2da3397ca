//! `pdeinv model`: import models from raw binary or SEG-Y files, smooth them,
//! or build a scenario's true or initial model, each written as an HDF5 model
//! file (layout v1).

use crate::Output;
use crate::UserError;
use crate::commands::bench::parse_shape;
use anyhow::Result;
use clap::{ArgGroup, Args as ClapArgs, Subcommand, ValueEnum};
use pdeinv_grid::Grid;
use pdeinv_io::h5::{ModelFile, read_model, write_model};
use pdeinv_io::raw::{Endian, RawOrder, RawSpec, RawType, read_raw};
use pdeinv_io::scenario::{Physics, Scenario};
use pdeinv_io::segy::read_segy;
use pdeinv_io::setup;
use std::path::{Path, PathBuf};

/// Model subcommands.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Import a 2D model from a raw binary file or a SEG-Y file (one trace per
    /// column) into an HDF5 model file.
    Import(ImportArgs),
    /// Smooth a model with a Gaussian of standard deviation SIGMA metres.
    Smooth(SmoothArgs),
    /// Build a scenario's true or initial model and write it as a model file.
    Build(BuildArgs),
}

/// Physical parameter of an imported model.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Parameter {
    /// P-wave velocity (m/s).
    Vp,
    /// Diffusivity (m^2/s).
    Kappa,
}

impl Parameter {
    fn name(self) -> &'static str {
        match self {
            Parameter::Vp => "vp",
            Parameter::Kappa => "kappa",
        }
    }

    fn units(self) -> &'static str {
        match self {
            Parameter::Vp => "m/s",
            Parameter::Kappa => "m^2/s",
        }
    }
}

/// Sample order of a raw file.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OrderArg {
    /// Each trace of NZ depth samples is contiguous (column-major).
    ZFast,
    /// Each row of NX samples is contiguous (row-major, pdeinv's layout).
    XFast,
}

/// Byte order of a raw file.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum EndianArg {
    /// Least significant byte first (x86, ARM).
    Little,
    /// Most significant byte first.
    Big,
}

/// Value type of a raw file.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TypeArg {
    /// 4-byte IEEE floats.
    F32,
    /// 8-byte IEEE floats.
    F64,
}

/// Arguments of `model import`.
#[derive(Debug, ClapArgs)]
#[command(group(ArgGroup::new("input").required(true).args(["raw", "segy"])))]
pub struct ImportArgs {
    /// Raw binary file of NZ * NX floats, no header (needs --shape and --spacing).
    #[arg(long, value_name = "FILE")]
    raw: Option<PathBuf>,
    /// Big-endian SEG-Y rev1 file; each trace is one column (x position) of
    /// the model, its samples run down in depth.
    #[arg(long, value_name = "FILE")]
    segy: Option<PathBuf>,
    /// Model shape `NZ,NX` of a raw file (points along depth and along x).
    #[arg(long, value_name = "NZ,NX", value_parser = parse_shape)]
    shape: Option<[usize; 2]>,
    /// Grid spacing `DZ,DX` in metres. Required with --raw; with --segy it
    /// overrides the default (the sample interval in microseconds / 1000, as
    /// metres, for both axes).
    #[arg(long, value_name = "DZ,DX", value_parser = parse_spacing)]
    spacing: Option<[f64; 2]>,
    /// Sample order of a raw file [default: z-fast].
    #[arg(long, value_enum)]
    order: Option<OrderArg>,
    /// Byte order of a raw file [default: little].
    #[arg(long, value_enum)]
    endian: Option<EndianArg>,
    /// Value type of a raw file [default: f32].
    #[arg(long = "type", value_enum)]
    value_type: Option<TypeArg>,
    /// The parameter the values are: the dataset name and units of the output.
    #[arg(long, value_enum, default_value_t = Parameter::Vp)]
    name: Parameter,
    /// Output model file (HDF5).
    #[arg(short = 'o', long = "out", value_name = "MODEL.h5")]
    out: PathBuf,
}

/// Arguments of `model smooth`.
#[derive(Debug, ClapArgs)]
pub struct SmoothArgs {
    /// Input model file (HDF5).
    input: PathBuf,
    /// Standard deviation of the Gaussian, metres (0 copies the model).
    #[arg(long, value_name = "METRES", allow_negative_numbers = true)]
    sigma: f64,
    /// Output model file (HDF5).
    #[arg(short = 'o', long = "out", value_name = "OUT.h5")]
    out: PathBuf,
}

/// Which model of a scenario `model build` writes.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Which {
    /// The `[model.true]` table.
    True,
    /// The `[model.initial]` table.
    Initial,
}

/// Arguments of `model build`.
#[derive(Debug, ClapArgs)]
pub struct BuildArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Which of the scenario's models to build.
    #[arg(long, value_enum, default_value_t = Which::True)]
    which: Which,
    /// Output model file (HDF5).
    #[arg(short = 'o', long = "out", value_name = "OUT.h5")]
    out: PathBuf,
}

/// Run a model subcommand.
pub fn run(cmd: ModelCommand, out: Output) -> Result<()> {
    let model = match cmd {
        ModelCommand::Import(args) => import(&args, out)?,
        ModelCommand::Smooth(args) => smooth(&args)?,
        ModelCommand::Build(args) => build(&args)?,
    };
    if !out.quiet {
        let (path, model) = model;
        let (lo, hi) =
            model.values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        println!(
            "wrote {}: {} {:?}, spacing {:?} m, values {} to {} {}",
            path.display(),
            model.name,
            model.shape,
            model.spacing,
            lo as f32,
            hi as f32,
            model.units
        );
    }
    Ok(())
}

/// Parse `DZ,DX` into two positive finite spacings in metres.
pub(crate) fn parse_spacing(text: &str) -> Result<[f64; 2], String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let parsed: Vec<f64> =
        parts.iter().filter_map(|p| p.parse::<f64>().ok()).filter(|h| h.is_finite() && *h > 0.0).collect();
    match parsed[..] {
        [dz, dx] if parts.len() == 2 => Ok([dz, dx]),
        _ => Err(format!("'{text}' is not a spacing: give two positive numbers of metres DZ,DX, like 10,10")),
    }
}

/// The first value that is not finite and positive, as `[iz, ix]` (or `[ix]`
/// for a 1D shape) and the value.
fn first_invalid(values: &[f64], shape: &[usize], positive: bool) -> Option<(String, f64)> {
    let nx = shape.last().copied().unwrap_or(1).max(1);
    values.iter().enumerate().find(|(_, v)| !(v.is_finite() && (!positive || **v > 0.0))).map(|(i, &v)| {
        let place = if shape.len() == 2 { format!("[{}, {}]", i / nx, i % nx) } else { format!("[{i}]") };
        (place, v)
    })
}

/// Reject non-finite or non-positive model values, naming the first one.
fn check_values(source: &Path, model: &ModelFile) -> Result<(), UserError> {
    match first_invalid(&model.values, &model.shape, true) {
        Some((place, value)) => Err(UserError(format!(
            "{}: {} value {value} at {place} is invalid; model values must be finite and positive ({})",
            source.display(),
            model.name,
            model.units
        ))),
        None => Ok(()),
    }
}

fn import(args: &ImportArgs, out: Output) -> Result<(PathBuf, ModelFile)> {
    let (source, shape, spacing, values) = match (&args.raw, &args.segy) {
        (Some(raw), None) => {
            let Some(shape) = args.shape else {
                return Err(
                    UserError("model import --raw needs --shape NZ,NX (points along depth and x)".into()).into()
                );
            };
            let Some(spacing) = args.spacing else {
                return Err(UserError("model import --raw needs --spacing DZ,DX (metres)".into()).into());
            };
            let spec = RawSpec {
                shape,
                order: match args.order.unwrap_or(OrderArg::ZFast) {
                    OrderArg::ZFast => RawOrder::ZFast,
                    OrderArg::XFast => RawOrder::XFast,
                },
                endian: match args.endian.unwrap_or(EndianArg::Little) {
                    EndianArg::Little => Endian::Little,
                    EndianArg::Big => Endian::Big,
                },
                value_type: match args.value_type.unwrap_or(TypeArg::F32) {
                    TypeArg::F32 => RawType::F32,
                    TypeArg::F64 => RawType::F64,
                },
            };
            (raw, shape, spacing, read_raw(raw, &spec)?)
        }
        (None, Some(segy)) => {
            let raw_only = [
                ("--shape", args.shape.is_some()),
                ("--order", args.order.is_some()),
                ("--endian", args.endian.is_some()),
                ("--type", args.value_type.is_some()),
            ];
            if let Some((flag, _)) = raw_only.iter().find(|(_, given)| *given) {
                return Err(UserError(format!(
                    "{flag} applies to --raw files only; a SEG-Y file describes its own shape and sample format"
                ))
                .into());
            }
            let data = read_segy(segy)?;
            let (nz, nx) = (data.n_samples, data.n_traces);
            let spacing = match args.spacing {
                Some(spacing) => spacing,
                None if data.sample_interval_us > 0 => {
                    let h = f64::from(data.sample_interval_us) / 1000.0;
                    if !out.quiet {
                        eprintln!(
                            "note: spacing {h} m on both axes, from the SEG-Y sample interval {} us / 1000; give --spacing DZ,DX to override",
                            data.sample_interval_us
                        );
                    }
                    [h, h]
                }
                None => {
                    return Err(UserError(format!(
                        "{}: the SEG-Y sample interval is 0, so the grid spacing is unknown; give --spacing DZ,DX (metres)",
                        segy.display()
                    ))
                    .into());
                }
            };
            // Traces are columns: model [iz, ix] = trace ix, sample iz.
            let mut values = vec![0.0; nz * nx];
            for (ix, trace) in data.traces.chunks_exact(nz).enumerate() {
                for (iz, &v) in trace.iter().enumerate() {
                    values[iz * nx + ix] = v;
                }
            }
            (segy, [nz, nx], spacing, values)
        }
        // clap's required, exclusive group "input" rules these out.
        _ => return Err(UserError("model import needs exactly one of --raw FILE or --segy FILE".into()).into()),
    };
    let model = ModelFile {
        name: args.name.name().into(),
        shape: shape.to_vec(),
        spacing: spacing.to_vec(),
        origin: vec![0.0; 2],
        units: args.name.units().into(),
        values,
    };
    check_values(source, &model)?;
    write_model(&args.out, &model)?;
    Ok((args.out.clone(), model))
}

fn smooth(args: &SmoothArgs) -> Result<(PathBuf, ModelFile)> {
    if !(args.sigma.is_finite() && args.sigma >= 0.0) {
        return Err(UserError(format!(
            "--sigma {} is invalid; give a non-negative number of metres (0 copies the model)",
            args.sigma
        ))
        .into());
    }
    let model = read_model(&args.input, None)?;
    let grid = match (&model.shape[..], &model.spacing[..]) {
        (&[nz, nx], &[dz, dx]) => Grid::new_2d(nz, nx, dz, dx),
        (&[nx], &[dx]) => Grid::new_1d(nx, dx),
        _ => {
            return Err(UserError(format!(
                "{}: model shape {:?} with spacing {:?} is not a 1D or 2D grid",
                args.input.display(),
                model.shape,
                model.spacing
            ))
            .into());
        }
    }
    .map_err(|e| UserError(format!("{}: {e}", args.input.display())))?;
    if let Some((place, value)) = first_invalid(&model.values, &model.shape, false) {
        return Err(UserError(format!(
            "{}: {} value {value} at {place} is not finite; only finite models can be smoothed",
            args.input.display(),
            model.name
        ))
        .into());
    }
    let values = pdeinv_grid::smooth::gaussian(&model.values, &grid, args.sigma);
    let smoothed = ModelFile { values, ..model };
    write_model(&args.out, &smoothed)?;
    Ok((args.out.clone(), smoothed))
}

fn build(args: &BuildArgs) -> Result<(PathBuf, ModelFile)> {
    let scenario = Scenario::load(&args.scenario)?;
    let values = match args.which {
        Which::True => setup::true_model(&scenario)?,
        Which::Initial => setup::initial_model(&scenario)?,
    };
    let parameter = match scenario.physics {
        Physics::Acoustic => Parameter::Vp,
        Physics::Diffusion => Parameter::Kappa,
    };
    let shape = scenario.grid.shape();
    let model = ModelFile {
        name: parameter.name().into(),
        origin: vec![0.0; shape.len()],
        shape,
        spacing: scenario.grid.spacing(),
        units: parameter.units().into(),
        values,
    };
    let key = match args.which {
        Which::True => "model.true",
        Which::Initial => "model.initial",
    };
    check_values(&args.scenario, &model).map_err(|UserError(m)| UserError(format!("{m} (from [{key}])")))?;
    write_model(&args.out, &model)?;
    Ok((args.out.clone(), model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_is_two_positive_numbers() {
        assert_eq!(parse_spacing("10,12.5"), Ok([10.0, 12.5]));
        assert_eq!(parse_spacing(" 4 , 8 "), Ok([4.0, 8.0]));
        for bad in ["10", "10,0", "10,-1", "10,x", "1,2,3", "inf,1", "nan,1", ""] {
            assert!(parse_spacing(bad).unwrap_err().contains("DZ,DX"), "{bad}");
        }
    }

    #[test]
    fn first_invalid_value_is_located() {
        let mut values = vec![1.0; 12];
        assert_eq!(first_invalid(&values, &[3, 4], true), None);
        values[7] = -2.0;
        assert_eq!(first_invalid(&values, &[3, 4], true), Some(("[1, 3]".into(), -2.0)));
        assert_eq!(first_invalid(&values, &[3, 4], false), None);
        values[9] = f64::INFINITY;
        assert_eq!(first_invalid(&values, &[12], false), Some(("[9]".into(), f64::INFINITY)));
    }
}
