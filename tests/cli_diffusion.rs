//! End-to-end tests of the diffusion commands: `forward` and `invert` on a
//! diffusion scenario (calibration reaches its error bound; data from
//! `forward` with noise invert too), `sample` (posterior file and figure),
//! `bench diffusion` (its last two lines), and bad input exiting with code 2
//! and one `error:` line.

mod common;

use common::*;
use tempfile::TempDir;

/// A small 1D calibration: 60 cells, two layers, 3 experiments, 12
/// sensors, 1 % noise, Crank-Nicolson (well under a second per run).
const ROD: &str = r#"
[problem]
physics = "diffusion"
dimension = 1

[grid]
shape = [60]
spacing = [0.01]

[model.true]
layers = { velocities = [1.0, 1.5], interfaces = [0.3] }

[model.initial]
constant = 1.2

[time]
nt = 151
dt = 0.001

[source]
wavelet = { gaussian = { center = 0.01, width = 0.005, amplitude = 100.0 } }
positions = { points = [[0.1], [0.3], [0.5]] }

[receivers]
positions = { line = { x = [0.03, 0.57], count = 12 } }

[solver]
scheme = "crank-nicolson"
boundary = "dirichlet"

[noise]
relative = 0.01
seed = 5

[inversion]
iterations = 25
parameterization = "log"
preconditioner = "none"
first_step = 0.1

[sampling]
zones = [2]
prior = { mean = 1.0, log_std = 0.5 }
burn_in = 100
seed = 2
"#;

/// The rod scenario with `from` replaced by `to` (which must occur).
fn rod_with(dir: &TempDir, from: &str, to: &str) -> std::path::PathBuf {
    assert!(ROD.contains(from), "{from:?} is not in the rod scenario");
    write(dir, "bad.toml", &ROD.replace(from, to))
}

/// The last line starting with `prefix`, parsed after the `=`.
fn value(stdout: &str, prefix: &str) -> f64 {
    let line =
        stdout.lines().rev().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}` in {stdout}"));
    line.split('=').nth(1).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok()).expect("a number")
}

#[test]
fn diffusion_calibration_recovers_kappa() {
    let dir = TempDir::new().unwrap();
    let scenario = write(&dir, "rod.toml", ROD);
    let run = dir.path().join("run.h5");
    let stdout = expect_success(&["invert", s(&scenario), "--out", s(&run)]);
    let error = value(&stdout, "relative kappa error");
    assert!(error < 0.05, "relative kappa error {error}\n{stdout}");
    let file = hdf5::File::open(&run).unwrap();
    assert_eq!(file.dataset("final/kappa").unwrap().shape(), vec![60]);
    assert_png(&dir.path().join("run-models.png"));
    assert_png(&dir.path().join("run-misfit.png"));
}

#[test]
fn forward_then_invert_recorded_diffusion_data() {
    let dir = TempDir::new().unwrap();
    let scenario = write(&dir, "rod.toml", ROD);
    let data = dir.path().join("data.h5");
    expect_success(&["forward", s(&scenario), "--out", s(&data)]);
    let file = hdf5::File::open(&data).unwrap();
    assert_eq!(file.dataset("shots/0002/traces").unwrap().shape(), vec![151, 12]);
    let run = dir.path().join("run.h5");
    let stdout = expect_success(&["invert", s(&scenario), "--data", s(&data), "--out", s(&run), "--iterations", "10"]);
    assert!(value(&stdout, "relative kappa error") < 0.1, "{stdout}");
}

#[test]
fn sample_writes_the_posterior_and_its_figure() {
    let dir = TempDir::new().unwrap();
    let scenario = write(&dir, "rod.toml", ROD);
    let post = dir.path().join("post.h5");
    let stdout = expect_success(&["sample", s(&scenario), "--samples", "200", "--out", s(&post)]);
    let rate = value(&stdout, "acceptance rate");
    assert!(rate > 0.3 && rate < 0.9, "acceptance rate {rate}");
    let file = hdf5::File::open(&post).unwrap();
    assert_eq!(file.dataset("chain").unwrap().shape(), vec![200, 2]);
    let mean = file.dataset("mean").unwrap().read_raw::<f64>().unwrap();
    let std = file.dataset("std").unwrap().read_raw::<f64>().unwrap();
    // two zones of 30 cells: the left is all 1.0, the right all 1.5
    assert!((mean[0] - 1.0).abs() < 0.05 && (mean[59] - 1.5).abs() < 0.05, "{} {}", mean[0], mean[59]);
    assert!(std.iter().all(|&v| v > 0.0));
    assert_png(&dir.path().join("post.png"));
}

#[test]
fn bench_diffusion_prints_its_figures_last() {
    let stdout = expect_success(&["bench", "diffusion", "--shape", "32,32", "--nt", "5"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[lines.len() - 2].starts_with("factorisation s = "), "{stdout}");
    assert!(lines[lines.len() - 1].starts_with("ms/step = "), "{stdout}");
    expect_user_error(&["bench", "diffusion", "--shape", "32,40", "--nt", "5"], "square");
}

#[test]
fn diffusion_bad_input() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("x.h5");
    for (from, to, needle) in [
        ("scheme = \"crank-nicolson\"", "scheme = \"leapfrog\"", "solver.scheme"),
        ("boundary = \"dirichlet\"", "boundary = \"periodic\"", "solver.boundary"),
        ("dt = 0.001", "dt = 0.01\nscheme_typo = 1", "scheme_typo"),
        ("[noise]\nrelative = 0.01", "[noise]\nrelative = -0.01", "noise.relative"),
        ("scheme = \"crank-nicolson\"", "scheme = \"explicit\"", "stability limit"),
        ("constant = 1.2", "constant = -1.0", "kappa"),
        ("iterations = 25", "iterations = 25\nmisfit = \"correlation\"", "least-squares"),
        ("[sampling]\n", "[checkpointing]\nstrategy = \"boundary-saving\"\n[sampling]\n", "ill-posed"),
    ] {
        let scenario = rod_with(&dir, from, to);
        expect_user_error(&["invert", s(&scenario), "--out", s(&out)], needle);
    }
    let scenario = rod_with(&dir, "zones = [2]", "zones = [2, 2]");
    expect_user_error(&["sample", s(&scenario), "--samples", "10", "--out", s(&out)], "sampling.zones");
    let scenario =
        rod_with(&dir, "[sampling]\nzones = [2]\nprior = { mean = 1.0, log_std = 0.5 }\nburn_in = 100\nseed = 2\n", "");
    expect_user_error(&["sample", s(&scenario), "--samples", "10", "--out", s(&out)], "[sampling] is missing");
}
