//! `pdeinv plot`.
use crate::Output;
use anyhow::Result;

/// Arguments of `plot`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run.
pub fn run(_args: Args, _out: Output) -> Result<()> {
    Ok(())
}
