//! Peak resident memory of a checkpointed gradient on a 1000 x 1000 grid
//! (Linux only: read from `/proc/self/status` by `pdeinv -v gradient`):
//! going from 2 to 10 binomial snapshots adds exactly eight states of
//! memory (within 10 %), and the whole process stays within the checkpoint
//! formula `s · state_bytes` plus a working set of ten states (the model
//! arrays, the current forward state, the adjoint fields and the gradient),
//! plus 10 %, plus the data.

mod common;

use common::*;
use tempfile::TempDir;

const BIG: &str = r#"
[problem]
physics = "acoustic"
dimension = 2
[grid]
shape = [1000, 1000]
spacing = [10.0, 10.0]
[model.true]
constant = 2000.0
[model.initial]
constant = 2100.0
[time]
nt = 150
[source]
wavelet = { ricker = { peak_frequency = 10.0 } }
positions = { points = [[50.0, 5000.0]] }
[receivers]
positions = { line = { z = 60.0, x = [0.0, 9990.0], count = 100 } }
[solver]
space_order = 8
[checkpointing]
strategy = { binomial = { snapshots = SNAPSHOTS } }
"#;

/// `(peak checkpoint bytes, peak resident bytes)` of a gradient run.
fn gradient_memory(dir: &TempDir, snapshots: usize) -> (u64, u64) {
    let scenario = write(dir, &format!("s{snapshots}.toml"), &BIG.replace("SNAPSHOTS", &snapshots.to_string()));
    let (data, model, out) = (dir.path().join("d.h5"), dir.path().join("m.h5"), dir.path().join("g.h5"));
    if !data.exists() {
        expect_success(&["--quiet", "forward", s(&scenario), "--out", s(&data)]);
        expect_success(&["--quiet", "model", "build", s(&scenario), "--which", "initial", "-o", s(&model)]);
    }
    let stdout =
        expect_success(&["-v", "gradient", s(&scenario), "--model", s(&model), "--data", s(&data), "--out", s(&out)]);
    let number_after = |needle: &str| -> u64 {
        let line = stdout.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in {stdout}"));
        let rest = &line[line.find(needle).unwrap() + needle.len()..];
        rest.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{line}"))
    };
    (number_after("peak checkpoint memory "), number_after("peak resident memory = "))
}

#[test]
fn peak_resident_memory_follows_the_checkpoint_formula() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let dir = TempDir::new().unwrap();
    let (checkpoints_2, resident_2) = gradient_memory(&dir, 2);
    let (checkpoints_10, resident_10) = gradient_memory(&dir, 10);
    let state = checkpoints_10 / 10;
    assert_eq!(checkpoints_2, 2 * state, "two snapshots hold two states");
    let growth = resident_10 as f64 - resident_2 as f64;
    let expected = (checkpoints_10 - checkpoints_2) as f64;
    assert!((growth / expected - 1.0).abs() < 0.1, "RSS grew by {growth} bytes for {expected} bytes of snapshots");
    // data: observed and residual traces, nt x nrec, f64 and f32
    let data = 150 * 100 * (8 + 4) as u64;
    let bound = 1.1 * (checkpoints_10 + 10 * state) as f64 + data as f64;
    assert!(
        (resident_10 as f64) < bound,
        "peak RSS {resident_10} bytes above {bound} (10 snapshots of {state} bytes + a working set of 10 states, +10 %, + data)"
    );
    eprintln!("state {state} B; peak RSS {resident_2} B with 2 snapshots, {resident_10} B with 10; bound {bound:.0} B");
}
