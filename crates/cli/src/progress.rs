//! Progress reporting: an indicatif bar on a terminal, plain log lines
//! (every 10 %) otherwise, nothing with `--quiet`.

use crate::Output;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// A progress report over `total` steps.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    total: u64,
    done: u64,
    next_log: u64,
    plain: bool,
}

impl Progress {
    /// Start reporting `total` steps of `label`.
    pub fn new(out: Output, label: &str, total: u64) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!out.quiet && terminal).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(label.to_string());
            bar
        });
        Progress { bar, label: label.to_string(), total, done: 0, next_log: 0, plain: !out.quiet && !terminal }
    }

    /// Count `n` more steps.
    pub fn inc(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
        } else if self.plain && self.done >= self.next_log {
            eprintln!(
                "{}: {}/{} ({:.0} %)",
                self.label,
                self.done,
                self.total,
                100.0 * self.done as f64 / self.total.max(1) as f64
            );
            self.next_log = self.done + (self.total / 10).max(1);
        }
    }

    /// Finish the report.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
