//! The two-level (RAM + disk) checkpoint strategy: gradients bitwise equal to
//! store-all for the acoustic and diffusion propagators, the recomputation of
//! the binomial schedule with `ram + disk` slots, RAM accounting of the RAM
//! slots only, the disk directory left empty (also after a failed run), and
//! clear errors for a missing or unusable directory.

use pdeinv_adjoint::{DriverError, GradientRun, Residuals, Schedule, gradient, gradient_two_level};
use pdeinv_forward::acoustic::{AcousticConfig, AcousticModel, AcousticShot, Boundary, PairFusion};
use pdeinv_forward::diffusion::{self, Boundaries, DiffusionConfig, DiffusionModel, Scheme, SourceTimeFunctions};
use pdeinv_forward::wavelet::ricker;
use pdeinv_forward::{AdjointPropagator, Parallelism, Propagator, record};
use pdeinv_grid::{Grid, Interpolation, point_weights};
use std::path::Path;

/// Files and directories left in `dir`.
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

fn assert_bitwise(a: &GradientRun, b: &GradientRun) {
    assert_eq!(a.misfit.to_bits(), b.misfit.to_bits());
    assert_eq!(a.gradient.len(), b.gradient.len());
    assert!(a.gradient.iter().zip(&b.gradient).all(|(x, y)| x.to_bits() == y.to_bits()), "gradients differ");
}

/// Runs `two_level(steps, ram, disk)` in a fresh temporary directory against the store-all reference and checks
/// everything the strategy promises.
fn check_two_level<P: AdjointPropagator>(p: &P, observed: &[P::Real], ram: usize, disk: usize)
where
    P::State: pdeinv_adjoint::StateBytes,
{
    let steps = p.nt() - 1;
    let reference = gradient(p, Residuals::Observed(observed), &Schedule::store_all(steps)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schedule = Schedule::two_level(steps, ram, disk).with_disk_dir(Some(dir.path().to_path_buf()));
    let binomial = Schedule::binomial(steps, ram + disk);
    let run = gradient_two_level(p, Residuals::Observed(observed), &schedule).unwrap();
    assert_bitwise(&run, &reference);
    // every step the schedule asks for runs, or is left out where the
    // state at hand serves a reversal (`reverse_from_next`)
    assert_eq!(run.forward_steps + run.skipped_steps, binomial.forward_steps(), "ram {ram}, disk {disk}");
    assert_eq!(run.recomputed_steps + run.skipped_steps, binomial.recomputed_steps());
    assert!(run.recomputed_steps > 0);
    assert!(
        run.peak_checkpoint_bytes <= ram * p.state_bytes(),
        "RAM peak {} > {ram} states",
        run.peak_checkpoint_bytes
    );
    assert_eq!(run.peak_checkpoint_bytes, schedule.peak_ram_bytes(p.state_bytes(), p.adjoint_state_bytes()));
    assert!(run.peak_disk_bytes >= p.state_bytes() * disk.min(schedule.slots), "disk peak {}", run.peak_disk_bytes);
    assert!(entries(dir.path()).is_empty(), "left behind: {:?}", entries(dir.path()));
    // the same binomial schedule all in RAM holds the disk bytes in RAM instead
    let in_ram = gradient(p, Residuals::Observed(observed), &binomial).unwrap();
    assert_bitwise(&in_ram, &reference);
    assert_eq!(in_ram.peak_disk_bytes, 0);
    assert!(in_ram.peak_checkpoint_bytes > run.peak_checkpoint_bytes);
}

/// A small 2D acoustic problem (CPML, order 4, free surface): the shot's data from a perturbed model.
fn with_acoustic_shot(f: impl FnOnce(&AcousticShot<'_, f64>, &[f64])) {
    let grid = Grid::new_2d(24, 30, 10.0, 10.0).unwrap();
    let config = AcousticConfig {
        grid: grid.clone(),
        space_order: 4,
        dt: 1.0e-3,
        nt: 90,
        boundary: Boundary::Cpml { width: 6 },
        free_surface: true,
        dominant_frequency: 15.0,
        cpml_velocity: None,
        parallelism: Parallelism::Rows,
        pair_fusion: PairFusion::Always,
    };
    let scheme = Interpolation::Hicks { radius: 3 };
    let source = point_weights(&grid, "source", 85.0, 120.0, scheme).unwrap();
    let receivers: Vec<_> =
        (0..4).map(|r| point_weights(&grid, "receiver", 40.0, 30.0 + 60.0 * r as f64, scheme).unwrap()).collect();
    let wavelet = ricker(15.0, config.dt, config.nt, None);
    let velocity: Vec<f64> = (0..grid.len()).map(|i| 2000.0 + 100.0 * ((i % grid.nx) as f64 * 0.3).sin()).collect();
    let truth: Vec<f64> = velocity.iter().enumerate().map(|(i, v)| v + if i % 7 == 0 { 60.0 } else { 0.0 }).collect();
    let observed = record(
        &AcousticModel::<f64>::new(config.clone(), &truth).unwrap().shot(&source, &wavelet, &receivers).unwrap(),
        |_| {},
    );
    let model = AcousticModel::<f64>::new(config, &velocity).unwrap();
    f(&model.shot(&source, &wavelet, &receivers).unwrap(), &observed);
}

#[test]
fn acoustic_two_level_equals_store_all_bitwise() {
    with_acoustic_shot(|shot, observed| {
        check_two_level(shot, observed, 2, 2);
        check_two_level(shot, observed, 0, 3);
    });
}

#[test]
fn acoustic_f32_two_level_equals_store_all_bitwise() {
    // f32 states are written at their own width and read back exactly
    let grid = Grid::new_2d(16, 18, 10.0, 10.0).unwrap();
    let config = AcousticConfig {
        grid: grid.clone(),
        space_order: 2,
        dt: 1.0e-3,
        nt: 40,
        boundary: Boundary::Sponge { width: 5 },
        free_surface: false,
        dominant_frequency: 15.0,
        cpml_velocity: None,
        parallelism: Parallelism::Rows,
        pair_fusion: PairFusion::Always,
    };
    let source = point_weights(&grid, "source", 70.0, 80.0, Interpolation::Bilinear).unwrap();
    let receivers = vec![point_weights(&grid, "receiver", 30.0, 40.0, Interpolation::Bilinear).unwrap()];
    let wavelet = ricker(15.0, config.dt, config.nt, None);
    let truth = vec![2100.0; grid.len()];
    let observed = record(
        &AcousticModel::<f32>::new(config.clone(), &truth).unwrap().shot(&source, &wavelet, &receivers).unwrap(),
        |_| {},
    );
    let model = AcousticModel::<f32>::new(config, &vec![2000.0; grid.len()]).unwrap();
    check_two_level(&model.shot(&source, &wavelet, &receivers).unwrap(), &observed, 1, 2);
}

#[test]
fn diffusion_two_level_equals_store_all_bitwise() {
    let grid = Grid::new_2d(10, 12, 1.0 / 10.0, 1.0 / 12.0).unwrap();
    let boundaries = Boundaries::all(diffusion::Boundary::Dirichlet);
    let limit = diffusion::explicit_dt_limit(&grid, boundaries, &vec![1.8; grid.len()]).unwrap();
    let nt = 40;
    let config = DiffusionConfig::new(grid.clone(), Scheme::CrankNicolson, boundaries, 20.0 * limit, nt);
    let (z_max, x_max) = grid.coordinates(grid.nz - 1, grid.nx - 1);
    let at = |fz: f64, fx: f64| point_weights(&grid, "point", fz * z_max, fx * x_max, Interpolation::Bilinear).unwrap();
    let sources = vec![at(0.37, 0.31)];
    let series = vec![(0..nt).map(|n| (-(n as f64 - 6.0).powi(2) / 8.0).exp()).collect::<Vec<f64>>()];
    let receivers: Vec<_> = (0..3).map(|r| at(0.15 + 0.2 * r as f64, 0.8 - 0.2 * r as f64)).collect();
    let kappa: Vec<f64> = (0..grid.len()).map(|i| 1.0 + 0.3 * ((i % grid.nx) as f64 * 0.4).sin()).collect();
    let truth: Vec<f64> = kappa.iter().enumerate().map(|(i, k)| k * if i % 5 == 0 { 1.3 } else { 1.0 }).collect();
    let true_model = DiffusionModel::new(config.clone(), &truth).unwrap();
    let observed =
        record(&true_model.shot(&sources, SourceTimeFunctions::PerSource(&series), &receivers).unwrap(), |_| {});
    let model = DiffusionModel::new(config, &kappa).unwrap();
    let shot = model.shot(&sources, SourceTimeFunctions::PerSource(&series), &receivers).unwrap();
    check_two_level(&shot, &observed, 2, 1);
    check_two_level(&shot, &observed, 0, 2);
}

#[test]
fn unusable_directories_are_clear_errors() {
    with_acoustic_shot(|shot, observed| {
        let steps = shot.nt() - 1;
        let scratch = tempfile::tempdir().unwrap();
        let missing = scratch.path().join("missing");
        let file = scratch.path().join("file");
        std::fs::write(&file, b"not a directory").unwrap();
        let under_file = file.join("sub");
        for (dir, reason) in [(&missing, "No such file"), (&under_file, "Not a directory"), (&file, "not a directory")]
        {
            let schedule = Schedule::two_level(steps, 1, 2).with_disk_dir(Some(dir.clone()));
            let error = gradient_two_level(shot, Residuals::Observed(observed), &schedule).unwrap_err();
            assert!(matches!(&error, DriverError::Disk { dir: named, .. } if named == dir), "{error:?}");
            let message = error.to_string();
            assert!(message.contains(&dir.display().to_string()) && message.contains(reason), "{message}");
        }
        // the RAM-only entry point refuses disk slots instead of ignoring them
        let schedule = Schedule::two_level(steps, 1, 2).with_disk_dir(Some(scratch.path().to_path_buf()));
        let error = gradient(shot, Residuals::Observed(observed), &schedule).unwrap_err();
        assert!(error.to_string().contains("gradient_two_level"), "{error}");
        assert_eq!(entries(scratch.path()), vec!["file".to_string()]);
    });
}

#[test]
fn a_failed_run_leaves_the_directory_empty() {
    with_acoustic_shot(|shot, observed| {
        let steps = shot.nt() - 1;
        let dir = tempfile::tempdir().unwrap();
        let mut schedule = Schedule::two_level(steps, 1, 2).with_disk_dir(Some(dir.path().to_path_buf()));
        // break the schedule after the disk slots were written: an advance from a state that is not current
        let first_reverse =
            schedule.actions.iter().position(|a| matches!(a, pdeinv_adjoint::Action::Reverse { .. })).unwrap();
        schedule.actions.insert(first_reverse, pdeinv_adjoint::Action::Advance { from: steps + 5, to: steps + 6 });
        let stores_on_disk = schedule
            .actions
            .iter()
            .filter(|a| matches!(a, pdeinv_adjoint::Action::Store { slot, .. } if *slot < schedule.disk_slots))
            .count();
        assert!(stores_on_disk > 0);
        let error = gradient_two_level(shot, Residuals::Observed(observed), &schedule).unwrap_err();
        assert!(matches!(error, DriverError::Action(_)), "{error:?}");
        assert!(entries(dir.path()).is_empty(), "left behind: {:?}", entries(dir.path()));
    });
}
