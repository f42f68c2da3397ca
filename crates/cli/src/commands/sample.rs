//! `pdeinv sample`: posterior sampling of a zoned diffusivity with the
//! Metropolis-adjusted Langevin algorithm, each proposal's gradient from the
//! exact adjoint. Writes the chain, the posterior mean and standard
//! deviation per cell and the acceptance rate (HDF5, kind `posterior`), and a
//! PNG of the posterior mean ± 2 std per zone against the truth.

use crate::Output;
use crate::UserError;
use crate::commands::forward::parallelism_for;
use anyhow::{Context, Result};
use pdeinv_adjoint::Strategy;
use pdeinv_inversion::diffusion::DiffusionCalibration;
use pdeinv_inversion::noise::add_noise;
use pdeinv_inversion::optim::{FirstStep, Options, minimize};
use pdeinv_inversion::posterior::{NegativeLogPosterior, ZonedPosterior, zone_map};
use pdeinv_inversion::sampler::{MalaOptions, mala};
use pdeinv_io::figure::{CurveSpec, plot_curves};
use pdeinv_io::h5::{self, PosteriorFile};
use pdeinv_io::scenario::{Physics, Scenario};
use pdeinv_io::setup;
use std::path::PathBuf;

/// Arguments of `sample`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Diffusion scenario file (TOML) with a `[sampling]` table.
    scenario: PathBuf,
    /// Recorded data (HDF5); without it, data are synthesised from
    /// `[model.true]` with the scenario's `[noise]`.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Samples to keep after burn-in.
    #[arg(long)]
    samples: usize,
    /// Output file (HDF5, kind `posterior`); the PNG is written beside it.
    #[arg(long)]
    out: PathBuf,
}

/// Run `sample`.
pub fn run(args: Args, out: Output) -> Result<()> {
    let scenario = Scenario::load(&args.scenario)?;
    if scenario.physics != Physics::Diffusion {
        return Err(UserError(format!(
            "{}: pdeinv sample calibrates diffusion scenarios (problem.physics = \"diffusion\")",
            args.scenario.display()
        ))
        .into());
    }
    let sampling = scenario.sampling_settings()?;
    if args.samples == 0 {
        return Err(UserError("--samples must be at least 1".into()).into());
    }
    let truth = setup::true_model(&scenario).ok();
    let diffusion = setup::diffusion(&scenario, parallelism_for(scenario.sources.len()))?;
    if let Some(truth) = &truth {
        crate::commands::invert::check_kappa(&scenario, "model.true", truth)?;
    }
    let shots = |records: Vec<Vec<f64>>| crate::commands::invert::fwi_shots(&diffusion.shots, records);
    let mut calibration = DiffusionCalibration {
        config: diffusion.config.clone(),
        wavelet: diffusion.wavelet.clone(),
        shots: shots(vec![Vec::new(); diffusion.shots.len()]),
        strategy: Strategy::StoreAll,
    };
    let records = match &args.data {
        Some(path) => {
            let data = h5::read_data(path)?;
            crate::commands::gradient::check_recorded(&scenario, &data, path, diffusion.shots.len())?;
            data.shots.into_iter().map(|s| s.traces).collect()
        }
        None => {
            let truth = truth.as_ref().context("no true model to synthesise data from")?;
            let mut records = calibration.simulate(truth)?;
            if let Some(noise) = scenario.noise {
                add_noise(&mut records, noise.relative, noise.seed);
            }
            records
        }
    };
    let noise_std = match (sampling.noise_std, scenario.noise) {
        (Some(std), _) => std,
        (None, Some(noise)) => {
            let all: Vec<f64> = records.iter().flatten().copied().collect();
            noise.relative * (all.iter().map(|v| v * v).sum::<f64>() / all.len().max(1) as f64).sqrt()
        }
        (None, None) => {
            return Err(UserError(format!(
                "{}: give the data noise as sampling.noise_std or [noise] relative = ...",
                args.scenario.display()
            ))
            .into());
        }
    };
    calibration.shots = shots(records);
    let zones = zone_map(&scenario.grid, &sampling.zones);
    let count = zones.iter().max().map_or(0, |m| m + 1);
    let mut posterior = ZonedPosterior {
        objective: &calibration,
        zones: zones.clone(),
        prior_mean: vec![sampling.prior_mean.ln(); count],
        prior_std: vec![sampling.prior_log_std; count],
        noise_std,
    };
    let options = MalaOptions {
        samples: args.samples,
        burn_in: sampling.burn_in,
        step: sampling.step,
        target_acceptance: Some(0.574),
        preconditioner: None,
        seed: sampling.seed,
    };
    let total = sampling.burn_in + args.samples;
    let report_every = (args.samples / 10).max(1);
    // start at the posterior mode (L-BFGS on −log π): the likelihood is far
    // narrower than the prior, and a chain started in the prior's bulk would
    // spend its burn-in walking to the data
    let mut theta0 = vec![sampling.prior_mean.ln(); count];
    {
        let options = Options::lbfgs(10).with_first_step(FirstStep::MaxChange(0.1));
        let mut negative = NegativeLogPosterior(&mut posterior);
        match minimize(&options, theta0.clone(), &mut negative, 100, 1e-8) {
            Ok(minimum) => theta0 = minimum.state.x,
            Err(e) => return Err(anyhow::anyhow!("finding the posterior mode failed: {e}")),
        }
    }
    let chain = mala(&mut posterior, theta0, &options, |i, _| {
        if !out.quiet && (i + 1) % report_every == 0 {
            eprintln!("sample: {}/{} kept ({} iterations in all)", i + 1, args.samples, total);
        }
    })
    .map_err(|e| anyhow::anyhow!("sampling failed: {e}"))?;

    // per-cell posterior mean and std of the coefficient (not of its log)
    let kept = chain.samples.len() as f64;
    let mut zone_mean = vec![0.0; count];
    let mut zone_square = vec![0.0; count];
    for sample in &chain.samples {
        for k in 0..count {
            let value = sample[k].exp();
            zone_mean[k] += value / kept;
            zone_square[k] += value * value / kept;
        }
    }
    let zone_std: Vec<f64> = zone_mean
        .iter()
        .zip(&zone_square)
        .map(|(m, s)| (s - m * m).max(0.0).sqrt() * (kept / (kept - 1.0).max(1.0)).sqrt())
        .collect();
    let grid = &scenario.grid;
    let post = PosteriorFile {
        parameter: "kappa".into(),
        shape: grid.shape(),
        spacing: grid.spacing(),
        chain: chain.samples.iter().flatten().copied().collect(),
        zones: count,
        log_density: chain.log_densities.clone(),
        zone_map: zones.iter().map(|&k| k as f64).collect(),
        mean: zones.iter().map(|&k| zone_mean[k]).collect(),
        std: zones.iter().map(|&k| zone_std[k]).collect(),
        acceptance_rate: chain.acceptance_rate,
        step: chain.step,
        scenario: scenario.text.clone(),
    };
    h5::write_posterior(&args.out, &post)?;
    // the figure: mean ± 2 std per zone against the truth's zone average
    let index: Vec<f64> = (0..count).map(|k| k as f64).collect();
    let lower: Vec<f64> = zone_mean.iter().zip(&zone_std).map(|(m, s)| m - 2.0 * s).collect();
    let upper: Vec<f64> = zone_mean.iter().zip(&zone_std).map(|(m, s)| m + 2.0 * s).collect();
    let mut series: Vec<(&str, &[f64], &[f64])> = vec![
        ("posterior mean", &index, &zone_mean),
        ("mean - 2 std", &index, &lower),
        ("mean + 2 std", &index, &upper),
    ];
    let truth_zones: Option<Vec<f64>> = truth.as_ref().map(|t| {
        let mut sum = vec![0.0; count];
        let mut cells = vec![0usize; count];
        for (&k, v) in zones.iter().zip(t) {
            sum[k] += v;
            cells[k] += 1;
        }
        sum.iter().zip(&cells).map(|(s, &c)| s / c.max(1) as f64).collect()
    });
    if let Some(t) = &truth_zones {
        series.insert(0, ("truth (zone average)", &index, t));
    }
    let png = args.out.with_extension("png");
    plot_curves(
        &png,
        &CurveSpec {
            series: &series,
            title: "posterior of kappa per zone: mean +/- 2 std",
            x_label: "zone",
            y_label: "kappa (m^2/s)",
            log_y: false,
        },
    )?;
    if !out.quiet {
        println!(
            "wrote {} and {}: {} samples of {count} zone(s) after {} burn-in, acceptance rate {:.3}, step {:.4}",
            args.out.display(),
            png.display(),
            chain.samples.len(),
            sampling.burn_in,
            chain.acceptance_rate,
            chain.step
        );
        for k in 0..count {
            let truth = truth_zones.as_ref().map(|t| format!(", truth {:.4}", t[k])).unwrap_or_default();
            println!("zone {k}: mean {:.4}, std {:.4}{truth}", zone_mean[k], zone_std[k]);
        }
    }
    println!("acceptance rate = {:.4}", chain.acceptance_rate);
    Ok(())
}
