//! Checker of `theorems/adam-vs-adaptive-digits.md`: Kingma & Ba's Figs. 1–2 (Adam against
//! AdaGrad, RMSProp, SGD with Nesterov momentum and AdaDelta on multinomial logistic
//! regression and on a ReLU network with and without dropout), reproduced on the vendored
//! UCI digits.
//!
//! ## Protocol (fixed in the card before the runs)
//! 1. **Tuning.** The 1437 training examples of the shared 80/20 split are split again
//!    (seed `validation_seed`) into a fitting part and a validation part
//!    (`validation_fraction`). For every setting, optimizer and step size of the optimizer's
//!    log grid (`grid_<optimizer>`), the model is trained on the fitting part for `epochs`
//!    epochs of mini-batches of `batch_size` from each tuning seed `1..=tuning_seeds`; the
//!    criterion is the validation cost (data term, no regulariser) averaged over the epochs
//!    1..=E and the seeds. A run whose parameters or gradients become non-finite scores +∞.
//!    The smallest criterion wins (ties: the smaller step size).
//! 2. **Measurement.** At the chosen step size, each optimizer trains on all 1437 training
//!    examples from each of the seeds `final_seed..final_seed + seeds`; the training cost
//!    (data term on all training examples, dropout off) is recorded at every epoch. A seed
//!    fixes the initial parameters, the batch order and the dropout masks, the same for
//!    every optimizer (the paper uses one initialisation for all), so comparisons are paired.
//! 3. **Metric.** The area under the training-cost curve: the mean cost over epochs 1..=E.
//!    Per comparison, the per-seed log ratio r_s = ln AUC_ref,s − ln AUC_comp,s gets a
//!    two-sided Student-t interval at level 1 − α/K, α = `family_alpha`, K = the number of
//!    judged comparisons (Bonferroni: the card's family-wise false-alarm rate is ≤ α).
//!
//! ## Roles
//! * **Witness**: each relation the paper prints (the table `PRINTED`), contradicted — its interval
//!   lies entirely on the wrong side ("slower": r < 0; "faster": r > 0; "similar":
//!   |r| ≤ ln `similar_within`).
//! * **Check**: each chosen step size is interior to its grid (else the grid was too narrow);
//!   no measured run diverged; each relation of the card's `[statement]` (the corrected
//!   statement, with the claimed factor `gap`) is confirmed by its interval; and, when no
//!   printed relation is contradicted, each printed relation is confirmed (an unresolved one
//!   makes the verdict inconclusive; once one is contradicted, the others are shown as
//!   context).
//! * **Context**: the chosen step sizes, every optimizer's AUC and final cost with intervals,
//!   the pairs the paper does not compare.
//!
//! The settings a mode runs are listed in its `settings`; the pairs of the others are not
//! judged (quick mode runs the logistic regression only).

use super::{linear_init, logistic_on, mlp_on, split, SPLIT_SEED};
use crate::claims::common::stats::{t_band, t_interval};
use crate::claims::RunCache;
use crate::claims::{
    CardError, CheckContext, CheckError, Checker, Counterexample, Evidence, Figure, Measurement, Relation,
    Series, Style,
};
use crate::optim::adadelta::AdaDeltaConfig;
use crate::optim::adagrad::AdaGradConfig;
use crate::optim::adam::AdamConfig;
use crate::optim::rmsprop::RmsPropConfig;
use crate::optim::sgd::SgdConfig;
use crate::optim::Optimizer;
use crate::problems::curvature::KfacModel;
use crate::problems::{BatchSampler, DropoutOracle, GradientOracle, LastBatch, Mlp, Multinomial, Objective};
use nalgebra::DVector;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// The checker of `adam-vs-adaptive-digits`.
pub const CHECKER: Checker = Checker {
    id: "adam-vs-adaptive-digits",
    run: check,
};

/// The five optimizers of the paper's figures.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Opt {
    Adam,
    AdaGrad,
    RmsProp,
    SgdNesterov,
    AdaDelta,
}

const OPTS: [Opt; 5] = [
    Opt::Adam,
    Opt::AdaGrad,
    Opt::RmsProp,
    Opt::SgdNesterov,
    Opt::AdaDelta,
];

/// Momentum of SGD with Nesterov momentum (fixed; the step size is tuned).
const NESTEROV_MOMENTUM: f64 = 0.9;

impl Opt {
    /// The name in card keys (`grid_<key>`, `<setting>_<key>`).
    fn key(self) -> &'static str {
        match self {
            Opt::Adam => "adam",
            Opt::AdaGrad => "adagrad",
            Opt::RmsProp => "rmsprop",
            Opt::SgdNesterov => "sgd_nesterov",
            Opt::AdaDelta => "adadelta",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Opt::Adam => "Adam",
            Opt::AdaGrad => "AdaGrad",
            Opt::RmsProp => "RMSProp",
            Opt::SgdNesterov => "SGD-Nesterov",
            Opt::AdaDelta => "AdaDelta",
        }
    }

    /// The optimizer with step size (AdaDelta: step multiplier) `lr`, every other
    /// hyperparameter at its paper's (or PyTorch's) default.
    fn build(self, lr: f64) -> Result<Box<dyn Optimizer>, CheckError> {
        Ok(match self {
            // Kingma & Ba Algorithm 1: β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
            Opt::Adam => Box::new(
                AdamConfig {
                    lr,
                    ..AdamConfig::paper()
                }
                .build()?,
            ),
            // Duchi et al.'s diagonal AdaGrad, s₀ = 0, ε = 1e-10 outside the root (PyTorch).
            Opt::AdaGrad => Box::new(
                AdaGradConfig {
                    lr,
                    ..AdaGradConfig::pytorch()
                }
                .build()?,
            ),
            // Hinton's RMSProp as on the lecture's slide: decay 0.9, ε = 1e-8 inside the root.
            Opt::RmsProp => Box::new(RmsPropConfig::lecture(lr, 0.9, 1e-8).build()?),
            // PyTorch's Nesterov form (gradient at the stored parameters), μ = 0.9.
            Opt::SgdNesterov => Box::new(SgdConfig::nesterov(lr, NESTEROV_MOMENTUM).build()?),
            // Zeiler's Algorithm 1 (ρ = 0.95, ε = 1e-6) with PyTorch's step multiplier.
            Opt::AdaDelta => Box::new(
                AdaDeltaConfig {
                    lr,
                    ..AdaDeltaConfig::paper()
                }
                .build()?,
            ),
        })
    }
}

/// The three trained models, one figure each.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Setting {
    Logistic,
    Mlp,
    Dropout,
}

const SETTINGS: [Setting; 3] = [Setting::Logistic, Setting::Mlp, Setting::Dropout];

impl Setting {
    fn key(self) -> &'static str {
        match self {
            Setting::Logistic => "logistic",
            Setting::Mlp => "mlp",
            Setting::Dropout => "dropout",
        }
    }

    fn parse(key: &str) -> Option<Setting> {
        SETTINGS.into_iter().find(|s| s.key() == key)
    }

    fn label(self, hidden: usize, dropout: f64) -> String {
        match self {
            Setting::Logistic => "multinomial logistic regression".into(),
            Setting::Mlp => format!("64-{hidden}-10 ReLU network"),
            Setting::Dropout => format!("64-{hidden}-10 ReLU network, dropout p = {dropout}"),
        }
    }
}

/// A model on a set of examples.
enum Net {
    Logistic(Multinomial),
    Mlp(Mlp),
}

impl Net {
    /// The setting's model on the digits `rows`, L2 coefficient `lambda`.
    fn new(setting: Setting, rows: &[usize], hidden: usize, lambda: f64) -> Result<Net, CheckError> {
        Ok(match setting {
            Setting::Logistic => Net::Logistic(logistic_on(rows, lambda)?),
            Setting::Mlp | Setting::Dropout => Net::Mlp(mlp_on(rows, hidden, lambda)?),
        })
    }

    fn num_examples(&self) -> usize {
        match self {
            Net::Logistic(p) => p.features().nrows(),
            Net::Mlp(p) => p.inputs_matrix().nrows(),
        }
    }

    fn value(&self, theta: &DVector<f64>) -> f64 {
        match self {
            Net::Logistic(p) => p.value(theta),
            Net::Mlp(p) => p.value(theta),
        }
    }

    /// PyTorch's `nn.Linear` initialisation from `seed`.
    fn init(&self, seed: u64) -> DVector<f64> {
        match self {
            Net::Logistic(p) => linear_init(p.dim(), p.features().ncols(), seed),
            Net::Mlp(p) => p.init(seed),
        }
    }
}

/// The model to fit (mini-batch gradients, with the L2 term) and the examples whose data cost
/// (λ = 0) is recorded after every epoch.
struct Task {
    fit: Net,
    cost: Net,
}

/// Everything one training run depends on besides the task.
#[derive(Clone, Copy)]
struct Protocol {
    epochs: usize,
    batch: usize,
    dropout: f64,
}

/// Where the mini-batch gradients come from (one per run: the variants' sizes do not matter).
#[allow(clippy::large_enum_variant)]
enum Gradients<'a> {
    Batches(&'a Net, BatchSampler),
    Dropout(DropoutOracle<'a>),
}

/// The recorded cost after epochs 0..=E of one run (+∞ from the step where the parameters or
/// a gradient became non-finite).
fn run(
    task: &Task,
    setting: Setting,
    opt: Opt,
    lr: f64,
    p: Protocol,
    seed: u64,
) -> Result<Vec<f64>, CheckError> {
    let other = |e: crate::problems::ProblemError| CheckError::Other(e.to_string());
    let m = task.fit.num_examples();
    let sampler = BatchSampler::new(m, p.batch, LastBatch::Keep, seed.wrapping_mul(7919)).map_err(other)?;
    let steps = sampler.batches_per_epoch();
    let mut source = match (setting, &task.fit) {
        (Setting::Dropout, Net::Mlp(mlp)) => Gradients::Dropout(
            DropoutOracle::new(mlp, p.dropout, seed.wrapping_mul(104_729).wrapping_add(1))
                .map_err(other)?
                .with_batches(sampler)
                .map_err(other)?,
        ),
        _ => Gradients::Batches(&task.fit, sampler),
    };
    let mut theta = task.fit.init(seed);
    let mut opt = opt.build(lr)?;
    let mut g = DVector::zeros(theta.len());
    let mut costs = Vec::with_capacity(p.epochs + 1);
    costs.push(task.cost.value(&theta));
    for _ in 0..p.epochs {
        for _ in 0..steps {
            match &mut source {
                Gradients::Dropout(o) => o.gradient_into(&theta, &mut g),
                Gradients::Batches(Net::Logistic(l), s) => {
                    l.batch_gradient_into(s.next_batch(), &theta, &mut g)
                }
                Gradients::Batches(Net::Mlp(mlp), s) => {
                    g.copy_from(&KfacModel::batch_gradient(mlp, &theta, s.next_batch()))
                }
            }
            if !g.iter().all(|v| v.is_finite()) || opt.step(&mut theta, &g).is_err() {
                costs.resize(p.epochs + 1, f64::INFINITY);
                return Ok(costs);
            }
        }
        let c = task.cost.value(&theta);
        costs.push(if c.is_finite() { c } else { f64::INFINITY });
        if !c.is_finite() {
            costs.resize(p.epochs + 1, f64::INFINITY);
            return Ok(costs);
        }
    }
    Ok(costs)
}

/// Mean of the costs after epochs 1..=E: the area under the curve per epoch.
fn auc(curve: &[f64]) -> f64 {
    curve[1..].iter().sum::<f64>() / (curve.len() - 1) as f64
}

/// The mode's parameters (everything the runs depend on; the statement does not).
#[derive(Clone, PartialEq, Debug)]
struct Params {
    hidden: usize,
    lambda: f64,
    dropout: f64,
    epochs: usize,
    batch: usize,
    validation_fraction: f64,
    validation_seed: u64,
    tuning_seeds: usize,
    seeds: usize,
    final_seed: u64,
    /// Step-size grid per setting per optimizer: `grid_<setting>_<optimizer>` if the card
    /// has it, else `grid_<optimizer>`.
    grids: Vec<Vec<Vec<f64>>>,
    /// The settings run in this mode (the pairs of the others are not judged).
    settings: Vec<Setting>,
}

impl Params {
    fn read(ctx: &CheckContext) -> Result<Params, CheckError> {
        let settings = ctx
            .strs("settings")?
            .iter()
            .map(|k| {
                Setting::parse(k).ok_or_else(|| {
                    CheckError::Card(CardError::WrongType {
                        card: ctx.card.id.clone(),
                        section: "quick/full".into(),
                        key: format!("settings (found {k:?})"),
                        expected: "a list of \"logistic\", \"mlp\", \"dropout\"",
                    })
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Paired intervals need two seeds at least (one replicate has no spread: its
        // "interval" would be a point that confirms or contradicts anything).
        let seeds = ctx.usize("seeds")?;
        if seeds < 2 || ctx.usize("tuning_seeds")? == 0 {
            return Err(CheckError::Other(format!(
                "{}: needs seeds ≥ 2 (paired t-intervals) and tuning_seeds ≥ 1",
                ctx.card.id
            )));
        }
        Ok(Params {
            hidden: ctx.usize("hidden")?,
            lambda: ctx.f64("l2")?,
            dropout: ctx.f64("dropout")?,
            epochs: ctx.usize("epochs")?,
            batch: ctx.usize("batch_size")?,
            validation_fraction: ctx.f64("validation_fraction")?,
            validation_seed: ctx.u64("validation_seed")?,
            tuning_seeds: ctx.usize("tuning_seeds")?,
            seeds,
            final_seed: ctx.u64("final_seed")?,
            grids: settings
                .iter()
                .map(|s| {
                    OPTS.iter()
                        .map(|o| match ctx.f64s(&format!("grid_{}_{}", s.key(), o.key())) {
                            Err(CardError::MissingParam { .. }) => ctx.f64s(&format!("grid_{}", o.key())),
                            other => other,
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<_, _>>()?,
            settings,
        })
    }

    fn protocol(&self) -> Protocol {
        Protocol {
            epochs: self.epochs,
            batch: self.batch,
            dropout: self.dropout,
        }
    }

    fn cache_key(&self) -> String {
        format!("{self:?}")
    }
}

/// The runs of one setting.
struct SettingRuns {
    /// Step-size grid per optimizer.
    grids: Vec<Vec<f64>>,
    /// Tuning criterion per optimizer per grid point.
    criteria: Vec<Vec<f64>>,
    /// Index of the chosen step size per optimizer.
    chosen: Vec<usize>,
    /// Training-cost curves per optimizer per seed (epochs 0..=E).
    curves: Vec<Vec<Vec<f64>>>,
}

type Runs = HashMap<Setting, SettingRuns>;

/// All runs of the protocol, cached by the mode's parameters (the mutants reuse them).
fn runs(params: &Params) -> Result<Arc<Runs>, CheckError> {
    static CACHE: RunCache<String, Runs> = RunCache::new();
    CACHE.get_or_run(params.cache_key(), || measure(params))
}

/// Every run of the protocol: tuning on the validation split, then the final seeds.
fn measure(params: &Params) -> Result<Runs, CheckError> {
    let (train, _) = split()?;
    let mut shuffled = train.clone();
    shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(params.validation_seed));
    let n_val = (train.len() as f64 * params.validation_fraction).round() as usize;
    let (val, fit) = shuffled.split_at(n_val);
    let p = params.protocol();
    let (h, l) = (params.hidden, params.lambda);
    // Tasks: (tuning, measurement) per setting.
    let tasks: Vec<(Setting, Task, Task)> = params
        .settings
        .iter()
        .map(|&s| {
            Ok((
                s,
                Task {
                    fit: Net::new(s, fit, h, l)?,
                    cost: Net::new(s, val, h, 0.0)?,
                },
                Task {
                    fit: Net::new(s, &train, h, l)?,
                    cost: Net::new(s, &train, h, 0.0)?,
                },
            ))
        })
        .collect::<Result<_, CheckError>>()?;
    // Phase 1: every (setting, optimizer, grid point, tuning seed), in index order.
    let mut jobs = Vec::new();
    for (si, _) in tasks.iter().enumerate() {
        for (oi, grid) in params.grids[si].iter().enumerate() {
            for gi in 0..grid.len() {
                for seed in 1..=params.tuning_seeds as u64 {
                    jobs.push((si, oi, gi, seed));
                }
            }
        }
    }
    let tuned: Vec<f64> = jobs
        .par_iter()
        .map(|&(si, oi, gi, seed)| {
            let (s, tune, _) = &tasks[si];
            run(tune, *s, OPTS[oi], params.grids[si][oi][gi], p, seed).map(|c| auc(&c))
        })
        .collect::<Result<_, _>>()?;
    let mut criteria: Vec<Vec<Vec<f64>>> = params
        .grids
        .iter()
        .map(|per_opt| per_opt.iter().map(|g| vec![0.0; g.len()]).collect())
        .collect();
    for (&(si, oi, gi, _), v) in jobs.iter().zip(&tuned) {
        criteria[si][oi][gi] += v / params.tuning_seeds as f64;
    }
    let chosen: Vec<Vec<usize>> = criteria
        .iter()
        .map(|per_opt| {
            per_opt
                .iter()
                .map(|c| {
                    // First minimum: the smaller step size on ties; NaN never wins.
                    (0..c.len()).fold(0, |best, i| if c[i] < c[best] { i } else { best })
                })
                .collect()
        })
        .collect();
    // Phase 2: every (setting, optimizer, seed) at the chosen step size.
    let mut jobs = Vec::new();
    for si in 0..tasks.len() {
        for oi in 0..OPTS.len() {
            for k in 0..params.seeds as u64 {
                jobs.push((si, oi, params.final_seed + k));
            }
        }
    }
    let curves: Vec<Vec<f64>> = jobs
        .par_iter()
        .map(|&(si, oi, seed)| {
            let (s, _, measure) = &tasks[si];
            run(
                measure,
                *s,
                OPTS[oi],
                params.grids[si][oi][chosen[si][oi]],
                p,
                seed,
            )
        })
        .collect::<Result<_, _>>()?;
    let mut out = Runs::new();
    let mut it = curves.into_iter();
    for (si, (s, _, _)) in tasks.iter().enumerate() {
        out.insert(
            *s,
            SettingRuns {
                grids: params.grids[si].clone(),
                criteria: criteria[si].clone(),
                chosen: chosen[si].clone(),
                curves: (0..OPTS.len())
                    .map(|_| it.by_ref().take(params.seeds).collect())
                    .collect(),
            },
        );
    }
    Ok(out)
}

/// A relation between the AUCs of a reference optimizer and a competitor on one setting.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Claim {
    /// The reference's AUC × gap is below the competitor's (the reference converges faster).
    Slower,
    /// The two AUCs agree within a factor `similar_within`.
    Similar,
    /// The competitor's AUC × gap is below the reference's.
    Faster,
    /// No claim.
    None,
}

impl Claim {
    fn parse(ctx: &CheckContext, key: &str) -> Result<Claim, CheckError> {
        match ctx.stmt_str(key)? {
            "slower" => Ok(Claim::Slower),
            "similar" => Ok(Claim::Similar),
            "faster" => Ok(Claim::Faster),
            "none" => Ok(Claim::None),
            found => Err(crate::claims::bad_statement(
                &ctx.card.id,
                key,
                found,
                "\"slower\", \"similar\", \"faster\" or \"none\"",
            )),
        }
    }

    /// The relation in words.
    fn text(self, reference: Opt, competitor: Opt, gap: f64, within: f64) -> String {
        let (r, c) = (reference.label(), competitor.label());
        match self {
            Claim::Slower if gap == 1.0 => format!("{r}'s AUC < {c}'s"),
            Claim::Slower => format!("{r}'s AUC < {c}'s / {gap}"),
            Claim::Faster if gap == 1.0 => format!("{c}'s AUC < {r}'s"),
            Claim::Faster => format!("{c}'s AUC < {r}'s / {gap}"),
            Claim::Similar => format!("{r}'s and {c}'s AUC within ×/÷ {within}"),
            Claim::None => "no claim".into(),
        }
    }

    /// By how much the interval [lo, hi] of ln(AUC_ref/AUC_comp) lies on the claimed side of
    /// the claim's boundary (> 0: the claim is confirmed at the interval's level).
    fn confirm_margin(self, lo: f64, hi: f64, gap: f64, within: f64) -> f64 {
        let w = within.ln();
        match self {
            Claim::Slower => -gap.ln() - hi,
            Claim::Faster => lo - gap.ln(),
            Claim::Similar => (lo + w).min(w - hi),
            Claim::None => f64::NAN,
        }
    }

    /// By how much the interval lies on the wrong side of the boundary (> 0: contradicted).
    fn contra_margin(self, lo: f64, hi: f64, gap: f64, within: f64) -> f64 {
        let w = within.ln();
        match self {
            Claim::Slower => lo + gap.ln(),
            Claim::Faster => gap.ln() - hi,
            Claim::Similar => (lo - w).max(-w - hi),
            Claim::None => f64::NAN,
        }
    }
}

/// The relations the paper prints (the witnesses). §6.1, MNIST logistic regression: "the
/// Adam yields similar convergence as SGD with momentum and both converge faster than
/// Adagrad"; §6.2 (Fig. 2a, dropout): "Adam shows better convergence than other methods".
const PRINTED: [(Setting, Opt, Opt, Claim); 7] = [
    (Setting::Logistic, Opt::Adam, Opt::SgdNesterov, Claim::Similar),
    (Setting::Logistic, Opt::Adam, Opt::AdaGrad, Claim::Slower),
    (Setting::Logistic, Opt::SgdNesterov, Opt::AdaGrad, Claim::Slower),
    (Setting::Dropout, Opt::Adam, Opt::AdaGrad, Claim::Slower),
    (Setting::Dropout, Opt::Adam, Opt::RmsProp, Claim::Slower),
    (Setting::Dropout, Opt::Adam, Opt::SgdNesterov, Claim::Slower),
    (Setting::Dropout, Opt::Adam, Opt::AdaDelta, Claim::Slower),
];

/// One compared pair: the paper's relation and the card's statement's relation.
struct Pair {
    setting: Setting,
    reference: Opt,
    competitor: Opt,
    printed: Claim,
    stated: Claim,
}

/// The pairs in a fixed order: per setting, Adam against each competitor, then the
/// logistic-regression pair SGD-Nesterov vs AdaGrad. The statement's key of a pair is
/// `<setting>_<competitor>` (`logistic_adagrad_vs_sgd_nesterov` for the last).
fn pairs(ctx: &CheckContext) -> Result<Vec<Pair>, CheckError> {
    let printed = |s: Setting, r: Opt, c: Opt| {
        PRINTED
            .iter()
            .find(|p| p.0 == s && p.1 == r && p.2 == c)
            .map_or(Claim::None, |p| p.3)
    };
    let mut out = Vec::new();
    for s in SETTINGS {
        for &c in &OPTS[1..] {
            out.push(Pair {
                setting: s,
                reference: Opt::Adam,
                competitor: c,
                printed: printed(s, Opt::Adam, c),
                stated: Claim::parse(ctx, &format!("{}_{}", s.key(), c.key()))?,
            });
        }
    }
    out.push(Pair {
        setting: Setting::Logistic,
        reference: Opt::SgdNesterov,
        competitor: Opt::AdaGrad,
        printed: printed(Setting::Logistic, Opt::SgdNesterov, Opt::AdaGrad),
        stated: Claim::parse(ctx, "logistic_adagrad_vs_sgd_nesterov")?,
    });
    Ok(out)
}

fn check(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let params = Params::read(ctx)?;
    let family_alpha = ctx.f64("family_alpha")?;
    let gap = ctx.stmt_f64("gap")?;
    let within = ctx.stmt_f64("similar_within")?;
    // Every key is read (a malformed statement is an error in any mode); only the pairs of
    // the settings run in this mode are judged.
    let pairs: Vec<Pair> = pairs(ctx)?
        .into_iter()
        .filter(|p| params.settings.contains(&p.setting))
        .collect();
    let runs = runs(&params)?;
    // Bonferroni over every interval that is judged (printed or stated relation).
    let judged_count = pairs
        .iter()
        .filter(|p| p.printed != Claim::None || p.stated != Claim::None)
        .count()
        .max(1);
    let alpha = family_alpha / judged_count as f64;
    let level = 100.0 * (1.0 - alpha);
    let (h, p) = (params.hidden, params.dropout);
    let lr_of = |s: Setting, o: Opt| runs[&s].grids[o as usize][runs[&s].chosen[o as usize]];
    let aucs =
        |s: Setting, o: Opt| -> Vec<f64> { runs[&s].curves[o as usize].iter().map(|c| auc(c)).collect() };
    let mut ev = Evidence::new();

    // Checks of the protocol: interior step sizes, no divergence.
    for &s in &params.settings {
        let r = &runs[&s];
        for o in OPTS {
            let (i, grid) = (r.chosen[o as usize], &r.grids[o as usize]);
            let crit = &r.criteria[o as usize];
            ev.push(
                Measurement::new(
                    format!(
                        "{}, {}: grid points between the chosen step size and the grid's nearer end",
                        s.key(),
                        o.label()
                    ),
                    i.min(grid.len() - 1 - i) as f64,
                    1.0,
                    Relation::AtLeast,
                )
                .with_note(format!(
                    "chosen {:e} of {:?}; validation criteria {}",
                    grid[i],
                    grid,
                    crit.iter()
                        .map(|c| format!("{c:.4}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
            let diverged = r.curves[o as usize]
                .iter()
                .filter(|c| !c.iter().all(|v| v.is_finite()))
                .count();
            ev.push(Measurement::new(
                format!("{}, {}: measured runs that diverged", s.key(), o.label()),
                diverged as f64,
                0.0,
                Relation::AtMost,
            ));
        }
    }

    // Context: each optimizer's AUC and final cost with intervals.
    for &s in &params.settings {
        for o in OPTS {
            let a = aucs(s, o);
            let f: Vec<f64> = runs[&s].curves[o as usize]
                .iter()
                .map(|c| c[params.epochs])
                .collect();
            let (am, alo, ahi) = t_interval(&a, alpha);
            let (fm, flo, fhi) = t_interval(&f, alpha);
            ev.push(
                Measurement::new(
                    format!(
                        "{}, {} (step {:e}): AUC (mean training cost over epochs 1..={})",
                        s.key(),
                        o.label(),
                        lr_of(s, o),
                        params.epochs
                    ),
                    am,
                    am,
                    Relation::Approx { rel_tol: 0.0 },
                )
                .with_note(format!(
                    "{level:.2}% interval [{alo:.5}, {ahi:.5}]; final cost after epoch {} {fm:.5} [{flo:.5}, {fhi:.5}]; {} seeds",
                    params.epochs, params.seeds
                ))
                .context(),
            );
        }
    }

    // The pairs: the interval of the per-seed log ratio of AUCs.
    struct Judged<'a> {
        pair: &'a Pair,
        name: String,
        ratio: String,
        lo: f64,
        hi: f64,
    }
    let judged: Vec<Judged> = pairs
        .iter()
        .map(|pair| {
            let (ra, ca) = (
                aucs(pair.setting, pair.reference),
                aucs(pair.setting, pair.competitor),
            );
            let r: Vec<f64> = ra.iter().zip(&ca).map(|(a, b)| a.ln() - b.ln()).collect();
            let (mean, lo, hi) = t_interval(&r, alpha);
            Judged {
                pair,
                name: format!(
                    "{}: {} vs {}",
                    pair.setting.key(),
                    pair.reference.label(),
                    pair.competitor.label()
                ),
                ratio: format!(
                    "AUC ratio {} / {} = {:.4}, {level:.2}% interval [{:.4}, {:.4}]",
                    pair.reference.label(),
                    pair.competitor.label(),
                    mean.exp(),
                    lo.exp(),
                    hi.exp()
                ),
                lo,
                hi,
            }
        })
        .collect();
    let contradicted: Vec<&Judged> = judged
        .iter()
        .filter(|j| j.pair.printed.contra_margin(j.lo, j.hi, 1.0, within) > 0.0)
        .collect();
    for j in &judged {
        let pair = j.pair;

        if pair.printed != Claim::None {
            let text = pair.printed.text(pair.reference, pair.competitor, 1.0, within);
            ev.push(
                Measurement::new(
                    format!(
                        "{}: printed \"{text}\": how far the interval lies beyond it (> 0: contradicted)",
                        j.name
                    ),
                    pair.printed.contra_margin(j.lo, j.hi, 1.0, within),
                    0.0,
                    Relation::AtMost,
                )
                .with_note(j.ratio.clone())
                .witness()
                .key(),
            );
            // With no printed relation contradicted, each must be confirmed for "holds";
            // once one is contradicted, an undecided one is only shown.
            let confirmed = Measurement::new(
                format!(
                    "{}: printed \"{text}\": how far the interval lies inside it (≥ 0: confirmed)",
                    j.name
                ),
                pair.printed.confirm_margin(j.lo, j.hi, 1.0, within),
                0.0,
                Relation::AtLeast,
            )
            .with_note(j.ratio.clone());
            ev.push(if contradicted.is_empty() {
                confirmed
            } else {
                confirmed.context()
            });
        }
        if pair.stated != Claim::None {
            let text = pair.stated.text(pair.reference, pair.competitor, gap, within);
            ev.push(
                Measurement::new(
                    format!("{}: the card's statement \"{text}\": how far the interval lies inside it (≥ 0: confirmed)", j.name),
                    pair.stated.confirm_margin(j.lo, j.hi, gap, within),
                    0.0,
                    Relation::AtLeast,
                )
                .with_note(j.ratio.clone()),
            );
        }
        if pair.printed == Claim::None && pair.stated == Claim::None {
            ev.push(
                Measurement::new(
                    format!("{}: ln(AUC ratio), mean over seeds", j.name),
                    (j.lo + j.hi) / 2.0,
                    (j.lo + j.hi) / 2.0,
                    Relation::Approx { rel_tol: 0.0 },
                )
                .with_note(format!("{}; the paper claims nothing about this pair", j.ratio))
                .context(),
            );
        }
    }
    if !contradicted.is_empty() {
        ev.counterexample = Some(Counterexample {
            description: contradicted
                .iter()
                .map(|j| {
                    format!(
                        "{}: printed \"{}\", measured {}",
                        j.name,
                        j.pair.printed.text(j.pair.reference, j.pair.competitor, 1.0, within),
                        j.ratio
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            values: contradicted
                .iter()
                .map(|j| (format!("{} ln AUC ratio, interval lower end", j.name), j.lo))
                .chain(
                    contradicted
                        .iter()
                        .map(|j| (format!("{} ln AUC ratio, interval upper end", j.name), j.hi)),
                )
                .collect(),
            found_by: format!(
                "paired Student-t intervals over {} seeds, level {level:.2}% each (Bonferroni over {judged_count} judged intervals: family-wise false alarm ≤ {family_alpha})",
                params.seeds
            ),
        });
        let stated: Vec<String> = judged
            .iter()
            .filter(|j| j.pair.stated != Claim::None)
            .map(|j| {
                format!(
                    "{}: {} ({})",
                    j.pair.setting.key(),
                    j.pair
                        .stated
                        .text(j.pair.reference, j.pair.competitor, gap, within),
                    j.ratio
                )
            })
            .collect();
        ev.corrected_statement = Some(format!(
            "On the digits under this protocol (area under the training-cost curve, paired over seeds): {}.",
            stated.join("; ")
        ));
    }

    // Figures: training cost vs epoch, mean and t-band per optimizer.
    let epochs_x: Vec<f64> = (0..=params.epochs).map(|e| e as f64).collect();
    for &s in &params.settings {
        let mut series = Vec::new();
        for o in OPTS {
            let reps = &runs[&s].curves[o as usize];
            let mean: Vec<f64> = (0..=params.epochs)
                .map(|e| reps.iter().map(|r| r[e]).sum::<f64>() / reps.len() as f64)
                .collect();
            let label = format!("{} (step {:e})", o.label(), lr_of(s, o));
            series.push(Series {
                label: label.clone(),
                style: Style::Line,
                x: epochs_x.clone(),
                y: mean,
            });
            series.extend(t_band(&label, alpha, &epochs_x, reps));
        }
        ev.figures.push(Figure {
            id: s.key().into(),
            title: format!("Training cost vs epoch: {} on digits", s.label(h, p)),
            x_label: "epoch (passes over the 1437 training examples)".into(),
            y_label: match s {
                Setting::Logistic => "training cost (mean cross-entropy)".into(),
                _ => "training cost (mean ½‖H(x) − y‖²)".into(),
            },
            log_x: false,
            log_y: true,
            series,
            caption: format!(
                "Mean over {} seeds (same initialisation, batches and dropout masks for every optimizer) with {level:.2}% pointwise t-bands; each optimizer at the step size its validation grid chose.",
                params.seeds
            ),
        });
    }
    ev.instances = (params.grids.iter().flatten().map(Vec::len).sum::<usize>() * params.tuning_seeds
        + params.settings.len() * OPTS.len() * params.seeds) as u64;
    let skipped: Vec<&str> = SETTINGS
        .iter()
        .filter(|s| !params.settings.contains(s))
        .map(|s| s.key())
        .collect();
    ev.remarks = Some(format!(
        "Scaled down from Kingma & Ba §6.1–6.2 (MNIST, 60 000 examples; logistic regression with α/√t decay; \
         two hidden layers of 1000 ReLUs with cross-entropy; mini-batches of 128): the 1797 UCI digits split 80/20 \
         (seed {SPLIT_SEED}), the 1437 training examples split again for tuning ({:.0} % validation, seed {}); \
         multinomial logistic regression and one hidden layer of {h} ReLUs with squared loss on one-hot targets, \
         dropout p = {p} on the hidden layer; L2 coefficient {} in the trained objective; constant step sizes; \
         mini-batches of {}; {} epochs; tuning seeds 1..={}, measured seeds {}..={}. \
         Metric: mean training cost over epochs 1..={}; Student-t intervals at level {level:.2}% each \
         (family-wise α = {family_alpha} over {judged_count} judged comparisons, Bonferroni).{}",
        100.0 * params.validation_fraction,
        params.validation_seed,
        params.lambda,
        params.batch,
        params.epochs,
        params.tuning_seeds,
        params.final_seed,
        params.final_seed + params.seeds as u64 - 1,
        params.epochs,
        if skipped.is_empty() {
            String::new()
        } else {
            format!(
                " Not run in this mode (their pairs are not judged): {}.",
                skipped.join(", ")
            )
        },
    ));
    Ok(ev)
}
