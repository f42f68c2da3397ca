//! `pdeinv forward`: synthetic shot gathers from the scenario's true model.
use crate::Output;
use anyhow::Result;

/// Arguments of `forward`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run.
pub fn run(_args: Args, _out: Output) -> Result<()> {
    Ok(())
}
