//! Checker of [`theorems/rmsprop-as-printed.md`](../../../theorems/rmsprop-as-printed.md):
//! RMSProp as printed, B_k = γB_{k−1} + (1−γ)g² "for some γ ∈ [0, 1]", updating with
//! (B + εI)^{−1/2}g.
//!
//! * witness: "gives more weight to the current gradient" — the weight of g_k in B_k exceeds
//!   that of g_{k−1} — for every γ of the printed range (γ = 1 gives both weight 0: B ≡ 0);
//! * checks: the same for the `[statement]`'s range; the printed recursion with the
//!   `[statement]`'s weights and ε placement reproduces optax's recorded RMSProp (Hinton's
//!   γ = 0.9, ε inside the root) and, with ε outside the root, PyTorch's (α = 0.99); at γ = 1
//!   the step is exactly ηg/√ε; ε inside vs outside the root differ by the closed-form factor;
//! * context: the γ = 1 run diverges on f = hθ²/2.

use crate::claims::common::golden::{golden, replay};
use crate::claims::{
    CheckContext, CheckError, Checker, Counterexample, Evidence, Figure, Measurement, Relation, Series, Style,
};
use crate::optim::rmsprop::RmsPropConfig;
use crate::optim::Optimizer;
use crate::prec::{rel_close, UNIT_ROUNDOFF};
use nalgebra::DVector;

/// The checker.
pub const CHECKER: Checker = Checker {
    id: "rmsprop-as-printed",
    run,
};

/// B₂ of the crate's lecture RMSProp (the slide's recursion, B₀ = 0) for gradients (g₁, g₂).
fn b2(gamma: f64, g1: f64, g2: f64) -> Result<f64, CheckError> {
    let mut o = RmsPropConfig::lecture(0.01, gamma, 1e-8).build()?;
    let mut x = DVector::zeros(1);
    o.step(&mut x, &DVector::from_element(1, g1))?;
    o.step(&mut x, &DVector::from_element(1, g2))?;
    Ok(o.v().map_or(f64::NAN, |v| v[0]))
}

fn run(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let (eta, eps, steps) = (ctx.f64("eta")?, ctx.f64("eps")?, ctx.usize("steps")?);
    let (h, x0) = (ctx.f64("curvature")?, ctx.f64("x0")?);
    let gammas = ctx.f64s("gamma")?;
    let weight_on_new = ctx.stmt_str("new_weight")?.to_string();
    let gamma_one_allowed = ctx.stmt_bool("gamma_one_allowed")?;
    let eps_in_sqrt = ctx.stmt_bool("eps_in_sqrt")?;
    let u = UNIT_ROUNDOFF;
    let mut ev = Evidence::new();

    // "More weight to the current gradient": B₂ for (0, 1) minus B₂ for (1, 0), exactly
    // (1−γ) − γ(1−γ) = (1−γ)² in real arithmetic; it must be > 0 (strictly: f64::MIN_POSITIVE).
    let mut margin_printed = f64::INFINITY;
    let mut margin_stated = f64::INFINITY;
    let mut worst_gamma = f64::NAN;
    for &gm in &gammas {
        let m = b2(gm, 0.0, 1.0)? - b2(gm, 1.0, 0.0)?;
        if m < margin_printed {
            margin_printed = m;
            worst_gamma = gm;
        }
        if gm < 1.0 || gamma_one_allowed {
            margin_stated = margin_stated.min(m);
        }
    }
    ev.push(
        Measurement::new(
            format!(
                "printed range γ ∈ [0, 1]: min over γ ∈ {gammas:?} of weight(g_k) − weight(g_{{k−1}}) in B_k"
            ),
            margin_printed,
            f64::MIN_POSITIVE,
            Relation::AtLeast,
        )
        .with_note(format!(
            "smallest at γ = {worst_gamma}; 'more weight' means > 0; (1−γ)² in real arithmetic"
        ))
        .witness()
        .key(),
    );
    ev.push(
        Measurement::new(
            format!(
                "stated range γ ∈ [0, 1{}: the same margin",
                if gamma_one_allowed { "]" } else { ")" }
            ),
            margin_stated,
            f64::MIN_POSITIVE,
            Relation::AtLeast,
        )
        .with_note("over the γ of the grid inside the corrected statement's range"),
    );

    // The printed recursion against the frameworks' recorded RMSProp. Per step: B is an
    // average of positive terms, its relative error ≤ 2u/(1−γ) (2 roundings per step,
    // contracted by γ), halved by the root, plus ≤ 4u for sqrt, add and divide — on both
    // sides: 4u/(1−γ) + 8u relative to the step.
    for (name, gamma, inside) in [
        ("optax-rmsprop-default-quad", 0.9, eps_in_sqrt),
        ("torch-rmsprop-default-quad", 0.99, false),
    ] {
        let trace = golden(name)?;
        let lr = trace.hyper(&["lr", "learning_rate"]).unwrap_or(0.01);
        let (w_old, w_new) = if weight_on_new == "gamma" {
            (1.0 - gamma, gamma)
        } else {
            (gamma, 1.0 - gamma)
        };
        let mut b = vec![0.0_f64; trace.header.params0.len()];
        let fit = replay(&trace, 4.0 * u / (1.0 - gamma) + 8.0 * u, |_, grad| {
            grad.iter()
                .enumerate()
                .map(|(i, &g)| {
                    b[i] = w_old * b[i] + w_new * g * g;
                    let denom = if inside {
                        (b[i] + 1e-8).sqrt()
                    } else {
                        b[i].sqrt() + 1e-8
                    };
                    let d = -lr * g / denom;
                    (d, d.abs())
                })
                .collect()
        });
        ev.push(
            Measurement::new(
                format!(
                    "{name} (γ = {gamma}, ε {} the root): max |recorded − printed-rule step| ÷ tolerance",
                    if inside { "inside" } else { "outside" }
                ),
                fit.worst,
                1.0,
                Relation::AtMost,
            )
            .with_note(format!(
                "B_k = {} B_(k−1) + {} g²; largest relative difference {:.2e}",
                if weight_on_new == "gamma" {
                    "(1−γ)"
                } else {
                    "γ"
                },
                if weight_on_new == "gamma" {
                    "γ"
                } else {
                    "(1−γ)"
                },
                fit.worst_rel
            ))
            .key(),
        );
    }

    // γ = 1 on f = hθ²/2: B stays 0, the step is exactly ηg/√ε (one sqrt, one division, one
    // product: 8u), and the run diverges when ηh/√ε > 2.
    let mut series = Vec::new();
    let mut gamma1 = None;
    for &gm in &gammas {
        let mut o = RmsPropConfig::lecture(eta, gm, eps).build()?;
        let mut x = DVector::from_element(1, x0);
        let mut traj = vec![x0];
        for _ in 0..steps {
            let g = DVector::from_element(1, h * x[0]);
            if !g[0].is_finite() {
                break;
            }
            o.step(&mut x, &g)?;
            traj.push(x[0]);
        }
        if gm == 1.0 {
            gamma1 = Some((
                (traj[1] - traj[0]) / (-eta * h * x0),
                *traj.last().unwrap_or(&f64::NAN),
            ));
        }
        series.push(Series {
            label: format!("γ = {gm}"),
            style: Style::Line,
            x: (0..traj.len()).map(|k| k as f64).collect(),
            y: traj.iter().map(|v| v.abs().max(1e-300)).collect(),
        });
    }
    if let Some((step1, last)) = gamma1 {
        ev.push(
            Measurement::new(
                "γ = 1: first step ÷ (ηg)",
                step1,
                1.0 / eps.sqrt(),
                Relation::Approx { rel_tol: 8.0 * u },
            )
            .with_note("B stays 0: plain GD with step η/√ε"),
        );
        ev.push(
            Measurement::new(
                format!("γ = 1: |θ_T| after {steps} steps (diverges when ηh/√ε > 2)"),
                if last.is_nan() { f64::INFINITY } else { last.abs() },
                x0.abs(),
                Relation::AtLeast,
            )
            .context(),
        );
    }

    // ε inside (lecture, optax) vs outside (PyTorch) the root, first step, |g| from 1e-12 to 1e4:
    // the ratio is (√v + ε)/√(v + ε), v = (1−γ)g² (16u: a handful of roundings).
    let gm = 0.9;
    let (mut gx, mut ratio, mut ratio_pred) = (Vec::new(), Vec::new(), Vec::new());
    let mut worst_ratio_err = 0.0_f64;
    for k in -12..=4 {
        let g = 10f64.powi(k);
        let mut a = RmsPropConfig::lecture(eta, gm, eps).build()?;
        let mut b = RmsPropConfig {
            lr: eta,
            decay: gm,
            eps,
            ..RmsPropConfig::pytorch()
        }
        .build()?;
        let (mut xa, mut xb) = (DVector::zeros(1), DVector::zeros(1));
        let gv = DVector::from_element(1, g);
        a.step(&mut xa, &gv)?;
        b.step(&mut xb, &gv)?;
        let r = xa[0] / xb[0];
        let v = (1.0 - gm) * g * g;
        let pred = (v.sqrt() + eps) / (v + eps).sqrt();
        if !rel_close(r, pred, 16.0 * u) {
            worst_ratio_err = f64::INFINITY;
        }
        worst_ratio_err = worst_ratio_err.max((r - pred).abs() / pred);
        gx.push(g);
        ratio.push(r);
        ratio_pred.push(pred);
    }
    ev.push(
        Measurement::new(
            "step 1, ε inside vs outside the root: max relative error of the ratio against (√v + ε)/√(v + ε)",
            worst_ratio_err,
            16.0 * u,
            Relation::AtMost,
        )
        .with_note(format!(
            "the ratio reaches ×{:.3e} for |g| = 1e-12 (ε = {eps})",
            ratio.iter().fold(1.0_f64, |m, r| m.min(*r)).recip()
        )),
    );
    ev.instances = gammas.len() as u64 * 3 + gx.len() as u64 + 2;

    if ev.witness_found() {
        ev.counterexample = Some(Counterexample {
            description: format!("γ = 1, which the printed range [0, 1] allows: B_k = B_{{k−1}} + 0·g² = 0 for every k (B₀ = 0), so no gradient gets any weight and the update is plain GD with step η/√ε; on f = {h}θ²/2 from θ₀ = {x0} with η = {eta}, ε = {eps} the iterates grow geometrically."),
            values: vec![("gamma".into(), 1.0), ("eta".into(), eta), ("eps".into(), eps), ("curvature".into(), h), ("x0".into(), x0)],
            found_by: "closed form; runs of optim::rmsprop's lecture preset".into(),
        });
        ev.corrected_statement = Some("γ ∈ [0, 1) (Hinton: 0.9; PyTorch α = 0.99): with γ < 1, B_k = γB_{k−1} + (1−γ)g_k² is a weighted average in which the current gradient has weight 1 − γ > γ(1 − γ), and the update (B + εI)^{−1/2}g is optax's (and Keras') RMSProp; PyTorch adds ε outside the root, (√B + ε)^{−1}g, which differs by the factor (√B + ε)/√(B + ε), large when B ≲ ε.".into());
    }
    ev.figures.push(Figure {
        id: "gamma".into(),
        title: "RMSProp as printed: γ = 1 vs γ < 1".into(),
        x_label: "step k".into(),
        y_label: "|θ_k|".into(),
        log_x: false,
        log_y: true,
        series,
        caption: "With γ = 1 the accumulator never leaves 0 and the step is η/√ε times the gradient.".into(),
    });
    ev.figures.push(Figure {
        id: "eps-placement".into(),
        title: "ε inside vs outside the root, first step".into(),
        x_label: "|g|".into(),
        y_label: "step(inside)/step(outside)".into(),
        log_x: true,
        log_y: true,
        series: vec![
            Series {
                label: "measured".into(),
                style: Style::Points,
                x: gx.clone(),
                y: ratio,
            },
            Series {
                label: "(√v+ε)/√(v+ε)".into(),
                style: Style::Predicted,
                x: gx,
                y: ratio_pred,
            },
        ],
        caption:
            "The two placements agree for large gradients and differ by orders of magnitude when (1−γ)g² ≲ ε."
                .into(),
    });
    Ok(ev)
}
