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
