//! # Tuned parameters, rates and bounds of GD, heavy-ball and NAG
//!
//! Notation: $f$ is $\mu$-strongly convex with $L$-Lipschitz gradient (Nesterov's class
//! $\mathcal S^{1,1}_{\mu,L}$), $\kappa = L/\mu$, $e_k = x_k - x^\star$.
//!
//! | method | parameters | what is proved | source |
//! |---|---|---|---|
//! | GD | $h = 2/(\mu+L)$ | $\Vert e_k\Vert \le \big(\frac{\kappa-1}{\kappa+1}\big)^k\Vert e_0\Vert$ for all $k$, all $f\in\mathcal S^{1,1}_{\mu,L}$ | Nesterov 2004, Thm 2.1.15 |
//! | GD | $0<h\le 2/(\mu+L)$ | $\Vert e_k\Vert^2 \le \big(1 - \frac{2h\mu L}{\mu+L}\big)^k\Vert e_0\Vert^2$; at $h = 1/L$ the distance rate is $\sqrt{(\kappa-1)/(\kappa+1)}$ (on quadratics the true rate is $1 - 1/\kappa$) | same |
//! | heavy-ball | $\alpha = \frac{4}{(\sqrt L+\sqrt\mu)^2}$, $\beta = \big(\frac{\sqrt\kappa-1}{\sqrt\kappa+1}\big)^2$ | on quadratics, every $2\times2$ block has spectral radius $\sqrt\beta = \frac{\sqrt\kappa-1}{\sqrt\kappa+1}$, with double roots at $\lambda = \mu, L$: an *asymptotic* rate, $\Vert e_k\Vert \sim k\\,q^k$ | Polyak 1964 (local, near a non-degenerate minimum of a $C^2$ function); not global (Lessard et al. 2016 §4.6) |
//! | NAG | $\alpha = 1/L$, $\beta = \frac{\sqrt\kappa-1}{\sqrt\kappa+1}$, $x_{-1} = x_0$ | $f(x_k) - f^\star \le (1-\frac1{\sqrt\kappa})^k\big(f(x_0) - f^\star + \frac\mu2\Vert e_0\Vert^2\big)$ | Nesterov 2004 §2.2.1 (Thm 2.2.1 + Lemma 2.2.4, constant step scheme III, $\gamma_0 = \mu$); d'Aspremont, Scieur, Taylor 2021, Cor. 4.15 |
//! | NAG | same | hence $\Vert e_k\Vert \le \sqrt{\kappa+1}\\,\big(\sqrt{1-1/\sqrt\kappa}\big)^k\Vert e_0\Vert$ (the slide's rate, with its constant) | from $f - f^\star \ge \frac\mu2\Vert e\Vert^2$ and $f(x_0) - f^\star \le \frac L2\Vert e_0\Vert^2$ |
//! | NAG | same | on quadratics the block radius is maximal at $\lambda = \mu$, a double root $1 - 1/\sqrt\kappa$ (the square of the slide's rate) | [`super::iteration_matrix`] |
//! | any first-order method | — | $\Vert e_k\Vert \ge \big(\frac{\sqrt\kappa-1}{\sqrt\kappa+1}\big)^k\Vert e_0\Vert$ on a worst-case function in $\ell_2$ | Nesterov 2004, Thm 2.1.13 |
//! | GD, $\mu = 0$ | $h = 1/L$ | $f(x_k) - f^\star \le \frac{2L\Vert e_0\Vert^2}{k+4}$ | Nesterov 2004, Cor. 2.1.2 |
//! | FISTA/NAG, $\mu = 0$ | $\alpha = 1/L$, $t_{k+1} = \frac{1+\sqrt{1+4t_k^2}}2$, $\beta_k = \frac{t_k-1}{t_{k+1}}$ | $f(x_k) - f^\star \le \frac{2L\Vert e_0\Vert^2}{(k+1)^2}$ | Beck & Teboulle 2009, Thm 4.4 |
//!
//! The derivation of the NAG distance constant: with $\gamma_0 = \mu$ the bracket is
//! $f(x_0) - f^\star + \frac\mu2\Vert e_0\Vert^2 \le \frac{L+\mu}2\Vert e_0\Vert^2$, and
//! $\frac\mu2\Vert e_k\Vert^2 \le f(x_k) - f^\star$, so $\Vert e_k\Vert^2 \le (\kappa+1)(1-1/\sqrt\kappa)^k\Vert e_0\Vert^2$.
//! (Nesterov's Thm 2.2.3 states the cruder $f(x_k) - f^\star \le L(1-\sqrt{\mu/L})^k\Vert e_0\Vert^2$
//! for the general scheme with $\gamma_0 = L$, which gives the constant $\sqrt{2\kappa}$.)
//!
//! ## References
//! 1. Y. Nesterov, *Introductory Lectures on Convex Optimization*, Kluwer 2004: Thm 2.1.13,
//!    Thm 2.1.15, Cor. 2.1.2, §2.2.1 (Thm 2.2.1, Lemma 2.2.4, Thm 2.2.3, constant step scheme
//!    III). Same numbering for 2.1.x in *Lectures on Convex Optimization*, Springer 2018.
//! 2. B. T. Polyak, *Some methods of speeding up the convergence of iteration methods*, USSR
//!    Comput. Math. Math. Phys. 4(5) (1964) 1–17.
//! 3. L. Lessard, B. Recht, A. Packard, SIAM J. Optim. 26(1) (2016) 57–95, §4.6.
//! 4. A. d'Aspremont, D. Scieur, A. Taylor, *Acceleration Methods*, Found. Trends Optim. 5
//!    (2021), Cor. 4.15, <https://arxiv.org/abs/2101.09545>.
//! 5. A. Beck, M. Teboulle, *A fast iterative shrinkage-thresholding algorithm*, SIAM J.
//!    Imaging Sci. 2(1) (2009), Thm 4.4.

/// κ = L/μ.
pub fn condition_number(mu: f64, l: f64) -> f64 {
    l / mu
}

/// GD step 2/(μ+L) of Nesterov's Thm 2.1.15.
pub fn gd_tuned_step(mu: f64, l: f64) -> f64 {
    2.0 / (mu + l)
}

/// (κ−1)/(κ+1): GD's per-step distance contraction at h = 2/(μ+L) (Thm 2.1.15), equal to the
/// largest |1 − hλ| over λ ∈ [μ, L].
pub fn gd_tuned_rate(kappa: f64) -> f64 {
    (kappa - 1.0) / (kappa + 1.0)
}

/// Thm 2.1.15's per-step distance factor for a step 0 < h ≤ 2/(μ+L):
/// √(1 − 2hμL/(μ+L)). At h = 2/(μ+L) it equals (κ−1)/(κ+1); at h = 1/L, √((κ−1)/(κ+1)).
pub fn gd_thm_2_1_15_rate(mu: f64, l: f64, h: f64) -> f64 {
    (1.0 - 2.0 * h * mu * l / (mu + l)).max(0.0).sqrt()
}

/// The slide's and Polyak's heavy-ball rate (√κ−1)/(√κ+1).
pub fn heavy_ball_tuned_rate(kappa: f64) -> f64 {
    let s = kappa.sqrt();
    (s - 1.0) / (s + 1.0)
}

/// Polyak's tuned (α, β) = (4/(√L+√μ)², ((√κ−1)/(√κ+1))²).
pub fn heavy_ball_tuned(mu: f64, l: f64) -> (f64, f64) {
    let (sm, sl) = (mu.sqrt(), l.sqrt());
    let alpha = 4.0 / ((sl + sm) * (sl + sm));
    let q = (sl - sm) / (sl + sm);
    (alpha, q * q)
}

/// NAG's constant-step parameters for μ > 0: (α, β) = (1/L, (√κ−1)/(√κ+1)).
pub fn nag_tuned(mu: f64, l: f64) -> (f64, f64) {
    let (sm, sl) = (mu.sqrt(), l.sqrt());
    (1.0 / l, (sl - sm) / (sl + sm))
}

/// 1 − 1/√κ: NAG's function-value contraction (Nesterov §2.2.1) and its exact asymptotic
/// rate on quadratics (the double root at λ = μ).
pub fn nag_tuned_rate(kappa: f64) -> f64 {
    1.0 - 1.0 / kappa.sqrt()
}

/// The slide's NAG rate √((√κ−1)/√κ) = √(1 − 1/√κ).
pub fn nag_printed_rate(kappa: f64) -> f64 {
    ((kappa.sqrt() - 1.0) / kappa.sqrt()).sqrt()
}

/// Constant C in ‖e_k‖ ≤ C·√(1−1/√κ)^k ‖e₀‖ for NAG with γ₀ = μ: C = √(κ+1) (module doc).
pub fn nag_distance_constant(kappa: f64) -> f64 {
    (kappa + 1.0).sqrt()
}

/// NAG's function-value bound at step k (γ₀ = μ): (1 − 1/√κ)^k (f(x₀) − f* + μ/2‖e₀‖²).
pub fn nag_value_bound(kappa: f64, k: usize, f0_gap: f64, mu: f64, e0_sq: f64) -> f64 {
    nag_tuned_rate(kappa).powi(k as i32) * (f0_gap + 0.5 * mu * e0_sq)
}

/// Nesterov's lower bound rate for the class (Thm 2.1.13): (√κ−1)/(√κ+1).
pub fn lower_bound_rate(kappa: f64) -> f64 {
    heavy_ball_tuned_rate(kappa)
}

/// Iterations for the error to shrink by a factor e at rate q: −1/ln q (∞ at q = 1).
pub fn iterations_per_e_fold(q: f64) -> f64 {
    -1.0 / q.ln()
}

/// GD at h = 1/L on a convex (μ = 0) function: f(x_k) − f* ≤ 2L‖e₀‖²/(k+4) (Cor. 2.1.2).
pub fn gd_convex_value_bound(l: f64, e0_sq: f64, k: usize) -> f64 {
    2.0 * l * e0_sq / (k as f64 + 4.0)
}

/// FISTA/NAG at α = 1/L on a convex function: f(x_k) − f* ≤ 2L‖e₀‖²/(k+1)² (Beck–Teboulle).
pub fn nag_convex_value_bound(l: f64, e0_sq: f64, k: usize) -> f64 {
    2.0 * l * e0_sq / ((k as f64 + 1.0) * (k as f64 + 1.0))
}

/// The κ at which the slide's NAG rate √(1−1/√κ) equals GD's (κ−1)/(κ+1), found by bisection
/// on κ ∈ (1, 1e4) (below it the slide's NAG rate is the *slower* of the two). Bisection on a
/// sign change of a continuous function; 200 halvings exhaust f64.
pub fn printed_nag_gd_crossover() -> f64 {
    let g = |k: f64| nag_printed_rate(k) - gd_tuned_rate(k);
    let (mut lo, mut hi) = (1.0 + 1e-9, 1e4);
    debug_assert!(g(lo) > 0.0 && g(hi) < 0.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::UNIT_ROUNDOFF;
    use crate::theory::iteration_matrix::{gd_radius_over, heavy_ball_radius_over, nag_radius_over};

    /// Each closed form is a handful of correctly rounded operations (≤ 10): 32u relative.
    const TOL: f64 = 32.0 * UNIT_ROUNDOFF;

    #[test]
    fn test_tuned_rates_equal_max_block_radius() {
        for &kappa in &[1.01, 2.0, 10.0, 1e2, 1e3, 1e4] {
            let (mu, l) = (1.0, kappa);
            let gd = gd_radius_over(gd_tuned_step(mu, l), mu, l);
            assert!((gd - gd_tuned_rate(kappa)).abs() <= TOL, "GD κ={kappa}");
            // Heavy-ball and NAG: the ends are double roots, so the radius of the block built
            // from the *rounded* tuned parameters is within ~√(8u) of the analytic value
            // (iteration_matrix module doc); 8√u.
            let near = 8.0 * UNIT_ROUNDOFF.sqrt();
            let (a, b) = heavy_ball_tuned(mu, l);
            let hb = heavy_ball_radius_over(a, b, mu, l);
            assert!((hb - heavy_ball_tuned_rate(kappa)).abs() <= near, "HB κ={kappa}");
            assert!((b.sqrt() - heavy_ball_tuned_rate(kappa)).abs() <= TOL);
            let (a, b) = nag_tuned(mu, l);
            let ng = nag_radius_over(a, b, mu, l);
            assert!((ng - nag_tuned_rate(kappa)).abs() <= near, "NAG κ={kappa}: {ng}");
            // The slide's NAG rate is the square root of the true one.
            assert!((nag_printed_rate(kappa).powi(2) - nag_tuned_rate(kappa)).abs() <= TOL);
        }
    }

    #[test]
    fn test_thm_2_1_15_rates() {
        let (mu, l) = (1.0, 9.0);
        assert!((gd_thm_2_1_15_rate(mu, l, 2.0 / (mu + l)) - 0.8).abs() <= TOL);
        assert!((gd_thm_2_1_15_rate(mu, l, 1.0 / l) - 0.8f64.sqrt()).abs() <= TOL);
    }

    /// At κ = 11.5 and below the slide's NAG rate is slower than GD's; by κ = 12 it is faster.
    #[test]
    fn test_printed_crossover() {
        let k = printed_nag_gd_crossover();
        assert!(k > 11.0 && k < 12.0, "{k}");
        assert!(nag_printed_rate(4.0) > gd_tuned_rate(4.0));
        assert!(nag_printed_rate(100.0) < gd_tuned_rate(100.0));
    }
}
