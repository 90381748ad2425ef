//! The oracle checks a trace in memory that does not grow with the number of steps (issue 5:
//! "a trace of 10⁶ steps × 10³ parameters is checked in constant memory").
//!
//! This file is its own test binary with a counting global allocator, and holds one test so
//! that no other test allocates while it measures. The trace is generated on the fly (never
//! materialised) by `oracle::synthetic::SyntheticTrace`: a `pytorch` Adam run, so the check
//! agrees and runs its agreement path to the end. The peak number of live heap
//! bytes during `check` is measured for T₁ = 100 and T₂ = 1000 steps at 10³ parameters: a
//! reader that kept anything per step would grow by at least 8 bytes × 10³ per step, i.e. by
//! ≥ 7 MB between the two; a streaming one has the same peak (the line buffer and the O(n)
//! state reach their size at step 1). The assertion allows the peaks to differ by one line's
//! worth of bytes (a `Vec` doubling of the line buffer can land on either side).

use optverify::oracle::cli::check_reader;
use optverify::oracle::format::TraceReader;
use optverify::oracle::synthetic::SyntheticTrace;
use std::io::BufReader;
use std::sync::atomic::Ordering;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{LIVE, PEAK};

/// Peak live heap bytes while `check` reads a generated trace, above what was live before,
/// minus the generator's own allocations (its line; its Adam state is allocated at step 1 and
/// counted in both runs alike).
fn peak_during_check(n: usize, steps: u64) -> (usize, u8) {
    let source = SyntheticTrace::adam_pytorch(n, steps);
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let mut reader = TraceReader::new("generated", BufReader::new(source)).expect("header parses");
    let out = check_reader(&mut reader, None);
    (PEAK.load(Ordering::SeqCst) - base, out.status)
}

#[test]
fn check_memory_does_not_grow_with_the_number_of_steps() {
    let n = 1000;
    let (small, status_small) = peak_during_check(n, 100);
    let (large, status_large) = peak_during_check(n, 1000);
    assert_eq!(
        (status_small, status_large),
        (0, 0),
        "the generated Adam traces agree with the preset"
    );
    // One JSON line of the trace: 2n numbers of ≤ 24 characters.
    let line_bytes = 2 * n * 24;
    eprintln!("peak live heap during check: {small} B at 100 steps, {large} B at 1000 steps (n = {n})");
    assert!(
        large <= small + line_bytes,
        "peak grew from {small} B (100 steps) to {large} B (1000 steps): memory depends on the number of steps"
    );
    // And it is O(n): a few vectors of n f64 plus the line buffers, far below one step's data
    // kept per step (8 n × 1000 = 8 MB).
    assert!(
        large < 64 * 8 * n + 8 * line_bytes,
        "peak {large} B is not O(n) for n = {n}"
    );
}
