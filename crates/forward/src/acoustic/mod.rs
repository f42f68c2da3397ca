//! The constant-density acoustic wave equation `u_tt = v² (∇²u + s)` in 1D
//! and 2D: leapfrog in time, centred differences of any even order in space,
//! CPML or sponge absorbing layers added outside the model grid, an optional
//! free surface at the top, sources and receivers anywhere on the grid.
//!
//! One time step, `(u^n, u^{n-1}) → (u^{n+1}, u^n)`:
//! 1. CPML: `ψ ← bψ + a∂u` (strips only);
//! 2. interior: `u^{n+1} = 2u^n − u^{n−1} + v²dt² L u^n` ([`kernel`]);
//! 3. CPML: `ζ ← bζ + a(∂²u + ∂ψ)`, `u^{n+1} += v²dt² (∂ψ + ζ)`;
//! 4. source: `u^{n+1} += v²dt² w(t_n) δ_h`, with `δ_h` the interpolation
//!    weights divided by the cell volume (a point source of unit strength);
//! 5. free surface mirror, or sponge taper.
//!
//! Receivers sample `u^n` with interpolation weights (injection uses their
//! transpose). Observation `n` is `u` at `t_n = n·dt`, `u^0 = 0`.

/// Call const-generic code with the stencil half-width `$h` (1 to 8) bound
/// to the constant `$H`: `with_halo!(layout.halo, H => kernel::<T, H>(..))`.
/// Shared by the kernels and the absorbing layers.
macro_rules! with_halo {
    ($h:expr, $H:ident => $call:expr) => {
        with_halo!(@arms $h, $H, $call, 1 2 3 4 5 6 7 8)
    };
    (@arms $h:expr, $H:ident, $call:expr, $($n:literal)*) => {
        match $h {
            $($n => {
                const $H: usize = $n;
                $call
            })*
            h => unreachable!("space order {} is rejected when the model is built", 2 * h),
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
pub mod boundary;
pub mod kernel;
pub mod layout;
mod pair;
pub mod reverse;

use crate::aligned::AlignedVec;
use crate::error::ForwardError;
use crate::points::PointOperator;
use crate::propagator::{AdjointPropagator, Parallelism, Propagator};
use crate::real::Real;
use crate::stability;
use boundary::{Cpml, ImagedAdjoint, Sponge, XStripRows, adjoint_free_surface, apply_free_surface};
use kernel::{AdjointFields, AdjointRows, StencilWeights, add_laplacian, adjoint_rows, interior_rows};
pub use layout::Layout;
use pdeinv_grid::{Grid, PointWeights, central_first_derivative, central_second_derivative};
use rayon::prelude::*;

/// Rows handed to the kernel at once (pairs share their vertical loads).
const ROW_BLOCK: usize = 2;
/// Rows per block of the CPML step: the x-strip kernels run once per block
/// (per-call overhead), the interior kernel pairs the block's rows.
const CPML_BLOCK: usize = 8;

/// Most rows per task of the adjoint sweep: 64 still leaves 16 tasks on a
/// 1000-row grid for load balance.
const ADJOINT_BLOCK: usize = 64;

/// Rows per task of the adjoint sweep on `layout`: at most
/// [`ADJOINT_BLOCK`], in a number of tasks that is a multiple of 4 so that
/// 2 or 4 threads get equal shares (10.25 blocks of 64 would leave one
/// thread a block more than the other). It depends on the grid alone, so
/// the sweep's arithmetic does not depend on the thread count.
fn adjoint_block(layout: &Layout) -> usize {
    let tasks = layout.nzp.div_ceil(ADJOINT_BLOCK).next_multiple_of(4);
    layout.nzp.div_ceil(tasks).max(1)
}

/// Largest supported space order.
pub const MAX_SPACE_ORDER: usize = 16;

/// Absorbing layer added around the model grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Boundary {
    /// Convolutional PML, `width` cells.
    Cpml {
        /// Cells.
        width: usize,
    },
    /// Cerjan sponge, `width` cells.
    Sponge {
        /// Cells.
        width: usize,
    },
}

impl Boundary {
    /// Layer width in cells.
    pub fn width(&self) -> usize {
        match *self {
            Boundary::Cpml { width } | Boundary::Sponge { width } => width,
        }
    }
}

impl Default for Boundary {
    fn default() -> Self {
        Boundary::Cpml { width: 20 }
    }
}

/// Everything that defines an acoustic simulation except the model and the
/// acquisition.
#[derive(Debug, Clone, PartialEq)]
pub struct AcousticConfig {
    /// Model grid.
    pub grid: Grid,
    /// Even space order (2..=16).
    pub space_order: usize,
    /// Time step (s).
    pub dt: f64,
    /// Number of time samples.
    pub nt: usize,
    /// Absorbing layer.
    pub boundary: Boundary,
    /// Free surface at the top (2D only).
    pub free_surface: bool,
    /// Dominant frequency (Hz), used to tune the CPML.
    pub dominant_frequency: f64,
    /// Velocity (m/s) that sets the CPML damping; `None`: the model's
    /// largest. A gradient is exact only if the layer does not change with
    /// the model, so the commands that differentiate fix it from their
    /// starting model (`io::setup::acoustic`).
    pub cpml_velocity: Option<f64>,
    /// Thread use inside each step.
    pub parallelism: Parallelism,
    /// Whether the adjoint sweep fuses two reversals into one pass.
    pub pair_fusion: PairFusion,
}

/// Whether the adjoint sweep runs two reversals in one pass over the grid
/// (`acoustic/pair.rs`; bitwise the same as one by one, and only with a
/// CPML in 2D). Fused, each adjoint field crosses memory once for two
/// steps; one by one, a step whose arrays stay in the level-2 cache avoids
/// the pair's bookkeeping and, on several threads, its waits at the bands'
/// edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PairFusion {
    /// Fuse where the arrays of a band (one per thread) outgrow this CPU's
    /// level-2 cache, by the crossover measured (see `pair::fusion_pays`).
    #[default]
    Auto,
    /// Fuse wherever the pair applies.
    Always,
    /// One reversal at a time.
    Never,
}

/// The model-dependent part of an acoustic problem: padded coefficients,
/// stencils and boundary coefficients, shared by all shots.
#[derive(Debug, Clone)]
pub struct AcousticModel<T> {
    config: AcousticConfig,
    layout: Layout,
    /// `v² dt²` on the padded grid (model extended by its edge values).
    c2dt2: AlignedVec<T>,
    stencil: StencilWeights<T>,
    cpml: Option<Cpml<T>>,
    sponge: Option<Sponge<T>>,
    /// Velocity model (m/s), for the chain rule `dc/dv = 2 v dt²`.
    vp: Vec<f64>,
    /// Model cell (flat `iz·nx + ix`) whose velocity each padded cell takes
    /// (`usize::MAX` on halo cells).
    model_cell: Vec<usize>,
}

/// The state of one acoustic simulation at time `n`.
#[derive(Debug, PartialEq)]
pub struct AcousticState<T> {
    /// `u^n` on the padded grid (interior rows cache-line aligned).
    pub u: AlignedVec<T>,
    /// `u^{n−1}` on the padded grid (aligned as `u`).
    pub u_prev: AlignedVec<T>,
    /// CPML memory variables along x (strips).
    pub psi_x: AlignedVec<T>,
    /// CPML memory variables along x (strips).
    pub zeta_x: AlignedVec<T>,
    /// CPML memory variables along z (strips).
    pub psi_z: AlignedVec<T>,
    /// CPML memory variables along z (strips).
    pub zeta_z: AlignedVec<T>,
}

impl<T: Clone> Clone for AcousticState<T> {
    fn clone(&self) -> Self {
        AcousticState {
            u: self.u.clone(),
            u_prev: self.u_prev.clone(),
            psi_x: self.psi_x.clone(),
            zeta_x: self.zeta_x.clone(),
            psi_z: self.psi_z.clone(),
            zeta_z: self.zeta_z.clone(),
        }
    }

    /// Copies into this state's buffers (a derived `clone_from` would
    /// allocate afresh): checkpoint restores run once per adjoint step.
    fn clone_from(&mut self, source: &Self) {
        self.u.clone_from(&source.u);
        self.u_prev.clone_from(&source.u_prev);
        self.psi_x.clone_from(&source.psi_x);
        self.zeta_x.clone_from(&source.zeta_x);
        self.psi_z.clone_from(&source.psi_z);
        self.zeta_z.clone_from(&source.zeta_z);
    }
}

impl<T> AcousticState<T> {
    /// Whether every field has the length of `other`'s.
    fn same_shape(&self, other: &Self) -> bool {
        self.u.len() == other.u.len()
            && self.u_prev.len() == other.u_prev.len()
            && self.psi_x.len() == other.psi_x.len()
            && self.zeta_x.len() == other.zeta_x.len()
            && self.psi_z.len() == other.psi_z.len()
            && self.zeta_z.len() == other.zeta_z.len()
    }
}

/// Check a velocity model and return its range.
pub fn velocity_range(vp: &[f64]) -> Result<(f64, f64), ForwardError> {
    let mut range = (f64::INFINITY, 0.0f64);
    for (index, &v) in vp.iter().enumerate() {
        if !(v.is_finite() && v > 0.0) {
            return Err(ForwardError::InvalidModel { name: "vp", value: v, index, unit: "m/s" });
        }
        range = (range.0.min(v), range.1.max(v));
    }
    Ok(range)
}

impl<T: Real> AcousticModel<T> {
    /// Build the padded coefficients for velocity `vp` (m/s, `[nz, nx]`).
    /// Fails on invalid velocities, an unstable `dt` or a bad setting.
    pub fn new(config: AcousticConfig, vp: &[f64]) -> Result<Self, ForwardError> {
        let grid = &config.grid;
        if vp.len() != grid.len() {
            return Err(ForwardError::Invalid(format!(
                "the velocity model has {} values but the grid {:?} has {}",
                vp.len(),
                grid.shape(),
                grid.len()
            )));
        }
        let order = config.space_order;
        if order < 2 || !order.is_multiple_of(2) || order > MAX_SPACE_ORDER {
            return Err(ForwardError::Invalid(format!(
                "space_order = {order} is not supported; use an even order from 2 to {MAX_SPACE_ORDER}"
            )));
        }
        let halo = order / 2;
        let min_cells = 4 * halo;
        if grid.nx < min_cells || (grid.dimension == 2 && grid.nz < min_cells) {
            return Err(ForwardError::Invalid(format!(
                "grid shape {:?} is too small for space order {order}: each axis needs at least {min_cells} points",
                grid.shape()
            )));
        }
        let width = config.boundary.width();
        if width < 1 {
            return Err(ForwardError::Invalid("the absorbing layer width must be at least 1 cell".into()));
        }
        let (_, v_max) = velocity_range(vp)?;
        let limit = stability::stable_dt(grid, order, v_max);
        if !(config.dt.is_finite() && config.dt > 0.0) {
            return Err(ForwardError::Invalid(format!("dt = {} must be a positive number of seconds", config.dt)));
        }
        if config.dt > limit {
            return Err(ForwardError::Unstable { dt: config.dt, limit, order, v_max });
        }
        if config.nt < 2 {
            return Err(ForwardError::Invalid(format!("nt = {} must be at least 2", config.nt)));
        }
        let has_z = grid.dimension == 2;
        let layout = Layout::new(has_z, grid.nz, grid.nx, halo, width, config.free_surface);
        let dt2 = config.dt * config.dt;
        let mut c2dt2 = AlignedVec::zeros(layout.len(), halo);
        let mut model_cell = vec![usize::MAX; layout.len()];
        for row in layout.computed_rows() {
            for col in halo..layout.nxp - halo {
                let (iz, ix) = layout.nearest_model_cell(row, col);
                let v = vp[iz * grid.nx + ix];
                c2dt2[row * layout.nxp + col] = T::of(v * v * dt2);
                model_cell[row * layout.nxp + col] = iz * grid.nx + ix;
            }
        }
        let w2 = central_second_derivative(order);
        let w1 = central_first_derivative(order);
        let (dz2, dx2) = (grid.dz * grid.dz, grid.dx * grid.dx);
        let stencil = StencilWeights {
            center: T::of(w2[0] / dx2 + if has_z { w2[0] / dz2 } else { 0.0 }),
            z: if has_z { w2[1..].iter().map(|&w| T::of(w / dz2)).collect() } else { Vec::new() },
            x: w2[1..].iter().map(|&w| T::of(w / dx2)).collect(),
        };
        let (cpml, sponge) = match config.boundary {
            Boundary::Cpml { .. } => (
                Some(Cpml::new(
                    &layout,
                    grid.dz,
                    grid.dx,
                    config.dt,
                    config.cpml_velocity.unwrap_or(v_max),
                    config.dominant_frequency,
                    &w1,
                    &w2,
                )),
                None,
            ),
            Boundary::Sponge { .. } => (None, Some(Sponge::new(&layout))),
        };
        Ok(AcousticModel { config, layout, c2dt2, stencil, cpml, sponge, vp: vp.to_vec(), model_cell })
    }

    /// The configuration.
    pub fn config(&self) -> &AcousticConfig {
        &self.config
    }

    /// The padded layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Set up one shot: a source with its wavelet (samples at `t_n`, at
    /// least `nt` long) and receivers.
    pub fn shot(
        &self,
        source: &PointWeights,
        wavelet: &[f64],
        receivers: &[PointWeights],
    ) -> Result<AcousticShot<'_, T>, ForwardError> {
        if wavelet.len() < self.config.nt {
            return Err(ForwardError::Invalid(format!(
                "the wavelet has {} samples but nt = {}",
                wavelet.len(),
                self.config.nt
            )));
        }
        let fold = |p: &PointWeights, what: &str| -> Result<PointWeights, ForwardError> {
            let mut entries = Vec::with_capacity(p.entries.len());
            for &(iz, ix, w) in &p.entries {
                // with a free surface, nodes above it fold back with a sign flip (image method)
                let (iz, w) = if self.layout.free_surface && iz < 0 { (-iz, -w) } else { (iz, w) };
                if !self.layout.is_computed(iz, ix) {
                    return Err(ForwardError::Invalid(format!(
                        "{what} needs grid node ({iz}, {ix}) for interpolation, beyond the absorbing layer; widen the layer or use bilinear interpolation"
                    )));
                }
                entries.push((iz, ix, w));
            }
            Ok(PointWeights { entries })
        };
        let source = fold(source, "the source")?;
        let receivers = receivers
            .iter()
            .enumerate()
            .map(|(r, p)| fold(p, &format!("receiver {r}")))
            .collect::<Result<Vec<_>, _>>()?;
        let to_flat = |iz: isize, ix: isize| self.layout.flat(iz, ix);
        let inverse_volume = 1.0 / self.config.grid.cell_volume();
        Ok(AcousticShot {
            model: self,
            source: PointOperator::new(std::slice::from_ref(&source), to_flat),
            wavelet: wavelet[..self.config.nt].iter().map(|&w| T::of(w * inverse_volume)).collect(),
            receivers: PointOperator::new(&receivers, to_flat),
        })
    }

    /// Rows per rayon task: 1 when rows may be spread over threads, all of
    /// them (one task, run inline) when the caller asked for serial work.
    fn min_rows_per_task(&self) -> usize {
        match self.config.parallelism {
            Parallelism::Rows => 8,
            Parallelism::Serial => usize::MAX,
        }
    }

    /// Steps 1-3 of the time step with a CPML, in one parallel sweep over
    /// rows in three groups: [top z strip | middle | bottom z strip]. Each
    /// z-strip group is one sequential task (its `ψ_z` rows are updated
    /// first, then its rows); middle rows run in parallel. Per block of
    /// [`CPML_BLOCK`] rows: `ψ_x`, the interior update, the x-layer
    /// correction, and in z strips each row's z-layer correction.
    ///
    /// In place (`source` `None`) `u^{n+1}` goes to `s.u_prev`. From a
    /// `source` state, every task first copies its rows of the source's
    /// memory variables into `s`, then updates them as in place, reading
    /// the source's `u^n`; the interior update reads the source's `u^{n−1}`
    /// where it stands and writes `u^{n+1}` into `s.u` (no copy of it
    /// first: see [`interior_rows`]), and the task then copies its rows of
    /// the source's `u^n` into `s.u_prev`.
    fn step_cpml(&self, cpml: &Cpml<T>, s: &mut AcousticState<T>, source: Option<&AcousticState<T>>) {
        let layout = &self.layout;
        let (nxp, strip) = (layout.nxp, cpml.strip());
        let min_len = self.min_rows_per_task();
        let rows = layout.computed_rows();
        let c = &self.c2dt2;
        let (u, out, old) = match source {
            None => (&s.u[..], &mut s.u_prev[..], None),
            Some(source) => (&source.u[..], &mut s.u[..], Some(&mut s.u_prev[..])),
        };
        let z_rows = cpml.z_strip_rows();
        let top_end = if z_rows.len() == 2 { strip } else { 0 };
        let bottom_start = if layout.has_z { layout.nzp - strip } else { layout.nzp };
        fn split3<T>(
            data: &mut [T],
            top_end: usize,
            bottom_start: usize,
            width: usize,
        ) -> (&mut [T], &mut [T], &mut [T]) {
            let (top, rest) = data.split_at_mut(top_end * width);
            let (middle, bottom) = rest.split_at_mut((bottom_start - top_end) * width);
            (top, middle, bottom)
        }
        let split3 = |data, width| split3(data, top_end, bottom_start, width);
        let (out_top, out_mid, out_bottom) = split3(out, nxp);
        let (old_top, old_mid, old_bottom) = match old {
            Some(old) => {
                let (top, middle, bottom) = split3(old, nxp);
                (Some(top), Some(middle), Some(bottom))
            }
            None => (None, None, None),
        };
        let (px_top, px_mid, px_bottom) = split3(&mut s.psi_x, 2 * strip);
        let (zx_top, zx_mid, zx_bottom) = split3(&mut s.zeta_x, 2 * strip);
        let z_split = if top_end > 0 { strip * nxp } else { 0 };
        let (pz_top, pz_bottom) = s.psi_z.split_at_mut(z_split);
        let (zz_top, zz_bottom) = s.zeta_z.split_at_mut(z_split);
        // from a source state: `to` ← the source's `field` from element
        // `start` on (before a block updates it), and `old` ← `u^n` of the
        // rows from `first` on (after)
        let copy_in = |to: &mut [T], field: fn(&AcousticState<T>) -> &[T], start: usize| {
            if let Some(source) = source {
                to.copy_from_slice(&field(source)[start..start + to.len()]);
            }
        };
        let copy_out = |old: Option<&mut [T]>, first: usize| {
            if let Some(old) = old {
                old.copy_from_slice(&u[first * nxp..first * nxp + old.len()]);
            }
        };
        // a block of whole rows from padded row `first`: ψ_x, the interior
        // update, the x correction
        let block = |first: usize, out: &mut [T], psi_x: &mut [T], zeta_x: &mut [T], old: Option<&mut [T]>| {
            let count = out.len() / nxp;
            copy_in(psi_x, |s| &s.psi_x[..], first * 2 * strip);
            copy_in(zeta_x, |s| &s.zeta_x[..], first * 2 * strip);
            // the block's computed rows, as offsets into the block
            let lo = first.max(rows.start).min(first + count);
            let own = lo - first..(first + count).min(rows.end).max(lo) - first;
            let cells = (first + own.start) * nxp..(first + own.end) * nxp;
            let memory = own.start * 2 * strip..own.end * 2 * strip;
            cpml.psi_x_rows(layout, &u[cells.clone()], &mut psi_x[memory.clone()]);
            // from a source state, its `u^{n−1}` is read in the sweep (no copy first)
            let prev = source.map(|source| &source.u_prev[first * nxp..(first + count) * nxp]);
            interior_rows(layout, &self.stencil, u, first, out, &c[first * nxp..(first + count) * nxp], prev);
            let x_rows = XStripRows {
                u: &u[cells.clone()],
                psi: &psi_x[memory.clone()],
                zeta: &mut zeta_x[memory],
                c: &c[cells],
                out: &mut out[own.start * nxp..own.end * nxp],
            };
            cpml.correct_x_rows(layout, x_rows);
            copy_out(old, first);
        };
        // a z-strip group, sequentially; `z_start` is where its `ψ_z`, `ζ_z` start
        let strip_group = |first: usize,
                           group: usize,
                           z_start: usize,
                           out: &mut [T],
                           old: Option<&mut [T]>,
                           px: &mut [T],
                           zx: &mut [T],
                           pz: &mut [T],
                           zz: &mut [T]| {
            copy_in(pz, |s| &s.psi_z[..], z_start);
            copy_in(zz, |s| &s.zeta_z[..], z_start);
            for (r, psi_row) in pz.chunks_exact_mut(nxp).enumerate() {
                cpml.psi_z_row(layout, group, r, u, psi_row);
            }
            // blocks of rows through the x strips and the interior
            // kernel (which pairs them), then each row's z correction
            let pairs = out
                .chunks_mut(CPML_BLOCK * nxp)
                .zip(px.chunks_mut(CPML_BLOCK * 2 * strip))
                .zip(zx.chunks_mut(CPML_BLOCK * 2 * strip))
                .zip(zz.chunks_mut(CPML_BLOCK * nxp));
            for (b, (((o, p), x), z)) in pairs.enumerate() {
                let start = first + b * CPML_BLOCK;
                block(start, o, p, x, None);
                for (k, (o_row, z_row)) in o.chunks_exact_mut(nxp).zip(z.chunks_exact_mut(nxp)).enumerate() {
                    let (r, i) = (b * CPML_BLOCK + k, start + k);
                    if rows.contains(&i) {
                        cpml.correct_z_row(layout, group, r, u, pz, z_row, &c[i * nxp..(i + 1) * nxp], o_row);
                    }
                }
            }
            copy_out(old, first);
        };
        let middle = || {
            let blocks = out_mid.len().div_ceil(CPML_BLOCK * nxp);
            let old_blocks = match old_mid {
                Some(old) => rayon::iter::Either::Left(old.par_chunks_mut(CPML_BLOCK * nxp).map(Some)),
                None => rayon::iter::Either::Right((0..blocks).into_par_iter().map(|_| None)),
            };
            out_mid
                .par_chunks_mut(CPML_BLOCK * nxp)
                .zip(px_mid.par_chunks_mut(CPML_BLOCK * 2 * strip))
                .zip(zx_mid.par_chunks_mut(CPML_BLOCK * 2 * strip))
                .zip(old_blocks)
                .with_min_len(min_len.div_ceil(CPML_BLOCK))
                .enumerate()
                .for_each(|(b, (((o, p), z), old))| block(top_end + b * CPML_BLOCK, o, p, z, old));
        };
        let ends = || {
            if top_end > 0 {
                strip_group(0, 0, 0, out_top, old_top, px_top, zx_top, pz_top, zz_top);
            }
            if bottom_start < layout.nzp {
                let group = z_rows.len() - 1;
                strip_group(
                    bottom_start,
                    group,
                    z_split,
                    out_bottom,
                    old_bottom,
                    px_bottom,
                    zx_bottom,
                    pz_bottom,
                    zz_bottom,
                );
            }
        };
        self.join(ends, middle);
    }

    /// Run two tasks, in parallel unless the configuration asks for serial work.
    fn join(&self, a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
        match self.config.parallelism {
            Parallelism::Rows => {
                rayon::join(a, b);
            }
            Parallelism::Serial => {
                a();
                b();
            }
        }
    }

    fn empty_state(&self) -> AcousticState<T> {
        self.zero_state(AlignedVec::zeros)
    }

    /// [`empty_state`](Self::empty_state) with its pages untouched
    /// ([`AlignedVec::zeros_untouched`]).
    fn untouched_state(&self) -> AcousticState<T> {
        self.zero_state(AlignedVec::zeros_untouched)
    }

    fn zero_state(&self, zeros: fn(usize, usize) -> AlignedVec<T>) -> AcousticState<T> {
        let n = self.layout.len();
        let (x_len, z_len) = self.cpml.as_ref().map_or((0, 0), |c| (c.x_len(&self.layout), c.z_len(&self.layout)));
        let halo = self.layout.halo;
        AcousticState {
            u: zeros(n, halo),
            u_prev: zeros(n, halo),
            psi_x: zeros(x_len, halo),
            zeta_x: zeros(x_len, halo),
            psi_z: zeros(z_len, halo),
            zeta_z: zeros(z_len, halo),
        }
    }
}

/// One shot of an acoustic problem: the model, a source and receivers.
#[derive(Debug, Clone)]
pub struct AcousticShot<'a, T> {
    model: &'a AcousticModel<T>,
    source: PointOperator<T>,
    /// Wavelet divided by the cell volume.
    wavelet: Vec<T>,
    receivers: PointOperator<T>,
}

/// Scratch and adjoint variables of an acoustic shot's reverse sweep.
#[derive(Debug, Clone)]
pub struct AcousticAdjoint<T> {
    /// Adjoint of the state (same layout as [`AcousticState`]), its
    /// wavefields scaled by `c` on the computed cells (`μ = c ⊙ λ`), and
    /// `u_prev` holding `μw` of the step before (see
    /// [`AdjointPropagator::step_adjoint`]).
    pub state: AcousticState<T>,
    /// `c ⊙ Σ_n λw ⊙ ∂w/∂c` so far, per padded cell (folded into the model
    /// gradient by `finish_gradient`).
    image: AlignedVec<T>,
    /// Scratch of the z-layer adjoint, one part per strip (zero outside
    /// what it writes).
    z_scratch: Vec<T>,
    /// Scratch of the x-layer adjoint, one part per row block of the sweep
    /// (zero outside what it writes).
    strip_scratch: Vec<T>,
    /// The padded rows the receivers touch (where a fused pair of
    /// reversals injects the residuals, see [`pair`]).
    receiver_rows: std::ops::Range<usize>,
}

impl<'a, T: Real> AcousticShot<'a, T> {
    /// Source illumination `Σ_n u_n²` at every model cell (`[nz, nx]`):
    /// the diagonal pseudo-Hessian used to precondition gradients. One
    /// forward sweep, nothing stored.
    pub fn illumination(&self) -> Vec<f64> {
        let layout = &self.model.layout;
        let (nz, nx) = (layout.nz, layout.nx);
        let mut energy = vec![0.0; nz * nx];
        let mut state = self.initial_state();
        for n in 0..self.nt() {
            for iz in 0..nz {
                let start = layout.flat(iz as isize, 0);
                let row = &state.u[start..start + nx];
                for (e, &u) in energy[iz * nx..(iz + 1) * nx].iter_mut().zip(row) {
                    *e += u.as_f64() * u.as_f64();
                }
            }
            if n + 1 < self.nt() {
                self.step(n, &mut state);
            }
        }
        energy
    }

    /// One step with `add_sources(w)` adding the source terms to
    /// `w = u^{n+1}` after the interior and CPML updates, before the free
    /// surface and sponge. With a `source` state, `s` becomes its successor
    /// (see [`AcousticModel::step_cpml`]): `s`'s own values are not read.
    fn step_with(
        &self,
        s: &mut AcousticState<T>,
        source: Option<&AcousticState<T>>,
        add_sources: impl FnOnce(&mut [T]),
    ) {
        let m = self.model;
        let layout = &m.layout;
        match &m.cpml {
            Some(cpml) => m.step_cpml(cpml, s, source),
            None => {
                let (nxp, c) = (layout.nxp, &m.c2dt2);
                let rows_per_task = 2 * m.min_rows_per_task().min(usize::MAX / 2);
                let block = |u: &[T], b: usize, out: &mut [T], old: Option<&mut [T]>| {
                    let first = b * ROW_BLOCK;
                    let rows = first * nxp..first * nxp + out.len();
                    let prev = source.map(|source| &source.u_prev[rows.clone()]);
                    interior_rows(layout, &m.stencil, u, first, out, &c[rows], prev);
                    if let Some(old) = old {
                        old.copy_from_slice(&u[first * nxp..first * nxp + old.len()]);
                    }
                };
                match source {
                    None => {
                        let u = &s.u;
                        s.u_prev
                            .par_chunks_mut(ROW_BLOCK * nxp)
                            .with_min_len(rows_per_task / ROW_BLOCK)
                            .enumerate()
                            .for_each(|(b, out)| block(u, b, out, None));
                    }
                    Some(source) => {
                        s.u.par_chunks_mut(ROW_BLOCK * nxp)
                            .zip(s.u_prev.par_chunks_mut(ROW_BLOCK * nxp))
                            .with_min_len(rows_per_task / ROW_BLOCK)
                            .enumerate()
                            .for_each(|(b, (out, old))| block(&source.u, b, out, Some(old)))
                    }
                }
            }
        }
        // `u^{n+1}` and `u^n`
        let (new, old) = match source {
            None => (&mut s.u_prev, &mut s.u),
            Some(_) => (&mut s.u, &mut s.u_prev),
        };
        add_sources(new);
        if layout.free_surface {
            apply_free_surface(layout, new);
        }
        if let Some(sponge) = &m.sponge {
            sponge.apply_both(layout, new, old, m.min_rows_per_task());
        }
        if source.is_none() {
            std::mem::swap(&mut s.u, &mut s.u_prev);
        }
    }

    /// `image += weight ⊙ ∂w/∂c` for step `n` at state `s`, except the
    /// interior Laplacian ([`add_laplacian`]): the CPML corrections (with
    /// `ψ`, `ζ` updated into scratch) and the source term. For the
    /// linearised step, a verification path; the adjoint takes the same
    /// derivative from its increment.
    fn add_boundary_and_source_terms(&self, n: usize, s: &AcousticState<T>, weight: &[T], image: &mut [T]) {
        if let Some(cpml) = &self.model.cpml {
            let memory = &mut self.model.empty_state();
            let (nxp, width) = (self.model.layout.nxp, 2 * cpml.strip());
            for i in self.model.layout.computed_rows() {
                let (x, cells) = (i * width..(i + 1) * width, i * nxp..(i + 1) * nxp);
                self.add_x_layer_terms_row(
                    cpml,
                    i,
                    s,
                    &mut memory.psi_x[x.clone()],
                    &mut memory.zeta_x[x],
                    &weight[cells.clone()],
                    &mut image[cells],
                );
            }
            self.add_z_layer_terms(cpml, s, memory, weight, image);
        }
        self.source.inject_scaled(&[self.wavelet[n]], weight, image);
    }

    /// The x-layer part of `image += weight ⊙ ∂w/∂c` on padded row `i`:
    /// `psi`, `zeta` (that row of the memory variables) receive the updated
    /// `ψ_x`, `ζ_x` of state `s`; `weight` and `image` are the row's values.
    fn add_x_layer_terms_row(
        &self,
        cpml: &Cpml<T>,
        i: usize,
        s: &AcousticState<T>,
        psi: &mut [T],
        zeta: &mut [T],
        weight: &[T],
        image: &mut [T],
    ) {
        let layout = &self.model.layout;
        let (nxp, width) = (layout.nxp, 2 * cpml.strip());
        let urow = &s.u[i * nxp..(i + 1) * nxp];
        psi.copy_from_slice(&s.psi_x[i * width..(i + 1) * width]);
        zeta.copy_from_slice(&s.zeta_x[i * width..(i + 1) * width]);
        cpml.psi_x_rows(layout, urow, psi);
        cpml.correct_x_rows(layout, XStripRows { u: urow, psi, zeta, c: weight, out: image });
    }

    /// The z-layer part of `image += weight ⊙ ∂w/∂c` at state `s` (whole
    /// arrays), with `ψ_z`, `ζ_z` updated into `memory`.
    fn add_z_layer_terms(
        &self,
        cpml: &Cpml<T>,
        s: &AcousticState<T>,
        memory: &mut AcousticState<T>,
        weight: &[T],
        image: &mut [T],
    ) {
        let layout = &self.model.layout;
        let (nxp, strip) = (layout.nxp, cpml.strip());
        memory.psi_z.copy_from_slice(&s.psi_z);
        memory.zeta_z.copy_from_slice(&s.zeta_z);
        for (group, &first) in cpml.z_strip_rows().iter().enumerate() {
            let block = group * strip * nxp..(group + 1) * strip * nxp;
            for (r, psi_row) in memory.psi_z[block.clone()].chunks_exact_mut(nxp).enumerate() {
                cpml.psi_z_row(layout, group, r, &s.u, psi_row);
            }
            let psi_group = &memory.psi_z[block.clone()];
            for (r, zeta_row) in memory.zeta_z[block].chunks_exact_mut(nxp).enumerate() {
                let i = first + r;
                if layout.computed_rows().contains(&i) {
                    let cells = i * nxp..(i + 1) * nxp;
                    cpml.correct_z_row(
                        layout,
                        group,
                        r,
                        &s.u,
                        psi_group,
                        zeta_row,
                        &weight[cells.clone()],
                        &mut image[cells],
                    );
                }
            }
        }
    }

    /// `dc/dv` at padded cell `cell` and the model cell it belongs to.
    fn chain_rule(&self, cell: usize) -> Option<(usize, f64)> {
        let index = self.model.model_cell[cell];
        (index != usize::MAX).then(|| (index, 2.0 * self.model.vp[index] * self.model.config.dt * self.model.config.dt))
    }
}

impl<T: Real> Propagator for AcousticShot<'_, T> {
    type Real = T;
    type State = AcousticState<T>;

    fn nt(&self) -> usize {
        self.model.config.nt
    }

    fn channels(&self) -> usize {
        self.receivers.len()
    }

    fn initial_state(&self) -> AcousticState<T> {
        self.model.empty_state()
    }

    fn step(&self, n: usize, s: &mut AcousticState<T>) {
        self.step_with(s, None, |w| self.source.inject_scaled(&[self.wavelet[n]], &self.model.c2dt2, w));
    }

    /// The step reads `source` and writes every field of `target`, copying
    /// what it does not update from `source`'s rows in the same parallel
    /// sweep (see
    /// `AcousticModel::step_cpml`); a `target` of another shape is
    /// reshaped by a plain copy first.
    /// Zeros whose pages are left for `step_from`'s parallel sweep to
    /// touch (a checkpoint's fresh state would otherwise be filled on one
    /// thread first, its page faults serial).
    fn target_state(&self) -> AcousticState<T> {
        self.model.untouched_state()
    }

    fn step_from(&self, n: usize, source: &AcousticState<T>, target: &mut AcousticState<T>) {
        if !target.same_shape(source) {
            target.clone_from(source);
            return self.step(n, target);
        }
        self.step_with(target, Some(source), |w| self.source.inject_scaled(&[self.wavelet[n]], &self.model.c2dt2, w));
    }

    fn observe(&self, _n: usize, s: &AcousticState<T>, out: &mut [T]) {
        self.receivers.sample(&s.u, out);
    }

    fn state_bytes(&self) -> usize {
        let m = self.model;
        let (x_len, z_len) = m.cpml.as_ref().map_or((0, 0), |c| (c.x_len(&m.layout), c.z_len(&m.layout)));
        std::mem::size_of::<T>() * 2 * (m.layout.len() + x_len + z_len)
    }
}

/// The acquisition of one shot, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct ShotInput<'a> {
    /// Source interpolation weights.
    pub source: &'a PointWeights,
    /// Wavelet samples at `t_n`.
    pub wavelet: &'a [f64],
    /// Receiver interpolation weights.
    pub receivers: &'a [PointWeights],
}

/// Record every shot: traces `[nt, nrec]` per shot, in shot order (see
/// [`AcousticModel::map_shots`]: bitwise the same whatever the
/// parallelism). `on_step` is called after every time step of every shot.
pub fn record_shots<T: Real>(
    model: &AcousticModel<T>,
    shots: &[ShotInput<'_>],
    on_step: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<T>>, ForwardError> {
    model.map_shots(shots, |shot| *shot, |propagator, _| crate::propagator::record(propagator, |_| on_step()))
}

impl<T: Real> AcousticModel<T> {
    /// `f` on the propagator of every item's shot (`input(item)` gives its
    /// source, wavelet and receivers), results in item order. With
    /// [`Parallelism::Serial`] in the configuration the shots run in
    /// parallel (one thread each); with [`Parallelism::Rows`] one after
    /// another, each spread over the threads. Each shot's arithmetic is the
    /// same either way, so sums over the results in order are bitwise the
    /// same whatever the thread count.
    pub fn map_shots<'s, I: Sync, R: Send>(
        &self,
        items: &'s [I],
        input: impl Fn(&'s I) -> ShotInput<'s> + Sync,
        f: impl Fn(&AcousticShot<'_, T>, &I) -> R + Sync,
    ) -> Result<Vec<R>, ForwardError> {
        let run = |item: &'s I| -> Result<R, ForwardError> {
            let shot = input(item);
            let propagator = self.shot(shot.source, shot.wavelet, shot.receivers)?;
            Ok(f(&propagator, item))
        };
        match self.config.parallelism {
            Parallelism::Serial => items.par_iter().map(run).collect(),
            Parallelism::Rows => items.iter().map(run).collect(),
        }
    }
}

impl<T: Real> AdjointPropagator for AcousticShot<'_, T> {
    type AdjointState = AcousticAdjoint<T>;

    fn parameters(&self) -> usize {
        self.model.config.grid.len()
    }

    fn initial_adjoint(&self) -> AcousticAdjoint<T> {
        let n = self.model.layout.len();
        AcousticAdjoint {
            state: self.model.empty_state(),
            image: AlignedVec::zeros(n, self.model.layout.halo),
            z_scratch: vec![
                T::zero();
                self.model.cpml.as_ref().map_or(0, |c| 2 * c.adjoint_z_scratch_len(&self.model.layout))
            ],
            strip_scratch: vec![
                T::zero();
                self.model.cpml.as_ref().map_or(0, |c| c.adjoint_scratch_len(&self.model.layout))
                    * self.model.layout.nzp.div_ceil(adjoint_block(&self.model.layout))
            ],
            receiver_rows: self.receiver_rows(),
        }
    }

    /// `λu += Rᵀr` (`μu += c ⊙ Rᵀr` in the scaled variables), and the
    /// model derivative that increment carries, `image += u ⊙ Rᵀr` (see
    /// [`step_adjoint`](AdjointPropagator::step_adjoint)).
    fn inject_residual(&self, _n: usize, forward: &AcousticState<T>, residual: &[T], adjoint: &mut AcousticAdjoint<T>) {
        self.inject_residual_with(&forward.u, residual, adjoint);
    }

    /// The transpose of [`step`](Propagator::step), operation by operation in
    /// reverse order: swap, sponge, free surface, then the interior update
    /// and the CPML memory updates and corrections (their contributions to
    /// `λu` are sums, added row block by row block, the z strips last).
    ///
    /// **Scaled variables.** The state carries `μ = c ⊙ λ` on the computed
    /// cells (the halo rows above a free surface, where `c` is zero, hold
    /// the `λ` that the next step folds into their mirror rows). The
    /// interior adjoint `λu = 2λw − λp + Lᵀ(c ⊙ λw)` then reads, scaled,
    /// `μu = 2μw − μp + c ⊙ L μw`: the forward update itself, with no
    /// `c ⊙ λw` pass before the stencil. The boundary adjoints take
    /// `c ⊙ λw = μw` as they come and add their `λu` contributions `d` as
    /// `μu += c ⊙ d` (`boundary::ImagedAdjoint`), and so does the residual.
    /// The sponge and the swap are diagonal, so they commute with the
    /// scaling. Only the gradient leaves the sweep, and it is the same.
    ///
    /// The adjoint state's `u` is `μu`; its `u_prev` is `μw` of the step
    /// before, which is `−μp` on the computed cells and zero elsewhere
    /// (the forward step copies `p` into `w` there, and the adjoint free
    /// surface leaves `λw` zero on the halo). Storing `−μp` lets the sweep
    /// update `μu` in place over it, like the forward step.
    ///
    /// **Model derivative from the increment.** The gradient needs
    /// `G = Σ_n λw_n ⊙ X_n` per cell, with `X_n = ∂w_n/∂c`. Every computed
    /// cell updates as `w = 2u − p + c ⊙ X` (the interior, CPML corrections
    /// and source all scale with `c`, the memory variables do not depend
    /// on it), and the sponge and free surface then give `u' = S w`,
    /// `p' = S u` below the surface row. Summation by parts in time, per
    /// cell, turns `c G = Σ_n λw_n (w_n − 2u_n + p_n)` into
    /// `Σ_m u_m (λw_{m−1}/S − 2λw_m + S λw_{m+1})` (`u_0 = p_0 = 0`), and
    /// the adjoint recursion makes that coefficient exactly the sum `d` of
    /// everything added to `λu_m` beyond `2λw_m − S λw_{m+1}`: `Lᵀ(cλw)`,
    /// the CPML adjoints, the residual, and (on the `halo` rows below a
    /// free surface) minus the mirror row's `λu`. So each of those adds
    /// `u_m ⊙ d` to the image where it adds `d` to `λu` (`c ⊙ d` to `μu`), the sweep never
    /// forms `L u` or the forward CPML terms again (it reads only the
    /// forward `u`), and [`finish_gradient`] divides by `c`. The
    /// dot-product tests check the result against the linearised step,
    /// which forms `X` directly.
    ///
    /// [`finish_gradient`]: AdjointPropagator::finish_gradient
    fn step_adjoint(
        &self,
        _n: usize,
        forward: &AcousticState<T>,
        adjoint: &mut AcousticAdjoint<T>,
        _gradient: &mut [f64],
    ) {
        self.step_adjoint_with(&forward.u, adjoint);
    }

    /// `S_{n+1}`'s `u_prev` is `S_n`'s `u` bitwise (the step swaps the two
    /// buffers; the free surface changes only the new one), except under a
    /// sponge, which tapers both: there, and from a checkpoint that kept
    /// `u` alone, this declines.
    fn reverse_from_next(
        &self,
        _n: usize,
        next: &AcousticState<T>,
        residual: &[T],
        adjoint: &mut AcousticAdjoint<T>,
        _gradient: &mut [f64],
    ) -> bool {
        if self.model.sponge.is_some() || next.u_prev.len() != self.model.layout.len() {
            return false;
        }
        self.step_adjoint_with(&next.u_prev, adjoint);
        self.inject_residual_with(&next.u_prev, residual, adjoint);
        true
    }

    /// Fused into one sweep over the grid (`acoustic/pair.rs`) except under a
    /// sponge, in 1D and where [`PairFusion`] says the steps one by one are
    /// faster; from `below`'s `u`, or from `next`'s `u_prev` as in
    /// [`reverse_from_next`](AdjointPropagator::reverse_from_next).
    fn reverse_pair(
        &self,
        n: usize,
        next: &AcousticState<T>,
        below: Option<&AcousticState<T>>,
        residuals: [&[T]; 2],
        adjoint: &mut AcousticAdjoint<T>,
        _gradient: &mut [f64],
    ) -> bool {
        let len = self.model.layout.len();
        let second = below.map_or(&next.u_prev, |state| &state.u);
        if !self.pair_fuses() || next.u.len() != len || second.len() != len {
            return false;
        }
        self.reverse_pair_with([&next.u, second], residuals, pair::Sweep::for_pair(n), adjoint);
        true
    }

    /// `u` alone: the adjoint step reads nothing else of a forward state.
    fn adjoint_state_bytes(&self) -> usize {
        std::mem::size_of::<T>() * self.model.layout.len()
    }

    /// Copies `u` alone (the other fields are left empty, their memory
    /// released if `buffer` was a full state): the adjoint step reads
    /// nothing else of a forward state.
    fn adjoint_copy(&self, state: &AcousticState<T>, buffer: Option<AcousticState<T>>) -> AcousticState<T> {
        let mut u = buffer.map(|b| b.u).unwrap_or_default();
        if u.len() == state.u.len() {
            u.copy_from_slice(&state.u);
        } else {
            // a fresh buffer: its pages are first touched by the copy, so
            // copy in parallel chunks (page faults cost more than the copy)
            u = AlignedVec::zeros_untouched(state.u.len(), self.model.layout.halo);
            let min_len = self.model.min_rows_per_task();
            let chunk = 16 * 1024;
            u.par_chunks_mut(chunk).zip(state.u.par_chunks(chunk)).with_min_len(min_len).for_each(|(d, s)| {
                d.copy_from_slice(s);
            });
        }
        AcousticState {
            u,
            u_prev: AlignedVec::default(),
            psi_x: AlignedVec::default(),
            zeta_x: AlignedVec::default(),
            psi_z: AlignedVec::default(),
            zeta_z: AlignedVec::default(),
        }
    }

    /// Folds the image (`c ⊙` the derivative per padded cell, see
    /// [`step_adjoint`](AdjointPropagator::step_adjoint)) into the gradient:
    /// divided by `c`, times `dc/dv`.
    fn finish_gradient(&self, adjoint: &mut AcousticAdjoint<T>, gradient: &mut [f64]) {
        let c = &self.model.c2dt2;
        for (cell, value) in adjoint.image.iter_mut().enumerate() {
            if let Some((index, dc_dv)) = self.chain_rule(cell) {
                gradient[index] += value.as_f64() / c[cell].as_f64() * dc_dv;
            }
            *value = T::zero();
        }
    }

    /// Allocates its scratch on every call: a verification tool, not a
    /// production path.
    fn step_linearized(&self, n: usize, forward: &AcousticState<T>, tangent: &mut AcousticState<T>, dm: &[f64]) {
        let layout = &self.model.layout;
        // δc per padded cell, then δw += δc ⊙ ∂w/∂c
        let mut dc = vec![T::zero(); layout.len()];
        for (cell, value) in dc.iter_mut().enumerate() {
            if let Some((index, dc_dv)) = self.chain_rule(cell) {
                *value = T::of(dc_dv * dm[index]);
            }
        }
        let mut term = vec![T::zero(); layout.len()];
        self.add_boundary_and_source_terms(n, forward, &dc, &mut term);
        // interior part: δc ⊙ L u
        add_laplacian(layout, &self.model.stencil, &forward.u, &dc, &mut term);
        self.step_with(tangent, None, |w| {
            for (w, t) in w.iter_mut().zip(&term) {
                *w += *t;
            }
        });
    }
}

impl<T: Real> AcousticShot<'_, T> {
    /// [`inject_residual`](AdjointPropagator::inject_residual) with the
    /// forward `u^n` given.
    fn inject_residual_with(&self, u: &[T], residual: &[T], adjoint: &mut AcousticAdjoint<T>) {
        self.inject_into(u, residual, &mut adjoint.state.u, &mut adjoint.image);
    }

    /// `lu += c ⊙ Rᵀr`, `image += u ⊙ Rᵀr` (see [`inject_residual`](AdjointPropagator::inject_residual)).
    fn inject_into(&self, u: &[T], residual: &[T], lu: &mut [T], image: &mut [T]) {
        self.inject_rows(u, residual, (lu, 0), (image, 0));
    }

    /// [`inject_into`](Self::inject_into) with `lu` and `image` holding the
    /// padded rows from the row given with each (at least the receivers').
    fn inject_rows(
        &self,
        u: &[T],
        residual: &[T],
        (lu, lu_first): (&mut [T], usize),
        (image, image_first): (&mut [T], usize),
    ) {
        let (c, nxp) = (&self.model.c2dt2, self.model.layout.nxp);
        let (lu_offset, image_offset) = (lu_first * nxp, image_first * nxp);
        for (p, &r) in residual.iter().enumerate() {
            for (cell, weight) in self.receivers.entries(p) {
                let d = weight * r;
                lu[cell - lu_offset] += c[cell] * d;
                image[cell - image_offset] += u[cell] * d;
            }
        }
    }

    /// [`step_adjoint`](AdjointPropagator::step_adjoint) with the forward
    /// `u^n` given.
    fn step_adjoint_with(&self, u: &[T], adjoint: &mut AcousticAdjoint<T>) {
        let m = self.model;
        let layout = &m.layout;
        let c = &m.c2dt2;
        let a = adjoint;
        let min_len = m.min_rows_per_task();
        // (u', p') = (w, u): μw = S·FSᵀ μu' in place; the sweep writes
        // μu = S μp' + … = −S μw' + … over the other buffer
        let AcousticState { u: lw, u_prev: lu, psi_x: lpsi_x, zeta_x: lzeta_x, psi_z: lpsi_z, zeta_z: lzeta_z } =
            &mut a.state;
        if let Some(sponge) = &m.sponge {
            sponge.apply_both(layout, lw, lu, min_len);
        }
        if layout.free_surface {
            adjoint_free_surface(layout, lw, c);
        }
        let lw: &[T] = lw;
        // per block of rows, in parallel: the interior, then the block's x-layer adjoints
        let fields = AdjointFields { lw, lw_first: 0, cached: false, c, u };
        let block = adjoint_block(layout);
        let x = XAdjoint { lpsi: lpsi_x, lzeta: lzeta_x, scratch: &mut a.strip_scratch };
        self.adjoint_row_tasks(block, min_len.div_ceil(block), (lu, &mut a.image), x, |first, lu, image, x| {
            self.adjoint_interior_and_x(first, fields, lu, image, x);
        });
        let z = ZAdjoint { lpsi: lpsi_z, lzeta: lzeta_z, scratch: &mut a.z_scratch };
        self.adjoint_z_strips(lw, ImagedAdjoint { lu, image: &mut a.image, u, c }, z);
        self.adjoint_surface_image(&mut a.image, u, lu);
        std::mem::swap(&mut a.state.u, &mut a.state.u_prev);
    }

    /// Split `lu` and `image` (whole padded arrays) into tasks of `rows`
    /// padded rows, each with its rows of `x`'s `λψ_x` and `λζ_x` and a
    /// part of its scratch under a CPML (`None` without), and run
    /// `task(first row, lu, image, x)` on them in parallel, at least
    /// `min_tasks` tasks per rayon job. `x`'s scratch holds a part per task.
    fn adjoint_row_tasks(
        &self,
        rows: usize,
        min_tasks: usize,
        (lu, image): (&mut [T], &mut [T]),
        x: XAdjoint<'_, T>,
        task: impl Fn(usize, &mut [T], &mut [T], XParts<'_, T>) + Sync,
    ) {
        let layout = &self.model.layout;
        let nxp = layout.nxp;
        let tasks = lu.par_chunks_mut(rows * nxp).zip(image.par_chunks_mut(rows * nxp));
        match &self.model.cpml {
            None => {
                tasks.with_min_len(min_tasks).enumerate().for_each(|(b, (lu, image))| task(b * rows, lu, image, None))
            }
            Some(cpml) => {
                let width = 2 * cpml.strip();
                let memory = x.lpsi.par_chunks_mut(rows * width).zip(x.lzeta.par_chunks_mut(rows * width));
                let scratch = x.scratch.par_chunks_mut(cpml.adjoint_scratch_len(layout));
                tasks.zip(memory).zip(scratch).with_min_len(min_tasks).enumerate().for_each(
                    |(b, (((lu, image), (lpsi, lzeta)), scratch))| {
                        task(b * rows, lu, image, Some((lpsi, lzeta, scratch)))
                    },
                );
            }
        }
    }

    /// One task of the adjoint sweep: the interior adjoint of the padded
    /// rows `first ..` held in `lu` and `image` (whole rows; the μu
    /// contributions of [`adjoint_rows`], the halo rows above a free
    /// surface included), then their x-layer adjoint, `x` holding the same
    /// rows of `λψ_x` and `λζ_x` and a scratch part (`None` without a
    /// CPML). Per row, the result does not depend on how rows are grouped
    /// into tasks.
    fn adjoint_interior_and_x(
        &self,
        first: usize,
        fields: AdjointFields<'_, T>,
        lu: &mut [T],
        image: &mut [T],
        x: XParts<'_, T>,
    ) {
        let m = self.model;
        let layout = &m.layout;
        let (nxp, h) = (layout.nxp, layout.halo);
        // the vertical part of L μw alone on the halo rows above a free surface
        let extra_rows = if layout.free_surface { layout.pz - h..layout.pz } else { 0..0 };
        adjoint_rows(
            layout,
            &m.stencil,
            first,
            extra_rows,
            fields,
            AdjointRows { lu: &mut lu[..], image: &mut image[..] },
        );
        // the x layers of the computed rows, after their interior update
        let (Some(cpml), Some((lpsi, lzeta, scratch))) = (&m.cpml, x) else {
            return;
        };
        let width = 2 * cpml.strip();
        let computed = layout.computed_rows();
        let rows = first.max(computed.start)..(first + lu.len() / nxp).min(computed.end);
        if rows.is_empty() {
            return;
        }
        let local = (rows.start - first) * nxp..(rows.end - first) * nxp;
        let global = rows.start * nxp..rows.end * nxp;
        let from_lw = (rows.start - fields.lw_first) * nxp..(rows.end - fields.lw_first) * nxp;
        let x = (rows.start - first) * width..(rows.end - first) * width;
        let out = ImagedAdjoint {
            lu: &mut lu[local.clone()],
            image: &mut image[local],
            u: &fields.u[global.clone()],
            c: &fields.c[global],
        };
        cpml.adjoint_x_rows(layout, &fields.lw[from_lw], &mut lpsi[x.clone()], &mut lzeta[x], out, scratch);
    }

    /// The z layers' adjoint (`out` whole padded arrays; nothing without a
    /// CPML): each strip's rows couple, so one task per strip, the two
    /// strips in parallel when their rows are apart.
    fn adjoint_z_strips(&self, lw: &[T], out: ImagedAdjoint<'_, T>, z: ZAdjoint<'_, T>) {
        let m = self.model;
        let Some(cpml) = &m.cpml else {
            return;
        };
        let layout = &m.layout;
        let nxp = layout.nxp;
        let ImagedAdjoint { lu, image, u, c } = out;
        let ZAdjoint { lpsi: lpsi_z, lzeta: lzeta_z, scratch: z_scratch } = z;
        let (strip, firsts) = (cpml.strip(), cpml.z_strip_rows());
        let scratch_len = cpml.adjoint_z_scratch_len(layout);
        let group_task = |group: usize,
                          out: ImagedAdjoint<'_, T>,
                          out_first: usize,
                          lpsi: &mut [T],
                          lzeta: &mut [T],
                          scratch: &mut [T]| {
            cpml.adjoint_z_group(layout, group, lw, lpsi, lzeta, out, out_first, scratch);
        };
        if let [top, bottom] = *firsts
            && top + strip <= bottom
        {
            let split = bottom * nxp;
            let (lu_top, lu_bottom) = lu.split_at_mut(split);
            let (image_top, image_bottom) = image.split_at_mut(split);
            let (u_top, u_bottom) = u.split_at(split);
            let (c_top, c_bottom) = c.split_at(split);
            let (lpsi_top, lpsi_bottom) = lpsi_z.split_at_mut(strip * nxp);
            let (lzeta_top, lzeta_bottom) = lzeta_z.split_at_mut(strip * nxp);
            let (scratch_top, scratch_bottom) = z_scratch.split_at_mut(scratch_len);
            m.join(
                || {
                    let out = ImagedAdjoint { lu: lu_top, image: image_top, u: u_top, c: c_top };
                    group_task(0, out, 0, lpsi_top, lzeta_top, scratch_top)
                },
                || {
                    let out = ImagedAdjoint { lu: lu_bottom, image: image_bottom, u: u_bottom, c: c_bottom };
                    group_task(1, out, bottom, lpsi_bottom, lzeta_bottom, scratch_bottom)
                },
            );
        } else {
            for group in 0..firsts.len() {
                let block = group * strip * nxp..(group + 1) * strip * nxp;
                let (lpsi, lzeta) = (&mut lpsi_z[block.clone()], &mut lzeta_z[block]);
                let out = ImagedAdjoint { lu: &mut lu[..], image: &mut image[..], u, c };
                group_task(group, out, 0, lpsi, lzeta, &mut z_scratch[..scratch_len]);
            }
        }
    }

    /// Below a free surface, `λw` of the next step folds in the mirror
    /// row's `λu` (which the sponge does not taper) with a minus sign: over
    /// the row's taper `S`, that is part of the row's increment, so the
    /// image gains `−u ⊙ λu(mirror) / S` (`lu` the whole updated `μu`).
    fn adjoint_surface_image(&self, image: &mut [T], u: &[T], lu: &[T]) {
        let m = self.model;
        let layout = &m.layout;
        if !layout.free_surface {
            return;
        }
        let (nxp, s) = (layout.nxp, layout.pz);
        for k in 1..=layout.halo {
            let (row, mirror) = ((s + k) * nxp..(s + k + 1) * nxp, (s - k) * nxp..(s - k + 1) * nxp);
            let taper = |j: usize| m.sponge.as_ref().map_or(T::one(), |sponge| sponge.factor(s + k, j));
            let terms = image[row.clone()].iter_mut().zip(&u[row]).zip(&lu[mirror]);
            for (j, ((image, &u), &l)) in terms.enumerate() {
                *image -= u * l / taper(j);
            }
        }
    }
}

/// The z-layer part of an adjoint state: `λψ_z`, `λζ_z` and their scratch.
struct ZAdjoint<'a, T> {
    lpsi: &'a mut [T],
    lzeta: &'a mut [T],
    scratch: &'a mut [T],
}

/// The x-layer part of an adjoint state: `λψ_x`, `λζ_x` and their scratch
/// (empty without a CPML).
struct XAdjoint<'a, T> {
    lpsi: &'a mut [T],
    lzeta: &'a mut [T],
    scratch: &'a mut [T],
}

/// The x-layer part of one task of rows: its rows of `λψ_x` and `λζ_x`,
/// and a scratch part (`None` without a CPML).
type XParts<'a, T> = Option<(&'a mut [T], &'a mut [T], &'a mut [T])>;
