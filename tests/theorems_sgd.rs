//! Claims 5–9 (mini-batches, weight decay, ReLU rescaling): every card's quick mode gives its
//! expected verdict, plus property tests of the identities the checkers rely on.

mod common;

use optverify::claims::Mode;

const IDS: [&str; 6] = [
    "minibatch-unbiased",
    "sgd-weight-decay-equals-l2",
    "sgd-momentum-weight-decay",
    "adam-weight-decay-not-l2",
    "relu-rescaling",
    "weight-decay-balances-layers",
];

use common::assert_quick_verdict as run;

#[test]
fn minibatch_unbiased() {
    run("minibatch-unbiased");
}
#[test]
fn sgd_weight_decay_equals_l2() {
    run("sgd-weight-decay-equals-l2");
}
#[test]
fn sgd_momentum_weight_decay() {
    run("sgd-momentum-weight-decay");
}
#[test]
fn adam_weight_decay_not_l2() {
    run("adam-weight-decay-not-l2");
}
#[test]
fn relu_rescaling() {
    run("relu-rescaling");
}
#[test]
fn weight_decay_balances_layers() {
    run("weight-decay-balances-layers");
}

// ---- property tests --------------------------------------------------------------------------

use nalgebra::{DMatrix, DVector};
use optverify::optim::conventions::WeightDecay;
use optverify::optim::sgd::SgdConfig;
use optverify::optim::Optimizer;
use optverify::prec::{gamma, UNIT_ROUNDOFF};
use optverify::problems::mlp::two_layer;
use optverify::problems::stochastic::subsets;
use optverify::problems::stochastic::{population_variance, without_replacement_variance};
use optverify::theory::weight_decay as wd;
use proptest::prelude::*;
use quickcheck::{quickcheck, TestResult};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn gauss_mat(rng: &mut ChaCha8Rng, r: usize, c: usize) -> DMatrix<f64> {
    DMatrix::from_fn(r, c, |_, _| StandardNormal.sample(rng))
}

quickcheck! {
    /// ReLU rescaling by c = 2^k (|k| ≤ 30) is bit-exact: every scaling is exact in binary.
    fn relu_rescaling_power_of_two_is_bit_exact(seed: u64, k: i8) -> TestResult {
        let k = (k % 31) as i32;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (d, h, o) = (3, 5, 2);
        let (w1, w2) = (gauss_mat(&mut rng, h, d), gauss_mat(&mut rng, o, h));
        let x = DVector::from_fn(d, |_, _| StandardNormal.sample(&mut rng));
        let (zh, zo) = (DVector::zeros(h), DVector::zeros(o));
        let c = 2f64.powi(k);
        let a = two_layer(&w1, &zh, &w2, &zo, &x);
        let b = two_layer(&(&w1 * c), &zh, &(&w2 / c), &zo, &x);
        TestResult::from_bool(a.iter().zip(b.iter()).all(|(p, q)| p.to_bits() == q.to_bits()))
    }

    /// One SGD step: decoupled (1−λ)θ − αg equals coupled θ − α(g + λ′θ), λ = αλ′, to the
    /// rounding bound 8u(|θ|(1 + λ + αλ′) + α|g|) (a few roundings in each form).
    fn weight_decay_equals_l2_one_step(theta: f64, g: f64, a: u8, l: u8) -> TestResult {
        if !theta.is_finite() || !g.is_finite() || theta.abs() > 1e150 || g.abs() > 1e150 {
            return TestResult::discard();
        }
        let alpha = (a as f64 + 1.0) / 256.0;
        let lp = l as f64 / 64.0;
        let lambda = alpha * lp;
        let x0 = DVector::from_element(1, theta);
        let gv = DVector::from_element(1, g);
        let mut dec = SgdConfig { weight_decay: WeightDecay::DecoupledSchedule(lambda), ..SgdConfig::gd(alpha) }.build().unwrap();
        let mut cou = SgdConfig { weight_decay: WeightDecay::CoupledL2(lambda / alpha), ..SgdConfig::gd(alpha) }.build().unwrap();
        let (mut xa, mut xb) = (x0.clone(), x0);
        dec.step(&mut xa, &gv).unwrap();
        cou.step(&mut xb, &gv).unwrap();
        let bound = 8.0 * UNIT_ROUNDOFF * (theta.abs() * (1.0 + lambda + alpha * lp) + alpha * g.abs());
        TestResult::from_bool((xa[0] - xb[0]).abs() <= bound)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Enumerated without-replacement variance equals σ²/B·(m−B)/(m−1) (Cochran Thm 2.2).
    #[test]
    fn batch_variance_matches_formula(seed in any::<u64>(), m in 2usize..9, b_frac in 0.0f64..1.0, d in 1usize..4) {
        let b = 1 + ((m - 1) as f64 * b_frac) as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let grads: Vec<DVector<f64>> = (0..m).map(|_| DVector::from_fn(d, |_, _| StandardNormal.sample(&mut rng))).collect();
        let (full, s2) = population_variance(&grads);
        let sets = subsets(m, b);
        let mut var = 0.0;
        for s in &sets {
            let mut gs = DVector::zeros(d);
            for &i in s { gs += &grads[i]; }
            gs /= b as f64;
            var += (&gs - &full).norm_squared();
        }
        var /= sets.len() as f64;
        let pred = without_replacement_variance(s2, m, b).unwrap();
        let gnorm = grads.iter().map(|g| g.norm()).fold(0.0, f64::max);
        // As in the card: deviation vectors carry δ ≤ √d·2(γ_{b+1}+γ_{m+1})·max‖g‖.
        let delta = (d as f64).sqrt() * 2.0 * (gamma(b + 1) + gamma(m + 1) + gamma(sets.len() + 1)) * gnorm;
        let tol = 4.0 * gnorm * delta + delta * delta + 2.0 * gamma(sets.len() + m + 2) * (var + pred);
        prop_assert!((var - pred).abs() <= tol, "m={m} B={b}: {var} vs {pred}");
    }

    /// No rescaling beats the balanced one: Φ(c) ≥ Φ(c*) (1 − 8u), Φ(c*) = 2λ‖W₁‖‖W₂‖.
    #[test]
    fn balanced_rescaling_is_the_minimum(log_a in -6.0f64..6.0, log_b in -6.0f64..6.0, log_c in -8.0f64..8.0) {
        let (a, b) = (10f64.powf(log_a), 10f64.powf(log_b));
        let cs = wd::balancing_scale(a, b);
        let star = wd::decay_penalty(1.0, a, b, cs);
        prop_assert!(wd::decay_penalty(1.0, a, b, 10f64.powf(log_c)) >= star * (1.0 - 8.0 * UNIT_ROUNDOFF));
        prop_assert!((star - 2.0 * a * b).abs() <= 8.0 * UNIT_ROUNDOFF * star);
        prop_assert!(((cs * a) - (b / cs)).abs() <= 8.0 * UNIT_ROUNDOFF * cs * a);
    }

    /// For c < 0 the rescaled network is −W₂ReLU(−W₁x): the slide's identity needs c > 0.
    #[test]
    fn negative_rescaling_flips_the_relu(seed in any::<u64>(), c in -100.0f64..-0.01) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (w1, w2) = (gauss_mat(&mut rng, 4, 3), gauss_mat(&mut rng, 2, 4));
        let x = DVector::from_fn(3, |_, _| rng.random::<f64>() - 0.5);
        let (zh, zo) = (DVector::zeros(4), DVector::zeros(2));
        let y = two_layer(&(&w1 * c), &zh, &(&w2 / c), &zo, &x);
        let pred = -(&w2 * (-(&w1 * &x)).map(|v| v.max(0.0)));
        let scale = w2.abs() * (w1.abs() * x.abs());
        let tol = 2.0 * (gamma(5) + gamma(6) + 2.0 * UNIT_ROUNDOFF) * c.abs().max(1.0 / c.abs());
        for i in 0..2 {
            prop_assert!((y[i] - pred[i]).abs() <= tol * scale[i]);
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
