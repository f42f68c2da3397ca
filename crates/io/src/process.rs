//! Facts about the running process that the operating system keeps in
//! files: the peak resident memory (`VmHWM` in `/proc/self/status`, Linux).

/// Peak resident memory of this process in bytes, where the system reports
/// it (Linux); `None` elsewhere.
pub fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn peak_memory_is_reported_on_linux() {
        if cfg!(target_os = "linux") {
            let bytes = super::peak_resident_bytes().expect("VmHWM on Linux");
            assert!(bytes > 100_000, "{bytes}");
        }
    }
}
