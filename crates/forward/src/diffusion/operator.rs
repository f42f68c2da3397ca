//! The discrete diffusion operator `K(κ)` (`du/dt = −K u + f`), with its
//! model derivative and that derivative's adjoint side by side.
//!
//! Cell-centred finite volumes on a uniform grid: cell `p` exchanges a flux
//! with each neighbour `q` through their shared face, with coefficient
//! `c_pq = k_pq / h²`, `k_pq = 2 κ_p κ_q / (κ_p + κ_q)` (the harmonic mean of
//! the two cells, exact for a layered medium) and `h` the spacing along that
//! axis. A Dirichlet side puts `u = 0` on the boundary face, half a cell
//! outside the first unknown: the flux there uses the boundary cell's `κ` and
//! the distance `h/2`, so it adds `c_b = 2 κ_p / h²` to the diagonal. A
//! Neumann side has no flux. So
//!
//! `(K u)_p = Σ_q c_pq (u_p − u_q) + Σ_b c_b u_p`,
//!
//! symmetric, positive semi-definite (definite with any Dirichlet side), with
//! zero row sums when every side is Neumann (mass is conserved).
//!
//! Model derivative: `zᵀ (∂K/∂κ_j) w` sums, over the faces of cell `j`,
//! `∂c/∂κ_j (z_p − z_q)(w_p − w_q)` with `∂k_pq/∂κ_p = 2 κ_q² / (κ_p + κ_q)²`,
//! plus `(2/h²) z_j w_j` per Dirichlet face of `j`.
//! [`Operator::add_derivative_action`] applies `δK w` (tangent-linear) and
//! [`Operator::add_derivative_adjoint`] accumulates its transpose.

use super::{Boundaries, Boundary};
use pdeinv_grid::Grid;
use rayon::prelude::*;

/// Rows per rayon task when a stencil is applied in parallel.
const ROWS_PER_TASK: usize = 16;

/// `K(κ)` on a grid: per-cell diagonal and per-face coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    nz: usize,
    nx: usize,
    /// `1/dx²`.
    inv_hx2: f64,
    /// `1/dz²` (0 in 1D).
    inv_hz2: f64,
    boundaries: Boundaries,
    kappa: Vec<f64>,
    /// `K_pp`.
    diag: Vec<f64>,
    /// `c` of the face between `p` and `p + 1` (0 in the last column).
    cx: Vec<f64>,
    /// `c` of the face between `p` and `p + nx` (0 in the last row; all 0 in 1D).
    cz: Vec<f64>,
}

/// Harmonic-mean face coefficient `2ab/(a+b)` and its derivatives with
/// respect to `a` and `b`.
#[inline]
fn harmonic(a: f64, b: f64) -> (f64, f64, f64) {
    let s = a + b;
    let inv_s2 = 1.0 / (s * s);
    (2.0 * a * b / s, 2.0 * b * b * inv_s2, 2.0 * a * a * inv_s2)
}

impl Operator {
    /// Build `K` for `kappa` (`[nz, nx]`, validated positive and finite).
    pub fn new(grid: &Grid, boundaries: Boundaries, kappa: &[f64]) -> Self {
        let (nz, nx) = (grid.nz, grid.nx);
        let inv_hx2 = 1.0 / (grid.dx * grid.dx);
        let inv_hz2 = if grid.dimension == 2 { 1.0 / (grid.dz * grid.dz) } else { 0.0 };
        let n = nz * nx;
        let mut diag = vec![0.0; n];
        let mut cx = vec![0.0; n];
        let mut cz = vec![0.0; n];
        for iz in 0..nz {
            for ix in 0..nx {
                let p = iz * nx + ix;
                if ix + 1 < nx {
                    let c = harmonic(kappa[p], kappa[p + 1]).0 * inv_hx2;
                    cx[p] = c;
                    diag[p] += c;
                    diag[p + 1] += c;
                }
                if iz + 1 < nz {
                    let c = harmonic(kappa[p], kappa[p + nx]).0 * inv_hz2;
                    cz[p] = c;
                    diag[p] += c;
                    diag[p + nx] += c;
                }
            }
        }
        let mut op = Operator { nz, nx, inv_hx2, inv_hz2, boundaries, kappa: kappa.to_vec(), diag, cx, cz };
        let mut boundary = vec![0.0; n];
        op.for_each_dirichlet_face(|p, inv_h2| boundary[p] += 2.0 * kappa[p] * inv_h2);
        for (d, b) in op.diag.iter_mut().zip(boundary) {
            *d += b;
        }
        op
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.nz * self.nx
    }

    /// Whether the grid has no cells (never, for a validated grid).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The diffusivity per cell.
    pub fn kappa(&self) -> &[f64] {
        &self.kappa
    }

    /// Call `f(cell, 1/h²)` for every Dirichlet boundary face (a corner cell
    /// of two Dirichlet sides is visited twice).
    fn for_each_dirichlet_face(&self, mut f: impl FnMut(usize, f64)) {
        let (nz, nx) = (self.nz, self.nx);
        let b = self.boundaries;
        if b.x_min == Boundary::Dirichlet {
            (0..nz).for_each(|iz| f(iz * nx, self.inv_hx2));
        }
        if b.x_max == Boundary::Dirichlet {
            (0..nz).for_each(|iz| f(iz * nx + nx - 1, self.inv_hx2));
        }
        if self.inv_hz2 > 0.0 {
            if b.z_min == Boundary::Dirichlet {
                (0..nx).for_each(|ix| f(ix, self.inv_hz2));
            }
            if b.z_max == Boundary::Dirichlet {
                (0..nx).for_each(|ix| f((nz - 1) * nx + ix, self.inv_hz2));
            }
        }
    }

    /// Gershgorin's bound on the largest eigenvalue of `K`:
    /// `max_p (K_pp + Σ_q |K_pq|)`. For constant `κ` it equals the exact
    /// supremum over grid sizes, `4κ/dx² (+ 4κ/dz²)`.
    pub fn gershgorin_bound(&self) -> f64 {
        let nx = self.nx;
        (0..self.len())
            .map(|p| {
                let west = if p % nx > 0 { self.cx[p - 1] } else { 0.0 };
                let north = if p >= nx { self.cz[p - nx] } else { 0.0 };
                self.diag[p] + self.cx[p] + west + self.cz[p] + north
            })
            .fold(0.0, f64::max)
    }

    /// The lower triangle of `I + alpha K` in compressed sparse columns
    /// (`col_ptr`, `row_idx`, `values`), each column's rows ascending: the
    /// diagonal, the x neighbour, the z neighbour.
    pub fn lower_csc(&self, alpha: f64) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
        let (nz, nx, n) = (self.nz, self.nx, self.len());
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::with_capacity(3 * n);
        let mut values = Vec::with_capacity(3 * n);
        col_ptr.push(0);
        for p in 0..n {
            let (iz, ix) = (p / nx, p % nx);
            row_idx.push(p);
            values.push(1.0 + alpha * self.diag[p]);
            if ix + 1 < nx {
                row_idx.push(p + 1);
                values.push(-alpha * self.cx[p]);
            }
            if iz + 1 < nz {
                row_idx.push(p + nx);
                values.push(-alpha * self.cz[p]);
            }
            col_ptr.push(row_idx.len());
        }
        (col_ptr, row_idx, values)
    }

    /// The stencil of `I − alpha K`.
    pub fn stencil(&self, alpha: f64) -> Stencil {
        Stencil {
            nz: self.nz,
            nx: self.nx,
            center: self.diag.iter().map(|&d| 1.0 - alpha * d).collect(),
            east: self.cx.iter().map(|&c| alpha * c).collect(),
            south: self.cz.iter().map(|&c| alpha * c).collect(),
        }
    }

    /// Tangent-linear model derivative: `out += (Σ_j δκ_j ∂K/∂κ_j) w`.
    pub fn add_derivative_action(&self, w: &[f64], dkappa: &[f64], out: &mut [f64]) {
        let (nz, nx, kappa) = (self.nz, self.nx, &self.kappa);
        let mut face = |p: usize, q: usize, inv_h2: f64| {
            let (_, da, db) = harmonic(kappa[p], kappa[q]);
            let dc = (da * dkappa[p] + db * dkappa[q]) * inv_h2;
            let flux = dc * (w[p] - w[q]);
            out[p] += flux;
            out[q] -= flux;
        };
        for iz in 0..nz {
            for ix in 0..nx {
                let p = iz * nx + ix;
                if ix + 1 < nx {
                    face(p, p + 1, self.inv_hx2);
                }
                if iz + 1 < nz {
                    face(p, p + nx, self.inv_hz2);
                }
            }
        }
        self.for_each_dirichlet_face(|p, inv_h2| out[p] += 2.0 * inv_h2 * dkappa[p] * w[p]);
    }

    /// Adjoint of [`add_derivative_action`](Self::add_derivative_action):
    /// `gradient_j += scale · zᵀ (∂K/∂κ_j) w` for every cell `j`.
    pub fn add_derivative_adjoint(&self, z: &[f64], w: &[f64], scale: f64, gradient: &mut [f64]) {
        let (nz, nx, kappa) = (self.nz, self.nx, &self.kappa);
        let mut face = |p: usize, q: usize, inv_h2: f64| {
            let (_, da, db) = harmonic(kappa[p], kappa[q]);
            let product = scale * inv_h2 * (z[p] - z[q]) * (w[p] - w[q]);
            gradient[p] += da * product;
            gradient[q] += db * product;
        };
        for iz in 0..nz {
            for ix in 0..nx {
                let p = iz * nx + ix;
                if ix + 1 < nx {
                    face(p, p + 1, self.inv_hx2);
                }
                if iz + 1 < nz {
                    face(p, p + nx, self.inv_hz2);
                }
            }
        }
        self.for_each_dirichlet_face(|p, inv_h2| gradient[p] += scale * 2.0 * inv_h2 * z[p] * w[p]);
    }
}

/// A symmetric five-point stencil (three-point in 1D) on `[nz, nx]`,
/// `(S u)_p = center_p u_p + east_p u_{p+1} + east_{p−1} u_{p−1} +
/// south_p u_{p+nx} + south_{p−nx} u_{p−nx}`: symmetric, so it is its own
/// adjoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Stencil {
    nz: usize,
    nx: usize,
    center: Vec<f64>,
    /// Coupling to the next cell along x (0 in the last column).
    east: Vec<f64>,
    /// Coupling to the next cell along z (0 in the last row).
    south: Vec<f64>,
}

impl Stencil {
    /// `out = S u`, row by row (rows spread over the rayon pool when
    /// `parallel`; the arithmetic per cell is the same either way, so the
    /// result is bitwise identical).
    pub fn apply(&self, u: &[f64], out: &mut [f64], parallel: bool) {
        let nx = self.nx;
        if parallel && self.nz >= 2 * ROWS_PER_TASK {
            out.par_chunks_mut(nx)
                .enumerate()
                .with_min_len(ROWS_PER_TASK)
                .for_each(|(iz, row)| self.apply_row(iz, u, row));
        } else {
            out.chunks_exact_mut(nx).enumerate().for_each(|(iz, row)| self.apply_row(iz, u, row));
        }
    }

    /// One row of [`apply`](Self::apply); each term is added in the same
    /// order for every cell: centre, east, west, south, north.
    fn apply_row(&self, iz: usize, u: &[f64], out: &mut [f64]) {
        let nx = self.nx;
        let p = iz * nx;
        let u_row = &u[p..p + nx];
        let east = &self.east[p..p + nx - 1];
        for ((o, &c), &v) in out.iter_mut().zip(&self.center[p..p + nx]).zip(u_row) {
            *o = c * v;
        }
        for ((o, &e), &v) in out[..nx - 1].iter_mut().zip(east).zip(&u_row[1..]) {
            *o += e * v;
        }
        for ((o, &e), &v) in out[1..].iter_mut().zip(east).zip(&u_row[..nx - 1]) {
            *o += e * v;
        }
        if iz + 1 < self.nz {
            for ((o, &s), &v) in out.iter_mut().zip(&self.south[p..p + nx]).zip(&u[p + nx..p + 2 * nx]) {
                *o += s * v;
            }
        }
        if iz > 0 {
            for ((o, &s), &v) in out.iter_mut().zip(&self.south[p - nx..p]).zip(&u[p - nx..p]) {
                *o += s * v;
            }
        }
    }
}
