//! The few dense-vector operations the optimisers need, written as plain
//! sequential loops so that every sum is taken in the same order on every run
//! (no threads, no reassociation): the same inputs give bitwise the same
//! outputs.

/// `Σ a_i b_i`, summed from index 0 upwards.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut sum = 0.0;
    for (x, y) in a.iter().zip(b) {
        sum += x * y;
    }
    sum
}

/// `‖a‖₂`.
pub(crate) fn norm2(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `max |a_i|` (0 for an empty slice).
pub(crate) fn norm_inf(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m: f64, v| m.max(v.abs()))
}

/// `y += a·x`.
pub(crate) fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    debug_assert_eq!(x.len(), y.len());
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// `a − b`.
pub(crate) fn sub(a: &[f64], b: &[f64]) -> Vec<f64> {
    debug_assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// `Σ g_i (x_i − x0_i)`: the first-order change predicted for a move from
/// `x0` to `x`, without forming the difference.
pub(crate) fn predicted_change(g: &[f64], x: &[f64], x0: &[f64]) -> f64 {
    debug_assert_eq!(g.len(), x.len());
    debug_assert_eq!(g.len(), x0.len());
    let mut sum = 0.0;
    for ((gi, xi), x0i) in g.iter().zip(x).zip(x0) {
        sum += gi * (xi - x0i);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_operations() {
        let a = [1.0, -2.0, 3.0];
        let b = [4.0, 5.0, -6.0];
        assert_eq!(dot(&a, &b), 4.0 - 10.0 - 18.0);
        assert_eq!(norm_inf(&b), 6.0);
        assert_eq!(norm2(&[3.0, 4.0]), 5.0);
        let mut y = b.to_vec();
        axpy(2.0, &a, &mut y);
        assert_eq!(y, vec![6.0, 1.0, 0.0]);
        assert_eq!(sub(&a, &b), vec![-3.0, -7.0, 9.0]);
        assert_eq!(predicted_change(&[1.0, 2.0], &[3.0, 5.0], &[1.0, 1.0]), 2.0 + 8.0);
    }
}
