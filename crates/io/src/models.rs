//! Model generators of the scenario format (`constant`, `layers`,
//! `camembert`, `file`, and `smooth` for starting models), evaluated on the
//! scenario's grid.

use crate::error::IoError;
use crate::h5;
use crate::scenario::{Camembert, Layers, ModelSpec};
use pdeinv_grid::Grid;
use std::path::Path;

/// Values of `spec` on `grid`, row-major. `truth` is the true model, needed
/// by `smooth`. `key` names the scenario table in messages.
pub fn build(
    spec: &ModelSpec,
    grid: &Grid,
    truth: Option<&[f64]>,
    key: &str,
    scenario: &Path,
) -> Result<Vec<f64>, IoError> {
    let fail = |message: String| IoError::Scenario { path: scenario.to_path_buf(), message };
    let values = match spec {
        ModelSpec::Constant(v) => vec![*v; grid.len()],
        ModelSpec::Layers(layers) => build_layers(layers, grid).map_err(|m| fail(format!("{key}.layers: {m}")))?,
        ModelSpec::Camembert(c) => build_camembert(c, grid).map_err(|m| fail(format!("{key}.camembert: {m}")))?,
        ModelSpec::File(f) => {
            let model = h5::read_model(&f.path, f.dataset.as_deref()).map_err(|e| fail(format!("{key}.file: {e}")))?;
            if model.shape != grid.shape() {
                return Err(fail(format!(
                    "{key}.file: {} holds a model of shape {:?} but grid.shape is {:?}; they must match",
                    f.path.display(),
                    model.shape,
                    grid.shape()
                )));
            }
            model.values
        }
        ModelSpec::Smooth(s) => {
            let truth = truth.ok_or_else(|| fail(format!("{key}.smooth needs the true model")))?;
            pdeinv_grid::smooth::gaussian(truth, grid, s.sigma)
        }
    };
    Ok(values)
}

fn build_layers(layers: &Layers, grid: &Grid) -> Result<Vec<f64>, String> {
    if layers.velocities.len() != layers.interfaces.len() + 1 {
        return Err(format!(
            "{} velocities need {} interfaces (one fewer), found {}",
            layers.velocities.len(),
            layers.velocities.len().saturating_sub(1),
            layers.interfaces.len()
        ));
    }
    if layers.interfaces.windows(2).any(|p| p[1] < p[0]) {
        return Err(format!("interfaces {:?} must be depths ordered from top to bottom", layers.interfaces));
    }
    if let Some(f) = &layers.fault
        && !(f.dip > 0.0 && f.dip <= 90.0)
    {
        return Err(format!("fault.dip = {} must be in (0, 90] degrees", f.dip));
    }
    for (i, body) in layers.bodies.iter().enumerate() {
        if body.center.len() != 2 || body.radii.len() != 2 || body.radii.iter().any(|r| r.is_nan() || *r <= 0.0) {
            return Err(format!("bodies[{i}] needs center = [z, x] and radii = [rz, rx] with positive radii (metres)"));
        }
    }
    let slope = layers.dip.to_radians().tan();
    let mut values = Vec::with_capacity(grid.len());
    for iz in 0..grid.nz {
        for ix in 0..grid.nx {
            let (z, x) = grid.coordinates(iz, ix);
            // in 1D the layers run along x
            let depth = if grid.dimension == 2 { z } else { x };
            let mut shift = slope * if grid.dimension == 2 { x } else { 0.0 };
            if let Some(f) = &layers.fault {
                let fault_x = f.x + depth / f.dip.to_radians().tan();
                if grid.dimension == 2 && x > fault_x {
                    shift += f.throw;
                }
            }
            let layer = layers.interfaces.iter().filter(|&&zi| depth >= zi + shift).count();
            let mut value = layers.velocities[layer];
            for body in &layers.bodies {
                let (dz, dx) = ((z - body.center[0]) / body.radii[0], (x - body.center[1]) / body.radii[1]);
                if grid.dimension == 2 && dz * dz + dx * dx <= 1.0 {
                    value = body.velocity;
                }
            }
            values.push(value);
        }
    }
    Ok(values)
}

fn build_camembert(c: &Camembert, grid: &Grid) -> Result<Vec<f64>, String> {
    if c.center.len() != grid.dimension {
        return Err(format!(
            "center {:?} must be {} for a {}D grid",
            c.center,
            if grid.dimension == 2 { "[z, x]" } else { "[x]" },
            grid.dimension
        ));
    }
    let mut values = Vec::with_capacity(grid.len());
    for iz in 0..grid.nz {
        for ix in 0..grid.nx {
            let (z, x) = grid.coordinates(iz, ix);
            let r2 = if grid.dimension == 2 {
                (z - c.center[0]).powi(2) + (x - c.center[1]).powi(2)
            } else {
                (x - c.center[0]).powi(2)
            };
            values.push(if r2 <= c.radius * c.radius { c.anomaly } else { c.background });
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Fault;

    #[test]
    fn layers_with_a_fault_shift_the_hanging_wall() {
        let g = Grid::new_2d(11, 11, 10.0, 10.0).unwrap();
        let layers = Layers {
            velocities: vec![1.0, 2.0],
            interfaces: vec![50.0],
            dip: 0.0,
            fault: Some(Fault { x: 50.0, dip: 90.0, throw: 20.0 }),
            bodies: vec![],
        };
        let v = build_layers(&layers, &g).unwrap();
        // left of the fault the interface is at 50 m, right of it at 70 m
        assert_eq!(v[5 * 11], 2.0);
        assert_eq!(v[5 * 11 + 10], 1.0);
        assert_eq!(v[7 * 11 + 10], 2.0);
    }

    #[test]
    fn bodies_are_drawn_over_the_layers() {
        let g = Grid::new_2d(11, 11, 10.0, 10.0).unwrap();
        let body = crate::scenario::Body { center: vec![80.0, 50.0], radii: vec![15.0, 30.0], velocity: 9.0 };
        let layers =
            Layers { velocities: vec![1.0, 2.0], interfaces: vec![50.0], dip: 0.0, fault: None, bodies: vec![body] };
        let v = build_layers(&layers, &g).unwrap();
        assert_eq!(v[8 * 11 + 5], 9.0);
        assert_eq!(v[8 * 11 + 2], 9.0);
        assert_eq!(v[8 * 11 + 1], 2.0);
        assert_eq!(v[6 * 11 + 5], 2.0);
        let bad = Layers {
            bodies: vec![crate::scenario::Body { center: vec![1.0], radii: vec![1.0, 1.0], velocity: 1.0 }],
            ..layers
        };
        assert!(build_layers(&bad, &g).unwrap_err().contains("bodies[0]"));
    }

    #[test]
    fn camembert_has_its_disc() {
        let g = Grid::new_2d(21, 21, 10.0, 10.0).unwrap();
        let c = Camembert { background: 1.0, anomaly: 5.0, center: vec![100.0, 100.0], radius: 30.0 };
        let v = build_camembert(&c, &g).unwrap();
        assert_eq!(v[10 * 21 + 10], 5.0);
        assert_eq!(v[10 * 21 + 14], 1.0);
        assert_eq!(v.iter().filter(|&&x| x == 5.0).count(), 29);
    }
}
