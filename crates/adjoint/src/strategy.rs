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

/// Cost model of a gradient run on this machine: seconds per forward step,
/// per byte copied into a checkpoint, and per byte of checkpoint memory
/// held at the peak (the first touch of fresh memory: the kernel zeroes and
/// maps every page, which on this machine costs far more than streaming the
/// same bytes through a step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel {
    /// Seconds of one forward step.
    pub step_seconds: f64,
    /// Seconds per byte stored in a checkpoint.
    pub store_seconds_per_byte: f64,
    /// Seconds per byte of checkpoint memory at the peak, charged once.
    pub memory_seconds_per_byte: f64,
}

impl CostModel {
    /// The model for a state of `cells` grid cells, estimated by hand from
    /// `pdeinv checkpoint-bench benches/scenarios/gradient-600.toml` over
    /// store-all, periodic and binomial with 7 to 450 snapshots on this
    /// 2-core machine: forward steps at about 3e9 cells per second, copies
    /// at 5e-11 s per byte, and 3e-10 s per byte of checkpoint memory (the
    /// run with 450 full states, 1.8 GB, took 1.3 s against 0.46 s with 30;
    /// store-all, 1.7 GB, 1.1-1.5 s).
    pub fn for_cells(cells: usize) -> Self {
        CostModel { step_seconds: cells as f64 / 3e9, store_seconds_per_byte: 5e-11, memory_seconds_per_byte: 3e-10 }
    }

    /// Predicted seconds of `schedule`'s forward steps, stores and
    /// checkpoint memory, with states of `state_bytes` and reverse-only
    /// copies of `adjoint_bytes`.
    pub fn seconds(&self, schedule: &Schedule, state_bytes: usize, adjoint_bytes: usize) -> f64 {
        schedule.forward_steps() as f64 * self.step_seconds
            + schedule.stored_bytes(state_bytes, adjoint_bytes) as f64 * self.store_seconds_per_byte
            + schedule.peak_ram_bytes(state_bytes, adjoint_bytes) as f64 * self.memory_seconds_per_byte
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
    /// Predicted seconds of forward steps, checkpoint stores and checkpoint memory ([`CostModel::seconds`]).
    pub seconds: f64,
}

/// `1, 2, 3, 4, 6, 8, 11, 16, …` (steps of about √2) up to `max`, and `max`.
fn geometric_up_to(max: usize) -> Vec<usize> {
    let mut values = Vec::new();
    let mut value = 1.0f64;
    while (value.round() as usize) < max {
        let v = value.round() as usize;
        if values.last() != Some(&v) {
            values.push(v);
        }
        value *= std::f64::consts::SQRT_2;
    }
    values.push(max.max(1));
    values
}

/// The fastest under `cost` of store-all, periodic and binomial schedules
/// whose checkpoints fit in `budget_bytes`, for `steps` steps of states of
/// `state_bytes` each, where a checkpoint only reversals read takes
/// `adjoint_bytes` ([`Schedule::reverse_only_stores`](crate::Schedule::reverse_only_stores));
/// `None` when nothing fits. Memory is not free: with a cost on it, fewer
/// snapshots than fit may win. The candidates are binomial with 1, 2, 3,
/// 4, 6, 8, … snapshots (steps of about √2) up to as many full states as
/// fit, and periodic with periods of the same sequence from the smallest
/// whose checkpoints fit.
pub fn plan_for_budget(
    steps: usize,
    state_bytes: usize,
    adjoint_bytes: usize,
    budget_bytes: usize,
    cost: CostModel,
) -> Option<Plan> {
    let slots = (budget_bytes / state_bytes.max(1)).min(steps.max(1));
    // store-all first: on a tie it is the simplest
    let mut candidates = vec![Strategy::StoreAll];
    if slots > 0 {
        candidates.extend(geometric_up_to(slots).into_iter().map(|snapshots| Strategy::Binomial { snapshots }));
    }
    // periodic from the smallest period whose checkpoints and segment buffer fit
    if let Some(smallest) = (1..=steps.max(1)).find(|&e| {
        Strategy::Periodic { every: e }.schedule(steps).peak_ram_bytes(state_bytes, adjoint_bytes) <= budget_bytes
    }) {
        candidates.extend(
            geometric_up_to(steps.max(1))
                .into_iter()
                .filter(|&every| every > smallest)
                .chain([smallest])
                .map(|every| Strategy::Periodic { every }),
        );
    }
    candidates
        .into_iter()
        .map(|strategy| {
            let schedule = strategy.schedule(steps);
            Plan {
                strategy,
                memory_bytes: schedule.peak_ram_bytes(state_bytes, adjoint_bytes),
                recomputed_steps: schedule.recomputed_steps(),
                seconds: cost.seconds(&schedule, state_bytes, adjoint_bytes),
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
        let cost = CostModel { step_seconds: 1e-3, store_seconds_per_byte: 0.0, memory_seconds_per_byte: 0.0 };
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
        let costly = CostModel { step_seconds: 1e-6, store_seconds_per_byte: 1e-3, memory_seconds_per_byte: 0.0 };
        let plan = plan_for_budget(100, 1000, 1000, 1_000_000, costly).unwrap();
        assert_ne!(plan.strategy, Strategy::StoreAll);
        assert!(plan_for_budget(100, 1000, 1000, 999, cost).is_none());
        // store-all keeps only what the adjoint reads: it fits where full states would not
        let plan = plan_for_budget(100, 1000, 400, 50_000, cost).unwrap();
        assert_eq!(plan.strategy, Strategy::StoreAll);
        assert_eq!(plan.memory_bytes, 100 * 400);
    }

    #[test]
    fn with_a_cost_on_memory_the_plan_holds_fewer_snapshots_than_fit() {
        let (steps, full, compact, budget) = (300, 1000, 400, 200_000);
        // a snapshot held costs as much as a few forward steps
        let cost = CostModel { step_seconds: 1e-3, store_seconds_per_byte: 1e-7, memory_seconds_per_byte: 5e-6 };
        let plan = plan_for_budget(steps, full, compact, budget, cost).unwrap();
        assert!(plan.memory_bytes <= budget);
        let schedule = plan.strategy.schedule(steps);
        assert_eq!(plan.seconds, cost.seconds(&schedule, full, compact));
        assert_eq!(plan.recomputed_steps, schedule.recomputed_steps());
        // store-all and the most snapshots that fit both lose
        assert_ne!(plan.strategy, Strategy::StoreAll);
        assert_ne!(plan.strategy, Strategy::Binomial { snapshots: budget / full });
        // within 5 % of the best of every binomial and periodic schedule that fits
        let best = (1..=budget / full)
            .map(|snapshots| Strategy::Binomial { snapshots })
            .chain((1..=steps).map(|every| Strategy::Periodic { every }))
            .map(|strategy| strategy.schedule(steps))
            .filter(|schedule| schedule.peak_ram_bytes(full, compact) <= budget)
            .map(|schedule| cost.seconds(&schedule, full, compact))
            .fold(f64::INFINITY, f64::min);
        assert!(plan.seconds <= 1.05 * best, "{plan:?} against the best {best}");
        // free memory: store-all, which fits (reverse-only copies), recomputes nothing
        let free = CostModel { memory_seconds_per_byte: 0.0, store_seconds_per_byte: 0.0, ..cost };
        let plan = plan_for_budget(steps, full, compact, budget, free).unwrap();
        assert_eq!((plan.strategy, plan.recomputed_steps), (Strategy::StoreAll, 0));
    }

    #[test]
    fn candidate_counts_grow_by_about_the_square_root_of_two() {
        assert_eq!(geometric_up_to(1), vec![1]);
        assert_eq!(geometric_up_to(20), vec![1, 2, 3, 4, 6, 8, 11, 16, 20]);
        assert_eq!(geometric_up_to(16), vec![1, 2, 3, 4, 6, 8, 11, 16]);
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
