//! Traces recorded from the real frameworks (`tests/data/golden/`, written by
//! `scripts/golden_*.py`), embedded in the binary so `optverify verify` runs anywhere.
//!
//! A claim about what a framework's optimizer does (its defaults, where it puts ε, which weight
//! the new gradient gets) is checked by [`replay`]: the claim's update rule, written out in the
//! checker, is applied to each recorded gradient from the *recorded* previous parameters, and
//! the predicted step is compared with the recorded one. Comparing step by step (not a
//! free-running trajectory) keeps rounding from accumulating, so the tolerance is a per-step
//! rounding bound:
//!
//! |θ_k − θ_{k−1} − Δ̂_k| ≤ rel · scale_k + 2u(|θ_k| + |θ_{k−1}|),
//!
//! where Δ̂_k is the predicted step, `scale_k` the magnitude the rule's rounding is relative to
//! (the checker supplies both) and 2u(…) covers the framework's final addition θ_{k−1} + Δ and
//! the subtraction that recovers Δ from the trace.

use crate::claims::CheckError;
use crate::oracle::format::{Header, StepRecord, TraceReader};
use crate::prec::UNIT_ROUNDOFF;

/// The embedded traces, by file stem.
const TRACES: &[(&str, &str)] = &[
    (
        "torch-adam-default-quad",
        include_str!("../../../tests/data/golden/torch-adam-default-quad.jsonl"),
    ),
    (
        "torch-adam-default-sparse",
        include_str!("../../../tests/data/golden/torch-adam-default-sparse.jsonl"),
    ),
    (
        "optax-adam-default-quad",
        include_str!("../../../tests/data/golden/optax-adam-default-quad.jsonl"),
    ),
    (
        "optax-adam-default-sparse",
        include_str!("../../../tests/data/golden/optax-adam-default-sparse.jsonl"),
    ),
    (
        "keras-adam-default-quad",
        include_str!("../../../tests/data/golden/keras-adam-default-quad.jsonl"),
    ),
    (
        "keras-adam-default-sparse",
        include_str!("../../../tests/data/golden/keras-adam-default-sparse.jsonl"),
    ),
    (
        "torch-rmsprop-default-quad",
        include_str!("../../../tests/data/golden/torch-rmsprop-default-quad.jsonl"),
    ),
    (
        "optax-rmsprop-default-quad",
        include_str!("../../../tests/data/golden/optax-rmsprop-default-quad.jsonl"),
    ),
    (
        "torch-adagrad-default-quad",
        include_str!("../../../tests/data/golden/torch-adagrad-default-quad.jsonl"),
    ),
    (
        "torch-adagrad-default-randn",
        include_str!("../../../tests/data/golden/torch-adagrad-default-randn.jsonl"),
    ),
    (
        "torch-adadelta-default-quad",
        include_str!("../../../tests/data/golden/torch-adadelta-default-quad.jsonl"),
    ),
    (
        "torch-adadelta-default-randn",
        include_str!("../../../tests/data/golden/torch-adadelta-default-randn.jsonl"),
    ),
];

/// One recorded trace.
#[derive(Debug, Clone)]
pub struct Golden {
    pub name: String,
    pub header: Header,
    pub steps: Vec<StepRecord>,
}

impl Golden {
    /// A hyperparameter the producer set explicitly (the header names it in the framework's
    /// own words), if any of `names` is present.
    pub fn hyper(&self, names: &[&str]) -> Option<f64> {
        names
            .iter()
            .find_map(|n| self.header.hyperparameters.get(*n).and_then(|v| v.as_f64()))
    }

    /// Parameters before step k (k = 1..): θ₀ from the header, then the recorded ones.
    fn before(&self, k: usize) -> &[f64] {
        if k == 0 {
            &self.header.params0
        } else {
            &self.steps[k - 1].params
        }
    }
}

/// The embedded trace `name` (a file stem of `tests/data/golden/`).
///
/// # Errors
/// An unknown name, or a trace that does not parse (a format change not followed here).
pub fn golden(name: &str) -> Result<Golden, CheckError> {
    let text = TRACES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .ok_or_else(|| CheckError::Other(format!("no embedded golden trace `{name}`")))?;
    let bad = |e: crate::oracle::format::TraceError| CheckError::Other(e.to_string());
    let mut reader = TraceReader::new(format!("{name}.jsonl"), text.as_bytes()).map_err(bad)?;
    let mut steps = Vec::new();
    while let Some(s) = reader.next_step().map_err(bad)? {
        steps.push(s);
    }
    Ok(Golden {
        name: name.to_string(),
        header: reader.header().clone(),
        steps,
    })
}

/// Worst step of a [`replay`]: the largest error in units of its tolerance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayFit {
    /// max over steps and coordinates of |recorded step − predicted step| / tolerance.
    pub worst: f64,
    /// The largest relative difference |recorded − predicted| / |predicted| (for the reader).
    pub worst_rel: f64,
    /// Number of (step, coordinate) pairs compared.
    pub compared: usize,
}

/// Replay `trace`: for each step k = 1.., `predict(k, g_k)` returns, per coordinate, the
/// predicted step Δ̂ and the scale its rounding is relative to; the recorded step is
/// θ_k − θ_{k−1}. Returns the worst error in units of rel·scale + 2u(|θ_k| + |θ_{k−1}|).
pub fn replay(
    trace: &Golden,
    rel: f64,
    mut predict: impl FnMut(usize, &[f64]) -> Vec<(f64, f64)>,
) -> ReplayFit {
    let u = UNIT_ROUNDOFF;
    let mut fit = ReplayFit {
        worst: 0.0,
        worst_rel: 0.0,
        compared: 0,
    };
    for (k0, rec) in trace.steps.iter().enumerate() {
        let prev = trace.before(k0);
        let pred = predict(k0 + 1, &rec.grad);
        for (i, &(d, scale)) in pred.iter().enumerate() {
            let step = rec.params[i] - prev[i];
            let err = (step - d).abs();
            let tol = rel * scale + 2.0 * u * (rec.params[i].abs() + prev[i].abs());
            // NaN (a predicted 0/0) must count as a mismatch.
            let ratio = if err == 0.0 { 0.0 } else { err / tol };
            fit.worst = if ratio.is_nan() {
                f64::INFINITY
            } else {
                fit.worst.max(ratio)
            };
            if d != 0.0 {
                fit.worst_rel = fit.worst_rel.max(err / d.abs());
            }
            fit.compared += 1;
        }
    }
    fit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_trace_parses_and_has_steps() {
        for (name, _) in TRACES {
            let g = golden(name).unwrap();
            assert!(!g.steps.is_empty(), "{name}");
            assert_eq!(g.steps[0].grad.len(), g.header.params0.len(), "{name}");
        }
        assert!(golden("nope").is_err());
    }

    #[test]
    fn replay_flags_a_wrong_rule() {
        let g = golden("torch-adagrad-default-quad").unwrap();
        // A zero step is wrong for every step of a run that moves.
        let fit = replay(&g, 1e-12, |_, grad| grad.iter().map(|_| (0.0, 1.0)).collect());
        assert!(fit.worst > 1.0);
        assert!(fit.compared > 0);
    }
}
