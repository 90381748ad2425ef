//! Typed errors for user input.
//!
//! Nothing in this crate panics on user input: a bad hyperparameter, a gradient of the wrong
//! length or a non-finite value is reported as one of these errors, naming the field, the
//! value and the valid range.

use thiserror::Error;

/// A hyperparameter outside its valid range, or an inconsistent combination of them.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum HyperError {
    /// `field` of `optimizer` is `value`, which is outside `range`.
    #[error("{optimizer}: {field} = {value} is invalid; valid range: {range}")]
    OutOfRange {
        optimizer: &'static str,
        field: &'static str,
        value: f64,
        range: &'static str,
    },
    /// An integer-valued field (batch size, period, ...) outside its valid range.
    #[error("{optimizer}: {field} = {value} is invalid; valid range: {range}")]
    CountOutOfRange {
        optimizer: &'static str,
        field: &'static str,
        value: u64,
        range: &'static str,
    },
    /// Two settings that cannot be combined, e.g. Nesterov with dampening in PyTorch's SGD.
    #[error("{optimizer}: {reason}")]
    Incompatible { optimizer: &'static str, reason: String },
}

/// A step that cannot be taken with the given input.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum StepError {
    /// The gradient (or parameter) vector has a different length from the optimizer's state.
    #[error("{what} has length {got}, expected {expected}")]
    DimensionMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// A NaN or infinite entry where a finite number is required.
    #[error("{what}[{index}] = {value} is not finite")]
    NonFinite {
        what: &'static str,
        index: usize,
        value: f64,
    },
    /// A problem-specific failure (e.g. a layout that does not cover the parameters).
    #[error("{0}")]
    Invalid(String),
}

/// Range checks shared by every hyperparameter struct. Each rejects NaN explicitly, because
/// every comparison with NaN is false and a naive `if x < 0` would let it through.
pub mod check {
    use super::HyperError;

    fn err(optimizer: &'static str, field: &'static str, value: f64, range: &'static str) -> HyperError {
        HyperError::OutOfRange {
            optimizer,
            field,
            value,
            range,
        }
    }

    /// `value` ∈ (0, ∞).
    pub fn positive(optimizer: &'static str, field: &'static str, value: f64) -> Result<(), HyperError> {
        if value.is_finite() && value > 0.0 {
            Ok(())
        } else {
            Err(err(optimizer, field, value, "(0, inf), finite"))
        }
    }

    /// `value` ∈ [0, ∞).
    pub fn non_negative(optimizer: &'static str, field: &'static str, value: f64) -> Result<(), HyperError> {
        if value.is_finite() && value >= 0.0 {
            Ok(())
        } else {
            Err(err(optimizer, field, value, "[0, inf), finite"))
        }
    }

    /// `value` ∈ [0, 1): exponential decay rates (β₁, β₂, ρ, momentum).
    pub fn unit_interval(optimizer: &'static str, field: &'static str, value: f64) -> Result<(), HyperError> {
        if (0.0..1.0).contains(&value) {
            Ok(())
        } else {
            Err(err(optimizer, field, value, "[0, 1)"))
        }
    }

    /// `value` ∈ [0, 1]: closed interval (dampening, the lecture's RMSProp γ).
    pub fn closed_unit_interval(
        optimizer: &'static str,
        field: &'static str,
        value: f64,
    ) -> Result<(), HyperError> {
        if (0.0..=1.0).contains(&value) {
            Ok(())
        } else {
            Err(err(optimizer, field, value, "[0, 1]"))
        }
    }

    /// Any finite real (weight decay may be negative in the papers' algebra, never NaN).
    pub fn finite(optimizer: &'static str, field: &'static str, value: f64) -> Result<(), HyperError> {
        if value.is_finite() {
            Ok(())
        } else {
            Err(err(optimizer, field, value, "finite real number"))
        }
    }
}

/// Checks shared by every optimizer's step.
pub mod step_check {
    use super::StepError;
    use nalgebra::DVector;

    /// `v` has length `expected`.
    pub fn len(what: &'static str, v: &DVector<f64>, expected: usize) -> Result<(), StepError> {
        if v.len() == expected {
            Ok(())
        } else {
            Err(StepError::DimensionMismatch {
                what,
                expected,
                got: v.len(),
            })
        }
    }

    /// Every entry of `v` is finite.
    pub fn finite(what: &'static str, v: &DVector<f64>) -> Result<(), StepError> {
        match v.iter().position(|x| !x.is_finite()) {
            None => Ok(()),
            Some(index) => Err(StepError::NonFinite {
                what,
                index,
                value: v[index],
            }),
        }
    }
}
