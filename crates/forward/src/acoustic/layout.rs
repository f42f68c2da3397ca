//! Where the model grid sits inside the padded computational arrays.
//!
//! Along each active axis the padded array holds, in order: `halo` cells that
//! stay zero (so stencils never branch), `width` absorbing-layer cells, the
//! model, `width` absorbing cells, `halo` cells. With a free surface the top
//! has no absorbing layer, and the halo above the surface holds the odd
//! mirror image of the field. In 1D there is one row and no z padding.
//!
//! Rows are padded to a multiple of [`ROW_ALIGN`] cells: the extra columns
//! (at most 15) sit between the model's right edge and the right absorbing
//! layer, as ordinary cells carrying the edge velocity, like the layer
//! itself. With the fields allocated so that column `halo` is on a cache
//! line ([`crate::aligned::AlignedVec`]), every row's computed part starts
//! on one.

/// Padded rows are a multiple of this many cells long, so that every row
/// starts at the same alignment (64 bytes for `f32`).
pub const ROW_ALIGN: usize = 16;

/// Padded geometry of one acoustic problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Whether z is an active axis (2D).
    pub has_z: bool,
    /// Model rows (1 in 1D).
    pub nz: usize,
    /// Model columns.
    pub nx: usize,
    /// Stencil half-width `space_order / 2`.
    pub halo: usize,
    /// Absorbing-layer width in cells.
    pub width: usize,
    /// Whether the top is a free surface (no absorbing layer above).
    pub free_surface: bool,
    /// Padded rows.
    pub nzp: usize,
    /// Padded columns (a multiple of [`ROW_ALIGN`]).
    pub nxp: usize,
    /// Padded row of model row 0.
    pub pz: usize,
    /// Padded column of model column 0.
    pub px: usize,
}

impl Layout {
    /// Layout for a model `[nz, nx]` (`nz = 1`, `has_z = false` in 1D).
    pub fn new(has_z: bool, nz: usize, nx: usize, halo: usize, width: usize, free_surface: bool) -> Self {
        let px = halo + width;
        let nxp = (nx + 2 * px).next_multiple_of(ROW_ALIGN);
        let (pz, nzp) = if has_z {
            let top = if free_surface { halo } else { halo + width };
            (top, top + nz + halo + width)
        } else {
            (0, 1)
        };
        Layout { has_z, nz, nx, halo, width, free_surface: free_surface && has_z, nzp, nxp, pz, px }
    }

    /// Number of padded cells.
    pub fn len(&self) -> usize {
        self.nzp * self.nxp
    }

    /// Whether the layout is empty (never).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Flat padded index of model node `(iz, ix)`; model indices may be
    /// negative or past the end by up to `width` (into the absorbing layer).
    pub fn flat(&self, iz: isize, ix: isize) -> usize {
        let row = (self.pz as isize + iz) as usize;
        let col = (self.px as isize + ix) as usize;
        row * self.nxp + col
    }

    /// Whether model node `(iz, ix)` is a computed (non-halo) padded cell.
    pub fn is_computed(&self, iz: isize, ix: isize) -> bool {
        let row = self.pz as isize + iz;
        let col = self.px as isize + ix;
        let rows_ok =
            if self.has_z { row >= self.halo as isize && row < (self.nzp - self.halo) as isize } else { iz == 0 };
        rows_ok && col >= self.halo as isize && col < (self.nxp - self.halo) as isize
    }

    /// Padded rows that are computed.
    pub fn computed_rows(&self) -> std::ops::Range<usize> {
        if self.has_z { self.halo..self.nzp - self.halo } else { 0..1 }
    }

    /// Model cell nearest to padded cell `(row, col)` (clamped into the model).
    pub fn nearest_model_cell(&self, row: usize, col: usize) -> (usize, usize) {
        let iz = (row as isize - self.pz as isize).clamp(0, self.nz as isize - 1) as usize;
        let ix = (col as isize - self.px as isize).clamp(0, self.nx as isize - 1) as usize;
        (iz, ix)
    }
}
