//! Source time functions sampled on the time axis `t_n = n·dt`.

/// Ricker wavelet (second derivative of a Gaussian, unit peak) with peak
/// frequency `f` (Hz), delayed by `delay` seconds (default `1/f`, so it starts
/// near zero), sampled at `nt` times `n·dt`.
pub fn ricker(peak_frequency: f64, dt: f64, nt: usize, delay: Option<f64>) -> Vec<f64> {
    let t0 = delay.unwrap_or(1.0 / peak_frequency);
    let a = (std::f64::consts::PI * peak_frequency).powi(2);
    (0..nt)
        .map(|n| {
            let s = n as f64 * dt - t0;
            (1.0 - 2.0 * a * s * s) * (-a * s * s).exp()
        })
        .collect()
}

/// The time integral of [`ricker`] from 0 to `t`, in closed form: the
/// antiderivative of `(1 − 2a s²) e^{−a s²}` is `s e^{−a s²}`.
pub fn ricker_integral(peak_frequency: f64, delay: f64, t: f64) -> f64 {
    let a = (std::f64::consts::PI * peak_frequency).powi(2);
    let antiderivative = |s: f64| s * (-a * s * s).exp();
    antiderivative(t - delay) - antiderivative(-delay)
}

/// Resample a wavelet given at interval `dt_in` onto `nt` samples at `dt`
/// (linear interpolation; zero after the last input sample).
pub fn resample(samples: &[f64], dt_in: f64, dt: f64, nt: usize) -> Vec<f64> {
    (0..nt)
        .map(|n| {
            let s = n as f64 * dt / dt_in;
            let i = s.floor() as usize;
            let f = s - i as f64;
            match (samples.get(i), samples.get(i + 1)) {
                (Some(a), Some(b)) => a + f * (b - a),
                (Some(a), None) if f == 0.0 => *a,
                _ => 0.0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ricker_peaks_at_the_delay_and_integrates_consistently() {
        let dt = 1e-4;
        let w = ricker(10.0, dt, 3000, None);
        let peak = w.iter().enumerate().fold((0, f64::MIN), |m, (i, &v)| if v > m.1 { (i, v) } else { m });
        assert_eq!(peak.0, 1000);
        assert!((peak.1 - 1.0).abs() < 1e-12);
        // Simpson's rule over 1500 intervals against the closed form
        let numeric: f64 = (0..750).map(|i| dt / 3.0 * (w[2 * i] + 4.0 * w[2 * i + 1] + w[2 * i + 2])).sum();
        let exact = ricker_integral(10.0, 0.1, 0.15);
        assert!((numeric - exact).abs() < 1e-9 * exact.abs().max(1.0), "{numeric} vs {exact}");
    }

    #[test]
    fn resampling_keeps_samples_on_a_common_grid() {
        let w = [0.0, 1.0, 2.0, 3.0];
        assert_eq!(resample(&w, 2.0, 1.0, 8), vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 0.0]);
    }
}
