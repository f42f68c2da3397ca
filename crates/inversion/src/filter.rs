//! Zero-phase low-pass filtering for multiscale (frequency-continuation)
//! inversion: the observed traces and the source wavelet are filtered by the
//! same linear time-invariant filter, so the synthetics of the filtered
//! wavelet are the filtered synthetics and the misfit compares like with like.
//!
//! The filter is a windowed-sinc FIR (Blackman window), symmetric, so it has
//! no phase shift; signals are extended by zeros at both ends. Written here
//! rather than taken from a DSP crate because it is a dozen lines and needs
//! nothing but a convolution; its response is unit-tested.

/// A symmetric low-pass FIR filter.
#[derive(Debug, Clone, PartialEq)]
pub struct LowPass {
    taps: Vec<f64>,
}

impl LowPass {
    /// Pass frequencies below `cutoff` Hz at sampling interval `dt`; the
    /// transition band is about `cutoff / 2` wide (half gain at `cutoff`).
    pub fn new(cutoff: f64, dt: f64) -> LowPass {
        let fc = (cutoff * dt).clamp(1e-6, 0.5); // cycles per sample
        // Blackman: transition width ≈ 5.5 / taps cycles per sample
        let half = ((5.5 / (0.5 * fc)) / 2.0).ceil() as usize;
        let taps: Vec<f64> = (0..=2 * half)
            .map(|i| {
                let k = i as f64 - half as f64;
                let sinc = if k == 0.0 {
                    2.0 * fc
                } else {
                    (2.0 * std::f64::consts::PI * fc * k).sin() / (std::f64::consts::PI * k)
                };
                let phase = std::f64::consts::PI * i as f64 / half as f64;
                let window = 0.42 - 0.5 * phase.cos() + 0.08 * (2.0 * phase).cos();
                sinc * window
            })
            .collect();
        let total: f64 = taps.iter().sum();
        LowPass { taps: taps.into_iter().map(|t| t / total).collect() }
    }

    /// Gain at frequency `f` Hz for sampling interval `dt`.
    pub fn gain(&self, f: f64, dt: f64) -> f64 {
        let half = (self.taps.len() / 2) as f64;
        self.taps
            .iter()
            .enumerate()
            .map(|(i, t)| t * (2.0 * std::f64::consts::PI * f * dt * (i as f64 - half)).cos())
            .sum()
    }

    /// Filter a signal sampled every `stride` values of `signal` starting at
    /// `offset` (a trace of a `[nt, channels]` record: stride = channels).
    pub fn apply_strided(&self, signal: &mut [f64], offset: usize, stride: usize, scratch: &mut Vec<f64>) {
        scratch.clear();
        scratch.extend(signal[offset..].iter().step_by(stride).copied());
        let n = scratch.len() as isize;
        let half = (self.taps.len() / 2) as isize;
        for (i, out) in signal[offset..].iter_mut().step_by(stride).enumerate() {
            let i = i as isize;
            let lo = (i - half).max(0);
            let hi = (i + half).min(n - 1);
            *out = (lo..=hi).map(|j| self.taps[(j - i + half) as usize] * scratch[j as usize]).sum();
        }
    }

    /// Filter a signal in place.
    pub fn apply(&self, signal: &mut [f64]) {
        self.apply_strided(signal, 0, 1, &mut Vec::new());
    }

    /// Filter every trace of a `[nt, channels]` record in place.
    pub fn apply_record(&self, record: &mut [f64], channels: usize) {
        let mut scratch = Vec::new();
        for c in 0..channels {
            self.apply_strided(record, c, channels, &mut scratch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_low_and_stops_high_frequencies() {
        let dt = 0.002;
        let filter = LowPass::new(5.0, dt);
        assert!((filter.gain(0.0, dt) - 1.0).abs() < 1e-12);
        assert!((filter.gain(2.0, dt) - 1.0).abs() < 0.02, "gain at 2 Hz {}", filter.gain(2.0, dt));
        assert!(filter.gain(10.0, dt).abs() < 2e-3, "gain at 10 Hz {}", filter.gain(10.0, dt));
    }

    #[test]
    fn filtering_commutes_with_a_shift_away_from_the_edges() {
        let dt = 0.004;
        let filter = LowPass::new(8.0, dt);
        let signal: Vec<f64> = (0..1000).map(|i| if (450..460).contains(&i) { 1.0 } else { 0.0 }).collect();
        let shifted: Vec<f64> = (0..1000).map(|i| if (460..470).contains(&i) { 1.0 } else { 0.0 }).collect();
        let (mut a, mut b) = (signal.clone(), shifted.clone());
        filter.apply(&mut a);
        filter.apply(&mut b);
        for i in 0..980 {
            assert!((a[i] - b[i + 10]).abs() < 1e-14);
        }
        // zero phase: the filtered box stays centred
        let centre: f64 = a.iter().enumerate().map(|(i, v)| i as f64 * v).sum::<f64>() / a.iter().sum::<f64>();
        assert!((centre - 454.5).abs() < 1e-9, "centre {centre}");
    }
}
