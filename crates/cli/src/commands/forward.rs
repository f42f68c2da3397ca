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
    let mut traces = match scenario.precision {
        Precision::F32 => simulate::<f32>(&setup, &vp, out)?,
        Precision::F64 => simulate::<f64>(&setup, &vp, out)?,
    };
    if let Some(noise) = scenario.noise {
        pdeinv_inversion::noise::add_noise(&mut traces, noise.relative, noise.seed);
    }
    let data = DataFile {
        dt: setup.config.dt,
        nt: setup.config.nt,
        shots: setup
            .shots
            .iter()
            .zip(traces)
            .map(|(shot, traces)| ShotRecord {
                source: position(&shot.source_position, scenario.grid.dimension),
                receivers: shot.receiver_positions.iter().map(|p| position(p, scenario.grid.dimension)).collect(),
                traces,
                wavelet: setup.wavelet.clone(),
            })
            .collect(),
    };
    write_data(&args.out, &data)?;
    if !out.quiet {
        println!(
            "wrote {}: {} shot(s), {} receivers, nt = {}, dt = {:.6e} s",
            args.out.display(),
            data.shots.len(),
            scenario.receivers.len(),
            data.nt,
            data.dt
        );
    }
    Ok(())
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
        shots: diffusion
            .shots
            .iter()
            .map(|s| pdeinv_inversion::fwi::FwiShot {
                source: s.source.clone(),
                receivers: s.receivers.clone(),
                observed: Vec::new(),
            })
            .collect(),
        strategy: pdeinv_adjoint::Strategy::StoreAll,
    };
    let mut traces = calibration.simulate(&kappa)?;
    if let Some(noise) = scenario.noise {
        pdeinv_inversion::noise::add_noise(&mut traces, noise.relative, noise.seed);
    }
    let data = DataFile {
        dt: diffusion.config.dt,
        nt: diffusion.config.nt,
        shots: diffusion
            .shots
            .iter()
            .zip(traces)
            .map(|(shot, traces)| ShotRecord {
                source: position(&shot.source_position, scenario.grid.dimension),
                receivers: shot.receiver_positions.iter().map(|p| position(p, scenario.grid.dimension)).collect(),
                traces,
                wavelet: diffusion.wavelet.clone(),
            })
            .collect(),
    };
    write_data(&args.out, &data)?;
    if !out.quiet {
        println!(
            "wrote {}: {} experiment(s), {} sensors, nt = {}, dt = {:.6e} s",
            args.out.display(),
            data.shots.len(),
            scenario.receivers.len(),
            data.nt,
            data.dt
        );
    }
    Ok(())
}
