//! Gradient-based posterior sampling with the Metropolis-adjusted Langevin
//! algorithm (MALA), for uncertainty estimates around an inversion result.
//!
//! # The algorithm
//!
//! The target is a density `π(θ)` known up to a constant through
//! [`LogDensity`], which returns `log π` and `∇ log π` (one call may cost a
//! forward and an adjoint PDE solve). With step size `ε` and a diagonal mass
//! matrix `M` (the preconditioner, identity by default) the proposal is
//!
//! ```text
//! θ' = θ + (ε²/2) M ∇log π(θ) + ε √M ξ,   ξ ~ N(0, I),
//! ```
//!
//! i.e. `q(θ' | θ) = N(θ + (ε²/2) M ∇log π(θ), ε² M)`, and `θ'` is accepted
//! with probability `min(1, π(θ') q(θ | θ') / (π(θ) q(θ' | θ)))`, computed in
//! log space. A proposal whose log-density or gradient is not finite (an
//! unstable forward solve, a point outside the support) is rejected. Each
//! iteration costs exactly one [`LogDensity::log_density`] call.
//!
//! # Step-size adaptation
//!
//! With [`MalaOptions::target_acceptance`] set (0.574 is optimal for MALA in
//! high dimension, Roberts & Rosenthal 1998), `log ε` follows a
//! Robbins–Monro recursion during burn-in only:
//! `log ε ← log ε + k^(−0.6) (α_k − target)`, where `α_k` is the acceptance
//! probability of the k-th proposal (k = 1, 2, …). At the end of burn-in the
//! step is frozen at `exp` of the mean of `log ε` over the second half of
//! burn-in (Polyak averaging, which removes most of the recursion's noise).
//! After burn-in nothing adapts, so the kept samples come from a
//! time-homogeneous Markov chain that leaves `π` invariant.
//!
//! # Why a hand-written generator
//!
//! [`Rng`] is xoshiro256** (Blackman & Vigna) seeded through SplitMix64, with
//! normals by Marsaglia's polar method. It is written here instead of taken
//! from `rand` because a chain is stored with its seed and must be
//! reproducible bitwise: the integer stream of these ~30 lines is fixed by
//! their definition (pinned against the reference outputs in the unit tests)
//! and is the same on every machine and for every compiler version, which a
//! dependency whose algorithms may change between releases does not promise;
//! and it costs no dependency. The polar method needs only `ln` and the
//! correctly rounded `sqrt` (no `sin`/`cos`), so normals and whole chains are
//! bitwise equal wherever the platform's `ln` (and the user's log-density)
//! give the same bits; on one machine a seed always gives the same chain.
//!
//! # Checking
//!
//! [`GaussianPosterior`] is a linear-Gaussian problem (`d = G θ + noise`,
//! Gaussian prior) with its closed-form posterior mean and covariance, for
//! tests and for checking a sampler set-up before spending PDE solves.

use std::convert::Infallible;
use thiserror::Error;

/// A log-density known up to an additive constant, with its gradient.
pub trait LogDensity {
    /// The error of a failed evaluation (I/O, a solver failure), returned by
    /// [`mala`] as [`SampleError::Density`]. A value that is merely not
    /// finite should be returned as `Ok`: the proposal is then rejected.
    type Error;

    /// `log π(θ)` (up to a constant) and `∇ log π(θ)` (one entry per
    /// parameter).
    fn log_density(&mut self, theta: &[f64]) -> Result<(f64, Vec<f64>), Self::Error>;
}

/// Why [`mala`] could not produce a chain.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SampleError<E> {
    /// The log-density failed.
    #[error("log-density evaluation failed: {0}")]
    Density(#[source] E),
    /// The log-density or its gradient is not finite at the starting point.
    #[error("the log-density or its gradient is not finite at the starting point")]
    NonFiniteStart,
    /// Inconsistent options, an empty starting point, or a log-density that
    /// returned a gradient of the wrong length.
    #[error("invalid sampler input: {0}")]
    Invalid(String),
}

/// Settings of [`mala`].
#[derive(Debug, Clone, PartialEq)]
pub struct MalaOptions {
    /// Samples kept after burn-in (at least 1).
    pub samples: usize,
    /// Iterations run and discarded before the kept samples; the step size
    /// adapts during them only.
    pub burn_in: usize,
    /// Initial step size `ε` (> 0); the final one when not adapting.
    pub step: f64,
    /// Acceptance rate the step size is adapted toward during burn-in, in
    /// `(0, 1)`; `None` keeps `step` fixed. 0.574 is the usual choice.
    pub target_acceptance: Option<f64>,
    /// Diagonal mass matrix `M` (one positive entry per parameter): the
    /// proposal covariance is `ε² M`. A good choice is the (approximate)
    /// posterior variance of each parameter. `None` is the identity.
    pub preconditioner: Option<Vec<f64>>,
    /// Seed of the random stream; the same seed gives the same chain.
    pub seed: u64,
}

impl Default for MalaOptions {
    /// 1000 samples after 1000 burn-in iterations, `ε = 0.1` adapted toward
    /// 0.574, no preconditioner, seed 0.
    fn default() -> Self {
        Self { samples: 1000, burn_in: 1000, step: 0.1, target_acceptance: Some(0.574), preconditioner: None, seed: 0 }
    }
}

impl MalaOptions {
    /// Check the options for a problem with `dimension` parameters.
    pub fn validate(&self, dimension: usize) -> Result<(), String> {
        if dimension == 0 {
            return Err("the starting point has no parameters".into());
        }
        if self.samples == 0 {
            return Err("samples must be at least 1".into());
        }
        if !(self.step.is_finite() && self.step > 0.0) {
            return Err(format!("step must be positive and finite, got {}", self.step));
        }
        if let Some(t) = self.target_acceptance
            && !(t > 0.0 && t < 1.0)
        {
            return Err(format!("target_acceptance must lie in (0, 1), got {t}"));
        }
        if let Some(m) = &self.preconditioner {
            if m.len() != dimension {
                return Err(format!("preconditioner has {} entries for {dimension} parameters", m.len()));
            }
            if let Some((i, v)) = m.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v > 0.0)) {
                return Err(format!("preconditioner entry {i} must be positive and finite, got {v}"));
            }
        }
        Ok(())
    }
}

/// The result of [`mala`].
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// The kept states, one per iteration after burn-in (a rejected proposal
    /// repeats the current state).
    pub samples: Vec<Vec<f64>>,
    /// `log π` of each kept state.
    pub log_densities: Vec<f64>,
    /// Proposals accepted after burn-in.
    pub accepted: usize,
    /// Proposals made after burn-in (equal to the number of samples).
    pub proposed: usize,
    /// `accepted / proposed`.
    pub acceptance_rate: f64,
    /// The step size `ε` used after burn-in.
    pub step: f64,
    /// Sample mean of each parameter.
    pub mean: Vec<f64>,
    /// Sample standard deviation of each parameter (denominator `n − 1`;
    /// zero for a single sample).
    pub std: Vec<f64>,
}

/// One evaluation of the density, checked.
fn evaluate<D: LogDensity>(density: &mut D, theta: &[f64]) -> Result<(f64, Vec<f64>), SampleError<D::Error>> {
    let (value, gradient) = density.log_density(theta).map_err(SampleError::Density)?;
    if gradient.len() != theta.len() {
        return Err(SampleError::Invalid(format!(
            "the log-density returned a gradient of {} entries for {} parameters",
            gradient.len(),
            theta.len()
        )));
    }
    Ok((value, gradient))
}

/// `log q(to | from)` up to a constant that cancels in the acceptance ratio:
/// `−Σ (to − from − (ε²/2) M g)² / (2 ε² M)`.
fn log_proposal(to: &[f64], from: &[f64], gradient_from: &[f64], mass: &[f64], step: f64) -> f64 {
    let half = 0.5 * step * step;
    let mut sum = 0.0;
    for i in 0..to.len() {
        let r = to[i] - from[i] - half * mass[i] * gradient_from[i];
        sum += r * r / mass[i];
    }
    -sum / (4.0 * half)
}

/// Sample `density` with MALA from `theta0`: `options.burn_in` iterations
/// (adapting the step when [`MalaOptions::target_acceptance`] is set), then
/// `options.samples` kept iterations with the step frozen. `on_sample(i, θ)`
/// is called after each kept iteration `i` (`0..samples`) with its state.
/// Costs `1 + burn_in + samples` evaluations of the density; deterministic
/// for a given seed.
pub fn mala<D: LogDensity>(
    density: &mut D,
    theta0: Vec<f64>,
    options: &MalaOptions,
    mut on_sample: impl FnMut(usize, &[f64]),
) -> Result<Chain, SampleError<D::Error>> {
    let n = theta0.len();
    options.validate(n).map_err(SampleError::Invalid)?;
    let mass = options.preconditioner.clone().unwrap_or_else(|| vec![1.0; n]);
    let root_mass: Vec<f64> = mass.iter().map(|m| m.sqrt()).collect();
    let mut rng = Rng::new(options.seed);

    let mut theta = theta0;
    let (mut lp, mut grad) = evaluate(density, &theta)?;
    if !lp.is_finite() || grad.iter().any(|g| !g.is_finite()) {
        return Err(SampleError::NonFiniteStart);
    }

    let mut log_step = options.step.ln();
    let mut step = options.step;
    let average_from = options.burn_in / 2;
    let mut log_step_sum = 0.0;
    let mut log_step_count = 0usize;

    let mut proposal = vec![0.0; n];
    let mut samples = Vec::with_capacity(options.samples);
    let mut log_densities = Vec::with_capacity(options.samples);
    let mut accepted = 0;

    for k in 0..options.burn_in + options.samples {
        let burning = k < options.burn_in;
        let half = 0.5 * step * step;
        for i in 0..n {
            proposal[i] = theta[i] + half * mass[i] * grad[i] + step * root_mass[i] * rng.normal();
        }
        let u = rng.uniform_open0();
        let (lp_new, grad_new) = evaluate(density, &proposal)?;
        let log_alpha = if lp_new.is_finite() && grad_new.iter().all(|g| g.is_finite()) {
            lp_new - lp + log_proposal(&theta, &proposal, &grad_new, &mass, step)
                - log_proposal(&proposal, &theta, &grad, &mass, step)
        } else {
            f64::NEG_INFINITY
        };
        // u ≤ α in log space; NaN compares false: rejected.
        let accept = u.ln() <= log_alpha;
        if accept {
            theta.copy_from_slice(&proposal);
            lp = lp_new;
            grad = grad_new;
        }

        if burning {
            if let Some(target) = options.target_acceptance {
                let alpha = if log_alpha.is_nan() { 0.0 } else { log_alpha.min(0.0).exp() };
                let gain = ((k + 1) as f64).powf(-0.6);
                log_step += gain * (alpha - target);
                if k >= average_from {
                    log_step_sum += log_step;
                    log_step_count += 1;
                }
                step = if k + 1 == options.burn_in {
                    (log_step_sum / log_step_count as f64).exp()
                } else {
                    log_step.exp()
                };
            }
        } else {
            if accept {
                accepted += 1;
            }
            on_sample(samples.len(), &theta);
            samples.push(theta.clone());
            log_densities.push(lp);
        }
    }

    let (mean, std) = mean_std(&samples, n);
    let proposed = samples.len();
    Ok(Chain {
        samples,
        log_densities,
        accepted,
        proposed,
        acceptance_rate: accepted as f64 / proposed as f64,
        step,
        mean,
        std,
    })
}

/// Two-pass sample mean and standard deviation (`n − 1`) per parameter.
fn mean_std(samples: &[Vec<f64>], n: usize) -> (Vec<f64>, Vec<f64>) {
    let count = samples.len() as f64;
    let mut mean = vec![0.0; n];
    for s in samples {
        for i in 0..n {
            mean[i] += s[i];
        }
    }
    mean.iter_mut().for_each(|m| *m /= count);
    let mut var = vec![0.0; n];
    for s in samples {
        for i in 0..n {
            let d = s[i] - mean[i];
            var[i] += d * d;
        }
    }
    let std = var.iter().map(|v| if samples.len() > 1 { (v / (count - 1.0)).sqrt() } else { 0.0 }).collect();
    (mean, std)
}

/// SplitMix64 (Steele, Lea & Flood): one step of the seeding generator.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A small deterministic random generator: xoshiro256** seeded by
/// SplitMix64, with uniform and standard normal draws (see the module
/// documentation for why it is written here).
#[derive(Debug, Clone, PartialEq)]
pub struct Rng {
    state: [u64; 4],
    spare: Option<f64>,
}

impl Rng {
    /// A generator whose state is four SplitMix64 outputs from `seed` (never
    /// all zero).
    pub fn new(seed: u64) -> Self {
        let mut s = seed;
        Self::from_state([splitmix64(&mut s), splitmix64(&mut s), splitmix64(&mut s), splitmix64(&mut s)])
    }

    /// A generator with the given raw xoshiro256** state.
    fn from_state(state: [u64; 4]) -> Self {
        Self { state, spare: None }
    }

    /// The next 64 random bits (xoshiro256**).
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform draw from `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform draw from `(0, 1]` (so its logarithm is finite).
    fn uniform_open0(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal draw (Marsaglia's polar method; the second normal
    /// of each pair is kept for the next call).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s < 1.0 && s > 0.0 {
                let f = (-2.0 * s.ln() / s).sqrt();
                self.spare = Some(v * f);
                return u * f;
            }
        }
    }
}

/// Inconsistent input to [`GaussianPosterior::new`].
#[derive(Debug, Error, Clone, PartialEq)]
#[error("invalid linear-Gaussian problem: {0}")]
pub struct GaussianError(pub String);

/// The posterior of a linear model `d = G θ + e` with independent noise
/// `e ~ N(0, σ² I)` and the prior `θ ~ N(μ₀, diag(τ²))`:
/// `log π(θ) = −‖G θ − d‖² / (2σ²) − Σ (θ − μ₀)² / (2τ²)` (up to a constant),
/// with its closed-form mean and covariance. The posterior precision is
/// `A = Gᵀ G / σ² + diag(1/τ²)`, the covariance `A⁻¹` and the mean
/// `A⁻¹ (Gᵀ d / σ² + μ₀ / τ²)`, computed with a dense Cholesky factorisation
/// (meant for a few tens of parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianPosterior {
    g: Vec<f64>,
    rows: usize,
    data: Vec<f64>,
    noise_std: f64,
    prior_mean: Vec<f64>,
    prior_std: Vec<f64>,
    mean: Vec<f64>,
    covariance: Vec<f64>,
}

impl GaussianPosterior {
    /// The posterior for the forward matrix `g` (row-major, `data.len()`
    /// rows by `prior_mean.len()` columns), the observed `data`, the noise
    /// standard deviation `noise_std` (σ) and the prior mean μ₀ and standard
    /// deviations τ (one per parameter, all positive).
    pub fn new(
        g: Vec<f64>,
        data: Vec<f64>,
        noise_std: f64,
        prior_mean: Vec<f64>,
        prior_std: Vec<f64>,
    ) -> Result<Self, GaussianError> {
        let (rows, n) = (data.len(), prior_mean.len());
        let fail = |m: String| Err(GaussianError(m));
        if n == 0 {
            return fail("no parameters".into());
        }
        if g.len() != rows * n {
            return fail(format!("G has {} entries, expected {rows} × {n}", g.len()));
        }
        if prior_std.len() != n {
            return fail(format!("{} prior standard deviations for {n} parameters", prior_std.len()));
        }
        if !(noise_std.is_finite() && noise_std > 0.0) {
            return fail(format!("the noise standard deviation must be positive, got {noise_std}"));
        }
        if prior_std.iter().any(|t| !(t.is_finite() && *t > 0.0)) {
            return fail("the prior standard deviations must be positive and finite".into());
        }
        if g.iter().chain(&data).chain(&prior_mean).any(|v| !v.is_finite()) {
            return fail("G, the data and the prior mean must be finite".into());
        }
        let s2 = noise_std * noise_std;
        // Precision A and right-hand side b.
        let mut a = vec![0.0; n * n];
        let mut b = vec![0.0; n];
        for i in 0..n {
            let t2 = prior_std[i] * prior_std[i];
            a[i * n + i] = 1.0 / t2;
            b[i] = prior_mean[i] / t2;
        }
        for r in 0..rows {
            let row = &g[r * n..(r + 1) * n];
            for i in 0..n {
                b[i] += row[i] * data[r] / s2;
                for j in 0..n {
                    a[i * n + j] += row[i] * row[j] / s2;
                }
            }
        }
        cholesky(&mut a, n).ok_or_else(|| GaussianError("the posterior precision is not positive definite".into()))?;
        let mean = cholesky_solve(&a, n, b);
        let mut covariance = vec![0.0; n * n];
        for j in 0..n {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            let column = cholesky_solve(&a, n, e);
            for i in 0..n {
                covariance[i * n + j] = column[i];
            }
        }
        // Exact symmetry despite rounding.
        for i in 0..n {
            for j in 0..i {
                let v = 0.5 * (covariance[i * n + j] + covariance[j * n + i]);
                covariance[i * n + j] = v;
                covariance[j * n + i] = v;
            }
        }
        Ok(Self { g, rows, data, noise_std, prior_mean, prior_std, mean, covariance })
    }

    /// Number of parameters.
    pub fn dimension(&self) -> usize {
        self.prior_mean.len()
    }

    /// The posterior mean.
    pub fn posterior_mean(&self) -> &[f64] {
        &self.mean
    }

    /// The posterior covariance, row-major `n × n`.
    pub fn posterior_covariance(&self) -> &[f64] {
        &self.covariance
    }

    /// The posterior standard deviation of each parameter.
    pub fn posterior_std(&self) -> Vec<f64> {
        let n = self.dimension();
        (0..n).map(|i| self.covariance[i * n + i].sqrt()).collect()
    }
}

impl LogDensity for GaussianPosterior {
    type Error = Infallible;

    /// The log-posterior and its gradient `−Gᵀ(G θ − d)/σ² − (θ − μ₀)/τ²`.
    /// Panics when `theta` does not have [`Self::dimension`] entries.
    fn log_density(&mut self, theta: &[f64]) -> Result<(f64, Vec<f64>), Infallible> {
        let n = self.dimension();
        assert_eq!(theta.len(), n, "GaussianPosterior: θ has the wrong length");
        let s2 = self.noise_std * self.noise_std;
        let mut value = 0.0;
        let mut gradient = vec![0.0; n];
        for i in 0..n {
            let t2 = self.prior_std[i] * self.prior_std[i];
            let d = theta[i] - self.prior_mean[i];
            value -= 0.5 * d * d / t2;
            gradient[i] = -d / t2;
        }
        for r in 0..self.rows {
            let row = &self.g[r * n..(r + 1) * n];
            let residual = row.iter().zip(theta).map(|(g, t)| g * t).sum::<f64>() - self.data[r];
            value -= 0.5 * residual * residual / s2;
            for i in 0..n {
                gradient[i] -= row[i] * residual / s2;
            }
        }
        Ok((value, gradient))
    }
}

/// In-place Cholesky factorisation `A = L Lᵀ` of a row-major SPD matrix; the
/// lower triangle becomes `L`. `None` when a pivot is not positive.
fn cholesky(a: &mut [f64], n: usize) -> Option<()> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        // Also rejects NaN.
        if d.is_nan() || d <= 0.0 {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = v / d;
        }
    }
    Some(())
}

/// Solve `L Lᵀ x = b` with the factor from [`cholesky`].
fn cholesky_solve(l: &[f64], n: usize, mut b: Vec<f64>) -> Vec<f64> {
    for i in 0..n {
        for k in 0..i {
            b[i] -= l[i * n + k] * b[k];
        }
        b[i] /= l[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            b[i] -= l[k * n + i] * b[k];
        }
        b[i] /= l[i * n + i];
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_reference_outputs() {
        // The reference sequence for seed 1234567 (Vigna's splitmix64.c).
        let mut s = 1234567u64;
        let got: Vec<u64> = (0..5).map(|_| splitmix64(&mut s)).collect();
        assert_eq!(
            got,
            [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821]
        );
    }

    #[test]
    fn xoshiro256starstar_matches_reference_outputs() {
        // Reference outputs of xoshiro256** from the state [1, 2, 3, 4].
        let mut rng = Rng::from_state([1, 2, 3, 4]);
        let got: Vec<u64> = (0..6).map(|_| rng.next_u64()).collect();
        assert_eq!(got, [11520, 0, 1509978240, 1215971899390074240, 1216172134540287360, 607988272756665600]);
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        let a0 = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let mut l = a0.to_vec();
        cholesky(&mut l, 3).unwrap();
        let x = cholesky_solve(&l, 3, vec![1.0, -2.0, 0.5]);
        for i in 0..3 {
            let ax: f64 = (0..3).map(|j| a0[i * 3 + j] * x[j]).sum();
            assert!((ax - [1.0, -2.0, 0.5][i]).abs() < 1e-14);
        }
        assert!(cholesky(&mut [1.0, 2.0, 2.0, 1.0], 2).is_none());
    }
}
