//! MALA against closed forms: a linear-Gaussian posterior (3 parameters, 20
//! observations; sample mean and standard deviation of every parameter
//! within 5 % of the Cholesky solution, with and without a preconditioner),
//! a 1D standard normal, a half-normal whose outside returns `−∞` (rejected
//! proposals); the step-size adaptation from steps far too small and far too
//! large (acceptance after burn-in in 0.4–0.75); bitwise determinism per
//! seed; the generator's normals; and the errors.
//!
//! The accuracy criterion for parameter `i` with closed-form posterior mean
//! `m` and standard deviation `s`:
//! `|mean_sample − m| ≤ 0.05 · max(|m|, s)` and `|std_sample − s| ≤ 0.05 · s`.

use pdeinv_inversion::sampler::{Chain, GaussianPosterior, LogDensity, MalaOptions, Rng, SampleError, mala};
use std::convert::Infallible;

/// 3 parameters, 20 observations: `G` and the noise drawn from [`Rng`] (seed
/// 7), `θ_true = (1, −0.5, 2)`, σ = 0.5, prior `N(0, 2²)` per parameter.
fn linear_problem() -> GaussianPosterior {
    let (rows, n) = (20, 3);
    let mut rng = Rng::new(7);
    let g: Vec<f64> = (0..rows * n).map(|_| rng.normal()).collect();
    let truth = [1.0, -0.5, 2.0];
    let sigma = 0.5;
    let data: Vec<f64> =
        (0..rows).map(|r| (0..n).map(|i| g[r * n + i] * truth[i]).sum::<f64>() + sigma * rng.normal()).collect();
    GaussianPosterior::new(g, data, sigma, vec![0.0; n], vec![2.0; n]).unwrap()
}

fn options(samples: usize, burn_in: usize, step: f64, seed: u64) -> MalaOptions {
    MalaOptions { samples, burn_in, step, target_acceptance: Some(0.574), preconditioner: None, seed }
}

/// The 5 % criterion of the module documentation, parameter by parameter.
fn assert_close(chain: &Chain, mean: &[f64], std: &[f64], label: &str) {
    for i in 0..mean.len() {
        let (ms, ss) = (chain.mean[i], chain.std[i]);
        println!(
            "{label} θ{i}: mean {ms:.5} vs {:.5}, std {ss:.5} vs {:.5} (acceptance {:.3}, ε {:.4})",
            mean[i], std[i], chain.acceptance_rate, chain.step
        );
        assert!(
            (ms - mean[i]).abs() <= 0.05 * mean[i].abs().max(std[i]),
            "{label} θ{i}: sample mean {ms} vs posterior mean {} (std {})",
            mean[i],
            std[i]
        );
        assert!((ss - std[i]).abs() <= 0.05 * std[i], "{label} θ{i}: sample std {ss} vs posterior std {}", std[i]);
    }
}

fn bits(chain: &Chain) -> Vec<u64> {
    chain.samples.iter().flatten().chain(&chain.log_densities).map(|v| v.to_bits()).collect()
}

#[test]
fn linear_gaussian_posterior_matches_closed_form() {
    let mut problem = linear_problem();
    let (mean, std) = (problem.posterior_mean().to_vec(), problem.posterior_std());
    let start = std::time::Instant::now();
    let chain = mala(&mut problem, vec![0.0; 3], &options(20_000, 2_000, 0.05, 11), |_, _| {}).unwrap();
    println!("identity mass: {:?} for 22 000 iterations", start.elapsed());
    assert_close(&chain, &mean, &std, "identity mass");
    assert!((0.4..=0.75).contains(&chain.acceptance_rate), "acceptance {}", chain.acceptance_rate);
    assert_eq!((chain.samples.len(), chain.log_densities.len(), chain.proposed), (20_000, 20_000, 20_000));
}

#[test]
fn preconditioned_linear_gaussian_posterior_matches_closed_form() {
    let mut problem = linear_problem();
    let (mean, std) = (problem.posterior_mean().to_vec(), problem.posterior_std());
    let variance: Vec<f64> = std.iter().map(|s| s * s).collect();
    let opts = MalaOptions { preconditioner: Some(variance), ..options(20_000, 2_000, 1.0, 12) };
    let chain = mala(&mut problem, vec![0.0; 3], &opts, |_, _| {}).unwrap();
    assert_close(&chain, &mean, &std, "posterior-variance mass");
    assert!((0.4..=0.75).contains(&chain.acceptance_rate), "acceptance {}", chain.acceptance_rate);
}

#[test]
fn adaptation_reaches_the_target_from_bad_steps_and_freezes() {
    // Different seeds: with one seed the chains couple (common random
    // numbers) and end with the same step to 1e-9.
    for (seed, step) in [(3, 1e-4), (4, 0.05), (5, 10.0)] {
        let chain = mala(&mut linear_problem(), vec![0.0; 3], &options(4_000, 2_000, step, seed), |_, _| {}).unwrap();
        println!("initial ε {step}: final ε {:.4}, acceptance {:.3}", chain.step, chain.acceptance_rate);
        assert!((0.4..=0.75).contains(&chain.acceptance_rate), "ε0 {step}: acceptance {}", chain.acceptance_rate);
    }
    // Without a target the step is never changed.
    let fixed = MalaOptions { target_acceptance: None, ..options(100, 100, 0.01, 3) };
    let chain = mala(&mut linear_problem(), vec![0.0; 3], &fixed, |_, _| {}).unwrap();
    assert_eq!(chain.step, 0.01);
}

#[test]
fn same_seed_same_chain_bitwise_and_different_seeds_differ() {
    let run = |seed| mala(&mut linear_problem(), vec![0.0; 3], &options(2_000, 500, 0.05, seed), |_, _| {}).unwrap();
    let (a, b, c) = (run(5), run(5), run(6));
    assert_eq!(bits(&a), bits(&b));
    assert_eq!((a.step.to_bits(), a.accepted), (b.step.to_bits(), b.accepted));
    assert_ne!(bits(&a), bits(&c));
}

/// `log π = −θ²/2`.
struct StandardNormal;

impl LogDensity for StandardNormal {
    type Error = Infallible;
    fn log_density(&mut self, theta: &[f64]) -> Result<(f64, Vec<f64>), Infallible> {
        Ok((-0.5 * theta[0] * theta[0], vec![-theta[0]]))
    }
}

#[test]
fn standard_normal_in_one_dimension() {
    let mut seen = 0;
    let chain = mala(&mut StandardNormal, vec![3.0], &options(20_000, 1_000, 1.0, 21), |i, theta| {
        assert_eq!(i, seen);
        assert_eq!(theta.len(), 1);
        seen += 1;
    })
    .unwrap();
    assert_eq!(seen, 20_000);
    assert_close(&chain, &[0.0], &[1.0], "N(0, 1)");
    assert!((0.4..=0.75).contains(&chain.acceptance_rate), "acceptance {}", chain.acceptance_rate);
}

/// The standard normal restricted to `θ > 0`: `−∞` outside, where the
/// gradient is NaN too (both must be rejections, never an error).
struct HalfNormal;

impl LogDensity for HalfNormal {
    type Error = Infallible;
    fn log_density(&mut self, theta: &[f64]) -> Result<(f64, Vec<f64>), Infallible> {
        if theta[0] > 0.0 {
            Ok((-0.5 * theta[0] * theta[0], vec![-theta[0]]))
        } else {
            Ok((f64::NEG_INFINITY, vec![f64::NAN]))
        }
    }
}

#[test]
fn non_finite_proposals_are_rejected() {
    let chain = mala(&mut HalfNormal, vec![1.0], &options(20_000, 1_000, 1.0, 4), |_, _| {}).unwrap();
    assert!(chain.samples.iter().all(|s| s[0] > 0.0));
    assert!(chain.log_densities.iter().all(|v| v.is_finite()));
    let pi = std::f64::consts::PI;
    assert_close(&chain, &[(2.0 / pi).sqrt()], &[(1.0 - 2.0 / pi).sqrt()], "half-normal");
}

#[test]
fn generator_normals_have_unit_variance() {
    let mut rng = Rng::new(2024);
    let n = 100_000;
    let draws: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let mean = draws.iter().sum::<f64>() / n as f64;
    let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let kurtosis = draws.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64 / (var * var);
    println!("1e5 normals: mean {mean:.5}, variance {var:.5}, kurtosis {kurtosis:.4}");
    // Standard errors: 0.0032 (mean), 0.0045 (variance), 0.015 (kurtosis).
    assert!(mean.abs() < 0.015, "mean {mean}");
    assert!((var - 1.0).abs() < 0.02, "variance {var}");
    assert!((kurtosis - 3.0).abs() < 0.08, "kurtosis {kurtosis}");
    let uniforms: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    assert!(uniforms.iter().all(|u| (0.0..1.0).contains(u)));
    assert!((uniforms.iter().sum::<f64>() / n as f64 - 0.5).abs() < 0.005);
    // Reproducible from the seed.
    let mut again = Rng::new(2024);
    assert!(draws.iter().all(|x| x.to_bits() == again.normal().to_bits()));
    assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
}

/// Fails on its third call.
struct Failing(usize);

impl LogDensity for Failing {
    type Error = String;
    fn log_density(&mut self, theta: &[f64]) -> Result<(f64, Vec<f64>), String> {
        self.0 += 1;
        if self.0 == 3 { Err("solver diverged".into()) } else { Ok((-0.5 * theta[0] * theta[0], vec![-theta[0]])) }
    }
}

#[test]
fn errors() {
    let ok = options(10, 10, 0.5, 0);
    let invalid = |e: Result<Chain, SampleError<Infallible>>| matches!(e, Err(SampleError::Invalid(_)));
    assert!(invalid(mala(&mut StandardNormal, vec![], &ok, |_, _| {})));
    assert!(invalid(mala(&mut StandardNormal, vec![0.0], &MalaOptions { samples: 0, ..ok.clone() }, |_, _| {})));
    assert!(invalid(mala(&mut StandardNormal, vec![0.0], &MalaOptions { step: 0.0, ..ok.clone() }, |_, _| {})));
    let bad_target = MalaOptions { target_acceptance: Some(1.0), ..ok.clone() };
    assert!(invalid(mala(&mut StandardNormal, vec![0.0], &bad_target, |_, _| {})));
    let bad_mass = MalaOptions { preconditioner: Some(vec![1.0, 1.0]), ..ok.clone() };
    assert!(invalid(mala(&mut StandardNormal, vec![0.0], &bad_mass, |_, _| {})));
    let zero_mass = MalaOptions { preconditioner: Some(vec![0.0]), ..ok.clone() };
    assert!(invalid(mala(&mut StandardNormal, vec![0.0], &zero_mass, |_, _| {})));
    // Gradient of the wrong length.
    assert!(invalid(mala(&mut linear_problem_as_1d(), vec![0.0], &ok, |_, _| {})));
    assert!(matches!(mala(&mut HalfNormal, vec![-1.0], &ok, |_, _| {}), Err(SampleError::NonFiniteStart)));
    assert_eq!(mala(&mut Failing(0), vec![0.0], &ok, |_, _| {}), Err(SampleError::Density("solver diverged".into())));
    assert!(GaussianPosterior::new(vec![1.0; 5], vec![0.0; 2], 1.0, vec![0.0; 3], vec![1.0; 3]).is_err());
    assert!(GaussianPosterior::new(vec![1.0; 6], vec![0.0; 2], 0.0, vec![0.0; 3], vec![1.0; 3]).is_err());
    assert!(GaussianPosterior::new(vec![1.0; 6], vec![0.0; 2], 1.0, vec![0.0; 3], vec![1.0, -1.0, 1.0]).is_err());
}

/// Returns a two-entry gradient for a one-parameter θ.
fn linear_problem_as_1d() -> impl LogDensity<Error = Infallible> {
    struct WrongLength;
    impl LogDensity for WrongLength {
        type Error = Infallible;
        fn log_density(&mut self, _: &[f64]) -> Result<(f64, Vec<f64>), Infallible> {
            Ok((0.0, vec![0.0, 0.0]))
        }
    }
    WrongLength
}

#[test]
fn closed_form_of_a_diagonal_problem() {
    // G = I (2 × 2), σ = 1, prior N(1, 1): posterior N((d + 1)/2, 1/2).
    let p = GaussianPosterior::new(vec![1.0, 0.0, 0.0, 1.0], vec![3.0, -1.0], 1.0, vec![1.0; 2], vec![1.0; 2]).unwrap();
    assert_eq!(p.dimension(), 2);
    for (got, want) in p.posterior_mean().iter().zip([2.0, 0.0]) {
        assert!((got - want).abs() < 1e-15);
    }
    for (got, want) in p.posterior_covariance().iter().zip([0.5, 0.0, 0.0, 0.5]) {
        assert!((got - want).abs() < 1e-15);
    }
    // The gradient vanishes at the mean.
    let (_, g) = p.clone().log_density(&[2.0, 0.0]).unwrap();
    assert!(g.iter().all(|v| v.abs() < 1e-15));
}
