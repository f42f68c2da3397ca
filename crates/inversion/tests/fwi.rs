//! Tiny full-waveform inversions through the library: a 1D smooth bump and
//! a 2D camembert recovered from constant starting models (misfit reduction
//! and relative model error), bitwise resume across a multiscale band switch
//! via `Progress::to_named_vectors`/`from_named_vectors`, every optimiser
//! decreasing the misfit monotonically, the log-velocity parameterisation,
//! active velocity bounds, and a Taylor test of the normalised-correlation
//! gradient through the whole PDE.

use pdeinv_adjoint::Strategy;
use pdeinv_adjoint::verify::{pseudo_random, taylor_slopes, taylor_test};
use pdeinv_forward::acoustic::{AcousticConfig, AcousticModel, Boundary, PairFusion, ShotInput, record_shots};
use pdeinv_forward::wavelet::ricker;
use pdeinv_forward::{Parallelism, Real};
use pdeinv_grid::{Grid, Interpolation, PointWeights, point_weights};
use pdeinv_inversion::fwi::{AcousticFwi, FwiShot, SimulationPrecision};
use pdeinv_inversion::misfit::MisfitKind;
use pdeinv_inversion::model_map::Parameterization;
use pdeinv_inversion::run::{Inversion, IterationRecord, Problem, Progress};
use pdeinv_inversion::settings::{Optimizer, Settings};
use std::time::Instant;

/// A synthetic problem: the objective on data recorded in `truth`, and the
/// starting model.
struct Case {
    problem: Problem,
    truth: Vec<f64>,
    initial: Vec<f64>,
}

/// Observed data of `truth` for sources at `sources` (`[z, x]`, m) and
/// receivers at `receivers`, recorded with the same solver in `precision`.
fn case(
    config: AcousticConfig,
    peak_frequency: f64,
    sources: &[[f64; 2]],
    receivers: &[[f64; 2]],
    truth: Vec<f64>,
    initial: Vec<f64>,
    misfit: MisfitKind,
    precision: SimulationPrecision,
) -> Case {
    let grid = config.grid.clone();
    let scheme = Interpolation::Hicks { radius: 4 };
    let weights = |what: &str, p: &[f64; 2]| point_weights(&grid, what, p[0], p[1], scheme).unwrap();
    let receiver_weights: Vec<PointWeights> = receivers.iter().map(|p| weights("receiver", p)).collect();
    let source_weights: Vec<PointWeights> = sources.iter().map(|p| weights("source", p)).collect();
    let wavelet = ricker(peak_frequency, config.dt, config.nt, None);
    let inputs: Vec<ShotInput<'_>> = source_weights
        .iter()
        .map(|source| ShotInput { source, wavelet: &wavelet, receivers: &receiver_weights })
        .collect();
    fn observe<T: Real>(config: &AcousticConfig, truth: &[f64], inputs: &[ShotInput<'_>]) -> Vec<Vec<f64>> {
        let model = AcousticModel::<T>::new(config.clone(), truth).unwrap();
        let records = record_shots(&model, inputs, &|| {}).unwrap();
        records.into_iter().map(|r| r.iter().map(|v| v.as_f64()).collect()).collect()
    }
    let observed = match precision {
        SimulationPrecision::F32 => observe::<f32>(&config, &truth, &inputs),
        SimulationPrecision::F64 => observe::<f64>(&config, &truth, &inputs),
    };
    let shots = source_weights
        .into_iter()
        .zip(observed)
        .map(|(source, observed)| FwiShot { source, receivers: receiver_weights.clone(), observed })
        .collect();
    Case {
        problem: Problem {
            objective: AcousticFwi { config, wavelet, shots, misfit, strategy: Strategy::StoreAll, precision },
            source_positions: sources.to_vec(),
        },
        truth,
        initial,
    }
}

/// 1D, 3 km at 10 m: a smooth +250 m/s bump on 2000 m/s, one source at
/// each end, receivers every 100 m along the whole line (transmission to
/// every receiver), a 10 Hz Ricker, 2 s.
fn case_1d(misfit: MisfitKind) -> Case {
    let (nx, dx) = (301, 10.0);
    let grid = Grid::new_1d(nx, dx).unwrap();
    let truth: Vec<f64> =
        (0..nx).map(|i| 2000.0 + 250.0 * (-((i as f64 * dx - 1500.0) / 300.0).powi(2)).exp()).collect();
    let config = AcousticConfig {
        grid,
        space_order: 8,
        dt: 0.002,
        nt: 1000,
        boundary: Boundary::Cpml { width: 20 },
        free_surface: false,
        dominant_frequency: 10.0,
        cpml_velocity: None,
        parallelism: Parallelism::Serial,
        pair_fusion: PairFusion::Auto,
    };
    let receivers: Vec<[f64; 2]> = (0..31).map(|r| [0.0, 100.0 * r as f64]).collect();
    case(
        config,
        10.0,
        &[[0.0, 50.0], [0.0, 2950.0]],
        &receivers,
        truth,
        vec![2000.0; nx],
        misfit,
        SimulationPrecision::F64,
    )
}

/// 2D, 30 x 40 cells of 10 m: a camembert (+200 m/s, radius 60 m) in the
/// middle of 2000 m/s, a source in the middle of each side, receivers all
/// around, a 15 Hz Ricker, order 4, single precision as in production.
fn case_2d() -> Case {
    let (nz, nx, h) = (30, 40, 10.0);
    let grid = Grid::new_2d(nz, nx, h, h).unwrap();
    let truth: Vec<f64> = (0..nz * nx)
        .map(|i| {
            let (z, x) = ((i / nx) as f64 * h, (i % nx) as f64 * h);
            if (z - 145.0).hypot(x - 195.0) <= 60.0 { 2200.0 } else { 2000.0 }
        })
        .collect();
    let config = AcousticConfig {
        grid,
        space_order: 4,
        dt: 0.001,
        nt: 300,
        boundary: Boundary::Cpml { width: 10 },
        free_surface: false,
        dominant_frequency: 15.0,
        cpml_velocity: None,
        parallelism: Parallelism::Serial,
        pair_fusion: PairFusion::Auto,
    };
    let sources = [[20.0, 195.0], [270.0, 195.0], [145.0, 20.0], [145.0, 370.0]];
    let mut receivers = Vec::new();
    for k in 0..10 {
        let x = 15.0 + 40.0 * k as f64;
        receivers.push([10.0, x]);
        receivers.push([280.0, x]);
    }
    for k in 0..7 {
        let z = 25.0 + 40.0 * k as f64;
        receivers.push([z, 10.0]);
        receivers.push([z, 380.0]);
    }
    case(
        config,
        15.0,
        &sources,
        &receivers,
        truth,
        vec![2000.0; nz * nx],
        MisfitKind::LeastSquares,
        SimulationPrecision::F32,
    )
}

/// Run an inversion to its end: every iteration's record, the start first.
fn invert(case: &Case, settings: &Settings) -> Vec<IterationRecord> {
    let (mut inversion, mut progress, first) = Inversion::start(&case.problem, settings, &case.initial).unwrap();
    let mut records = vec![first];
    while let Some(record) = inversion.iterate(&mut progress).unwrap() {
        records.push(record);
    }
    assert!(progress.finished);
    records
}

/// `‖m − m_true‖ / ‖m₀ − m_true‖`.
fn relative_error(case: &Case, model: &[f64]) -> f64 {
    let distance = |m: &[f64]| m.iter().zip(&case.truth).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
    distance(model) / distance(&case.initial)
}

/// Misfit reduction `1 − J_last / J_0` and relative model error of a run.
fn summary(name: &str, case: &Case, records: &[IterationRecord], seconds: f64) -> (f64, f64) {
    let (first, last) = (records[0].misfit, records.last().unwrap().misfit);
    let reduction = 1.0 - last / first;
    let error = relative_error(case, &records.last().unwrap().model);
    eprintln!(
        "{name}: {} iterations, misfit {first:.4e} -> {last:.4e} (reduced by {:.2} %), relative model error {error:.3}, {seconds:.2} s",
        records.len() - 1,
        100.0 * reduction
    );
    (reduction, error)
}

/// Assert the misfit never increases from one iteration to the next.
fn assert_monotone(name: &str, records: &[IterationRecord]) {
    for pair in records.windows(2) {
        assert!(
            pair[1].misfit <= pair[0].misfit,
            "{name}: misfit rose from {:.6e} to {:.6e} at iteration {}",
            pair[0].misfit,
            pair[1].misfit,
            pair[1].iteration
        );
    }
}

#[test]
fn lbfgs_recovers_a_1d_bump() {
    let case = case_1d(MisfitKind::LeastSquares);
    let settings = Settings { iterations: 15, ..Settings::default() };
    let clock = Instant::now();
    let records = invert(&case, &settings);
    let (reduction, error) = summary("1D L-BFGS", &case, &records, clock.elapsed().as_secs_f64());
    assert!(records.len() - 1 <= 15);
    assert!(reduction > 0.9, "misfit reduced by only {:.1} %", 100.0 * reduction);
    // measured: 0.055
    assert!(error <= 0.2, "relative model error {error}");
    assert_monotone("1D L-BFGS", &records);
}

#[test]
fn lbfgs_recovers_a_2d_camembert() {
    let case = case_2d();
    let settings = Settings { iterations: 15, ..Settings::default() };
    let clock = Instant::now();
    let records = invert(&case, &settings);
    let (reduction, error) = summary("2D L-BFGS", &case, &records, clock.elapsed().as_secs_f64());
    assert!(reduction > 0.9, "misfit reduced by only {:.1} %", 100.0 * reduction);
    // measured: 0.25
    assert!(error <= 0.45, "relative model error {error}");
    assert_monotone("2D L-BFGS", &records);
}

/// N iterations in one go, or K, then a save/load of the progress through
/// named vectors and a fresh `Inversion::resume`, then the other N − K:
/// the same final model, bit for bit, also when the resumed part crosses
/// the switch from one frequency band to the next.
#[test]
fn resume_through_named_vectors_is_bitwise_across_a_band_switch() {
    let case = case_1d(MisfitKind::LeastSquares);
    let settings = Settings { iterations: 6, bands: vec![5.0, 12.0], ..Settings::default() };
    assert_eq!((settings.band_iterations(0), settings.band_iterations(1)), (3, 3));
    let reference = invert(&case, &settings);
    let reference_model = &reference.last().unwrap().model;
    assert_eq!(reference.last().unwrap().iteration, 6);
    assert_eq!(reference.last().unwrap().band, 1, "the run should reach the second band");
    for k in [2, 3, 4] {
        let (mut inversion, mut progress, _) = Inversion::start(&case.problem, &settings, &case.initial).unwrap();
        for _ in 0..k {
            inversion.iterate(&mut progress).unwrap().unwrap();
        }
        let saved = progress.to_named_vectors();
        drop(inversion);
        let mut restored = Progress::from_named_vectors(&saved, &case.problem, &settings).unwrap();
        assert_eq!(restored, progress, "k = {k}: the progress survives the round trip");
        let mut inversion = Inversion::resume(&case.problem, &settings, &restored);
        let mut last = None;
        while let Some(record) = inversion.iterate(&mut restored).unwrap() {
            last = Some(record);
        }
        let last = last.unwrap();
        assert_eq!(last.iteration, 6);
        assert_eq!(&last.model, reference_model, "k = {k}: resumed run ends elsewhere");
        assert_eq!(last.misfit.to_bits(), reference.last().unwrap().misfit.to_bits());
    }
}

#[test]
fn every_optimizer_decreases_the_misfit_monotonically() {
    let case = case_1d(MisfitKind::LeastSquares);
    for (name, optimizer) in [
        ("L-BFGS", Optimizer::Lbfgs { memory: 5 }),
        ("conjugate gradient", Optimizer::ConjugateGradient),
        ("steepest descent", Optimizer::SteepestDescent),
    ] {
        let settings = Settings { optimizer, iterations: 6, ..Settings::default() };
        let clock = Instant::now();
        let records = invert(&case, &settings);
        let (reduction, _) = summary(name, &case, &records, clock.elapsed().as_secs_f64());
        assert_eq!(records.len(), 7, "{name}: stopped early");
        assert_monotone(name, &records);
        assert!(reduction > 0.3, "{name}: misfit reduced by only {:.1} %", 100.0 * reduction);
    }
}

#[test]
fn log_velocity_parameterization_inverts_too() {
    let case = case_1d(MisfitKind::LeastSquares);
    let settings = Settings { iterations: 12, parameterization: Parameterization::LogVelocity, ..Settings::default() };
    let clock = Instant::now();
    let records = invert(&case, &settings);
    let (reduction, error) = summary("1D log-velocity", &case, &records, clock.elapsed().as_secs_f64());
    assert_monotone("1D log-velocity", &records);
    assert!(reduction > 0.9, "misfit reduced by only {:.1} %", 100.0 * reduction);
    // measured: 0.12
    assert!(error <= 0.3, "relative model error {error}");
}

/// Bounds below the true bump's peak: every model stays inside them after
/// every iteration, and the upper one is reached.
#[test]
fn bounds_hold_after_every_iteration() {
    let case = case_1d(MisfitKind::LeastSquares);
    let (lo, hi) = (1980.0, 2120.0);
    for parameterization in [Parameterization::Velocity, Parameterization::LogVelocity] {
        let settings = Settings { iterations: 8, bounds: Some((lo, hi)), parameterization, ..Settings::default() };
        let records = invert(&case, &settings);
        for record in &records {
            let (min, max) =
                record.model.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            assert!(
                min >= lo && max <= hi,
                "{parameterization:?}: iteration {} leaves the bounds: [{min}, {max}]",
                record.iteration
            );
        }
        let last = &records.last().unwrap().model;
        let at_upper = last.iter().filter(|&&v| v == hi).count();
        eprintln!(
            "bounds {parameterization:?}: {at_upper} cells at the upper bound after {} iterations",
            records.len() - 1
        );
        assert!(at_upper > 0, "{parameterization:?}: the upper bound never became active");
        assert_monotone("bounded", &records);
    }
}

/// The normalised-correlation misfit and its gradient through the whole
/// wave equation (f64): the second-order Taylor remainder falls as h².
#[test]
fn correlation_gradient_passes_the_taylor_test() {
    let case = case_1d(MisfitKind::NormalizedCorrelation);
    let fwi = &case.problem.objective;
    // a model between start and truth, so the data do not match
    let m: Vec<f64> = case.initial.iter().zip(&case.truth).map(|(a, b)| 0.6 * a + 0.4 * b).collect();
    let evaluation = fwi.evaluate(&m).unwrap();
    assert!(evaluation.misfit > 0.0);
    assert_eq!(fwi.misfit(&m).unwrap().to_bits(), evaluation.misfit.to_bits());
    let dm: Vec<f64> = pseudo_random(7, m.len()).iter().map(|r| 20.0 * r).collect();
    let rows = taylor_test(|v| fwi.misfit(v).unwrap(), &m, &evaluation.gradient, &dm, 0.5, 6);
    let slopes = taylor_slopes(&rows);
    for (row, slope) in rows.iter().skip(1).zip(&slopes) {
        eprintln!(
            "h {:.4e}  first {:.4e} (slope {:.3})  second {:.4e} (slope {:.3})",
            row.h, row.first_order, slope.0, row.second_order, slope.1
        );
    }
    assert_eq!(slopes.len(), 5);
    for (_, second) in slopes {
        assert!((second - 2.0).abs() <= 0.1, "second-order slope {second}");
    }
}
