//! # Weight decay along the ReLU rescaling orbit, and Adam's effective step
//!
//! **Balancing.** For a two-layer ReLU network the rescaling (W₁, W₂) ↦ (cW₁, c⁻¹W₂), c > 0,
//! leaves the function unchanged, and the weight-decay penalty along the orbit is
//! $$\Phi(c) = \lambda\left(c^2\Vert W_1\Vert^2 + c^{-2}\Vert W_2\Vert^2\right).$$
//! $\Phi'(c) = 2\lambda(c\Vert W_1\Vert^2 - c^{-3}\Vert W_2\Vert^2) = 0$ gives $c_\star^2 = \Vert W_2\Vert/\Vert W_1\Vert$,
//! where $\Vert c_\star W_1\Vert = \Vert c_\star^{-1}W_2\Vert = \sqrt{\Vert W_1\Vert\Vert W_2\Vert}$ (balanced) and
//! $\Phi(c_\star) = 2\lambda\Vert W_1\Vert\Vert W_2\Vert$ (AM–GM; $\Phi$ is convex in $\log c$, so this is the
//! global minimum).
//!
//! **Adam's effective step** (Kingma & Ba §2.1 with ε = 0). With bias correction,
//! $$\frac{\hat m_t}{\sqrt{\hat v_t}} = \frac{(1-\beta_1)\sum_{i\le t}\beta_1^{t-i}g_i/(1-\beta_1^t)}
//!   {\sqrt{(1-\beta_2)\sum_{i\le t}\beta_2^{t-i}g_i^2/(1-\beta_2^t)}},$$
//! and Cauchy–Schwarz with weights $\beta_2^{t-i}$ gives the exact supremum over all gradient
//! sequences ([`adam_ratio_sup`]):
//! $$C_t = \frac{1-\beta_1}{1-\beta_1^t}\sqrt{\frac{1-\beta_2^t}{1-\beta_2}}
//!   \sqrt{\sum_{k=0}^{t-1}\left(\frac{\beta_1^2}{\beta_2}\right)^k},$$
//! attained by $g_i \propto (\beta_1/\beta_2)^{t-i}$ ([`adam_worst_sequence`]). For
//! $\beta_1^2 < \beta_2$, $C_\infty = (1-\beta_1)/\sqrt{(1-\beta_2)(1-\beta_1^2/\beta_2)}$.
//! The single spike after zeros gives
//! $(1-\beta_1)/\sqrt{1-\beta_2}\cdot\sqrt{1-\beta_2^t}/(1-\beta_1^t)$ ([`adam_spike_ratio`]).

/// The scale c* = √(‖W₂‖/‖W₁‖) minimising [`decay_penalty`] (norms `a` = ‖W₁‖, `b` = ‖W₂‖).
pub fn balancing_scale(a: f64, b: f64) -> f64 {
    (b / a).sqrt()
}

/// Φ(c) = λ(c²a² + b²/c²) with a = ‖W₁‖, b = ‖W₂‖ (Frobenius norms).
pub fn decay_penalty(lambda: f64, a: f64, b: f64, c: f64) -> f64 {
    lambda * ((c * a).powi(2) + (b / c).powi(2))
}

/// Golden-section search for the minimiser of a unimodal `f` on [lo, hi] in log c.
pub fn golden_section_log(f: &dyn Fn(f64) -> f64, lo: f64, hi: f64, iterations: usize) -> f64 {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (lo.ln(), hi.ln());
    let mut x1 = b - r * (b - a);
    let mut x2 = a + r * (b - a);
    let (mut f1, mut f2) = (f(x1.exp()), f(x2.exp()));
    for _ in 0..iterations {
        if f1 <= f2 {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - r * (b - a);
            f1 = f(x1.exp());
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + r * (b - a);
            f2 = f(x2.exp());
        }
    }
    ((a + b) / 2.0).exp()
}

/// C_t: the exact supremum of |m̂_t/√v̂_t| over gradient sequences (module doc).
pub fn adam_ratio_sup(beta1: f64, beta2: f64, t: u64) -> f64 {
    let q = beta1 * beta1 / beta2;
    let tf = t as f64;
    let geo = if (q - 1.0).abs() < 1e-15 {
        tf
    } else {
        (1.0 - q.powf(tf)) / (1.0 - q)
    };
    (1.0 - beta1) / (1.0 - beta1.powf(tf)) * ((1.0 - beta2.powf(tf)) / (1.0 - beta2)).sqrt() * geo.sqrt()
}

/// lim_{t→∞} C_t = (1−β₁)/√((1−β₂)(1−β₁²/β₂)) for β₁² < β₂, +∞ otherwise.
pub fn adam_ratio_sup_limit(beta1: f64, beta2: f64) -> f64 {
    let q = beta1 * beta1 / beta2;
    if q >= 1.0 {
        f64::INFINITY
    } else {
        (1.0 - beta1) / ((1.0 - beta2) * (1.0 - q)).sqrt()
    }
}

/// |m̂_t/√v̂_t| when g_i = 0 for i < t and g_t ≠ 0.
pub fn adam_spike_ratio(beta1: f64, beta2: f64, t: u64) -> f64 {
    let tf = t as f64;
    (1.0 - beta1) / (1.0 - beta2).sqrt() * (1.0 - beta2.powf(tf)).sqrt() / (1.0 - beta1.powf(tf))
}

/// The sequence g_1..g_t attaining [`adam_ratio_sup`]: g_i = (β₁/β₂)^{t−i}.
pub fn adam_worst_sequence(beta1: f64, beta2: f64, t: u64) -> Vec<f64> {
    (1..=t).map(|i| (beta1 / beta2).powf((t - i) as f64)).collect()
}

/// Kingma & Ba §2.1's printed bound on |Δ_t|/α: (1−β₁)/√(1−β₂) if 1−β₁ > √(1−β₂), else 1.
pub fn adam_printed_bound(beta1: f64, beta2: f64) -> f64 {
    let r = (1.0 - beta1) / (1.0 - beta2).sqrt();
    if r > 1.0 {
        r
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_at_closed_form() {
        let (a, b) = (3.0, 12.0);
        let c = balancing_scale(a, b);
        assert!((c * a - b / c).abs() < 1e-14 * b);
        assert!((decay_penalty(0.5, a, b, c) - 2.0 * 0.5 * a * b).abs() < 1e-13);
        let g = golden_section_log(&|x| decay_penalty(1.0, a, b, x), 1e-3, 1e3, 200);
        assert!((g - c).abs() < 1e-7 * c);
    }

    #[test]
    fn ratio_sup_at_t1_is_one_and_limit_matches() {
        assert!((adam_ratio_sup(0.9, 0.999, 1) - 1.0).abs() < 1e-15);
        let l = adam_ratio_sup_limit(0.9, 0.999);
        assert!((adam_ratio_sup(0.9, 0.999, 200_000) - l).abs() < 1e-9 * l);
        assert!((adam_spike_ratio(0.9, 0.999, 1) - 1.0).abs() < 1e-15);
    }
}
