//! A posterior over a low-dimensional parameterisation for gradient-based
//! sampling: the model is piecewise constant on zones (blocks of the grid),
//! `m_cell = exp(θ_zone(cell))`, with a Gaussian prior on each `θ` (a
//! log-normal prior on the coefficient) and Gaussian noise of standard
//! deviation `σ` on the data:
//!
//! `log π(θ) = −J(m(θ)) / σ² − ½ Σ_k ((θ_k − μ_k) / τ_k)²`, with
//! `J = ½ Σ (d − d_obs)²` and `∂J/∂θ_k = Σ_{cells in k} m_cell ∂J/∂m_cell`
//! (the exact adjoint gradient, chained).

use crate::run::DataObjective;
use crate::sampler::LogDensity;
use pdeinv_forward::ForwardError;
use pdeinv_grid::Grid;

/// Zones: `counts[axis]` equal blocks along each axis (`[nz, nx]` in 2D,
/// `[nx]` in 1D); returns the zone of every cell, row-major zone numbering.
pub fn zone_map(grid: &Grid, counts: &[usize]) -> Vec<usize> {
    let two_d = grid.dimension == 2;
    let (nz, nx) = (if two_d { grid.nz } else { 1 }, grid.nx);
    let (zones_z, zones_x) = if two_d { (counts[0].max(1), counts[1].max(1)) } else { (1, counts[0].max(1)) };
    let mut map = Vec::with_capacity(nz * nx);
    for iz in 0..nz {
        for ix in 0..nx {
            let kz = (iz * zones_z / nz).min(zones_z - 1);
            let kx = (ix * zones_x / nx).min(zones_x - 1);
            map.push(kz * zones_x + kx);
        }
    }
    map
}

/// The zoned log-posterior of a data objective.
pub struct ZonedPosterior<'a, O> {
    /// Misfit and gradient per cell.
    pub objective: &'a O,
    /// Zone of every cell.
    pub zones: Vec<usize>,
    /// Prior mean of `θ = ln m` per zone.
    pub prior_mean: Vec<f64>,
    /// Prior standard deviation of `θ` per zone.
    pub prior_std: Vec<f64>,
    /// Noise standard deviation of the data.
    pub noise_std: f64,
}

impl<O: DataObjective> ZonedPosterior<'_, O> {
    /// The model of `θ`.
    pub fn model(&self, theta: &[f64]) -> Vec<f64> {
        self.zones.iter().map(|&k| theta[k].exp()).collect()
    }
}

impl<O: DataObjective> LogDensity for ZonedPosterior<'_, O> {
    type Error = ForwardError;

    fn log_density(&mut self, theta: &[f64]) -> Result<(f64, Vec<f64>), ForwardError> {
        let model = self.model(theta);
        let evaluation = match self.objective.evaluate(&model) {
            Ok(evaluation) => evaluation,
            // a proposal the solver cannot run (κ underflowed to 0 or beyond
            // an explicit stability limit): zero density, the proposal is rejected
            Err(ForwardError::InvalidModel { .. } | ForwardError::Unstable { .. }) => {
                return Ok((f64::NEG_INFINITY, vec![0.0; theta.len()]));
            }
            Err(e) => return Err(e),
        };
        let inverse_variance = 1.0 / (self.noise_std * self.noise_std);
        let mut value = -evaluation.misfit * inverse_variance;
        let mut gradient = vec![0.0; theta.len()];
        for ((&k, &m), &g) in self.zones.iter().zip(&model).zip(&evaluation.gradient) {
            gradient[k] -= inverse_variance * m * g;
        }
        for k in 0..theta.len() {
            let z = (theta[k] - self.prior_mean[k]) / self.prior_std[k];
            value -= 0.5 * z * z;
            gradient[k] -= z / self.prior_std[k];
        }
        Ok((value, gradient))
    }
}

/// `−log π` as an optimiser objective, to start a chain at the posterior mode.
pub struct NegativeLogPosterior<'p, 'a, O>(pub &'p mut ZonedPosterior<'a, O>);

impl<O: DataObjective> crate::optim::Objective for NegativeLogPosterior<'_, '_, O> {
    type Error = ForwardError;

    fn evaluate(&mut self, theta: &[f64]) -> Result<(f64, Vec<f64>), ForwardError> {
        let (value, gradient) = self.0.log_density(theta)?;
        Ok((-value, gradient.into_iter().map(|g| -g).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_split_the_grid_into_blocks() {
        let grid = Grid::new_2d(4, 6, 1.0, 1.0).unwrap();
        let map = zone_map(&grid, &[2, 3]);
        assert_eq!(&map[0..6], &[0, 0, 1, 1, 2, 2]);
        assert_eq!(&map[18..24], &[3, 3, 4, 4, 5, 5]);
        let line = Grid::new_1d(10, 1.0).unwrap();
        assert_eq!(zone_map(&line, &[3]), vec![0, 0, 0, 0, 1, 1, 1, 2, 2, 2]);
    }
}
