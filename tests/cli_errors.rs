//! End-to-end tests of the `pdeinv` binary: every kind of bad input exits
//! with code 2 and exactly one `error: ...` line on stderr naming the
//! problem (never a panic), and the model, plot and forward commands produce
//! readable files in HDF5 layout v1 and PNG.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// Write raw little-endian f32 values.
fn write_raw_f32(path: &Path, values: &[f32]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

/// A valid model file of the tiny scenario's true model, via `model build`.
fn built_model(dir: &TempDir) -> PathBuf {
    let scenario = write(dir, "build.toml", SCENARIO);
    let model = dir.path().join("model.h5");
    expect_success(&["model", "build", s(&scenario), "-o", s(&model), "--quiet"]);
    model
}

/// A minimal big-endian SEG-Y file of IEEE floats (format 5): `traces`
/// columns of equal length, sample interval `interval_us`.
fn segy_bytes(traces: &[Vec<f32>], interval_us: u16, format_code: u16) -> Vec<u8> {
    let n_samples = traces[0].len() as u16;
    let mut out = vec![0x40u8; 3200];
    let mut binary = vec![0u8; 400];
    binary[16..18].copy_from_slice(&interval_us.to_be_bytes());
    binary[20..22].copy_from_slice(&n_samples.to_be_bytes());
    binary[24..26].copy_from_slice(&format_code.to_be_bytes());
    out.extend_from_slice(&binary);
    for trace in traces {
        let mut header = vec![0u8; 240];
        header[114..116].copy_from_slice(&n_samples.to_be_bytes());
        out.extend_from_slice(&header);
        for v in trace {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    out
}

// ---------------------------------------------------------------- scenarios

#[test]
fn malformed_toml() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_with(&dir, "bad.toml", "[grid]", "[grid");
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "bad.toml");
    let path = scenario_with(&dir, "bad2.toml", "nt = 50", "nt = ");
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "line");
}

#[test]
fn unknown_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_with(&dir, "s.toml", "nt = 50", "nt = 50\nsteps_per_shot = 3");
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "steps_per_shot");
    expect_user_error(&["model", "build", s(&path), "-o", s(&dir.path().join("m.h5"))], "steps_per_shot");
}

#[test]
fn missing_and_unreadable_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d.h5");
    let missing = dir.path().join("missing.toml");
    expect_user_error(&["forward", s(&missing), "--out", s(&out)], "missing.toml");
    // A directory is not a readable scenario file.
    let sub = dir.path().join("a_directory.toml");
    std::fs::create_dir(&sub).unwrap();
    expect_user_error(&["forward", s(&sub), "--out", s(&out)], "a_directory.toml");
    assert!(!out.exists());
}

#[test]
fn grid_shape_and_spacing_counts_must_match() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_with(&dir, "s.toml", "spacing = [10.0, 10.0]", "spacing = [10.0]");
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "grid.spacing");
}

#[test]
fn model_file_shape_must_match_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.raw");
    write_raw_f32(&small, &[2000.0; 20 * 20]);
    let model = dir.path().join("small.h5");
    expect_success(&[
        "model",
        "import",
        "--raw",
        s(&small),
        "--shape",
        "20,20",
        "--spacing",
        "10,10",
        "-o",
        s(&model),
        "--quiet",
    ]);
    let true_model = "camembert = { background = 2000.0, anomaly = 2400.0, center = [150.0, 200.0], radius = 60.0 }";
    let path = scenario_with(&dir, "s.toml", true_model, "file = { path = \"small.h5\" }");
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "[20, 20]");
    // The model file resolves relative to the scenario; a missing one is named.
    let path = scenario_with(&dir, "s2.toml", true_model, "file = { path = \"nowhere.h5\" }");
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "nowhere.h5");
}

#[test]
fn nan_velocity_in_a_raw_import() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("nan.raw");
    // 3 x 4, x fastest: index 6 is [1, 2].
    let mut values = vec![2000.0f32; 12];
    values[6] = f32::NAN;
    write_raw_f32(&raw, &values);
    let out = dir.path().join("m.h5");
    let args = ["model", "import", "--raw", s(&raw), "--shape", "3,4", "--spacing", "10,10", "--order", "x-fast"];
    expect_user_error(&[&args[..], &["-o", s(&out)]].concat(), "NaN at [1, 2]");
    assert!(!out.exists());
    // z fast: file index 6 is trace 2, sample 0, i.e. [0, 2].
    let args = ["model", "import", "--raw", s(&raw), "--shape", "3,4", "--spacing", "10,10", "--order", "z-fast"];
    expect_user_error(&[&args[..], &["-o", s(&out)]].concat(), "NaN at [0, 2]");
    values[6] = 0.0;
    write_raw_f32(&raw, &values);
    let args = ["model", "import", "--raw", s(&raw), "--shape", "3,4", "--spacing", "10,10", "--order", "x-fast"];
    expect_user_error(&[&args[..], &["-o", s(&out)]].concat(), "value 0 at [1, 2]");
}

#[test]
fn nan_velocity_in_a_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let true_model = "camembert = { background = 2000.0, anomaly = 2400.0, center = [150.0, 200.0], radius = 60.0 }";
    let path = scenario_with(&dir, "s.toml", true_model, "constant = nan");
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "NaN");
    expect_user_error(&["model", "build", s(&path), "-o", s(&dir.path().join("m.h5"))], "NaN");
}

#[test]
fn non_positive_velocity_in_a_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let true_model = "camembert = { background = 2000.0, anomaly = 2400.0, center = [150.0, 200.0], radius = 60.0 }";
    let path = scenario_with(&dir, "s.toml", true_model, "constant = -1.0");
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "-1");
    expect_user_error(&["model", "build", s(&path), "-o", s(&dir.path().join("m.h5"))], "-1");
}

#[test]
fn source_outside_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_with(
        &dir,
        "s.toml",
        "positions = { line = { z = 20.0, x = [100.0, 300.0], count = 2 } }",
        "positions = { points = [[20.0, 100.0], [20.0, 5000.0]] }",
    );
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "source.positions[1]");
}

#[test]
fn receiver_outside_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_with(
        &dir,
        "s.toml",
        "positions = { line = { z = 20.0, x = [0.0, 390.0], count = 14 } }",
        "positions = { line = { z = 20.0, x = [0.0, 400.0], count = 14 } }",
    );
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "receivers.positions[13]");
    let path = scenario_with(
        &dir,
        "s2.toml",
        "positions = { line = { z = 20.0, x = [0.0, 390.0], count = 14 } }",
        "positions = { points = [[-5.0, 100.0]] }",
    );
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "receivers.positions[0]");
}

#[test]
fn dt_above_the_stability_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_with(&dir, "s.toml", "nt = 50", "nt = 50\ndt = 0.01");
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "stability limit");
}

// ---------------------------------------------------------------- HDF5 files

#[test]
fn truncated_hdf5_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = built_model(&dir);
    let bytes = std::fs::read(&model).unwrap();
    let truncated = dir.path().join("truncated.h5");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let png = dir.path().join("t.png");
    expect_user_error(&["plot", s(&truncated), "-o", s(&png)], "truncated.h5");
    assert!(!png.exists());
    expect_user_error(
        &["model", "smooth", s(&truncated), "--sigma", "10", "-o", s(&dir.path().join("x.h5"))],
        "truncated.h5",
    );
    let true_model = "camembert = { background = 2000.0, anomaly = 2400.0, center = [150.0, 200.0], radius = 60.0 }";
    let path = scenario_with(&dir, "s.toml", true_model, "file = { path = \"truncated.h5\", dataset = \"vp\" }");
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "truncated.h5");
}

#[test]
fn corrupt_hdf5_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let garbage: Vec<u8> = (0..5000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let corrupt = dir.path().join("corrupt.h5");
    std::fs::write(&corrupt, &garbage).unwrap();
    expect_user_error(&["plot", s(&corrupt), "-o", s(&dir.path().join("c.png"))], "corrupt.h5");
    let true_model = "camembert = { background = 2000.0, anomaly = 2400.0, center = [150.0, 200.0], radius = 60.0 }";
    let path = scenario_with(&dir, "s.toml", true_model, "file = { path = \"corrupt.h5\" }");
    expect_user_error(&["forward", s(&path), "--out", s(&dir.path().join("d.h5"))], "corrupt.h5");
}

// ---------------------------------------------------------------- imports

#[test]
fn truncated_segy_file() {
    let dir = tempfile::tempdir().unwrap();
    let traces = vec![vec![2000.0f32; 6]; 5];
    let bytes = segy_bytes(&traces, 10_000, 5);
    let out = dir.path().join("m.h5");
    let short = write_bytes(&dir, "short.sgy", &bytes[..1000]);
    expect_user_error(&["model", "import", "--segy", s(&short), "-o", s(&out)], "short.sgy");
    let cut = write_bytes(&dir, "cut.sgy", &bytes[..bytes.len() - 7]);
    expect_user_error(&["model", "import", "--segy", s(&cut), "-o", s(&out)], "truncated");
    assert!(!out.exists());
}

#[test]
fn segy_with_an_unsupported_format_code() {
    let dir = tempfile::tempdir().unwrap();
    let traces = vec![vec![2000.0f32; 6]; 5];
    let path = write_bytes(&dir, "f4.sgy", &segy_bytes(&traces, 10_000, 4));
    expect_user_error(&["model", "import", "--segy", s(&path), "-o", s(&dir.path().join("m.h5"))], "format code 4");
}

fn write_bytes(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn raw_file_of_the_wrong_size() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("m.raw");
    write_raw_f32(&raw, &[2000.0; 11]);
    let out = dir.path().join("m.h5");
    expect_user_error(
        &["model", "import", "--raw", s(&raw), "--shape", "3,4", "--spacing", "10,10", "-o", s(&out)],
        "44 bytes",
    );
    expect_user_error(
        &["model", "import", "--raw", s(&raw), "--shape", "3,4", "--spacing", "10,10", "--type", "f64", "-o", s(&out)],
        "96 bytes",
    );
    assert!(!out.exists());
}

#[test]
fn raw_import_needs_shape_and_spacing() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("m.raw");
    write_raw_f32(&raw, &[2000.0; 12]);
    let out = dir.path().join("m.h5");
    expect_user_error(&["model", "import", "--raw", s(&raw), "--spacing", "10,10", "-o", s(&out)], "--shape");
    expect_user_error(&["model", "import", "--raw", s(&raw), "--shape", "3,4", "-o", s(&out)], "--spacing");
}

#[test]
fn bad_shape_value() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("m.raw");
    write_raw_f32(&raw, &[2000.0; 12]);
    let out = dir.path().join("m.h5");
    for bad in ["3", "3,x", "0,4", "3,4,5"] {
        expect_user_error(
            &["model", "import", "--raw", s(&raw), "--shape", bad, "--spacing", "10,10", "-o", s(&out)],
            "NZ,NX",
        );
    }
    expect_user_error(&["bench", "forward", "--shape", "3,x", "--nt", "3"], "NZ,NX");
    expect_user_error(
        &["model", "import", "--raw", s(&raw), "--shape", "3,4", "--spacing", "10,-1", "-o", s(&out)],
        "DZ,DX",
    );
}

#[test]
fn threads_zero() {
    expect_user_error(&["--threads", "0", "bench", "forward", "--shape", "20,20", "--nt", "3"], "--threads");
}

#[test]
fn subnormals_mode_must_be_flush_or_keep() {
    expect_user_error(
        &["--subnormals", "sometimes", "bench", "forward", "--shape", "20,20", "--nt", "3"],
        "--subnormals",
    );
    expect_user_error(
        &["--subnormals", "sometimes", "bench", "forward", "--shape", "20,20", "--nt", "3"],
        "flush, keep",
    );
}

#[test]
fn the_worker_threads_run_in_the_subnormal_mode_asked_for() {
    let header = |extra: &[&str]| {
        let args = [extra, &["--threads", "2", "bench", "forward", "--shape", "20,20", "--nt", "3"]].concat();
        expect_success(&args).lines().next().unwrap_or_default().to_string()
    };
    // the bench runs on a worker thread and reports that thread's mode
    let flushed = header(&[]);
    assert!(flushed.ends_with("subnormals flushed"), "{flushed}");
    let kept = header(&["--subnormals", "keep"]);
    assert!(kept.ends_with("subnormals kept"), "{kept}");
}

#[test]
fn model_smooth_rejects_a_bad_sigma_and_plot_a_bad_shot() {
    let dir = tempfile::tempdir().unwrap();
    let model = built_model(&dir);
    let out = dir.path().join("s.h5");
    expect_user_error(&["model", "smooth", s(&model), "--sigma", "-5", "-o", s(&out)], "--sigma -5");
    expect_user_error(&["model", "smooth", s(&model), "--sigma", "nan", "-o", s(&out)], "--sigma NaN");
    expect_user_error(&["plot", s(&model), "--dataset", "/nope", "-o", s(&dir.path().join("p.png"))], "/nope");
    expect_user_error(&["plot", s(&model), "--shot", "1", "-o", s(&dir.path().join("p.png"))], "--shot");
}

// ---------------------------------------------------------------- success

#[test]
fn model_build_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let model = built_model(&dir);
    let m = pdeinv_io::h5::read_model(&model, None).unwrap();
    assert_eq!((m.name.as_str(), m.units.as_str()), ("vp", "m/s"));
    assert_eq!((m.shape, m.spacing), (vec![30, 40], vec![10.0, 10.0]));
    assert!(m.values.contains(&2000.0) && m.values.contains(&2400.0));
    let png = dir.path().join("model.png");
    expect_success(&["plot", s(&model), "-o", s(&png)]);
    assert_png(&png);
    let initial = dir.path().join("initial.h5");
    let scenario = dir.path().join("build.toml");
    expect_success(&["model", "build", s(&scenario), "--which", "initial", "-o", s(&initial)]);
    assert!(pdeinv_io::h5::read_model(&initial, Some("vp")).unwrap().values.iter().all(|&v| v == 2000.0));
}

#[test]
fn forward_then_plot_a_shot() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(&dir, "s.toml", SCENARIO);
    let data = dir.path().join("d.h5");
    expect_success(&["--threads", "1", "forward", s(&scenario), "--out", s(&data)]);
    let png = dir.path().join("shot.png");
    expect_success(&["plot", s(&data), "-o", s(&png)]);
    assert_png(&png);
    let png1 = dir.path().join("shot1.png");
    expect_success(&["plot", s(&data), "--dataset", "/shots/0001/traces", "-o", s(&png1)]);
    assert_png(&png1);
    expect_user_error(&["plot", s(&data), "--shot", "2", "-o", s(&png1)], "2 shot(s)");
    expect_user_error(&["plot", s(&data), "--dataset", "/vp", "-o", s(&png1)], "/shots/NNNN/traces");

    // Layout v1, read with the hdf5 crate directly.
    let file = hdf5::File::open(&data).unwrap();
    assert_eq!(file.attr("pdeinv_format").unwrap().read_scalar::<i64>().unwrap(), 1);
    let kind = file.attr("kind").unwrap().read_scalar::<hdf5::types::VarLenUnicode>().unwrap();
    assert_eq!(kind.as_str(), "data");
    let dt = file.attr("dt").unwrap().read_raw::<f64>().unwrap();
    assert!(dt.len() == 1 && dt[0] > 0.0 && dt[0] < 0.01, "{dt:?}");
    assert_eq!(file.attr("nt").unwrap().read_scalar::<i64>().unwrap(), 50);
    let shot = file.group("shots/0000").unwrap();
    assert_eq!(shot.dataset("traces").unwrap().shape(), vec![50, 14]);
    assert_eq!(shot.dataset("source").unwrap().shape(), vec![2]);
    assert_eq!(shot.dataset("source").unwrap().read_raw::<f64>().unwrap(), vec![20.0, 100.0]);
    assert_eq!(shot.dataset("receivers").unwrap().shape(), vec![14, 2]);
    assert_eq!(file.group("shots").unwrap().member_names().unwrap(), vec!["0000", "0001"]);
}

#[test]
fn plot_a_gradient_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.h5");
    let values: Vec<f64> = (0..20 * 30).map(|i| ((i % 30) as f64 - 10.0) * 1e-3).collect();
    let gradient = pdeinv_io::h5::GradientFile {
        parameter: "vp".into(),
        misfit: 1.5,
        shape: vec![20, 30],
        spacing: vec![5.0, 5.0],
        values,
    };
    pdeinv_io::h5::write_gradient(&path, &gradient).unwrap();
    let png = dir.path().join("g.png");
    expect_success(&["plot", s(&path), "-o", s(&png)]);
    assert_png(&png);
}

#[test]
fn raw_import_round_trips_in_both_orders() {
    let dir = tempfile::tempdir().unwrap();
    let (nz, nx) = (3, 5);
    // Model value at [iz, ix] = 1500 + 100 iz + ix.
    let value = |iz: usize, ix: usize| 1500.0 + 100.0 * iz as f64 + ix as f64;
    let expected: Vec<f64> = (0..nz * nx).map(|i| value(i / nx, i % nx)).collect();
    let x_fast: Vec<f64> = expected.clone();
    let z_fast: Vec<f64> = (0..nz * nx).map(|i| value(i % nz, i / nz)).collect();
    for (order, file_values) in [("x-fast", &x_fast), ("z-fast", &z_fast)] {
        for (ty, endian) in [("f32", "little"), ("f64", "big")] {
            let raw = dir.path().join(format!("{order}-{ty}.raw"));
            let bytes: Vec<u8> = match (ty, endian) {
                ("f32", _) => file_values.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect(),
                _ => file_values.iter().flat_map(|&v| v.to_be_bytes()).collect(),
            };
            std::fs::write(&raw, bytes).unwrap();
            let out = dir.path().join(format!("{order}-{ty}.h5"));
            let stdout = expect_success(&[
                "model",
                "import",
                "--raw",
                s(&raw),
                "--shape",
                "3,5",
                "--spacing",
                "4,8",
                "--order",
                order,
                "--type",
                ty,
                "--endian",
                endian,
                "--name",
                "vp",
                "-o",
                s(&out),
            ]);
            assert_eq!(stdout.lines().count(), 1, "{stdout}");
            let model = pdeinv_io::h5::read_model(&out, None).unwrap();
            assert_eq!(model.name, "vp");
            assert_eq!(model.units, "m/s");
            assert_eq!(model.shape, vec![3, 5]);
            assert_eq!(model.spacing, vec![4.0, 8.0]);
            assert_eq!(model.origin, vec![0.0, 0.0]);
            assert_eq!(model.values, expected, "{order} {ty} {endian}");
        }
    }
    // kappa gets its units.
    let raw = dir.path().join("x-fast-f32.raw");
    let out = dir.path().join("kappa.h5");
    expect_success(&[
        "model",
        "import",
        "--raw",
        s(&raw),
        "--shape",
        "3,5",
        "--spacing",
        "4,8",
        "--order",
        "x-fast",
        "--name",
        "kappa",
        "-o",
        s(&out),
        "--quiet",
    ]);
    let model = pdeinv_io::h5::read_model(&out, Some("kappa")).unwrap();
    assert_eq!((model.name.as_str(), model.units.as_str()), ("kappa", "m^2/s"));
}

#[test]
fn segy_import_puts_traces_in_columns() {
    let dir = tempfile::tempdir().unwrap();
    // 4 traces (x) of 3 samples (z): value 2000 + 10 ix + iz.
    let traces: Vec<Vec<f32>> =
        (0..4).map(|ix| (0..3).map(|iz| 2000.0 + 10.0 * ix as f32 + iz as f32).collect()).collect();
    let path = write_bytes(&dir, "m.sgy", &segy_bytes(&traces, 12_500, 5));
    let out = dir.path().join("m.h5");
    let output = pdeinv(&["model", "import", "--segy", s(&path), "-o", s(&out)]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("12.5 m"));
    let model = pdeinv_io::h5::read_model(&out, None).unwrap();
    assert_eq!(model.shape, vec![3, 4]);
    assert_eq!(model.spacing, vec![12.5, 12.5]);
    assert_eq!(model.values[4 + 3], 2031.0); // [iz = 1, ix = 3]
    expect_success(&["model", "import", "--segy", s(&path), "--spacing", "5,6", "-o", s(&out), "--quiet"]);
    assert_eq!(pdeinv_io::h5::read_model(&out, None).unwrap().spacing, vec![5.0, 6.0]);
    expect_user_error(&["model", "import", "--segy", s(&path), "--shape", "3,4", "-o", s(&out)], "--shape");
}

#[test]
fn smoothing_keeps_a_constant_model_constant() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("c.raw");
    write_raw_f32(&raw, &[1800.0; 12 * 15]);
    let model = dir.path().join("c.h5");
    expect_success(&[
        "model",
        "import",
        "--raw",
        s(&raw),
        "--shape",
        "12,15",
        "--spacing",
        "10,10",
        "-o",
        s(&model),
        "--quiet",
    ]);
    let smoothed = dir.path().join("cs.h5");
    expect_success(&["model", "smooth", s(&model), "--sigma", "25", "-o", s(&smoothed)]);
    let m = pdeinv_io::h5::read_model(&smoothed, None).unwrap();
    assert_eq!((m.shape, m.spacing, m.units.as_str()), (vec![12, 15], vec![10.0, 10.0], "m/s"));
    assert!(m.values.iter().all(|v| (v - 1800.0).abs() < 1e-9), "{:?}", m.values);
}

#[test]
fn wavelet_from_a_text_file_matches_the_ricker_run() {
    // the Ricker wavelet written as text, one sample per line, gives the same data
    let dir = tempfile::tempdir().unwrap();
    let ricker = write(&dir, "ricker.toml", SCENARIO);
    let verbose = pdeinv(&["forward", s(&ricker), "--out", s(&dir.path().join("r.h5")), "-v"]);
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    let dt: f64 = stderr
        .split("dt = ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|t| t.parse().ok())
        .expect("-v prints dt");
    let samples: Vec<String> =
        pdeinv_forward::wavelet::ricker(10.0, dt, 50, None).iter().map(|v| format!("{v:e}")).collect();
    write(&dir, "w.txt", &samples.join("\n"));
    let from_file = scenario_with(
        &dir,
        "file.toml",
        "wavelet = { ricker = { peak_frequency = 10.0 } }",
        &format!("wavelet = {{ file = {{ path = \"w.txt\", dt = {dt:e}, peak_frequency = 10.0 }} }}"),
    );
    let file_data = dir.path().join("f.h5");
    expect_success(&["forward", s(&from_file), "--out", s(&file_data), "--quiet"]);
    let a = pdeinv_io::h5::read_data(&dir.path().join("r.h5")).unwrap();
    let b = pdeinv_io::h5::read_data(&file_data).unwrap();
    let peak = a.shots[0].traces.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = a.shots[0].traces.iter().zip(&b.shots[0].traces).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    assert!(peak > 0.0 && diff <= 1e-6 * peak, "difference {diff} vs peak {peak}");
    // a wavelet file with a bad value names the file and the value
    write(&dir, "bad.txt", "0.0\n1.5\nabc\n");
    let bad = scenario_with(
        &dir,
        "bad.toml",
        "wavelet = { ricker = { peak_frequency = 10.0 } }",
        "wavelet = { file = { path = \"bad.txt\", dt = 0.001 } }",
    );
    expect_user_error(&["forward", s(&bad), "--out", s(&dir.path().join("x.h5"))], "`abc` is not a number");
}

#[test]
fn coarse_grids_warn_about_dispersion() {
    let dir = tempfile::tempdir().unwrap();
    let coarse = scenario_with(&dir, "coarse.toml", "peak_frequency = 10.0", "peak_frequency = 60.0");
    let output = pdeinv(&["forward", s(&coarse), "--out", s(&dir.path().join("d.h5"))]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.lines().any(|l| l.starts_with("warning: ") && l.contains("points per shortest wavelength")),
        "{stderr}"
    );
    let fine = write(&dir, "fine.toml", SCENARIO);
    let output = pdeinv(&["forward", s(&fine), "--out", s(&dir.path().join("e.h5"))]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("warning:"));
}
