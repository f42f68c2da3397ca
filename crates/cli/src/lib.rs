//! placeholder
/// Entry point.
pub fn main() {}
