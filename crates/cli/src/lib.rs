//! The `pdeinv` command line. Parses arguments with clap, validates, calls the
//! libraries, shows progress, prints results, and maps failures to exit
//! codes: 2 with one `error: ...` line for bad input, 1 for an internal
//! failure. The only crate that prints or exits.

mod commands;
mod progress;

use clap::{Parser, Subcommand};
use pdeinv_forward::subnormal::Subnormals;
use std::process::ExitCode;

/// Adjoint-method PDE inversion: forward modelling, gradients, inversion.
#[derive(Debug, Parser)]
#[command(name = "pdeinv", version, about, long_about = None)]
pub struct Cli {
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// Print nothing but results and errors.
    #[arg(long, global = true)]
    quiet: bool,
    /// More detail (warnings are always shown).
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Subnormal floats (below 1.2e-38 in f32) in the worker threads:
    /// flush them to zero (as Devito does) or keep IEEE gradual underflow
    /// (a gradient took 2.8x as long that way on an Intel Xeon).
    #[arg(long, global = true, value_enum, default_value_t = SubnormalMode::Flush)]
    subnormals: SubnormalMode,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Synthesise shot gathers from the scenario's true model.
    Forward(commands::forward::Args),
    /// Least-squares misfit of a model against recorded data.
    Misfit(commands::gradient::MisfitArgs),
    /// Gradient of the misfit by the exact discrete adjoint.
    Gradient(commands::gradient::GradientArgs),
    /// Full-waveform inversion: recover the velocity model from the data.
    Invert(commands::invert::Args),
    /// Posterior sampling (MALA) of a zoned diffusivity: chain, mean, std.
    Sample(commands::sample::Args),
    /// One gradient per checkpointing strategy: memory against recomputation.
    CheckpointBench(commands::checkpoint::Args),
    /// Import, build or smooth velocity models.
    #[command(subcommand)]
    Model(commands::model::ModelCommand),
    /// Draw a PNG of a model, gradient or shot gather from an HDF5 file.
    Plot(commands::plot::Args),
    /// Measure solver throughput.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

/// `--subnormals`: see [`pdeinv_forward::subnormal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SubnormalMode {
    /// Flush subnormal results and inputs to zero.
    Flush,
    /// IEEE 754 gradual underflow.
    Keep,
}

impl From<SubnormalMode> for Subnormals {
    fn from(mode: SubnormalMode) -> Self {
        match mode {
            SubnormalMode::Flush => Subnormals::Flush,
            SubnormalMode::Keep => Subnormals::Keep,
        }
    }
}

/// Sets the calling thread's handling of subnormal numbers.
#[allow(unsafe_code)]
fn set_subnormals(mode: Subnormals) {
    // SAFETY: the threads that run this binary's commands compute nothing
    // whose memory safety depends on values below 2^-126 (see
    // `pdeinv_forward::subnormal`); flushing them is the documented
    // default of `--subnormals`.
    unsafe { pdeinv_forward::subnormal::set_on_this_thread(mode) };
}

/// Output settings shared by all commands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    pub quiet: bool,
    pub verbose: bool,
}

/// A mistake in the user's input: exit code 2.
#[derive(Debug)]
pub(crate) struct UserError(pub String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// Whether an error chain comes from the user's input.
fn is_user_error(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.is::<UserError>()
            || e.is::<pdeinv_io::IoError>()
            || e.is::<pdeinv_forward::ForwardError>()
            || e.is::<pdeinv_grid::GridError>()
            // the checkpoint directory is missing, unwritable or full
            || e.downcast_ref::<pdeinv_adjoint::DriverError>()
                .is_some_and(|d| matches!(d, pdeinv_adjoint::DriverError::Disk { .. }))
    })
}

/// Entry point of the binary.
pub fn main() -> ! {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("error: internal failure{place}: {msg} (please report this)");
    }));
    let code = match std::panic::catch_unwind(run) {
        Ok(code) => code,
        Err(_) => ExitCode::from(1),
    };
    std::process::exit(if code == ExitCode::SUCCESS {
        0
    } else if code == ExitCode::from(2) {
        2
    } else {
        1
    })
}

fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // one line: clap's first line, which names the argument and the problem
            let rendered = e.render().to_string();
            let first = rendered.lines().find(|l| !l.trim().is_empty()).unwrap_or("error: invalid arguments");
            let line = if first.starts_with("error:") { first.to_string() } else { format!("error: {first}") };
            // and what would be valid, where clap lists it on a later line
            let valid = rendered.lines().map(str::trim).find(|l| l.starts_with("[possible values:"));
            let valid = valid.map(|v| format!(" {v}")).unwrap_or_default();
            eprintln!("{line}{valid} (see --help)");
            return ExitCode::from(2);
        }
    };
    if cli.threads == Some(0) {
        eprintln!("error: --threads 0 is invalid; give a positive number of threads");
        return ExitCode::from(2);
    }
    // Commands run inside the pool, so the time loops drive their parallel
    // sweeps from a worker thread: no wake-up hand-off at every step.
    // Every thread that computes runs in the same floating-point mode, so
    // results do not depend on which thread ran what.
    let subnormals = Subnormals::from(cli.subnormals);
    set_subnormals(subnormals);
    let mut builder = rayon::ThreadPoolBuilder::new().start_handler(move |_| set_subnormals(subnormals));
    if let Some(threads) = cli.threads {
        builder = builder.num_threads(threads);
    }
    let pool = match builder.build() {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("error: cannot start the worker threads: {e}");
            return ExitCode::from(1);
        }
    };
    let out = Output { quiet: cli.quiet, verbose: cli.verbose };
    let result = pool.install(|| match cli.command {
        Command::Forward(args) => commands::forward::run(args, out),
        Command::Misfit(args) => commands::gradient::run_misfit(args, out),
        Command::Gradient(args) => commands::gradient::run_gradient(args, out),
        Command::Invert(args) => commands::invert::run(args, out),
        Command::Sample(args) => commands::sample::run(args, out),
        Command::CheckpointBench(args) => commands::checkpoint::run(args, out),
        Command::Model(cmd) => commands::model::run(cmd, out),
        Command::Plot(args) => commands::plot::run(args, out),
        Command::Bench(cmd) => commands::bench::run(cmd, out),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = e.chain().map(|c| c.to_string()).collect::<Vec<_>>();
            // one line: the outermost context, then causes not already contained in it
            let mut line = message[0].clone();
            for cause in &message[1..] {
                if !line.contains(cause.as_str()) {
                    line.push_str(": ");
                    line.push_str(cause);
                }
            }
            eprintln!("error: {}", line.replace('\n', " "));
            if is_user_error(&e) { ExitCode::from(2) } else { ExitCode::from(1) }
        }
    }
}
