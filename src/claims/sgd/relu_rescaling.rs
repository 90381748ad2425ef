//! Checker of `theorems/relu-rescaling.md`: "c⁻¹W₂ReLU(cW₁x) is independent of c".
//!
//! * **Witnesses** (the printed statement, for every real c ≠ 0): random networks and the
//!   minimal instance W₁ = W₂ = x = 1, c = −1, where c < 0 changes the output.
//! * **Checks** (the corrected statement): for every c > `c_min` (the statement: c > 0) the
//!   output is unchanged to rounding — bit for bit when c is a power of 2 — with the first-layer
//!   bias scaled with W₁ when `bias_scaled` (unscaled biases break it, checked too); for c < 0
//!   the map is −W₂ReLU(−W₁x).

use super::{normal_mat, normal_vec};
use crate::claims::{CheckContext, CheckError, Checker, Counterexample, Evidence, Measurement, Relation};
use crate::prec::{gamma, UNIT_ROUNDOFF};
use crate::problems::mlp::two_layer;
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The checker of `relu-rescaling`.
pub const CHECKER: Checker = Checker {
    id: "relu-rescaling",
    run: relu_rescaling,
};

fn relu_rescaling(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let seeds = ctx.usizes("seeds")?;
    let cs = ctx.f64s("c")?;
    let (d, hdim, o) = (ctx.usize("inputs")?, ctx.usize("hidden")?, ctx.usize("outputs")?);
    let c_min = ctx.stmt_f64("c_min")?;
    let bias_scaled = ctx.stmt_bool("bias_scaled")?;
    let mut worst_pos = 0.0_f64;
    let mut worst_bias_scaled = 0.0_f64;
    let mut neg_fail = 0_u64;
    let mut neg_total = 0_u64;
    let mut bias_fail = 0_u64;
    let mut bias_total = 0_u64;
    let mut pos_total = 0_u64;
    let mut pow2_exact = true;
    let mut neg_formula_ok = true;
    for &seed in &seeds {
        let mut rng = ChaCha8Rng::seed_from_u64(seed as u64);
        let w1 = normal_mat(&mut rng, hdim, d);
        let w2 = normal_mat(&mut rng, o, hdim);
        let b1 = normal_vec(&mut rng, hdim);
        let b2 = normal_vec(&mut rng, o);
        let x = normal_vec(&mut rng, d);
        let zero_h = DVector::zeros(hdim);
        let zero_o = DVector::zeros(o);
        let y1 = two_layer(&w1, &zero_h, &w2, &zero_o, &x);
        let y1b = two_layer(&w1, &b1, &w2, &b2, &x);
        // |W₂|(|W₁||x| + |b₁|) + |b₂|: the scale of the rounding of the forward pass.
        let scale = w2.abs() * (w1.abs() * x.abs() + b1.abs()) + b2.abs();
        // Scaling W₁, W₂ (2 roundings), two dot products (γ_{d+1}, γ_{h+1}), both networks.
        let tol = 2.0 * (gamma(d + 2) + gamma(hdim + 2) + 2.0 * UNIT_ROUNDOFF);
        for &c in &cs {
            let yc = two_layer(&(&w1 * c), &zero_h, &(&w2 / c), &zero_o, &x);
            // The corrected statement claims invariance for c > c_min (c_min = 0: c > 0).
            if c > c_min {
                pos_total += 1;
                for i in 0..o {
                    worst_pos = worst_pos.max((yc[i] - y1[i]).abs() / (tol * scale[i]));
                }
                if c > 0.0 && c.log2().fract() == 0.0 {
                    pow2_exact &= yc.iter().zip(y1.iter()).all(|(a, b)| a.to_bits() == b.to_bits());
                }
                // Biases: b₁ scaled by c keeps the function; b₁ unscaled does not.
                let b1c = if bias_scaled { &b1 * c } else { b1.clone() };
                let ycb = two_layer(&(&w1 * c), &b1c, &(&w2 / c), &b2, &x);
                for i in 0..o {
                    worst_bias_scaled = worst_bias_scaled
                        .max((ycb[i] - y1b[i]).abs() / (tol * scale[i] * c.abs().max(1.0 / c.abs())));
                }
                if c > 0.0 && c != 1.0 {
                    bias_total += 1;
                    let ycu = two_layer(&(&w1 * c), &b1, &(&w2 / c), &b2, &x);
                    if (0..o).any(|i| (ycu[i] - y1b[i]).abs() > tol * scale[i] * c.max(1.0 / c)) {
                        bias_fail += 1;
                    }
                }
            }
            if c < 0.0 {
                neg_total += 1;
                if (0..o).any(|i| (yc[i] - y1[i]).abs() > tol * scale[i] * c.abs().max(1.0 / c.abs())) {
                    neg_fail += 1;
                }
                // c < 0: c⁻¹W₂ReLU(cW₁x) = −W₂ReLU(−W₁x).
                let pred = -(&w2 * (-(&w1 * &x)).map(|v| v.max(0.0)));
                neg_formula_ok &=
                    (0..o).all(|i| (yc[i] - pred[i]).abs() <= tol * scale[i] * c.abs().max(1.0 / c.abs()));
            }
        }
    }
    let fails = neg_fail > 0;
    // The minimal counterexample, evaluated.
    let one = DMatrix::from_element(1, 1, 1.0);
    let zero1 = DVector::zeros(1);
    let x1 = DVector::from_element(1, 1.0);
    let y_pos = two_layer(&one, &zero1, &one, &zero1, &x1)[0];
    let y_neg = two_layer(&(&one * -1.0), &zero1, &(&one / -1.0), &zero1, &x1)[0];
    let mut ev = Evidence::new();
    ev.instances = pos_total + neg_total;
    ev.measurements = vec![
        Measurement::new(
            format!("c > {c_min}: max |f(c) − f(1)| / rounding bound"),
            worst_pos,
            1.0,
            Relation::AtMost,
        )
        .with_note(format!(
            "bound 2(γ_{{d+2}}+γ_{{h+2}}+2u)·(|W₂||W₁||x|)_i; {pos_total} cases"
        ))
        .key(),
        Measurement::new(
            format!(
                "c > {c_min} with b₁ {}: max deviation / bound",
                if bias_scaled { "→ cb₁" } else { "unscaled" }
            ),
            worst_bias_scaled,
            1.0,
            Relation::AtMost,
        ),
        Measurement::new(
            "c a power of 2: outputs bit-for-bit equal (1 = yes)",
            f64::from(u8::from(pow2_exact)),
            1.0,
            Relation::Exact,
        )
        .with_note("scaling by 2^k is exact, and so is every subsequent operation"),
        Measurement::new(
            "c < 0: f(c) = −W₂ReLU(−W₁x) to rounding (1 = every case)",
            f64::from(u8::from(neg_formula_ok)),
            1.0,
            Relation::Exact,
        ),
        Measurement::new(
            "c > 0, b₁ not scaled: cases that change the output",
            bias_fail as f64,
            bias_total as f64,
            Relation::Exact,
        )
        .with_note("the bias must scale with W₁"),
        Measurement::new(
            "c < 0: cases where the output is unchanged, as printed (of all c < 0 cases)",
            (neg_total - neg_fail) as f64,
            neg_total as f64,
            Relation::Exact,
        )
        .with_note("the printed statement says every c")
        .witness(),
        Measurement::new(
            "minimal instance W₁=W₂=x=1, c=−1: f(−1) vs f(1)",
            y_neg,
            y_pos,
            Relation::Exact,
        )
        .witness()
        .key(),
    ];
    if fails {
        ev.counterexample = Some(Counterexample {
            description: "d = h = o = 1, W₁ = W₂ = 1, x = 1, c = −1: c⁻¹W₂ReLU(cW₁x) = −ReLU(−1) = 0, but at c = 1 it is ReLU(1) = 1.".into(),
            values: vec![("W1".into(), 1.0), ("W2".into(), 1.0), ("x".into(), 1.0), ("c".into(), -1.0), ("f(c)".into(), y_neg), ("f(1)".into(), y_pos)],
            found_by: "closed form (ReLU is positively homogeneous only); confirmed by random search".into(),
        });
        ev.corrected_statement = Some("For every c > 0, c⁻¹W₂ReLU(cW₁x + cb₁) + b₂ = W₂ReLU(W₁x + b₁) + b₂ (positive homogeneity of ReLU); the first-layer bias must scale with W₁. For c < 0 the map is −W₂ReLU(−W₁x) instead.".into());
    }
    Ok(ev)
}
