//! Causal low-pass filtering for multiscale (frequency-continuation)
//! inversion: the observed traces and the source wavelet are filtered by the
//! same linear time-invariant filter. Because the filter is causal and both
//! signals start at rest, the record of the filtered wavelet is exactly the
//! filtered record (discrete convolutions commute), so the misfit compares
//! like with like even where a zero-phase filter would reach before t = 0.
//!
//! The filter is a Butterworth low-pass of even order (default 6), built as
//! a cascade of biquad sections by the bilinear transform with pre-warping
//! (R. Bristow-Johnson's cookbook form). Written here rather than taken from
//! a DSP crate because it is thirty lines and needs only a recursion; its
//! response and its commuting with convolution are unit-tested.

/// One second-order section `(b0, b1, b2, a1, a2)` normalised by `a0`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

/// A causal Butterworth low-pass filter.
#[derive(Debug, Clone, PartialEq)]
pub struct LowPass {
    sections: Vec<Biquad>,
}

impl LowPass {
    /// Order-6 Butterworth: half power at `cutoff` Hz for sampling interval
    /// `dt`, −36 dB per octave beyond.
    pub fn new(cutoff: f64, dt: f64) -> LowPass {
        Self::with_order(cutoff, dt, 6)
    }

    /// Butterworth of even `order` (2, 4, 6, ...).
    pub fn with_order(cutoff: f64, dt: f64, order: usize) -> LowPass {
        let order = order.max(2) & !1;
        let w0 = 2.0 * std::f64::consts::PI * (cutoff * dt).clamp(1e-6, 0.49);
        let (sin, cos) = w0.sin_cos();
        let sections = (1..=order / 2)
            .map(|k| {
                let q = 1.0 / (2.0 * (std::f64::consts::PI * (2 * k - 1) as f64 / (2 * order) as f64).cos());
                let alpha = sin / (2.0 * q);
                let a0 = 1.0 + alpha;
                let b1 = (1.0 - cos) / a0;
                Biquad { b: [0.5 * b1, b1, 0.5 * b1], a: [-2.0 * cos / a0, (1.0 - alpha) / a0] }
            })
            .collect();
        LowPass { sections }
    }

    /// Gain `|H|` at frequency `f` Hz for sampling interval `dt`.
    pub fn gain(&self, f: f64, dt: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * f * dt;
        self.sections
            .iter()
            .map(|s| {
                // H(z) at z = e^{iw}: (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²)
                let re = |c: [f64; 3]| c[0] + c[1] * w.cos() + c[2] * (2.0 * w).cos();
                let im = |c: [f64; 3]| -c[1] * w.sin() - c[2] * (2.0 * w).sin();
                let den = [1.0, s.a[0], s.a[1]];
                (re(s.b).hypot(im(s.b))) / (re(den).hypot(im(den)))
            })
            .product()
    }

    /// Filter the signal sampled every `stride` values of `signal` starting
    /// at `offset` (a trace of a `[nt, channels]` record: stride = channels),
    /// in place, from rest.
    pub fn apply_strided(&self, signal: &mut [f64], offset: usize, stride: usize) {
        for s in &self.sections {
            let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
            for v in signal[offset..].iter_mut().step_by(stride) {
                let x = *v;
                let y = s.b[0] * x + s.b[1] * x1 + s.b[2] * x2 - s.a[0] * y1 - s.a[1] * y2;
                (x2, x1, y2, y1) = (x1, x, y1, y);
                *v = y;
            }
        }
    }

    /// Filter a signal in place.
    pub fn apply(&self, signal: &mut [f64]) {
        self.apply_strided(signal, 0, 1);
    }

    /// Filter every trace of a `[nt, channels]` record in place.
    pub fn apply_record(&self, record: &mut [f64], channels: usize) {
        for c in 0..channels {
            self.apply_strided(record, c, channels);
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
        assert!((filter.gain(5.0, dt) - 0.5f64.sqrt()).abs() < 1e-9, "half power at the cutoff");
        assert!((filter.gain(2.0, dt) - 1.0).abs() < 1e-3, "gain at 2 Hz {}", filter.gain(2.0, dt));
        assert!(filter.gain(10.0, dt) < 0.02, "gain at 10 Hz {}", filter.gain(10.0, dt));
        // a sampled sine at 15 Hz is nearly removed once the transient is over
        let mut sine: Vec<f64> = (0..2000).map(|n| (2.0 * std::f64::consts::PI * 15.0 * n as f64 * dt).sin()).collect();
        filter.apply(&mut sine);
        let tail = sine[1000..].iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!((tail - filter.gain(15.0, dt)).abs() < 1e-3, "tail {tail}");
    }

    /// Filtering a record equals recording the filtered source: the filter
    /// commutes with any causal convolution (the solver is one).
    #[test]
    fn filtering_commutes_with_convolution_and_is_causal() {
        let dt = 0.004;
        let filter = LowPass::new(8.0, dt);
        let n = 600;
        let wavelet: Vec<f64> =
            (0..n).map(|i| if (20..40).contains(&i) { (i as f64 * 0.3).sin() } else { 0.0 }).collect();
        let green: Vec<f64> = (0..n).map(|i| (-(i as f64) / 50.0).exp() * (i as f64 * 0.1).cos()).collect();
        let convolve =
            |a: &[f64], b: &[f64]| -> Vec<f64> { (0..n).map(|t| (0..=t).map(|k| a[k] * b[t - k]).sum()).collect() };
        let mut filtered_record = convolve(&green, &wavelet);
        filter.apply(&mut filtered_record);
        let mut filtered_wavelet = wavelet.clone();
        filter.apply(&mut filtered_wavelet);
        let record_of_filtered = convolve(&green, &filtered_wavelet);
        let scale = filtered_record.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (a, b) in filtered_record.iter().zip(&record_of_filtered) {
            assert!((a - b).abs() <= 1e-12 * scale);
        }
        assert!(filtered_wavelet[..20].iter().all(|&v| v == 0.0));
    }
}
