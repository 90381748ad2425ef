//! Equivalences of the layer-wise optimizers (LARS, LAMB, Adafactor) with simpler forms.
//!
//! Each test says whether the equivalence is bit for bit (same IEEE operations on the same
//! operands) or holds to rounding (bound and argument next to it). Gradients are seeded
//! ChaCha8 sequences *replayed* (not closed-loop), so differences come from the update
//! arithmetic only.

use nalgebra::DVector;
use optverify::optim::adafactor::{AdafactorConfig, Factoring};
use optverify::optim::adam::AdamConfig;
use optverify::optim::adamw::AdamWConfig;
use optverify::optim::conventions::WeightDecay;
use optverify::optim::lamb::{LambConfig, Phi};
use optverify::optim::lars::{LarsConfig, LarsTrustRatio};
use optverify::optim::{Layout, Optimizer};
use optverify::prec::{gamma, trajectory_rel, UNIT_ROUNDOFF};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn uniform(rng: &mut ChaCha8Rng, n: usize, lo: f64, hi: f64) -> DVector<f64> {
    DVector::from_fn(n, |_, _| rng.random_range(lo..hi))
}

/// A three-block layout: a 3×4 matrix, a bias of 3, a 2×2 matrix (19 parameters).
fn layout() -> Layout {
    Layout::from_shapes([("w1", 3, 4), ("b1", 3, 1), ("w2", 2, 2)])
}

#[test]
fn lamb_with_unit_trust_ratio_is_framework_adamw() {
    // optax: lamb = scale_by_adam → add_decayed_weights → scale_by_trust_ratio → lr, and
    // adamw = the same chain without scale_by_trust_ratio. With the ratio forced to 1 LAMB is
    // θ ← θ − α(r + λθ), AdamW's framework form (DecoupledTimesLr) θ ← θ(1 − αλ) − α r.
    //
    // Rounding bound. The moments are bit-identical (same gradients, same Adam lines; LAMB's
    // inner Adam has α = 1 so its r = 1·q is q exactly, AdamW's u = α·q rounds once). Per step
    // LAMB rounds ≤ 5 times (αη, λθ, r + λθ, the product, the subtraction) and AdamW ≤ 6
    // (α·q, αηλ twice, 1 − ·, θ·keep, η·u, the subtraction), each ≤ u times |θ| or |Δ|: the
    // per-step difference is ≤ 12u·(|θ| + |Δ|) < STEP_REL·scale. The θ map is multiplication
    // by 1 − αλ ∈ (0, 1], so earlier differences do not grow: after k steps the difference
    // is ≤ trajectory_rel(k)·scale, scale = max_j |θ_j| + max_j |Δ_j|.
    let (alpha, lambda, steps) = (1e-2, 0.1, 40);
    let mut rng = ChaCha8Rng::seed_from_u64(0x1a3b);
    let x0 = uniform(&mut rng, 19, -2.0, 2.0);
    let grads: Vec<DVector<f64>> = (0..steps).map(|_| uniform(&mut rng, 19, -3.0, 3.0)).collect();
    let mut lamb = LambConfig {
        lr: alpha,
        eps: 1e-6,
        weight_decay: lambda,
        phi: Phi::One,
        ..LambConfig::paper()
    }
    .with_layout(layout())
    .build()
    .unwrap();
    let mut lamb_identity = LambConfig {
        phi: Phi::Identity,
        ..lamb.config().clone()
    }
    .build()
    .unwrap();
    let mut adamw = AdamWConfig {
        adam: AdamConfig {
            lr: alpha,
            eps: 1e-6,
            ..AdamConfig::paper()
        },
        weight_decay: WeightDecay::DecoupledTimesLr(lambda),
    }
    .build()
    .unwrap();
    let (mut xl, mut xa, mut xi) = (x0.clone(), x0.clone(), x0.clone());
    let (mut theta_max, mut delta_max) = (x0.amax(), 0.0_f64);
    let mut identity_gap = 0.0_f64;
    for (k, g) in grads.iter().enumerate() {
        let before = xa.clone();
        lamb.step(&mut xl, g).unwrap();
        adamw.step(&mut xa, g).unwrap();
        lamb_identity.step(&mut xi, g).unwrap();
        theta_max = theta_max.max(xa.amax());
        delta_max = delta_max.max((&xa - &before).amax());
        let bound = trajectory_rel(k + 1) * (theta_max + delta_max);
        let diff = (&xl - &xa).amax();
        assert!(
            diff <= bound,
            "step {}: |lamb − adamw| = {diff:e} > {bound:e}",
            k + 1
        );
        identity_gap = identity_gap.max((&xi - &xa).amax());
    }
    assert!(lamb.trust_ratios().iter().all(|&r| r == 1.0));
    // The real trust ratio does change the trajectory (the check above can fail).
    assert!(
        identity_gap > 1e-3,
        "identity-phi LAMB equals AdamW? gap {identity_gap:e}"
    );
}

#[test]
fn lars_one_layer_no_momentum_step_is_eta_gamma_relative() {
    // One block, m = 0, β = 0: λ = η‖w‖/‖g‖, v = γλg, so ‖v‖/‖w‖ = γη for both denominators.
    // With β > 0 optax's form still gives γη‖w‖ (ε = 0), the paper's only ≤ γη‖w‖
    // (‖g + βw‖ ≤ ‖g‖ + β‖w‖). Rounding: three norms of n terms (γ(n) each, the sqrt halves
    // it), ratio, products and the trust-ratio division ≤ 8u more.
    let n = 50;
    let (gamma_lr, eta) = (0.7, 1e-3);
    let tol = 3.0 * gamma(n) + 8.0 * UNIT_ROUNDOFF;
    for seed in 0..8_u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let w = uniform(&mut rng, n, -1.0, 1.0);
        let g = uniform(&mut rng, n, -5.0, 5.0);
        for (trust_ratio, beta) in [
            (LarsTrustRatio::Paper, 0.0),
            (LarsTrustRatio::Optax { eps: 0.0 }, 0.0),
            (LarsTrustRatio::Optax { eps: 0.0 }, 0.3),
        ] {
            let mut opt = LarsConfig {
                lr: gamma_lr,
                momentum: 0.0,
                weight_decay: beta,
                trust_coefficient: eta,
                trust_ratio,
                nesterov: false,
                layout: None,
            }
            .build()
            .unwrap();
            let mut x = w.clone();
            opt.step(&mut x, &g).unwrap();
            let relative = opt.velocity().unwrap().norm() / w.norm();
            let want = gamma_lr * eta;
            assert!(
                (relative - want).abs() <= tol * want,
                "seed {seed} {trust_ratio:?} β={beta}: {relative:e} vs {want:e}"
            );
        }
        let mut paper = LarsConfig {
            lr: gamma_lr,
            momentum: 0.0,
            weight_decay: 0.3,
            trust_coefficient: eta,
            trust_ratio: LarsTrustRatio::Paper,
            nesterov: false,
            layout: None,
        }
        .build()
        .unwrap();
        let mut x = w.clone();
        paper.step(&mut x, &g).unwrap();
        // Strict: random g is not parallel to w, so the triangle inequality is strict.
        assert!(paper.velocity().unwrap().norm() / w.norm() < gamma_lr * eta * (1.0 - tol));
    }
}

#[test]
fn adafactor_vector_block_is_algorithm_5_bit_for_bit() {
    // Algorithm 5 written out with the same operations in the same order (sums left to
    // right), so the results are identical bits. The same vector block under every factoring
    // rule is Algorithm 5 too.
    let n = 7;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x0 = uniform(&mut rng, n, -1.0, 1.0);
    let grads: Vec<DVector<f64>> = (0..30).map(|_| uniform(&mut rng, n, -2.0, 2.0)).collect();
    let (eps1, eps2, d): (f64, f64, f64) = (1e-30, 1e-3, 1.0);
    let mut x_ref = x0.clone();
    let mut v = vec![0.0; n];
    for (k, g) in grads.iter().enumerate() {
        let t = (k + 1) as f64;
        let rho = 1e-2_f64.min(1.0 / t.sqrt());
        let rms_x = (x_ref.iter().map(|a| a * a).sum::<f64>() / n as f64).sqrt();
        let alpha = eps2.max(rms_x) * rho;
        let beta2 = 1.0 - t.powf(-0.8);
        let mut u = vec![0.0; n];
        for i in 0..n {
            v[i] = beta2 * v[i] + (1.0 - beta2) * (g[i] * g[i] + eps1);
            u[i] = g[i] / v[i].sqrt();
        }
        let rms_u = (u.iter().map(|a| a * a).sum::<f64>() / n as f64).sqrt();
        let clip = (rms_u / d).max(1.0);
        for i in 0..n {
            x_ref[i] -= alpha * (u[i] / clip);
        }
    }
    for factoring in [Factoring::Matrices, Factoring::MinDimSize(2), Factoring::Never] {
        let mut opt = AdafactorConfig {
            factoring,
            ..AdafactorConfig::paper()
        }
        .with_layout(Layout::from_shapes([("bias", n, 1)]))
        .build()
        .unwrap();
        let mut x = x0.clone();
        for g in &grads {
            opt.step(&mut x, g).unwrap();
        }
        assert_eq!(x, x_ref, "{factoring:?}");
        assert_eq!(opt.state_len(), n);
    }
}

/// Run Adafactor on one n×m block with the given gradients; return V̂ of the last step.
fn adafactor_v_hat(factoring: Factoring, n: usize, m: usize, grads: &[DVector<f64>]) -> (Vec<f64>, usize) {
    let mut opt = AdafactorConfig {
        factoring,
        ..AdafactorConfig::paper()
    }
    .with_layout(Layout::from_shapes([("w", n, m)]))
    .build()
    .unwrap();
    let mut x = DVector::from_element(n * m, 0.5);
    for g in grads {
        opt.step(&mut x, g).unwrap();
    }
    (opt.v_hat(0).unwrap(), opt.state_len())
}

#[test]
fn adafactor_factored_v_hat_is_exact_for_rank_one_squares() {
    // G_t = s_t a bᵀ ⇒ G_t² = s_t² (a²)(b²)ᵀ: R_t = w a² Σb², C_t = w b² Σa², 1ᵀR_t = w Σa²Σb²
    // (w = Σ_j weights·s_j²), so R C/1ᵀR = w a² b² = the full EMA, exactly in real arithmetic.
    // ε₁: |a_i b_j s_t| ≥ 0.125, so g² ≥ 1/64 whose half-ulp ≈ 1.7e-18 ≫ 1e-30: g² + ε₁ = g²
    // in floating point. Rounding: row sums γ(m), column sums and 1ᵀR γ(n) each, product and
    // quotient 2u; each EMA step of positive terms adds ≤ 3u relative on either side (t
    // steps): |Δ| ≤ (γ(m) + 2γ(n) + 2u + 6tu)·V̂.
    let (n, m, steps) = (4, 3, 6);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let sign = |rng: &mut ChaCha8Rng| if rng.random::<f64>() < 0.5 { -1.0 } else { 1.0 };
    let a: Vec<f64> = (0..n)
        .map(|_| sign(&mut rng) * rng.random_range(0.5..2.0))
        .collect();
    let b: Vec<f64> = (0..m)
        .map(|_| sign(&mut rng) * rng.random_range(0.5..2.0))
        .collect();
    let grads: Vec<DVector<f64>> = (0..steps)
        .map(|_| {
            let s = rng.random_range(0.5..2.0);
            DVector::from_fn(n * m, |k, _| s * a[k / m] * b[k % m])
        })
        .collect();
    let (factored, factored_len) = adafactor_v_hat(Factoring::Matrices, n, m, &grads);
    let (full, full_len) = adafactor_v_hat(Factoring::Never, n, m, &grads);
    let tol = gamma(m) + 2.0 * gamma(n) + (2.0 + 6.0 * steps as f64) * UNIT_ROUNDOFF;
    for (k, (f, v)) in factored.iter().zip(&full).enumerate() {
        assert!((f - v).abs() <= tol * v, "entry {k}: {f:e} vs {v:e}");
    }
    // Memory: n + m entries instead of n·m.
    assert_eq!((factored_len, full_len), (n + m, n * m));

    // Rank two: the factorisation is only an approximation (so the check above can fail).
    let rank_two: Vec<DVector<f64>> = grads
        .iter()
        .enumerate()
        .map(|(t, g)| {
            let mut g = g.clone();
            g[(t % n) * m] += 1.0;
            g
        })
        .collect();
    let (factored, _) = adafactor_v_hat(Factoring::Matrices, n, m, &rank_two);
    let (full, _) = adafactor_v_hat(Factoring::Never, n, m, &rank_two);
    let worst = factored
        .iter()
        .zip(&full)
        .map(|(f, v)| (f - v).abs() / v)
        .fold(0.0, f64::max);
    assert!(worst > 1e-3, "rank-two gradients factored exactly? {worst:e}");
}
