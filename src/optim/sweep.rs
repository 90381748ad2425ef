//! # One pass over memory
//!
//! An element-wise step reads θ, g and the optimizer's state once and writes θ and the state
//! once; at 10⁶ parameters and beyond the vectors do not fit in the caches, so its speed is
//! the number of bytes it moves divided by the memory bandwidth. The optimizer files keep the
//! algorithm box of their paper as the body of one loop over the coordinates, and follow
//! three rules so that the loop runs at that limit:
//!
//! * **One sweep.** Every line of the box for coordinate i is computed before coordinate i + 1
//!   is touched: no scratch vector for the update, no second loop that applies it, no
//!   `g.clone()` for the decayed gradient.
//! * **Conventions are decided before the loop.** A convention (ε placement, AMSGrad, coupled
//!   decay, …) is a `const` generic parameter of the per-coordinate function, chosen once per
//!   step by a `match`; inside the loop the branch is gone and LLVM vectorises the body.
//! * **The same operations in the same order.** Vectorising an element-wise body changes no
//!   bit (IEEE `+ − × ÷ √` are correctly rounded in every vector width, and Rust never
//!   contracts `a * b + c` into an FMA), so the fused loops reproduce the unfused ones exactly;
//!   `tests/step_bits.rs` pins every variant's trajectory.
//!
//! [`vectorised`] compiles the loop a second time for AVX2 and FMA and picks that copy at run
//! time when the CPU has them (x86-64 builds target SSE2 by default, which halves the
//! throughput of `÷` and `√`, the bottleneck of Adam-type steps at sizes that fit in the
//! caches). Enabling FMA changes no existing operation: Rust emits an FMA only for an explicit
//! `mul_add`, and the one place that asks for it, [`Divisor`], uses it to produce exactly the
//! bits of a division.
//!
//! **Division by a step constant.** Adam divides both moments by the bias corrections
//! 1 − βᵗ, which are the same for every coordinate. The divider unit is the bottleneck of such
//! a loop (three divisions and a square root per coordinate, against two and a root in
//! PyTorch's fused kernel, which folds the corrections into other constants and so rounds
//! differently). [`Divisor`] computes the correctly rounded `a / b` for a constant b with one
//! multiplication and four FMAs (Markstein's correction, applied twice), which run on the
//! multiply-add ports beside the divider; the sweep checks that every coordinate of a chunk is
//! in the range where this is proved exact and divides the chunk the ordinary way if not.

/// Run `body` compiled for AVX2 and FMA when the CPU supports both ([`fma_available`]; once
/// detected, a load and a branch per call), else as compiled for the build target. The result
/// is bit-identical either way (see the module documentation).
#[inline(always)]
pub(crate) fn vectorised<R>(body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        /// `body`, inlined into a function compiled with AVX2 and FMA enabled.
        #[target_feature(enable = "avx2,fma")]
        fn avx2<R>(body: impl FnOnce() -> R) -> R {
            body()
        }
        if fma_available() {
            // SAFETY: the CPU supports AVX2 and FMA (checked on the line above).
            return unsafe { avx2(body) };
        }
    }
    body()
}

/// Whether [`vectorised`] runs its AVX2 + FMA copy, where `mul_add` is one instruction (else
/// it is a call into libm's software `fma`: correct, but far slower than a division).
#[inline(always)]
pub(crate) fn fma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A constant divisor b ∈ [2⁻⁶⁴, 1] with its reciprocal: [`Divisor::quotient`] returns the
/// bits of `a / b` (the correctly rounded quotient) for every `a` that [`Divisor::covers`],
/// without the divider.
///
/// With y = RN(1/b) (relative error < 2⁻ᵖ, p the precision) and q₀ = RN(a·y) (within 2 ulps
/// of a/b): r₀ = RN(q₀b − a) and q₁ = RN(q₀ − r₀y) put q₁ within ½ ulp + 4u·ulp of a/b, so q₁
/// is a faithful rounding of a/b; then, by Markstein's theorem (P. Markstein, IBM J. Res.
/// Dev. 34(1), 1990; J.-M. Muller et al., *Handbook of Floating-Point Arithmetic*, 2nd ed.,
/// §4.9), r₁ = q₁b − a is exact and q₂ = RN(q₁ − r₁y) = RN(a/b). The theorem assumes no
/// underflow or overflow: the residuals are multiples of ulp(b)·ulp(q), representable when
/// |a| ≥ 2^(e_min + p + 2) (then e_b + e_q ≥ e_min + p − 1, the condition for an FMA residual
/// to be exact), and q ≈ a/b stays finite when |a| ≤ b·max/8. Zeros keep their sign (the
/// residuals are written q·b − a so that −0 stays −0). Tested exhaustively over binades of
/// f32 and on random f64 in the tests below.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Divisor<T> {
    b: T,
    /// RN(1/b).
    y: T,
    /// The smallest and largest |a| [`Divisor::quotient`] is exact for (besides ±0).
    lo: T,
    hi: T,
}

impl<T: num_traits::Float> Divisor<T> {
    /// `None` if b ∉ [2⁻⁶⁴, 1] (or is NaN) or the CPU has no FMA (see [`fma_available`]):
    /// then divide.
    #[inline]
    pub(crate) fn new(b: T) -> Option<Self> {
        let min_b = T::from(2f64.powi(-64))?;
        if !(b >= min_b && b <= T::one()) || !fma_available() {
            return None;
        }
        let eight = T::from(8.0)?;
        Some(Divisor {
            b,
            y: T::one() / b,
            // 2^(e_min + p + 2) = min_positive · 8 / epsilon (epsilon = 2^(1 − p)).
            lo: T::min_positive_value() * eight / T::epsilon(),
            hi: b * (T::max_value() / eight),
        })
    }

    /// Whether [`Divisor::quotient`] is exact for `a`: ±0, or |a| ∈ [lo, hi] (false for NaN
    /// and ±∞). Branch-free, so that a loop over a chunk vectorises.
    #[inline(always)]
    pub(crate) fn covers(&self, a: T) -> bool {
        let abs = a.abs();
        (a == T::zero()) | ((abs >= self.lo) & (abs <= self.hi))
    }

    /// The bits of `a / b` when [`Divisor::covers`] `a` (unspecified otherwise).
    #[inline(always)]
    pub(crate) fn quotient(&self, a: T) -> T {
        let q0 = a * self.y;
        let r0 = q0.mul_add(self.b, -a);
        let q1 = (-r0).mul_add(self.y, q0);
        let r1 = q1.mul_add(self.b, -a);
        (-r1).mul_add(self.y, q1)
    }
}

/// The first index of a non-finite entry of `v`, if any. One vectorised pass that tells
/// whether there is one ([`scan`]: an `|` of "not finite", no early exit inside a block); the
/// position is searched, from the start, only when there is.
#[inline]
pub(crate) fn first_non_finite(v: &[f64]) -> Option<usize> {
    let bad = vectorised(
        #[inline(always)]
        || scan(v, false, |bad, x| bad | !x.is_finite(), |a, b| a | b),
    );
    if bad {
        v.iter().position(|x| !x.is_finite())
    } else {
        None
    }
}

/// The largest |vᵢ| as the bits of an f64, or a value ≥ [`INFINITY_BITS`] if some vᵢ is NaN
/// or infinite: one vectorised pass tells whether `v` is finite and, if so, bounds it
/// (RMSProp's overflow-free fast path). The maximum of |vᵢ| is exact, so the bits are those of
/// the largest |vᵢ| (0 for an empty `v`).
#[inline]
pub(crate) fn max_abs_bits(v: &[f64]) -> u64 {
    let (max, finite) = vectorised(
        #[inline(always)]
        || {
            scan(
                v,
                (0.0, true),
                |(max, finite), x| {
                    let a = x.abs();
                    // `a <= MAX` is false for NaN and ±∞.
                    (if a > max { a } else { max }, finite & (a <= f64::MAX))
                },
                |(m1, f1), (m2, f2)| (if m2 > m1 { m2 } else { m1 }, f1 & f2),
            )
        },
    );
    if finite {
        max.to_bits()
    } else {
        INFINITY_BITS
    }
}

/// `fold` over `v` in [`STREAMS`] interleaved ranges, `merge`d at the end: a read-only pass
/// over one sequential range keeps too few cache misses in flight to reach the memory
/// bandwidth (at 1.6·10⁷ f64 here a single stream reads at ≈ 8 GB/s, four at ≈ 14 GB/s, and
/// this check is a whole extra read of g per step). Only for `fold`s whose result does not
/// depend on the order (`|`, exact maxima).
#[inline(always)]
fn scan<A: Copy>(v: &[f64], init: A, fold: impl Fn(A, f64) -> A + Copy, merge: impl Fn(A, A) -> A) -> A {
    const BLOCK: usize = 64;
    let part = v.len() / STREAMS / BLOCK * BLOCK;
    let mut acc = [init; STREAMS];
    for start in (0..part).step_by(BLOCK) {
        for (k, acc) in acc.iter_mut().enumerate() {
            *acc = v[k * part + start..][..BLOCK].iter().fold(*acc, |a, &x| fold(a, x));
        }
    }
    let tail = v[STREAMS * part..].iter().fold(init, |a, &x| fold(a, x));
    acc.into_iter().fold(tail, merge)
}

/// Interleaved ranges of [`scan`].
const STREAMS: usize = 4;

/// The bits of +∞; larger values are NaNs.
pub(crate) const INFINITY_BITS: u64 = 0x7ff0_0000_0000_0000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_non_finite_finds_the_first_in_any_block() {
        let n = 1000;
        assert_eq!(first_non_finite(&vec![1.0; n]), None);
        assert_eq!(first_non_finite(&[]), None);
        for (at, bad) in [
            (0, f64::NAN),
            (255, f64::INFINITY),
            (256, f64::NEG_INFINITY),
            (999, f64::NAN),
        ] {
            let mut v = vec![1.0; n];
            v[at] = bad;
            if at + 300 < n {
                v[at + 300] = f64::NAN; // a later one must not be reported instead
            }
            assert_eq!(first_non_finite(&v), Some(at), "at {at}");
        }
    }

    #[test]
    fn max_abs_bits_bounds_finite_and_flags_non_finite() {
        let v = [0.5, -3.0, 2.0, -0.0, 1e-300];
        assert_eq!(f64::from_bits(max_abs_bits(&v)), 3.0);
        assert_eq!(max_abs_bits(&[]), 0);
        for bad in [f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(max_abs_bits(&[1.0, bad, -5.0]) >= INFINITY_BITS, "{bad}");
        }
        assert!(max_abs_bits(&[f64::MAX, -f64::MAX]) < INFINITY_BITS);
    }

    #[test]
    fn scans_see_every_stream_and_the_tail() {
        // 4 streams of 256 (4 blocks each) and a tail of 37.
        let n = 4 * 256 + 37;
        for at in [0, 255, 256, 600, 1023, 1024, n - 1] {
            let mut v: Vec<f64> = (0..n).map(|i| (i % 7) as f64 - 3.0).collect();
            v[at] = -1e300;
            assert_eq!(f64::from_bits(max_abs_bits(&v)), 1e300, "at {at}");
            v[at] = f64::NEG_INFINITY;
            assert!(max_abs_bits(&v) >= INFINITY_BITS, "at {at}");
            assert_eq!(first_non_finite(&v), Some(at), "at {at}");
            v[at] = f64::NAN;
            assert!(max_abs_bits(&v) >= INFINITY_BITS, "at {at}");
            assert_eq!(first_non_finite(&v), Some(at), "at {at}");
        }
    }

    /// Adam's bias corrections 1 − βᵗ at a few steps, and divisors with extreme significands.
    fn divisors_f64() -> Vec<f64> {
        let mut bs = vec![1.0, 0.5, 2f64.powi(-64), 1.0 - f64::EPSILON / 2.0, 0.1, 0.001, 0.7];
        for beta in [0.9f64, 0.999, 0.99, 0.5] {
            bs.extend([1, 2, 3, 10, 1000].map(|t| 1.0 - beta.powf(t as f64)));
        }
        bs.extend([f64::from_bits(0x3fef_ffff_ffff_ffff), f64::from_bits(0x3fe0_0000_0000_0001)]);
        bs
    }

    #[test]
    fn divisor_is_division_for_every_f32_of_a_binade() {
        // Every significand for bias corrections of β = 0.9 and 0.999 (t = 1, 3) and a divisor
        // with an all-ones significand; every 7th at the bottom of the covered range and
        // (negated) near its top; every 97th for the other divisors.
        let hard = [0.1f32, (1.0 - 0.9f64.powi(3)) as f32, 0.001, (1.0 - 0.999f64.powi(3)) as f32];
        let bs = divisors_f64()
            .into_iter()
            .map(|b| (b as f32, 97))
            .chain(hard.map(|b| (b, 1)))
            .chain([(f32::from_bits(0x3f7f_ffff), 1), (2f32.powi(-64), 97)]);
        for (b, stride) in bs {
            let Some(d) = Divisor::new(b) else {
                assert!(!fma_available(), "b = {b:e}");
                return;
            };
            let top = (d.hi.log2().floor() - 2.0).exp2();
            for (scale, stride) in [(1.0f32, stride), (d.lo, 7 * stride), (-top, 7 * stride)] {
                for bits in (0..1u32 << 23).step_by(stride) {
                    let a = f32::from_bits(0x3f80_0000 | bits) * scale;
                    assert!(d.covers(a), "{a:e} / {b:e}");
                    let (got, want) = (d.quotient(a), a / b);
                    assert_eq!(got.to_bits(), want.to_bits(), "{a:e} / {b:e}");
                }
            }
        }
    }

    #[test]
    fn divisor_is_division_for_random_f64() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        for b in divisors_f64() {
            let Some(d) = Divisor::new(b) else {
                assert!(!fma_available(), "b = {b:e}");
                return;
            };
            for _ in 0..400_000 {
                // Random significand and sign, exponent over the whole covered range.
                let e: i32 = rng.random_range(-966..=1019);
                let a = f64::from_bits(rng.random::<u64>() & 0x800f_ffff_ffff_ffff | 0x3ff0_0000_0000_0000)
                    * 2f64.powi(e);
                if !d.covers(a) {
                    continue;
                }
                assert_eq!(d.quotient(a).to_bits(), (a / b).to_bits(), "{a:e} / {b:e}");
            }
        }
    }

    #[test]
    fn divisor_covers_zeros_keeps_their_sign_and_rejects_the_rest() {
        for b in divisors_f64() {
            let Some(d) = Divisor::new(b) else {
                return;
            };
            for z in [0.0, -0.0] {
                assert!(d.covers(z));
                assert_eq!(d.quotient(z).to_bits(), (z / b).to_bits(), "{z} / {b:e}");
            }
            for a in [f64::NAN, f64::INFINITY, -f64::INFINITY, 1e-300, -f64::MIN_POSITIVE, 5e-324, f64::MAX] {
                assert!(!d.covers(a), "{a:e} / {b:e}");
            }
            assert!(d.covers(d.lo) && d.covers(-d.hi) && !d.covers(d.lo / 2.0));
        }
        assert!(Divisor::new(1.5).is_none() && Divisor::new(f64::NAN).is_none() && Divisor::new(1e-30).is_none());
    }

    #[test]
    fn vectorised_runs_the_body_once() {
        let mut calls = 0;
        let r = vectorised(|| {
            calls += 1;
            41 + 1
        });
        assert_eq!((r, calls), (42, 1));
    }
}
