//! The acoustic step run backwards in time, for boundary saving: keep only
//! the final state and, per step, the part of the state the interior cannot
//! rebuild, then recover `S_n` from `S_{n+1}` during the adjoint sweep.
//!
//! The interior leapfrog `w = 2u − p + c L u + c δ_h s_n` is exactly
//! reversible: `p = 2u − w + c L u + c δ_h s_n` is the same update (the
//! interior kernel applied with the roles of `w` and `p` exchanged) plus the
//! known source term. It holds on the *core*: the model cells at least `halo`
//! cells from the absorbing layer (and below the surface row with a free
//! surface), where no CPML correction, sponge taper or mirror touches `w`.
//! Everything else is saved per step ([`ReversiblePropagator::save_boundary`]):
//!
//! * `u^{n−1}` on the computed cells outside the core (the absorbing layer
//!   plus the `halo` band inside it where the CPML correction reaches);
//! * with a sponge, also `u^n` there (the step tapers it in place, so
//!   `S_{n+1}` holds only the tapered copy);
//! * with a CPML, the memory variables `ψ_x, ζ_x, ψ_z, ζ_z` on the layer
//!   cells: their damping `b < 1` makes them irreversible in practice, and
//!   they are zero everywhere else in their strips;
//! * with a free surface, `u^{n−1}` on the mirror rows above the surface
//!   (the mirror is taken before the sponge taper, so with a sponge it is
//!   not a function of the saved field; saving it is exact in every case).
//!
//! Other halo cells need nothing: the step leaves them as they were (`w = p`
//! there).
//!
//! Rounding: the reversed interior step differs from the forward one by
//! rounding only, and the leapfrog is neutrally stable in both directions,
//! so errors grow slowly (measured in `crates/adjoint/tests/boundary_saving.rs`).

use super::kernel::interior_rows;
use super::{AcousticShot, AcousticState, ROW_BLOCK};
use crate::propagator::AdjointPropagator;
use crate::real::Real;
use rayon::prelude::*;
use std::ops::Range;

/// A propagator whose steps can be undone given a small per-step record:
/// `S_n` is rebuilt from `S_{n+1}` and what
/// [`save_boundary`](Self::save_boundary) kept of `S_n`. Used by the
/// boundary-saving gradient (`pdeinv_adjoint::gradient_boundary_saving`).
pub trait ReversiblePropagator: AdjointPropagator {
    /// Values saved per step (the same for every step).
    fn boundary_len(&self) -> usize;

    /// Bytes saved per step.
    fn boundary_bytes(&self) -> usize {
        self.boundary_len() * std::mem::size_of::<Self::Real>()
    }

    /// Save what step `n` cannot undo by itself from `state = S_n` into `out`
    /// ([`boundary_len`](Self::boundary_len) values).
    fn save_boundary(&self, n: usize, state: &Self::State, out: &mut [Self::Real]);

    /// Undo step `n`: `state` holds `S_{n+1}` on entry and `S_n` on return;
    /// `saved` is what [`save_boundary`](Self::save_boundary) saved of `S_n`.
    fn step_back(&self, n: usize, state: &mut Self::State, saved: &[Self::Real]);
}

/// A field of [`AcousticState`].
#[derive(Debug, Clone, Copy)]
enum Field {
    U,
    UPrev,
    PsiX,
    ZetaX,
    PsiZ,
    ZetaZ,
}

fn field<T>(s: &AcousticState<T>, f: Field) -> &[T] {
    match f {
        Field::U => &s.u,
        Field::UPrev => &s.u_prev,
        Field::PsiX => &s.psi_x,
        Field::ZetaX => &s.zeta_x,
        Field::PsiZ => &s.psi_z,
        Field::ZetaZ => &s.zeta_z,
    }
}

fn field_mut<T>(s: &mut AcousticState<T>, f: Field) -> &mut [T] {
    match f {
        Field::U => &mut s.u,
        Field::UPrev => &mut s.u_prev,
        Field::PsiX => &mut s.psi_x,
        Field::ZetaX => &mut s.zeta_x,
        Field::PsiZ => &mut s.psi_z,
        Field::ZetaZ => &mut s.zeta_z,
    }
}

impl<T: Real> AcousticShot<'_, T> {
    /// Padded rows and columns of the core, where the reversed interior step
    /// is exact: model cells at least `halo` cells from any absorbing layer,
    /// below the surface row with a free surface.
    fn core(&self) -> (Range<usize>, Range<usize>) {
        let layout = &self.model.layout;
        let h = layout.halo;
        let cols = layout.px + h..layout.px + layout.nx - h;
        let rows = if !layout.has_z {
            0..1
        } else if layout.free_surface {
            layout.pz + 1..layout.pz + layout.nz - h
        } else {
            layout.pz + h..layout.pz + layout.nz - h
        };
        (rows, cols)
    }

    /// Call `f` on every saved range of the state, always in the same order.
    fn for_each_saved_range(&self, mut f: impl FnMut(Field, Range<usize>)) {
        let m = self.model;
        let layout = &m.layout;
        let (nxp, h, width) = (layout.nxp, layout.halo, layout.width);
        let (core_rows, core_cols) = self.core();
        // the computed cells outside the core; with `mirror`, first the rows above a free surface
        let mut ring = |field: Field, mirror: bool| {
            if mirror && layout.free_surface {
                f(field, 0..layout.pz * nxp);
            }
            for i in layout.computed_rows() {
                let base = i * nxp;
                if core_rows.contains(&i) {
                    f(field, base + h..base + core_cols.start);
                    f(field, base + core_cols.end..base + nxp - h);
                } else {
                    f(field, base + h..base + nxp - h);
                }
            }
        };
        // u^{n−1} with its mirror rows (taken before any sponge taper); with a
        // sponge also u^n (S_{n+1} holds it tapered; its mirror rows are not)
        ring(Field::UPrev, true);
        if m.sponge.is_some() {
            ring(Field::U, false);
        }
        if let Some(cpml) = &m.cpml {
            let s = cpml.strip();
            // layer columns of the left and right x strips, as offsets into a row's `2·strip` values
            let x_layers = [h..h + width, 2 * s - h - width..2 * s - h];
            for i in layout.computed_rows() {
                for field in [Field::PsiX, Field::ZetaX] {
                    for layer in &x_layers {
                        f(field, i * 2 * s + layer.start..i * 2 * s + layer.end);
                    }
                }
            }
            for (group, &first) in cpml.z_strip_rows().iter().enumerate() {
                // the top strip starts at padded row 0; its layer rows are h..h+width
                let layer = if first == 0 { h..h + width } else { s - h - width..s - h };
                for field in [Field::PsiZ, Field::ZetaZ] {
                    for r in layer.clone() {
                        let base = (group * s + r) * nxp;
                        f(field, base + h..base + nxp - h);
                    }
                }
            }
        }
    }
}

impl<T: Real> ReversiblePropagator for AcousticShot<'_, T> {
    fn boundary_len(&self) -> usize {
        let mut len = 0;
        self.for_each_saved_range(|_, range| len += range.len());
        len
    }

    fn save_boundary(&self, _n: usize, state: &AcousticState<T>, out: &mut [T]) {
        let mut offset = 0;
        self.for_each_saved_range(|f, range| {
            let len = range.len();
            out[offset..offset + len].copy_from_slice(&field(state, f)[range]);
            offset += len;
        });
        debug_assert_eq!(offset, out.len());
    }

    /// `p = 2u − w + c L u + c δ_h s_n` over the computed cells (one
    /// parallel sweep of the interior kernel), then the saved cells, mirror
    /// rows and memory variables are put back.
    fn step_back(&self, n: usize, state: &mut AcousticState<T>, saved: &[T]) {
        let m = self.model;
        let layout = &m.layout;
        let nxp = layout.nxp;
        // state.u holds w = u^{n+1}, state.u_prev holds u^n
        let (u, c) = (&state.u_prev, &m.c2dt2);
        let rows_per_task = 2 * m.min_rows_per_task().min(usize::MAX / 2);
        state.u.par_chunks_mut(ROW_BLOCK * nxp).with_min_len(rows_per_task / ROW_BLOCK).enumerate().for_each(
            |(b, out)| {
                let first = b * ROW_BLOCK;
                interior_rows(layout, &m.stencil, u, first, out, &c[first * nxp..first * nxp + out.len()], None);
            },
        );
        self.source.inject_scaled(&[self.wavelet[n]], &m.c2dt2, &mut state.u);
        std::mem::swap(&mut state.u, &mut state.u_prev);
        let mut offset = 0;
        self.for_each_saved_range(|f, range| {
            let len = range.len();
            field_mut(state, f)[range].copy_from_slice(&saved[offset..offset + len]);
            offset += len;
        });
        debug_assert_eq!(offset, saved.len());
    }
}
