//! Checkpointing strategies as the user names them, turned into schedules.

use crate::schedule::Schedule;

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
}

impl Strategy {
    /// The schedule reversing `steps` time steps.
    pub fn schedule(&self, steps: usize) -> Schedule {
        match *self {
            Strategy::StoreAll => Schedule::store_all(steps),
            Strategy::Periodic { every } => Schedule::periodic(steps, every.max(1)),
            Strategy::Binomial { snapshots } => Schedule::binomial(steps, snapshots.max(1)),
        }
    }

    /// A short name for tables (`store-all`, `periodic:50`, `binomial:30`).
    pub fn label(&self) -> String {
        match *self {
            Strategy::StoreAll => "store-all".into(),
            Strategy::Periodic { every } => format!("periodic:{every}"),
            Strategy::Binomial { snapshots } => format!("binomial:{snapshots}"),
        }
    }
}
