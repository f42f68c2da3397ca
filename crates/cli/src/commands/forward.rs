//! `pdeinv forward`: synthetic shot gathers from the scenario's true model,
//! written as an HDF5 data file (layout v1).

use crate::Output;
use crate::progress::Progress;
use anyhow::{Context, Result};
use pdeinv_forward::acoustic::{AcousticModel, ShotInput, record_shots};
use pdeinv_forward::{Parallelism, Real};
use pdeinv_io::h5::{DataFile, ShotRecord, write_data};
use pdeinv_io::scenario::{Physics, Precision, Scenario};
use pdeinv_io::setup::{self, AcousticSetup};
use std::path::PathBuf;

/// Arguments of `forward`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Output data file (HDF5).
    #[arg(long)]
    out: PathBuf,
}

/// Rows or shots in parallel: shots when there are at least as many as threads.
pub(crate) fn parallelism_for(shots: usize) -> Parallelism {
    if shots >= rayon::current_num_threads() { Parallelism::Serial } else { Parallelism::Rows }
}

/// Run `forward`.
pub fn run(args: Args, out: Output) -> Result<()> {
    let scenario = Scenario::load(&args.scenario)?;
    if scenario.physics == Physics::Diffusion {
        return run_diffusion(&scenario, &args, out);
    }
    let vp = setup::true_model(&scenario)?;
    let v_max = vp.iter().copied().fold(0.0, f64::max);
    let setup =
        setup::acoustic(&scenario, &vp, setup::data_time_step(&scenario)?, parallelism_for(scenario.sources.len()))?;
    for w in &setup.warnings {
        eprintln!("warning: {w}");
    }
    if out.verbose {
        let c = &setup.config;
        eprintln!(
            "forward: grid {:?} at {:?} m, order {}, dt = {:.6e} s (stability limit {:.6e} s), nt = {}, {} shot(s), {:?}",
            c.grid.shape(),
            c.grid.spacing(),
            c.space_order,
            c.dt,
            pdeinv_forward::stability::stable_dt(&c.grid, c.space_order, v_max),
            c.nt,
            setup.shots.len(),
            c.boundary
        );
    }
    let traces = match scenario.precision {
        Precision::F32 => simulate::<f32>(&setup, &vp, out)?,
        Precision::F64 => simulate::<f64>(&setup, &vp, out)?,
    };
    write_records(&scenario, &args.out, &setup.shots, traces, &setup.wavelet, setup.config.dt, out, "shot(s)")
}

/// `[z, x]` in 2D, `[x]` in 1D.
pub(crate) fn position(p: &[f64; 2], dimension: usize) -> Vec<f64> {
    if dimension == 2 { p.to_vec() } else { vec![p[1]] }
}

/// Run every shot of `setup` in precision `T`; traces widened to f64.
pub(crate) fn simulate<T: Real>(setup: &AcousticSetup, vp: &[f64], out: Output) -> Result<Vec<Vec<f64>>> {
    let model = AcousticModel::<T>::new(setup.config.clone(), vp).context("cannot build the acoustic model")?;
    let inputs: Vec<ShotInput<'_>> = setup
        .shots
        .iter()
        .map(|s| ShotInput { source: &s.source, wavelet: &setup.wavelet, receivers: &s.receivers })
        .collect();
    let progress = Progress::new(out, "forward", (setup.shots.len() * setup.config.nt) as u64);
    let traces = record_shots(&model, &inputs, &|| progress.step())?;
    progress.finish();
    Ok(traces.into_iter().map(|t| t.into_iter().map(Real::as_f64).collect()).collect())
}

/// `forward` for a diffusion scenario: sensor series of every experiment.
fn run_diffusion(scenario: &Scenario, args: &Args, out: Output) -> Result<()> {
    let kappa = setup::true_model(scenario)?;
    let diffusion = setup::diffusion(scenario, parallelism_for(scenario.sources.len()))?;
    crate::commands::invert::check_kappa(scenario, "model.true", &kappa)?;
    let calibration = pdeinv_inversion::diffusion::DiffusionCalibration {
        config: diffusion.config.clone(),
        wavelet: diffusion.wavelet.clone(),
        shots: crate::commands::invert::fwi_shots(&diffusion.shots, vec![Vec::new(); diffusion.shots.len()]),
        strategy: pdeinv_adjoint::Strategy::StoreAll,
    };
    let traces = calibration.simulate(&kappa)?;
    write_records(
        scenario,
        &args.out,
        &diffusion.shots,
        traces,
        &diffusion.wavelet,
        diffusion.config.dt,
        out,
        "experiment(s)",
    )
}

/// Add the scenario's noise to `traces` and write them as a data file.
fn write_records(
    scenario: &Scenario,
    path: &std::path::Path,
    shots: &[pdeinv_io::setup::ShotGeometry],
    mut traces: Vec<Vec<f64>>,
    wavelet: &[f64],
    dt: f64,
    out: Output,
    what: &str,
) -> Result<()> {
    if let Some(noise) = scenario.noise {
        pdeinv_inversion::noise::add_noise(&mut traces, noise.relative, noise.seed);
    }
    let dimension = scenario.grid.dimension;
    let data = DataFile {
        dt,
        nt: scenario.nt,
        shots: shots
            .iter()
            .zip(traces)
            .map(|(shot, traces)| ShotRecord {
                source: position(&shot.source_position, dimension),
                receivers: shot.receiver_positions.iter().map(|p| position(p, dimension)).collect(),
                traces,
                wavelet: wavelet.to_vec(),
            })
            .collect(),
    };
    write_data(path, &data)?;
    if !out.quiet {
        println!(
            "wrote {}: {} {what}, {} receivers, nt = {}, dt = {:.6e} s",
            path.display(),
            data.shots.len(),
            scenario.receivers.len(),
            data.nt,
            data.dt
        );
    }
    Ok(())
}
