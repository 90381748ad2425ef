//! # Diagnoses that infer
//!
//! When a trace agrees neither with its declared setting nor with any convention variant
//! ([`super::presets::variants`]), `check` tests explanations the header did not declare, from
//! the trace itself, in this order:
//!
//! 1. **A per-step learning rate** ([`infer_schedule`]). For the element-wise optimizers the
//!    update is affine in the learning rate once the state is fixed, and the state (moments,
//!    accumulators) is driven by the gradients alone. So every step is replayed *from the
//!    trace's θ_{t−1}* by two references at lr = ½ and lr = 1 (the framework kernel in the
//!    trace's dtype where one exists), whose states both follow the trace's gradients; the
//!    coordinates then give, per step, the set of learning rates η_t for which every coordinate
//!    lands within the tolerance of the trace's θ_t — an interval (the tolerance of
//!    [`super::compare`]: `|a − b| ≤ tol · max(|a|, |b|, s_i)`, `s_i` the largest `|θ_i|` so
//!    far). An empty interval at some step refutes the explanation. The named schedule families
//!    (constant, exponential, step and multi-step decay, piecewise constant, torch `ConstantLR`
//!    and `PolynomialLR`, cosine with T_max
//!    and η_min, cosine with warm restarts, linear warm-up, warm-up + cosine, one-cycle) are
//!    then fitted (weighted least squares on the interval midpoints, integer arguments by
//!    search), and a family *explains* the trace only if its η_t lies inside every step's
//!    interval: that is, replaying each step with the named schedule agrees within the default
//!    tolerance. The simplest family that does is reported, with its fitted arguments rounded
//!    to the fewest digits that still agree, and the header entry to declare.
//!    **torch `OneCycleLR` with its momentum cycle** ([`infer_one_cycle`]): when the per-step
//!    lr is refuted and the setting's β₁ or momentum is one `OneCycleLR(cycle_momentum=True)`
//!    writes, a grid of the scheduler's common arguments is replayed as a declared schedule;
//!    failing that, **torch `CyclicLR` with its momentum cycle** ([`infer_cyclic`]): the
//!    momentum depends only on the step sizes and the mode, so each hypothesis of those forces
//!    its momentum at every step and the per-step lr is inferred again, then fitted.
//! 2. **Parameter groups** ([`infer_groups`]): per layout block, a constant learning rate (the
//!    same interval argument, intersected over all steps of the block) and a weight decay
//!    (the declared λ or none, each block replayed in full: blocks of an element-wise or
//!    layer-wise optimizer evolve independently); failing both, each block's lr without decay
//!    (a bias with its own lr and no decay), kept only if the trace, replayed with the groups
//!    declared, agrees.
//! 3. **Gradient clipping by global norm** ([`infer_clipping`]): for traces whose gradients are
//!    recorded before `clip_by_global_norm(c)`, c is searched (log-spaced scan between the
//!    gradient norms, then golden-section refinement; if nothing agrees there, the six decades
//!    below the smallest norm, where every step is clipped and c shows only through what does
//!    not scale with the gradient, such as Adam's ε) by full replays of the clipped gradients,
//!    and the range of thresholds that agree is reported.
//!
//! 4. **A hyperparameter declared wrong** ([`infer_hyperparameter`]): one header
//!    hyperparameter (β₁, β₂, ε, weight decay, momentum, the RMSprop/Adadelta decay, or a flag
//!    such as `nesterov`, `amsgrad`, `centered`) replaced by one of its common values
//!    ([`HYPERPARAMETER_CANDIDATES`]), each replayed through the declared reference with the
//!    header's other declarations, stopping at the first step beyond tolerance; the values
//!    that agree at every step are reported.
//!
//! Each of these, when it explains the trace, makes `check` exit with
//! [`super::cli::EXIT_AGREE_INFERRED`] (3): the run is correct given an explanation the header
//! did not declare, and the output says what to declare.
//!
//! 5. **Typical bugs of a hand-written optimizer** ([`infer_bugs`]): an explicit list of
//!    [`AdamBug`] and [`SgdBug`] variants (a bias correction missing on one or both moments, the
//!    step counter off by one, a (1 − β) factor dropped, AdamW's decay applied after the Adam
//!    step; SGD's dampening, its first buffer, decay outside the buffer), each replayed in
//!    full in f64. The data pick: the variants that agree are named, with how far the nearest
//!    other candidate misses (the clarity of the evidence) and the step and coordinate where
//!    the declared optimizer and the trace differ most (where the bug shows most). These stay
//!    disagreements (exit 1), with a named cause.
//!
//! **With the header's declarations.** A trace whose header declares parameter groups, a
//! schedule, chain members or `maximize`, or whose step lines give hyperparameters, is
//! inferred on top of them, as `check` replays it ([`super::groups`]): the per-step learning
//! rate (only when neither a schedule nor the step lines give it) is probed on every group at
//! once, each group's lr a fixed multiple of group 0's, and a fitted schedule is kept only if
//! the whole trace, replayed with it declared (each group from its own lr), agrees; a clipping
//! threshold is searched with the step lines' hyperparameters; the group and bug searches,
//! which replay one constant setting, are skipped.
//!
//! The trace is held in memory for these passes (several replays each), up to
//! [`MAX_VALUES`] numbers; a larger trace is not inferred (and the output says so).

use super::compare::Replayer;
use super::format::BlockSpec;
use super::format::{Dtype, Header, StepRecord, TraceError, TraceReader};
use super::groups::{self, GroupPlan, Plan};
use super::kernels::{self, Kernel};
use super::presets::Setting;
use crate::optim::conventions::WeightDecay;
use crate::optim::Optimizer;
use nalgebra::{DMatrix, DVector};
use serde_json::{json, Value};
use std::io::BufRead;

/// Largest trace (gradients + parameters, numbers) held in memory for inference: 2·10⁷
/// numbers, 160 MB.
pub const MAX_VALUES: usize = 20_000_000;

/// A trace read into memory.
#[derive(Debug, Clone)]
pub struct Trace {
    pub header: Header,
    pub steps: Vec<StepRecord>,
}

impl Trace {
    /// Read every step; `Ok(None)` if the trace holds more than `max_values` numbers.
    ///
    /// # Errors
    /// The reader's [`TraceError`].
    pub fn load<R: BufRead>(
        reader: &mut TraceReader<R>,
        max_values: usize,
    ) -> Result<Option<Trace>, TraceError> {
        let header = reader.header().clone();
        let per_step = 2 * header.dim().max(1);
        let mut steps = Vec::new();
        while let Some(rec) = reader.next_step()? {
            if (steps.len() + 1) * per_step > max_values {
                return Ok(None);
            }
            steps.push(rec);
        }
        Ok(Some(Trace { header, steps }))
    }

    /// θ_{t−1} for the step at index `k` (step t = k + 1).
    fn prev(&self, k: usize) -> &[f64] {
        if k == 0 {
            &self.header.params0
        } else {
            &self.steps[k - 1].params
        }
    }

    /// The header's groups, schedule and chain members, resolved ([`groups::plan`]).
    fn plan(&self) -> Result<Plan, String> {
        groups::plan(&self.header).map_err(|e| e.to_string())
    }

    /// True when some step line gives its hyperparameters.
    fn has_step_hyperparameters(&self) -> bool {
        self.steps.iter().any(|s| s.hyperparameters.is_some())
    }

    /// True when the trace is replayed through its [`Plan`] rather than one setting: the
    /// header declares parameter groups, a schedule, chain members or `maximize`, or its
    /// step lines give hyperparameters (as [`super::compare::compare_candidates`] decides).
    fn is_planned(&self, plan: &Plan) -> bool {
        !plan.is_plain(&self.header) || plan.lr_from_steps || self.has_step_hyperparameters()
    }

    /// `(offset, len, name)` of each layout block.
    fn blocks(&self) -> Vec<(usize, usize, String)> {
        let mut off = 0;
        self.header
            .layout
            .iter()
            .map(|b| {
                let n = b.rows * b.cols;
                off += n;
                (off - n, n, b.name.clone())
            })
            .collect()
    }
}

// ------------------------------------------------------------------ settings

/// The setting with learning rate `lr`.
pub fn with_lr(s: &Setting, lr: f64) -> Setting {
    let mut s = s.clone();
    *s.lr_mut() = lr;
    s
}

/// The element-wise weight decay of the setting, if it has one of the [`WeightDecay`] kind.
fn setting_decay(s: &Setting) -> Option<WeightDecay> {
    s.clone().weight_decay_mut().map(|d| *d)
}

/// The setting with weight decay `d` (same kind of setting; unchanged for the layer-wise
/// optimizers, which have no element-wise decay).
fn with_decay(s: &Setting, d: WeightDecay) -> Setting {
    let mut s = s.clone();
    if let Some(w) = s.weight_decay_mut() {
        *w = d;
    }
    s
}

/// The framework's names of the learning rate and the weight decay.
fn hp_names(preset: &str) -> (&'static str, &'static str) {
    match preset {
        "pytorch" => ("lr", "weight_decay"),
        _ => ("learning_rate", "weight_decay"),
    }
}

// ------------------------------------------------------------------ probes

/// A reference stepped *from the trace's θ_{t−1}* (teacher forcing): its state follows the
/// trace's gradients, its parameters are reset to the trace's at every step.
enum Probe {
    F64(Box<dyn Kernel<f64>>),
    F32(Box<dyn Kernel<f32>>),
    Crate(Box<dyn Optimizer>),
}

impl Probe {
    fn new(h: &Header, setting: &Setting) -> Result<Probe, String> {
        let layout = h.layout().map_err(|e| e.to_string())?;
        match h.dtype {
            Dtype::F64 => {
                if let Some(k) = kernels::build_for_layout::<f64>(&h.preset, setting, &layout) {
                    return Ok(Probe::F64(k));
                }
            }
            Dtype::F32 => {
                if let Some(k) = kernels::build_for_layout::<f32>(&h.preset, setting, &layout) {
                    return Ok(Probe::F32(k));
                }
            }
        }
        setting.build().map(Probe::Crate).map_err(|e| e.to_string())
    }

    /// The reference of one parameter group of a plan (its blocks; for optax, built for the
    /// pytree's `leaves` leaves as [`Replayer::for_plan`] builds it).
    fn for_group(h: &Header, g: &GroupPlan, setting: &Setting) -> Result<Probe, String> {
        let layout =
            crate::optim::Layout::try_from_shapes(g.blocks.iter().map(|b| (b.name.clone(), b.rows, b.cols)))
                .map_err(|e| e.to_string())?;
        let optax = h.preset == "optax";
        match h.dtype {
            Dtype::F64 => {
                let k = if optax {
                    kernels::optax::build_for_group::<f64>(setting, g.leaves, g.hyper)
                } else {
                    kernels::build_for_layout::<f64>(&h.preset, setting, &layout)
                };
                if let Some(k) = k {
                    return Ok(Probe::F64(k));
                }
            }
            Dtype::F32 => {
                let k = if optax {
                    kernels::optax::build_for_group::<f32>(setting, g.leaves, g.hyper)
                } else {
                    kernels::build_for_layout::<f32>(&h.preset, setting, &layout)
                };
                if let Some(k) = k {
                    return Ok(Probe::F32(k));
                }
            }
        }
        setting.build().map(Probe::Crate).map_err(|e| e.to_string())
    }

    /// The next steps' scalars ([`Kernel::set_scalars`]); `false` for the crate's optimizer.
    fn set_scalars(&mut self, s: &super::schedules::Scalars) -> bool {
        match self {
            Probe::F64(k) => k.set_scalars(s),
            Probe::F32(k) => k.set_scalars(s),
            Probe::Crate(_) => false,
        }
    }

    /// θ after one step from `prev` with gradient `g`.
    fn step_from(&mut self, prev: &[f64], g: &[f64]) -> Result<Vec<f64>, String> {
        match self {
            Probe::F64(k) => {
                let mut x = prev.to_vec();
                k.step(&mut x, g).map_err(|e| e.to_string())?;
                Ok(x)
            }
            Probe::F32(k) => {
                let mut x: Vec<f32> = prev.iter().map(|&v| v as f32).collect();
                let g: Vec<f32> = g.iter().map(|&v| v as f32).collect();
                k.step(&mut x, &g).map_err(|e| e.to_string())?;
                Ok(x.iter().map(|&v| f64::from(v)).collect())
            }
            Probe::Crate(o) => {
                let mut x = DVector::from_column_slice(prev);
                o.step(&mut x, &DVector::from_column_slice(g))
                    .map_err(|e| e.to_string())?;
                Ok(x.as_slice().to_vec())
            }
        }
    }
}

/// A teacher-forced reference for the whole trace: the declared setting on every coordinate
/// (a plain header), or one [`Probe`] per parameter group of the header's [`Plan`] on the
/// group's coordinates, behind the plan's optax chain members and torch's `maximize`.
enum Forced {
    Plain(Probe),
    Planned {
        parts: Vec<(Vec<usize>, Probe)>,
        plan: Box<Plan>,
        layout: Vec<BlockSpec>,
        dtype: Dtype,
    },
}

impl Forced {
    /// The plan's groups, group `gi` with the setting `setting(gi, group)`.
    fn planned(h: &Header, plan: &Plan, setting: &dyn Fn(&GroupPlan) -> Setting) -> Result<Forced, String> {
        let parts = plan
            .groups
            .iter()
            .map(|g| Ok((g.indices.clone(), Probe::for_group(h, g, &setting(g))?)))
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Forced::Planned {
            parts,
            plan: Box::new(plan.clone()),
            layout: h.layout.clone(),
            dtype: h.dtype,
        })
    }

    fn step_from(&mut self, prev: &[f64], g: &[f64]) -> Result<Vec<f64>, String> {
        match self {
            Forced::Plain(p) => p.step_from(prev, g),
            Forced::Planned {
                parts,
                plan,
                layout,
                dtype,
            } => {
                let mut g = g.to_vec();
                if plan.maximize {
                    g.iter_mut().for_each(|x| *x = -*x);
                }
                match dtype {
                    Dtype::F64 => groups::apply_transforms::<f64>(&plan.transforms, layout, prev, &mut g),
                    Dtype::F32 => groups::apply_transforms::<f32>(&plan.transforms, layout, prev, &mut g),
                }
                let mut out = prev.to_vec();
                for (idx, probe) in parts.iter_mut() {
                    let p: Vec<f64> = idx.iter().map(|&i| prev[i]).collect();
                    let gg: Vec<f64> = idx.iter().map(|&i| g[i]).collect();
                    let x = probe.step_from(&p, &gg)?;
                    for (&i, v) in idx.iter().zip(x) {
                        out[i] = v;
                    }
                }
                Ok(out)
            }
        }
    }
}

/// The set of values of a scalar x for which every coordinate seen so far lands within its
/// tolerance (`|target − x·e| ≤ w`), with the least-squares estimate of x.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
    num: f64,
    den: f64,
    /// A coordinate whose constraint emptied the interval (the first one).
    pub refuted_by: Option<usize>,
}

impl Default for Interval {
    fn default() -> Self {
        Interval {
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
            num: 0.0,
            den: 0.0,
            refuted_by: None,
        }
    }
}

impl Interval {
    fn add(&mut self, i: usize, target: f64, e: f64, w: f64) {
        if !(target.is_finite() && e.is_finite() && w.is_finite()) {
            self.lo = f64::INFINITY;
            self.refuted_by.get_or_insert(i);
            return;
        }
        if e == 0.0 {
            if target.abs() > w {
                self.lo = f64::INFINITY;
                self.refuted_by.get_or_insert(i);
            }
            return;
        }
        let (a, b) = ((target - w) / e, (target + w) / e);
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        self.lo = self.lo.max(a);
        self.hi = self.hi.min(b);
        self.num += target * e;
        self.den += e * e;
        if self.lo > self.hi {
            self.refuted_by.get_or_insert(i);
        }
    }

    /// Nothing satisfies every coordinate.
    pub fn is_empty(&self) -> bool {
        self.lo > self.hi
    }

    /// No coordinate constrains x (every e = 0).
    pub fn is_free(&self) -> bool {
        !self.is_empty() && self.lo == f64::NEG_INFINITY && self.hi == f64::INFINITY
    }

    /// x ∈ the interval.
    pub fn contains(&self, x: f64) -> bool {
        x >= self.lo && x <= self.hi
    }

    /// The least-squares estimate, inside the interval.
    pub fn estimate(&self) -> Option<f64> {
        if self.is_empty() || self.den == 0.0 {
            return None;
        }
        Some((self.num / self.den).clamp(self.lo, self.hi))
    }

    /// Half the width (∞ when unbounded).
    fn half_width(&self) -> f64 {
        0.5 * (self.hi - self.lo)
    }
}

/// For every step, replay from the trace's θ_{t−1} with the scalar at `x0` and at `x1`
/// (settings from `make`), and call `visit(k, i, target, e, w)` per coordinate, where the
/// trace's θ_t,i ≈ base + x·e, target = θ_t,i − base, and w the coordinate's tolerance.
fn linear_probe(
    tr: &Trace,
    make: &dyn Fn(f64) -> Result<Forced, String>,
    x0: f64,
    x1: f64,
    tol: f64,
    grads: &dyn Fn(usize) -> Vec<f64>,
    visit: &mut dyn FnMut(usize, usize, f64, f64, f64),
) -> Result<(), String> {
    let mut p0 = make(x0)?;
    let mut p1 = make(x1)?;
    let mut scale: Vec<f64> = tr.header.params0.iter().map(|v| v.abs()).collect();
    for (k, rec) in tr.steps.iter().enumerate() {
        let prev = tr.prev(k);
        let g = grads(k);
        let a0 = p0
            .step_from(prev, &g)
            .map_err(|e| format!("step {}: {e}", rec.step))?;
        let a1 = p1
            .step_from(prev, &g)
            .map_err(|e| format!("step {}: {e}", rec.step))?;
        for (i, &b) in rec.params.iter().enumerate() {
            if b.is_finite() {
                scale[i] = scale[i].max(b.abs());
            }
            let e = (a1[i] - a0[i]) / (x1 - x0);
            let base = a0[i] - x0 * e;
            visit(k, i, b - base, e, tol * scale[i].max(b.abs()));
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ schedules

/// A named schedule that explains a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleFit {
    /// In the framework's words, e.g. `CosineAnnealingLR(T_max=60, eta_min=0)`.
    pub label: String,
    /// The header's `schedule` entry: `{"name": …, "args": {…}}`.
    pub declare: Value,
    /// Number of arguments (integer ones included): the simplest family wins.
    pub complexity: u32,
    /// Worst distance of the schedule's η_t from the estimate, in half-widths of the interval.
    pub score: f64,
    /// η_t of the schedule, per step.
    pub values: Vec<f64>,
    /// Other arguments of the same family that also agree, in words (e.g. a range of T_max).
    pub note: String,
    /// The learning rate the scheduler starts from (torch's group `lr`).
    pub base_lr: f64,
    /// Evaluated exactly as the framework does ([`super::schedules::values`]) and found to
    /// agree at every step: `Some(true)`; `None` when that evaluation does not model it.
    pub confirmed: Option<bool>,
}

/// The learning rate of every step inferred from the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct LrInference {
    /// Per step, the learning rates that agree within the tolerance.
    pub steps: Vec<Interval>,
    /// The first step (from 1) no learning rate explains, and the coordinate that shows it.
    pub refuted: Option<(u64, usize)>,
    /// Named schedules that agree, the simplest first.
    pub fits: Vec<ScheduleFit>,
    /// The declared (constant) learning rate agrees at every step started from the trace's
    /// θ_{t−1}: the disagreement of the full replay is accumulated drift, not a rule.
    pub declared_fits: bool,
}

/// Infer η_t step by step (module doc, point 1) and fit the schedule families.
///
/// # Errors
/// A reference that cannot be built or refuses a step.
pub fn infer_schedule(tr: &Trace, setting: &Setting, tol: f64) -> Result<LrInference, String> {
    let n = tr.steps.len();
    let plan = tr.plan()?;
    let planned = tr.is_planned(&plan);
    if planned && (tr.header.schedule.is_some() || plan.lr_from_steps || tr.has_step_hyperparameters()) {
        return Err("given by the trace: a declared schedule or the step lines' hyperparameters".into());
    }
    // Under parameter groups, x is group 0's learning rate and every group's scales with it
    // (a torch scheduler multiplies each group's lr by the same factor when η_min = 0; the
    // fits are confirmed below by a full replay of the schedule as the framework runs it on
    // each group).
    let lr0 = plan.groups[0].setting.lr();
    if planned && !(lr0.is_finite() && lr0 != 0.0) {
        return Err(format!("group 0's learning rate is {lr0}"));
    }
    let make = |x: f64| -> Result<Forced, String> {
        if planned {
            Forced::planned(&tr.header, &plan, &|g| {
                with_lr(&g.setting, x * (g.setting.lr() / lr0))
            })
        } else {
            Probe::new(&tr.header, &with_lr(setting, x)).map(Forced::Plain)
        }
    };
    let mut steps = vec![Interval::default(); n];
    linear_probe(
        tr,
        &make,
        0.5,
        1.0,
        tol,
        &|k| tr.steps[k].grad.clone(),
        &mut |k, i, target, e, w| steps[k].add(i, target, e, w),
    )?;
    let refuted = steps
        .iter()
        .enumerate()
        .find(|(_, iv)| iv.is_empty())
        .map(|(k, iv)| (tr.steps[k].step, iv.refuted_by.unwrap_or(0)));
    let mut fits = vec![];
    let declared = setting.lr();
    let declared_fits = refuted.is_none() && verify(&steps, &vec![declared; n]).is_some();
    if refuted.is_none() && !declared_fits {
        fits = fit_schedules(&steps, &tr.header.preset, declared);
        confirm(&mut fits, &steps, &tr.header.preset);
        if planned {
            // Each group runs the schedule from its own lr: keep a fit only if the whole
            // trace, replayed as `check` would with the schedule declared, agrees.
            fits.retain_mut(|f| {
                let Ok(spec) = serde_json::from_value::<super::format::ScheduleSpec>(f.declare.clone())
                else {
                    return false;
                };
                let mut h = tr.header.clone();
                h.schedule = Some(spec);
                let ok = replay_header(tr, &h, &|k| tr.steps[k].grad.clone(), tol).agrees();
                f.confirmed = Some(ok);
                ok
            });
        }
    }
    Ok(LrInference {
        steps,
        refuted,
        fits,
        declared_fits,
    })
}

/// Evaluate each fit exactly as its framework does ([`super::schedules::values`]: torch's
/// recursive scheduler arithmetic, optax's JAX dtypes) where that evaluation models it, and
/// keep it only if those values agree with every step; a fit it does not model (Keras names,
/// a torch piecewise lr, optax's one-cycle) is kept as fitted, with `confirmed = None`.
fn confirm(fits: &mut Vec<ScheduleFit>, steps: &[Interval], preset: &str) {
    fits.retain_mut(|f| {
        let Ok(spec) = serde_json::from_value::<super::format::ScheduleSpec>(f.declare.clone()) else {
            return true;
        };
        match super::schedules::values(preset, &spec, f.base_lr, steps.len() as u64) {
            Err(_) => true,
            Ok(v) => {
                let ok = verify_exact(steps, &v).is_some();
                f.confirmed = Some(ok);
                ok
            }
        }
    });
}

/// η_k inside every step's interval as computed in f64; or, failing that, each step's
/// interval within [`F32_SCHEDULE_ULPS`] float32 ulps *of the schedule's largest value* of η_k
/// rounded to float32: optax evaluates its schedules in float32 even under `jax_enable_x64`
/// (measured: the learning rates of an f64 optax run are float32 numbers), with XLA's float32
/// `cos`, and in its own order (`(init − end)·frac + end` loses the low bits of a small value
/// to cancellation: 0.01 comes out as 0.010000005). The score (worst distance from the estimate
/// in half-widths) if so.
fn verify(steps: &[Interval], values: &[f64]) -> Option<f64> {
    verify_exact(steps, values).or_else(|| verify_f32(steps, values))
}

/// How many float32 ulps of the schedule's largest value η_max a schedule evaluated in float32
/// may be off (doc of `verify`). Every intermediate of the named schedules is a convex
/// combination of its init, peak and end values, so bounded by η_max; each of the ≤ 4
/// operations after the `cos` (itself within 1 ulp of the correctly rounded value in XLA)
/// rounds by ≤ ½ ulp(η_max): ≤ 3 ulps in all, 4 with margin. This is ~2.4e-7 relative to
/// η_max, far below the differences between schedule arguments the fits tell apart (a
/// period T vs T ± 1 moves η by ~1/T relative).
pub const F32_SCHEDULE_ULPS: f64 = 4.0;

/// The f32 branch of [`verify`] alone: true when only a float32 evaluation explains the steps.
fn verify_f32(steps: &[Interval], values: &[f64]) -> Option<f64> {
    let mut score: f64 = 0.0;
    let top = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let d = F32_SCHEDULE_ULPS * super::compare::ulp_at(Dtype::F32, top);
    for (iv, &v) in steps.iter().zip(values) {
        if iv.is_free() {
            continue;
        }
        let r = f64::from(v as f32);
        if !r.is_finite() || iv.hi < r - d || iv.lo > r + d {
            return None;
        }
        if let Some(e) = iv.estimate() {
            let hw = iv.half_width();
            if hw > 0.0 && hw.is_finite() {
                score = score.max(((r - e).abs() - d).max(0.0) / hw);
            }
        }
    }
    Some(score)
}

fn verify_exact(steps: &[Interval], values: &[f64]) -> Option<f64> {
    let mut score: f64 = 0.0;
    for (iv, &v) in steps.iter().zip(values) {
        if iv.is_free() {
            continue;
        }
        if !v.is_finite() || !iv.contains(v) {
            return None;
        }
        if let Some(e) = iv.estimate() {
            let hw = iv.half_width();
            if hw > 0.0 && hw.is_finite() {
                score = score.max((v - e).abs() / hw);
            }
        }
    }
    Some(score)
}

/// Weighted least squares of the estimates on `basis(k)` (up to 3 functions): the
/// coefficients, or None if nothing constrains them.
fn lsq(steps: &[Interval], nb: usize, basis: &dyn Fn(usize) -> [f64; 3]) -> Option<Vec<f64>> {
    let rows: Vec<(usize, f64, f64)> = steps
        .iter()
        .enumerate()
        .filter_map(|(k, iv)| {
            let e = iv.estimate()?;
            let hw = iv.half_width();
            let w = if hw > 0.0 && hw.is_finite() { 1.0 / hw } else { 1.0 };
            Some((k, e, w))
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let wmax = rows.iter().map(|r| r.2).fold(0.0, f64::max);
    let a = DMatrix::from_fn(rows.len(), nb, |r, j| basis(rows[r].0)[j] * rows[r].2 / wmax);
    let b = DVector::from_fn(rows.len(), |r, _| rows[r].1 * rows[r].2 / wmax);
    let x = a.svd(true, true).solve(&b, 1e-13).ok()?;
    x.iter().all(|v| v.is_finite()).then(|| x.as_slice().to_vec())
}

/// `x` rounded to `digits` significant decimal digits.
fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let p = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    let r = (x * p).round() / p;
    // Go through the decimal string so 0.1 prints as 0.1.
    format!("{r:.*e}", (digits - 1).max(0) as usize)
        .parse()
        .unwrap_or(r)
}

/// Round each coefficient to the fewest significant digits (trying 0 first) for which
/// `eval` still agrees with every step.
fn nice(steps: &[Interval], coef: &mut [f64], eval: &dyn Fn(&[f64]) -> Vec<f64>) {
    for j in 0..coef.len() {
        let orig = coef[j];
        let mut tries = vec![0.0];
        tries.extend((1..=17).map(|d| round_sig(orig, d)));
        for t in tries {
            coef[j] = t;
            if verify(steps, &eval(coef)).is_some() {
                break;
            }
            coef[j] = orig;
        }
    }
}

/// A number as a schedule argument: integers without a fraction, else shortest round trip.
fn num(x: f64) -> Value {
    json!(x)
}

fn fmt(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// Candidate fits of every family; sorted simplest first, then by score.
fn fit_schedules(steps: &[Interval], preset: &str, declared_lr: f64) -> Vec<ScheduleFit> {
    let n = steps.len();
    let mut fits: Vec<ScheduleFit> = vec![];
    let torch = preset == "pytorch";
    let keras = preset == "keras";
    let est: Vec<Option<f64>> = steps.iter().map(|iv| iv.estimate()).collect();
    if est.iter().all(|e| e.is_none()) {
        return fits;
    }
    // The declared constant learning rate explains the trace: nothing to infer here.
    if verify(steps, &vec![declared_lr; n]).is_some() {
        return fits;
    }
    let push = |fits: &mut Vec<ScheduleFit>,
                label: String,
                declare: Value,
                complexity: u32,
                values: Vec<f64>,
                note: String| {
        if let Some(score) = verify(steps, &values) {
            let label = if verify_exact(steps, &values).is_none() {
                format!("{label}, evaluated in float32")
            } else {
                label
            };
            fits.push(ScheduleFit {
                label,
                declare,
                complexity,
                score,
                base_lr: values.first().copied().unwrap_or(declared_lr),
                values,
                note,
                confirmed: None,
            });
        }
    };

    // Constant.
    if let Some(c) = lsq(steps, 1, &|_| [1.0, 0.0, 0.0]) {
        let mut c = c;
        let eval = |c: &[f64]| vec![c[0]; n];
        nice(steps, &mut c, &eval);
        let (lrn, _) = hp_names(preset);
        push(
            &mut fits,
            format!("a constant {lrn} = {} (declared {})", fmt(c[0]), fmt(declared_lr)),
            json!({"hyperparameters": {lrn: c[0]}}),
            1,
            eval(&c),
            String::new(),
        );
    }

    // Exponential: η_k = a γ^k (log-linear fit on the positive estimates).
    if est.iter().flatten().all(|&e| e > 0.0) {
        let logs: Vec<Interval> = steps
            .iter()
            .map(|iv| match iv.estimate() {
                Some(e) => {
                    let mut l = Interval::default();
                    l.add(0, e.ln(), 1.0, (iv.half_width() / e).min(1.0));
                    l
                }
                None => Interval::default(),
            })
            .collect();
        if let Some(c) = lsq(&logs, 2, &|k| [1.0, k as f64, 0.0]) {
            let mut c = vec![c[0].exp(), c[1].exp()];
            let eval = |c: &[f64]| (0..n).map(|k| c[0] * c[1].powf(k as f64)).collect::<Vec<_>>();
            nice(steps, &mut c, &eval);
            let (label, declare) = if torch {
                (
                    format!("ExponentialLR(gamma={}) with lr = {}", fmt(c[1]), fmt(c[0])),
                    json!({"name": "ExponentialLR", "args": {"gamma": c[1]}}),
                )
            } else if keras {
                (
                    format!(
                        "ExponentialDecay(initial_learning_rate={}, decay_steps=1, decay_rate={})",
                        fmt(c[0]),
                        fmt(c[1])
                    ),
                    json!({"name": "ExponentialDecay", "args": {"initial_learning_rate": c[0], "decay_steps": 1, "decay_rate": c[1]}}),
                )
            } else {
                (
                    format!(
                        "exponential_decay(init_value={}, transition_steps=1, decay_rate={})",
                        fmt(c[0]),
                        fmt(c[1])
                    ),
                    json!({"name": "exponential_decay", "args": {"init_value": c[0], "transition_steps": 1, "decay_rate": c[1]}}),
                )
            };
            push(&mut fits, label, declare, 2, eval(&c), String::new());
        }
    }

    // Piecewise constant: greedy maximal segments with a common value.
    let mut segs: Vec<(usize, Interval)> = vec![];
    for (k, iv) in steps.iter().enumerate() {
        if iv.is_free() {
            continue;
        }
        match segs.last_mut() {
            Some((_, s)) if s.lo.max(iv.lo) <= s.hi.min(iv.hi) => {
                s.lo = s.lo.max(iv.lo);
                s.hi = s.hi.min(iv.hi);
                s.num += iv.num;
                s.den += iv.den;
            }
            _ => segs.push((k, *iv)),
        }
    }
    if segs.len() >= 2 && segs.len() <= 8.max(n / 10) {
        let starts: Vec<usize> = segs.iter().map(|s| s.0).collect();
        let seg_of = |k: usize| starts.iter().take_while(|&&s| s <= k).count().saturating_sub(1);
        let vals: Vec<f64> = segs.iter().map(|s| s.1.estimate().unwrap_or(s.1.lo)).collect();
        // torch ConstantLR: lr·factor until total_iters, then lr (factor in (0, 1]).
        let constant_lr = torch && segs.len() == 2 && vals[0] > 0.0 && vals[0] < vals[1];
        if constant_lr {
            let t = starts[1];
            let mut c = vec![vals[0] / vals[1], vals[1]];
            let eval = |c: &[f64]| {
                (0..n)
                    .map(|k| if k < t { c[1] * c[0] } else { c[1] })
                    .collect::<Vec<_>>()
            };
            nice(steps, &mut c, &eval);
            push(
                &mut fits,
                format!(
                    "ConstantLR(factor={}, total_iters={t}) with lr = {}",
                    fmt(c[0]),
                    fmt(c[1])
                ),
                json!({"name": "ConstantLR", "args": {"factor": c[0], "total_iters": t}}),
                3,
                eval(&c),
                String::new(),
            );
            if let Some(f) = fits.last_mut().filter(|f| f.declare["name"] == "ConstantLR") {
                f.base_lr = c[1];
            }
        }
        // Common ratio γ: MultiStepLR / StepLR (a single rise is the ConstantLR above).
        if vals.iter().all(|&v| v > 0.0) {
            let j = segs.len() as f64 - 1.0;
            let mut c = vec![vals[0], (vals[vals.len() - 1] / vals[0]).powf(1.0 / j)];
            let eval = |c: &[f64]| {
                (0..n)
                    .map(|k| c[0] * c[1].powf(seg_of(k) as f64))
                    .collect::<Vec<_>>()
            };
            nice(steps, &mut c, &eval);
            let milestones: Vec<usize> = starts[1..].to_vec();
            let s = milestones[0];
            let equal = milestones.iter().enumerate().all(|(j, &m)| m == (j + 1) * s)
                && n <= (milestones.len() + 1) * s;
            let (label, declare, complexity) = if equal && torch {
                (
                    format!(
                        "StepLR(step_size={s}, gamma={}) with lr = {}",
                        fmt(c[1]),
                        fmt(c[0])
                    ),
                    json!({"name": "StepLR", "args": {"step_size": s, "gamma": c[1]}}),
                    3,
                )
            } else if torch {
                (
                    format!(
                        "MultiStepLR(milestones={milestones:?}, gamma={}) with lr = {}",
                        fmt(c[1]),
                        fmt(c[0])
                    ),
                    json!({"name": "MultiStepLR", "args": {"milestones": milestones, "gamma": c[1]}}),
                    2 + milestones.len() as u32,
                )
            } else if equal && keras {
                (
                    format!("ExponentialDecay(initial_learning_rate={}, decay_steps={s}, decay_rate={}, staircase=True)", fmt(c[0]), fmt(c[1])),
                    json!({"name": "ExponentialDecay", "args": {"initial_learning_rate": c[0], "decay_steps": s, "decay_rate": c[1], "staircase": true}}),
                    3,
                )
            } else if equal {
                (
                    format!("exponential_decay(init_value={}, transition_steps={s}, decay_rate={}, staircase=True)", fmt(c[0]), fmt(c[1])),
                    json!({"name": "exponential_decay", "args": {"init_value": c[0], "transition_steps": s, "decay_rate": c[1], "staircase": true}}),
                    3,
                )
            } else {
                let bs: serde_json::Map<String, Value> =
                    milestones.iter().map(|m| (m.to_string(), num(c[1]))).collect();
                (
                    format!(
                        "piecewise_constant_schedule(init_value={}, boundaries_and_scales={})",
                        fmt(c[0]),
                        Value::Object(bs.clone())
                    ),
                    json!({"name": "piecewise_constant_schedule", "args": {"init_value": c[0], "boundaries_and_scales": bs}}),
                    2 + milestones.len() as u32,
                )
            };
            if !(constant_lr && fits.iter().any(|f| f.declare["name"] == "ConstantLR")) {
                push(&mut fits, label, declare, complexity, eval(&c), String::new());
            }
        }
        // Any values.
        let mut c = vals.clone();
        let eval = |c: &[f64]| (0..n).map(|k| c[seg_of(k)]).collect::<Vec<_>>();
        nice(steps, &mut c, &eval);
        let milestones: Vec<usize> = starts[1..].to_vec();
        let (label, declare) = if torch {
            (
                format!(
                    "a piecewise constant lr: {} from steps {:?} (LambdaLR; declare per-step lr)",
                    c.iter().map(|v| fmt(*v)).collect::<Vec<_>>().join(", "),
                    starts.iter().map(|s| s + 1).collect::<Vec<_>>()
                ),
                json!({"per_step": "lr"}),
            )
        } else {
            let bs: serde_json::Map<String, Value> = milestones
                .iter()
                .enumerate()
                .map(|(j, m)| (m.to_string(), num(c[j + 1] / c[j])))
                .collect();
            (
                format!(
                    "piecewise_constant_schedule(init_value={}, boundaries_and_scales={})",
                    fmt(c[0]),
                    Value::Object(bs.clone())
                ),
                json!({"name": "piecewise_constant_schedule", "args": {"init_value": c[0], "boundaries_and_scales": bs}}),
            )
        };
        push(
            &mut fits,
            label,
            declare,
            2 * segs.len() as u32,
            eval(&c),
            String::new(),
        );
    }

    // Cosine annealing: η_k = m + (a − m)(1 + cos(π k/T))/2; torch continues the cosine past
    // T_max, optax and Keras clamp at the end.
    let cosine = |k: usize, t: usize, clamp: bool| {
        let k = if clamp { k.min(t) } else { k };
        0.5 * (1.0 + (std::f64::consts::PI * k as f64 / t as f64).cos())
    };
    for with_min in [false, true] {
        let mut ok: Vec<(usize, f64, Vec<f64>)> = vec![];
        for t in 1..=(4 * n).max(2) {
            let basis = |k: usize| {
                let c = cosine(k, t, !torch);
                [c, 1.0 - c, 0.0]
            };
            let nb = if with_min { 2 } else { 1 };
            if let Some(c) = lsq(steps, nb, &basis) {
                let eval = |c: &[f64]| {
                    (0..n)
                        .map(|k| {
                            let b = basis(k);
                            c[0] * b[0] + if with_min { c[1] * b[1] } else { 0.0 }
                        })
                        .collect::<Vec<_>>()
                };
                if let Some(score) = verify(steps, &eval(&c)) {
                    ok.push((t, score, c));
                }
            }
        }
        if let Some((t, _, c)) = ok.iter().min_by(|a, b| a.1.total_cmp(&b.1)).cloned() {
            let mut c = c;
            if !with_min {
                c.push(0.0);
            }
            let eval = |c: &[f64]| {
                (0..n)
                    .map(|k| c[0] * cosine(k, t, !torch) + c[1] * (1.0 - cosine(k, t, !torch)))
                    .collect::<Vec<_>>()
            };
            nice(steps, &mut c, &eval);
            let (tlo, thi) = (
                ok.iter().map(|o| o.0).min().unwrap_or(t),
                ok.iter().map(|o| o.0).max().unwrap_or(t),
            );
            let note = if tlo != thi {
                format!("T = {tlo} … {thi} also agree: {n} steps do not pin the period down")
            } else {
                String::new()
            };
            let (a, m) = (c[0], c[1]);
            let (label, declare) = if torch {
                (
                    format!(
                        "CosineAnnealingLR(T_max={t}, eta_min={}) with lr = {}",
                        fmt(m),
                        fmt(a)
                    ),
                    json!({"name": "CosineAnnealingLR", "args": {"T_max": t, "eta_min": m}}),
                )
            } else if keras {
                (
                    format!(
                        "CosineDecay(initial_learning_rate={}, decay_steps={t}, alpha={})",
                        fmt(a),
                        fmt(m / a)
                    ),
                    json!({"name": "CosineDecay", "args": {"initial_learning_rate": a, "decay_steps": t, "alpha": m / a}}),
                )
            } else {
                (
                    format!(
                        "cosine_decay_schedule(init_value={}, decay_steps={t}, alpha={})",
                        fmt(a),
                        fmt(m / a)
                    ),
                    json!({"name": "cosine_decay_schedule", "args": {"init_value": a, "decay_steps": t, "alpha": m / a}}),
                )
            };
            push(
                &mut fits,
                label,
                declare,
                if with_min { 3 } else { 2 },
                eval(&c),
                note,
            );
        }
    }

    // Linear warm-up (then constant): η_k = p + (q − p)·min(k, N)/N.
    {
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for nn in 1..=n.max(1) {
            let basis = |k: usize| {
                let r = k.min(nn) as f64 / nn as f64;
                [1.0 - r, r, 0.0]
            };
            if let Some(c) = lsq(steps, 2, &basis) {
                let v: Vec<f64> = (0..n).map(|k| c[0] * basis(k)[0] + c[1] * basis(k)[1]).collect();
                if let Some(s) = verify(steps, &v) {
                    if best.as_ref().is_none_or(|b| s < b.0) {
                        best = Some((s, nn, c));
                    }
                }
            }
        }
        if let Some((_, nn, mut c)) = best {
            let eval = |c: &[f64]| {
                (0..n)
                    .map(|k| {
                        let r = k.min(nn) as f64 / nn as f64;
                        c[0] * (1.0 - r) + c[1] * r
                    })
                    .collect::<Vec<_>>()
            };
            nice(steps, &mut c, &eval);
            let (p, q) = (c[0], c[1]);
            let (label, declare) = if torch {
                (
                    format!(
                        "LinearLR(start_factor={}, end_factor=1.0, total_iters={nn}) with lr = {}",
                        fmt(round_sig(p / q, 12)),
                        fmt(q)
                    ),
                    json!({"name": "LinearLR", "args": {"start_factor": round_sig(p / q, 12), "end_factor": 1.0, "total_iters": nn}}),
                )
            } else if keras {
                (
                    format!("PolynomialDecay(initial_learning_rate={}, decay_steps={nn}, end_learning_rate={}, power=1.0)", fmt(p), fmt(q)),
                    json!({"name": "PolynomialDecay", "args": {"initial_learning_rate": p, "decay_steps": nn, "end_learning_rate": q, "power": 1.0}}),
                )
            } else {
                (
                    format!(
                        "linear_schedule(init_value={}, end_value={}, transition_steps={nn})",
                        fmt(p),
                        fmt(q)
                    ),
                    json!({"name": "linear_schedule", "args": {"init_value": p, "end_value": q, "transition_steps": nn}}),
                )
            };
            push(&mut fits, label, declare, 3, eval(&c), String::new());
            if let Some(f) = fits.last_mut().filter(|f| f.declare["name"] == "LinearLR") {
                f.base_lr = q;
            }
        }
    }

    // torch PolynomialLR: η_k = b·(1 − min(k, T)/T)^p — log-linear in ln(1 − k/T) for k < T,
    // 0 from k = T on; T from 2 to 4n, b and p by weighted least squares on the logarithms.
    if torch {
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        let poly = |k: usize, t: usize, c: &[f64]| c[0] * (1.0 - k.min(t) as f64 / t as f64).powf(c[1]);
        for t in 2..=(4 * n) {
            let logs: Vec<Interval> = steps
                .iter()
                .enumerate()
                .map(|(k, iv)| match iv.estimate() {
                    Some(e) if k < t && e > 0.0 => {
                        let mut l = Interval::default();
                        l.add(0, e.ln(), 1.0, (iv.half_width() / e).min(1.0));
                        l
                    }
                    _ => Interval::default(),
                })
                .collect();
            if logs.iter().filter(|l| !l.is_free()).count() < 3 {
                continue;
            }
            if let Some(c) = lsq(&logs, 2, &|k| [1.0, (1.0 - k as f64 / t as f64).ln(), 0.0]) {
                let c = vec![c[0].exp(), c[1]];
                if c[1].is_nan() || c[1] <= 0.0 {
                    continue;
                }
                let v: Vec<f64> = (0..n).map(|k| poly(k, t, &c)).collect();
                if let Some(score) = verify(steps, &v) {
                    if best.as_ref().is_none_or(|b| score < b.0) {
                        best = Some((score, t, c));
                    }
                }
            }
        }
        if let Some((_, t, mut c)) = best {
            let eval = |c: &[f64]| (0..n).map(|k| poly(k, t, c)).collect::<Vec<_>>();
            nice(steps, &mut c, &eval);
            push(
                &mut fits,
                format!(
                    "PolynomialLR(total_iters={t}, power={}) with lr = {}",
                    fmt(c[1]),
                    fmt(c[0])
                ),
                json!({"name": "PolynomialLR", "args": {"total_iters": t, "power": c[1]}}),
                3,
                eval(&c),
                String::new(),
            );
            if let Some(f) = fits.last_mut().filter(|f| f.declare["name"] == "PolynomialLR") {
                f.base_lr = c[0];
            }
        }
    }

    // Cosine with warm restarts (torch CosineAnnealingWarmRestarts): period i of T_0·T_mult^i.
    {
        let position = |k: usize, t0: usize, tm: usize| {
            let (mut start, mut len) = (0usize, t0);
            while k >= start + len {
                start += len;
                len *= tm;
            }
            (k - start, len)
        };
        let mut best: Option<(f64, usize, usize, Vec<f64>)> = None;
        for t0 in 1..n {
            for tm in 1..=3 {
                let basis = |k: usize| {
                    let (c, l) = position(k, t0, tm);
                    let c = 0.5 * (1.0 + (std::f64::consts::PI * c as f64 / l as f64).cos());
                    [c, 1.0 - c, 0.0]
                };
                if let Some(c) = lsq(steps, 2, &basis) {
                    let v: Vec<f64> = (0..n).map(|k| c[0] * basis(k)[0] + c[1] * basis(k)[1]).collect();
                    if let Some(s) = verify(steps, &v) {
                        if best.as_ref().is_none_or(|b| s < b.0) {
                            best = Some((s, t0, tm, c));
                        }
                    }
                }
            }
        }
        if let Some((_, t0, tm, mut c)) = best {
            let eval = |c: &[f64]| {
                (0..n)
                    .map(|k| {
                        let (p, l) = position(k, t0, tm);
                        let cc = 0.5 * (1.0 + (std::f64::consts::PI * p as f64 / l as f64).cos());
                        c[0] * cc + c[1] * (1.0 - cc)
                    })
                    .collect::<Vec<_>>()
            };
            nice(steps, &mut c, &eval);
            push(
                &mut fits,
                format!(
                    "CosineAnnealingWarmRestarts(T_0={t0}, T_mult={tm}, eta_min={}) with lr = {}",
                    fmt(c[1]),
                    fmt(c[0])
                ),
                json!({"name": "CosineAnnealingWarmRestarts", "args": {"T_0": t0, "T_mult": tm, "eta_min": c[1]}}),
                4,
                eval(&c),
                String::new(),
            );
        }
    }

    // Warm-up + cosine (optax warmup_cosine_decay_schedule): linear from init to peak over W
    // steps, then cosine from peak to end over D − W steps, clamped.
    let peak_k = est
        .iter()
        .enumerate()
        .filter_map(|(k, e)| e.map(|e| (k, e)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|p| p.0)
        .unwrap_or(0);
    if peak_k >= 1 && peak_k + 2 < n {
        let wc = |k: usize, w: usize, d: usize| -> [f64; 3] {
            if k < w {
                let r = k as f64 / w as f64;
                [1.0 - r, r, 0.0]
            } else {
                let c =
                    0.5 * (1.0 + (std::f64::consts::PI * (k - w).min(d - w) as f64 / (d - w) as f64).cos());
                [0.0, c, 1.0 - c]
            }
        };
        let mut best: Option<(f64, usize, usize, Vec<f64>)> = None;
        for w in peak_k.saturating_sub(1).max(1)..=peak_k + 1 {
            for d in w + 1..=(4 * n) {
                if let Some(c) = lsq(steps, 3, &|k| wc(k, w, d)) {
                    let v: Vec<f64> = (0..n)
                        .map(|k| wc(k, w, d).iter().zip(&c).map(|(b, c)| b * c).sum())
                        .collect();
                    if let Some(s) = verify(steps, &v) {
                        if best.as_ref().is_none_or(|b| s < b.0) {
                            best = Some((s, w, d, c));
                        }
                    }
                }
            }
        }
        if let Some((_, w, d, mut c)) = best {
            let eval = |c: &[f64]| {
                (0..n)
                    .map(|k| wc(k, w, d).iter().zip(c).map(|(b, c)| b * c).sum())
                    .collect::<Vec<f64>>()
            };
            nice(steps, &mut c, &eval);
            let (i, p, e) = (c[0], c[1], c[2]);
            let (label, declare) = if torch {
                (
                    format!(
                        "SequentialLR([LinearLR(start_factor={}, total_iters={w}), CosineAnnealingLR(T_max={}, eta_min={})], milestones=[{w}]) with lr = {}",
                        fmt(round_sig(i / p, 12)), d - w, fmt(e), fmt(p)
                    ),
                    json!({"name": "SequentialLR", "args": {"schedulers": [
                        {"name": "LinearLR", "args": {"start_factor": round_sig(i / p, 12), "end_factor": 1.0, "total_iters": w}},
                        {"name": "CosineAnnealingLR", "args": {"T_max": d - w, "eta_min": e}}], "milestones": [w]}}),
                )
            } else {
                (
                    format!("warmup_cosine_decay_schedule(init_value={}, peak_value={}, warmup_steps={w}, decay_steps={d}, end_value={})", fmt(i), fmt(p), fmt(e)),
                    json!({"name": "warmup_cosine_decay_schedule", "args": {"init_value": i, "peak_value": p, "warmup_steps": w, "decay_steps": d, "end_value": e}}),
                )
            };
            push(&mut fits, label, declare, 5, eval(&c), String::new());
            if let Some(f) = fits.last_mut().filter(|f| f.declare["name"] == "SequentialLR") {
                f.base_lr = p;
            }
        }

        // One-cycle (cosine annealing both phases): phase 1 from initial to max over
        // [0, E1], phase 2 from max to min over [E1, E2]; torch: E1 = pct·total − 1,
        // E2 = total − 1; optax cosine_onecycle_schedule: E1 = pct·T, E2 = T, clamped.
        let oc = |k: usize, e1: f64, e2: f64| -> [f64; 3] {
            let k = (k as f64).min(e2);
            if k <= e1 {
                let c = 0.5 * (1.0 + (std::f64::consts::PI * k / e1).cos());
                [c, 1.0 - c, 0.0]
            } else {
                let c = 0.5 * (1.0 + (std::f64::consts::PI * (k - e1) / (e2 - e1)).cos());
                [0.0, c, 1.0 - c]
            }
        };
        let mut best: Option<(f64, f64, usize, Vec<f64>)> = None;
        for total in n..=(3 * n) {
            let mut pcts: Vec<f64> = (1..=19).map(|j| j as f64 * 0.05).collect();
            for e1 in [peak_k, peak_k + 1] {
                pcts.push((e1 as f64 + if torch { 1.0 } else { 0.0 }) / total as f64);
            }
            for pct in pcts {
                let (e1, e2) = if torch {
                    (pct * total as f64 - 1.0, total as f64 - 1.0)
                } else {
                    (pct * total as f64, total as f64)
                };
                if !(e1 > 0.0 && e2 > e1) {
                    continue;
                }
                if let Some(c) = lsq(steps, 3, &|k| oc(k, e1, e2)) {
                    let v: Vec<f64> = (0..n)
                        .map(|k| oc(k, e1, e2).iter().zip(&c).map(|(b, c)| b * c).sum())
                        .collect();
                    if let Some(s) = verify(steps, &v) {
                        if best.as_ref().is_none_or(|b| s < b.0) {
                            best = Some((s, pct, total, c));
                        }
                    }
                }
            }
        }
        if let Some((_, pct, total, mut c)) = best {
            let (e1, e2) = if torch {
                (pct * total as f64 - 1.0, total as f64 - 1.0)
            } else {
                (pct * total as f64, total as f64)
            };
            let eval = |c: &[f64]| {
                (0..n)
                    .map(|k| oc(k, e1, e2).iter().zip(c).map(|(b, c)| b * c).sum())
                    .collect::<Vec<f64>>()
            };
            nice(steps, &mut c, &eval);
            let (init, max, min) = (c[0], c[1], c[2]);
            let pct = round_sig(pct, 12);
            let (label, declare) = if torch {
                (
                    format!(
                        "OneCycleLR(max_lr={}, total_steps={total}, pct_start={}, div_factor={}, final_div_factor={}, anneal_strategy='cos', three_phase=False, cycle_momentum=False)",
                        fmt(max), fmt(pct), fmt(round_sig(max / init, 12)), fmt(round_sig(init / min, 12))
                    ),
                    json!({"name": "OneCycleLR", "args": {"max_lr": max, "total_steps": total, "pct_start": pct,
                        "div_factor": round_sig(max / init, 12), "final_div_factor": round_sig(init / min, 12),
                        "anneal_strategy": "cos", "three_phase": false, "cycle_momentum": false}}),
                )
            } else {
                (
                    format!(
                        "cosine_onecycle_schedule(transition_steps={total}, peak_value={}, pct_start={}, div_factor={}, final_div_factor={})",
                        fmt(max), fmt(pct), fmt(round_sig(max / init, 12)), fmt(round_sig(init / min, 12))
                    ),
                    json!({"name": "cosine_onecycle_schedule", "args": {"transition_steps": total, "peak_value": max, "pct_start": pct,
                        "div_factor": round_sig(max / init, 12), "final_div_factor": round_sig(init / min, 12)}}),
                )
            };
            push(&mut fits, label, declare, 5, eval(&c), String::new());
        }
    }

    fits.sort_by(|a, b| a.complexity.cmp(&b.complexity).then(a.score.total_cmp(&b.score)));
    // The same schedule found by two families (a cosine whose fitted η_min rounds to 0).
    let mut seen = std::collections::BTreeSet::new();
    fits.retain(|f| seen.insert(f.label.clone()));
    fits
}

// ------------------------------------------------------------------ one-cycle with momentum

/// The `OneCycleLR` arguments [`infer_one_cycle`] tries besides `max_lr` and `total_steps`,
/// most common first (torch's defaults lead): `div_factor`, `pct_start`, `anneal_strategy`,
/// `three_phase`, `final_div_factor`.
const ONE_CYCLE_DIV: [f64; 6] = [25.0, 10.0, 100.0, 5.0, 20.0, 50.0];
const ONE_CYCLE_PCT: [f64; 8] = [0.3, 0.25, 0.2, 0.1, 0.15, 0.4, 0.45, 0.5];
const ONE_CYCLE_FINAL_DIV: [f64; 4] = [1e4, 1e3, 1e2, 1e5];

/// How many coordinate-steps the one-cycle search may replay in all, counting each step's
/// schedule evaluation as one more (a bound on its time: a few seconds on this machine); a
/// larger search stops and says so.
const ONE_CYCLE_BUDGET: u64 = 100_000_000;

/// The cost of building one hypothesis's replayer, in coordinate-steps (see its use).
const ONE_CYCLE_BUILD_COST: u64 = 500;

/// The outcome of the one-cycle search.
#[derive(Debug, Clone, PartialEq)]
pub enum OneCycle {
    /// A `OneCycleLR(cycle_momentum=True)` whose full replay agrees.
    Found(ScheduleFit),
    /// Nothing in the searched grid agrees.
    NotFound { tried: usize },
    /// The budget ran out after `tried` hypotheses.
    OutOfBudget { tried: usize },
}

/// torch `OneCycleLR` with `cycle_momentum=True` (its default) writes β₁ (`betas[0]`) or
/// `momentum` at every step, together with the lr, so the per-step learning-rate inference —
/// which holds the momentum at its declared value — is refuted from step 2. But step 1 does
/// not depend on the momentum (Adam's m̂₁ = g₁ for every β₁; SGD's and RMSprop's first buffer
/// is the gradient itself; SGD-Nesterov's update is (1 + μ₁)·g₁, corrected for below), so
/// its interval gives the scheduler's initial lr `max_lr / div_factor`. For each
/// `div_factor`, `max_lr` is that lr × `div_factor` rounded to the fewest significant digits
/// whose quotient stays inside step 1's interval; `total_steps` runs from the trace's length
/// to 4× it, and the other arguments over a short list of the common values
/// (`ONE_CYCLE_DIV`, `ONE_CYCLE_PCT`, both annealings, two or three phases,
/// `ONE_CYCLE_FINAL_DIV`), momenta torch's defaults (0.85, 0.95). Each hypothesis is
/// replayed exactly as `check` replays a declared schedule (the framework kernel, the
/// scheduler's own arithmetic), stopping at its first step beyond the tolerance; the first
/// hypothesis, in that order, that agrees at every step is the answer — so it is confirmed,
/// not fitted. `None` when the setting's momentum is not one OneCycleLR cycles (torch only;
/// NAdam and RAdam, whose first step depends on β₁, are not searched).
pub fn infer_one_cycle(tr: &Trace, setting: &Setting, lr: &LrInference, tol: f64) -> Option<OneCycle> {
    let h = &tr.header;
    if h.preset != "pytorch" || h.schedule.is_some() || tr.has_step_hyperparameters() {
        return None;
    }
    let declared_m = match setting {
        Setting::Sgd(_) | Setting::RmsProp(_) | Setting::Adam(_) | Setting::AdamW(_) => {
            setting.momentum_like()?
        }
        _ => return None,
    };
    let plan = tr.plan().ok()?;
    let first = lr.steps.first()?;
    let est = first.estimate()?;
    let (base_m, max_m) = (0.85, 0.95);
    // SGD-Nesterov's first update is lr·(1 + μ₁)·g: the probe held μ at the declared value.
    let nesterov = matches!(setting, Setting::Sgd(c) if c.nesterov);
    let correct = |x: f64| {
        if nesterov {
            x * (1.0 + declared_m) / (1.0 + max_m)
        } else {
            x
        }
    };
    let (init_est, init_lo, init_hi) = (correct(est), correct(first.lo), correct(first.hi));
    let n = tr.steps.len();
    let dim = h.params0.len() as u64;
    let mut spent = 0u64;
    let mut tried = 0usize;
    for div in ONE_CYCLE_DIV {
        // The fewest significant digits of max_lr whose max_lr / div lands in step 1's interval.
        let Some(max_lr) = (1..=15)
            .map(|d| round_sig(init_est * div, d))
            .find(|m| (init_lo..=init_hi).contains(&(m / div)))
        else {
            continue;
        };
        for pct in ONE_CYCLE_PCT {
            for cos in [true, false] {
                for three_phase in [false, true] {
                    for final_div in ONE_CYCLE_FINAL_DIV {
                        for total in n..=4 * n {
                            if spent > ONE_CYCLE_BUDGET {
                                return Some(OneCycle::OutOfBudget { tried });
                            }
                            let declare = json!({"name": "OneCycleLR", "args": {
                                "max_lr": max_lr, "total_steps": total, "pct_start": pct,
                                "div_factor": div, "final_div_factor": final_div,
                                "anneal_strategy": if cos { "cos" } else { "linear" },
                                "three_phase": three_phase,
                                "base_momentum": base_m, "max_momentum": max_m}});
                            let Ok(spec) =
                                serde_json::from_value::<super::format::ScheduleSpec>(declare.clone())
                            else {
                                continue;
                            };
                            tried += 1;
                            let mut hh = h.clone();
                            hh.schedule = Some(spec);
                            let (ok, steps) = agrees_to_the_end(tr, &hh, &plan, tol);
                            // Building a hypothesis's replayer (a header clone, the kernel, the
                            // scheduler) costs about as much as 500 coordinate-steps (measured:
                            // 11 µs a hypothesis on the loaded machine).
                            spent += ONE_CYCLE_BUILD_COST + dim + steps as u64 * (dim + 1);
                            if ok {
                                let mut run = super::schedules::ScheduleRun::new(
                                    "pytorch",
                                    hh.schedule.as_ref()?,
                                    setting.lr(),
                                    Some(declared_m),
                                    0,
                                )
                                .ok()?;
                                let values = (0..n)
                                    .map(|_| run.next_scalars().map(|s| s.lr).ok())
                                    .collect::<Option<Vec<f64>>>()?;
                                let label = format!(
                                    "OneCycleLR(max_lr={}, total_steps={total}, pct_start={}, div_factor={}, final_div_factor={}, anneal_strategy='{}', three_phase={}, base_momentum={base_m}, max_momentum={max_m}) with its momentum cycle",
                                    fmt(max_lr),
                                    fmt(pct),
                                    fmt(div),
                                    fmt(final_div),
                                    if cos { "cos" } else { "linear" },
                                    if three_phase { "True" } else { "False" },
                                );
                                let note = if total > n {
                                    format!("total_steps from {total} on agree with this trace of {n} steps: the smallest is shown")
                                } else {
                                    String::new()
                                };
                                return Some(OneCycle::Found(ScheduleFit {
                                    label,
                                    declare,
                                    complexity: 5,
                                    score: 0.0,
                                    values,
                                    note,
                                    base_lr: setting.lr(),
                                    confirmed: Some(true),
                                }));
                            }
                        }
                    }
                }
            }
        }
    }
    Some(OneCycle::NotFound { tried })
}

// ------------------------------------------------------------------ cyclic with momentum

/// How many coordinate-steps the `CyclicLR` search may probe in all (each hypothesis probes
/// with two kernels; a bound on its time of the order of [`ONE_CYCLE_BUDGET`]'s); a larger
/// search stops and says so.
const CYCLIC_BUDGET: u64 = 60_000_000;

/// torch `CyclicLR`'s default momenta, the ones the search assumes.
const CYCLIC_MOMENTA: (f64, f64) = (0.8, 0.9);

/// The outcome of the `CyclicLR` search.
#[derive(Debug, Clone, PartialEq)]
pub enum CyclicSearch {
    /// A `CyclicLR(cycle_momentum=True)` whose full replay agrees.
    Found(ScheduleFit),
    /// No hypothesis agrees.
    NotFound { tried: usize },
    /// The budget ran out after `tried` hypotheses.
    OutOfBudget { tried: usize },
}

/// The `exp_range` `gamma`s [`infer_cyclic`] tries (its value is continuous): round values,
/// and the CLR paper's 0.99994.
const CYCLIC_GAMMAS: [f64; 10] = [0.99, 0.95, 0.9, 0.98, 0.97, 0.995, 0.999, 0.9995, 0.9999, 0.99994];

/// A `CyclicLR` mode: `triangular`, `triangular2` or `exp_range(gamma)`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum CyclicMode {
    Triangular,
    Triangular2,
    ExpRange(f64),
}

/// The declaration of a `CyclicLR` with the default momenta.
fn cyclic_spec(base: f64, max: f64, up: usize, down: usize, mode: CyclicMode) -> Value {
    let mut args = json!({
        "base_lr": base, "max_lr": max, "step_size_up": up, "step_size_down": down,
        "base_momentum": CYCLIC_MOMENTA.0, "max_momentum": CYCLIC_MOMENTA.1});
    match mode {
        CyclicMode::Triangular => args["mode"] = json!("triangular"),
        CyclicMode::Triangular2 => args["mode"] = json!("triangular2"),
        CyclicMode::ExpRange(g) => {
            args["mode"] = json!("exp_range");
            args["gamma"] = json!(g);
        }
    }
    json!({"name": "CyclicLR", "args": args})
}

/// The scalars torch's scheduler writes at steps 1..=n for `declare`, from torch's own
/// arithmetic ([`super::schedules::ScheduleRun`]).
fn scheduled(declare: &Value, momentum: f64, n: usize) -> Option<Vec<super::schedules::Scalars>> {
    let spec = serde_json::from_value::<super::format::ScheduleSpec>(declare.clone()).ok()?;
    let mut run = super::schedules::ScheduleRun::new("pytorch", &spec, 0.0, Some(momentum), 0).ok()?;
    (0..n).map(|_| run.next_scalars().ok()).collect()
}

/// The per-step learning-rate intervals of the trace with the momentum (β₁) of each step
/// forced to `momenta` (teacher-forced probes at lr = ½ and 1, as [`linear_probe`]), stopping
/// at the first step no learning rate explains: (intervals, index of that step, coordinate-
/// steps spent); `None` when the kernel cannot take a per-step momentum.
fn probe_with_momenta(
    tr: &Trace,
    setting: &Setting,
    momenta: &mut dyn FnMut() -> Option<f64>,
    tol: f64,
) -> Option<(Vec<Interval>, Option<usize>, u64)> {
    let (x0, x1) = (0.5, 1.0);
    let mut p0 = Probe::new(&tr.header, &with_lr(setting, x0)).ok()?;
    let mut p1 = Probe::new(&tr.header, &with_lr(setting, x1)).ok()?;
    let mut scale: Vec<f64> = tr.header.params0.iter().map(|v| v.abs()).collect();
    let mut steps = Vec::with_capacity(tr.steps.len());
    let dim = tr.header.params0.len() as u64;
    for (k, rec) in tr.steps.iter().enumerate() {
        let momentum = Some(momenta()?);
        let at = |lr| super::schedules::Scalars { lr, momentum };
        if !(p0.set_scalars(&at(x0)) && p1.set_scalars(&at(x1))) {
            return None;
        }
        let prev = tr.prev(k);
        let spent = 2 * dim * (k as u64 + 1);
        let (Ok(a0), Ok(a1)) = (p0.step_from(prev, &rec.grad), p1.step_from(prev, &rec.grad)) else {
            return Some((steps, Some(k), spent));
        };
        let mut iv = Interval::default();
        for (i, &b) in rec.params.iter().enumerate() {
            if b.is_finite() {
                scale[i] = scale[i].max(b.abs());
            }
            let e = (a1[i] - a0[i]) / (x1 - x0);
            iv.add(i, b - (a0[i] - x0 * e), e, tol * scale[i].max(b.abs()));
        }
        let empty = iv.is_empty();
        steps.push(iv);
        if empty {
            return Some((steps, Some(k), spent));
        }
    }
    Some((steps, None, 2 * dim * tr.steps.len() as u64))
}

/// torch `CyclicLR` with `cycle_momentum=True` (its default) writes `momentum` or `betas[0]`
/// with the lr at every step (from `max_momentum` at `base_lr` down to `base_momentum` at
/// `max_lr`), so the per-step lr inference, which holds the momentum at its declared value,
/// is refuted. The momentum depends only on `step_size_up`, `step_size_down` and the mode,
/// not on the learning rates; so for each such hypothesis (the default momenta 0.8, 0.9),
/// the trace is probed with that momentum forced at every step, which gives every step's lr
/// as an interval again. The lr is `base_lr + (max_lr − base_lr)·f_t` with `f_t` the
/// hypothesis' triangle, so `base_lr` and `max_lr` come from a weighted least-squares fit on
/// the intervals, rounded to the fewest digits that still agree; the schedule is then
/// replayed in full as `check` replays a declaration, and the first hypothesis that agrees at
/// every step is the answer (confirmed, not fitted).
///
/// The search is pruned by the shape of the cycle: the rising half (steps 1..=up+1) does
/// not depend on `step_size_down`, so each `step_size_up` from 1 to n − 1 and each mode
/// (`triangular`, and `exp_range` with the `gamma`s of `CYCLIC_GAMMAS`) is probed with
/// `step_size_down = step_size_up` first, and refuted there if no lr explains a step of its
/// rising half; only an `up` that survives it is tried with every `step_size_down` in
/// 1..=n, and `triangular2` only where the triangle survives its first cycle. A wrong
/// declaration is refuted within a few steps per hypothesis. `None` when the setting has no
/// momentum a `CyclicLR` cycles, or the trace declares a schedule or per-step
/// hyperparameters.
pub fn infer_cyclic(tr: &Trace, setting: &Setting, tol: f64) -> Option<CyclicSearch> {
    let h = &tr.header;
    if h.preset != "pytorch" || h.schedule.is_some() || tr.has_step_hyperparameters() {
        return None;
    }
    let declared_m = setting.momentum_like()?;
    let plan = tr.plan().ok()?;
    let n = tr.steps.len();
    if n < 3 {
        return None;
    }
    let (mut spent, mut tried) = (0u64, 0usize);
    let modes: Vec<CyclicMode> = std::iter::once(CyclicMode::Triangular)
        .chain(CYCLIC_GAMMAS.iter().map(|&g| CyclicMode::ExpRange(g)))
        .collect();
    for up in 1..n {
        for &mode in &modes {
            // (step_size_down, mode) hypotheses for this up and mode, the symmetric triangle
            // first.
            let mut queue = vec![(up, mode)];
            let mut widened = false;
            while let Some((down, m)) = queue.pop() {
                if spent > CYCLIC_BUDGET {
                    return Some(CyclicSearch::OutOfBudget { tried });
                }
                tried += 1;
                // The momenta step by step (a hypothesis is mostly refuted in a few steps); the
                // lr of base 0 and max 1 is the triangle f_t.
                let spec = serde_json::from_value(cyclic_spec(0.0, 1.0, up, down, m)).ok()?;
                let mut run =
                    super::schedules::ScheduleRun::new("pytorch", &spec, 0.0, Some(declared_m), 0).ok()?;
                let mut f = Vec::with_capacity(n);
                let mut momenta = || {
                    let s = run.next_scalars().ok()?;
                    f.push(s.lr);
                    s.momentum
                };
                let (steps, failed, cost) = probe_with_momenta(tr, setting, &mut momenta, tol)?;
                spent += cost;
                match failed {
                    None => {
                        if let Some(fit) = fit_cyclic(tr, &plan, &steps, &f, (up, down, m), declared_m, tol) {
                            return Some(CyclicSearch::Found(fit));
                        }
                    }
                    // A step of the rising half: no step_size_down can help this up and mode.
                    Some(k) if k <= up && !widened => break,
                    Some(k) => {
                        if !widened {
                            widened = true;
                            queue.extend((1..=n).rev().filter(|&d| d != up).map(|d| (d, mode)));
                        }
                        // Past the first cycle: the amplitude may halve.
                        if m == CyclicMode::Triangular && k > up + down {
                            queue.push((down, CyclicMode::Triangular2));
                        }
                    }
                }
            }
        }
    }
    Some(CyclicSearch::NotFound { tried })
}

/// `base_lr` and `max_lr` of a `CyclicLR` hypothesis whose triangle `f` (the lr of base 0,
/// max 1) explains every step's interval `steps`, rounded, and confirmed by a full replay.
fn fit_cyclic(
    tr: &Trace,
    plan: &Plan,
    steps: &[Interval],
    f: &[f64],
    (up, down, mode): (usize, usize, CyclicMode),
    declared_m: f64,
    tol: f64,
) -> Option<ScheduleFit> {
    let n = steps.len();
    let mut c = lsq(steps, 2, &|k| [1.0 - f[k], f[k], 0.0])?;
    let eval = |c: &[f64]| -> Vec<f64> {
        scheduled(&cyclic_spec(c[0], c[1], up, down, mode), declared_m, n)
            .map(|v| v.iter().map(|s| s.lr).collect())
            .unwrap_or_else(|| vec![f64::NAN; n])
    };
    verify(steps, &eval(&c))?;
    nice(steps, &mut c, &eval);
    let declare = cyclic_spec(c[0], c[1], up, down, mode);
    let mut hh = tr.header.clone();
    hh.schedule = Some(serde_json::from_value(declare.clone()).ok()?);
    if !agrees_to_the_end(tr, &hh, plan, tol).0 {
        return None;
    }
    let (base_m, max_m) = CYCLIC_MOMENTA;
    Some(ScheduleFit {
        label: format!(
            "CyclicLR(base_lr={}, max_lr={}, step_size_up={up}, step_size_down={down}, mode='{}'{}, base_momentum={base_m}, max_momentum={max_m}) with its momentum cycle",
            fmt(c[0]),
            fmt(c[1]),
            match mode {
                CyclicMode::Triangular => "triangular",
                CyclicMode::Triangular2 => "triangular2",
                CyclicMode::ExpRange(_) => "exp_range",
            },
            match mode {
                CyclicMode::ExpRange(g) => format!(", gamma={g}"),
                _ => String::new(),
            }
        ),
        declare,
        complexity: 4,
        score: 0.0,
        values: eval(&c),
        note: String::new(),
        base_lr: c[0],
        confirmed: Some(true),
    })
}

/// Replay `h` (the trace's header with a declaration added) as `check` does, stopping at the
/// first step with a coordinate beyond the tolerance: (agrees at every step, steps replayed).
fn agrees_to_the_end(tr: &Trace, h: &Header, plan: &Plan, tol: f64) -> (bool, usize) {
    let Ok(mut r) = Replayer::for_plan(h, plan) else {
        return (false, 0);
    };
    let mut scale: Vec<f64> = h.params0.iter().map(|v| v.abs()).collect();
    for (k, rec) in tr.steps.iter().enumerate() {
        if r.step_with(&rec.grad, None).is_err() {
            return (false, k + 1);
        }
        for (i, (a, &b)) in r.params().into_iter().zip(&rec.params).enumerate() {
            if a.is_finite() {
                scale[i] = scale[i].max(a.abs());
            }
            let same = a.to_bits() == b.to_bits() || a == b;
            let within =
                a.is_finite() && b.is_finite() && (a - b).abs() <= tol * a.abs().max(b.abs()).max(scale[i]);
            if !(same || within) {
                return (false, k + 1);
            }
        }
    }
    (true, tr.steps.len())
}

// ------------------------------------------------------------------ full replays

/// Per block: did every coordinate stay within tolerance at every step; and the worst
/// relative difference with where it is (step, coordinate, ours, theirs).
#[derive(Debug, Clone, PartialEq)]
struct FullReplay {
    block_ok: Vec<bool>,
    worst_rel: f64,
    worst: Option<(u64, usize, f64, f64)>,
    refused: Option<String>,
}

impl FullReplay {
    fn agrees(&self) -> bool {
        self.refused.is_none() && self.block_ok.iter().all(|&b| b)
    }
}

/// One step of a replay: the next parameters from the step's index and its gradient.
type StepFn<'a> = dyn FnMut(usize, &[f64]) -> Result<Vec<f64>, String> + 'a;

/// Replay the whole trace through `step` (θ_{t−1}'s successor from a gradient), with the
/// relative measure of [`super::compare`].
fn full_replay(tr: &Trace, step: &mut StepFn, grads: &dyn Fn(usize) -> Vec<f64>, tol: f64) -> FullReplay {
    let blocks = tr.blocks();
    let block_of: Vec<usize> = blocks
        .iter()
        .enumerate()
        .flat_map(|(j, b)| std::iter::repeat_n(j, b.1))
        .collect();
    let mut out = FullReplay {
        block_ok: vec![true; blocks.len()],
        worst_rel: 0.0,
        worst: None,
        refused: None,
    };
    let mut scale: Vec<f64> = tr.header.params0.iter().map(|v| v.abs()).collect();
    for (k, rec) in tr.steps.iter().enumerate() {
        let ours = match step(k, &grads(k)) {
            Ok(x) => x,
            Err(e) => {
                out.refused = Some(format!("step {}: {e}", rec.step));
                out.worst_rel = f64::INFINITY;
                return out;
            }
        };
        for (i, (&a, &b)) in ours.iter().zip(&rec.params).enumerate() {
            if a.is_finite() {
                scale[i] = scale[i].max(a.abs());
            }
            let rel = if a.to_bits() == b.to_bits() || a == b {
                0.0
            } else if a.is_finite() && b.is_finite() {
                (a - b).abs() / a.abs().max(b.abs()).max(scale[i])
            } else {
                f64::INFINITY
            };
            if rel.is_nan() || rel > tol {
                if let Some(ok) = block_of.get(i).and_then(|&j| out.block_ok.get_mut(j)) {
                    *ok = false;
                }
            }
            if rel > out.worst_rel || rel.is_nan() {
                out.worst_rel = if rel.is_nan() { f64::INFINITY } else { rel };
                out.worst = Some((rec.step, i, a, b));
            }
        }
    }
    out
}

/// Full replay of a setting through the declared reference (kernel in the trace's dtype
/// where one exists, else the crate's f64 optimizer).
fn replay_setting(tr: &Trace, setting: &Setting, grads: &dyn Fn(usize) -> Vec<f64>, tol: f64) -> FullReplay {
    let h = &tr.header;
    match Replayer::declared(&h.preset, setting, &h.layout, h.dtype, &h.params0) {
        Err(e) => FullReplay {
            block_ok: vec![false; h.layout.len()],
            worst_rel: f64::INFINITY,
            worst: None,
            refused: Some(e.to_string()),
        },
        Ok(mut r) => full_replay(
            tr,
            &mut |_, g| {
                r.step(g).map_err(|e| e.to_string())?;
                Ok(r.params())
            },
            grads,
            tol,
        ),
    }
}

/// Full replay of the trace through the reference of header `h` (the trace's own, or it with
/// a schedule added): its parameter groups, schedule, chain members and `maximize`
/// ([`Replayer::for_plan`]), with the step lines' hyperparameters, as `check` replays them.
fn replay_header(tr: &Trace, h: &Header, grads: &dyn Fn(usize) -> Vec<f64>, tol: f64) -> FullReplay {
    let refused = |e: String| FullReplay {
        block_ok: vec![false; h.layout.len()],
        worst_rel: f64::INFINITY,
        worst: None,
        refused: Some(e),
    };
    let plan = match groups::plan(h) {
        Ok(p) => p,
        Err(e) => return refused(e.to_string()),
    };
    let mut r = match Replayer::for_plan(h, &plan) {
        Ok(r) => r,
        Err(e) => return refused(e.to_string()),
    };
    full_replay(
        tr,
        &mut |k, g| {
            let scalars = groups::step_scalars(h, &plan, &tr.steps[k])?;
            r.step_with(g, scalars.as_deref()).map_err(|e| e.to_string())?;
            Ok(r.params())
        },
        grads,
        tol,
    )
}

// ------------------------------------------------------------------ groups

/// Per-block hyperparameters that explain a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupFit {
    /// `(block names, hyperparameter overrides)` per group, in the framework's names.
    pub groups: Vec<(Vec<String>, serde_json::Map<String, Value>)>,
}

impl GroupFit {
    /// The header's `param_groups` entry.
    pub fn declare(&self) -> Value {
        Value::Array(
            self.groups
                .iter()
                .map(|(b, hp)| json!({"blocks": b, "hyperparameters": hp}))
                .collect(),
        )
    }
}

/// Group blocks by equal override values.
fn group_blocks(names: &[String], values: &[(&str, f64)]) -> GroupFit {
    group_overrides(
        names,
        values.iter().map(|(key, v)| {
            let mut hp = serde_json::Map::new();
            hp.insert((*key).to_string(), json!(v));
            hp
        }),
    )
}

/// Group blocks by equal override maps, in the order of their first block.
fn group_overrides(
    names: &[String],
    overrides: impl IntoIterator<Item = serde_json::Map<String, Value>>,
) -> GroupFit {
    let mut fit = GroupFit { groups: vec![] };
    for (name, hp) in names.iter().zip(overrides) {
        match fit.groups.iter_mut().find(|g| g.1 == hp) {
            Some(g) => g.0.push(name.clone()),
            None => fit.groups.push((vec![name.clone()], hp)),
        }
    }
    fit
}

/// The learning rates each block's steps agree with under `setting` (intersected over the
/// block's coordinates and steps), from the linear probe.
fn block_lr_intervals(
    tr: &Trace,
    setting: &Setting,
    tol: f64,
    block_of: &[usize],
    n_blocks: usize,
) -> Result<Vec<Interval>, String> {
    let grads = |k: usize| tr.steps[k].grad.clone();
    let mut ivs = vec![Interval::default(); n_blocks];
    linear_probe(
        tr,
        &|lr| Probe::new(&tr.header, &with_lr(setting, lr)).map(Forced::Plain),
        0.5,
        1.0,
        tol,
        &grads,
        &mut |_, i, t, e, w| {
            if let Some(&j) = block_of.get(i) {
                ivs[j].add(i, t, e, w);
            }
        },
    )?;
    Ok(ivs)
}

/// The learning rate to report for a block: the declared one if its interval holds it, else
/// the value of fewest significant digits inside the interval; `None` for an empty interval.
fn pick_block_lr(iv: &Interval, declared_lr: f64) -> Option<f64> {
    if iv.is_empty() {
        None
    } else if iv.contains(declared_lr) {
        Some(declared_lr)
    } else {
        let e = iv.estimate().unwrap_or(iv.lo);
        Some(
            (1..=17)
                .map(|d| round_sig(e, d))
                .find(|&r| iv.contains(r))
                .unwrap_or(e),
        )
    }
}

/// Per-block learning rates (constant in time; intervals intersected over every step of the
/// block) or per-block weight decay (declared λ or none, by full replays).
///
/// # Errors
/// A reference that cannot be built or refuses a step.
pub fn infer_groups(tr: &Trace, setting: &Setting, tol: f64) -> Result<Option<GroupFit>, String> {
    let blocks = tr.blocks();
    if blocks.len() < 2 || tr.is_planned(&tr.plan()?) {
        // Groups already declared, or per-step hyperparameters this search does not take.
        return Ok(None);
    }
    let names: Vec<String> = blocks.iter().map(|b| b.2.clone()).collect();
    let (lr_name, wd_name) = hp_names(&tr.header.preset);
    let grads = |k: usize| tr.steps[k].grad.clone();
    // Learning rate per block.
    let block_of: Vec<usize> = blocks
        .iter()
        .enumerate()
        .flat_map(|(j, b)| std::iter::repeat_n(j, b.1))
        .collect();
    let ivs = block_lr_intervals(tr, setting, tol, &block_of, blocks.len())?;
    let declared_lr = setting.lr();
    if ivs.iter().all(|iv| !iv.is_empty()) && ivs.iter().any(|iv| !iv.contains(declared_lr)) {
        let lrs: Vec<(&str, f64)> = ivs
            .iter()
            .map(|iv| (lr_name, pick_block_lr(iv, declared_lr).unwrap_or(declared_lr)))
            .collect();
        return Ok(Some(group_blocks(&names, &lrs)));
    }
    // Weight decay per block: the declared λ or none.
    let Some(decay) = setting_decay(setting) else {
        return Ok(None);
    };
    let lambda = decay.lambda();
    if lambda == 0.0 {
        return Ok(None);
    }
    let with = replay_setting(tr, setting, &grads, tol);
    let without = replay_setting(tr, &with_decay(setting, WeightDecay::None), &grads, tol);
    let ok = (0..blocks.len()).all(|j| with.block_ok[j] || without.block_ok[j]);
    if ok && !with.agrees() && !without.agrees() {
        let wds: Vec<(&str, f64)> = (0..blocks.len())
            .map(|j| (wd_name, if with.block_ok[j] { lambda } else { 0.0 }))
            .collect();
        return Ok(Some(group_blocks(&names, &wds)));
    }
    // Both per block: a block without decay *and* with its own lr (torch's usual "no decay
    // and another lr on the biases"). The lr intervals again, without decay; each block takes
    // the declared decay if some lr agrees with it, else none; the groups are kept only if
    // the whole trace, replayed with them declared as `check` would, agrees.
    let no_decay = with_decay(setting, WeightDecay::None);
    let ivs0 = block_lr_intervals(tr, &no_decay, tol, &block_of, blocks.len())?;
    let mut overrides = Vec::with_capacity(blocks.len());
    for j in 0..blocks.len() {
        let (lr, wd) = match (
            pick_block_lr(&ivs[j], declared_lr),
            pick_block_lr(&ivs0[j], declared_lr),
        ) {
            (Some(lr), _) => (lr, lambda),
            (None, Some(lr)) => (lr, 0.0),
            (None, None) => return Ok(None),
        };
        let mut hp = serde_json::Map::new();
        if lr != declared_lr {
            hp.insert(lr_name.to_string(), json!(lr));
        }
        if wd != lambda {
            hp.insert(wd_name.to_string(), json!(wd));
        }
        overrides.push(hp);
    }
    if overrides.iter().all(serde_json::Map::is_empty) {
        return Ok(None);
    }
    let fit = group_overrides(&names, overrides);
    let mut h = tr.header.clone();
    h.param_groups = serde_json::from_value(fit.declare()).ok();
    if h.param_groups.is_none() || !replay_header(tr, &h, &grads, tol).agrees() {
        return Ok(None);
    }
    Ok(Some(fit))
}

// ------------------------------------------------------------------ clipping

/// A clipping threshold that explains a trace recorded before `clip_by_global_norm`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipFit {
    /// The threshold reported (fewest digits inside the agreeing range).
    pub max_norm: f64,
    /// The range of thresholds found to agree.
    pub range: (f64, f64),
    /// Steps whose gradient norm exceeds the threshold (clipped).
    pub clipped_steps: usize,
}

fn clip(g: &[f64], c: f64, dtype: Dtype) -> Vec<f64> {
    let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm <= c || norm.is_nan() {
        return g.to_vec();
    }
    g.iter()
        .map(|&x| {
            let y = x / norm * c;
            match dtype {
                Dtype::F64 => y,
                Dtype::F32 => f64::from(y as f32),
            }
        })
        .collect()
}

/// Search the global-norm clipping threshold (module doc, point 3).
///
/// # Errors
/// Never in practice (kept for symmetry; a refused step counts as a disagreement).
pub fn infer_clipping(tr: &Trace, setting: &Setting, tol: f64) -> Result<Option<ClipFit>, String> {
    let norms: Vec<f64> = tr
        .steps
        .iter()
        .map(|s| s.grad.iter().map(|x| x * x).sum::<f64>().sqrt())
        .collect();
    let (lo, hi) = norms
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
    if !(lo.is_finite() && hi > 0.0) {
        return Ok(None);
    }
    let dtype = tr.header.dtype;
    // A trace with groups, a schedule, chain members or per-step hyperparameters is replayed
    // with all of them (the clipping goes first in the chain).
    let planned = tr.is_planned(&tr.plan()?);
    let misfit = |c: f64| {
        let grads = |k: usize| clip(&tr.steps[k].grad, c, dtype);
        let r = if planned {
            replay_header(tr, &tr.header, &grads, tol)
        } else {
            replay_setting(tr, setting, &grads, tol)
        };
        r.worst_rel
    };
    // Log-spaced scan of [lo, up], then golden section on log c between the best point's
    // neighbours: the best threshold and its misfit.
    let scan = |lo: f64, up: f64| {
        let grid: Vec<f64> = (0..=48).map(|j| lo * (up / lo).powf(j as f64 / 48.0)).collect();
        let vals: Vec<f64> = grid.iter().map(|&c| misfit(c)).collect();
        let j = (0..grid.len())
            .min_by(|&a, &b| vals[a].total_cmp(&vals[b]))
            .unwrap_or(0);
        let (mut best, mut best_v) = (grid[j], vals[j]);
        if best_v > tol {
            let (mut a, mut b) = (
                grid[j.saturating_sub(1)].ln(),
                grid[(j + 1).min(grid.len() - 1)].ln(),
            );
            let r = 0.5 * (5f64.sqrt() - 1.0);
            let (mut x1, mut x2) = (b - r * (b - a), a + r * (b - a));
            let (mut f1, mut f2) = (misfit(x1.exp()), misfit(x2.exp()));
            for _ in 0..60 {
                if f1 <= f2 {
                    b = x2;
                    x2 = x1;
                    f2 = f1;
                    x1 = b - r * (b - a);
                    f1 = misfit(x1.exp());
                } else {
                    a = x1;
                    x1 = x2;
                    f1 = f2;
                    x2 = a + r * (b - a);
                    f2 = misfit(x2.exp());
                }
                if f1.min(f2) <= tol {
                    break;
                }
            }
            let (x, f) = if f1 <= f2 { (x1, f1) } else { (x2, f2) };
            best = x.exp();
            best_v = f;
        }
        (best, best_v)
    };
    let mut lo = lo.max(hi * 1e-6) * 0.5;
    let (mut best, mut best_v) = scan(lo, hi);
    if best_v > tol && lo > hi * 1e-6 {
        // A threshold below every step's gradient norm (every step clipped): the clipped
        // gradient is g·c/‖g‖, and c only shows through the terms that do not scale with
        // the gradient (Adam's ε, a weight decay), so scan the six decades below.
        let below = hi * 1e-6 * 0.5;
        let (b, v) = scan(below, lo);
        if v < best_v {
            (best, best_v) = (b, v);
            lo = below;
        }
    }
    if best_v > tol || best >= hi {
        return Ok(None);
    }
    // The agreeing range around `best`, by bisection towards each failing side.
    let edge = |mut inside: f64, mut outside: f64| {
        for _ in 0..60 {
            let mid = (inside * outside).sqrt();
            if misfit(mid) <= tol {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        inside
    };
    let lower = edge(best, lo * 1e-3);
    let upper = edge(best, hi);
    // The fewest digits that agree (the bisection resolves the range to ~1e-11 relative, so
    // a round threshold at its edge is tested directly rather than by the range).
    let max_norm = (1..=17)
        .map(|d| round_sig(best, d))
        .find(|&c| misfit(c) <= tol)
        .unwrap_or(best);
    Ok(Some(ClipFit {
        max_norm,
        range: (lower, upper),
        clipped_steps: norms.iter().filter(|&&x| x > max_norm).count(),
    }))
}

// ------------------------------------------------------------------ bugs

/// A deviation of a hand-written Adam/AdamW from the algorithm (one variant of
/// [`adam_bugs`]; `AdamBug::default()` is the correct algorithm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdamBug {
    /// m̂ = m / (1 − β₁ᵗ) (false: m̂ = m).
    pub correct_m: bool,
    /// v̂ = v / (1 − β₂ᵗ) (false: v̂ = v).
    pub correct_v: bool,
    /// The t used in the bias corrections is t + this.
    pub t_offset: i32,
    /// m = β₁m + (1 − β₁)g (false: m = β₁m + g).
    pub one_minus_b1: bool,
    /// v = β₂v + (1 − β₂)g² (false: v = β₂v + g²).
    pub one_minus_b2: bool,
    /// Decoupled decay applied after the Adam step instead of before.
    pub decay_after: bool,
}

impl Default for AdamBug {
    fn default() -> Self {
        AdamBug {
            correct_m: true,
            correct_v: true,
            t_offset: 0,
            one_minus_b1: true,
            one_minus_b2: true,
            decay_after: false,
        }
    }
}

/// The explicit list of Adam bugs the diagnosis tries, in words. The decay-order variant only
/// when the declared setting has decoupled decay.
pub fn adam_bugs(decoupled: bool) -> Vec<(&'static str, AdamBug)> {
    let c = AdamBug::default();
    let mut v = vec![
        (
            "the bias correction of m is missing (m̂ = m)",
            AdamBug {
                correct_m: false,
                ..c
            },
        ),
        (
            "the bias correction of v is missing (v̂ = v)",
            AdamBug {
                correct_v: false,
                ..c
            },
        ),
        (
            "both bias corrections are missing",
            AdamBug {
                correct_m: false,
                correct_v: false,
                ..c
            },
        ),
        (
            "the step counter is one ahead in the bias corrections (1 − βᵗ⁺¹)",
            AdamBug { t_offset: 1, ..c },
        ),
        (
            "the step counter is one behind in the bias corrections (1 − βᵗ⁻¹: step 1 divides by 0)",
            AdamBug { t_offset: -1, ..c },
        ),
        (
            "the (1 − β₁) factor is dropped (m = β₁m + g)",
            AdamBug {
                one_minus_b1: false,
                ..c
            },
        ),
        (
            "the (1 − β₂) factor is dropped (v = β₂v + g²)",
            AdamBug {
                one_minus_b2: false,
                ..c
            },
        ),
        (
            "both (1 − β) factors are dropped",
            AdamBug {
                one_minus_b1: false,
                one_minus_b2: false,
                ..c
            },
        ),
    ];
    if decoupled {
        v.push((
            "the decoupled decay is applied after the Adam step (θ ← (θ − lr·u)(1 − lr·λ)) instead of before",
            AdamBug {
                decay_after: true,
                ..c
            },
        ));
    }
    v
}

/// A hand-written Adam/AdamW in f64 with a bug.
struct BuggyAdam {
    cfg: crate::optim::adam::AdamConfig,
    decay: WeightDecay,
    bug: AdamBug,
    m: Vec<f64>,
    v: Vec<f64>,
    theta: Vec<f64>,
    t: i32,
}

impl BuggyAdam {
    #[allow(clippy::needless_range_loop)] // θ, m, v and g indexed together
    fn step(&mut self, g: &[f64]) -> Vec<f64> {
        let c = &self.cfg;
        let b = self.bug;
        self.t += 1;
        let te = f64::from(self.t + b.t_offset);
        let (bc1, bc2) = (1.0 - c.beta1.powf(te), 1.0 - c.beta2.powf(te));
        let lr = c.lr;
        for i in 0..self.theta.len() {
            let th = self.theta[i];
            let gi = match self.decay {
                WeightDecay::CoupledL2(l) => g[i] + l * th,
                _ => g[i],
            };
            let k1 = if b.one_minus_b1 { 1.0 - c.beta1 } else { 1.0 };
            let k2 = if b.one_minus_b2 { 1.0 - c.beta2 } else { 1.0 };
            self.m[i] = c.beta1 * self.m[i] + k1 * gi;
            self.v[i] = c.beta2 * self.v[i] + k2 * gi * gi;
            let mh = if b.correct_m { self.m[i] / bc1 } else { self.m[i] };
            let vh = if b.correct_v { self.v[i] / bc2 } else { self.v[i] };
            let u = mh / ((vh + c.eps_root).sqrt() + c.eps);
            let decay = |x: f64| match self.decay {
                WeightDecay::DecoupledTimesLr(l) => x - lr * l * x,
                WeightDecay::DecoupledSchedule(l) => x - l * x,
                _ => x,
            };
            self.theta[i] = if b.decay_after {
                decay(th - lr * u)
            } else {
                decay(th) - lr * u
            };
        }
        self.theta.clone()
    }
}

/// A deviation of a hand-written SGD with momentum (`SgdBug::default()` is torch's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SgdBug {
    /// b = μb + (1 − μ)g (an exponential moving average) instead of the declared dampening.
    pub ema: bool,
    /// The first buffer is damped too, b₁ = (1 − τ)g (torch: b₁ = g).
    pub damp_first: bool,
    /// Coupled decay added to the step, θ ← θ − lr(b + λθ), instead of to the gradient.
    pub decay_outside: bool,
    /// Nesterov with the previous buffer, θ ← θ − lr(g + μb_{t−1}).
    pub nesterov_old_buffer: bool,
}

/// The explicit list of SGD bugs that differ from the declared setting.
pub fn sgd_bugs(c: &crate::optim::sgd::SgdConfig) -> Vec<(&'static str, SgdBug)> {
    let d = SgdBug::default();
    let mut v = vec![];
    if c.momentum > 0.0 && !c.nesterov && c.dampening != 1.0 - c.momentum {
        v.push((
            "the buffer is an average, b = μb + (1 − μ)g (dampening 1 − μ)",
            SgdBug { ema: true, ..d },
        ));
    }
    if c.momentum > 0.0 && c.dampening != 0.0 {
        v.push((
            "the first buffer is damped too, b₁ = (1 − τ)g (torch: b₁ = g)",
            SgdBug {
                damp_first: true,
                ..d
            },
        ));
    }
    if matches!(c.weight_decay, WeightDecay::CoupledL2(l) if l != 0.0) && c.momentum > 0.0 {
        v.push((
            "the weight decay is added to the step, θ ← θ − lr(b + λθ), not to the gradient",
            SgdBug {
                decay_outside: true,
                ..d
            },
        ));
    }
    if c.nesterov {
        v.push((
            "Nesterov uses the previous buffer, θ ← θ − lr(g + μb_{t−1})",
            SgdBug {
                nesterov_old_buffer: true,
                ..d
            },
        ));
    }
    v
}

struct BuggySgd {
    cfg: crate::optim::sgd::SgdConfig,
    bug: SgdBug,
    b: Vec<f64>,
    theta: Vec<f64>,
    t: u64,
}

impl BuggySgd {
    #[allow(clippy::needless_range_loop)] // θ, b and g indexed together
    fn step(&mut self, g: &[f64]) -> Vec<f64> {
        let c = &self.cfg;
        let bug = self.bug;
        self.t += 1;
        let lambda = match c.weight_decay {
            WeightDecay::CoupledL2(l) => l,
            _ => 0.0,
        };
        let tau = if bug.ema { c.momentum } else { c.dampening };
        for i in 0..self.theta.len() {
            let th = self.theta[i];
            let gi = if bug.decay_outside {
                g[i]
            } else {
                g[i] + lambda * th
            };
            let old = self.b[i];
            let mut d = gi;
            if c.momentum > 0.0 {
                self.b[i] = if self.t == 1 {
                    if bug.damp_first || bug.ema {
                        (1.0 - tau) * gi
                    } else {
                        gi
                    }
                } else {
                    c.momentum * old + (1.0 - tau) * gi
                };
                d = if c.nesterov {
                    gi + c.momentum * if bug.nesterov_old_buffer { old } else { self.b[i] }
                } else {
                    self.b[i]
                };
            }
            if bug.decay_outside {
                d += lambda * th;
            }
            self.theta[i] = match c.weight_decay {
                WeightDecay::DecoupledTimesLr(l) => th - c.lr * l * th - c.lr * d,
                _ => th - c.lr * d,
            };
        }
        self.theta.clone()
    }
}

/// The bug variants that agree with a trace, and how clearly.
#[derive(Debug, Clone, PartialEq)]
pub struct BugFinding {
    /// Labels of the variants that agree (several when the data cannot tell them apart).
    pub matches: Vec<String>,
    /// The worst relative difference of the best matching variant.
    pub match_rel: f64,
    /// The nearest variant that does not agree (the correct algorithm included) and its worst
    /// relative difference: how clearly the data pick.
    pub runner_up: Option<(String, f64)>,
    /// Where the correct (declared) algorithm and the trace differ most: step, coordinate,
    /// ours, theirs, relative difference.
    pub clearest: Option<(u64, usize, f64, f64, f64)>,
}

/// Replay the bug variants of the declared Adam/AdamW or SGD (module doc, point 4).
pub fn infer_bugs(tr: &Trace, setting: &Setting, tol: f64) -> Option<BugFinding> {
    let x0 = tr.header.params0.clone();
    let n = x0.len();
    let grads = |k: usize| tr.steps[k].grad.clone();
    let mut results: Vec<(String, FullReplay)> = vec![];
    match setting {
        Setting::Adam(_) | Setting::AdamW(_) => {
            let (cfg, decay) = match setting {
                Setting::Adam(c) => (c.clone(), c.weight_decay),
                Setting::AdamW(c) => (c.adam.clone(), c.weight_decay),
                _ => return None,
            };
            if cfg.amsgrad.is_some()
                || cfg.formulation != crate::optim::conventions::AdamFormulation::Algorithm1
            {
                return None;
            }
            let decoupled = matches!(
                decay,
                WeightDecay::DecoupledTimesLr(l) | WeightDecay::DecoupledSchedule(l) if l != 0.0
            );
            let mut list = vec![("the correct algorithm (as declared)", AdamBug::default())];
            list.extend(adam_bugs(decoupled));
            for (label, bug) in list {
                let mut a = BuggyAdam {
                    cfg: cfg.clone(),
                    decay,
                    bug,
                    m: vec![0.0; n],
                    v: vec![0.0; n],
                    theta: x0.clone(),
                    t: 0,
                };
                let r = full_replay(tr, &mut |_, g| Ok(a.step(g)), &grads, tol);
                results.push((label.to_string(), r));
            }
        }
        Setting::Sgd(c) => {
            let mut list = vec![("the correct algorithm (as declared)", SgdBug::default())];
            list.extend(sgd_bugs(c));
            if list.len() == 1 {
                return None;
            }
            for (label, bug) in list {
                let mut s = BuggySgd {
                    cfg: c.clone(),
                    bug,
                    b: vec![0.0; n],
                    theta: x0.clone(),
                    t: 0,
                };
                let r = full_replay(tr, &mut |_, g| Ok(s.step(g)), &grads, tol);
                results.push((label.to_string(), r));
            }
        }
        _ => return None,
    }
    let correct = results.remove(0).1;
    let mut matches: Vec<&(String, FullReplay)> = results.iter().filter(|r| r.1.agrees()).collect();
    if matches.is_empty() {
        return None;
    }
    matches.sort_by(|a, b| a.1.worst_rel.total_cmp(&b.1.worst_rel));
    let runner_up = results
        .iter()
        .filter(|r| !r.1.agrees())
        .map(|r| (r.0.clone(), r.1.worst_rel))
        .chain(std::iter::once((
            "the correct algorithm".to_string(),
            correct.worst_rel,
        )))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    Some(BugFinding {
        matches: matches.iter().map(|m| m.0.clone()).collect(),
        match_rel: matches[0].1.worst_rel,
        runner_up,
        clearest: correct.worst.map(|(s, i, a, b)| (s, i, a, b, correct.worst_rel)),
    })
}

// ------------------------------------------------------------------ a hyperparameter declared wrong

/// The values tried for each header hyperparameter by [`infer_hyperparameter`], under the
/// frameworks' own names: the frameworks' defaults and the values common in published
/// training recipes. `betas` (torch) is tried element by element; a flag is tried flipped.
pub const HYPERPARAMETER_CANDIDATES: &[(&str, &[f64])] = &[
    // β₁ (torch betas[0], optax b1, keras beta_1) and momentum.
    ("b1", &[0.9, 0.95, 0.8, 0.85, 0.99, 0.5, 0.0]),
    ("beta_1", &[0.9, 0.95, 0.8, 0.85, 0.99, 0.5, 0.0]),
    ("momentum", &[0.9, 0.99, 0.95, 0.8, 0.5, 0.0]),
    // β₂ and the squared-gradient decays.
    ("b2", &[0.999, 0.99, 0.98, 0.95, 0.9, 0.995, 0.997, 0.9999]),
    ("beta_2", &[0.999, 0.99, 0.98, 0.95, 0.9, 0.995, 0.997, 0.9999]),
    ("alpha", &[0.99, 0.9, 0.95, 0.999]),
    ("decay", &[0.9, 0.99, 0.95, 0.999]),
    ("rho", &[0.9, 0.95, 0.99]),
    // ε under each name.
    ("eps", &[1e-8, 1e-6, 1e-7, 1e-5, 1e-4, 1e-3, 1e-10, 1e-12, 1e-16]),
    ("epsilon", &[1e-7, 1e-8, 1e-6, 1e-5, 1e-4, 1e-3, 1e-10, 1e-12]),
    ("eps_root", &[0.0, 1e-8, 1e-16]),
    // Weight decay.
    (
        "weight_decay",
        &[
            0.0, 0.01, 0.1, 0.05, 1e-4, 5e-4, 1e-3, 5e-3, 0.02, 0.2, 0.3, 0.5, 1e-5, 0.004,
        ],
    ),
];

/// The flags tried flipped by [`infer_hyperparameter`].
const HYPERPARAMETER_FLAGS: &[&str] = &["nesterov", "amsgrad", "centered"];

/// How many coordinate-steps the search may replay in all (each hypothesis stops at its first
/// step beyond tolerance, so a wrong value usually costs one or two steps): a bound on its
/// time, about a second on this machine.
const HYPERPARAMETER_BUDGET: u64 = 200_000_000;

/// Header hyperparameter values under which the whole trace agrees.
#[derive(Debug, Clone, PartialEq)]
pub struct HyperparameterFit {
    /// `(name, declared value or null, value that agrees)` for each single change that agrees.
    pub changes: Vec<(String, Value, Value)>,
    /// The corrected hyperparameters of the first change, to declare.
    pub declare: serde_json::Map<String, Value>,
    /// Hypotheses replayed.
    pub tried: usize,
}

/// The header hyperparameter maps that differ from the declared one in one value
/// ([`HYPERPARAMETER_CANDIDATES`], [`HYPERPARAMETER_FLAGS`]): `(name, old, new, map)`.
fn hyperparameter_hypotheses(h: &Header) -> Vec<(String, Value, Value, serde_json::Map<String, Value>)> {
    let declared = &h.hyperparameters;
    let mut out = Vec::new();
    let mut push = |name: String, old: Value, new: Value, map: serde_json::Map<String, Value>| {
        if old != new {
            out.push((name, old, new, map));
        }
    };
    for &(key, values) in HYPERPARAMETER_CANDIDATES {
        // torch's betas pair holds β₁ and β₂.
        let (field, index) = match (h.preset.as_str(), key) {
            ("pytorch", "b1") => ("betas", Some(0)),
            ("pytorch", "b2") => ("betas", Some(1)),
            ("pytorch", "beta_1" | "beta_2" | "epsilon" | "decay" | "eps_root") => continue,
            ("optax", "beta_1" | "beta_2" | "epsilon" | "alpha") => continue,
            ("keras", "b1" | "b2" | "eps" | "eps_root" | "alpha" | "decay") => continue,
            _ => (key, None),
        };
        for &v in values {
            let mut map = declared.clone();
            match index {
                None => {
                    let old = declared.get(field).cloned().unwrap_or(Value::Null);
                    map.insert(field.to_string(), json!(v));
                    push(field.to_string(), old, json!(v), map);
                }
                Some(i) => {
                    let old = declared
                        .get(field)
                        .cloned()
                        .unwrap_or_else(|| json!([0.9, 0.999]));
                    let Some(mut pair) = old.as_array().cloned().filter(|p| p.len() == 2) else {
                        continue;
                    };
                    pair[i] = json!(v);
                    map.insert(field.to_string(), Value::Array(pair.clone()));
                    push(field.to_string(), old, Value::Array(pair), map);
                }
            }
        }
    }
    for &flag in HYPERPARAMETER_FLAGS {
        let old = declared.get(flag).cloned().unwrap_or(Value::Null);
        let flipped = !old.as_bool().unwrap_or(false);
        let mut map = declared.clone();
        map.insert(flag.to_string(), json!(flipped));
        push(flag.to_string(), old, json!(flipped), map);
    }
    out
}

/// One header hyperparameter declared wrong: each single change of
/// `hyperparameter_hypotheses` that the preset accepts for this optimizer is replayed
/// through the declared reference (with the header's groups, schedule, chain members and the
/// step lines' hyperparameters), stopping at the first step beyond tolerance. `None` when no
/// change agrees at every step (or the budget ran out first).
pub fn infer_hyperparameter(tr: &Trace, tol: f64) -> Option<HyperparameterFit> {
    let h = &tr.header;
    let n = h.params0.len().max(1) as u64;
    let mut spent: u64 = 0;
    let mut tried = 0;
    let mut changes = Vec::new();
    let mut declare = None;
    for (name, old, new, map) in hyperparameter_hypotheses(h) {
        let mut hh = h.clone();
        hh.hyperparameters = map;
        // A name this optimizer does not take, or a value out of its range: not a hypothesis.
        if super::presets::resolve_header(&hh).is_err() {
            continue;
        }
        let Ok(plan) = groups::plan(&hh) else {
            continue;
        };
        if spent >= HYPERPARAMETER_BUDGET {
            return None;
        }
        tried += 1;
        let (agrees, steps) = agrees_to_the_end(tr, &hh, &plan, tol);
        spent = spent.saturating_add(n.saturating_mul(steps.max(1) as u64));
        if agrees {
            if declare.is_none() {
                declare = Some(hh.hyperparameters.clone());
            }
            changes.push((name, old, new));
        }
    }
    declare.map(|declare| HyperparameterFit {
        changes,
        declare,
        tried,
    })
}

// ------------------------------------------------------------------ the report

/// What inference concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Agrees given an inferred explanation (exit 3).
    Explained,
    /// A named bug (still a disagreement, exit 1).
    NamedBug,
    /// Nothing found.
    Unexplained,
}

/// The paragraph `check` prints and the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub verdict: Verdict,
    pub text: String,
}

fn json_line(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Run the inferences of the module doc in order and write the paragraph.
pub fn diagnose(tr: &Trace, setting: &Setting, tol: f64) -> Report {
    let h = &tr.header;
    let mut text = format!(
        "inference (explanations the header does not declare, from the trace itself; each verified step by step within tolerance {tol:.1e}):\n"
    );
    let coord = |i: usize| super::compare::coordinate_name(h, i);
    if tr.steps.is_empty() {
        text.push_str("  no steps to infer from\n");
        return Report {
            verdict: Verdict::Unexplained,
            text,
        };
    }
    // The bugs are replayed with one constant setting: not under groups, a schedule, chain
    // members or per-step hyperparameters, where the correct run would not match either.
    let planned = tr.plan().map_or(true, |p| tr.is_planned(&p));
    let bugs = if planned {
        None
    } else {
        infer_bugs(tr, setting, tol)
    };
    let bug_text = |b: &BugFinding| {
        let mut s = String::new();
        if b.matches.len() == 1 {
            s.push_str(&format!(
                "  named cause: {} [worst relative {:.1e}]\n",
                b.matches[0], b.match_rel
            ));
        } else {
            s.push_str(&format!(
                "  named cause, one of (the data cannot tell them apart at this tolerance): {} [best worst relative {:.1e}]\n",
                b.matches.join("; "),
                b.match_rel
            ));
        }
        if let Some((label, rel)) = &b.runner_up {
            s.push_str(&format!(
                "  evidence: the nearest other candidate ({label}) misses by {rel:.1e}, {:.0e} × the tolerance\n",
                rel / tol
            ));
        }
        if let Some((step, i, a, bb, rel)) = b.clearest {
            s.push_str(&format!(
                "  clearest at step {step}, coordinate {} ({i}): the correct algorithm gives {a:e}, the trace has {bb:e} (relative {rel:.1e})\n",
                coord(i)
            ));
        }
        s
    };
    // 1. Learning rate per step.
    let lr = match infer_schedule(tr, setting, tol) {
        Ok(lr) => Some(lr),
        Err(e) => {
            text.push_str(&format!("  per-step learning rate: not inferred ({e})\n"));
            None
        }
    };
    // torch OneCycleLR cycles the momentum with the lr: the per-step lr alone is refuted.
    let one_cycle = match &lr {
        Some(l) if l.refuted.is_some() && !planned => infer_one_cycle(tr, setting, l, tol),
        _ => None,
    };
    // torch CyclicLR cycles the momentum too (its default): searched when no one-cycle is.
    let cyclic = match (&lr, &one_cycle) {
        (_, Some(OneCycle::Found(_))) => None,
        (Some(l), _) if l.refuted.is_some() && !planned => infer_cyclic(tr, setting, tol),
        _ => None,
    };
    let momentum_fit = match (&one_cycle, &cyclic) {
        (Some(OneCycle::Found(fit)), _) | (_, Some(CyclicSearch::Found(fit))) => Some(fit),
        _ => None,
    };
    if let Some(fit) = momentum_fit {
        text.push_str(&format!(
            "  AGREES given the inferred schedule {} [confirmed: evaluated as the framework evaluates it, every step agrees]{}\n  declare: \"schedule\": {} in the header (or the lr and betas/momentum of each step in the step line's \"hyperparameters\", as optverify.watch records them)\n",
            fit.label,
            if fit.note.is_empty() { String::new() } else { format!(" ({})", fit.note) },
            json_line(&fit.declare)
        ));
        return Report {
            verdict: Verdict::Explained,
            text,
        };
    }
    if let Some(lr) = &lr {
        if lr.declared_fits {
            text.push_str(
                "  every step agrees with the declared setting when started from the trace's own θ_{t−1}: the disagreement \
                 accumulates over the steps (a trajectory more sensitive to rounding than the tolerance assumes), it is not a different update rule\n",
            );
            return Report {
                verdict: Verdict::Unexplained,
                text,
            };
        }
        if let Some(best) = lr.fits.first() {
            text.push_str(&format!(
                "  AGREES given the inferred schedule {}{}{}\n",
                best.label,
                if best.confirmed == Some(true) {
                    " [confirmed: evaluated as the framework evaluates it, every step agrees]"
                } else {
                    ""
                },
                if best.note.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", best.note)
                }
            ));
            for other in lr.fits.iter().skip(1).take(2) {
                text.push_str(&format!("  also consistent: {}\n", other.label));
            }
            if best.declare.get("per_step").is_some() {
                text.push_str(
                    "  declare: the learning rate of each step in the step line's \"hyperparameters\"\n",
                );
            } else if let Some(hp) = best.declare.get("hyperparameters") {
                text.push_str(&format!(
                    "  declare: \"hyperparameters\": {} in the header\n",
                    json_line(hp)
                ));
            } else {
                text.push_str(&format!(
                    "  declare: \"schedule\": {} in the header (or the learning rate of each step in the step line's \"hyperparameters\")\n",
                    json_line(&best.declare)
                ));
            }
            if let Some(b) = &bugs {
                text.push_str(&format!(
                    "  note: the trace is also consistent with a bug: {}\n",
                    b.matches.join("; ")
                ));
            }
            return Report {
                verdict: Verdict::Explained,
                text,
            };
        }
    }
    // 2. Parameter groups.
    match infer_groups(tr, setting, tol) {
        Ok(Some(g)) => {
            text.push_str(&format!(
                "  AGREES given the inferred param_groups {}\n  declare: \"param_groups\": {} in the header\n",
                g.groups
                    .iter()
                    .map(|(b, hp)| format!("{} {}", b.join(", "), json_line(&Value::Object(hp.clone()))))
                    .collect::<Vec<_>>()
                    .join("; "),
                json_line(&g.declare())
            ));
            return Report {
                verdict: Verdict::Explained,
                text,
            };
        }
        Ok(None) => {}
        Err(e) => text.push_str(&format!("  parameter groups: not inferred ({e})\n")),
    }
    // 3. Gradient clipping.
    if let Ok(Some(c)) = infer_clipping(tr, setting, tol) {
        text.push_str(&format!(
            "  AGREES given the inferred gradient clipping clip_by_global_norm(max_norm={}) (thresholds {} … {} agree; {} of {} steps clipped)\n",
            c.max_norm,
            c.range.0,
            c.range.1,
            c.clipped_steps,
            tr.steps.len()
        ));
        text.push_str(&format!(
            "  declare: \"transforms\": {} in the header{}\n",
            // Before the members the header already declares (the clip comes first in the
            // chain), which the user keeps.
            json_line(&Value::Array(
                std::iter::once(json!({"name": "clip_by_global_norm", "args": {"max_norm": c.max_norm}}))
                    .chain(h.transforms.iter().map(|t| serde_json::to_value(t).unwrap_or(Value::Null)))
                    .collect()
            )),
            if h.preset == "pytorch" {
                " (for torch.nn.utils.clip_grad_norm_, record the gradient after clipping: it is what the optimizer saw)"
            } else {
                ""
            }
        ));
        return Report {
            verdict: Verdict::Explained,
            text,
        };
    }
    // 4. A hyperparameter declared wrong.
    if let Some(fit) = infer_hyperparameter(tr, tol) {
        let each: Vec<String> = fit
            .changes
            .iter()
            .map(|(name, old, new)| {
                format!(
                    "{name} = {} (declared {})",
                    json_line(new),
                    if old.is_null() {
                        "default".to_string()
                    } else {
                        json_line(old)
                    }
                )
            })
            .collect();
        text.push_str(&format!(
            "  AGREES given {} {} [{} hypotheses replayed; every step agrees]\n  declare: \"hyperparameters\": {} in the header\n",
            if each.len() == 1 { "the hyperparameter" } else { "any one of the hyperparameters (the data cannot tell them apart)" },
            each.join("; "),
            fit.tried,
            json_line(&Value::Object(fit.declare.clone()))
        ));
        return Report {
            verdict: Verdict::Explained,
            text,
        };
    }
    // 5. Bugs.
    if let Some(b) = &bugs {
        text.push_str(&bug_text(b));
        if lr.as_ref().is_some_and(|l| l.refuted.is_none()) {
            text.push_str("  (a per-step learning rate fitting no named schedule would also explain it; if you used one, declare it per step)\n");
        }
        return Report {
            verdict: Verdict::NamedBug,
            text,
        };
    }
    // A per-step learning rate that no family names.
    if let Some(lr) = &lr {
        if lr.refuted.is_none() && lr.steps.iter().any(|s| s.estimate().is_some()) {
            let est: Vec<f64> = lr.steps.iter().filter_map(|s| s.estimate()).collect();
            let (a, b) = (est[0], est[est.len() - 1]);
            let (lo, hi) = est.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, u), &x| {
                (l.min(x), u.max(x))
            });
            text.push_str(&format!(
                "  AGREES given a per-step learning rate that fits no named schedule (first {a:.6e}, last {b:.6e}, range {lo:.6e} … {hi:.6e})\n  declare: the learning rate of each step in the step line's \"hyperparameters\" (LambdaLR or a custom schedule)\n"
            ));
            return Report {
                verdict: Verdict::Explained,
                text,
            };
        }
        if let Some((step, i)) = lr.refuted {
            text.push_str(&format!(
                "  no per-step learning rate explains it (step {step}, coordinate {} rules it out)\n",
                coord(i)
            ));
        }
        match &one_cycle {
            Some(OneCycle::NotFound { tried }) => text.push_str(&format!(
                "  no OneCycleLR with its momentum cycle explains it either ({tried} hypotheses replayed)\n"
            )),
            Some(OneCycle::OutOfBudget { tried }) => text.push_str(&format!(
                "  OneCycleLR with its momentum cycle: search stopped after {tried} hypotheses (the trace is large); declare the schedule, or record lr and betas/momentum per step\n"
            )),
            _ => {}
        }
        match &cyclic {
            Some(CyclicSearch::NotFound { tried }) => text.push_str(&format!(
                "  no CyclicLR (triangular, triangular2, exp_range) with its momentum cycle explains it either ({tried} hypotheses probed)\n"
            )),
            Some(CyclicSearch::OutOfBudget { tried }) => text.push_str(&format!(
                "  CyclicLR with its momentum cycle: search stopped after {tried} hypotheses (the trace is large); declare the schedule, or record lr and betas/momentum per step\n"
            )),
            _ => {}
        }
    }
    text.push_str(if planned {
        "  no gradient clipping or undeclared schedule explains it either, with the header's declarations and the step lines' hyperparameters\n"
    } else {
        "  no parameter groups, gradient clipping or known bug explains it either\n"
    });
    Report {
        verdict: Verdict::Unexplained,
        text,
    }
}

/// `check`'s inference step: when `out` (the output of [`super::cli::check_reader`]) is a
/// disagreement that no convention variant explains, read the trace at `path` again into
/// memory, [`diagnose`] it, append the paragraph, and set the status: 3
/// ([`super::cli::EXIT_AGREE_INFERRED`]) when an explanation agrees, 1 otherwise.
pub fn extend_check(
    path: &std::path::Path,
    rel_tol: Option<f64>,
    out: super::cli::CommandOutput,
) -> super::cli::CommandOutput {
    use super::cli::{
        CommandOutput, EXIT_AGREE_INFERRED, EXIT_DISAGREE, NO_VARIANT_MATCHES, VARIANTS_NOT_REPLAYED,
    };
    if out.status != EXIT_DISAGREE
        || !(out.text.contains(NO_VARIANT_MATCHES) || out.text.contains(VARIANTS_NOT_REPLAYED))
    {
        return out;
    }
    let Ok(mut reader) = super::format::open(path) else {
        return out;
    };
    let header = reader.header().clone();
    let Ok(setting) = super::compare::declared_setting(reader.file(), &header) else {
        return out;
    };
    let tol = rel_tol.unwrap_or_else(|| super::compare::default_tolerance(header.dtype));
    let mut text = out.text;
    match Trace::load(&mut reader, MAX_VALUES) {
        Ok(Some(tr)) => {
            let r = diagnose(&tr, &setting, tol);
            text.push_str(&r.text);
            let status = if r.verdict == Verdict::Explained {
                EXIT_AGREE_INFERRED
            } else {
                EXIT_DISAGREE
            };
            CommandOutput { status, text }
        }
        Ok(None) => {
            text.push_str(&format!(
                "inference: skipped, the trace holds more than {MAX_VALUES} numbers (declare the schedule, groups or transforms you used)\n"
            ));
            CommandOutput {
                status: EXIT_DISAGREE,
                text,
            }
        }
        Err(_) => CommandOutput {
            status: EXIT_DISAGREE,
            text,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::format::{BlockSpec, FORMAT_NAME, FORMAT_VERSION};
    use crate::oracle::presets;

    /// A deterministic gradient at θ for step t: a quadratic pull plus an oscillating term, of
    /// varied magnitudes and signs, never exactly zero in practice.
    fn grad(theta: &[f64], t: usize) -> Vec<f64> {
        theta
            .iter()
            .enumerate()
            .map(|(i, x)| 0.5 * x + (1.3 * i as f64 + 0.7 * t as f64).sin() * (1.0 + 0.1 * i as f64))
            .collect()
    }

    type Mover<'a> = dyn FnMut(usize, &mut Vec<f64>, &[f64]) + 'a;

    /// A trace of `steps` steps on the layout `blocks`, where `step(t, θ, g)` moves θ (t from
    /// 1) with the gradient the trace records.
    fn make(
        preset: &str,
        optimizer: &str,
        hp: Value,
        blocks: &[(&str, usize)],
        steps: usize,
        step: &mut Mover,
    ) -> Trace {
        let layout: Vec<BlockSpec> = blocks
            .iter()
            .map(|(n, r)| BlockSpec {
                name: (*n).into(),
                rows: *r,
                cols: 1,
            })
            .collect();
        let dim: usize = blocks.iter().map(|b| b.1).sum();
        let params0: Vec<f64> = (0..dim)
            .map(|i| ((i * 7919) % 1000) as f64 / 500.0 - 1.0)
            .collect();
        let header = Header {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            optimizer: optimizer.into(),
            preset: preset.into(),
            hyperparameters: hp.as_object().cloned().unwrap_or_default(),
            layout,
            dtype: Dtype::F64,
            producer: "infer test".into(),
            params0: params0.clone(),
            param_groups: None,
            schedule: None,
            transforms: vec![],
            jax_enable_x64: None,
        };
        let mut theta = params0;
        let mut out = vec![];
        for t in 1..=steps {
            let g = grad(&theta, t);
            step(t, &mut theta, &g);
            out.push(StepRecord {
                step: t as u64,
                grad: g,
                params: theta.clone(),
                loss: None,
                hyperparameters: None,
            });
        }
        Trace { header, steps: out }
    }

    fn setting(tr: &Trace) -> Setting {
        presets::resolve_header(&tr.header).unwrap()
    }

    fn run(tr: &Trace) -> Report {
        diagnose(tr, &setting(tr), tolerance(tr.header.dtype))
    }

    fn tolerance(d: Dtype) -> f64 {
        crate::oracle::compare::default_tolerance(d)
    }

    /// Torch SGD with momentum μ (b₁ = g, b = μb + g, θ −= η_t b) under a schedule η(k).
    fn torch_sgd(
        mu: f64,
        steps: usize,
        eta: &dyn Fn(usize) -> f64,
        lr: f64,
        blocks: &[(&str, usize)],
    ) -> Trace {
        let mut b: Vec<f64> = vec![];
        make(
            "pytorch",
            "sgd",
            json!({"lr": lr, "momentum": mu}),
            blocks,
            steps,
            &mut |t, th, g| {
                if b.is_empty() {
                    b = g.to_vec();
                } else {
                    for (bi, gi) in b.iter_mut().zip(g) {
                        *bi = mu * *bi + gi;
                    }
                }
                let e = eta(t - 1);
                for (x, bi) in th.iter_mut().zip(&b) {
                    *x -= e * bi;
                }
            },
        )
    }

    fn best(r: &Report) -> &str {
        r.text
            .lines()
            .find(|l| l.contains("AGREES given"))
            .unwrap_or_else(|| panic!("no explanation:\n{}", r.text))
    }

    const W: &[(&str, usize)] = &[("w", 6), ("b", 2)];

    #[test]
    fn a_hidden_torch_cosine_schedule_is_named_with_its_arguments() {
        // CosineAnnealingLR(T_max=60, eta_min=0) on lr 0.1, 100 steps (past T_max the torch
        // curve rises again, which the fit must follow).
        let pi = std::f64::consts::PI;
        let tr = torch_sgd(0.9, 100, &|k| 0.05 * (1.0 + (pi * k as f64 / 60.0).cos()), 0.1, W);
        let r = run(&tr);
        assert_eq!(r.verdict, Verdict::Explained, "{}", r.text);
        assert!(
            best(&r).contains("CosineAnnealingLR(T_max=60, eta_min=0.0) with lr = 0.1"),
            "{}",
            r.text
        );
        assert!(
            r.text
                .contains(r#""schedule": {"args":{"T_max":60,"eta_min":0.0},"name":"CosineAnnealingLR"}"#),
            "{}",
            r.text
        );
    }

    #[test]
    fn cosine_with_eta_min_and_step_and_exponential_decays_are_named() {
        let pi = std::f64::consts::PI;
        type Eta = Box<dyn Fn(usize) -> f64>;
        let cases: Vec<(Eta, &str)> = vec![
            (
                Box::new(move |k| 0.001 + 0.5 * (0.1 - 0.001) * (1.0 + (pi * k as f64 / 40.0).cos())),
                "CosineAnnealingLR(T_max=40, eta_min=0.001) with lr = 0.1",
            ),
            (
                Box::new(|k| 0.1 * 0.5f64.powf((k / 10) as f64)),
                "StepLR(step_size=10, gamma=0.5) with lr = 0.1",
            ),
            (
                Box::new(|k| 0.1 * 0.95f64.powf(k as f64)),
                "ExponentialLR(gamma=0.95) with lr = 0.1",
            ),
            (
                Box::new(|k| 0.1 * 0.1f64.powf([10, 25].iter().filter(|&&m| m <= k).count() as f64)),
                "MultiStepLR(milestones=[10, 25], gamma=0.1) with lr = 0.1",
            ),
            (
                Box::new(|k| 0.1 * (0.1 + 0.9 * k.min(10) as f64 / 10.0)),
                "LinearLR(start_factor=0.1, end_factor=1.0, total_iters=10) with lr = 0.1",
            ),
        ];
        for (eta, want) in cases {
            let tr = torch_sgd(0.9, 35, &*eta, 0.1, W);
            let r = run(&tr);
            assert_eq!(r.verdict, Verdict::Explained, "{want}\n{}", r.text);
            assert!(best(&r).contains(want), "{want}\n{}", r.text);
        }
    }

    #[test]
    fn warm_restarts_one_cycle_and_warmup_cosine_are_named() {
        let pi = std::f64::consts::PI;
        // CosineAnnealingWarmRestarts(T_0=10, T_mult=2, eta_min=0.001): periods 10, 20, 40.
        let wr = move |k: usize| {
            let (c, l) = if k < 10 {
                (k, 10)
            } else if k < 30 {
                (k - 10, 20)
            } else {
                (k - 30, 40)
            };
            0.001 + 0.5 * (0.1 - 0.001) * (1.0 + (pi * c as f64 / l as f64).cos())
        };
        let tr = torch_sgd(0.9, 45, &wr, 0.1, W);
        let r = run(&tr);
        assert!(
            best(&r).contains("CosineAnnealingWarmRestarts(T_0=10, T_mult=2, eta_min=0.001) with lr = 0.1"),
            "{}",
            r.text
        );

        // OneCycleLR(max_lr=0.1, total_steps=60, pct_start=0.3, div_factor=25,
        // final_div_factor=1e4): phase 1 over [0, 17], phase 2 over [17, 59].
        let oc = move |k: usize| {
            let (init, max) = (0.1 / 25.0, 0.1);
            let min = init / 1e4;
            let (e1, e2) = (0.3 * 60.0 - 1.0, 59.0);
            let k = k as f64;
            if k <= e1 {
                max + (init - max) * 0.5 * (1.0 + (pi * k / e1).cos())
            } else {
                min + (max - min) * 0.5 * (1.0 + (pi * (k - e1) / (e2 - e1)).cos())
            }
        };
        let tr = torch_sgd(0.9, 60, &oc, 0.1, W);
        let r = run(&tr);
        let b = best(&r);
        assert!(b.contains("OneCycleLR(max_lr=0.1, total_steps=60, pct_start=0.3, div_factor=25.0, final_div_factor=10000.0"), "{}", r.text);

        // optax warmup_cosine_decay_schedule(0, 0.1, 10, 80, 0.001) on optax sgd (same update
        // as torch's for a momentum trace), its values as optax computes them (float32).
        let spec: crate::oracle::format::ScheduleSpec = serde_json::from_value(json!({"name": "warmup_cosine_decay_schedule",
            "args": {"init_value": 0.0, "peak_value": 0.1, "warmup_steps": 10, "decay_steps": 80, "end_value": 0.001}}))
        .unwrap();
        let wcv = crate::oracle::schedules::values("optax", &spec, 0.1, 50).unwrap();
        let wc = move |k: usize| wcv[k];
        let mut tr = torch_sgd(0.9, 50, &wc, 0.1, W);
        tr.header.preset = "optax".into();
        tr.header.hyperparameters = json!({"learning_rate": 0.1, "momentum": 0.9})
            .as_object()
            .cloned()
            .unwrap();
        let r = run(&tr);
        assert!(
            best(&r).contains("warmup_cosine_decay_schedule(init_value=0.0, peak_value=0.1, warmup_steps=10, decay_steps=80, end_value=0.001), evaluated in float32 [confirmed"),
            "{}",
            r.text
        );
    }

    #[test]
    fn a_hidden_schedule_on_torch_adamw_is_named() {
        // The crate's AdamW with the paper's cosine multiplier and decay × lr: the scheduled
        // lr is α·η_t, as torch's AdamW under CosineAnnealingLR(T_max=60) for t ≤ 60.
        use crate::optim::adamw::AdamWConfig;
        use crate::optim::schedule::Schedule;
        let mut cfg = AdamWConfig::pytorch();
        cfg.adam.lr = 0.01;
        cfg.adam.schedule = Some(Schedule::CosineAnnealing {
            t_max: 60,
            eta_min: 0.0,
            eta_max: 1.0,
        });
        let mut opt = cfg.build().unwrap();
        let tr = make("pytorch", "adamw", json!({"lr": 0.01}), W, 50, &mut |_, th, g| {
            let mut x = DVector::from_column_slice(th);
            opt.step(&mut x, &DVector::from_column_slice(g)).unwrap();
            th.copy_from_slice(x.as_slice());
        });
        let r = run(&tr);
        assert_eq!(r.verdict, Verdict::Explained, "{}", r.text);
        assert!(
            best(&r).contains("CosineAnnealingLR(T_max=60, eta_min=0.0) with lr = 0.01"),
            "{}",
            r.text
        );
    }

    #[test]
    fn noise_is_not_explained_by_a_schedule() {
        // The cosine trace of the first test with a relative perturbation of 1e-6 on every
        // parameter (far above the 1e-12 tolerance, far below anything a plot would show).
        let pi = std::f64::consts::PI;
        let mut tr = torch_sgd(0.9, 60, &|k| 0.05 * (1.0 + (pi * k as f64 / 60.0).cos()), 0.1, W);
        for (k, s) in tr.steps.iter_mut().enumerate() {
            for (i, p) in s.params.iter_mut().enumerate() {
                *p *= 1.0 + 1e-6 * ((k * 13 + i * 7) % 11) as f64 / 11.0;
            }
        }
        let r = run(&tr);
        assert_eq!(r.verdict, Verdict::Unexplained, "{}", r.text);
        let lr = infer_schedule(&tr, &setting(&tr), tolerance(Dtype::F64)).unwrap();
        assert!(lr.refuted.is_some() && lr.fits.is_empty());
        assert!(
            r.text.contains("no per-step learning rate explains it"),
            "{}",
            r.text
        );
    }

    #[test]
    fn a_schedule_that_is_no_family_is_not_named() {
        // η_k cycling through three values: a per-step lr explains it, no family does (two
        // alternating values would be torch's CosineAnnealingLR(T_max=1), which the fit finds).
        let tr = torch_sgd(0.9, 30, &|k| [0.1, 0.05, 0.02][k % 3], 0.1, W);
        let lr = infer_schedule(&tr, &setting(&tr), tolerance(Dtype::F64)).unwrap();
        assert!(lr.refuted.is_none());
        assert!(lr.fits.is_empty(), "{:?}", lr.fits.first().map(|f| &f.label));
        let r = run(&tr);
        assert!(
            r.text
                .contains("per-step learning rate that fits no named schedule"),
            "{}",
            r.text
        );
    }

    #[test]
    fn bias_without_decay_is_inferred_as_param_groups() {
        // torch AdamW(lr=0.01, weight_decay=0.1), but the bias block has no decay: two torch
        // kernels (λ and 0) over the whole vector, the trace takes b from the second.
        let hp = json!({"lr": 0.01, "weight_decay": 0.1});
        let tmp = make("pytorch", "adamw", hp.clone(), W, 0, &mut |_, _, _| {});
        let s = setting(&tmp);
        let mut k1 = kernels::build::<f64>("pytorch", &s).unwrap();
        let mut k0 = kernels::build::<f64>("pytorch", &with_decay(&s, WeightDecay::None)).unwrap();
        let mut th0 = tmp.header.params0.clone();
        let tr = make("pytorch", "adamw", hp, W, 40, &mut |_, th, g| {
            let mut th1 = th.clone();
            k1.step(&mut th1, g).unwrap();
            k0.step(&mut th0, g).unwrap();
            th[..6].copy_from_slice(&th1[..6]);
            th[6..].copy_from_slice(&th0[6..]);
            th0[..6].copy_from_slice(&th1[..6]);
        });
        let r = run(&tr);
        assert_eq!(r.verdict, Verdict::Explained, "{}", r.text);
        assert!(
            r.text.contains(
                r#"AGREES given the inferred param_groups w {"weight_decay":0.1}; b {"weight_decay":0.0}"#
            ),
            "{}",
            r.text
        );
    }

    #[test]
    fn per_block_learning_rates_are_inferred_as_param_groups() {
        let blocks: &[(&str, usize)] = &[("w", 6), ("b", 2)];
        let mut b: Vec<f64> = vec![];
        let tr = make(
            "pytorch",
            "sgd",
            json!({"lr": 0.1, "momentum": 0.9}),
            blocks,
            30,
            &mut |_, th, g| {
                if b.is_empty() {
                    b = g.to_vec();
                } else {
                    for (bi, gi) in b.iter_mut().zip(g) {
                        *bi = 0.9 * *bi + gi;
                    }
                }
                for (i, (x, bi)) in th.iter_mut().zip(&b).enumerate() {
                    *x -= if i < 6 { 0.1 } else { 0.02 } * bi;
                }
            },
        );
        let r = run(&tr);
        assert!(
            r.text.contains(r#"param_groups w {"lr":0.1}; b {"lr":0.02}"#),
            "{}",
            r.text
        );
    }

    #[test]
    fn global_norm_clipping_threshold_is_inferred() {
        // optax chain(clip_by_global_norm(1.5), sgd(0.05, momentum=0.9)); the trace records the
        // gradients before clipping. Gradient norms here range over ~1.7 … 4.
        let mut m: Vec<f64> = vec![];
        let mut tr = make(
            "optax",
            "sgd",
            json!({"learning_rate": 0.05, "momentum": 0.9}),
            W,
            40,
            &mut |_, th, g| {
                let g = clip(g, 1.5, Dtype::F64);
                if m.is_empty() {
                    m = vec![0.0; g.len()];
                }
                for (mi, gi) in m.iter_mut().zip(&g) {
                    *mi = gi + 0.9 * *mi;
                }
                for (x, mi) in th.iter_mut().zip(&m) {
                    *x -= 0.05 * mi;
                }
            },
        );
        let norms: Vec<f64> = tr
            .steps
            .iter()
            .map(|s| s.grad.iter().map(|x| x * x).sum::<f64>().sqrt())
            .collect();
        assert!(norms.iter().any(|&n| n > 1.5));
        let c = infer_clipping(&tr, &setting(&tr), tolerance(Dtype::F64))
            .unwrap()
            .unwrap();
        assert_eq!(c.max_norm, 1.5, "{c:?}");
        // Measured: the agreeing range is 1.5 to within ~1e-12 relative on both sides.
        assert!(
            (c.range.0 / 1.5 - 1.0).abs() < 1e-9 && (c.range.1 / 1.5 - 1.0).abs() < 1e-9,
            "{c:?}"
        );
        let r = run(&tr);
        assert!(r.text.contains("clip_by_global_norm(max_norm=1.5)"), "{}", r.text);
        // Negative: the same trace with 1e-6 noise is not explained by any threshold.
        for s in tr.steps.iter_mut() {
            for (i, p) in s.params.iter_mut().enumerate() {
                *p += 1e-6 * (i % 3) as f64;
            }
        }
        assert_eq!(
            infer_clipping(&tr, &setting(&tr), tolerance(Dtype::F64)).unwrap(),
            None
        );
    }

    /// A hand-written Adam(W) with one of three typical bugs, written independently of
    /// [`BuggyAdam`] (torch's defaults, lr 0.01, AdamW λ = 0.1 when `decay`).
    fn hand_adam(bug: &str, decay: bool, steps: usize) -> Trace {
        let (b1, b2, eps, lr, wd) = (0.9f64, 0.999f64, 1e-8, 0.01, 0.1);
        let (mut m, mut v) = (vec![0.0; 8], vec![0.0; 8]);
        let mut t = 0i32;
        let hp = if decay {
            json!({"lr": lr, "weight_decay": wd})
        } else {
            json!({"lr": lr})
        };
        make(
            "pytorch",
            if decay { "adamw" } else { "adam" },
            hp,
            W,
            steps,
            &mut |_, th, g| {
                if bug != "counter" || t == 0 {
                    t += 1;
                } else {
                    t += 1; // the counter is incremented before the update and once more below
                }
                let tc = if bug == "counter" { t + 1 } else { t };
                for i in 0..th.len() {
                    m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                    v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                    let mh = if bug == "no_m_correction" {
                        m[i]
                    } else {
                        m[i] / (1.0 - b1.powi(tc))
                    };
                    let vh = v[i] / (1.0 - b2.powi(tc));
                    let u = mh / (vh.sqrt() + eps);
                    if decay && bug == "decay_after" {
                        th[i] -= lr * u;
                        th[i] *= 1.0 - lr * wd;
                    } else {
                        if decay {
                            th[i] *= 1.0 - lr * wd;
                        }
                        th[i] -= lr * u;
                    }
                }
            },
        )
    }

    #[test]
    fn typical_adam_bugs_are_named_from_the_trace() {
        for (bug, decay, want) in [
            ("no_m_correction", false, "the bias correction of m is missing"),
            ("counter", false, "the step counter is one ahead"),
            (
                "decay_after",
                true,
                "the decoupled decay is applied after the Adam step",
            ),
        ] {
            let tr = hand_adam(bug, decay, 30);
            let r = run(&tr);
            assert_eq!(r.verdict, Verdict::NamedBug, "{bug}\n{}", r.text);
            let line = r.text.lines().find(|l| l.contains("named cause")).unwrap();
            assert!(
                line.contains(want) && !line.contains("one of"),
                "{bug}\n{}",
                r.text
            );
            assert!(r.text.contains("clearest at step"), "{}", r.text);
            // The evidence is clear: the nearest other candidate misses by > 1e3 × tolerance.
            let f = infer_bugs(&tr, &setting(&tr), tolerance(Dtype::F64)).unwrap();
            assert!(f.runner_up.unwrap().1 > 1e3 * tolerance(Dtype::F64), "{bug}");
        }
    }

    #[test]
    fn a_correct_adam_with_noise_is_no_named_bug() {
        let mut tr = hand_adam("none", false, 30);
        for s in tr.steps.iter_mut() {
            for p in s.params.iter_mut() {
                *p *= 1.0 + 1e-7;
            }
        }
        assert_eq!(infer_bugs(&tr, &setting(&tr), tolerance(Dtype::F64)), None);
        assert_ne!(run(&tr).verdict, Verdict::NamedBug);
    }

    #[test]
    fn sgd_dampening_bug_is_named() {
        // Declared torch SGD(momentum=0.9); the trace averages, b = 0.9b + 0.1g.
        let mut b: Vec<f64> = vec![];
        let tr = make(
            "pytorch",
            "sgd",
            json!({"lr": 0.1, "momentum": 0.9}),
            W,
            30,
            &mut |_, th, g| {
                if b.is_empty() {
                    b = g.iter().map(|x| 0.1 * x).collect();
                } else {
                    for (bi, gi) in b.iter_mut().zip(g) {
                        *bi = 0.9 * *bi + 0.1 * gi;
                    }
                }
                for (x, bi) in th.iter_mut().zip(&b) {
                    *x -= 0.1 * bi;
                }
            },
        );
        let f = infer_bugs(&tr, &setting(&tr), tolerance(Dtype::F64)).unwrap();
        assert_eq!(
            f.matches,
            vec!["the buffer is an average, b = μb + (1 − μ)g (dampening 1 − μ)".to_string()]
        );
    }

    #[test]
    fn intervals_refute_and_estimate() {
        let mut iv = Interval::default();
        assert!(iv.is_free());
        iv.add(0, 2.0, 1.0, 0.1);
        iv.add(1, 4.0, 2.0, 0.1);
        assert!(!iv.is_empty() && iv.contains(2.0) && !iv.contains(2.2));
        assert_eq!(iv.estimate(), Some(2.0));
        iv.add(2, 3.0, 1.0, 0.1);
        assert!(iv.is_empty());
        assert_eq!(iv.refuted_by, Some(2));
        assert_eq!(round_sig(0.123456, 2), 0.12);
        assert_eq!(round_sig(59.99999999, 3), 60.0);
    }
}
