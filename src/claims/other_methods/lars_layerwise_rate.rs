//! Checker of `theorems/lars-layerwise-rate.md`: LARS "uses different learning rates per layer
//! rather than per entry".
//!
//! * **Witnesses** (the statement): (1) within one `granularity` group (a layer, or the whole
//!   network for the mutant) every entry of the first LARS step Δ is the same multiple of
//!   g + βw — one learning rate per group; (2) rescaling one layer's gradient by c > 0 scales
//!   that layer's step norm by c^`norm_exponent` (the trust ratio makes it 0: the step norm is
//!   γη‖w^l‖ whatever ‖g^l‖ is).
//! * **Checks**: the step norm of each layer is γη‖w^l‖ (Algorithm 1 with β = 0, first step);
//!   the local learning rates differ between layers on these instances (so "per layer" is not
//!   vacuously "global").
//! * **Context**: with the paper's weight decay β = 5·10⁻⁴ and with optax's ε the invariance
//!   holds only approximately: the deviation is shown.

use super::*;
use crate::optim::lars::{Lars, LarsConfig, LarsTrustRatio};
use crate::optim::layout::Layout;
use crate::optim::Optimizer;
use crate::prec::{gamma, UNIT_ROUNDOFF};
use nalgebra::DVector;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The checker of `lars-layerwise-rate`.
pub const CHECKER: Checker = Checker {
    id: "lars-layerwise-rate",
    run: check_lars,
};

const ID: &str = "lars-layerwise-rate";
const LR: f64 = 0.5;
const ETA: f64 = 1e-3;

fn lars(layout: &Layout, beta: f64, ratio: LarsTrustRatio) -> Result<Lars, CheckError> {
    Ok(LarsConfig {
        lr: LR,
        momentum: 0.9,
        weight_decay: beta,
        trust_coefficient: ETA,
        trust_ratio: ratio,
        ..LarsConfig::paper()
    }
    .with_layout(layout.clone())
    .build()?)
}

/// The first step Δ = −v₁ of LARS from `w` with gradient `g` (v₀ = 0: momentum plays no part
/// at the first step). Read from the velocity, not as w₁ − w₀: that difference would carry the
/// rounding of w₁ (u‖w‖) into a step γη times smaller (a relative error of u/(γη) ≈ 2·10⁻¹³).
fn first_step(
    layout: &Layout,
    beta: f64,
    ratio: LarsTrustRatio,
    w: &DVector<f64>,
    g: &DVector<f64>,
) -> Result<DVector<f64>, CheckError> {
    let mut opt = lars(layout, beta, ratio)?;
    let mut x = w.clone();
    opt.step(&mut x, g)?;
    Ok(-opt
        .velocity()
        .ok_or_else(|| other("LARS has no velocity after a step"))?
        .clone())
}

fn check_lars(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let granularity = ctx.stmt_str("granularity")?.to_string();
    if granularity != "layer" && granularity != "global" {
        return Err(bad_statement(
            ID,
            "granularity",
            &granularity,
            "\"layer\" or \"global\"",
        ));
    }
    let p = ctx.stmt_f64("norm_exponent")?;
    let seeds = ctx.u64("seeds")?;
    let scales = ctx.f64s("scales")?;
    let shapes = ctx.usizes("shapes")?;
    let layout = Layout::from_shapes(
        shapes
            .chunks(2)
            .enumerate()
            .map(|(i, s)| (format!("layer{i}"), s[0], s[1])),
    );
    let n = layout.dim();
    let mut ev = Evidence::new();
    let mut spread_worst: f64 = 0.0;
    let mut norm_worst = (0.0f64, String::new());
    let mut step_norm_worst: f64 = 0.0;
    let mut min_lr_ratio = f64::INFINITY;
    let mut beta_dev: f64 = 0.0;
    let mut eps_dev: f64 = 0.0;
    let mut fig: Vec<(f64, f64, f64)> = Vec::new();
    for seed in 0..seeds {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
        // Layers of different scales, so their learning rates differ.
        let w = DVector::from_fn(n, |i, _| {
            let l = layout
                .blocks()
                .iter()
                .position(|b| b.range().contains(&i))
                .unwrap_or(0);
            (1.0 + 3.0 * l as f64) * rng.random_range(-1.0..1.0)
        });
        let g = DVector::from_fn(n, |i, _| {
            let l = layout
                .blocks()
                .iter()
                .position(|b| b.range().contains(&i))
                .unwrap_or(0);
            rng.random_range(-1.0..1.0) / (1.0 + 5.0 * l as f64)
        });
        let delta = first_step(&layout, 0.0, LarsTrustRatio::Paper, &w, &g)?;
        // (1) One learning rate per group: the ratios Δ_i/g_i within a group.
        let groups: Vec<std::ops::Range<usize>> = if granularity == "layer" {
            layout.blocks().iter().map(|b| b.range()).collect()
        } else {
            std::iter::once(0..n).collect()
        };
        for r in groups {
            let ratios: Vec<f64> = r
                .clone()
                .filter(|&i| g[i] != 0.0)
                .map(|i| delta[i] / g[i])
                .collect();
            let (lo, hi) = ratios
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            spread_worst = spread_worst.max((hi - lo).abs() / hi.abs().max(lo.abs()));
        }
        let lrs: Vec<f64> = layout
            .blocks()
            .iter()
            .map(|b| (delta[b.offset] / g[b.offset]).abs())
            .collect();
        let (lo, hi) = lrs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
        min_lr_ratio = min_lr_ratio.min(hi / lo);
        // (2) Rescale one layer's gradient by c: that layer's step norm scales by c^p.
        for (l, b) in layout.blocks().iter().enumerate() {
            let base = delta.rows(b.offset, b.len()).norm();
            let wn = w.rows(b.offset, b.len()).norm();
            step_norm_worst = step_norm_worst.max((base - LR * ETA * wn).abs() / (LR * ETA * wn));
            for &c in &scales {
                let mut gc = g.clone();
                gc.rows_mut(b.offset, b.len()).scale_mut(c);
                let dc = first_step(&layout, 0.0, LarsTrustRatio::Paper, &w, &gc)?;
                let ratio = dc.rows(b.offset, b.len()).norm() / base;
                let dev = (ratio / c.powf(p) - 1.0).abs();
                if dev >= norm_worst.0 {
                    norm_worst = (dev, format!("layer {l}, c = {c}"));
                }
                if seed == 0 && l == 0 {
                    fig.push((c, ratio, c));
                }
                // Context: β = 5e-4 (the paper's decay) and optax's ε = 1e-9.
                let db0 = first_step(&layout, 5e-4, LarsTrustRatio::Paper, &w, &g)?;
                let dbc = first_step(&layout, 5e-4, LarsTrustRatio::Paper, &w, &gc)?;
                beta_dev = beta_dev.max(
                    (dbc.rows(b.offset, b.len()).norm() / db0.rows(b.offset, b.len()).norm() - 1.0).abs(),
                );
                let eps = LarsTrustRatio::Optax { eps: 1e-9 };
                let de0 = first_step(&layout, 0.0, eps, &w, &g)?;
                let dec = first_step(&layout, 0.0, eps, &w, &gc)?;
                eps_dev = eps_dev.max(
                    (dec.rows(b.offset, b.len()).norm() / de0.rows(b.offset, b.len()).norm() - 1.0).abs(),
                );
            }
        }
    }
    let biggest = layout.blocks().iter().map(|b| b.len()).max().unwrap_or(1);
    // Δ_i = −(γλ)·g_i: one product of the same scalar with g_i (≤ u) and the division by g_i
    // (≤ u): any two ratios differ by ≤ 4u relative.
    ev.push(
        Measurement::new(
            format!(
                "one learning rate per {granularity}: max relative spread of Δ_i/g_i within a {granularity}"
            ),
            spread_worst,
            4.0 * UNIT_ROUNDOFF,
            Relation::AtMost,
        )
        .with_note(
            "first LARS step (paper trust ratio, β = 0); within a group every entry is scaled by the same γλ",
        )
        .witness()
        .key(),
    );
    // Two norms of ≤ `biggest` terms (γ each; the root halves it), the trust ratio's norms
    // (2γ more), products and quotients (8u).
    let tol = 4.0 * gamma(biggest) + 16.0 * UNIT_ROUNDOFF;
    ev.push(
        Measurement::new(
            format!(
                "‖Δ^l(c·g^l)‖ = c^{p}·‖Δ^l(g^l)‖ for c ∈ {scales:?}: max relative deviation (worst {})",
                norm_worst.1
            ),
            norm_worst.0,
            tol,
            Relation::AtMost,
        )
        .with_note("the trust ratio η‖w‖/‖g‖ cancels ‖g‖: tolerance 4γ_n + 16u")
        .witness()
        .key(),
    );
    ev.push(
        Measurement::new(
            "‖Δ^l‖ = γη‖w^l‖ (Algorithm 1, β = 0, first step): max relative deviation",
            step_norm_worst,
            tol,
            Relation::AtMost,
        )
        .with_note("the trust ratio sets the per-layer step norm"),
    );
    ev.push(
        Measurement::new(
            "the layers' learning rates differ: min over instances of max/min local LR",
            min_lr_ratio,
            1.1,
            Relation::AtLeast,
        )
        .with_note(
            "instances with layers of different scales, so a per-layer rate is visibly not a global one",
        ),
    );
    ev.push(
        Measurement::new(
            "with the paper's β = 5e-4: max |‖Δ(cg)‖/‖Δ(g)‖ − 1|",
            beta_dev,
            tol,
            Relation::AtMost,
        )
        .with_note("‖Δ‖ = γη‖w‖‖cg + βw‖/(c‖g‖ + β‖w‖): invariant only when β = 0 or g ∥ w")
        .context(),
    );
    ev.push(
        Measurement::new(
            "optax's ε = 1e-9: max |‖Δ(cg)‖/‖Δ(g)‖ − 1|",
            eps_dev,
            tol,
            Relation::AtMost,
        )
        .with_note("η‖w‖/(‖g‖ + ε): invariant up to ε/‖g‖")
        .context(),
    );
    ev.instances = seeds * (1 + (scales.len() * layout.blocks().len()) as u64);
    fig.sort_by(|a, b| a.0.total_cmp(&b.0));
    ev.figures.push(Figure {
        id: "invariance".into(),
        title: "Layer step norm when the layer's gradient is rescaled by c".into(),
        x_label: "c".into(),
        y_label: "‖Δ(c·g)‖ / ‖Δ(g)‖".into(),
        log_x: true,
        log_y: true,
        series: vec![
            Series {
                label: "LARS (trust ratio)".into(),
                style: Style::Points,
                x: fig.iter().map(|t| t.0).collect(),
                y: fig.iter().map(|t| t.1).collect(),
            },
            Series {
                label: "SGD (per-entry rate): c".into(),
                style: Style::Predicted,
                x: fig.iter().map(|t| t.0).collect(),
                y: fig.iter().map(|t| t.2).collect(),
            },
        ],
        caption: "LARS's per-layer trust ratio η‖w‖/‖g‖ makes the layer's step norm γη‖w‖ whatever the gradient's scale; SGD's grows like c.".into(),
    });
    Ok(ev)
}
