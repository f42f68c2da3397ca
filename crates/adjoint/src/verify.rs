//! Proofs that an adjoint is exact: the dot-product test of the linearised
//! forward map against its adjoint, and the Taylor test of the gradient.

use crate::driver::{Residuals, gradient};
use crate::schedule::Schedule;
use pdeinv_forward::{AdjointPropagator, Real};

/// `<J dm, dd>` against `<dm, Jᵀ dd>`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DotProduct {
    /// `<J dm, dd>` (linearised forward map).
    pub forward: f64,
    /// `<dm, Jᵀ dd>` (adjoint).
    pub adjoint: f64,
}

impl DotProduct {
    /// `|forward − adjoint| / max(|forward|, |adjoint|)`.
    pub fn relative_error(&self) -> f64 {
        (self.forward - self.adjoint).abs() / self.forward.abs().max(self.adjoint.abs())
    }
}

/// Observations of the tangent-linear model for the model perturbation
/// `dm`: `J dm`, `[nt, channels]`.
pub fn linearized_data<P: AdjointPropagator>(p: &P, dm: &[f64]) -> Vec<P::Real> {
    let (nt, channels) = (p.nt(), p.channels());
    let mut data = vec![P::Real::of(0.0); nt * channels];
    let mut state = p.initial_state();
    let mut tangent = p.initial_state();
    for n in 0..nt {
        p.observe(n, &tangent, &mut data[n * channels..(n + 1) * channels]);
        if n + 1 < nt {
            p.step_linearized(n, &state, &mut tangent, dm);
            p.step(n, &mut state);
        }
    }
    data
}

/// The dot-product test for model perturbation `dm` and data perturbation
/// `dd` (`[nt, channels]`).
pub fn dot_product_test<P: AdjointPropagator>(p: &P, dm: &[f64], dd: &[P::Real]) -> DotProduct {
    let jdm = linearized_data(p, dm);
    let forward = jdm.iter().zip(dd).map(|(a, b)| a.as_f64() * b.as_f64()).sum();
    let run =
        gradient(p, Residuals::Given(dd), &Schedule::store_all(p.nt() - 1)).expect("store-all fits any propagator");
    let adjoint = run.gradient.iter().zip(dm).map(|(g, d)| g * d).sum();
    DotProduct { forward, adjoint }
}

/// One row of a Taylor test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaylorRow {
    /// Step length.
    pub h: f64,
    /// `|J(m + h dm) − J(m)|`: falls like `h`.
    pub first_order: f64,
    /// `|J(m + h dm) − J(m) − h <g, dm>|`: falls like `h²`.
    pub second_order: f64,
}

/// Taylor test of a gradient `g` at `m` in direction `dm`, for step lengths
/// `h0, h0/2, …` (`rows` of them); `misfit(m)` evaluates `J`.
pub fn taylor_test(
    misfit: impl Fn(&[f64]) -> f64,
    m: &[f64],
    g: &[f64],
    dm: &[f64],
    h0: f64,
    rows: usize,
) -> Vec<TaylorRow> {
    let j0 = misfit(m);
    let slope: f64 = g.iter().zip(dm).map(|(a, b)| a * b).sum();
    (0..rows)
        .map(|i| {
            let h = h0 / f64::powi(2.0, i as i32);
            let moved: Vec<f64> = m.iter().zip(dm).map(|(a, b)| a + h * b).collect();
            let j = misfit(&moved);
            TaylorRow { h, first_order: (j - j0).abs(), second_order: (j - j0 - h * slope).abs() }
        })
        .collect()
}

/// Observed convergence orders between consecutive rows:
/// `(log2 first-order ratio, log2 second-order ratio)`.
pub fn taylor_slopes(rows: &[TaylorRow]) -> Vec<(f64, f64)> {
    rows.windows(2)
        .map(|w| ((w[0].first_order / w[1].first_order).log2(), (w[0].second_order / w[1].second_order).log2()))
        .collect()
}

/// Deterministic pseudo-random numbers in [-1, 1) (xorshift64), for test
/// directions that are the same on every run and every machine.
pub fn pseudo_random(seed: u64, n: usize) -> Vec<f64> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}
