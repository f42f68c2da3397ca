//! `pdeinv checkpoint-bench`: one gradient per checkpointing strategy on the
//! first shot of a scenario; a table of memory against recomputation (and
//! time), as CSV and as a PNG of checkpoint memory against time.

use crate::Output;
use crate::UserError;
use anyhow::{Context, Result};
use pdeinv_adjoint::{GradientRun, Residuals, Strategy, gradient_boundary_saving, gradient_two_level};
use pdeinv_forward::acoustic::AcousticModel;
use pdeinv_forward::{Parallelism, Propagator, Real, record};
use pdeinv_io::atomic::write_bytes_atomically;
use pdeinv_io::figure::{CurveSpec, plot_curves};
use pdeinv_io::scenario::{Precision, Scenario};
use pdeinv_io::setup;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `checkpoint-bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file (TOML): data are synthesised from `[model.true]`, the
    /// gradient is taken at `[model.initial]` (or the true model if absent).
    scenario: PathBuf,
    /// Comma-separated strategies: store-all, periodic:K, binomial:S,
    /// two-level:RAM:DISK (RAM slots in memory, DISK slots as files in the
    /// system temporary directory; peak_bytes counts the RAM slots)
    /// (default: store-all, periodic at √nt, binomial with 4, 10 and 30 snapshots).
    #[arg(long)]
    strategies: Option<String>,
    /// Also write the table as CSV.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Also draw checkpoint memory against time (PNG).
    #[arg(long)]
    plot: Option<PathBuf>,
}

fn parse_strategies(text: &str) -> Result<Vec<Strategy>> {
    let valid = "valid: store-all, periodic:K, binomial:S, two-level:RAM:DISK (K, S, DISK positive integers, RAM >= 0)";
    text.split(',')
        .map(str::trim)
        .map(|item| {
            let mut parts = item.split(':');
            let name = parts.next().unwrap_or_default();
            let number_from = |parts: &mut std::str::Split<'_, char>, least: usize| -> Result<usize> {
                match parts.next().and_then(|v| v.parse::<usize>().ok()) {
                    Some(v) if v >= least => Ok(v),
                    _ if least == 0 => Err(UserError(format!(
                        "--strategies: `{item}` needs a non-negative integer of RAM slots; {valid}"
                    ))
                    .into()),
                    _ => Err(UserError(format!("--strategies: `{item}` needs a positive integer; {valid}")).into()),
                }
            };
            let number = |parts: &mut std::str::Split<'_, char>| number_from(parts, 1);
            let strategy = match name {
                "store-all" => Strategy::StoreAll,
                "periodic" => Strategy::Periodic { every: number(&mut parts)? },
                "binomial" => Strategy::Binomial { snapshots: number(&mut parts)? },
                "two-level" => {
                    let ram = number_from(&mut parts, 0)?;
                    Strategy::TwoLevel { ram, disk: number(&mut parts)?, dir: None }
                }
                "boundary-saving" => Strategy::BoundarySaving,
                _ => return Err(UserError(format!("--strategies: `{item}` is not a strategy; {valid}")).into()),
            };
            if parts.next().is_some() {
                return Err(UserError(format!("--strategies: `{item}` has too many fields; {valid}")).into());
            }
            Ok(strategy)
        })
        .collect()
}

/// One measured strategy.
struct Row {
    strategy: Strategy,
    run: GradientRun,
    seconds: f64,
    difference: f64,
}

/// Run `checkpoint-bench`.
pub fn run(args: Args, out: Output) -> Result<()> {
    let scenario = Scenario::load(&args.scenario)?;
    let truth = setup::true_model(&scenario)?;
    let start = if scenario.initial_model.is_some() { setup::initial_model(&scenario)? } else { truth.clone() };
    let v_max = truth.iter().copied().fold(0.0, f64::max);
    let dt = setup::time_step(&scenario, v_max);
    let problem = setup::acoustic(&scenario, &truth, dt, Parallelism::Rows)?;
    let steps = scenario.nt - 1;
    let strategies = match &args.strategies {
        Some(text) => parse_strategies(text)?,
        None => {
            let every = (steps as f64).sqrt().ceil() as usize;
            vec![
                Strategy::StoreAll,
                Strategy::Periodic { every },
                Strategy::Binomial { snapshots: 30 },
                Strategy::Binomial { snapshots: 10 },
                Strategy::Binomial { snapshots: 4 },
                Strategy::BoundarySaving,
            ]
        }
    };
    let rows = match scenario.precision {
        Precision::F32 => measure::<f32>(&problem, &truth, &start, &strategies)?,
        Precision::F64 => measure::<f64>(&problem, &truth, &start, &strategies)?,
    };
    let header = "strategy,snapshots,peak_bytes,recomputed_steps,seconds,max_rel_grad_diff";
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{},{},{},{},{:.3},{:.3e}",
                r.strategy.label(),
                if r.strategy == Strategy::BoundarySaving { 1 } else { r.strategy.schedule(steps).peak_slots() },
                r.run.peak_checkpoint_bytes,
                r.run.recomputed_steps,
                r.seconds,
                r.difference
            )
        })
        .collect();
    if !out.quiet {
        let shape = scenario.grid.shape();
        println!(
            "checkpoint-bench: shot 0 of {}, grid {shape:?}, nt = {}, {:?}",
            problem.shots.len(),
            scenario.nt,
            scenario.precision
        );
    }
    println!(
        "{:<18} {:>9} {:>14} {:>16} {:>9} {:>17}",
        "strategy", "snapshots", "peak_bytes", "recomputed_steps", "seconds", "max_rel_grad_diff"
    );
    for line in &lines {
        let f: Vec<&str> = line.split(',').collect();
        println!("{:<18} {:>9} {:>14} {:>16} {:>9} {:>17}", f[0], f[1], f[2], f[3], f[4], f[5]);
    }
    if !out.quiet {
        let fused: Vec<String> =
            rows.iter().map(|r| format!("{} {}", r.strategy.label(), 2 * r.run.fused_pairs)).collect();
        println!("reversals fused in pairs, of {steps}: {}", fused.join(", "));
    }
    if let Some(path) = &args.csv {
        let text = std::iter::once(header.to_string()).chain(lines).collect::<Vec<_>>().join("\n") + "\n";
        write_bytes_atomically(path, text.as_bytes())?;
    }
    if let Some(path) = &args.plot {
        let labels: Vec<String> = rows.iter().map(|r| r.strategy.label()).collect();
        let xs: Vec<Vec<f64>> = rows.iter().map(|r| r.run.memory_timeline.iter().map(|p| p.0).collect()).collect();
        let ys: Vec<Vec<f64>> =
            rows.iter().map(|r| r.run.memory_timeline.iter().map(|p| p.1 as f64 / 1e6).collect()).collect();
        let series: Vec<(&str, &[f64], &[f64])> =
            (0..rows.len()).map(|i| (labels[i].as_str(), xs[i].as_slice(), ys[i].as_slice())).collect();
        plot_curves(
            path,
            &CurveSpec {
                series: &series,
                title: "checkpoint memory during the gradient",
                x_label: "time (s)",
                y_label: "checkpoints (MB)",
                log_y: false,
            },
        )?;
    }
    Ok(())
}

/// Gradients of shot 0 at `start` against data from `truth`, one per strategy.
fn measure<T: Real>(
    problem: &setup::AcousticSetup,
    truth: &[f64],
    start: &[f64],
    strategies: &[Strategy],
) -> Result<Vec<Row>> {
    let shot = &problem.shots[0];
    let observed = {
        let model = AcousticModel::<T>::new(problem.config.clone(), truth)?;
        record(&model.shot(&shot.source, &problem.wavelet, &shot.receivers)?, |_| {})
    };
    let model = AcousticModel::<T>::new(problem.config.clone(), start)?;
    let propagator = model.shot(&shot.source, &problem.wavelet, &shot.receivers)?;
    let steps = propagator.nt() - 1;
    let mut rows: Vec<Row> = Vec::new();
    let mut reference: Option<Vec<f64>> = None;
    for &strategy in strategies {
        let clock = Instant::now();
        let run = match strategy {
            Strategy::BoundarySaving => gradient_boundary_saving(&propagator, Residuals::Observed(&observed)),
            _ => gradient_two_level(&propagator, Residuals::Observed(&observed), &strategy.schedule(steps)),
        }
        .with_context(|| format!("gradient run with {}", strategy.label()))?;
        let seconds = clock.elapsed().as_secs_f64();
        let base = reference.get_or_insert_with(|| run.gradient.clone());
        let scale = base.iter().fold(0.0f64, |m, g| m.max(g.abs())).max(f64::MIN_POSITIVE);
        let difference = run.gradient.iter().zip(base.iter()).fold(0.0f64, |m, (a, b)| m.max((a - b).abs())) / scale;
        rows.push(Row { strategy, run, seconds, difference });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_level_parses_with_ram_and_disk_slots() {
        let parsed = parse_strategies("store-all, two-level:3:2, two-level:0:1").unwrap();
        assert_eq!(parsed[1], Strategy::TwoLevel { ram: 3, disk: 2, dir: None });
        assert_eq!(parsed[2], Strategy::TwoLevel { ram: 0, disk: 1, dir: None });
        for bad in ["two-level", "two-level:3", "two-level:3:0", "two-level:-1:2", "two-level:1:2:3"] {
            let error = parse_strategies(bad).unwrap_err().to_string();
            assert!(error.contains("two-level:RAM:DISK"), "{bad}: {error}");
        }
    }
}
