//! The size of this CPU's level-2 cache, read once through CPUID (the
//! `raw-cpuid` crate, which faer's dependencies already build), for the
//! choices that depend on what stays cached from one sweep over the grid to
//! the next (whether the adjoint fuses two reversals: `acoustic::pair`).

use std::sync::OnceLock;

/// Assumed where CPUID does not say (another architecture, or a
/// hypervisor that hides the leaf): a common size of the last decade's
/// server and desktop cores.
pub const FALLBACK_LEVEL2_BYTES: usize = 1 << 20;

/// The level-2 cache of one core, in bytes.
pub fn level2_bytes() -> usize {
    static BYTES: OnceLock<usize> = OnceLock::new();
    *BYTES.get_or_init(|| detect().filter(|&bytes| bytes > 0).unwrap_or(FALLBACK_LEVEL2_BYTES))
}

/// CPUID leaf `0x8000_0006` (Intel and AMD): the level-2 size in KiB.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn detect() -> Option<usize> {
    let info = raw_cpuid::CpuId::new().get_l2_l3_cache_and_tlb_info()?;
    Some(usize::from(info.l2cache_size()) * 1024)
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
fn detect() -> Option<usize> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level2_size_is_a_plausible_cache() {
        let bytes = level2_bytes();
        assert!((64 << 10..=64 << 20).contains(&bytes), "{bytes} bytes");
        assert_eq!(bytes, level2_bytes());
    }
}
