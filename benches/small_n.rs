//! The fixed cost of a step at the sizes the claim sweeps use (n = 10, 100), against a
//! hand-written minimal loop for the same update.
//!
//! The minimal loops below are what a step cannot avoid: the per-step constants (βᵗ by `powf`,
//! as the crate must to match PyTorch's `beta ** step`) and one pass over the coordinates, on
//! plain arrays, no checks. The crate's step adds its input check (lengths, a finite
//! gradient), the state lookup, the convention dispatch before the sweep and one virtual call
//! (`&mut dyn Optimizer`, as the runner calls it). Target: ≤ 1.5× the minimal loop at n = 10.
//! Each minimal loop is checked against the crate's step bit for bit before it is timed. Times
//! are the thread's CPU time (`support/cpu_time.rs`), so a busy machine slows both sides alike.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::ThreadCpuTime;
use nalgebra::DVector;
use optverify::optim::adagrad::AdaGradConfig;
use optverify::optim::adam::AdamConfig;
use optverify::optim::rmsprop::RmsPropConfig;
use optverify::optim::sgd::SgdConfig;
use optverify::optim::Optimizer;
use std::hint::black_box;
use std::time::Duration;

/// The hand-written update: (t, θ, g, state) for t = 1, 2, …
type Minimal = fn(u64, &mut [f64], &[f64], &mut [Vec<f64>]);

fn minimal_adam(t: u64, x: &mut [f64], g: &[f64], s: &mut [Vec<f64>]) {
    let (lr, b1, b2, eps) = (1e-3, 0.9, 0.999, 1e-8);
    let t = t as f64;
    let (bc1, bc2) = (1.0 - f64::powf(b1, t), 1.0 - f64::powf(b2, t));
    let [m, v] = s else { unreachable!() };
    for i in 0..x.len() {
        m[i] = b1 * m[i] + (1.0 - b1) * g[i];
        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
        x[i] -= lr * ((m[i] / bc1) / ((v[i] / bc2).sqrt() + eps));
    }
}

fn minimal_sgd_momentum(t: u64, x: &mut [f64], g: &[f64], s: &mut [Vec<f64>]) {
    let [b] = s else { unreachable!() };
    for i in 0..x.len() {
        b[i] = if t == 1 { g[i] } else { 0.9 * b[i] + g[i] };
        x[i] -= 1e-3 * b[i];
    }
}

fn minimal_rmsprop(_: u64, x: &mut [f64], g: &[f64], s: &mut [Vec<f64>]) {
    let [v] = s else { unreachable!() };
    for i in 0..x.len() {
        v[i] = 0.99 * v[i] + (1.0 - 0.99) * g[i] * g[i];
        x[i] -= 1e-2 * (g[i] / (v[i].sqrt() + 1e-8));
    }
}

fn minimal_adagrad(_: u64, x: &mut [f64], g: &[f64], s: &mut [Vec<f64>]) {
    let [acc] = s else { unreachable!() };
    for i in 0..x.len() {
        acc[i] += g[i] * g[i];
        x[i] -= 1e-2 * (g[i] / (acc[i].sqrt() + 1e-10));
    }
}

struct Case {
    name: &'static str,
    make: fn() -> Box<dyn Optimizer>,
    minimal: Minimal,
    state_vectors: usize,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "adam",
            make: || Box::new(AdamConfig::pytorch().build().unwrap()),
            minimal: minimal_adam,
            state_vectors: 2,
        },
        Case {
            name: "sgd-momentum",
            make: || Box::new(SgdConfig::momentum(1e-3, 0.9).build().unwrap()),
            minimal: minimal_sgd_momentum,
            state_vectors: 1,
        },
        Case {
            name: "rmsprop",
            make: || Box::new(RmsPropConfig::pytorch().build().unwrap()),
            minimal: minimal_rmsprop,
            state_vectors: 1,
        },
        Case {
            name: "adagrad",
            make: || Box::new(AdaGradConfig::pytorch().build().unwrap()),
            minimal: minimal_adagrad,
            state_vectors: 1,
        },
    ]
}

fn gradient(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i % 17) as f64 - 8.0) * 1e-2 + 1e-3).collect()
}

/// The minimal loop and the crate's step give the same bits for 50 steps.
fn assert_same_update(case: &Case, n: usize) {
    let g = gradient(n);
    let mut opt = (case.make)();
    let (mut x, mut y) = (DVector::from_element(n, 0.5), vec![0.5; n]);
    let mut state = vec![vec![0.0; n]; case.state_vectors];
    let gv = DVector::from_column_slice(&g);
    for t in 1..=50 {
        opt.step(&mut x, &gv).unwrap();
        (case.minimal)(t, &mut y, &g, &mut state);
    }
    assert!(
        x.iter().zip(&y).all(|(a, b)| a.to_bits() == b.to_bits()),
        "{}: the minimal loop is not the same update",
        case.name
    );
}

fn small_n(c: &mut Criterion<ThreadCpuTime>) {
    for case in cases() {
        let mut group = c.benchmark_group(format!("small-n/{}", case.name));
        for n in [10usize, 100] {
            assert_same_update(&case, n);
            let g = gradient(n);
            let gv = DVector::from_column_slice(&g);
            let mut x = DVector::from_element(n, 0.5);
            let mut opt = (case.make)();
            opt.step(&mut x, &gv).unwrap();
            let opt: &mut dyn Optimizer = opt.as_mut();
            group.bench_with_input(BenchmarkId::new("crate", n), &n, |b, _| {
                b.iter(|| opt.step(black_box(&mut x), black_box(&gv)).unwrap())
            });
            let mut y = vec![0.5; n];
            let mut state = vec![vec![0.0; n]; case.state_vectors];
            let mut t = 1;
            group.bench_with_input(BenchmarkId::new("minimal", n), &n, |b, _| {
                b.iter(|| {
                    t += 1;
                    (case.minimal)(t, black_box(&mut y), black_box(&g), &mut state)
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .with_measurement(ThreadCpuTime)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    targets = small_n
}
criterion_main!(benches);
