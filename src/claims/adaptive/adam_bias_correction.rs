//! Checker of [`theorems/adam-bias-correction.md`](../../../theorems/adam-bias-correction.md):
//! with m₀ = v₀ = 0 and a constant gradient g, Algorithm 1's bias-corrected estimates are
//! exact, m̂_t = g and v̂_t = g², for every t.
//!
//! * witnesses: m̂_t and v̂_t, formed from `optim::adam`'s stored m_t, v_t with the
//!   `[statement]`'s correction (power t + shift, extra factor (1−β₁)^e), equal g and g² to
//!   the rounding bound, for every t, magnitude and (β₁, β₂);
//! * checks: the hypothesis m₀ = v₀ = 0 holds in the runs (m₁ = (1−β₁)g, v₁ = (1−β₂)g²).

use crate::claims::{
    CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series, Style,
};
use crate::optim::adam::AdamConfig;
use crate::optim::Optimizer;
use crate::prec::UNIT_ROUNDOFF;
use nalgebra::DVector;

/// The checker.
pub const CHECKER: Checker = Checker {
    id: "adam-bias-correction",
    run,
};

fn run(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let steps = ctx.usize("steps")?;
    let mags = ctx.f64s("magnitudes")?;
    let betas1 = ctx.f64s("beta1")?;
    let betas2 = ctx.f64s("beta2")?;
    let m_shift = ctx.stmt_f64("m_power_shift")?;
    let v_shift = ctx.stmt_f64("v_power_shift")?;
    let m_factor_exp = ctx.stmt_f64("m_factor_exponent")?;
    let u = UNIT_ROUNDOFF;
    let mut worst_m = 0.0_f64;
    let mut worst_v = 0.0_f64;
    let mut worst_init = 0.0_f64;
    let mut ev = Evidence::new();
    let mut fig = None;
    for (&b1, &b2) in betas1.iter().zip(&betas2) {
        // m_t = β₁m_{t−1} + (1−β₁)g carries ≤ 2u|g| new error per step and contracts old
        // error by β₁: |m̃_t − m_t| ≤ 2u|g|/(1−β₁); 1 − β₁ᵗ with powf (≤ 1 ulp) adds ≤
        // 2uβ₁ᵗ/(1−β₁ᵗ) ≤ 2uβ₁/(1−β₁), the division u. Hence 5u/(1−β₁) + 2u relative for m̂
        // and, with the rounding of g², 5u/(1−β₂) + 3u for v̂.
        let bound_m = 5.0 * u / (1.0 - b1) + 2.0 * u;
        let bound_v = 5.0 * u / (1.0 - b2) + 3.0 * u;
        let m_factor = (1.0 - b1).powf(m_factor_exp);
        for &mag in &mags {
            let g = DVector::from_vec(vec![mag, -mag * 0.37, mag * 3.1]);
            let mut o = AdamConfig {
                beta1: b1,
                beta2: b2,
                ..AdamConfig::paper()
            }
            .build()?;
            let mut x = DVector::zeros(3);
            let (mut mh_curve, mut m_curve) = (Vec::new(), Vec::new());
            for t in 1..=steps {
                o.step(&mut x, &g)?;
                let tf = t as f64;
                let (bc1, bc2) = (1.0 - b1.powf(tf + m_shift), 1.0 - b2.powf(tf + v_shift));
                let m = o.m().expect("state after a step");
                let v = o.v().expect("state after a step");
                for i in 0..3 {
                    if t == 1 {
                        // One rounding each: (1−β₁)·g and (1−β₂)·(g·g): 2u relative.
                        let r_m = (m[i] - (1.0 - b1) * g[i]).abs() / ((1.0 - b1) * g[i]).abs();
                        let r_v = (v[i] - (1.0 - b2) * g[i] * g[i]).abs() / ((1.0 - b2) * g[i] * g[i]);
                        worst_init = worst_init.max(r_m.max(r_v) / (2.0 * u));
                    }
                    let mh = m_factor * m[i] / bc1;
                    let vh = v[i] / bc2;
                    let em = (mh - g[i]).abs() / g[i].abs() / bound_m;
                    let evv = (vh - g[i] * g[i]).abs() / (g[i] * g[i]) / bound_v;
                    // A NaN (0/0 from a correction 1 − β⁰) is a violation.
                    worst_m = if em.is_nan() {
                        f64::INFINITY
                    } else {
                        worst_m.max(em)
                    };
                    worst_v = if evv.is_nan() {
                        f64::INFINITY
                    } else {
                        worst_v.max(evv)
                    };
                }
                if mag == 1.0 && b1 == betas1[0] {
                    mh_curve.push(m_factor * m[0] / bc1);
                    m_curve.push(m[0]);
                }
            }
            ev.instances += 1;
            if !mh_curve.is_empty() {
                fig = Some((m_curve, mh_curve));
            }
        }
    }
    let corr = |shift: f64| {
        if shift == 0.0 {
            "t".to_string()
        } else {
            format!("t{shift:+}")
        }
    };
    ev.push(
        Measurement::new(
            format!(
                "max |m̂_t − g|/|g| ÷ (5u/(1−β₁) + 2u), m̂_t = {}m_t/(1−β₁^{})",
                if m_factor_exp == 0.0 {
                    String::new()
                } else {
                    format!("(1−β₁)^{m_factor_exp}·")
                },
                corr(m_shift)
            ),
            worst_m,
            1.0,
            Relation::AtMost,
        )
        .with_note(format!("every t ≤ {steps}, magnitudes {mags:?}, β₁ ∈ {betas1:?}"))
        .witness()
        .key(),
    );
    ev.push(
        Measurement::new(
            format!(
                "max |v̂_t − g²|/g² ÷ (5u/(1−β₂) + 3u), v̂_t = v_t/(1−β₂^{})",
                corr(v_shift)
            ),
            worst_v,
            1.0,
            Relation::AtMost,
        )
        .with_note(format!("β₂ ∈ {betas2:?}"))
        .witness()
        .key(),
    );
    ev.push(
        Measurement::new(
            "hypothesis m₀ = v₀ = 0: max relative |m₁ − (1−β₁)g|, |v₁ − (1−β₂)g²| ÷ 2u",
            worst_init,
            1.0,
            Relation::AtMost,
        )
        .with_note("one rounding per product"),
    );
    if let Some((m, mh)) = fig {
        let x: Vec<f64> = (1..=m.len()).map(|t| t as f64).collect();
        ev.figures.push(Figure {
            id: "moments".into(),
            title: "Constant gradient g = 1: raw vs bias-corrected first moment".into(),
            x_label: "t".into(),
            y_label: "estimate of g".into(),
            log_x: true,
            log_y: false,
            series: vec![
                Series {
                    label: "m_t = (1 − β₁ᵗ)g".into(),
                    style: Style::Line,
                    x: x.clone(),
                    y: m,
                },
                Series {
                    label: "m̂_t".into(),
                    style: Style::Line,
                    x,
                    y: mh,
                },
            ],
            caption: "Without correction the first moment starts at (1−β₁)g; the correction makes it exact from t = 1."
                .into(),
        });
    }
    Ok(ev)
}
