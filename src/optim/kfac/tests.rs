//! K-FAC unit and property tests: the first step against a dense Kronecker computation, the
//! factor averaging, the damping limit, the statistics of every model, validation.

use super::*;
use crate::prec::{gamma as gamma_n, UNIT_ROUNDOFF};
use crate::problems::{BinaryLogistic, Mlp, Multinomial, Objective};
use nalgebra::SymmetricEigen;
use proptest::prelude::*;
use rand::SeedableRng;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn all_rows(n: usize) -> Vec<usize> {
    (0..n).collect()
}

/// Flat index of entry (r, c) of layer `l`'s W̄ in the layout (c = inputs is the bias).
fn flat_index(l: &KfacLayer, layout: &Layout, r: usize, c: usize) -> usize {
    let block = |name: &str| layout.blocks().iter().find(|b| b.name == name).unwrap().offset;
    if c < l.inputs {
        block(&l.weight) + r * l.inputs + c
    } else {
        block(l.bias.as_ref().unwrap()) + r
    }
}

/// The damped block-diagonal K-FAC matrix over the whole flat θ, written out densely:
/// entry (idx(r₁,c₁), idx(r₂,c₂)) of layer l is G_d[r₁,r₂]·Ā_d[c₁,c₂] (the row-major vec of
/// W̄ orders its Kronecker product G ⊗ Ā). π and γ are recomputed here from the factors.
fn dense_damped(model: &dyn KfacModel, stats: &[LayerStats], damping: f64) -> DMatrix<f64> {
    let layout = model.kfac_layout();
    let dim = layout.dim();
    let gamma = damping.sqrt();
    let mut m = DMatrix::zeros(dim, dim);
    for (l, s) in model.kfac_layers().iter().zip(stats) {
        let (a, g) = (s.a_hat(), s.g_hat());
        let pi = ((a.trace() / a.nrows() as f64) / (g.trace() / g.nrows() as f64)).sqrt();
        let ad = &a + DMatrix::identity(a.nrows(), a.nrows()) * (pi * gamma);
        let gd = &g + DMatrix::identity(g.nrows(), g.nrows()) * (gamma / pi);
        // Same matrix via nalgebra's Kronecker product, as a cross-check of the index map.
        let kron = gd.kronecker(&ad);
        let na = ad.nrows();
        for r1 in 0..l.outputs {
            for c1 in 0..na {
                for r2 in 0..l.outputs {
                    for c2 in 0..na {
                        m[(flat_index(l, &layout, r1, c1), flat_index(l, &layout, r2, c2))] =
                            kron[(r1 * na + c1, r2 * na + c2)];
                    }
                }
            }
        }
    }
    m
}

fn condition_number(m: &DMatrix<f64>) -> f64 {
    let e = SymmetricEigen::new(m.clone()).eigenvalues;
    e.max() / e.min()
}

fn fixed(model: &dyn KfacModel, damping: f64) -> KfacConfig {
    KfacConfig {
        damping,
        update: UpdateRule::Fixed {
            lr: 1.0,
            momentum: 0.0,
        },
        ..KfacConfig::paper(model)
    }
}

#[test]
fn test_first_step_matches_dense_kronecker_inverse() {
    // The whole first step, Δθ = −F̆_d⁻¹∇h, against a dense solve of the explicit block-diagonal
    // Kronecker matrix (nalgebra LU). Both are backward stable; the forward error of each is
    // ≤ κ·γ_{3n}/(1 − κγ_{3n}) relative (Higham, Thm 7.2 with the backward errors of Cholesky
    // inversion and LU, growth ≤ 2 for these SPD systems absorbed in the factor 3): twice that
    // bounds their difference.
    for (bias, targets) in [
        (true, FisherTargets::Sampled),
        (false, FisherTargets::Empirical),
        (true, FisherTargets::Expected),
    ] {
        let p = Mlp::random_teacher(12, 3, 4, 2, bias, 3).unwrap();
        let theta0 = p.init(9) * 1.7;
        let rows = all_rows(12);
        let stats = p.kfac_statistics(&theta0, &rows, targets, &mut rng(5));
        let mut opt = fixed(&p, 0.1).build().unwrap();
        let mut x = theta0.clone();
        opt.observe(&stats).unwrap();
        let g = p.batch_gradient(&theta0, &rows);
        opt.step(&mut x, &g).unwrap();
        let got = &x - &theta0;
        let m = dense_damped(&p, &stats, 0.1);
        let want = -m.clone().lu().solve(&g).unwrap();
        let kappa = condition_number(&m);
        let tol = 2.0 * kappa * gamma_n(3 * m.nrows()) / (1.0 - kappa * gamma_n(3 * m.nrows()));
        let err = (&got - &want).norm() / want.norm();
        assert!(
            err <= tol,
            "bias {bias} {targets:?}: rel err {err:e} > {tol:e} (κ = {kappa:.3e})"
        );
        // The step is not the gradient step (the check could tell them apart).
        assert!((&got + &g).norm() > 1e3 * tol * g.norm());
    }
}

#[test]
fn test_first_step_logistic_models_match_dense() {
    let b = BinaryLogistic::random(15, 4, true, 0.01, 2).unwrap();
    let mc = Multinomial::random(20, 3, 4, true, 0.0, 4).unwrap();
    let models: [&dyn KfacModel; 2] = [&b, &mc];
    for model in models {
        let theta0 = DVector::from_fn(model.kfac_layout().dim(), |i, _| 0.1 * (i as f64 - 2.0));
        let rows = all_rows(15);
        let stats = model.kfac_statistics(&theta0, &rows, FisherTargets::Sampled, &mut rng(1));
        let mut opt = fixed(model, 0.05).build().unwrap();
        opt.observe(&stats).unwrap();
        let g = model.batch_gradient(&theta0, &rows);
        let mut x = theta0.clone();
        opt.step(&mut x, &g).unwrap();
        let m = dense_damped(model, &stats, 0.05);
        let want = -m.clone().lu().solve(&g).unwrap();
        let kappa = condition_number(&m);
        let tol = 2.0 * kappa * gamma_n(3 * m.nrows()) / (1.0 - kappa * gamma_n(3 * m.nrows()));
        let err = (&(&x - &theta0) - &want).norm() / want.norm();
        assert!(err <= tol, "rel err {err:e} > {tol:e}");
    }
}

#[test]
fn test_factor_averaging_follows_min_one_minus_one_over_k() {
    // ε₁ = 0 (A = Â₁), ε₂ = min(1/2, ε_max), ε₃ = min(2/3, ε_max): with ε_max = 0.6 the third
    // weight is 0.6. Each update is two products and a sum: ≤ 3u relative per entry, plus the
    // previous error times ε < 1; 16u covers three updates.
    let p = Mlp::random_teacher(6, 2, 3, 1, true, 8).unwrap();
    let theta = p.init(1);
    let mut opt = KfacConfig {
        max_decay: 0.6,
        ..fixed(&p, 0.1)
    }
    .build()
    .unwrap();
    let batches = [vec![0, 1, 2], vec![3, 4], vec![5, 0, 1, 2]];
    let stats: Vec<Vec<LayerStats>> = batches
        .iter()
        .enumerate()
        .map(|(i, b)| p.kfac_statistics(&theta, b, FisherTargets::Sampled, &mut rng(i as u64)))
        .collect();
    for s in &stats {
        opt.observe(s).unwrap();
    }
    for (l, f) in opt.factors().iter().enumerate() {
        let a = |k: usize| stats[k][l].a_hat();
        let want = (a(0) * 0.5 + a(1) * 0.5) * 0.6 + a(2) * 0.4;
        assert!((&f.a - &want).amax() <= 16.0 * UNIT_ROUNDOFF * want.amax());
        let g = |k: usize| stats[k][l].g_hat();
        let want = (g(0) * 0.5 + g(1) * 0.5) * 0.6 + g(2) * 0.4;
        assert!((&f.g - &want).amax() <= 16.0 * UNIT_ROUNDOFF * want.amax());
    }
}

#[test]
fn test_empirical_statistics_reproduce_the_gradient() {
    // With the training labels, n⁻¹Σ_k g_k ā_kᵀ is exactly the layer's loss gradient (without
    // the λθ term): this checks ā and g of every model against its own backprop. Both sides
    // are length-n sums of the same products in different orders: γ_n·Σ|terms| each.
    let mlp = Mlp::random_teacher(9, 3, 5, 2, true, 2).unwrap();
    let mlp_theta = mlp.init(4) * 1.5;
    let bin = BinaryLogistic::random(9, 3, true, 0.3, 1).unwrap();
    let mc = Multinomial::random(9, 3, 4, false, 0.2, 6).unwrap();
    let small = DVector::from_fn(16, |i, _| 0.05 * i as f64 - 0.3);
    let cases: [(&dyn KfacModel, DVector<f64>, f64); 3] = [
        (&mlp, mlp_theta, 0.0),
        (&bin, small.rows(0, 4).into_owned(), 0.3),
        (&mc, small.rows(0, 12).into_owned(), 0.2),
    ];
    for (model, theta, lambda) in cases {
        let rows = all_rows(9);
        let stats = model.kfac_statistics(&theta, &rows, FisherTargets::Empirical, &mut rng(0));
        let g = model.batch_gradient(&theta, &rows) - &theta * lambda;
        let layout = model.kfac_layout();
        for (l, s) in model.kfac_layers().iter().zip(&stats) {
            let dw = s.preactivation_grads.tr_mul(&s.activations) / 9.0;
            let abs = s.preactivation_grads.abs().tr_mul(&s.activations.abs()) / 9.0;
            for r in 0..l.outputs {
                for c in 0..l.a_dim() {
                    let want = g[flat_index(l, &layout, r, c)];
                    let tol = 2.0 * gamma_n(12) * abs[(r, c)] + 4.0 * UNIT_ROUNDOFF * lambda * theta.amax();
                    assert!(
                        (dw[(r, c)] - want).abs() <= tol,
                        "{} ({r},{c}): {} vs {want}",
                        l.weight,
                        dw[(r, c)]
                    );
                }
            }
        }
    }
}

#[test]
fn test_expected_targets_give_the_output_fisher() {
    // Gaussian output: Ĝ of the last layer is I exactly (sums of 0/1 products). Softmax: Ĝ is
    // the mean of diag(p) − ppᵀ (LLᵀ = S up to ≈ 4u per entry).
    let p = Mlp::random_teacher(5, 2, 3, 3, true, 1).unwrap();
    let stats = p.kfac_statistics(&p.init(2), &all_rows(5), FisherTargets::Expected, &mut rng(0));
    assert_eq!(stats[1].g_hat(), DMatrix::identity(3, 3));
    let mc = Multinomial::random(7, 2, 4, true, 0.0, 3).unwrap();
    let theta = DVector::from_fn(12, |i, _| 0.2 * i as f64 - 1.0);
    let stats = mc.kfac_statistics(&theta, &all_rows(7), FisherTargets::Expected, &mut rng(0));
    let mean: DMatrix<f64> = mc
        .output_fisher(&theta, &all_rows(7))
        .into_iter()
        .fold(DMatrix::zeros(4, 4), |a, s| a + s)
        / 7.0;
    assert!((stats[0].g_hat() - &mean).amax() <= 64.0 * UNIT_ROUNDOFF);
}

#[test]
fn test_sampled_targets_are_seeded_and_unbiased_in_the_mean() {
    // Same seed, same statistics; and the sample mean of ggᵀ over many draws approaches the
    // expected G (a 6-standard-error band on each entry; entries of ggᵀ are bounded by 1 for
    // the Bernoulli model so their variance is ≤ 1 and the standard error ≤ 1/√draws).
    let b = BinaryLogistic::random(4, 2, true, 0.0, 5).unwrap();
    let theta = DVector::from_vec(vec![0.5, -0.3, 0.2]);
    let rows = all_rows(4);
    let s1 = b.kfac_statistics(&theta, &rows, FisherTargets::Sampled, &mut rng(3));
    let s2 = b.kfac_statistics(&theta, &rows, FisherTargets::Sampled, &mut rng(3));
    assert_eq!(s1, s2);
    let draws = 4000;
    let mut r = rng(11);
    let mut acc = 0.0;
    for _ in 0..draws {
        acc += b.kfac_statistics(&theta, &rows, FisherTargets::Sampled, &mut r)[0].g_hat()[(0, 0)];
    }
    let expected = b.kfac_statistics(&theta, &rows, FisherTargets::Expected, &mut r)[0].g_hat()[(0, 0)];
    assert!((acc / draws as f64 - expected).abs() <= 6.0 / (draws as f64).sqrt());
}

#[test]
fn test_output_jvp_matches_central_differences() {
    // Along a line θ + tv the network output is a polynomial of degree 2 in t while no
    // pre-activation changes sign, so the central difference is exact up to rounding:
    // ≈ u·|H|/t. t = 1e-4 with pre-activations ≥ 0.05 keeps every sign.
    let p = Mlp::random_teacher(6, 3, 4, 2, true, 4).unwrap();
    let theta = p.init(7) * 2.0;
    let rows = all_rows(6);
    let v = p.init(8);
    let t = 1e-4;
    assert!(p.min_abs_preactivation(&theta) > 10.0 * t * (v.amax() * 4.0 + 1.0));
    let jv = p.output_jvp(&theta, &rows, &v);
    for k in 0..6 {
        let x = p.inputs_matrix().row(k).transpose();
        let fd = (p.forward(&(&theta + &v * t), &x) - p.forward(&(&theta - &v * t), &x)) / (2.0 * t);
        let scale = p.forward(&theta, &x).amax() + 1.0;
        assert!((fd - jv.row(k).transpose()).amax() <= 1e3 * UNIT_ROUNDOFF * scale / t);
    }
}

#[test]
fn test_fisher_bilinear_matches_dense_fisher() {
    let p = Mlp::random_teacher(5, 2, 3, 2, true, 9).unwrap();
    let theta = p.init(1);
    let rows = all_rows(5);
    let f = dense_fisher(&p, &theta, &rows);
    assert_eq!(f.nrows(), p.dim());
    assert!((&f - f.transpose()).amax() <= 8.0 * UNIT_ROUNDOFF * f.amax());
    let (u, v) = (p.init(2), p.init(3));
    let want = u.dot(&(&f * &v));
    let got = p.fisher_bilinear(&theta, &rows, &u, &v);
    assert!((got - want).abs() <= gamma_n(4 * p.dim()) * (u.abs().dot(&(f.abs() * v.abs())) + got.abs()));
}

#[test]
fn test_rescaled_and_momentum_minimise_the_quadratic_model() {
    // §6.4: ∂M/∂α = ∇hᵀΔ + α ΔᵀCΔ = 0; §7: the gradient of M over (α, μ) vanishes. Checked
    // relative to the magnitudes of the terms (each a dot product of length dim: γ_dim).
    let p = BinaryLogistic::random(30, 3, true, 0.01, 7).unwrap();
    let rows = all_rows(30);
    let mut opt = KfacConfig {
        damping: 0.01,
        ..KfacConfig::paper(&p)
    }
    .build()
    .unwrap();
    let mut x = DVector::from_vec(vec![0.3, -0.2, 0.1, 0.0]);
    for step in 0..3 {
        let before = x.clone();
        let prev = opt.previous.clone();
        opt.iterate(&p, &mut x, &rows, &mut rng(step)).unwrap();
        let g = p.batch_gradient(&before, &rows);
        let delta = opt.direction(&g);
        let c =
            |u: &DVector<f64>, v: &DVector<f64>| p.fisher_bilinear(&before, &rows, u, v) + 0.01 * u.dot(v);
        let (alpha, mu) = opt.last_coefficients();
        let step_taken = &x - &before;
        let d_alpha = g.dot(&delta) + c(&delta, &step_taken);
        let scale = g.abs().dot(&delta.abs()) + c(&delta, &delta).abs() * alpha.abs() + 1e-300;
        assert!(
            d_alpha.abs() <= 1e3 * UNIT_ROUNDOFF * scale,
            "step {step}: ∂M/∂α = {d_alpha:e}"
        );
        if let Some(prev) = prev {
            let d_mu = g.dot(&prev) + c(&prev, &step_taken);
            let scale = g.abs().dot(&prev.abs()) + c(&prev, &prev).abs() * (mu.abs() + 1.0);
            assert!(
                d_mu.abs() <= 1e3 * UNIT_ROUNDOFF * scale,
                "step {step}: ∂M/∂μ = {d_mu:e}"
            );
        } else {
            assert_eq!(mu, 0.0);
        }
    }
}

#[test]
fn test_inverses_refresh_every_t_inv_steps() {
    let p = Mlp::random_teacher(8, 2, 3, 1, true, 1).unwrap();
    let mut opt = KfacConfig {
        inverse_period: 5,
        ..fixed(&p, 0.1)
    }
    .build()
    .unwrap();
    let mut x = p.init(2);
    let rows = all_rows(8);
    let mut seen = Vec::new();
    for k in 0..10 {
        opt.iterate(&p, &mut x, &rows, &mut rng(k)).unwrap();
        seen.push(opt.inverses().to_vec());
    }
    // Algorithm 2: "if k ≡ 0 (mod T₃) or k ≤ 3" with T₃ = 5: refreshed at k = 1, 2, 3, 5, 10;
    // stale at 4, 6, 7, 8, 9. seen[i] holds the inverses after iteration k = i + 1.
    for k in 2..=10 {
        let changed = seen[k - 1] != seen[k - 2];
        assert_eq!(changed, k <= 3 || k % 5 == 0, "iteration {k}");
    }
}

#[test]
fn test_iterate_decreases_the_logistic_loss() {
    let p = Multinomial::random(60, 4, 3, true, 0.01, 2).unwrap();
    let mut opt = KfacConfig {
        damping: 0.1,
        ..KfacConfig::paper(&p)
    }
    .build()
    .unwrap();
    let mut x = DVector::zeros(p.dim());
    let f0 = p.value(&x);
    let rows = all_rows(60);
    let mut r = rng(0);
    for _ in 0..15 {
        opt.iterate(&p, &mut x, &rows, &mut r).unwrap();
    }
    assert!(p.value(&x) < 0.8 * f0, "{} vs {f0}", p.value(&x));
    assert_eq!(opt.steps_taken(), 15);
}

#[test]
fn test_validation_table_and_step_errors() {
    use crate::optim::testing::assert_out_of_range;
    let p = Mlp::random_teacher(4, 2, 3, 1, true, 1).unwrap();
    let base = || KfacConfig::fixed(&p, 0.1);
    let cases: Vec<(KfacConfig, &str)> = vec![
        (
            KfacConfig {
                damping: -1.0,
                ..base()
            },
            "damping",
        ),
        (
            KfacConfig {
                l2: f64::NAN,
                ..base()
            },
            "l2",
        ),
        (
            KfacConfig {
                max_decay: 1.0,
                ..base()
            },
            "max_decay",
        ),
        (
            KfacConfig {
                update: UpdateRule::Fixed {
                    lr: 0.0,
                    momentum: 0.0,
                },
                ..base()
            },
            "update.lr",
        ),
        (
            KfacConfig {
                update: UpdateRule::Fixed {
                    lr: 1.0,
                    momentum: 1.0,
                },
                ..base()
            },
            "update.momentum",
        ),
    ];
    assert_out_of_range(cases, |c| c.build());
    assert!(matches!(
        KfacConfig {
            inverse_period: 0,
            ..base()
        }
        .build(),
        Err(HyperError::CountOutOfRange {
            field: "inverse_period",
            ..
        })
    ));
    let mut missing = base();
    missing.layers.pop();
    assert!(matches!(missing.build(), Err(HyperError::Incompatible { .. })));
    let mut wrong = base();
    wrong.layers[0].inputs = 3;
    assert!(matches!(wrong.build(), Err(HyperError::Incompatible { .. })));
    let mut twice = base();
    twice.layers[1].weight = "w1".into();
    assert!(matches!(twice.build(), Err(HyperError::Incompatible { .. })));

    let mut opt = base().build().unwrap();
    let mut x = p.init(0);
    let x0 = x.clone();
    let g = DVector::from_element(p.dim(), 1.0);
    assert!(matches!(opt.step(&mut x, &g), Err(StepError::Invalid(_))));
    assert!(opt.step(&mut x, &DVector::zeros(3)).is_err());
    let mut rescaled = KfacConfig::paper(&p).build().unwrap();
    rescaled
        .observe(&p.kfac_statistics(&x, &all_rows(4), FisherTargets::Sampled, &mut rng(0)))
        .unwrap();
    assert!(matches!(rescaled.step(&mut x, &g), Err(StepError::Invalid(_))));
    assert!(opt.observe(&[]).is_err());
    assert_eq!(x, x0);
    assert_eq!(opt.steps_taken() + rescaled.steps_taken(), 0);
    let json = serde_json::to_string(&base()).unwrap();
    assert_eq!(serde_json::from_str::<KfacConfig>(&json).unwrap(), base());
    assert!(crate::optim::catalogue().iter().any(|e| e.name == "kfac"));
}

fn assert_send_sync_clone<T: Send + Sync + Clone>() {}

#[test]
fn test_kfac_is_send_sync_clone() {
    assert_send_sync_clone::<Kfac>();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Shapes: every layer's statistics and factors have the layer's dimensions, Â and Ĝ are
    /// exactly symmetric, the step has θ's length and is finite, for every convention.
    #[test]
    fn prop_shapes(n in 1usize..8, d in 1usize..5, h in 1usize..5, o in 1usize..4,
                   bias in any::<bool>(), seed in 0u64..1000, t in 0usize..3) {
        let targets = [FisherTargets::Sampled, FisherTargets::Expected, FisherTargets::Empirical][t];
        let p = Mlp::random_teacher(n, d, h, o, bias, seed).unwrap();
        let theta = p.init(seed + 1);
        let rows = all_rows(n);
        let stats = p.kfac_statistics(&theta, &rows, targets, &mut rng(seed));
        let grad_rows = if targets == FisherTargets::Expected { n * o } else { n };
        for (l, s) in p.kfac_layers().iter().zip(&stats) {
            prop_assert_eq!(s.activations.shape(), (n, l.a_dim()));
            prop_assert_eq!(s.preactivation_grads.shape(), (grad_rows, l.outputs));
            prop_assert_eq!(s.a_hat(), s.a_hat().transpose());
            prop_assert_eq!(s.g_hat(), s.g_hat().transpose());
        }
        let mut opt = fixed(&p, 0.5).build().unwrap();
        opt.observe(&stats).unwrap();
        let mut x = theta.clone();
        opt.step(&mut x, &p.batch_gradient(&theta, &rows)).unwrap();
        prop_assert_eq!(x.len(), p.dim());
        prop_assert!(x.iter().all(|v| v.is_finite()));
        for (l, (f, inv)) in p.kfac_layers().iter().zip(opt.factors().iter().zip(opt.inverses())) {
            prop_assert_eq!(f.a.shape(), (l.a_dim(), l.a_dim()));
            prop_assert_eq!(inv.g_inv.shape(), (l.outputs, l.outputs));
        }
    }

    /// Damping → ∞ gives gradient descent with step lr/λ. With γ² = λ the damped block is
    /// γ²(I + E), E = G⊗Ā/γ² + π G⊗I/γ + I⊗Ā/(πγ), so ‖λ F̆_d⁻¹ − I‖ ≤ e/(1 − e) with
    /// e = ‖G‖‖Ā‖/λ + π‖G‖/√λ + ‖Ā‖/(π√λ) (spectral norms, max over layers). The test
    /// asserts λΔ = −∇h within that bound (plus rounding), and that the bound → 0.
    #[test]
    fn prop_damping_limit_is_scaled_gradient_descent(
        n in 2usize..10, d in 1usize..4, h in 1usize..4, o in 1usize..3,
        bias in any::<bool>(), seed in 0u64..1000, log_s in 3.0f64..8.0,
    ) {
        let p = Mlp::random_teacher(n, d, h, o, bias, seed).unwrap();
        let theta = p.init(seed + 2) * 1.5;
        let rows = all_rows(n);
        let stats = p.kfac_statistics(&theta, &rows, FisherTargets::Sampled, &mut rng(seed));
        let norm = |m: &DMatrix<f64>| SymmetricEigen::new(m.clone()).eigenvalues.amax();
        let scale = stats.iter().map(|s| norm(&s.a_hat()).max(norm(&s.g_hat()))).fold(1.0, f64::max);
        let lambda = 10f64.powf(log_s) * scale * scale;
        let mut opt = fixed(&p, lambda).build().unwrap();
        opt.observe(&stats).unwrap();
        let g = p.batch_gradient(&theta, &rows);
        prop_assume!(g.norm() > 0.0);
        let mut x = theta.clone();
        opt.step(&mut x, &g).unwrap();
        let e = opt
            .factors()
            .iter()
            .zip(opt.inverses())
            .map(|(f, inv)| {
                let (na, ng) = (norm(&f.a), norm(&f.g));
                ng * na / lambda + inv.pi * ng / lambda.sqrt() + na / (inv.pi * lambda.sqrt())
            })
            .fold(0.0, f64::max);
        prop_assert!(e < 0.5);
        let bound = e / (1.0 - e) + 64.0 * UNIT_ROUNDOFF * (d + h + o + 2) as f64;
        let dev = ((&x - &theta) * lambda + &g).norm() / g.norm();
        prop_assert!(dev <= bound, "deviation {:e} > bound {:e}", dev, bound);
        // π‖G‖ ≤ √(‖Ā‖ dim G ‖G‖) and ‖Ā‖/π ≤ √(‖G‖ dim Ā ‖Ā‖) (‖·‖ ≤ tr), so with
        // λ = s·scale²: e ≤ 1/s + (√dim G + √dim Ā)/√s → 0.
        let s = 10f64.powf(log_s);
        let dims = ((h.max(o)) as f64).sqrt() + ((d.max(h) + 1) as f64).sqrt();
        prop_assert!(e <= 1.0 / s + dims / s.sqrt());
    }
}
