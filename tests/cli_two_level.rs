//! End-to-end tests of the two-level (RAM + disk) checkpoint strategy in
//! `pdeinv gradient`: the gradient equals store-all's and the checkpoint
//! directory (relative to the scenario file) is left empty; a missing
//! directory is a one-line user error naming it.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// Data from the tiny scenario's true model and its starting model (written with the plain scenario).
fn data_and_start(dir: &TempDir) -> (PathBuf, PathBuf) {
    let scenario = write(dir, "plain.toml", SCENARIO);
    let data = dir.path().join("d.h5");
    let start = dir.path().join("m0.h5");
    expect_success(&["forward", s(&scenario), "--out", s(&data), "--quiet"]);
    expect_success(&["model", "build", s(&scenario), "--which", "initial", "-o", s(&start), "--quiet"]);
    (data, start)
}

fn with_strategy(dir: &TempDir, name: &str, strategy: &str) -> PathBuf {
    scenario_with(dir, name, "[solver]", &format!("[checkpointing]\nstrategy = {strategy}\n\n[solver]"))
}

fn gradient_values(path: &Path) -> Vec<f64> {
    hdf5::File::open(path).unwrap().dataset("gradient").unwrap().read_raw::<f64>().unwrap()
}

#[test]
fn two_level_gradient_equals_store_all_and_leaves_the_directory_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (data, start) = data_and_start(&dir);
    std::fs::create_dir(dir.path().join("ckpt")).unwrap();
    let two_level = with_strategy(&dir, "two.toml", r#"{ two-level = { ram = 1, disk = 2, dir = "ckpt" } }"#);
    let store_all = with_strategy(&dir, "all.toml", r#""store-all""#);
    let (g2, ga) = (dir.path().join("g2.h5"), dir.path().join("ga.h5"));
    for (scenario, out) in [(&two_level, &g2), (&store_all, &ga)] {
        expect_success(&[
            "gradient",
            s(scenario),
            "--model",
            s(&start),
            "--data",
            s(&data),
            "--out",
            s(out),
            "--quiet",
        ]);
    }
    let (a, b) = (gradient_values(&g2), gradient_values(&ga));
    assert_eq!(a.len(), b.len());
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()), "two-level and store-all gradients differ");
    assert!(a.iter().any(|&g| g != 0.0));
    let left: Vec<_> = std::fs::read_dir(dir.path().join("ckpt")).unwrap().collect();
    assert!(left.is_empty(), "checkpoint files left behind: {left:?}");
}

#[test]
fn a_missing_checkpoint_directory_is_a_user_error() {
    let dir = tempfile::tempdir().unwrap();
    let (data, start) = data_and_start(&dir);
    let scenario = with_strategy(&dir, "bad.toml", r#"{ two-level = { ram = 1, disk = 2, dir = "no-such-dir" } }"#);
    let out = dir.path().join("g.h5");
    expect_user_error(
        &["gradient", s(&scenario), "--model", s(&start), "--data", s(&data), "--out", s(&out)],
        "no-such-dir",
    );
    assert!(!out.exists());
}

#[test]
fn two_level_table_values_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (data, start) = data_and_start(&dir);
    let out = dir.path().join("g.h5");
    for (strategy, needle) in [
        ("{ two-level = { ram = 1, disk = 0 } }", "two-level.disk must be a positive integer"),
        ("{ two-level = { ram = -1, disk = 2 } }", "two-level.ram must be an integer >= 0"),
        ("{ two-level = { ram = 1, disk = 2, where = \"x\" } }", "two-level.where"),
        ("{ two-level = { ram = 1, disk = 2, dir = 3 } }", "must be a string"),
        ("{ three-level = { ram = 1 } }", "two-level = { ram = S, disk = D"),
    ] {
        let scenario = with_strategy(&dir, "bad.toml", strategy);
        expect_user_error(
            &["gradient", s(&scenario), "--model", s(&start), "--data", s(&data), "--out", s(&out)],
            needle,
        );
    }
    // a scenario-relative directory that exists but is a file
    std::fs::write(dir.path().join("afile"), b"x").unwrap();
    let scenario = with_strategy(&dir, "file.toml", r#"{ two-level = { ram = 0, disk = 1, dir = "afile" } }"#);
    expect_user_error(
        &["gradient", s(&scenario), "--model", s(&start), "--data", s(&data), "--out", s(&out)],
        "afile is not a directory",
    );
}

#[test]
fn checkpoint_bench_runs_two_level_with_the_store_all_gradient() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(&dir, "s.toml", SCENARIO);
    let csv = dir.path().join("bench.csv");
    expect_success(&[
        "checkpoint-bench",
        s(&scenario),
        "--strategies",
        "store-all,two-level:2:2,two-level:0:1",
        "--csv",
        s(&csv),
        "--quiet",
    ]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{text}");
    for row in &rows[1..] {
        assert!(row[0].starts_with("two-level:"), "{text}");
        assert_eq!(row[5].parse::<f64>().unwrap(), 0.0, "{text}");
        assert!(row[3].parse::<usize>().unwrap() > 0, "two-level recomputes: {text}");
    }
    // RAM bytes: none for two-level:0:1
    assert_eq!(rows[2][2], "0", "{text}");
}
