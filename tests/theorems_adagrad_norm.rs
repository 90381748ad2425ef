//! AdaGrad-Norm claims (claims.md 14–20): every card's quick check gives its expected verdict,
//! proptest properties for the lemmas (corrected forms hold, printed forms' counterexamples
//! reproduce), quickcheck for cheap identities.

mod common;

use optverify::claims::registry::select_cards;
use optverify::claims::Mode;
use optverify::theory::adagrad_norm as th;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const IDS: [&str; 9] = [
    "adagrad-norm-update-rule",
    "adagrad-norm-batch-complexity",
    "constant-step-divergence",
    "adagrad-norm-summation-lemmas",
    "adagrad-norm-n-lemma",
    "adagrad-norm-k0-lemma",
    "adagrad-norm-b-limit",
    "adagrad-norm-stochastic-growth",
    "adagrad-norm-stochastic-rate",
];

use common::assert_quick_verdict as check;

#[test]
fn every_adagrad_norm_card_has_a_checker() {
    let ids: Vec<String> = IDS.iter().map(|s| s.to_string()).collect();
    let cards = select_cards(&ids).unwrap();
    assert_eq!(cards.len(), IDS.len());
}

#[test]
fn quick_update_rule() {
    check(IDS[0]);
}
#[test]
fn quick_batch_complexity() {
    check(IDS[1]);
}
#[test]
fn quick_constant_step() {
    check(IDS[2]);
}
#[test]
fn quick_summation_lemmas() {
    check(IDS[3]);
}
#[test]
fn quick_n_lemma() {
    check(IDS[4]);
}
#[test]
fn quick_k0_lemma() {
    check(IDS[5]);
}
#[test]
fn quick_b_limit() {
    check(IDS[6]);
}
#[test]
fn quick_stochastic_growth() {
    check(IDS[7]);
}
#[test]
fn quick_stochastic_rate() {
    check(IDS[8]);
}

/// A non-negative sequence of length `len` with a₁ > 0, built from `seed`: entries 10^U with
/// U uniform in [lo, hi], some set to 0 (allowed after the first).
fn sequence(seed: u64, len: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len)
        .map(|i| {
            if i > 0 && rng.random::<f64>() < 0.2 {
                0.0
            } else {
                10f64.powf(rng.random_range(lo..hi))
            }
        })
        .collect()
}

const ABS: f64 = 4.0 * optverify::prec::UNIT_ROUNDOFF;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Corrected log form: Σ a_ℓ/S_ℓ ≤ 1 + log(S_T/a₁) for every a₁ > 0 (rounding slack γ_{2T+3}).
    #[test]
    fn prop_log_lemma_scale_invariant_form_holds(seed in any::<u64>(), len in 1usize..300, lo in -8.0f64..0.0, width in 0.0f64..16.0) {
        let a = sequence(seed, len, lo, lo + width);
        let s = th::summation_lemmas(&a);
        prop_assert!(th::le_within(s.log_lhs, s.log_rhs_ratio, s.rel_err, ABS), "{s:?}");
    }

    /// The printed form under the paper's hypothesis a₁ ≥ 1.
    #[test]
    fn prop_log_lemma_printed_holds_when_first_term_at_least_one(seed in any::<u64>(), len in 1usize..300, a1 in 1.0f64..1e6, width in 0.0f64..12.0) {
        let mut a = sequence(seed, len, -6.0, -6.0 + width);
        a[0] = a1;
        let s = th::summation_lemmas(&a);
        prop_assert!(th::le_within(s.log_lhs, s.log_rhs_printed, s.rel_err, ABS), "{s:?}");
    }

    /// The square-root form holds as printed.
    #[test]
    fn prop_sqrt_lemma_holds(seed in any::<u64>(), len in 1usize..300, lo in -12.0f64..6.0, width in 0.0f64..12.0) {
        let a = sequence(seed, len, lo, lo + width);
        let s = th::summation_lemmas(&a);
        prop_assert!(th::le_within(s.sqrt_lhs, s.sqrt_rhs, s.rel_err, 0.0), "{s:?}");
    }

    /// The N-lemma in exact arithmetic, for sequences just above ε.
    #[test]
    fn prop_n_lemma_exact(l in 0.01f64..10.0, b0_frac in 0.001f64..1.0, eps in 1e-3f64..1.0, bump_exp in 1i32..50) {
        let b0 = l * b0_frac;
        let n = th::n_lemma_iterations(l, b0, eps);
        let n: usize = th::Ceil { lo: n.clone(), hi: n }.lo_u64() as usize;
        prop_assume!(n <= 50_000);
        let a = vec![eps * (1.0 + 2f64.powi(-bump_exp)); n];
        prop_assert!(a.iter().all(|&v| v > eps));
        prop_assert!(th::b_squared_exact(b0, &a) >= th::rat(l) * th::rat(l));
    }
}

/// The printed log form's counterexamples are reproduced and shrink to the simplest one: a
/// proptest run over sequences with a₁ < 1 must fail, and its minimal failing input has T = 1.
#[test]
fn printed_log_lemma_fails_and_shrinks_to_a_single_term() {
    use proptest::test_runner::{Config, TestError, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (any::<u64>(), 1usize..50, -6.0f64..-0.01);
    let result = runner.run(&strategy, |(seed, len, lo)| {
        let mut a = sequence(seed, len, -3.0, 3.0);
        a[0] = 10f64.powf(lo);
        let s = th::summation_lemmas(&a);
        prop_assert!(th::le_within(s.log_lhs, s.log_rhs_printed, s.rel_err, ABS));
        Ok(())
    });
    match result {
        Err(TestError::Fail(_, (seed, len, lo))) => {
            assert_eq!(len, 1, "shrunk to seed {seed}, len {len}, a1 = 10^{lo}");
            assert!(10f64.powf(lo) < 1.0);
        }
        other => panic!("the printed log lemma should fail for a₁ < 1: {other:?}"),
    }
}

quickcheck::quickcheck! {
    /// T = 1: the log-form left side is exactly 1 and the scale-invariant right side exactly 1.
    fn qc_single_term_log_lemma(x: f64) -> quickcheck::TestResult {
        if !(x.is_finite() && x > 0.0) {
            return quickcheck::TestResult::discard();
        }
        let s = th::summation_lemmas(&[x]);
        quickcheck::TestResult::from_bool(s.log_lhs == 1.0 && s.log_rhs_ratio == 1.0 && (s.log_rhs_printed < 1.0) == (x < 1.0))
    }

    /// The two regimes of Theorem 2.2 are monotone in ε: a smaller ε never gives a smaller N.
    fn qc_batch_iterations_monotone_in_eps(g: u16, b: u16, e: u16) -> bool {
        let gap = 1e-2 + g as f64 / 100.0;
        let b0 = 1e-2 + b as f64 / 1000.0;
        let eps = 1e-3 + e as f64 / 1e4;
        let n1 = th::batch_iterations(gap, 1.0, b0, eps);
        let n2 = th::batch_iterations(gap, 1.0, b0, eps / 2.0);
        n2.lo >= n1.lo && n1.lo <= n1.hi
    }

    /// The lecture's count is never below Theorem 2.2's (JMLR): for b₀ < L its numerator is
    /// larger by L²/4, for b₀ ≥ L the two coincide.
    fn qc_lecture_count_at_least_theorem_count(g: u16, b: u16, e: u16) -> bool {
        let gap = 1e-2 + g as f64 / 100.0;
        let b0 = 1e-3 + b as f64 / 20_000.0;
        let eps = 1e-3 + e as f64 / 1e4;
        let paper = th::batch_iterations(gap, 1.0, b0, eps);
        let lecture = th::batch_iterations_lecture(gap, 1.0, b0, eps);
        lecture.lo >= paper.lo && lecture.hi >= paper.hi && (b0 < 1.0 || lecture == paper)
    }
}

/// Full mode of every card (minutes), each asserting its card's expected verdict:
/// `cargo test --release --test theorems_adagrad_norm -- --ignored --nocapture`.
#[test]
#[ignore]
fn full_mode_all() {
    for id in IDS {
        common::assert_verdict(id, Mode::Full);
    }
}
