//! Claims 10–13 (AdaGrad, RMSProp, AdaDelta, Adam, AdamW): every card's quick mode gives its
//! expected verdict, plus property tests of the closed forms the checkers rely on.

mod common;

use optverify::claims::Mode;

const IDS: [&str; 10] = [
    "adagrad-definition",
    "rmsprop-as-printed",
    "adadelta-as-printed",
    "adadelta-units",
    "adam-bias-correction",
    "adam-defaults",
    "adam-effective-step",
    "adam-scale-invariance",
    "adamw-as-printed",
    "adamw-schedules",
];

use common::assert_quick_verdict as run;

#[test]
fn adagrad_definition() {
    run("adagrad-definition");
}
#[test]
fn rmsprop_as_printed() {
    run("rmsprop-as-printed");
}
#[test]
fn adadelta_as_printed() {
    run("adadelta-as-printed");
}
#[test]
fn adadelta_units() {
    run("adadelta-units");
}
#[test]
fn adam_bias_correction() {
    run("adam-bias-correction");
}
#[test]
fn adam_defaults() {
    run("adam-defaults");
}
#[test]
fn adam_effective_step() {
    run("adam-effective-step");
}
#[test]
fn adam_scale_invariance() {
    run("adam-scale-invariance");
}
#[test]
fn adamw_as_printed() {
    run("adamw-as-printed");
}
#[test]
fn adamw_schedules() {
    run("adamw-schedules");
}

// ---- property tests --------------------------------------------------------------------------

use nalgebra::{DMatrix, DVector};
use optverify::optim::adam::AdamConfig;
use optverify::optim::Optimizer;
use optverify::prec::{gamma, UNIT_ROUNDOFF};
use optverify::theory::adaptive::psd_sqrt;
use optverify::theory::weight_decay as th;
use proptest::prelude::*;
use quickcheck::{quickcheck, TestResult};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn adam_updates(beta1: f64, beta2: f64, gs: &[f64]) -> Vec<f64> {
    let mut o = AdamConfig {
        lr: 1.0,
        beta1,
        beta2,
        eps: 1e-300,
        ..AdamConfig::paper()
    }
    .build()
    .unwrap();
    let mut x = DVector::zeros(1);
    gs.iter()
        .map(|&g| {
            o.step(&mut x, &DVector::from_element(1, g)).unwrap();
            o.last_update().unwrap()[0]
        })
        .collect()
}

quickcheck! {
    /// Adam with ε → 0 is bit-exactly invariant to g → 2^k g (k small enough not to
    /// overflow g² or underflow).
    fn adam_power_of_two_scale_invariance(seed: u64, k: i8) -> TestResult {
        let k = (k % 60) as i32;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let gs: Vec<f64> = (0..20).map(|_| StandardNormal.sample(&mut rng)).collect();
        let scaled: Vec<f64> = gs.iter().map(|g| g * 2f64.powi(k)).collect();
        let (a, b) = (adam_updates(0.9, 0.999, &gs), adam_updates(0.9, 0.999, &scaled));
        TestResult::from_bool(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// |m̂_t/√v̂_t| never exceeds the exact supremum C_t on random sequences, and the worst
    /// sequence attains it (4γ_{2t+8}/(1−β₁) relative, as in the card).
    #[test]
    fn adam_ratio_below_exact_supremum(seed in any::<u64>(), t in 1usize..80, beta1 in 0.0f64..0.95, beta2 in 0.9f64..0.9999, sparse in any::<bool>()) {
        prop_assume!(beta1 * beta1 < beta2);
        let tol = 4.0 * gamma(2 * t + 8) / (1.0 - beta1);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let gs: Vec<f64> = (0..t).map(|i| {
            let z: f64 = StandardNormal.sample(&mut rng);
            if sparse && i % 7 != 3 { 0.0 } else { z }
        }).collect();
        for (i, u) in adam_updates(beta1, beta2, &gs).iter().enumerate() {
            prop_assert!(u.abs() <= th::adam_ratio_sup(beta1, beta2, i as u64 + 1) * (1.0 + tol));
        }
        let worst = adam_updates(beta1, beta2, &th::adam_worst_sequence(beta1, beta2, t as u64));
        let c = th::adam_ratio_sup(beta1, beta2, t as u64);
        prop_assert!((worst[t - 1].abs() - c).abs() <= tol * c);
    }

    /// (G^{1/2})_ii ≤ √G_ii for G = Σ g gᵀ (Cauchy–Schwarz), to the eigensolver tolerance.
    #[test]
    fn diag_of_sqrt_below_sqrt_of_diag(seed in any::<u64>(), d in 1usize..6, k in 1usize..6) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut g_sum: DMatrix<f64> = DMatrix::zeros(d, d);
        for _ in 0..k {
            let g: DVector<f64> = DVector::from_fn(d, |_, _| StandardNormal.sample(&mut rng));
            g_sum += &g * g.transpose();
        }
        let root = psd_sqrt(&g_sum);
        let tol = (64.0 * d as f64 * UNIT_ROUNDOFF * g_sum.norm()).sqrt();
        for i in 0..d {
            prop_assert!(root[(i, i)] <= g_sum[(i, i)].sqrt() + tol);
        }
        if d == 1 {
            prop_assert!((root[(0, 0)] - g_sum[(0, 0)].sqrt()).abs() <= tol);
        }
    }
}

/// Full mode of this file's cards (minutes; feeds the committed report): `cargo test --release
/// --test THIS -- --ignored`.
#[test]
#[ignore]
fn full_mode_gives_expected_verdicts() {
    for id in IDS {
        common::assert_verdict(id, Mode::Full);
    }
}
