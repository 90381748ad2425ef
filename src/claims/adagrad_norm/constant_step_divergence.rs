//! Checker of `theorems/constant-step-divergence.md`: gradient descent with the constant step
//! 1/b "can diverge if b < L/2, while if b ≥ L then T = 2bε⁻¹𝓛(θ⁽⁰⁾)".
//!
//! * **Witness** (the printed T with the raw value 𝓛(θ⁽⁰⁾), theorems/README.md §2): on
//!   θ²/2 + c with c < 0 the raw value, hence T, tends to 0 while GD needs a fixed number of
//!   steps.
//! * **Checks** (the corrected statement: the same with the gap Δ = 𝓛(θ⁰) − inf 𝓛):
//!   divergence on x²/2 (the worst L-smooth case for GD) at b = 0.4L and just below the
//!   statement's threshold; the first hit within ⌈t_coeff·bΔ/ε⌉ − 1 for every grid b ≥
//!   t_from·L on the instances of the batch-complexity card.
//! * **Context**: the boundary b = L/2 (oscillation), and L/2 < b < L, where GD converges but
//!   T = 2bΔ/ε does not extend (the descent-lemma count does).

use super::{instances, other, pt};
use crate::claims::{
    CheckContext, CheckError, Checker, Counterexample, Evidence, Figure, Measurement, Relation, Style,
};
use crate::optim::sgd::Sgd;
use crate::optim::Optimizer;
use crate::problems::{Objective, Quadratic, ShiftedQuadratic};
use crate::theory::adagrad_norm::{self as th, rat};
use nalgebra::DVector;

/// The checker of `constant-step-divergence`.
pub const CHECKER: Checker = Checker {
    id: "constant-step-divergence",
    run: check,
};

/// ⌈c·bΔ/ε⌉ exactly (Lemma 2.1's 2bΔ/ε at c = 2), as a u64 (saturating).
fn t_count(c: f64, gap: f64, b: f64, eps: f64) -> u64 {
    let q = rat(c) * rat(b) * rat(gap) / rat(eps);
    th::Ceil {
        lo: q.ceil().to_integer(),
        hi: q.ceil().to_integer(),
    }
    .lo_u64()
}

fn gd_grad_sq(
    obj: &dyn Objective,
    x0: &DVector<f64>,
    b: f64,
    steps: usize,
    eps: f64,
) -> Result<(Vec<f64>, Option<usize>), CheckError> {
    let mut opt = Sgd::gd(1.0 / b)?;
    let mut x = x0.clone();
    let mut g = obj.gradient(&x);
    let mut out = vec![g.norm_squared()];
    let mut hit = (out[0] <= eps).then_some(0);
    for k in 1..=steps {
        opt.step(&mut x, &g)?;
        obj.gradient_into(&x, &mut g);
        let gs = g.norm_squared();
        out.push(gs);
        if hit.is_none() && gs <= eps {
            hit = Some(k);
            break;
        }
        if !gs.is_finite() {
            break;
        }
    }
    Ok((out, hit))
}

fn check(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let steps = ctx.usize("steps")?;
    let dims = ctx.usizes("dims")?;
    let seeds = ctx.u64("seeds")?;
    let b_over_l = ctx.f64s("b_over_l")?;
    let diverge_below = ctx.stmt_f64("diverge_below")?;
    let t_coeff = ctx.stmt_f64("t_coeff")?;
    let t_from = ctx.stmt_f64("t_from")?;
    let mut ev = Evidence::new();
    let q1 = Quadratic::diagonal(vec![1.0], DVector::zeros(1)).map_err(other)?;
    let x0 = DVector::from_element(1, 1.0);
    // (a) Divergence on f = x²/2 (L = 1): x_{k+1} = (1 − L/b)x_k. On a quadratic with
    // curvature in [0, L] the factor is max(1, L/b − 1), so x²/2 is GD's worst L-smooth case.
    let (gs, _) = gd_grad_sq(&q1, &x0, 0.4, 50, 0.0)?;
    let growth = (gs[50] / gs[0]).sqrt();
    ev.push(
        Measurement::new(
            "|∇f(x₅₀)|/|∇f(x₀)|, b = 0.4L on x²/2, vs the closed form 1.5⁵⁰",
            growth,
            1.5f64.powi(50),
            Relation::Approx {
                rel_tol: crate::prec::trajectory_rel(50),
            },
        )
        .with_note("|1 − L/b|^50; 50 steps of one multiply each"),
    );
    // Just below the statement's threshold: b = (1 − 10⁻³)·diverge_below·L. For the printed
    // L/2 the factor is |1 − 1/0.4995| = 1.002, so 5000 steps multiply |∇f| by ≈ e^10: the
    // iteration diverges (geometric growth forever). A threshold above L/2 puts b in (L/2, L)
    // where the factor is < 1 on every L-smooth quadratic and the descent lemma forbids
    // divergence on every L-smooth F: the growth is then < 1 by orders of magnitude.
    let b_edge = (1.0 - 1e-3) * diverge_below;
    let k_edge = 5000;
    let (gs, _) = gd_grad_sq(&q1, &x0, b_edge, k_edge, 0.0)?;
    // A run that contracts to an exact 0 stops early (its growth is then 0).
    let growth_edge = (gs[gs.len() - 1] / gs[0]).sqrt();
    ev.push(
        Measurement::new(
            format!("|∇f(x_{k_edge})|/|∇f(x₀)| on x²/2 at b = {b_edge}L (just below the stated threshold {diverge_below}L)"),
            growth_edge,
            1.0,
            Relation::AtLeast,
        )
        .with_note(format!(
            "closed form |1 − L/b|^{k_edge} = {:.3e}: growth > 1 per step forever is divergence",
            (1.0 - 1.0 / b_edge).abs().powi(k_edge as i32)
        ))
        .key(),
    );
    // (b) b = L/2: x_{k+1} = −x_k exactly (1 − 2 = −1 is exact), |∇f| constant. Context: the
    // paper's boundary (b ≤ L/2), not the slide's (b < L/2).
    let (gs_half, hit_half) = gd_grad_sq(&q1, &x0, 0.5, steps, 0.5)?;
    let spread = gs_half.iter().fold(0.0f64, |m, &v| m.max((v - 1.0).abs()));
    ev.push(
        Measurement::new(format!("max |‖∇f(x_k)‖² − 1| over {steps} steps, b = L/2"), spread, 0.0, Relation::Exact)
            .with_note(format!("oscillates ±x₀ for ever: neither converges nor diverges; never reaches ε = 0.5 (hit: {hit_half:?})"))
            .context(),
    );
    // (c) L/2 < b < L on x²/2 with ε = 0.1 (context): the first hit vs 2bΔ/ε and vs the
    // descent-lemma bound b²Δ/(ε(b − L/2)).
    let mut below_worst_descent = 0.0f64;
    let mut xs = Vec::new();
    let (mut y_hit, mut y_t, mut y_desc) = (Vec::new(), Vec::new(), Vec::new());
    for &r in b_over_l.iter().filter(|&&r| r > 0.5 && r < 1.0) {
        let eps = 0.1;
        let (_, hit) = gd_grad_sq(&q1, &x0, r, steps, eps)?;
        let hit = hit.ok_or_else(|| other("no hit for L/2 < b < L"))?;
        let t = t_count(2.0, 0.5, r, eps);
        let td = th::constant_step_iterations_descent(0.5, 1.0, r, eps)
            .map(|v| th::Ceil { lo: v.clone(), hi: v }.lo_u64())
            .ok_or_else(|| other("descent count undefined for b > L/2"))?;
        xs.push(r);
        y_hit.push(hit as f64);
        y_t.push(t as f64);
        y_desc.push(td as f64);
        below_worst_descent = below_worst_descent.max(hit as f64 / (td.max(2) - 1) as f64);
    }
    ev.push(
        Measurement::new(
            "worst first-hit/(N−1), L/2 < b < L, descent-lemma N = ⌈b²Δ/(ε(b − L/2))⌉ (x²/2, ε = 0.1)",
            below_worst_descent,
            1.0,
            Relation::AtMost,
        )
        .with_note("not claimed by the slide; what replaces T = 2bΔ/ε below L")
        .context(),
    );
    // (d) The corrected T (gap Δ) for every grid b ≥ t_from·L: the first j ≥ 0 with
    // ‖∇F‖² ≤ ε within ⌈t_coeff·bΔ/ε⌉ − 1, on x²/2 and on the batch-complexity instances.
    let mut worst = (0.0f64, String::new());
    let mut violations = Vec::new();
    let mut n = 0u64;
    let mut insts = instances(&dims, seeds)?;
    insts.insert(
        0,
        super::Instance {
            name: "x²/2".into(),
            obj: Box::new(q1.clone()),
            x0: x0.clone(),
            l: 1.0,
            gap: 0.5,
            raw: 0.5,
        },
    );
    for inst in &insts {
        let g0 = inst.obj.gradient(&inst.x0).norm_squared();
        for &r in b_over_l.iter().filter(|&&r| r >= t_from && r > 0.5) {
            for er in [1e-1, 1e-3] {
                let eps = er * g0;
                let b = r * inst.l;
                let t = t_count(t_coeff, inst.gap, b, eps).max(1);
                let cap = steps.min(t.saturating_sub(1) as usize);
                let (_, hit) = gd_grad_sq(inst.obj.as_ref(), &inst.x0, b, cap, eps)?;
                n += 1;
                match hit {
                    Some(k) => {
                        let ratio = k as f64 / (t.max(2) - 1) as f64;
                        if ratio > worst.0 {
                            worst = (
                                ratio,
                                format!("{} b/L={r} ε={eps:.2e}: {k} vs {}", inst.name, t - 1),
                            );
                        }
                    }
                    None if cap as u64 >= t.saturating_sub(1) => {
                        violations.push(format!("{} b/L={r} ε={eps:.2e} T={t}", inst.name))
                    }
                    None => {}
                }
            }
        }
    }
    ev.instances = n + 3;
    ev.push(
        Measurement::new(
            format!("runs with no hit within ⌈{t_coeff}bΔ/ε⌉ − 1 steps, b ≥ {t_from}L (gap Δ)"),
            violations.len() as f64,
            0.0,
            Relation::Exact,
        )
        .with_note(format!(
            "{n} runs; {}",
            violations.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        ))
        .key(),
    );
    ev.push(
        Measurement::new(
            format!("worst first-hit/(⌈{t_coeff}bΔ/ε⌉ − 1), b ≥ {t_from}L"),
            worst.0,
            1.0,
            Relation::AtMost,
        )
        .with_note(worst.1.clone()),
    );
    // (e) The printed T with the raw value: θ²/2 + c, c = −½(1 − 2^−j) < 0, b = 2L, ε = 1e-4.
    // GD halves x each step, so ‖∇f(x_k)‖² = 4^−k: the first hit is k = 7 whatever c is, while
    // the raw value 2^−(j+1) (hence T) tends to 0.
    let (b, eps) = (2.0, 1e-4);
    let mut found = None;
    for j in 1..=52 {
        let c = -0.5 * (1.0 - 2f64.powi(-j));
        let sq = ShiftedQuadratic::new(vec![1.0], c).map_err(other)?;
        let raw = sq.value(&x0);
        let t = t_count(2.0, raw, b, eps).max(1);
        let (_, hit) = gd_grad_sq(&sq, &x0, b, 100, eps)?;
        if hit.is_none_or(|k| k as u64 > t - 1) {
            found = Some((j, c, raw, t, hit));
            break;
        }
    }
    match found {
        Some((j, c, raw, t, hit)) => {
            ev.push(
                Measurement::new(
                    "first hit on θ²/2 + c (c < 0), b = 2L, vs ⌈T⌉ − 1 with T = 2bε⁻¹𝓛(θ⁰) (raw value, printed)",
                    hit.map_or(f64::INFINITY, |k| k as f64),
                    (t - 1) as f64,
                    Relation::AtMost,
                )
                .with_note(format!("c = {c}, raw 𝓛(θ⁰) = {raw:e}; with the gap 0.5, ⌈T⌉ = {}", t_count(2.0, 0.5, b, eps)))
                .witness()
                .key(),
            );
            ev.counterexample = Some(Counterexample {
                description: format!(
                    "f(θ) = θ²/2 + c with c = −½(1 − 2^-{j}) = {c} (inf f = c < 0, L = 1), θ⁰ = 1, b = 2L, ε = 1e-4: the slide's T = 2bε⁻¹𝓛(θ⁰) with the raw value {raw:e} gives ⌈T⌉ = {t} (iterates j = 0..{}), but GD halves θ each step and first reaches ‖∇f‖² ≤ ε at k = {}",
                    t - 1,
                    hit.map_or("never".to_string(), |k| k.to_string())
                ),
                values: vec![("c".into(), c), ("b".into(), b), ("raw_value".into(), raw), ("T".into(), t as f64)],
                found_by: "scan of c = −½(1 − 2^−j), j = 1, 2, …: the first failing j".into(),
            });
        }
        None => {
            ev.push(
                Measurement::new(
                    "θ²/2 + c scans where the raw-value T failed",
                    0.0,
                    0.0,
                    Relation::Exact,
                )
                .witness(),
            );
        }
    }
    ev.corrected_statement = Some(
        "With 𝓛(θ⁽⁰⁾) read as the gap 𝓛(θ⁽⁰⁾) − inf 𝓛 (Ward et al. JMLR Lemma 2.1): for b ≥ L, min_{j < ⌈T⌉} ‖∇𝓛(θ_j)‖² ≤ ε with T = 2bε⁻¹(𝓛(θ⁽⁰⁾) − inf 𝓛); for b < L/2 GD can diverge (x²/2). Both hold on every instance.".into(),
    );
    ev.figures.push(Figure {
        id: "below-l".into(),
        title: "Constant step 1/b on x²/2 (L = 1), L/2 < b < L, ε = 0.1".into(),
        x_label: "b / L".into(),
        y_label: "iterations".into(),
        log_x: false,
        log_y: true,
        series: vec![
            pt("first hit", Style::Points, xs.clone(), y_hit),
            pt("⌈2bΔ/ε⌉ (slide, for b ≥ L)", Style::Predicted, xs.clone(), y_t),
            pt("⌈b²Δ/(ε(b − L/2))⌉ (descent lemma)", Style::Predicted, xs, y_desc),
        ],
        caption: "Near b = L/2 the step 1/b → 2/L and the contraction |1 − L/b| → 1: the first hit exceeds 2bΔ/ε, while the descent-lemma bound still holds.".into(),
    });
    ev.remarks = Some("Ward et al. JMLR Lemma 2.1: T = 2bε⁻¹Δ (Δ = F(θ₀) − F*, min over j = 0..⌈T⌉−1) for b ≥ L, and for b ≤ L/2 GD can oscillate (b = L/2, context) or diverge (b < L/2). For L/2 < b < L (not in the paper) GD still converges but needs N = ⌈b²Δ/(ε(b − L/2))⌉ (context).".into());
    Ok(ev)
}
