//! Absorbing boundaries and the free surface of the acoustic solver.
//!
//! **CPML** (convolutional PML for the second-order wave equation, in the
//! form of Pasalic & McGarry 2010): along each axis the second derivative is
//! replaced, inside the layer, by `∂(∂u + ψ) + ζ` with memory variables
//! `ψ ← bψ + a ∂u` and `ζ ← bζ + a (∂²u + ∂ψ)`. The interior kernel applies
//! the plain Laplacian everywhere; this module adds the correction
//! `c·(∂ψ + ζ)` in strips of width `width + halo` along each edge, so the
//! layer costs work only where it is. Memory variables live in strips of
//! `width + 3·halo` cells (zero-padded so derivatives never branch).
//!
//! **Sponge** (Cerjan et al. 1985): the field is multiplied by a Gaussian
//! taper `g ≤ 1` in the layer after each step.
//!
//! **Free surface**: the image method; the pressure is zero on the surface
//! row and the halo above holds its odd mirror image.
//!
//! All three are linear maps of the state; their adjoints sit beside them.

use super::layout::Layout;
use crate::propagator::Parallelism;
use crate::real::Real;
use rayon::prelude::*;

/// Theoretical normal-incidence reflection coefficient the CPML profile is
/// designed for.
pub const CPML_REFLECTION: f64 = 1e-4;
/// Polynomial degree of the CPML damping profile.
const CPML_POWER: i32 = 2;
/// Amplitude kept per step at the outer edge of a sponge layer.
const SPONGE_EDGE_FACTOR: f64 = 0.92;

/// CPML coefficients: `a`, `b` per padded column and per padded row (zero
/// outside the layer), first- and second-derivative weights.
#[derive(Debug, Clone)]
pub struct Cpml<T> {
    ax: Vec<T>,
    bx: Vec<T>,
    az: Vec<T>,
    bz: Vec<T>,
    /// `[0, w1, .., wh] / dx`
    w1x: Vec<T>,
    w1z: Vec<T>,
    /// `[w0, w1, .., wh] / dx²`
    w2x: Vec<T>,
    w2z: Vec<T>,
    /// Width of a memory-variable strip: `width + 3·halo`.
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
    low_side: bool,
}

impl Axis {
    /// Normalised depth into the layer (0 at the inner edge, 1 at the outer)
    /// of padded index `p`, or `None` outside the layer.
    fn depth(&self, p: usize) -> Option<f64> {
        let w = self.width as f64;
        let lo_first = self.halo;
        let hi_last = self.padded - self.halo; // exclusive
        if self.low_side && p >= lo_first && p < lo_first + self.width {
            Some((lo_first + self.width - p) as f64 / w)
        } else if p + self.width >= hi_last && p < hi_last {
            Some((p + self.width + 1 - hi_last) as f64 / w)
        } else {
            None
        }
    }
}

impl<T: Real> Cpml<T> {
    /// CPML for `layout` with spacings `(dz, dx)`, time step `dt`, largest
    /// velocity `v_max` and dominant frequency `frequency` (Hz).
    pub fn new(layout: &Layout, dz: f64, dx: f64, dt: f64, v_max: f64, frequency: f64, w1: &[f64], w2: &[f64]) -> Self {
        let profile = |axis: &Axis| {
            let length = axis.width as f64 * axis.spacing;
            let d0 = -((CPML_POWER + 1) as f64) * v_max * CPML_REFLECTION.ln() / (2.0 * length);
            let alpha_max = std::f64::consts::PI * frequency;
            let mut a = vec![T::zero(); axis.padded];
            let mut b = vec![T::zero(); axis.padded];
            for p in 0..axis.padded {
                if let Some(x) = axis.depth(p) {
                    let d = d0 * x.powi(CPML_POWER);
                    let alpha = alpha_max * (1.0 - x);
                    let bb = (-(d + alpha) * dt).exp();
                    let aa = if d + alpha > 0.0 { d * (bb - 1.0) / (d + alpha) } else { 0.0 };
                    a[p] = T::of(aa);
                    b[p] = T::of(bb);
                }
            }
            (a, b)
        };
        let h = layout.halo;
        let (ax, bx) = profile(&Axis { padded: layout.nxp, halo: h, width: layout.width, spacing: dx, low_side: true });
        let (az, bz) = if layout.has_z {
            profile(&Axis { padded: layout.nzp, halo: h, width: layout.width, spacing: dz, low_side: !layout.free_surface })
        } else {
            (vec![T::zero(); 1], vec![T::zero(); 1])
        };
        let strip = layout.width + 3 * h;
        let mut z_strip_rows = Vec::new();
        if layout.has_z {
            if !layout.free_surface {
                z_strip_rows.push(0);
            }
            z_strip_rows.push(layout.nzp - strip);
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
            z_strip_rows,
        }
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

    /// Local indices (within a strip) where the correction is computed.
    fn compute_range(&self, halo: usize) -> std::ops::Range<usize> {
        halo..self.strip - halo
    }

    /// Update `ψ ← bψ + a ∂u` in every strip.
    pub fn update_psi(&self, layout: &Layout, u: &[T], psi_x: &mut [T], psi_z: &mut [T], parallelism: Parallelism) {
        let (h, nxp, strip) = (layout.halo, layout.nxp, self.strip);
        let rows = layout.computed_rows();
        let cols = self.x_strip_cols(layout);
        let range = self.compute_range(h);
        let x_row = |i: usize, psi_row: &mut [T]| {
            if !rows.contains(&i) {
                return;
            }
            let urow = &u[i * nxp..(i + 1) * nxp];
            for (s, &start) in cols.iter().enumerate() {
                for l in range.clone() {
                    let j = start + l;
                    let a = self.ax[j];
                    if a != T::zero() {
                        let du = (1..=h).map(|k| self.w1x[k] * (urow[j + k] - urow[j - k])).sum::<T>();
                        let p = &mut psi_row[s * strip + l];
                        *p = self.bx[j] * *p + a * du;
                    }
                }
            }
        };
        for_each_row(psi_x, 2 * strip, parallelism, x_row);
        for (s, &first) in self.z_strip_rows.iter().enumerate() {
            let block = &mut psi_z[s * strip * nxp..(s + 1) * strip * nxp];
            let z_row = |r: usize, psi_row: &mut [T]| {
                let i = first + r;
                let a = self.az[i];
                if !range.contains(&r) || a == T::zero() {
                    return;
                }
                for j in h..nxp - h {
                    let du = (1..=h).map(|k| self.w1z[k] * (u[(i + k) * nxp + j] - u[(i - k) * nxp + j])).sum::<T>();
                    psi_row[j] = self.bz[i] * psi_row[j] + a * du;
                }
            };
            for_each_row(block, nxp, parallelism, z_row);
        }
    }

    /// Update `ζ ← bζ + a(∂²u + ∂ψ)` and add `c·(∂ψ + ζ)` to `u_next`.
    pub fn add_corrections(
        &self,
        layout: &Layout,
        u: &[T],
        psi_x: &[T],
        zeta_x: &mut [T],
        psi_z: &[T],
        zeta_z: &mut [T],
        c: &[T],
        u_next: &mut [T],
        parallelism: Parallelism,
    ) {
        let (h, nxp, strip) = (layout.halo, layout.nxp, self.strip);
        let rows = layout.computed_rows();
        let cols = self.x_strip_cols(layout);
        let range = self.compute_range(h);
        let x_rows = |i: usize, (out, zeta_row): (&mut [T], &mut [T])| {
            if !rows.contains(&i) {
                return;
            }
            let urow = &u[i * nxp..(i + 1) * nxp];
            let psi_row = &psi_x[i * 2 * strip..(i + 1) * 2 * strip];
            for (s, &start) in cols.iter().enumerate() {
                let psi = &psi_row[s * strip..(s + 1) * strip];
                for l in range.clone() {
                    let j = start + l;
                    let dpsi = (1..=h).map(|k| self.w1x[k] * (psi[l + k] - psi[l - k])).sum::<T>();
                    let d2u = self.w2x[0] * urow[j] + (1..=h).map(|k| self.w2x[k] * (urow[j + k] + urow[j - k])).sum::<T>();
                    let z = &mut zeta_row[s * strip + l];
                    *z = self.bx[j] * *z + self.ax[j] * (d2u + dpsi);
                    out[j] += c[i * nxp + j] * (dpsi + *z);
                }
            }
        };
        match parallelism {
            Parallelism::Serial => {
                for (i, pair) in u_next.chunks_exact_mut(nxp).zip(zeta_x.chunks_exact_mut(2 * strip)).enumerate() {
                    x_rows(i, pair);
                }
            }
            Parallelism::Rows => {
                u_next
                    .par_chunks_exact_mut(nxp)
                    .zip(zeta_x.par_chunks_exact_mut(2 * strip))
                    .enumerate()
                    .for_each(|(i, pair)| x_rows(i, pair));
            }
        }
        for (s, &first) in self.z_strip_rows.iter().enumerate() {
            let psi = &psi_z[s * strip * nxp..(s + 1) * strip * nxp];
            let zeta_block = &mut zeta_z[s * strip * nxp..(s + 1) * strip * nxp];
            let out_block = &mut u_next[first * nxp..(first + strip) * nxp];
            let z_row = |r: usize, (out, zeta_row): (&mut [T], &mut [T])| {
                if !range.contains(&r) {
                    return;
                }
                let i = first + r;
                for j in h..nxp - h {
                    let dpsi = (1..=h).map(|k| self.w1z[k] * (psi[(r + k) * nxp + j] - psi[(r - k) * nxp + j])).sum::<T>();
                    let d2u = self.w2z[0] * u[i * nxp + j]
                        + (1..=h).map(|k| self.w2z[k] * (u[(i + k) * nxp + j] + u[(i - k) * nxp + j])).sum::<T>();
                    let z = &mut zeta_row[j];
                    *z = self.bz[i] * *z + self.az[i] * (d2u + dpsi);
                    out[j] += c[i * nxp + j] * (dpsi + *z);
                }
            };
            match parallelism {
                Parallelism::Serial => {
                    for (r, pair) in out_block.chunks_exact_mut(nxp).zip(zeta_block.chunks_exact_mut(nxp)).enumerate() {
                        z_row(r, pair);
                    }
                }
                Parallelism::Rows => out_block
                    .par_chunks_exact_mut(nxp)
                    .zip(zeta_block.par_chunks_exact_mut(nxp))
                    .enumerate()
                    .for_each(|(r, pair)| z_row(r, pair)),
            }
        }
    }
}

/// Run `f(row_index, row)` over the rows of `data` (rows of `len` values).
fn for_each_row<T: Real>(data: &mut [T], len: usize, parallelism: Parallelism, f: impl Fn(usize, &mut [T]) + Sync) {
    match parallelism {
        Parallelism::Serial => data.chunks_exact_mut(len).enumerate().for_each(|(i, r)| f(i, r)),
        Parallelism::Rows => data.par_chunks_exact_mut(len).enumerate().for_each(|(i, r)| f(i, r)),
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
        let profile = |axis: Axis| {
            (0..axis.padded)
                .map(|p| T::of(axis.depth(p).map_or(1.0, |x| (-(strength * x).powi(2)).exp())))
                .collect::<Vec<T>>()
        };
        let h = layout.halo;
        let gx = profile(Axis { padded: layout.nxp, halo: h, width: layout.width, spacing: 1.0, low_side: true });
        let gz = if layout.has_z {
            profile(Axis { padded: layout.nzp, halo: h, width: layout.width, spacing: 1.0, low_side: !layout.free_surface })
        } else {
            vec![T::one()]
        };
        Sponge { gx, gz }
    }

    /// Multiply `field` by the taper in the layer (its own adjoint: diagonal).
    pub fn apply(&self, layout: &Layout, field: &mut [T]) {
        let (h, w, nxp) = (layout.halo, layout.width, layout.nxp);
        for i in layout.computed_rows() {
            let row = &mut field[i * nxp..(i + 1) * nxp];
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
}

/// Free surface by the image method: zero pressure on the surface row and
/// its odd mirror image in the halo above.
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
