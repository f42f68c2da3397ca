//! Two adjoint steps fused into one sweep over the grid (temporal
//! blocking): the reversal of step `n` and, right behind it, that of step
//! `n − 1`, bitwise the same as the two steps one after the other (with
//! the residual of step `n` injected between them and that of `n − 1`
//! after).
//!
//! Why: a single adjoint step reads the two adjoint fields, `c`, the
//! forward field and the image and writes an adjoint field and the image,
//! 28 bytes a cell in `f32` against the forward step's 16. Where both are
//! bound by memory traffic (grids of a million cells and more on this
//! machine), that ratio is the cost ratio. Fused, the second step reads
//! the rows the first one just wrote while they are still in the cache:
//! each adjoint field, `c` and the image cross memory once for both steps,
//! 18 bytes a cell a step.
//!
//! How. With `X` the adjoint state's `u` (`μw` of the first step) and `Y`
//! its `u_prev`, the first step writes `Y` from `X`, the second `X` from
//! `Y`. The rows are cut into one band per thread. Phase 1: each band
//! runs the first step's interior and x-layer adjoint in chunks of rows,
//! top down (or bottom up, on every other pair, where there is one band:
//! see [`Sweep`]), and the second step's on the rows `k` whose inputs
//! `Y[k−H ..= k+H]` the first step has finished and whose `X[k]` it no
//! longer reads, `H` rows behind. A z strip that lies inside the band gets
//! the first step's z-layer adjoint as soon as the first step has passed
//! it, and the second step's as soon as the second step has; the residual
//! of step `n` goes in as soon as the first step has passed the
//! receivers' rows (and the strips they meet), that of `n − 1` as soon as
//! the second step has. Until then the second step waits for those rows,
//! so it finds every input final. Rows within `H` of a band's edge, of
//! the free-surface rows, or of a strip or receivers that do not fit in
//! one band (or that come near the free surface) wait for phase 3. Phase 2:
//! the first step's z strips that did not run in phase 1, its free-surface
//! image term and (if it did not go in yet) the residual of step `n`, the
//! second step's free-surface fold. Phase 3: the second step on the rows
//! that waited. Phase 4: the second step's remaining z strips, its
//! free-surface image term, and the residual of step `n − 1` if it did not
//! go in yet. [`PairPlan`] decides which part runs where.
//!
//! Running the strips and the residuals inside phase 1, while their rows
//! are in the cache, rather than in phases 2-4 (as at first): on an Intel
//! Xeon with AVX-512 (2026-12-07, `pdeinv bench --threads T adjoint
//! --shape N,N --nt 200`, two alternating rounds), the paired ratio went
//! from 1.85-1.86 to 1.40-1.41 at 600 x 600 on two threads, from
//! 1.46-1.50 to 1.40-1.42 on one, and from 1.38-1.55 to 1.29-1.40 at
//! 1000 and 2000. On two threads the phases after the first, which ran
//! the strips and the waiting rows, had taken 29-35 % of a pair.

//! Every row goes through the same per-row operations as in the unfused
//! step ([`AcousticShot::step_adjoint`](crate::AdjointPropagator::step_adjoint)),
//! in the same order per cell, and their arithmetic does not depend on how
//! rows are grouped, so the result is bitwise that of the two steps
//! whatever the number of threads (tested). A sponge tapers whole arrays
//! between the steps, so the pair declines there.
//!
//! Safety: in phase 1 a band reads the `H` rows of `X` beyond each of its
//! edges, which the neighbouring band also reads, while it writes rows of
//! `X` in its own core. Slices cannot express that split (the rows a band
//! reads overlap the rows it writes, at different times), so `X` is lent
//! through [`SharedRows`], which hands out slices of given rows; each use
//! states which rows nobody else touches meanwhile.
#![allow(unsafe_code)]

use super::boundary::{ImagedAdjoint, adjoint_free_surface};
use super::kernel::AdjointFields;
use super::{AcousticAdjoint, AcousticShot, AcousticState, PairFusion, XAdjoint, XParts, adjoint_block};
use crate::propagator::Parallelism;
use crate::real::Real;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

/// Rows of the first step per call in phase 1: the second step follows
/// within this many rows plus `H`, so the rows it reads are still cached.
/// With several bands.
const PAIR_CHUNK: usize = 8;

/// [`PAIR_CHUNK`] where phase 1 runs one band (one thread). On an Intel
/// Xeon with AVX-512 (2026-12-07, `pdeinv bench --threads 1 adjoint
/// --shape N,N --nt 200`, five alternating rounds, pair steps) the median
/// went from 0.0611 to 0.0594 ms at 200 x 200 and from 0.1629 to 0.1574 at
/// 400, and stayed within 1 % at 250 and 300; on two threads, 16 rows were
/// slower at 300 (0.060-0.062 ms against 0.054, two rounds).
const SINGLE_BAND_PAIR_CHUNK: usize = 16;

/// The largest pair, in bytes of its six whole arrays (two adjoint time
/// levels, two forward fields, `c` and the image), whose sweeps alternate
/// direction (see [`Sweep`]): about 480 x 480 cells in `f32`.
const ALTERNATE_MAX_BYTES: usize = 8 << 20;

/// Arrays a single adjoint step streams: the two adjoint time levels, `c`,
/// the forward field and the image.
const SINGLE_STEP_ARRAYS: usize = 5;

/// Whether fusing pays ([`PairFusion::Auto`]), by the bytes of the arrays a
/// single adjoint step streams over a band of phase 1 (`band_bytes`),
/// against the level-2 cache of a core: on one band above 0.8 of it, on
/// several above 1.1.
///
/// Measured on an Intel Xeon with AVX-512 and 2 MiB of level-2 cache a
/// core (2026-12-07, `pdeinv bench --threads T adjoint --shape N,N --nt
/// 200`, which prints the ratio of the steps one by one and fused, two or
/// three rounds, f32, CPML of 20 cells at order 8):
/// - one thread: one by one was faster up to 200 x 200 (1.31-1.35 against
///   1.38 at 200; 1.23 MB of arrays), as fast at 225 and 240 (1.49 and
///   1.66 MB), slower from 250 on (1.40 against 1.37-1.38 at 250, 1.53-1.55
///   against 1.37-1.41 at 300);
/// - two threads (two bands): one by one was faster up to 420 x 420
///   (1.11-1.12 against 1.25-1.33 at 300, 1.15-1.19 against 1.25-1.38 at 400
///   in three rounds but 1.17-1.18 against 1.14-1.30 in two others, 1.23-1.28
///   against 1.26-1.36 at 420; 2.19 MB a band), slower from 450 (1.41-1.85
///   against 1.35-1.41; 2.48 MB a band). With several bands the pair also
///   waits at the bands' edges (phases 2-4), which moves the crossover up.
fn fusion_pays(band_bytes: usize, bands: usize, level2_bytes: usize) -> bool {
    if bands <= 1 { 5 * band_bytes > 4 * level2_bytes } else { 10 * band_bytes > 11 * level2_bytes }
}

/// Most waiting cells that phase 3 runs on one thread (see there). On two
/// threads at 400 x 400 and 600 x 600 (16 rows wait), phase 3 took 9-10 µs
/// a pair that way against 15-16 µs spread over the threads (one run each,
/// `bench adjoint --nt 400`, timed per phase by a temporary probe).
const SERIAL_PHASE3_CELLS: usize = 16_384;

/// A padded array lent to several tasks at once as rows: each borrows the
/// rows it reads or writes for the time of one call.
struct SharedRows<'a, T> {
    values: *mut T,
    len: usize,
    nxp: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

// SAFETY: a `SharedRows` is a `&mut [T]` handed out in disjoint pieces
// (see the methods' contracts), which may cross threads as `&mut [T]` does.
unsafe impl<T: Send + Sync> Sync for SharedRows<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for SharedRows<'_, T> {}

impl<'a, T> SharedRows<'a, T> {
    fn new(values: &'a mut [T], nxp: usize) -> Self {
        SharedRows { values: values.as_mut_ptr(), len: values.len(), nxp, _borrow: PhantomData }
    }

    fn span(&self, rows: &Range<usize>) -> (usize, usize) {
        assert!(rows.start <= rows.end && rows.end * self.nxp <= self.len, "rows {rows:?} outside the array");
        (rows.start * self.nxp, rows.len() * self.nxp)
    }

    /// The padded rows `rows`, to read.
    ///
    /// # Safety
    /// Nothing writes these rows while the slice lives.
    unsafe fn rows(&self, rows: Range<usize>) -> &[T] {
        let (at, len) = self.span(&rows);
        // SAFETY: in bounds (checked by `span`), and not written meanwhile (the caller's contract)
        unsafe { std::slice::from_raw_parts(self.values.add(at), len) }
    }

    /// The padded rows `rows`, to write.
    ///
    /// # Safety
    /// Nothing else reads or writes these rows while the slice lives.
    #[allow(clippy::mut_from_ref)]
    unsafe fn rows_mut(&self, rows: Range<usize>) -> &mut [T] {
        let (at, len) = self.span(&rows);
        // SAFETY: in bounds (checked by `span`), and used by no one else meanwhile (the caller's contract)
        unsafe { std::slice::from_raw_parts_mut(self.values.add(at), len) }
    }
}

/// Rows `rows` (relative to the task's first row) of a task's x-layer
/// part, `width` values a row.
fn x_rows<'b, T>(x: &'b mut XParts<'_, T>, rows: Range<usize>, width: usize) -> XParts<'b, T> {
    let (lpsi, lzeta, scratch) = x.as_mut()?;
    let span = rows.start * width..rows.end * width;
    Some((&mut lpsi[span.clone()], &mut lzeta[span], &mut scratch[..]))
}

/// The runs of consecutive rows in `rows` where `keep` holds.
fn runs(rows: Range<usize>, keep: impl Fn(usize) -> bool) -> impl Iterator<Item = Range<usize>> {
    let end = rows.end;
    let mut next = rows.start;
    std::iter::from_fn(move || {
        let start = (next..end).find(|&k| keep(k))?;
        next = (start + 1..end).find(|&k| !keep(k)).unwrap_or(end);
        Some(start..next)
    })
}

impl<T: Real> AcousticShot<'_, T> {
    /// The padded rows that the receivers' interpolation touches (empty
    /// without receivers).
    pub(super) fn receiver_rows(&self) -> Range<usize> {
        let nxp = self.model.layout.nxp;
        let rows = (0..self.receivers.len()).flat_map(|p| self.receivers.entries(p).map(|(cell, _)| cell / nxp));
        rows.fold(None, |span: Option<Range<usize>>, k| {
            Some(span.map_or(k..k + 1, |span| span.start.min(k)..span.end.max(k + 1)))
        })
        .unwrap_or(0..0)
    }

    /// Whether the pair can run fused on this shot: not under a sponge, not in 1D.
    pub(super) fn pair_applies(&self) -> bool {
        self.model.sponge.is_none() && self.model.layout.has_z
    }

    /// Whether the pair runs fused: where it applies, as the shot's
    /// [`PairFusion`] says.
    pub(super) fn pair_fuses(&self) -> bool {
        self.pair_applies()
            && match self.model.config.pair_fusion {
                PairFusion::Always => true,
                PairFusion::Never => false,
                PairFusion::Auto => {
                    let (band, bands) = self.pair_bands();
                    let bytes = SINGLE_STEP_ARRAYS * band * self.model.layout.nxp * std::mem::size_of::<T>();
                    fusion_pays(bytes, bands, crate::cache::level2_bytes())
                }
            }
    }

    /// The padded rows of each band of phase 1 (one per thread, at most one
    /// per scratch part of the x layers) and the number of bands.
    fn pair_bands(&self) -> (usize, usize) {
        let m = self.model;
        let nzp = m.layout.nzp;
        let threads = match m.config.parallelism {
            Parallelism::Rows => rayon::current_num_threads(),
            Parallelism::Serial => 1,
        };
        let band = nzp.div_ceil(threads.clamp(1, nzp.div_ceil(adjoint_block(&m.layout))));
        (band, nzp.div_ceil(band))
    }

    /// The reversals of steps `n` and `n − 1` with the forward fields
    /// `fields = [u^n, u^{n−1}]` and the residuals `[r_n, r_{n−1}]`, fused
    /// (see the module documentation; [`pair_applies`](Self::pair_applies) must hold).
    pub(super) fn reverse_pair_with(
        &self,
        fields: [&[T]; 2],
        residuals: [&[T]; 2],
        sweep: Sweep,
        a: &mut AcousticAdjoint<T>,
    ) {
        let m = self.model;
        let layout = &m.layout;
        let (nxp, nzp, h, c) = (layout.nxp, layout.nzp, layout.halo, &m.c2dt2);
        let [u1, u2] = fields;
        let AcousticAdjoint { state, image, z_scratch, strip_scratch, receiver_rows } = a;
        let AcousticState { u: lx, u_prev: ly, psi_x, zeta_x, psi_z, zeta_z } = state;
        if layout.free_surface {
            adjoint_free_surface(layout, lx, c);
        }
        let block = adjoint_block(layout);
        let (band, bands) = self.pair_bands();
        let plan = PairPlan::new(self, band, receiver_rows.clone());
        // alternating directions paid on one band of a small grid only (see `Sweep`)
        let pair_bytes = 6 * layout.len() * std::mem::size_of::<T>();
        let sweep = if bands == 1 && pair_bytes <= ALTERNATE_MAX_BYTES { sweep } else { Sweep::Down };
        let chunk_rows = if bands == 1 { SINGLE_BAND_PAIR_CHUNK } else { PAIR_CHUNK };
        let x_width = m.cpml.as_ref().map_or(0, |cpml| 2 * cpml.strip());
        let (strip, z_scratch_len) =
            m.cpml.as_ref().map_or((0, 0), |cpml| (cpml.strip(), cpml.adjoint_z_scratch_len(layout)));

        // phase 1
        {
            let shared_x = SharedRows::new(&mut lx[..], nxp);
            // each z group's memory variables and scratch, for the band that runs it inline
            let group_parts = z_group_parts((psi_z, zeta_z, z_scratch), strip * nxp, z_scratch_len).map(Mutex::new);
            let phase1 = |first: usize, ly: &mut [T], image: &mut [T], mut x: XParts<'_, T>| {
                let rows = first..first + ly.len() / nxp;
                let local = |k: Range<usize>| (k.start - rows.start) * nxp..(k.end - rows.start) * nxp;
                let global = |k: Range<usize>| k.start * nxp..k.end * nxp;
                // this band's inline z groups
                let mut groups: [Option<ZParts<'_, T>>; 2] = std::array::from_fn(|g| match plan.group(g) {
                    Some(z) if z.inline && rows.contains(&z.rows.start) => {
                        group_parts[g].lock().unwrap_or_else(PoisonError::into_inner).take()
                    }
                    _ => None,
                });
                let owned: [bool; 2] = std::array::from_fn(|g| groups[g].is_some());
                let receivers = plan.receivers_inline && rows.contains(&plan.receivers.start);
                let (mut done1, mut done2, mut injected1, mut injected2) = ([false; 2], [false; 2], false, false);
                // the rows each step has finished (or, for the second
                // step, left to phase 3), growing from the band's edge
                // where the sweep starts
                let mut first_done = sweep.start(&rows);
                let mut second_done = first_done.clone();
                while let Some(chunk) = sweep.next_chunk(&first_done, &rows, chunk_rows) {
                    let reads = chunk.start.saturating_sub(h)..(chunk.end + h).min(nzp);
                    // SAFETY: `X` is written in this phase only by this
                    // band's second step and its inline z groups and
                    // residual, on rows of this band at least `H` rows from
                    // its edges (see `PairPlan`), so never on the rows
                    // within `H` of another band, which are all this band
                    // reads beyond its own; of its own rows it writes only
                    // those whose whole stencil its first step has passed
                    // (`settled`), which it reads no more.
                    let lw = unsafe { shared_x.rows(reads.clone()) };
                    let fields = AdjointFields { lw, lw_first: reads.start, cached: false, c, u: u1 };
                    let own = local(chunk.clone());
                    let x_part = x_rows(&mut x, chunk.start - rows.start..chunk.end - rows.start, x_width);
                    self.adjoint_interior_and_x(chunk.start, fields, &mut ly[own.clone()], &mut image[own], x_part);
                    first_done = first_done.start.min(chunk.start)..first_done.end.max(chunk.end);
                    // the first step's z groups that it has passed
                    for g in 0..2 {
                        let Some(z) = plan.group(g) else { continue };
                        if let Some((lpsi, lzeta, scratch)) = &mut groups[g]
                            && !done1[g]
                            && covers(&first_done, &z.rows)
                        {
                            // SAFETY: rows of this band that its second step
                            // has not reached (they wait for this group)
                            let lw = unsafe { shared_x.rows(z.rows.clone()) };
                            let band_rows = global(rows.clone());
                            let out = ImagedAdjoint {
                                lu: &mut ly[..],
                                image: &mut image[..],
                                u: &u1[band_rows.clone()],
                                c: &c[band_rows],
                            };
                            self.z_group(g, (lw, z.rows.start), (lpsi, lzeta, scratch), out, rows.start);
                            done1[g] = true;
                        }
                    }
                    // the residual of step n, after the groups it meets
                    if receivers
                        && !injected1
                        && covers(&first_done, &plan.receivers)
                        && plan.groups_meeting_receivers().all(|g| done1[g])
                    {
                        self.inject_rows(u1, residuals[0], (&mut ly[..], rows.start), (&mut image[..], rows.start));
                        injected1 = true;
                    }
                    // the second step, `H` rows behind, on the rows whose inputs are final
                    let pending = |k: usize| {
                        (0..2).any(|g| owned[g] && !done1[g] && plan.group(g).is_some_and(|z| plan.near(k, &z.rows)))
                            || (receivers && !injected1 && plan.near(k, &plan.receivers))
                    };
                    let settled = sweep.settled(&first_done, h);
                    while let Some(k) = sweep.next_row(&second_done, &settled) {
                        if plan.waits(k) {
                            second_done = sweep.include(&second_done, k);
                            continue;
                        }
                        if pending(k) {
                            break;
                        }
                        let mut run = sweep.include(&second_done, k);
                        while let Some(j) = sweep.next_row(&run, &settled)
                            && !plan.waits(j)
                            && !pending(j)
                        {
                            run = sweep.include(&run, j);
                        }
                        let new = sweep.added(&second_done, &run);
                        second_done = run;
                        let lw = &ly[local(new.start - h..new.end + h)];
                        let fields = AdjointFields { lw, lw_first: new.start - h, cached: true, c, u: u2 };
                        // SAFETY: rows of this band's core that its first
                        // step no longer reads (`settled`) and that no other
                        // band reads or writes (see above)
                        let lu = unsafe { shared_x.rows_mut(new.clone()) };
                        let x_part = x_rows(&mut x, new.start - rows.start..new.end - rows.start, x_width);
                        self.adjoint_interior_and_x(new.start, fields, lu, &mut image[local(new)], x_part);
                    }
                    // the second step's z groups whose rows it has done
                    for g in 0..2 {
                        let Some(z) = plan.group(g) else { continue };
                        let written = z.rows.start + h..z.rows.end.saturating_sub(h);
                        if let Some((lpsi, lzeta, scratch)) = &mut groups[g]
                            && z.second_inline
                            && done1[g]
                            && !done2[g]
                            && covers(&second_done, &written)
                        {
                            let lw = &ly[local(z.rows.clone())];
                            // SAFETY: the group's computed rows, in this band's
                            // core, which its first step has passed
                            let lu = unsafe { shared_x.rows_mut(written.clone()) };
                            let cells = global(written.clone());
                            let out = ImagedAdjoint {
                                lu,
                                image: &mut image[local(written.clone())],
                                u: &u2[cells.clone()],
                                c: &c[cells],
                            };
                            self.z_group(g, (lw, z.rows.start), (lpsi, lzeta, scratch), out, written.start);
                            done2[g] = true;
                        }
                    }
                    // the residual of step n − 1, after the second step and the groups it meets
                    if receivers
                        && plan.receivers_second_inline
                        && !injected2
                        && covers(&second_done, &plan.receivers)
                        && plan.groups_meeting_receivers().all(|g| done2[g])
                    {
                        // SAFETY: rows of this band's core that its first step has passed
                        let lu = unsafe { shared_x.rows_mut(plan.receivers.clone()) };
                        self.inject_rows(u2, residuals[1], (lu, plan.receivers.start), (&mut image[..], rows.start));
                        injected2 = true;
                    }
                }
                for g in 0..2 {
                    assert!(
                        !owned[g] || (done1[g] && done2[g] == plan.group(g).is_some_and(|z| z.second_inline)),
                        "z group {g} of the pair"
                    );
                }
                assert!(!receivers || (injected1 && injected2 == plan.receivers_second_inline), "the pair's residuals");
            };
            let x = XAdjoint { lpsi: psi_x, lzeta: zeta_x, scratch: strip_scratch };
            self.adjoint_row_tasks(band, 1, (ly, image), x, phase1);
        }

        // phase 2: the rest of the first step, the residual of step n, the second step's free-surface fold
        let out = ImagedAdjoint { lu: &mut ly[..], image: &mut image[..], u: u1, c };
        self.z_groups_left(&plan, |z| z.inline, (psi_z, zeta_z, z_scratch), lx, out);
        self.adjoint_surface_image(image, u1, ly);
        if !plan.receivers_inline {
            self.inject_into(u1, residuals[0], ly, image);
        }
        if layout.free_surface {
            adjoint_free_surface(layout, ly, c);
        }

        // phase 3: the second step on the rows that waited, by blocks of rows in parallel
        let ly: &[T] = ly;
        let fields = AdjointFields { lw: ly, lw_first: 0, cached: false, c, u: u2 };
        let phase3 = |first: usize, lx: &mut [T], image: &mut [T], mut x: XParts<'_, T>| {
            for rows in runs(first..first + lx.len() / nxp, |k| plan.waits(k)) {
                let own = (rows.start - first) * nxp..(rows.end - first) * nxp;
                let x_part = x_rows(&mut x, rows.start - first..rows.end - first, x_width);
                self.adjoint_interior_and_x(rows.start, fields, &mut lx[own.clone()], &mut image[own], x_part);
            }
        };
        // where few cells wait (the bands' seams and the halo rows of a
        // small grid), one task on this thread: handing them to the other
        // threads costs more than it saves
        let waiting = (0..nzp).filter(|&k| plan.waits(k)).count() * nxp;
        let min_tasks = if waiting <= SERIAL_PHASE3_CELLS { usize::MAX } else { m.min_rows_per_task().div_ceil(block) };
        let x = XAdjoint { lpsi: psi_x, lzeta: zeta_x, scratch: strip_scratch };
        self.adjoint_row_tasks(block, min_tasks, (lx, image), x, phase3);

        // phase 4: the rest of the second step and the residual of step n − 1
        let out = ImagedAdjoint { lu: &mut lx[..], image: &mut image[..], u: u2, c };
        self.z_groups_left(&plan, |z| z.second_inline, (psi_z, zeta_z, z_scratch), ly, out);
        self.adjoint_surface_image(image, u2, lx);
        if !plan.receivers_second_inline {
            self.inject_into(u2, residuals[1], lx, image);
        }
    }

    /// The z-layer adjoints of a step that phase 1 did not run (`ran`
    /// says which it did), on whole arrays: `parts` all groups' memory
    /// variables and scratch, `lw` the adjoint they read, `out` where their
    /// contributions go.
    fn z_groups_left(
        &self,
        plan: &PairPlan,
        ran: impl Fn(&ZGroupPlan) -> bool,
        parts: ZParts<'_, T>,
        lw: &[T],
        out: ImagedAdjoint<'_, T>,
    ) {
        let Some(cpml) = &self.model.cpml else { return };
        let layout = &self.model.layout;
        let groups = z_group_parts(parts, cpml.strip() * layout.nxp, cpml.adjoint_z_scratch_len(layout));
        let ImagedAdjoint { lu, image, u, c } = out;
        for (g, parts) in groups.into_iter().enumerate() {
            if let (Some(z), Some(parts)) = (plan.group(g), parts)
                && !ran(z)
            {
                let out = ImagedAdjoint { lu: &mut *lu, image: &mut *image, u, c };
                self.z_group(g, (lw, 0), parts, out, 0);
            }
        }
    }

    /// The z-layer adjoint of group `g` (see `Cpml::adjoint_z_group`).
    fn z_group(
        &self,
        g: usize,
        lw: (&[T], usize),
        (lpsi, lzeta, scratch): ZParts<'_, T>,
        out: ImagedAdjoint<'_, T>,
        out_first: usize,
    ) {
        let cpml = self.model.cpml.as_ref().expect("z groups exist under a CPML");
        cpml.adjoint_z_group_from(&self.model.layout, g, lw, lpsi, lzeta, out, out_first, scratch);
    }
}

/// A z group's `λψ_z` and `λζ_z` and its scratch part.
type ZParts<'a, T> = (&'a mut [T], &'a mut [T], &'a mut [T]);

/// Each z group's `λψ_z`, `λζ_z` (`block` values a group) and scratch
/// part (`scratch` values), `None` past the groups there are.
fn z_group_parts<'a, T>(
    (psi_z, zeta_z, z_scratch): ZParts<'a, T>,
    block: usize,
    scratch: usize,
) -> [Option<ZParts<'a, T>>; 2] {
    let mut psi = psi_z.chunks_mut(block.max(1));
    let mut zeta = zeta_z.chunks_mut(block.max(1));
    let mut scratch = z_scratch.chunks_mut(scratch.max(1));
    std::array::from_fn(|_| match (psi.next(), zeta.next(), scratch.next()) {
        (Some(psi), Some(zeta), Some(scratch)) => Some((psi, zeta, scratch)),
        _ => None,
    })
}

/// A z strip's rows and where its two adjoints run.
#[derive(Debug, Clone)]
struct ZGroupPlan {
    /// The strip's padded rows.
    rows: Range<usize>,
    /// Whether the first step's adjoint of the strip runs in phase 1, in
    /// the band that holds the strip, as soon as the first step has passed
    /// it (otherwise in phase 2).
    inline: bool,
    /// Whether the second step's does too (otherwise in phase 4).
    second_inline: bool,
}

/// Where each part of a fused pair runs, for a band height: which rows
/// the second step leaves to phase 3 ([`waits`](Self::waits)), and which
/// z groups and residual injections run inside phase 1.
struct PairPlan {
    h: usize,
    band: usize,
    nzp: usize,
    /// Rows `0..surface` are those the free-surface operations touch.
    surface: usize,
    groups: [Option<ZGroupPlan>; 2],
    receivers: Range<usize>,
    receivers_inline: bool,
    receivers_second_inline: bool,
}

impl PairPlan {
    fn new<T: Real>(shot: &AcousticShot<'_, T>, band: usize, receivers: Range<usize>) -> Self {
        let layout = &shot.model.layout;
        let (h, nzp) = (layout.halo, layout.nzp);
        let surface = if layout.free_surface { (layout.pz + h + 1).min(nzp) } else { 0 };
        let mut plan = PairPlan {
            h,
            band,
            nzp,
            surface,
            groups: [None, None],
            receivers,
            receivers_inline: false,
            receivers_second_inline: false,
        };
        if let Some(cpml) = &shot.model.cpml {
            let firsts = cpml.z_strip_rows();
            assert!(firsts.len() <= 2, "at most two z strips");
            let strip_rows = |first: usize| first..(first + cpml.strip()).min(nzp);
            // inline: inside one band, clear of the free surface, and not
            // overlapping the other strip (whose order they would change)
            let apart = firsts.len() < 2 || strip_rows(firsts[0]).end <= firsts[1];
            for (g, &first) in firsts.iter().enumerate() {
                let rows = strip_rows(first);
                let inline = apart && rows.end <= plan.band_of(rows.start).end && plan.clear_of_surface(&rows);
                plan.groups[g] = Some(ZGroupPlan { rows, inline, second_inline: false });
            }
        }
        let r = plan.receivers.clone();
        plan.receivers_inline = !r.is_empty()
            && r.end <= plan.band_of(r.start).end
            && plan.clear_of_surface(&r)
            && plan.groups.iter().flatten().all(|z| z.inline || !overlap(&z.rows, &r));
        // the second step's: where none of the rows it waits for stays for phase 3
        for g in 0..2 {
            if let Some(z) = &plan.groups[g]
                && z.inline
            {
                let second = (z.rows.start + h..z.rows.end.saturating_sub(h)).all(|k| !plan.waits(k));
                plan.groups[g].as_mut().unwrap().second_inline = second;
            }
        }
        plan.receivers_second_inline = plan.receivers_inline
            && r.clone().all(|k| !plan.waits(k))
            && plan.groups.iter().flatten().all(|z| z.second_inline || !overlap(&z.rows, &r));
        plan
    }

    /// Whether no row within `H` of `rows` is one the free-surface
    /// operations touch.
    fn clear_of_surface(&self, rows: &Range<usize>) -> bool {
        self.surface == 0 || rows.start >= self.surface + self.h
    }

    fn group(&self, g: usize) -> Option<&ZGroupPlan> {
        self.groups[g].as_ref()
    }

    /// The groups whose rows meet the receivers'.
    fn groups_meeting_receivers(&self) -> impl Iterator<Item = usize> + '_ {
        (0..2).filter(|&g| self.group(g).is_some_and(|z| overlap(&z.rows, &self.receivers)))
    }

    fn band_of(&self, k: usize) -> Range<usize> {
        k / self.band * self.band..((k / self.band + 1) * self.band).min(self.nzp)
    }

    /// Whether row `k`'s stencil (`k − H ..= k + H`) meets `rows`.
    fn near(&self, k: usize, rows: &Range<usize>) -> bool {
        !rows.is_empty() && k + self.h >= rows.start && k < rows.end + self.h
    }

    /// Whether the second step leaves row `k` to phase 3: within `H` rows
    /// of its band's edges or of the free-surface rows, or of a z strip or
    /// the receivers' rows whose first-step part waits for phase 2.
    fn waits(&self, k: usize) -> bool {
        let rows = self.band_of(k);
        k < rows.start + self.h
            || k + self.h >= rows.end
            || self.near(k, &(0..self.surface))
            || self.groups.iter().flatten().any(|z| !z.inline && self.near(k, &z.rows))
            || (!self.receivers_inline && self.near(k, &self.receivers))
    }
}

/// Which way phase 1 crosses each band. Consecutive pairs go opposite
/// ways ([`for_pair`](Self::for_pair)): the rows one pair touched last,
/// still in the cache, are those the next one starts from. Per cell the
/// operations and their order stay the same, so the result is bitwise
/// that of the two steps either way (tested).
///
/// Why: where a pair's arrays just overflow a core's level-2 cache (about
/// 2.5 MB at 300 x 300 in `f32`, on a core with 2 MB), a pair that
/// starts where the last one ended finds much of what it reads there
/// instead of in the level-3 cache. On an Intel Xeon with AVX-512
/// (2026-12-07, `pdeinv bench --threads 1 adjoint --shape N,N --nt 200`,
/// three alternating rounds) the paired ratio went from 1.49-1.58 to
/// 1.41-1.45 at 300 x 300 and from 1.39-1.47 to 1.33-1.37 at 350, and
/// stayed within noise at 200 and 250. Where the arrays are far larger
/// than the cache there is nothing to reuse, and going up was slower: at
/// 2000 x 2000 pair steps of 3.34-3.50 ms against 3.19-3.37 going down
/// (four rounds), also with the interior kernel prefetching the rows
/// above instead of below (tried, not kept). So only pairs of at most
/// [`ALTERNATE_MAX_BYTES`] alternate (the grids up to 400 x 400 measured
/// above). On two threads (two bands) alternating was slower as well:
/// pair steps of 0.0344-0.0386 ms against 0.0343-0.0395 at 200 and
/// 0.054-0.066 against 0.052-0.068 at 300 over eight rounds, medians 4 %
/// and 13 % higher. Why is not established, so with several bands every
/// pair goes down.
///
/// Each step's finished rows in a band form one range that grows from the
/// edge where the sweep starts; the methods below grow it in either
/// direction, so phase 1 is written once for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sweep {
    /// From the band's first row to its last.
    Down,
    /// From the band's last row to its first.
    Up,
}

impl Sweep {
    /// The direction of the pair that reverses steps `n` and `n − 1`: it
    /// alternates from one pair (`n`) to the next (`n − 2`).
    pub(super) fn for_pair(n: usize) -> Self {
        if (n / 2).is_multiple_of(2) { Sweep::Down } else { Sweep::Up }
    }

    /// No rows of `rows` done, at the edge where the sweep starts.
    fn start(self, rows: &Range<usize>) -> Range<usize> {
        match self {
            Sweep::Down => rows.start..rows.start,
            Sweep::Up => rows.end..rows.end,
        }
    }

    /// The next row beyond `done`, if it lies in `within`.
    fn next_row(self, done: &Range<usize>, within: &Range<usize>) -> Option<usize> {
        match self {
            Sweep::Down => (done.end >= within.start && done.end < within.end).then_some(done.end),
            Sweep::Up => (done.start > within.start && done.start <= within.end).then(|| done.start - 1),
        }
    }

    /// `done` with the next row `k` beyond it.
    fn include(self, done: &Range<usize>, k: usize) -> Range<usize> {
        match self {
            Sweep::Down => done.start..k + 1,
            Sweep::Up => k..done.end,
        }
    }

    /// The next `chunk` rows of `rows` beyond `done` (fewer at the edge),
    /// if any are left.
    fn next_chunk(self, done: &Range<usize>, rows: &Range<usize>, chunk: usize) -> Option<Range<usize>> {
        let chunk = match self {
            Sweep::Down => done.end..(done.end + chunk).min(rows.end),
            Sweep::Up => done.start.saturating_sub(chunk).max(rows.start)..done.start,
        };
        (!chunk.is_empty()).then_some(chunk)
    }

    /// The rows of `grown` (`done` grown) beyond `done`.
    fn added(self, done: &Range<usize>, grown: &Range<usize>) -> Range<usize> {
        match self {
            Sweep::Down => done.end..grown.end,
            Sweep::Up => grown.start..done.start,
        }
    }

    /// The rows of `done` whose stencil (`H = h` rows each side) the
    /// rows not yet done do not meet: those the first step has left for
    /// good.
    fn settled(self, done: &Range<usize>, h: usize) -> Range<usize> {
        match self {
            Sweep::Down => done.start..done.end.saturating_sub(h),
            Sweep::Up => done.start + h..done.end,
        }
    }
}

/// Whether `done` holds every row of `rows`.
fn covers(done: &Range<usize>, rows: &Range<usize>) -> bool {
    done.start <= rows.start && rows.end <= done.end
}

/// Whether two ranges share a value.
fn overlap(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

#[cfg(test)]
mod tests {
    use super::fusion_pays;

    #[test]
    fn fusion_pays_above_the_measured_crossovers() {
        let level2 = 2 << 20;
        // one band: 200 x 200 (1.23 MB) one by one, 250 x 250 (1.78 MB) fused
        assert!(!fusion_pays(1_230_080, 1, level2));
        assert!(fusion_pays(1_776_080, 1, level2));
        // two bands: 420 x 420 (2.19 MB a band) one by one, 450 (2.48 MB) fused
        assert!(!fusion_pays(2_190_240, 2, level2));
        assert!(fusion_pays(2_480_040, 2, level2));
        // the same arrays fuse on a smaller cache
        assert!(fusion_pays(1_230_080, 1, 1 << 20));
    }
}
