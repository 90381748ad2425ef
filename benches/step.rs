//! Step throughput of the element-wise optimizers, as a fraction of the machine's memory
//! bandwidth measured in the same process.
//!
//! An element-wise step at 10⁶ parameters and beyond is memory-bound: it streams θ, g and the
//! optimizer's state through memory once (read all, write θ and the state). Each benchmark
//! sets criterion's throughput to the bytes its optimizer *must* move per step
//! ([`bytes_per_parameter`], stated per optimizer below), so the GB/s criterion prints is the
//! effective bandwidth, and sits next to two probes at the same sizes and dtypes:
//!
//! * `probe/copy`: `b ← a` (STREAM Copy, counted as 2 words per element: read a, write b);
//! * `probe/triad`: `a ← b + s·c` (STREAM Triad, 3 words per element).
//!
//! "x % of copy bandwidth" in the README is the step's effective GB/s divided by the copy
//! probe's at the same size. (A step that writes what it read moves its written bytes once;
//! copy's written array also costs a read-for-ownership that STREAM does not count, so a step
//! can exceed 100 % of the copy figure.)
//!
//! Groups: `f64/<optimizer>/<n>` (the crate's optimizers through [`Optimizer::step`]),
//! `f32/<optimizer>/<n>` (see [`f32_steppers`]), `probe-f64/{copy,triad}/<n>` and
//! `probe-f32/…`. `OPTVERIFY_BENCH_SIZES=1000,1000000` and `OPTVERIFY_BENCH_QUICK=1` (shorter
//! measurement) narrow a run; `scripts/bench_torch.py` uses both.
//!
//! Times are the benchmark thread's CPU time (`support/cpu_time.rs`), not wall time: on a
//! machine shared with other jobs, wall time counts the time slices the scheduler gives to
//! them (at a load average of 12 on 2 cores it inflated a 1 ms step about 3×), the thread's
//! CPU time does not. `scripts/bench_torch.py` times PyTorch on the same clock.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::ThreadCpuTime;
use nalgebra::DVector;
use optverify::optim::adadelta::AdaDeltaConfig;
use optverify::optim::adagrad::AdaGradConfig;
use optverify::optim::adagrad_norm::AdaGradNormConfig;
use optverify::optim::adam::{AdamConfig, AdamCore};
use optverify::optim::adamw::AdamWConfig;
use optverify::optim::heavy_ball::HeavyBallConfig;
use optverify::optim::nadam::NAdamConfig;
use optverify::optim::nesterov::NesterovConfig;
use optverify::optim::radam::RAdamConfig;
use optverify::optim::rmsprop::RmsPropConfig;
use optverify::optim::sgd::SgdConfig;
use optverify::optim::Optimizer;
use std::hint::black_box;
use std::time::Duration;

/// 10³ … 1.6·10⁷ parameters (1.6·10⁷ f64 Adam = 5 vectors of 128 MB).
const SIZES: [usize; 5] = [1_000, 10_000, 100_000, 1_000_000, 16_000_000];

fn sizes() -> Vec<usize> {
    match std::env::var("OPTVERIFY_BENCH_SIZES") {
        Ok(list) => list.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) => SIZES.to_vec(),
    }
}

/// One element-wise optimizer: its name, a constructor, and the words per parameter a step
/// must move (reads + writes of θ, g and the state vectors).
struct Case {
    name: &'static str,
    make: fn() -> Box<dyn Optimizer>,
    words: u64,
}

/// Words per parameter, read + written:
/// * GD: read θ, g; write θ → 3.
/// * SGD-momentum, heavy-ball (θ_{k−1}), Nesterov (buffer): + one state vector read and
///   written → 5.
/// * AdaGrad (Σg²), RMSProp (v): 5. AdaDelta (E[g²], E[Δ²], Δ): 3 + 2 + 2 + 1 (Δ written) = 8.
/// * AdaGrad-Norm: the norm ‖g‖ must be known before any θ moves: read g, then read θ, g and
///   write θ → 4.
/// * Adam, AdamW, NAdam, RAdam: m and v → 7.
fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "sgd",
            make: || Box::new(SgdConfig::gd(1e-3).build().unwrap()),
            words: 3,
        },
        Case {
            name: "sgd-momentum",
            make: || Box::new(SgdConfig::momentum(1e-3, 0.9).build().unwrap()),
            words: 5,
        },
        Case {
            name: "heavy-ball",
            make: || Box::new(HeavyBallConfig::new(1e-3, 0.9).build().unwrap()),
            words: 5,
        },
        Case {
            name: "nesterov",
            make: || Box::new(NesterovConfig::pytorch(1e-3, 0.9).build().unwrap()),
            words: 5,
        },
        Case {
            name: "adagrad",
            make: || Box::new(AdaGradConfig::pytorch().build().unwrap()),
            words: 5,
        },
        Case {
            name: "adagrad-norm",
            make: || Box::new(AdaGradNormConfig::new(1.0, 1.0).build().unwrap()),
            words: 4,
        },
        Case {
            name: "rmsprop",
            make: || Box::new(RmsPropConfig::pytorch().build().unwrap()),
            words: 5,
        },
        Case {
            name: "adadelta",
            make: || Box::new(AdaDeltaConfig::pytorch().build().unwrap()),
            words: 8,
        },
        Case {
            name: "adam",
            make: || Box::new(AdamConfig::pytorch().build().unwrap()),
            words: 7,
        },
        Case {
            name: "adamw",
            make: || Box::new(AdamWConfig::pytorch().build().unwrap()),
            words: 7,
        },
        Case {
            name: "nadam",
            make: || Box::new(NAdamConfig::pytorch().build().unwrap()),
            words: 7,
        },
        Case {
            name: "radam",
            make: || Box::new(RAdamConfig::pytorch().build().unwrap()),
            words: 7,
        },
    ]
}

/// A gradient with entries of mixed sign and magnitude (no special values).
fn gradient(n: usize) -> DVector<f64> {
    DVector::from_fn(n, |i, _| ((i % 17) as f64 - 8.0) * 1e-2 + 1e-3)
}

fn configure(c: &mut Criterion<ThreadCpuTime>) -> Criterion<ThreadCpuTime> {
    let quick = std::env::var_os("OPTVERIFY_BENCH_QUICK").is_some();
    let (warm, measure) = if quick { (200, 1_000) } else { (500, 2_000) };
    std::mem::replace(c, Criterion::default().with_measurement(ThreadCpuTime))
        .warm_up_time(Duration::from_millis(warm))
        .measurement_time(Duration::from_millis(measure))
        .sample_size(10)
}

fn f64_steps(c: &mut Criterion<ThreadCpuTime>) {
    for case in cases() {
        let mut group = c.benchmark_group(format!("f64/{}", case.name));
        for n in sizes() {
            group.throughput(Throughput::Bytes(8 * case.words * n as u64));
            let g = gradient(n);
            let mut x = DVector::from_element(n, 0.5);
            let mut opt = (case.make)();
            opt.step(&mut x, &g).unwrap(); // allocate the state outside the timing
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| opt.step(black_box(&mut x), black_box(&g)).unwrap())
            });
        }
        group.finish();
    }
}

/// STREAM Copy and Triad at the same sizes, in f64 and f32.
fn probes(c: &mut Criterion<ThreadCpuTime>) {
    fn run<T: Copy + std::ops::Add<Output = T> + std::ops::Mul<Output = T>>(
        c: &mut Criterion<ThreadCpuTime>,
        dtype: &str,
        one: T,
    ) {
        let word = std::mem::size_of::<T>() as u64;
        let mut group = c.benchmark_group(format!("probe-{dtype}/copy"));
        for n in sizes() {
            let (a, mut b) = (vec![one; n], vec![one; n]);
            group.throughput(Throughput::Bytes(2 * word * n as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
                bench.iter(|| black_box(&mut b[..]).copy_from_slice(black_box(&a[..])))
            });
        }
        group.finish();
        let mut group = c.benchmark_group(format!("probe-{dtype}/triad"));
        for n in sizes() {
            let (mut a, b, cc) = (vec![one; n], vec![one; n], vec![one; n]);
            group.throughput(Throughput::Bytes(3 * word * n as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
                bench.iter(|| {
                    let s = black_box(one);
                    for ((ai, bi), ci) in black_box(&mut a[..]).iter_mut().zip(&b).zip(&cc) {
                        *ai = *bi + s * *ci;
                    }
                })
            });
        }
        group.finish();
    }
    run::<f64>(c, "f64", 1.0);
    run::<f32>(c, "f32", 1.0);
}

/// A step on f32 slices.
type F32Step = Box<dyn FnMut(&mut [f32], &[f32])>;

/// The f32 steppers: Adam and AdamW through [`AdamCore`] (the crate's sweep, generic over the
/// float type: the paper's operation order in f32); SGD, SGD-momentum, AdaGrad, RMSProp,
/// AdaDelta, NAdam and RAdam through the oracle's PyTorch kernels
/// (`optverify::oracle::kernels::torch`, torch's own operation order with FMAs, written for
/// bit-exact replay, not for speed: their figures show what that costs). AdaGrad-Norm and
/// heavy-ball have no f32 path.
fn f32_steppers(n: usize) -> Vec<(&'static str, u64, F32Step)> {
    use optverify::oracle::kernels::torch;
    use optverify::oracle::presets::Setting;
    let core = |mut a: AdamCore<f32>| -> F32Step { Box::new(move |x, g| a.step(x, g).unwrap()) };
    let kernel = |s: Setting| -> F32Step {
        let mut k = torch::build::<f32>(&s).expect("a torch kernel for this setting");
        Box::new(move |x, g| k.step(x, g).unwrap())
    };
    vec![
        ("sgd", 3, kernel(Setting::Sgd(SgdConfig::gd(1e-3)))),
        (
            "sgd-momentum",
            5,
            kernel(Setting::Sgd(SgdConfig::momentum(1e-3, 0.9))),
        ),
        ("adagrad", 5, kernel(Setting::AdaGrad(AdaGradConfig::pytorch()))),
        ("rmsprop", 5, kernel(Setting::RmsProp(RmsPropConfig::pytorch()))),
        (
            "adadelta",
            8,
            kernel(Setting::AdaDelta(AdaDeltaConfig::pytorch())),
        ),
        ("adam", 7, core(AdamCore::new(AdamConfig::pytorch(), n).unwrap())),
        (
            "adamw",
            7,
            core(AdamCore::adamw(&AdamWConfig::pytorch(), n).unwrap()),
        ),
        ("nadam", 7, kernel(Setting::NAdam(NAdamConfig::pytorch()))),
        ("radam", 7, kernel(Setting::RAdam(RAdamConfig::pytorch()))),
    ]
}

fn f32_steps(c: &mut Criterion<ThreadCpuTime>) {
    let sizes = sizes();
    let names: Vec<_> = f32_steppers(1)
        .into_iter()
        .map(|(name, words, _)| (name, words))
        .collect();
    for (k, (name, words)) in names.into_iter().enumerate() {
        let mut group = c.benchmark_group(format!("f32/{name}"));
        for &n in &sizes {
            group.throughput(Throughput::Bytes(4 * words * n as u64));
            let g: Vec<f32> = gradient(n).iter().map(|&v| v as f32).collect();
            let mut x = vec![0.5_f32; n];
            let mut step = f32_steppers(n).swap_remove(k).2;
            step(&mut x, &g); // allocate the state outside the timing
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| step(black_box(&mut x), black_box(&g)))
            });
        }
        group.finish();
    }
}

fn all(c: &mut Criterion<ThreadCpuTime>) {
    let mut c = configure(c);
    probes(&mut c);
    f64_steps(&mut c);
    f32_steps(&mut c);
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = all
}
criterion_main!(benches);
