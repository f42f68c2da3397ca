//! `pdeinv bench`: solver throughput on a synthetic job, for comparison with
//! the peers' anchor scripts (`../shared/anchors`). The last line is the
//! figure of merit.

use crate::Output;
use crate::UserError;
use anyhow::Result;
use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use pdeinv_forward::acoustic::{AcousticConfig, AcousticModel, AcousticShot, Boundary, PairFusion};
use pdeinv_forward::wavelet::ricker;
use pdeinv_forward::{AdjointPropagator, Parallelism, Propagator, Real};
use pdeinv_grid::{Grid, Interpolation, PointWeights, point_weights};
use std::time::Instant;

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Acoustic forward modelling: prints `Mpts/s = <value>` (model grid
    /// points × steps / wall seconds; the absorbing layer is extra work not counted).
    Forward(ForwardArgs),
    /// The acoustic adjoint step (with the gradient accumulation) against the
    /// forward step on the same job as `bench forward`, timed in interleaved
    /// blocks so that other load on the machine hits both alike: prints
    /// `adjoint/forward = <value>` last.
    Adjoint(AdjointArgs),
    /// Implicit 2D diffusion on the SciPy anchor's problem
    /// (`../shared/anchors/run.sh scipy-diffusion N NT`): prints
    /// `factorisation s = <value>` and `ms/step = <value>` last.
    Diffusion(DiffusionArgs),
}

/// Time scheme of `bench diffusion`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum BenchScheme {
    /// Crank-Nicolson (the anchor's scheme).
    CrankNicolson,
    /// Backward Euler.
    BackwardEuler,
}

/// Arguments of `bench diffusion`.
#[derive(Debug, ClapArgs)]
pub struct DiffusionArgs {
    /// Grid shape `N,N` (the anchor's problem is square).
    #[arg(long, value_parser = parse_shape)]
    shape: [usize; 2],
    /// Time steps.
    #[arg(long)]
    nt: usize,
    /// Time scheme.
    #[arg(long, value_enum, default_value_t = BenchScheme::CrankNicolson)]
    scheme: BenchScheme,
}

/// Floating-point precision of a run.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Precision {
    /// Single precision.
    F32,
    /// Double precision.
    F64,
}

/// Which absorbing layer the benchmark uses.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum BenchBoundary {
    /// Convolutional PML (the default of scenarios).
    Cpml,
    /// Cerjan sponge.
    Sponge,
}

/// Arguments of `bench forward`.
#[derive(Debug, ClapArgs)]
pub struct ForwardArgs {
    /// Grid shape `NZ,NX` (10 m spacing, 2000 m/s).
    #[arg(long, value_parser = parse_shape)]
    shape: [usize; 2],
    /// Time steps.
    #[arg(long)]
    nt: usize,
    /// Space order.
    #[arg(long, default_value_t = 8)]
    order: usize,
    /// Precision.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    precision: Precision,
    /// Absorbing layer.
    #[arg(long, value_enum, default_value_t = BenchBoundary::Cpml)]
    boundary: BenchBoundary,
    /// Absorbing layer width (cells).
    #[arg(long, default_value_t = 20)]
    width: usize,
}

/// Whether `bench adjoint` fuses the reversals in pairs.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum BenchPairFusion {
    /// As a gradient run does: fused where a thread's arrays outgrow the
    /// level-2 cache.
    Auto,
    /// Fused wherever the pair applies.
    Always,
    /// One reversal at a time.
    Never,
}

/// Arguments of `bench adjoint`.
#[derive(Debug, ClapArgs)]
pub struct AdjointArgs {
    #[command(flatten)]
    job: ForwardArgs,
    /// Whether the adjoint steps run fused in pairs (the last line times
    /// the steps as a gradient run would take them).
    #[arg(long, value_enum, default_value_t = BenchPairFusion::Auto)]
    pair_fusion: BenchPairFusion,
}

/// Run a benchmark.
pub fn run(cmd: BenchCommand, out: Output) -> Result<()> {
    match cmd {
        BenchCommand::Forward(args) => match args.precision {
            Precision::F32 => bench_forward::<f32>(&args, out),
            Precision::F64 => bench_forward::<f64>(&args, out),
        },
        BenchCommand::Adjoint(args) => match args.job.precision {
            Precision::F32 => bench_adjoint::<f32>(&args, out),
            Precision::F64 => bench_adjoint::<f64>(&args, out),
        },
        BenchCommand::Diffusion(args) => bench_diffusion(&args, out),
    }
}

fn bench_diffusion(args: &DiffusionArgs, out: Output) -> Result<()> {
    use pdeinv_forward::diffusion::{DiffusionBenchmark, Scheme};
    let [nz, nx] = args.shape;
    if nz != nx || nz < 2 {
        return Err(UserError(format!(
            "--shape {nz},{nx}: the diffusion benchmark (the SciPy anchor's problem) is square; give N,N with N >= 2"
        ))
        .into());
    }
    if args.nt < 1 {
        return Err(UserError("--nt must be at least 1".into()).into());
    }
    let mut problem = DiffusionBenchmark::new(nz, args.nt, Parallelism::Rows)?;
    problem.config.scheme = match args.scheme {
        BenchScheme::CrankNicolson => Scheme::CrankNicolson,
        BenchScheme::BackwardEuler => Scheme::BackwardEuler,
    };
    let start = Instant::now();
    let model = problem.model()?;
    let factorisation = start.elapsed().as_secs_f64();
    let shot = problem.shot(&model)?;
    let mut state = shot.initial_state();
    let start = Instant::now();
    for n in 0..args.nt {
        shot.step(n, &mut state);
    }
    let stepping = start.elapsed().as_secs_f64();
    if !out.quiet {
        println!(
            "bench diffusion: {nz} x {nx} unknowns, {:?}, {} steps, {} threads, factor nonzeros {}",
            problem.config.scheme,
            args.nt,
            rayon::current_num_threads(),
            model.factor().map_or(0, |f| f.nonzeros())
        );
        println!("seconds = {stepping:.3}");
        println!("checksum = {:.6e}", state.u.iter().map(|v| v.abs()).sum::<f64>());
    }
    println!("factorisation s = {factorisation:.4}");
    println!("ms/step = {:.4}", 1e3 * stepping / args.nt as f64);
    Ok(())
}

/// The synthetic job of `bench forward` and `bench adjoint`: a homogeneous
/// 2000 m/s model on a 10 m grid, a source near the top, a line of receivers.
struct AcousticJob<T> {
    model: AcousticModel<T>,
    source: PointWeights,
    receivers: Vec<PointWeights>,
    wavelet: Vec<f64>,
}

impl<T: Real> AcousticJob<T> {
    fn new(args: &ForwardArgs, pair_fusion: PairFusion) -> Result<Self> {
        let (nz, nx) = (args.shape[0], args.shape[1]);
        if args.nt < 2 {
            return Err(UserError(format!("--nt {} must be at least 2", args.nt)).into());
        }
        let h = 10.0;
        let velocity = 2000.0;
        let grid = Grid::new_2d(nz, nx, h, h)?;
        let dt = 0.8 * pdeinv_forward::stability::stable_dt(&grid, args.order, velocity);
        let boundary = match args.boundary {
            BenchBoundary::Cpml => Boundary::Cpml { width: args.width },
            BenchBoundary::Sponge => Boundary::Sponge { width: args.width },
        };
        let config = AcousticConfig {
            grid: grid.clone(),
            space_order: args.order,
            dt,
            nt: args.nt,
            boundary,
            free_surface: false,
            dominant_frequency: 10.0,
            cpml_velocity: None,
            parallelism: Parallelism::Rows,
            pair_fusion,
        };
        let model = AcousticModel::<T>::new(config, &vec![velocity; nz * nx])?;
        let scheme = Interpolation::Hicks { radius: 4 };
        let source = point_weights(&grid, "source", (20.0 * h).min((nz - 1) as f64 * h), (nx / 2) as f64 * h, scheme)?;
        let nrec = (nx / 2).max(1);
        let receivers = (0..nrec)
            .map(|r| {
                let x = (nx - 1) as f64 * h * r as f64 / (nrec.max(2) - 1) as f64;
                point_weights(&grid, "receiver", (30.0 * h).min((nz - 1) as f64 * h), x, scheme)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let wavelet = ricker(10.0, dt, args.nt, None);
        Ok(AcousticJob { model, source, receivers, wavelet })
    }

    fn shot(&self) -> Result<AcousticShot<'_, T>> {
        Ok(self.model.shot(&self.source, &self.wavelet, &self.receivers)?)
    }

    /// The first line of the report.
    fn describe(&self, what: &str, args: &ForwardArgs) -> String {
        let layout = self.model.layout();
        format!(
            "bench {what}: {} x {} (+{} cell {:?} layer: {} x {} computed), {} steps, order {}, {}, {} threads, subnormals {}",
            args.shape[0],
            args.shape[1],
            args.width,
            args.boundary,
            layout.nzp - 2 * layout.halo,
            layout.nxp - 2 * layout.halo,
            args.nt - 1,
            args.order,
            T::NAME,
            rayon::current_num_threads(),
            match pdeinv_forward::subnormal::on_this_thread() {
                pdeinv_forward::subnormal::Subnormals::Flush => "flushed",
                pdeinv_forward::subnormal::Subnormals::Keep => "kept",
            }
        )
    }
}

fn bench_forward<T: Real>(args: &ForwardArgs, out: Output) -> Result<()> {
    let job = AcousticJob::<T>::new(args, PairFusion::Auto)?;
    let shot = job.shot()?;
    let mut state = shot.initial_state();
    let mut traces = vec![T::zero(); shot.channels()];
    let start = Instant::now();
    for n in 0..args.nt - 1 {
        shot.observe(n, &state, &mut traces);
        shot.step(n, &mut state);
    }
    let seconds = start.elapsed().as_secs_f64();
    let steps = (args.nt - 1) as f64;
    let mpts = (args.shape[0] * args.shape[1]) as f64 * steps / seconds / 1e6;
    if !out.quiet {
        println!("{}", job.describe("forward", args));
        println!("seconds = {seconds:.3}");
        println!("checksum = {:.6e}", traces.iter().map(|v| v.as_f64().abs()).sum::<f64>());
    }
    println!("Mpts/s = {mpts:.1}");
    Ok(())
}

/// Steps per timed block of `bench adjoint`.
const ADJOINT_BENCH_BLOCK: usize = 10;

/// Forward steps into a live wavefield, then blocks of forward steps and of
/// adjoint steps (driven by that wavefield and a residual at the receivers)
/// in turn. Each kind's figure is its fastest block: the least disturbed by
/// other work on the machine.
fn bench_adjoint<T: Real>(adjoint_args: &AdjointArgs, out: Output) -> Result<()> {
    let args = &adjoint_args.job;
    let pair_fusion = match adjoint_args.pair_fusion {
        BenchPairFusion::Auto => PairFusion::Auto,
        BenchPairFusion::Always => PairFusion::Always,
        BenchPairFusion::Never => PairFusion::Never,
    };
    let job = AcousticJob::<T>::new(args, pair_fusion)?;
    let shot = job.shot()?;
    let nt = args.nt;
    let mut state = shot.initial_state();
    for n in 0..nt / 2 {
        shot.step(n, &mut state);
    }
    let mut adjoint = shot.initial_adjoint();
    let mut gradient = vec![0.0; shot.parameters()];
    let residual = vec![T::one(); shot.channels()];
    let (mut forward_best, mut adjoint_best, mut pair_best) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    let (mut forward_total, mut adjoint_total, mut pair_total) = (0.0, 0.0, 0.0);
    let (mut forward_steps, mut adjoint_steps, mut pair_steps) = (0, 0, 0);
    // the propagator fuses pairs of reversals (not under a sponge)
    let mut fused = true;
    let blocks = (nt / ADJOINT_BENCH_BLOCK).max(1);
    let reversal = |block: usize, k: usize| nt - 1 - (block * ADJOINT_BENCH_BLOCK + k) % nt;
    for block in 0..blocks {
        let start = Instant::now();
        for k in 0..ADJOINT_BENCH_BLOCK {
            shot.step((block * ADJOINT_BENCH_BLOCK + k) % nt, &mut state);
        }
        forward_total += start.elapsed().as_secs_f64();
        forward_best = forward_best.min(start.elapsed().as_secs_f64() / ADJOINT_BENCH_BLOCK as f64);
        forward_steps += ADJOINT_BENCH_BLOCK;
        let start = Instant::now();
        for k in 0..ADJOINT_BENCH_BLOCK {
            let n = reversal(block, k);
            shot.inject_residual(n, &state, &residual, &mut adjoint);
            shot.step_adjoint(n.saturating_sub(1), &state, &mut adjoint, &mut gradient);
        }
        adjoint_total += start.elapsed().as_secs_f64();
        adjoint_best = adjoint_best.min(start.elapsed().as_secs_f64() / ADJOINT_BENCH_BLOCK as f64);
        adjoint_steps += ADJOINT_BENCH_BLOCK;
        if fused {
            // the same steps two at a time, as the gradient runs them
            let start = Instant::now();
            for k in (0..ADJOINT_BENCH_BLOCK).step_by(2) {
                let n = reversal(block, k).max(2) - 1;
                let residuals = [&residual[..], &residual[..]];
                fused &= shot.reverse_pair(n, &state, None, residuals, &mut adjoint, &mut gradient);
            }
            pair_total += start.elapsed().as_secs_f64();
            pair_best = pair_best.min(start.elapsed().as_secs_f64() / ADJOINT_BENCH_BLOCK as f64);
            pair_steps += ADJOINT_BENCH_BLOCK;
        }
    }
    shot.finish_gradient(&mut adjoint, &mut gradient);
    if !out.quiet {
        println!("{}", job.describe("adjoint", args));
        println!("forward steps = {forward_steps}, adjoint steps = {adjoint_steps} (blocks of {ADJOINT_BENCH_BLOCK})");
        println!("forward ms/step = {:.4}", 1e3 * forward_best);
        println!("adjoint ms/step = {:.4}", 1e3 * adjoint_best);
        let setting = format!("{pair_fusion:?}").to_lowercase();
        println!("reversals fused in pairs = {} (--pair-fusion {setting})", if fused { "yes" } else { "no" });
        if fused {
            println!("adjoint ms/step in fused pairs = {:.4} ({pair_steps} steps)", 1e3 * pair_best);
        }
        println!(
            "mean ms/step: forward {:.4}, adjoint {:.4}{}",
            1e3 * forward_total / forward_steps as f64,
            1e3 * adjoint_total / adjoint_steps as f64,
            if fused { format!(", in fused pairs {:.4}", 1e3 * pair_total / pair_steps as f64) } else { String::new() }
        );
        println!("gradient checksum = {:.6e}", gradient.iter().map(|g| g.abs()).sum::<f64>());
    }
    println!("adjoint/forward single = {:.3}", adjoint_best / forward_best);
    let paired = if fused { pair_best } else { adjoint_best };
    println!("adjoint/forward = {:.3}", paired / forward_best);
    Ok(())
}

/// Parse `NZ,NX` into two positive integers.
pub(crate) fn parse_shape(text: &str) -> Result<[usize; 2], String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let parsed: Vec<usize> = parts.iter().filter_map(|p| p.parse().ok()).filter(|&n| n > 0).collect();
    match parsed[..] {
        [nz, nx] if parts.len() == 2 => Ok([nz, nx]),
        _ => Err(format!("'{text}' is not a shape: give two positive integers NZ,NX, like 1000,1000")),
    }
}
