//! # Iteration matrices of GD, heavy-ball and NAG on a quadratic
//!
//! On $f(x) = \tfrac12 (x-x^\star)^\top A (x-x^\star)$ every method of the lecture acts on the
//! error $e_k = x_k - x^\star$ linearly, and in the eigenbasis of $A$ each eigenvalue
//! $\lambda$ gives an independent scalar recursion:
//!
//! | method | recursion per eigenvalue $\lambda$ | characteristic polynomial |
//! |---|---|---|
//! | GD, step $\alpha$ | $e_{k+1} = (1-\alpha\lambda)e_k$ | $z - (1-\alpha\lambda)$ |
//! | heavy-ball $(\alpha,\beta)$ | $e_{k+1} = (1+\beta-\alpha\lambda)e_k - \beta e_{k-1}$ | $z^2 - (1+\beta-\alpha\lambda)z + \beta$ |
//! | NAG $(\alpha,\beta)$ | $e_{k+1} = (1+\beta)(1-\alpha\lambda)e_k - \beta(1-\alpha\lambda)e_{k-1}$ | $z^2 - (1+\beta)c\\,z + \beta c$, $c = 1-\alpha\lambda$ |
//!
//! The two-step recursions are the $2\times2$ blocks $\begin{pmatrix} b & -c_0\\ 1 & 0\end{pmatrix}$
//! acting on $(e_k, e_{k-1})$, with $z^2 - bz + c_0$ their characteristic polynomial.
//!
//! ## Closed-form spectral radius of $z^2 - bz + c_0$
//! * discriminant $D = b^2 - 4c_0 < 0$: a complex pair of modulus $\sqrt{c_0}$;
//! * $D > 0$: real roots $z_1 = (b + \operatorname{sign}(b)\sqrt D)/2$ (no cancellation) and
//!   $z_2 = c_0/z_1$; radius $= (|b| + \sqrt D)/2$;
//! * $D = 0$: a double root $b/2$ and, since the block is not a multiple of $I$, a Jordan block:
//!   $e_k = \big(e_0 + k(e_0 - r e_{-1})\big) r^k$ ([`double_root_mode`]), so the error carries a
//!   factor $k$ that no per-step bound $C r^k$ absorbs.
//!
//! $D$ is evaluated in *factored* form, e.g. for heavy-ball
//! $D = \big((1-\sqrt\beta)^2 - \alpha\lambda\big)\big((1+\sqrt\beta)^2 - \alpha\lambda\big)$, so its
//! sign is decided by comparing $\alpha\lambda$ with the two thresholds, not by a cancelling
//! difference $b^2 - 4c_0$.
//!
//! ## Accuracy near a double root
//! Near $D = 0$ the roots are ill-conditioned: a perturbation $\delta$ of the matrix moves them
//! by $O(\sqrt\delta)$. A general eigensolver (nalgebra's Schur) works on the rounded matrix, so
//! it returns the modulus with error up to about $\sqrt{u}\\,|b| \approx 10^{-8}$ there; the
//! closed form returns exactly $\sqrt{c_0}$ on the complex side. But the tuned parameters
//! themselves are rounded: at $\lambda = \mu$ the computed $\alpha\lambda$ may land a few ulps
//! on the real side of the threshold $(1-\sqrt\beta)^2$, and the block *actually iterated in
//! f64* then has two real roots $\sqrt\beta\\,(1 \pm O(\sqrt u))$. The closed form reports the
//! radius of that rounded block; the analytic value at exact parameters is in
//! [`super::rates`] ([`super::rates::heavy_ball_tuned_rate`], [`super::rates::nag_tuned_rate`]).
//! The two differ by at most about $(1-\sqrt\beta)\sqrt{8u} \lesssim 3\cdot10^{-8}$, far below
//! what any trajectory fit resolves. The unit tests compare closed form and Schur away from
//! double roots to $10^3u$ and near them to $8\sqrt u$.
//!
//! ## References
//! 1. B. T. Polyak, *Some methods of speeding up the convergence of iteration methods*, USSR
//!    Comput. Math. Math. Phys. 4(5) (1964), §3 (the 2×2 analysis of the heavy-ball method).
//! 2. L. Lessard, B. Recht, A. Packard, *Analysis and design of optimization algorithms via
//!    integral quadratic constraints*, SIAM J. Optim. 26(1) (2016), §2.2 (the same blocks for
//!    GD, heavy-ball and NAG), <https://arxiv.org/abs/1408.3595>.

use nalgebra::Matrix2;

/// Which case of the quadratic formula a block is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    /// D < 0: a complex-conjugate pair.
    ComplexPair,
    /// D > 0: two distinct real roots.
    DistinctReal,
    /// D = 0: a double real root (a Jordan block).
    Double,
}

/// The roots of one block and their largest modulus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockRoots {
    /// max |z| over the two roots.
    pub radius: f64,
    pub kind: RootKind,
}

/// Spectral radius of z² − b z + c₀ given the discriminant `d` computed by the caller in a
/// stable (factored) form.
fn monic_quadratic_radius(b: f64, c0: f64, d: f64) -> BlockRoots {
    if d < 0.0 {
        BlockRoots {
            radius: c0.abs().sqrt(),
            kind: RootKind::ComplexPair,
        }
    } else if d == 0.0 {
        BlockRoots {
            radius: b.abs() / 2.0,
            kind: RootKind::Double,
        }
    } else {
        BlockRoots {
            radius: (b.abs() + d.sqrt()) / 2.0,
            kind: RootKind::DistinctReal,
        }
    }
}

/// |1 − αλ|: the GD multiplier for eigenvalue λ.
pub fn gd_block_radius(alpha: f64, lambda: f64) -> f64 {
    (1.0 - alpha * lambda).abs()
}

/// max over λ ∈ [μ, L] of |1 − αλ| (a convex function of λ: the maximum is at an end).
pub fn gd_radius_over(alpha: f64, mu: f64, l: f64) -> f64 {
    gd_block_radius(alpha, mu).max(gd_block_radius(alpha, l))
}

/// The heavy-ball block for eigenvalue λ: [[1+β−αλ, −β], [1, 0]] on (e_k, e_{k−1}).
pub fn heavy_ball_block(alpha: f64, beta: f64, lambda: f64) -> Matrix2<f64> {
    Matrix2::new(1.0 + beta - alpha * lambda, -beta, 1.0, 0.0)
}

/// Closed-form roots of the heavy-ball block (see the module doc; β ∈ [0, 1)).
pub fn heavy_ball_block_roots(alpha: f64, beta: f64, lambda: f64) -> BlockRoots {
    let s = beta.sqrt();
    let al = alpha * lambda;
    let b = 1.0 + beta - al;
    // D = (b − 2√β)(b + 2√β) = ((1−√β)² − αλ)((1+√β)² − αλ).
    let d = ((1.0 - s) * (1.0 - s) - al) * ((1.0 + s) * (1.0 + s) - al);
    monic_quadratic_radius(b, beta, d)
}

/// max over λ ∈ [μ, L] of the heavy-ball block radius. The radius is ≥ √β everywhere (the
/// roots multiply to β), equals √β between the thresholds (1∓√β)²/α, and increases away from
/// them, so the maximum over an interval is at one of its ends.
pub fn heavy_ball_radius_over(alpha: f64, beta: f64, mu: f64, l: f64) -> f64 {
    heavy_ball_block_roots(alpha, beta, mu)
        .radius
        .max(heavy_ball_block_roots(alpha, beta, l).radius)
}

/// The NAG block for eigenvalue λ: [[(1+β)(1−αλ), −β(1−αλ)], [1, 0]] on (e_k, e_{k−1}), for the
/// lecture's iteration θ̂_k = θ_k + β(θ_k − θ_{k−1}), θ_{k+1} = θ̂_k − α∇f(θ̂_k).
pub fn nag_block(alpha: f64, beta: f64, lambda: f64) -> Matrix2<f64> {
    let c = 1.0 - alpha * lambda;
    Matrix2::new((1.0 + beta) * c, -beta * c, 1.0, 0.0)
}

/// Closed-form roots of the NAG block (β ∈ [0, 1)).
pub fn nag_block_roots(alpha: f64, beta: f64, lambda: f64) -> BlockRoots {
    let c = 1.0 - alpha * lambda;
    let b = (1.0 + beta) * c;
    let c0 = beta * c;
    // D = (1+β)²c² − 4βc = c·((1+β)²c − 4β); the double root sits at c = 4β/(1+β)².
    let d = c * ((1.0 + beta) * (1.0 + beta) * c - 4.0 * beta);
    monic_quadratic_radius(b, c0, d)
}

/// max over λ ∈ [μ, L] of the NAG block radius. As a function of c = 1 − αλ the radius is
/// √(βc) on [0, 4β/(1+β)²), real-rooted and increasing beyond, and increasing in |c| for c < 0:
/// so it is quasi-convex in λ and the maximum over an interval is at one of its ends.
pub fn nag_radius_over(alpha: f64, beta: f64, mu: f64, l: f64) -> f64 {
    nag_block_roots(alpha, beta, mu)
        .radius
        .max(nag_block_roots(alpha, beta, l).radius)
}

/// Largest eigenvalue modulus of a 2×2 matrix by nalgebra's Schur decomposition (used to
/// cross-check the closed forms; loses ~√u near double roots, see the module doc).
pub fn eig_radius(m: &Matrix2<f64>) -> f64 {
    m.complex_eigenvalues()
        .iter()
        .map(|z| z.norm())
        .fold(0.0, f64::max)
}

/// The exact scalar mode of a two-step recursion with a double root r:
/// e_k = (e₀ + k(e₀ − r e₋₁)) r^k (solve e_k = (A + Bk)r^k at k = 0 and k = −1).
pub fn double_root_mode(r: f64, e0: f64, e_minus1: f64, k: u32) -> f64 {
    (e0 + k as f64 * (e0 - r * e_minus1)) * r.powi(k as i32)
}

/// Iterate the scalar two-step recursion e_{k+1} = b e_k − c₀ e_{k−1} for `steps` steps from
/// (e₀, e₋₁); returns e₀, …, e_steps. This is the mode of one eigenvalue, computed without
/// forming any n-dimensional vector.
pub fn two_step_mode(b: f64, c0: f64, e0: f64, e_minus1: f64, steps: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(steps + 1);
    let (mut cur, mut prev) = (e0, e_minus1);
    out.push(cur);
    for _ in 0..steps {
        let next = b * cur - c0 * prev;
        prev = cur;
        cur = next;
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::UNIT_ROUNDOFF;
    use crate::theory::rates::{heavy_ball_tuned, nag_tuned};

    /// Away from double roots the eigenvalues of a 2×2 matrix are well conditioned: Schur's
    /// backward error is a few u·‖B‖, moving a simple root by (a few u‖B‖)/|z₁ − z₂|. We
    /// stay where |z₁ − z₂| ≥ 0.1·‖B‖ and allow 1e3·u (≈ 1e-13) relative.
    #[test]
    fn test_closed_forms_match_schur_away_from_double_roots() {
        let tol = 1e3 * UNIT_ROUNDOFF;
        for &(alpha, beta) in &[(0.1, 0.5), (0.02, 0.9), (1.0, 0.0), (0.5, 0.3)] {
            for i in 0..=200 {
                let lambda = 0.05 * i as f64;
                let hb = heavy_ball_block(alpha, beta, lambda);
                let d = (hb[(0, 0)] * hb[(0, 0)] - 4.0 * beta).abs().sqrt();
                if d >= 0.1 * hb.norm() {
                    let closed = heavy_ball_block_roots(alpha, beta, lambda).radius;
                    let schur = eig_radius(&hb);
                    assert!(
                        (closed - schur).abs() <= tol * closed.max(1.0),
                        "HB α={alpha} β={beta} λ={lambda}: closed {closed} vs Schur {schur}"
                    );
                }
                let ng = nag_block(alpha, beta, lambda);
                let d = (ng[(0, 0)] * ng[(0, 0)] + 4.0 * ng[(0, 1)]).abs().sqrt();
                if d >= 0.1 * ng.norm() {
                    let closed = nag_block_roots(alpha, beta, lambda).radius;
                    let schur = eig_radius(&ng);
                    assert!(
                        (closed - schur).abs() <= tol * closed.max(1.0),
                        "NAG α={alpha} β={beta} λ={lambda}: closed {closed} vs Schur {schur}"
                    );
                }
            }
        }
    }

    /// At the tuned parameters the ends of the spectrum are double roots. Both Schur and the
    /// closed form (evaluated at the rounded parameters) may then be off the analytic value √β
    /// (heavy-ball), 1 − 1/√κ (NAG) by O(√u); we allow 8√u (module doc).
    #[test]
    fn test_double_roots_at_tuned_parameters() {
        for &kappa in &[1.5, 10.0, 100.0, 1e4] {
            let (mu, l) = (1.0, kappa);
            let (a, b) = heavy_ball_tuned(mu, l);
            let q = (kappa.sqrt() - 1.0) / (kappa.sqrt() + 1.0);
            // Rounded tuned parameters sit within rounding of the double root: 8√u (module doc).
            let near = 8.0 * UNIT_ROUNDOFF.sqrt();
            for lambda in [mu, l] {
                let closed = heavy_ball_block_roots(a, b, lambda).radius;
                assert!((closed - q).abs() <= near, "κ={kappa}: {closed} vs {q}");
                let schur = eig_radius(&heavy_ball_block(a, b, lambda));
                assert!(
                    (schur - q).abs() <= 8.0 * UNIT_ROUNDOFF.sqrt(),
                    "κ={kappa}: Schur {schur}"
                );
            }
            let (a, b) = nag_tuned(mu, l);
            let r = 1.0 - 1.0 / kappa.sqrt();
            let closed = nag_block_roots(a, b, mu).radius;
            assert!((closed - r).abs() <= near, "κ={kappa}: {closed} vs {r}");
            let schur = eig_radius(&nag_block(a, b, mu));
            assert!((schur - r).abs() <= 8.0 * UNIT_ROUNDOFF.sqrt());
        }
    }

    /// The Jordan closed form equals the iterated recursion (to rounding growing like k·u).
    #[test]
    fn test_double_root_mode_matches_recursion() {
        let r = 0.9;
        let (b, c0) = (2.0 * r, r * r);
        let traj = two_step_mode(b, c0, 1.0, 0.3, 300);
        for (k, &e) in traj.iter().enumerate() {
            let closed = double_root_mode(r, 1.0, 0.3, k as u32);
            let scale = (1.0 + k as f64) * r.powi(k as i32);
            assert!((e - closed).abs() <= 64.0 * (k as f64 + 1.0) * UNIT_ROUNDOFF * scale);
        }
    }

    #[test]
    fn test_root_kinds() {
        assert_eq!(
            heavy_ball_block_roots(0.1, 0.25, 1.0).kind,
            RootKind::DistinctReal
        );
        // Between the thresholds (1∓√β)²/α = 2.5, 22.5: complex, modulus √β.
        let r = heavy_ball_block_roots(0.1, 0.25, 10.0);
        assert_eq!(r.kind, RootKind::ComplexPair);
        assert_eq!(r.radius, 0.5);
        // Exactly at (1−√β)²/α with α = 1, β = 0.25: αλ = 0.25 is exact, so D = 0.
        assert_eq!(heavy_ball_block_roots(1.0, 0.25, 0.25).kind, RootKind::Double);
    }
}
