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
//! [`vectorised`] compiles the loop a second time for AVX2 and picks that copy at run time
//! when the CPU has it (x86-64 builds target SSE2 by default, which halves the throughput of
//! `÷` and `√`, the bottleneck of Adam-type steps at sizes that fit in the caches).

/// Run `body` compiled for AVX2 when the CPU supports it (once detected, a load and a branch
/// per call), else as compiled for the build target. The result is bit-identical either way
/// (see the module documentation).
#[inline(always)]
pub(crate) fn vectorised<R>(body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        /// `body`, inlined into a function compiled with AVX2 enabled.
        #[target_feature(enable = "avx2")]
        fn avx2<R>(body: impl FnOnce() -> R) -> R {
            body()
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked on the line above).
            return unsafe { avx2(body) };
        }
    }
    body()
}

/// [`vectorised`] for `len` ≥ [`SMALL`]; below, `body` runs as compiled for the build target,
/// inlined (at n = 10 the call into the AVX2 copy and its feature test cost more than the
/// wider vectors save). The same bits either way.
#[inline(always)]
pub(crate) fn vectorised_unless_small<R>(len: usize, body: impl FnOnce() -> R) -> R {
    if len < SMALL {
        body()
    } else {
        vectorised(body)
    }
}

/// The length from which [`vectorised_unless_small`] calls the AVX2 copy.
pub(crate) const SMALL: usize = 32;

/// As [`vectorised`], for a body with two forms: `fast` may use fused multiply-adds
/// ([`f64::mul_add`]) and runs, compiled with AVX2 and FMA enabled, when the CPU has both;
/// otherwise `plain` runs as [`vectorised`] would run it (without FMA hardware `mul_add` is a
/// slow library call). The two forms must compute the same bits (see [`div_exact`]).
/// Both receive `args` (the buffers they sweep).
#[inline(always)]
pub(crate) fn vectorised_fma<A, R>(args: A, fast: impl FnOnce(A) -> R, plain: impl FnOnce(A) -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        /// `body(args)`, inlined into a function compiled with AVX2 and FMA enabled.
        #[target_feature(enable = "avx2,fma")]
        fn avx2_fma<A, R>(args: A, body: impl FnOnce(A) -> R) -> R {
            body(args)
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked on the line above).
            return unsafe { avx2_fma(args, fast) };
        }
    }
    vectorised(
        #[inline(always)]
        || plain(args),
    )
}

/// `a / b`, correctly rounded, bit for bit, without a division: `inv_b` = RN(1/b) is computed
/// once per step, and `a·inv_b` is corrected twice by the remainder `a − b·q` (each an exact
/// FMA). The divider of a core is the bottleneck of an Adam step that fits in the caches
/// (AVX2, f64: a `÷` or `√` of 4 lanes every 8–12 cycles, against 2 FMAs per cycle), and Adam's
/// Algorithm 1 divides twice per coordinate by a constant of the step (1 − β₁ᵗ, 1 − β₂ᵗ).
///
/// **Why the bits are those of `a / b`.** Precision p = 53, round to nearest even, b in
/// [2⁻⁵³, 1] with significand B in [1, 2), inv_b = RN(1/b). q₁ = RN(a·inv_b) is within 2 ulps of
/// a/b, so q₁ + r₁·inv_b with r₁ = RN(a − b q₁) is within 2⁻⁵⁰ ulp of a/b and q₂, its rounding,
/// is one of the two floating-point neighbours of a/b (faithful). Then r₂ = a − b q₂ is exactly
/// representable (the FMA computes it exactly), and q₂ + r₂·inv_b = a/b + r₂(inv_b − 1/b). A
/// quotient of two p-bit numbers is at least 2⁻ᵖ ulp/B away from every midpoint between two
/// floating-point numbers, and the perturbation |r₂(inv_b − 1/b)| ≤ B(½ ulp + d)2⁻ᵖ⁻¹ stays below
/// that distance d, so the last FMA rounds to RN(a/b) (Markstein's theorem; Muller et al.,
/// *Handbook of Floating-Point Arithmetic*, on division with an FMA). The argument needs exact
/// remainders (no underflow) and no overflow of q₁: it holds for a = 0 or 2⁻⁹⁰⁰ ≤ |a| ≤ 2⁹⁰⁰
/// ([`div_exact_applies`]), and the caller divides by `/` otherwise. A zero `a` returns `a`
/// (the FMAs would turn −0 into +0; `a / b` is `a`). The tests below compare it with `/` on
/// random operands and on quotients next to midpoints.
#[inline(always)]
pub(crate) fn div_exact(a: f64, b: f64, inv_b: f64) -> f64 {
    let q1 = a * inv_b;
    let r1 = (-q1).mul_add(b, a);
    let q2 = r1.mul_add(inv_b, q1);
    let r2 = (-q2).mul_add(b, a);
    let q3 = r2.mul_add(inv_b, q2);
    if a == 0.0 {
        a
    } else {
        q3
    }
}

/// Whether [`div_exact`] may divide `a` (by a b in [2⁻⁵³, 1]): a = ±0 or 2⁻⁹⁰⁰ ≤ |a| ≤ 2⁹⁰⁰
/// (false for NaN and ±∞).
#[inline(always)]
#[allow(clippy::manual_range_contains)] // `&` and `|` without short circuit: no branch in a sweep
pub(crate) fn div_exact_applies(a: f64) -> bool {
    let abs = a.abs();
    ((abs >= DIV_EXACT_MIN) & (abs <= DIV_EXACT_MAX)) | (a == 0.0)
}

/// 2⁻⁹⁰⁰ and 2⁹⁰⁰: the range of |a| where [`div_exact`] is `/` (far from underflow in the
/// remainders, 2⁻¹⁰²², and from overflow of a·(1/b) ≤ 2⁹⁵³).
const DIV_EXACT_MIN: f64 = f64::from_bits((1023 - 900) << 52);
const DIV_EXACT_MAX: f64 = f64::from_bits((1023 + 900) << 52);

/// The first index of a non-finite entry of `v`, if any. One vectorised pass that tells
/// whether there is one ([`scan`]: an `|` of "not finite", no early exit inside a block); the
/// position is searched, from the start, only when there is.
#[inline]
pub(crate) fn first_non_finite(v: &[f64]) -> Option<usize> {
    let bad = vectorised_unless_small(
        v.len(),
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
    let (max, finite) = vectorised_unless_small(
        v.len(),
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
            *acc = v[k * part + start..][..BLOCK]
                .iter()
                .fold(*acc, |a, &x| fold(a, x));
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

    /// The divisors of the tests: every 1 − βᵗ of the usual β and small t, the ends of [2⁻⁵³, 1],
    /// and random ones.
    fn divisors(rng: &mut impl FnMut() -> u64) -> Vec<f64> {
        let mut bs = vec![1.0, 0.5, f64::EPSILON / 2.0, 1.0 - f64::EPSILON / 2.0, 0.1, 0.001];
        for beta in [0.9_f64, 0.99, 0.999, 0.9999, 0.5, 1.0 - f64::EPSILON / 2.0] {
            for t in [1_u32, 2, 3, 7, 10, 100, 1000, 12345] {
                bs.push(1.0 - beta.powf(t as f64));
            }
        }
        for _ in 0..200 {
            // Uniform in exponent over [2^-53, 1).
            let e = rng() % 53;
            bs.push(f64::from_bits(((1022 - e) << 52) | (rng() >> 12)));
        }
        bs.retain(|&b| (f64::EPSILON / 2.0..=1.0).contains(&b));
        bs
    }

    fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    fn assert_div_exact(a: f64, b: f64) {
        assert!(div_exact_applies(a));
        let inv = 1.0 / b;
        let (got, want) = (div_exact(a, b, inv), a / b);
        assert_eq!(
            got.to_bits(),
            want.to_bits(),
            "{a:e} / {b:e}: {got:e} vs {want:e}"
        );
    }

    #[test]
    fn div_exact_is_division_on_random_operands() {
        let mut rng = xorshift(0x9e37_79b9_7f4a_7c15);
        for b in divisors(&mut rng) {
            for _ in 0..4000 {
                // Random sign, significand and exponent over the whole range it applies to.
                let e = 1023 - 900 + rng() % 1800;
                let a = f64::from_bits((rng() & (1 << 63)) | (e << 52) | (rng() >> 12));
                assert_div_exact(a, b);
            }
            for a in [0.0, -0.0, DIV_EXACT_MIN, -DIV_EXACT_MAX, 1.0, -3.0, 1e-8, 0.02] {
                assert_div_exact(a, b);
            }
        }
    }

    #[test]
    fn div_exact_is_division_next_to_midpoints() {
        // a = RN(b·M) for M a midpoint between two neighbouring doubles: a/b lies as close to a
        // rounding boundary as a quotient can, where a rounding error of the FMA sequence would
        // show first. Also the neighbours of such a.
        let mut rng = xorshift(0x2545_f491_4f6c_dd1d);
        let mut near_boundary = 0;
        for b in divisors(&mut rng) {
            for _ in 0..3000 {
                let e = 1023 - 800 + rng() % 1601;
                let q = f64::from_bits((e << 52) | (rng() >> 12));
                let mid = q + (q.next_up() - q) / 2.0; // exact: one more bit
                let a0 = b * mid;
                for a in [a0, a0.next_up(), a0.next_down(), -a0] {
                    if !div_exact_applies(a) {
                        continue;
                    }
                    assert_div_exact(a, b);
                    let quotient = a / b;
                    if (quotient * b - a).abs() > 0.0 {
                        near_boundary += 1;
                    }
                }
            }
        }
        assert!(near_boundary > 100_000, "{near_boundary}");
    }

    #[test]
    fn div_exact_applies_only_inside_its_range() {
        for a in [0.0, -0.0, 1.0, -1e-270, 1e270, DIV_EXACT_MIN, -DIV_EXACT_MAX] {
            assert!(div_exact_applies(a), "{a:e}");
        }
        for a in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN_POSITIVE,
            -5e-324,
            DIV_EXACT_MIN.next_down(),
            DIV_EXACT_MAX.next_up(),
        ] {
            assert!(!div_exact_applies(a), "{a:e}");
        }
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
