//! Checker of `theorems/adamw-vs-l2-grid.md`: Loshchilov & Hutter's Fig. 2 (the lecture's
//! "Figure 1: Adam performs better with decoupled weight decay … AdamW leads to a more
//! separable hyperparameter search space … Cosine annealing yields clearly superior
//! results"), reproduced on the digits with a small ReLU network.
//!
//! For each schedule (fixed, step-drop, cosine annealing) and each method (Adam with L2
//! regularisation λ′, AdamW with decoupled decay λ), a learning-rate × weight-decay grid is
//! trained with mini-batches from several seeds; every run records its test error after each
//! epoch. The caption is read as seven comparisons, each a paired Student-t interval over the
//! seeds at level 1 − α/7 (Bonferroni: the family of seven intervals misses with probability
//! at most α = 5 %):
//!
//! * per schedule, **better**: AdamW's best test error − Adam + L2's (the best cells chosen on
//!   the seed-mean grids, then compared seed by seed) is negative;
//! * per schedule, **more separable**: the declared separability measure (below) is smaller
//!   for AdamW than for Adam + L2;
//! * **clearly superior**: with AdamW, cosine annealing's best error is lower than the best of
//!   the fixed and step-drop schedules by at least `CLEAR_MARGIN` (one point of test error).
//!
//! A comparison is *refuted* when its interval lies entirely on the wrong side (a witness), and
//! *resolved* when its interval excludes the boundary on either side. The caption is a
//! conjunction: it is decided when one comparison is refuted or all are resolved (a check;
//! otherwise the card is inconclusive, never forced). The corrected statement (the card's
//! `[statement]`): the measured differences, best errors and cosine's advantage, are the
//! claimed ones within their intervals.
//!
//! **Separability measure** (declared before the runs): on one seed's grid, take the
//! learning-rate rows whose best cell is within `VALLEY` (2 points) of that grid's best, the
//! weight decay minimising each such row, and the least-squares slope of log₁₀(that decay) on
//! log₁₀(learning rate). An axis-aligned valley (the best decay independent of the learning
//! rate, L&H's claim for AdamW) has slope 0; a diagonal one (L&H's Adam + L2) has |slope| near
//! 1. Fewer than two such rows give slope 0 (no direction).

use super::{Model, Problems};
use crate::claims::common::stats::{slope, t_band, t_interval};
use crate::claims::RunCache;
use crate::claims::{
    CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series, Style,
};
use crate::optim::adam::AdamConfig;
use crate::optim::adamw::AdamWConfig;
use crate::optim::conventions::WeightDecay;
use crate::optim::schedule::Schedule;
use crate::optim::Optimizer;
use crate::problems::{BatchSampler, LastBatch};
use nalgebra::DVector;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// The checker of `adamw-vs-l2-grid`.
pub const CHECKER: Checker = Checker {
    id: "adamw-vs-l2-grid",
    run: check,
};

/// Family-wise false-alarm probability of the card's seven intervals.
const ALPHA: f64 = 0.05;
/// Number of intervals in the family (3 × better, 3 × separable, 1 × clearly superior).
const COMPARISONS: f64 = 7.0;
/// "Clearly superior": better by at least one point of test error. One point is the test set's
/// own standard error at the errors measured here (√(0.045 · 0.955 / 360) = 1.09 points on the
/// 360 held-out digits): a smaller advantage cannot be told from a re-drawn test set.
const CLEAR_MARGIN: f64 = 0.01;
/// The low-error valley of the separability measure: rows within 2 points of the grid's best.
const VALLEY: f64 = 0.02;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Method {
    AdamL2,
    AdamW,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::AdamL2 => "Adam + L2",
            Method::AdamW => "AdamW",
        }
    }
}

const SCHEDULES: [&str; 3] = ["fixed", "step-drop", "cosine"];

fn schedule(name: &str, steps_per_epoch: u64, epochs: u64) -> Schedule {
    match name {
        // L&H drop at epochs 30, 60, 80 of 100: the same fractions of the run.
        "step-drop" => {
            // Short runs can round two drops onto one epoch: keep each drop epoch once.
            let mut drop_epochs: Vec<u64> = [0.3, 0.6, 0.8]
                .iter()
                .map(|f| ((f * epochs as f64).round() as u64).max(1))
                .collect();
            drop_epochs.dedup();
            Schedule::StepDrop {
                steps_per_epoch,
                drop_epochs,
                factor: 0.1,
            }
        }
        "cosine" => Schedule::CosineAnnealing {
            t_max: steps_per_epoch * epochs,
            eta_min: 0.0,
            eta_max: 1.0,
        },
        _ => Schedule::default(),
    }
}

/// Test error after each epoch of one training run (a diverged run reads 1 − the accuracy of
/// non-finite parameters, i.e. 1, from the epoch it diverged on).
#[allow(clippy::too_many_arguments)]
fn run(
    problems: &Problems,
    method: Method,
    lr: f64,
    wd: f64,
    sched: &str,
    epochs: usize,
    batch: usize,
    seed: u64,
) -> Result<Vec<f64>, CheckError> {
    let m = problems.num_examples();
    let mut sampler = BatchSampler::new(m, batch, LastBatch::Keep, seed.wrapping_mul(104_729))
        .map_err(|e| CheckError::Other(e.to_string()))?;
    let s = schedule(sched, sampler.batches_per_epoch() as u64, epochs as u64);
    let mut opt: Box<dyn Optimizer> = match method {
        Method::AdamL2 => Box::new(
            AdamConfig {
                lr,
                weight_decay: WeightDecay::CoupledL2(wd),
                schedule: Some(s),
                ..AdamConfig::paper()
            }
            .build()?,
        ),
        Method::AdamW => Box::new(AdamWConfig::paper(lr, wd, s).build()?),
    };
    let mut theta = problems.init(seed);
    let (mut g, mut scratch) = (DVector::zeros(theta.len()), DVector::zeros(theta.len()));
    let mut curve = Vec::with_capacity(epochs);
    for _ in 0..epochs {
        for b in sampler.next_epoch() {
            problems.batch_gradient(Some(&b), &theta, &mut scratch, &mut g)?;
            if !g.iter().all(|v| v.is_finite()) || opt.step(&mut theta, &g).is_err() {
                theta.fill(f64::NAN);
                break;
            }
        }
        curve.push(1.0 - problems.test_accuracy(&theta));
    }
    Ok(curve)
}

/// One method's grid under one schedule: `curves[i][j][s]` is the per-epoch test error of
/// learning rate i, weight decay j, seed s.
struct Grid {
    curves: Vec<Vec<Vec<Vec<f64>>>>,
}

impl Grid {
    fn final_error(&self, i: usize, j: usize, s: usize) -> f64 {
        *self.curves[i][j][s].last().unwrap_or(&1.0)
    }

    fn seeds(&self) -> usize {
        self.curves[0][0].len()
    }

    /// Final test error of every cell, averaged over the seeds.
    fn mean(&self) -> Vec<Vec<f64>> {
        let n = self.seeds() as f64;
        (0..self.curves.len())
            .map(|i| {
                (0..self.curves[i].len())
                    .map(|j| (0..self.seeds()).map(|s| self.final_error(i, j, s)).sum::<f64>() / n)
                    .collect()
            })
            .collect()
    }

    /// Final test error of every cell for seed `s`.
    fn of_seed(&self, s: usize) -> Vec<Vec<f64>> {
        (0..self.curves.len())
            .map(|i| {
                (0..self.curves[i].len())
                    .map(|j| self.final_error(i, j, s))
                    .collect()
            })
            .collect()
    }
}

/// (i, j) of the smallest cell (the first in row-major order on ties).
fn argmin(grid: &[Vec<f64>]) -> (usize, usize) {
    let mut best = (f64::INFINITY, (0, 0));
    for (i, row) in grid.iter().enumerate() {
        for (j, &e) in row.iter().enumerate() {
            if e < best.0 {
                best = (e, (i, j));
            }
        }
    }
    best.1
}

/// The declared separability measure of one grid (module doc): |slope| of log₁₀ of each
/// valley row's best weight decay on log₁₀ of its learning rate.
fn separability(grid: &[Vec<f64>], lrs: &[f64], wds: &[f64]) -> f64 {
    let (bi, bj) = argmin(grid);
    let best = grid[bi][bj];
    let (x, y): (Vec<f64>, Vec<f64>) = grid
        .iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let j = argmin(std::slice::from_ref(row)).1;
            (row[j] <= best + VALLEY).then(|| (lrs[i].log10(), wds[j].log10()))
        })
        .unzip();
    if x.len() < 2 {
        0.0
    } else {
        slope(&x, &y).abs()
    }
}

type Grids = HashMap<(&'static str, Method), Grid>;
type Key = (usize, usize, usize, usize, Vec<u64>, Vec<u64>, Vec<u64>);

/// Every grid of the card's mode, computed once per parameter set (the mutants share it).
fn grids(ctx: &CheckContext) -> Result<Arc<Grids>, CheckError> {
    static CACHE: RunCache<Key, Grids> = RunCache::new();
    let hidden = ctx.usize("hidden")?;
    let epochs = ctx.usize("epochs")?;
    let batch = ctx.usize("batch_size")?;
    let seeds = ctx.usize("seeds")?;
    let lrs = ctx.f64s("learning_rates")?;
    let l2s = ctx.f64s("l2_coefficients")?;
    let wds = ctx.f64s("decoupled_decays")?;
    if seeds < 2 || epochs == 0 || lrs.is_empty() || l2s.is_empty() || wds.is_empty() {
        return Err(CheckError::Other(
            "adamw-vs-l2-grid needs seeds ≥ 2 (paired intervals), epochs ≥ 1 and non-empty grids".into(),
        ));
    }
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let key = (hidden, epochs, batch, seeds, bits(&lrs), bits(&l2s), bits(&wds));
    CACHE.get_or_run(key, || measure(hidden, epochs, batch, seeds, &lrs, &l2s, &wds))
}

/// Every grid: both methods under every schedule, every (lr, decay) cell, every seed.
fn measure(
    hidden: usize,
    epochs: usize,
    batch: usize,
    seeds: usize,
    lrs: &[f64],
    l2s: &[f64],
    wds: &[f64],
) -> Result<Grids, CheckError> {
    let problems = Problems::new(Model::TwoLayer, hidden)?;
    let mut jobs = Vec::new();
    for sched in SCHEDULES {
        for (method, decays) in [(Method::AdamL2, &l2s), (Method::AdamW, &wds)] {
            for (i, &lr) in lrs.iter().enumerate() {
                for (j, &wd) in decays.iter().enumerate() {
                    for s in 0..seeds {
                        jobs.push((sched, method, i, j, s, lr, wd));
                    }
                }
            }
        }
    }
    // Collected in job order, so the grids do not depend on the thread count.
    let results: Result<Vec<Vec<f64>>, CheckError> = jobs
        .par_iter()
        .map(|&(sched, method, _, _, s, lr, wd)| {
            run(&problems, method, lr, wd, sched, epochs, batch, s as u64 + 1)
        })
        .collect();
    let mut out: Grids = HashMap::new();
    for (&(sched, method, i, j, s, _, _), curve) in jobs.iter().zip(results?) {
        let decays = if method == Method::AdamW {
            wds.len()
        } else {
            l2s.len()
        };
        let grid = out.entry((sched, method)).or_insert_with(|| Grid {
            curves: vec![vec![vec![Vec::new(); seeds]; decays]; lrs.len()],
        });
        grid.curves[i][j][s] = curve;
    }
    Ok(out)
}

/// A paired comparison over the seeds: the interval of the differences at level 1 − α/7.
struct Comparison {
    mean: f64,
    lo: f64,
    hi: f64,
}

fn compare(diffs: &[f64]) -> Comparison {
    let (mean, lo, hi) = t_interval(diffs, ALPHA / COMPARISONS);
    Comparison { mean, lo, hi }
}

/// One comparison of the caption: its witness goes into `ev`, (refuted, resolved) into
/// `outcomes`, and `refutation` (what the interval shows) into `found` when it is refuted.
fn record(
    ev: &mut Evidence,
    outcomes: &mut Vec<(bool, bool)>,
    found: &mut Vec<String>,
    witness: Measurement,
    resolved: bool,
    refutation: String,
) {
    let refuted = witness.witness_found();
    if refuted {
        found.push(refutation);
    }
    outcomes.push((refuted, resolved));
    ev.push(witness);
}

fn check(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let lrs = ctx.f64s("learning_rates")?;
    let l2s = ctx.f64s("l2_coefficients")?;
    let wds = ctx.f64s("decoupled_decays")?;
    let hidden = ctx.usize("hidden")?;
    let epochs = ctx.usize("epochs")?;
    let claimed_best = ctx.stmt_f64("best_error_difference")?;
    let cosine_advantage_below = ctx.stmt_f64("cosine_advantage_below")?;
    let g = grids(ctx)?;
    let seeds = g[&("fixed", Method::AdamW)].seeds();
    let level = 100.0 * (1.0 - ALPHA / COMPARISONS);
    let mut ev = Evidence::new();
    // Each comparison: (refuted, resolved).
    let mut outcomes: Vec<(bool, bool)> = Vec::new();
    let mut best_cells: HashMap<(&str, Method), (usize, usize)> = HashMap::new();
    let mut found = Vec::new();
    for sched in SCHEDULES {
        let l2 = &g[&(sched, Method::AdamL2)];
        let w = &g[&(sched, Method::AdamW)];
        let (bl, bw) = (argmin(&l2.mean()), argmin(&w.mean()));
        best_cells.insert((sched, Method::AdamL2), bl);
        best_cells.insert((sched, Method::AdamW), bw);
        let diffs: Vec<f64> = (0..seeds)
            .map(|s| w.final_error(bw.0, bw.1, s) - l2.final_error(bl.0, bl.1, s))
            .collect();
        let c = compare(&diffs);
        let note = format!(
            "AdamW {:.4} at lr {:e}, λ {:e}; Adam+L2 {:.4} at lr {:e}, λ′ {:e}; difference {:.4}, {level:.2}% interval [{:.4}, {:.4}] over {seeds} seeds",
            w.mean()[bw.0][bw.1], lrs[bw.0], wds[bw.1], l2.mean()[bl.0][bl.1], lrs[bl.0], l2s[bl.1], c.mean, c.lo, c.hi
        );
        // The caption: "Adam performs better with decoupled weight decay": refuted when
        // AdamW is worse at level 1 − α/7 (the interval's lower end above 0).
        let better = Measurement::new(
            format!("{sched}: best test error AdamW − Adam + L2, lower end of the interval"),
            c.lo,
            0.0,
            Relation::AtMost,
        )
        .with_note(note.clone())
        .witness();
        record(
            &mut ev,
            &mut outcomes,
            &mut found,
            better,
            c.lo > 0.0 || c.hi < 0.0,
            format!(
                "{sched}: AdamW's best is worse by {:.4} [{:.4}, {:.4}]",
                c.mean, c.lo, c.hi
            ),
        );
        // The corrected statement: the difference is the claimed one, within the interval.
        ev.push(
            Measurement::new(
                format!("{sched}: |difference of best errors − claimed| − interval half-width"),
                (c.mean - claimed_best).abs() - 0.5 * (c.hi - c.lo),
                0.0,
                Relation::AtMost,
            )
            .with_note(format!("claimed difference {claimed_best}; {note}"))
            .key(),
        );
        // Separability, seed by seed.
        let sep_w: Vec<f64> = (0..seeds)
            .map(|s| separability(&w.of_seed(s), &lrs, &wds))
            .collect();
        let sep_l2: Vec<f64> = (0..seeds)
            .map(|s| separability(&l2.of_seed(s), &lrs, &l2s))
            .collect();
        let d: Vec<f64> = sep_w.iter().zip(&sep_l2).map(|(a, b)| a - b).collect();
        let c = compare(&d);
        let separable = Measurement::new(
            format!("{sched}: separability |slope| AdamW − Adam + L2, lower end of the interval"),
            c.lo,
            0.0,
            Relation::AtMost,
        )
        .with_note(format!(
            "|slope of log best decay on log lr| per seed: AdamW {sep_w:.2?}, Adam+L2 {sep_l2:.2?}; difference {:.3}, {level:.2}% interval [{:.3}, {:.3}]",
            c.mean, c.lo, c.hi
        ))
        .witness();
        record(
            &mut ev,
            &mut outcomes,
            &mut found,
            separable,
            c.lo > 0.0 || c.hi < 0.0,
            format!(
                "{sched}: AdamW less separable by {:.3} [{:.3}, {:.3}]",
                c.mean, c.lo, c.hi
            ),
        );
    }
    // "Cosine annealing yields clearly superior results" (AdamW): cosine's best minus the
    // better of the fixed and step-drop bests, seed by seed, at most −CLEAR_MARGIN.
    let best_final = |sched: &'static str, s: usize| {
        let (i, j) = best_cells[&(sched, Method::AdamW)];
        g[&(sched, Method::AdamW)].final_error(i, j, s)
    };
    let others = |s: usize| {
        let mean = |sched: &'static str| {
            let (i, j) = best_cells[&(sched, Method::AdamW)];
            g[&(sched, Method::AdamW)].mean()[i][j]
        };
        // The better of the two other schedules on the seed means, then its seed-s value.
        if mean("fixed") <= mean("step-drop") {
            best_final("fixed", s)
        } else {
            best_final("step-drop", s)
        }
    };
    let d: Vec<f64> = (0..seeds).map(|s| best_final("cosine", s) - others(s)).collect();
    let c = compare(&d);
    let cos_note = format!(
        "cosine − best other schedule: {:.4}, {level:.2}% interval [{:.4}, {:.4}]; clearly superior = at least {CLEAR_MARGIN} lower",
        c.mean, c.lo, c.hi
    );
    let clearly = Measurement::new(
        "AdamW: cosine best − best of fixed and step-drop, lower end of the interval",
        c.lo,
        -CLEAR_MARGIN,
        Relation::AtMost,
    )
    .with_note(cos_note.clone())
    .witness();
    record(
        &mut ev,
        &mut outcomes,
        &mut found,
        clearly,
        c.lo > -CLEAR_MARGIN || c.hi < -CLEAR_MARGIN,
        format!(
            "cosine's advantage is less than {CLEAR_MARGIN}: difference {:.4} [{:.4}, {:.4}]",
            c.mean, c.lo, c.hi
        ),
    );
    // The corrected statement: cosine's advantage is below `cosine_advantage_below` (the
    // interval's lower end above −cosine_advantage_below).
    ev.push(
        Measurement::new(
            "AdamW: cosine best − best other, lower end of the interval (corrected statement)",
            c.lo,
            -cosine_advantage_below,
            Relation::AtLeast,
        )
        .with_note(format!(
            "claimed: cosine's advantage is below {cosine_advantage_below}; {cos_note}"
        )),
    );
    // The caption is a conjunction of the seven comparisons: decided when one is refuted or
    // all are resolved; otherwise the seeds cannot tell and the card is inconclusive.
    let refuted = outcomes.iter().filter(|o| o.0).count();
    let unresolved = outcomes.iter().filter(|o| !o.1).count();
    ev.push(Measurement::new(
        "comparisons left unresolved while none is refuted",
        if refuted > 0 { 0.0 } else { unresolved as f64 },
        0.0,
        Relation::AtMost,
    )
    .with_note(format!(
        "{refuted} of 7 refuted, {unresolved} unresolved (interval across the boundary) at family level {:.0}%",
        100.0 * (1.0 - ALPHA)
    )));
    if !found.is_empty() {
        ev.counterexample = Some(crate::claims::Counterexample {
            description: format!(
                "On the digits MLP (64-{hidden}-10, {epochs} epochs, {} × {} grids, {seeds} seeds): {}",
                lrs.len(),
                wds.len(),
                found.join("; ")
            ),
            values: vec![
                ("cosine_minus_other".into(), c.mean),
                ("refuted".into(), refuted as f64),
            ],
            found_by: "the full grid of each method and schedule, paired t-intervals over the seeds".into(),
        });
        ev.corrected_statement = Some(format!(
            "On this scaled-down task the best test errors of AdamW and Adam + L2 differ by \
             {claimed_best} within their {level:.2}% paired intervals over {seeds} seeds, and \
             with AdamW cosine annealing's advantage over the better of the fixed and \
             step-drop schedules is below {cosine_advantage_below} (the interval's lower end \
             is above −{cosine_advantage_below}); the refuted parts of the caption, shown on \
             CIFAR-10 ResNets, do not reproduce here."
        ));
    }
    figures(&mut ev, &g, &lrs, &l2s, &wds, &best_cells);
    ev.instances = (SCHEDULES.len() * lrs.len() * (l2s.len() + wds.len()) * seeds) as u64;
    ev.remarks = Some(format!(
        "Scaled down from Loshchilov & Hutter (26 2×64d ResNet on CIFAR-10, 100 epochs): the UCI \
         digits (1437 train / 360 test), a 64-{hidden}-10 ReLU network with squared loss, {epochs} \
         epochs of mini-batches of 64, {} × {} grids, seeds 1–{seeds} per cell. The best cells \
         are chosen on the seed means and then compared seed by seed, which favours both methods \
         alike.",
        lrs.len(),
        wds.len()
    ));
    Ok(ev)
}

/// The heat maps (mean final test error per cell) and the learning curves of the best cells.
fn figures(
    ev: &mut Evidence,
    g: &Grids,
    lrs: &[f64],
    l2s: &[f64],
    wds: &[f64],
    best: &HashMap<(&str, Method), (usize, usize)>,
) {
    for sched in SCHEDULES {
        for (method, decays, symbol) in [(Method::AdamL2, l2s, "λ′"), (Method::AdamW, wds, "λ")] {
            let mean = g[&(sched, method)].mean();
            let series = decays
                .iter()
                .enumerate()
                .map(|(j, wd)| Series {
                    label: format!("{symbol} = {wd:e}"),
                    style: Style::HeatRow,
                    x: lrs.to_vec(),
                    y: mean.iter().map(|row| row[j]).collect(),
                })
                .collect();
            let stem = if method == Method::AdamW {
                "adamw"
            } else {
                "adam-l2"
            };
            ev.figures.push(Figure {
                id: format!("{stem}-{sched}"),
                title: format!(
                    "{}, {sched} schedule: final test error (mean over seeds)",
                    method.name()
                ),
                x_label: "learning rate α".into(),
                y_label: format!("weight decay {symbol}"),
                log_x: true,
                log_y: true,
                series,
                caption: "Heat map of the learning-rate × weight-decay grid (logarithmic colour \
                          scale, dark = low error). An axis-aligned dark valley means the two \
                          hyperparameters separate; a diagonal one means they are coupled."
                    .into(),
            });
        }
        let mut series = Vec::new();
        for method in [Method::AdamL2, Method::AdamW] {
            let grid = &g[&(sched, method)];
            let (i, j) = best[&(sched, method)];
            let reps = &grid.curves[i][j];
            let x: Vec<f64> = (1..=reps[0].len()).map(|e| e as f64).collect();
            let mean: Vec<f64> = (0..x.len())
                .map(|e| reps.iter().map(|r| r[e]).sum::<f64>() / reps.len() as f64)
                .collect();
            let label = format!("{} (best cell)", method.name());
            series.push(Series {
                label: label.clone(),
                style: Style::Line,
                x: x.clone(),
                y: mean,
            });
            series.extend(t_band(&label, ALPHA, &x, reps));
        }
        ev.figures.push(Figure {
            id: format!("curves-{sched}"),
            title: format!("{sched} schedule: test error per epoch of each method's best cell"),
            x_label: "epoch".into(),
            y_label: "test error".into(),
            log_x: false,
            log_y: true,
            series,
            caption: "Mean over the seeds with a pointwise 95 % t-band (L&H Fig. 3's learning \
                      curves of the best settings)."
                .into(),
        });
    }
}
