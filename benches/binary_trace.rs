//! Throughput of `check` on a binary trace (issue 15), in GB/s of trace read, next to the
//! machine's copy bandwidth measured in the same run (a `copy_from_slice` of a buffer the size
//! of one step's file, which is what reading a step can at best cost).
//!
//! The trace: a pytorch AdamW f32 run of `N` parameters in two blocks and `STEPS` steps,
//! written once into a temporary directory by the crate's own torch kernel
//! (`oracle::synthetic::write_binary_adamw_f32`: it agrees, and the check runs its agreement
//! path to the end). `cargo bench --bench binary_trace`.
//! The full-size measurement (10⁷ parameters × 100 steps, recorded from torch) is in the
//! README ("Model-scale traces").

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use optverify::oracle::binary;
use optverify::oracle::format::BlockSpec;
use optverify::oracle::synthetic;
use std::hint::black_box;
use std::path::PathBuf;

const N: usize = 1_000_000;
const STEPS: u64 = 10;

fn write_trace() -> (PathBuf, u64) {
    let dir = std::env::temp_dir().join(format!("optverify-bench-binary-{}", std::process::id()));
    let layout = vec![
        BlockSpec {
            name: "w".into(),
            rows: N / 1000 - 1,
            cols: 1000,
        },
        BlockSpec {
            name: "b".into(),
            rows: 1000,
            cols: 1,
        },
    ];
    synthetic::write_binary_adamw_f32(
        &dir,
        layout,
        1e-3,
        |i| ((i % 997) as f32 - 498.0) / 1000.0,
        |t, i| (((i as u64 * 7919 + t * 104_729) % 2003) as f32 - 1001.0) / 1e4,
        STEPS,
    )
    .expect("writable temp dir");
    let bytes: u64 = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .sum();
    (dir, bytes)
}

fn check_throughput(c: &mut Criterion) {
    let (dir, bytes) = write_trace();
    let mut group = c.benchmark_group("binary-check");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function(BenchmarkId::new("full", N), |b| {
        b.iter(|| {
            let out = binary::check(&dir, None, None);
            assert_eq!(out.status, 0, "{}", out.text);
            black_box(out.status)
        })
    });
    group.bench_function(BenchmarkId::new("sample-1000", N), |b| {
        b.iter(|| {
            let out = binary::check(&dir, None, Some(1000));
            assert_eq!(out.status, 0, "{}", out.text);
            black_box(out.status)
        })
    });
    group.finish();

    // The copy bandwidth: one step file's worth of bytes, copied.
    let step = (bytes / STEPS) as usize;
    let src = vec![1u8; step];
    let mut dst = vec![0u8; step];
    let mut group = c.benchmark_group("memcpy");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(step as u64));
    group.bench_function(BenchmarkId::new("copy", step), |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(dst[step / 2])
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, check_throughput);
criterion_main!(benches);
