//! Checker of [`theorems/adadelta-as-printed.md`](../../../theorems/adadelta-as-printed.md):
//! the slide's sentence "AdaDelta extends AdaGrad using a similar preconditioner as B_k^RMS,
//! but also estimates the stepsize using an average difference in θ^(k) − θ^(k−1)".
//!
//! * witness: on PyTorch's recorded Adadelta runs (defaults ρ = 0.9, ε = 1e-6, lr = 1), every
//!   step equals −√(E\[Δθ²\]_{k−1} + ε)/√(B_k + ε)·g_k, where B_k = ρB_{k−1} + (1−ρ)g_k² is
//!   B^RMS with γ = ρ and E\[Δθ²\] is the running average of the squared *recorded*
//!   differences θ^(k) − θ^(k−1) — read with the `[statement]`'s kind of mean, lag and
//!   preconditioner;
//! * check: the run moves (every compared step is non-zero), so the comparison says something.

use crate::claims::common::golden::{golden, replay};
use crate::claims::{CheckContext, CheckError, Checker, Evidence, Measurement, Relation};
use crate::prec::UNIT_ROUNDOFF;

/// The checker.
pub const CHECKER: Checker = Checker {
    id: "adadelta-as-printed",
    run,
};

fn run(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let traces = ctx.strs("traces")?;
    let mean = ctx.stmt_str("mean")?.to_string();
    let lag = ctx.stmt_usize("lag")?;
    let preconditioner = ctx.stmt_str("preconditioner")?.to_string();
    let (rho, eps) = (0.9, 1e-6); // torch.optim.Adadelta's defaults (the traces set none)
    let u = UNIT_ROUNDOFF;
    let mut ev = Evidence::new();
    for name in &traces {
        let trace = golden(name)?;
        let lr = trace.hyper(&["lr"]).unwrap_or(1.0);
        let n = trace.header.params0.len();
        // The recorded differences, and how much the subtraction θ_k − θ_{k−1} can lose:
        // each is known to u(|θ_k| + |θ_{k−1}|) absolute, i.e. relative c = max u(|θ_k| +
        // |θ_{k−1}|)/|Δ|. The averages of squares then carry 2c relative, the root c; the two
        // averages' own rounding is ≤ 2u/(1−ρ) each (positive terms, contracted by ρ), halved
        // by the roots; sqrt, add, divide, multiply ≤ 6u; both sides: tolerance
        // 2(c + 2u/(1−ρ) + 6u) relative to the step.
        let mut diffs = Vec::with_capacity(trace.steps.len());
        let mut c = 0.0_f64;
        let mut moved = true;
        for k in 0..trace.steps.len() {
            let prev = if k == 0 {
                &trace.header.params0
            } else {
                &trace.steps[k - 1].params
            };
            let cur = &trace.steps[k].params;
            let d: Vec<f64> = (0..n).map(|i| cur[i] - prev[i]).collect();
            for i in 0..n {
                if d[i] == 0.0 {
                    moved &= trace.steps[k].grad[i] == 0.0;
                } else {
                    c = c.max(u * (cur[i].abs() + prev[i].abs()) / d[i].abs());
                }
            }
            diffs.push(d);
        }
        let rel = 2.0 * (c + 2.0 * u / (1.0 - rho) + 6.0 * u);
        let mut b = vec![0.0_f64; n]; // B^RMS (or AdaGrad's sum, for the mutant)
        let mut e_sq = vec![0.0_f64; n]; // running average of squared differences (or of signed ones)
        let fit = replay(&trace, rel, |k, grad| {
            let d = &diffs[k - 1];
            (0..n)
                .map(|i| {
                    let g = grad[i];
                    b[i] = if preconditioner == "sum" {
                        b[i] + g * g
                    } else {
                        rho * b[i] + (1.0 - rho) * g * g
                    };
                    // The average the stepsize uses: up to k−1 (lag 1) or including the
                    // difference this very step makes (lag 0).
                    let update = |e: f64| -> f64 {
                        if mean == "arithmetic" {
                            rho * e + (1.0 - rho) * d[i]
                        } else {
                            rho * e + (1.0 - rho) * d[i] * d[i]
                        }
                    };
                    let avg = if lag == 0 { update(e_sq[i]) } else { e_sq[i] };
                    let avg_sq = if mean == "arithmetic" { avg * avg } else { avg };
                    let step = -lr * ((avg_sq + eps).sqrt() / (b[i] + eps).sqrt()) * g;
                    e_sq[i] = update(e_sq[i]);
                    (step, step.abs())
                })
                .collect()
        });
        ev.push(
            Measurement::new(
                format!("{name}: max |recorded step − stepsize from the average of θ^(k) − θ^(k−1)| ÷ tolerance"),
                fit.worst,
                1.0,
                Relation::AtMost,
            )
            .with_note(format!(
                "{} mean of the differences up to k−{lag}, preconditioner {} of g²; {} steps×coordinates, largest relative difference {:.2e}; tolerance 2(c + 2u/(1−ρ) + 6u), c = {c:.1e} (cancellation in θ_k − θ_(k−1))",
                if mean == "arithmetic" { "arithmetic (signed)" } else { "quadratic (RMS)" },
                if preconditioner == "sum" { "AdaGrad's sum" } else { "B^RMS's average (γ = ρ)" },
                fit.compared,
                fit.worst_rel
            ))
            .witness()
            .key(),
        );
        ev.push(
            Measurement::new(
                format!("{name}: coordinates with a non-zero gradient that did not move"),
                if moved { 0.0 } else { 1.0 },
                0.0,
                Relation::Exact,
            )
            .with_note("a step that is 0 would make the comparison vacuous"),
        );
        ev.instances += 1;
    }
    ev.remarks = Some("\"An average difference\" is read as Zeiler's RMS[Δx]_{t−1} = √(E[Δx²]_{t−1} + ε): the quadratic mean of the past differences, lagging one step, with the same ε as the denominator. A signed (arithmetic) average of the differences, or AdaGrad's growing sum in the denominator, does not reproduce the runs (the card's mutants).".into());
    Ok(ev)
}
