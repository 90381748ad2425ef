//! Checker of [`theorems/adam-defaults.md`](../../../theorems/adam-defaults.md): the default
//! settings α = 0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-8 of Kingma & Ba's Algorithm 1 (quoted on
//! the slide, and again in line 1 of the AdamW slide) are the ones the frameworks' Adam
//! constructors actually use.
//!
//! The values are not compared with constants typed into this crate: Algorithm 1, written out
//! here with the `[statement]`'s (α, β₁, β₂, ε), is replayed step by step against Adam runs
//! recorded from PyTorch and optax (constructed with every default except the learning rate,
//! which their headers name) and from Keras (constructed with no argument at all, so it also
//! tests α; Keras uses the ε̂ form of Kingma & Ba §2 with its own ε̂ = 1e-7, a different
//! parameter). A changed default changes the recorded steps beyond rounding: every check can
//! fail, and the card's mutants (one default changed each) must.

use crate::claims::common::golden::{golden, replay};
use crate::claims::{CheckContext, CheckError, Checker, Evidence, Measurement, Relation};
use crate::prec::UNIT_ROUNDOFF;

/// The checker.
pub const CHECKER: Checker = Checker {
    id: "adam-defaults",
    run,
};

fn run(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let traces = ctx.strs("traces")?;
    let keras_eps_hat = ctx.f64("keras_eps_hat")?;
    let alpha = ctx.stmt_f64("alpha")?;
    let b1 = ctx.stmt_f64("beta1")?;
    let b2 = ctx.stmt_f64("beta2")?;
    let eps = ctx.stmt_f64("eps")?;
    let u = UNIT_ROUNDOFF;
    // Per step, m̂ is known to 5u/(1−β₁) + 2u relative to the bias-corrected EMA of |g| and
    // √v̂ to half of 5u/(1−β₂) + 3u (adam-bias-correction's running error analysis), on both
    // sides and in either operation order: 4(5u/(1−β₁) + 5u/(1−β₂)) relative to
    // α·EMA|g|/(√v̂ + ε) covers them with room for the final division.
    let rel = 4.0 * (5.0 * u / (1.0 - b1) + 5.0 * u / (1.0 - b2));
    let mut ev = Evidence::new();
    for name in &traces {
        let trace = golden(name)?;
        let n = trace.header.params0.len();
        let keras = trace.header.preset == "keras";
        let (lr, lr_from) = match trace.hyper(&["lr", "learning_rate"]) {
            Some(lr) => (lr, "the header's learning rate"),
            None => (alpha, "α (no override)"),
        };
        let (mut m, mut v, mut a) = (vec![0.0_f64; n], vec![0.0_f64; n], vec![0.0_f64; n]);
        let fit = replay(&trace, rel, |t, grad| {
            let tf = t as f64;
            let (bc1, bc2) = (1.0 - b1.powf(tf), 1.0 - b2.powf(tf));
            (0..n)
                .map(|i| {
                    let g = grad[i];
                    m[i] = b1 * m[i] + (1.0 - b1) * g;
                    v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                    a[i] = b1 * a[i] + (1.0 - b1) * g.abs();
                    if keras {
                        // Kingma & Ba §2, last paragraph: α_t = α√(1−β₂ᵗ)/(1−β₁ᵗ),
                        // θ_t = θ_{t−1} − α_t m_t/(√v_t + ε̂).
                        let at = lr * bc2.sqrt() / bc1;
                        let d = -(m[i] * at) / (v[i].sqrt() + keras_eps_hat);
                        (d, at * a[i] / (v[i].sqrt() + keras_eps_hat))
                    } else {
                        let vh = v[i] / bc2;
                        let d = -lr * (m[i] / bc1) / (vh.sqrt() + eps);
                        (d, lr * (a[i] / bc1) / (vh.sqrt() + eps))
                    }
                })
                .collect()
        });
        let form = if keras {
            format!("ε̂ form, ε̂ = {keras_eps_hat} (Keras)")
        } else {
            format!("ε = {eps}")
        };
        ev.push(
            Measurement::new(
                format!("{name}: max |recorded step − Algorithm 1 step| ÷ tolerance"),
                fit.worst,
                1.0,
                Relation::AtMost,
            )
            .with_note(format!(
                "β₁ = {b1}, β₂ = {b2}, {form}, step size {lr} = {lr_from}; {} steps×coordinates; largest relative difference {:.2e}; producer {}",
                fit.compared, fit.worst_rel, trace.header.producer
            ))
            .key(),
        );
        ev.instances += 1;
    }
    ev.remarks = Some("PyTorch's and optax's traces were recorded with an explicit learning rate (0.01, named in their headers), so they test β₁, β₂ and ε; Keras' were recorded with no argument, so they test α, β₁ and β₂ — Keras' ε is the ε̂ of the paper's reordered update (default 1e-7), not Algorithm 1's ε. Whether these settings are 'good for the tested problems' is the paper's experimental claim, not checked here.".into());
    Ok(ev)
}
