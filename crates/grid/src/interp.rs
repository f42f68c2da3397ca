//! Weights that tie an off-grid point to grid values: sampling a field at the
//! point is `Σ w_i u_i`, and injecting into the field uses the same weights
//! (the transpose of sampling), so forward and adjoint stay exact transposes.
//!
//! Two schemes: bilinear (two nodes per axis) and Hicks (2002) windowed sinc
//! (2r nodes per axis, Kaiser window), which is exact for band-limited fields
//! up to a fraction of Nyquist and reduces to a single node for a point that
//! sits on the grid.

use crate::geometry::{Grid, GridError};

/// How an off-grid point is spread onto grid nodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Interpolation {
    /// Linear in each axis: 2 nodes (4 in 2D).
    Bilinear,
    /// Kaiser-windowed sinc with `radius` nodes each side (Hicks 2002).
    Hicks {
        /// Half-width of the stencil in nodes (1..=10; 4 is the usual choice).
        radius: usize,
    },
}

impl Default for Interpolation {
    fn default() -> Self {
        Interpolation::Hicks { radius: 4 }
    }
}

/// Interpolation nodes and weights of one point, in grid indices. Indices may
/// fall outside `[0, n)` by up to the stencil radius (into the absorbing
/// layer that solvers add around the grid).
#[derive(Debug, Clone, PartialEq)]
pub struct PointWeights {
    /// `(iz, ix, weight)` triplets; `iz = 0` in 1D.
    pub entries: Vec<(isize, isize, f64)>,
}

/// Kaiser window shape parameter for each Hicks radius, from Hicks (2002),
/// table 2 (chosen for accuracy up to 2/3 of the Nyquist wavenumber).
const HICKS_KAISER_B: [f64; 10] = [1.24, 2.94, 4.53, 6.31, 7.91, 9.42, 10.95, 12.53, 14.09, 14.18];

/// Weights of a point `(z, x)` (metres) on `grid`. In 1D `z` is ignored.
pub fn point_weights(
    grid: &Grid,
    what: &str,
    z: f64,
    x: f64,
    scheme: Interpolation,
) -> Result<PointWeights, GridError> {
    grid.check_inside(what, z, x)?;
    let along_x = axis_weights((x - grid.x0) / grid.dx, grid.nx, scheme);
    let along_z =
        if grid.dimension == 2 { axis_weights((z - grid.z0) / grid.dz, grid.nz, scheme) } else { vec![(0, 1.0)] };
    let mut entries = Vec::with_capacity(along_x.len() * along_z.len());
    for &(iz, wz) in &along_z {
        for &(ix, wx) in &along_x {
            let w = wz * wx;
            if w != 0.0 {
                entries.push((iz, ix, w));
            }
        }
    }
    Ok(PointWeights { entries })
}

/// 1D weights at fractional index `s` on an axis of `n` nodes.
fn axis_weights(s: f64, n: usize, scheme: Interpolation) -> Vec<(isize, f64)> {
    let nearest = s.round();
    // a point within round-off of a node sits on it exactly
    let s = if (s - nearest).abs() < 1e-9 { nearest } else { s };
    match scheme {
        Interpolation::Bilinear => {
            let i0 = (s.floor() as isize).min(n as isize - 2).max(0);
            let f = s - i0 as f64;
            vec![(i0, 1.0 - f), (i0 + 1, f)]
        }
        Interpolation::Hicks { radius } => {
            let radius = radius.clamp(1, HICKS_KAISER_B.len());
            if s == nearest {
                return vec![(nearest as isize, 1.0)];
            }
            let b = HICKS_KAISER_B[radius - 1];
            let r = radius as f64;
            let base = s.floor() as isize;
            (base - radius as isize + 1..=base + radius as isize)
                .map(|i| {
                    let d = s - i as f64;
                    (i, sinc(d) * kaiser(d, r, b))
                })
                .collect()
        }
    }
}

fn sinc(d: f64) -> f64 {
    if d == 0.0 {
        1.0
    } else {
        let a = std::f64::consts::PI * d;
        a.sin() / a
    }
}

fn kaiser(d: f64, r: f64, b: f64) -> f64 {
    let q = d / r;
    if q.abs() > 1.0 { 0.0 } else { bessel_i0(b * (1.0 - q * q).sqrt()) / bessel_i0(b) }
}

/// Modified Bessel function of the first kind, order 0 (power series; the
/// arguments here are below 20, where it converges in a few dozen terms).
fn bessel_i0(x: f64) -> f64 {
    let quarter_x2 = 0.25 * x * x;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..200 {
        term *= quarter_x2 / (k * k) as f64;
        sum += term;
        if term < 1e-17 * sum {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(w: &PointWeights, f: impl Fn(f64, f64) -> f64, g: &Grid) -> f64 {
        w.entries.iter().map(|&(iz, ix, wt)| wt * f(iz as f64 * g.dz, ix as f64 * g.dx)).sum()
    }

    #[test]
    fn on_grid_points_use_one_node() {
        let g = Grid::new_2d(20, 30, 5.0, 5.0).unwrap();
        for scheme in [Interpolation::Bilinear, Interpolation::Hicks { radius: 4 }] {
            let w = point_weights(&g, "p", 25.0, 50.0, scheme).unwrap();
            let total: f64 = w.entries.iter().map(|e| e.2).sum();
            assert!((total - 1.0).abs() < 1e-14);
            assert!(w.entries.iter().any(|&(iz, ix, wt)| iz == 5 && ix == 10 && (wt - 1.0).abs() < 1e-14));
        }
    }

    #[test]
    fn bilinear_is_exact_for_bilinear_fields() {
        let g = Grid::new_2d(20, 30, 5.0, 4.0).unwrap();
        let w = point_weights(&g, "p", 33.3, 71.9, Interpolation::Bilinear).unwrap();
        let f = |z: f64, x: f64| 1.0 + 2.0 * z - 0.5 * x + 0.01 * z * x;
        assert!((sample(&w, f, &g) - f(33.3, 71.9)).abs() < 1e-10);
    }

    #[test]
    fn hicks_interpolates_smooth_fields_accurately() {
        let g = Grid::new_2d(40, 40, 1.0, 1.0).unwrap();
        let w = point_weights(&g, "p", 20.37, 18.81, Interpolation::Hicks { radius: 4 }).unwrap();
        assert_eq!(w.entries.len(), 64);
        // a wave at a quarter of Nyquist
        let k = std::f64::consts::PI / 4.0;
        let f = |z: f64, x: f64| (k * z).sin() * (k * x + 0.3).cos();
        let err = (sample(&w, f, &g) - f(20.37, 18.81)).abs();
        assert!(err < 2e-3, "Hicks error {err}");
    }

    #[test]
    fn points_outside_are_rejected() {
        let g = Grid::new_1d(11, 1.0).unwrap();
        assert!(point_weights(&g, "receiver 0", 0.0, 10.5, Interpolation::Bilinear).is_err());
        assert!(point_weights(&g, "receiver 0", 123.0, 10.0, Interpolation::Bilinear).is_ok());
    }
}
