//! `pdeinv misfit` and `pdeinv gradient`: the least-squares misfit of a model
//! against recorded data, and its exact gradient by the adjoint method
//! (`--check` adds the dot-product and Taylor tests).

use crate::Output;
use crate::UserError;
use crate::commands::forward::parallelism_for;
use crate::progress::Progress;
use anyhow::{Context, Result};
use pdeinv_adjoint::verify::{dot_product_test, pseudo_random, taylor_slopes, taylor_test};
use pdeinv_adjoint::{
    CostModel, Residuals, Strategy, gradient_boundary_saving_with_progress, gradient_with_progress, misfit,
    plan_for_budget,
};
use pdeinv_forward::acoustic::{AcousticModel, AcousticShot, ShotInput};
use pdeinv_forward::{AdjointPropagator, Propagator, Real};
use pdeinv_io::h5::{self, DataFile, GradientFile};
use pdeinv_io::scenario::{CheckpointSpec, Precision, Scenario};
use pdeinv_io::setup::{self, AcousticSetup};
use std::path::PathBuf;

/// Arguments of `misfit`.
#[derive(Debug, clap::Args)]
pub struct MisfitArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Model file (HDF5, dataset `vp`).
    #[arg(long)]
    model: PathBuf,
    /// Recorded data (HDF5 data file, e.g. from `pdeinv forward`).
    #[arg(long)]
    data: PathBuf,
}

/// Arguments of `gradient`.
#[derive(Debug, clap::Args)]
pub struct GradientArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Model file (HDF5, dataset `vp`).
    #[arg(long)]
    model: PathBuf,
    /// Recorded data (HDF5 data file).
    #[arg(long)]
    data: PathBuf,
    /// Output gradient file (HDF5).
    #[arg(long)]
    out: PathBuf,
    /// Also run the dot-product and Taylor tests (in f64) and print them.
    #[arg(long)]
    check: bool,
}

/// Everything a misfit or gradient evaluation needs.
struct Problem {
    setup: AcousticSetup,
    data: DataFile,
    vp: Vec<f64>,
    precision: Precision,
}

fn load(scenario_path: &std::path::Path, model_path: &std::path::Path, data_path: &std::path::Path) -> Result<Problem> {
    let scenario = Scenario::load(scenario_path)?;
    let model = h5::read_model(model_path, Some("vp"))?;
    if model.shape != scenario.grid.shape() {
        return Err(UserError(format!(
            "{}: the model has shape {:?} but the scenario grid is {:?}; they must match",
            model_path.display(),
            model.shape,
            scenario.grid.shape()
        ))
        .into());
    }
    let data = h5::read_data(data_path)?;
    let setup = setup::acoustic(&scenario, &model.values, data.dt, parallelism_for(scenario.sources.len()))?;
    check_recorded(&scenario, &data, data_path, setup.shots.len())?;
    Ok(Problem { setup, data, vp: model.values, precision: scenario.precision })
}

/// Recorded data must have the scenario's shots, samples and receivers.
pub(crate) fn check_recorded(scenario: &Scenario, data: &DataFile, path: &std::path::Path, shots: usize) -> Result<()> {
    let channels = scenario.receivers.len();
    if data.nt != scenario.nt || data.shots.len() != shots || data.shots.iter().any(|s| s.receivers.len() != channels) {
        return Err(UserError(format!(
            "{}: the data has {} shot(s) of {} samples x {} receivers but the scenario describes {} shot(s) of {} x {}; use data recorded for this scenario",
            path.display(),
            data.shots.len(),
            data.nt,
            data.shots.first().map_or(0, |s| s.receivers.len()),
            shots,
            scenario.nt,
            channels
        ))
        .into());
    }
    Ok(())
}

/// Run `f` on every shot with its observed traces and return the results
/// in shot order ([`AcousticModel::map_shots`]).
fn per_shot<T: Real, R: Send>(
    problem: &Problem,
    vp: &[f64],
    f: impl Fn(&AcousticShot<'_, T>, &[T]) -> R + Sync,
) -> Result<Vec<R>> {
    let model = AcousticModel::<T>::new(problem.setup.config.clone(), vp).context("cannot build the acoustic model")?;
    let pairs: Vec<_> = problem.setup.shots.iter().zip(&problem.data.shots).collect();
    let wavelet = &problem.setup.wavelet;
    Ok(model.map_shots(
        &pairs,
        |(shot, _)| ShotInput { source: &shot.source, wavelet, receivers: &shot.receivers },
        |propagator, (_, record)| {
            let observed: Vec<T> = record.traces.iter().map(|&v| T::of(v)).collect();
            f(propagator, &observed)
        },
    )?)
}

fn total_misfit<T: Real>(problem: &Problem, vp: &[f64]) -> Result<f64> {
    Ok(per_shot::<T, f64>(problem, vp, |shot, observed| misfit(shot, observed))?.into_iter().sum())
}

/// Misfit and gradient summed over shots in shot order (bitwise the same
/// whatever the thread count).
fn total_gradient<T: Real>(
    problem: &Problem,
    vp: &[f64],
    strategy: Strategy,
    out: Output,
) -> Result<(f64, Vec<f64>, usize)> {
    let steps = problem.setup.config.nt - 1;
    let schedule = strategy.schedule(steps);
    let total = (problem.setup.shots.len() * (schedule.forward_steps() + steps)) as u64;
    let progress = Progress::new(out, "gradient", total);
    let runs = per_shot::<T, _>(problem, vp, |shot, observed| match strategy {
        Strategy::BoundarySaving => {
            gradient_boundary_saving_with_progress(shot, Residuals::Observed(observed), &|| progress.step())
        }
        _ => gradient_with_progress(shot, Residuals::Observed(observed), &schedule, &|| progress.step()),
    })?;
    progress.finish();
    let mut total = (0.0, vec![0.0; vp.len()], 0usize);
    for run in runs {
        let run = run.context("the gradient run failed")?;
        total.0 += run.misfit;
        for (g, r) in total.1.iter_mut().zip(&run.gradient) {
            *g += r;
        }
        total.2 = total.2.max(run.peak_checkpoint_bytes);
    }
    Ok(total)
}

/// Bytes of one forward state of the first shot of `setup`, and of the
/// part of it the adjoint step reads.
fn state_bytes(setup: &AcousticSetup, vp: &[f64], precision: Precision) -> Result<(usize, usize)> {
    let first = &setup.shots[0];
    Ok(match precision {
        Precision::F32 => {
            let model = AcousticModel::<f32>::new(setup.config.clone(), vp)?;
            let shot = model.shot(&first.source, &setup.wavelet, &first.receivers)?;
            (shot.state_bytes(), shot.adjoint_state_bytes())
        }
        Precision::F64 => {
            let model = AcousticModel::<f64>::new(setup.config.clone(), vp)?;
            let shot = model.shot(&first.source, &setup.wavelet, &first.receivers)?;
            (shot.state_bytes(), shot.adjoint_state_bytes())
        }
    })
}

/// The checkpoint strategy of the scenario: the one it names, or for a
/// memory budget the fastest that fits (the plan is printed).
pub(crate) fn choose_strategy(scenario: &Scenario, setup: &AcousticSetup, vp: &[f64], out: Output) -> Result<Strategy> {
    Ok(match scenario.checkpoint_strategy()? {
        CheckpointSpec::Fixed(strategy) => strategy,
        CheckpointSpec::Budget(budget) => {
            let precision = scenario.precision;
            let (state_bytes, adjoint_bytes) = state_bytes(setup, vp, precision)?;
            let cells = state_bytes / if precision == Precision::F32 { 4 } else { 8 };
            let steps = setup.config.nt - 1;
            let cost = CostModel::for_cells(cells / 2);
            let plan = plan_for_budget(steps, state_bytes, adjoint_bytes, budget, cost).ok_or_else(|| {
                UserError(format!(
                    "{}: checkpointing.strategy.memory = {budget} bytes holds no checkpoint; one state takes {state_bytes} bytes",
                    scenario.path.display()
                ))
            })?;
            if !out.quiet {
                println!(
                    "checkpointing plan for {budget} bytes: {} ({} bytes of checkpoints per shot, {} recomputed steps at most, about {:.3} s of forward steps and checkpoint memory per shot)",
                    plan.strategy.label(),
                    plan.memory_bytes,
                    plan.recomputed_steps,
                    plan.seconds
                );
            }
            plan.strategy
        }
    })
}

/// Run `misfit`.
pub fn run_misfit(args: MisfitArgs, _out: Output) -> Result<()> {
    let problem = load(&args.scenario, &args.model, &args.data)?;
    let value = match problem.precision {
        Precision::F32 => total_misfit::<f32>(&problem, &problem.vp)?,
        Precision::F64 => total_misfit::<f64>(&problem, &problem.vp)?,
    };
    println!("misfit = {value:.16e}");
    Ok(())
}

/// Run `gradient`.
pub fn run_gradient(args: GradientArgs, out: Output) -> Result<()> {
    let scenario = Scenario::load(&args.scenario)?;
    let problem = load(&args.scenario, &args.model, &args.data)?;
    let strategy = choose_strategy(&scenario, &problem.setup, &problem.vp, out)?;
    let (misfit_value, values, peak) = match problem.precision {
        Precision::F32 => total_gradient::<f32>(&problem, &problem.vp, strategy, out)?,
        Precision::F64 => total_gradient::<f64>(&problem, &problem.vp, strategy, out)?,
    };
    let grid = &problem.setup.config.grid;
    h5::write_gradient(
        &args.out,
        &GradientFile {
            parameter: "vp".into(),
            misfit: misfit_value,
            shape: grid.shape(),
            spacing: grid.spacing(),
            values,
        },
    )?;
    if !out.quiet {
        println!(
            "wrote {} (strategy {}, peak checkpoint memory {} bytes per shot)",
            args.out.display(),
            strategy.label(),
            peak
        );
    }
    if out.verbose
        && let Some(bytes) = pdeinv_io::process::peak_resident_bytes()
    {
        println!("peak resident memory = {bytes} bytes");
    }
    let mut passed = true;
    if args.check {
        passed = check(&problem)?;
    }
    println!("misfit = {misfit_value:.16e}");
    if !passed {
        anyhow::bail!("the gradient checks failed (see the tables above)");
    }
    Ok(())
}

/// Perturbation sizes of the Taylor test: `h = 1/8` halved eight times.
const TAYLOR_ROWS: usize = 9;

/// Dot-product test (first shot) and Taylor test (all shots), in f64.
fn check(problem: &Problem) -> Result<bool> {
    let n = problem.vp.len();
    let dm: Vec<f64> = pseudo_random(1, n).iter().zip(&problem.vp).map(|(r, v)| 0.01 * v * r).collect();
    let first = &problem.setup.shots[0];
    let model = AcousticModel::<f64>::new(problem.setup.config.clone(), &problem.vp)?;
    let shot = model.shot(&first.source, &problem.setup.wavelet, &first.receivers)?;
    let dd = pseudo_random(2, shot.nt() * shot.channels());
    let dot = dot_product_test(&shot, &dm, &dd);
    let dot_ok = dot.relative_error() <= 1e-12;
    println!("dot-product test (shot 0, f64)");
    println!("  <J dm, dd>       = {:+.16e}", dot.forward);
    println!("  <dm, J^T dd>     = {:+.16e}", dot.adjoint);
    println!(
        "  relative error   = {:.3e}  (limit 1e-12)  {}",
        dot.relative_error(),
        if dot_ok { "PASS" } else { "FAIL" }
    );
    let (_, g, _) =
        total_gradient::<f64>(problem, &problem.vp, Strategy::StoreAll, Output { quiet: true, verbose: false })?;
    let misfit_at = |m: &[f64]| total_misfit::<f64>(problem, m).unwrap_or(f64::NAN);
    // eight halvings: at the larger h the second-order term still shows in
    // |J1 − J0|; over the last four the first-order slope is 1 and the
    // second-order one 2 (each ± 0.1), and the second-order one is 2 all along
    let rows = taylor_test(misfit_at, &problem.vp, &g, &dm, 0.125, TAYLOR_ROWS);
    let slopes = taylor_slopes(&rows);
    println!("Taylor test (all shots, f64, dm = 1 % of vp, random)");
    println!("  {:>10}  {:>14}  {:>6}  {:>14}  {:>6}", "h", "|J1 - J0|", "slope", "|J1-J0-h g.dm|", "slope");
    let mut taylor_ok = true;
    for (i, row) in rows.iter().enumerate() {
        let (s1, s2) = if i == 0 {
            (String::new(), String::new())
        } else {
            (format!("{:.3}", slopes[i - 1].0), format!("{:.3}", slopes[i - 1].1))
        };
        if i > 0 && (slopes[i - 1].1 - 2.0).abs() > 0.1 {
            taylor_ok = false;
        }
        if i + 4 >= rows.len() && i > 0 && (slopes[i - 1].0 - 1.0).abs() > 0.1 {
            taylor_ok = false;
        }
        println!("  {:>10.4e}  {:>14.6e}  {:>6}  {:>14.6e}  {:>6}", row.h, row.first_order, s1, row.second_order, s2);
    }
    println!(
        "  second-order slope 2 +- 0.1, first-order slope 1 +- 0.1 over the last four halvings: {}",
        if taylor_ok { "PASS" } else { "FAIL" }
    );
    Ok(dot_ok && taylor_ok)
}
