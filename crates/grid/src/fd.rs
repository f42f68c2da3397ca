//! Finite-difference weights for any derivative order on any stencil
//! (Fornberg 1988, "Generation of finite difference formulas on arbitrarily
//! spaced grids"), and the centred stencils the solvers use.
//!
//! Written here rather than taken from a crate: no maintained Rust crate
//! offers Fornberg weights, and the algorithm is twenty lines.

/// Weights `c[m][j]` such that `f^(m)(x0) ≈ Σ_j c[m][j] f(x[j])` for every
/// derivative order `m ≤ max_derivative`.
pub fn fornberg_weights(x0: f64, x: &[f64], max_derivative: usize) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut c = vec![vec![0.0; n]; max_derivative + 1];
    if n == 0 {
        return c;
    }
    c[0][0] = 1.0;
    let mut c1 = 1.0;
    let mut c4 = x[0] - x0;
    for i in 1..n {
        let mn = i.min(max_derivative);
        let mut c2 = 1.0;
        let c5 = c4;
        c4 = x[i] - x0;
        for j in 0..i {
            let c3 = x[i] - x[j];
            c2 *= c3;
            if j == i - 1 {
                for k in (1..=mn).rev() {
                    c[k][i] = c1 * (k as f64 * c[k - 1][i - 1] - c5 * c[k][i - 1]) / c2;
                }
                c[0][i] = -c1 * c5 * c[0][i - 1] / c2;
            }
            for k in (1..=mn).rev() {
                c[k][j] = (c4 * c[k][j] - k as f64 * c[k - 1][j]) / c3;
            }
            c[0][j] = c4 * c[0][j] / c3;
        }
        c1 = c2;
    }
    c
}

/// Centred second-derivative weights of accuracy `order` (even, ≥ 2) on a
/// unit grid: returns `h + 1 = order/2 + 1` values `[w0, w1, ..., wh]` with
/// `u''(0) ≈ w0 u(0) + Σ_k wk (u(k) + u(-k))`.
pub fn central_second_derivative(order: usize) -> Vec<f64> {
    let (half, x) = centred_stencil(order);
    let c = fornberg_weights(0.0, &x, 2);
    (0..=half).map(|k| c[2][half + k]).collect()
}

/// Centred first-derivative weights of accuracy `order` (even, ≥ 2) on a unit
/// grid: returns `[0, w1, ..., wh]` with `u'(0) ≈ Σ_k wk (u(k) − u(-k))`.
pub fn central_first_derivative(order: usize) -> Vec<f64> {
    let (half, x) = centred_stencil(order);
    let c = fornberg_weights(0.0, &x, 1);
    (0..=half).map(|k| if k == 0 { 0.0 } else { c[1][half + k] }).collect()
}

fn centred_stencil(order: usize) -> (usize, Vec<f64>) {
    assert!(order >= 2 && order.is_multiple_of(2), "stencil order must be even and at least 2, got {order}");
    let half = order / 2;
    let x = (0..=2 * half).map(|i| i as f64 - half as f64).collect();
    (half, x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_derivative_weights_match_known_tables() {
        let w2 = central_second_derivative(2);
        assert_eq!(w2.len(), 2);
        assert!((w2[0] + 2.0).abs() < 1e-14 && (w2[1] - 1.0).abs() < 1e-14);
        let w4 = central_second_derivative(4);
        let expect4 = [-5.0 / 2.0, 4.0 / 3.0, -1.0 / 12.0];
        for (a, b) in w4.iter().zip(expect4) {
            assert!((a - b).abs() < 1e-13, "{w4:?}");
        }
        let w8 = central_second_derivative(8);
        let expect8 = [-205.0 / 72.0, 8.0 / 5.0, -1.0 / 5.0, 8.0 / 315.0, -1.0 / 560.0];
        for (a, b) in w8.iter().zip(expect8) {
            assert!((a - b).abs() < 1e-12, "{w8:?}");
        }
    }

    #[test]
    fn first_derivative_weights_match_known_tables() {
        let w4 = central_first_derivative(4);
        let expect = [0.0, 2.0 / 3.0, -1.0 / 12.0];
        for (a, b) in w4.iter().zip(expect) {
            assert!((a - b).abs() < 1e-13, "{w4:?}");
        }
    }

    #[test]
    fn weights_are_exact_on_polynomials_up_to_the_order() {
        for order in [2, 4, 6, 8, 10, 12] {
            let w = central_second_derivative(order);
            let half = order / 2;
            // exact for x^p, p ≤ order + 1 (even p matter; odd vanish by symmetry)
            for p in (0..=order + 1).step_by(2) {
                let exact = if p == 2 { 2.0 } else { 0.0 };
                let mut approx = w[0] * if p == 0 { 1.0 } else { 0.0 };
                for k in 1..=half {
                    approx += w[k] * 2.0 * (k as f64).powi(p as i32);
                }
                assert!((approx - exact).abs() < 1e-8 * (half as f64).powi(p as i32), "order {order} p {p}");
            }
        }
    }
}
