//! End-to-end tests of `pdeinv invert`: the run file (HDF5 layout v1, kind
//! `run`) and its figures, `--resume` after the process is killed mid-run
//! ending bitwise where an uninterrupted run ends, inversion of data from
//! `pdeinv forward`, and every kind of bad input exiting with code 2 and one
//! `error:` line.

mod common;

use common::*;
use hdf5::types::VarLenUnicode;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A tiny inversion: 20 x 30 cells, a camembert, three shots around it,
/// 200 steps of order 8 (about 0.1 s per iteration).
const INVERT: &str = r#"
[problem]
physics = "acoustic"
dimension = 2

[grid]
shape = [20, 30]
spacing = [10.0, 10.0]

[model.true]
camembert = { background = 2000.0, anomaly = 2200.0, center = [95.0, 145.0], radius = 50.0 }

[model.initial]
constant = 2000.0

[time]
nt = 200
dt = 0.001

[source]
wavelet = { ricker = { peak_frequency = 15.0 } }
positions = { points = [[15.0, 145.0], [175.0, 145.0], [95.0, 15.0]] }

[receivers]
positions = { lines = [{ z = 5.0, x = [0.0, 290.0], count = 15 }, { z = 185.0, x = [0.0, 290.0], count = 15 }, { z = [25.0, 165.0], x = 280.0, count = 8 }] }

[solver]
space_order = 8
boundary = { cpml = { width = 10 } }

[inversion]
iterations = 5
bounds = [1500.0, 3000.0]
"#;

/// A larger one for the kill-and-resume test: 40 x 60 cells, four shots,
/// 400 steps (about 0.3 s per iteration on two cores).
const INVERT_LARGER: &str = r#"
[problem]
physics = "acoustic"
dimension = 2

[grid]
shape = [40, 60]
spacing = [10.0, 10.0]

[model.true]
camembert = { background = 2000.0, anomaly = 2200.0, center = [195.0, 295.0], radius = 80.0 }

[model.initial]
constant = 2000.0

[time]
nt = 400
dt = 0.001

[source]
wavelet = { ricker = { peak_frequency = 15.0 } }
positions = { points = [[15.0, 295.0], [375.0, 295.0], [195.0, 15.0], [195.0, 575.0]] }

[receivers]
positions = { lines = [{ z = 5.0, x = [0.0, 590.0], count = 30 }, { z = 385.0, x = [0.0, 590.0], count = 30 }] }

[solver]
space_order = 8
boundary = { cpml = { width = 10 } }

[inversion]
iterations = 20
bounds = [1500.0, 3000.0]
"#;

/// The tiny inversion scenario with `from` replaced by `to` (which must occur).
fn invert_scenario_with(dir: &TempDir, name: &str, from: &str, to: &str) -> PathBuf {
    assert!(INVERT.contains(from), "{from:?} is not in the inversion scenario");
    write(dir, name, &INVERT.replace(from, to))
}

/// A string scalar attribute.
fn text_attr(loc: &hdf5::Location, name: &str) -> String {
    loc.attr(name).unwrap().read_scalar::<VarLenUnicode>().unwrap().as_str().to_string()
}

/// `/final/vp` of a run file.
fn final_vp(path: &Path) -> Vec<f64> {
    hdf5::File::open(path).unwrap().dataset("final/vp").unwrap().read_raw::<f64>().unwrap()
}

/// The misfit of every iteration of a run file, in order.
fn misfits(path: &Path) -> Vec<f64> {
    pdeinv_io::h5::read_run(path).unwrap().iterations.iter().map(|it| it.misfit).collect()
}

#[test]
fn invert_writes_a_run_file_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(&dir, "s.toml", INVERT);
    let run = dir.path().join("run.h5");
    let stdout = expect_success(&["invert", s(&scenario), "--out", s(&run), "--iterations", "3"]);
    assert!(stdout.contains("relative model error"), "{stdout}");

    let file = hdf5::File::open(&run).unwrap();
    assert_eq!(file.attr("pdeinv_format").unwrap().read_scalar::<i64>().unwrap(), 1);
    assert_eq!(text_attr(&file, "kind"), "run");
    let mut names = file.group("iterations").unwrap().member_names().unwrap();
    names.sort();
    assert_eq!(names, ["0000", "0001", "0002", "0003"], "--iterations 3 overrides inversion.iterations = 5");
    let mut misfit = Vec::new();
    for name in &names {
        let group = file.group(&format!("iterations/{name}")).unwrap();
        let model = group.dataset("model").unwrap();
        assert_eq!(model.shape(), vec![20, 30]);
        let values = model.read_raw::<f64>().unwrap();
        assert!(values.iter().all(|v| (1500.0..=3000.0).contains(v)), "iteration {name} leaves the bounds");
        let gradient = group.dataset("gradient").unwrap();
        assert_eq!(gradient.shape(), vec![20, 30]);
        let g = gradient.read_raw::<f64>().unwrap();
        assert!(g.iter().all(|v| v.is_finite()) && g.iter().any(|&v| v != 0.0), "iteration {name}: gradient");
        let attr = |key: &str| gradient.attr(key).unwrap().read_scalar::<f64>().unwrap();
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((attr("gradient_norm") - norm).abs() <= 1e-12 * norm, "iteration {name}: gradient_norm");
        assert!(attr("misfit") > 0.0 && attr("step") >= 0.0 && attr("seconds") >= 0.0);
        if name != "0000" {
            assert!(attr("step") > 0.0, "iteration {name}: step");
        }
        misfit.push(attr("misfit"));
    }
    eprintln!("misfit per iteration: {misfit:?}");
    assert!(misfit[3] < misfit[0], "the misfit did not decrease: {misfit:?}");
    let last_model = file.dataset("iterations/0003/model").unwrap().read_raw::<f64>().unwrap();
    let final_model = file.dataset("final/vp").unwrap();
    assert_eq!(final_model.shape(), vec![20, 30]);
    assert_eq!(final_model.read_raw::<f64>().unwrap(), last_model);
    let text = file.dataset("scenario").unwrap().read_scalar::<VarLenUnicode>().unwrap();
    assert_eq!(text.as_str(), INVERT);
    drop(file);
    for figure in ["run-models.png", "run-gradient.png", "run-misfit.png"] {
        assert_png(&dir.path().join(figure));
    }
}

/// Kill a run with SIGKILL after its second iteration, resume it, and
/// compare with a run that was never interrupted: the same final model and
/// the same misfit at every iteration, bit for bit.
#[test]
fn resume_after_kill_ends_bitwise_where_an_uninterrupted_run_ends() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(&dir, "s.toml", INVERT_LARGER);
    let killed = dir.path().join("killed.h5");
    let args = ["invert", s(&scenario), "--out", s(&killed), "--iterations", "8", "--quiet"];
    let clock = Instant::now();
    let mut child = common::pdeinv_command()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start the pdeinv binary");
    let mut seen = 0;
    let finished_before_kill = loop {
        // the file is replaced atomically after every iteration, so any
        // version read is complete
        if killed.exists()
            && let Ok(run) = pdeinv_io::h5::read_run(&killed)
        {
            seen = run.iterations.len();
            if seen >= 3 {
                break false;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the first run failed: {status}");
            break true;
        }
        assert!(clock.elapsed() < Duration::from_secs(60), "the first run wrote no iterations in 60 s");
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = child.kill();
    child.wait().unwrap();
    let at_kill = pdeinv_io::h5::read_run(&killed).unwrap();
    eprintln!(
        "killed after {:.2} s with {} iteration(s) in the file (seen {seen}), finished before the kill: {finished_before_kill}, final model written: {}",
        clock.elapsed().as_secs_f64(),
        at_kill.iterations.len() - 1,
        at_kill.final_model.is_some()
    );
    assert!(
        finished_before_kill || at_kill.final_model.is_none(),
        "the kill should land mid-run (make the problem larger if this fails)"
    );

    let clock = Instant::now();
    expect_success(&[&args[..], &["--resume"]].concat());
    let resumed_seconds = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    let uninterrupted = dir.path().join("uninterrupted.h5");
    expect_success(&["invert", s(&scenario), "--out", s(&uninterrupted), "--iterations", "8", "--quiet"]);
    eprintln!("resumed run {resumed_seconds:.2} s, uninterrupted run {:.2} s", clock.elapsed().as_secs_f64());

    let (resumed_misfits, reference_misfits) = (misfits(&killed), misfits(&uninterrupted));
    assert_eq!(reference_misfits.len(), 9);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&resumed_misfits), bits(&reference_misfits), "misfit per iteration");
    assert_eq!(final_vp(&killed), final_vp(&uninterrupted));
    assert!(reference_misfits[8] < reference_misfits[0]);
}

#[test]
fn invert_recorded_data_from_forward() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(&dir, "s.toml", INVERT);
    let data = dir.path().join("d.h5");
    expect_success(&["forward", s(&scenario), "--out", s(&data), "--quiet"]);
    let run = dir.path().join("run.h5");
    expect_success(&["invert", s(&scenario), "--data", s(&data), "--out", s(&run), "--iterations", "2", "--quiet"]);
    let m = misfits(&run);
    assert_eq!(m.len(), 3);
    assert!(m[2] < m[0], "{m:?}");
    // the same data as the run synthesises for itself
    let synthesised = dir.path().join("synthesised.h5");
    expect_success(&["invert", s(&scenario), "--out", s(&synthesised), "--iterations", "0", "--quiet"]);
    assert_eq!(misfits(&synthesised)[0].to_bits(), m[0].to_bits());
}

#[test]
fn invert_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(&dir, "s.toml", INVERT);
    let out = dir.path().join("run.h5");
    let invert = |scenario: &Path, extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = ["invert", s(scenario), "--out", s(&out)].map(String::from).to_vec();
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    };
    let check = |args: Vec<String>, needle: &str| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        expect_user_error(&args, needle);
    };

    // --resume without a run file
    check(invert(&scenario, &["--resume"]), "--resume");
    assert!(!out.exists());

    // bad [inversion] tables and a missing starting model
    for (name, from, to, needle) in [
        ("unknown.toml", "iterations = 5", "iterations = 5\niterationz = 3", "iterationz"),
        ("bounds.toml", "bounds = [1500.0, 3000.0]", "bounds = [3000.0, 2000.0]", "inversion.bounds"),
        ("newton.toml", "iterations = 5", "iterations = 5\noptimizer = \"newton\"", "newton"),
        ("bands.toml", "iterations = 5", "iterations = 5\nbands = [8.0, 4.0]", "inversion.bands"),
        ("no-initial.toml", "[model.initial]\nconstant = 2000.0\n", "", "model.initial"),
    ] {
        let path = invert_scenario_with(&dir, name, from, to);
        check(invert(&path, &[]), needle);
        assert!(!out.exists(), "{name}: a run file was written");
    }

    // data with two shots for a scenario with three
    let two_shots = invert_scenario_with(
        &dir,
        "two.toml",
        "[[15.0, 145.0], [175.0, 145.0], [95.0, 15.0]]",
        "[[15.0, 145.0], [175.0, 145.0]]",
    );
    let data = dir.path().join("two.h5");
    expect_success(&["forward", s(&two_shots), "--out", s(&data), "--quiet"]);
    check(invert(&scenario, &["--data", s(&data)]), "shot");
    assert!(!out.exists());

    // --resume of a run made from another scenario
    expect_success(&["invert", s(&two_shots), "--out", s(&out), "--iterations", "0", "--quiet"]);
    check(invert(&scenario, &["--resume"]), "different scenario");
}
