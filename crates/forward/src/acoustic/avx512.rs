//! The 2D interior update of [`super::kernel`] written by hand for AVX-512
//! in `f32`, the production case: one or two rows at a time, sixteen
//! columns per vector. The adjoint sweep runs the same kernel with the
//! model derivative `image += field ⊙ lap` switched on (`imaged_rows`).
//!
//! What the compiler's vectorisation of the generic kernel cannot do: the
//! horizontal neighbours `u[j ± k]` come from the aligned chunks before and
//! after the current one through `valignd` (a register shuffle), instead of
//! `2H` unaligned loads per row that each straddle two cache lines. With the
//! rows cache-line aligned (see [`super::layout`]), every load of the main
//! loop touches one line. Measured on this machine's AVX-512 core, a
//! standalone order-8 probe ran 15–20% faster than the compiler's version of
//! the same arithmetic on the same aligned rows. The columns after the last
//! whole chunk go last, as a partial chunk: computed first (the old way,
//! from whole unaligned chunks overlapping the main loop's last one), their
//! loads missed the cache on every row, before the prefetchers reached the
//! row's end.
//!
//! Per cell the arithmetic is exactly that of the generic kernel (same
//! operations, same order, fused multiply-adds where it fuses), so results
//! are bitwise identical whichever kernel ran a row: no dependence on the
//! thread count or on how rows are paired.
//!
//! The CPML x-strip updates (`ψ_x`, then `ζ_x` and the correction) and
//! their adjoint are here too, in 256-bit vectors: a strip row is a few vectors long, and the
//! compiler's versions of the generic kernels ran most of it in scalar or
//! 128-bit remainder loops. They are bitwise equal to the generic kernels
//! (no fused multiply-adds there, the same order of operations). The
//! adjoint, whose three passes each read the previous one's output at
//! shifted columns, holds a strip side of up to 64 columns in 512-bit
//! registers instead (module `registers`): its intermediates never go
//! through memory, and the shifts are `valignd` as in the interior kernel.
//! The z-strip adjoint is here as well, in 512-bit vectors and blocks of
//! 16 columns, so that its intermediates stay in the level-1 cache (see
//! [`z_group_adjoint`]).
//!
//! Safety: vector loads and stores go through `bytemuck` casts of
//! bounds-checked `[f32; 16]` chunks, except the masked ones of a row's
//! last partial chunk, which take the pointer of a bounds-checked slice of
//! exactly the lanes they enable. The other `unsafe` is the call into the
//! `#[target_feature]` code, made only after the running CPU reported
//! AVX-512F.
#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m256, __m512, _MM_HINT_T0, _mm_prefetch, _mm256_add_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_setzero_ps,
    _mm256_sub_ps, _mm512_add_ps, _mm512_alignr_epi32, _mm512_castps_si512, _mm512_castsi512_ps, _mm512_fmadd_ps,
    _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_sub_ps,
};

/// Columns per vector.
const LANES: usize = 16;

/// How far ahead (in chunks of [`LANES`] columns, one cache line each) the
/// interior kernel prefetches the rows it reads for the first time. A row
/// pair's pass streams up to ten rows at once (the adjoint's: two new
/// input rows, the old values, `c`, the forward field and the image, two
/// each), more than the hardware prefetchers keep ahead of: at 1000 x 1000
/// and 1400 x 1400 (f32, order 8, one thread) the adjoint step took
/// 0.96-1.11 ms and 2.28-2.61 ms with this prefetch against 1.33-1.34 ms
/// and 2.87-3.05 ms without. Of 4, 6, 8, 12 and 16 chunks ahead, 8 was
/// the fastest at 1000 and as fast as any at 1400; prefetching into the
/// level-2 cache only (`_MM_HINT_T1`) was no faster.
const PREFETCH_CHUNKS: usize = 8;

/// Whether this CPU runs the kernel (cached by the standard library).
pub fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

/// Rows `first..first + count` of the interior update (see
/// [`super::kernel::interior_rows`]), `computed` saying which are.
/// Returns `false`, doing nothing, when the kernel does not apply: no
/// AVX-512, a half-width over 8, or fewer than 16 computed columns.
#[allow(clippy::too_many_arguments)]
pub fn interior_rows<const H: usize>(
    u: &[f32],
    first: usize,
    computed: std::ops::Range<usize>,
    nxp: usize,
    out: &mut [f32],
    c: &[f32],
    weights: (f32, [f32; H], [f32; H]),
    prev: Option<&[f32]>,
) -> bool {
    if H == 0 || H > 8 || nxp < 2 * H + LANES || computed.start == 0 || !available() {
        return false;
    }
    // SAFETY: the CPU supports AVX-512F, checked just above.
    unsafe {
        match prev {
            None => rows::<H, false>(u, first, computed, nxp, out, c, weights, &[]),
            Some(prev) => rows::<H, true>(u, first, computed, nxp, out, c, weights, prev),
        }
    };
    true
}

/// With `FROM`, the old values come from `prev` (the same rows as `out`)
/// and only the computed columns of `out` are written.
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
fn rows<const H: usize, const FROM: bool>(
    u: &[f32],
    first: usize,
    computed: std::ops::Range<usize>,
    nxp: usize,
    out: &mut [f32],
    c: &[f32],
    (center, wz, wx): (f32, [f32; H], [f32; H]),
    prev: &[f32],
) {
    let weights =
        Weights { center: _mm512_set1_ps(center), z: wz.map(|w| _mm512_set1_ps(w)), x: wx.map(|w| _mm512_set1_ps(w)) };
    super::kernel::for_row_pairs(first, out.len() / nxp, computed, |r, rows| {
        let cells = r * nxp..(r + rows) * nxp;
        let prev = if FROM { &prev[cells.clone()] } else { &[] };
        let (out, c) = (&mut out[cells.clone()], &c[cells]);
        if rows == 2 {
            block::<H, 2, false, FROM, false>(u, first + r, nxp, (out, c), &weights, (&[], &mut []), prev);
        } else {
            block::<H, 1, false, FROM, false>(u, first + r, nxp, (out, c), &weights, (&[], &mut []), prev);
        }
    });
}

/// Rows `i .. i + rows` (`rows` 1 or 2, computed) of the adjoint sweep's
/// interior update (see `kernel::adjoint_rows`): the update of
/// [`interior_rows`] on `out`, plus `image += field ⊙ lap`, where `field`
/// and `image` hold the same whole rows as `out` and `c`. Returns `false`,
/// doing nothing, when the kernel does not apply (as [`interior_rows`]).
#[allow(clippy::too_many_arguments)]
pub fn imaged_rows<const H: usize>(
    u: &[f32],
    i: usize,
    rows: usize,
    nxp: usize,
    (out, c): (&mut [f32], &[f32]),
    weights: (f32, [f32; H], [f32; H]),
    (field, image): (&[f32], &mut [f32]),
    cached: bool,
) -> bool {
    if H == 0 || H > 8 || nxp < 2 * H + LANES || i < H || !available() {
        return false;
    }
    // SAFETY: the CPU supports AVX-512F, checked just above.
    unsafe { imaged::<H>(u, i, rows, nxp, (out, c), weights, (field, image), cached) };
    true
}

#[target_feature(enable = "avx512f")]
fn imaged<const H: usize>(
    u: &[f32],
    i: usize,
    rows: usize,
    nxp: usize,
    out_c: (&mut [f32], &[f32]),
    (center, wz, wx): (f32, [f32; H], [f32; H]),
    imaging: (&[f32], &mut [f32]),
    cached: bool,
) {
    let weights =
        Weights { center: _mm512_set1_ps(center), z: wz.map(|w| _mm512_set1_ps(w)), x: wx.map(|w| _mm512_set1_ps(w)) };
    match (rows, cached) {
        (2, false) => block::<H, 2, true, false, false>(u, i, nxp, out_c, &weights, imaging, &[]),
        (2, true) => block::<H, 2, true, false, true>(u, i, nxp, out_c, &weights, imaging, &[]),
        (_, false) => block::<H, 1, true, false, false>(u, i, nxp, out_c, &weights, imaging, &[]),
        (_, true) => block::<H, 1, true, false, true>(u, i, nxp, out_c, &weights, imaging, &[]),
    }
}

/// The stencil weights, broadcast.
struct Weights<const H: usize> {
    center: __m512,
    z: [__m512; H],
    x: [__m512; H],
}

/// Lanes `t ↦ [low | high][t + offset]`: sixteen consecutive values from
/// two adjacent chunks (`valignd`), `offset` in 1..=15.
#[inline]
#[target_feature(enable = "avx512f")]
fn window(low: __m512, high: __m512, offset: usize) -> __m512 {
    let (l, h) = (_mm512_castps_si512(low), _mm512_castps_si512(high));
    macro_rules! arms {
        ($($o:literal)*) => {
            match offset {
                $($o => _mm512_alignr_epi32::<$o>(h, l),)*
                _ => unreachable!("an offset inside a chunk"),
            }
        };
    }
    _mm512_castsi512_ps(arms!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15))
}

/// Lanes `t ↦ u[j + t − k]` from the chunks at `j − 16` and `j`.
#[inline]
#[target_feature(enable = "avx512f")]
fn shifted_left(before: __m512, here: __m512, k: usize) -> __m512 {
    window(before, here, LANES - k)
}

/// Lanes `t ↦ u[j + t + k]` from the chunks at `j` and `j + 16`.
#[inline]
#[target_feature(enable = "avx512f")]
fn shifted_right(here: __m512, after: __m512, k: usize) -> __m512 {
    window(here, after, k)
}

/// Input rows held per chunk: `2H + R` of them, at most 18.
const MAX_ROWS: usize = 18;

/// One output vector of the row whose chunk is `column[q]`, and its `lap`:
/// `2m − out + c·lap`, `lap` summed as in the generic kernel (centre, then per distance
/// `k` the vertical pair `column[q ∓ k]`, then the horizontal pair from the
/// chunks `before`, `here` (= `column[q]`) and `after`). Inlined with `q`
/// and `H` constant, every index is resolved at compile time.
#[inline]
#[target_feature(enable = "avx512f")]
fn output<const H: usize>(
    w: &Weights<H>,
    column: &[__m512; MAX_ROWS],
    q: usize,
    (before, after): (__m512, __m512),
    old: __m512,
    c: __m512,
) -> (__m512, __m512) {
    let here = column[q];
    let mut lap = _mm512_mul_ps(w.center, here);
    macro_rules! taps {
        ($($k:literal)*) => {$(
            if $k <= H {
                let vertical = _mm512_add_ps(column[q.wrapping_sub($k)], column[q + $k]);
                lap = _mm512_fmadd_ps(w.z[$k - 1], vertical, lap);
                let horizontal = _mm512_add_ps(shifted_left(before, here, $k), shifted_right(here, after, $k));
                lap = _mm512_fmadd_ps(w.x[$k - 1], horizontal, lap);
            }
        )*};
    }
    taps!(1 2 3 4 5 6 7 8);
    (_mm512_fmadd_ps(c, lap, _mm512_sub_ps(_mm512_add_ps(here, here), old)), lap)
}

/// Rows `i .. i + R` (`R` is 1 or 2): the `2H + R` input rows are loaded
/// once per chunk for all outputs. `out` and `c` hold the `R` rows; with
/// `IMAGE`, so do `field` and `image`, and `image += field ⊙ lap` (the
/// adjoint sweep; empty slices otherwise). With `FROM`, the old values
/// `u^{n−1}` come from `prev` (the same rows as `out`) instead of `out`.
/// With `CACHED` (and `IMAGE`), only `field` is prefetched.
#[inline]
#[target_feature(enable = "avx512f")]
fn block<const H: usize, const R: usize, const IMAGE: bool, const FROM: bool, const CACHED: bool>(
    u: &[f32],
    i: usize,
    nxp: usize,
    (out, c): (&mut [f32], &[f32]),
    w: &Weights<H>,
    (field, image): (&[f32], &mut [f32]),
    prev: &[f32],
) {
    // input row `q` (0 ..= 2H + R − 1) is padded row i − H + q
    let base = |q: usize| (i + q - H) * nxp;
    let end = nxp - H;
    // Main loop: aligned chunks from column H; neighbours across chunk
    // edges come from the chunks before and after (the one before column H
    // starts in the row above, which exists: computed rows start at `halo`).
    // Every row is cut into exactly the chunks the loop reads (the output
    // rows' input one more on each side), so the loop carries no bounds
    // checks.
    let count = (end - H) / LANES;
    let span = count * LANES;
    let zero = _mm512_set1_ps(0.0);
    let mut rows: [&[[f32; LANES]]; MAX_ROWS] = [&[]; MAX_ROWS];
    for (q, row) in rows.iter_mut().enumerate().take(2 * H + R) {
        *row = u[base(q) + H..base(q) + H + span].as_chunks().0;
    }
    let mid: [&[[f32; LANES]]; 2] = std::array::from_fn(|r| {
        let at = base(H + r.min(R - 1)) + H;
        u[at - LANES..at + span + LANES].as_chunks().0
    });
    let (out0, out1) = out.split_at_mut(nxp);
    let out1 = if R == 2 { &mut out1[H..H + span] } else { &mut [] };
    let out0 = out0[H..H + span].as_chunks_mut().0;
    let out1 = out1.as_chunks_mut().0;
    let c0 = c[H..H + span].as_chunks().0;
    let c1 = if R == 2 { c[nxp + H..nxp + H + span].as_chunks().0 } else { &[] };
    let p0: &[[f32; LANES]] = if FROM { prev[H..H + span].as_chunks().0 } else { &[] };
    let p1: &[[f32; LANES]] = if FROM && R == 2 { prev[nxp + H..nxp + H + span].as_chunks().0 } else { &[] };
    assert!(!FROM || (p0.len() == count && (R == 1 || p1.len() == count)));
    type Chunks<'a> = &'a [[f32; LANES]];
    type ChunksMut<'a> = &'a mut [[f32; LANES]];
    let (f0, f1, image0, image1): (Chunks<'_>, Chunks<'_>, ChunksMut<'_>, ChunksMut<'_>) = if IMAGE {
        let (image0, image1) = image.split_at_mut(nxp);
        let image1 = if R == 2 { &mut image1[H..H + span] } else { &mut [] };
        let f1 = if R == 2 { field[nxp + H..nxp + H + span].as_chunks().0 } else { &[] };
        (field[H..H + span].as_chunks().0, f1, image0[H..H + span].as_chunks_mut().0, image1.as_chunks_mut().0)
    } else {
        (&[], &[], &mut [], &mut [])
    };
    assert!(!IMAGE || (f0.len() == count && image0.len() == count));
    assert!(!IMAGE || R == 1 || (f1.len() == count && image1.len() == count));
    for row in &rows[..2 * H + R] {
        assert_eq!(row.len(), count);
    }
    assert!(mid[0].len() == count + 2 && mid[1].len() == count + 2 && out0.len() == count && c0.len() == count);
    assert!(R == 1 || (out1.len() == count && c1.len() == count));
    let vector = |chunk: &[f32; LANES]| -> __m512 { bytemuck::cast(*chunk) };
    // Per output row, the rows this pass reads for the first time: its
    // newest input row, its old values, `c`, and with `IMAGE` the field
    // and the image; each fetched `PREFETCH_CHUNKS` chunks ahead (see
    // `PREFETCH_CHUNKS`). Row 1's are empty slices when `R` is 1, unused.
    let old: [&[[f32; LANES]]; 2] = if FROM { [p0, p1] } else { [out0, out1] };
    let streams: [[*const [f32; LANES]; 5]; 2] = [
        [rows[2 * H].as_ptr(), old[0].as_ptr(), c0.as_ptr(), f0.as_ptr(), image0.as_ptr()],
        [rows[2 * H + 1].as_ptr(), old[1].as_ptr(), c1.as_ptr(), f1.as_ptr(), image1.as_ptr()],
    ];
    let per_row = if CACHED { 3..4 } else { 0..3 + 2 * usize::from(IMAGE) };
    let mut before = [vector(&mid[0][0]), vector(&mid[1][0])];
    let mut here = [vector(&mid[0][1]), vector(&mid[1][1])];
    for m in 0..count {
        for row in &streams[..R] {
            for stream in &row[per_row.clone()] {
                // a hint, never a memory access: an address past the row
                // (the last chunks) is harmless
                _mm_prefetch::<_MM_HINT_T0>(stream.wrapping_add(m + PREFETCH_CHUNKS).cast());
            }
        }
        let after = [vector(&mid[0][m + 2]), vector(&mid[1][m + 2])];
        macro_rules! column {
            ($($q:literal)*) => {
                [$(
                    if $q == H { here[0] }
                    else if R == 2 && $q == H + 1 { here[1] }
                    else if $q < 2 * H + R { vector(&rows[$q][m]) }
                    else { zero }
                ),*]
            };
        }
        let column: [__m512; MAX_ROWS] = column!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17);
        let old0 = if FROM { vector(&p0[m]) } else { vector(&out0[m]) };
        let (first, lap) = output(w, &column, H, (before[0], after[0]), old0, vector(&c0[m]));
        out0[m] = bytemuck::cast(first);
        if IMAGE {
            image0[m] = bytemuck::cast(_mm512_fmadd_ps(vector(&f0[m]), lap, vector(&image0[m])));
        }
        if R == 2 {
            let old1 = if FROM { vector(&p1[m]) } else { vector(&out1[m]) };
            let (second, lap) = output(w, &column, H + 1, (before[1], after[1]), old1, vector(&c1[m]));
            out1[m] = bytemuck::cast(second);
            if IMAGE {
                image1[m] = bytemuck::cast(_mm512_fmadd_ps(vector(&f1[m]), lap, vector(&image1[m])));
            }
        }
        before = here;
        here = after;
    }
    // The last `rest` computed columns (fewer than a chunk): the chunk at
    // column `p`, in lanes `..rest`. Partial loads fill the other lanes
    // with zeros, which reach only outputs that are not stored. The `mid`
    // rows reach the chunk at `p`; the chunk after it is loaded as far as
    // the row goes. (Nothing is carried over from the loop: values kept
    // for after it made the loop spill registers.)
    let (p, rest) = (H + span, end - H - span);
    if rest > 0 {
        for r in 0..R {
            let at = base(H + r) + p;
            let after = load_partial(u, at + LANES, (nxp - p).saturating_sub(LANES));
            let (before, here) = (vector(&mid[r][count]), vector(&mid[r][count + 1]));
            let column: [__m512; MAX_ROWS] = std::array::from_fn(|q| {
                if q == H + r {
                    here
                } else if q < 2 * H + R {
                    load_partial(u, base(q) + p, rest)
                } else {
                    zero
                }
            });
            let at = r * nxp + p;
            let old = (load_partial(if FROM { prev } else { &*out }, at, rest), load_partial(c, at, rest));
            let (value, lap) = output(w, &column, H + r, (before, after), old.0, old.1);
            store_partial(out, at, value, rest);
            if IMAGE {
                let imaged = _mm512_fmadd_ps(load_partial(field, at, rest), lap, load_partial(image, at, rest));
                store_partial(image, at, imaged, rest);
            }
        }
    }
}

/// Lanes `..count` (at most 16) from `values[at..]`, zeros in the others:
/// a masked load (a copy through memory instead cost a call and a stalled
/// store forwarding per row).
#[inline]
#[target_feature(enable = "avx512f")]
fn load_partial(values: &[f32], at: usize, count: usize) -> __m512 {
    load_masked(values, at, lane_mask(count))
}

/// Stores lanes `..count` (at most 16) of `v` at `values[at..]`, a masked
/// store.
#[inline]
#[target_feature(enable = "avx512f")]
fn store_partial(values: &mut [f32], at: usize, v: __m512, count: usize) {
    store_masked(values, at, lane_mask(count), v);
}

/// The lanes of `mask` from `values[at..]`, zeros in the others.
#[inline]
#[target_feature(enable = "avx512f")]
fn load_masked(values: &[f32], at: usize, mask: u16) -> __m512 {
    let lanes = &values[at..at + (LANES - mask.leading_zeros() as usize)];
    // SAFETY: the lanes the mask enables lie in `lanes` (bounds-checked);
    // masked-off lanes are not accessed.
    unsafe { _mm512_maskz_loadu_ps(mask, lanes.as_ptr()) }
}

/// Stores the lanes of `mask` of `value` at `values[at..]`.
#[inline]
#[target_feature(enable = "avx512f")]
fn store_masked(values: &mut [f32], at: usize, mask: u16, value: __m512) {
    let lanes = &mut values[at..at + (LANES - mask.leading_zeros() as usize)];
    // SAFETY: as in `load_masked`.
    unsafe { _mm512_mask_storeu_ps(lanes.as_mut_ptr(), mask, value) }
}

/// The mask of lanes `..count`.
fn lane_mask(count: usize) -> u16 {
    assert!(count <= LANES);
    ((1u32 << count) - 1) as u16
}

use super::boundary::XStripRows;

/// Columns per vector of the CPML x-strip kernels (256-bit vectors: a
/// strip row is too short for 512-bit ones to pay).
const STRIP_LANES: usize = super::boundary::STRIP_CHUNK;

#[inline]
#[target_feature(enable = "avx")]
fn load8(values: &[f32], at: usize) -> __m256 {
    let chunk: [f32; STRIP_LANES] = values[at..at + STRIP_LANES].try_into().expect("eight values");
    bytemuck::cast(chunk)
}

#[inline]
#[target_feature(enable = "avx")]
fn store8(values: &mut [f32], at: usize, v: __m256) {
    let chunk: &mut [f32; STRIP_LANES] = (&mut values[at..at + STRIP_LANES]).try_into().expect("eight values");
    *chunk = bytemuck::cast(v);
}

/// Whether the x-strip kernels apply: AVX, and strips whose `n` computed
/// columns are whole vectors.
fn strips_apply(strip: usize, halo: usize) -> bool {
    strip > 2 * halo && (strip - 2 * halo).is_multiple_of(STRIP_LANES) && std::arch::is_x86_feature_detected!("avx")
}

/// `ψ ← bψ + a D¹u` on both x strips of each row of `u` (whole padded
/// rows of `nxp`; the right strip starts at column `right`), `psi` holding
/// each row's `2·strip` values, with `coefficients = (a, b, w1)` as in
/// `boundary::psi_strips`. Per value the arithmetic is exactly that of the
/// generic kernel (no fused multiply-adds, same order). Returns `false`,
/// doing nothing, when the kernel does not apply.
pub fn psi_strips<const H: usize>(
    u: &[f32],
    nxp: usize,
    right: usize,
    coefficients: (&[f32], &[f32], &[f32]),
    psi: &mut [f32],
) -> bool {
    if !strips_apply(coefficients.0.len() / 2, H) {
        return false;
    }
    // SAFETY: the CPU supports AVX, checked just above.
    unsafe { psi_strips_avx::<H>(u, nxp, right, coefficients, psi) };
    true
}

#[target_feature(enable = "avx")]
fn psi_strips_avx<const H: usize>(
    u: &[f32],
    nxp: usize,
    right: usize,
    (a, b, w1): (&[f32], &[f32], &[f32]),
    psi: &mut [f32],
) {
    let s = a.len() / 2;
    let w: [__m256; H] = std::array::from_fn(|k| _mm256_set1_ps(w1[k + 1]));
    for (urow, psi_row) in u.chunks_exact(nxp).zip(psi.chunks_exact_mut(2 * s)) {
        for (side, start) in [(0, 0), (1, right)] {
            let (f, a, b) = (&urow[start..start + s], &a[side * s..][..s], &b[side * s..][..s]);
            let psi = &mut psi_row[side * s..][..s];
            for j in (H..s - H).step_by(STRIP_LANES) {
                let mut du = _mm256_setzero_ps();
                for (k, &w) in w.iter().enumerate() {
                    let difference = _mm256_sub_ps(load8(f, j + k + 1), load8(f, j - k - 1));
                    du = _mm256_add_ps(du, _mm256_mul_ps(w, difference));
                }
                let kept = _mm256_mul_ps(load8(b, j), load8(psi, j));
                store8(psi, j, _mm256_add_ps(kept, _mm256_mul_ps(load8(a, j), du)));
            }
        }
    }
}

/// The x-layer correction `ζ ← bζ + a(D²u + D¹ψ)`, `out += c(D¹ψ + ζ)` on
/// both x strips of each row (see [`psi_strips`]), `coefficients = (a, b,
/// w1, w2)`. Per value the arithmetic is exactly that of the generic
/// kernel. Returns `false`, doing nothing, when the kernel does not apply.
pub fn correct_strips<const H: usize>(
    fields: XStripRows<'_, f32>,
    nxp: usize,
    right: usize,
    coefficients: (&[f32], &[f32], &[f32], &[f32]),
) -> bool {
    if !strips_apply(coefficients.0.len() / 2, H) {
        return false;
    }
    // SAFETY: the CPU supports AVX, checked just above.
    unsafe { correct_strips_avx::<H>(fields, nxp, right, coefficients) };
    true
}

#[target_feature(enable = "avx")]
fn correct_strips_avx<const H: usize>(
    fields: XStripRows<'_, f32>,
    nxp: usize,
    right: usize,
    (a, b, w1, w2): (&[f32], &[f32], &[f32], &[f32]),
) {
    let s = a.len() / 2;
    let XStripRows { u, psi, zeta, c, out } = fields;
    let w1: [__m256; H] = std::array::from_fn(|k| _mm256_set1_ps(w1[k + 1]));
    let w2v: [__m256; H] = std::array::from_fn(|k| _mm256_set1_ps(w2[k + 1]));
    let w0 = _mm256_set1_ps(w2[0]);
    let cells = u.chunks_exact(nxp).zip(c.chunks_exact(nxp)).zip(out.chunks_exact_mut(nxp));
    for (((urow, c_row), out_row), (psi_row, zeta_row)) in
        cells.zip(psi.chunks_exact(2 * s).zip(zeta.chunks_exact_mut(2 * s)))
    {
        for (side, start) in [(0, 0), (1, right)] {
            let (f, c, out) = (&urow[start..start + s], &c_row[start..start + s], &mut out_row[start..start + s]);
            let (a, b) = (&a[side * s..][..s], &b[side * s..][..s]);
            let (psi, zeta) = (&psi_row[side * s..][..s], &mut zeta_row[side * s..][..s]);
            for j in (H..s - H).step_by(STRIP_LANES) {
                let mut dpsi = _mm256_setzero_ps();
                let mut d2u = _mm256_mul_ps(w0, load8(f, j));
                for k in 0..H {
                    let dp = _mm256_sub_ps(load8(psi, j + k + 1), load8(psi, j - k - 1));
                    dpsi = _mm256_add_ps(dpsi, _mm256_mul_ps(w1[k], dp));
                    let su = _mm256_add_ps(load8(f, j + k + 1), load8(f, j - k - 1));
                    d2u = _mm256_add_ps(d2u, _mm256_mul_ps(w2v[k], su));
                }
                let kept = _mm256_mul_ps(load8(b, j), load8(zeta, j));
                let z = _mm256_add_ps(kept, _mm256_mul_ps(load8(a, j), _mm256_add_ps(d2u, dpsi)));
                store8(zeta, j, z);
                let correction = _mm256_mul_ps(load8(c, j), _mm256_add_ps(dpsi, z));
                store8(out, j, _mm256_add_ps(load8(out, j), correction));
            }
        }
    }
}

/// One x strip's row for [`adjoint_strip_avx`]: `lw`, `c`, `u` and `lu`, `image`
/// are the strip's segments of the padded rows, `lpsi`, `lzeta` its memory
/// adjoints, `t`, `qt`, `v` its scratch (`strip + 2·halo` values each,
/// zero outside the computed columns), `d` scratch of `strip` values.
struct AdjointStripFields<'a> {
    /// The scaled adjoint `μw = c ⊙ λw` of the updated field.
    pub lw: &'a [f32],
    /// The coefficient per cell (`μu += c ⊙ d`).
    pub c: &'a [f32],
    /// The forward field (for the image).
    pub u: &'a [f32],
    /// `λu`, accumulated.
    pub lu: &'a mut [f32],
    /// The image, accumulated.
    pub image: &'a mut [f32],
    /// `λψ_x`, in place.
    pub lpsi: &'a mut [f32],
    /// `λζ_x`, in place.
    pub lzeta: &'a mut [f32],
    /// Scratch `t`.
    pub t: &'a mut [f32],
    /// Scratch `q + t`.
    pub qt: &'a mut [f32],
    /// Scratch `v = a λψ''`.
    pub v: &'a mut [f32],
    /// Scratch: the first part of the row's `λu` contribution.
    pub d: &'a mut [f32],
}

/// Whole padded rows for [`adjoint_strip_rows`]: `lw`, `c`, `u`, `lu` and
/// `image` hold `nxp` values per row, `lpsi` and `lzeta` the rows' `2·strip`
/// memory adjoints (left strip, then right), `scratch` the `t`, `q + t`,
/// `v` and `d` of each side (`8·(strip + 2·halo)` values, zero outside what
/// the adjoint writes).
pub struct AdjointStripRows<'a> {
    /// The scaled adjoint `μw = c ⊙ λw` of the updated field.
    pub lw: &'a [f32],
    /// The coefficient per cell (`μu += c ⊙ d`).
    pub c: &'a [f32],
    /// The forward field (for the image).
    pub u: &'a [f32],
    /// `μu`, accumulated.
    pub lu: &'a mut [f32],
    /// The image, accumulated.
    pub image: &'a mut [f32],
    /// `λψ_x`, in place.
    pub lpsi: &'a mut [f32],
    /// `λζ_x`, in place.
    pub lzeta: &'a mut [f32],
    /// Scratch of both sides.
    pub scratch: &'a mut [f32],
}

/// The adjoint of both x strips of every row of `rows` (the right
/// strip starting at column `right`), in one call: the per-call work of
/// the per-row entry (checks, dispatch) cost about a quarter of the x-layer
/// adjoint. `coefficients = (a, b, w1, w2)` with `a`, `b` of both strips.
/// Returns `false`, doing nothing, when the kernel does not apply.
///
/// With AVX-512 and strips of 17 to 64 columns, each side of a row is held
/// in registers (module `registers`). In `bench adjoint` (order 8, the
/// default 20-cell layer, so 32-column strips; one thread, Intel Xeon with
/// AVX-512, two alternating rounds) a fused pair step took 0.0551-0.0557 ms
/// at 200 x 200 against 0.0594-0.0603 ms with the 256-bit in-memory kernel,
/// and 0.314-0.321 against 0.327-0.335 ms at 600 x 600.
pub fn adjoint_strip_rows<const H: usize>(
    rows: AdjointStripRows<'_>,
    nxp: usize,
    right: usize,
    coefficients: (&[f32], &[f32], &[f32], &[f32]),
) -> bool {
    let s = coefficients.0.len() / 2;
    if !s.is_multiple_of(STRIP_LANES) || !strips_apply(s, H) {
        return false;
    }
    let vectors = if available() && H <= 8 { s.div_ceil(LANES) } else { 0 };
    // SAFETY: the CPU supports AVX-512F for the register kernels (`vectors`
    // is 0 otherwise), and AVX for the other (`strips_apply`).
    unsafe {
        match vectors {
            2 => registers::adjoint_strip_rows::<H, 2>(rows, nxp, right, coefficients),
            3 => registers::adjoint_strip_rows::<H, 3>(rows, nxp, right, coefficients),
            4 => registers::adjoint_strip_rows::<H, 4>(rows, nxp, right, coefficients),
            _ => adjoint_strip_rows_avx::<H>(rows, nxp, right, coefficients),
        }
    }
    true
}

/// [`adjoint_strip_rows`] by the 256-bit kernel that goes through scratch
/// in memory, whatever the CPU: the one the dispatch picks without AVX-512
/// or for strips wider than 64 columns, on its own for the tests.
#[cfg(test)]
pub(super) fn adjoint_strip_rows_in_memory<const H: usize>(
    rows: AdjointStripRows<'_>,
    nxp: usize,
    right: usize,
    coefficients: (&[f32], &[f32], &[f32], &[f32]),
) -> bool {
    let s = coefficients.0.len() / 2;
    if !s.is_multiple_of(STRIP_LANES) || !strips_apply(s, H) {
        return false;
    }
    // SAFETY: the CPU supports AVX, checked just above.
    unsafe { adjoint_strip_rows_avx::<H>(rows, nxp, right, coefficients) };
    true
}

/// The x-strip adjoint with each side of a row held in `V` 512-bit
/// registers (strip column `p` in lane `p mod 16` of vector `p / 16`).
mod registers {
    use super::{AdjointStripRows, LANES, load_masked as load, store_masked as store, window};
    use std::arch::x86_64::{
        __m512, _mm512_add_ps, _mm512_maskz_mul_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_sub_ps,
    };

    /// Lanes `p ↦ x[p − k]` of vector `v` (zeros left of the strip).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn left<const V: usize>(x: &[__m512; V], v: usize, k: usize) -> __m512 {
        let before = if v == 0 { _mm512_setzero_ps() } else { x[v - 1] };
        window(before, x[v], LANES - k)
    }

    /// Lanes `p ↦ x[p + k]` of vector `v` (zeros right of the strip).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn right<const V: usize>(x: &[__m512; V], v: usize, k: usize) -> __m512 {
        let after = if v + 1 == V { _mm512_setzero_ps() } else { x[v + 1] };
        window(x[v], after, k)
    }

    /// See [`super::adjoint_strip_rows`]; `V·16 ≥ strip`. The three passes
    /// of [`super::adjoint_strip_pass1`] and the others, with `t`, `q + t`,
    /// `v` and `d` in registers, zero outside the computed columns.
    #[target_feature(enable = "avx512f")]
    pub(super) fn adjoint_strip_rows<const H: usize, const V: usize>(
        rows: AdjointStripRows<'_>,
        nxp: usize,
        right_start: usize,
        (a, b, w1, w2): (&[f32], &[f32], &[f32], &[f32]),
    ) {
        let s = a.len() / 2;
        // the computed columns H..s−H of each vector
        let computed: [u16; V] = std::array::from_fn(|v| {
            (0..LANES).filter(|l| (H..s - H).contains(&(v * LANES + l))).fold(0u16, |m, l| m | 1 << l)
        });
        let w1v: [__m512; H] = std::array::from_fn(|k| _mm512_set1_ps(w1[k + 1]));
        let w2v: [__m512; H] = std::array::from_fn(|k| _mm512_set1_ps(w2[k + 1]));
        let w0 = _mm512_set1_ps(w2[0]);
        let AdjointStripRows { lw, c, u, lu, image, lpsi, lzeta, .. } = rows;
        let fields = lw.chunks_exact(nxp).zip(c.chunks_exact(nxp)).zip(u.chunks_exact(nxp));
        let outputs = lu.chunks_exact_mut(nxp).zip(image.chunks_exact_mut(nxp));
        let memory = lpsi.chunks_exact_mut(2 * s).zip(lzeta.chunks_exact_mut(2 * s));
        for (((lw, c), u), ((lu, image), (lpsi, lzeta))) in fields.zip(outputs.zip(memory)) {
            for (side, start) in [(0, 0), (1, right_start)] {
                let (lw, c, u) = (&lw[start..start + s], &c[start..start + s], &u[start..start + s]);
                let (lu, image) = (&mut lu[start..start + s], &mut image[start..start + s]);
                let (lpsi, lzeta) = (&mut lpsi[side * s..][..s], &mut lzeta[side * s..][..s]);
                let (a, b) = (&a[side * s..][..s], &b[side * s..][..s]);
                // with q = μw, total = λζ' + q: t = a total, λζ = b total
                let zero = _mm512_setzero_ps();
                let (mut t, mut qt) = ([zero; V], [zero; V]);
                for v in 0..V {
                    let (m, at) = (computed[v], v * LANES);
                    let q = load(lw, at, m);
                    let total = _mm512_add_ps(load(lzeta, at, m), q);
                    t[v] = _mm512_maskz_mul_ps(m, load(a, at, m), total);
                    store(lzeta, at, m, _mm512_mul_ps(load(b, at, m), total));
                    qt[v] = _mm512_add_ps(q, t[v]);
                }
                // d = D²ᵀ t, λψ'' = λψ' + D¹ᵀ (q + t), v = a λψ'', λψ = b λψ''
                let (mut d, mut av) = ([zero; V], [zero; V]);
                for v in 0..V {
                    let (m, at) = (computed[v], v * LANES);
                    let mut du = _mm512_mul_ps(w0, t[v]);
                    let mut dpsi = zero;
                    for k in 0..H {
                        let pair = _mm512_add_ps(left(&t, v, k + 1), right(&t, v, k + 1));
                        du = _mm512_add_ps(du, _mm512_mul_ps(w2v[k], pair));
                        let difference = _mm512_sub_ps(left(&qt, v, k + 1), right(&qt, v, k + 1));
                        dpsi = _mm512_add_ps(dpsi, _mm512_mul_ps(w1v[k], difference));
                    }
                    d[v] = du;
                    let p = _mm512_add_ps(load(lpsi, at, m), dpsi);
                    av[v] = _mm512_maskz_mul_ps(m, load(a, at, m), p);
                    store(lpsi, at, m, _mm512_mul_ps(p, load(b, at, m)));
                }
                // λu += c ⊙ (d + D¹ᵀ v), the image by u ⊙ the same
                for v in 0..V {
                    let (m, at) = (computed[v], v * LANES);
                    let mut du = zero;
                    for k in 0..H {
                        let difference = _mm512_sub_ps(left(&av, v, k + 1), right(&av, v, k + 1));
                        du = _mm512_add_ps(du, _mm512_mul_ps(w1v[k], difference));
                    }
                    let du = _mm512_add_ps(d[v], du);
                    store(lu, at, m, _mm512_add_ps(load(lu, at, m), _mm512_mul_ps(load(c, at, m), du)));
                    store(image, at, m, _mm512_add_ps(load(image, at, m), _mm512_mul_ps(load(u, at, m), du)));
                }
            }
        }
    }
}

#[target_feature(enable = "avx")]
fn adjoint_strip_rows_avx<const H: usize>(
    rows: AdjointStripRows<'_>,
    nxp: usize,
    right: usize,
    (a, b, w1, w2): (&[f32], &[f32], &[f32], &[f32]),
) {
    let s = a.len() / 2;
    let part = s + 2 * H;
    let AdjointStripRows { lw, c, u, lu, image, lpsi, lzeta, scratch } = rows;
    let fields = lw.chunks_exact(nxp).zip(c.chunks_exact(nxp)).zip(u.chunks_exact(nxp));
    let outputs = lu.chunks_exact_mut(nxp).zip(image.chunks_exact_mut(nxp));
    let memory = lpsi.chunks_exact_mut(2 * s).zip(lzeta.chunks_exact_mut(2 * s));
    for (((lw, c), u), ((lu, image), (lpsi, lzeta))) in fields.zip(outputs.zip(memory)) {
        let (lu_left, lu_right) = lu.split_at_mut(right);
        let (image_left, image_right) = image.split_at_mut(right);
        let (lpsi_left, lpsi_right) = lpsi.split_at_mut(s);
        let (lzeta_left, lzeta_right) = lzeta.split_at_mut(s);
        let (scratch_left, scratch_right) = scratch[..8 * part].split_at_mut(4 * part);
        let fields = |start: usize| (&lw[start..start + s], &c[start..start + s], &u[start..start + s]);
        let mut sides = [
            strip_side(
                fields(0),
                (&mut lu_left[..s], &mut image_left[..s]),
                (lpsi_left, lzeta_left),
                scratch_left,
                part,
            ),
            strip_side(
                fields(right),
                (&mut lu_right[..s], &mut image_right[..s]),
                (lpsi_right, lzeta_right),
                scratch_right,
                part,
            ),
        ];
        let coefficients = |k: usize| (&a[k * s..(k + 1) * s], &b[k * s..(k + 1) * s], w1, w2);
        // each pass on both sides before the next: a pass reads the
        // scratch the one before wrote, at offsets that straddle its
        // stores, which cannot be forwarded from the store buffer. With
        // the other side's pass in between, a fused adjoint pair took
        // 0.0665-0.0733 ms a step at 200 x 200 and 0.349-0.353 ms at 600
        // on one thread, against 0.0709-0.0762 and 0.362-0.365 with the
        // passes of one side back to back (two alternating rounds, Intel
        // Xeon with AVX-512)
        for (k, fields) in sides.iter_mut().enumerate() {
            adjoint_strip_pass1::<H>(fields, coefficients(k));
        }
        for (k, fields) in sides.iter_mut().enumerate() {
            adjoint_strip_pass2::<H>(fields, coefficients(k));
        }
        for fields in sides.iter_mut() {
            adjoint_strip_pass3::<H>(fields, w1);
        }
    }
}

/// One side's fields: `fields = (lw, c, u)` and `outputs = (lu, image)`
/// the strip's columns, `memory = (lpsi, lzeta)`, `scratch` its four parts
/// of `part` values.
fn strip_side<'a>(
    (lw, c, u): (&'a [f32], &'a [f32], &'a [f32]),
    (lu, image): (&'a mut [f32], &'a mut [f32]),
    (lpsi, lzeta): (&'a mut [f32], &'a mut [f32]),
    scratch: &'a mut [f32],
    part: usize,
) -> AdjointStripFields<'a> {
    let (t, rest) = scratch.split_at_mut(part);
    let (qt, rest) = rest.split_at_mut(part);
    let (v, d) = rest.split_at_mut(part);
    AdjointStripFields { lw, c, u, lu, image, lpsi, lzeta, t, qt, v, d }
}

/// The adjoint of one x strip's row (`boundary::adjoint_strip`, whose
/// derivation it follows) in 256-bit vectors runs in three passes,
/// `coefficients = (a, b, w1, w2)` of the strip; per value the arithmetic
/// is exactly that of the generic kernel. Pass 1: with `q = μw`, `total =
/// λζ' + q`, `t = a total`, `λζ = b total` and `qt = q + t`.
#[inline]
#[target_feature(enable = "avx")]
fn adjoint_strip_pass1<const H: usize>(
    fields: &mut AdjointStripFields<'_>,
    (a, b, _, _): (&[f32], &[f32], &[f32], &[f32]),
) {
    let AdjointStripFields { lw, lzeta, t, qt, .. } = fields;
    let s = lzeta.len();
    // strip column j is scratch index j + H
    for j in (H..s - H).step_by(STRIP_LANES) {
        let q = load8(lw, j);
        let total = _mm256_add_ps(load8(lzeta, j), q);
        let tt = _mm256_mul_ps(load8(a, j), total);
        store8(lzeta, j, _mm256_mul_ps(load8(b, j), total));
        store8(t, j + H, tt);
        store8(qt, j + H, _mm256_add_ps(q, tt));
    }
}

/// d = D²ᵀ t, λψ'' = λψ' + D¹ᵀ (q + t); then, for ψ' = bψ + a D¹u,
/// v = a λψ'' and λψ = b λψ''. Only the computed columns: the strip's
/// layer spread by H still lies inside them (the strip is at least
/// `width + 3·halo` wide), so beyond them `d` is zero or falls on the
/// halo, where `c` and `u` are zero, and `λψ` is never read.
#[inline]
#[target_feature(enable = "avx")]
fn adjoint_strip_pass2<const H: usize>(
    fields: &mut AdjointStripFields<'_>,
    (a, b, w1, w2): (&[f32], &[f32], &[f32], &[f32]),
) {
    let AdjointStripFields { lpsi, t, qt, v, d, .. } = fields;
    let s = lpsi.len();
    let w1: [__m256; H] = std::array::from_fn(|k| _mm256_set1_ps(w1[k + 1]));
    let w2v: [__m256; H] = std::array::from_fn(|k| _mm256_set1_ps(w2[k + 1]));
    let w0 = _mm256_set1_ps(w2[0]);
    for m in (H..s - H).step_by(STRIP_LANES) {
        let mut du = _mm256_mul_ps(w0, load8(t, H + m));
        let mut dpsi = _mm256_setzero_ps();
        for k in 0..H {
            let pair = _mm256_add_ps(load8(t, H + m - k - 1), load8(t, H + m + k + 1));
            du = _mm256_add_ps(du, _mm256_mul_ps(w2v[k], pair));
            let difference = _mm256_sub_ps(load8(qt, H + m - k - 1), load8(qt, H + m + k + 1));
            dpsi = _mm256_add_ps(dpsi, _mm256_mul_ps(w1[k], difference));
        }
        store8(d, m, du);
        let p = _mm256_add_ps(load8(lpsi, m), dpsi);
        store8(v, m + H, _mm256_mul_ps(load8(a, m), p));
        store8(lpsi, m, _mm256_mul_ps(p, load8(b, m)));
    }
}

/// λu += c ⊙ (d + D¹ᵀ v), and the image by `u ⊙` the same.
#[inline]
#[target_feature(enable = "avx")]
fn adjoint_strip_pass3<const H: usize>(fields: &mut AdjointStripFields<'_>, w1: &[f32]) {
    let AdjointStripFields { c, u, lu, image, lpsi, v, d, .. } = fields;
    let s = lpsi.len();
    let w1: [__m256; H] = std::array::from_fn(|k| _mm256_set1_ps(w1[k + 1]));
    for m in (H..s - H).step_by(STRIP_LANES) {
        let mut du = _mm256_setzero_ps();
        for (k, &w) in w1.iter().enumerate() {
            let difference = _mm256_sub_ps(load8(v, H + m - k - 1), load8(v, H + m + k + 1));
            du = _mm256_add_ps(du, _mm256_mul_ps(w, difference));
        }
        let du = _mm256_add_ps(load8(d, m), du);
        store8(lu, m, _mm256_add_ps(load8(lu, m), _mm256_mul_ps(load8(c, m), du)));
        store8(image, m, _mm256_add_ps(load8(image, m), _mm256_mul_ps(load8(u, m), du)));
    }
}

/// The arrays of one z strip's adjoint (see `Cpml::adjoint_z_group_from`),
/// `f32`: `lw` holds padded rows from `rows.lw_first` on, `lu`, `image`,
/// `u` and `c` from `rows.out_first` on, `lpsi` and `lzeta` the strip's
/// `strip` rows; `scratch` at least [`z_scratch_len`] values.
pub struct ZGroupFields<'a> {
    /// The scaled adjoint `μw = c ⊙ λw` of the updated field.
    pub lw: &'a [f32],
    /// `λψ_z`, in place.
    pub lpsi: &'a mut [f32],
    /// `λζ_z`, in place.
    pub lzeta: &'a mut [f32],
    /// `μu`, accumulated.
    pub lu: &'a mut [f32],
    /// The image, accumulated.
    pub image: &'a mut [f32],
    /// The forward field (for the image).
    pub u: &'a [f32],
    /// The coefficient per cell.
    pub c: &'a [f32],
    /// Scratch.
    pub scratch: &'a mut [f32],
}

/// Where a z strip lies: its first padded row, and the first padded rows
/// of `lw` and of the `out` arrays, in rows of `nxp` values.
#[derive(Clone, Copy)]
pub struct ZGroupRows {
    /// Padded columns per row.
    pub nxp: usize,
    /// The strip's first padded row.
    pub first: usize,
    /// The first padded row that `lw` holds.
    pub lw_first: usize,
    /// The first padded row that `lu`, `image`, `u` and `c` hold.
    pub out_first: usize,
}

/// Scratch values [`z_group_adjoint`] needs for a strip of `strip` rows.
pub fn z_scratch_len(strip: usize, halo: usize) -> usize {
    (3 * (strip + 2 * halo) + strip) * LANES
}

/// The adjoint of z strip's CPML operations (`Cpml::adjoint_z_group_from`,
/// whose derivation and order of operations it follows, bitwise), in
/// blocks of 16 columns: each block runs the three passes down all the
/// strip's rows, its `t`, `q + t`, `v` and `d` in scratch rows of one
/// vector, which stay in the level-1 cache. (Whole padded rows of them took
/// 146 kB at 200 x 200, and the passes streamed them through the level-2
/// cache.) `coefficients = (a, b, w1, w2)`, `a` and `b` of the strip's rows.
/// Returns `false`, doing nothing, without AVX-512 or with a half-width
/// over 8.
pub fn z_group_adjoint<const H: usize>(
    fields: ZGroupFields<'_>,
    rows: ZGroupRows,
    coefficients: (&[f32], &[f32], &[f32], &[f32]),
) -> bool {
    if H == 0 || H > 8 || !available() || rows.nxp <= 2 * H {
        return false;
    }
    // SAFETY: the CPU supports AVX-512F, checked just above.
    unsafe { z_group_avx512::<H>(fields, rows, coefficients) };
    true
}

#[target_feature(enable = "avx512f")]
fn z_group_avx512<const H: usize>(
    fields: ZGroupFields<'_>,
    ZGroupRows { nxp, first, lw_first, out_first }: ZGroupRows,
    (a, b, w1, w2): (&[f32], &[f32], &[f32], &[f32]),
) {
    let s = a.len();
    let padded = s + 2 * H;
    let ZGroupFields { lw, lpsi, lzeta, lu, image, u, c, scratch } = fields;
    let scratch = scratch[..z_scratch_len(s, H)].as_chunks_mut::<LANES>().0;
    let (t, rest) = scratch.split_at_mut(padded);
    let (qt, rest) = rest.split_at_mut(padded);
    let (v, d) = rest.split_at_mut(padded);
    // strip row r is scratch row r + H; rows that are not compute rows are
    // zero. They are zeroed on every call (1.5 kB at order 8): the generic
    // kernel lays out the same scratch differently, so nothing says they
    // are zero on entry.
    for rows in [&mut t[..], &mut qt[..], &mut v[..]] {
        let (top, rest) = rows.split_at_mut(2 * H);
        top.fill([0.0; LANES]);
        rest[s - 2 * H..].fill([0.0; LANES]);
    }
    let w0 = _mm512_set1_ps(w2[0]);
    let w1: [__m512; H] = std::array::from_fn(|k| _mm512_set1_ps(w1[k + 1]));
    let w2: [__m512; H] = std::array::from_fn(|k| _mm512_set1_ps(w2[k + 1]));
    let vector = |row: &[f32; LANES]| -> __m512 { bytemuck::cast(*row) };
    let end = nxp - H;
    let mut column = H;
    while column < end {
        let width = LANES.min(end - column);
        let at = |row: usize| row * nxp + column;
        // with q = μw, total = λζ' + q: t = a total, λζ = b total, qt = q + t
        for r in H..s - H {
            let q = load_partial(lw, at(first + r - lw_first), width);
            let total = _mm512_add_ps(load_partial(lzeta, at(r), width), q);
            let tt = _mm512_mul_ps(_mm512_set1_ps(a[r]), total);
            store_partial(lzeta, at(r), _mm512_mul_ps(_mm512_set1_ps(b[r]), total), width);
            t[r + H] = bytemuck::cast(tt);
            qt[r + H] = bytemuck::cast(_mm512_add_ps(q, tt));
        }
        // d = D²ᵀ t, λψ'' = λψ' + D¹ᵀ (q + t); v = a λψ'', λψ = b λψ''
        for r in H..s - H {
            let (t, qt) = (&t[r..r + 2 * H + 1], &qt[r..r + 2 * H + 1]);
            let mut du = _mm512_mul_ps(w0, vector(&t[H]));
            let mut dpsi = _mm512_set1_ps(0.0);
            for k in 0..H {
                let pair = _mm512_add_ps(vector(&t[H - k - 1]), vector(&t[H + k + 1]));
                du = _mm512_add_ps(du, _mm512_mul_ps(w2[k], pair));
                let difference = _mm512_sub_ps(vector(&qt[H - k - 1]), vector(&qt[H + k + 1]));
                dpsi = _mm512_add_ps(dpsi, _mm512_mul_ps(w1[k], difference));
            }
            d[r] = bytemuck::cast(du);
            let p = _mm512_add_ps(load_partial(lpsi, at(r), width), dpsi);
            if a[r] == 0.0 {
                // as the generic kernel: λψ keeps λψ'' where a is zero
                store_partial(lpsi, at(r), p, width);
                v[r + H] = [0.0; LANES];
                continue;
            }
            v[r + H] = bytemuck::cast(_mm512_mul_ps(_mm512_set1_ps(a[r]), p));
            store_partial(lpsi, at(r), _mm512_mul_ps(p, _mm512_set1_ps(b[r])), width);
        }
        // λu += c ⊙ (d + D¹ᵀ v), the image by u ⊙ the same
        for r in H..s - H {
            let v = &v[r..r + 2 * H + 1];
            let mut du = _mm512_set1_ps(0.0);
            for k in 0..H {
                let difference = _mm512_sub_ps(vector(&v[H - k - 1]), vector(&v[H + k + 1]));
                du = _mm512_add_ps(du, _mm512_mul_ps(w1[k], difference));
            }
            let du = _mm512_add_ps(vector(&d[r]), du);
            let own = at(first + r - out_first);
            let (c, u) = (load_partial(c, own, width), load_partial(u, own, width));
            store_partial(lu, own, _mm512_add_ps(load_partial(lu, own, width), _mm512_mul_ps(c, du)), width);
            store_partial(image, own, _mm512_add_ps(load_partial(image, own, width), _mm512_mul_ps(u, du)), width);
        }
        column += width;
    }
}
