//! Step throughput of the element-wise optimizers against memory bandwidth.
//!
//! An element-wise step streams the parameters, the gradient and the optimizer's state through
//! memory once (read all, write parameters and state). The throughput criterion reports is set
//! to those bytes, so the GiB/s it prints can be compared directly with the machine's memory
//! bandwidth (e.g. from `mbw` or STREAM): at 10⁶ parameters the vectors (8–40 MB) exceed the
//! caches and a step should run at a sizeable fraction of it; far below means the kernel is
//! compute-bound (sqrt, division) or allocating.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nalgebra::DVector;
use optverify::optim::adagrad::AdaGradConfig;
use optverify::optim::adagrad_norm::AdaGradNormConfig;
use optverify::optim::adam::AdamConfig;
use optverify::optim::adamw::AdamWConfig;
use optverify::optim::rmsprop::RmsPropConfig;
use optverify::optim::sgd::SgdConfig;
use optverify::optim::Optimizer;
use std::hint::black_box;

/// (name, constructor, number of f64 state vectors the step reads and writes).
type Make = fn() -> Box<dyn Optimizer>;

fn optimizers() -> Vec<(&'static str, Make, u64)> {
    vec![
        ("gd", || Box::new(SgdConfig::gd(1e-3).build().unwrap()), 0),
        (
            "sgd-momentum",
            || {
                Box::new(
                    SgdConfig {
                        momentum: 0.9,
                        ..SgdConfig::gd(1e-3)
                    }
                    .build()
                    .unwrap(),
                )
            },
            1,
        ),
        (
            "adagrad",
            || Box::new(AdaGradConfig::pytorch().build().unwrap()),
            1,
        ),
        (
            "adagrad-norm",
            || Box::new(AdaGradNormConfig::new(1.0, 1.0).build().unwrap()),
            0,
        ),
        (
            "rmsprop",
            || Box::new(RmsPropConfig::pytorch().build().unwrap()),
            1,
        ),
        ("adam", || Box::new(AdamConfig::pytorch().build().unwrap()), 2),
        ("adamw", || Box::new(AdamWConfig::pytorch().build().unwrap()), 2),
    ]
}

fn step_throughput(c: &mut Criterion) {
    for (name, make, state_vectors) in optimizers() {
        let mut group = c.benchmark_group(format!("step/{name}"));
        for &n in &[1_000usize, 100_000, 1_000_000] {
            // Bytes touched per step: read θ, g and the state; write θ and the state.
            let bytes = 8 * n as u64 * (3 + 2 * state_vectors);
            group.throughput(Throughput::Bytes(bytes));
            let g = DVector::from_fn(n, |i, _| ((i % 17) as f64 - 8.0) * 1e-2);
            let mut x = DVector::from_element(n, 0.5);
            let mut opt = make();
            opt.step(&mut x, &g).unwrap(); // allocate the state outside the timing
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| opt.step(black_box(&mut x), black_box(&g)).unwrap())
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = step_throughput
}
criterion_main!(benches);
