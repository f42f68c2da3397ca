//! Helpers shared by the binary's integration tests: running `pdeinv`,
//! asserting success or a one-line user error, and a tiny scenario.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

/// A tiny acoustic scenario: 30 x 40 points, 50 steps, order 4, thin CPML.
pub const SCENARIO: &str = r#"
[problem]
physics = "acoustic"
dimension = 2

[grid]
shape = [30, 40]
spacing = [10.0, 10.0]

[model.true]
camembert = { background = 2000.0, anomaly = 2400.0, center = [150.0, 200.0], radius = 60.0 }

[model.initial]
constant = 2000.0

[time]
nt = 50

[source]
wavelet = { ricker = { peak_frequency = 10.0 } }
positions = { line = { z = 20.0, x = [100.0, 300.0], count = 2 } }

[receivers]
positions = { line = { z = 20.0, x = [0.0, 390.0], count = 14 } }

[solver]
space_order = 4
boundary = { cpml = { width = 10 } }
"#;

/// The 8-byte signature every PNG file starts with.
pub const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// The binary, ready for arguments. HDF5's file locking is off in it: a
/// test thread writing an HDF5 file in this process while another thread
/// starts a child hands that child the open file, and its lock with it, for
/// the child's whole life (HDF5 opens files without close-on-exec), so a
/// third child opening the file found it locked (`errno = 11`), about one
/// run in twenty of this suite. The binary's own writes are atomic
/// (temporary file, then rename); nothing here relies on the lock.
pub fn pdeinv_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pdeinv"));
    command.env("HDF5_USE_FILE_LOCKING", "FALSE");
    command
}

/// Run the binary with `args`.
pub fn pdeinv(args: &[&str]) -> Output {
    pdeinv_command().args(args).output().expect("cannot start the pdeinv binary")
}

/// Run the binary and assert it succeeded; returns its stdout.
pub fn expect_success(args: &[&str]) -> String {
    let output = pdeinv(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "pdeinv {args:?} failed with {:?}: {stderr}", output.status.code());
    assert!(!stderr.contains("panicked"), "pdeinv {args:?}: {stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Run the binary and assert a user error: exit code 2, and stderr exactly
/// one non-empty line that starts with `error: ` and contains `needle`.
pub fn expect_user_error(args: &[&str], needle: &str) {
    let output = pdeinv(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "pdeinv {args:?}: expected exit code 2; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "pdeinv {args:?} panicked: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "pdeinv {args:?}: expected one line on stderr, got {}: {stderr}", lines.len());
    let line = lines[0];
    assert!(line.starts_with("error: ") && line.len() > "error: ".len(), "pdeinv {args:?}: {line}");
    assert!(line.contains(needle), "pdeinv {args:?}: expected {needle:?} in: {line}");
}

/// `path` as a `&str` (temporary paths are UTF-8).
pub fn s(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Write `text` to `dir/name` and return the path.
pub fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The tiny scenario with `from` replaced by `to` (which must occur).
pub fn scenario_with(dir: &TempDir, name: &str, from: &str, to: &str) -> PathBuf {
    assert!(SCENARIO.contains(from), "{from:?} is not in the test scenario");
    write(dir, name, &SCENARIO.replace(from, to))
}

/// Assert that `path` holds a PNG image of some substance.
pub fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.len() > 1000 && bytes.starts_with(&PNG_SIGNATURE), "{} is not a PNG", path.display());
}
