//! Simple bounds `l ≤ x ≤ u` (per parameter) and the three operations the
//! optimisers need: the projection onto the box, the projected gradient (the
//! optimality measure: components at a bound whose negative gradient points
//! out of the box are zeroed) and the restriction of a search direction (no
//! motion in components that are held at a bound).
//!
//! A parameter is "at" a bound when it equals it exactly; the projection
//! writes the bound value itself, so points produced by the optimisers are
//! exactly on the bound once they reach it.

use thiserror::Error;

/// Bounds that cannot describe a box.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum BoundsError {
    /// Lower and upper bounds of different lengths.
    #[error("{lower} lower bounds but {upper} upper bounds")]
    Length {
        /// Number of lower bounds.
        lower: usize,
        /// Number of upper bounds.
        upper: usize,
    },
    /// A lower bound above its upper bound, or a NaN bound.
    #[error("bounds of parameter {index} are invalid: lower {lower} must be <= upper {upper} (±inf allowed, NaN not)")]
    Order {
        /// Parameter index.
        index: usize,
        /// Its lower bound.
        lower: f64,
        /// Its upper bound.
        upper: f64,
    },
}

/// Per-parameter lower and upper bounds; `±inf` leaves a side open and
/// `lower == upper` fixes a parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    lower: Vec<f64>,
    upper: Vec<f64>,
}

impl Bounds {
    /// Bounds from lower and upper vectors of the same length, with
    /// `lower[i] <= upper[i]` and no NaN.
    pub fn new(lower: Vec<f64>, upper: Vec<f64>) -> Result<Bounds, BoundsError> {
        if lower.len() != upper.len() {
            return Err(BoundsError::Length { lower: lower.len(), upper: upper.len() });
        }
        for (index, (&l, &u)) in lower.iter().zip(&upper).enumerate() {
            if l.is_nan() || u.is_nan() || l > u || l == f64::INFINITY || u == f64::NEG_INFINITY {
                return Err(BoundsError::Order { index, lower: l, upper: u });
            }
        }
        Ok(Bounds { lower, upper })
    }

    /// The same bounds `[lower, upper]` for all `n` parameters.
    pub fn uniform(n: usize, lower: f64, upper: f64) -> Result<Bounds, BoundsError> {
        Bounds::new(vec![lower; n], vec![upper; n])
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.lower.len()
    }

    /// Whether the bounds are for zero parameters.
    pub fn is_empty(&self) -> bool {
        self.lower.is_empty()
    }

    /// The lower bounds.
    pub fn lower(&self) -> &[f64] {
        &self.lower
    }

    /// The upper bounds.
    pub fn upper(&self) -> &[f64] {
        &self.upper
    }

    /// Whether `x` lies in the box (lengths must match).
    pub fn contains(&self, x: &[f64]) -> bool {
        x.len() == self.len() && x.iter().zip(&self.lower).zip(&self.upper).all(|((v, l), u)| l <= v && v <= u)
    }

    /// Project `x` onto the box in place: `x_i ← min(max(x_i, l_i), u_i)`.
    /// A NaN stays NaN.
    pub fn project(&self, x: &mut [f64]) {
        debug_assert_eq!(x.len(), self.len());
        for ((v, &l), &u) in x.iter_mut().zip(&self.lower).zip(&self.upper) {
            if *v < l {
                *v = l;
            } else if *v > u {
                *v = u;
            }
        }
    }

    /// Number of components of `x` exactly at a bound.
    pub fn active_count(&self, x: &[f64]) -> usize {
        x.iter().zip(&self.lower).zip(&self.upper).filter(|((v, l), u)| v == l || v == u).count()
    }
}

/// The projected gradient: `g` with the components zeroed where `x` is at a
/// bound and `−g` points out of the box (`x_i = l_i, g_i > 0` or
/// `x_i = u_i, g_i < 0`). It is zero exactly at a KKT point of the box
/// constrained problem. Without bounds it is `g`.
pub(crate) fn projected_gradient(bounds: Option<&Bounds>, x: &[f64], g: &[f64]) -> Vec<f64> {
    let mut pg = g.to_vec();
    if let Some(b) = bounds {
        for i in 0..pg.len() {
            if (x[i] <= b.lower[i] && pg[i] > 0.0) || (x[i] >= b.upper[i] && pg[i] < 0.0) {
                pg[i] = 0.0;
            }
        }
    }
    pg
}

/// Zero the components of a search direction that would not move: at a
/// bound, where the gradient pushes outward (`x_i = l_i, g_i > 0`) or the
/// direction itself points outward (`x_i = l_i, d_i < 0`), and mirrored at
/// the upper bound. The projected path `P(x + αd)` then equals `x + αd` for
/// small `α > 0`, so `gᵀd` is its true initial slope.
pub(crate) fn restrict_direction(bounds: Option<&Bounds>, x: &[f64], g: &[f64], d: &mut [f64]) {
    if let Some(b) = bounds {
        for i in 0..d.len() {
            let at_lower = x[i] <= b.lower[i] && (g[i] > 0.0 || d[i] < 0.0);
            let at_upper = x[i] >= b.upper[i] && (g[i] < 0.0 || d[i] > 0.0);
            if at_lower || at_upper {
                d[i] = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(Bounds::new(vec![0.0], vec![1.0, 2.0]).is_err());
        assert!(Bounds::new(vec![2.0], vec![1.0]).is_err());
        assert!(Bounds::new(vec![f64::NAN], vec![1.0]).is_err());
        assert!(Bounds::new(vec![f64::INFINITY], vec![f64::INFINITY]).is_err());
        let b = Bounds::new(vec![f64::NEG_INFINITY, 1.0], vec![0.0, 1.0]).unwrap();
        assert_eq!(b.len(), 2);
        assert!(b.contains(&[-5.0, 1.0]));
        assert!(!b.contains(&[0.5, 1.0]));
    }

    #[test]
    fn projection_and_active_set() {
        let b = Bounds::uniform(4, 0.0, 1.0).unwrap();
        let mut x = vec![-1.0, 0.5, 2.0, 1.0];
        b.project(&mut x);
        assert_eq!(x, vec![0.0, 0.5, 1.0, 1.0]);
        assert_eq!(b.active_count(&x), 3);
        let g = [1.0, 1.0, 1.0, -1.0];
        // Lower bound with g > 0 and upper bound with g < 0 are held.
        assert_eq!(projected_gradient(Some(&b), &x, &g), vec![0.0, 1.0, 1.0, 0.0]);
        assert_eq!(projected_gradient(None, &x, &g), g.to_vec());
        let mut d = vec![1.0, -1.0, -1.0, -1.0];
        restrict_direction(Some(&b), &x, &g, &mut d);
        // Index 0: at lower with g > 0 → held even though d points inward.
        // Index 3: at upper with g < 0 → held.
        assert_eq!(d, vec![0.0, -1.0, -1.0, 0.0]);
        let mut d = vec![-1.0, 0.0, 1.0, 0.0];
        restrict_direction(Some(&b), &x, &[-1.0, 0.0, 1.0, 0.0], &mut d);
        // Directions pointing outward are held whatever the gradient.
        assert_eq!(d, vec![0.0, 0.0, 0.0, 0.0]);
    }
}
