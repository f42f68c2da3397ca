//! The map from the optimiser's variables `x` to the velocity model `v`,
//! which carries the parameterisation and the gradient conditioning:
//!
//! `p = p₀ + s ⊙ S x`,  `v = v(p)` (`p = v` or `p = ln v`),
//!
//! with `p₀` the starting model in the parameterisation, `s ≥ 0` a per-cell
//! scale (the preconditioner: illumination compensation times the mask,
//! zero on frozen cells such as a water layer or the cells around sources)
//! and `S` an optional symmetric Gaussian smoothing. The optimiser minimises
//! `J(v(x))` with the gradient `∂J/∂x = Sᵀ (s ⊙ dv/dp ⊙ ∂J/∂v)`; because
//! the map is linear in `x` up to `v(p)`, a fixed diagonal preconditioner is
//! exactly a change of variables, so L-BFGS sees a consistent objective and
//! its line search stays valid.
//!
//! Bounds on `v`: without smoothing the map is diagonal, so they become
//! bounds on each `x_i` that the optimiser enforces by projection. With
//! smoothing they are enforced by clamping `v` inside the map (the clamped
//! cells then get zero gradient).

use pdeinv_grid::Grid;

/// How velocities are represented for the optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parameterization {
    /// `p = v` (m/s).
    #[default]
    Velocity,
    /// `p = ln v`: positive velocities without bounds.
    LogVelocity,
}

impl Parameterization {
    /// `p(v)`.
    pub fn to_parameter(self, v: f64) -> f64 {
        match self {
            Parameterization::Velocity => v,
            Parameterization::LogVelocity => v.ln(),
        }
    }

    /// `v(p)`.
    pub fn to_velocity(self, p: f64) -> f64 {
        match self {
            Parameterization::Velocity => p,
            Parameterization::LogVelocity => p.exp(),
        }
    }

    /// `dv/dp` at `v`.
    pub fn derivative(self, v: f64) -> f64 {
        match self {
            Parameterization::Velocity => 1.0,
            Parameterization::LogVelocity => v,
        }
    }
}

/// A symmetric Gaussian smoothing operator on a grid (zero outside the
/// grid, so `Sᵀ = S`).
#[derive(Debug, Clone, PartialEq)]
pub struct Smoothing {
    nz: usize,
    nx: usize,
    kernel_z: Vec<f64>,
    kernel_x: Vec<f64>,
}

fn gaussian_kernel(sigma_cells: f64) -> Vec<f64> {
    if sigma_cells <= 0.0 {
        return vec![1.0];
    }
    let half = (3.0 * sigma_cells).ceil() as usize;
    let w: Vec<f64> = (0..=2 * half).map(|i| (-0.5 * ((i as f64 - half as f64) / sigma_cells).powi(2)).exp()).collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|v| v / total).collect()
}

/// `out[i] = Σ_k w[k] input[i + k − half]`, zero outside.
fn convolve_strided(values: &mut [f64], offset: usize, stride: usize, n: usize, w: &[f64], line: &mut Vec<f64>) {
    line.clear();
    line.extend((0..n).map(|i| values[offset + i * stride]));
    let half = (w.len() / 2) as isize;
    for i in 0..n as isize {
        let lo = (i - half).max(0);
        let hi = (i + half).min(n as isize - 1);
        values[offset + i as usize * stride] = (lo..=hi).map(|j| w[(j - i + half) as usize] * line[j as usize]).sum();
    }
}

impl Smoothing {
    /// Smoothing with standard deviation `sigma` metres along each axis.
    pub fn new(grid: &Grid, sigma: f64) -> Smoothing {
        let two_d = grid.dimension == 2;
        Smoothing {
            nz: if two_d { grid.nz } else { 1 },
            nx: grid.nx,
            kernel_z: if two_d { gaussian_kernel(sigma / grid.dz) } else { vec![1.0] },
            kernel_x: gaussian_kernel(sigma / grid.dx),
        }
    }

    /// Apply `S` (which is its own transpose) in place.
    pub fn apply(&self, values: &mut [f64]) {
        let mut line = Vec::new();
        for iz in 0..self.nz {
            convolve_strided(values, iz * self.nx, 1, self.nx, &self.kernel_x, &mut line);
        }
        if self.kernel_z.len() > 1 {
            for ix in 0..self.nx {
                convolve_strided(values, ix, self.nx, self.nz, &self.kernel_z, &mut line);
            }
        }
    }
}

/// `x ↦ v`, see the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelMap {
    /// How velocities are represented.
    pub parameterization: Parameterization,
    /// `p₀` per cell.
    pub reference: Vec<f64>,
    /// `s` per cell (≥ 0; 0 freezes the cell).
    pub scale: Vec<f64>,
    /// Optional smoothing `S`.
    pub smoothing: Option<Smoothing>,
    /// Velocity bounds `[lower, upper]` (m/s).
    pub bounds: Option<(f64, f64)>,
}

impl ModelMap {
    /// The parameter field `p = p₀ + s ⊙ S x`.
    fn parameter(&self, x: &[f64]) -> Vec<f64> {
        let mut dx = x.to_vec();
        if let Some(smoothing) = &self.smoothing {
            smoothing.apply(&mut dx);
        }
        self.reference.iter().zip(&self.scale).zip(&dx).map(|((p0, s), d)| p0 + s * d).collect()
    }

    /// Whether bounds are enforced inside the map (by clamping) rather than
    /// by the optimiser.
    fn clamps(&self) -> bool {
        self.smoothing.is_some() && self.bounds.is_some()
    }

    /// The velocity model at `x`.
    pub fn model(&self, x: &[f64]) -> Vec<f64> {
        let p = self.parameter(x);
        p.into_iter()
            .map(|p| {
                let v = self.parameterization.to_velocity(p);
                // with projection onto variable bounds, clamping only removes
                // the rounding of p₀ + s·x and of exp (at most an ulp or two)
                match self.bounds {
                    Some((lo, hi)) => v.clamp(lo, hi),
                    None => v,
                }
            })
            .collect()
    }

    /// `∂J/∂x` from `∂J/∂v` at `x`.
    pub fn pullback(&self, x: &[f64], gradient_v: &[f64]) -> Vec<f64> {
        let p = self.parameter(x);
        let mut g: Vec<f64> = p
            .iter()
            .zip(&self.scale)
            .zip(gradient_v)
            .map(|((&p, &s), &g)| {
                let v = self.parameterization.to_velocity(p);
                let clamped = match self.bounds {
                    Some((lo, hi)) if self.clamps() => v < lo || v > hi,
                    _ => false,
                };
                if clamped { 0.0 } else { s * self.parameterization.derivative(v) * g }
            })
            .collect();
        if let Some(smoothing) = &self.smoothing {
            smoothing.apply(&mut g);
        }
        g
    }

    /// Bounds on `x` for the optimiser to enforce by projection (`None`
    /// without velocity bounds, or when the map clamps instead).
    pub fn variable_bounds(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        let (lo, hi) = self.bounds?;
        if self.clamps() {
            return None;
        }
        let (plo, phi) = (self.parameterization.to_parameter(lo), self.parameterization.to_parameter(hi));
        let mut lower = Vec::with_capacity(self.scale.len());
        let mut upper = Vec::with_capacity(self.scale.len());
        for (&p0, &s) in self.reference.iter().zip(&self.scale) {
            if s > 0.0 {
                lower.push(((plo - p0) / s).min(0.0));
                upper.push(((phi - p0) / s).max(0.0));
            } else {
                lower.push(0.0);
                upper.push(0.0);
            }
        }
        Some((lower, upper))
    }
}

/// Per-cell weights in `[0, 1]` that freeze cells the data cannot resolve
/// or that must not change.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MaskSpec {
    /// Cells shallower than this depth (m) are frozen (a water layer).
    pub fixed_above: Option<f64>,
    /// Cells within this distance (m) of a source are frozen, with a
    /// cosine taper to full weight at twice the distance.
    pub source_radius: Option<f64>,
}

impl MaskSpec {
    /// The mask on `grid` for sources at `[z, x]` positions.
    pub fn weights(&self, grid: &Grid, sources: &[[f64; 2]]) -> Vec<f64> {
        let two_d = grid.dimension == 2;
        let nz = if two_d { grid.nz } else { 1 };
        let mut mask = vec![1.0; nz * grid.nx];
        for iz in 0..nz {
            for ix in 0..grid.nx {
                let (z, x) = (iz as f64 * grid.dz, ix as f64 * grid.dx);
                let w = &mut mask[iz * grid.nx + ix];
                if two_d && self.fixed_above.is_some_and(|depth| z < depth) {
                    *w = 0.0;
                }
                if let Some(radius) = self.source_radius {
                    for s in sources {
                        let distance =
                            if two_d { ((z - s[0]).powi(2) + (x - s[1]).powi(2)).sqrt() } else { (x - s[1]).abs() };
                        let taper = if distance <= radius {
                            0.0
                        } else if distance >= 2.0 * radius {
                            1.0
                        } else {
                            0.5 - 0.5 * (std::f64::consts::PI * (distance - radius) / radius).cos()
                        };
                        *w *= taper;
                    }
                }
            }
        }
        mask
    }
}

/// Scale from an illumination map: `1 / sqrt(I/max I + ε)`, normalised to
/// a largest value of 1, so a steepest-descent step in `v` is
/// `−g / (I/max I + ε)` (the diagonal pseudo-Hessian).
pub fn illumination_scale(illumination: &[f64], epsilon: f64) -> Vec<f64> {
    let max = illumination.iter().cloned().fold(0.0, f64::max);
    if max <= 0.0 {
        return vec![1.0; illumination.len()];
    }
    let raw: Vec<f64> = illumination.iter().map(|&i| 1.0 / (i / max + epsilon).sqrt()).collect();
    let top = raw.iter().cloned().fold(0.0, f64::max);
    raw.into_iter().map(|r| r / top).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pdeinv_adjoint::verify::pseudo_random;

    #[test]
    fn smoothing_is_symmetric() {
        let grid = Grid::new_2d(9, 11, 10.0, 10.0).unwrap();
        let smoothing = Smoothing::new(&grid, 15.0);
        let (a, b) = (pseudo_random(1, 99), pseudo_random(2, 99));
        let (mut sa, mut sb) = (a.clone(), b.clone());
        smoothing.apply(&mut sa);
        smoothing.apply(&mut sb);
        let left: f64 = sa.iter().zip(&b).map(|(x, y)| x * y).sum();
        let right: f64 = a.iter().zip(&sb).map(|(x, y)| x * y).sum();
        assert!((left - right).abs() <= 1e-14 * left.abs().max(1.0));
    }

    /// `J(v(x)) = Σ c_i v_i²`: the pulled-back gradient passes a Taylor test
    /// for every parameterisation, with and without smoothing.
    #[test]
    fn pullback_is_the_gradient_of_the_composition() {
        let grid = Grid::new_2d(6, 7, 10.0, 10.0).unwrap();
        let n = 42;
        let c = pseudo_random(3, n);
        let v0: Vec<f64> = pseudo_random(4, n).iter().map(|r| 2000.0 + 200.0 * r).collect();
        for parameterization in [Parameterization::Velocity, Parameterization::LogVelocity] {
            for smoothing in [None, Some(Smoothing::new(&grid, 12.0))] {
                let map = ModelMap {
                    parameterization,
                    reference: v0.iter().map(|&v| parameterization.to_parameter(v)).collect(),
                    scale: pseudo_random(5, n).iter().map(|r| 1.0 + 0.5 * r).collect(),
                    smoothing,
                    bounds: None,
                };
                let j = |x: &[f64]| map.model(x).iter().zip(&c).map(|(v, c)| c * v * v).sum::<f64>();
                let x0 = vec![0.0; n];
                let gv: Vec<f64> = map.model(&x0).iter().zip(&c).map(|(v, c)| 2.0 * c * v).collect();
                let gx = map.pullback(&x0, &gv);
                let scale = if parameterization == Parameterization::Velocity { 10.0 } else { 0.01 };
                let dx: Vec<f64> = pseudo_random(6, n).iter().map(|r| scale * r).collect();
                let slope: f64 = gx.iter().zip(&dx).map(|(a, b)| a * b).sum();
                let remainders: Vec<f64> = (0..4)
                    .map(|k| {
                        let h = 0.5f64.powi(k);
                        let x: Vec<f64> = dx.iter().map(|d| h * d).collect();
                        (j(&x) - j(&x0) - h * slope).abs()
                    })
                    .collect();
                for pair in remainders.windows(2) {
                    let order = (pair[0] / pair[1]).log2();
                    assert!((order - 2.0).abs() < 0.1, "{parameterization:?}: order {order}");
                }
            }
        }
    }

    #[test]
    fn variable_bounds_map_velocity_bounds_through_the_scale() {
        let map = ModelMap {
            parameterization: Parameterization::Velocity,
            reference: vec![2000.0, 2500.0, 3000.0],
            scale: vec![2.0, 0.0, 1.0],
            smoothing: None,
            bounds: Some((1500.0, 4000.0)),
        };
        let (lower, upper) = map.variable_bounds().unwrap();
        assert_eq!(lower, vec![-250.0, 0.0, -1500.0]);
        assert_eq!(upper, vec![1000.0, 0.0, 1000.0]);
    }

    #[test]
    fn mask_freezes_the_water_layer_and_source_neighbourhoods() {
        let grid = Grid::new_2d(10, 10, 10.0, 10.0).unwrap();
        let mask = MaskSpec { fixed_above: Some(25.0), source_radius: Some(20.0) }.weights(&grid, &[[50.0, 50.0]]);
        assert_eq!(mask[2 * 10 + 7], 0.0);
        assert_eq!(mask[3 * 10], 1.0);
        assert_eq!(mask[5 * 10 + 5], 0.0);
        assert!(mask[5 * 10 + 8] > 0.0 && mask[5 * 10 + 8] < 1.0);
    }
}
