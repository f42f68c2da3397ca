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
//! top down, and the second step's on the rows `k` whose inputs
//! `Y[k−H ..= k+H]` the first step has finished and whose `X[k]` it no
//! longer reads, `H` rows behind. Rows that the later parts of the first
//! step touch (the z strips, the receivers' rows where the residual goes
//! in, the rows near a free surface), within `H` rows of them, and within
//! `H` rows of a band's edge wait. Phase 2: the first step's z strips and
//! free-surface image term, the residual of step `n`, the second step's
//! free-surface fold. Phase 3: the second step on the rows that waited.
//! Phase 4: its z strips and free-surface image term, the residual of step
//! `n − 1`.
//!
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
use super::{AcousticAdjoint, AcousticShot, AcousticState, XAdjoint, XParts, ZAdjoint, adjoint_block};
use crate::propagator::Parallelism;
use crate::real::Real;
use std::marker::PhantomData;
use std::ops::Range;

/// Rows of the first step per call in phase 1: the second step follows
/// within this many rows plus `H`, so the rows it reads are still cached.
const PAIR_CHUNK: usize = 8;

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
    /// Per padded row, whether the second step of a pair waits for phase 3
    /// (see the module documentation): its rows `k − H ..= k + H` meet the
    /// rows that the first step's later parts change (a z strip's rows, a
    /// receiver's interpolation rows, the rows down to `H` below a free
    /// surface).
    pub(super) fn pair_waits(&self) -> Vec<bool> {
        let layout = &self.model.layout;
        let (nxp, nzp, h) = (layout.nxp, layout.nzp, layout.halo);
        let mut touched = vec![false; nzp];
        if let Some(cpml) = &self.model.cpml {
            for &first in cpml.z_strip_rows() {
                touched[first..(first + cpml.strip()).min(nzp)].fill(true);
            }
        }
        for p in 0..self.receivers.len() {
            for (cell, _) in self.receivers.entries(p) {
                touched[cell / nxp] = true;
            }
        }
        if layout.free_surface {
            touched[..(layout.pz + h + 1).min(nzp)].fill(true);
        }
        (0..nzp).map(|k| touched[k.saturating_sub(h)..(k + h + 1).min(nzp)].contains(&true)).collect()
    }

    /// Whether the pair runs fused on this shot: not under a sponge, not in 1D.
    pub(super) fn pair_applies(&self) -> bool {
        self.model.sponge.is_none() && self.model.layout.has_z
    }

    /// The reversals of steps `n` and `n − 1` with the forward fields
    /// `fields = [u^n, u^{n−1}]` and the residuals `[r_n, r_{n−1}]`, fused
    /// (see the module documentation; [`pair_applies`](Self::pair_applies) must hold).
    pub(super) fn reverse_pair_with(&self, fields: [&[T]; 2], residuals: [&[T]; 2], a: &mut AcousticAdjoint<T>) {
        let m = self.model;
        let layout = &m.layout;
        let (nxp, nzp, h, c) = (layout.nxp, layout.nzp, layout.halo, &m.c2dt2);
        let [u1, u2] = fields;
        let AcousticAdjoint { state, image, z_scratch, strip_scratch, pair_waits } = a;
        let AcousticState { u: lx, u_prev: ly, psi_x, zeta_x, psi_z, zeta_z } = state;
        let waits: &[bool] = pair_waits;
        if layout.free_surface {
            adjoint_free_surface(layout, lx, c);
        }
        // one band per thread, at most one per scratch part of the x layers
        let block = adjoint_block(layout);
        let threads = match m.config.parallelism {
            Parallelism::Rows => rayon::current_num_threads(),
            Parallelism::Serial => 1,
        };
        let band = nzp.div_ceil(threads.clamp(1, nzp.div_ceil(block)));
        let band_of = |k: usize| k / band * band..((k / band + 1) * band).min(nzp);
        // the rows the second step runs in phase 1: in its band's core (`H`
        // rows from the band's edges), not waiting for phase 2
        let early = |k: usize| {
            let rows = band_of(k);
            !waits[k] && k >= rows.start + h && k + h < rows.end
        };
        let x_width = m.cpml.as_ref().map_or(0, |cpml| 2 * cpml.strip());

        // phase 1
        {
            let shared_x = SharedRows::new(&mut lx[..], nxp);
            let phase1 = |first: usize, ly: &mut [T], image: &mut [T], mut x: XParts<'_, T>| {
                let rows = first..first + ly.len() / nxp;
                let local = |k: Range<usize>| (k.start - rows.start) * nxp..(k.end - rows.start) * nxp;
                let mut next = rows.start;
                let mut row = rows.start;
                while row < rows.end {
                    let end = (row + PAIR_CHUNK).min(rows.end);
                    let reads = row.saturating_sub(h)..(end + h).min(nzp);
                    // SAFETY: `X` is written in this phase only by the
                    // second steps below, each on rows `k` of its own
                    // band's core (`early`), at least `H` rows from the
                    // band's edges, so never on the rows within `H` of
                    // another band, which are all this band reads beyond
                    // its own; of its own rows it writes only those that
                    // its first step has passed (`k + H < end` of an
                    // earlier chunk), which it reads no more.
                    let lw = unsafe { shared_x.rows(reads.clone()) };
                    let fields = AdjointFields { lw, lw_first: reads.start, cached: false, c, u: u1 };
                    let own = local(row..end);
                    let x_part = x_rows(&mut x, row - rows.start..end - rows.start, x_width);
                    self.adjoint_interior_and_x(row, fields, &mut ly[own.clone()], &mut image[own], x_part);
                    row = end;
                    // the second step, `H` rows behind
                    let limit = end.saturating_sub(h);
                    for run in runs(next..limit, early) {
                        let lw = &ly[local(run.start - h..run.end + h)];
                        let fields = AdjointFields { lw, lw_first: run.start - h, cached: true, c, u: u2 };
                        // SAFETY: rows of this band's core that its first
                        // step no longer reads (`run.end + H <= end`) and
                        // that no other band reads or writes (see above)
                        let lu = unsafe { shared_x.rows_mut(run.clone()) };
                        let x_part = x_rows(&mut x, run.start - rows.start..run.end - rows.start, x_width);
                        self.adjoint_interior_and_x(run.start, fields, lu, &mut image[local(run)], x_part);
                    }
                    next = next.max(limit);
                }
            };
            let x = XAdjoint { lpsi: psi_x, lzeta: zeta_x, scratch: strip_scratch };
            self.adjoint_row_tasks(band, 1, (ly, image), x, phase1);
        }

        // phase 2: the rest of the first step, the residual of step n, the second step's free-surface fold
        let out = ImagedAdjoint { lu: &mut ly[..], image: &mut image[..], u: u1, c };
        self.adjoint_z_strips(lx, out, ZAdjoint { lpsi: psi_z, lzeta: zeta_z, scratch: z_scratch });
        self.adjoint_surface_image(image, u1, ly);
        self.inject_into(u1, residuals[0], ly, image);
        if layout.free_surface {
            adjoint_free_surface(layout, ly, c);
        }

        // phase 3: the second step on the rows that waited, by blocks of rows in parallel
        let ly: &[T] = ly;
        let fields = AdjointFields { lw: ly, lw_first: 0, cached: false, c, u: u2 };
        let phase3 = |first: usize, lx: &mut [T], image: &mut [T], mut x: XParts<'_, T>| {
            for rows in runs(first..first + lx.len() / nxp, |k| !early(k)) {
                let own = (rows.start - first) * nxp..(rows.end - first) * nxp;
                let x_part = x_rows(&mut x, rows.start - first..rows.end - first, x_width);
                self.adjoint_interior_and_x(rows.start, fields, &mut lx[own.clone()], &mut image[own], x_part);
            }
        };
        let x = XAdjoint { lpsi: psi_x, lzeta: zeta_x, scratch: strip_scratch };
        self.adjoint_row_tasks(block, m.min_rows_per_task().div_ceil(block), (lx, image), x, phase3);

        // phase 4: the rest of the second step and the residual of step n − 1
        let out = ImagedAdjoint { lu: &mut lx[..], image: &mut image[..], u: u2, c };
        self.adjoint_z_strips(ly, out, ZAdjoint { lpsi: psi_z, lzeta: zeta_z, scratch: z_scratch });
        self.adjoint_surface_image(image, u2, lx);
        self.inject_into(u2, residuals[1], lx, image);
    }
}
