//! Checker of `theorems/rmsprop-current-weight.md`: "RMSProp (Hinton) gives more weight to the
//! current gradient" than AdaGrad, with "γ ∈ [0,1]" as printed.
//!
//! The weights are *measured* on the crate's optimizers by linearity: with B₀ = 0 both
//! accumulators are linear in the squared gradients, so running k steps on a 2-dimensional
//! parameter whose coordinate 0 receives gradient 1 at every step and coordinate 1 only at step
//! k leaves Σ_j w_j and w_k in the two coordinates (`RmsProp::v`, `AdaGrad::sum_of_squares`).
//! The share of the current gradient is s_k = w_k/Σ_j w_j (0 when every weight is 0: then
//! B_k = B₀ does not depend on any gradient).
//!
//! * **Witnesses** (the printed statement, γ ∈ [0, 1] including 1): s_k^RMS ≥ s_k^AdaGrad = 1/k.
//!   At γ = 1 every weight is 0: the current gradient gets none — a witness.
//! * **Checks** (the corrected statement, γ in the statement's range, `gamma_upper`): the
//!   measured shares equal (1−γ)/(1−γ^k) and 1/k to rounding; s_k^RMS ≥ 1/k, strictly from
//!   k = `strict_from_k` on.

use super::*;
use crate::optim::adagrad::AdaGradConfig;
use crate::optim::rmsprop::RmsPropConfig;
use crate::optim::Optimizer;
use crate::prec::{gamma, UNIT_ROUNDOFF};
use nalgebra::DVector;

/// The checker of `rmsprop-current-weight`.
pub const CHECKER: Checker = Checker {
    id: "rmsprop-current-weight",
    run: check_rmsprop_weight,
};

const ID: &str = "rmsprop-current-weight";

/// s_k = w_k/Σ_j w_j from (Σ_j w_j, w_k); 0 when no gradient has any weight.
fn share_of((total, current): (f64, f64)) -> f64 {
    if total > 0.0 {
        current / total
    } else {
        0.0
    }
}

/// The current gradient's share in the accumulator `acc` reads after `k` steps of `opt` from
/// B₀ = 0 on two coordinates: coordinate 0 sees gradient 1 at every step (its accumulator is
/// Σ_j w_j), coordinate 1 only at step k (its accumulator is w_k).
fn impulse_share<O: Optimizer>(
    mut opt: O,
    k: usize,
    acc: impl Fn(&O) -> Option<&DVector<f64>>,
) -> Result<f64, CheckError> {
    let mut x = DVector::zeros(2);
    for t in 1..=k {
        let gr = DVector::from_vec(vec![1.0, if t == k { 1.0 } else { 0.0 }]);
        opt.step(&mut x, &gr)?;
    }
    let b = acc(&opt).cloned().unwrap_or_else(|| DVector::zeros(2));
    Ok(share_of((b[0], b[1])))
}

fn rms_share(k: usize, g: f64) -> Result<f64, CheckError> {
    impulse_share(RmsPropConfig::lecture(1e-3, g, 1e-8).build()?, k, |o| o.v())
}

fn ada_share(k: usize) -> Result<f64, CheckError> {
    impulse_share(AdaGradConfig::lecture(1e-3, 1e-8).build()?, k, |o| {
        o.sum_of_squares()
    })
}

fn check_rmsprop_weight(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let upper = ctx.stmt_str("gamma_upper")?.to_string();
    let include_one = match upper.as_str() {
        "open" => false,
        "closed" => true,
        other => {
            return Err(bad_statement(
                ID,
                "gamma_upper",
                other,
                "\"open\" (γ < 1) or \"closed\" (γ ≤ 1)",
            ))
        }
    };
    let strict_from = ctx.stmt_usize("strict_from_k")?;
    let gammas = ctx.f64s("gammas")?;
    let ks = ctx.usizes("ks")?;
    let mut ev = Evidence::new();

    let mut printed_worst = (f64::INFINITY, 0.0f64, 0usize);
    let mut closed_worst = (0.0f64, 1.0f64);
    let mut corrected_worst = f64::INFINITY;
    let mut strict_worst = (f64::INFINITY, 0.0f64, 0usize);
    let mut ada_worst: f64 = 0.0;
    let mut fig: Vec<(f64, Vec<(f64, f64)>)> = Vec::new();
    let mut printed_gammas = gammas.clone();
    if !printed_gammas.contains(&1.0) {
        printed_gammas.push(1.0);
    }
    for &g in &printed_gammas {
        let mut curve = Vec::new();
        for &k in &ks {
            let s_rms = rms_share(k, g)?;
            let s_ada = ada_share(k)?;
            // AdaGrad: the accumulators are sums of squares of 0 and 1, so Σ_j w_j = k and w_k = 1
            // exactly (k ≤ 2⁵³), and the share w_k/Σ_j w_j is the correctly rounded 1/k: it must
            // equal 1.0/k bit for bit.
            ada_worst = ada_worst.max((s_ada - 1.0 / k as f64).abs() * k as f64);
            curve.push((k as f64, s_rms));
            // Printed statement (witness), γ ∈ [0, 1].
            let margin = s_rms - s_ada;
            if margin < printed_worst.0 {
                printed_worst = (margin, g, k);
            }
            let in_corrected = g < 1.0 || include_one;
            if !in_corrected {
                continue;
            }
            // Closed form (1−γ)/(1−γ^k) = 1/(1 + γ + … + γ^{k−1}) for γ < 1 (the second form has
            // no cancellation: Horner, ≤ 2ku); at γ = 1 the share is 0 (no weight at all). The
            // measured weights w_j = (1−γ)γ^{k−j} carry ≤ (k+1)u each, their sum γ_k more: the
            // relative gap is ≤ 2γ_{2k+2} + 4u.
            let closed = if g < 1.0 {
                1.0 / (0..k).fold(0.0, |acc, _| acc * g + 1.0)
            } else {
                0.0
            };
            let tol = 2.0 * gamma(2 * k + 2) + 4.0 * UNIT_ROUNDOFF;
            let gap = if closed > 0.0 {
                (s_rms - closed).abs() / closed
            } else {
                s_rms.abs()
            };
            if gap / tol > closed_worst.0 / closed_worst.1 {
                closed_worst = (gap, tol);
            }
            // Corrected statement: s ≥ 1/k (relative margin), strictly from k = strict_from.
            corrected_worst = corrected_worst.min((s_rms - s_ada) / s_ada + tol);
            if k >= strict_from {
                let rel = (s_rms - s_ada) / s_ada;
                if rel - tol < strict_worst.0 {
                    strict_worst = (rel - tol, g, k);
                }
            }
        }
        fig.push((g, curve));
    }
    ev.push(
        Measurement::new(
            format!(
                "as printed (γ ∈ [0, 1]): min over γ, k of s_k^RMS − 1/k (worst γ = {}, k = {})",
                printed_worst.1, printed_worst.2
            ),
            printed_worst.0,
            0.0,
            Relation::AtLeast,
        )
        .with_note("share of the current gradient in B_k, RMSProp minus AdaGrad; at γ = 1 every weight is 0")
        .witness()
        .key(),
    );
    if printed_worst.0 < 0.0 {
        ev.counterexample = Some(Counterexample {
            description: format!(
                "γ = {}, k = {}: RMSProp's B_k = γB_{{k−1}} + (1−γ)g_k² gives the current gradient weight {} (B_k = B₀ whatever the gradients), AdaGrad's share is 1/k = {}",
                printed_worst.1,
                printed_worst.2,
                if printed_worst.1 == 1.0 { "0".to_string() } else { format!("share {:.4}", printed_worst.0 + 1.0 / printed_worst.2 as f64) },
                1.0 / printed_worst.2 as f64
            ),
            values: vec![("gamma".into(), printed_worst.1), ("k".into(), printed_worst.2 as f64)],
            found_by: "grid over γ (the printed closed interval) and k, weights measured on the crate's optimizers".into(),
        });
        ev.corrected_statement = Some(
            "For γ ∈ [0, 1) (and B₀ = 0), RMSProp's share of the current gradient in B_k is (1−γ)/(1−γ^k) ≥ 1/k, AdaGrad's, \
             with equality only at k = 1: it gives more weight to the current gradient. At γ = 1, B_k = B₀ ignores every gradient."
                .into(),
        );
    }
    ev.push(
        Measurement::new(
            format!("measured share = (1−γ)/(1−γ^k) for γ in the {upper} range: max relative gap"),
            closed_worst.0,
            closed_worst.1,
            Relation::AtMost,
        )
        .with_note("weights by unit impulses on optim::rmsprop (lecture preset); tolerance 2γ_{2k+2} + 4u"),
    );
    ev.push(
        Measurement::new(
            "AdaGrad: measured share = 1/k (max k·|s − 1/k|)",
            ada_worst,
            0.0,
            Relation::Exact,
        )
        .with_note("optim::adagrad's sum of squares: every weight exactly 1, the sum exactly k, so the share is the correctly rounded 1/k"),
    );
    ev.push(
        Measurement::new(
            format!("corrected (γ in the {upper} range): min relative margin (s^RMS − 1/k)·k + tol"),
            corrected_worst,
            0.0,
            Relation::AtLeast,
        )
        .with_note("(1−γ)/(1−γ^k) ≥ 1/k ⟺ 1 + γ + … + γ^{k−1} ≤ k"),
    );
    ev.push(
        Measurement::new(
            format!(
                "corrected: strictly more weight from k = {strict_from} (min (s^RMS − 1/k)·k − tol; worst γ = {}, k = {})",
                strict_worst.1, strict_worst.2
            ),
            strict_worst.0,
            0.0,
            Relation::AtLeast,
        )
        .with_note("equality at k = 1 (both shares 1); for k ≥ 2 and γ < 1 the inequality is strict")
        .key(),
    );
    ev.instances = (printed_gammas.len() * ks.len()) as u64;
    let mut series = vec![Series {
        label: "AdaGrad: 1/k".into(),
        style: Style::Predicted,
        x: ks.iter().map(|&k| k as f64).collect(),
        y: ks.iter().map(|&k| 1.0 / k as f64).collect(),
    }];
    for (g, curve) in fig.iter().filter(|(g, _)| *g < 1.0) {
        series.push(Series {
            label: format!("RMSProp γ = {g}"),
            style: Style::Line,
            x: curve.iter().map(|p| p.0).collect(),
            y: curve.iter().map(|p| p.1).collect(),
        });
    }
    ev.figures.push(Figure {
        id: "share".into(),
        title: "Share of the current gradient in the preconditioner B_k".into(),
        x_label: "k".into(),
        y_label: "w_k / Σ_j w_j".into(),
        log_x: true,
        log_y: true,
        series,
        caption: "RMSProp's share (1−γ)/(1−γ^k) tends to 1−γ, AdaGrad's 1/k to 0; at γ = 1 (printed range) RMSProp's share is 0.".into(),
    });
    Ok(ev)
}

use crate::claims::Counterexample;
