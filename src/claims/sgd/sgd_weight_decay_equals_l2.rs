//! Checker of `theorems/sgd-weight-decay-equals-l2.md`: SGD with decoupled weight decay
//! θ ← (1−λ)θ − α∇L equals SGD on L + (λ′/2)‖θ‖² when λ = αλ′ (Loshchilov & Hutter, Prop. 1).
//!
//! * **Witness**: on random diagonal quadratics the two trajectories, with λ′ = λ/α^p (the
//!   statement's `alpha_power` p = 1), stay within a running rounding bound at every step.
//! * **Context**: how many runs are bit-for-bit identical and how many ulps apart the two
//!   operation orders end (not judged: exact in real arithmetic, not in f64).

use super::normal_vec;
use crate::claims::{
    CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series, Style,
};
use crate::optim::conventions::WeightDecay;
use crate::optim::sgd::SgdConfig;
use crate::optim::Optimizer;
use crate::prec::UNIT_ROUNDOFF;
use nalgebra::DVector;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The checker of `sgd-weight-decay-equals-l2`.
pub const CHECKER: Checker = Checker {
    id: "sgd-weight-decay-equals-l2",
    run: sgd_weight_decay_equals_l2,
};

/// Diagonal quadratic ½Σ h_i(θ_i − θ*_i)², the gradient computed coordinate-wise.
fn diag_grad(h: &DVector<f64>, star: &DVector<f64>, x: &DVector<f64>) -> DVector<f64> {
    DVector::from_fn(x.len(), |i, _| h[i] * (x[i] - star[i]))
}

fn sgd_weight_decay_equals_l2(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let seeds = ctx.usizes("seeds")?;
    let dim = ctx.usize("dim")?;
    let steps = ctx.usize("steps")?;
    let lambdas_prime = ctx.f64s("lambda_prime")?;
    let alpha_power = ctx.stmt_f64("alpha_power")?;
    let u = UNIT_ROUNDOFF;
    let mut instances = 0;
    let mut worst_ratio = 0.0_f64;
    let mut bit_identical = 0_u64;
    let mut max_ulps = 0_u64;
    let mut traj_fig = None;
    for &seed in &seeds {
        for &lp in &lambdas_prime {
            let mut rng = ChaCha8Rng::seed_from_u64(seed as u64);
            let h = DVector::from_fn(dim, |_, _| 10f64.powf(rng.random_range(-2.0..1.0)));
            let star = normal_vec(&mut rng, dim);
            let x0 = normal_vec(&mut rng, dim) * 3.0;
            let lmax = h.max() + lp;
            let alpha = 1.0 / lmax;
            let lambda = alpha * lp;
            let mut dec = SgdConfig {
                weight_decay: WeightDecay::DecoupledSchedule(lambda),
                ..SgdConfig::gd(alpha)
            }
            .build()?;
            // The statement's coupled coefficient: λ′ = λ/α^p (Prop. 1: p = 1).
            let mut cou = SgdConfig {
                weight_decay: WeightDecay::CoupledL2(lambda / alpha.powf(alpha_power)),
                ..SgdConfig::gd(alpha)
            }
            .build()?;
            let (mut xa, mut xb) = (x0.clone(), x0.clone());
            // Running bound on |xa_i − xb_i|: d ← q_i d + r_i (q_i = |1 − α(h_i + λ′)| ≤ 1).
            let mut bound = DVector::<f64>::zeros(dim);
            let mut all_same = true;
            let mut da = Vec::new();
            let mut db = Vec::new();
            for _ in 0..steps {
                let ga = diag_grad(&h, &star, &xa);
                let gb = diag_grad(&h, &star, &xb);
                for i in 0..dim {
                    let q = (1.0 - alpha * (h[i] + lp)).abs();
                    let xi = xa[i].abs().max(xb[i].abs());
                    // Per-step rounding of both forms (≤ 3 ops each on θ, α g, λθ), of the
                    // gradient (2 ops, scaled by α h_i) and of λ′ = λ/α (≤ 2u λ|θ|): 8u covers it.
                    let r = 8.0
                        * u
                        * (xi * (1.0 + lambda + alpha * lp)
                            + alpha * ga[i].abs().max(gb[i].abs())
                            + alpha * h[i] * (xi + star[i].abs()));
                    bound[i] = q * bound[i] + r;
                }
                dec.step(&mut xa, &ga)?;
                cou.step(&mut xb, &gb)?;
                for i in 0..dim {
                    let diff = (xa[i] - xb[i]).abs();
                    worst_ratio = worst_ratio.max(if bound[i] > 0.0 { diff / bound[i] } else { 0.0 });
                    max_ulps = max_ulps.max(crate::prec::ulps_between(xa[i], xb[i]));
                    all_same &= xa[i].to_bits() == xb[i].to_bits();
                }
                da.push((&xa - &star).norm());
                db.push((&xb - &xa).amax());
            }
            instances += 1;
            bit_identical += all_same as u64;
            if traj_fig.is_none() {
                traj_fig = Some((da, db));
            }
        }
    }
    let mut ev = Evidence::new();
    ev.instances = instances;
    ev.measurements = vec![
        Measurement::new(
            "max |θ_dec − θ_L2| / running rounding bound",
            worst_ratio,
            1.0,
            Relation::AtMost,
        )
        .with_note(format!(
            "bound d_{{k+1}} = |1−α(h+λ′)| d_k + 8u(|θ|(1+λ+αλ′) + α|g| + αh(|θ|+|θ*|)) per coordinate; {steps} steps"
        ))
        .witness()
        .key(),
        Measurement::new(
            "runs bit-for-bit identical",
            bit_identical as f64,
            instances as f64,
            Relation::Exact,
        )
        .with_note("not bit-for-bit in general: the two forms round differently")
        .context(),
        Measurement::new(
            "max ulps between the two trajectories (no bound claimed)",
            max_ulps as f64,
            max_ulps as f64,
            Relation::Exact,
        )
        .context(),
    ];
    ev.remarks = Some(format!(
        "Exact in real arithmetic (Loshchilov & Hutter Prop. 1); in f64 the two operation orders differ by rounding only: {bit_identical} of {instances} runs were bit-identical."
    ));
    if let Some((da, db)) = traj_fig {
        let x: Vec<f64> = (1..=da.len()).map(|k| k as f64).collect();
        ev.figures.push(Figure {
            id: "trajectories".into(),
            title: "SGD with decoupled decay vs SGD on L + λ′/2‖θ‖²".into(),
            x_label: "step k".into(),
            y_label: "value".into(),
            log_x: false,
            log_y: true,
            series: vec![
                Series {
                    label: "‖θ_k − θ*‖ (decoupled)".into(),
                    style: Style::Line,
                    x: x.clone(),
                    y: da,
                },
                Series {
                    label: "max_i |θ_dec − θ_L2| (+1e-300)".into(),
                    style: Style::Points,
                    x,
                    y: db.iter().map(|v| v + 1e-300).collect(),
                },
            ],
            caption: "The two forms differ only at the level of rounding.".into(),
        });
    }
    Ok(ev)
}
