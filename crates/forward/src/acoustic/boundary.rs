//! Absorbing boundaries and the free surface of the acoustic solver.
//!
//! **CPML** (convolutional PML for the second-order wave equation, in the
//! form of Pasalic & McGarry 2010): along each axis the second derivative is
//! replaced, inside the layer, by `∂(∂u + ψ) + ζ` with memory variables
//! `ψ ← bψ + a ∂u` and `ζ ← bζ + a (∂²u + ∂ψ)`. The interior kernel applies
//! the plain Laplacian everywhere; this module adds the correction
//! `c·(∂ψ + ζ)` in strips of width `width + halo` along each edge, so the
//! layer costs work only where it is. Memory variables live in strips of
//! `width + 3·halo` cells (zero-padded so derivatives never branch), the
//! `width + halo` computed columns rounded up to whole vectors of
//! `STRIP_CHUNK` (the extra columns carry zero coefficients, so they add
//! exact zeros). The x strips are updated a block of rows per call, in
//! `f32` by the hand-vectorised kernels of `acoustic/avx512.rs`: a strip row
//! is 24 columns at order 8, too short for the compiler's vectorisation,
//! which spent most of it in remainder loops (the x strips took 15% of a
//! single-thread step at 1000², 8% now).
//!
//! **Sponge** (Cerjan et al. 1985): the field is multiplied by a Gaussian
//! taper `g ≤ 1` in the layer after each step.
//!
//! **Free surface**: the image method; the pressure is zero on the surface
//! row and the halo above holds its odd mirror image.
//!
//! All three are linear maps of the state; their adjoints sit beside them.

use super::layout::Layout;
use crate::real::Real;
use multiversion::multiversion;
use rayon::prelude::*;

/// Theoretical normal-incidence reflection coefficient the CPML profile is
/// designed for.
pub const CPML_REFLECTION: f64 = 1e-4;
/// Polynomial degree of the CPML damping profile.
const CPML_POWER: i32 = 2;
/// The x strips' computed columns are a multiple of this many: the `f32`
/// kernels of [`super::avx512`] run them as whole 256-bit vectors, without
/// a remainder loop (Zen 4 executes a 256-bit vector at the per-value rate
/// of a 512-bit one).
pub(super) const STRIP_CHUNK: usize = 8;
/// Amplitude kept per step at the outer edge of a sponge layer.
const SPONGE_EDGE_FACTOR: f64 = 0.92;

/// CPML coefficients and memory-variable geometry. Memory variables live in
/// strips: along x, a left and a right strip of `strip` columns on every
/// padded row (`[nzp, 2·strip]`); along z, a top (unless free surface) and a
/// bottom strip of `strip` rows (`[groups·strip, nxp]`). Each strip carries
/// its own damping profile (`a`, `b`, zero outside its own layer), so strips
/// never double-count even on grids so small that they overlap.
#[derive(Debug, Clone)]
pub struct Cpml<T> {
    /// `a` and `b` per strip column, `[2·strip]` (left strip, then right).
    ax: Vec<T>,
    bx: Vec<T>,
    /// `a` and `b` per z-strip row, `[groups·strip]`.
    az: Vec<T>,
    bz: Vec<T>,
    /// `[0, w1, .., wh] / dx`
    w1x: Vec<T>,
    w1z: Vec<T>,
    /// `[w0, w1, .., wh] / dx²`
    w2x: Vec<T>,
    w2z: Vec<T>,
    /// Width of a memory-variable strip: `2·halo` plus the `width + halo`
    /// columns where the correction is computed, rounded up to a multiple
    /// of [`STRIP_CHUNK`] (the extra columns have zero coefficients).
    strip: usize,
    /// First padded row of each z strip (top unless free surface, bottom).
    z_strip_rows: Vec<usize>,
}

/// Per-axis description used to build a damping profile.
struct Axis {
    padded: usize,
    halo: usize,
    width: usize,
    spacing: f64,
}

impl Axis {
    /// Normalised depth into the low (`low = true`) or high layer (0 at the
    /// inner edge, 1 at the outer) of padded index `p`, or `None` outside it.
    fn depth(&self, p: usize, low: bool) -> Option<f64> {
        let w = self.width as f64;
        let (h, n) = (self.halo, self.padded);
        if low && p >= h && p < h + self.width {
            Some((h + self.width - p) as f64 / w)
        } else if !low && p + self.width + h >= n && p + h < n {
            Some((p + self.width + h + 1 - n) as f64 / w)
        } else {
            None
        }
    }
}

impl<T: Real> Cpml<T> {
    /// CPML for `layout` with spacings `(dz, dx)`, time step `dt`, largest
    /// velocity `v_max` and dominant frequency `frequency` (Hz).
    pub fn new(layout: &Layout, dz: f64, dx: f64, dt: f64, v_max: f64, frequency: f64, w1: &[f64], w2: &[f64]) -> Self {
        let h = layout.halo;
        let strip = (layout.width + h).next_multiple_of(STRIP_CHUNK) + 2 * h;
        let coefficients = |axis: &Axis, p: usize, low: bool| -> (T, T) {
            let Some(x) = axis.depth(p, low) else { return (T::zero(), T::zero()) };
            let length = axis.width as f64 * axis.spacing;
            let d0 = -((CPML_POWER + 1) as f64) * v_max * CPML_REFLECTION.ln() / (2.0 * length);
            let d = d0 * x.powi(CPML_POWER);
            let alpha = std::f64::consts::PI * frequency * (1.0 - x);
            let b = (-(d + alpha) * dt).exp();
            let a = if d + alpha > 0.0 { d * (b - 1.0) / (d + alpha) } else { 0.0 };
            (T::of(a), T::of(b))
        };
        let x_axis = Axis { padded: layout.nxp, halo: h, width: layout.width, spacing: dx };
        let (mut ax, mut bx) = (Vec::with_capacity(2 * strip), Vec::with_capacity(2 * strip));
        for (first, low) in [(0, true), (layout.nxp - strip, false)] {
            for l in 0..strip {
                let (a, b) = coefficients(&x_axis, first + l, low);
                ax.push(a);
                bx.push(b);
            }
        }
        let mut z_strip_rows = Vec::new();
        let (mut az, mut bz) = (Vec::new(), Vec::new());
        if layout.has_z {
            let z_axis = Axis { padded: layout.nzp, halo: h, width: layout.width, spacing: dz };
            if !layout.free_surface {
                z_strip_rows.push((0, true));
            }
            z_strip_rows.push((layout.nzp - strip, false));
            for &(first, low) in &z_strip_rows {
                for r in 0..strip {
                    let (a, b) = coefficients(&z_axis, first + r, low);
                    az.push(a);
                    bz.push(b);
                }
            }
        }
        let scale = |w: &[f64], s: f64| w.iter().map(|&v| T::of(v / s)).collect::<Vec<T>>();
        Cpml {
            ax,
            bx,
            az,
            bz,
            w1x: scale(w1, dx),
            w1z: scale(w1, dz),
            w2x: scale(w2, dx * dx),
            w2z: scale(w2, dz * dz),
            strip,
            z_strip_rows: z_strip_rows.into_iter().map(|(first, _)| first).collect(),
        }
    }

    /// Width of a memory-variable strip.
    pub fn strip(&self) -> usize {
        self.strip
    }

    /// First padded row of each z strip.
    pub fn z_strip_rows(&self) -> &[usize] {
        &self.z_strip_rows
    }

    /// Length of the x memory arrays (`ψ_x`, `ζ_x`).
    pub fn x_len(&self, layout: &Layout) -> usize {
        layout.nzp * 2 * self.strip
    }

    /// Length of the z memory arrays (`ψ_z`, `ζ_z`).
    pub fn z_len(&self, layout: &Layout) -> usize {
        self.z_strip_rows.len() * self.strip * layout.nxp
    }

    /// First padded column of the left and right x strips.
    fn x_strip_cols(&self, layout: &Layout) -> [usize; 2] {
        [0, layout.nxp - self.strip]
    }

    /// `ψ_x ← bψ_x + a ∂_x u` on whole padded rows (`u_rows`, computed
    /// rows only), both strips; `psi_rows` holds the rows' `2·strip` values.
    pub fn psi_x_rows(&self, layout: &Layout, u_rows: &[T], psi_rows: &mut [T]) {
        let co = StripCoefficients { a: &self.ax, b: &self.bx, w1: &self.w1x, w2: &self.w2x };
        let right = layout.nxp - self.strip;
        #[cfg(target_arch = "x86_64")]
        if let (Some(u), Some(a), Some(b), Some(w1)) =
            (T::as_f32s(u_rows), T::as_f32s(&self.ax), T::as_f32s(&self.bx), T::as_f32s(&self.w1x))
            && let Some(psi) = T::as_f32s_mut(psi_rows)
            && with_halo!(layout.halo, H => super::avx512::psi_strips::<H>(u, layout.nxp, right, (a, b, w1), psi))
        {
            return;
        }
        with_halo!(layout.halo, H => psi_strips::<T, H>(&co, u_rows, layout.nxp, right, psi_rows));
    }
    /// `ψ_z ← bψ_z + a ∂_z u` on row `r` of z strip `group`.
    pub fn psi_z_row(&self, layout: &Layout, group: usize, r: usize, u: &[T], psi_row: &mut [T]) {
        let h = layout.halo;
        let (a, b) = (self.az[group * self.strip + r], self.bz[group * self.strip + r]);
        if r < h || r >= self.strip - h || a == T::zero() {
            return;
        }
        let i = self.z_strip_rows[group] + r;
        with_halo!(h, H => psi_z::<T, H>(u, i, layout.nxp, a, b, psi_row, &self.w1z));
    }

    /// x-layer correction of whole padded rows (computed rows only, each
    /// slice holding the same rows): `ζ_x ← bζ_x + a(∂²_x u + ∂_x ψ_x)` and
    /// `out += c (∂_x ψ_x + ζ_x)`, both strips.
    pub fn correct_x_rows(&self, layout: &Layout, rows: XStripRows<'_, T>) {
        let co = StripCoefficients { a: &self.ax, b: &self.bx, w1: &self.w1x, w2: &self.w2x };
        let right = layout.nxp - self.strip;
        #[cfg(target_arch = "x86_64")]
        if let (Some(u), Some(psi), Some(c), Some(a), Some(b), Some(w1), Some(w2)) = (
            T::as_f32s(rows.u),
            T::as_f32s(rows.psi),
            T::as_f32s(rows.c),
            T::as_f32s(&self.ax),
            T::as_f32s(&self.bx),
            T::as_f32s(&self.w1x),
            T::as_f32s(&self.w2x),
        ) && let (Some(zeta), Some(out)) = (T::as_f32s_mut(&mut *rows.zeta), T::as_f32s_mut(&mut *rows.out))
        {
            let fields = XStripRows { u, psi, zeta, c, out };
            if with_halo!(layout.halo, H => super::avx512::correct_strips::<H>(fields, layout.nxp, right, (a, b, w1, w2)))
            {
                return;
            }
        }
        with_halo!(layout.halo, H => correct_strips::<T, H>(&co, rows, layout.nxp, right));
    }

    /// z-layer correction of row `r` of z strip `group` (padded row
    /// `first + r`): `ζ_z ← bζ_z + a(∂²_z u + ∂_z ψ_z)`, `out += c (∂_z ψ_z + ζ_z)`.
    pub fn correct_z_row(
        &self,
        layout: &Layout,
        group: usize,
        r: usize,
        u: &[T],
        psi_group: &[T],
        zeta_row: &mut [T],
        c_row: &[T],
        out: &mut [T],
    ) {
        let h = layout.halo;
        if r < h || r >= self.strip - h {
            return;
        }
        let i = self.z_strip_rows[group] + r;
        let k0 = group * self.strip + r;
        let coefficients = RowCoefficients { a: self.az[k0], b: self.bz[k0], w1: &self.w1z, w2: &self.w2z };
        with_halo!(h, H => correct_z::<T, H>(&coefficients, u, i, psi_group, r, layout.nxp, zeta_row, c_row, out));
    }
}

impl<T: Real> Cpml<T> {
    /// Adjoint of this step's x-layer operations (the `ψ_x` update, then
    /// the `ζ_x` update and correction of `w`) on the computed rows that
    /// `lw` and `out`'s arrays hold (whole padded rows), in one call (per
    /// row, the call's own work cost about a quarter of the x-layer
    /// adjoint). `lw` is the scaled adjoint `μw = c ⊙ λw` of `w`; `lpsi`,
    /// `lzeta` hold the rows' `2·strip` adjoints of the updated variables on
    /// entry and of the old ones on return; `out` receives the `λu`
    /// contributions `d` (`μu += c ⊙ d`, `image += u ⊙ d`).
    ///
    /// `scratch` holds [`Cpml::adjoint_scratch_len`] values that are zero on
    /// first use; the adjoint writes only the middle of it, so the padding
    /// stays zero and it never needs clearing.
    pub fn adjoint_x_rows(
        &self,
        layout: &Layout,
        lw: &[T],
        lpsi: &mut [T],
        lzeta: &mut [T],
        out: ImagedAdjoint<'_, T>,
        scratch: &mut [T],
    ) {
        let nxp = layout.nxp;
        let ImagedAdjoint { lu, image, u, c } = out;
        #[cfg(target_arch = "x86_64")]
        if let (Some(lw), Some(c), Some(u), Some(a), Some(b), Some(w1), Some(w2)) = (
            T::as_f32s(lw),
            T::as_f32s(c),
            T::as_f32s(u),
            T::as_f32s(&self.ax),
            T::as_f32s(&self.bx),
            T::as_f32s(&self.w1x),
            T::as_f32s(&self.w2x),
        ) && let (Some(lu), Some(image), Some(lpsi), Some(lzeta), Some(scratch)) = (
            T::as_f32s_mut(&mut *lu),
            T::as_f32s_mut(&mut *image),
            T::as_f32s_mut(&mut *lpsi),
            T::as_f32s_mut(&mut *lzeta),
            T::as_f32s_mut(&mut *scratch),
        ) {
            let rows = super::avx512::AdjointStripRows { lw, c, u, lu, image, lpsi, lzeta, scratch };
            let right = self.x_strip_cols(layout)[1];
            if with_halo!(layout.halo, H => super::avx512::adjoint_strip_rows::<H>(rows, nxp, right, (a, b, w1, w2))) {
                return;
            }
        }
        // the generic kernels, row by row and strip by strip
        let (s, part) = (self.strip, self.strip + 2 * layout.halo);
        let cells = lw.chunks_exact(nxp).zip(u.chunks_exact(nxp)).zip(c.chunks_exact(nxp));
        let outputs = lu.chunks_exact_mut(nxp).zip(image.chunks_exact_mut(nxp));
        let memory = lpsi.chunks_exact_mut(2 * s).zip(lzeta.chunks_exact_mut(2 * s));
        for (((lw, u), c), ((lu, image), (lpsi, lzeta))) in cells.zip(outputs.zip(memory)) {
            for (side, start) in self.x_strip_cols(layout).into_iter().enumerate() {
                let (t, rest) = scratch[4 * side * part..4 * (side + 1) * part].split_at_mut(part);
                let (qt, rest) = rest.split_at_mut(part);
                let (v, d) = rest.split_at_mut(part);
                let (range, cols) = (side * s..(side + 1) * s, start..start + s);
                let co = StripCoefficients {
                    a: &self.ax[range.clone()],
                    b: &self.bx[range.clone()],
                    w1: &self.w1x,
                    w2: &self.w2x,
                };
                let out = ImagedAdjoint {
                    lu: &mut lu[cols.clone()],
                    image: &mut image[cols.clone()],
                    u: &u[cols.clone()],
                    c: &c[cols.clone()],
                };
                let memory = (&mut lpsi[range.clone()], &mut lzeta[range]);
                adjoint_strip_any_halo(layout.halo, &co, &lw[cols], memory, out, (t, qt, v, d));
            }
        }
    }

    /// Scratch values that [`Cpml::adjoint_x_rows`] needs.
    pub fn adjoint_scratch_len(&self, layout: &Layout) -> usize {
        8 * (self.strip + 2 * layout.halo)
    }

    /// Scratch values [`Cpml::adjoint_z_group`] needs: three blocks of
    /// `strip + 2·halo` padded rows and one of `strip` rows.
    pub fn adjoint_z_scratch_len(&self, layout: &Layout) -> usize {
        (4 * self.strip + 6 * layout.halo) * layout.nxp
    }

    /// Adjoint of the z-layer operations of z strip `group`: `lw` (`μw =
    /// c ⊙ λw`) is a whole padded array; the arrays of `out` hold the padded
    /// rows from `out_first` on (at least the strip's rows) and receive the
    /// `λu` contributions `d` (`μu += c ⊙ d`, `image += u ⊙ d`); `lpsi` and
    /// `lzeta` the group's strip arrays;
    /// `scratch` holds [`Cpml::adjoint_z_scratch_len`] values. In gather
    /// form, like the x strips: with `q = c λw = μw`, `tz = λζ' + q`, `t = a tz`
    /// on the compute rows, `λζ = b tz`; then `λu += D²ᵀ t`,
    /// `λψ' += D¹ᵀ (q + t)`; then `v = a λψ''`, `λψ = b λψ''` on the rows the
    /// forward step updated, and `λu += D¹ᵀ v`, the two parts of each row's
    /// `λu` contribution summed before one update of `μu` and the image.
    /// Every output row reads its `2·halo + 1` neighbours, whole rows at a
    /// time, so it vectorises. In `f32` with AVX-512 the kernel of
    /// `avx512::z_group_adjoint` runs it instead, in column blocks (bitwise
    /// equal, tested).
    pub fn adjoint_z_group(
        &self,
        layout: &Layout,
        group: usize,
        lw: &[T],
        lpsi: &mut [T],
        lzeta: &mut [T],
        out: ImagedAdjoint<'_, T>,
        out_first: usize,
        scratch: &mut [T],
    ) {
        self.adjoint_z_group_from(layout, group, (lw, 0), lpsi, lzeta, out, out_first, scratch)
    }

    /// [`adjoint_z_group`](Self::adjoint_z_group) with `lw` holding the
    /// padded rows from `lw.1` on (at least the strip's rows).
    pub fn adjoint_z_group_from(
        &self,
        layout: &Layout,
        group: usize,
        lw: (&[T], usize),
        lpsi: &mut [T],
        lzeta: &mut [T],
        out: ImagedAdjoint<'_, T>,
        out_first: usize,
        scratch: &mut [T],
    ) {
        with_halo!(layout.halo, H => self.adjoint_z_group_h::<H>(layout, group, lw, lpsi, lzeta, out, out_first, scratch))
    }

    fn adjoint_z_group_h<const H: usize>(
        &self,
        layout: &Layout,
        group: usize,
        (lw, lw_first): (&[T], usize),
        lpsi: &mut [T],
        lzeta: &mut [T],
        out: ImagedAdjoint<'_, T>,
        out_first: usize,
        scratch: &mut [T],
    ) {
        let (s, nxp) = (self.strip, layout.nxp);
        let first = self.z_strip_rows[group];
        #[cfg(target_arch = "x86_64")]
        if let (Some(lw), Some(a), Some(b), Some(w1), Some(w2), Some(u), Some(c)) = (
            T::as_f32s(lw),
            T::as_f32s(&self.az[group * s..(group + 1) * s]),
            T::as_f32s(&self.bz[group * s..(group + 1) * s]),
            T::as_f32s(&self.w1z),
            T::as_f32s(&self.w2z),
            T::as_f32s(out.u),
            T::as_f32s(out.c),
        ) && let (Some(lpsi), Some(lzeta), Some(lu), Some(image), Some(scratch)) = (
            T::as_f32s_mut(&mut *lpsi),
            T::as_f32s_mut(&mut *lzeta),
            T::as_f32s_mut(&mut *out.lu),
            T::as_f32s_mut(&mut *out.image),
            T::as_f32s_mut(&mut *scratch),
        ) {
            let fields = super::avx512::ZGroupFields { lw, lpsi, lzeta, lu, image, u, c, scratch };
            let rows = super::avx512::ZGroupRows { nxp, first, lw_first, out_first };
            if super::avx512::z_group_adjoint::<H>(fields, rows, (a, b, w1, w2)) {
                return;
            }
        }
        self.adjoint_z_group_generic::<H>(layout, group, (lw, lw_first), lpsi, lzeta, out, out_first, scratch);
    }

    /// [`adjoint_z_group_from`](Self::adjoint_z_group_from) by the generic
    /// kernels, row by row.
    #[allow(clippy::too_many_arguments)]
    fn adjoint_z_group_generic<const H: usize>(
        &self,
        layout: &Layout,
        group: usize,
        (lw, lw_first): (&[T], usize),
        lpsi: &mut [T],
        lzeta: &mut [T],
        out: ImagedAdjoint<'_, T>,
        out_first: usize,
        scratch: &mut [T],
    ) {
        let (s, nxp) = (self.strip, layout.nxp);
        let first = self.z_strip_rows[group];
        let n = nxp - 2 * H;
        let padded = (s + 2 * H) * nxp;
        // strip row r is scratch row r + H; rows that are not compute rows stay zero
        let (t, rest) = scratch[..3 * padded + s * nxp].split_at_mut(padded);
        let (qt, rest) = rest.split_at_mut(padded);
        // `d` holds each strip row's first contribution until the second
        let (v, d) = rest.split_at_mut(padded);
        let ImagedAdjoint { lu, image, u, c } = out;
        // the computed columns of padded row i of `out`'s arrays
        let cells = |row: usize| row * nxp + H..row * nxp + H + n;
        let w1: [T; H] = std::array::from_fn(|k| self.w1z[k + 1]);
        let w2: [T; H] = std::array::from_fn(|k| self.w2z[k + 1]);
        let coefficient = |r: usize| (self.az[group * s + r], self.bz[group * s + r]);
        // ζ' = bζ + a (D²u + D¹ψ'), w += c (D¹ψ' + ζ')
        for r in H..s - H {
            let (a, b) = coefficient(r);
            let i = first + r;
            let (t, qt) = (&mut t[cells(r + H)], &mut qt[cells(r + H)]);
            split_zeta_adjoint(&mut lzeta[cells(r)], t, qt, &lw[cells(i - lw_first)], a, b);
        }
        // d = D²ᵀ t (λu's first part) and λψ' += D¹ᵀ (q + t); then, row by
        // row, the adjoint of ψ' = bψ + a D¹u. Like the x strips' (see
        // `adjoint_strip`), these and the last pass run on the compute rows
        // only: the layer spread by H rows stays inside them.
        for r in H..s - H {
            let below: [&[T]; H] = std::array::from_fn(|k| &t[cells(r + H + k + 1)]);
            let above: [&[T]; H] = std::array::from_fn(|k| &t[cells(r + H - k - 1)]);
            let mid = &t[cells(r + H)];
            set_symmetric::<T, H>(&mut d[r * nxp..r * nxp + n], self.w2z[0], mid, &above, &below, &w2);
            let below: [&[T]; H] = std::array::from_fn(|k| &qt[cells(r + H + k + 1)]);
            let above: [&[T]; H] = std::array::from_fn(|k| &qt[cells(r + H - k - 1)]);
            add_antisymmetric::<T, H>(&mut lpsi[cells(r)], &above, &below, &w1);
            let (a, b) = coefficient(r);
            let v_row = &mut v[cells(r + H)];
            if a == T::zero() {
                v_row.fill(T::zero());
                continue;
            }
            split_psi_adjoint(v_row, &mut lpsi[cells(r)], a, b);
        }
        for r in H..s - H {
            let own = cells(first + r - out_first);
            let below: [&[T]; H] = std::array::from_fn(|k| &v[cells(r + H + k + 1)]);
            let above: [&[T]; H] = std::array::from_fn(|k| &v[cells(r + H - k - 1)]);
            let targets = (&mut lu[own.clone()], &mut image[own.clone()], &u[own.clone()], &c[own]);
            add_antisymmetric_imaged::<T, H>(targets, &d[r * nxp..r * nxp + n], &above, &below, &w1);
        }
    }
}

/// The first step of the z-layer adjoint on a row: with `q = μw`,
/// `total = λζ' + q`, then `t = a total`, `λζ = b total` and `qt = q + t`.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn split_zeta_adjoint<T: Real>(zeta: &mut [T], t: &mut [T], qt: &mut [T], q: &[T], a: T, b: T) {
    let n = zeta.len();
    let (t, qt, q) = (&mut t[..n], &mut qt[..n], &q[..n]);
    for j in 0..n {
        let total = zeta[j] + q[j];
        t[j] = a * total;
        zeta[j] = b * total;
        qt[j] = q[j] + t[j];
    }
}

/// The adjoint of `ψ' = bψ + a D¹u` on a row: `v = a λψ''`, `λψ = b λψ''`.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn split_psi_adjoint<T: Real>(v: &mut [T], psi: &mut [T], a: T, b: T) {
    let n = v.len();
    let psi = &mut psi[..n];
    for j in 0..n {
        v[j] = a * psi[j];
        psi[j] *= b;
    }
}

/// `out = w0 mid + Σ_k w[k] (above[k] + below[k])` (row slices of one
/// length): the transpose of the centred second derivative.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn set_symmetric<T: Real, const H: usize>(
    out: &mut [T],
    w0: T,
    mid: &[T],
    above: &[&[T]; H],
    below: &[&[T]; H],
    w: &[T; H],
) {
    let n = out.len();
    let mid = &mid[..n];
    let above: [&[T]; H] = std::array::from_fn(|k| &above[k][..n]);
    let below: [&[T]; H] = std::array::from_fn(|k| &below[k][..n]);
    for j in 0..n {
        let mut d = w0 * mid[j];
        for k in 0..H {
            d += w[k] * (above[k][j] + below[k][j]);
        }
        out[j] = d;
    }
}

/// `lu += c ⊙ d`, `image += u ⊙ d` with `d = first + Σ_k w[k] (above[k] −
/// below[k])` (row slices of one length): a boundary contribution whose
/// second part is the transpose of the centred first derivative.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn add_antisymmetric_imaged<T: Real, const H: usize>(
    (lu, image, u, c): (&mut [T], &mut [T], &[T], &[T]),
    first: &[T],
    above: &[&[T]; H],
    below: &[&[T]; H],
    w: &[T; H],
) {
    let n = lu.len();
    let (image, u, c, first) = (&mut image[..n], &u[..n], &c[..n], &first[..n]);
    let above: [&[T]; H] = std::array::from_fn(|k| &above[k][..n]);
    let below: [&[T]; H] = std::array::from_fn(|k| &below[k][..n]);
    for j in 0..n {
        let mut d = T::zero();
        for k in 0..H {
            d += w[k] * (above[k][j] - below[k][j]);
        }
        let d = first[j] + d;
        lu[j] += c[j] * d;
        image[j] += u[j] * d;
    }
}

/// Where an adjoint boundary operation puts its contributions `d` to `λu`
/// (slices of one length, or whole padded arrays): `μu += c ⊙ d` (the
/// adjoint state is carried scaled, `μ = c ⊙ λ`), and `image += u ⊙ d`,
/// the model derivative carried by the increment (see
/// `AcousticShot::step_adjoint`).
#[derive(Debug)]
pub struct ImagedAdjoint<'a, T> {
    /// `μu`, accumulated.
    pub lu: &'a mut [T],
    /// `c ⊙` the model derivative, accumulated.
    pub image: &'a mut [T],
    /// The forward `u^n`.
    pub u: &'a [T],
    /// `v² dt²`.
    pub c: &'a [T],
}

/// `out += Σ_k w[k] (above[k] − below[k])`, row slices of one length: the
/// transpose of the centred first derivative.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn add_antisymmetric<T: Real, const H: usize>(out: &mut [T], above: &[&[T]; H], below: &[&[T]; H], w: &[T; H]) {
    let n = out.len();
    let above: [&[T]; H] = std::array::from_fn(|k| &above[k][..n]);
    let below: [&[T]; H] = std::array::from_fn(|k| &below[k][..n]);
    for j in 0..n {
        let mut sum = T::zero();
        for k in 0..H {
            sum += w[k] * (above[k][j] - below[k][j]);
        }
        out[j] += sum;
    }
}

/// Whole padded rows for the x-layer correction: `u`, `c` and `out` hold
/// `nxp` values per row, `psi` and `zeta` the rows' `2·strip` values.
pub struct XStripRows<'a, T> {
    /// `u^n` on the rows.
    pub u: &'a [T],
    /// `ψ_x`, already updated this step.
    pub psi: &'a [T],
    /// `ζ_x`, updated in place.
    pub zeta: &'a mut [T],
    /// The coefficient `v² dt²` (or the weight of a derivative).
    pub c: &'a [T],
    /// `u^{n+1}` (or an image) receiving the correction.
    pub out: &'a mut [T],
}

/// Damping coefficients of the strips (left then right, or one strip) and
/// the derivative weights.
struct StripCoefficients<'a, T> {
    a: &'a [T],
    b: &'a [T],
    w1: &'a [T],
    w2: &'a [T],
}

/// Damping coefficients of one z-strip row and the derivative weights.
struct RowCoefficients<'a, T> {
    a: T,
    b: T,
    w1: &'a [T],
    w2: &'a [T],
}

/// [`psi_strip`] on both strips of each row of `u` (whole padded rows; the
/// right strip starts at column `right`), `psi` holding `2·strip` per row.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn psi_strips<T: Real, const H: usize>(
    co: &StripCoefficients<'_, T>,
    u: &[T],
    nxp: usize,
    right: usize,
    psi: &mut [T],
) {
    let s = co.a.len() / 2;
    let (a, b) = (co.a.split_at(s), co.b.split_at(s));
    for (urow, psi_row) in u.chunks_exact(nxp).zip(psi.chunks_exact_mut(2 * s)) {
        let (left_psi, right_psi) = psi_row.split_at_mut(s);
        psi_strip::<T, H>(&urow[..s], a.0, b.0, left_psi, co.w1);
        psi_strip::<T, H>(&urow[right..right + s], a.1, b.1, right_psi, co.w1);
    }
}

/// `ψ ← bψ + a D¹f` on strip columns `H..strip−H`; `f` is the strip's
/// segment of the padded row.
#[inline(always)]
fn psi_strip<T: Real, const H: usize>(f: &[T], a: &[T], b: &[T], psi: &mut [T], w1: &[T]) {
    let n = psi.len() - 2 * H;
    let plus: [&[T]; H] = std::array::from_fn(|k| &f[H + k + 1..][..n]);
    let minus: [&[T]; H] = std::array::from_fn(|k| &f[H - k - 1..][..n]);
    let w: [T; H] = std::array::from_fn(|k| w1[k + 1]);
    let (a, b) = (&a[H..H + n], &b[H..H + n]);
    let psi = &mut psi[H..H + n];
    for q in 0..n {
        let mut du = T::zero();
        for k in 0..H {
            du += w[k] * (plus[k][q] - minus[k][q]);
        }
        psi[q] = b[q] * psi[q] + a[q] * du;
    }
}

/// `ψ_z ← bψ_z + a D¹_z u` on the computed columns of padded row `i`.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn psi_z<T: Real, const H: usize>(u: &[T], i: usize, nxp: usize, a: T, b: T, psi: &mut [T], w1: &[T]) {
    let n = nxp - 2 * H;
    let plus: [&[T]; H] = std::array::from_fn(|k| &u[(i + k + 1) * nxp + H..][..n]);
    let minus: [&[T]; H] = std::array::from_fn(|k| &u[(i - k - 1) * nxp + H..][..n]);
    let w: [T; H] = std::array::from_fn(|k| w1[k + 1]);
    let psi = &mut psi[H..H + n];
    for q in 0..n {
        let mut du = T::zero();
        for k in 0..H {
            du += w[k] * (plus[k][q] - minus[k][q]);
        }
        psi[q] = b * psi[q] + a * du;
    }
}

/// [`correct_strip`] on both strips of each row (the right strip starts
/// at column `right`).
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn correct_strips<T: Real, const H: usize>(
    co: &StripCoefficients<'_, T>,
    rows: XStripRows<'_, T>,
    nxp: usize,
    right: usize,
) {
    let s = co.a.len() / 2;
    let XStripRows { u, psi, zeta, c, out } = rows;
    let sides = [
        StripCoefficients { a: &co.a[..s], b: &co.b[..s], w1: co.w1, w2: co.w2 },
        StripCoefficients { a: &co.a[s..], b: &co.b[s..], w1: co.w1, w2: co.w2 },
    ];
    let cells = u.chunks_exact(nxp).zip(c.chunks_exact(nxp)).zip(out.chunks_exact_mut(nxp));
    for (((urow, c_row), out_row), (psi_row, zeta_row)) in
        cells.zip(psi.chunks_exact(2 * s).zip(zeta.chunks_exact_mut(2 * s)))
    {
        let (left_zeta, right_zeta) = zeta_row.split_at_mut(s);
        let (left_out, right_out) = out_row.split_at_mut(right);
        let (left, right_cells) = (..s, right..right + s);
        correct_strip::<T, H>(&sides[0], &urow[left], &psi_row[..s], left_zeta, &c_row[left], &mut left_out[left]);
        correct_strip::<T, H>(
            &sides[1],
            &urow[right_cells.clone()],
            &psi_row[s..],
            right_zeta,
            &c_row[right_cells],
            &mut right_out[..s],
        );
    }
}

/// x-layer correction on strip columns `H..strip−H`; `f`, `c`, `out` are the
/// strip's segments of the padded rows.
#[inline(always)]
fn correct_strip<T: Real, const H: usize>(
    co: &StripCoefficients<'_, T>,
    f: &[T],
    psi: &[T],
    zeta: &mut [T],
    c: &[T],
    out: &mut [T],
) {
    let n = psi.len() - 2 * H;
    let u_plus: [&[T]; H] = std::array::from_fn(|k| &f[H + k + 1..][..n]);
    let u_minus: [&[T]; H] = std::array::from_fn(|k| &f[H - k - 1..][..n]);
    let p_plus: [&[T]; H] = std::array::from_fn(|k| &psi[H + k + 1..][..n]);
    let p_minus: [&[T]; H] = std::array::from_fn(|k| &psi[H - k - 1..][..n]);
    let w1: [T; H] = std::array::from_fn(|k| co.w1[k + 1]);
    let w2: [T; H] = std::array::from_fn(|k| co.w2[k + 1]);
    let w0 = co.w2[0];
    let (mid, a, b, c) = (&f[H..H + n], &co.a[H..H + n], &co.b[H..H + n], &c[H..H + n]);
    let (zeta, out) = (&mut zeta[H..H + n], &mut out[H..H + n]);
    for q in 0..n {
        let mut dpsi = T::zero();
        let mut d2u = w0 * mid[q];
        for k in 0..H {
            dpsi += w1[k] * (p_plus[k][q] - p_minus[k][q]);
            d2u += w2[k] * (u_plus[k][q] + u_minus[k][q]);
        }
        let z = b[q] * zeta[q] + a[q] * (d2u + dpsi);
        zeta[q] = z;
        out[q] += c[q] * (dpsi + z);
    }
}

/// [`adjoint_strip`] for the half-width `halo`, out of line: inlined, its
/// eight instances made the x-layer adjoint a large function whose every
/// call (two per row) spilled and reloaded a large stack frame.
#[inline(never)]
fn adjoint_strip_any_halo<T: Real>(
    halo: usize,
    co: &StripCoefficients<'_, T>,
    lw: &[T],
    (lpsi, lzeta): (&mut [T], &mut [T]),
    out: ImagedAdjoint<'_, T>,
    scratch: (&mut [T], &mut [T], &mut [T], &mut [T]),
) {
    with_halo!(halo, H => adjoint_strip::<T, H>(co, lw, lpsi, lzeta, out, scratch));
}

/// Adjoint of [`psi_strip`] and [`correct_strip`] on one strip, in gather
/// form (every output reads its neighbours) so that it vectorises: with
/// `q = c λw = μw`, `tz = λζ' + q`, `t = a tz` on the compute columns,
/// `λζ = b tz`, `λu += D²ᵀ t + D¹ᵀ(a λψ'')` (the sum `d` going in as
/// `μu += c ⊙ d`, `image += u ⊙ d`, once: its first part waits in scratch
/// `d` for the second) and `λψ' += D¹ᵀ (q + t)`, where `λψ''` is `λψ'`
/// after that update, and finally `λψ = b λψ''`. Scratch `t`, `qt` and `v`
/// are `strip + 2·halo` long and zero outside what this writes; `d` is
/// `strip` long.
///
/// Every pass runs on the computed columns `H..strip−H` only. The
/// transposed stencils spread the layer (where `a ≠ 0`) by `H` columns,
/// and that stays inside them, since a strip is at least `width + 3·halo`
/// wide: beyond them `d` is exactly zero (the right strip's first columns)
/// or falls on the halo, where `c` and `u` are zero; and `λψ` there is
/// never read.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn adjoint_strip<T: Real, const H: usize>(
    co: &StripCoefficients<'_, T>,
    lw: &[T],
    lpsi: &mut [T],
    lzeta: &mut [T],
    out: ImagedAdjoint<'_, T>,
    (t, qt, v, d): (&mut [T], &mut [T], &mut [T], &mut [T]),
) {
    let s = lpsi.len();
    let ImagedAdjoint { lu, image, u, c } = out;
    let n = s - 2 * H;
    let columns = H..H + n;
    let d = &mut d[columns.clone()];
    // scratch indexed from −H (scratch index m + H is strip column m): t,
    // q + t and v on the compute columns; zero elsewhere (never written there)
    let (t, qt, v) = (&mut t[..s + 2 * H], &mut qt[..s + 2 * H], &mut v[..s + 2 * H]);
    let w1: [T; H] = std::array::from_fn(|k| co.w1[k + 1]);
    let w2: [T; H] = std::array::from_fn(|k| co.w2[k + 1]);
    let (a, b) = (&co.a[columns.clone()], &co.b[columns.clone()]);
    let outputs = t[2 * H..2 * H + n].iter_mut().zip(&mut qt[2 * H..2 * H + n]);
    for (((lzeta, (&a, &b)), &q), (t, qt)) in
        lzeta[columns.clone()].iter_mut().zip(a.iter().zip(b)).zip(&lw[columns.clone()]).zip(outputs)
    {
        let total = *lzeta + q;
        let tt = a * total;
        *lzeta = b * total;
        *t = tt;
        *qt = q + tt;
    }
    // d = D²ᵀ t, λψ'' = λψ' + D¹ᵀ (q + t); then, for ψ' = bψ + a D¹u,
    // v = a λψ'' and λψ = b λψ''
    let t_mid = &t[2 * H..2 * H + n];
    let t_left: [&[T]; H] = std::array::from_fn(|k| &t[2 * H - k - 1..][..n]);
    let t_right: [&[T]; H] = std::array::from_fn(|k| &t[2 * H + k + 1..][..n]);
    let qt_left: [&[T]; H] = std::array::from_fn(|k| &qt[2 * H - k - 1..][..n]);
    let qt_right: [&[T]; H] = std::array::from_fn(|k| &qt[2 * H + k + 1..][..n]);
    let (lpsi, v_mid) = (&mut lpsi[columns.clone()], &mut v[2 * H..2 * H + n]);
    for m in 0..n {
        let mut du = co.w2[0] * t_mid[m];
        let mut dpsi = T::zero();
        for k in 0..H {
            du += w2[k] * (t_left[k][m] + t_right[k][m]);
            dpsi += w1[k] * (qt_left[k][m] - qt_right[k][m]);
        }
        d[m] = du;
        let p = lpsi[m] + dpsi;
        v_mid[m] = a[m] * p;
        lpsi[m] = p * b[m];
    }
    let v_left: [&[T]; H] = std::array::from_fn(|k| &v[2 * H - k - 1..][..n]);
    let v_right: [&[T]; H] = std::array::from_fn(|k| &v[2 * H + k + 1..][..n]);
    let (lu, image, u, c) = (&mut lu[columns.clone()], &mut image[columns.clone()], &u[columns.clone()], &c[columns]);
    for m in 0..n {
        let mut du = T::zero();
        for k in 0..H {
            du += w1[k] * (v_left[k][m] - v_right[k][m]);
        }
        let du = d[m] + du;
        lu[m] += c[m] * du;
        image[m] += u[m] * du;
    }
}

/// z-layer correction on the computed columns of padded row `i` (row `r`
/// of its strip, whose `ψ_z` rows are `psi`).
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx+avx2+fma", "x86_64+avx+avx2+fma"))]
fn correct_z<T: Real, const H: usize>(
    co: &RowCoefficients<'_, T>,
    u: &[T],
    i: usize,
    psi: &[T],
    r: usize,
    nxp: usize,
    zeta: &mut [T],
    c: &[T],
    out: &mut [T],
) {
    let n = nxp - 2 * H;
    let u_plus: [&[T]; H] = std::array::from_fn(|k| &u[(i + k + 1) * nxp + H..][..n]);
    let u_minus: [&[T]; H] = std::array::from_fn(|k| &u[(i - k - 1) * nxp + H..][..n]);
    let p_plus: [&[T]; H] = std::array::from_fn(|k| &psi[(r + k + 1) * nxp + H..][..n]);
    let p_minus: [&[T]; H] = std::array::from_fn(|k| &psi[(r - k - 1) * nxp + H..][..n]);
    let w1: [T; H] = std::array::from_fn(|k| co.w1[k + 1]);
    let w2: [T; H] = std::array::from_fn(|k| co.w2[k + 1]);
    let (w0, a, b) = (co.w2[0], co.a, co.b);
    let mid = &u[i * nxp + H..][..n];
    let (c, zeta, out) = (&c[H..H + n], &mut zeta[H..H + n], &mut out[H..H + n]);
    for q in 0..n {
        let mut dpsi = T::zero();
        let mut d2u = w0 * mid[q];
        for k in 0..H {
            dpsi += w1[k] * (p_plus[k][q] - p_minus[k][q]);
            d2u += w2[k] * (u_plus[k][q] + u_minus[k][q]);
        }
        let z = b * zeta[q] + a * (d2u + dpsi);
        zeta[q] = z;
        out[q] += c[q] * (dpsi + z);
    }
}

/// Cerjan sponge: damping factor per padded column and row (1 outside).
#[derive(Debug, Clone)]
pub struct Sponge<T> {
    gx: Vec<T>,
    gz: Vec<T>,
}

impl<T: Real> Sponge<T> {
    /// Sponge for `layout`.
    pub fn new(layout: &Layout) -> Self {
        let strength = (-SPONGE_EDGE_FACTOR.ln()).sqrt();
        let profile = |axis: Axis, low: bool| {
            (0..axis.padded)
                .map(|p| {
                    let depth = axis.depth(p, false).or(if low { axis.depth(p, true) } else { None });
                    T::of(depth.map_or(1.0, |x| (-(strength * x).powi(2)).exp()))
                })
                .collect::<Vec<T>>()
        };
        let h = layout.halo;
        let gx = profile(Axis { padded: layout.nxp, halo: h, width: layout.width, spacing: 1.0 }, true);
        let gz = if layout.has_z {
            profile(Axis { padded: layout.nzp, halo: h, width: layout.width, spacing: 1.0 }, !layout.free_surface)
        } else {
            vec![T::one()]
        };
        Sponge { gx, gz }
    }

    /// The taper at computed padded cell `(i, j)` (1 outside the layer).
    pub fn factor(&self, i: usize, j: usize) -> T {
        self.gz[i] * self.gx[j]
    }

    /// Multiply two fields by the taper in the layer (its own adjoint:
    /// diagonal), rows in parallel on the rayon pool in tasks of at least
    /// four times `min_rows` rows (a taper row is cheap next to a stencil
    /// row; the arithmetic per cell does not depend on the tasks).
    pub fn apply_both(&self, layout: &Layout, first: &mut [T], second: &mut [T], min_rows: usize) {
        let nxp = layout.nxp;
        first
            .par_chunks_exact_mut(nxp)
            .zip(second.par_chunks_exact_mut(nxp))
            .enumerate()
            .with_min_len(min_rows.saturating_mul(4))
            .for_each(|(i, (a, b))| {
                self.apply_row(layout, i, a);
                self.apply_row(layout, i, b);
            });
    }

    /// The taper on padded row `i` (nothing off the computed rows).
    fn apply_row(&self, layout: &Layout, i: usize, row: &mut [T]) {
        if !layout.computed_rows().contains(&i) {
            return;
        }
        let (h, w, nxp) = (layout.halo, layout.width, layout.nxp);
        let gz = self.gz[i];
        if gz < T::one() {
            for (v, &g) in row[h..nxp - h].iter_mut().zip(&self.gx[h..nxp - h]) {
                *v *= gz * g;
            }
        } else {
            for range in [h..h + w, nxp - h - w..nxp - h] {
                for (v, &g) in row[range.clone()].iter_mut().zip(&self.gx[range]) {
                    *v *= g;
                }
            }
        }
    }
}

/// Free surface by the image method: zero pressure on the surface row and
/// its odd mirror image in the halo above. (Its adjoint is
/// [`adjoint_free_surface`].)
pub fn apply_free_surface<T: Real>(layout: &Layout, field: &mut [T]) {
    let (nxp, s) = (layout.nxp, layout.pz);
    field[s * nxp..(s + 1) * nxp].fill(T::zero());
    for k in 1..=layout.halo {
        let (above, below) = field.split_at_mut(s * nxp);
        let dst = &mut above[(s - k) * nxp..(s - k + 1) * nxp];
        let src = &below[k * nxp..(k + 1) * nxp];
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = -v;
        }
    }
}

/// Adjoint (transpose) of [`apply_free_surface`] on the scaled adjoint
/// `μ = c ⊙ λ` of the acoustic sweep, whose halo rows hold `λ` itself (`c`
/// is zero there): each halo row's adjoint is folded, with a sign flip and
/// scaled by its mirror row's `c`, into that row below; the halo rows and
/// the surface row are then zero.
pub fn adjoint_free_surface<T: Real>(layout: &Layout, lambda: &mut [T], c: &[T]) {
    let (nxp, s) = (layout.nxp, layout.pz);
    for k in 1..=layout.halo {
        let (above, below) = lambda.split_at_mut(s * nxp);
        let halo_row = &mut above[(s - k) * nxp..(s - k + 1) * nxp];
        let mirror = &mut below[k * nxp..(k + 1) * nxp];
        let c_mirror = &c[(s + k) * nxp..(s + k + 1) * nxp];
        for ((m, h), &c) in mirror.iter_mut().zip(halo_row.iter_mut()).zip(c_mirror) {
            *m -= c * *h;
            *h = T::zero();
        }
    }
    lambda[s * nxp..(s + 1) * nxp].fill(T::zero());
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "x86_64")]
    use super::super::kernel::tests::noise;
    use super::*;

    #[cfg(target_arch = "x86_64")]
    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// A 9 × 61 layout with an `f32` CPML of layer `width` and made-up
    /// derivative weights.
    #[cfg(target_arch = "x86_64")]
    fn strip_fixture<const H: usize>(width: usize) -> (Layout, Cpml<f32>) {
        let layout = Layout::new(true, 9, 61, H, width, false);
        let w1: Vec<f64> = (0..=H).map(|k| if k == 0 { 0.0 } else { 0.8 / k as f64 }).collect();
        let w2: Vec<f64> = (0..=H).map(|k| if k == 0 { -2.9 } else { 1.1 / (k * k) as f64 }).collect();
        let cpml = Cpml::<f32>::new(&layout, 10.0, 10.0, 1e-3, 2000.0, 10.0, &w1, &w2);
        (layout, cpml)
    }

    /// The hand-vectorised `f32` x-strip kernels against the generic ones,
    /// bitwise, on a block of whole rows, for a layer width whose computed
    /// strip columns are whole vectors (20 + 4 at order 8) and ones padded
    /// to whole vectors.
    #[cfg(target_arch = "x86_64")]
    fn compare_x_strips<const H: usize>(width: usize) {
        let (layout, cpml) = strip_fixture::<H>(width);
        assert!((cpml.strip() - 2 * H).is_multiple_of(STRIP_CHUNK));
        let (nxp, rows) = (layout.nxp, 3);
        let u = noise(rows * nxp, 1);
        let c: Vec<f32> = noise(rows * nxp, 2).iter().map(|v| 0.1 * v.abs()).collect();
        let memory = rows * 2 * cpml.strip();
        let (psi0, zeta0, out0) = (noise(memory, 3), noise(memory, 4), noise(rows * nxp, 5));
        let co = StripCoefficients { a: &cpml.ax, b: &cpml.bx, w1: &cpml.w1x, w2: &cpml.w2x };
        let right = nxp - cpml.strip();

        let mut expected_psi = psi0.clone();
        psi_strips::<f32, H>(&co, &u, nxp, right, &mut expected_psi);
        let mut psi = psi0.clone();
        assert!(super::super::avx512::psi_strips::<H>(&u, nxp, right, (&cpml.ax, &cpml.bx, &cpml.w1x), &mut psi));
        assert_eq!(bits(&psi), bits(&expected_psi), "psi, H {H} width {width}");
        assert_ne!(bits(&psi), bits(&psi0), "psi was updated");

        let (mut expected_zeta, mut expected_out) = (zeta0.clone(), out0.clone());
        let rows_of = |zeta, out| XStripRows { u: &u, psi: &psi, zeta, c: &c, out };
        correct_strips::<f32, H>(&co, rows_of(&mut expected_zeta, &mut expected_out), nxp, right);
        let (mut zeta, mut out) = (zeta0.clone(), out0.clone());
        let fields = XStripRows { u: &u, psi: &psi, zeta: &mut zeta, c: &c, out: &mut out };
        let coefficients = (&cpml.ax[..], &cpml.bx[..], &cpml.w1x[..], &cpml.w2x[..]);
        assert!(super::super::avx512::correct_strips::<H>(fields, nxp, right, coefficients));
        assert_eq!(bits(&zeta), bits(&expected_zeta), "zeta, H {H} width {width}");
        assert_eq!(bits(&out), bits(&expected_out), "out, H {H} width {width}");
        assert_ne!(bits(&out), bits(&out0), "out was corrected");
    }

    /// The hand-vectorised `f32` adjoint of both x strips of several rows in
    /// one call (one scratch for all of them) against the generic one, row
    /// by row and side by side with fresh scratch, bitwise.
    #[cfg(target_arch = "x86_64")]
    fn compare_adjoint_strip_rows<const H: usize>(width: usize) {
        compare_adjoint_strip_kernel::<H>(width, super::super::avx512::adjoint_strip_rows::<H>, "dispatched");
        compare_adjoint_strip_kernel::<H>(width, super::super::avx512::adjoint_strip_rows_in_memory::<H>, "in memory");
    }

    /// The x-strip adjoint kernel type of `avx512`.
    #[cfg(target_arch = "x86_64")]
    type StripAdjointKernel =
        fn(super::super::avx512::AdjointStripRows<'_>, usize, usize, (&[f32], &[f32], &[f32], &[f32])) -> bool;

    /// [`compare_adjoint_strip_rows`] for one kernel.
    #[cfg(target_arch = "x86_64")]
    fn compare_adjoint_strip_kernel<const H: usize>(width: usize, kernel: StripAdjointKernel, name: &str) {
        let (layout, cpml) = strip_fixture::<H>(width);
        let (nxp, rows, s) = (layout.nxp, 3, cpml.strip());
        let (lw, u) = (noise(rows * nxp, 21), noise(rows * nxp, 22));
        let c: Vec<f32> = noise(rows * nxp, 23).iter().map(|v| 0.1 * v.abs()).collect();
        let (lu0, image0) = (noise(rows * nxp, 24), noise(rows * nxp, 25));
        let (lpsi0, lzeta0) = (noise(rows * 2 * s, 26), noise(rows * 2 * s, 27));
        let (mut lu, mut image, mut lpsi, mut lzeta) = (lu0.clone(), image0.clone(), lpsi0.clone(), lzeta0.clone());
        for (row, side) in (0..rows).flat_map(|row| [(row, 0), (row, 1)]) {
            let cols = row * nxp + side * (nxp - s)..row * nxp + side * (nxp - s) + s;
            let range = (2 * row + side) * s..(2 * row + side + 1) * s;
            let co = StripCoefficients {
                a: &cpml.ax[side * s..][..s],
                b: &cpml.bx[side * s..][..s],
                w1: &cpml.w1x,
                w2: &cpml.w2x,
            };
            let out = ImagedAdjoint {
                lu: &mut lu[cols.clone()],
                image: &mut image[cols.clone()],
                u: &u[cols.clone()],
                c: &c[cols.clone()],
            };
            let (mut t, mut qt, mut v) = (vec![0.0f32; s + 2 * H], vec![0.0f32; s + 2 * H], vec![0.0f32; s + 2 * H]);
            let mut d = vec![0.0f32; s];
            let memory = (&mut lpsi[range.clone()], &mut lzeta[range]);
            let scratch = (&mut t[..], &mut qt[..], &mut v[..], &mut d[..]);
            adjoint_strip::<f32, H>(&co, &lw[cols], memory.0, memory.1, out, scratch);
        }
        let (mut lu2, mut image2, mut lpsi2, mut lzeta2) = (lu0.clone(), image0, lpsi0, lzeta0);
        let mut scratch = vec![0.0f32; cpml.adjoint_scratch_len(&layout)];
        let fields = super::super::avx512::AdjointStripRows {
            lw: &lw,
            c: &c,
            u: &u,
            lu: &mut lu2,
            image: &mut image2,
            lpsi: &mut lpsi2,
            lzeta: &mut lzeta2,
            scratch: &mut scratch,
        };
        let coefficients = (&cpml.ax[..], &cpml.bx[..], &cpml.w1x[..], &cpml.w2x[..]);
        if !kernel(fields, nxp, nxp - s, coefficients) {
            assert!(!s.is_multiple_of(STRIP_CHUNK), "H {H} width {width}: the {name} kernel declined");
            return;
        }
        let context = format!("H {H} width {width}, {rows} rows, {name}");
        assert_eq!(bits(&lu2), bits(&lu), "lu, {context}");
        assert_eq!(bits(&image2), bits(&image), "image, {context}");
        assert_eq!(bits(&lpsi2), bits(&lpsi), "lpsi, {context}");
        assert_eq!(bits(&lzeta2), bits(&lzeta), "lzeta, {context}");
        assert_ne!(bits(&lu2), bits(&lu0), "lu was updated, {context}");
    }

    /// The `f32` AVX-512 z-strip adjoint against the generic one, bitwise,
    /// on both z strips of a small grid whose computed columns end in a
    /// partial vector (or not), with `lw` and the `out` arrays offset.
    #[cfg(target_arch = "x86_64")]
    fn compare_z_strip_adjoint<const H: usize>(width: usize) {
        let (layout, cpml) = strip_fixture::<H>(width);
        let (nxp, s, len) = (layout.nxp, cpml.strip(), layout.len());
        let (lw, u) = (noise(len, 31), noise(len, 32));
        let c: Vec<f32> = noise(len, 33).iter().map(|v| 0.1 * v.abs()).collect();
        let (lu0, image0) = (noise(len, 34), noise(len, 35));
        let (lpsi0, lzeta0) = (noise(s * nxp, 36), noise(s * nxp, 37));
        for group in 0..cpml.z_strip_rows().len() {
            let first = cpml.z_strip_rows()[group];
            // `lw` from the strip's first row on, `out` from row 0
            let run = |generic: bool| {
                let (mut lu, mut image, mut lpsi, mut lzeta) =
                    (lu0.clone(), image0.clone(), lpsi0.clone(), lzeta0.clone());
                let mut scratch = vec![0.0f32; cpml.adjoint_z_scratch_len(&layout)];
                let out = ImagedAdjoint { lu: &mut lu, image: &mut image, u: &u, c: &c };
                let lw = (&lw[first * nxp..], first);
                if generic {
                    cpml.adjoint_z_group_generic::<H>(&layout, group, lw, &mut lpsi, &mut lzeta, out, 0, &mut scratch);
                } else {
                    cpml.adjoint_z_group_from(&layout, group, lw, &mut lpsi, &mut lzeta, out, 0, &mut scratch);
                }
                [lu, image, lpsi, lzeta].map(|v| bits(&v))
            };
            let (expected, vectorised) = (run(true), run(false));
            for (name, (e, v)) in ["lu", "image", "lpsi", "lzeta"].iter().zip(expected.iter().zip(&vectorised)) {
                assert_eq!(e, v, "{name}, H {H} width {width} group {group} (nxp {nxp})");
            }
            assert_ne!(expected[0], bits(&lu0), "lu was updated, H {H} width {width} group {group}");
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn vectorised_z_strip_adjoint_matches_the_generic_kernel_bitwise() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            eprintln!("no AVX-512 on this CPU: nothing to compare");
            return;
        }
        for width in [20, 7, 13] {
            compare_z_strip_adjoint::<1>(width);
            compare_z_strip_adjoint::<2>(width);
            compare_z_strip_adjoint::<3>(width);
            compare_z_strip_adjoint::<4>(width);
            compare_z_strip_adjoint::<8>(width);
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn vectorised_x_strips_match_the_generic_kernels_bitwise() {
        if !std::arch::is_x86_feature_detected!("avx") {
            eprintln!("no AVX on this CPU: nothing to compare");
            return;
        }
        for width in [20, 7, 13, 40, 60] {
            compare_adjoint_strip_rows::<1>(width);
            compare_adjoint_strip_rows::<2>(width);
            compare_adjoint_strip_rows::<3>(width);
            compare_adjoint_strip_rows::<4>(width);
            compare_adjoint_strip_rows::<8>(width);
            compare_x_strips::<1>(width);
            compare_x_strips::<2>(width);
            compare_x_strips::<3>(width);
            compare_x_strips::<4>(width);
            compare_x_strips::<8>(width);
        }
    }
}
