//! Equivalences between the adaptive optimizers and their conventions.
//!
//! Each test says whether the equivalence is bit for bit (the two computations perform the
//! same IEEE operations on the same operands, argued next to it) or holds to rounding (with
//! the bound and its argument). Gradient sequences are small hand-made ones plus seeded
//! ChaCha8 sequences; nothing here depends on the problems module.

use nalgebra::DVector;
use optverify::optim::adadelta::AdaDeltaConfig;
use optverify::optim::adam::{Adam, AdamConfig, FirstMomentInit};
use optverify::optim::adamw::AdamWConfig;
use optverify::optim::conventions::{AdamFormulation, AmsGradMax, BiasCorrection, EpsPlacement, WeightDecay};
use optverify::optim::rmsprop::RmsPropConfig;
use optverify::optim::schedule::Schedule;
use optverify::optim::Optimizer;
use optverify::prec::{trajectory_rel, STEP_REL, UNIT_ROUNDOFF};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A hand-made sequence: sign changes, a large and a tiny coordinate, a zero gradient.
fn hand_made() -> Vec<DVector<f64>> {
    [
        [3.0, -0.5, 1e-6],
        [-1.0, 0.25, 2e-6],
        [0.5, 2.0, 0.0],
        [0.0, -4.0, -1e-6],
        [2.5, 0.125, 5e-7],
        [-0.75, 1.0, 1e-6],
    ]
    .iter()
    .map(|g| DVector::from_row_slice(g))
    .collect()
}

/// `steps` gradients of dimension `dim`, entries uniform in (−1, 1) times a per-coordinate
/// scale 10^{−3..3}, from a fixed seed.
fn seeded(seed: u64, dim: usize, steps: usize) -> Vec<DVector<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let scales: Vec<f64> = (0..dim)
        .map(|_| 10f64.powf(rng.random_range(-3.0..3.0)))
        .collect();
    (0..steps)
        .map(|_| DVector::from_fn(dim, |i, _| scales[i] * rng.random_range(-1.0..1.0)))
        .collect()
}

fn sequences() -> Vec<Vec<DVector<f64>>> {
    let mut out = vec![hand_made()];
    for seed in 0..4 {
        out.push(seeded(seed, 5, 200));
    }
    out
}

fn start(dim: usize) -> DVector<f64> {
    DVector::from_fn(dim, |i, _| 1.0 - 0.75 * i as f64)
}

/// Iterates θ_1..θ_T of `opt` fed the gradient sequence `grads` (open loop: the gradients
/// are given, so only the update rules are compared).
fn trace(opt: &mut dyn Optimizer, grads: &[DVector<f64>]) -> Vec<DVector<f64>> {
    let mut x = start(grads[0].len());
    grads
        .iter()
        .map(|g| {
            opt.step(&mut x, g).unwrap();
            x.clone()
        })
        .collect()
}

fn assert_bitwise(a: &[DVector<f64>], b: &[DVector<f64>], what: &str) {
    for (k, (xa, xb)) in a.iter().zip(b).enumerate() {
        for i in 0..xa.len() {
            assert_eq!(
                xa[i].to_bits(),
                xb[i].to_bits(),
                "{what}: step {} coord {i}: {} vs {}",
                k + 1,
                xa[i],
                xb[i]
            );
        }
    }
}

#[test]
fn adamw_with_zero_decay_is_adam_bit_for_bit() {
    // Paper form: θ − η(u + 0·θ): 0·θ = ±0 and u + (±0) = u exactly, so θ − ηu, which is
    // what Adam computes. PyTorch form: keep = 1 − α·η·0 = 1 exactly and θ·1 = θ, then θ − ηu.
    // Holds for every formulation and schedule because AdamW calls Adam's own `advance`.
    for grads in sequences() {
        for adam in [
            AdamConfig::paper(),
            AdamConfig::keras(),
            AdamConfig {
                lr: 0.05,
                amsgrad: Some(AmsGradMax::BiasCorrectedV),
                eps_root: 1e-12,
                schedule: Some(Schedule::WarmRestarts {
                    t_0: 3,
                    t_mult: 2,
                    eta_min: 0.1,
                    eta_max: 1.0,
                }),
                ..AdamConfig::optax()
            },
        ] {
            let reference = trace(&mut adam.clone().build().unwrap(), &grads);
            for decay in [
                WeightDecay::DecoupledSchedule(0.0),
                WeightDecay::DecoupledTimesLr(0.0),
                WeightDecay::None,
            ] {
                let mut w = AdamWConfig {
                    adam: adam.clone(),
                    weight_decay: decay,
                }
                .build()
                .unwrap();
                assert_bitwise(&trace(&mut w, &grads), &reference, &format!("{decay:?}"));
            }
        }
    }
}

#[test]
fn adam_beta1_zero_is_rmsprop_eps_outside_bit_for_bit() {
    // optax `test_rms_match_adam`: scale_by_rms(eps_in_sqrt=False, bias_correction=True)
    // matches scale_by_adam(b1=0). With β₁ = 0: m = 0·m + 1·g = g exactly and 1 − 0ᵗ = 1, so
    // m̂ = g/1 = g; v and v̂ are the same expressions in both files ((1−β₂)·g·g, v/(1−β₂ᵗ)
    // with the same `powf`); ε_root = 0 adds +0; Adam then computes α·(g/(√v̂+ε)) and
    // θ − 1·that, RMSProp θ − η·(g/(√v̂+ε)): the same operations. With and without bias
    // correction.
    for grads in sequences() {
        for (bc, beta2) in [
            (BiasCorrection::On, 0.999),
            (BiasCorrection::Off, 0.9),
            (BiasCorrection::On, 0.5),
        ] {
            let mut adam = AdamConfig {
                lr: 0.01,
                beta1: 0.0,
                beta2,
                bias_correction: bc,
                ..AdamConfig::paper()
            }
            .build()
            .unwrap();
            let mut rms = RmsPropConfig {
                lr: 0.01,
                decay: beta2,
                eps: 1e-8,
                eps_placement: EpsPlacement::OutsideSqrt,
                bias_correction: bc,
                ..RmsPropConfig::pytorch()
            }
            .build()
            .unwrap();
            assert_bitwise(
                &trace(&mut adam, &grads),
                &trace(&mut rms, &grads),
                &format!("{bc:?} beta2 {beta2}"),
            );
        }
    }
}

#[test]
fn keras_eps_hat_is_algorithm1_with_growing_eps_to_rounding() {
    // Keras: u_t = α_t m/(√v + ε̂), α_t = α√(1−β₂ᵗ)/(1−β₁ᵗ). Algorithm 1 with
    // ε_t = ε̂/√(1−β₂ᵗ): α (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε_t), the same real number. Both are
    // chains of ≤ 8 correctly rounded operations (powf faithfully rounded) on the same m, v
    // (read from the Keras optimizer's state), so they agree to 2·8u = prec::STEP_REL/2
    // relative; we allow STEP_REL.
    for grads in sequences() {
        let config = AdamConfig {
            lr: 0.01,
            eps: 1e-3, // large ε̂ so the ε term is not negligible
            ..AdamConfig::keras()
        };
        let mut keras = config.clone().build().unwrap();
        let mut x = start(grads[0].len());
        for g in &grads {
            keras.step(&mut x, g).unwrap();
            let t = keras.steps_taken() as f64;
            let (bc1, bc2) = (1.0 - config.beta1.powf(t), 1.0 - config.beta2.powf(t));
            let eps_t = config.eps / bc2.sqrt();
            let (m, v, u) = (
                keras.m().unwrap(),
                keras.v().unwrap(),
                keras.last_update().unwrap(),
            );
            for i in 0..g.len() {
                let algorithm1 = config.lr * ((m[i] / bc1) / ((v[i] / bc2).sqrt() + eps_t));
                assert!(
                    (u[i] - algorithm1).abs() <= STEP_REL * algorithm1.abs(),
                    "t = {t}, i = {i}: {} vs {algorithm1}",
                    u[i]
                );
            }
        }
    }
}

#[test]
fn keras_eps_hat_differs_from_algorithm1_with_the_same_eps() {
    // The converse: with the same nominal ε = ε̂, the early steps differ because
    // ε_1 = ε̂/√(1−β₂) ≈ 31.6 ε̂. For |g| = 1e-6 ≈ 10 ε̂ the first steps differ by ~3x.
    let grads = vec![DVector::from_element(1, 1e-6); 3];
    let mut keras = AdamConfig::keras().build().unwrap();
    let mut alg1 = AdamConfig {
        eps: 1e-7,
        ..AdamConfig::paper()
    }
    .build()
    .unwrap();
    let (a, b) = (trace(&mut keras, &grads), trace(&mut alg1, &grads));
    let (step_keras, step_alg1) = (1.0 - a[0][0], 1.0 - b[0][0]);
    // Algorithm 1: α·1e-6/(1e-6 + 1e-7) = α/1.1; Keras: α·1e-6/(1e-6 + 3.16e-6) ≈ α/4.16.
    assert!(
        (step_alg1 / step_keras - 4.162 / 1.1).abs() < 0.01,
        "{step_alg1} / {step_keras}"
    );
}

#[test]
fn adadelta_first_step_is_lecture_rmsprop_with_lr_sqrt_eps_to_rounding() {
    // AdaDelta step 1: RMS[Δx]_0 = √(0 + ε), so Δx₁ = −(√ε/√((1−ρ)g² + ε))·g: the lecture's
    // RMSProp with γ = ρ, ε inside the root and η = √ε (its v₁ = (1−ρ)g² as well). The two
    // differ only in the order of the final multiply/divide (√ε/√V·g vs √ε·(g/√V)) and in
    // rounding √ε once more: ≤ 4 roundings of the increment on each side, so the iterates
    // agree to 8u·|Δx| + u|θ| ≤ STEP_REL·(|θ| + |Δx|).
    for grads in sequences() {
        for (rho, eps) in [(0.95, 1e-6), (0.9, 1e-6), (0.95, 1e-7)] {
            let mut ada = AdaDeltaConfig {
                rho,
                eps,
                ..AdaDeltaConfig::paper()
            }
            .build()
            .unwrap();
            let mut rms = RmsPropConfig::lecture(eps.sqrt(), rho, eps).build().unwrap();
            let (a, r) = (trace(&mut ada, &grads[..1]), trace(&mut rms, &grads[..1]));
            let x0 = start(grads[0].len());
            for i in 0..x0.len() {
                let scale = x0[i].abs() + (a[0][i] - x0[i]).abs();
                assert!(
                    (a[0][i] - r[0][i]).abs() <= STEP_REL * scale,
                    "rho {rho} eps {eps} coord {i}: {} vs {}",
                    a[0][i],
                    r[0][i]
                );
            }
            // The step size tends to √(ε/(1−ρ)) for |g| ≫ √ε, whatever |g| is: the first
            // step of AdaDelta is set by ε, not by the gradient's scale.
            let limit = (eps / (1.0 - rho)).sqrt();
            for i in 0..x0.len() {
                let g = grads[0][i];
                if g.abs() > 1e4 * eps.sqrt() {
                    let step = (a[0][i] - x0[i]).abs();
                    // Relative gap 1 − 1/√(1 + x) ≤ x/2 with x = ε/((1−ρ)g²) < 1e-8/(1−ρ), so
                    // ≤ 1e-7 for ρ ≤ 0.95; the step's own rounding (cancellation in θ₁ − θ₀)
                    // is ≤ 2u|θ|/step ≈ 1e-13.
                    assert!(
                        ((step - limit) / limit).abs() < 1.1e-7,
                        "g = {g}: {step} vs {limit}"
                    );
                }
            }
        }
    }
}

#[test]
fn constant_schedule_one_is_no_schedule_bit_for_bit() {
    // η_t = 1 gives θ − 1·u = θ − u exactly (multiplication by 1 is exact), for Adam and
    // both AdamW forms (α·1·λ = αλ exactly as well). A degenerate warm-restart schedule with
    // η_min = η_max = 1 evaluates 1 + ½·0·(1 + cos) = 1 exactly, so it is the same.
    let one_schedules = [
        Schedule::constant(1.0),
        Schedule::WarmRestarts {
            t_0: 3,
            t_mult: 2,
            eta_min: 1.0,
            eta_max: 1.0,
        },
        Schedule::StepDrop {
            steps_per_epoch: 2,
            drop_epochs: vec![1, 2],
            factor: 1.0,
        },
    ];
    for grads in sequences() {
        let plain = trace(&mut AdamConfig::paper().build().unwrap(), &grads);
        for s in &one_schedules {
            let with = trace(
                &mut AdamConfig {
                    schedule: Some(s.clone()),
                    ..AdamConfig::paper()
                }
                .build()
                .unwrap(),
                &grads,
            );
            assert_bitwise(&with, &plain, &format!("adam {s:?}"));
        }
        for decay in [
            WeightDecay::DecoupledTimesLr(0.1),
            WeightDecay::DecoupledSchedule(0.1),
        ] {
            let none = AdamWConfig {
                adam: AdamConfig::paper(),
                weight_decay: decay,
            };
            let plain = trace(&mut none.clone().build().unwrap(), &grads);
            for s in &one_schedules {
                let mut with = none.clone();
                with.adam.schedule = Some(s.clone());
                assert_bitwise(
                    &trace(&mut with.build().unwrap(), &grads),
                    &plain,
                    &format!("adamw {decay:?} {s:?}"),
                );
            }
        }
    }
}

#[test]
fn pytorch_adamw_is_the_paper_with_lambda_times_alpha_to_rounding() {
    // PyTorch: θ(1 − αηλ) − ηu; paper with λ' = αλ: θ − η(u + λ'θ). Same real number (the
    // Adam update u does not read θ, so decaying first changes nothing in exact arithmetic).
    // Each form rounds ≤ 4 times per coordinate and step, plus λ' = αλ once; the iterates are
    // a contraction in θ (factor 1 − αηλ < 1) driven by identical u's (the moments see the
    // same gradients), so the differences add at most linearly: trajectory_rel(t) relative to
    // max |θ| + max |Δθ|.
    let alpha = 0.01;
    let lambda = 0.5;
    for grads in sequences() {
        for schedule in [
            Schedule::constant(1.0),
            Schedule::CosineAnnealing {
                t_max: 50,
                eta_min: 0.0,
                eta_max: 1.0,
            },
        ] {
            let torch = AdamWConfig {
                adam: AdamConfig {
                    lr: alpha,
                    schedule: Some(schedule.clone()),
                    ..AdamConfig::pytorch()
                },
                weight_decay: WeightDecay::DecoupledTimesLr(lambda),
            };
            let paper = AdamWConfig::paper(alpha, alpha * lambda, schedule);
            let a = trace(&mut torch.build().unwrap(), &grads);
            let b = trace(&mut paper.build().unwrap(), &grads);
            let mut prev = start(grads[0].len());
            let mut scale: f64 = prev.amax();
            for (k, (xa, xb)) in a.iter().zip(&b).enumerate() {
                scale = scale.max(xa.amax() + (xa - &prev).amax());
                prev = xa.clone();
                assert!(
                    (xa - xb).amax() <= trajectory_rel(k + 1) * scale,
                    "step {}: {:e}",
                    k + 1,
                    (xa - xb).amax()
                );
            }
        }
    }
}

#[test]
fn adam_is_invariant_to_power_of_two_gradient_scaling_bit_for_bit() {
    // Kingma & Ba §2.1: the step is invariant to rescaling the gradient by c when ε is
    // rescaled with it. For c = 2^k every operation is exact in the scaling: m scales by c,
    // v by c² (a power of 4), √(c²w) = c√w exactly, ε·c exactly, and the quotient cancels c
    // exactly — barring underflow/overflow, which these magnitudes avoid. So the trajectories
    // are identical bit for bit; the same holds for RMSProp with ε outside the root.
    for grads in sequences() {
        for k in [-20_i32, -3, 5, 30] {
            let c = 2f64.powi(k);
            let scaled: Vec<DVector<f64>> = grads.iter().map(|g| g * c).collect();
            let base = AdamConfig {
                lr: 0.01,
                ..AdamConfig::paper()
            };
            let a = trace(&mut base.clone().build().unwrap(), &grads);
            let b = trace(
                &mut AdamConfig {
                    eps: base.eps * c,
                    ..base
                }
                .build()
                .unwrap(),
                &scaled,
            );
            assert_bitwise(&a, &b, &format!("adam c = 2^{k}"));
            let r = RmsPropConfig {
                lr: 0.01,
                ..RmsPropConfig::pytorch()
            };
            let ra = trace(&mut r.clone().build().unwrap(), &grads);
            let rb = trace(
                &mut RmsPropConfig { eps: r.eps * c, ..r }.build().unwrap(),
                &scaled,
            );
            assert_bitwise(&ra, &rb, &format!("rmsprop c = 2^{k}"));
        }
    }
}

#[test]
fn amsgrad_maxima_coincide_without_bias_correction_bit_for_bit() {
    // With 1 − βᵗ replaced by 1: RawV computes max(v_max, v)/1 and BiasCorrectedV
    // max(v̂_max, v/1): x/1 = x exactly, so the same numbers. (With bias correction they
    // differ, see adam.rs `amsgrad_max_conventions_differ`.)
    for grads in sequences() {
        let mk = |max| {
            AdamConfig {
                lr: 0.01,
                beta2: 0.9,
                bias_correction: BiasCorrection::Off,
                amsgrad: Some(max),
                ..AdamConfig::paper()
            }
            .build()
            .unwrap()
        };
        let a = trace(&mut mk(AmsGradMax::RawV), &grads);
        let b = trace(&mut mk(AmsGradMax::BiasCorrectedV), &grads);
        let c = trace(&mut mk(AmsGradMax::PaperNoBiasCorrection), &grads);
        assert_bitwise(&a, &b, "raw vs hat");
        assert_bitwise(&a, &c, "raw vs paper");
    }
}

#[test]
fn eps_hat_without_bias_correction_is_algorithm1_without_bias_correction_to_rounding() {
    // Without bias correction α_t = α√1/1 = α exactly and ε_t = ε̂: Keras computes
    // (m·α)/(√v + ε̂), Algorithm 1 α·(m/(√v + ε)); the same real number with 3 roundings each,
    // so each increment agrees to 6u relative and the iterates to trajectory_rel(t).
    for grads in sequences() {
        let mk = |formulation| {
            AdamConfig {
                lr: 0.01,
                eps: 1e-7,
                bias_correction: BiasCorrection::Off,
                formulation,
                ..AdamConfig::paper()
            }
            .build()
            .unwrap()
        };
        let a = trace(&mut mk(AdamFormulation::EpsHat), &grads);
        let b = trace(&mut mk(AdamFormulation::Algorithm1), &grads);
        let mut prev = start(grads[0].len());
        let mut scale: f64 = prev.amax();
        for (k, (xa, xb)) in a.iter().zip(&b).enumerate() {
            scale = scale.max(xa.amax() + (xa - &prev).amax());
            prev = xa.clone();
            assert!(
                (xa - xb).amax() <= trajectory_rel(k + 1) * scale,
                "step {}",
                k + 1
            );
        }
    }
}

#[test]
fn slide_initialisation_m0_theta_changes_the_first_steps() {
    // The lecture's slide of Algorithm 2 initialises m₀ ← θ; the paper has m₀ ← 0. The
    // difference is not a rounding effect: after one step m̂₁ = (β₁θ₀ + (1−β₁)g)/(1−β₁)
    // = 9θ₀ + g instead of g.
    let grads = hand_made();
    let adam = |init| {
        AdamConfig {
            first_moment_init: init,
            ..AdamConfig::paper()
        }
        .build()
        .unwrap()
    };
    let mut printed: Adam = adam(FirstMomentInit::Parameters);
    let mut paper: Adam = adam(FirstMomentInit::Zero);
    let a = trace(&mut printed, &grads);
    let b = trace(&mut paper, &grads);
    let x0 = start(3);
    let m_hat_printed = printed.m().unwrap()[0] / (1.0 - 0.9_f64.powf(6.0));
    let m_hat_paper = paper.m().unwrap()[0] / (1.0 - 0.9_f64.powf(6.0));
    assert!((m_hat_printed - m_hat_paper).abs() > 0.1 * x0[0].abs());
    assert!((a[0][0] - b[0][0]).abs() > 1e-5);
    // ... yet m₀'s influence decays like β₁ᵗ/(1−β₁ᵗ): after many steps the two agree closely.
    let long: Vec<DVector<f64>> = (0..400).map(|k| grads[k % grads.len()].clone()).collect();
    let mut p2 = adam(FirstMomentInit::Parameters);
    let mut z2 = adam(FirstMomentInit::Zero);
    trace(&mut p2, &long);
    trace(&mut z2, &long);
    let gap = (p2.m().unwrap() - z2.m().unwrap()).amax();
    // In real arithmetic m differs by exactly β₁ᵗθ₀: 0.9⁴⁰⁰·1.25 ≈ 6e-19. Rounding: each
    // run's m carries an error ≤ 2u·max|g|/(1−β₁) (see adam.rs `ema_rel_bound`), max|g| = 4.
    let rounding = 2.0 * (2.0 * UNIT_ROUNDOFF * 4.0 / (1.0 - 0.9));
    assert!(gap <= 0.9_f64.powi(400) * 1.25 + rounding, "{gap:e}");
}

mod properties {
    //! The bit-for-bit equivalences above, over generated structure: dimension, length, β₂,
    //! learning rate and the seed of the gradient sequence (so shrinking simplifies them).
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn adam_beta1_zero_is_rmsprop(
            seed in any::<u64>(),
            dim in 1_usize..8,
            steps in 1_usize..60,
            beta2 in 0.0_f64..0.9999,
            log_lr in -4.0_f64..0.0,
            corrected in any::<bool>(),
        ) {
            let grads = seeded(seed, dim, steps);
            let lr = 10f64.powf(log_lr);
            let bc = if corrected { BiasCorrection::On } else { BiasCorrection::Off };
            let mut adam = AdamConfig { lr, beta1: 0.0, beta2, bias_correction: bc, ..AdamConfig::paper() }
                .build()
                .unwrap();
            let mut rms = RmsPropConfig {
                lr,
                decay: beta2,
                eps: 1e-8,
                bias_correction: bc,
                ..RmsPropConfig::pytorch()
            }
            .build()
            .unwrap();
            let (a, b) = (trace(&mut adam, &grads), trace(&mut rms, &grads));
            for (xa, xb) in a.iter().zip(&b) {
                prop_assert!(xa.iter().zip(xb.iter()).all(|(p, q)| p.to_bits() == q.to_bits()));
            }
        }

        #[test]
        fn adamw_zero_decay_is_adam(
            seed in any::<u64>(),
            dim in 1_usize..8,
            steps in 1_usize..60,
            beta1 in 0.0_f64..0.999,
            beta2 in 0.0_f64..0.9999,
            keras in any::<bool>(),
            paper_form in any::<bool>(),
        ) {
            let grads = seeded(seed, dim, steps);
            let base = if keras { AdamConfig::keras() } else { AdamConfig::paper() };
            let adam = AdamConfig { beta1, beta2, ..base };
            let decay = if paper_form {
                WeightDecay::DecoupledSchedule(0.0)
            } else {
                WeightDecay::DecoupledTimesLr(0.0)
            };
            let a = trace(&mut adam.clone().build().unwrap(), &grads);
            let b = trace(&mut AdamWConfig { adam, weight_decay: decay }.build().unwrap(), &grads);
            for (xa, xb) in a.iter().zip(&b) {
                prop_assert!(xa.iter().zip(xb.iter()).all(|(p, q)| p.to_bits() == q.to_bits()));
            }
        }
    }
}
