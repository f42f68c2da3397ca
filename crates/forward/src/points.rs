//! Sparse operators between point positions and a field: sampling
//! (`d_p = Σ_i w_pi u_i`) and injection, which applies the same weights
//! transposed (`u_i += Σ_p w_pi a_p`), so the two are exact adjoints.

use crate::real::Real;
use pdeinv_grid::PointWeights;

/// Interpolation weights of a set of points, stored as flat field indices.
#[derive(Debug, Clone, PartialEq)]
pub struct PointOperator<T> {
    /// `starts[p]..starts[p + 1]` are the entries of point `p`.
    starts: Vec<usize>,
    index: Vec<usize>,
    weight: Vec<T>,
}

impl<T: Real> PointOperator<T> {
    /// Build from per-point grid weights; `to_flat` maps a grid node
    /// `(iz, ix)` to a flat field index.
    pub fn new(points: &[PointWeights], to_flat: impl Fn(isize, isize) -> usize) -> Self {
        let mut starts = Vec::with_capacity(points.len() + 1);
        let mut index = Vec::new();
        let mut weight = Vec::new();
        starts.push(0);
        for p in points {
            for &(iz, ix, w) in &p.entries {
                index.push(to_flat(iz, ix));
                weight.push(T::of(w));
            }
            starts.push(index.len());
        }
        PointOperator { starts, index, weight }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Flat indices and weights of point `p`.
    pub fn entries(&self, p: usize) -> impl Iterator<Item = (usize, T)> + '_ {
        let range = self.starts[p]..self.starts[p + 1];
        self.index[range.clone()].iter().copied().zip(self.weight[range].iter().copied())
    }

    /// `out[p] = Σ_i w_pi field_i`.
    pub fn sample(&self, field: &[T], out: &mut [T]) {
        for (p, o) in out.iter_mut().enumerate().take(self.len()) {
            *o = self.entries(p).map(|(i, w)| w * field[i]).sum();
        }
    }

    /// `field_i += Σ_p w_pi amplitude_p`: the transpose of [`sample`](Self::sample).
    pub fn inject(&self, amplitudes: &[T], field: &mut [T]) {
        for (p, &a) in amplitudes.iter().enumerate().take(self.len()) {
            for (i, w) in self.entries(p) {
                field[i] += w * a;
            }
        }
    }

    /// `field_i += coefficient_i Σ_p w_pi amplitude_p`: the transpose of
    /// [`sample`](Self::sample), scaled node by node by `coefficient`.
    pub fn inject_scaled(&self, amplitudes: &[T], coefficient: &[T], field: &mut [T]) {
        for (p, &a) in amplitudes.iter().enumerate().take(self.len()) {
            for (i, w) in self.entries(p) {
                field[i] += coefficient[i] * w * a;
            }
        }
    }
}
