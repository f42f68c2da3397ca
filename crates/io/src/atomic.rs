//! Atomic output: every file pdeinv writes is first written to a temporary
//! file in the same directory and then renamed over the target, so a reader
//! (or a killed run) never sees a half-written file.

use crate::error::IoError;
use std::path::{Path, PathBuf};

/// The temporary path used while `target` is being written.
pub fn temporary_path(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Write `target` atomically: `write` fills the temporary path it is given,
/// then the temporary file is renamed over `target`. On failure the
/// temporary file is removed and `target` is left as it was.
pub fn write_atomically<T>(target: &Path, write: impl FnOnce(&Path) -> Result<T, IoError>) -> Result<T, IoError> {
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(IoError::format(target, format!("the directory {} does not exist", dir.display())));
    }
    let temporary = temporary_path(target);
    match write(&temporary) {
        Ok(value) => {
            std::fs::rename(&temporary, target).map_err(|e| {
                let _ = std::fs::remove_file(&temporary);
                IoError::file(target, "cannot move the finished file into place", e)
            })?;
            Ok(value)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(e)
        }
    }
}

/// Write bytes atomically.
pub fn write_bytes_atomically(target: &Path, bytes: &[u8]) -> Result<(), IoError> {
    write_atomically(target, |tmp| std::fs::write(tmp, bytes).map_err(|e| IoError::file(target, "cannot write", e)))
}
