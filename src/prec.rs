//! Named tolerances and the arguments behind them (after statrs' `prec` module).
//!
//! Every tolerance used by a test or a checker is built from these, so the argument is written
//! once. Notation: `u = f64::EPSILON / 2 ≈ 1.11e-16` is the unit roundoff of IEEE binary64 with
//! round-to-nearest; one correctly rounded operation has relative error at most `u`.
//!
//! * A step of an element-wise optimizer is a fixed, short chain of operations per coordinate
//!   (≤ 16 flops for Adam with bias correction). Running error analysis bounds the relative
//!   error of each coordinate of one step by `16u/(1-16u)`; we use [`STEP_REL`] = 32u to allow
//!   for `sqrt` and `powf`, which are correctly rounded (sqrt) or faithfully rounded (powf, ≤ 1
//!   ulp).
//! * A sum of `n` terms computed left to right has relative error at most
//!   `γ_n = n u / (1 - n u)` times the sum of absolute values ([`gamma`]).
//! * Over `t` steps, errors add at most linearly for contractive maps; [`trajectory_rel`]
//!   gives `STEP_REL · t`. For expansive or ill-conditioned maps a checker must argue its own
//!   bound (with the condition number) and say so next to it.

/// Unit roundoff of f64: `2^-53`.
pub const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;

/// Relative error bound for one element-wise optimizer step (see the module doc).
pub const STEP_REL: f64 = 32.0 * UNIT_ROUNDOFF;

/// Unit roundoff of f32 (IEEE binary32, round to nearest): `2^-24 ≈ 5.96e-8`. An f32 run
/// (a framework training in float32) rounds every operation with relative error at most this.
pub const UNIT_ROUNDOFF_F32: f64 = f32::EPSILON as f64 / 2.0;

/// [`STEP_REL`]'s argument in f32: one element-wise step of an f32 run has relative error at
/// most `32 u_f32 ≈ 1.9e-6` per coordinate.
pub const STEP_REL_F32: f64 = 32.0 * UNIT_ROUNDOFF_F32;

/// `γ_n = n u / (1 - n u)`: the classical bound (Higham, *Accuracy and Stability*, Lemma 3.1)
/// on the relative error of a length-`n` recursive sum or dot product, relative to the sum of
/// absolute values. Returns `f64::INFINITY` when `n u ≥ 1`.
pub fn gamma(n: usize) -> f64 {
    let nu = n as f64 * UNIT_ROUNDOFF;
    if nu >= 1.0 {
        f64::INFINITY
    } else {
        nu / (1.0 - nu)
    }
}

/// Relative error allowed after `t` steps of a non-expansive iteration: `STEP_REL · t`.
pub fn trajectory_rel(t: usize) -> f64 {
    STEP_REL * t.max(1) as f64
}

/// Distance between two f64 values in units in the last place (0 if they are bit-identical,
/// `u64::MAX` if either is NaN). Signed zeros are 0 ulps apart.
pub fn ulps_between(a: f64, b: f64) -> u64 {
    if a.is_nan() || b.is_nan() {
        return u64::MAX;
    }
    if a == b {
        return 0;
    }
    // Map the sign-magnitude bit pattern onto a monotone integer line.
    fn key(x: f64) -> i128 {
        let bits = x.to_bits() as i64;
        if bits < 0 {
            -((bits & i64::MAX) as i128)
        } else {
            bits as i128
        }
    }
    (key(a) - key(b)).unsigned_abs().min(u64::MAX as u128) as u64
}

/// `|a - b| ≤ rel · max(|a|, |b|)`, or both are exactly equal (covers 0 = 0).
pub fn rel_close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulps_of_adjacent_values_is_one() {
        let x = 1.0_f64;
        assert_eq!(ulps_between(x, f64::from_bits(x.to_bits() + 1)), 1);
        assert_eq!(ulps_between(-0.0, 0.0), 0);
        assert_eq!(
            ulps_between(f64::MIN_POSITIVE, -f64::MIN_POSITIVE),
            2 * f64::MIN_POSITIVE.to_bits()
        );
        assert_eq!(ulps_between(f64::NAN, 1.0), u64::MAX);
    }

    #[test]
    fn f32_unit_roundoff_is_half_an_ulp_of_one() {
        assert_eq!(UNIT_ROUNDOFF_F32, 2f64.powi(-24));
        // 1 + u_f32 rounds to 1 in f32 (ties to even), 1 + 2u_f32 does not.
        assert_eq!((1.0 + UNIT_ROUNDOFF_F32) as f32, 1.0f32);
        assert_ne!((1.0 + 2.0 * UNIT_ROUNDOFF_F32) as f32, 1.0f32);
        assert_eq!(STEP_REL_F32 / STEP_REL, 2f64.powi(29));
    }

    #[test]
    fn gamma_matches_definition() {
        assert_eq!(gamma(0), 0.0);
        // γ_10 = 10u/(1−10u): slightly above 10u, by (10u)²/(1−10u) ≈ 1.2e-30.
        assert_eq!(gamma(10), 10.0 * UNIT_ROUNDOFF / (1.0 - 10.0 * UNIT_ROUNDOFF));
        assert!(gamma(10) > 10.0 * UNIT_ROUNDOFF);
        assert_eq!(gamma(usize::MAX), f64::INFINITY);
    }

    #[test]
    fn rel_close_is_symmetric_and_exact_at_zero() {
        assert!(rel_close(0.0, 0.0, 0.0));
        assert!(rel_close(1.0, 1.0 + 1e-12, 1e-11));
        assert!(!rel_close(1.0, 1.0 + 1e-10, 1e-11));
    }
}
