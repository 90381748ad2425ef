//! AdaGrad-Norm claims (claims.md 14–20): every card's quick check gives its expected verdict,
//! proptest properties for the lemmas (corrected forms hold, printed forms' counterexamples
//! reproduce), quickcheck for cheap identities.

mod common;

use optverify::claims::registry::{run_card, select_cards};
use optverify::claims::Mode;
use optverify::theory::adagrad_norm as th;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const IDS: [&str; 10] = [
    "adagrad-norm-update-rule",
    "adagrad-norm-batch-complexity",
    "constant-step-divergence",
    "adagrad-norm-summation-lemmas",
    "adagrad-norm-n-lemma",
    "adagrad-norm-k0-lemma",
    "adagrad-norm-b-limit",
    "adagrad-norm-stochastic-growth",
    "adagrad-norm-stochastic-rate",
    "adagrad-norm-b0-robustness",
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
#[test]
fn quick_b0_robustness() {
    check(IDS[9]);
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

// ---------------------------------------------------------------------------------------
// Stochastic families (digits mini-batches), confidence bands and robustness to b₀.

use nalgebra::DVector;
use optverify::claims::common::stats::{t_band, t_interval};
use optverify::claims::Style;
use optverify::prec::gamma;
use optverify::problems::stochastic::batch_gradient_variance;
use optverify::problems::{logistic_moments, IidBatchOracle};
use optverify::problems::{BinaryLogistic, BinaryTask, FiniteSum, GradientOracle, Objective};

fn digits_3_8() -> BinaryLogistic {
    BinaryLogistic::digits(
        BinaryTask::Pair {
            negative: 3,
            positive: 8,
        },
        true,
        0.1,
    )
    .unwrap()
}

fn augmented_sq_norms(p: &BinaryLogistic) -> Vec<f64> {
    p.features().row_iter().map(|r| r.norm_squared() + 1.0).collect()
}

/// The one-pass moments (σ²_pop = m⁻¹Σr_i²‖x̃_i‖² − ‖ḡ‖²) agree with the two-pass definition
/// (`batch_gradient_variance`, from the m example gradients) and with ‖∇F‖² from the objective.
#[test]
fn logistic_moments_match_the_two_pass_definition() {
    let p = digits_3_8();
    let sq = augmented_sq_norms(&p);
    let m = p.num_examples();
    let d = p.dim();
    let max_x2 = sq.iter().cloned().fold(0.0, f64::max);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for trial in 0..4 {
        let theta = DVector::from_fn(d, |_, _| rng.random_range(-1.0..1.0) * trial as f64);
        let big_g = max_x2.sqrt() + p.lambda() * theta.norm();
        let grad_sq = p.gradient(&theta).norm_squared();
        for b in [1, 10, 100, m] {
            let (gs, v) = logistic_moments(&p, &sq, b, &theta);
            // Both ‖∇F‖² are sums of m products of d + 1 terms each (|r_i| < 1): relative
            // rounding ≤ γ_{2(m+d)} of the bound G² on ‖∇F‖² (a few such sums).
            assert!(
                (gs - grad_sq).abs() <= 4.0 * gamma(2 * (m + d)) * big_g * big_g,
                "‖∇F‖²: {gs} vs {grad_sq}"
            );
            // The one-pass variance subtracts two quantities ≤ max‖x̃‖² each: its error is
            // ≤ γ_{2(m+d)} of their sum; the two-pass one has the same order.
            let exact = batch_gradient_variance(&p, &theta, b).unwrap();
            assert!(
                (v - exact).abs() <= 8.0 * gamma(2 * (m + d)) * big_g * big_g,
                "B = {b}: {v} vs {exact}"
            );
        }
        assert_eq!(logistic_moments(&p, &sq, m, &theta).1, 0.0);
    }
}

/// The i.i.d. batch oracle draws B distinct indices per call, is unbiased, and its mean squared
/// deviation matches the exact without-replacement variance.
#[test]
fn iid_batch_oracle_is_unbiased_with_the_exact_variance() {
    let p = digits_3_8();
    let sq = augmented_sq_norms(&p);
    let (m, d, b) = (p.num_examples(), p.dim(), 10);
    let theta = DVector::from_element(d, 0.05);
    let full = p.gradient(&theta);
    let (_, v) = logistic_moments(&p, &sq, b, &theta);
    let mut oracle = IidBatchOracle::new(&p, b, 3).unwrap();
    let draws = 20_000;
    let mut g = DVector::zeros(d);
    let mut sum = DVector::zeros(d);
    let mut devs = Vec::with_capacity(draws);
    for _ in 0..draws {
        oracle.gradient_into(&theta, &mut g);
        let mut batch = oracle.last_batch().to_vec();
        batch.sort_unstable();
        batch.dedup();
        assert_eq!(batch.len(), b, "B distinct indices");
        assert!(batch.iter().all(|&i| i < m));
        sum += &g;
        devs.push((&g - &full).norm_squared());
    }
    // E‖ḡ − ∇F‖² = V/draws exactly (independent draws); Markov: P(> 10⁴·V/draws) ≤ 10⁻⁴.
    let mean = sum / draws as f64;
    assert!((&mean - &full).norm_squared() <= 1e4 * v / draws as f64);
    // Mean of ‖g − ∇F‖² vs V: 6 sample standard errors (CLT; false failure ≈ 2e-9).
    let (mv, lo, hi) = t_interval(&devs, 1e-3);
    let se = (hi - lo) / 2.0 / 3.3; // t_{0.9995} ≈ 3.29 for 19 999 degrees of freedom
    assert!((mv - v).abs() <= 6.0 * se, "{mv} vs {v} (se {se})");
    // Fixed seed: the same draws again.
    let mut again = IidBatchOracle::new(&p, b, 3).unwrap();
    let mut g2 = DVector::zeros(d);
    let mut first = IidBatchOracle::new(&p, b, 3).unwrap();
    first.gradient_into(&theta, &mut g);
    again.gradient_into(&theta, &mut g2);
    assert_eq!(g, g2);
}

#[test]
fn t_band_is_the_pointwise_t_interval() {
    let x = [1.0, 10.0];
    let reps = vec![vec![1.0, 2.0], vec![3.0, 5.0], vec![5.0, 8.0]];
    let [lo, hi] = t_band("m", 0.05, &x, &reps);
    assert_eq!((lo.style, hi.style), (Style::BandLower, Style::BandUpper));
    assert!(lo.label.contains("95% t-band") && hi.label.contains("upper"));
    for (i, col) in [[1.0, 3.0, 5.0], [2.0, 5.0, 8.0]].iter().enumerate() {
        let (mean, l, h) = t_interval(col, 0.05);
        assert_eq!((lo.y[i], hi.y[i]), (l, h));
        assert!(l < mean && mean < h);
    }
    // Student-t with 2 degrees of freedom: t_{0.975} = 4.3027; s = 2 for [1, 3, 5].
    assert!((hi.y[0] - 3.0 - 4.302_652_729_749_464 * 2.0 / 3f64.sqrt()).abs() < 1e-9);
}

fn quick_evidence(id: &str) -> optverify::claims::Evidence {
    let cards = select_cards(&[id.to_string()]).unwrap();
    let out = run_card(&cards[0], Mode::Quick).unwrap();
    assert_eq!(
        out.verdict(),
        out.card.expected,
        "{id}: {}",
        out.judged.conclusion.headline
    );
    out.judged.evidence
}

fn has_band(f: &optverify::claims::Figure) -> bool {
    f.series.iter().filter(|s| s.label.contains("t-band")).count() >= 2
}

#[test]
fn quick_b0_robustness_measures_divergence_and_draws_bands() {
    let ev = quick_evidence("adagrad-norm-b0-robustness");
    let get = |prefix: &str| {
        ev.measurements
            .iter()
            .find(|m| m.name.starts_with(prefix))
            .unwrap_or_else(|| panic!("no measurement {prefix}"))
    };
    let sgd = get("SGD (step 1/b₀): diverged runs among those with b₀ < L/2");
    assert!(sgd.ok && sgd.measured > 0.0);
    assert_eq!(get("AdaGrad-Norm: diverged runs").measured, 0.0);
    assert!(ev
        .measurements
        .iter()
        .any(|m| m.name.starts_with("AdaGrad-Norm: Q(b₀ =") && m.ok));
    assert_eq!(ev.figures.len(), 1);
    assert!(has_band(&ev.figures[0]));
    // AdaGrad-Norm's and SGD's bands.
    assert_eq!(
        ev.figures[0]
            .series
            .iter()
            .filter(|s| s.label.contains("t-band"))
            .count(),
        4
    );
}

#[test]
fn quick_stochastic_checks_include_digits_and_bands() {
    let growth = quick_evidence("adagrad-norm-stochastic-growth");
    assert!(growth
        .measurements
        .iter()
        .any(|m| m.name.starts_with("Digits") && m.name.contains("b_K/√K vs lim") && m.ok));
    let sqrt_k: Vec<_> = growth
        .figures
        .iter()
        .filter(|f| f.id.starts_with("b-over-sqrt-k"))
        .collect();
    assert_eq!(sqrt_k.len(), 3);
    assert!(sqrt_k.iter().all(|f| has_band(f)));
    let trajectories = growth.figures.iter().find(|f| f.id == "b-trajectories").unwrap();
    // One band (two series) per family.
    assert_eq!(
        trajectories
            .series
            .iter()
            .filter(|s| s.label.contains("t-band"))
            .count(),
        6
    );
    let rate = quick_evidence("adagrad-norm-stochastic-rate");
    assert!(rate.measurements.iter().any(|m| m.name.starts_with("digits")));
    let ids: Vec<&str> = rate.figures.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["rate", "rate-digits"]);
    assert!(rate.figures.iter().all(has_band));
}
