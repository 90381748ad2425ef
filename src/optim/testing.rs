//! Test helpers shared by the optimizers' unit tests (compiled only under `cfg(test)`).

use super::Optimizer;
use crate::error::HyperError;
use crate::prec::{trajectory_rel, UNIT_ROUNDOFF};
use nalgebra::DVector;
use std::fmt::Debug;

/// θ₀, θ₁, …: `opt` stepped from `x0` with each gradient of `grads` in turn (open loop), with
/// its step counter checked against the number of steps.
pub(crate) fn trajectory_of(opt: &mut dyn Optimizer, x0: &[f64], grads: &[[f64; 2]]) -> Vec<DVector<f64>> {
    let mut x = DVector::from_row_slice(x0);
    let mut out = vec![x.clone()];
    for g in grads {
        opt.step(&mut x, &DVector::from_row_slice(g)).unwrap();
        out.push(x.clone());
    }
    assert_eq!(
        opt.steps_taken(),
        grads.len() as u64,
        "{} counts its steps",
        opt.name()
    );
    out
}

/// Assert `|got_k − reference_k| ≤ trajectory_rel(k) · scale` for every step k ≥ 1 of a
/// two-coordinate run (`got[0]` is θ₀, `reference[k−1]` the exact θ_k).
///
/// Argument: step j computes the increment Δ_j with ≤ 16 rounded operations per coordinate
/// (relative error ≤ prec::STEP_REL/2 of |Δ_j|) and rounds once more in θ_j = θ_{j−1} + Δ_j
/// (≤ u|θ_j|); the moments carry earlier roundings forward multiplied by decay factors < 1.
/// Errors therefore add at most linearly: ≤ k · STEP_REL · scale, with
/// scale = max_j |θ_j| + max_j |Δ_j|.
pub(crate) fn assert_matches_reference(got: &[DVector<f64>], reference: &[[f64; 2]]) {
    for (k, r) in reference.iter().enumerate() {
        let k1 = k + 1;
        let theta_max = got[..=k1].iter().map(|x| x.amax()).fold(0.0, f64::max);
        let delta_max = got[..=k1]
            .windows(2)
            .map(|w| (&w[1] - &w[0]).amax())
            .fold(0.0, f64::max);
        let scale = theta_max + delta_max;
        for i in 0..2 {
            let err = (got[k1][i] - r[i]).abs();
            assert!(
                err <= trajectory_rel(k1) * scale,
                "step {k1} coord {i}: {} vs {} (err {err:e}, {:.1} u)",
                got[k1][i],
                r[i],
                err / (UNIT_ROUNDOFF * scale)
            );
        }
    }
}

/// Every `(config, field)` of a validation table is refused by `build` with
/// [`HyperError::OutOfRange`] naming `field` and a non-empty valid range.
pub(crate) fn assert_out_of_range<C: Clone + Debug, O: Debug>(
    cases: Vec<(C, &str)>,
    build: impl Fn(C) -> Result<O, HyperError>,
) {
    for (config, field) in cases {
        match build(config.clone()) {
            Err(HyperError::OutOfRange { field: f, range, .. }) => {
                assert_eq!(f, field, "{config:?}");
                assert!(!range.is_empty());
            }
            other => panic!("{config:?}: expected OutOfRange on {field}, got {other:?}"),
        }
    }
}
