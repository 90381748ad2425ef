//! # Reference forms for the adaptive methods
//!
//! Written out independently of `optim`, so the adaptive claims compare two computations:
//!
//! | item | what |
//! |---|---|
//! | [`psd_sqrt`] | principal square root of a symmetric PSD matrix (AdaGrad's full-matrix G^{1/2}) |
//! | [`SlideAdamW`], [`slide_adamw`] | Loshchilov & Hutter's Algorithm 2 line by line, with switches for the slide's misprints (m₀ ← θ, line 6's + λθ) and for the decay's η_t factor |
//! | [`sgdr`] | SGDR eq. (5), T_cur = t − 1 completed steps, with or without restarts |
//!
//! ## References
//! * I. Loshchilov, F. Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019, Algorithm 2.
//! * I. Loshchilov, F. Hutter, *SGDR: Stochastic Gradient Descent with Warm Restarts*,
//!   ICLR 2017, eq. (5).

use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// Principal square root of a symmetric PSD matrix (negative rounding eigenvalues → 0).
pub fn psd_sqrt(a: &DMatrix<f64>) -> DMatrix<f64> {
    let e = SymmetricEigen::new(a.clone());
    let d = DMatrix::from_diagonal(&e.eigenvalues.map(|l| l.max(0.0).sqrt()));
    &e.eigenvectors * d * e.eigenvectors.transpose()
}

/// Which version of Algorithm 2 [`slide_adamw`] runs (β₁ = 0.9, β₂ = 0.999, ε = 1e-8, line 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlideAdamW {
    /// Line 2: m₀ ← θ₀ (the slide) instead of m₀ ← 0 (the paper).
    pub m0_theta: bool,
    /// Line 6: g_t ← ∇f_t(θ_{t−1}) + λθ_{t−1} (the slide; the paper's "Adam with L2" term)
    /// instead of g_t ← ∇f_t(θ_{t−1}).
    pub coupled: bool,
    /// Line 12: the decay term λθ_{t−1} inside the η_t(…) bracket (the paper), or outside it
    /// (θ_t ← θ_{t−1} − η_t α m̂/(√v̂+ε) − λθ_{t−1}) when false.
    pub decay_times_eta: bool,
}

impl SlideAdamW {
    /// The paper's AdamW: m₀ ← 0, line 6 without λθ, decay multiplied by η_t.
    pub const PAPER: SlideAdamW = SlideAdamW {
        m0_theta: false,
        coupled: false,
        decay_times_eta: true,
    };
    /// The slide as printed: m₀ ← θ and line 6 with + λθ_{t−1}.
    pub const SLIDE: SlideAdamW = SlideAdamW {
        m0_theta: true,
        coupled: true,
        decay_times_eta: true,
    };
}

/// Algorithm 2 run for `steps` steps from `x0` with gradient `grad`, step size `alpha`, decay
/// `lambda` and schedule multiplier `eta(t)`; returns θ_0, …, θ_T.
pub fn slide_adamw(
    x0: &DVector<f64>,
    grad: &dyn Fn(&DVector<f64>) -> DVector<f64>,
    alpha: f64,
    lambda: f64,
    eta: &dyn Fn(u64) -> f64,
    steps: usize,
    variant: SlideAdamW,
) -> Vec<DVector<f64>> {
    let (b1, b2, eps) = (0.9_f64, 0.999_f64, 1e-8);
    let n = x0.len();
    let mut theta = x0.clone();
    let mut m = if variant.m0_theta {
        x0.clone()
    } else {
        DVector::zeros(n)
    };
    let mut v: DVector<f64> = DVector::zeros(n);
    let mut out = vec![theta.clone()];
    for t in 1..=steps as u64 {
        let df = grad(&theta);
        let tf = t as f64;
        let e = eta(t);
        let mut next = theta.clone();
        for i in 0..n {
            let g = if variant.coupled {
                df[i] + lambda * theta[i]
            } else {
                df[i]
            };
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            v[i] = b2 * v[i] + (1.0 - b2) * g * g;
            let mh = m[i] / (1.0 - b1.powf(tf));
            let vh: f64 = v[i] / (1.0 - b2.powf(tf));
            let adam = alpha * (mh / (vh.sqrt() + eps));
            next[i] = if variant.decay_times_eta {
                theta[i] - e * (adam + lambda * theta[i])
            } else {
                theta[i] - e * adam - lambda * theta[i]
            };
        }
        theta = next;
        out.push(theta.clone());
    }
    out
}

/// SGDR eq. (5) at step t ≥ 1 with T_cur = t − 1 completed steps: η_min + ½(η_max −
/// η_min)(1 + cos(π T_cur/T_i)); with `restart` the period restarts and grows by `tmult`,
/// without it the multiplier stays at η_min after T_0 steps.
pub fn sgdr(t: u64, t0: u64, tmult: u64, lo: f64, hi: f64, restart: bool) -> f64 {
    let mut cur = t - 1;
    let mut ti = t0;
    if restart {
        while cur >= ti {
            cur -= ti;
            ti *= tmult.max(1);
        }
    } else if cur >= ti {
        return lo;
    }
    lo + 0.5 * (hi - lo) * (1.0 + (std::f64::consts::PI * cur as f64 / ti as f64).cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psd_sqrt_of_rank_one_is_g_gt_over_norm() {
        let g = DVector::from_vec(vec![1.0, 1.0]);
        let r = psd_sqrt(&(&g * g.transpose()));
        assert!((r[(0, 0)] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
        assert!((r[(0, 1)] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
    }

    #[test]
    fn sgdr_endpoints() {
        assert_eq!(sgdr(1, 10, 2, 0.0, 1.0, true), 1.0);
        assert!(sgdr(10, 10, 2, 0.0, 1.0, true) < 0.03);
        assert_eq!(sgdr(11, 10, 2, 0.0, 1.0, true), 1.0);
        assert_eq!(sgdr(31, 10, 2, 0.0, 1.0, true), 1.0);
        assert_eq!(sgdr(12, 10, 1, 0.0, 1.0, false), 0.0);
    }

    #[test]
    fn slide_and_paper_differ_at_step_one() {
        let x0 = DVector::from_element(1, 1.0);
        let g = |x: &DVector<f64>| x.clone();
        let one = |_t: u64| 1.0;
        let s = slide_adamw(&x0, &g, 0.01, 0.0, &one, 1, SlideAdamW::SLIDE)[1][0];
        let p = slide_adamw(&x0, &g, 0.01, 0.0, &one, 1, SlideAdamW::PAPER)[1][0];
        // m̂₁ = 10 vs 1 (θ₀ = g = 1, β₁ = 0.9).
        assert!((1.0 - s - 10.0 * (1.0 - p)).abs() < 1e-12);
    }
}
