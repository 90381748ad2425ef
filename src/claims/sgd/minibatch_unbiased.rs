//! Checker of `theorems/minibatch-unbiased.md`: a mini-batch gradient is unbiased, an epoch
//! partitions \[m\], and a batch of size B drawn without replacement has variance
//! σ²/B·(m−B)/(m−1).
//!
//! * **Witnesses** (the statement, by exact enumeration of all C(m, B) batches): the mean of
//!   the batch gradients equals ∇f to rounding; their variance equals the statement's formula
//!   (`finite_population_correction`: with the factor (m−B)/(m−1), or σ²/B without it); every
//!   epoch of the sampler partitions \[m\].
//! * **Check**: the sampler's first batch is uniform over the C(5, 2) subsets (chi-square,
//!   false-alarm probability 10⁻⁴) — the hypothesis under which the enumeration is the
//!   expectation.

use super::normal_vec;
use crate::claims::{
    CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series, Style,
};
use crate::prec::gamma;
use crate::problems::stochastic::{population_variance, subsets, without_replacement_variance};
use crate::problems::{BatchSampler, LastBatch};
use nalgebra::DVector;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The checker of `minibatch-unbiased`.
pub const CHECKER: Checker = Checker {
    id: "minibatch-unbiased",
    run: minibatch_unbiased,
};

fn minibatch_unbiased(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let ms = ctx.usizes("m")?;
    let d = ctx.usize("dim")?;
    let seeds = ctx.usizes("seeds")?;
    let epochs = ctx.usize("epochs")?;
    let chi_epochs = ctx.usize("chi_square_epochs")?;
    let fpc = ctx.stmt_bool("finite_population_correction")?;
    let mut instances = 0_u64;
    let (mut worst_mean, mut worst_var) = (0.0_f64, 0.0_f64);
    let mut fig_formula = Vec::new();
    let mut fig_enum = Vec::new();
    let mut fig_x = Vec::new();
    for &m in &ms {
        for &seed in &seeds {
            let mut rng = ChaCha8Rng::seed_from_u64(seed as u64 ^ (m as u64) << 20);
            let grads: Vec<DVector<f64>> = (0..m).map(|_| normal_vec(&mut rng, d)).collect();
            let (full, s2) = population_variance(&grads);
            let gmax = grads.iter().map(|g| g.amax()).fold(0.0, f64::max);
            let gnorm = grads.iter().map(|g| g.norm()).fold(0.0, f64::max);
            for b in 1..=m {
                let sets = subsets(m, b);
                let n = sets.len();
                let mut mean = DVector::zeros(d);
                let mut var = 0.0;
                for s in &sets {
                    let mut gs = DVector::zeros(d);
                    for &i in s {
                        gs += &grads[i];
                    }
                    gs /= b as f64;
                    var += (&gs - &full).norm_squared();
                    mean += gs;
                }
                mean /= n as f64;
                var /= n as f64;
                instances += 1;
                // Each batch mean carries γ_{b+1}·max|g_i| per coordinate; averaging n of them
                // adds γ_{n+1}; the full mean γ_{m+1}. Twice that sum bounds the difference.
                let coord_tol = 2.0 * (gamma(b + 1) + gamma(n + 1) + gamma(m + 1)) * gmax;
                let mean_err = (&mean - &full).amax();
                worst_mean = worst_mean.max(mean_err / coord_tol);
                // The statement's variance: σ²_pop/B·(m−B)/(m−1) (Cochran Thm 2.2), or σ²_pop/B
                // without the finite-population correction.
                let predicted = if fpc {
                    without_replacement_variance(s2, m, b).unwrap_or(f64::NAN)
                } else {
                    s2 / b as f64
                };
                // Deviation vectors carry δ ≤ √d·coord_tol/2 each; ‖x+e‖² − ‖x‖² ≤ 2‖x‖δ + δ²
                // with ‖x‖ ≤ 2 max‖g_i‖; the two sums add γ relative error.
                let delta = (d as f64).sqrt() * coord_tol;
                let var_tol = 4.0 * gnorm * delta
                    + delta * delta
                    + 2.0 * (gamma(n + 1) + gamma(m + 1)) * (var + predicted);
                let var_err = (var - predicted).abs();
                worst_var = worst_var.max(var_err / var_tol);
                if seed == seeds[0] && m == *ms.last().unwrap_or(&m) {
                    fig_x.push(b as f64);
                    fig_formula.push(predicted);
                    fig_enum.push(var);
                }
            }
        }
    }
    // Epochs partition [m].
    let mut partitions = 0_u64;
    let mut epoch_total = 0_u64;
    for &m in &ms {
        for b in 1..=m {
            for last in [LastBatch::Keep, LastBatch::Drop] {
                let mut s = BatchSampler::new(m, b, last, 7 + b as u64)
                    .map_err(|e| CheckError::Other(e.to_string()))?;
                for _ in 0..epochs {
                    let epoch = s.next_epoch();
                    epoch_total += 1;
                    let mut all = epoch.concat();
                    all.sort_unstable();
                    let dedup = all.windows(2).all(|w| w[0] < w[1]);
                    let expected_len = match last {
                        LastBatch::Keep => m,
                        LastBatch::Drop => (m / b) * b,
                    };
                    let sizes_ok = epoch.iter().all(|bt| bt.len() == b)
                        || (last == LastBatch::Keep
                            && epoch[..epoch.len() - 1].iter().all(|bt| bt.len() == b)
                            && epoch.last().map(|bt| bt.len()) == Some(m % b));
                    let covers = last == LastBatch::Drop || all == (0..m).collect::<Vec<_>>();
                    if dedup && all.len() == expected_len && sizes_ok && covers {
                        partitions += 1;
                    }
                }
            }
        }
    }
    // Uniformity of the first batch of an epoch over all C(m, b) subsets (chi-square).
    let (cm, cb) = (5, 2);
    let sets = subsets(cm, cb);
    let mut counts = vec![0_f64; sets.len()];
    let mut s =
        BatchSampler::new(cm, cb, LastBatch::Keep, 11).map_err(|e| CheckError::Other(e.to_string()))?;
    for _ in 0..chi_epochs {
        let mut first = s.next_epoch()[0].clone();
        first.sort_unstable();
        let k = sets.iter().position(|x| *x == first).unwrap_or(0);
        counts[k] += 1.0;
    }
    let expect = chi_epochs as f64 / sets.len() as f64;
    let chi2: f64 = counts.iter().map(|c| (c - expect).powi(2) / expect).sum();
    let dist = statrs::distribution::ChiSquared::new((sets.len() - 1) as f64)
        .map_err(|e| CheckError::Other(e.to_string()))?;
    use statrs::distribution::ContinuousCDF;
    let p_value = 1.0 - dist.cdf(chi2);
    let alpha_test = 1e-4;
    let mut ev = Evidence::new();
    ev.instances = instances + epoch_total + chi_epochs as u64;
    ev.measurements = vec![
        Measurement::new(
            "max |mean_S g_S − ∇f| / rounding bound",
            worst_mean,
            1.0,
            Relation::AtMost,
        )
        .with_note(format!(
            "bound 2(γ_{{B+1}}+γ_{{C(m,B)+1}}+γ_{{m+1}})·max|g_i|, every (m, B, seed): {instances} cases"
        ))
        .witness()
        .key(),
        Measurement::new(
            "max |Var_enum − formula| / rounding bound",
            worst_var,
            1.0,
            Relation::AtMost,
        )
        .with_note(if fpc {
            "formula σ²_pop/B·(m−B)/(m−1) (Cochran Thm 2.2)"
        } else {
            "formula σ²_pop/B (no finite-population correction)"
        })
        .witness()
        .key(),
        Measurement::new(
            "epochs that partition [m] (Keep) / are disjoint (Drop)",
            partitions as f64,
            epoch_total as f64,
            Relation::Exact,
        )
        .witness(),
        Measurement::new(
            "chi-square p-value, first batch uniform over C(5,2)",
            p_value,
            alpha_test,
            Relation::AtLeast,
        )
        .with_note(format!(
            "{chi_epochs} epochs; false-alarm probability {alpha_test}"
        )),
    ];
    ev.figures.push(Figure {
        id: "variance".into(),
        title: format!("Batch-gradient variance, m = {}", ms.last().copied().unwrap_or(0)),
        x_label: "batch size B".into(),
        y_label: "E‖g_S − ∇f‖²".into(),
        log_x: false,
        log_y: true,
        series: vec![
            Series {
                label: "enumerated over all C(m,B) batches".into(),
                style: Style::Points,
                x: fig_x.clone(),
                // B = m gives 0: not drawable on a log axis.
                y: fig_enum.iter().map(|v| v.max(1e-32)).collect(),
            },
            Series {
                label: "σ²/B·(m−B)/(m−1)".into(),
                style: Style::Predicted,
                x: fig_x,
                y: fig_formula.iter().map(|v| v.max(1e-32)).collect(),
            },
        ],
        caption: "Exact enumeration agrees with the finite-population formula; at B = m the variance is 0 (shown at 1e-32).".into(),
    });
    Ok(ev)
}
