//! A binary trace is checked in memory that does not grow with the number of steps and is a
//! few parameter vectors (issue 15). Own test binary with a counting global allocator and one
//! test, as tests/oracle_memory.rs. The step files are memory-mapped, not allocated: the heap
//! peak is the reference's state, the decoded gradient and parameters, and the running scales.

use optverify::oracle::binary;
use optverify::oracle::format::BlockSpec;
use optverify::oracle::synthetic;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{LIVE, PEAK};

/// A pytorch AdamW f32 trace of `n` parameters (one block) and `steps` steps, written by the
/// crate's torch kernel.
fn write_trace(n: usize, steps: u64) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("optverify-binary-memory-{}-{steps}", std::process::id()));
    let layout = vec![BlockSpec {
        name: "w".into(),
        rows: n,
        cols: 1,
    }];
    synthetic::write_binary_adamw_f32(
        &dir,
        layout,
        1e-2,
        |i| (i % 13) as f32 / 8.0 - 0.75,
        |t, i| ((i as u64 * 31 + t * 17) % 101) as f32 / 64.0 - 0.78,
        steps,
    )
    .unwrap();
    dir
}

fn peak_during_check(dir: &std::path::Path) -> (usize, u8) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = binary::check(dir, None, None);
    assert_eq!(out.status, 0, "{}", out.text);
    (PEAK.load(Ordering::SeqCst) - base, out.status)
}

#[test]
fn binary_check_memory_is_a_few_parameter_vectors_whatever_the_number_of_steps() {
    let n = 50_000;
    let short = write_trace(n, 5);
    let long = write_trace(n, 60);
    let (small, _) = peak_during_check(&short);
    let (large, _) = peak_during_check(&long);
    let vector = 4 * n; // one f32 parameter vector
    eprintln!("peak live heap during check: {small} B at 5 steps, {large} B at 60 steps (n = {n}, one vector = {vector} B)");
    // Keeping anything per step would add ≥ 55 vectors between the two runs.
    assert!(
        large <= small + vector / 4,
        "peak grew from {small} B (5 steps) to {large} B (60 steps)"
    );
    // The reference (θ and Adam's three state vectors), the gradient, the trace's parameters,
    // the running scales, θ₀ while the reference is built: ≤ 10 vectors, plus the diagnosis on
    // ≤ 1024 coordinates (a few hundred kB at most).
    assert!(
        large < 10 * vector + 1_000_000,
        "peak {large} B is more than 10 parameter vectors ({vector} B each)"
    );
    let _ = std::fs::remove_dir_all(short);
    let _ = std::fs::remove_dir_all(long);
}
