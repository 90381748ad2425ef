//! Throughput of `check` on a streamed trace (issue 5: a trace of 10⁶ steps × 10³ parameters
//! is checked in constant memory; `tests/oracle_memory.rs` measures the memory).
//!
//! Each iteration checks a generated `pytorch` Adam trace of 50 steps at n parameters
//! ([`optverify::oracle::synthetic::SyntheticTrace`]); criterion's throughput is set to the
//! number of parameter-steps (elements), so `elem/s` divided into 10⁹ gives the time a
//! 10⁶ × 10³ trace takes. The time includes generating the JSON (ryu formatting, roughly as
//! costly as parsing it), so it is an upper bound on `check` alone.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use optverify::oracle::cli::check_reader;
use optverify::oracle::format::TraceReader;
use optverify::oracle::synthetic::SyntheticTrace;
use std::hint::black_box;
use std::io::BufReader;

const STEPS: u64 = 50;

fn check_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("check-adam-trace");
    group.sample_size(10);
    for &n in &[100usize, 1_000, 10_000] {
        group.throughput(Throughput::Elements(n as u64 * STEPS));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| {
                let source = SyntheticTrace::adam_pytorch(n, STEPS);
                let mut reader =
                    TraceReader::new("synthetic", BufReader::new(source)).expect("header parses");
                let out = check_reader(&mut reader, None);
                assert_eq!(out.status, 0, "{}", out.text);
                black_box(out.status)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, check_throughput);
criterion_main!(benches);
