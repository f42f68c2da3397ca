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
    macro_rules! dispatch {
        ($($h:literal)*) => {
            match layout.halo {
                $($h => rows::<T, $h>(layout, weights, u, first, out, c),)*
                h => unreachable!("space order {} is rejected when the model is built", 2 * h),
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8)
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

/// `out = L u` on every computed cell (the interior Laplacian alone, same
/// arithmetic as the update kernels); other cells of `out` are left alone.
/// Used for the model derivative of the step (`∂w/∂c = L u + ...`).
pub fn laplacian<T: Real>(layout: &Layout, weights: &StencilWeights<T>, u: &[T], out: &mut [T]) {
    let (h, nxp) = (layout.halo, layout.nxp);
    for i in layout.computed_rows() {
        for j in h..nxp - h {
            let m = u[i * nxp + j];
            let mut lap = weights.center * m;
            for k in 1..=h {
                let vertical = if layout.has_z {
                    weights.z[k - 1] * (u[(i - k) * nxp + j] + u[(i + k) * nxp + j])
                } else {
                    T::zero()
                };
                lap += vertical + weights.x[k - 1] * (u[i * nxp + j - k] + u[i * nxp + j + k]);
            }
            out[i * nxp + j] = lap;
        }
    }
}

/// `out += Lᵀ q` on every padded row (halo rows included, cells outside the
/// array count as zero) and every non-halo column. `q` must vanish outside
/// the computed cells; the centred stencil is symmetric, so `Lᵀ` is the same
/// stencil applied to `q`. The halo-row values feed the free-surface fold.
pub fn laplacian_transpose_add<T: Real>(layout: &Layout, weights: &StencilWeights<T>, q: &[T], out: &mut [T]) {
    let (h, nxp, nzp) = (layout.halo, layout.nxp, layout.nzp);
    for i in 0..nzp {
        for j in h..nxp - h {
            let mut sum = weights.center * q[i * nxp + j];
            for k in 1..=h {
                if layout.has_z {
                    let up = if i >= k { q[(i - k) * nxp + j] } else { T::zero() };
                    let down = if i + k < nzp { q[(i + k) * nxp + j] } else { T::zero() };
                    sum += weights.z[k - 1] * (up + down);
                }
                sum += weights.x[k - 1] * (q[i * nxp + j - k] + q[i * nxp + j + k]);
            }
            out[i * nxp + j] += sum;
        }
    }
}
