//! The floating-point types the kernels run in: `f32` for production runs,
//! `f64` for gradient tests, through one generic code path.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{AddAssign, MulAssign, SubAssign};

/// A kernel scalar: `f32` or `f64`.
pub trait Real:
    num_traits::Float + AddAssign + SubAssign + MulAssign + Sum + Default + Debug + Send + Sync + 'static
{
    /// Name used in files and messages ("f32" or "f64").
    const NAME: &'static str;
    /// Convert from `f64` (rounding to nearest for `f32`).
    fn of(x: f64) -> Self;
    /// Widen to `f64`.
    fn as_f64(self) -> f64;
    /// The values as `f32`s when `Self` is `f32` (for kernels written for it).
    fn as_f32s(values: &[Self]) -> Option<&[f32]>;
    /// The values as `f32`s when `Self` is `f32`.
    fn as_f32s_mut(values: &mut [Self]) -> Option<&mut [f32]>;
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self as f64
    }
    fn as_f32s(values: &[Self]) -> Option<&[f32]> {
        Some(values)
    }
    fn as_f32s_mut(values: &mut [Self]) -> Option<&mut [f32]> {
        Some(values)
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn of(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
    fn as_f32s(_: &[Self]) -> Option<&[f32]> {
        None
    }
    fn as_f32s_mut(_: &mut [Self]) -> Option<&mut [f32]> {
        None
    }
}
