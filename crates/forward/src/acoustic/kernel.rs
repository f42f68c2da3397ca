//! The interior leapfrog update, the hot loop of the acoustic solver:
//! `u_prev ← 2u − u_prev + c·(D²_z u + D²_x u)` over every non-halo cell,
//! with `c = v² dt²`. Rows are split over threads; each row is a loop over
//! contiguous slices that the compiler vectorises, compiled for AVX-512 and
//! AVX2+FMA with runtime dispatch (multiversion) so binaries stay portable.
//!
//! The stencil half-width is a const generic, so the tap loop unrolls.
//! The map is linear and symmetric in `u` (centred weights), so its adjoint
//! is the same update applied to adjoint fields.

use super::layout::Layout;
use crate::propagator::Parallelism;
use crate::real::Real;
use multiversion::multiversion;
use rayon::prelude::*;

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

/// Rows per parallel task: enough work per task to hide scheduling cost.
const ROWS_PER_TASK: usize = 8;

/// `u_prev ← 2u − u_prev + c·L u` on every non-halo cell of `layout`.
pub fn leapfrog_update<T: Real>(
    layout: &Layout,
    weights: &StencilWeights<T>,
    u: &[T],
    u_prev: &mut [T],
    c: &[T],
    parallelism: Parallelism,
) {
    macro_rules! dispatch {
        ($($h:literal)*) => {
            match layout.halo {
                $($h => run::<T, $h>(layout, weights, u, u_prev, c, parallelism),)*
                h => panic!("space order {} is not compiled in (supported: 2 to 16)", 2 * h),
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8)
}

fn run<T: Real, const H: usize>(
    layout: &Layout,
    weights: &StencilWeights<T>,
    u: &[T],
    u_prev: &mut [T],
    c: &[T],
    parallelism: Parallelism,
) {
    let nxp = layout.nxp;
    let wx: [T; H] = std::array::from_fn(|k| weights.x[k]);
    let center = weights.center;
    if !layout.has_z {
        row_1d::<T, H>(u, &mut u_prev[..nxp], &c[..nxp], center, &wx);
        return;
    }
    let wz: [T; H] = std::array::from_fn(|k| weights.z[k]);
    let rows = layout.halo..layout.nzp - layout.halo;
    let do_rows = |first_row: usize, block: &mut [T]| {
        for (r, out) in block.chunks_exact_mut(nxp).enumerate() {
            let i = first_row + r;
            if rows.contains(&i) {
                row_2d::<T, H>(u, i, nxp, out, &c[i * nxp..(i + 1) * nxp], center, &wz, &wx);
            }
        }
    };
    match parallelism {
        Parallelism::Serial => do_rows(0, u_prev),
        Parallelism::Rows => u_prev
            .par_chunks_mut(ROWS_PER_TASK * nxp)
            .enumerate()
            .for_each(|(b, block)| do_rows(b * ROWS_PER_TASK, block)),
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
    let nxp = out.len();
    let n = nxp - 2 * H;
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
