//! Gaussian smoothing of a gridded field (separable, edge values extended),
//! used to build smooth starting models. Sigma is in metres, so the same
//! call smooths equally on any grid spacing.

use crate::geometry::Grid;

/// Smooth `values` (row-major on `grid`) with a Gaussian of standard
/// deviation `sigma` metres along each axis; `sigma = 0` copies.
pub fn gaussian(values: &[f64], grid: &Grid, sigma: f64) -> Vec<f64> {
    let mut out = values.to_vec();
    if sigma <= 0.0 {
        return out;
    }
    let (nz, nx) = (grid.nz, grid.nx);
    let kernel_x = kernel(sigma / grid.dx);
    let mut line = Vec::new();
    for row in out.chunks_exact_mut(nx) {
        line.clear();
        line.extend_from_slice(row);
        convolve(&line, &kernel_x, row);
    }
    if grid.dimension == 2 && nz > 1 {
        let kernel_z = kernel(sigma / grid.dz);
        let mut column = vec![0.0; nz];
        let mut smoothed = vec![0.0; nz];
        for ix in 0..nx {
            for iz in 0..nz {
                column[iz] = out[iz * nx + ix];
            }
            convolve(&column, &kernel_z, &mut smoothed);
            for iz in 0..nz {
                out[iz * nx + ix] = smoothed[iz];
            }
        }
    }
    out
}

/// Normalised Gaussian weights for `sigma_cells`, truncated at 4 sigma.
fn kernel(sigma_cells: f64) -> Vec<f64> {
    let half = (4.0 * sigma_cells).ceil().max(1.0) as usize;
    let w: Vec<f64> = (0..=2 * half).map(|i| (-0.5 * ((i as f64 - half as f64) / sigma_cells).powi(2)).exp()).collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|v| v / total).collect()
}

/// `out[i] = Σ_k w[k] input[clamp(i + k − half)]`.
fn convolve(input: &[f64], w: &[f64], out: &mut [f64]) {
    let n = input.len() as isize;
    let half = (w.len() / 2) as isize;
    for (i, o) in out.iter_mut().enumerate() {
        *o = w
            .iter()
            .enumerate()
            .map(|(k, &wk)| wk * input[(i as isize + k as isize - half).clamp(0, n - 1) as usize])
            .sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_constants_and_means_and_smooths_steps() {
        let g = Grid::new_2d(20, 30, 10.0, 10.0).unwrap();
        let constant = vec![3.0; 600];
        assert!(gaussian(&constant, &g, 50.0).iter().all(|v| (v - 3.0).abs() < 1e-12));
        let step: Vec<f64> = (0..600).map(|i| if i % 30 < 15 { 1.0 } else { 2.0 }).collect();
        let s = gaussian(&step, &g, 30.0);
        assert!(s[14] > 1.2 && s[14] < 1.5 && s[15] > 1.5 && s[15] < 1.8, "{} {}", s[14], s[15]);
        assert!(s.windows(2).take(29).all(|p| p[1] >= p[0]));
    }
}
