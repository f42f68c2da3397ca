//! `pdeinv model`.
use crate::Output;
use anyhow::Result;

/// Model subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ModelCommand {
    /// Placeholder.
    Smooth,
}

/// Run.
pub fn run(_cmd: ModelCommand, _out: Output) -> Result<()> {
    Ok(())
}
