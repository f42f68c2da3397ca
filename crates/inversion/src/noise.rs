//! Gaussian noise for synthetic data: standard deviation `relative × RMS`
//! of each record, from the seeded generator of [`crate::sampler::Rng`], so
//! a scenario with `[noise]` gives the same noisy data on every run.

use crate::sampler::Rng;

/// Add noise of standard deviation `relative × RMS(record)` to each record,
/// drawing from one generator seeded with `seed` (records in order).
pub fn add_noise(records: &mut [Vec<f64>], relative: f64, seed: u64) {
    let mut rng = Rng::new(seed);
    for record in records {
        let rms = (record.iter().map(|v| v * v).sum::<f64>() / record.len().max(1) as f64).sqrt();
        let std = relative * rms;
        for v in record.iter_mut() {
            *v += std * rng.normal();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_the_requested_level_and_is_reproducible() {
        let clean: Vec<f64> = (0..20000).map(|i| (i as f64 * 0.01).sin()).collect();
        let mut a = vec![clean.clone()];
        let mut b = vec![clean.clone()];
        add_noise(&mut a, 0.01, 3);
        add_noise(&mut b, 0.01, 3);
        assert_eq!(a, b);
        let rms = (clean.iter().map(|v| v * v).sum::<f64>() / clean.len() as f64).sqrt();
        let residual: f64 = a[0].iter().zip(&clean).map(|(x, c)| (x - c) * (x - c)).sum::<f64>() / clean.len() as f64;
        let level = residual.sqrt() / rms;
        assert!((level - 0.01).abs() < 3e-4, "noise level {level}");
    }
}
