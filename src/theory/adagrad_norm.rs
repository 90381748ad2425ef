//! # AdaGrad-Norm: iteration counts and lemma quantities (Ward, Wu, Bottou)
//!
//! Closed forms of Ward, Wu & Bottou, JMLR 21 (2020) (arXiv:1806.01811), with η = 1 (the
//! lecture's form) and Δ = F(x₀) − F*. Numbers refer to the JMLR version, read from its PDF.
//!
//! * Theorem 2.2 (deterministic AdaGrad-Norm), regime $b_0 \ge \eta L$:
//!   $$N = 1 + \left\lceil \frac{4\Delta^2 + 2b_0\Delta}{\varepsilon} \right\rceil
//!   = 1 + \left\lceil \frac{2\Delta(b_0 + 2\Delta)}{\varepsilon} \right\rceil,$$
//!   regime $b_0 < \eta L$, with $C_{b_0} = 1 + 2\log(L/b_0)$:
//!   $$N = 1 + \left\lceil \frac{2L\Delta + (2\Delta + LC_{b_0})^2 + L^2(1 + C_{b_0}) - b_0^2}{\varepsilon}\right\rceil,$$
//!   after which $\min_{j \in \[N\]}\Vert\nabla F(x_j)\Vert^2 \le \varepsilon$, $\[N\] = \\{0, \dots, N\\}$.
//! * The lecture's regime-$b_0 < L$ count (an earlier arXiv version's, which we could not
//!   read; see the card):
//!   $$T = 1 + \left\lceil \frac{L^2 - b_0^2 + 4\big(\Delta + (\tfrac34 + \log\tfrac{L}{b_0})L\big)^2}{\varepsilon}\right\rceil.$$
//!   Its numerator is the JMLR numerator plus exactly $L^2/4$
//!   ($4(\Delta + (\tfrac34 + \ell)L)^2 = (2\Delta + CL)^2 + 2L\Delta + CL^2 + L^2/4$, $C = 1 + 2\ell$),
//!   so $T \ge N$: the JMLR count is the stricter one.
//! * Lemma 2.1, constant step $1/b$, $b \ge L$: $N = 2b\Delta/\varepsilon$ (we use its ceiling);
//!   for $L/2 < b < L$ the descent lemma gives $N = \lceil b^2\Delta/(\varepsilon(b - L/2)) \rceil$
//!   (not in the paper).
//! * Lemma 4.1 (the N-lemma): $N = \lceil (C^2 - b_0^2)/\varepsilon \rceil + 1$, used with $C = L$.
//! * Lemma 3.2 and the square-root form: $\sum_\ell a_\ell/S_\ell$ and $\sum_\ell a_\ell/\sqrt{S_\ell}$,
//!   $S_\ell = \sum_{i\le\ell} a_i$.
//!
//! ## Exact ceilings
//! Every input is an f64, hence a dyadic rational: the rational parts are evaluated exactly
//! with `num-rational` (`BigRational::from_float`), so no ceiling is off by one from rounding.
//! The only irrational ingredient, $\log(L/b_0)$, is enclosed between the f64 logarithm minus
//! and plus 4 ulps (`ln` is faithfully rounded, error < 1 ulp; 4 leaves a margin for the
//! division $L/b_0$, ≤ ½ ulp of the argument, i.e. ≤ u relative before the log, which moves the
//! log by ≤ u absolute ≤ 1 ulp when |log| ≥ ½, and we add an absolute 2u for |log| < ½),
//! and both ceilings are returned: [`Ceil::lo`] ≤ exact ≤ [`Ceil::hi`].
//!
//! ## References
//! * R. Ward, X. Wu, L. Bottou, *AdaGrad stepsizes: sharp convergence over nonconvex
//!   landscapes*, JMLR 21(219) (2020) 1–30, <http://jmlr.org/papers/v21/18-352.html>
//!   (arXiv:1806.01811): Theorem 2.2 (p. 8), Lemma 2.1 (p. 9), Lemma 3.2 (p. 9),
//!   Lemmas 4.1–4.2 (p. 15).

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};

/// An integer known to lie in `[lo, hi]` (equal when the computation is exact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceil {
    pub lo: BigInt,
    pub hi: BigInt,
}

impl Ceil {
    fn exact(v: BigInt) -> Self {
        Ceil { lo: v.clone(), hi: v }
    }
    /// Lower end as u64, saturating (negative values give 0).
    pub fn lo_u64(&self) -> u64 {
        sat_u64(&self.lo)
    }
    /// Upper end as u64, saturating.
    pub fn hi_u64(&self) -> u64 {
        sat_u64(&self.hi)
    }
    /// Whether the enclosure is a single integer.
    pub fn is_exact(&self) -> bool {
        self.lo == self.hi
    }
}

fn sat_u64(v: &BigInt) -> u64 {
    if v.is_negative() {
        0
    } else {
        v.to_u64().unwrap_or(u64::MAX)
    }
}

/// The exact rational value of a finite f64 (panics only on NaN/∞, which callers exclude).
pub fn rat(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite f64")
}

fn ceil(q: &BigRational) -> BigInt {
    q.ceil().to_integer()
}

/// Theorem 2.2 (JMLR), regime $b_0 \ge L$ (η = 1): $1 + \lceil (4\Delta^2 + 2b_0\Delta)/\varepsilon\rceil$,
/// the same as the lecture's $1 + \lceil 2\Delta(b_0 + 2\Delta)/\varepsilon\rceil$.
pub fn batch_iterations_large_b0(gap: f64, b0: f64, eps: f64) -> BigInt {
    let g = rat(gap);
    let two = BigRational::from_integer(2.into());
    let q = &two * &g * (rat(b0) + &two * &g) / rat(eps);
    ceil(&q) + 1
}

/// The f64 logarithm of L/b₀ and its enclosure half-width (module doc).
fn log_enclosure(l: f64, b0: f64) -> (f64, f64) {
    let lg = (l / b0).ln();
    let ulp = |x: f64| {
        let a = x.abs();
        f64::from_bits(a.to_bits() + 1) - a
    };
    (lg, 4.0 * ulp(lg) + 2.0 * crate::prec::UNIT_ROUNDOFF)
}

/// Evaluate an iteration count that increases with log(L/b₀) at both ends of the log's
/// enclosure.
fn enclose(l: f64, b0: f64, at: impl Fn(f64) -> BigInt) -> Ceil {
    let (lg, slack) = log_enclosure(l, b0);
    let (a, b) = (at(lg - slack), at(lg + slack));
    Ceil {
        lo: a.clone().min(b.clone()),
        hi: a.max(b),
    }
}

/// Theorem 2.2 (JMLR), regime $b_0 < L$ (η = 1), $C = 1 + 2\log(L/b_0)$:
/// $1 + \lceil (2L\Delta + (2\Delta + LC)^2 + L^2(1 + C) - b_0^2)/\varepsilon\rceil$,
/// enclosed because of the logarithm (module doc). Increasing in the log (C > 1 for b₀ < L).
pub fn batch_iterations_small_b0(gap: f64, l: f64, b0: f64, eps: f64) -> Ceil {
    enclose(l, b0, |log_value| {
        let (lr, br, g) = (rat(l), rat(b0), rat(gap));
        let (one, two) = (
            BigRational::from_integer(1.into()),
            BigRational::from_integer(2.into()),
        );
        let c = &one + &two * rat(log_value);
        let square = &two * &g + &lr * &c;
        let q = (&two * &lr * &g + &square * &square + &lr * &lr * (&one + &c) - &br * &br) / rat(eps);
        ceil(&q) + 1
    })
}

/// The lecture's regime-$b_0 < L$ count (η = 1):
/// $1 + \lceil (L^2 - b_0^2 + 4(\Delta + (3/4 + \log(L/b_0))L)^2)/\varepsilon\rceil$,
/// enclosed because of the logarithm. Its numerator exceeds Theorem 2.2's by exactly L²/4.
pub fn batch_iterations_small_b0_lecture(gap: f64, l: f64, b0: f64, eps: f64) -> Ceil {
    enclose(l, b0, |log_value| {
        let (lr, br) = (rat(l), rat(b0));
        let three_quarters = BigRational::new(3.into(), 4.into());
        let inner = rat(gap) + (three_quarters + rat(log_value)) * &lr;
        let four = BigRational::from_integer(4.into());
        let q = (&lr * &lr - &br * &br + four * &inner * &inner) / rat(eps);
        ceil(&q) + 1
    })
}

/// Theorem 2.2 (JMLR) in either regime.
pub fn batch_iterations(gap: f64, l: f64, b0: f64, eps: f64) -> Ceil {
    if b0 >= l {
        Ceil::exact(batch_iterations_large_b0(gap, b0, eps))
    } else {
        batch_iterations_small_b0(gap, l, b0, eps)
    }
}

/// The lecture's count in either regime (the b₀ ≥ L regime is the same as Theorem 2.2's).
pub fn batch_iterations_lecture(gap: f64, l: f64, b0: f64, eps: f64) -> Ceil {
    if b0 >= l {
        Ceil::exact(batch_iterations_large_b0(gap, b0, eps))
    } else {
        batch_iterations_small_b0_lecture(gap, l, b0, eps)
    }
}

/// Lemma 2.1 (JMLR), constant step 1/b with b ≥ L: "min over $j \in [N-1]$ after at most
/// $N = 2b\Delta/\varepsilon$ steps"; as an integer count, $\lceil 2b\Delta/\varepsilon\rceil$
/// iterates $x_0..x_{N-1}$ (the descent lemma gives $\sum_{j<K}\Vert g_j\Vert^2 \le 2b\Delta$).
pub fn constant_step_iterations(gap: f64, b: f64, eps: f64) -> BigInt {
    let two = BigRational::from_integer(2.into());
    ceil(&(two * rat(b) * rat(gap) / rat(eps)))
}

/// Constant step 1/b with L/2 < b (descent lemma: $F_{j+1} \le F_j - \tfrac1b(1 - \tfrac{L}{2b})\Vert g_j\Vert^2$):
/// $\lceil b^2\Delta/(\varepsilon(b - L/2))\rceil$; equals [`constant_step_iterations`] at b = L.
/// `None` when b ≤ L/2 (no guarantee).
pub fn constant_step_iterations_descent(gap: f64, l: f64, b: f64, eps: f64) -> Option<BigInt> {
    let br = rat(b);
    let half_l = rat(l) / BigRational::from_integer(2.into());
    let margin = &br - half_l;
    if !margin.is_positive() {
        return None;
    }
    Some(ceil(&(&br * &br * rat(gap) / (rat(eps) * margin))))
}

/// Lemma 4.1 (JMLR, the N-lemma) with C = L: $N = \lceil (L^2 - b_0^2)/\varepsilon\rceil + 1$
/// (exact; may be ≤ 0 when $b_0 > L$).
pub fn n_lemma_iterations(l: f64, b0: f64, eps: f64) -> BigInt {
    let (lr, br) = (rat(l), rat(b0));
    ceil(&((&lr * &lr - &br * &br) / rat(eps))) + 1
}

/// The smallest M such that "$a_k > \varepsilon$ for all $k < M$ ⇒ $b_M \ge L$" holds for every
/// sequence: $\max(0, \lceil (L^2 - b_0^2)/\varepsilon\rceil)$ (exact), one less than the
/// lemma's N. Reason: $b_M^2 = b_0^2 + \sum_{k<M} a_k > b_0^2 + M\varepsilon$, and the
/// sequence $a_k = \varepsilon + \delta$, δ → 0, shows $M - 1$ is not enough.
pub fn n_lemma_minimal_iterations(l: f64, b0: f64, eps: f64) -> BigInt {
    let (lr, br) = (rat(l), rat(b0));
    let v = ceil(&((&lr * &lr - &br * &br) / rat(eps)));
    if v.is_negative() {
        BigInt::zero()
    } else {
        v
    }
}

/// $b_N^2 = b_0^2 + \sum_{k<N} a_k$ exactly (rational), for the N-lemma check.
pub fn b_squared_exact(b0: f64, a: &[f64]) -> BigRational {
    let br = rat(b0);
    a.iter().fold(&br * &br, |s, &x| s + rat(x))
}

/// $b_0^2 + n\\,a$ exactly (the N-lemma's adversarial constant sequences, without summing n terms).
pub fn b_squared_exact_constant(b0: f64, a: f64, n: usize) -> BigRational {
    let br = rat(b0);
    &br * &br + rat(a) * BigRational::from_integer(BigInt::from(n))
}

/// Left and right sides of the summation lemmas, in f64, with a relative error bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SumLemma {
    /// $\sum_\ell a_\ell / S_\ell$.
    pub log_lhs: f64,
    /// $\log S_T + 1$ (as printed).
    pub log_rhs_printed: f64,
    /// $\log(S_T/a_1) + 1$ (scale-invariant form, holds for every a₁ > 0).
    pub log_rhs_ratio: f64,
    /// $\sum_\ell a_\ell/\sqrt{S_\ell}$.
    pub sqrt_lhs: f64,
    /// $2\sqrt{S_T}$.
    pub sqrt_rhs: f64,
    /// Relative error bound of each computed side: the partial sums of T non-negative terms
    /// have relative error ≤ γ_T (Higham Lemma 3.1, all terms of one sign); one division or
    /// square root adds u, the outer sum of non-negative terms γ_T again, the log adds 2u
    /// absolute (handled by the caller's absolute slack). Total ≤ γ_{2T+3}.
    pub rel_err: f64,
}

/// Evaluate both summation lemmas on `a` (non-negative, a₁ > 0, not empty).
pub fn summation_lemmas(a: &[f64]) -> SumLemma {
    let mut s = 0.0;
    let (mut log_lhs, mut sqrt_lhs) = (0.0, 0.0);
    for &x in a {
        s += x;
        log_lhs += x / s;
        sqrt_lhs += x / s.sqrt();
    }
    SumLemma {
        log_lhs,
        log_rhs_printed: s.ln() + 1.0,
        log_rhs_ratio: (s / a[0]).ln() + 1.0,
        sqrt_lhs,
        sqrt_rhs: 2.0 * s.sqrt(),
        rel_err: crate::prec::gamma(2 * a.len() + 3),
    }
}

/// `lhs ≤ rhs` beyond rounding: false only if `lhs·(1 − rel) > rhs + |rhs|·rel + abs`.
pub fn le_within(lhs: f64, rhs: f64, rel: f64, abs: f64) -> bool {
    lhs * (1.0 - rel) <= rhs + rhs.abs() * rel + abs
}

/// `lhs > rhs` certainly (beyond the same rounding allowance).
pub fn gt_certain(lhs: f64, rhs: f64, rel: f64, abs: f64) -> bool {
    !le_within(lhs, rhs, rel, abs)
}

/// As exact rationals, to f64 (nearest or one ulp off; only used for display).
pub fn to_f64(q: &BigRational) -> f64 {
    q.to_f64().unwrap_or(f64::NAN)
}

/// The lecture's literal (implicit) step on f = λx²/2 in one dimension:
/// x₁ = x₀ − λx₁/b₁ with b₁² = b₀² + (λx₁)², i.e. the gradient taken at the point being
/// computed. h(x₁) = x₁(1 + λ/√(b₀² + λ²x₁²)) − x₀ is strictly increasing (h′ =
/// 1 + λb₀²/(b₀² + λ²x₁²)^{3/2} > 0), so for x₀ > 0 its unique root lies in [0, x₀] and 200
/// bisection steps find it to the last bit. Returns (x₁, b₁).
pub fn implicit_step_1d(lambda: f64, b0: f64, x0: f64) -> (f64, f64) {
    let h = |x1: f64| x1 * (1.0 + lambda / (b0 * b0 + lambda * lambda * x1 * x1).sqrt()) - x0;
    let (mut lo, mut hi) = (0.0, x0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if h(mid) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let x1 = 0.5 * (lo + hi);
    (x1, (b0 * b0 + lambda * lambda * x1 * x1).sqrt())
}

/// Which accumulator divides the gradient in a reference AdaGrad-Norm step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepDivisor {
    /// θ_k = θ_{k−1} − η g/b_k, b_k² = b_{k−1}² + ‖g‖² (Ward et al. Algorithm 1).
    Updated,
    /// θ_k = θ_{k−1} − η g/b_{k−1} (the accumulator before this gradient is added).
    Previous,
}

/// One explicit AdaGrad-Norm step written out by hand (a reference recursion independent of
/// `crate::optim`): `b_sq += ‖g‖²` (left-to-right sum of squares), then
/// `x[i] -= eta·(g[i]/b)` with b = √b_sq after ([`StepDivisor::Updated`]) or before
/// ([`StepDivisor::Previous`]) the update.
pub fn reference_step(x: &mut [f64], b_sq: &mut f64, g: &[f64], eta: f64, divisor: StepDivisor) {
    let before = b_sq.sqrt();
    *b_sq += g.iter().fold(0.0, |acc, v| acc + v * v);
    let b = match divisor {
        StepDivisor::Updated => b_sq.sqrt(),
        StepDivisor::Previous => before,
    };
    for (xi, gi) in x.iter_mut().zip(g) {
        *xi -= eta * (gi / b);
    }
}

/// The N-lemma's count N = ⌈(L² − b₀²)/ε⌉ + 1 evaluated in f64, as a reader with a calculator
/// would: `((l*l - b0*b0)/eps).ceil() + 1`. It can differ from the exact
/// [`n_lemma_iterations`] when the exact quotient is within rounding of an integer.
pub fn n_lemma_iterations_f64(l: f64, b0: f64, eps: f64) -> f64 {
    ((l * l - b0 * b0) / eps).ceil() + 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_b0_ceiling_is_exact_where_f64_is_not() {
        // 2·0.1·(1 + 0.2)/0.024: the f64 quotient rounds to 10.000000000000002 whose
        // ceiling is 11; the exact value of the binary inputs decides instead.
        let exact = batch_iterations_large_b0(0.1, 1.0, 0.024);
        let float = 1.0 + (2.0 * 0.1 * (1.0 + 2.0 * 0.1) / 0.024_f64).ceil();
        let q = rat(2.0) * rat(0.1) * (rat(1.0) + rat(2.0) * rat(0.1)) / rat(0.024);
        assert_eq!(exact, q.ceil().to_integer() + 1);
        assert!((to_f64(&BigRational::from_integer(exact.clone())) - float).abs() <= 1.0);
    }

    #[test]
    fn small_b0_enclosure_is_tight_and_ordered() {
        let c = batch_iterations_small_b0_lecture(0.5, 1.0, 0.1, 1e-3);
        assert!(c.lo <= c.hi);
        assert!(&c.hi - &c.lo <= BigInt::from(1));
        // Hand value: 1 + ⌈1e3(1 − 0.01 + 4(0.5 + 0.75 + ln 10)²)⌉ ≈ 1 + ⌈1e3·51.47…⌉.
        let approx = 1.0 + 1e3 * (1.0 - 0.01 + 4.0 * (0.5 + 0.75 + 10f64.ln()).powi(2));
        assert!((c.lo_u64() as f64 - approx).abs() <= 2.0);
    }

    #[test]
    fn jmlr_small_b0_hand_value() {
        // Theorem 2.2(2), η = 1, L = 1, b₀ = 0.1, Δ = 0.5, ε = 1e-3, C = 1 + 2 ln 10:
        // 1 + ⌈1e3(2·0.5 + (1 + C)² + (1 + C) − 0.01)⌉ ≈ 1 + ⌈1e3·51.22…⌉.
        let c = batch_iterations_small_b0(0.5, 1.0, 0.1, 1e-3);
        assert!(c.lo <= c.hi && &c.hi - &c.lo <= BigInt::from(1));
        let cc = 1.0 + 2.0 * 10f64.ln();
        let approx = 1.0 + 1e3 * (1.0 + (1.0 + cc).powi(2) + (1.0 + cc) - 0.01);
        assert!((c.lo_u64() as f64 - approx).abs() <= 2.0, "{c:?} vs {approx}");
    }

    #[test]
    fn lecture_count_exceeds_jmlr_by_l_squared_over_four_eps() {
        // Both counts are evaluated at the same two log values, so when L²/(4ε) is an integer
        // m the ceilings differ by exactly m (⌈x + m⌉ = ⌈x⌉ + m).
        for (gap, l, b0, k) in [(0.5, 1.0, 0.1, 10), (3.0, 2.0, 1e-3, 4), (1e-3, 0.5, 0.49, 12)] {
            let eps = 2f64.powi(-k);
            let m = BigInt::from((l * l / (4.0 * eps)) as u64);
            assert_eq!(
                rat(l) * rat(l) / (rat(4.0) * rat(eps)),
                BigRational::from_integer(m.clone())
            );
            let (paper, lecture) = (
                batch_iterations_small_b0(gap, l, b0, eps),
                batch_iterations_small_b0_lecture(gap, l, b0, eps),
            );
            assert_eq!(&lecture.lo - &paper.lo, m);
            assert_eq!(&lecture.hi - &paper.hi, m);
        }
    }

    #[test]
    fn n_lemma_counts() {
        assert_eq!(n_lemma_iterations(2.0, 1.0, 1.0), BigInt::from(4));
        assert_eq!(n_lemma_minimal_iterations(2.0, 1.0, 1.0), BigInt::from(3));
        assert_eq!(n_lemma_minimal_iterations(1.0, 2.0, 1.0), BigInt::zero());
        // b₀ > L: the printed count is 1 for L² < b₀² < L² + ε and ≤ 0 beyond (never clamped).
        assert_eq!(n_lemma_iterations(1.0, 1.25, 1.0), BigInt::from(1));
        assert_eq!(n_lemma_iterations(1.0, 2.0, 1.0), BigInt::from(-2));
        assert_eq!(n_lemma_iterations_f64(1.0, 2.0, 1.0), -2.0);
    }

    #[test]
    fn constant_step_forms_agree_at_b_equal_l() {
        assert_eq!(
            constant_step_iterations(0.7, 3.0, 1e-3),
            constant_step_iterations_descent(0.7, 3.0, 3.0, 1e-3).unwrap()
        );
        assert!(constant_step_iterations_descent(1.0, 2.0, 1.0, 1e-3).is_none());
    }

    #[test]
    fn implicit_step_solves_its_equation_and_differs_from_the_explicit_one() {
        let (x1, b1) = implicit_step_1d(1.0, 1.0, 1.0);
        assert!((x1 - (1.0 - x1 / b1)).abs() <= 4.0 * f64::EPSILON);
        assert!((x1 - (1.0 - 1.0 / 2f64.sqrt())).abs() > 0.2);
    }

    #[test]
    fn reference_step_divisors() {
        let (mut x, mut b_sq) = (vec![1.0], 0.0);
        reference_step(&mut x, &mut b_sq, &[3.0], 1.0, StepDivisor::Updated);
        assert_eq!((x[0], b_sq), (0.0, 9.0));
        let (mut x, mut b_sq) = (vec![1.0], 1.0);
        reference_step(&mut x, &mut b_sq, &[3.0], 1.0, StepDivisor::Previous);
        assert_eq!((x[0], b_sq), (-2.0, 10.0));
    }

    #[test]
    fn n_lemma_f64_ceiling_can_differ_from_the_exact_one() {
        // b₀ = √(L² − 3ε) rounded: the exact quotient is 3 + tiny or 3 − tiny, the f64 one may
        // round onto 3; whichever way, both values are ⌈q⌉ + 1 of nearby numbers.
        let (l, eps) = (1.0, 0.1);
        let b0 = (1.0f64 - 0.3).sqrt();
        let exact = n_lemma_iterations(l, b0, eps);
        let float = n_lemma_iterations_f64(l, b0, eps);
        assert!((to_f64(&BigRational::from_integer(exact)) - float).abs() <= 1.0);
    }

    #[test]
    fn summation_lemma_single_term() {
        let s = summation_lemmas(&[0.01]);
        assert_eq!(s.log_lhs, 1.0);
        assert!(s.log_rhs_printed < 1.0);
        assert_eq!(s.log_rhs_ratio, 1.0);
        assert!((s.sqrt_lhs - 0.1).abs() < 1e-15);
    }
}
