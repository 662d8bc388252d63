//! What Linux's `/proc` says about a process's memory: REPORT's Max Memory Used for handler processes, and the
//! emulator's own footprint for the load tests and benchmarks.

/// A `kB` figure of `/proc/<pid>/status` (`VmRSS`, `VmHWM`, …), in KiB; `None` once the process is gone.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.strip_prefix(field).is_some_and(|rest| rest.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resident memory now (`VmRSS`), in MiB.
pub fn resident_mib(pid: u32) -> Option<f64> {
    status_kib(pid, "VmRSS").map(|kib| kib as f64 / 1024.0)
}
