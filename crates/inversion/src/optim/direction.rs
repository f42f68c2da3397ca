//! Search directions: the L-BFGS two-loop recursion and the Polak–Ribière+
//! conjugate-gradient update.

use super::vector::{axpy, dot};

/// `−H g` for the L-BFGS inverse-Hessian approximation `H` built from the
/// pairs `(s_i, y_i)` (oldest first) on the initial matrix `γ I`,
/// `γ = sᵀy / yᵀy` of the newest pair (1 without pairs): Nocedal & Wright
/// Alg. 7.4. Every pair must have `sᵀy > 0`, so `H` is positive definite.
pub(crate) fn lbfgs_direction(s: &[Vec<f64>], y: &[Vec<f64>], g: &[f64]) -> Vec<f64> {
    debug_assert_eq!(s.len(), y.len());
    let m = s.len();
    let rho: Vec<f64> = (0..m).map(|i| 1.0 / dot(&y[i], &s[i])).collect();
    let mut alpha = vec![0.0; m];
    let mut q = g.to_vec();
    for i in (0..m).rev() {
        alpha[i] = rho[i] * dot(&s[i], &q);
        axpy(-alpha[i], &y[i], &mut q);
    }
    let gamma = initial_scaling(s, y);
    for v in q.iter_mut() {
        *v *= gamma;
    }
    for i in 0..m {
        let beta = rho[i] * dot(&y[i], &q);
        axpy(alpha[i] - beta, &s[i], &mut q);
    }
    for v in q.iter_mut() {
        *v = -*v;
    }
    q
}

/// `γ = sᵀy / yᵀy` of the newest pair (1 without pairs): the scaling of the
/// initial inverse Hessian, which makes the unit step well scaled.
pub(crate) fn initial_scaling(s: &[Vec<f64>], y: &[Vec<f64>]) -> f64 {
    match (s.last(), y.last()) {
        (Some(s), Some(y)) => dot(s, y) / dot(y, y),
        _ => 1.0,
    }
}

/// Polak–Ribière+ `β = max(0, gᵀ(g − g_prev) / ‖g_prev‖²)`.
pub(crate) fn polak_ribiere_plus(g: &[f64], g_prev: &[f64]) -> f64 {
    let denominator = dot(g_prev, g_prev);
    let numerator = dot(g, g) - dot(g, g_prev);
    let beta = numerator / denominator;
    if beta > 0.0 && beta.is_finite() { beta } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `A x` for the SPD matrix `[[4, 1, 0], [1, 3, 1], [0, 1, 2]]`.
    fn apply(x: &[f64]) -> Vec<f64> {
        vec![4.0 * x[0] + x[1], x[0] + 3.0 * x[1] + x[2], x[1] + 2.0 * x[2]]
    }

    #[test]
    fn no_pairs_is_steepest_descent() {
        assert_eq!(lbfgs_direction(&[], &[], &[1.0, -2.0]), vec![-1.0, 2.0]);
    }

    #[test]
    fn secant_equation_and_exact_inverse() {
        // Pairs from a quadratic, y = A s. The newest pair satisfies the
        // secant equation H y = s for any pairs.
        let s = vec![vec![1.0, 2.0, 0.5], vec![-0.3, 0.2, 1.0]];
        let y: Vec<Vec<f64>> = s.iter().map(|v| apply(v)).collect();
        let d = lbfgs_direction(&s, &y, &y[1]);
        for (a, b) in d.iter().zip(&s[1]) {
            assert!((a + b).abs() < 1e-14, "{d:?}");
        }
        // With n A-conjugate steps (as exact line searches on a quadratic
        // produce) BFGS is hereditary and reproduces A⁻¹: −H (A x) = −x.
        let mut s: Vec<Vec<f64>> = Vec::new();
        for k in 0..3 {
            let mut v = vec![0.0; 3];
            v[k] = 1.0;
            for p in s.clone() {
                let c = dot(&v, &apply(&p)) / dot(&p, &apply(&p));
                axpy(-c, &p, &mut v);
            }
            s.push(v);
        }
        let y: Vec<Vec<f64>> = s.iter().map(|v| apply(v)).collect();
        let x = [0.3, -1.1, 2.0];
        let d = lbfgs_direction(&s, &y, &apply(&x));
        for (a, b) in d.iter().zip(&x) {
            assert!((a + b).abs() < 1e-13, "{d:?}");
        }
    }

    #[test]
    fn positive_definite_direction_is_descent() {
        let s = vec![vec![1.0, 2.0, 0.5], vec![-0.3, 0.2, 1.0]];
        let y: Vec<Vec<f64>> = s.iter().map(|v| apply(v)).collect();
        for g in [[1.0, 0.0, 0.0], [0.0, -1.0, 3.0], [5.0, 5.0, -5.0]] {
            assert!(dot(&lbfgs_direction(&s, &y, &g), &g) < 0.0);
        }
    }

    #[test]
    fn polak_ribiere_plus_clips_at_zero() {
        assert_eq!(polak_ribiere_plus(&[1.0, 0.0], &[2.0, 0.0]), 0.0);
        assert_eq!(polak_ribiere_plus(&[2.0, 0.0], &[1.0, 0.0]), 2.0);
        assert_eq!(polak_ribiere_plus(&[0.0, 1.0], &[1.0, 0.0]), 1.0);
    }
}
