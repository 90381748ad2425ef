//! Property tests and quick-mode runs of the rate claims (claims.md items 1–4).
//!
//! Random instances are built from a generated `seed` with ChaCha8; the generated *structure*
//! (κ, dimension, spectrum layout, start kind) is what proptest shrinks.

mod common;
use common::{assert_quick_verdict as run_quick, assert_verdict};
use optverify::claims::Mode;

#[test]
fn test_gd_rate_quick() {
    run_quick("gd-rate");
}

#[test]
fn test_heavy_ball_rate_quick() {
    run_quick("heavy-ball-rate");
}

#[test]
fn test_nag_rate_quick() {
    run_quick("nag-rate");
}

#[test]
fn test_acceleration_convex_quick() {
    run_quick("acceleration-convex");
}

/// Full mode (the committed report's parameters): `cargo test --release --test theorems_rates
/// -- --ignored`.
#[test]
#[ignore]
fn test_rate_cards_full() {
    for id in ["gd-rate", "heavy-ball-rate", "nag-rate", "acceleration-convex"] {
        assert_verdict(id, Mode::Full);
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

mod props {
    use nalgebra::{DVector, Matrix2};
    use optverify::claims::rates::{error_trajectory, fit_rate, run_reference, Method};
    use optverify::prec::{gamma, UNIT_ROUNDOFF};
    use optverify::problems::quadratic::{gaussian_vector, spectrum_eigenvalues, Quadratic, Spectrum};
    use optverify::problems::Objective;
    use optverify::theory::iteration_matrix as im;
    use optverify::theory::rates as th;
    use proptest::prelude::*;
    use proptest::test_runner::FileFailurePersistence;

    const LAYOUTS: [Spectrum; 3] = [Spectrum::TwoPoint, Spectrum::Uniform, Spectrum::LogUniform];

    /// A rotated quadratic with μ = 1, L = κ = 10^log10_kappa, and a start on v_min (0), v_max
    /// (1) or a random direction (2).
    fn instance(
        log10_kappa: f64,
        n: usize,
        layout: usize,
        start: usize,
        seed: u64,
    ) -> (Quadratic, f64, DVector<f64>, Option<usize>) {
        let kappa = 10f64.powf(log10_kappa);
        let eigs = spectrum_eigenvalues(n, 1.0, kappa, LAYOUTS[layout], seed).unwrap();
        let q = Quadratic::rotated(eigs, gaussian_vector(n, seed + 1), seed + 2).unwrap();
        let (dir, on) = match start {
            0 => (q.eigenvector(0), Some(0)),
            1 => (q.eigenvector(n - 1), Some(n - 1)),
            _ => (gaussian_vector(n, seed + 3) / (n as f64).sqrt(), None),
        };
        let x0 = q.theta_star() + dir;
        (q, kappa, x0, on)
    }

    fn radius(m: Method, q: &Quadratic, on: Option<usize>) -> f64 {
        let e = q.eigenvalues();
        match on {
            Some(i) => m.block_radius(e[i]),
            None => e.iter().map(|&l| m.block_radius(l)).fold(0.0, f64::max),
        }
    }

    proptest! {
        // Regressions are kept beside this file (tests/ has no lib.rs for SourceParallel).
        #![proptest_config(ProptestConfig {
            failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
                "tests/theorems_rates.proptest-regressions",
            ))),
            ..ProptestConfig::with_cases(48)
        })]

        /// Nesterov Thm 2.1.15 at h = 2/(μ+L): ‖e_k‖ ≤ ((κ−1)/(κ+1))^k‖e_0‖ at every step, up to
        /// the rounding slack argued in theorems/gd-rate.md.
        #[test]
        fn prop_gd_per_step_bound(
            log10_kappa in 0.004f64..4.0,
            n in 2usize..40,
            layout in 0usize..3,
            start in 0usize..3,
            seed in any::<u64>(),
        ) {
            let seed = seed % (1 << 40);
            let (q, kappa, x0, _) = instance(log10_kappa, n, layout, start, seed);
            let rate = th::gd_tuned_rate(kappa);
            let errs = error_trajectory(Method::gd_tuned(1.0, kappa), &q, q.theta_star(), &x0, &x0, 3000, 1e-12);
            let e0 = errs[0];
            let (nf, g) = (n as f64, gamma(n + 2));
            for (k, &e) in errs.iter().enumerate() {
                let kf = k as f64;
                let bound = rate.powi(k as i32) * e0;
                let slack = kf * (2.0 * g * nf.sqrt() + 4.0 * UNIT_ROUNDOFF) / rate * bound
                    + (kf + 1.0) * (nf + 4.0) * UNIT_ROUNDOFF * (q.theta_star().norm() + e0);
                prop_assert!(e <= bound + slack, "k={k}: {e} > {bound} + {slack}");
            }
        }

        /// The closed-form spectral radius of the heavy-ball and NAG blocks equals the largest
        /// eigenvalue modulus from nalgebra's Schur decomposition: to 1e3·64u where the roots
        /// are separated by ≥ 1e-3‖B‖ (simple roots), and to 16√u·max(1,‖B‖) near a double
        /// root, where any eigensolver loses √u (theory::iteration_matrix doc).
        #[test]
        fn prop_closed_form_radius_is_schur_radius(
            alpha in 1e-4f64..2.0,
            beta in 0.0f64..0.999,
            lambda in 0.0f64..4.0,
        ) {
            for (b, c0, closed) in [
                {
                    let (b, c0) = Method::HeavyBall { alpha, beta }.mode_coefficients(lambda);
                    (b, c0, im::heavy_ball_block_roots(alpha, beta, lambda).radius)
                },
                {
                    let (b, c0) = Method::Nag { alpha, beta }.mode_coefficients(lambda);
                    (b, c0, im::nag_block_roots(alpha, beta, lambda).radius)
                },
            ] {
                let block = Matrix2::new(b, -c0, 1.0, 0.0);
                let schur = im::eig_radius(&block);
                let gap = (b * b - 4.0 * c0).abs().sqrt();
                let tol = if gap >= 1e-3 * block.norm() {
                    1e3 * 64.0 * UNIT_ROUNDOFF * closed.max(1.0)
                } else {
                    16.0 * UNIT_ROUNDOFF.sqrt() * block.norm().max(1.0)
                };
                prop_assert!((closed - schur).abs() <= tol, "closed {closed} vs Schur {schur} (b={b}, c0={c0})");
            }
        }

        /// Heavy-ball and NAG (tuned): the fitted asymptotic rate of a long run is at most the
        /// closed-form spectral radius of the instance, within the fit's tolerance (fit_rate doc);
        /// with θ₋₁ = θ₀ and θ₋₁ ≠ θ₀.
        #[test]
        fn prop_momentum_rate_at_most_radius(
            log10_kappa in 0.3f64..3.0,
            n in 2usize..24,
            layout in 0usize..3,
            start in 0usize..3,
            previous_differs in any::<bool>(),
            nag in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let seed = seed % (1 << 40);
            let (q, kappa, x0, on) = instance(log10_kappa, n, layout, start, seed);
            let m = if nag { Method::nag_tuned(1.0, kappa) } else { Method::heavy_ball_tuned(1.0, kappa) };
            let xm1 = if previous_differs { &x0 + gaussian_vector(n, seed + 9) * (0.3 / (n as f64).sqrt()) } else { x0.clone() };
            // θ₋₁ ≠ θ₀ in a random direction excites every mode: compare with the max radius.
            let on = if previous_differs { None } else { on };
            let rho = radius(m, &q, on);
            let errs = error_trajectory(m, &q, q.theta_star(), &x0, &xm1, 20000, 1e-12);
            if let Some(fit) = fit_rate(&errs) {
                prop_assert!(fit.q.ln() <= rho.ln() + fit.log_tol, "fit {fit:?} vs ρ {rho}");
            }
        }

        /// NAG's function-value bound (1 − 1/√κ)^k (f(x_0) − f* + μ/2‖e_0‖²) at every step from
        /// θ₋₁ = θ₀, with the rounding slack 2γ₂₅₆·max(|f*|,1) argued in theorems/nag-rate.md.
        #[test]
        fn prop_nag_value_bound(
            log10_kappa in 0.004f64..4.0,
            n in 2usize..30,
            layout in 0usize..3,
            start in 0usize..3,
            seed in any::<u64>(),
        ) {
            let seed = seed % (1 << 40);
            let (q, kappa, x0, _) = instance(log10_kappa, n, layout, start, seed);
            let e0 = (&x0 - q.theta_star()).norm();
            let f0 = q.value(&x0);
            let mut worst: f64 = 0.0;
            run_reference(Method::nag_tuned(1.0, kappa), &q, &x0, &x0, 3000, &mut |k, x| {
                let b = th::nag_value_bound(kappa, k, f0, 1.0, e0 * e0) + 2.0 * gamma(256);
                worst = worst.max(q.value(x) / b);
                b > 1e-13
            });
            prop_assert!(worst <= 1.0, "worst ratio {worst}");
        }

        /// Heavy-ball from an extreme eigenvector with θ₋₁ = θ₀ follows the exact Jordan mode
        /// (1 + k(1 ∓ q))(±q)^k, so ‖e_k‖/q^k grows without bound: there is no per-step bound
        /// C·q^k. Tolerance: rounding amplified by the mode growth, (k+1)(2k+1)·4(n+4)u(1+‖x*‖).
        #[test]
        fn prop_heavy_ball_jordan_mode(
            log10_kappa in 0.3f64..3.0,
            n in 2usize..24,
            layout in 0usize..3,
            top in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let seed = seed % (1 << 40);
            let (q, kappa, x0, _) = instance(log10_kappa, n, layout, if top { 1 } else { 0 }, seed);
            let rate = th::heavy_ball_tuned_rate(kappa);
            let r = if top { -rate } else { rate };
            let errs = error_trajectory(Method::heavy_ball_tuned(1.0, kappa), &q, q.theta_star(), &x0, &x0, 400, 1e-6);
            let unit = 4.0 * (n as f64 + 4.0) * UNIT_ROUNDOFF * (1.0 + q.theta_star().norm());
            for (k, &e) in errs.iter().enumerate() {
                let mode = im::double_root_mode(r, 1.0, 1.0, k as u32).abs();
                let kf = k as f64;
                // The rounded tuned parameters put the ends within ~√u of a double root, so the
                // f64 recursion's roots differ from ±q by ≲ √(8u): over k steps that is a
                // relative drift ≲ k·√(8u)/q; add it.
                let tol = (kf + 1.0) * (2.0 * kf + 1.0) * unit / mode + kf * (8.0 * UNIT_ROUNDOFF).sqrt() / rate;
                prop_assert!((e - mode).abs() <= tol * mode, "k={k}: ‖e‖={e}, mode {mode}");
            }
            let last = errs.len() - 1;
            prop_assert!(errs[last] / rate.powi(last as i32) >= 1.0 + last as f64 * (1.0 - rate) * 0.99);
        }
    }
}
