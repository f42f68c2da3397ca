//! Subnormal numbers and the speed of the time loops: a switch that makes
//! the calling thread flush them to zero.
//!
//! Why. A wavefield in `f32` holds many subnormal values (magnitudes below
//! 2⁻¹²⁶ ≈ 1.2e-38): the stencil spreads exponentially small values ahead
//! of every wavefront. At the end of `pdeinv bench adjoint --shape 600,600
//! --nt 200`, 8,587 of the forward field's 425,088 cells were subnormal and
//! 322,532 zero. On Intel cores an arithmetic operation that produces one
//! runs a slow microcode assist. Measured
//! on an Intel Xeon with AVX-512 (2026-12-07), the gradient of
//! `benches/scenarios/gradient-600.toml` (binomial, 7 snapshots) took
//! 2.64-2.76 s with IEEE subnormals and 0.91-0.99 s with them flushed, and
//! a forward step at 600 x 600 0.51 ms against 0.23 ms. Flushing results
//! alone (FTZ) recovered that; reading subnormal inputs as zero alone (DAZ)
//! only part of it (1.64-1.70 s).
//!
//! What changes. Results that would be subnormal become zero of the same
//! sign, and subnormal inputs read as zero: values below 1.2e-38 (`f64`:
//! 2.2e-308), far under the rounding error of data and gradients of
//! ordinary scale. Everything else is bitwise unchanged, and a run is as
//! deterministic as before, since every worker thread runs in the same
//! mode. Peers take the same default: Devito's generated CPU operators
//! set DAZ and FTZ on entry (its `avoid_denormals` pass, on by default in
//! 4.8), and SPECFEM and AxiSEM3D set FTZ at start-up.
//!
//! Rust's caveat. The standard library documents that code running with a
//! changed MXCSR (the x86 control register that holds these two flags) is
//! undefined behaviour, because the compiler assumes the default mode: an
//! expression it evaluates at compile time keeps a subnormal result that
//! the same expression evaluated at run time would flush. In pdeinv
//! memory safety never depends on a floating-point value (indexing is
//! bounds-checked, conversions to integers saturate), so such a difference
//! changes numbers, not memory, and it starts at values below 2⁻¹²⁶, the
//! values that flushing changes anyway. That is why
//! [`set_on_this_thread`]
//! is an `unsafe fn` that the binary calls for its worker threads (the
//! library never does), and why the binary has `--subnormals keep` for
//! runs in the default IEEE mode. On CPUs other than x86-64 it does
//! nothing.
#![allow(unsafe_code)]

/// How a thread treats subnormal floating-point numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Subnormals {
    /// Flush subnormal results to zero and read subnormal inputs as zero.
    #[default]
    Flush,
    /// IEEE 754 gradual underflow (the hardware's default).
    Keep,
}

/// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6) flags.
#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = 0x8040;

/// The calling thread's MXCSR.
#[cfg(target_arch = "x86_64")]
fn mxcsr() -> u32 {
    let mut csr = 0u32;
    // SAFETY: `stmxcsr` stores the 4-byte register at a valid, writable,
    // aligned address and changes nothing else.
    unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags)) };
    csr
}

/// How the calling thread treats subnormal numbers now: [`Subnormals::Flush`]
/// only when both flags are set (always `Keep` off x86-64).
pub fn on_this_thread() -> Subnormals {
    #[cfg(target_arch = "x86_64")]
    if mxcsr() & FTZ_DAZ == FTZ_DAZ {
        return Subnormals::Flush;
    }
    Subnormals::Keep
}

/// Sets how the calling thread treats subnormal numbers from now on.
/// Returns whether the mode could be set (only on x86-64).
///
/// # Safety
/// With [`Subnormals::Flush`], the thread then runs compiled code in a
/// floating-point mode that the compiler does not assume (see the module
/// documentation): the caller accepts that values in the subnormal range
/// may come out as zero, or not, wherever they occur, and must not rely on
/// them for memory safety.
pub unsafe fn set_on_this_thread(mode: Subnormals) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let csr = match mode {
            Subnormals::Flush => mxcsr() | FTZ_DAZ,
            Subnormals::Keep => mxcsr() & !FTZ_DAZ,
        };
        // SAFETY: `ldmxcsr` loads the register from a valid aligned
        // address; of its bits only FTZ and DAZ differ from the current
        // ones (rounding, exception masks untouched), the consequence the
        // caller has accepted.
        unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags, readonly)) };
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = mode;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    /// Half the smallest normal `f32`, computed at run time.
    fn half_of_smallest_normal() -> f32 {
        black_box(f32::MIN_POSITIVE) * black_box(0.5)
    }

    #[test]
    fn a_thread_flushes_subnormals_only_when_asked_and_others_do_not() {
        // a thread of its own, so that no other test runs in the mode
        let flushed = std::thread::spawn(|| {
            assert_eq!(on_this_thread(), Subnormals::Keep, "a new thread starts in IEEE mode");
            let before = half_of_smallest_normal();
            // SAFETY: this thread only computes the values checked here
            let set = unsafe { set_on_this_thread(Subnormals::Flush) };
            let during = (on_this_thread(), half_of_smallest_normal(), black_box(before) * black_box(1.0));
            // SAFETY: as above
            unsafe { set_on_this_thread(Subnormals::Keep) };
            (set, before, during, on_this_thread(), half_of_smallest_normal())
        })
        .join()
        .unwrap();
        let (set, before, (mode, result, input), after_mode, after) = flushed;
        assert!(before > 0.0 && before < f32::MIN_POSITIVE, "IEEE mode keeps {before:e}");
        if cfg!(target_arch = "x86_64") {
            assert!(set);
            assert_eq!(mode, Subnormals::Flush);
            assert_eq!(result, 0.0, "a subnormal result is flushed");
            assert_eq!(input, 0.0, "a subnormal input reads as zero");
        }
        assert_eq!(after_mode, Subnormals::Keep);
        assert_eq!(after, before, "Keep restores gradual underflow");
        assert_eq!(on_this_thread(), Subnormals::Keep, "the test's own thread was never changed");
    }
}
