//! `pdeinv invert`: full-waveform inversion of recorded (or synthesised)
//! data from the scenario's starting model. After every iteration the run
//! file is rewritten atomically with the iteration's model, gradient and
//! misfit and the complete optimiser state, so `--resume` continues a killed
//! run from its last complete iteration and ends bitwise where an
//! uninterrupted run ends. Figures (models, last gradient, misfit curve) are
//! written next to the run file at the end.

use crate::Output;
use crate::UserError;
use crate::commands::forward::{parallelism_for, simulate};
use crate::commands::gradient::{check_recorded, choose_strategy};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use pdeinv_adjoint::Strategy;
use pdeinv_inversion::diffusion::DiffusionCalibration;
use pdeinv_inversion::fwi::{AcousticFwi, FwiShot, SimulationPrecision};
use pdeinv_inversion::metrics::{hull_mask, relative_error_where};
use pdeinv_inversion::misfit::MisfitKind;
use pdeinv_inversion::noise::add_noise;
use pdeinv_inversion::run::{DataObjective, Inversion, IterationRecord, Problem, Progress};
use pdeinv_inversion::settings::Settings;
use pdeinv_io::figure::{CurveSpec, ImageSpec, Palette, plot_curves, plot_model, plot_models_side_by_side};
use pdeinv_io::h5::{self, RunFile, RunIteration};
use pdeinv_io::scenario::{CheckpointSpec, Physics, Precision, Scenario};
use pdeinv_io::setup;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `invert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file (TOML) with `[model.initial]` and `[inversion]`.
    scenario: PathBuf,
    /// Recorded data (HDF5); without it, data are first synthesised from
    /// `[model.true]`.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output run file (HDF5, kind `run`); figures are written beside it.
    #[arg(long)]
    out: PathBuf,
    /// Iterations in all (overrides `inversion.iterations`).
    #[arg(long)]
    iterations: Option<usize>,
    /// Continue the run in `--out` from its last complete iteration (give
    /// the same scenario and `--data` as the first time).
    #[arg(long)]
    resume: bool,
}

/// Run `invert`.
pub fn run(args: Args, out: Output) -> Result<()> {
    let clock = Instant::now();
    let scenario = Scenario::load(&args.scenario)?;
    let mut settings = scenario.inversion_settings()?;
    if let Some(n) = args.iterations {
        settings.iterations = n;
    }
    let initial = setup::initial_model(&scenario)?;
    let truth = setup::true_model(&scenario).ok();
    let previous = if args.resume { Some(read_previous(&args.out, &scenario)?) } else { None };
    let recorded = match &args.data {
        Some(path) => Some((path.clone(), h5::read_data(path)?)),
        None => None,
    };
    let parallelism = parallelism_for(scenario.sources.len());
    let job =
        Job { scenario: &scenario, settings: &settings, initial: &initial, truth: truth.as_deref(), previous, clock };
    match scenario.physics {
        Physics::Acoustic => {
            // the time axis: the data's, or one stable for every velocity the run may reach
            let dt = match &recorded {
                Some((_, data)) => data.dt,
                None => setup::data_time_step(&scenario)?,
            };
            let acoustic = setup::acoustic(&scenario, &initial, dt, parallelism)?;
            if let Some((hi, limit)) = settings
                .bounds
                .map(|(_, hi)| (hi, pdeinv_forward::stability::stable_dt(&scenario.grid, scenario.space_order, hi)))
                && dt > limit
            {
                return Err(UserError(format!(
                    "{}: inversion.bounds allow {hi} m/s, for which dt = {dt:.6e} s is unstable (limit {limit:.6e} s); lower the upper bound or the time step",
                    args.scenario.display()
                ))
                .into());
            }
            let mut traces: Vec<Vec<f64>> = match recorded {
                Some((path, data)) => {
                    check_recorded(&scenario, &data, &path, acoustic.shots.len())?;
                    data.shots.into_iter().map(|s| s.traces).collect()
                }
                None => {
                    let truth = truth.as_ref().context("no true model to synthesise data from")?;
                    let synthetic_setup = setup::acoustic(&scenario, truth, dt, parallelism)?;
                    match scenario.precision {
                        Precision::F32 => simulate::<f32>(&synthetic_setup, truth, out)?,
                        Precision::F64 => simulate::<f64>(&synthetic_setup, truth, out)?,
                    }
                }
            };
            if args.data.is_none()
                && let Some(noise) = scenario.noise
            {
                add_noise(&mut traces, noise.relative, noise.seed);
            }
            // warnings only once the input has been checked (an error stays one line)
            for w in &acoustic.warnings {
                eprintln!("warning: {w}");
            }
            let strategy = choose_strategy(&scenario, &acoustic, &initial, out)?;
            let problem = Problem {
                objective: AcousticFwi {
                    config: acoustic.config.clone(),
                    wavelet: acoustic.wavelet.clone(),
                    shots: fwi_shots(&acoustic.shots, traces),
                    misfit: settings.misfit,
                    strategy,
                    precision: match scenario.precision {
                        Precision::F32 => SimulationPrecision::F32,
                        Precision::F64 => SimulationPrecision::F64,
                    },
                },
                source_positions: acoustic.shots.iter().map(|s| s.source_position).collect(),
            };
            drive(&args, out, job, &problem, "vp", "vp (m/s)")
        }
        Physics::Diffusion => {
            let diffusion = setup::diffusion(&scenario, parallelism)?;
            check_kappa(&scenario, "model.initial", &initial)?;
            if let Some(truth) = &truth {
                check_kappa(&scenario, "model.true", truth)?;
            }
            let strategy = match scenario.checkpoint_strategy()? {
                CheckpointSpec::Fixed(strategy) => strategy,
                CheckpointSpec::Budget(_) => Strategy::StoreAll,
            };
            let calibration = |shots| DiffusionCalibration {
                config: diffusion.config.clone(),
                wavelet: diffusion.wavelet.clone(),
                shots,
                strategy,
            };
            let mut traces: Vec<Vec<f64>> = match recorded {
                Some((path, data)) => {
                    check_recorded(&scenario, &data, &path, diffusion.shots.len())?;
                    data.shots.into_iter().map(|s| s.traces).collect()
                }
                None => {
                    let truth = truth.as_ref().context("no true model to synthesise data from")?;
                    let empty = fwi_shots(&diffusion.shots, vec![Vec::new(); diffusion.shots.len()]);
                    calibration(empty).simulate(truth)?
                }
            };
            if args.data.is_none()
                && let Some(noise) = scenario.noise
            {
                add_noise(&mut traces, noise.relative, noise.seed);
            }
            if settings.misfit != MisfitKind::LeastSquares {
                return Err(UserError(format!(
                    "{}: inversion.misfit = \"{}\" is for seismograms; diffusion calibration uses \"least-squares\"",
                    args.scenario.display(),
                    settings.misfit.name()
                ))
                .into());
            }
            let problem = Problem {
                objective: calibration(fwi_shots(&diffusion.shots, traces)),
                source_positions: diffusion.shots.iter().map(|s| s.source_position).collect(),
            };
            drive(&args, out, job, &problem, "kappa", "kappa (m^2/s)")
        }
    }
}

/// A diffusivity map must be positive everywhere, and stable for an
/// explicit scheme.
pub(crate) fn check_kappa(scenario: &Scenario, key: &str, kappa: &[f64]) -> Result<()> {
    if let Some(index) = kappa.iter().position(|k| !(k.is_finite() && *k > 0.0)) {
        return Err(UserError(format!(
            "{}: {key} gives kappa = {} at cell {index}; a diffusivity must be a finite positive number (m^2/s)",
            scenario.path.display(),
            kappa[index]
        ))
        .into());
    }
    if let (Some(solver), Some(dt)) = (scenario.diffusion, scenario.dt)
        && solver.scheme == pdeinv_forward::diffusion::Scheme::Explicit
    {
        let boundaries = pdeinv_forward::diffusion::Boundaries::all(solver.boundary);
        let limit = pdeinv_forward::diffusion::explicit_dt_limit(&scenario.grid, boundaries, kappa)?;
        if dt > limit {
            return Err(UserError(format!(
                "{}: time.dt = {dt} exceeds the explicit stability limit {limit:.6e} s for {key}; use dt <= {limit:.6e} or solver.scheme = \"crank-nicolson\"",
                scenario.path.display()
            ))
            .into());
        }
    }
    Ok(())
}

/// Acquisition and records of every shot.
pub(crate) fn fwi_shots(shots: &[setup::ShotGeometry], traces: Vec<Vec<f64>>) -> Vec<FwiShot> {
    shots
        .iter()
        .zip(traces)
        .map(|(shot, observed)| FwiShot { source: shot.source.clone(), receivers: shot.receivers.clone(), observed })
        .collect()
}

/// What every inversion run shares, whatever the physics.
struct Job<'a> {
    scenario: &'a Scenario,
    settings: &'a Settings,
    initial: &'a [f64],
    truth: Option<&'a [f64]>,
    previous: Option<RunFile>,
    clock: Instant,
}

/// The iterations, the run file after each one, and the figures.
fn drive<O: DataObjective>(
    args: &Args,
    out: Output,
    job: Job<'_>,
    problem: &Problem<O>,
    parameter: &str,
    units_label: &str,
) -> Result<()> {
    let Job { scenario, settings, initial, truth, previous, clock } = job;
    let grid = &scenario.grid;
    let mut run = RunFile {
        parameter: parameter.into(),
        shape: grid.shape(),
        spacing: grid.spacing(),
        scenario: scenario.text.clone(),
        true_model: truth.map(<[f64]>::to_vec),
        ..RunFile::default()
    };
    let start_seconds;
    let (mut inversion, mut progress) = match previous {
        Some(previous) => {
            let progress = Progress::from_named_vectors(&previous.resume, problem, settings).map_err(|e| {
                UserError(format!("{}: cannot resume: {e}; start a new run without --resume", args.out.display()))
            })?;
            start_seconds = previous.iterations.last().map_or(0.0, |it| it.seconds);
            run.iterations = previous.iterations;
            (Inversion::resume(problem, settings, &progress), progress)
        }
        None => {
            let (inversion, progress, record) = Inversion::start(problem, settings, initial)?;
            start_seconds = 0.0;
            run.iterations.push(iteration_entry(&record, clock.elapsed().as_secs_f64()));
            run.resume = progress.to_named_vectors();
            h5::write_run(&args.out, &run)?;
            report(out, &record);
            (inversion, progress)
        }
    };
    let bar = iteration_bar(out, settings.iterations as u64, progress.iteration as u64);
    while let Some(record) = inversion.iterate(&mut progress)? {
        run.iterations.push(iteration_entry(&record, start_seconds + clock.elapsed().as_secs_f64()));
        run.resume = progress.to_named_vectors();
        h5::write_run(&args.out, &run)?;
        match &bar {
            Some(bar) => {
                bar.set_position(record.iteration as u64);
                bar.set_message(format!("misfit {:.4e}, step {:.3e}", record.misfit, record.step));
            }
            None => report(out, &record),
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let final_model = run.iterations.last().map(|it| it.model.clone()).unwrap_or_else(|| initial.to_vec());
    run.final_model = Some(final_model.clone());
    run.resume = progress.to_named_vectors();
    h5::write_run(&args.out, &run)?;
    let figures = write_figures(&args.out, &run, initial, parameter, units_label)?;
    if !out.quiet {
        let first = run.iterations.first().map_or(0.0, |it| it.misfit);
        let last = run.iterations.last().map_or(0.0, |it| it.misfit);
        println!(
            "wrote {} ({} iterations, misfit {first:.6e} -> {last:.6e}, {:.1} s) and {}",
            args.out.display(),
            run.iterations.len() - 1,
            start_seconds + clock.elapsed().as_secs_f64(),
            figures.join(", ")
        );
        if let Some(truth) = truth {
            println!("relative model error = {:.6}", relative_error(&final_model, initial, truth));
            println!(
                "relative {parameter} error = {:.6} (‖m − m_true‖ / ‖m_true‖)",
                distance(&final_model, truth) / truth.iter().map(|t| t * t).sum::<f64>().sqrt()
            );
            if scenario.grid.dimension == 2 && scenario.physics == Physics::Diffusion {
                let mask = hull_mask(&scenario.grid, &scenario.receivers);
                println!(
                    "relative {parameter} error inside the sensors' hull = {:.6} ({} cells)",
                    relative_error_where(&final_model, truth, &mask),
                    mask.iter().filter(|&&m| m).count()
                );
            }
        }
    }
    Ok(())
}

/// `‖a − b‖`.
fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, t)| (x - t) * (x - t)).sum::<f64>().sqrt()
}

/// `‖m − m_true‖ / ‖m₀ − m_true‖`.
pub fn relative_error(model: &[f64], initial: &[f64], truth: &[f64]) -> f64 {
    distance(model, truth) / distance(initial, truth)
}

fn read_previous(path: &Path, scenario: &Scenario) -> Result<RunFile> {
    if !path.exists() {
        return Err(UserError(format!(
            "{}: --resume needs the run file of an earlier run, and there is none; run without --resume",
            path.display()
        ))
        .into());
    }
    let previous = h5::read_run(path)?;
    if previous.scenario != scenario.text {
        return Err(UserError(format!(
            "{}: this run was made from a different scenario than {}; resume with the same scenario or start a new run",
            path.display(),
            scenario.path.display()
        ))
        .into());
    }
    if previous.iterations.is_empty() || previous.resume.is_empty() {
        return Err(UserError(format!(
            "{}: the run file holds no complete iteration to resume from; start a new run",
            path.display()
        ))
        .into());
    }
    Ok(previous)
}

fn iteration_entry(record: &IterationRecord, seconds: f64) -> RunIteration {
    RunIteration {
        model: record.model.clone(),
        gradient_norm: record.gradient.iter().map(|g| g * g).sum::<f64>().sqrt(),
        gradient: record.gradient.clone(),
        misfit: record.misfit,
        step: record.step,
        seconds,
        band: record.band,
        cutoff: record.cutoff.unwrap_or(0.0),
    }
}

fn report(out: Output, record: &IterationRecord) {
    if !out.quiet {
        let band = record.cutoff.map(|c| format!(", band {} (< {c} Hz)", record.band)).unwrap_or_default();
        eprintln!(
            "iteration {:>3}: misfit {:.6e}, step {:.3e}, {} evaluation(s){band}",
            record.iteration, record.misfit, record.step, record.evaluations
        );
    }
}

fn iteration_bar(out: Output, total: u64, done: u64) -> Option<ProgressBar> {
    (!out.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("invert [{bar:30}] iteration {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_position(done);
        bar
    })
}

/// `run.h5` → `run-<suffix>.png` beside it.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    path.with_file_name(format!("{stem}-{suffix}.png"))
}

/// Models on one colour scale, the last gradient and the misfit curve.
fn write_figures(
    path: &Path,
    run: &RunFile,
    initial: &[f64],
    parameter: &str,
    units_label: &str,
) -> Result<Vec<String>> {
    let (nz, nx) = if run.shape.len() == 2 { (run.shape[0], run.shape[1]) } else { (1, run.shape[0]) };
    let (dz, dx) = if run.spacing.len() == 2 { (run.spacing[0], run.spacing[1]) } else { (1.0, run.spacing[0]) };
    let mut written = Vec::new();
    let final_model = run.final_model.as_deref().unwrap_or(initial);
    let mut panels: Vec<(&str, &[f64])> = Vec::new();
    if let Some(truth) = &run.true_model {
        panels.push(("true model", truth));
    }
    panels.push(("initial model", initial));
    panels.push(("final model", final_model));
    let lo = panels.iter().flat_map(|(_, v)| v.iter()).copied().fold(f64::INFINITY, f64::min);
    let hi = panels.iter().flat_map(|(_, v)| v.iter()).copied().fold(f64::NEG_INFINITY, f64::max);
    if nz > 1 {
        let specs: Vec<ImageSpec> = panels
            .iter()
            .map(|(title, values)| ImageSpec {
                values,
                nz,
                nx,
                dz,
                dx,
                title,
                colour_label: units_label,
                range: Some((lo, hi)),
                palette: Palette::Viridis,
            })
            .collect();
        let models = sibling(path, "models");
        plot_models_side_by_side(&models, &specs)?;
        written.push(models.display().to_string());
        if let Some(last) = run.iterations.last() {
            let gradient = sibling(path, "gradient");
            let extent = last.gradient.iter().fold(0.0f64, |m, g| m.max(g.abs())).max(f64::MIN_POSITIVE);
            plot_model(
                &gradient,
                &ImageSpec {
                    values: &last.gradient,
                    nz,
                    nx,
                    dz,
                    dx,
                    title: &format!("last gradient dJ/d{parameter}"),
                    colour_label: &format!("dJ/d{parameter}"),
                    range: Some((-extent, extent)),
                    palette: Palette::Seismic,
                },
            )?;
            written.push(gradient.display().to_string());
        }
    } else {
        let x: Vec<f64> = (0..nx).map(|i| i as f64 * dx).collect();
        let series: Vec<(&str, &[f64], &[f64])> = panels.iter().map(|(t, v)| (*t, x.as_slice(), *v)).collect();
        let models = sibling(path, "models");
        plot_curves(
            &models,
            &CurveSpec { series: &series, title: parameter, x_label: "x (m)", y_label: units_label, log_y: false },
        )?;
        written.push(models.display().to_string());
    }
    let iterations: Vec<f64> = (0..run.iterations.len()).map(|i| i as f64).collect();
    let misfits: Vec<f64> = run.iterations.iter().map(|it| it.misfit.max(f64::MIN_POSITIVE)).collect();
    let curve = sibling(path, "misfit");
    plot_curves(
        &curve,
        &CurveSpec {
            series: &[("misfit", &iterations, &misfits)],
            title: "data misfit per iteration",
            x_label: "iteration",
            y_label: "misfit",
            log_y: true,
        },
    )?;
    written.push(curve.display().to_string());
    Ok(written)
}
