//! The implicit solve `A x = r` with `A = I + θ dt K` symmetric positive
//! definite: a fill-reducing ordering computed from the grid, faer's
//! supernodal sparse Cholesky factorisation `P A Pᵀ = L Lᵀ` (once per model),
//! and triangular solves written here on faer's supernodal storage.
//!
//! Orderings ([`FillOrdering`]): faer's approximate minimum degree (AMD) on
//! the whole grid, or nested dissection from the grid geometry: the longer
//! axis is cut by a grid line (the separator, ordered last), the two halves
//! are dissected again for `levels` rounds and AMD orders the pieces. With a
//! top-level cut the two halves of `L` are independent: their forward and
//! backward substitutions run on two threads, and only the separator is
//! solved on one. 1D grids keep the natural order (tridiagonal, no fill).
//!
//! The solves go supernode by supernode (a supernode is a run of columns of
//! `L` with one row pattern): dense triangular solve of the diagonal block,
//! then a dense product with the off-diagonal block scattered into (forward)
//! or gathered from (backward) the rows of the pattern. The factor is
//! repacked for the solves in groups of eight columns: the group's packed
//! triangle, then its panel below the triangle in blocks of eight rows ×
//! eight columns (one AVX-512 vector per column of a block), so a group is
//! read as one sequential stream, in solve order, and the backward dot
//! products of its eight columns share one pass over `z` (before: groups of
//! four columns, column after column, and one pass over `z` per column;
//! measured on the 512 × 512 benchmark, serial solve, about 8–10% faster).
//! Kernels are compiled for AVX-512 and AVX2 with runtime dispatch; every
//! sum is accumulated in a fixed order (eight partial sums per column, one
//! reduction tree; each panel row summed in column order), so results do not
//! depend on the instruction set or on the thread count.
//!
//! The backward substitution reads each group's panel from its end and
//! each block's columns from the last, so the whole backward solve is one
//! strictly descending stream of the packed factor, which the hardware
//! prefetchers follow (descending blocks read upwards inside ran at half
//! the speed: the backward solve cost 1.8x the forward one at 512 × 512,
//! now 1.0–1.2x). Its dot products keep their accumulators opaque to LLVM,
//! which otherwise transposed every 8 × 8 block for the final reductions
//! (measured at 256 × 256: 2.2 → 1.3 ms per step). The permutations into
//! and out of factor order run on the rayon pool. At 512 × 512 the wide
//! supernodes stream at about 0.45 ns per entry and thread, the memory's
//! pace; the 186 000 one-column supernodes of the AMD-ordered pieces cost
//! 1–2 ns per entry (their own overhead and scattered rows of `x`). Tried
//! and not kept: supernode amalgamation (faer's `relax`, CHOLMOD-like
//! settings: 4–10% more entries, no gain) and deeper dissection (`levels`
//! 4–20: 5% fewer entries at 4, more beyond, and no faster).
//!
//! `A` is symmetric, so the same solve is its own transpose: the adjoint
//! step reuses the factor unchanged.

use super::DiffusionError;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::LltRegularization;
use faer::perm::PermRef;
use faer::sparse::linalg::amd;
use faer::sparse::linalg::cholesky::supernodal::SupernodalLltRef;
use faer::sparse::linalg::cholesky::{
    CholeskySymbolicParams, SymbolicCholeskyRaw, SymmetricOrdering, factorize_symbolic_cholesky,
};
use faer::sparse::linalg::{SupernodalThreshold, SymbolicSupernodalParams};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Par, Side, Spec};
use multiversion::multiversion;
use rayon::prelude::*;

/// How the unknowns are ordered before the Cholesky factorisation: the
/// ordering decides the fill of `L`, hence the cost of every solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillOrdering {
    /// Approximate minimum degree (faer's AMD) on the whole grid.
    Amd,
    /// Nested dissection by grid lines, `levels` rounds (at least 1), with
    /// AMD ordering the pieces; the top-level halves are solved in parallel.
    NestedDissection {
        /// Rounds of bisection before AMD takes over.
        levels: usize,
    },
}

impl Default for FillOrdering {
    fn default() -> Self {
        FillOrdering::NestedDissection { levels: 1 }
    }
}

/// Supernode amalgamation: none. The solves stream `L` from memory, and
/// their time is proportional to the entries stored (measured: about 1 ns
/// per entry whatever the block sizes), so explicit zeros from merging cost
/// as much as fill and buy nothing.
const RELAX: &[(usize, f64)] = &[];

/// A grid cell count that the `u32` pattern indices cannot hold.
const MAX_UNKNOWNS: usize = u32::MAX as usize;

/// One supernode: columns `start..start + width` of `L`, whose values
/// (packed by [`pack_supernode`]) start at `values`; its off-diagonal rows
/// are `pattern[pattern..pattern + len]`, the first `own` of them in the
/// supernode's own part of the matrix (the rest in the separator).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Supernode {
    start: u32,
    width: u32,
    pattern: u32,
    len: u32,
    own: u32,
    values: usize,
}

/// The top-level dissection in factor columns: `[0, a)` and `[a, b)` are the
/// two independent halves, `[b, n)` the separator (with any supernode that
/// straddles it); supernodes `[0, sa)`, `[sa, sb)`, `[sb, ..)`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Split {
    a: usize,
    b: usize,
    sa: usize,
    sb: usize,
}

/// `P A Pᵀ = L Lᵀ` in supernodal form, with the permutation `P`.
#[derive(Debug, Clone, PartialEq)]
pub struct CholeskyFactor {
    n: usize,
    /// Factor column `k` is grid cell `perm[k]`.
    perm: Vec<usize>,
    /// Grid cell `i` is factor column `inverse[i]`.
    inverse: Vec<usize>,
    values: Vec<f64>,
    supernodes: Vec<Supernode>,
    pattern: Vec<u32>,
    split: Option<Split>,
    /// Largest `width + len` of a supernode (the solve scratch per thread).
    max_block: usize,
    nonzeros: usize,
}

/// Scratch of one solve, owned by the caller (kept in the propagator
/// states). Sized on first use; a default value holds nothing.
#[derive(Debug, Default)]
pub struct SolveWork {
    x: Vec<f64>,
    y_a: Vec<f64>,
    y_b: Vec<f64>,
    top: Vec<f64>,
}

impl SolveWork {
    /// Scratch sized for `factor`.
    pub fn new(factor: &CholeskyFactor) -> Self {
        let mut work = SolveWork::default();
        work.fit(factor);
        work
    }

    /// Size the buffers for `factor` (allocates only when they are too short).
    fn fit(&mut self, factor: &CholeskyFactor) {
        let top = factor.split.map_or(0, |s| factor.n - s.b);
        for (buffer, len) in [
            (&mut self.x, factor.n),
            (&mut self.y_a, factor.max_block),
            (&mut self.y_b, factor.max_block),
            (&mut self.top, top),
        ] {
            if buffer.len() < len {
                buffer.resize(len, 0.0);
            }
        }
    }
}

/// The lower pattern of the five-point graph of an `nz × nx` rectangle.
fn rectangle_pattern(nz: usize, nx: usize) -> (Vec<usize>, Vec<usize>) {
    let mut col_ptr = Vec::with_capacity(nz * nx + 1);
    let mut row_idx = Vec::with_capacity(3 * nz * nx);
    col_ptr.push(0);
    for iz in 0..nz {
        for ix in 0..nx {
            let p = iz * nx + ix;
            row_idx.push(p);
            if ix + 1 < nx {
                row_idx.push(p + 1);
            }
            if iz + 1 < nz {
                row_idx.push(p + nx);
            }
            col_ptr.push(row_idx.len());
        }
    }
    (col_ptr, row_idx)
}

/// AMD order of an `nz × nx` rectangle: position `k` holds local cell `order[k]`.
fn rectangle_amd(nz: usize, nx: usize) -> Result<Vec<usize>, DiffusionError> {
    let n = nz * nx;
    if n <= 2 {
        return Ok((0..n).collect());
    }
    let (col_ptr, row_idx) = rectangle_pattern(nz, nx);
    let pattern = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
    let mut order = vec![0usize; n];
    let mut inverse = vec![0usize; n];
    let mut memory = MemBuffer::try_new(amd::order_scratch::<usize>(n, row_idx.len()))
        .map_err(|_| DiffusionError::Factorization(format!("out of memory ordering {n} unknowns")))?;
    amd::order(&mut order, &mut inverse, pattern, amd::Control::default(), MemStack::new(&mut memory))
        .map_err(|e| DiffusionError::Factorization(format!("AMD ordering failed: {e:?}")))?;
    Ok(order)
}

/// Order the rectangle `[z0, z1) × [x0, x1)` of a grid with `nx` columns into
/// `out` by `levels` rounds of dissection, then AMD. `top` receives the
/// positions `(a, b)` that end the first and second halves of the first cut.
fn dissect(
    out: &mut Vec<usize>,
    nx: usize,
    (z0, z1, x0, x1): (usize, usize, usize, usize),
    levels: usize,
    top: &mut Option<(usize, usize)>,
) -> Result<(), DiffusionError> {
    let (height, width) = (z1 - z0, x1 - x0);
    if height == 0 || width == 0 {
        return Ok(());
    }
    if levels == 0 || height.max(width) < 3 {
        for k in rectangle_amd(height, width)? {
            out.push((z0 + k / width) * nx + x0 + k % width);
        }
        return Ok(());
    }
    let record = top.is_none();
    if record {
        // claim the first cut before recursing
        *top = Some((0, 0));
    }
    let (a, b);
    if width >= height {
        let m = x0 + width / 2;
        dissect(out, nx, (z0, z1, x0, m), levels - 1, top)?;
        a = out.len();
        dissect(out, nx, (z0, z1, m + 1, x1), levels - 1, top)?;
        b = out.len();
        out.extend((z0..z1).map(|z| z * nx + m));
    } else {
        let m = z0 + height / 2;
        dissect(out, nx, (z0, m, x0, x1), levels - 1, top)?;
        a = out.len();
        dissect(out, nx, (m + 1, z1, x0, x1), levels - 1, top)?;
        b = out.len();
        out.extend((x0..x1).map(|x| m * nx + x));
    }
    if record {
        *top = Some((a, b));
    }
    Ok(())
}

/// An elimination order (position `k` holds cell `order[k]`) and the
/// positions `(a, b)` ending the two halves of its top-level cut, if any.
type Order = (Vec<usize>, Option<(usize, usize)>);

/// The elimination order of an `[nz, nx]` grid (`dimension` 1 or 2).
fn elimination_order(dimension: usize, nz: usize, nx: usize, ordering: FillOrdering) -> Result<Order, DiffusionError> {
    if dimension == 1 {
        return Ok(((0..nz * nx).collect(), None));
    }
    match ordering {
        FillOrdering::Amd => Ok((rectangle_amd(nz, nx)?, None)),
        FillOrdering::NestedDissection { levels } => {
            let mut order = Vec::with_capacity(nz * nx);
            let mut top = None;
            dissect(&mut order, nx, (0, nz, 0, nx), levels.max(1), &mut top)?;
            Ok((order, top))
        }
    }
}

/// Columns per group in the packed supernodal layout.
const GROUP: usize = 8;

/// Values of one group of `g` columns whose rows after the group are
/// `rows` long: the packed `g × g` lower triangle and the `g` column tails.
#[inline(always)]
fn group_len(g: usize, rows: usize) -> usize {
    g * (g + 1) / 2 + g * rows
}

/// Offset of column `k`'s diagonal in a packed `g × g` lower triangle
/// (columns `0..k` hold `g, g − 1, …` entries).
#[inline(always)]
fn triangle_start(g: usize, k: usize) -> usize {
    k * (2 * g + 1 - k) / 2
}

/// Append the supernode block `l(i, j)` (`ld` rows, `width` columns) to
/// `packed` in the order the solves read it: per group of [`GROUP`]
/// columns `c..e`, the lower triangle `L[c..e, c..e]` column by column
/// (diagonal first, stored as its reciprocal), then the group's panel
/// `L[e..ld, c..e]`: blocks of [`LANES`] rows, each block column after
/// column, and the last `(ld − e) % LANES` rows column after column. A
/// group is one sequential stream of memory.
fn pack_supernode(l: impl Fn(usize, usize) -> f64, width: usize, ld: usize, packed: &mut Vec<f64>) {
    let mut c = 0;
    while c < width {
        let e = (c + GROUP).min(width);
        for k in c..e {
            packed.push(1.0 / l(k, k));
            packed.extend((k + 1..e).map(|j| l(j, k)));
        }
        let body = e + (ld - e) / LANES * LANES;
        for r in (e..body).step_by(LANES) {
            for k in c..e {
                packed.extend((r..r + LANES).map(|i| l(i, k)));
            }
        }
        for k in c..e {
            packed.extend((body..ld).map(|i| l(i, k)));
        }
        c = e;
    }
}

impl CholeskyFactor {
    /// Factorise the matrix whose lower triangle is given in compressed
    /// sparse columns (`[nz, nx]` grid cells, `dimension` 1 or 2), using the
    /// rayon pool inside faer when `parallel`.
    pub fn new(
        dimension: usize,
        (nz, nx): (usize, usize),
        (col_ptr, row_idx, values): (&[usize], &[usize], &[f64]),
        ordering: FillOrdering,
        parallel: bool,
    ) -> Result<Self, DiffusionError> {
        let n = nz * nx;
        if n > MAX_UNKNOWNS {
            return Err(DiffusionError::Invalid(format!(
                "the grid has {n} cells; the implicit solver handles at most {MAX_UNKNOWNS}"
            )));
        }
        let (perm, cut) = elimination_order(dimension, nz, nx, ordering)?;
        let mut inverse = vec![0usize; n];
        for (k, &cell) in perm.iter().enumerate() {
            inverse[cell] = k;
        }
        let symbolic_a = SymbolicSparseColMatRef::new_checked(n, n, col_ptr, None, row_idx);
        let params = CholeskySymbolicParams {
            supernodal_flop_ratio_threshold: SupernodalThreshold::FORCE_SUPERNODAL,
            supernodal_params: SymbolicSupernodalParams { relax: Some(RELAX) },
            ..Default::default()
        };
        let failed = |what: &str, e: &dyn std::fmt::Debug| {
            DiffusionError::Factorization(format!("{what} of the {n} × {n} implicit matrix failed: {e:?}"))
        };
        let symbolic = factorize_symbolic_cholesky(
            symbolic_a,
            Side::Lower,
            SymmetricOrdering::Custom(PermRef::new_checked(&perm, &inverse, n)),
            params,
        )
        .map_err(|e| failed("the symbolic factorisation", &e))?;
        let par = if parallel { Par::rayon(0) } else { Par::Seq };
        let mut l_values = vec![0.0f64; symbolic.len_val()];
        let mut memory = MemBuffer::try_new(symbolic.factorize_numeric_llt_scratch::<f64>(par, Spec::default()))
            .map_err(|e| failed("allocating the factorisation workspace", &e))?;
        let matrix = SparseColMatRef::new(symbolic_a, values);
        symbolic
            .factorize_numeric_llt(
                &mut l_values,
                matrix,
                Side::Lower,
                LltRegularization::default(),
                par,
                MemStack::new(&mut memory),
                Spec::default(),
            )
            .map_err(|e| failed("the numeric Cholesky factorisation", &e))?;
        let SymbolicCholeskyRaw::Supernodal(supernodal) = symbolic.raw() else {
            return Err(DiffusionError::Factorization("faer returned a simplicial factor".into()));
        };
        let llt = SupernodalLltRef::<usize, f64>::new(supernodal, &l_values);
        let mut supernodes = Vec::with_capacity(supernodal.n_supernodes());
        let mut pattern = Vec::new();
        let mut packed = Vec::new();
        let mut max_block = 0;
        for s in 0..supernodal.n_supernodes() {
            let node = llt.supernode(s);
            let rows = node.pattern();
            let block = node.val();
            let width = block.ncols();
            supernodes.push(Supernode {
                start: node.start() as u32,
                width: width as u32,
                pattern: pattern.len() as u32,
                len: rows.len() as u32,
                own: rows.len() as u32,
                values: packed.len(),
            });
            pattern.extend(rows.iter().map(|&i| i as u32));
            max_block = max_block.max(width + rows.len());
            pack_supernode(|i, j| block[(i, j)], width, width + rows.len(), &mut packed);
        }
        let nonzeros = packed.len();
        drop(l_values);
        let mut factor =
            CholeskyFactor { n, perm, inverse, values: packed, supernodes, pattern, split: None, max_block, nonzeros };
        if let Some((a, b)) = cut {
            factor.split = factor.find_split(a, b);
        }
        if let Some(split) = factor.split {
            for node in &mut factor.supernodes[..split.sb] {
                let rows = &factor.pattern[node.pattern as usize..(node.pattern + node.len) as usize];
                node.own = rows.partition_point(|&i| (i as usize) < split.b) as u32;
            }
        }
        Ok(factor)
    }

    /// The supernode ranges of the cut `(a, b)`, if the supernodes respect
    /// it: none straddles `a`, the first half's rows never reach the second
    /// half. A supernode that straddles `b` joins the separator.
    fn find_split(&self, a: usize, b: usize) -> Option<Split> {
        let nodes = &self.supernodes;
        let end = |s: &Supernode| (s.start + s.width) as usize;
        let sa = nodes.iter().position(|s| s.start as usize >= a)?;
        let sb = nodes.iter().position(|s| end(s) > b)?;
        let b = nodes[sb].start as usize;
        if nodes[sa].start as usize != a || sb <= sa || b <= a || b >= self.n {
            return None;
        }
        let first_half_closed = nodes[..sa].iter().all(|s| {
            let rows = &self.pattern[s.pattern as usize..(s.pattern + s.len) as usize];
            rows.iter().all(|&i| (i as usize) < a || (i as usize) >= b)
        });
        first_half_closed.then_some(Split { a, b, sa, sb })
    }

    /// Number of unknowns.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no unknowns (never, for a validated grid).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Entries of `L` stored (amalgamation zeros included).
    pub fn nonzeros(&self) -> usize {
        self.nonzeros
    }

    /// Number of supernodes.
    pub fn supernodes(&self) -> usize {
        self.supernodes.len()
    }

    /// Whether the solves split into two independent halves.
    pub fn is_split(&self) -> bool {
        self.split.is_some()
    }

    /// `rhs ← A⁻¹ rhs` (grid order). With `parallel` and a top-level cut, the
    /// two halves run on the rayon pool; the arithmetic is the same as the
    /// serial order, so results are bitwise identical.
    pub fn solve_in_place(&self, rhs: &mut [f64], work: &mut SolveWork, parallel: bool) {
        work.fit(self);
        let n = self.n;
        let x = &mut work.x[..n];
        permute(x, &self.perm, rhs, parallel);
        let (nodes, pattern, values) = (&self.supernodes[..], &self.pattern[..], &self.values[..]);
        match self.split {
            None => {
                forward(nodes, pattern, values, x, 0, &mut [], n, &mut work.y_a);
                backward(nodes, pattern, values, x, 0, &[], n, &mut work.y_a);
            }
            Some(Split { a, b, sa, sb }) => {
                let (first, rest) = nodes.split_at(sa);
                let (second, separator) = rest.split_at(sb - sa);
                let top = &mut work.top[..n - b];
                top.fill(0.0);
                {
                    let (x_first, rest) = x.split_at_mut(a);
                    let (x_second, x_top) = rest.split_at_mut(b - a);
                    let (y_a, y_b) = (&mut work.y_a, &mut work.y_b);
                    let run_first = || forward(first, pattern, values, x_first, 0, x_top, b, y_a);
                    let run_second = || forward(second, pattern, values, x_second, a, top, b, y_b);
                    join(parallel, run_first, run_second);
                }
                let x_top = &mut x[b..];
                for (xi, &ti) in x_top.iter_mut().zip(top.iter()) {
                    *xi += ti;
                }
                forward(separator, pattern, values, x_top, b, &mut [], n, &mut work.y_a);
                backward(separator, pattern, values, x_top, b, &[], n, &mut work.y_a);
                let (x_first, rest) = x.split_at_mut(a);
                let (x_second, x_top) = rest.split_at_mut(b - a);
                let x_top = &*x_top;
                let (y_a, y_b) = (&mut work.y_a, &mut work.y_b);
                let run_first = || backward(first, pattern, values, x_first, 0, x_top, b, y_a);
                let run_second = || backward(second, pattern, values, x_second, a, x_top, b, y_b);
                join(parallel, run_first, run_second);
            }
        }
        permute(rhs, &self.inverse, x, parallel);
    }
}

/// Cells per rayon task of [`permute`].
const PERMUTE_CHUNK: usize = 1 << 14;

/// `out[k] = values[order[k]]`, in chunks on the rayon pool when `parallel`.
fn permute(out: &mut [f64], order: &[usize], values: &[f64], parallel: bool) {
    let gather = |(out, order): (&mut [f64], &[usize])| {
        for (o, &k) in out.iter_mut().zip(order) {
            *o = values[k];
        }
    };
    if parallel && out.len() >= 2 * PERMUTE_CHUNK {
        out.par_chunks_mut(PERMUTE_CHUNK).zip(order.par_chunks(PERMUTE_CHUNK)).for_each(gather);
    } else {
        gather((out, order));
    }
}

/// Run two closures, on the rayon pool when `parallel`.
fn join(parallel: bool, first: impl FnOnce() + Send, second: impl FnOnce() + Send) {
    if parallel {
        rayon::join(first, second);
    } else {
        first();
        second();
    }
}

/// Partial sums per dot product: fixed, so results do not depend on the
/// vector width the kernel was compiled for.
const LANES: usize = 8;

/// Sum of the partial sums, in an order the compiler vectorises without
/// shuffles.
#[inline(always)]
fn reduce(a: [f64; LANES]) -> f64 {
    ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
}

/// `[Σ_r P[r, k] z_r]_k` for a group panel `P` of `G` columns and `z`'s
/// length in rows (packed by [`pack_supernode`]), reading the panel from its
/// end: the last rows' sums in order, then [`LANES`] partial sums per column
/// over the row blocks from the last, [`reduce`]d and added to the former.
/// Read backwards, the whole backward substitution is one descending stream
/// of the packed factor (groups and supernodes are visited from the last).
#[inline(always)]
fn dot_panel<const G: usize>(panel: &[f64], z: &[f64]) -> [f64; G] {
    let n = z.len();
    let body = n / LANES * LANES;
    let (blocks, rest) = panel[..G * n].split_at(G * body);
    let z_rest = &z[body..];
    let mut tails = [0.0f64; G];
    for (sum, column) in tails.iter_mut().zip(rest.chunks_exact(z_rest.len().max(1))) {
        for (&l, &zr) in column.iter().zip(z_rest) {
            *sum += l * zr;
        }
    }
    let mut acc = [[0.0f64; LANES]; G];
    for (zc, block) in z[..body].chunks_exact(LANES).zip(blocks.chunks_exact(G * LANES)).rev() {
        // The block's columns from the last too, so every load is below
        // the one before: the hardware prefetchers follow a strictly
        // descending stream, but not descending blocks read upwards inside
        // (measured on 64 MB of panels: 2x slower, the whole backward solve
        // at 512 × 512 1.8x the forward one instead of 1.0–1.1x).
        for (acc, column) in acc.iter_mut().zip(block.chunks_exact(LANES)).rev() {
            for i in 0..LANES {
                acc[i] += column[i] * zc[i];
            }
        }
    }
    // The opaque accumulators keep LLVM from laying them out transposed for
    // the final reductions (an 8 × 8 shuffle per block in the loop above):
    // measured on the 512 × 512 benchmark, 8–15% faster per step.
    let sums = std::hint::black_box(acc).map(reduce);
    std::array::from_fn(|k| sums[k] + tails[k])
}

/// `y −= P a` for a group panel `P` of `G` columns and `y`'s length in rows
/// (packed by [`pack_supernode`]), each row summed in column order.
#[inline(always)]
fn sub_panel<const G: usize>(y: &mut [f64], panel: &[f64], a: [f64; G]) {
    let n = y.len();
    let body = n / LANES * LANES;
    let (blocks, rest) = panel[..G * n].split_at(G * body);
    for (yc, block) in y[..body].chunks_exact_mut(LANES).zip(blocks.chunks_exact(G * LANES)) {
        // An opaque block keeps LLVM from vectorising across blocks (with
        // strided gathers, measured twice as slow as the whole solve): each
        // block is one vector per column.
        let block = std::hint::black_box(block);
        let (first, others) = block.split_at(LANES);
        let mut sum: [f64; LANES] = std::array::from_fn(|i| first[i] * a[0]);
        for (column, &ak) in others.chunks_exact(LANES).zip(&a[1..]) {
            for i in 0..LANES {
                sum[i] += column[i] * ak;
            }
        }
        for i in 0..LANES {
            yc[i] -= sum[i];
        }
    }
    let y_rest = &mut y[body..];
    let m = y_rest.len();
    for (r, yr) in y_rest.iter_mut().enumerate() {
        let mut sum = rest[r] * a[0];
        for k in 1..G {
            sum += rest[k * m + r] * a[k];
        }
        *yr -= sum;
    }
}

/// [`dot_panel`] for a group of `g ≤ GROUP` columns.
#[inline(always)]
fn dot_group(g: usize, panel: &[f64], z: &[f64]) -> [f64; GROUP] {
    let mut sums = [0.0f64; GROUP];
    macro_rules! width {
        ($($w:literal)*) => {
            match g {
                $($w => sums[..$w].copy_from_slice(&dot_panel::<$w>(panel, z)),)*
                _ => unreachable!("a group holds at most {GROUP} columns"),
            }
        };
    }
    width!(1 2 3 4 5 6 7 8);
    sums
}

/// [`sub_panel`] for a group of `a.len() ≤ GROUP` columns.
#[inline(always)]
fn sub_group(y: &mut [f64], panel: &[f64], a: &[f64]) {
    macro_rules! width {
        ($($w:literal)*) => {
            match a.len() {
                $($w => sub_panel::<$w>(y, panel, std::array::from_fn(|k| a[k])),)*
                _ => unreachable!("a group holds at most {GROUP} columns"),
            }
        };
    }
    width!(1 2 3 4 5 6 7 8);
}

/// `acc[k % 4] += a_k x[rows_k − offset]` (four partial sums).
#[inline(always)]
fn gather_dot(acc: &mut [f64; 4], a: &[f64], rows: &[u32], x: &[f64], offset: usize) {
    let body = a.len().min(rows.len()) / 4 * 4;
    for (ac, rc) in a[..body].chunks_exact(4).zip(rows[..body].chunks_exact(4)) {
        for k in 0..4 {
            acc[k] += ac[k] * x[rc[k] as usize - offset];
        }
    }
    for (k, (&l, &i)) in a[body..].iter().zip(&rows[body..]).enumerate() {
        acc[k] += l * x[i as usize - offset];
    }
}

/// Forward substitution `L y = x` over `nodes`, in place. `x` holds the
/// nodes' own columns from factor column `lo`; pattern rows at or after `b`
/// go to `top` (index − `b`). `z` is scratch of the largest block.
///
/// A block of `w > 1` columns is solved in `z = [x_own(w) | 0(len)]`, one
/// group of columns `c..e` at a time: the diagonal triangle, then
/// `z[e..] −= L[e.., c..e] z[c..e]` over the group's panel; finally
/// `z` goes back to `x` and is added into the pattern rows. The packed
/// values are read strictly in order.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn forward(
    nodes: &[Supernode],
    pattern: &[u32],
    values: &[f64],
    x: &mut [f64],
    lo: usize,
    top: &mut [f64],
    b: usize,
    z: &mut [f64],
) {
    for s in nodes {
        let (c0, w, len, own) = (s.start as usize - lo, s.width as usize, s.len as usize, s.own as usize);
        let ld = w + len;
        let rows = &pattern[s.pattern as usize..s.pattern as usize + len];
        let (rows_own, rows_top) = rows.split_at(own);
        if w == 1 {
            let block = &values[s.values..s.values + ld];
            let xc = x[c0] * block[0];
            x[c0] = xc;
            let (l_own, l_top) = block[1..].split_at(own);
            for (&l, &i) in l_own.iter().zip(rows_own) {
                x[i as usize - lo] -= l * xc;
            }
            for (&l, &i) in l_top.iter().zip(rows_top) {
                top[i as usize - b] -= l * xc;
            }
            continue;
        }
        let z = &mut z[..ld];
        z[..w].copy_from_slice(&x[c0..c0 + w]);
        z[w..].fill(0.0);
        let mut pos = s.values;
        let mut c = 0;
        while c < w {
            let g = (w - c).min(GROUP);
            let e = c + g;
            let tail = ld - e;
            let group = &values[pos..pos + group_len(g, tail)];
            pos += group.len();
            let (triangle, tails) = group.split_at(g * (g + 1) / 2);
            for k in 0..g {
                let t = triangle_start(g, k);
                let zk = z[c + k] * triangle[t];
                z[c + k] = zk;
                for j in k + 1..g {
                    z[c + j] -= triangle[t + j - k] * zk;
                }
            }
            let (solved, rest) = z.split_at_mut(e);
            sub_group(rest, tails, &solved[c..]);
            c = e;
        }
        x[c0..c0 + w].copy_from_slice(&z[..w]);
        let (z_own, z_top) = z[w..].split_at(own);
        for (&i, &zr) in rows_own.iter().zip(z_own) {
            x[i as usize - lo] += zr;
        }
        for (&i, &zr) in rows_top.iter().zip(z_top) {
            top[i as usize - b] += zr;
        }
    }
}

/// Backward substitution `Lᵀ x = y` over `nodes` (in reverse), in place;
/// the layout of [`forward`], with `top` read only. A block of `w > 1`
/// columns works in `z = [x_own(w) | x(pattern rows)]`, one group of
/// columns at a time from the last: the dot products of the group's panel
/// columns with the solved part of `z` (one pass over the panel), then the
/// diagonal triangle backwards.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn backward(
    nodes: &[Supernode],
    pattern: &[u32],
    values: &[f64],
    x: &mut [f64],
    lo: usize,
    top: &[f64],
    b: usize,
    z: &mut [f64],
) {
    for s in nodes.iter().rev() {
        let (c0, w, len, own) = (s.start as usize - lo, s.width as usize, s.len as usize, s.own as usize);
        let ld = w + len;
        let rows = &pattern[s.pattern as usize..s.pattern as usize + len];
        let (rows_own, rows_top) = rows.split_at(own);
        if w == 1 {
            let block = &values[s.values..s.values + ld];
            let mut acc = [0.0f64; 4];
            gather_dot(&mut acc, &block[1..=own], rows_own, x, lo);
            gather_dot(&mut acc, &block[own + 1..], rows_top, top, b);
            x[c0] = (x[c0] - ((acc[0] + acc[2]) + (acc[1] + acc[3]))) * block[0];
            continue;
        }
        let z = &mut z[..ld];
        z[..w].copy_from_slice(&x[c0..c0 + w]);
        {
            let (z_own, z_top) = z[w..].split_at_mut(own);
            for (zr, &i) in z_own.iter_mut().zip(rows_own) {
                *zr = x[i as usize - lo];
            }
            for (zr, &i) in z_top.iter_mut().zip(rows_top) {
                *zr = top[i as usize - b];
            }
        }
        // the groups from the last; the supernode's values end at `end`
        let mut end = s.values;
        let mut c = 0;
        while c < w {
            let e = (c + GROUP).min(w);
            end += group_len(e - c, ld - e);
            c = e;
        }
        let mut e = w;
        while e > 0 {
            let c = (e - 1) / GROUP * GROUP;
            let g = e - c;
            let tail = ld - e;
            let group = &values[end - group_len(g, tail)..end];
            end -= group.len();
            let (triangle, tails) = group.split_at(g * (g + 1) / 2);
            let sums = dot_group(g, tails, &z[e..]);
            for k in (0..g).rev() {
                let t = triangle_start(g, k);
                let mut v = z[c + k] - sums[k];
                for j in k + 1..g {
                    v -= triangle[t + j - k] * z[c + j];
                }
                z[c + k] = v * triangle[t];
            }
            e = c;
        }
        x[c0..c0 + w].copy_from_slice(&z[..w]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `I + K` of a 2D Laplacian-like matrix with varying coefficients, lower CSC.
    fn test_matrix(nz: usize, nx: usize) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
        let (col_ptr, row_idx) = rectangle_pattern(nz, nx);
        let mut values = vec![0.0; row_idx.len()];
        let mut diag = vec![1.0; nz * nx];
        for j in 0..nz * nx {
            for k in col_ptr[j] + 1..col_ptr[j + 1] {
                let c = 1.0 + ((j * 7 + row_idx[k]) % 5) as f64;
                values[k] = -c;
                diag[j] += c;
                diag[row_idx[k]] += c;
            }
        }
        for j in 0..nz * nx {
            values[col_ptr[j]] = diag[j];
        }
        (col_ptr, row_idx, values)
    }

    fn residual(nz: usize, nx: usize, ordering: FillOrdering, parallel: bool) -> (f64, bool) {
        let (col_ptr, row_idx, values) = test_matrix(nz, nx);
        let dimension = if nz == 1 { 1 } else { 2 };
        let factor =
            CholeskyFactor::new(dimension, (nz, nx), (&col_ptr, &row_idx, &values), ordering, parallel).unwrap();
        let n = nz * nx;
        let b: Vec<f64> = (0..n).map(|i| ((i * 37) % 11) as f64 - 5.0).collect();
        let mut x = b.clone();
        factor.solve_in_place(&mut x, &mut SolveWork::new(&factor), parallel);
        let mut ax = vec![0.0; n];
        for j in 0..n {
            for k in col_ptr[j]..col_ptr[j + 1] {
                let i = row_idx[k];
                ax[i] += values[k] * x[j];
                if i != j {
                    ax[j] += values[k] * x[i];
                }
            }
        }
        (ax.iter().zip(&b).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max), factor.is_split())
    }

    #[test]
    fn solves_with_every_ordering() {
        for (nz, nx) in [(1, 50), (2, 2), (3, 7), (17, 23), (40, 31)] {
            for ordering in [
                FillOrdering::Amd,
                FillOrdering::NestedDissection { levels: 1 },
                FillOrdering::NestedDissection { levels: 4 },
            ] {
                for parallel in [false, true] {
                    let (r, _) = residual(nz, nx, ordering, parallel);
                    assert!(r < 1e-10, "{nz}x{nx} {ordering:?}: residual {r}");
                }
            }
        }
    }

    #[test]
    fn dissection_splits_the_solve() {
        let (_, split) = residual(40, 31, FillOrdering::NestedDissection { levels: 2 }, true);
        assert!(split);
        let (_, split) = residual(40, 31, FillOrdering::Amd, true);
        assert!(!split);
    }

    #[test]
    fn parallel_and_serial_solves_agree_bitwise() {
        let (col_ptr, row_idx, values) = test_matrix(30, 33);
        let factor =
            CholeskyFactor::new(2, (30, 33), (&col_ptr, &row_idx, &values), FillOrdering::default(), true).unwrap();
        let b: Vec<f64> = (0..990).map(|i| (i as f64 * 0.37).sin()).collect();
        let (mut x, mut y) = (b.clone(), b);
        let mut work = SolveWork::new(&factor);
        factor.solve_in_place(&mut x, &mut work, true);
        factor.solve_in_place(&mut y, &mut work, false);
        assert!(x.iter().zip(&y).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn orders_are_permutations() {
        for ordering in [FillOrdering::Amd, FillOrdering::NestedDissection { levels: 3 }] {
            let (order, _) = elimination_order(2, 13, 29, ordering).unwrap();
            let mut seen = vec![false; 13 * 29];
            for &cell in &order {
                assert!(!seen[cell]);
                seen[cell] = true;
            }
            assert!(seen.iter().all(|&s| s));
        }
    }
}
