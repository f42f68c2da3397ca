//! Linear diffusion `du/dt = ∇·(κ ∇u) + f` in 1D and 2D with the diffusivity
//! `κ > 0` per grid cell as the model parameter, and its exact discrete
//! adjoint. `f64` only: the implicit schemes factorise a sparse matrix in
//! double precision, and diffusion problems are small next to wave problems.
//!
//! Space ([`operator`]): cell-centred finite volumes; the unknowns sit at the
//! grid points (cell centres), `κ` on a face is the harmonic mean of the two
//! cells, and each side of the grid is Dirichlet (`u = 0` on the boundary
//! face, half a cell outside the first unknown: flux `κ_cell·u/(h/2)`) or
//! Neumann (no flux). This gives `du/dt = −K u + f` with `K` symmetric
//! positive semi-definite. (SciPy's anchor puts its zero ghost value a whole
//! cell out; the matrix has the same sparsity, only the boundary diagonal
//! differs.)
//!
//! Time ([`Scheme`]), the θ-scheme with `θ = 0, 1, ½`:
//! `(I + θ dt K) u^{n+1} = (I − (1−θ) dt K) u^n + dt f^{n+θ}`, with the
//! source sampled as `f^{n+θ} = (1−θ) f(t_n) + θ f(t_{n+1})`, so that
//! Crank-Nicolson is second order also with time-dependent sources. The
//! explicit scheme (`θ = 0`) is stable for `dt ≤ 2/λ_max(K)`; the model
//! checks it against Gershgorin's bound on `λ_max` (exact for constant `κ`
//! as the grid is refined) and refuses a larger `dt`.
//!
//! Implicit systems are assembled in compressed sparse columns and
//! factorised once per model by faer's supernodal sparse Cholesky, after a
//! fill-reducing ordering from the grid geometry ([`solver`]); every step
//! applies `I − (1−θ) dt K` as a stencil on slices and solves with the
//! factor. Steps allocate nothing: the scratch lives in the states.
//!
//! Sources are points with bilinear (or any) interpolation weights: injection
//! is the transpose of sampling divided by the cell volume (a density), with
//! one time function per source or one shared. Receivers sample `u^n`; the
//! observation at `n` is `u` at `t_n = n·dt` (`u^0` the initial condition, 0
//! by default).
//!
//! The adjoint ([`AdjointPropagator`]): with `A = I + θ dt K`,
//! `B = I − (1−θ) dt K` (both symmetric) and `F_n(u) = A⁻¹(B u + dt f^{n+θ})`,
//! one reverse step is `z = A⁻¹ μ`, `μ ← B z` (the same factor: `A` is
//! symmetric), and `∂J/∂κ_j += −dt zᵀ (∂K/∂κ_j) ((1−θ) u^n + θ u^{n+1})`.
//! The implicit schemes need `u^{n+1}`: the adjoint state keeps the forward
//! state of the previous reverse step (`S_{n+1}`, handed to
//! `step_adjoint(n + 1)`), and recomputes `F_n(S_n)` with the factor only
//! when it does not have it (the first reverse step, or out-of-order calls).
//! The forward map is deterministic, so both give bitwise the same gradient
//! under any checkpoint schedule.

pub mod benchmark;
pub mod operator;
pub mod solver;

use crate::error::ForwardError;
use crate::points::PointOperator;
use crate::propagator::{AdjointPropagator, Parallelism, Propagator};
use operator::{Operator, Stencil};
use pdeinv_grid::{Grid, GridError, PointWeights};
use solver::{CholeskyFactor, SolveWork};
use thiserror::Error;

pub use benchmark::DiffusionBenchmark;
pub use solver::FillOrdering;

/// Invalid input to the diffusion solver; each message names the value at
/// fault and what would be valid.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DiffusionError {
    /// Grid geometry problem (a point outside the grid, a bad shape).
    #[error(transparent)]
    Grid(#[from] GridError),
    /// The explicit scheme's time step exceeds its stability limit.
    #[error(
        "time step dt = {dt:e} exceeds the explicit stability limit dt <= 2/lambda_max = {limit:.6e} (lambda_max <= {lambda_max:.6e}, Gershgorin's bound for this kappa and grid); use dt <= {limit:.6e} or an implicit scheme (backward Euler, Crank-Nicolson)"
    )]
    Unstable {
        /// The requested step.
        dt: f64,
        /// The largest stable step, `2/lambda_max`.
        limit: f64,
        /// The bound on the largest eigenvalue of `K`.
        lambda_max: f64,
    },
    /// A diffusivity that no medium can have.
    #[error("kappa has an invalid value {value} at cell {index}: it must be a finite positive number")]
    InvalidKappa {
        /// The value.
        value: f64,
        /// Flat index `iz * nx + ix`.
        index: usize,
    },
    /// The sparse factorisation failed (out of memory, or a matrix that is
    /// not positive definite, which a valid model cannot produce).
    #[error("sparse Cholesky factorisation: {0}")]
    Factorization(String),
    /// Any other invalid setting; the message names it.
    #[error("{0}")]
    Invalid(String),
}

impl From<DiffusionError> for ForwardError {
    fn from(error: DiffusionError) -> Self {
        match error {
            DiffusionError::Grid(e) => ForwardError::Grid(e),
            other => ForwardError::Invalid(other.to_string()),
        }
    }
}

/// Condition on one side of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// `u = 0` on the boundary face, half a cell outside the first unknown.
    Dirichlet,
    /// Zero flux through the boundary face.
    Neumann,
}

/// The condition on each side (z sides are ignored in 1D).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boundaries {
    /// Side `z = z0` (top).
    pub z_min: Boundary,
    /// Side `z = z_max` (bottom).
    pub z_max: Boundary,
    /// Side `x = x0` (left).
    pub x_min: Boundary,
    /// Side `x = x_max` (right).
    pub x_max: Boundary,
}

impl Boundaries {
    /// The same condition on every side.
    pub fn all(boundary: Boundary) -> Self {
        Boundaries { z_min: boundary, z_max: boundary, x_min: boundary, x_max: boundary }
    }
}

/// Time discretisation: the θ-scheme
/// `(I + θ dt K) u^{n+1} = (I − (1−θ) dt K) u^n + dt f^{n+θ}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Forward Euler (`θ = 0`): first order, stable for `dt ≤ 2/λ_max(K)`.
    Explicit,
    /// Backward Euler (`θ = 1`): first order, L-stable.
    BackwardEuler,
    /// Crank-Nicolson (`θ = ½`): second order, A-stable.
    CrankNicolson,
}

impl Scheme {
    /// The implicitness `θ`.
    pub fn theta(self) -> f64 {
        match self {
            Scheme::Explicit => 0.0,
            Scheme::BackwardEuler => 1.0,
            Scheme::CrankNicolson => 0.5,
        }
    }
}

/// Everything that defines a diffusion simulation except `κ` and the
/// sources and receivers.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffusionConfig {
    /// The grid: its points are the cell centres.
    pub grid: Grid,
    /// Time discretisation.
    pub scheme: Scheme,
    /// Boundary condition per side.
    pub boundaries: Boundaries,
    /// Time step (s).
    pub dt: f64,
    /// Number of time samples (observations at `n = 0..nt`).
    pub nt: usize,
    /// Fill-reducing ordering of the implicit factorisation.
    pub ordering: FillOrdering,
    /// Thread use inside each step and the factorisation.
    pub parallelism: Parallelism,
}

impl DiffusionConfig {
    /// A configuration with the default ordering and row parallelism.
    pub fn new(grid: Grid, scheme: Scheme, boundaries: Boundaries, dt: f64, nt: usize) -> Self {
        DiffusionConfig {
            grid,
            scheme,
            boundaries,
            dt,
            nt,
            ordering: FillOrdering::default(),
            parallelism: Parallelism::Rows,
        }
    }

    fn parallel(&self) -> bool {
        self.parallelism == Parallelism::Rows
    }
}

/// `κ`, the operator and (for implicit schemes) the factorised system
/// matrix, shared by all shots.
#[derive(Debug, Clone)]
pub struct DiffusionModel {
    config: DiffusionConfig,
    operator: Operator,
    /// `I − (1−θ) dt K`; `None` when it is the identity (backward Euler).
    rhs: Option<Stencil>,
    /// `I + θ dt K` factorised; `None` for the explicit scheme.
    factor: Option<CholeskyFactor>,
    lambda_bound: f64,
}

/// Check the grid fields (they are public, so a grid may not come from its
/// constructors).
fn check_grid(grid: &Grid) -> Result<(), DiffusionError> {
    let shape_ok = match grid.dimension {
        1 => grid.nz == 1 && grid.nx >= 2,
        2 => grid.nz >= 2 && grid.nx >= 2,
        _ => false,
    };
    if !shape_ok {
        return Err(GridError::Invalid(format!(
            "dimension {} with shape [{}, {}]: a 1D grid needs nz = 1 and nx >= 2, a 2D grid nz, nx >= 2",
            grid.dimension, grid.nz, grid.nx
        ))
        .into());
    }
    for (name, h) in [("dz", grid.dz), ("dx", grid.dx)] {
        if !(h.is_finite() && h > 0.0) {
            return Err(GridError::Invalid(format!("spacing {name} = {h} must be a positive finite number")).into());
        }
    }
    Ok(())
}

/// Check `kappa` against the grid.
fn check_kappa(grid: &Grid, kappa: &[f64]) -> Result<(), DiffusionError> {
    if kappa.len() != grid.len() {
        return Err(DiffusionError::Invalid(format!(
            "kappa has {} values but the grid {:?} has {} cells",
            kappa.len(),
            grid.shape(),
            grid.len()
        )));
    }
    match kappa.iter().position(|k| !(k.is_finite() && *k > 0.0)) {
        Some(index) => Err(DiffusionError::InvalidKappa { value: kappa[index], index }),
        None => Ok(()),
    }
}

/// The largest stable explicit time step `2/λ` for `kappa` on `grid`, with
/// `λ` Gershgorin's bound on the largest eigenvalue of `K`.
pub fn explicit_dt_limit(grid: &Grid, boundaries: Boundaries, kappa: &[f64]) -> Result<f64, DiffusionError> {
    check_grid(grid)?;
    check_kappa(grid, kappa)?;
    Ok(2.0 / Operator::new(grid, boundaries, kappa).gershgorin_bound())
}

/// The gradient with respect to `log κ` from the gradient with respect to
/// `κ` (chain rule `∂J/∂log κ = κ ∂J/∂κ`), in place.
pub fn log_kappa_gradient(kappa: &[f64], gradient: &mut [f64]) {
    for (g, k) in gradient.iter_mut().zip(kappa) {
        *g *= k;
    }
}

impl DiffusionModel {
    /// Build the operator for `kappa` (`[nz, nx]` row-major, or `[nx]`), and
    /// for implicit schemes assemble and factorise `I + θ dt K`. Fails on an
    /// invalid grid, `kappa`, `dt` or `nt`, or an explicit `dt` above the
    /// stability limit.
    pub fn new(config: DiffusionConfig, kappa: &[f64]) -> Result<Self, DiffusionError> {
        let grid = &config.grid;
        check_grid(grid)?;
        check_kappa(grid, kappa)?;
        let dt = config.dt;
        if !(dt.is_finite() && dt > 0.0) {
            return Err(DiffusionError::Invalid(format!("dt = {dt} must be a positive finite number of seconds")));
        }
        if config.nt < 2 {
            return Err(DiffusionError::Invalid(format!("nt = {} must be at least 2", config.nt)));
        }
        let operator = Operator::new(grid, config.boundaries, kappa);
        let lambda_bound = operator.gershgorin_bound();
        let theta = config.scheme.theta();
        let limit = 2.0 / lambda_bound;
        if theta == 0.0 && dt > limit {
            return Err(DiffusionError::Unstable { dt, limit, lambda_max: lambda_bound });
        }
        let rhs = (theta < 1.0).then(|| operator.stencil((1.0 - theta) * dt));
        let factor = if theta > 0.0 {
            let (col_ptr, row_idx, values) = operator.lower_csc(theta * dt);
            Some(CholeskyFactor::new(
                grid.dimension,
                (grid.nz, grid.nx),
                (&col_ptr, &row_idx, &values),
                config.ordering,
                config.parallel(),
            )?)
        } else {
            None
        };
        Ok(DiffusionModel { config, operator, rhs, factor, lambda_bound })
    }

    /// The configuration.
    pub fn config(&self) -> &DiffusionConfig {
        &self.config
    }

    /// The diffusivity per cell.
    pub fn kappa(&self) -> &[f64] {
        self.operator.kappa()
    }

    /// Gershgorin's bound on the largest eigenvalue of `K`.
    pub fn eigenvalue_bound(&self) -> f64 {
        self.lambda_bound
    }

    /// The Cholesky factor of `I + θ dt K` (implicit schemes).
    pub fn factor(&self) -> Option<&CholeskyFactor> {
        self.factor.as_ref()
    }

    /// A state holding `u` (zeros if `None`) with its step scratch.
    pub fn state(&self, u: Option<&[f64]>) -> DiffusionState {
        let n = self.config.grid.len();
        DiffusionState { u: u.map_or_else(|| vec![0.0; n], <[f64]>::to_vec), work: StepWork::new(self) }
    }

    /// Set up one shot: point sources with their time functions (samples at
    /// `t_n`, at least `nt` of them; any extra are ignored) and receivers.
    /// Interpolation weights must fall on grid cells (bilinear weights
    /// always do).
    pub fn shot(
        &self,
        sources: &[PointWeights],
        time_functions: SourceTimeFunctions<'_>,
        receivers: &[PointWeights],
    ) -> Result<DiffusionShot<'_>, DiffusionError> {
        let nt = self.config.nt;
        let series: Vec<&[f64]> = match time_functions {
            SourceTimeFunctions::Shared(w) => vec![w; sources.len()],
            SourceTimeFunctions::PerSource(ws) => {
                if ws.len() != sources.len() {
                    return Err(DiffusionError::Invalid(format!(
                        "{} source time functions for {} sources; give one per source or one shared",
                        ws.len(),
                        sources.len()
                    )));
                }
                ws.iter().map(Vec::as_slice).collect()
            }
        };
        let inverse_volume = 1.0 / self.config.grid.cell_volume();
        let mut amplitudes = vec![0.0; nt * sources.len()];
        for (s, w) in series.iter().enumerate() {
            if w.len() < nt {
                return Err(DiffusionError::Invalid(format!(
                    "the time function of source {s} has {} samples but nt = {nt}",
                    w.len()
                )));
            }
            if let Some(n) = w[..nt].iter().position(|v| !v.is_finite()) {
                return Err(DiffusionError::Invalid(format!(
                    "the time function of source {s} is not finite at sample {n}: {}",
                    w[n]
                )));
            }
            for n in 0..nt {
                amplitudes[n * sources.len() + s] = w[n] * inverse_volume;
            }
        }
        Ok(DiffusionShot {
            model: self,
            sources: self.point_operator(sources, "source")?,
            amplitudes,
            receivers: self.point_operator(receivers, "receiver")?,
            initial: None,
        })
    }

    /// Sparse operator of `points`, checking that every weight lands on a cell.
    fn point_operator(&self, points: &[PointWeights], what: &str) -> Result<PointOperator<f64>, DiffusionError> {
        let grid = &self.config.grid;
        for (p, point) in points.iter().enumerate() {
            for &(iz, ix, w) in &point.entries {
                let inside = iz >= 0 && (iz as usize) < grid.nz && ix >= 0 && (ix as usize) < grid.nx;
                if !inside || !w.is_finite() {
                    return Err(DiffusionError::Invalid(format!(
                        "{what} {p} has interpolation weight {w} at grid node ({iz}, {ix}), outside the grid [{}, {}] or not finite; use bilinear interpolation",
                        grid.nz, grid.nx
                    )));
                }
            }
        }
        Ok(PointOperator::new(points, |iz, ix| iz as usize * grid.nx + ix as usize))
    }

    /// `u ← A⁻¹ (B u + forcing)`: one step, with `forcing` adding
    /// `dt f^{n+θ}` to the right-hand side.
    fn advance(&self, u: &mut Vec<f64>, work: &mut StepWork, forcing: impl FnOnce(&mut [f64])) {
        let parallel = self.config.parallel();
        work.fit(self);
        let r = &mut work.rhs;
        match &self.rhs {
            Some(stencil) => stencil.apply(u, r, parallel),
            None => r.copy_from_slice(u),
        }
        forcing(r);
        if let Some(factor) = &self.factor {
            factor.solve_in_place(r, &mut work.solve, parallel);
        }
        std::mem::swap(u, r);
    }

    /// `z ← A⁻¹ z` (identity for the explicit scheme).
    fn solve(&self, z: &mut [f64], work: &mut SolveWork) {
        if let Some(factor) = &self.factor {
            factor.solve_in_place(z, work, self.config.parallel());
        }
    }

    /// `out = B z`.
    fn apply_rhs_operator(&self, z: &[f64], out: &mut [f64]) {
        match &self.rhs {
            Some(stencil) => stencil.apply(z, out, self.config.parallel()),
            None => out.copy_from_slice(z),
        }
    }
}

/// Scratch of one step: the right-hand side and the solve's buffers. Not
/// part of the logical state: a clone starts empty and is sized on its
/// first step.
#[derive(Debug, Default)]
pub struct StepWork {
    rhs: Vec<f64>,
    solve: SolveWork,
}

impl StepWork {
    fn new(model: &DiffusionModel) -> Self {
        StepWork {
            rhs: vec![0.0; model.config.grid.len()],
            solve: model.factor.as_ref().map_or_else(SolveWork::default, SolveWork::new),
        }
    }

    /// Size the right-hand side (the solve sizes its own buffers).
    fn fit(&mut self, model: &DiffusionModel) {
        let n = model.config.grid.len();
        if self.rhs.len() != n {
            self.rhs.resize(n, 0.0);
        }
    }
}

/// The state of a diffusion simulation at time `n`: `u^n` and step scratch.
#[derive(Debug)]
pub struct DiffusionState {
    /// `u^n` per cell.
    pub u: Vec<f64>,
    work: StepWork,
}

impl Clone for DiffusionState {
    /// Clones `u` only: checkpoints hold no scratch.
    fn clone(&self) -> Self {
        DiffusionState { u: self.u.clone(), work: StepWork::default() }
    }

    /// Copies `u` and keeps this state's scratch.
    fn clone_from(&mut self, source: &Self) {
        self.u.clone_from(&source.u);
    }
}

/// Source time functions of a shot.
#[derive(Debug, Clone, Copy)]
pub enum SourceTimeFunctions<'a> {
    /// One time function for every source.
    Shared(&'a [f64]),
    /// One time function per source, in source order.
    PerSource(&'a [Vec<f64>]),
}

/// One diffusion experiment: sources, receivers and an initial condition on
/// a model. Implements [`Propagator`] and [`AdjointPropagator`] with
/// respect to `κ`.
#[derive(Debug, Clone)]
pub struct DiffusionShot<'a> {
    model: &'a DiffusionModel,
    sources: PointOperator<f64>,
    /// `w_s(t_n) / cell volume`, `[nt, sources]`.
    amplitudes: Vec<f64>,
    receivers: PointOperator<f64>,
    initial: Option<Vec<f64>>,
}

impl DiffusionShot<'_> {
    /// Start from `u0` (one value per cell, finite) instead of zero.
    pub fn with_initial_condition(mut self, u0: &[f64]) -> Result<Self, DiffusionError> {
        let grid = &self.model.config.grid;
        if u0.len() != grid.len() {
            return Err(DiffusionError::Invalid(format!(
                "the initial condition has {} values but the grid {:?} has {} cells",
                u0.len(),
                grid.shape(),
                grid.len()
            )));
        }
        if let Some(i) = u0.iter().position(|v| !v.is_finite()) {
            return Err(DiffusionError::Invalid(format!("the initial condition is not finite at cell {i}: {}", u0[i])));
        }
        self.initial = Some(u0.to_vec());
        Ok(self)
    }

    /// The model.
    pub fn model(&self) -> &DiffusionModel {
        self.model
    }

    /// `r += dt f^{n+θ}`: sources at `t_n` and `t_{n+1}` weighted by `1−θ`
    /// and `θ` (samples past `nt` count as zero).
    fn add_forcing(&self, n: usize, r: &mut [f64]) {
        let count = self.sources.len();
        if count == 0 {
            return;
        }
        let (dt, theta) = (self.model.config.dt, self.model.config.scheme.theta());
        let sample = |k: usize, s: usize| self.amplitudes.get(k * count + s).copied().unwrap_or(0.0);
        for s in 0..count {
            let mut a = 0.0;
            if theta < 1.0 {
                a += (1.0 - theta) * sample(n, s);
            }
            if theta > 0.0 {
                a += theta * sample(n + 1, s);
            }
            let a = dt * a;
            for (i, w) in self.sources.entries(s) {
                r[i] += w * a;
            }
        }
    }
}

impl Propagator for DiffusionShot<'_> {
    type Real = f64;
    type State = DiffusionState;

    fn nt(&self) -> usize {
        self.model.config.nt
    }

    fn channels(&self) -> usize {
        self.receivers.len()
    }

    fn initial_state(&self) -> DiffusionState {
        self.model.state(self.initial.as_deref())
    }

    fn step(&self, n: usize, state: &mut DiffusionState) {
        self.model.advance(&mut state.u, &mut state.work, |r| self.add_forcing(n, r));
    }

    fn observe(&self, _n: usize, state: &DiffusionState, out: &mut [f64]) {
        self.receivers.sample(&state.u, out);
    }

    fn state_bytes(&self) -> usize {
        std::mem::size_of::<f64>() * self.model.config.grid.len()
    }
}

/// The adjoint state: `μ` (the adjoint of `u`) and the scratch of a reverse
/// step, including the forward state `u^{n+1}` kept from the previous
/// reverse step.
#[derive(Debug)]
pub struct DiffusionAdjoint {
    /// `μ`, the adjoint of `u^n`.
    pub mu: Vec<f64>,
    /// `A⁻¹ μ`.
    z: Vec<f64>,
    /// `(1−θ) u^n + θ u^{n+1}`.
    w: Vec<f64>,
    /// `u^{n+1}`, valid for step `next_step`.
    next: Vec<f64>,
    next_step: Option<usize>,
    /// Scratch to recompute `u^{n+1}`.
    work: StepWork,
    solve: SolveWork,
}

impl AdjointPropagator for DiffusionShot<'_> {
    type AdjointState = DiffusionAdjoint;

    fn parameters(&self) -> usize {
        self.model.config.grid.len()
    }

    fn initial_adjoint(&self) -> DiffusionAdjoint {
        let n = self.model.config.grid.len();
        DiffusionAdjoint {
            mu: vec![0.0; n],
            z: vec![0.0; n],
            w: vec![0.0; n],
            next: vec![0.0; n],
            next_step: None,
            work: StepWork::new(self.model),
            solve: self.model.factor.as_ref().map_or_else(SolveWork::default, SolveWork::new),
        }
    }

    /// `z = A⁻¹ μ`; `gradient += −dt zᵀ (∂K/∂κ) w` with
    /// `w = (1−θ) u^n + θ u^{n+1}`; `μ ← B z`.
    fn step_adjoint(&self, n: usize, forward: &DiffusionState, adjoint: &mut DiffusionAdjoint, gradient: &mut [f64]) {
        let model = self.model;
        let theta = model.config.scheme.theta();
        let a = adjoint;
        a.z.copy_from_slice(&a.mu);
        model.solve(&mut a.z, &mut a.solve);
        if theta > 0.0 {
            if a.next_step != Some(n + 1) {
                a.next.copy_from_slice(&forward.u);
                model.advance(&mut a.next, &mut a.work, |r| self.add_forcing(n, r));
            }
            for ((w, &u), &next) in a.w.iter_mut().zip(&forward.u).zip(&a.next) {
                *w = (1.0 - theta) * u + theta * next;
            }
            model.operator.add_derivative_adjoint(&a.z, &a.w, -model.config.dt, gradient);
            a.next.copy_from_slice(&forward.u);
            a.next_step = Some(n);
        } else {
            model.operator.add_derivative_adjoint(&a.z, &forward.u, -model.config.dt, gradient);
        }
        model.apply_rhs_operator(&a.z, &mut a.mu);
    }

    fn inject_residual(&self, _n: usize, _forward: &DiffusionState, residual: &[f64], adjoint: &mut DiffusionAdjoint) {
        self.receivers.inject(residual, &mut adjoint.mu);
    }

    /// Nothing to fold: the reverse steps add to the gradient directly.
    fn finish_gradient(&self, _adjoint: &mut DiffusionAdjoint, _gradient: &mut [f64]) {}

    /// `δu ← A⁻¹ (B δu − dt δK w)`, `w = (1−θ) u^n + θ u^{n+1}`. Allocates
    /// its scratch on every call: a verification tool, not a production path.
    fn step_linearized(&self, n: usize, forward: &DiffusionState, tangent: &mut DiffusionState, dm: &[f64]) {
        let model = self.model;
        let theta = model.config.scheme.theta();
        let mut w = forward.u.clone();
        if theta > 0.0 {
            let mut next = forward.clone();
            self.step(n, &mut next);
            for (w, &next) in w.iter_mut().zip(&next.u) {
                *w = (1.0 - theta) * *w + theta * next;
            }
        }
        let mut dk_w = vec![0.0; w.len()];
        model.operator.add_derivative_action(&w, dm, &mut dk_w);
        let dt = model.config.dt;
        model.advance(&mut tangent.u, &mut tangent.work, |r| {
            for (r, d) in r.iter_mut().zip(&dk_w) {
                *r -= dt * d;
            }
        });
    }
}
