//! The oracle checks a trace in memory that does not grow with the number of steps (issue 5:
//! "a trace of 10⁶ steps × 10³ parameters is checked in constant memory").
//!
//! This file is its own test binary with a counting global allocator, and holds one test so
//! that no other test allocates while it measures. The trace is generated on the fly (never
//! materialised): a `Read` that writes the header, then one JSON line per step with the
//! gradient and the parameters of a real `torch.optim.Adam`-preset run (the crate's Adam, so
//! the check agrees and runs its agreement path to the end). The peak number of live heap
//! bytes during `check` is measured for T₁ = 100 and T₂ = 1000 steps at 10³ parameters: a
//! reader that kept anything per step would grow by at least 8 bytes × 10³ per step, i.e. by
//! ≥ 7 MB between the two; a streaming one has the same peak (the line buffer and the O(n)
//! state reach their size at step 1). The assertion allows the peaks to differ by one line's
//! worth of bytes (a `Vec` doubling of the line buffer can land on either side).

use optverify::optim::adam::AdamConfig;
use optverify::optim::Optimizer;
use optverify::oracle::cli::check_reader;
use optverify::oracle::format::TraceReader;
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufReader, Read};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the counters are only
// bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now =
                    LIVE.fetch_add(new_size - layout.size(), Ordering::SeqCst) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::SeqCst);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A trace of `steps` Adam steps on `n` parameters, produced line by line as it is read.
struct AdamTrace {
    n: usize,
    steps: u64,
    step: u64,
    opt: optverify::optim::adam::Adam,
    x: nalgebra::DVector<f64>,
    line: Vec<u8>,
    pos: usize,
}

impl AdamTrace {
    fn new(n: usize, steps: u64) -> Self {
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 500.0 - 1.0).collect();
        let header = serde_json::json!({
            "format": "optverify-trace", "version": 1, "optimizer": "adam", "preset": "pytorch",
            "hyperparameters": {"lr": 0.01}, "layout": [{"name": "w", "rows": n, "cols": 1}],
            "dtype": "f64", "producer": "tests/oracle_memory.rs", "params0": x,
        });
        AdamTrace {
            n,
            steps,
            step: 0,
            opt: AdamConfig {
                lr: 0.01,
                ..AdamConfig::pytorch()
            }
            .build()
            .expect("valid"),
            x: nalgebra::DVector::from_vec(x),
            line: format!("{header}\n").into_bytes(),
            pos: 0,
        }
    }

    fn next_line(&mut self) {
        self.step += 1;
        // Gradient of ½‖x‖² plus a deterministic perturbation: nonzero, varied magnitudes.
        let g = nalgebra::DVector::from_fn(self.n, |i, _| {
            self.x[i] + ((i as u64 * 31 + self.step) % 17) as f64 * 1e-3
        });
        self.opt.step(&mut self.x, &g).expect("finite");
        let rec = serde_json::json!({"step": self.step, "grad": g.as_slice(), "params": self.x.as_slice()});
        self.line = format!("{rec}\n").into_bytes();
        self.pos = 0;
    }
}

impl Read for AdamTrace {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.line.len() {
            if self.step == self.steps {
                return Ok(0);
            }
            self.next_line();
        }
        let k = out.len().min(self.line.len() - self.pos);
        out[..k].copy_from_slice(&self.line[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

/// Peak live heap bytes while `check` reads a generated trace, above what was live before,
/// minus the generator's own allocations (its line; its Adam state is allocated at step 1 and
/// counted in both runs alike).
fn peak_during_check(n: usize, steps: u64) -> (usize, u8) {
    let source = AdamTrace::new(n, steps);
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
