//! Checker of `theorems/full-gradient-cost.md`: "For m ≫ 1 gradient descent is computationally
//! too costly and instead one can break apart the m loss functions into mini-batches".
//!
//! Work is counted in example-gradients (one ∇ℓ_μ), not seconds. On the vendored digits
//! (multinomial logistic regression, the seeded 80/20 split's training set, or its first m
//! examples in a seeded order), full-batch gradient descent and mini-batch SGD (the crate's
//! `Sgd` with the plain update) run from the same initialisation until the *full* training
//! loss reaches `target_loss`; each method is tuned over the card's grid (GD: step sizes; SGD:
//! batch sizes × step sizes) by its mean work over the seeds. The monitoring loss evaluations
//! are not counted (they are the experiment's, not the algorithm's); SGD's loss is looked at
//! on a geometric schedule of its work (first at m/`first_check_per_epoch`, then every time the
//! work has grown by `check_growth`), which can only overstate its work (conservative).
//!
//! * **Checks**: the counted work of an SGD step is |S_k| (B, or m mod B for an epoch's last
//!   batch) and an epoch's sums to m, as the sampler delivers them (a GD step costs m by
//!   construction: one full gradient): the per-step cost ratio m/B is an identity; GD reaches
//!   the target within its budget for every seed (else the comparison cannot be made).
//! * **Witnesses** (the statement): the geometric-mean ratio work_GD/work_SGD at the largest m
//!   has its Student-t interval (level 1 − α over seeds) above 1 (`sgd_cheaper`), and its upper
//!   end at or above the claimed `advantage`.
//! * **Context**: the ratio for smaller m (how the advantage grows with m), and the tuned
//!   hyperparameters.

use super::{Model, Problems};
use crate::claims::common::stats::t_interval;
use crate::claims::RunCache;
use crate::claims::{
    CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series, Style,
};
use crate::optim::sgd::SgdConfig;
use crate::optim::Optimizer;
use crate::problems::logistic::Multinomial;
use crate::problems::stochastic::batch_gradient_into;
use crate::problems::{BatchSampler, FiniteSum, LastBatch, Objective};
use nalgebra::DVector;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::sync::Arc;

/// The checker of `full-gradient-cost`.
pub const CHECKER: Checker = Checker {
    id: "full-gradient-cost",
    run: check,
};

/// One SGD run's outcome: example-gradients spent until the full training loss was ≤ the target
/// (`None`: not within the budget), and whether every step cost what it should (|S_k|: B, or
/// m mod B for an epoch's last batch, summing to m per epoch).
#[derive(Clone, Copy, Debug)]
struct RunOut {
    work: Option<u64>,
    counts_ok: bool,
}

/// Full-batch GD with step `lr` from `init`, at most `budget` steps: the example-gradients
/// spent until the full training loss was ≤ the target (`None`: not within the budget). Every
/// step costs m (the full gradient is the mean of m example-gradients).
fn run_gd(
    p: &Multinomial,
    init: &DVector<f64>,
    lr: f64,
    target: f64,
    budget: usize,
) -> Result<Option<u64>, CheckError> {
    let m = p.num_examples() as u64;
    let mut theta = init.clone();
    let mut opt = SgdConfig::gd(lr).build()?;
    let mut g = DVector::zeros(theta.len());
    let mut work = 0_u64;
    for _ in 0..budget {
        p.gradient_into(&theta, &mut g);
        work += m; // the full gradient is the mean of m example-gradients
        if opt.step(&mut theta, &g).is_err() || !theta.iter().all(|v| v.is_finite()) {
            return Ok(None);
        }
        if p.value(&theta) <= target {
            return Ok(Some(work));
        }
    }
    Ok(None)
}

/// Mini-batch SGD (batch `b`, step `lr`, epochs of a seeded permutation) from `init`, at most
/// `budget` example-gradients; the loss is looked at from m/`checks` on, then at work ratios
/// `growth`.
#[allow(clippy::too_many_arguments)]
fn run_sgd(
    p: &Multinomial,
    init: &DVector<f64>,
    b: usize,
    lr: f64,
    target: f64,
    budget: u64,
    (checks, growth): (usize, f64),
    seed: u64,
) -> Result<RunOut, CheckError> {
    let m = p.num_examples();
    let mut theta = init.clone();
    let mut opt = SgdConfig::gd(lr).build()?;
    let mut sampler =
        BatchSampler::new(m, b, LastBatch::Keep, seed).map_err(|e| CheckError::Other(e.to_string()))?;
    let (mut g, mut scratch) = (DVector::zeros(theta.len()), DVector::zeros(theta.len()));
    // Geometric monitoring: the loss is looked at when the work first passes m/checks, then
    // each time it has grown by the factor `growth`; the first observation at or below the
    // target overstates the first passage by at most that factor (and one batch).
    let mut next_check = (m as f64 / checks as f64).max(1.0);
    let mut work = 0_u64;
    let mut counts_ok = true;
    while work < budget {
        let batch = sampler.next_epoch();
        let epoch_work: usize = batch.iter().map(Vec::len).sum();
        counts_ok &= epoch_work == m && batch[..batch.len() - 1].iter().all(|s| s.len() == b);
        for rows in &batch {
            batch_gradient_into(p, rows, &theta, &mut scratch, &mut g);
            work += rows.len() as u64; // |S_k| example-gradients
            if opt.step(&mut theta, &g).is_err() || !theta.iter().all(|v| v.is_finite()) {
                return Ok(RunOut {
                    work: None,
                    counts_ok,
                });
            }
            if work as f64 >= next_check {
                next_check = next_check.max(work as f64) * growth;
                if p.value(&theta) <= target {
                    return Ok(RunOut {
                        work: Some(work),
                        counts_ok,
                    });
                }
            }
            if work >= budget {
                break;
            }
        }
    }
    Ok(RunOut {
        work: None,
        counts_ok,
    })
}

/// The mode's parameters the runs depend on (the statement does not: mutants reuse the runs).
#[derive(Clone, PartialEq, Debug)]
struct Params {
    sizes: Vec<usize>,
    seeds: usize,
    target: f64,
    gd_lr: Vec<f64>,
    sgd_batch: Vec<usize>,
    sgd_lr: Vec<f64>,
    gd_budget: usize,
    checks: usize,
    growth: f64,
}

/// Per training-set size m: the tuned GD step, the tuned (B, step), the per-seed work of each,
/// and whether the cost accounting held.
#[derive(Clone, Debug)]
struct AtSize {
    m: usize,
    gd_lr: f64,
    gd_work: Vec<Option<u64>>,
    sgd: (usize, f64),
    sgd_work: Vec<Option<u64>>,
    counts_ok: bool,
}

fn mean_work(w: &[Option<u64>]) -> f64 {
    if w.iter().all(Option::is_some) {
        w.iter().map(|x| x.unwrap_or(0) as f64).sum::<f64>() / w.len() as f64
    } else {
        f64::INFINITY
    }
}

/// The index of the configuration with the smallest mean work over the seeds (the first on
/// ties; a configuration that missed the target on some seed has infinite mean work).
fn tuned(works: &[Vec<Option<u64>>]) -> usize {
    works
        .iter()
        .enumerate()
        .map(|(i, w)| (i, mean_work(w)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0, |(i, _)| i)
}

fn measure(prm: &Params) -> Result<Vec<AtSize>, CheckError> {
    let probs = Problems::new(Model::Logistic, 0)?;
    let Problems::Logistic(train, _) = &probs else {
        return Err(CheckError::Other(
            "the digits logistic problem could not be built".into(),
        ));
    };
    // The parameter dimension does not depend on m: every size starts from the same
    // initialisations (PyTorch's nn.Linear rule, one per seed).
    let inits: Vec<DVector<f64>> = (1..=prm.seeds as u64).map(|s| probs.init(s)).collect();
    let full_m = train.num_examples();
    // A fixed seeded order of the training examples; size m uses its first m.
    let mut order: Vec<usize> = (0..full_m).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(4242));
    let mut out = Vec::new();
    for &m in &prm.sizes {
        let m = m.min(full_m);
        let rows = &order[..m];
        let p = Multinomial::new(
            train.features().select_rows(rows),
            rows.iter().map(|&i| train.labels()[i]).collect(),
            train.classes(),
            true,
            0.0,
        )
        .map_err(|e| CheckError::Other(e.to_string()))?;
        let p = &p;
        // GD: every step size on every seed; the tuned step minimises the mean work.
        let gd: Vec<Vec<Option<u64>>> = prm
            .gd_lr
            .par_iter()
            .map(|&lr| {
                inits
                    .iter()
                    .map(|x0| run_gd(p, x0, lr, prm.target, prm.gd_budget))
                    .collect()
            })
            .collect::<Result<_, _>>()?;
        let gi = tuned(&gd);
        let gd_work = gd[gi].clone();
        // SGD's budget: the tuned GD's largest work (beyond it SGD has lost the comparison).
        let budget = gd_work
            .iter()
            .map(|w| w.unwrap_or(0))
            .max()
            .unwrap_or(0)
            .max(m as u64);
        let configs: Vec<(usize, f64)> = prm
            .sgd_batch
            .iter()
            .flat_map(|&b| prm.sgd_lr.iter().map(move |&lr| (b.min(m), lr)))
            .collect();
        let sgd: Vec<Vec<RunOut>> = configs
            .par_iter()
            .map(|&(b, lr)| {
                inits
                    .iter()
                    .enumerate()
                    .map(|(s, x0)| {
                        run_sgd(
                            p,
                            x0,
                            b,
                            lr,
                            prm.target,
                            budget,
                            (prm.checks, prm.growth),
                            7919 * (s as u64 + 1),
                        )
                    })
                    .collect()
            })
            .collect::<Result<_, _>>()?;
        let sgd_works: Vec<Vec<Option<u64>>> =
            sgd.iter().map(|r| r.iter().map(|o| o.work).collect()).collect();
        let si = tuned(&sgd_works);
        out.push(AtSize {
            m,
            gd_lr: prm.gd_lr[gi],
            gd_work,
            sgd: configs[si],
            sgd_work: sgd_works[si].clone(),
            counts_ok: sgd.iter().flatten().all(|o| o.counts_ok),
        });
    }
    Ok(out)
}

fn cached(prm: &Params) -> Result<Arc<Vec<AtSize>>, CheckError> {
    static CACHE: RunCache<Params, Vec<AtSize>> = RunCache::new();
    CACHE.get_or_run(prm.clone(), || measure(prm))
}

fn check(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let prm = Params {
        sizes: ctx.usizes("sizes")?,
        seeds: ctx.usize("seeds")?,
        target: ctx.f64("target_loss")?,
        gd_lr: ctx.f64s("gd_lr")?,
        sgd_batch: ctx.usizes("sgd_batch")?,
        sgd_lr: ctx.f64s("sgd_lr")?,
        gd_budget: ctx.usize("gd_budget")?,
        checks: ctx.usize("first_check_per_epoch")?,
        growth: ctx.f64("check_growth")?,
    };
    let alpha = ctx.f64("alpha")?;
    let sgd_cheaper = ctx.stmt_bool("sgd_cheaper")?;
    let advantage = ctx.stmt_f64("advantage")?;
    if prm.sizes.is_empty()
        || prm.seeds < 2
        || prm.gd_lr.is_empty()
        || prm.sgd_batch.is_empty()
        || prm.sgd_lr.is_empty()
    {
        return Err(CheckError::Other(
            "need sizes, ≥ 2 seeds and non-empty grids".into(),
        ));
    }
    let res = cached(&prm)?;
    let counts_ok = res.iter().all(|r| r.counts_ok);
    let gd_reached = res.iter().all(|r| r.gd_work.iter().all(Option::is_some));
    let sgd_reached = res.iter().all(|r| r.sgd_work.iter().all(Option::is_some));
    // Per-seed log ratios log(work_GD/work_SGD); a seed where SGD did not reach the target
    // within GD's work counts as ratio ≤ 1 (log 0): conservative.
    let log_ratios = |r: &AtSize| -> Vec<f64> {
        r.gd_work
            .iter()
            .zip(&r.sgd_work)
            .map(|(g, s)| match (g, s) {
                (Some(g), Some(s)) => (*g as f64 / *s as f64).ln(),
                _ => 0.0,
            })
            .collect()
    };
    let intervals: Vec<(f64, f64, f64)> = res
        .iter()
        .map(|r| {
            let (mean, lo, hi) = t_interval(&log_ratios(r), alpha);
            (mean.exp(), lo.exp(), hi.exp())
        })
        .collect();
    let last = res.last().ok_or_else(|| CheckError::Other("no size".into()))?;
    let (ratio, lo, hi) = intervals[intervals.len() - 1];
    let level = 100.0 * (1.0 - alpha);
    let mut ev = Evidence::new();
    ev.instances = (res.len() * prm.seeds) as u64;
    let tuned = format!(
        "m = {}: GD step {}, SGD B = {} step {}; mean work GD {:.0}, SGD {:.0} example-gradients ({:.2} and {:.3} epochs)",
        last.m,
        last.gd_lr,
        last.sgd.0,
        last.sgd.1,
        mean_work(&last.gd_work),
        mean_work(&last.sgd_work),
        mean_work(&last.gd_work) / last.m as f64,
        mean_work(&last.sgd_work) / last.m as f64
    );
    ev.measurements = vec![
        Measurement::new(
            "per-step work counted: GD m, SGD |S_k| (B; m mod B for an epoch's last), m per epoch (1 = every step)",
            f64::from(u8::from(counts_ok)),
            1.0,
            Relation::Exact,
        )
        .with_note(format!(
            "the per-step cost ratio of GD to SGD is m/B = {}/{} = {:.1}",
            last.m,
            last.sgd.0,
            last.m as f64 / last.sgd.0 as f64
        )),
        Measurement::new(
            format!("GD reaches training loss {} within {} steps on every seed and size (1 = yes)", prm.target, prm.gd_budget),
            f64::from(u8::from(gd_reached)),
            1.0,
            Relation::Exact,
        ),
        if sgd_cheaper {
            Measurement::new(
                format!("work_GD/work_SGD to loss {} at m = {}: lower end of the {level:.0}% interval", prm.target, last.m),
                lo,
                1.0,
                Relation::AtLeast,
            )
            .with_note(format!("SGD needs fewer example-gradients; geometric mean {ratio:.1}, interval [{lo:.1}, {hi:.1}], {} seeds", prm.seeds))
        } else {
            Measurement::new(
                format!("work_GD/work_SGD to loss {} at m = {}: lower end of the {level:.0}% interval", prm.target, last.m),
                lo,
                1.0,
                Relation::AtMost,
            )
            .with_note("the statement: SGD needs at least as many example-gradients as GD (ratio ≤ 1)")
        }
        .witness()
        .key(),
        Measurement::new(
            format!("work_GD/work_SGD: upper end of the {level:.0}% interval vs the claimed advantage"),
            hi,
            advantage,
            Relation::AtLeast,
        )
        .with_note(tuned)
        .witness()
        .key(),
        Measurement::new(
            "SGD reached the target within GD's work on every seed and size (1 = yes)",
            f64::from(u8::from(sgd_reached)),
            1.0,
            Relation::Exact,
        )
        .context(),
    ];
    if res.len() >= 2 {
        let xs: Vec<f64> = res.iter().map(|r| (r.m as f64).ln()).collect();
        let ys: Vec<f64> = intervals.iter().map(|i| i.0.ln()).collect();
        ev.measurements.push(
            Measurement::new(
                "slope of log(work_GD/work_SGD) against log m",
                crate::claims::common::stats::slope(&xs, &ys),
                1.0,
                Relation::AtMost,
            )
            .with_note(format!(
                "ratios {:?} at m = {:?}: GD's steps to the target barely depend on m, SGD's work barely does",
                intervals.iter().map(|i| (i.0 * 10.0).round() / 10.0).collect::<Vec<_>>(),
                res.iter().map(|r| r.m).collect::<Vec<_>>()
            ))
            .context(),
        );
    }
    let ms: Vec<f64> = res.iter().map(|r| r.m as f64).collect();
    ev.figures.push(Figure {
        id: "work-to-target".into(),
        title: format!("Example-gradients to reach training loss {} (digits, logistic)", prm.target),
        x_label: "training-set size m".into(),
        y_label: "example-gradients (mean over seeds)".into(),
        log_x: true,
        log_y: true,
        series: vec![
            Series { label: "GD (tuned step)".into(), style: Style::Points, x: ms.clone(), y: res.iter().map(|r| mean_work(&r.gd_work)).collect() },
            Series { label: "mini-batch SGD (tuned B, step)".into(), style: Style::Points, x: ms.clone(), y: res.iter().map(|r| mean_work(&r.sgd_work)).collect() },
            Series { label: "one epoch (m)".into(), style: Style::Predicted, x: ms.clone(), y: ms.clone() },
        ],
        caption: "GD pays m example-gradients per step and needs tens of steps; mini-batch SGD reaches the same training loss within about an epoch.".into(),
    });
    ev.figures.push(Figure {
        id: "advantage".into(),
        title: "Work ratio GD / SGD with its confidence interval".into(),
        x_label: "training-set size m".into(),
        y_label: "work_GD / work_SGD".into(),
        log_x: true,
        log_y: true,
        series: vec![
            Series { label: "geometric mean".into(), style: Style::Points, x: ms.clone(), y: intervals.iter().map(|i| i.0).collect() },
            Series { label: format!("{level:.0}% interval, lower"), style: Style::Predicted, x: ms.clone(), y: intervals.iter().map(|i| i.1).collect() },
            Series { label: format!("{level:.0}% interval, upper"), style: Style::Predicted, x: ms.clone(), y: intervals.iter().map(|i| i.2).collect() },
        ],
        caption: "The advantage of mini-batches in example-gradients, per training-set size; above 1 means SGD is cheaper.".into(),
    });
    Ok(ev)
}
