//! The interior leapfrog update, the hot loop of the acoustic solver:
//! `u_next ← 2u − u_next + c·(D²_z u + D²_x u)` on one padded row (`u_next`
//! holds `u^{n−1}` on entry), with `c = v² dt²`. Each row is processed in
//! fixed-size chunks of columns held in vector registers, compiled for
//! AVX-512 and AVX2+FMA with runtime dispatch (multiversion) so binaries stay
//! portable. The stencil half-width is a const generic, so the tap loop
//! unrolls.
//!
//! The map is linear and symmetric in `u` (centred weights), so its adjoint,
//! in the scaled adjoint variables `μ = c ⊙ λ`, is the same update
//! ([`adjoint_rows`]), with the model derivative `image += u ⊙ L μ` added
//! by the same kernels.

use super::layout::Layout;
use crate::real::Real;
use multiversion::multiversion;

/// Centred second-derivative weights divided by the squared spacing:
/// `center` multiplies `u_ij`; `z[k-1]`, `x[k-1]` multiply the pairs at
/// distance `k`.
#[derive(Debug, Clone, PartialEq)]
pub struct StencilWeights<T> {
    /// Weight of the centre point (both axes together).
    pub center: T,
    /// Weights along z, `k = 1..=h` (empty in 1D).
    pub z: Vec<T>,
    /// Weights along x, `k = 1..=h`.
    pub x: Vec<T>,
}

/// Interior update of the padded rows `first..first + k` held in `out`
/// (`k` whole rows of `u_next`, holding `u^{n−1}`); `c` is the same rows of
/// `v² dt²`. Rows outside the computed range (halo rows) are left alone. In
/// 2D, pairs of rows share their vertical loads.
///
/// With `prev` (the same rows of another array), `out` ends as if it had
/// held `prev` first: the update reads `u^{n−1}` from `prev`, and the cells
/// it does not compute are copied. A step from a checkpoint writes its new
/// state this way, without copying the checkpoint's `u^{n−1}` first (in
/// `f32` on AVX-512 CPUs; elsewhere by that copy, then in place).
pub fn interior_rows<T: Real>(
    layout: &Layout,
    weights: &StencilWeights<T>,
    u: &[T],
    first: usize,
    out: &mut [T],
    c: &[T],
    prev: Option<&[T]>,
) {
    with_halo!(layout.halo, H => rows::<T, H>(layout, weights, u, first, out, c, prev))
}

fn rows<T: Real, const H: usize>(
    layout: &Layout,
    weights: &StencilWeights<T>,
    u: &[T],
    first: usize,
    out: &mut [T],
    c: &[T],
    prev: Option<&[T]>,
) {
    let nxp = layout.nxp;
    let computed = layout.computed_rows();
    let wx: [T; H] = std::array::from_fn(|k| weights.x[k]);
    // (no z weights in 1D)
    let wz = || -> [T; H] { std::array::from_fn(|k| weights.z[k]) };
    // 2D in `f32` on AVX-512 CPUs: the hand-vectorised kernel (bitwise
    // equal), which reads `prev` where it stands
    #[cfg(target_arch = "x86_64")]
    if layout.has_z
        && let (Some(u32s), Some(c32s)) = (T::as_f32s(u), T::as_f32s(c))
        && let Some(out32s) = T::as_f32s_mut(&mut *out)
    {
        let narrow = |w: T| w.as_f64() as f32;
        let narrowed = (narrow(weights.center), wz().map(narrow), wx.map(narrow));
        let prev32s = prev.and_then(T::as_f32s);
        if super::avx512::interior_rows::<H>(u32s, first, computed.clone(), nxp, out32s, c32s, narrowed, prev32s) {
            if let Some(prev) = prev {
                // the cells the kernel leaves: halo columns, rows not computed
                for (r, (out_row, prev_row)) in out.chunks_exact_mut(nxp).zip(prev.chunks_exact(nxp)).enumerate() {
                    if computed.contains(&(first + r)) {
                        out_row[..H].copy_from_slice(&prev_row[..H]);
                        out_row[nxp - H..].copy_from_slice(&prev_row[nxp - H..]);
                    } else {
                        out_row.copy_from_slice(prev_row);
                    }
                }
            }
            return;
        }
    }
    // elsewhere the compiler-vectorised kernels, in place
    if let Some(prev) = prev {
        out.copy_from_slice(prev);
    }
    if !layout.has_z {
        if computed.contains(&first) {
            row_1d::<T, H, false>(u, &mut out[..nxp], &c[..nxp], weights.center, &wx, Imaging::none());
        }
        return;
    }
    rows_2d::<T, H>(u, first, computed, nxp, out, c, (weights.center, wz(), wx));
}

/// What an adjoint sweep adds to the interior update: `image += field ⊙ L u`
/// on the rows of `out` (`field`, the forward wavefield, and `image` whole
/// padded rows like `out`). The forward step passes [`Imaging::none`].
pub(super) struct Imaging<'a, T> {
    field: &'a [T],
    image: &'a mut [T],
}

impl<T> Imaging<'_, T> {
    fn none() -> Self {
        Imaging { field: &[], image: &mut [] }
    }
}

/// The 2D rows of [`interior_rows`] through the compiler-vectorised
/// kernels (any `T`, any CPU).
fn rows_2d<T: Real, const H: usize>(
    u: &[T],
    first: usize,
    computed: std::ops::Range<usize>,
    nxp: usize,
    out: &mut [T],
    c: &[T],
    (center, wz, wx): (T, [T; H], [T; H]),
) {
    for_row_pairs(first, out.len() / nxp, computed, |r, rows| {
        let cells = r * nxp..(r + rows) * nxp;
        let (out, c) = (&mut out[cells.clone()], &c[cells]);
        if rows == 2 {
            row_pair_2d::<T, H, false>(u, first + r, nxp, out, c, (center, &wz, &wx), Imaging::none());
        } else {
            row_2d::<T, H, false>(u, first + r, nxp, out, c, (center, &wz, &wx), Imaging::none());
        }
    });
}

/// The computed rows among `first..first + count`, in pairs where two
/// computed rows follow each other, else alone: `update(r, rows)` for the
/// `rows` (1 or 2) rows from offset `r`. Per cell the kernels' arithmetic
/// does not depend on the pairing.
#[inline(always)]
pub(super) fn for_row_pairs(
    first: usize,
    count: usize,
    computed: std::ops::Range<usize>,
    mut update: impl FnMut(usize, usize),
) {
    let mut r = 0;
    while r < count {
        let i = first + r;
        if r + 1 < count && computed.contains(&i) && computed.contains(&(i + 1)) {
            update(r, 2);
            r += 2;
        } else {
            if computed.contains(&i) {
                update(r, 1);
            }
            r += 1;
        }
    }
}

/// Rows `i` and `i + 1` together: the `2H + 2` input rows are loaded once
/// per column for both outputs. Per output cell the arithmetic is exactly
/// that of [`row_2d`], so results do not depend on how rows are paired.
/// With `IMAGE`, also `image += field ⊙ L u` (the adjoint sweep).
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn row_pair_2d<T: Real, const H: usize, const IMAGE: bool>(
    u: &[T],
    i: usize,
    nxp: usize,
    out: &mut [T],
    c: &[T],
    (center, wz, wx): (T, &[T; H], &[T; H]),
    imaging: Imaging<'_, T>,
) {
    let n = nxp - 2 * H;
    // rows i−H ..= i−1 (above[k] is row i−H+k) and i+2 ..= i+1+H (below[k] is row i+2+k)
    let above: [&[T]; H] = std::array::from_fn(|k| &u[(i - H + k) * nxp + H..][..n]);
    let below: [&[T]; H] = std::array::from_fn(|k| &u[(i + 2 + k) * nxp + H..][..n]);
    let row0 = &u[i * nxp..(i + 1) * nxp];
    let row1 = &u[(i + 1) * nxp..(i + 2) * nxp];
    let (mid0, mid1) = (&row0[H..H + n], &row1[H..H + n]);
    let left0: [&[T]; H] = std::array::from_fn(|k| &row0[H - k - 1..][..n]);
    let right0: [&[T]; H] = std::array::from_fn(|k| &row0[H + k + 1..][..n]);
    let left1: [&[T]; H] = std::array::from_fn(|k| &row1[H - k - 1..][..n]);
    let right1: [&[T]; H] = std::array::from_fn(|k| &row1[H + k + 1..][..n]);
    let (out0, out1) = out.split_at_mut(nxp);
    let (out0, out1) = (&mut out0[H..H + n], &mut out1[H..H + n]);
    let (c0, c1) = (&c[H..H + n], &c[nxp + H..nxp + H + n]);
    let (f0, f1, image0, image1): (&[T], &[T], &mut [T], &mut [T]) = if IMAGE {
        let (image0, image1) = imaging.image.split_at_mut(nxp);
        let field = imaging.field;
        (&field[H..H + n], &field[nxp + H..nxp + H + n], &mut image0[H..H + n], &mut image1[H..H + n])
    } else {
        (&[], &[], &mut [], &mut [])
    };
    for j in 0..n {
        let (m0, m1) = (mid0[j], mid1[j]);
        let mut lap0 = center * m0;
        let mut lap1 = center * m1;
        for k in 0..H {
            // distance k+1 from row i: rows i−1−k and i+1+k; from row i+1: rows i−k and i+2+k
            let up0 = above[H - 1 - k][j];
            let down0 = if k == 0 { m1 } else { below[k - 1][j] };
            let up1 = if k == 0 { m0 } else { above[H - k][j] };
            let down1 = below[k][j];
            lap0 = wz[k].mul_add(up0 + down0, lap0);
            lap0 = wx[k].mul_add(left0[k][j] + right0[k][j], lap0);
            lap1 = wz[k].mul_add(up1 + down1, lap1);
            lap1 = wx[k].mul_add(left1[k][j] + right1[k][j], lap1);
        }
        out0[j] = c0[j].mul_add(lap0, m0 + m0 - out0[j]);
        out1[j] = c1[j].mul_add(lap1, m1 + m1 - out1[j]);
        if IMAGE {
            image0[j] = f0[j].mul_add(lap0, image0[j]);
            image1[j] = f1[j].mul_add(lap1, image1[j]);
        }
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn row_2d<T: Real, const H: usize, const IMAGE: bool>(
    u: &[T],
    i: usize,
    nxp: usize,
    out: &mut [T],
    c: &[T],
    (center, wz, wx): (T, &[T; H], &[T; H]),
    imaging: Imaging<'_, T>,
) {
    let n = nxp - 2 * H;
    let row = &u[i * nxp..(i + 1) * nxp];
    let mid = &row[H..H + n];
    let up: [&[T]; H] = std::array::from_fn(|k| &u[(i - k - 1) * nxp + H..][..n]);
    let down: [&[T]; H] = std::array::from_fn(|k| &u[(i + k + 1) * nxp + H..][..n]);
    let left: [&[T]; H] = std::array::from_fn(|k| &row[H - k - 1..][..n]);
    let right: [&[T]; H] = std::array::from_fn(|k| &row[H + k + 1..][..n]);
    let out = &mut out[H..H + n];
    let c = &c[H..H + n];
    let (field, image): (&[T], &mut [T]) =
        if IMAGE { (&imaging.field[H..H + n], &mut imaging.image[H..H + n]) } else { (&[], &mut []) };
    for j in 0..n {
        let m = mid[j];
        let mut lap = center * m;
        for k in 0..H {
            lap = wz[k].mul_add(up[k][j] + down[k][j], lap);
            lap = wx[k].mul_add(left[k][j] + right[k][j], lap);
        }
        out[j] = c[j].mul_add(lap, m + m - out[j]);
        if IMAGE {
            image[j] = field[j].mul_add(lap, image[j]);
        }
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn row_1d<T: Real, const H: usize, const IMAGE: bool>(
    u: &[T],
    out: &mut [T],
    c: &[T],
    center: T,
    wx: &[T; H],
    imaging: Imaging<'_, T>,
) {
    let n = out.len() - 2 * H;
    let mid = &u[H..H + n];
    let left: [&[T]; H] = std::array::from_fn(|k| &u[H - k - 1..][..n]);
    let right: [&[T]; H] = std::array::from_fn(|k| &u[H + k + 1..][..n]);
    let out = &mut out[H..H + n];
    let c = &c[H..H + n];
    let (field, image): (&[T], &mut [T]) =
        if IMAGE { (&imaging.field[H..H + n], &mut imaging.image[H..H + n]) } else { (&[], &mut []) };
    for j in 0..n {
        let m = mid[j];
        let mut lap = center * m;
        for k in 0..H {
            lap += wx[k] * (left[k][j] + right[k][j]);
        }
        out[j] = m + m - out[j] + c[j] * lap;
        if IMAGE {
            image[j] += field[j] * lap;
        }
    }
}

/// The adjoint of the interior update on the padded rows `first..first + k`
/// held in `lu` and `image` (`k` whole rows), fused with the model
/// derivative. The adjoint state is carried scaled, `μ = c ⊙ λ` on the
/// computed cells (see `AcousticShot::step_adjoint`): with `μw` the
/// adjoint of `w = 2u − p + c L u` so scaled (zero off the computed cells)
/// and `lu` holding `S ⊙ μw'` on entry (the step before's, tapered by the
/// sponge):
/// - `μu = 2μw − lu + c ⊙ L μw` and `image += u ⊙ L μw` on computed rows:
///   the forward update itself (`Lᵀ = L`: the centred stencil is
///   symmetric), plus the model derivative taken from the increment
///   `L μw = Lᵀ(c λw)` of `λu` (summation by parts in time), so each cell
///   needs one Laplacian, as in the forward step;
/// - on the rows in `extra_rows` (the halo above a free surface, where
///   `lu` is zero on entry and holds `λ`, unscaled: `c` is zero there) only
///   the vertical part of `L μw` that reaches them.
///
/// Pairs of computed rows share their vertical loads; per cell the
/// arithmetic does not depend on the pairing or on `first`.
pub fn adjoint_rows<T: Real>(
    layout: &Layout,
    weights: &StencilWeights<T>,
    first: usize,
    extra_rows: std::ops::Range<usize>,
    fields: AdjointFields<'_, T>,
    rows: AdjointRows<'_, T>,
) {
    with_halo!(layout.halo, H => adjoint_rows_h::<T, H>(layout, weights, first, extra_rows, fields, rows))
}

/// The arrays an adjoint sweep reads: `c` and `u` whole padded arrays,
/// `lw` whole padded rows from row `lw_first` on (at least the `H` rows
/// either side of the rows updated).
#[derive(Debug, Clone, Copy)]
pub struct AdjointFields<'a, T> {
    /// `μw = c ⊙ λw`, the scaled adjoint of `u^{n+1}` (after the boundary
    /// post-processing; zero off the computed cells).
    pub lw: &'a [T],
    /// The padded row `lw` starts at (0 for the whole array; the fused
    /// two-step sweep (`acoustic/pair.rs`) lends only the rows a call reads).
    pub lw_first: usize,
    /// Whether all but `u` were touched moments ago (the second step of a
    /// fused pair): in the cache, so the kernel prefetches only `u`.
    pub cached: bool,
    /// `v² dt²`.
    pub c: &'a [T],
    /// The forward `u^n`.
    pub u: &'a [T],
}

/// The rows an adjoint task owns (whole padded rows, the same count each).
#[derive(Debug)]
pub struct AdjointRows<'a, T> {
    /// `S ⊙ μw'` on entry, `μu` on return (see [`adjoint_rows`]).
    pub lu: &'a mut [T],
    /// `c ⊙` the model derivative per padded cell, accumulated.
    pub image: &'a mut [T],
}

fn adjoint_rows_h<T: Real, const H: usize>(
    layout: &Layout,
    weights: &StencilWeights<T>,
    first: usize,
    extra_rows: std::ops::Range<usize>,
    fields: AdjointFields<'_, T>,
    rows: AdjointRows<'_, T>,
) {
    let nxp = layout.nxp;
    let n = nxp - 2 * H;
    let computed = layout.computed_rows();
    let count = rows.lu.len() / nxp;
    let (lu, image) = (rows.lu, rows.image);
    let block = first * nxp..(first + count) * nxp;
    let (c, field) = (&fields.c[block.clone()], &fields.u[block]);
    let wx: [T; H] = std::array::from_fn(|k| weights.x[k]);
    let own = |r: usize, rows: usize| r * nxp..(r + rows) * nxp;
    // `lw` row `i` is the slice's row `i − origin`
    let (lw, origin) = (fields.lw, fields.lw_first);
    if !layout.has_z {
        assert_eq!(origin, 0, "a 1D adjoint reads the whole row");
        if computed.contains(&first) {
            let imaging = Imaging { field: &field[own(0, 1)], image: &mut image[own(0, 1)] };
            row_1d::<T, H, true>(lw, &mut lu[own(0, 1)], &c[own(0, 1)], weights.center, &wx, imaging);
        }
        return;
    }
    let wz: [T; H] = std::array::from_fn(|k| weights.z[k]);
    let taps = (weights.center, &wz, &wx);
    // `rows` (1 or 2) computed rows from offset `r`: in `f32` on AVX-512
    // or AVX2 CPUs a hand-vectorised kernel (bitwise equal), else the
    // generic ones
    let update = |r: usize, rows: usize, lu: &mut [T], image: &mut [T]| {
        let (i, cells) = (first + r - origin, own(r, rows));
        #[cfg(target_arch = "x86_64")]
        if let (Some(u), Some(c), Some(field)) =
            (T::as_f32s(lw), T::as_f32s(&c[cells.clone()]), T::as_f32s(&field[cells.clone()]))
            && let (Some(out), Some(image)) =
                (T::as_f32s_mut(&mut lu[cells.clone()]), T::as_f32s_mut(&mut image[cells.clone()]))
        {
            let narrow = |w: T| w.as_f64() as f32;
            let weights = (narrow(weights.center), wz.map(narrow), wx.map(narrow));
            let cached = fields.cached;
            if super::avx512::imaged_rows::<H>(u, i, rows, nxp, (out, c), weights, (field, image), cached)
                || super::avx2::imaged_rows::<H>(u, i, rows, nxp, (out, c), weights, (field, image), cached)
            {
                return;
            }
        }
        let imaging = Imaging { field: &field[cells.clone()], image: &mut image[cells.clone()] };
        if rows == 2 {
            row_pair_2d::<T, H, true>(lw, i, nxp, &mut lu[cells.clone()], &c[cells], taps, imaging);
        } else {
            row_2d::<T, H, true>(lw, i, nxp, &mut lu[cells.clone()], &c[cells], taps, imaging);
        }
    };
    let mut r = 0;
    while r < count {
        let i = first + r;
        if r + 1 < count && computed.contains(&i) && computed.contains(&(i + 1)) {
            update(r, 2, lu, image);
            r += 2;
            continue;
        }
        if computed.contains(&i) {
            update(r, 1, lu, image);
        } else if extra_rows.contains(&i) {
            // a halo row above a free surface: only the vertical part of L μw reaches it
            let out = &mut lu[r * nxp + H..][..n];
            for k in 1..=H {
                // μw is zero on the rows that are not computed
                for neighbour in [i + k, i.wrapping_sub(k)] {
                    if computed.contains(&neighbour) {
                        for (o, &v) in out.iter_mut().zip(&lw[(neighbour - origin) * nxp + H..][..n]) {
                            *o += wz[k - 1] * v;
                        }
                    }
                }
            }
        }
        r += 1;
    }
}

/// `n` values of a padded row from column `H + d`.
fn shifted_by<T, const H: usize>(row: &[T], d: isize, n: usize) -> &[T] {
    &row[(H as isize + d) as usize..][..n]
}

/// `image += weight ⊙ L u` on every computed row (whole padded arrays): the
/// interior part of the linearised step, a verification path (the adjoint
/// never forms `L u`).
pub fn add_laplacian<T: Real>(layout: &Layout, weights: &StencilWeights<T>, u: &[T], weight: &[T], image: &mut [T]) {
    with_halo!(layout.halo, H => {
        let nxp = layout.nxp;
        let n = nxp - 2 * H;
        let wx: [T; H] = std::array::from_fn(|k| weights.x[k]);
        let wz: [T; H] = std::array::from_fn(|k| if layout.has_z { weights.z[k] } else { T::zero() });
        for i in layout.computed_rows() {
            let row_at = |d: isize| if layout.has_z { (i as isize + d) as usize } else { i };
            let up: [&[T]; H] = std::array::from_fn(|k| &u[row_at(-(k as isize) - 1) * nxp + H..][..n]);
            let down: [&[T]; H] = std::array::from_fn(|k| &u[row_at(k as isize + 1) * nxp + H..][..n]);
            let row = &u[i * nxp..(i + 1) * nxp];
            let left: [&[T]; H] = std::array::from_fn(|k| shifted_by::<T, H>(row, -(k as isize) - 1, n));
            let right: [&[T]; H] = std::array::from_fn(|k| shifted_by::<T, H>(row, k as isize + 1, n));
            let mid = shifted_by::<T, H>(row, 0, n);
            let cells = i * nxp + H..i * nxp + H + n;
            for (j, (out, &w)) in image[cells.clone()].iter_mut().zip(&weight[cells]).enumerate() {
                let mut lap = weights.center * mid[j];
                for k in 0..H {
                    lap += wz[k] * (up[k][j] + down[k][j]) + wx[k] * (left[k][j] + right[k][j]);
                }
                *out += w * lap;
            }
        }
    })
}

#[cfg(all(test, target_arch = "x86_64"))]
pub(super) mod tests {
    use super::*;

    /// Pseudo-random values in [-1, 1) (a fixed linear congruential sequence).
    pub(in crate::acoustic) fn noise(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// The AVX-512 kernel against the compiler-vectorised one, bitwise, for
    /// every half-width, row counts that leave single rows, chunks starting
    /// on halo and computed rows, and rows whose width is not a multiple of
    /// the vector.
    fn compare<const H: usize>() {
        for nxp in [2 * H + 16, 48, 64, 77] {
            let nzp = 2 * H + 9;
            let computed = H..nzp - H;
            let u = noise(nzp * nxp, 1);
            let c = noise(nzp * nxp, 2).iter().map(|v| 0.1 * v.abs()).collect::<Vec<_>>();
            let old = noise(nzp * nxp, 3);
            let weights = (
                -2.5f32,
                std::array::from_fn(|k| 0.7 / (k + 1) as f32),
                std::array::from_fn(|k| -0.3 / (k + 2) as f32),
            );
            for (first, count) in [(0, nzp), (H, 3), (H + 1, 4), (H + 2, 1), (nzp - H - 2, 2)] {
                let range = first * nxp..(first + count) * nxp;
                let mut expected = old[range.clone()].to_vec();
                rows_2d::<f32, H>(&u, first, computed.clone(), nxp, &mut expected, &c[range.clone()], weights);
                let mut got = old[range.clone()].to_vec();
                let ran = crate::acoustic::avx512::interior_rows::<H>(
                    &u,
                    first,
                    computed.clone(),
                    nxp,
                    &mut got,
                    &c[range.clone()],
                    weights,
                    None,
                );
                if !ran {
                    assert!(
                        !crate::acoustic::avx512::available() || nxp < 2 * H + 16,
                        "H {H} nxp {nxp}: the kernel declined"
                    );
                    continue;
                }
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&expected), "H {H} nxp {nxp} rows {first}+{count}");
                assert_ne!(bits(&got), bits(&old[first * nxp..(first + count) * nxp]), "rows were updated");
                // out of place: `u^{n−1}` from `prev`, `out` holding anything;
                // the computed cells as in place, the others left alone
                let unrelated = noise(count * nxp, 9);
                let mut from = unrelated.clone();
                let prev = Some(&old[range.clone()]);
                crate::acoustic::avx512::interior_rows::<H>(
                    &u,
                    first,
                    computed.clone(),
                    nxp,
                    &mut from,
                    &c[range],
                    weights,
                    prev,
                );
                for (k, ((&got, &expected), &before)) in from.iter().zip(&expected).zip(&unrelated).enumerate() {
                    let (row, col) = (first + k / nxp, k % nxp);
                    let want = if computed.contains(&row) && (H..nxp - H).contains(&col) { expected } else { before };
                    assert_eq!(
                        got.to_bits(),
                        want.to_bits(),
                        "H {H} nxp {nxp} rows {first}+{count}: out of place at {row},{col}"
                    );
                }
            }
        }
    }

    /// A hand-vectorised kernel of the adjoint sweep (`avx512::imaged_rows`,
    /// `avx2::imaged_rows`).
    type ImagedKernel<const H: usize> = fn(
        &[f32],
        usize,
        usize,
        usize,
        (&mut [f32], &[f32]),
        (f32, [f32; H], [f32; H]),
        (&[f32], &mut [f32]),
        bool,
    ) -> bool;

    /// The adjoint sweep's imaged update (`image += field ⊙ lap` as well),
    /// a hand-vectorised kernel of `lanes` columns per vector against the
    /// generic one, bitwise, for single rows and pairs, rows of whole
    /// vectors and rows with a partial one.
    fn compare_imaged<const H: usize>(kernel: ImagedKernel<H>, lanes: usize) {
        for nxp in [2 * H + lanes, 2 * H + 16, 48, 77, 2 * H + 3 * lanes + 5] {
            let nzp = 2 * H + 4;
            let u = noise(nzp * nxp, 4);
            let field = noise(nzp * nxp, 5);
            let c = noise(nzp * nxp, 6).iter().map(|v| 0.1 * v.abs()).collect::<Vec<_>>();
            let (old, old_image) = (noise(nzp * nxp, 7), noise(nzp * nxp, 8));
            let center = -2.5f32;
            let wz: [f32; H] = std::array::from_fn(|k| 0.7 / (k + 1) as f32);
            let wx: [f32; H] = std::array::from_fn(|k| -0.3 / (k + 2) as f32);
            for (i, rows) in [(H, 2), (H + 1, 1), (nzp - H - 2, 2), (nzp - H - 1, 1)] {
                let cells = i * nxp..(i + rows) * nxp;
                let (mut expected, mut expected_image) =
                    (old[cells.clone()].to_vec(), old_image[cells.clone()].to_vec());
                let imaging = Imaging { field: &field[cells.clone()], image: &mut expected_image };
                if rows == 2 {
                    row_pair_2d::<f32, H, true>(
                        &u,
                        i,
                        nxp,
                        &mut expected,
                        &c[cells.clone()],
                        (center, &wz, &wx),
                        imaging,
                    );
                } else {
                    row_2d::<f32, H, true>(&u, i, nxp, &mut expected, &c[cells.clone()], (center, &wz, &wx), imaging);
                }
                let (mut got, mut got_image) = (old[cells.clone()].to_vec(), old_image[cells.clone()].to_vec());
                let ran = kernel(
                    &u,
                    i,
                    rows,
                    nxp,
                    (&mut got, &c[cells.clone()]),
                    (center, wz, wx),
                    (&field[cells.clone()], &mut got_image),
                    i % 2 == 1,
                );
                if !ran {
                    assert!(nxp < 2 * H + lanes, "H {H} nxp {nxp}: the kernel declined");
                    continue;
                }
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&expected), "H {H} nxp {nxp} row {i}+{rows}: update");
                assert_eq!(bits(&got_image), bits(&expected_image), "H {H} nxp {nxp} row {i}+{rows}: image");
                assert_ne!(bits(&got_image), bits(&old_image[cells]), "the image was updated");
            }
        }
    }

    /// The forward update and the adjoint sweep's imaged one, at half-width `H`.
    fn compare_both<const H: usize>() {
        compare::<H>();
        compare_imaged::<H>(crate::acoustic::avx512::imaged_rows::<H>, 16);
    }

    #[test]
    fn avx512_kernels_match_the_generic_kernels_bitwise() {
        if !crate::acoustic::avx512::available() {
            eprintln!("no AVX-512 on this CPU: nothing to compare");
            return;
        }
        compare_both::<1>();
        compare_both::<2>();
        compare_both::<3>();
        compare_both::<4>();
        compare_both::<8>();
    }

    #[test]
    fn avx2_adjoint_kernel_matches_the_generic_kernel_bitwise() {
        if !crate::acoustic::avx2::available() {
            eprintln!("no AVX2 and FMA on this CPU: nothing to compare");
            return;
        }
        compare_imaged::<1>(crate::acoustic::avx2::imaged_rows::<1>, 8);
        compare_imaged::<2>(crate::acoustic::avx2::imaged_rows::<2>, 8);
        compare_imaged::<3>(crate::acoustic::avx2::imaged_rows::<3>, 8);
        compare_imaged::<4>(crate::acoustic::avx2::imaged_rows::<4>, 8);
        compare_imaged::<7>(crate::acoustic::avx2::imaged_rows::<7>, 8);
        compare_imaged::<8>(crate::acoustic::avx2::imaged_rows::<8>, 8);
    }
}
