//! Progress reporting: an indicatif bar on a terminal, plain log lines
//! (every 10 %) otherwise, nothing with `--quiet`. Safe to advance from
//! several threads.

use crate::Output;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

/// A progress report over `total` steps.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    total: u64,
    done: AtomicU64,
    plain: bool,
}

impl Progress {
    /// Start reporting `total` steps of `label`.
    pub fn new(out: Output, label: &str, total: u64) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!out.quiet && terminal).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} steps, {per_sec}, eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(label.to_string());
            bar
        });
        Progress { bar, label: label.to_string(), total, done: AtomicU64::new(0), plain: !out.quiet && !terminal }
    }

    /// Count one more step.
    pub fn step(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            if done.is_multiple_of(64) || done == self.total {
                bar.set_position(done);
            }
        } else if self.plain {
            let tenth = (self.total / 10).max(1);
            if done.is_multiple_of(tenth) || done == self.total {
                eprintln!(
                    "{}: {done}/{} steps ({:.0} %)",
                    self.label,
                    self.total,
                    100.0 * done as f64 / self.total.max(1) as f64
                );
            }
        }
    }

    /// Finish the report.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
