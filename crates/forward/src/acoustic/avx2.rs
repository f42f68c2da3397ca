//! The adjoint sweep's 2D interior update (`kernel::adjoint_rows`: the
//! leapfrog update plus `image += field ⊙ lap`) written by hand for AVX2
//! and FMA in `f32`, for the CPUs without AVX-512 (AMD Zen 2 and 3, most
//! client Intel parts): the design of [`super::avx512`] in 256-bit
//! vectors, eight columns per vector, one or two rows at a time.
//!
//! What it does that the compiler's vectorisation of the generic kernel
//! does not: it prefetches, [`PREFETCH_LINES`] cache lines ahead, the rows
//! a pass reads for the first time. An adjoint row pair streams ten of
//! them (two new input rows, and the old values, `c`, the forward field
//! and the image of both output rows), more than the hardware prefetchers
//! follow. The horizontal neighbours `u[j ± k]` come from the chunks
//! before and after the current one by register shuffles (`vperm2f128`,
//! `vpalignr`). Measured on a 2-core AMD EPYC (Zen 3) VM, order 8, `f32`,
//! five alternating runs of `pdeinv bench --threads 1 adjoint --shape
//! 1000,1000 --nt 300`: the fastest block of adjoint steps took 1.33–1.44
//! ms a step with this kernel against 1.45–1.87 ms with the compiler's.
//! At 600 x 600 it is the other way round (six rounds, `--nt 300`:
//! 0.51–0.52 ms against 0.45–0.51 ms): there the arrays sit in the
//! level-3 cache and the shuffles cost more than the prefetch saves. On
//! the gradient of `benches/scenarios/gradient-600.toml`
//! (`checkpoint-bench`, three alternating rounds) the two kernels were
//! within the noise of each other (binomial:7 1.24–1.73 s against
//! 1.39–1.55 s). Unaligned loads for the horizontal neighbours instead of
//! the shuffles were slower at both sizes.
//! The forward step has no such kernel: a version of this one without the
//! image ran `pdeinv bench forward` at 1000 x 1000 on one thread at
//! 635–670 Mpts/s, against 789–1032 for the compiler's kernel on the same
//! machine (the forward pass streams four rows per output row, which the
//! hardware prefetchers follow; the shuffles compete with the arithmetic
//! for the same ports).
//!
//! Per cell the arithmetic is exactly that of the generic kernel (same
//! operations, same order, fused multiply-adds where it fuses), so results
//! are bitwise identical whichever kernel ran a row.
//!
//! Why not one kernel generic over the vector width with [`super::avx512`]:
//! the intrinsics must be compiled inside `#[target_feature]` functions,
//! which trait methods cannot be, so a width-generic kernel would call its
//! vector operations through functions the compiler may not inline. The
//! two are kept alike instead. Sharing only their slice set-up (cutting
//! the rows into chunks, no vector types) through one helper was tried:
//! `callgrind` counted 4.9 % more instructions in this kernel with it
//! (`bench --threads 1 adjoint --shape 600,600 --nt 40`: 235.3 M against
//! 224.4 M), about 420 more per call of a row pair, so it was not kept.
//!
//! Safety: vector loads and stores go through `bytemuck` casts of
//! bounds-checked `[f32; 8]` chunks, except the masked ones of a row's
//! last partial chunk, which take the pointer of a bounds-checked slice of
//! exactly the lanes they enable. The other `unsafe` is the call into the
//! `#[target_feature]` code, made only after the running CPU reported AVX2
//! and FMA.
#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m256, __m256i, _MM_HINT_T0, _mm_prefetch, _mm256_add_ps, _mm256_alignr_epi8, _mm256_castps_si256,
    _mm256_castsi256_ps, _mm256_fmadd_ps, _mm256_maskload_ps, _mm256_maskstore_ps, _mm256_mul_ps,
    _mm256_permute2f128_ps, _mm256_set1_epi32, _mm256_set1_ps, _mm256_setr_epi32, _mm256_sub_ps,
};

/// Columns per vector.
const LANES: usize = 8;

/// Chunks per 64-byte cache line (rows start on one, see
/// [`super::layout`]).
const CHUNKS_PER_LINE: usize = 2;

/// How many cache lines ahead the kernel prefetches the rows it reads for
/// the first time (as `avx512::PREFETCH_CHUNKS`: 512 bytes ahead).
const PREFETCH_LINES: usize = 8;

/// Whether this CPU runs the kernel (cached by the standard library).
pub fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Rows `i .. i + rows` (`rows` 1 or 2, computed) of the adjoint sweep's
/// interior update (see `kernel::adjoint_rows`): the leapfrog update on
/// `out`, plus `image += field ⊙ lap`, where `field`
/// and `image` hold the same whole rows as `out` and `c`. With `cached`,
/// only `field` is prefetched. Returns `false`, doing nothing, when the
/// kernel does not apply: no AVX2 and FMA, a half-width over 8, or fewer
/// than 8 computed columns.
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
    // SAFETY: the CPU supports AVX2 and FMA, checked just above.
    unsafe { imaged::<H>(u, i, rows, nxp, (out, c), weights, (field, image), cached) };
    true
}

#[target_feature(enable = "avx2,fma")]
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
        Weights { center: _mm256_set1_ps(center), z: wz.map(|w| _mm256_set1_ps(w)), x: wx.map(|w| _mm256_set1_ps(w)) };
    match (rows, cached) {
        (2, false) => block::<H, 2, false>(u, i, nxp, out_c, &weights, imaging),
        (2, true) => block::<H, 2, true>(u, i, nxp, out_c, &weights, imaging),
        (_, false) => block::<H, 1, false>(u, i, nxp, out_c, &weights, imaging),
        (_, true) => block::<H, 1, true>(u, i, nxp, out_c, &weights, imaging),
    }
}

/// The stencil weights, broadcast.
struct Weights<const H: usize> {
    center: __m256,
    z: [__m256; H],
    x: [__m256; H],
}

/// Lanes `t ↦ [low | high][t + offset]`: eight consecutive values from two
/// adjacent chunks, `offset` in 0..=8. `vpalignr` shifts within each
/// 128-bit half, so it shifts across the pair (`low.hi`, `high.lo`) built
/// by `vperm2f128`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn window(low: __m256, high: __m256, offset: usize) -> __m256 {
    let across = _mm256_permute2f128_ps::<0x21>(low, high);
    let (l, a, h) = (_mm256_castps_si256(low), _mm256_castps_si256(across), _mm256_castps_si256(high));
    let shifted: __m256i = match offset {
        0 => return low,
        1 => _mm256_alignr_epi8::<4>(a, l),
        2 => _mm256_alignr_epi8::<8>(a, l),
        3 => _mm256_alignr_epi8::<12>(a, l),
        4 => return across,
        5 => _mm256_alignr_epi8::<4>(h, a),
        6 => _mm256_alignr_epi8::<8>(h, a),
        7 => _mm256_alignr_epi8::<12>(h, a),
        8 => return high,
        _ => unreachable!("an offset inside two chunks"),
    };
    _mm256_castsi256_ps(shifted)
}

/// Input rows held per chunk: `2H + R` of them, at most 18.
const MAX_ROWS: usize = 18;

/// One output vector of the row whose chunk is `column[q]`, and its `lap`:
/// `2m − out + c·lap`, `lap` summed as in the generic kernel (centre, then
/// per distance `k` the vertical pair `column[q ∓ k]`, then the horizontal
/// pair from the chunks `before`, `here` (= `column[q]`) and `after`).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn output<const H: usize>(
    w: &Weights<H>,
    column: &[__m256; MAX_ROWS],
    q: usize,
    (before, after): (__m256, __m256),
    old: __m256,
    c: __m256,
) -> (__m256, __m256) {
    let here = column[q];
    let mut lap = _mm256_mul_ps(w.center, here);
    macro_rules! taps {
        ($($k:literal)*) => {$(
            if $k <= H {
                let vertical = _mm256_add_ps(column[q.wrapping_sub($k)], column[q + $k]);
                lap = _mm256_fmadd_ps(w.z[$k - 1], vertical, lap);
                let horizontal = _mm256_add_ps(window(before, here, LANES - $k), window(here, after, $k));
                lap = _mm256_fmadd_ps(w.x[$k - 1], horizontal, lap);
            }
        )*};
    }
    taps!(1 2 3 4 5 6 7 8);
    (_mm256_fmadd_ps(c, lap, _mm256_sub_ps(_mm256_add_ps(here, here), old)), lap)
}

/// Rows `i .. i + R` (`R` is 1 or 2), as `avx512::block` with its image
/// on: the `2H + R` input rows are loaded once per chunk for all outputs,
/// `out` is updated in place and `image += field ⊙ lap`. With `CACHED`,
/// only `field` is prefetched.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn block<const H: usize, const R: usize, const CACHED: bool>(
    u: &[f32],
    i: usize,
    nxp: usize,
    (out, c): (&mut [f32], &[f32]),
    w: &Weights<H>,
    (field, image): (&[f32], &mut [f32]),
) {
    // input row `q` (0 ..= 2H + R − 1) is padded row i − H + q
    let base = |q: usize| (i + q - H) * nxp;
    let end = nxp - H;
    // Main loop: chunks from column H (on a cache line); neighbours across
    // chunk edges come from the chunks before and after (the one before
    // column H starts in the row above, which exists: computed rows start
    // at `halo`). Every row is cut into exactly the chunks the loop reads,
    // so the loop carries no bounds checks.
    let count = (end - H) / LANES;
    let span = count * LANES;
    let zero = _mm256_set1_ps(0.0);
    let mut rows: [&[[f32; LANES]]; MAX_ROWS] = [&[]; MAX_ROWS];
    for (q, row) in rows.iter_mut().enumerate().take(2 * H + R) {
        *row = u[base(q) + H..base(q) + H + span].as_chunks().0;
    }
    let mid: [&[[f32; LANES]]; 2] = std::array::from_fn(|r| {
        let at = base(H + r.min(R - 1)) + H;
        u[at - LANES..at + span + LANES].as_chunks().0
    });
    // row `r` of a whole-row array, cut as the loop reads it
    fn whole<const R: usize>(values: &[f32], r: usize, start: usize, span: usize) -> &[[f32; LANES]] {
        if r < R { values[start..start + span].as_chunks().0 } else { &[] }
    }
    let whole = |values, r| whole::<R>(values, r, r * nxp + H, span);
    let (c0, c1, f0, f1) = (whole(c, 0), whole(c, 1), whole(field, 0), whole(field, 1));
    let (out0, out1) = out.split_at_mut(nxp);
    let (image0, image1) = image.split_at_mut(nxp);
    let out0 = out0[H..H + span].as_chunks_mut().0;
    let out1 = if R == 2 { out1[H..H + span].as_chunks_mut().0 } else { &mut [] };
    let image0 = image0[H..H + span].as_chunks_mut().0;
    let image1 = if R == 2 { image1[H..H + span].as_chunks_mut().0 } else { &mut [] };
    for row in &rows[..2 * H + R] {
        assert_eq!(row.len(), count);
    }
    assert!(mid[0].len() == count + 2 && mid[1].len() == count + 2);
    assert!(out0.len() == count && c0.len() == count && f0.len() == count && image0.len() == count);
    assert!(R == 1 || (out1.len() == count && c1.len() == count && f1.len() == count && image1.len() == count));
    let vector = |chunk: &[f32; LANES]| -> __m256 { bytemuck::cast(*chunk) };
    // Per output row, the rows this pass reads for the first time: its
    // newest input row, its old values, `c`, the field and the image; each
    // fetched `PREFETCH_LINES` lines ahead, once per line. Row 1's are
    // empty slices when `R` is 1, unused.
    let streams: [[*const [f32; LANES]; 5]; 2] = [
        [rows[2 * H].as_ptr(), out0.as_ptr(), c0.as_ptr(), f0.as_ptr(), image0.as_ptr()],
        [rows[2 * H + 1].as_ptr(), out1.as_ptr(), c1.as_ptr(), f1.as_ptr(), image1.as_ptr()],
    ];
    let per_row = if CACHED { 3..4 } else { 0..5 };
    let mut before = [vector(&mid[0][0]), vector(&mid[1][0])];
    let mut here = [vector(&mid[0][1]), vector(&mid[1][1])];
    for m in 0..count {
        if m % CHUNKS_PER_LINE == 0 {
            for row in &streams[..R] {
                for stream in &row[per_row.clone()] {
                    // a hint, never a memory access: an address past the
                    // row (the last chunks) is harmless
                    let ahead = stream.wrapping_add(m + PREFETCH_LINES * CHUNKS_PER_LINE);
                    _mm_prefetch::<_MM_HINT_T0>(ahead.cast());
                }
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
        let column: [__m256; MAX_ROWS] = column!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17);
        let (first, lap) = output(w, &column, H, (before[0], after[0]), vector(&out0[m]), vector(&c0[m]));
        out0[m] = bytemuck::cast(first);
        image0[m] = bytemuck::cast(_mm256_fmadd_ps(vector(&f0[m]), lap, vector(&image0[m])));
        if R == 2 {
            let (second, lap) = output(w, &column, H + 1, (before[1], after[1]), vector(&out1[m]), vector(&c1[m]));
            out1[m] = bytemuck::cast(second);
            image1[m] = bytemuck::cast(_mm256_fmadd_ps(vector(&f1[m]), lap, vector(&image1[m])));
        }
        before = here;
        here = after;
    }
    // The last `rest` computed columns (fewer than a chunk): the chunk at
    // column `p`, in lanes `..rest`. Masked loads fill the other lanes
    // with zeros, which reach only outputs that are not stored.
    let (p, rest) = (H + span, end - H - span);
    if rest > 0 {
        for r in 0..R {
            let at = base(H + r) + p;
            // the row goes on for `rest + H` values from `p`: at most 7
            // past the chunk
            let after = load_partial(u, at + LANES, (nxp - p).saturating_sub(LANES));
            let (before, here) = (vector(&mid[r][count]), vector(&mid[r][count + 1]));
            let column: [__m256; MAX_ROWS] = std::array::from_fn(|q| {
                if q == H + r {
                    here
                } else if q < 2 * H + R {
                    load_partial(u, base(q) + p, rest)
                } else {
                    zero
                }
            });
            let at = r * nxp + p;
            let (old, c) = (load_partial(out, at, rest), load_partial(c, at, rest));
            let (value, lap) = output(w, &column, H + r, (before, after), old, c);
            store_partial(out, at, value, rest);
            let imaged = _mm256_fmadd_ps(load_partial(field, at, rest), lap, load_partial(image, at, rest));
            store_partial(image, at, imaged, rest);
        }
    }
}

/// Lanes `..count` (at most 8) from `values[at..]`, zeros in the others:
/// a masked load.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn load_partial(values: &[f32], at: usize, count: usize) -> __m256 {
    let lanes = &values[at..at + count];
    // SAFETY: the mask enables the first `count` lanes, which `lanes`
    // (bounds-checked) holds; masked-off lanes are not accessed.
    unsafe { _mm256_maskload_ps(lanes.as_ptr(), lane_mask(count)) }
}

/// Stores lanes `..count` (at most 8) of `v` at `values[at..]`, a masked
/// store.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn store_partial(values: &mut [f32], at: usize, v: __m256, count: usize) {
    let lanes = &mut values[at..at + count];
    // SAFETY: as in `load_partial`.
    unsafe { _mm256_maskstore_ps(lanes.as_mut_ptr(), lane_mask(count), v) }
}

/// The mask of lanes `..count`: all bits set in the lanes enabled.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn lane_mask(count: usize) -> __m256i {
    assert!(count <= LANES);
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // lane t is enabled when t < count: (t − count) is negative, sign bit set
    std::arch::x86_64::_mm256_sub_epi32(lanes, _mm256_set1_epi32(count as i32))
}
