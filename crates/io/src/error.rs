//! The one error type of the io crate. Every variant names the file, key or
//! value at fault and says what would be valid, so the CLI can print it as a
//! single line.

use std::path::{Path, PathBuf};
use thiserror::Error;

/// Errors from reading or writing pdeinv files.
#[derive(Debug, Error)]
pub enum IoError {
    /// A file could not be opened, read, written or renamed.
    #[error("{}: {action}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What was being done ("cannot read", "cannot create", ...).
        action: &'static str,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A file was read but its content is not what it should be.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong and what would be valid.
        message: String,
    },
    /// A scenario value is invalid (the message names the key).
    #[error("{}: {message}", path.display())]
    Scenario {
        /// The scenario file.
        path: PathBuf,
        /// The key, what is wrong and what would be valid.
        message: String,
    },
    /// A command-line value is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The HDF5 library reported a failure.
    #[error("{}: HDF5: {message}", path.display())]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// The library's message.
        message: String,
    },
    /// Drawing a figure failed.
    #[error("{}: cannot draw figure: {message}", path.display())]
    Figure {
        /// The PNG file.
        path: PathBuf,
        /// The plotting library's message.
        message: String,
    },
}

impl IoError {
    /// An [`IoError::File`] for `path`.
    pub fn file(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        IoError::File { path: path.to_path_buf(), action, source }
    }

    /// An [`IoError::Format`] for `path`.
    pub fn format(path: &Path, message: impl Into<String>) -> Self {
        IoError::Format { path: path.to_path_buf(), message: message.into() }
    }
}
