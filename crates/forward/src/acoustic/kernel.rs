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

/// Interior update of padded row `i`: `out` is that row of `u_next`
/// (holding `u^{n−1}`), `c` that row of `v² dt²`.
pub fn interior_row<T: Real>(layout: &Layout, weights: &StencilWeights<T>, u: &[T], i: usize, out: &mut [T], c: &[T]) {
    macro_rules! dispatch {
        ($($h:literal)*) => {
            match layout.halo {
                $($h => row::<T, $h>(layout, weights, u, i, out, c),)*
                h => unreachable!("space order {} is rejected when the model is built", 2 * h),
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8)
}

fn row<T: Real, const H: usize>(
    layout: &Layout,
    weights: &StencilWeights<T>,
    u: &[T],
    i: usize,
    out: &mut [T],
    c: &[T],
) {
    let wx: [T; H] = std::array::from_fn(|k| weights.x[k]);
    if layout.has_z {
        let wz: [T; H] = std::array::from_fn(|k| weights.z[k]);
        row_2d::<T, H>(u, i, layout.nxp, out, c, weights.center, &wz, &wx);
    } else {
        row_1d::<T, H>(u, out, c, weights.center, &wx);
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
