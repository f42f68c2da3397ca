//! The interior leapfrog update, the hot loop of the acoustic solver:
//! `u_next ← 2u − u_next + c·(D²_z u + D²_x u)` on one padded row (`u_next`
//! holds `u^{n−1}` on entry), with `c = v² dt²`. Each row is processed in
//! fixed-size chunks of columns held in vector registers, compiled for
//! AVX-512 and AVX2+FMA with runtime dispatch (multiversion) so binaries stay
//! portable. The stencil half-width is a const generic, so the tap loop
//! unrolls.
//!
//! The map is linear and symmetric in `u` (centred weights), so its adjoint
//! is the same update applied to adjoint fields.

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
pub fn interior_rows<T: Real>(
    layout: &Layout,
    weights: &StencilWeights<T>,
    u: &[T],
    first: usize,
    out: &mut [T],
    c: &[T],
) {
    with_halo!(layout.halo, H => rows::<T, H>(layout, weights, u, first, out, c))
}

fn rows<T: Real, const H: usize>(
    layout: &Layout,
    weights: &StencilWeights<T>,
    u: &[T],
    first: usize,
    out: &mut [T],
    c: &[T],
) {
    let nxp = layout.nxp;
    let computed = layout.computed_rows();
    let wx: [T; H] = std::array::from_fn(|k| weights.x[k]);
    if !layout.has_z {
        if computed.contains(&first) {
            row_1d::<T, H>(u, &mut out[..nxp], &c[..nxp], weights.center, &wx);
        }
        return;
    }
    let wz: [T; H] = std::array::from_fn(|k| weights.z[k]);
    let count = out.len() / nxp;
    let mut r = 0;
    while r < count {
        let i = first + r;
        let (out_rows, c_rows) = (&mut out[r * nxp..], &c[r * nxp..]);
        if r + 1 < count && computed.contains(&i) && computed.contains(&(i + 1)) {
            row_pair_2d::<T, H>(u, i, nxp, &mut out_rows[..2 * nxp], &c_rows[..2 * nxp], weights.center, &wz, &wx);
            r += 2;
        } else {
            if computed.contains(&i) {
                row_2d::<T, H>(u, i, nxp, &mut out_rows[..nxp], &c_rows[..nxp], weights.center, &wz, &wx);
            }
            r += 1;
        }
    }
}

/// Rows `i` and `i + 1` together: the `2H + 2` input rows are loaded once
/// per column for both outputs. Per output cell the arithmetic is exactly
/// that of [`row_2d`], so results do not depend on how rows are paired.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn row_pair_2d<T: Real, const H: usize>(
    u: &[T],
    i: usize,
    nxp: usize,
    out: &mut [T],
    c: &[T],
    center: T,
    wz: &[T; H],
    wx: &[T; H],
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
            lap0 += wz[k] * (up0 + down0) + wx[k] * (left0[k][j] + right0[k][j]);
            lap1 += wz[k] * (up1 + down1) + wx[k] * (left1[k][j] + right1[k][j]);
        }
        out0[j] = m0 + m0 - out0[j] + c0[j] * lap0;
        out1[j] = m1 + m1 - out1[j] + c1[j] * lap1;
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn row_2d<T: Real, const H: usize>(
    u: &[T],
    i: usize,
    nxp: usize,
    out: &mut [T],
    c: &[T],
    center: T,
    wz: &[T; H],
    wx: &[T; H],
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
    for j in 0..n {
        let m = mid[j];
        let mut lap = center * m;
        for k in 0..H {
            lap += wz[k] * (up[k][j] + down[k][j]) + wx[k] * (left[k][j] + right[k][j]);
        }
        out[j] = m + m - out[j] + c[j] * lap;
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn row_1d<T: Real, const H: usize>(u: &[T], out: &mut [T], c: &[T], center: T, wx: &[T; H]) {
    let n = out.len() - 2 * H;
    let mid = &u[H..H + n];
    let left: [&[T]; H] = std::array::from_fn(|k| &u[H - k - 1..][..n]);
    let right: [&[T]; H] = std::array::from_fn(|k| &u[H + k + 1..][..n]);
    let out = &mut out[H..H + n];
    let c = &c[H..H + n];
    for j in 0..n {
        let m = mid[j];
        let mut lap = center * m;
        for k in 0..H {
            lap += wx[k] * (left[k][j] + right[k][j]);
        }
        out[j] = m + m - out[j] + c[j] * lap;
    }
}

/// The adjoint of the interior update on padded row `i`, fused with the
/// model-derivative term. With `λw` the adjoint of `w = 2u − p + c L u` and
/// `q = c ⊙ λw` (zero off the computed cells):
/// `λu += 2λw + Lᵀ q` and `image += λw ⊙ L u` on computed rows; on the halo
/// rows (free surface) only `λu += Lᵀ q` (cells beyond the array count as
/// zero). `Lᵀ = L`: the centred stencil is symmetric.
pub fn adjoint_row<T: Real>(
    layout: &Layout,
    weights: &StencilWeights<T>,
    i: usize,
    q: &[T],
    u: &[T],
    lw: &[T],
    lu: &mut [T],
    image: &mut [T],
) {
    with_halo!(layout.halo, H => adjoint_row_h::<T, H>(layout, weights, i, q, u, lw, lu, image))
}

fn adjoint_row_h<T: Real, const H: usize>(
    layout: &Layout,
    weights: &StencilWeights<T>,
    i: usize,
    q: &[T],
    u: &[T],
    lw: &[T],
    lu: &mut [T],
    image: &mut [T],
) {
    let (nxp, nzp) = (layout.nxp, layout.nzp);
    let n = nxp - 2 * H;
    let wx: [T; H] = std::array::from_fn(|k| weights.x[k]);
    let wz: [T; H] = std::array::from_fn(|k| if layout.has_z { weights.z[k] } else { T::zero() });
    if layout.computed_rows().contains(&i) {
        adjoint_computed_row::<T, H>(
            q,
            u,
            i,
            nxp,
            layout.has_z,
            weights.center,
            &wz,
            &wx,
            &lw[i * nxp..(i + 1) * nxp],
            lu,
            image,
        );
    } else {
        // a halo row above a free surface: only the vertical part of Lᵀ q reaches it
        let out = &mut lu[H..H + n];
        for k in 1..=H {
            for r in [i + k, i.wrapping_sub(k)] {
                if r < nzp {
                    for (o, &v) in out.iter_mut().zip(&q[r * nxp + H..r * nxp + H + n]) {
                        *o += wz[k - 1] * v;
                    }
                }
            }
        }
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn adjoint_computed_row<T: Real, const H: usize>(
    q: &[T],
    u: &[T],
    i: usize,
    nxp: usize,
    has_z: bool,
    center: T,
    wz: &[T; H],
    wx: &[T; H],
    lw: &[T],
    lu: &mut [T],
    image: &mut [T],
) {
    let n = nxp - 2 * H;
    let q_row = &q[i * nxp..(i + 1) * nxp];
    let u_row = &u[i * nxp..(i + 1) * nxp];
    let q_mid = &q_row[H..H + n];
    let u_mid = &u_row[H..H + n];
    let q_left: [&[T]; H] = std::array::from_fn(|k| &q_row[H - k - 1..][..n]);
    let q_right: [&[T]; H] = std::array::from_fn(|k| &q_row[H + k + 1..][..n]);
    let u_left: [&[T]; H] = std::array::from_fn(|k| &u_row[H - k - 1..][..n]);
    let u_right: [&[T]; H] = std::array::from_fn(|k| &u_row[H + k + 1..][..n]);
    // vertical neighbours (1D: the row itself with zero weights)
    let rows_at = |d: isize| -> usize { if has_z { (i as isize + d) as usize * nxp + H } else { H } };
    let q_up: [&[T]; H] = std::array::from_fn(|k| &q[rows_at(-(k as isize) - 1)..][..n]);
    let q_down: [&[T]; H] = std::array::from_fn(|k| &q[rows_at(k as isize + 1)..][..n]);
    let u_up: [&[T]; H] = std::array::from_fn(|k| &u[rows_at(-(k as isize) - 1)..][..n]);
    let u_down: [&[T]; H] = std::array::from_fn(|k| &u[rows_at(k as isize + 1)..][..n]);
    let lw = &lw[H..H + n];
    let lu = &mut lu[H..H + n];
    let image = &mut image[H..H + n];
    for j in 0..n {
        let (mq, mu) = (q_mid[j], u_mid[j]);
        let mut lap_q = center * mq;
        let mut lap_u = center * mu;
        for k in 0..H {
            lap_q += wz[k] * (q_up[k][j] + q_down[k][j]) + wx[k] * (q_left[k][j] + q_right[k][j]);
            lap_u += wz[k] * (u_up[k][j] + u_down[k][j]) + wx[k] * (u_left[k][j] + u_right[k][j]);
        }
        let w = lw[j];
        lu[j] += w + w + lap_q;
        image[j] += w * lap_u;
    }
}

/// [`adjoint_row`] on the padded rows `first..first + k` held in `lu` and
/// `image` (`k` whole rows); pairs of computed rows share their vertical
/// loads. Rows that are neither computed nor in `extra_rows` (the halo rows
/// above a free surface) are left alone.
pub fn adjoint_rows<T: Real>(
    layout: &Layout,
    weights: &StencilWeights<T>,
    first: usize,
    extra_rows: std::ops::Range<usize>,
    q: &[T],
    u: &[T],
    lw: &[T],
    lu: &mut [T],
    image: &mut [T],
) {
    let nxp = layout.nxp;
    let computed = layout.computed_rows();
    let count = lu.len() / nxp;
    let mut r = 0;
    while r < count {
        let i = first + r;
        if layout.has_z && r + 1 < count && computed.contains(&i) && computed.contains(&(i + 1)) {
            let pair = r * nxp..(r + 2) * nxp;
            with_halo!(layout.halo, H => {
                let wz: [T; H] = std::array::from_fn(|k| weights.z[k]);
                let wx: [T; H] = std::array::from_fn(|k| weights.x[k]);
                adjoint_pair::<T, H>(q, u, i, nxp, weights.center, &wz, &wx, lw, &mut lu[pair.clone()], &mut image[pair])
            });
            r += 2;
        } else {
            if computed.contains(&i) || extra_rows.contains(&i) {
                adjoint_row(
                    layout,
                    weights,
                    i,
                    q,
                    u,
                    lw,
                    &mut lu[r * nxp..(r + 1) * nxp],
                    &mut image[r * nxp..(r + 1) * nxp],
                );
            }
            r += 1;
        }
    }
}

/// Rows `first .. first + H` of `f`, from the first computed column, `n` long.
fn rows_from<T, const H: usize>(f: &[T], first: usize, nxp: usize, n: usize) -> [&[T]; H] {
    std::array::from_fn(|k| &f[(first + k) * nxp + H..][..n])
}

/// `n` values of a padded row from column `H + d`.
fn shifted_by<T, const H: usize>(row: &[T], d: isize, n: usize) -> &[T] {
    &row[(H as isize + d) as usize..][..n]
}

/// [`adjoint_computed_row`] for rows `i` and `i + 1` at once (2D): the
/// `2H + 2` rows of `q` and of `u` are loaded once per column for both.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn adjoint_pair<T: Real, const H: usize>(
    q: &[T],
    u: &[T],
    i: usize,
    nxp: usize,
    center: T,
    wz: &[T; H],
    wx: &[T; H],
    lw: &[T],
    lu: &mut [T],
    image: &mut [T],
) {
    let n = nxp - 2 * H;
    // field rows i−H ..= i−1 (above) and i+2 ..= i+1+H (below), and the two centre rows
    let (q_above, q_below) = (rows_from::<T, H>(q, i - H, nxp, n), rows_from::<T, H>(q, i + 2, nxp, n));
    let (u_above, u_below) = (rows_from::<T, H>(u, i - H, nxp, n), rows_from::<T, H>(u, i + 2, nxp, n));
    let (q0, q1) = (&q[i * nxp..(i + 1) * nxp], &q[(i + 1) * nxp..(i + 2) * nxp]);
    let (u0, u1) = (&u[i * nxp..(i + 1) * nxp], &u[(i + 1) * nxp..(i + 2) * nxp]);
    let shifted = |row, d| shifted_by::<T, H>(row, d, n);
    let q0l: [&[T]; H] = std::array::from_fn(|k| shifted(q0, -(k as isize) - 1));
    let q0r: [&[T]; H] = std::array::from_fn(|k| shifted(q0, k as isize + 1));
    let q1l: [&[T]; H] = std::array::from_fn(|k| shifted(q1, -(k as isize) - 1));
    let q1r: [&[T]; H] = std::array::from_fn(|k| shifted(q1, k as isize + 1));
    let u0l: [&[T]; H] = std::array::from_fn(|k| shifted(u0, -(k as isize) - 1));
    let u0r: [&[T]; H] = std::array::from_fn(|k| shifted(u0, k as isize + 1));
    let u1l: [&[T]; H] = std::array::from_fn(|k| shifted(u1, -(k as isize) - 1));
    let u1r: [&[T]; H] = std::array::from_fn(|k| shifted(u1, k as isize + 1));
    let (qm0, qm1, um0, um1) = (shifted(q0, 0), shifted(q1, 0), shifted(u0, 0), shifted(u1, 0));
    let (lw0, lw1) = (&lw[i * nxp + H..][..n], &lw[(i + 1) * nxp + H..][..n]);
    let (lu0, lu1) = lu.split_at_mut(nxp);
    let (lu0, lu1) = (&mut lu0[H..H + n], &mut lu1[H..H + n]);
    let (im0, im1) = image.split_at_mut(nxp);
    let (im0, im1) = (&mut im0[H..H + n], &mut im1[H..H + n]);
    for j in 0..n {
        let (a0, a1, b0, b1) = (qm0[j], qm1[j], um0[j], um1[j]);
        let (mut lq0, mut lq1, mut lu_0, mut lu_1) = (center * a0, center * a1, center * b0, center * b1);
        for k in 0..H {
            // distance k+1 from row i: rows i−1−k, i+1+k; from row i+1: rows i−k, i+2+k
            let (qu0, qd0) = (q_above[H - 1 - k][j], if k == 0 { a1 } else { q_below[k - 1][j] });
            let (qu1, qd1) = (if k == 0 { a0 } else { q_above[H - k][j] }, q_below[k][j]);
            let (uu0, ud0) = (u_above[H - 1 - k][j], if k == 0 { b1 } else { u_below[k - 1][j] });
            let (uu1, ud1) = (if k == 0 { b0 } else { u_above[H - k][j] }, u_below[k][j]);
            lq0 += wz[k] * (qu0 + qd0) + wx[k] * (q0l[k][j] + q0r[k][j]);
            lq1 += wz[k] * (qu1 + qd1) + wx[k] * (q1l[k][j] + q1r[k][j]);
            lu_0 += wz[k] * (uu0 + ud0) + wx[k] * (u0l[k][j] + u0r[k][j]);
            lu_1 += wz[k] * (uu1 + ud1) + wx[k] * (u1l[k][j] + u1r[k][j]);
        }
        let (w0, w1) = (lw0[j], lw1[j]);
        lu0[j] += w0 + w0 + lq0;
        lu1[j] += w1 + w1 + lq1;
        im0[j] += w0 * lu_0;
        im1[j] += w1 * lu_1;
    }
}

/// First pass of the adjoint interior update on one computed row: with
/// `λw` the adjoint of `w = 2u − p + c L u` (`w = p` on halo columns),
/// `q = c ⊙ λw` and `λp = −λw` on the computed columns, `q = 0` and
/// `λp = λw` on the `halo` columns at each end.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
pub fn adjoint_prepare_row<T: Real>(halo: usize, lw: &[T], c: &[T], q: &mut [T], lp: &mut [T]) {
    let nxp = lw.len();
    for j in (0..halo).chain(nxp - halo..nxp) {
        lp[j] = lw[j];
        q[j] = T::zero();
    }
    let inner = halo..nxp - halo;
    for (((q, lp), &c), &w) in
        q[inner.clone()].iter_mut().zip(&mut lp[inner.clone()]).zip(&c[inner.clone()]).zip(&lw[inner])
    {
        *q = c * w;
        *lp = -w;
    }
}
