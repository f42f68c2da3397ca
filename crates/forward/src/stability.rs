//! Stability and accuracy guards for the leapfrog acoustic scheme: the exact
//! von Neumann time-step limit of a centred stencil of any even order, and
//! the points-per-wavelength rule of thumb for numerical dispersion.

use pdeinv_grid::{Grid, central_second_derivative};

/// Fraction of the stability limit used when the user gives no `dt`
/// (the absorbing layers make the scheme slightly less tolerant).
pub const DEFAULT_CFL_FRACTION: f64 = 0.8;

/// Largest stable `dt` of leapfrog + the order-`order` Laplacian:
/// `dt ≤ 2 / (v_max √(Σ_d S/h_d²))`, with `S = |w0 + 2Σ_k (−1)^k w_k|` the
/// largest eigenvalue of the 1D second-difference stencil.
pub fn stable_dt(grid: &Grid, order: usize, v_max: f64) -> f64 {
    let w = central_second_derivative(order);
    let symbol_at_nyquist: f64 = w[0] + 2.0 * (1..w.len()).map(|k| if k % 2 == 0 { w[k] } else { -w[k] }).sum::<f64>();
    let s = symbol_at_nyquist.abs();
    let mut sum = s / (grid.dx * grid.dx);
    if grid.dimension == 2 {
        sum += s / (grid.dz * grid.dz);
    }
    2.0 / (v_max * sum.sqrt())
}

/// Grid points per shortest wavelength that an order-`order` stencil needs
/// to keep dispersion small over a few hundred wavelengths of travel.
pub fn points_per_wavelength_needed(order: usize) -> f64 {
    match order {
        2 => 10.0,
        4 => 6.0,
        6 => 5.0,
        8 => 4.0,
        _ => 3.5,
    }
}

/// Highest frequency with significant energy in a Ricker wavelet of peak
/// frequency `f` (its spectrum is down to about 3 % at 2.5 f).
pub fn ricker_max_frequency(peak_frequency: f64) -> f64 {
    2.5 * peak_frequency
}

/// A warning when the grid resolves the shortest wavelength with fewer
/// points than the order needs, else `None`.
pub fn dispersion_warning(grid: &Grid, order: usize, v_min: f64, f_max: f64) -> Option<String> {
    let h = if grid.dimension == 2 { grid.dx.max(grid.dz) } else { grid.dx };
    let have = v_min / f_max / h;
    let need = points_per_wavelength_needed(order);
    (have < need).then(|| {
        format!(
            "the grid has {have:.1} points per shortest wavelength (v_min {v_min} m/s, f_max {f_max:.1} Hz, spacing {h} m); space order {order} needs about {need}: expect numerical dispersion (refine the grid, raise the order, or lower the frequency)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_order_limit_is_the_classic_cfl() {
        let g = Grid::new_2d(10, 10, 10.0, 10.0).unwrap();
        let dt = stable_dt(&g, 2, 2000.0);
        assert!((dt - 10.0 / (2000.0 * 2f64.sqrt())).abs() < 1e-15);
        let g1 = Grid::new_1d(10, 10.0).unwrap();
        assert!((stable_dt(&g1, 2, 2000.0) - 10.0 / 2000.0).abs() < 1e-15);
        // higher orders are less tolerant
        assert!(stable_dt(&g, 8, 2000.0) < stable_dt(&g, 4, 2000.0));
    }

    #[test]
    fn dispersion_warning_fires_only_when_undersampled() {
        let g = Grid::new_2d(10, 10, 10.0, 10.0).unwrap();
        assert!(dispersion_warning(&g, 8, 1500.0, 25.0).is_none());
        assert!(dispersion_warning(&g, 2, 1500.0, 25.0).is_some());
    }
}
