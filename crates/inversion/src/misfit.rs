//! Data misfits of a whole record and their adjoint sources `∂J/∂d`.
//!
//! A record is `[nt, channels]`, row-major (one trace per channel, strided
//! by `channels`). Two misfits:
//!
//! - **least squares**: `J = ½ Σ (d − d_obs)²`, adjoint source `d − d_obs`;
//! - **normalised cross-correlation** (per trace, zero lag):
//!   `J = Σ_traces (1 − ⟨d, o⟩ / (‖d‖ ‖o‖))`. It ignores amplitudes, so a
//!   wrong source strength or geometrical spreading cannot dominate, and it
//!   is smoother in the model than least squares, which resists cycle
//!   skipping at the start of an inversion. Its adjoint source per trace is
//!   `−(o / (‖d‖‖o‖) − ⟨d, o⟩ d / (‖d‖³ ‖o‖))`. Traces with `‖d‖ = 0` or
//!   `‖o‖ = 0` carry no information and contribute nothing.

use pdeinv_adjoint::AdjointSource;
use pdeinv_forward::Real;

/// Which misfit compares synthetic with observed traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MisfitKind {
    /// `½ Σ (d − d_obs)²`.
    #[default]
    LeastSquares,
    /// `Σ_traces (1 − ⟨d, o⟩ / (‖d‖ ‖o‖))`.
    NormalizedCorrelation,
}

impl MisfitKind {
    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            MisfitKind::LeastSquares => "least-squares",
            MisfitKind::NormalizedCorrelation => "correlation",
        }
    }
}

/// A misfit against one shot's observed record.
#[derive(Debug, Clone, Copy)]
pub struct TraceMisfit<'a, T> {
    /// Which misfit.
    pub kind: MisfitKind,
    /// Observed traces `[nt, channels]`.
    pub observed: &'a [T],
    /// Channels per time sample.
    pub channels: usize,
}

impl<T: Real> TraceMisfit<'_, T> {
    /// Misfit of `traces` and, when `adjoint_source` is given, `∂J/∂d`
    /// written into it (same layout as `traces`).
    pub fn evaluate(&self, traces: &[T], adjoint_source: Option<&mut [T]>) -> f64 {
        match self.kind {
            MisfitKind::LeastSquares => {
                let mut misfit = 0.0;
                match adjoint_source {
                    Some(out) => {
                        for ((o, &d), &obs) in out.iter_mut().zip(traces).zip(self.observed) {
                            *o = d - obs;
                            misfit += 0.5 * o.as_f64() * o.as_f64();
                        }
                    }
                    None => {
                        for (&d, &obs) in traces.iter().zip(self.observed) {
                            let r = (d - obs).as_f64();
                            misfit += 0.5 * r * r;
                        }
                    }
                }
                misfit
            }
            MisfitKind::NormalizedCorrelation => self.correlation(traces, adjoint_source),
        }
    }

    fn correlation(&self, traces: &[T], mut adjoint_source: Option<&mut [T]>) -> f64 {
        let channels = self.channels;
        let nt = traces.len() / channels.max(1);
        let mut misfit = 0.0;
        for c in 0..channels {
            let (mut dd, mut oo, mut od) = (0.0, 0.0, 0.0);
            for n in 0..nt {
                let d = traces[n * channels + c].as_f64();
                let o = self.observed[n * channels + c].as_f64();
                dd += d * d;
                oo += o * o;
                od += o * d;
            }
            let usable = dd > 0.0 && oo > 0.0;
            if usable {
                let (norm_d, norm_o) = (dd.sqrt(), oo.sqrt());
                misfit += 1.0 - od / (norm_d * norm_o);
            }
            if let Some(out) = adjoint_source.as_deref_mut() {
                for n in 0..nt {
                    let i = n * channels + c;
                    out[i] = if usable {
                        let (norm_d, norm_o) = (dd.sqrt(), oo.sqrt());
                        let d = traces[i].as_f64();
                        let o = self.observed[i].as_f64();
                        T::of(-(o / (norm_d * norm_o) - od * d / (dd * norm_d * norm_o)))
                    } else {
                        T::zero()
                    };
                }
            }
        }
        misfit
    }
}

impl<T: Real> AdjointSource<T> for TraceMisfit<'_, T> {
    fn misfit_and_adjoint_source(&self, traces: &mut [T]) -> f64 {
        let synthetic = traces.to_vec();
        self.evaluate(&synthetic, Some(traces))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pdeinv_adjoint::verify::pseudo_random;

    /// Second-order Taylor remainders of `J(d + h δ)` fall as h².
    fn assert_taylor(kind: MisfitKind) {
        let (nt, channels) = (50, 3);
        let observed = pseudo_random(1, nt * channels);
        let d: Vec<f64> = pseudo_random(2, nt * channels).iter().zip(&observed).map(|(a, b)| b + 0.5 * a).collect();
        let delta = pseudo_random(3, nt * channels);
        let misfit = TraceMisfit { kind, observed: &observed, channels };
        let mut g = vec![0.0; d.len()];
        let j0 = misfit.evaluate(&d, Some(&mut g));
        let slope: f64 = g.iter().zip(&delta).map(|(a, b)| a * b).sum();
        let mut previous: Option<f64> = None;
        for k in 0..5 {
            let h = 0.1 / 2f64.powi(k);
            let moved: Vec<f64> = d.iter().zip(&delta).map(|(a, b)| a + h * b).collect();
            let remainder = (misfit.evaluate(&moved, None) - j0 - h * slope).abs();
            if let Some(prev) = previous {
                let order = (prev / remainder).log2();
                assert!((order - 2.0).abs() < 0.1, "{kind:?}: order {order}");
            }
            previous = Some(remainder);
        }
    }

    #[test]
    fn least_squares_adjoint_source_passes_the_taylor_test() {
        assert_taylor(MisfitKind::LeastSquares);
    }

    #[test]
    fn correlation_adjoint_source_passes_the_taylor_test() {
        assert_taylor(MisfitKind::NormalizedCorrelation);
    }

    #[test]
    fn correlation_ignores_amplitude_and_vanishes_on_a_match() {
        let observed = pseudo_random(4, 40);
        let scaled: Vec<f64> = observed.iter().map(|v| 3.0 * v).collect();
        let misfit = TraceMisfit { kind: MisfitKind::NormalizedCorrelation, observed: &observed, channels: 2 };
        assert!(misfit.evaluate(&scaled, None).abs() < 1e-14);
        let negated: Vec<f64> = observed.iter().map(|v| -v).collect();
        assert!((misfit.evaluate(&negated, None) - 4.0).abs() < 1e-12);
    }
}
