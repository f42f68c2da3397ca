//! Checkpointing strategies as the user names them, turned into schedules.

use crate::schedule::Schedule;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A directory for disk checkpoints, as a `Copy` handle (so that [`Strategy`] stays `Copy`).
///
/// The path is interned: each distinct path is allocated once for the life of the process (a scenario names one
/// directory, so this is a few bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DiskDir(&'static Path);

impl DiskDir {
    /// The handle of `path`.
    pub fn new(path: impl Into<PathBuf>) -> DiskDir {
        static INTERNED: Mutex<Vec<&'static Path>> = Mutex::new(Vec::new());
        let path = path.into();
        let mut interned = INTERNED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(&known) = interned.iter().find(|p| **p == path) {
            return DiskDir(known);
        }
        let leaked: &'static Path = Box::leak(path.into_boxed_path());
        interned.push(leaked);
        DiskDir(leaked)
    }

    /// The directory.
    pub fn path(&self) -> &'static Path {
        self.0
    }
}

/// How the forward states needed by the adjoint sweep are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Keep every state: no recomputation, the most memory.
    StoreAll,
    /// Keep every `every`-th state; recompute each segment once.
    Periodic {
        /// Steps between checkpoints.
        every: usize,
    },
    /// Griewank's optimal binomial schedule (Revolve) with `snapshots` slots.
    Binomial {
        /// Checkpoint slots.
        snapshots: usize,
    },
    /// The binomial schedule with `ram + disk` slots, `disk` of them (the longest-lived) kept as files in `dir`
    /// (the system temporary directory when `None`) and `ram` in memory.
    TwoLevel {
        /// Checkpoint slots in RAM (may be 0).
        ram: usize,
        /// Checkpoint slots on disk (at least 1).
        disk: usize,
        /// Directory for the disk slots (a private subdirectory is created inside it).
        dir: Option<DiskDir>,
    },
    /// Keep the final state and, every step, the boundary ring and absorbing
    /// layer; rebuild the forward field backwards during the adjoint sweep
    /// ([`crate::gradient_boundary_saving`]; acoustic only).
    BoundarySaving,
}

impl Strategy {
    /// The schedule reversing `steps` time steps.
    pub fn schedule(&self, steps: usize) -> Schedule {
        match *self {
            Strategy::StoreAll => Schedule::store_all(steps),
            Strategy::Periodic { every } => Schedule::periodic(steps, every.max(1)),
            Strategy::Binomial { snapshots } => Schedule::binomial(steps, snapshots.max(1)),
            Strategy::TwoLevel { ram, disk, dir } => {
                Schedule::two_level(steps, ram, disk).with_disk_dir(dir.map(|d| d.path().to_path_buf()))
            }
            // boundary saving runs no checkpoint schedule: its callers use
            // `gradient_boundary_saving`; the store-all schedule only serves
            // as a valid stand-in for step counts
            Strategy::BoundarySaving => Schedule::store_all(steps),
        }
    }

    /// A short name for tables (`store-all`, `periodic:50`, `binomial:30`, `two-level:4:2`).
    pub fn label(&self) -> String {
        match *self {
            Strategy::StoreAll => "store-all".into(),
            Strategy::Periodic { every } => format!("periodic:{every}"),
            Strategy::Binomial { snapshots } => format!("binomial:{snapshots}"),
            Strategy::TwoLevel { ram, disk, .. } => format!("two-level:{ram}:{disk}"),
            Strategy::BoundarySaving => "boundary-saving".into(),
        }
    }
}

/// Cost model of a gradient run on this machine: seconds per forward step
/// and seconds per byte copied into a fresh checkpoint (first touch of new
/// memory dominates: measured about 2 ns/byte here, see the issue notes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel {
    /// Seconds of one forward step.
    pub step_seconds: f64,
    /// Seconds per byte stored in a checkpoint.
    pub store_seconds_per_byte: f64,
}

impl CostModel {
    /// The model for a state of `cells` grid cells: forward steps at about
    /// 1.5e9 cells per second, stores at 2e-9 s per byte.
    pub fn for_cells(cells: usize) -> Self {
        CostModel { step_seconds: cells as f64 / 1.5e9, store_seconds_per_byte: 2e-9 }
    }
}

/// A strategy chosen for a memory budget, with its predicted cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// The chosen strategy.
    pub strategy: Strategy,
    /// Predicted peak checkpoint memory (bytes).
    pub memory_bytes: usize,
    /// Predicted forward steps beyond the first sweep.
    pub recomputed_steps: usize,
    /// Predicted seconds spent in forward steps and checkpoint stores.
    pub seconds: f64,
}

/// The fastest of store-all, periodic and binomial whose checkpoints fit in
/// `budget_bytes`, for `steps` steps of states of `state_bytes` each, where a
/// checkpoint only reversals read takes `adjoint_bytes`
/// ([`Schedule::reverse_only_stores`](crate::Schedule::reverse_only_stores));
/// `None` when nothing fits.
pub fn plan_for_budget(
    steps: usize,
    state_bytes: usize,
    adjoint_bytes: usize,
    budget_bytes: usize,
    cost: CostModel,
) -> Option<Plan> {
    let slots = budget_bytes / state_bytes.max(1);
    // store-all first: on a tie it is the simplest
    let mut candidates = vec![Strategy::StoreAll];
    if slots > 0 {
        candidates.push(Strategy::Binomial { snapshots: slots.min(steps.max(1)) });
    }
    // periodic with the smallest period whose checkpoints and segment buffer fit
    if let Some(every) = (1..=steps.max(1)).find(|&e| {
        Strategy::Periodic { every: e }.schedule(steps).peak_ram_bytes(state_bytes, adjoint_bytes) <= budget_bytes
    }) {
        candidates.push(Strategy::Periodic { every });
    }
    candidates
        .into_iter()
        .map(|strategy| {
            let schedule = strategy.schedule(steps);
            Plan {
                strategy,
                memory_bytes: schedule.peak_ram_bytes(state_bytes, adjoint_bytes),
                recomputed_steps: schedule.recomputed_steps(),
                seconds: schedule.forward_steps() as f64 * cost.step_seconds
                    + schedule.stored_bytes(state_bytes, adjoint_bytes) as f64 * cost.store_seconds_per_byte,
            }
        })
        .filter(|p| p.memory_bytes <= budget_bytes)
        .min_by(|a, b| a.seconds.total_cmp(&b.seconds))
}

/// Parse a memory size: `2GiB`, `512MiB`, `1.5GB`, `100MB`, `64KiB`, `1000B`
/// or a plain number of bytes.
pub fn parse_bytes(text: &str) -> Option<usize> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024f64.powi(4),
        _ => return None,
    };
    let bytes = value * scale;
    (bytes.is_finite() && bytes >= 1.0).then_some(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_bytes("2GiB"), Some(2 << 30));
        assert_eq!(parse_bytes("1.5GB"), Some(1_500_000_000));
        assert_eq!(parse_bytes("100 MB"), Some(100_000_000));
        assert_eq!(parse_bytes("4096"), Some(4096));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("2 parsecs"), None);
    }

    #[test]
    fn the_plan_fits_the_budget_and_prefers_less_work() {
        let cost = CostModel { step_seconds: 1e-3, store_seconds_per_byte: 0.0 };
        // everything fits: store-all recomputes nothing
        let plan = plan_for_budget(100, 1000, 1000, 1_000_000, cost).unwrap();
        assert_eq!(plan.strategy, Strategy::StoreAll);
        assert_eq!(plan.recomputed_steps, 0);
        // ten states fit: binomial with ten slots beats periodic
        let plan = plan_for_budget(1000, 1000, 1000, 10_000, cost).unwrap();
        assert_eq!(plan.strategy, Strategy::Binomial { snapshots: 10 });
        assert!(plan.memory_bytes <= 10_000);
        assert_eq!(plan.recomputed_steps, crate::schedule::optimal_forward_steps(1000, 10) - 999);
        // when stores are expensive, fewer of them win even if all fit
        let costly = CostModel { step_seconds: 1e-6, store_seconds_per_byte: 1e-3 };
        let plan = plan_for_budget(100, 1000, 1000, 1_000_000, costly).unwrap();
        assert_ne!(plan.strategy, Strategy::StoreAll);
        assert!(plan_for_budget(100, 1000, 1000, 999, cost).is_none());
        // store-all keeps only what the adjoint reads: it fits where full states would not
        let plan = plan_for_budget(100, 1000, 400, 50_000, cost).unwrap();
        assert_eq!(plan.strategy, Strategy::StoreAll);
        assert_eq!(plan.memory_bytes, 100 * 400);
    }

    #[test]
    fn two_level_names_its_slots_and_directory() {
        let dir = DiskDir::new("/tmp/x");
        assert_eq!(dir, DiskDir::new(PathBuf::from("/tmp/x")));
        assert!(std::ptr::eq(dir.path(), DiskDir::new("/tmp/x").path()));
        let strategy = Strategy::TwoLevel { ram: 2, disk: 3, dir: Some(dir) };
        assert_eq!(strategy.label(), "two-level:2:3");
        let schedule = strategy.schedule(100);
        assert_eq!(schedule.actions, Schedule::binomial(100, 5).actions);
        assert_eq!(schedule.disk_slots, 3);
        assert_eq!(schedule.disk_dir.as_deref(), Some(Path::new("/tmp/x")));
        assert_eq!(Strategy::TwoLevel { ram: 2, disk: 3, dir: None }.schedule(100).disk_dir, None);
    }
}
