//! Figures of merit of a recovered model: relative errors, over the whole
//! grid or only inside the convex hull of the sensors (where the data can
//! constrain the model).

use pdeinv_grid::Grid;

/// `‖m − t‖ / ‖t‖` over the cells where `mask` is true.
pub fn relative_error_where(model: &[f64], truth: &[f64], mask: &[bool]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for ((m, t), &inside) in model.iter().zip(truth).zip(mask) {
        if inside {
            num += (m - t) * (m - t);
            den += t * t;
        }
    }
    (num / den).sqrt()
}

/// Which cells of a 2D `grid` lie inside (or on) the convex hull of the
/// `[z, x]` points (Andrew's monotone chain).
pub fn hull_mask(grid: &Grid, points: &[[f64; 2]]) -> Vec<bool> {
    let mut p: Vec<(f64, f64)> = points.iter().map(|q| (q[1], q[0])).collect();
    p.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    p.dedup();
    let cross = |o: (f64, f64), a: (f64, f64), b: (f64, f64)| (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0);
    let mut hull: Vec<(f64, f64)> = Vec::new();
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &(f64, f64)>> =
            if pass == 0 { Box::new(p.iter()) } else { Box::new(p.iter().rev()) };
        for &q in iter {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0 {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    let nz = if grid.dimension == 2 { grid.nz } else { 1 };
    let mut mask = vec![false; nz * grid.nx];
    if hull.len() < 3 {
        return mask;
    }
    let tolerance = 1e-9 * (grid.dx + grid.dz);
    for iz in 0..nz {
        for ix in 0..grid.nx {
            let q = (ix as f64 * grid.dx, iz as f64 * grid.dz);
            let inside = (0..hull.len()).all(|i| {
                let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
                cross(a, b, q) >= -tolerance * ((b.0 - a.0).hypot(b.1 - a.1))
            });
            mask[iz * grid.nx + ix] = inside;
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hull_of_a_square_of_sensors() {
        let grid = Grid::new_2d(11, 11, 0.1, 0.1).unwrap();
        let mut points = Vec::new();
        for z in [0.2, 0.5, 0.8] {
            for x in [0.2, 0.5, 0.8] {
                points.push([z, x]);
            }
        }
        let mask = hull_mask(&grid, &points);
        assert_eq!(mask.iter().filter(|&&m| m).count(), 7 * 7);
        assert!(mask[5 * 11 + 5] && mask[2 * 11 + 2] && mask[8 * 11 + 8]);
        assert!(!mask[11 + 5] && !mask[5 * 11 + 9]);
        let truth = vec![2.0; 121];
        let mut model = truth.clone();
        model[0] = 100.0; // outside the hull: ignored
        model[5 * 11 + 5] = 2.0 + 2.0 * 7.0; // inside: error sqrt(14² / (49·4)) = 1
        assert!((relative_error_where(&model, &truth, &mask) - 1.0).abs() < 1e-12);
    }
}
