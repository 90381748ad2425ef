//! Checker of `theorems/adagrad-norm-b0-accuracy.md`: Ward, Wu & Bottou's Figs. 1–2
//! (AdaGrad-Norm is robust to the initialisation b₀; SGD with step 1/b₀ is not), reproduced on
//! the vendored UCI digits with multinomial logistic regression and a two-layer ReLU network,
//! full batch and mini-batches, b₀ on a log grid from 10⁻² to 10⁴.
//!
//! For each (model, batch mode, method, b₀) the test accuracy after the last reported epoch
//! is averaged over seeds (Student-t interval, level 1 − α). A b₀ is *within 1 point* of the
//! best when its interval's upper end reaches best mean − 0.01 (so a b₀ is called worse only
//! when it is significantly worse).
//!
//! * **Witnesses** (the statement): AdaGrad-Norm is within 1 point of its best at every grid
//!   b₀ ≤ `agn_robust_up_to`; its robust range is at least as wide as SGD's; with
//!   `sgd_as_robust` (a false statement, the mutant) SGD would be within 1 point at every
//!   b₀ ≤ `agn_robust_up_to` too.
//! * **Context**: the accuracies after each reported epoch and the robust widths in decades.

use super::{Model, Problems, SPLIT_SEED};
use crate::claims::common::stats::t_interval;
use crate::claims::RunCache;
use crate::claims::{
    CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series, Style,
};
use crate::optim::adagrad_norm::AdaGradNormConfig;
use crate::optim::sgd::SgdConfig;
use crate::optim::Optimizer;
use crate::problems::{BatchSampler, LastBatch};
use nalgebra::DVector;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// The checker of `adagrad-norm-b0-accuracy`.
pub const CHECKER: Checker = Checker {
    id: "adagrad-norm-b0-accuracy",
    run: check,
};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Method {
    AdaGradNorm,
    SgdOneOverB0,
}

impl Method {
    fn label(self) -> &'static str {
        match self {
            Method::AdaGradNorm => "AdaGrad-Norm",
            Method::SgdOneOverB0 => "SGD, step 1/b₀",
        }
    }
}

/// One run: test accuracy after each of `epochs` (cumulative epoch counts).
fn run(
    problems: &Problems,
    method: Method,
    b0: f64,
    batch: Option<usize>,
    epochs: &[usize],
    seed: u64,
) -> Result<Vec<f64>, CheckError> {
    let mut theta = problems.init(seed);
    let mut opt: Box<dyn Optimizer> = match method {
        Method::AdaGradNorm => Box::new(AdaGradNormConfig::new(1.0, b0).build()?),
        Method::SgdOneOverB0 => Box::new(SgdConfig::gd(1.0 / b0).build()?),
    };
    let m = problems.num_examples();
    let mut sampler = match batch {
        Some(b) => Some(
            BatchSampler::new(m, b, LastBatch::Keep, seed.wrapping_mul(7919))
                .map_err(|e| CheckError::Other(e.to_string()))?,
        ),
        None => None,
    };
    let (mut g, mut scratch) = (DVector::zeros(theta.len()), DVector::zeros(theta.len()));
    let mut out = Vec::with_capacity(epochs.len());
    let last = epochs.iter().copied().max().unwrap_or(0);
    let mut diverged = false;
    for epoch in 1..=last {
        if !diverged {
            let batches = match sampler.as_mut() {
                Some(s) => s.next_epoch(),
                None => vec![Vec::new()],
            };
            for b in &batches {
                let rows = sampler.as_ref().map(|_| b.as_slice());
                problems.batch_gradient(rows, &theta, &mut scratch, &mut g)?;
                if !g.iter().all(|v| v.is_finite()) || opt.step(&mut theta, &g).is_err() {
                    diverged = true;
                    theta.fill(f64::NAN);
                    break;
                }
            }
        }
        if epochs.contains(&epoch) {
            out.push(problems.test_accuracy(&theta));
        }
    }
    Ok(out)
}

/// Everything the runs depend on (the statement does not): the mutants reuse the runs.
type Key = (Model, Option<usize>, Method, u64, usize, usize, Vec<usize>);

/// Accuracies of every seed (rows) after each reported epoch (columns).
#[allow(clippy::too_many_arguments)]
fn runs(
    problems: &Problems,
    model: Model,
    batch: Option<usize>,
    method: Method,
    b0: f64,
    seeds: usize,
    hidden: usize,
    epochs: &[usize],
) -> Result<Arc<Vec<Vec<f64>>>, CheckError> {
    static CACHE: RunCache<Key, Vec<Vec<f64>>> = RunCache::new();
    let key = (model, batch, method, b0.to_bits(), seeds, hidden, epochs.to_vec());
    CACHE.get_or_run(key, || {
        (0..seeds as u64)
            .into_par_iter()
            .map(|s| run(problems, method, b0, batch, epochs, 1 + s))
            .collect()
    })
}

fn check(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let b0s = ctx.f64s("b0")?;
    let epochs = ctx.usizes("epochs")?;
    let seeds = ctx.usize("seeds")?;
    let batch_size = ctx.usize("batch_size")?;
    let hidden = ctx.usize("hidden")?;
    let models: Vec<Model> = ctx
        .strs("models")?
        .iter()
        .map(|m| match m.as_str() {
            "logistic" => Ok(Model::Logistic),
            "two-layer" => Ok(Model::TwoLayer),
            other => Err(CheckError::Card(crate::claims::CardError::WrongType {
                card: ctx.card.id.clone(),
                section: "quick/full".into(),
                key: format!("models (found {other:?})"),
                expected: "\"logistic\" or \"two-layer\"",
            })),
        })
        .collect::<Result<_, _>>()?;
    let alpha = ctx.f64("alpha")?;
    let robust_up_to = ctx.stmt_f64("agn_robust_up_to")?;
    let sgd_as_robust = ctx.stmt_bool("sgd_as_robust")?;
    let last = epochs.len() - 1;
    let decade_step = (b0s[b0s.len() - 1] / b0s[0]).log10() / (b0s.len() - 1) as f64;

    let mut ev = Evidence::new();
    let mut figures = Vec::new();
    let mut instances = 0_u64;
    for &model in &models {
        let problems = Problems::new(model, hidden)?;
        for batch in [None, Some(batch_size)] {
            let setting = format!(
                "{}, {}",
                match model {
                    Model::Logistic => "logistic regression".to_string(),
                    Model::TwoLayer => format!("two layers (64-{hidden}-10 ReLU)"),
                },
                match batch {
                    None => "full batch".to_string(),
                    Some(b) => format!("mini-batch B = {b}"),
                }
            );
            let mut width = HashMap::new();
            let mut series = Vec::new();
            for method in [Method::AdaGradNorm, Method::SgdOneOverB0] {
                // (mean, upper end) of the final test accuracy per b₀.
                let mut finals = Vec::new();
                for &b0 in &b0s {
                    let r = runs(&problems, model, batch, method, b0, seeds, hidden, &epochs)?;
                    instances += seeds as u64;
                    let last_col: Vec<f64> = r.iter().map(|row| row[last]).collect();
                    let (mean, _, hi) = if seeds >= 2 {
                        t_interval(&last_col, alpha)
                    } else {
                        (last_col[0], last_col[0], last_col[0])
                    };
                    finals.push((b0, mean, if hi.is_nan() { mean } else { hi }));
                }
                let best = finals.iter().map(|f| f.1).fold(f64::NEG_INFINITY, f64::max);
                let within: Vec<bool> = finals.iter().map(|f| f.2 >= best - 0.01).collect();
                width.insert(method, within.iter().filter(|w| **w).count());
                // Robust up to the statement's b₀: the worst shortfall below best − 0.01 there.
                let judged: Vec<&(f64, f64, f64)> = finals.iter().filter(|f| f.0 <= robust_up_to).collect();
                let shortfall = judged
                    .iter()
                    .map(|f| (best - 0.01) - f.2)
                    .fold(f64::NEG_INFINITY, f64::max);
                if method == Method::AdaGradNorm || sgd_as_robust {
                    ev.push(
                        Measurement::new(
                            format!(
                                "{setting}, {}: max over b₀ ≤ {robust_up_to:e} of (best − 1 point) − CI upper end of test accuracy",
                                method.label()
                            ),
                            shortfall,
                            0.0,
                            Relation::AtMost,
                        )
                        .with_note(format!(
                            "best mean {best:.4}; {} grid points judged; ≤ 0 means every b₀ there is within 1 point",
                            judged.len()
                        ))
                        .witness(),
                    );
                }
                series.push(Series {
                    label: format!(
                        "{} (mean over {seeds} seed{})",
                        method.label(),
                        if seeds == 1 { "" } else { "s" }
                    ),
                    style: if method == Method::AdaGradNorm {
                        Style::Line
                    } else {
                        Style::Predicted
                    },
                    x: b0s.clone(),
                    y: finals.iter().map(|f| f.1).collect(),
                });
            }
            let (wa, ws) = (width[&Method::AdaGradNorm], width[&Method::SgdOneOverB0]);
            ev.push(
                Measurement::new(
                    format!("{setting}: robust width (grid points within 1 point of the best), AdaGrad-Norm vs SGD"),
                    wa as f64,
                    ws as f64,
                    Relation::AtLeast,
                )
                .with_note(format!(
                    "{:.1} vs {:.1} decades of b₀ (grid step {decade_step:.2} decades)",
                    (wa.max(1) - 1) as f64 * decade_step,
                    (ws.max(1) - 1) as f64 * decade_step
                ))
                .witness()
                .key(),
            );
            figures.push(Figure {
                id: format!(
                    "{}-{}",
                    match model {
                        Model::Logistic => "logistic",
                        Model::TwoLayer => "two-layer",
                    },
                    if batch.is_none() { "batch" } else { "minibatch" }
                ),
                title: format!("Test accuracy after {} epochs vs b₀: {setting}", epochs[last]),
                x_label: "b₀".into(),
                y_label: "test accuracy".into(),
                log_x: true,
                log_y: false,
                series,
                caption: "AdaGrad-Norm (solid) stays near its best for every small b₀; SGD with step 1/b₀ (dashed) diverges for b₀ below ~L/2 and stalls for large b₀.".into(),
            });
        }
    }
    ev.figures = figures;
    ev.instances = instances;
    ev.remarks = Some(format!(
        "Scaled down from Ward, Wu & Bottou (MNIST, CIFAR-10): the 1797 UCI digits split 80/20 \
         (seed {SPLIT_SEED}), multinomial logistic regression and a 64-{hidden}-10 ReLU network \
         with squared loss on one-hot targets, η = 1, epochs {epochs:?}, {seeds} seed(s) per \
         point, Student-t intervals at level {} (false-alarm {alpha} per judged point).",
        1.0 - alpha
    ));
    Ok(ev)
}
