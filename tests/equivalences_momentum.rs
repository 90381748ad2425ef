//! Equivalences between the classical optimizers (SGD, heavy ball, Nesterov, AdaGrad,
//! AdaGrad-Norm), each stated as bit-for-bit or to a rounding bound, with the reason.
//!
//! Problems are small hand-made separable quadratics f(θ) = ½ Σ hᵢ θᵢ², gradient hᵢθᵢ (one
//! rounded product per coordinate), so each coordinate of a momentum method evolves by its own
//! 2×2 linear map and rounding can be tracked per coordinate.
//!
//! ## The rounding bound used below
//! Two methods that generate the same sequence in exact arithmetic, each a linear recursion
//! z_{k+1} = T z_k per coordinate with computed ẑ_{k+1} = T ẑ_k + δ_k, satisfy
//! |ẑ_k − z_k|_∞ ≤ Σ_{m<k} ‖T^m‖_∞ · max|δ|. One step of any method here is at most 8 rounded
//! operations per coordinate; every intermediate is bounded by S = 4(1+h)(1+α)M, where M is the
//! largest state entry (θ, θ₋₁, b) seen in the run and h the curvature (checked method by
//! method in [`intermediate_scale`]); each rounding (≤ u·S) reaches the step's output through
//! coefficients ≤ (1+α)(1+h). Hence |δ| ≤ 8u(1+α)(1+h)S, and the two computed sequences differ by
//! at most that times Σ_{m<k}(‖T_A^m‖ + ‖T_B^m‖), where the powers are evaluated numerically
//! (to relative accuracy ~k·u, negligible against the bound).

use nalgebra::{DVector, Matrix2};
use optverify::optim::adagrad::{AdaGrad, AdaGradConfig};
use optverify::optim::adagrad_norm::{AdaGradNorm, AdaGradNormConfig};
use optverify::optim::conventions::{EpsPlacement, WeightDecay};
use optverify::optim::heavy_ball::{HeavyBall, HeavyBallConfig};
use optverify::optim::nesterov::{pytorch_start, Nesterov, NesterovConfig, NesterovForm};
use optverify::optim::sgd::{Sgd, SgdConfig};
use optverify::optim::Optimizer;
use optverify::prec::UNIT_ROUNDOFF;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const STEPS: usize = 150;

/// A separable quadratic with curvatures in [μ, L] = [1/κ, 1] (both ends present) and a start.
#[derive(Debug, Clone)]
struct Case {
    h: Vec<f64>,
    mu: f64,
    l: f64,
    x0: DVector<f64>,
    x_prev: DVector<f64>,
}

fn make_case(seed: u64, dim: usize, log10_kappa: f64) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (l, mu) = (1.0, 10f64.powf(-log10_kappa));
    let h: Vec<f64> = (0..dim)
        .map(|i| match i {
            0 => l,
            1 => mu,
            _ => rng.random_range(mu..=l),
        })
        .collect();
    let x0 = DVector::from_fn(dim, |_, _| rng.random_range(-1.0..1.0));
    let x_prev = DVector::from_fn(dim, |i, _| x0[i] + rng.random_range(-0.5..0.5));
    Case {
        h,
        mu: if dim == 1 { l } else { mu },
        l,
        x0,
        x_prev,
    }
}

fn grad(h: &[f64], x: &DVector<f64>) -> DVector<f64> {
    DVector::from_fn(x.len(), |i, _| h[i] * x[i])
}

/// Closed-loop run: the gradient is evaluated where the optimizer asks. Returns the iterates
/// θ_0..θ_k and the gradient points.
fn run(
    opt: &mut dyn Optimizer,
    h: &[f64],
    x0: &DVector<f64>,
    steps: usize,
) -> (Vec<DVector<f64>>, Vec<DVector<f64>>) {
    let mut x = x0.clone();
    let (mut xs, mut points) = (vec![x.clone()], vec![]);
    for _ in 0..steps {
        let p = opt.gradient_point(&x).unwrap_or_else(|| x.clone());
        opt.step(&mut x, &grad(h, &p)).unwrap();
        points.push(p);
        xs.push(x.clone());
    }
    (xs, points)
}

/// S = 4(1+h)(1+α)M bounds every intermediate of one step (β < 1, λ ≤ 1 folded into h):
/// heavy ball θ+β(θ−p) ≤ 3M, αhθ ≤ αhM; SGD momentum b' = μb + hθ ≤ (1+h)M, θ − γb' ≤
/// (1 + γ(1+h))M; look-ahead Nesterov θ̂ ≤ 3M, θ̂ − αhθ̂ ≤ 3(1+αh)M; PyTorch Nesterov g + βb'
/// ≤ (1+2h)M, y − α(…) ≤ (1 + α(1+2h))M. Per-step error |δ| ≤ 8u(1+α)(1+h)·S.
fn local_error(h: f64, alpha: f64, m: f64) -> f64 {
    let s = intermediate_scale(h, alpha, m);
    8.0 * UNIT_ROUNDOFF * (1.0 + alpha) * (1.0 + h) * s
}

fn intermediate_scale(h: f64, alpha: f64, m: f64) -> f64 {
    4.0 * (1.0 + h) * (1.0 + alpha) * m
}

/// c_k = Σ_{m<k} ‖T^m‖_∞ for k = 0..=steps.
fn power_norm_sums(t: Matrix2<f64>, steps: usize) -> Vec<f64> {
    let mut out = vec![0.0];
    let mut p = Matrix2::<f64>::identity();
    let mut sum = 0.0;
    for _ in 0..steps {
        let row_sums = [
            p[(0, 0)].abs() + p[(0, 1)].abs(),
            p[(1, 0)].abs() + p[(1, 1)].abs(),
        ];
        sum += row_sums[0].max(row_sums[1]);
        out.push(sum);
        p *= t;
    }
    out
}

fn max_abs(vs: &[DVector<f64>]) -> f64 {
    vs.iter().map(|v| v.amax()).fold(0.0, f64::max)
}

/// Heavy ball in (θ_k, θ_{k−1}).
fn t_heavy_ball(h: f64, alpha: f64, beta: f64) -> Matrix2<f64> {
    Matrix2::new(1.0 + beta - alpha * h, -beta, 1.0, 0.0)
}

/// PyTorch SGD momentum in (θ_k, b_k): b' = μb + hθ, θ' = θ − γb'.
fn t_sgd_momentum(h: f64, gamma: f64, mu: f64) -> Matrix2<f64> {
    Matrix2::new(1.0 - gamma * h, -gamma * mu, h, mu)
}

/// Look-ahead Nesterov in (θ_k, θ_{k−1}): θ' = (1−αh)((1+β)θ − βp).
fn t_nesterov_look_ahead(h: f64, alpha: f64, beta: f64) -> Matrix2<f64> {
    let c = 1.0 - alpha * h;
    Matrix2::new(c * (1.0 + beta), -c * beta, 1.0, 0.0)
}

/// PyTorch-form Nesterov in (y_k, b_k): b' = βb + hy, y' = y − α(hy + βb').
fn t_nesterov_pytorch(h: f64, alpha: f64, beta: f64) -> Matrix2<f64> {
    Matrix2::new(1.0 - alpha * h * (1.0 + beta), -alpha * beta * beta, h, beta)
}

// ---------------------------------------------------------------------------------------
// β = 0 reduces every momentum method to GD, bit for bit.
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Heavy ball with β = 0 ≡ GD, and Nesterov (both forms) with β = 0 ≡ GD: **bit for bit**
    /// (compared with `==`, which identifies −0 and +0). Why: β·(θ − θ₋₁) is ±0 exactly, and
    /// θ + (±0) = θ exactly (only the sign of a zero θ can change); PyTorch-form Nesterov
    /// computes b = 0·b + g = g and g + 0·b = g exactly. What remains is θ − α·g, the same two
    /// roundings as GD; closed loop, equal iterates give equal gradients, so by induction the
    /// whole trajectories agree. Heavy ball is started at θ₋₁ ≠ θ₀ to show θ₋₁ is ignored.
    #[test]
    fn zero_momentum_is_gd(seed in any::<u64>(), dim in 1usize..=5, log10_kappa in 0.0f64..3.0) {
        let case = make_case(seed, dim, log10_kappa);
        let alpha = 1.0 / case.l;
        let (gd, _) = run(&mut Sgd::gd(alpha).unwrap(), &case.h, &case.x0, STEPS);
        let mut hb: HeavyBall = HeavyBallConfig::new(alpha, 0.0)
            .with_theta_prev(case.x_prev.as_slice().to_vec())
            .build()
            .unwrap();
        let (hb_xs, _) = run(&mut hb, &case.h, &case.x0, STEPS);
        prop_assert_eq!(&hb_xs, &gd);
        for form in [NesterovForm::LookAhead, NesterovForm::PyTorch] {
            let mut nag: Nesterov = NesterovConfig::look_ahead(alpha, 0.0).with_form(form).build().unwrap();
            let (xs, _) = run(&mut nag, &case.h, &case.x0, STEPS);
            prop_assert_eq!(&xs, &gd, "{:?}", form);
        }
    }

    /// PyTorch SGD with momentum μ, dampening 0 and constant γ ≡ heavy ball with α = γ,
    /// β = μ, θ₋₁ = θ₀: **to rounding**, not bit for bit. In exact arithmetic
    /// θ_k − θ_{k−1} = −γ b_{k−1}, so θ_{k+1} = θ_k − γ(μ b_{k−1} + g_k) is the heavy-ball step
    /// (b₁ = g₁ ↔ θ₋₁ = θ₀). The computed values differ because heavy ball recomputes the
    /// difference θ_k − θ_{k−1} while SGD carries b: bound from the module doc, with the
    /// iteration matrices of both parametrisations. Also checks that the bound is small
    /// (≤ 1e-6·M, against differences of order M were the identity wrong), so the test can fail.
    #[test]
    fn sgd_momentum_is_heavy_ball_to_rounding(seed in any::<u64>(), dim in 1usize..=5, log10_kappa in 0.0f64..3.0) {
        let case = make_case(seed, dim, log10_kappa);
        let tuned = HeavyBallConfig::polyak_tuned(case.mu, case.l).unwrap();
        let (alpha, beta) = (tuned.lr, tuned.momentum);
        let mut hb = tuned.build().unwrap();
        let mut sgd = SgdConfig::momentum(alpha, beta).build().unwrap();
        let (mut xh, mut xs) = (case.x0.clone(), case.x0.clone());
        let mut states = vec![case.x0.clone()];
        // gaps[k][i] = |θ_k^HB − θ_k^SGD| in coordinate i.
        let mut gaps = vec![vec![0.0; dim]];
        for _ in 0..STEPS {
            let gh = grad(&case.h, &xh);
            hb.step(&mut xh, &gh).unwrap();
            let gs = grad(&case.h, &xs);
            sgd.step(&mut xs, &gs).unwrap();
            states.push(xh.clone());
            states.push(xs.clone());
            // β = 0 when κ = 1 (dim 1): no buffer, b = 0.
            states.push(sgd.momentum_buffer().cloned().unwrap_or_else(|| DVector::zeros(dim)));
            gaps.push((&xh - &xs).abs().as_slice().to_vec());
        }
        let m = max_abs(&states);
        for i in 0..dim {
            let h = case.h[i];
            let (ca, cb) = (power_norm_sums(t_heavy_ball(h, alpha, beta), STEPS), power_norm_sums(t_sgd_momentum(h, alpha, beta), STEPS));
            let delta = local_error(h, alpha, m);
            for (k, gap) in gaps.iter().enumerate() {
                let bound = delta * (ca[k] + cb[k]);
                prop_assert!(gap[i] <= bound, "coord {} step {}: {:e} > {:e}", i, k, gap[i], bound);
            }
            prop_assert!(delta * (ca[STEPS] + cb[STEPS]) <= 1e-6 * m);
        }
    }

    /// The lecture's look-ahead Nesterov and the PyTorch form generate the same look-ahead
    /// sequence θ̂_k = y_k, **to rounding**, also from θ₋₁ ≠ θ₀ (PyTorch started at
    /// y₀ = θ̂₀, b₀ = (θ₋₁ − θ₀)/α via `pytorch_start`; y₀ is computed by the same expression
    /// as θ̂₀, so it is bit-identical, and b₀ carries 2 roundings, one more δ). In exact
    /// arithmetic b_k = −(θ_k − θ_{k−1})/α and y_k = θ_k + β(θ_k − θ_{k−1}). θ̂_k is read off
    /// the look-ahead state with coefficients (1+β, −β), so its error is (1+2β)·(state error)
    /// plus its own ≤ 3 roundings (one more δ).
    #[test]
    fn nesterov_forms_share_the_look_ahead_sequence(seed in any::<u64>(), dim in 1usize..=5, log10_kappa in 0.0f64..3.0) {
        let case = make_case(seed, dim, log10_kappa);
        let config = NesterovConfig::strongly_convex(case.mu, case.l).unwrap();
        let (alpha, beta) = (config.lr, config.momentum);
        let mut lecture = config.clone().with_theta_prev(case.x_prev.as_slice().to_vec()).build().unwrap();
        let (lecture_xs, hats) = run(&mut lecture, &case.h, &case.x0, STEPS);
        let (y0, b0) = pytorch_start(&case.x0, &case.x_prev, alpha, beta);
        prop_assert_eq!(&y0, &hats[0]);
        let mut pt = config
            .with_form(NesterovForm::PyTorch)
            .with_initial_buffer(b0.as_slice().to_vec())
            .build()
            .unwrap();
        let mut y = y0;
        let mut ys = vec![y.clone()];
        let mut states = vec![case.x_prev.clone(), b0.clone()];
        states.extend(lecture_xs.iter().cloned());
        for _ in 0..STEPS {
            let before = y.clone();
            let g = grad(&case.h, &y);
            pt.step(&mut y, &g).unwrap();
            // The PyTorch form's gradient point is its stored parameter.
            prop_assert_eq!(pt.last_look_ahead().unwrap(), &before);
            states.push(y.clone());
            states.push(pt.momentum_buffer().unwrap().clone());
            ys.push(y.clone());
        }
        let m = max_abs(&states);
        for i in 0..dim {
            let h = case.h[i];
            let ca = power_norm_sums(t_nesterov_look_ahead(h, alpha, beta), STEPS);
            let cb = power_norm_sums(t_nesterov_pytorch(h, alpha, beta), STEPS + 1);
            let delta = local_error(h, alpha, m);
            // y_k: k steps from (y₀, b₀), b₀ one δ: Σ_{m≤k}; θ̂_k: (1+2β)Σ_{m<k} plus one δ.
            for k in 0..STEPS {
                let bound = delta * ((1.0 + 2.0 * beta) * ca[k] + cb[k + 1] + 1.0);
                let err = (ys[k][i] - hats[k][i]).abs();
                prop_assert!(err <= bound, "coord {} step {}: {:e} > {:e}", i, k, err, bound);
            }
            prop_assert!(delta * ((1.0 + 2.0 * beta) * ca[STEPS] + cb[STEPS + 1] + 1.0) <= 1e-6 * m);
        }
    }
}

/// PyTorch `SGD(nesterov=True)` ≡ the PyTorch form of [`Nesterov`]: **bit for bit**. Both
/// compute b = μb + g (SGD as μb + (1−0)·g, and 1·g = g exactly; on the first step SGD copies
/// g while Nesterov computes μ·0 + g = g), then θ − γ(g + μb), the same operations in the same
/// order.
#[test]
fn sgd_nesterov_is_pytorch_form_nesterov() {
    let case = make_case(11, 4, 2.0);
    let (alpha, beta) = (0.9, 0.8);
    let (sgd, _) = run(
        &mut SgdConfig::nesterov(alpha, beta).build().unwrap(),
        &case.h,
        &case.x0,
        STEPS,
    );
    let (nag, _) = run(
        &mut NesterovConfig::pytorch(alpha, beta).build().unwrap(),
        &case.h,
        &case.x0,
        STEPS,
    );
    assert_eq!(sgd, nag);
    // And the trajectory is not trivial (it moved and did not settle immediately).
    assert!((&sgd[1] - &sgd[0]).amax() > 1e-3 && (&sgd[STEPS] - &sgd[STEPS - 1]).amax() > 0.0);
}

/// AdaGrad-Norm in one dimension ≡ diagonal AdaGrad with s₀ = b₀², ε = 0, γ = η: **bit for
/// bit**, with ε inside or outside the root. Why: AdaGrad-Norm's ‖g‖² = 0 + g·g = g·g exactly
/// (adding to 0 is exact), its state b² and AdaGrad's s both start at b₀·b₀ (the same rounded
/// product) and add g·g; √(s + 0) = √s + 0 = √s exactly (s > 0); both then compute
/// θ − η(g/√s). In two dimensions they differ (one step size vs one per coordinate), by far
/// more than rounding.
#[test]
fn adagrad_norm_in_one_dimension_is_adagrad() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (eta, b0) in [(1.0, 0.1), (0.5, 3.0), (2.0, 1e-3), (1.0, 7.3)] {
        for placement in [EpsPlacement::InsideSqrt, EpsPlacement::OutsideSqrt] {
            let mut norm: AdaGradNorm = AdaGradNormConfig::new(eta, b0).build().unwrap();
            let mut diag: AdaGrad = AdaGradConfig {
                lr: eta,
                eps: 0.0,
                eps_placement: placement,
                initial_accumulator_value: b0 * b0,
                ..AdaGradConfig::pytorch()
            }
            .build()
            .unwrap();
            let h = [rng.random_range(0.1..10.0)];
            let x0 = DVector::from_element(1, rng.random_range(-5.0..5.0));
            let (a, _) = run(&mut norm, &h, &x0, STEPS);
            let (b, _) = run(&mut diag, &h, &x0, STEPS);
            assert_eq!(a, b, "eta {eta}, b0 {b0}, {placement:?}");
            assert_eq!(norm.b_squared(), diag.sum_of_squares().unwrap()[0]);
        }
    }
    // Two dimensions, curvatures 1 and 100: the per-coordinate step sizes separate.
    let h = [1.0, 100.0];
    let x0 = DVector::from_row_slice(&[1.0, 1.0]);
    let (a, _) = run(
        &mut AdaGradNormConfig::new(1.0, 1.0).build().unwrap(),
        &h,
        &x0,
        20,
    );
    let (b, _) = run(
        &mut AdaGradConfig {
            lr: 1.0,
            eps: 0.0,
            eps_placement: EpsPlacement::InsideSqrt,
            initial_accumulator_value: 1.0,
            ..AdaGradConfig::pytorch()
        }
        .build()
        .unwrap(),
        &h,
        &x0,
        20,
    );
    assert!((&a[20] - &b[20]).amax() > 1e-3);
}

/// Scale invariance: multiplying every gradient by c = 2^p and b₀ (resp. s₀ by c²) leaves
/// AdaGrad-Norm's and AdaGrad's (ε = 0) iterates unchanged, **bit for bit**: scaling by a
/// power of two is exact (no overflow/underflow here), √(4^p s) = 2^p √s exactly for a
/// correctly rounded root, and (c g)/(c √s) rounds to the same value as g/√s.
#[test]
fn power_of_two_gradient_scaling_leaves_adagrad_iterates_unchanged() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let grads: Vec<DVector<f64>> = (0..STEPS)
        .map(|_| DVector::from_fn(3, |_, _| rng.random_range(-2.0..2.0)))
        .collect();
    let x0 = DVector::from_row_slice(&[0.5, -1.0, 2.0]);
    for p in [-7, 3, 20] {
        let c = 2f64.powi(p);
        let mut a = AdaGradNormConfig::new(0.7, 0.3).build().unwrap();
        let mut b = AdaGradNormConfig::new(0.7, 0.3 * c).build().unwrap();
        let mut d = AdaGradConfig {
            lr: 0.7,
            eps: 0.0,
            initial_accumulator_value: 0.09,
            ..AdaGradConfig::pytorch()
        }
        .build()
        .unwrap();
        let mut e = AdaGradConfig {
            lr: 0.7,
            eps: 0.0,
            initial_accumulator_value: 0.09 * c * c,
            ..AdaGradConfig::pytorch()
        }
        .build()
        .unwrap();
        let (mut xa, mut xb, mut xd, mut xe) = (x0.clone(), x0.clone(), x0.clone(), x0.clone());
        for g in &grads {
            let scaled = g * c;
            a.step(&mut xa, g).unwrap();
            b.step(&mut xb, &scaled).unwrap();
            d.step(&mut xd, g).unwrap();
            e.step(&mut xe, &scaled).unwrap();
            assert_eq!(xa, xb, "adagrad-norm, c = 2^{p}");
            assert_eq!(xd, xe, "adagrad, c = 2^{p}");
        }
        assert_eq!(b.b(), a.b() * c);
    }
}

/// SGD with coupled weight decay λ ≡ GD on f + (λ/2)‖θ‖², **bit for bit** when the
/// regularised gradient is formed as ∇f(θ) + λθ — the same two roundings SGD performs — and
/// with momentum too, since PyTorch folds λθ into g before the buffer. (Formed as (H + λI)θ
/// instead, the two would agree only to rounding.)
#[test]
fn coupled_weight_decay_is_gd_on_the_regularised_objective() {
    let case = make_case(21, 4, 1.5);
    let lambda = 0.37;
    for momentum in [0.0, 0.9] {
        let mut decayed = SgdConfig {
            weight_decay: WeightDecay::CoupledL2(lambda),
            ..SgdConfig::momentum(0.3, momentum)
        }
        .build()
        .unwrap();
        let mut plain = SgdConfig::momentum(0.3, momentum).build().unwrap();
        let (mut xa, mut xb) = (case.x0.clone(), case.x0.clone());
        for _ in 0..STEPS {
            let ga = grad(&case.h, &xa);
            decayed.step(&mut xa, &ga).unwrap();
            let g = grad(&case.h, &xb);
            let regularised = DVector::from_fn(xb.len(), |i, _| g[i] + lambda * xb[i]);
            plain.step(&mut xb, &regularised).unwrap();
            assert_eq!(xa, xb, "momentum {momentum}");
        }
    }
}

/// The lecture's decoupled form θ ← (1 − λ)θ − α∇L (`DecoupledSchedule(λ)`, η_t = 1) ≡ SGD on
/// L + (λ′/2)‖θ‖² with λ′ = λ/α (Loshchilov & Hutter 2019, Prop. 1): **to rounding** without
/// momentum (1-D maps T = 1 − αh − λ in both; α and λ dyadic so λ′ = λ/α is exact and only
/// the per-step roundings differ, bounded as in the module doc with h + λ′ for h). **With
/// momentum it is not an equivalence**: the decoupled decay bypasses the buffer, and the
/// trajectories separate by orders of magnitude more than rounding.
#[test]
fn decoupled_decay_equals_coupled_without_momentum_only() {
    let case = make_case(8, 3, 1.0);
    let (alpha, lambda) = (0.5, 0.125);
    let lambda_coupled = lambda / alpha;
    let run_pair = |momentum: f64| {
        let mut dec = SgdConfig {
            weight_decay: WeightDecay::DecoupledSchedule(lambda),
            ..SgdConfig::momentum(alpha, momentum)
        }
        .build()
        .unwrap();
        let mut cou = SgdConfig {
            weight_decay: WeightDecay::CoupledL2(lambda_coupled),
            ..SgdConfig::momentum(alpha, momentum)
        }
        .build()
        .unwrap();
        let (a, _) = run(&mut dec, &case.h, &case.x0, STEPS);
        let (b, _) = run(&mut cou, &case.h, &case.x0, STEPS);
        (a, b)
    };
    let (a, b) = run_pair(0.0);
    let m = max_abs(&a).max(max_abs(&b));
    for i in 0..3 {
        let h = case.h[i] + lambda_coupled;
        let t = Matrix2::new(1.0 - alpha * h, 0.0, 0.0, 0.0);
        let c = power_norm_sums(t, STEPS);
        let delta = local_error(h, alpha, m);
        for k in 1..=STEPS {
            let err = (a[k][i] - b[k][i]).abs();
            assert!(err <= 2.0 * delta * c[k], "coord {i} step {k}: {err:e}");
        }
        assert!(2.0 * delta * c[STEPS] <= 1e-12 * m);
    }
    let (a, b) = run_pair(0.9);
    let sep = (1..=STEPS)
        .map(|k| (&a[k] - &b[k]).amax() / a[k].amax().max(b[k].amax()))
        .fold(0.0, f64::max);
    assert!(
        sep > 1e-2,
        "with momentum the two should separate, max relative gap {sep:e}"
    );
}

/// The crate's runner asks [`Optimizer::gradient_point`] before each step, so driving the
/// lecture's Nesterov through `runner::trajectory` gives exactly (**bit for bit**: the same
/// gradient evaluations in the same order) the hand-driven loop above, and its PyTorch form
/// gives the same look-ahead points to rounding (checked in the proptest above).
#[test]
fn runner_evaluates_nesterov_at_the_look_ahead_point() {
    struct Diagonal(Vec<f64>);
    impl optverify::problems::GradientOracle for Diagonal {
        fn dim(&self) -> usize {
            self.0.len()
        }
        fn gradient_into(&mut self, x: &DVector<f64>, g: &mut DVector<f64>) {
            g.copy_from(&grad(&self.0, x));
        }
    }
    let case = make_case(17, 3, 2.0);
    let config = NesterovConfig::strongly_convex(case.mu, case.l)
        .unwrap()
        .with_theta_prev(case.x_prev.as_slice().to_vec());
    let (by_hand, _) = run(&mut config.clone().build().unwrap(), &case.h, &case.x0, STEPS);
    let mut oracle = Diagonal(case.h.clone());
    let by_runner = optverify::optim::runner::trajectory(
        &mut config.build().unwrap(),
        &mut oracle,
        case.x0.clone(),
        STEPS,
    )
    .unwrap();
    assert_eq!(by_runner, by_hand);
    // Evaluating at θ_k instead (heavy-ball-like) would give a different trajectory.
    let mut hb = HeavyBallConfig::new(
        1.0 / case.l,
        NesterovConfig::strongly_convex(case.mu, case.l).unwrap().momentum,
    )
    .with_theta_prev(case.x_prev.as_slice().to_vec())
    .build()
    .unwrap();
    let (hb_xs, _) = run(&mut hb, &case.h, &case.x0, STEPS);
    assert!((&hb_xs[5] - &by_hand[5]).amax() > 1e-6);
}
