//! # Learning-rate schedules as the frameworks compute them
//!
//! A trace header may declare the framework's own scheduler (torch `lr_scheduler`) or schedule
//! (optax) by its name and arguments ([`super::format::ScheduleSpec`]). This module reproduces
//! the value the framework hands its optimizer at every step, in the framework's arithmetic, so
//! that a kernel fed these values replays the run bit for bit. (The crate's own
//! [`crate::optim::schedule`] is the lecture's η_t; the frameworks' arithmetic differs from its
//! closed forms in the last bits, which is why this is a separate module.)
//!
//! ## torch (`preset = "pytorch"`)
//! `StepLR`, `MultiStepLR`, `ExponentialLR`, `CosineAnnealingLR`, `CosineAnnealingWarmRestarts`,
//! `LinearLR`, `ConstantLR`, `PolynomialLR`, `OneCycleLR`, `CyclicLR`, and `SequentialLR` and
//! `ChainedScheduler` of these, transcribed from torch 2.15's `torch/optim/lr_scheduler.py` as
//! a simulation of the Python objects, not as closed forms:
//! * every value is a Python float (f64); `math.cos` and `float ** int` are glibc's `cos` and
//!   `pow`, which Rust's [`f64::cos`] and [`f64::powf`] call on the same platform;
//! * `get_lr()` is **recursive**: it reads the group's current `lr` and multiplies it
//!   (`CosineAnnealingLR` multiplies by `(1 + cos(πt/T)) / (1 + cos(π(t−1)/T))`, `LinearLR` by
//!   `1 + (e − s)/(T·s + (t−1)(e − s))`, `StepLR`/`ExponentialLR` by γ), so rounding
//!   accumulates exactly as in torch and the values are *not* the closed forms' (they differ
//!   in the last bits after a few steps);
//! * the constructor's initial step (`_initial_step`, with `_is_initial`) and `SequentialLR`'s
//!   reset of the sub-schedulers (`recursive_undo`, `_update_lr(0)` with the closed form at a
//!   milestone) are simulated, including the side effects of constructing the sub-schedulers;
//!   `ConstantLR` multiplies by `factor` at epoch 0 and by `1.0 / factor` at `total_iters`;
//!   `PolynomialLR` by `((1 − e/T) / (1 − (e−1)/T)) ** power` up to `total_iters` (so it
//!   reaches 0 exactly at `e = T`: the numerator is `1.0 − 1.0`) and leaves the lr alone
//!   after;
//! * `CyclicLR` is not recursive: `cycle = ⌊1 + e/(up + down)⌋`, `x = 1 + e/(up + down) − cycle`,
//!   the lr `base_lr + (max_lr − base_lr)·s·scale` with `s = x/r` rising (`r = up/(up + down)`)
//!   and `(x − 1)/(r − 1)` falling; `scale` is 1 (`triangular`), `1/2.0**(cycle − 1)`
//!   (`triangular2`) or `gamma**e` (`exp_range`). Its constructor sets the group's lr to
//!   `base_lr` (the header's lr is overwritten) before the base class's initial step, which
//!   runs from `initial_lr` (the same value unless an earlier scheduler set it); a custom
//!   `scale_fn` is a Python function and is refused;
//! * `ChainedScheduler` has no step of its own at construction (its schedulers, constructed
//!   first, each ran theirs) and steps every scheduler in list order; a `SequentialLR` may sit
//!   inside one, not the other way round (not modelled);
//! * `OneCycleLR` and `CyclicLR` also cycle the momentum (`cycle_momentum=True`, their
//!   default): `betas[0]` for Adam-type optimizers, `momentum` for SGD/RMSprop
//!   ([`Scalars::momentum`]); `CyclicLR` from `max_momentum` down to `base_momentum` (0.9 and
//!   0.8 by default) as the lr rises;
//! * `LambdaLR`, `MultiplicativeLR` (a Python function) and `ReduceLROnPlateau` (driven by a
//!   validation metric the trace does not hold) are refused, naming the remedy: the lr of each
//!   step on the step lines.
//!
//! **When the scheduler steps.** The usual loop `opt.step(); sched.step()` runs the scheduler
//! once per optimizer step: step t (from 1) uses the lr after t − 1 scheduler steps. A
//! scheduler stepped once per epoch is declared with `"interval": k` (optimizer steps per
//! scheduler step): step t uses the lr after ⌊(t − 1)/k⌋ scheduler steps.
//!
//! ## optax (`preset = "optax"`)
//! `constant_schedule`, `exponential_decay`, `cosine_decay_schedule`,
//! `warmup_cosine_decay_schedule`, `warmup_exponential_decay_schedule`,
//! `warmup_constant_schedule`, `piecewise_constant_schedule`, `piecewise_interpolate_schedule`
//! (and `linear_onecycle_schedule`, `cosine_onecycle_schedule`, built on it), `sgdr_schedule`
//! (a join of warm-up cosines), `join_schedules` (and `linear_schedule`,
//! `polynomial_schedule`, which the warm-ups use), evaluated as optax 0.2.8
//! evaluates them eagerly on the int32 step count, in JAX's dtypes — measured with x64
//! enabled (`scripts/golden_traces.py`):
//! * `count / transition_steps` with an int32 count and a Python int is **float32** in JAX,
//!   even with x64: `exponential_decay`, `linear_schedule`/`polynomial_schedule` and therefore
//!   `warmup_cosine_decay_schedule` (whose `join_schedules` promotes the float64 cosine part to
//!   float32 through `jnp.where`) return float32 values, also for a float64 model;
//! * `cosine_decay_schedule` and `piecewise_constant_schedule` compute in float64 (weakly
//!   typed); XLA:CPU's f64 `cos` and `pow` and f32 `pow` agree with glibc's on every input
//!   tried (10⁵ random inputs each), so [`f64::cos`], [`f64::powf`], [`f32::powf`] reproduce
//!   them;
//! * `piecewise_interpolate_schedule` returns a *strong* float64 (its `jnp.cumprod` values),
//!   with the fraction of the interval in float32 (int32 true division) and, for `cosine`,
//!   `cos(π·pct) + 1` in float32; a `join_schedules` promotes stage by stage as `jnp.where`
//!   does (weak float64 < float32 < strong float64), so a value rounded to float32 at one stage
//!   stays rounded when a later float64 stage promotes it;
//! * `scale_by_schedule` multiplies the update by `jnp.array(-value, dtype=g.dtype)`: the value
//!   is rounded to the parameters' dtype once, which the kernels do ([`super::kernels`]).
//!
//! optax evaluates the schedule at `count = t − 1` for step t (the count starts at 0, in
//! `scale_by_schedule` and in `inject_hyperparams` alike).
//!
//! ## Keras (`preset = "keras"`)
//! `ExponentialDecay`, `PiecewiseConstantDecay`, `InverseTimeDecay`, `PolynomialDecay`,
//! `CosineDecay` (with or without warm-up), `CosineDecayRestarts`, declared by class name with
//! the constructor's keyword arguments (`name` accepted) — or by `optimizer.get_config()`
//! itself, whose `learning_rate` is then the serialized schedule
//! `{"module": "keras.optimizers.schedules", "class_name", "config", "registered_name": null}`:
//! the trace readers take it as the same declaration ([`keras_schedule_from_learning_rate`];
//! a header `schedule` given as well must be the same schedule). A custom or registered
//! schedule, or a callable, is not modelled: the step lines then give the learning rate
//! ([`keras_learning_rate_unmodelled`]). Evaluated as Keras 3.15.1 evaluates them on the JAX
//! backend at `self._iterations = t − 1` (an int64 variable), then cast to the variable's dtype
//! by the optimizer (`ops.cast(learning_rate, variable.dtype)`, also in `_apply_weight_decay`).
//! Measured (`scripts/golden_keras.py --schedules`), the dtypes are not floatx's:
//! * `ops.convert_to_tensor(python float)` is a *weakly typed* float64 array (x64 enabled),
//!   `ops.cast(…, dtype)` a strong one; so every schedule computes in float64, for float32
//!   models too;
//! * `ops.cos`, `ops.floor`, `ops.ceil` cast a float64 argument to **float32** first
//!   (`dtypes.result_type("float64", float)` is float32 in Keras), and compute in float32
//!   (XLA:CPU's f32 `cos` is glibc's `cosf`, = [`f32::cos`], on every input tried): a
//!   staircase exponent `floor(p)` is the floor of `f32(p)`;
//! * `CosineDecay` without warm-up multiplies the weak float64 `initial_learning_rate` by the
//!   float32 `decayed`, i.e. in **float32** (its value at step 1 is `f32(0.02)`, not 0.02);
//!   with warm-up `lax.cond` joins the branches in float64 (`warmup_target` is a strong
//!   float64), and the branches are compiled: there XLA's `cos` is correctly rounded and
//!   multiply-adds are fused (measured; see `KerasSched::cosine_decayed`).
//! * `CosineDecayRestarts` (SGDR): float64 throughout — the restart index
//!   `floor(log(1 − p(1 − t_mul)) / log(t_mul))` (or `floor(p)` for `t_mul = 1`), the
//!   geometric sum `(1 − t_mulⁱ)/(1 − t_mul)`, the fraction of the period, `m_mulⁱ` — except
//!   `ops.floor` and `ops.cos`, which cast to float32 as above: `0.5·m_mulⁱ·f32(1 + cosf(f32(π·p')))`
//!   in float64, then `(1 − α)·c + α` and the product with `initial_learning_rate` in
//!   float64. Although the restart index is computed inside `ops.cond` (compiled), its `log`,
//!   `pow` and arithmetic are glibc's and unfused: measured bit for bit against Keras on 3840
//!   (schedule, iteration) pairs (18 configurations with t_mul ∈ {1, 1.01…3}, m_mul, α, periods
//!   1–13, up to 300 iterations) and on the golden cases.
//!
//! These dtypes need JAX's x64 mode (`jax_enable_x64`), which float64 models need anyway.
//! Without it (JAX's default) a Python float is float32 and every schedule computes in float32;
//! so do the TensorFlow and torch backends. Such a run replays within tolerance, not bit for
//! bit (measured: a float32 AdamW run with `CosineDecayRestarts`, 4/50 steps bit for bit,
//! worst 4 ulps of the coordinate scale); `optverify.keras.record` writes the learning rate on
//! every step line for it, which makes it bit for bit again (50/50).

use super::format::ScheduleSpec;
use serde_json::{Map, Value};
use thiserror::Error;

/// A schedule that cannot be evaluated: unknown name, bad argument, or a step the framework
/// itself would refuse.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("schedule {name}: {message}")]
pub struct ScheduleError {
    pub name: String,
    pub message: String,
}

/// The scalars a schedule sets for one optimizer step of one parameter group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scalars {
    /// The learning rate the optimizer reads at this step.
    pub lr: f64,
    /// torch `OneCycleLR(cycle_momentum=True)`: `betas[0]` (Adam-type) or `momentum` (SGD,
    /// RMSprop) at this step; `None` when the schedule leaves it alone.
    pub momentum: Option<f64>,
}

/// The torch scheduler names this module simulates.
pub const TORCH_SCHEDULERS: &str = "StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, \
     CosineAnnealingWarmRestarts, LinearLR, ConstantLR, PolynomialLR, OneCycleLR, CyclicLR, \
     SequentialLR, ChainedScheduler";
/// The optax schedule names this module evaluates.
pub const OPTAX_SCHEDULES: &str = "constant_schedule, exponential_decay, cosine_decay_schedule, \
     warmup_cosine_decay_schedule, warmup_exponential_decay_schedule, warmup_constant_schedule, \
     piecewise_constant_schedule, piecewise_interpolate_schedule, linear_onecycle_schedule, \
     cosine_onecycle_schedule, sgdr_schedule, join_schedules, linear_schedule, polynomial_schedule";

/// A declared schedule, running for one parameter group: yields the scalars of optimizer
/// steps 1, 2, … in order.
#[derive(Debug, Clone)]
pub struct ScheduleRun {
    inner: Inner,
    /// Optimizer steps taken so far.
    t: u64,
}

#[derive(Debug, Clone)]
enum Inner {
    Torch {
        sched: Box<TorchSched>,
        group: Group,
        interval: u64,
    },
    Optax(OptaxSched),
    Keras(KerasSched),
}

impl ScheduleRun {
    /// Start `spec` for parameter group `group_index` whose declared learning rate is `lr` and,
    /// for torch, whose momentum (`betas[0]` or `momentum`) is `momentum`.
    ///
    /// # Errors
    /// [`ScheduleError`] naming the schedule and the argument.
    pub fn new(
        preset: &str,
        spec: &ScheduleSpec,
        lr: f64,
        momentum: Option<f64>,
        group_index: usize,
    ) -> Result<Self, ScheduleError> {
        let inner = match preset {
            "pytorch" => {
                let interval = spec.interval.unwrap_or(1);
                if interval == 0 {
                    return Err(err(
                        &spec.name,
                        "`interval` must be ≥ 1 (optimizer steps per scheduler step)",
                    ));
                }
                let mut group = Group {
                    lr,
                    initial_lr: None,
                    momentum,
                    momentum_cycled: false,
                    max_lr: 0.0,
                    min_lr: 0.0,
                    max_momentum: 0.0,
                    base_momentum: 0.0,
                };
                let sched = TorchSched::construct(&spec.name, &spec.args, &mut group, group_index, None)?;
                Inner::Torch {
                    sched: Box::new(sched),
                    group,
                    interval,
                }
            }
            "optax" => {
                if spec.interval.is_some() {
                    return Err(err(
                        &spec.name,
                        "`interval` is a torch notion; an optax schedule is evaluated at every update",
                    ));
                }
                Inner::Optax(OptaxSched::parse(&spec.name, &spec.args, 0)?)
            }
            "keras" => {
                if spec.interval.is_some() {
                    return Err(err(
                        &spec.name,
                        "`interval` is a torch notion; a Keras schedule is evaluated at every `apply`",
                    ));
                }
                Inner::Keras(KerasSched::parse(&spec.name, &spec.args)?)
            }
            other => {
                return Err(err(
                    &spec.name,
                    &format!(
                        "schedules are modelled for the pytorch, optax and keras presets, not {other:?}"
                    ),
                ))
            }
        };
        Ok(ScheduleRun { inner, t: 0 })
    }

    /// The scalars of the next optimizer step (1, 2, …).
    ///
    /// # Errors
    /// A step the framework itself refuses (e.g. `OneCycleLR` past `total_steps`).
    pub fn next_scalars(&mut self) -> Result<Scalars, ScheduleError> {
        self.t += 1;
        match &mut self.inner {
            Inner::Torch {
                sched,
                group,
                interval,
            } => {
                // The scheduler stepped after every `interval` optimizer steps so far.
                if self.t > 1 && (self.t - 1) % *interval == 0 {
                    sched.step(group)?;
                }
                Ok(Scalars {
                    lr: group.lr,
                    // Only OneCycleLR(cycle_momentum=True) writes the momentum.
                    momentum: if group.momentum_cycled {
                        group.momentum
                    } else {
                        None
                    },
                })
            }
            Inner::Optax(s) => {
                let count = i64::try_from(self.t - 1).unwrap_or(i64::MAX);
                Ok(Scalars {
                    lr: s.eval(count).0,
                    momentum: None,
                })
            }
            Inner::Keras(s) => Ok(Scalars {
                lr: s.eval(self.t - 1),
                momentum: None,
            }),
        }
    }
}

/// The learning rate `spec` gives at optimizer step `t` (from 1) for a group whose declared
/// learning rate is `lr` (torch; ignored by optax schedules, which carry their own values).
///
/// # Errors
/// As [`ScheduleRun::new`] and [`ScheduleRun::next_scalars`]; `t = 0` is refused.
pub fn evaluate(preset: &str, spec: &ScheduleSpec, lr: f64, t: u64) -> Result<f64, ScheduleError> {
    if t == 0 {
        return Err(err(&spec.name, "steps count from 1"));
    }
    let mut run = ScheduleRun::new(preset, spec, lr, None, 0)?;
    let mut value = 0.0;
    for _ in 0..t {
        value = run.next_scalars()?.lr;
    }
    Ok(value)
}

/// The learning rates of steps 1..=`steps`.
///
/// # Errors
/// As [`evaluate`].
pub fn values(preset: &str, spec: &ScheduleSpec, lr: f64, steps: u64) -> Result<Vec<f64>, ScheduleError> {
    let mut run = ScheduleRun::new(preset, spec, lr, None, 0)?;
    (0..steps).map(|_| run.next_scalars().map(|s| s.lr)).collect()
}

fn err(name: &str, message: &str) -> ScheduleError {
    ScheduleError {
        name: name.into(),
        message: message.into(),
    }
}

/// Reads a schedule's arguments, refusing names it was not asked for.
struct Args<'a> {
    name: &'a str,
    map: &'a Map<String, Value>,
    known: Vec<&'static str>,
}

impl<'a> Args<'a> {
    fn new(name: &'a str, map: &'a Map<String, Value>) -> Self {
        Args {
            name,
            map,
            known: Vec::new(),
        }
    }
    fn bad(&self, arg: &str, expected: &str, got: &Value) -> ScheduleError {
        err(
            self.name,
            &format!("argument `{arg}` must be {expected}, got {got}"),
        )
    }
    fn get(&mut self, arg: &'static str) -> Option<&'a Value> {
        self.known.push(arg);
        self.map.get(arg).filter(|v| !v.is_null())
    }
    fn opt_f64(&mut self, arg: &'static str) -> Result<Option<f64>, ScheduleError> {
        match self.get(arg) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(self.bad(arg, "a finite number", v)),
            },
        }
    }
    fn f64(&mut self, arg: &'static str, default: f64) -> Result<f64, ScheduleError> {
        Ok(self.opt_f64(arg)?.unwrap_or(default))
    }
    fn req_f64(&mut self, arg: &'static str) -> Result<f64, ScheduleError> {
        self.opt_f64(arg)?
            .ok_or_else(|| err(self.name, &format!("argument `{arg}` is required")))
    }
    fn opt_int(&mut self, arg: &'static str) -> Result<Option<i64>, ScheduleError> {
        match self.get(arg) {
            None => Ok(None),
            Some(v) => match v.as_i64() {
                Some(k) if k.abs() < (1 << 31) => Ok(Some(k)),
                _ => Err(self.bad(arg, "an integer in (−2³¹, 2³¹)", v)),
            },
        }
    }
    fn int(&mut self, arg: &'static str, default: i64) -> Result<i64, ScheduleError> {
        Ok(self.opt_int(arg)?.unwrap_or(default))
    }
    fn req_int(&mut self, arg: &'static str) -> Result<i64, ScheduleError> {
        self.opt_int(arg)?
            .ok_or_else(|| err(self.name, &format!("argument `{arg}` is required")))
    }
    fn bool(&mut self, arg: &'static str, default: bool) -> Result<bool, ScheduleError> {
        match self.get(arg) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.bad(arg, "true or false", v)),
        }
    }
    fn ints(&mut self, arg: &'static str) -> Result<Vec<i64>, ScheduleError> {
        let v = self
            .get(arg)
            .ok_or_else(|| err(self.name, &format!("argument `{arg}` is required")))?;
        v.as_array()
            .and_then(|a| a.iter().map(Value::as_i64).collect::<Option<Vec<i64>>>())
            .ok_or_else(|| self.bad(arg, "an array of integers", v))
    }
    /// optax's `boundaries_and_scales` (optional): an object `{"step": scale}` with integer
    /// keys and non-negative finite scales (optax raises on a negative one), sorted by step.
    fn boundaries_and_scales(&mut self) -> Result<Vec<(i64, f64)>, ScheduleError> {
        let mut pairs = Vec::new();
        if let Some(v) = self.get("boundaries_and_scales") {
            let m = v
                .as_object()
                .ok_or_else(|| self.bad("boundaries_and_scales", "an object {\"step\": scale}", v))?;
            for (k, s) in m {
                let b: i64 = k
                    .trim()
                    .parse()
                    .ok()
                    .filter(|b: &i64| b.abs() < (1 << 31))
                    .ok_or_else(|| {
                        self.bad(
                            "boundaries_and_scales",
                            "an object whose keys are integer steps in (−2³¹, 2³¹)",
                            v,
                        )
                    })?;
                let s = s
                    .as_f64()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| self.bad("boundaries_and_scales", "non-negative finite scales", v))?;
                pairs.push((b, s));
            }
            pairs.sort_by_key(|p| p.0);
        }
        Ok(pairs)
    }
    /// A number, or a list with one number per parameter group (torch `_format_param`).
    fn per_group(
        &mut self,
        arg: &'static str,
        default: Option<f64>,
        group: usize,
    ) -> Result<f64, ScheduleError> {
        match self.get(arg) {
            None => default.ok_or_else(|| err(self.name, &format!("argument `{arg}` is required"))),
            Some(v) => match v {
                Value::Array(a) => a.get(group).and_then(Value::as_f64).ok_or_else(|| {
                    self.bad(arg, "a number or a list with one number per parameter group", v)
                }),
                _ => v
                    .as_f64()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| self.bad(arg, "a finite number", v)),
            },
        }
    }
    fn finish(self) -> Result<(), ScheduleError> {
        match self.map.keys().find(|k| !self.known.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) => {
                let mut known = self.known.clone();
                known.sort_unstable();
                Err(err(
                    self.name,
                    &format!("unknown argument {k:?}; known: {}", known.join(", ")),
                ))
            }
        }
    }
}

// ------------------------------------------------------------------------------- torch

/// The entries of a torch param group a scheduler reads and writes.
#[derive(Debug, Clone)]
struct Group {
    lr: f64,
    initial_lr: Option<f64>,
    momentum: Option<f64>,
    /// A scheduler writes the momentum (OneCycleLR with cycle_momentum).
    momentum_cycled: bool,
    max_lr: f64,
    min_lr: f64,
    max_momentum: f64,
    base_momentum: f64,
}

#[derive(Debug, Clone)]
struct Phase {
    end_step: f64,
    start_lr: Which,
    end_lr: Which,
    start_momentum: Which,
    end_momentum: Which,
}

#[derive(Debug, Clone, Copy)]
enum Which {
    InitialLr,
    MaxLr,
    MinLr,
    MaxMomentum,
    BaseMomentum,
}

impl Group {
    fn read(&self, w: Which) -> f64 {
        match w {
            Which::InitialLr => self.initial_lr.unwrap_or(self.lr),
            Which::MaxLr => self.max_lr,
            Which::MinLr => self.min_lr,
            Which::MaxMomentum => self.max_momentum,
            Which::BaseMomentum => self.base_momentum,
        }
    }

    /// `cycle_momentum=True` (`OneCycleLR`, `CyclicLR`): the constructor sets the group's
    /// momentum (or `betas[0]`) to `max_momentum` and keeps both ends for the cycle; an
    /// optimizer without either makes torch raise ValueError.
    fn cycle_momentum(&mut self, scheduler: &str, base: f64, max: f64) -> Result<(), ScheduleError> {
        if self.momentum.is_none() {
            return Err(err(
                scheduler,
                "cycle_momentum=True needs an optimizer with `momentum` or `betas` (torch raises ValueError; declare cycle_momentum=false)",
            ));
        }
        self.momentum = Some(max);
        self.momentum_cycled = true;
        self.max_momentum = max;
        self.base_momentum = base;
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum TorchKind {
    Step {
        step_size: i64,
        gamma: f64,
    },
    MultiStep {
        milestones: Vec<i64>,
        gamma: f64,
    },
    Exponential {
        gamma: f64,
    },
    Cosine {
        t_max: i64,
        eta_min: f64,
    },
    WarmRestarts {
        t0: i64,
        t_mult: i64,
        eta_min: f64,
        t_i: i64,
        t_cur: i64,
    },
    Linear {
        start: f64,
        end: f64,
        total: i64,
    },
    OneCycle {
        total_steps: i64,
        phases: Vec<Phase>,
        cos: bool,
        cycle_momentum: bool,
    },
    Sequential {
        children: Vec<TorchSched>,
        milestones: Vec<i64>,
    },
    Constant {
        factor: f64,
        total: i64,
    },
    Polynomial {
        total: i64,
        power: f64,
    },
    Cyclic(Box<Cyclic>),
    Chained {
        children: Vec<TorchSched>,
    },
}

/// `CyclicLR`'s per-group state (its `base_lr` is [`TorchSched::base_lr`]).
#[derive(Debug, Clone)]
struct Cyclic {
    max_lr: f64,
    /// `float(step_size_up) + float(step_size_down)`.
    total_size: f64,
    /// `step_size_up / total_size`.
    step_ratio: f64,
    mode: CyclicMode,
    /// `(base_momentum, max_momentum)` with `cycle_momentum=True`.
    momentum: Option<(f64, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CyclicMode {
    /// `scale_fn(cycle) = 1`.
    Triangular,
    /// `scale_fn(cycle) = 1 / 2.0 ** (cycle − 1)`.
    Triangular2,
    /// `scale_fn(last_epoch) = gamma ** last_epoch`.
    ExpRange(f64),
}

#[derive(Debug, Clone)]
struct TorchSched {
    name: String,
    kind: TorchKind,
    last_epoch: i64,
    step_count: i64,
    base_lr: f64,
    is_initial: bool,
}

/// Python's `bisect_right` on a sorted list.
fn bisect_right(sorted: &[i64], x: i64) -> usize {
    sorted.partition_point(|&m| m <= x)
}

/// The `schedulers` argument of `SequentialLR` and `ChainedScheduler`: a non-empty list of
/// `{"name", "args"}` (an `interval` belongs on the outer scheduler).
fn sub_schedulers(name: &str, a: &mut Args) -> Result<Vec<ScheduleSpec>, ScheduleError> {
    let subs = a
        .get("schedulers")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            err(
                name,
                "argument `schedulers` must be a non-empty list of {\"name\", \"args\"}",
            )
        })?;
    subs.iter()
        .enumerate()
        .map(|(i, s)| {
            let spec: ScheduleSpec = serde_json::from_value(s.clone()).map_err(|e| {
                err(
                    name,
                    &format!("schedulers[{i}]: {e} (expected {{\"name\", \"args\"}})"),
                )
            })?;
            if spec.interval.is_some() {
                return Err(err(
                    name,
                    &format!("declare `interval` on the {name}, not on its schedulers"),
                ));
            }
            Ok(spec)
        })
        .collect()
}

impl TorchSched {
    /// `Scheduler(optimizer, **args)`: the constructor, including its initial step.
    fn construct(
        name: &str,
        args: &Map<String, Value>,
        group: &mut Group,
        gi: usize,
        parent: Option<&str>,
    ) -> Result<TorchSched, ScheduleError> {
        let mut a = Args::new(name, args);
        let mut cyclic_base = None;
        if a.int("last_epoch", -1)? != -1 {
            return Err(err(
                name,
                "`last_epoch` ≠ −1 (resuming a scheduler) is not modelled",
            ));
        }
        let kind = match name {
            "StepLR" => {
                let step_size = a.req_int("step_size")?;
                if step_size <= 0 {
                    return Err(err(name, "argument `step_size` must be ≥ 1"));
                }
                TorchKind::Step {
                    step_size,
                    gamma: a.f64("gamma", 0.1)?,
                }
            }
            "MultiStepLR" => {
                let mut milestones = a.ints("milestones")?;
                milestones.sort_unstable();
                TorchKind::MultiStep {
                    milestones,
                    gamma: a.f64("gamma", 0.1)?,
                }
            }
            "ExponentialLR" => TorchKind::Exponential {
                gamma: a.req_f64("gamma")?,
            },
            "CosineAnnealingLR" => {
                let t_max = a.req_int("T_max")?;
                if t_max <= 0 {
                    return Err(err(name, "argument `T_max` must be ≥ 1"));
                }
                TorchKind::Cosine {
                    t_max,
                    eta_min: a.f64("eta_min", 0.0)?,
                }
            }
            "CosineAnnealingWarmRestarts" => {
                let t0 = a.req_int("T_0")?;
                let t_mult = a.int("T_mult", 1)?;
                if t0 <= 0 || t_mult < 1 {
                    return Err(err(name, "arguments must satisfy `T_0` ≥ 1 and `T_mult` ≥ 1 (integers)"));
                }
                TorchKind::WarmRestarts {
                    t0,
                    t_mult,
                    eta_min: a.f64("eta_min", 0.0)?,
                    t_i: t0,
                    t_cur: -1,
                }
            }
            "LinearLR" => {
                let start = a.f64("start_factor", 1.0 / 3.0)?;
                let end = a.f64("end_factor", 1.0)?;
                if !(start > 0.0 && start <= 1.0 && (0.0..=1.0).contains(&end)) {
                    return Err(err(
                        name,
                        "arguments must satisfy 0 < `start_factor` ≤ 1 and 0 ≤ `end_factor` ≤ 1",
                    ));
                }
                TorchKind::Linear {
                    start,
                    end,
                    total: a.int("total_iters", 5)?,
                }
            }
            "OneCycleLR" => {
                let total_steps = match a.opt_int("total_steps")? {
                    Some(n) if n > 0 => n,
                    Some(_) => return Err(err(name, "argument `total_steps` must be ≥ 1")),
                    None => match (a.opt_int("epochs")?, a.opt_int("steps_per_epoch")?) {
                        (Some(e), Some(s)) if e > 0 && s > 0 => e * s,
                        _ => {
                            return Err(err(
                                name,
                                "needs `total_steps` or both `epochs` and `steps_per_epoch` (positive integers)",
                            ))
                        }
                    },
                };
                let pct = a.f64("pct_start", 0.3)?;
                if !(0.0..=1.0).contains(&pct) {
                    return Err(err(name, "argument `pct_start` must be in [0, 1]"));
                }
                let cos = match a.get("anneal_strategy") {
                    None => true,
                    Some(Value::String(s)) if s == "cos" => true,
                    Some(Value::String(s)) if s == "linear" => false,
                    Some(v) => return Err(a.bad("anneal_strategy", "\"cos\" or \"linear\"", v)),
                };
                let cycle_momentum = a.bool("cycle_momentum", true)?;
                let max_lr = a.per_group("max_lr", None, gi)?;
                let base_m = a.per_group("base_momentum", Some(0.85), gi)?;
                let max_m = a.per_group("max_momentum", Some(0.95), gi)?;
                let div = a.f64("div_factor", 25.0)?;
                let final_div = a.f64("final_div_factor", 1e4)?;
                let total = total_steps as f64;
                let phase = |end_step, s, e, sm, em| Phase {
                    end_step,
                    start_lr: s,
                    end_lr: e,
                    start_momentum: sm,
                    end_momentum: em,
                };
                use Which::*;
                let phases = if a.bool("three_phase", false)? {
                    vec![
                        phase(pct * total - 1.0, InitialLr, MaxLr, MaxMomentum, BaseMomentum),
                        phase(2.0 * pct * total - 2.0, MaxLr, InitialLr, BaseMomentum, MaxMomentum),
                        phase(total - 1.0, InitialLr, MinLr, MaxMomentum, MaxMomentum),
                    ]
                } else {
                    vec![
                        phase(pct * total - 1.0, InitialLr, MaxLr, MaxMomentum, BaseMomentum),
                        phase(total - 1.0, MaxLr, MinLr, BaseMomentum, MaxMomentum),
                    ]
                };
                // The constructor writes these into the group before the initial step.
                group.initial_lr = Some(max_lr / div);
                group.max_lr = max_lr;
                group.min_lr = max_lr / div / final_div;
                if cycle_momentum {
                    group.cycle_momentum(name, base_m, max_m)?;
                }
                TorchKind::OneCycle {
                    total_steps,
                    phases,
                    cos,
                    cycle_momentum,
                }
            }
            "SequentialLR" => {
                // Inside a ChainedScheduler it is stepped like any other; inside a SequentialLR
                // its own reset and undo would interleave with the outer one's (not modelled).
                if parent == Some("SequentialLR") {
                    return Err(err(name, "a SequentialLR inside a SequentialLR is not modelled"));
                }
                let specs = sub_schedulers(name, &mut a)?;
                let milestones = a.ints("milestones")?;
                if milestones.len() + 1 != specs.len() {
                    return Err(err(
                        name,
                        "needs at least one scheduler and exactly one milestone fewer than schedulers",
                    ));
                }
                a.finish()?;
                // The sub-schedulers are constructed first, in list order (each constructor
                // runs its initial step on the group).
                let mut children = Vec::with_capacity(specs.len());
                for spec in &specs {
                    children.push(TorchSched::construct(&spec.name, &spec.args, group, gi, Some(name))?);
                }
                // SequentialLR.__init__: no initial step of its own.
                let mut seq = TorchSched {
                    name: name.into(),
                    kind: TorchKind::Sequential { children, milestones },
                    last_epoch: 0,
                    step_count: 0,
                    base_lr: group.initial_lr.unwrap_or(group.lr),
                    is_initial: false,
                };
                group.lr = group.initial_lr.unwrap_or(group.lr);
                if let TorchKind::Sequential { children, milestones } = &mut seq.kind {
                    for c in children.iter_mut() {
                        c.last_epoch -= 1; // recursive_undo
                    }
                    let idx = bisect_right(milestones, 0);
                    children[idx].initial_step(group)?;
                }
                return Ok(seq);
            }
            "ConstantLR" => {
                let factor = a.f64("factor", 1.0 / 3.0)?;
                if !(0.0..=1.0).contains(&factor) {
                    return Err(err(name, &format!("argument `factor` must be in [0, 1], got {factor}")));
                }
                TorchKind::Constant {
                    factor,
                    total: a.int("total_iters", 5)?,
                }
            }
            "PolynomialLR" => {
                let total = a.int("total_iters", 5)?;
                if total < 1 {
                    // torch accepts it, but then never changes the lr (and its closed form,
                    // used at a SequentialLR milestone, divides by zero or returns 0).
                    return Err(err(name, &format!("argument `total_iters` must be ≥ 1, got {total}")));
                }
                TorchKind::Polynomial {
                    total,
                    power: a.f64("power", 1.0)?,
                }
            }
            "CyclicLR" => {
                let base_lr = a.per_group("base_lr", None, gi)?;
                let max_lr = a.per_group("max_lr", None, gi)?;
                // `float(step_size_up)`: torch takes any number.
                let up = a.f64("step_size_up", 2000.0)?;
                let down = a.opt_f64("step_size_down")?.unwrap_or(up);
                if !(up > 0.0 && down >= 0.0) {
                    return Err(err(
                        name,
                        &format!("arguments must satisfy `step_size_up` > 0 and `step_size_down` ≥ 0, got {up} and {down} (torch divides by zero otherwise)"),
                    ));
                }
                let gamma = a.f64("gamma", 1.0)?;
                let mode = match a.get("mode") {
                    None => CyclicMode::Triangular,
                    Some(Value::String(m)) if m == "triangular" => CyclicMode::Triangular,
                    Some(Value::String(m)) if m == "triangular2" => CyclicMode::Triangular2,
                    Some(Value::String(m)) if m == "exp_range" => CyclicMode::ExpRange(gamma),
                    Some(v) => return Err(a.bad("mode", "\"triangular\", \"triangular2\" or \"exp_range\"", v)),
                };
                if let Some(v) = a.get("scale_fn") {
                    return Err(a.bad(
                        "scale_fn",
                        "null: a custom scale_fn is a Python function, not modelled (record the lr, and betas/momentum, of each step in the step line's `hyperparameters`, as optverify.watch does)",
                        v,
                    ));
                }
                // Ignored with a built-in mode: `_init_scale_fn` sets it from `mode`.
                match a.get("scale_mode") {
                    None => {}
                    Some(Value::String(m)) if m == "cycle" || m == "iterations" => {}
                    Some(v) => return Err(a.bad("scale_mode", "\"cycle\" or \"iterations\"", v)),
                }
                let cycle_momentum = a.bool("cycle_momentum", true)?;
                let base_m = a.per_group("base_momentum", Some(0.8), gi)?;
                let max_m = a.per_group("max_momentum", Some(0.9), gi)?;
                let momentum = if cycle_momentum {
                    // Written before the base class's constructor runs.
                    group.cycle_momentum(name, base_m, max_m)?;
                    Some((base_m, max_m))
                } else {
                    None
                };
                // `group["lr"] = base_lr` before `LRScheduler.__init__` (last_epoch = −1).
                group.lr = base_lr;
                cyclic_base = Some(base_lr);
                let total_size = up + down;
                TorchKind::Cyclic(Box::new(Cyclic {
                    max_lr,
                    total_size,
                    step_ratio: up / total_size,
                    mode,
                    momentum,
                }))
            }
            "ChainedScheduler" => {
                // torch's SequentialLR would call the chain's `_initial_step` (a plain step of
                // each scheduler) and, at a milestone, its missing `get_lr`: not modelled.
                if parent == Some("SequentialLR") {
                    return Err(err(name, "a ChainedScheduler inside a SequentialLR is not modelled"));
                }
                let specs = sub_schedulers(name, &mut a)?;
                a.finish()?;
                // The schedulers are constructed first, each with its initial step; the
                // chain has none of its own.
                let children = specs
                    .iter()
                    .map(|spec| TorchSched::construct(&spec.name, &spec.args, group, gi, Some(name)))
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(TorchSched {
                    name: name.into(),
                    kind: TorchKind::Chained { children },
                    last_epoch: 0,
                    step_count: 0,
                    base_lr: group.initial_lr.unwrap_or(group.lr),
                    is_initial: false,
                });
            }
            "LambdaLR" | "MultiplicativeLR" => {
                return Err(err(
                    name,
                    "its `lr_lambda` is a Python function, which a header cannot declare: record the lr of each step in the step line's `hyperparameters` (optverify.watch does)",
                ))
            }
            "ReduceLROnPlateau" => {
                return Err(err(
                    name,
                    "it steps on a validation metric, which the trace does not hold: record the lr of each step in the step line's `hyperparameters` (optverify.watch does)",
                ))
            }
            other => {
                return Err(err(
                    other,
                    &format!("unknown torch scheduler; modelled: {TORCH_SCHEDULERS} (declare per-step `hyperparameters` on the step lines for any other)"),
                ))
            }
        };
        a.finish()?;
        // LRScheduler.__init__: group.setdefault("initial_lr", group["lr"]); base_lrs.
        let base_lr = *group.initial_lr.get_or_insert(group.lr);
        let mut s = TorchSched {
            name: name.into(),
            kind,
            last_epoch: -1,
            step_count: 0,
            base_lr,
            is_initial: false,
        };
        s.initial_step(group)?;
        // CyclicLR sets `self.base_lrs = base_lrs` after the base constructor: its initial
        // step ran from `initial_lr` (which differs only when an earlier scheduler set it).
        if let Some(b) = cyclic_base {
            s.base_lr = b;
        }
        Ok(s)
    }

    fn initial_step(&mut self, group: &mut Group) -> Result<(), ScheduleError> {
        self.step_count = 0;
        self.is_initial = true;
        let r = self.step(group);
        self.is_initial = false;
        r
    }

    fn step(&mut self, group: &mut Group) -> Result<(), ScheduleError> {
        match &mut self.kind {
            TorchKind::WarmRestarts {
                t0,
                t_mult,
                t_i,
                t_cur,
                ..
            } => {
                if self.last_epoch < 0 {
                    // epoch = 0, the explicit-epoch branch with epoch < T_0.
                    *t_i = *t0;
                    *t_cur = 0;
                    self.last_epoch = 0;
                } else {
                    self.last_epoch += 1;
                    *t_cur += 1;
                    if *t_cur >= *t_i {
                        *t_cur %= *t_i;
                        *t_i *= *t_mult;
                    }
                }
                group.lr = self.get_lr(group)?;
                Ok(())
            }
            TorchKind::Chained { children } => {
                // ChainedScheduler.step: every scheduler's own step, in list order.
                for c in children.iter_mut() {
                    c.step(group)?;
                }
                Ok(())
            }
            TorchKind::Sequential { children, milestones } => {
                self.last_epoch += 1;
                let idx = bisect_right(milestones, self.last_epoch);
                if idx > 0 && milestones[idx - 1] == self.last_epoch {
                    children[idx].update_lr(group, Some(0))
                } else {
                    children[idx].step(group)
                }
            }
            _ => {
                self.step_count += 1;
                self.update_lr(group, None)
            }
        }
    }

    /// `LRScheduler._update_lr(epoch)`.
    fn update_lr(&mut self, group: &mut Group, epoch: Option<i64>) -> Result<(), ScheduleError> {
        let v = match epoch {
            None => {
                self.last_epoch += 1;
                self.get_lr(group)?
            }
            Some(e) => {
                self.last_epoch = e;
                match self.closed_form() {
                    Some(v) => v,
                    None => self.get_lr(group)?,
                }
            }
        };
        group.lr = v;
        Ok(())
    }

    /// `get_lr()`, recursive where torch's is (reads `group["lr"]`).
    fn get_lr(&self, group: &mut Group) -> Result<f64, ScheduleError> {
        let le = self.last_epoch;
        let lr = group.lr;
        let base = self.base_lr;
        Ok(match &self.kind {
            TorchKind::Step { step_size, gamma } => {
                if le == 0 || le.rem_euclid(*step_size) != 0 {
                    lr
                } else {
                    lr * gamma
                }
            }
            TorchKind::MultiStep { milestones, gamma } => {
                let count = milestones.iter().filter(|&&m| m == le).count();
                if count == 0 {
                    lr
                } else {
                    lr * gamma.powf(count as f64)
                }
            }
            TorchKind::Exponential { gamma } => {
                if self.is_initial {
                    lr
                } else {
                    lr * gamma
                }
            }
            TorchKind::Cosine { t_max, eta_min } => {
                let (t, pi, e) = (*t_max as f64, std::f64::consts::PI, *eta_min);
                if self.is_initial {
                    lr
                } else if self.step_count == 1 && le > 0 {
                    e + (base - e) * (1.0 + ((le as f64) * pi / t).cos()) / 2.0
                } else if (le - 1 - t_max).rem_euclid(2 * t_max) == 0 {
                    lr + (base - e) * (1.0 - (pi / t).cos()) / 2.0
                } else {
                    (1.0 + (pi * le as f64 / t).cos()) / (1.0 + (pi * (le - 1) as f64 / t).cos()) * (lr - e)
                        + e
                }
            }
            TorchKind::WarmRestarts {
                eta_min, t_i, t_cur, ..
            } => {
                let e = *eta_min;
                e + (base - e) * (1.0 + (std::f64::consts::PI * *t_cur as f64 / *t_i as f64).cos()) / 2.0
            }
            TorchKind::Linear { start, end, total } => {
                if le == 0 {
                    lr * start
                } else if self.is_initial || le > *total {
                    lr
                } else {
                    lr * (1.0 + (end - start) / (*total as f64 * start + (le - 1) as f64 * (end - start)))
                }
            }
            TorchKind::OneCycle {
                total_steps,
                phases,
                cos,
                cycle_momentum,
            } => {
                if le > *total_steps {
                    return Err(err(
                        &self.name,
                        &format!(
                            "torch raises ValueError: tried to step {le} times with total_steps = {total_steps}"
                        ),
                    ));
                }
                let anneal = |s: f64, e: f64, pct: f64| {
                    if *cos {
                        let cos_out = (std::f64::consts::PI * pct).cos() + 1.0;
                        e + (s - e) / 2.0 * cos_out
                    } else {
                        (e - s) * pct + s
                    }
                };
                let step_num = le as f64;
                let mut start_step = 0.0;
                let mut out = (lr, None);
                for (i, p) in phases.iter().enumerate() {
                    if step_num <= p.end_step || i == phases.len() - 1 {
                        let pct = (step_num - start_step) / (p.end_step - start_step);
                        let new_lr = anneal(group.read(p.start_lr), group.read(p.end_lr), pct);
                        let m = cycle_momentum
                            .then(|| anneal(group.read(p.start_momentum), group.read(p.end_momentum), pct));
                        out = (new_lr, m);
                        break;
                    }
                    start_step = p.end_step;
                }
                if let Some(m) = out.1 {
                    group.momentum = Some(m);
                }
                out.0
            }
            TorchKind::Constant { factor, total } => {
                if le == 0 {
                    lr * factor
                } else if le != *total {
                    lr
                } else if *factor == 0.0 {
                    return Err(err(
                        &self.name,
                        &format!("torch raises ZeroDivisionError at total_iters = {total} with factor = 0 (1.0 / factor)"),
                    ));
                } else {
                    lr * (1.0 / factor)
                }
            }
            TorchKind::Polynomial { total, power } => {
                if self.is_initial || le > *total {
                    lr
                } else {
                    // Python: `int / int` is the correctly rounded quotient, as is f64's of
                    // two integers below 2⁵³.
                    let t = *total as f64;
                    let ratio = (1.0 - le as f64 / t) / (1.0 - (le - 1) as f64 / t);
                    if ratio == 0.0 && *power < 0.0 {
                        return Err(err(
                            &self.name,
                            &format!("torch raises ZeroDivisionError at total_iters = {total} with power = {power} < 0 (0.0 ** power)"),
                        ));
                    }
                    lr * ratio.powf(*power)
                }
            }
            TorchKind::Cyclic(c) => {
                let q = le as f64 / c.total_size;
                let cycle = (1.0 + q).floor();
                let x = 1.0 + q - cycle;
                let scale_factor = if x <= c.step_ratio {
                    x / c.step_ratio
                } else {
                    (x - 1.0) / (c.step_ratio - 1.0)
                };
                let scale = match c.mode {
                    CyclicMode::Triangular => 1.0,
                    CyclicMode::Triangular2 => 1.0 / 2.0f64.powf(cycle - 1.0),
                    CyclicMode::ExpRange(gamma) => gamma.powf(le as f64),
                };
                if let Some((base_m, max_m)) = c.momentum {
                    group.momentum = Some(max_m - (max_m - base_m) * scale_factor * scale);
                }
                base + (c.max_lr - base) * scale_factor * scale
            }
            TorchKind::Sequential { .. } | TorchKind::Chained { .. } => {
                return Err(err(
                    &self.name,
                    &format!("{} has no get_lr (torch raises NotImplementedError)", self.name),
                ))
            }
        })
    }

    /// `_get_closed_form_lr()` where torch defines one (used by `_update_lr(epoch)`).
    fn closed_form(&self) -> Option<f64> {
        let le = self.last_epoch;
        let base = self.base_lr;
        match &self.kind {
            TorchKind::Step { step_size, gamma } => Some(base * gamma.powf(le.div_euclid(*step_size) as f64)),
            TorchKind::MultiStep { milestones, gamma } => {
                Some(base * gamma.powf(bisect_right(milestones, le) as f64))
            }
            TorchKind::Exponential { gamma } => Some(base * gamma.powf(le as f64)),
            TorchKind::Cosine { t_max, eta_min } => Some(
                eta_min
                    + (base - eta_min) * (1.0 + (std::f64::consts::PI * le as f64 / *t_max as f64).cos())
                        / 2.0,
            ),
            TorchKind::Linear { start, end, total } => {
                Some(base * (start + (end - start) * (*total).min(le) as f64 / *total as f64))
            }
            TorchKind::Constant { factor, total } => {
                // `(last_epoch >= total_iters) * (1 - factor)`: a bool times a float.
                let on = if le >= *total { 1.0 - factor } else { 0.0 };
                Some(base * (factor + on))
            }
            TorchKind::Polynomial { total, power } => {
                Some(base * (1.0 - (*total).min(le) as f64 / *total as f64).powf(*power))
            }
            TorchKind::WarmRestarts { .. }
            | TorchKind::OneCycle { .. }
            | TorchKind::Sequential { .. }
            | TorchKind::Cyclic(_)
            | TorchKind::Chained { .. } => None,
        }
    }
}

// ------------------------------------------------------------------------------- optax

/// The Keras schedule names this module evaluates.
pub const KERAS_SCHEDULES: &str = "ExponentialDecay, PiecewiseConstantDecay, InverseTimeDecay, \
     PolynomialDecay, CosineDecay, CosineDecayRestarts";

/// The class names of [`KERAS_SCHEDULES`].
const KERAS_SCHEDULE_CLASSES: [&str; 6] = [
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "InverseTimeDecay",
    "PolynomialDecay",
    "CosineDecay",
    "CosineDecayRestarts",
];

/// The module Keras serializes its built-in schedules under.
const KERAS_SCHEDULE_MODULE: &str = "keras.optimizers.schedules";

/// A Keras `learning_rate` that is a serialized Keras object (`serialize_keras_object`, what
/// `optimizer.get_config()` writes for a schedule or a callable):
/// `{"module", "class_name", "config", "registered_name"}`.
struct SerializedKeras<'a> {
    class_name: &'a str,
    module: Option<&'a str>,
    registered_name: Option<&'a Value>,
    config: Option<&'a Value>,
}

impl<'a> SerializedKeras<'a> {
    fn of(header: &'a super::format::Header) -> Option<Self> {
        if header.preset != "keras" {
            return None;
        }
        let m = header.hyperparameters.get("learning_rate")?.as_object()?;
        Some(SerializedKeras {
            class_name: m.get("class_name")?.as_str()?,
            module: m.get("module").and_then(Value::as_str),
            registered_name: m.get("registered_name").filter(|v| !v.is_null()),
            config: m.get("config"),
        })
    }

    /// A built-in schedule this module models: its declaration.
    fn modelled(&self) -> Option<ScheduleSpec> {
        let builtin =
            self.module.is_none_or(|m| m == KERAS_SCHEDULE_MODULE) && self.registered_name.is_none();
        if !builtin || !KERAS_SCHEDULE_CLASSES.contains(&self.class_name) {
            return None;
        }
        Some(ScheduleSpec {
            name: self.class_name.to_string(),
            args: self.config?.as_object()?.clone(),
            interval: None,
        })
    }

    fn describe(&self) -> String {
        let mut s = format!("the Keras object `{}`", self.class_name);
        let mut origin = Vec::new();
        if let Some(m) = self.module {
            origin.push(format!("module {m:?}"));
        }
        if let Some(r) = self.registered_name {
            origin.push(format!("registered_name {r}"));
        }
        if !origin.is_empty() {
            s.push_str(&format!(" ({})", origin.join(", ")));
        }
        s
    }
}

/// Keras `optimizer.get_config()` writes a schedule as the value of `learning_rate`:
/// `{"module": "keras.optimizers.schedules", "class_name": "CosineDecay", "config": {…},
/// "registered_name": null}`. For a modelled class ([`KERAS_SCHEDULES`]) this declares the
/// schedule exactly as a header `schedule` `{"name": class_name, "args": config}` does: it is
/// written into `header.schedule` (a `schedule` the header also declares must be the same
/// schedule: the same class, and the same values once defaults are filled in). Any other
/// serialized object (a custom or registered schedule, a callable) is left as it is: it is not
/// modelled, and the step lines must give the learning rate
/// ([`keras_learning_rate_unmodelled`]). Called by the trace readers on every header.
///
/// # Errors
/// A message naming both schedules when they differ, or the bad argument of either.
pub fn keras_schedule_from_learning_rate(header: &mut super::format::Header) -> Result<(), String> {
    let Some(spec) = SerializedKeras::of(header).and_then(|s| s.modelled()) else {
        return Ok(());
    };
    match &header.schedule {
        None => {
            header.schedule = Some(spec);
            Ok(())
        }
        Some(declared) => {
            let show = |s: &ScheduleSpec| format!("{}({})", s.name, Value::Object(s.args.clone()));
            let same = declared.name == spec.name && declared.interval.is_none() && {
                let a = KerasSched::parse(&spec.name, &spec.args).map_err(|e| e.to_string())?;
                let b = KerasSched::parse(&declared.name, &declared.args).map_err(|e| e.to_string())?;
                a == b
            };
            if same {
                Ok(())
            } else {
                Err(format!(
                    "`learning_rate` is the schedule {} but the header's `schedule` declares {}: \
                     they must be the same schedule (or declare it once)",
                    show(&spec),
                    show(declared)
                ))
            }
        }
    }
}

/// The header as written, for a converter: the `schedule` [`keras_schedule_from_learning_rate`]
/// derived from `learning_rate` removed again (reading the result derives it again), so that
/// a JSON Lines ↔ binary conversion gives back the producer's header value for value.
pub fn keras_header_as_written(header: &super::format::Header) -> super::format::Header {
    let mut h = header.clone();
    let derived = SerializedKeras::of(header).and_then(|s| s.modelled());
    if derived.is_some() && derived == h.schedule {
        h.schedule = None;
    }
    h
}

/// When a Keras header's `learning_rate` is a serialized object that is not a modelled
/// schedule ([`keras_schedule_from_learning_rate`]) and no `schedule` is declared: what it is,
/// for the message that asks the step lines for the learning rate. `None` otherwise.
pub fn keras_learning_rate_unmodelled(header: &super::format::Header) -> Option<String> {
    if header.schedule.is_some() {
        return None;
    }
    let s = SerializedKeras::of(header)?;
    Some(format!(
        "{}, a learning-rate schedule the oracle does not model (modelled: {KERAS_SCHEDULES} of \
         {KERAS_SCHEDULE_MODULE})",
        s.describe()
    ))
}

/// A `keras.optimizers.schedules` schedule (see the module doc for the dtypes).
#[derive(Debug, Clone, PartialEq)]
enum KerasSched {
    Exponential {
        init: f64,
        steps: f64,
        rate: f64,
        staircase: bool,
    },
    InverseTime {
        init: f64,
        steps: f64,
        rate: f64,
        staircase: bool,
    },
    Piecewise {
        boundaries: Vec<i64>,
        values: Vec<f64>,
    },
    Polynomial {
        init: f64,
        steps: f64,
        end: f64,
        power: f64,
        cycle: bool,
    },
    Cosine {
        init: f64,
        steps: f64,
        alpha: f64,
        /// `(warmup_target, warmup_steps)`.
        warmup: Option<(f64, f64)>,
    },
    /// SGDR (Loshchilov & Hutter): cosine decay over periods of `first`, `first·t_mul`, …
    /// steps, each restart's peak multiplied by `m_mul`.
    Restarts {
        init: f64,
        first: f64,
        t_mul: f64,
        m_mul: f64,
        alpha: f64,
    },
}

/// `ops.floor(x)` / `ops.ceil(x)` on a float64 `x`: cast to float32, then rounded (exact).
fn keras_f32(x: f64) -> f64 {
    f64::from(x as f32)
}

impl KerasSched {
    fn parse(name: &str, args: &Map<String, Value>) -> Result<Self, ScheduleError> {
        let mut a = Args::new(name, args);
        let _ = a.get("name");
        let positive_steps = |a: &mut Args, arg: &'static str| -> Result<f64, ScheduleError> {
            let v = a.req_f64(arg)?;
            if v <= 0.0 {
                return Err(err(
                    name,
                    &format!("argument `{arg}` must be > 0 (Keras raises ValueError)"),
                ));
            }
            Ok(v)
        };
        let s = match name {
            "ExponentialDecay" | "InverseTimeDecay" => {
                let init = a.req_f64("initial_learning_rate")?;
                let steps = positive_steps(&mut a, "decay_steps")?;
                let rate = a.req_f64("decay_rate")?;
                let staircase = a.bool("staircase", false)?;
                if name == "ExponentialDecay" {
                    KerasSched::Exponential {
                        init,
                        steps,
                        rate,
                        staircase,
                    }
                } else {
                    KerasSched::InverseTime {
                        init,
                        steps,
                        rate,
                        staircase,
                    }
                }
            }
            "PiecewiseConstantDecay" => {
                let boundaries = a.ints("boundaries")?;
                let v = a
                    .get("values")
                    .ok_or_else(|| err(name, "argument `values` is required"))?;
                let values = v
                    .as_array()
                    .and_then(|xs| xs.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>())
                    .ok_or_else(|| a.bad("values", "an array of numbers", v))?;
                if boundaries.is_empty() || values.len() != boundaries.len() + 1 {
                    return Err(err(
                        name,
                        "`values` must have one more element than `boundaries` (Keras raises ValueError)",
                    ));
                }
                KerasSched::Piecewise { boundaries, values }
            }
            "PolynomialDecay" => KerasSched::Polynomial {
                init: a.req_f64("initial_learning_rate")?,
                steps: positive_steps(&mut a, "decay_steps")?,
                end: a.f64("end_learning_rate", 1e-4)?,
                power: a.f64("power", 1.0)?,
                cycle: a.bool("cycle", false)?,
            },
            "CosineDecay" => {
                let init = a.req_f64("initial_learning_rate")?;
                let steps = positive_steps(&mut a, "decay_steps")?;
                let alpha = a.f64("alpha", 0.0)?;
                let target = a.opt_f64("warmup_target")?;
                let warmup_steps = a.f64("warmup_steps", 0.0)?;
                KerasSched::Cosine {
                    init,
                    steps,
                    alpha,
                    warmup: target.map(|t| (t, warmup_steps)),
                }
            }
            "CosineDecayRestarts" => KerasSched::Restarts {
                init: a.req_f64("initial_learning_rate")?,
                first: positive_steps(&mut a, "first_decay_steps")?,
                t_mul: a.f64("t_mul", 2.0)?,
                m_mul: a.f64("m_mul", 1.0)?,
                alpha: a.f64("alpha", 0.0)?,
            },
            other => {
                return Err(err(
                    other,
                    &format!("unknown Keras schedule; modelled: {KERAS_SCHEDULES} (declare per-step `hyperparameters` on the step lines for any other)"),
                ))
            }
        };
        a.finish()?;
        Ok(s)
    }

    /// `CosineDecay._decay_function(step, decay_steps, decay_from_lr)`: the float32
    /// `decayed`, as f64 (exact). Eager (no warm-up): one XLA computation per op, `cos` is
    /// glibc's `cosf`. Inside the warm-up's `lax.cond` (`compiled`) the branch is one compiled
    /// fusion, and what it computes was measured against the recorded values: `cos` correctly
    /// rounded (`f32(cos(f64(x)))`, not glibc's `cosf`) and `(1 − α)·c + α` contracted into one
    /// FMA.
    fn cosine_decayed(step: f64, steps: f64, alpha: f64, compiled: bool) -> f64 {
        let completed_fraction = step / steps;
        let x = (std::f64::consts::PI * completed_fraction) as f32;
        let (one_minus_alpha, alpha) = ((1.0 - alpha) as f32, alpha as f32);
        if compiled {
            let cosine_decayed = 0.5f32 * (1.0f32 + f64::from(x).cos() as f32);
            f64::from(cosine_decayed.mul_add(one_minus_alpha, alpha))
        } else {
            let cosine_decayed = 0.5f32 * (1.0f32 + x.cos());
            f64::from(one_minus_alpha * cosine_decayed + alpha)
        }
    }

    /// The value at iteration `iterations` (= t − 1 for optimizer step t).
    fn eval(&self, iterations: u64) -> f64 {
        let step = iterations as f64;
        match self {
            KerasSched::Exponential {
                init,
                steps,
                rate,
                staircase,
            } => {
                let mut p = step / steps;
                if *staircase {
                    p = keras_f32(p).floor();
                }
                init * rate.powf(p)
            }
            KerasSched::InverseTime {
                init,
                steps,
                rate,
                staircase,
            } => {
                let mut p = step / steps;
                if *staircase {
                    p = keras_f32(p).floor();
                }
                init / (1.0 + rate * p)
            }
            KerasSched::Piecewise { boundaries, values } => {
                let s = i64::try_from(iterations).unwrap_or(i64::MAX);
                let mut result = 0.0;
                let indicator = |b: bool| if b { 1.0 } else { 0.0 };
                result += indicator(s <= boundaries[0]) * values[0];
                result += indicator(s > boundaries[boundaries.len() - 1]) * values[values.len() - 1];
                for (i, w) in boundaries.windows(2).enumerate() {
                    result += indicator(s > w[0] && s <= w[1]) * values[i + 1];
                }
                result
            }
            KerasSched::Polynomial {
                init,
                steps,
                end,
                power,
                cycle,
            } => {
                let (mut s, mut d) = (step, *steps);
                if *cycle {
                    // where(step == 0, 1.0, ceil(step / decay_steps)): float32.
                    let multiplier = if s == 0.0 {
                        1.0
                    } else {
                        keras_f32(s / steps).ceil()
                    };
                    d *= multiplier;
                } else {
                    s = s.min(d);
                }
                let p = s / d;
                (init - end) * (1.0 - p).powf(*power) + end
            }
            KerasSched::Cosine {
                init,
                steps,
                alpha,
                warmup,
            } => match warmup {
                None => {
                    // The weak float64 initial_learning_rate × the float32 decayed: float32.
                    let decayed = Self::cosine_decayed(step.min(*steps), *steps, *alpha, false);
                    f64::from((*init as f32) * decayed as f32)
                }
                Some((target, warmup_steps)) => {
                    let s = step.min(steps + warmup_steps);
                    // Both branches run compiled inside `lax.cond` (see `cosine_decayed`): the
                    // warm-up's `delta * fraction + initial` is one FMA.
                    if s < *warmup_steps {
                        let completed_fraction = s / warmup_steps;
                        (target - init).mul_add(completed_fraction, *init)
                    } else {
                        target * Self::cosine_decayed(s - warmup_steps, *steps, *alpha, true)
                    }
                }
            },
            KerasSched::Restarts {
                init,
                first,
                t_mul,
                m_mul,
                alpha,
            } => {
                // Everything float64 (the weak initial_learning_rate's dtype) except
                // `ops.floor` and `ops.cos`, which compute in float32.
                let completed_fraction = step / first;
                // `ops.cond(t_mul == 1, …)`: the restart index and the fraction of its period.
                let (i_restart, fraction) = if *t_mul == 1.0 {
                    let i_restart = keras_f32(completed_fraction).floor();
                    (i_restart, completed_fraction - i_restart)
                } else {
                    let ratio = (1.0 - completed_fraction * (1.0 - t_mul)).ln() / t_mul.ln();
                    let i_restart = keras_f32(ratio).floor();
                    let period = t_mul.powf(i_restart);
                    let sum_r = (1.0 - period) / (1.0 - t_mul);
                    (i_restart, (completed_fraction - sum_r) / period)
                };
                let m_fac = m_mul.powf(i_restart);
                let one_plus_cos = 1.0f32 + ((std::f64::consts::PI * fraction) as f32).cos();
                let cosine_decayed = 0.5 * m_fac * f64::from(one_plus_cos);
                init * ((1.0 - alpha) * cosine_decayed + alpha)
            }
        }
    }
}

/// The dtype JAX gives a schedule's value, ordered as `jnp.where` promotes two of them
/// (x64 enabled): a weak float64 meeting a float32 array becomes float32, a float32 meeting
/// a strong float64 becomes float64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Jdt {
    /// A Python float or a weakly typed float64 array: takes the other operand's dtype.
    Weak,
    /// A (strong) float32 array.
    F32,
    /// A strong float64 array (`piecewise_interpolate_schedule`: `jnp.stack` of its values).
    F64,
}

#[derive(Debug, Clone)]
enum OptaxSched {
    Constant(f64),
    Exponential {
        init: f64,
        steps: i64,
        rate: f64,
        begin: i64,
        staircase: bool,
        end: Option<f64>,
    },
    Cosine {
        init: f64,
        decay_steps: f64,
        alpha: f64,
        exponent: f64,
    },
    Polynomial {
        init: f64,
        end: f64,
        power: Power,
        steps: i64,
        begin: i64,
    },
    Piecewise {
        init: f64,
        pairs: Vec<(i64, f64)>,
    },
    Join {
        parts: Vec<OptaxSched>,
        boundaries: Vec<i64>,
    },
    /// `piecewise_interpolate_schedule` (and the one-cycle schedules built on it).
    Interpolate {
        cosine: bool,
        /// `0` then the sorted boundaries.
        bounds: Vec<i64>,
        /// The cumulative products `init, init·s₁, init·s₁·s₂, …` (one more than intervals).
        values: Vec<f64>,
    },
}

#[derive(Debug, Clone, Copy)]
enum Power {
    /// A Python int: `jnp.power` emits `integer_pow` (binary powering, exact for 1).
    Int(u32),
    Float(f32),
}

fn f32r(x: f64) -> f64 {
    f64::from(x as f32)
}

impl OptaxSched {
    /// `linear_schedule(init, end, steps)`: `polynomial_schedule` with power 1, which is
    /// `constant_schedule(init)` for `steps ≤ 0` (optax warns and does so).
    fn linear(init: f64, end: f64, steps: i64) -> Self {
        if steps <= 0 {
            OptaxSched::Constant(init)
        } else {
            OptaxSched::Polynomial {
                init,
                end,
                power: Power::Int(1),
                steps,
                begin: 0,
            }
        }
    }

    /// `exponential_decay(init, transition_steps, decay_rate, transition_begin, staircase,
    /// end_value)` from `a`: constant for `transition_steps ≤ 0` or `decay_rate = 0`, a
    /// negative `transition_begin` taken as 0 (optax warns and does both).
    fn exponential(init: f64, a: &mut Args) -> Result<Self, ScheduleError> {
        let steps = a.req_int("transition_steps")?;
        let rate = a.req_f64("decay_rate")?;
        let begin = a.int("transition_begin", 0)?.max(0);
        let staircase = a.bool("staircase", false)?;
        let end = a.opt_f64("end_value")?;
        Ok(if steps <= 0 || rate == 0.0 {
            OptaxSched::Constant(init)
        } else {
            OptaxSched::Exponential {
                init,
                steps,
                rate,
                begin,
                staircase,
                end,
            }
        })
    }

    /// `piecewise_interpolate_schedule(type, init, {boundary: scale})` with the pairs sorted
    /// by boundary: `bounds = [0, b₁, …]`, `values = cumprod([init, s₁, …])`. `jnp.cumprod`
    /// multiplies left to right for up to 17 values (measured on random inputs, 100 per
    /// length); from 18 on XLA reorders the products, so a schedule with more than 16
    /// boundaries can differ from optax in the last bit of f64 (within tolerance). `None` if a
    /// value is not finite: optax's `indicator.dot(…)` then multiplies it by 0 in every
    /// interval, NaN at every step.
    fn interpolate(cosine: bool, init: f64, pairs: Vec<(i64, f64)>) -> Option<Self> {
        let mut bounds = vec![0];
        let mut values = vec![init];
        for (b, s) in pairs {
            bounds.push(b);
            let last = values[values.len() - 1];
            values.push(last * s);
        }
        values
            .iter()
            .all(|v| v.is_finite())
            .then_some(OptaxSched::Interpolate {
                cosine,
                bounds,
                values,
            })
    }

    fn parse(name: &str, args: &Map<String, Value>, depth: usize) -> Result<Self, ScheduleError> {
        let mut a = Args::new(name, args);
        let s = match name {
            "constant_schedule" => OptaxSched::Constant(a.req_f64("value")?),
            "exponential_decay" => {
                let init = a.req_f64("init_value")?;
                OptaxSched::exponential(init, &mut a)?
            }
            "warmup_exponential_decay_schedule" => {
                // join_schedules([linear_schedule(init, peak, warmup),
                //                 exponential_decay(peak, …)], [warmup])
                let init = a.req_f64("init_value")?;
                let peak = a.req_f64("peak_value")?;
                let warmup = a.req_int("warmup_steps")?;
                OptaxSched::Join {
                    parts: vec![OptaxSched::linear(init, peak, warmup), OptaxSched::exponential(peak, &mut a)?],
                    boundaries: vec![warmup],
                }
            }
            "warmup_constant_schedule" => {
                // linear_schedule(init, peak, warmup): the peak is held after the warm-up.
                let init = a.req_f64("init_value")?;
                let peak = a.req_f64("peak_value")?;
                OptaxSched::linear(init, peak, a.req_int("warmup_steps")?)
            }
            "sgdr_schedule" => {
                // join_schedules of one warmup_cosine_decay_schedule per cycle, each starting
                // where the previous one's `decay_steps` end.
                let cycles = a
                    .get("cosine_kwargs")
                    .and_then(Value::as_array)
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| {
                        err(name, "argument `cosine_kwargs` must be a non-empty list of warmup_cosine_decay_schedule arguments")
                    })?;
                let (mut parts, mut boundaries, mut step) = (Vec::new(), Vec::new(), 0i64);
                for (i, kw) in cycles.iter().enumerate() {
                    let kw = kw.as_object().ok_or_else(|| {
                        err(name, &format!("cosine_kwargs[{i}] must be an object of warmup_cosine_decay_schedule arguments"))
                    })?;
                    let cycle = OptaxSched::parse("warmup_cosine_decay_schedule", kw, depth + 1)
                        .map_err(|e| err(name, &format!("cosine_kwargs[{i}]: {}", e.message)))?;
                    // Parsed above: `decay_steps` is an integer.
                    step += kw.get("decay_steps").and_then(Value::as_i64).unwrap_or(0);
                    parts.push(cycle);
                    boundaries.push(step);
                }
                boundaries.pop();
                OptaxSched::Join { parts, boundaries }
            }
            "piecewise_interpolate_schedule" => {
                let cosine = match a.get("interpolate_type") {
                    Some(Value::String(t)) if t == "linear" => false,
                    Some(Value::String(t)) if t == "cosine" => true,
                    Some(v) => return Err(a.bad("interpolate_type", "\"linear\" or \"cosine\"", v)),
                    None => return Err(err(name, "argument `interpolate_type` is required")),
                };
                let init = a.req_f64("init_value")?;
                let pairs = a.boundaries_and_scales()?;
                OptaxSched::interpolate(cosine, init, pairs).ok_or_else(|| {
                    err(name, "the products of `init_value` and the scales in `boundaries_and_scales` overflow (optax's value would be NaN at every step)")
                })?
            }
            "linear_onecycle_schedule" | "cosine_onecycle_schedule" => {
                let steps = a.req_int("transition_steps")?;
                if steps <= 0 {
                    return Err(err(name, "argument `transition_steps` must be ≥ 1 (optax raises ValueError)"));
                }
                let peak = a.req_f64("peak_value")?;
                let pct_start = a.f64("pct_start", 0.3)?;
                let pct_final = if name == "linear_onecycle_schedule" {
                    Some(a.f64("pct_final", 0.85)?)
                } else {
                    None
                };
                let div = a.f64("div_factor", 25.0)?;
                let final_div = a.f64("final_div_factor", 1e4)?;
                if div == 0.0 || final_div == 0.0 {
                    return Err(err(name, "`div_factor` and `final_div_factor` must be non-zero"));
                }
                // Python builds a dict {int(pct_start·T): …, …}: a later equal key overwrites
                // the value (`int` truncates toward zero, as `as i64` does).
                let mut pairs = std::collections::BTreeMap::new();
                pairs.insert((pct_start * steps as f64) as i64, div);
                match pct_final {
                    Some(pf) => {
                        pairs.insert((pf * steps as f64) as i64, 1.0 / div);
                        pairs.insert(steps, 1.0 / final_div);
                    }
                    None => {
                        pairs.insert(steps, 1.0 / (div * final_div));
                    }
                }
                OptaxSched::interpolate(pct_final.is_none(), peak / div, pairs.into_iter().collect()).ok_or_else(|| {
                    err(name, "`peak_value / div_factor` and its scales overflow (optax's value would be NaN at every step)")
                })?
            }
            "cosine_decay_schedule" => {
                let init = a.req_f64("init_value")?;
                let decay_steps = a.req_int("decay_steps")?;
                if decay_steps <= 0 {
                    return Err(err(name, "argument `decay_steps` must be ≥ 1 (optax raises ValueError)"));
                }
                OptaxSched::Cosine {
                    init,
                    decay_steps: decay_steps as f64,
                    alpha: a.f64("alpha", 0.0)?,
                    exponent: a.f64("exponent", 1.0)?,
                }
            }
            "linear_schedule" | "polynomial_schedule" => {
                let init = a.req_f64("init_value")?;
                let end = a.req_f64("end_value")?;
                let power = if name == "linear_schedule" {
                    Power::Int(1)
                } else {
                    match a.get("power") {
                        Some(Value::Number(n)) if n.is_u64() && n.as_u64().is_some_and(|k| k < 64) => {
                            Power::Int(n.as_u64().unwrap_or(1) as u32)
                        }
                        Some(v) => match v.as_f64() {
                            Some(p) if p.is_finite() => Power::Float(p as f32),
                            _ => return Err(a.bad("power", "a finite number", v)),
                        },
                        None => return Err(err(name, "argument `power` is required")),
                    }
                };
                let steps = a.req_int("transition_steps")?;
                let begin = a.int("transition_begin", 0)?.max(0);
                if steps <= 0 {
                    OptaxSched::Constant(init)
                } else {
                    OptaxSched::Polynomial {
                        init,
                        end,
                        power,
                        steps,
                        begin,
                    }
                }
            }
            "warmup_cosine_decay_schedule" => {
                let init = a.req_f64("init_value")?;
                let peak = a.req_f64("peak_value")?;
                let warmup = a.req_int("warmup_steps")?;
                let decay_steps = a.req_int("decay_steps")?;
                let end = a.f64("end_value", 0.0)?;
                let exponent = a.f64("exponent", 1.0)?;
                let alpha = if peak == 0.0 { 0.0 } else { end / peak };
                if decay_steps - warmup <= 0 {
                    return Err(err(
                        name,
                        "`decay_steps` must exceed `warmup_steps` (optax raises ValueError)",
                    ));
                }
                OptaxSched::Join {
                    parts: vec![
                        OptaxSched::linear(init, peak, warmup),
                        OptaxSched::Cosine {
                            init: peak,
                            decay_steps: (decay_steps - warmup) as f64,
                            alpha,
                            exponent,
                        },
                    ],
                    boundaries: vec![warmup],
                }
            }
            "piecewise_constant_schedule" => {
                let init = a.req_f64("init_value")?;
                let pairs = a.boundaries_and_scales()?;
                OptaxSched::Piecewise { init, pairs }
            }
            "join_schedules" => {
                if depth > 4 {
                    return Err(err(name, "schedules nested deeper than 4 are not modelled"));
                }
                let subs = a
                    .get("schedules")
                    .and_then(Value::as_array)
                    .ok_or_else(|| err(name, "argument `schedules` must be a list of {\"name\", \"args\"}"))?;
                let boundaries = a.ints("boundaries")?;
                if subs.is_empty() || boundaries.len() + 1 != subs.len() {
                    return Err(err(name, "needs exactly one boundary fewer than schedules"));
                }
                let mut parts = Vec::new();
                for (i, s) in subs.iter().enumerate() {
                    let spec: ScheduleSpec = serde_json::from_value(s.clone())
                        .map_err(|e| err(name, &format!("schedules[{i}]: {e}")))?;
                    parts.push(OptaxSched::parse(&spec.name, &spec.args, depth + 1)?);
                }
                OptaxSched::Join { parts, boundaries }
            }
            other => {
                return Err(err(
                    other,
                    &format!("unknown optax schedule; modelled: {OPTAX_SCHEDULES} (declare per-step `hyperparameters` on the step lines for any other)"),
                ))
            }
        };
        a.finish()?;
        Ok(s)
    }

    /// The value at int32 `count`, with its JAX dtype (an F32 value is exact in f32).
    fn eval(&self, count: i64) -> (f64, Jdt) {
        let count = count.min(i64::from(i32::MAX));
        match self {
            OptaxSched::Constant(v) => (*v, Jdt::Weak),
            OptaxSched::Exponential {
                init,
                steps,
                rate,
                begin,
                staircase,
                end,
            } => {
                let dc = count - begin;
                // int32 / Python int is float32 in JAX.
                let mut p = (dc as f32) / (*steps as f32);
                if *staircase {
                    p = p.floor();
                }
                let mut v = if dc <= 0 {
                    *init as f32
                } else {
                    (*init as f32) * (*rate as f32).powf(p)
                };
                if let Some(e) = end {
                    let e = *e as f32;
                    v = if *rate < 1.0 { v.max(e) } else { v.min(e) };
                }
                (f64::from(v), Jdt::F32)
            }
            OptaxSched::Cosine {
                init,
                decay_steps,
                alpha,
                exponent,
            } => {
                let c = (count as f64).min(*decay_steps);
                let cosine = 0.5 * (1.0 + (std::f64::consts::PI * c / decay_steps).cos());
                let decayed = (1.0 - alpha) * cosine.powf(*exponent) + alpha;
                (init * decayed, Jdt::Weak)
            }
            OptaxSched::Polynomial {
                init,
                end,
                power,
                steps,
                begin,
            } => {
                let c = (count - begin).clamp(0, *steps);
                let frac = 1.0f32 - (c as f32) / (*steps as f32);
                let fp = match power {
                    Power::Int(k) => {
                        // lax.integer_pow: binary powering in f32.
                        let (mut base, mut n, mut acc) = (frac, *k, 1.0f32);
                        let mut first = true;
                        while n > 0 {
                            if n & 1 == 1 {
                                acc = if first { base } else { acc * base };
                                first = false;
                            }
                            n >>= 1;
                            if n > 0 {
                                base *= base;
                            }
                        }
                        acc
                    }
                    Power::Float(p) => frac.powf(*p),
                };
                let v = ((init - end) as f32) * fp + (*end as f32);
                (f64::from(v), Jdt::F32)
            }
            OptaxSched::Piecewise { init, pairs } => {
                if pairs.is_empty() {
                    return (*init, Jdt::Weak);
                }
                let mut v = *init;
                for (threshold, scale) in pairs {
                    let ind = if count < *threshold { 1.0 } else { 0.0 };
                    v = v * ind + (1.0 - ind) * scale * v;
                }
                (v, Jdt::Weak)
            }
            OptaxSched::Join { parts, boundaries } => {
                // `output = jnp.where(step < boundary, output, schedule(step - boundary))`,
                // one boundary after the other: each `where` converts both branches to the
                // promoted dtype, so a value that passes through a float32 stage keeps its
                // float32 rounding even if a later strong float64 branch promotes it back.
                let (mut out, mut dt) = parts[0].eval(count);
                for (b, s) in boundaries.iter().zip(&parts[1..]) {
                    let (v, d) = s.eval(count - b);
                    dt = dt.max(d);
                    if count >= *b {
                        out = v;
                    }
                    if dt == Jdt::F32 {
                        out = f32r(out);
                    }
                }
                (out, dt)
            }
            OptaxSched::Interpolate {
                cosine,
                bounds,
                values,
            } => {
                // Eager jnp on arrays, x64, one rounding per operation (measured,
                // `scripts/golden_schedules.py`): `jnp.stack` of Python ints is a weak int
                // array, so `count - bounds` stays int32 and its true division by the interval
                // sizes is float32, as in `exponential_decay`; the values (`jnp.cumprod`) are a
                // strong float64 array, so the linear interpolation is float64 arithmetic on
                // the float32 `pct`. The cosine one computes `jnp.pi * pct`, `cos` (glibc's
                // `cosf`) and `+ 1` in float32, the rest in float64.
                // `indicator.dot(interp) + (bounds[-1] <= count) * values[-1]`: with finite
                // values (checked at parse) every term but the one of the interval holding
                // the count is ±0, so that interval's value alone is the sum. The boundaries
                // after the leading 0 are sorted: a binary search finds it (a header with
                // many boundaries costs log time per step).
                let n = bounds.len() - 1;
                let i = bounds[1..].partition_point(|&b| b <= count);
                if i == n {
                    return (values[n], Jdt::F64);
                }
                // The count is ≥ 0 = bounds[0], so interval i holds it.
                let size = (bounds[i + 1] - bounds[i]).max(1);
                let pct = ((count - bounds[i]) as f32) / (size as f32);
                let (start, end) = (values[i], values[i + 1]);
                let v = if *cosine {
                    let c = (std::f32::consts::PI * pct).cos() + 1.0;
                    end + (start - end) / 2.0 * f64::from(c)
                } else {
                    (end - start) * f64::from(pct) + start
                };
                (v, Jdt::F64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> ScheduleSpec {
        serde_json::from_str(json).unwrap()
    }

    /// The recursive cosine differs from the closed form in the last bits, and both stay close.
    #[test]
    fn torch_cosine_is_recursive_not_closed_form() {
        let s = spec(r#"{"name": "CosineAnnealingLR", "args": {"T_max": 20, "eta_min": 0.001}}"#);
        let v = values("pytorch", &s, 0.1, 41).unwrap();
        assert_eq!(v[0], 0.1);
        let closed = |t: f64| 0.001 + (0.1 - 0.001) * (1.0 + (std::f64::consts::PI * t / 20.0).cos()) / 2.0;
        let mut differ = 0;
        for (k, &x) in v.iter().enumerate() {
            let c = closed(k as f64);
            // Same value to rounding: 41 recursive steps of ≤ 8 roundings each.
            assert!(
                (x - c).abs() <= 41.0 * 8.0 * f64::EPSILON * 0.1,
                "step {k}: {x} vs {c}"
            );
            differ += usize::from(x != c);
        }
        assert!(
            differ > 0,
            "the recursion must not be the closed form bit for bit"
        );
        assert_eq!(evaluate("pytorch", &s, 0.1, 5).unwrap(), v[4]);
    }

    #[test]
    fn torch_step_linear_and_interval() {
        let s = spec(r#"{"name": "StepLR", "args": {"step_size": 2, "gamma": 0.5}}"#);
        assert_eq!(
            values("pytorch", &s, 1.0, 6).unwrap(),
            vec![1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
        );
        let s = spec(r#"{"name": "StepLR", "args": {"step_size": 1, "gamma": 0.5}, "interval": 3}"#);
        assert_eq!(
            values("pytorch", &s, 1.0, 7).unwrap(),
            vec![1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
        );
        let s = spec(r#"{"name": "LinearLR", "args": {"start_factor": 0.5, "total_iters": 2}}"#);
        let v = values("pytorch", &s, 0.1, 4).unwrap();
        assert_eq!(v[0], 0.05);
        assert!((v[2] - 0.1).abs() < 1e-16 && v[3] == v[2]);
    }

    #[test]
    fn bad_schedules_name_the_argument() {
        let e = ScheduleRun::new(
            "pytorch",
            &spec(r#"{"name": "StepLR", "args": {}}"#),
            0.1,
            None,
            0,
        )
        .unwrap_err();
        assert!(e.to_string().contains("step_size"), "{e}");
        let e = ScheduleRun::new(
            "pytorch",
            &spec(r#"{"name": "LambdaLR", "args": {}}"#),
            0.1,
            None,
            0,
        )
        .unwrap_err();
        assert!(e.to_string().contains("hyperparameters"), "{e}");
        let e = ScheduleRun::new(
            "optax",
            &spec(r#"{"name": "cosine_decay_schedule", "args": {"init_value": 0.1, "decay_steps": 10, "x": 1}}"#),
            0.1,
            None,
            0,
        )
        .unwrap_err();
        assert!(e.to_string().contains("\"x\""), "{e}");
        let e = values("pytorch", &spec(r#"{"name": "OneCycleLR", "args": {"max_lr": 0.1, "total_steps": 3, "cycle_momentum": false}}"#), 0.1, 6).unwrap_err();
        assert!(e.to_string().contains("total_steps"), "{e}");
    }

    #[test]
    fn optax_warmup_cosine_is_float32() {
        let s = spec(
            r#"{"name": "warmup_cosine_decay_schedule", "args": {"init_value": 0.0, "peak_value": 0.1, "warmup_steps": 5, "decay_steps": 40, "end_value": 0.001}}"#,
        );
        for v in values("optax", &s, 0.0, 45).unwrap() {
            assert_eq!(f64::from(v as f32), v);
        }
        let s = spec(r#"{"name": "cosine_decay_schedule", "args": {"init_value": 0.1, "decay_steps": 37}}"#);
        let v = values("optax", &s, 0.0, 40).unwrap();
        assert_eq!(v[0], 0.1);
        assert!(
            v.iter().any(|&x| f64::from(x as f32) != x),
            "the cosine schedule is float64"
        );
    }

    /// The one-cycle and interpolation schedules: their documented values, and the refusals
    /// that name the argument (the values in float64 arithmetic as optax's docstring states
    /// them; the bits are checked against optax by the recorded cases below).
    #[test]
    fn optax_interpolated_schedules_hit_their_documented_values() {
        let v = values(
            "optax",
            &spec(r#"{"name": "piecewise_interpolate_schedule", "args": {"interpolate_type": "linear", "init_value": 1.0, "boundaries_and_scales": {"4": 0.1, "8": 0.01}}}"#),
            0.0,
            11,
        )
        .unwrap();
        // optax's docstring: steps 0, 2, 4, 6, 8, 10 give 1, 0.55, 0.1, 0.0505, 0.001, 0.001.
        for (count, want) in [
            (0, 1.0),
            (2, 0.55),
            (4, 0.1),
            (6, 0.0505),
            (8, 0.001),
            (10, 0.001),
        ] {
            assert!(
                (v[count] - want).abs() <= 1e-15,
                "count {count}: {} vs {want}",
                v[count]
            );
        }
        // cosine_onecycle: peak/div at count 0, the peak at int(0.3·T), peak/(div·final_div)
        // from T on.
        let v = values(
            "optax",
            &spec(r#"{"name": "cosine_onecycle_schedule", "args": {"transition_steps": 20, "peak_value": 0.5}}"#),
            0.0,
            25,
        )
        .unwrap();
        // At the start of a phase the cosine gives `end + (start − end)/2·2`, which rounds
        // away from `start` (0.020000000000000018 for 0.02, as optax gives): relative 1e-15
        // is a few ulps of f64.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs();
        assert!(close(v[0], 0.5 / 25.0), "{}", v[0]);
        assert!(close(v[6], 0.5), "{}", v[6]);
        // From T on, no interval holds the count: exactly the last cumulative product.
        assert_eq!(v[20], 0.5 / 25.0 * 25.0 * (1.0 / (25.0 * 1e4)));
        assert_eq!(v[24], v[20]);
        for (args, arg) in [
            (r#"{"init_value": 0.1}"#, "interpolate_type"),
            (
                r#"{"interpolate_type": "cubic", "init_value": 0.1}"#,
                "interpolate_type",
            ),
            (
                r#"{"interpolate_type": "linear", "init_value": 0.1, "boundaries_and_scales": {"4": -1.0}}"#,
                "boundaries_and_scales",
            ),
        ] {
            let e = values(
                "optax",
                &spec(&format!(
                    r#"{{"name": "piecewise_interpolate_schedule", "args": {args}}}"#
                )),
                0.0,
                3,
            )
            .unwrap_err();
            assert!(e.to_string().contains(arg), "{e}");
        }
        let e = values("optax", &spec(r#"{"name": "piecewise_interpolate_schedule", "args": {"interpolate_type": "linear", "init_value": 1e300, "boundaries_and_scales": {"4": 1e10}}}"#), 0.0, 3)
            .unwrap_err();
        assert!(e.to_string().contains("overflow"), "{e}");
        let e = values(
            "optax",
            &spec(
                r#"{"name": "linear_onecycle_schedule", "args": {"transition_steps": 0, "peak_value": 0.1}}"#,
            ),
            0.0,
            3,
        )
        .unwrap_err();
        assert!(e.to_string().contains("transition_steps"), "{e}");
        let e = values("optax", &spec(r#"{"name": "sgdr_schedule", "args": {"cosine_kwargs": [{"init_value": 0.0, "peak_value": 0.1, "warmup_steps": 2}]}}"#), 0.0, 3)
            .unwrap_err();
        assert!(
            e.to_string().contains("cosine_kwargs[0]") && e.to_string().contains("decay_steps"),
            "{e}"
        );
    }

    /// Every schedule recorded from torch 2.15.0 and optax 0.2.8 by
    /// `scripts/golden_schedules.py` (every scheduler and schedule this module names, including
    /// OneCycleLR's momentum, SequentialLR's reset at milestones, and optax's float32 ones):
    /// reproduced bit for bit at every one of the 60 steps.
    #[test]
    fn recorded_framework_schedules_are_reproduced_bit_for_bit() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden-schedules.json");
        let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut failures = Vec::new();
        let cases = data["cases"].as_array().unwrap();
        for case in cases {
            let preset = case["preset"].as_str().unwrap();
            let spec: ScheduleSpec = serde_json::from_value(case["schedule"].clone()).unwrap();
            let lr = case["lr"].as_f64().unwrap_or(0.0);
            let mut run = ScheduleRun::new(preset, &spec, lr, case["momentum"].as_f64(), 0).unwrap();
            for (k, want) in case["lrs"].as_array().unwrap().iter().enumerate() {
                let got = run.next_scalars().unwrap();
                let want = want.as_f64().unwrap();
                if got.lr.to_bits() != want.to_bits() {
                    failures.push(format!(
                        "{preset} {}: step {}: lr {:e}, framework {want:e}",
                        spec.name,
                        k + 1,
                        got.lr
                    ));
                    break;
                }
                if let Some(m) = case.get("momenta").and_then(|m| m[k].as_f64()) {
                    // No momentum from the schedule: the optimizer keeps its own.
                    let ours = got.momentum.or(case["momentum"].as_f64());
                    if ours.map(f64::to_bits) != Some(m.to_bits()) {
                        failures.push(format!(
                            "{preset} {}: step {}: momentum {:?}, framework {m:e}",
                            spec.name,
                            k + 1,
                            got.momentum
                        ));
                        break;
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(cases.len() >= 21);
    }

    /// torch's `ConstantLR`, `PolynomialLR`, `CyclicLR` (three modes, its momentum, a
    /// fractional `step_size_up`), `ChainedScheduler` (also of a `SequentialLR` and of a
    /// `CyclicLR`) and `SequentialLR` of them, recorded from torch 2.15.0 by
    /// `scripts/golden_schedules.py --torch-more`: the lr and the momentum (`momentum` of SGD,
    /// `betas[0]` of Adam) reproduced bit for bit at every one of the 60 steps.
    #[test]
    fn recorded_torch_constant_polynomial_cyclic_chained_are_bit_for_bit() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden-torch-schedules.json");
        let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let cases = data["cases"].as_array().unwrap();
        let mut failures = Vec::new();
        for case in cases {
            let spec: ScheduleSpec = serde_json::from_value(case["schedule"].clone()).unwrap();
            let m0 = case["momentum"].as_f64();
            let mut run = ScheduleRun::new("pytorch", &spec, case["lr"].as_f64().unwrap(), m0, 0).unwrap();
            let lrs = case["lrs"].as_array().unwrap();
            let momenta = case["momenta"].as_array().unwrap();
            assert_eq!((lrs.len(), momenta.len()), (60, 60));
            for (k, (lr, m)) in lrs.iter().zip(momenta).enumerate() {
                let got = run.next_scalars().unwrap();
                // No momentum from the schedule: the optimizer keeps its own.
                let ours = (got.lr, got.momentum.or(m0));
                let want = (lr.as_f64().unwrap(), m.as_f64());
                if ours.0.to_bits() != want.0.to_bits()
                    || ours.1.map(f64::to_bits) != want.1.map(f64::to_bits)
                {
                    failures.push(format!(
                        "{}: step {}: (lr, momentum) {ours:?}, torch {want:?}",
                        serde_json::to_string(&case["schedule"]).unwrap(),
                        k + 1
                    ));
                    break;
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(cases.len(), 15);
    }

    fn torch_run(json: &str, lr: f64, momentum: Option<f64>, steps: usize) -> Vec<Scalars> {
        let mut run = ScheduleRun::new("pytorch", &spec(json), lr, momentum, 0).unwrap();
        (0..steps).map(|_| run.next_scalars().unwrap()).collect()
    }

    fn lrs(v: &[Scalars]) -> Vec<f64> {
        v.iter().map(|s| s.lr).collect()
    }

    /// `ConstantLR`: `lr·factor` for the first `total_iters` scheduler epochs (steps 1..=T),
    /// then multiplied back by `1.0 / factor` once, at epoch T, and left alone after.
    #[test]
    fn torch_constant_lr_switches_the_factor_off_at_total_iters() {
        let v = lrs(&torch_run(
            r#"{"name": "ConstantLR", "args": {"factor": 0.3, "total_iters": 4}}"#,
            0.1,
            None,
            9,
        ));
        let low = 0.1 * 0.3;
        assert_eq!(&v[..4], &[low; 4]);
        assert_eq!(v[4], low * (1.0 / 0.3));
        assert!((v[4] - 0.1).abs() <= f64::EPSILON * 0.1, "{}", v[4]);
        assert!(v[4..].iter().all(|&x| x == v[4]), "{v:?}");
        // The defaults: factor 1/3 for 5 epochs.
        let v = lrs(&torch_run(r#"{"name": "ConstantLR", "args": {}}"#, 0.3, None, 7));
        assert_eq!(v[0], 0.3 * (1.0 / 3.0));
        assert_eq!(v[4], v[0]);
        assert_ne!(v[5], v[0]);
        // factor 0: torch divides by it at total_iters.
        let mut run = ScheduleRun::new(
            "pytorch",
            &spec(r#"{"name": "ConstantLR", "args": {"factor": 0.0, "total_iters": 2}}"#),
            0.1,
            None,
            0,
        )
        .unwrap();
        assert_eq!(run.next_scalars().unwrap().lr, 0.0);
        assert_eq!(run.next_scalars().unwrap().lr, 0.0);
        let e = run.next_scalars().unwrap_err().to_string();
        assert!(e.contains("ZeroDivisionError"), "{e}");
    }

    /// `PolynomialLR`: decreasing, exactly 0 at epoch `total_iters` (step T + 1: the factor's
    /// numerator is `1.0 − T/T = 0`) and 0 after; with power 1 the closed form's straight line
    /// to rounding.
    #[test]
    fn torch_polynomial_lr_reaches_zero_at_total_iters_and_stays() {
        let v = lrs(&torch_run(
            r#"{"name": "PolynomialLR", "args": {"total_iters": 6, "power": 0.9}}"#,
            0.1,
            None,
            10,
        ));
        assert_eq!(v[0], 0.1);
        assert!(v[..6].windows(2).all(|w| w[1] < w[0]), "{v:?}");
        assert!(v[5] > 0.0);
        assert!(v[6..].iter().all(|&x| x == 0.0), "{v:?}");
        let v = lrs(&torch_run(
            r#"{"name": "PolynomialLR", "args": {"total_iters": 8}}"#,
            0.2,
            None,
            9,
        ));
        for (k, &x) in v.iter().enumerate() {
            let closed = 0.2 * (1.0 - k.min(8) as f64 / 8.0);
            assert!(
                (x - closed).abs() <= 8.0 * f64::EPSILON * 0.2,
                "step {}: {x} vs {closed}",
                k + 1
            );
        }
    }

    /// `CyclicLR`: the group's lr becomes `base_lr` (the declared lr is overwritten), rises
    /// linearly to `max_lr` in `step_size_up` epochs and falls back in `step_size_down`; the
    /// momentum runs inversely, from `max_momentum` (at `base_lr`) to `base_momentum` (at
    /// `max_lr`).
    #[test]
    fn torch_cyclic_lr_triangular_cycles_the_lr_and_the_momentum_inversely() {
        let v = torch_run(
            r#"{"name": "CyclicLR", "args": {"base_lr": 0.01, "max_lr": 0.05, "step_size_up": 4, "step_size_down": 2}}"#,
            0.3,
            Some(0.5),
            14,
        );
        let close = |a: f64, b: f64| (a - b).abs() <= 4.0 * f64::EPSILON * b.abs();
        assert_eq!(v[0].lr, 0.01, "base_lr, not the declared 0.3");
        assert_eq!(v[0].momentum, Some(0.9), "max_momentum, not the declared 0.5");
        for (k, want) in [
            (2usize, 0.03),
            (4, 0.05),
            (5, 0.03),
            (6, 0.01),
            (10, 0.05),
            (12, 0.01),
        ] {
            assert!(close(v[k].lr, want), "step {}: {}", k + 1, v[k].lr);
        }
        assert!(close(v[4].momentum.unwrap(), 0.8) && close(v[6].momentum.unwrap(), 0.9));
        // Without cycle_momentum the momentum is left alone.
        let v = torch_run(
            r#"{"name": "CyclicLR", "args": {"base_lr": 0.01, "max_lr": 0.05, "step_size_up": 4, "cycle_momentum": false}}"#,
            0.3,
            Some(0.5),
            3,
        );
        assert!(v.iter().all(|s| s.momentum.is_none()));
    }

    /// `triangular2` halves the amplitude every cycle (`1 / 2.0 ** (cycle − 1)`), `exp_range`
    /// scales it by `gamma ** epoch`.
    #[test]
    fn torch_cyclic_lr_triangular2_halves_and_exp_range_decays_the_amplitude() {
        let v = lrs(&torch_run(
            r#"{"name": "CyclicLR", "args": {"base_lr": 0.0, "max_lr": 0.8, "step_size_up": 3, "mode": "triangular2", "cycle_momentum": false}}"#,
            0.1,
            None,
            22,
        ));
        // Peaks at epochs 3, 9, 15, 21 (cycles of 6).
        for (j, e) in [3usize, 9, 15, 21].into_iter().enumerate() {
            assert_eq!(v[e], 0.8 / 2f64.powi(j as i32), "epoch {e}: {v:?}");
        }
        let gamma: f64 = 0.9;
        let v = lrs(&torch_run(
            r#"{"name": "CyclicLR", "args": {"base_lr": 0.1, "max_lr": 0.5, "step_size_up": 2, "mode": "exp_range", "gamma": 0.9, "cycle_momentum": false}}"#,
            0.1,
            None,
            12,
        ));
        for e in [2usize, 6, 10] {
            let want = 0.1 + 0.4 * gamma.powi(e as i32);
            assert!(
                (v[e] - want).abs() <= 4.0 * f64::EPSILON,
                "epoch {e}: {} vs {want}",
                v[e]
            );
        }
    }

    /// `ChainedScheduler` steps each scheduler on the lr the previous one left: ConstantLR
    /// then ExponentialLR is `lr·factor·γᵏ` until `total_iters`, then `lr·γᵏ`.
    #[test]
    fn torch_chained_scheduler_composes_its_schedulers() {
        let v = lrs(&torch_run(
            r#"{"name": "ChainedScheduler", "args": {"schedulers": [
                {"name": "ConstantLR", "args": {"factor": 0.1, "total_iters": 5}},
                {"name": "ExponentialLR", "args": {"gamma": 0.9}}]}}"#,
            1.0,
            None,
            10,
        ));
        for (k, &x) in v.iter().enumerate() {
            let want = if k < 5 { 0.1 } else { 1.0 } * 0.9f64.powi(k as i32);
            assert!(
                (x - want).abs() <= 16.0 * f64::EPSILON * want,
                "step {}: {x} vs {want}",
                k + 1
            );
        }
    }

    #[test]
    fn torch_new_schedulers_refuse_bad_arguments_by_name() {
        let refused = |json: &str, momentum: Option<f64>, needles: &[&str]| {
            let e = ScheduleRun::new("pytorch", &spec(json), 0.1, momentum, 0)
                .unwrap_err()
                .to_string();
            for n in needles {
                assert!(e.contains(n), "{json}: {e}");
            }
        };
        refused(
            r#"{"name": "ConstantLR", "args": {"factor": 1.5}}"#,
            None,
            &["`factor`", "[0, 1]"],
        );
        refused(
            r#"{"name": "PolynomialLR", "args": {"total_iters": 0}}"#,
            None,
            &["`total_iters`", "≥ 1"],
        );
        refused(
            r#"{"name": "PolynomialLR", "args": {"verbose": true}}"#,
            None,
            &["unknown argument \"verbose\""],
        );
        let cyclic = r#"{"name": "CyclicLR", "args": {"base_lr": 0.01, "max_lr": 0.1"#;
        refused(
            &format!("{cyclic}, \"scale_fn\": \"f\"}}}}"),
            Some(0.9),
            &["`scale_fn`", "hyperparameters"],
        );
        refused(
            &format!("{cyclic}, \"mode\": \"sine\"}}}}"),
            Some(0.9),
            &["`mode`", "exp_range"],
        );
        refused(
            &format!("{cyclic}, \"step_size_up\": 0}}}}"),
            Some(0.9),
            &["`step_size_up` > 0"],
        );
        refused(
            &format!("{cyclic}}}}}"),
            None,
            &["cycle_momentum", "momentum` or `betas"],
        );
        refused(
            r#"{"name": "CyclicLR", "args": {"max_lr": 0.1}}"#,
            Some(0.9),
            &["`base_lr` is required"],
        );
        refused(
            r#"{"name": "SequentialLR", "args": {"schedulers": [{"name": "ChainedScheduler", "args": {"schedulers": [{"name": "ConstantLR", "args": {}}]}}], "milestones": []}}"#,
            None,
            &["ChainedScheduler inside a SequentialLR is not modelled"],
        );
        refused(
            r#"{"name": "ChainedScheduler", "args": {"schedulers": []}}"#,
            None,
            &["non-empty list"],
        );
        for name in ["MultiplicativeLR", "ReduceLROnPlateau", "LambdaLR"] {
            refused(
                &format!(r#"{{"name": "{name}", "args": {{}}}}"#),
                None,
                &[name, "step line", "hyperparameters"],
            );
        }
        // A SequentialLR inside a ChainedScheduler is modelled.
        let v = torch_run(
            r#"{"name": "ChainedScheduler", "args": {"schedulers": [{"name": "SequentialLR", "args": {"schedulers": [{"name": "ConstantLR", "args": {"factor": 0.5, "total_iters": 2}}, {"name": "ExponentialLR", "args": {"gamma": 0.5}}], "milestones": [3]}}]}}"#,
            1.0,
            None,
            5,
        );
        assert_eq!(lrs(&v), vec![0.5, 0.5, 1.0, 1.0, 0.5]);
    }

    /// Every Keras schedule recorded from Keras 3.15.1 (JAX backend) by
    /// `scripts/golden_keras.py --schedules` at iterations 0..60, under floatx float64 and
    /// float32 (the values do not depend on floatx): reproduced bit for bit.
    #[test]
    fn recorded_keras_schedules_are_reproduced_bit_for_bit() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden-keras-schedules.json");
        let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut failures = Vec::new();
        let cases = data["cases"].as_array().unwrap();
        for case in cases {
            let spec: ScheduleSpec = serde_json::from_value(case["schedule"].clone()).unwrap();
            let mut run = ScheduleRun::new("keras", &spec, 0.0, None, 0).unwrap();
            for (k, want) in case["lrs"].as_array().unwrap().iter().enumerate() {
                let got = run.next_scalars().unwrap().lr;
                let want = want.as_f64().unwrap();
                if got.to_bits() != want.to_bits() {
                    failures.push(format!(
                        "keras {} {}: step {}: lr {got:e}, framework {want:e}",
                        spec.name,
                        serde_json::to_string(&spec.args).unwrap(),
                        k + 1
                    ));
                    break;
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(cases.len(), 30);
        assert!(
            cases
                .iter()
                .filter(|c| c["schedule"]["name"] == "CosineDecayRestarts")
                .count()
                >= 8,
            "the CosineDecayRestarts cases"
        );
        let e = ScheduleRun::new(
            "keras",
            &spec(r#"{"name": "CosineDecayRestarts", "args": {"initial_learning_rate": 0.1}}"#),
            0.0,
            None,
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("first_decay_steps") && e.contains("required"), "{e}");
        let e = ScheduleRun::new(
            "keras",
            &spec(r#"{"name": "CosineDecayRestarts", "args": {"initial_learning_rate": 0.1, "first_decay_steps": 0}}"#),
            0.0,
            None,
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("> 0"), "{e}");
    }

    /// SGDR's shape: the value restarts at 1·T, (1 + t_mul)·T, …, each restart's peak scaled
    /// by `m_mul`, and never goes below `alpha · initial_learning_rate`.
    #[test]
    fn keras_cosine_decay_restarts_restarts_at_the_geometric_periods() {
        let s = spec(
            r#"{"name": "CosineDecayRestarts", "args": {"initial_learning_rate": 0.02, "first_decay_steps": 4, "t_mul": 2.0, "m_mul": 0.5, "alpha": 0.1, "name": "SGDRDecay"}}"#,
        );
        let v = values("keras", &s, 0.0, 30).unwrap();
        // Step t reads iterations t − 1: restarts at iterations 4, 12 and 28 (periods 4, 8, 16).
        assert_eq!(v[0], 0.02);
        for (k, peak) in [(4usize, 0.5), (12, 0.25), (28, 0.125)] {
            assert!(v[k] > v[k - 1], "restart at iteration {k}: {v:?}");
            let want = 0.02 * ((1.0 - 0.1) * peak + 0.1);
            assert!((v[k] - want).abs() < 1e-12, "iteration {k}: {} vs {want}", v[k]);
        }
        assert!(v.iter().all(|&x| x >= 0.02 * 0.1 - 1e-15));
        assert_eq!(v.windows(2).filter(|w| w[1] > w[0]).count(), 3);
    }

    fn keras_header(lr: &str, schedule: Option<&str>) -> crate::oracle::format::Header {
        let text = format!(
            r#"{{"format": "optverify-trace", "version": 1, "optimizer": "adam", "preset": "keras",
                "hyperparameters": {{"learning_rate": {lr}, "beta_1": 0.9}}, "layout": [{{"name": "w", "rows": 1, "cols": 1}}],
                "dtype": "f64", "producer": "test", "params0": [1.0]{}}}"#,
            schedule
                .map(|s| format!(r#", "schedule": {s}"#))
                .unwrap_or_default()
        );
        serde_json::from_str(&text).unwrap()
    }

    const COSINE_CONFIG: &str = r#"{"module": "keras.optimizers.schedules", "class_name": "CosineDecay", "config": {"initial_learning_rate": 0.01, "decay_steps": 20, "alpha": 0.0, "name": "CosineDecay", "warmup_target": null, "warmup_steps": 0}, "registered_name": null}"#;

    /// `get_config()`'s serialized schedule declares it: the same values as a header
    /// `schedule` of that class and config; both at once must be the same schedule.
    #[test]
    fn a_keras_serialized_schedule_in_learning_rate_declares_it() {
        let mut h = keras_header(COSINE_CONFIG, None);
        keras_schedule_from_learning_rate(&mut h).unwrap();
        let derived = h.schedule.clone().expect("declared by learning_rate");
        assert_eq!(derived.name, "CosineDecay");
        let plain =
            spec(r#"{"name": "CosineDecay", "args": {"initial_learning_rate": 0.01, "decay_steps": 20}}"#);
        assert_eq!(
            values("keras", &derived, 0.0, 25).unwrap(),
            values("keras", &plain, 0.0, 25).unwrap()
        );
        assert!(keras_learning_rate_unmodelled(&h).is_none());
        // The same schedule declared twice (defaults left out): accepted, the header's kept.
        let mut h = keras_header(
            COSINE_CONFIG,
            Some(r#"{"name": "CosineDecay", "args": {"initial_learning_rate": 0.01, "decay_steps": 20}}"#),
        );
        keras_schedule_from_learning_rate(&mut h).unwrap();
        assert_eq!(h.schedule.as_ref().unwrap().args.len(), 2);
        // Different ones: an error naming both.
        for other in [
            r#"{"name": "CosineDecay", "args": {"initial_learning_rate": 0.01, "decay_steps": 30}}"#,
            r#"{"name": "ExponentialDecay", "args": {"initial_learning_rate": 0.01, "decay_steps": 20, "decay_rate": 0.5}}"#,
        ] {
            let mut h = keras_header(COSINE_CONFIG, Some(other));
            let e = keras_schedule_from_learning_rate(&mut h).unwrap_err();
            assert!(
                e.contains("\"decay_steps\":20") && e.contains("must be the same"),
                "{e}"
            );
            let other_name = if other.contains("Exponential") {
                "ExponentialDecay("
            } else {
                "\"decay_steps\":30"
            };
            assert!(e.contains(other_name), "{e}");
        }
        // Other presets: untouched.
        let mut h = keras_header(COSINE_CONFIG, None);
        h.preset = "optax".into();
        keras_schedule_from_learning_rate(&mut h).unwrap();
        assert!(h.schedule.is_none());
    }

    /// A registered custom schedule, an unmodelled class or a callable is not a declaration:
    /// it is named, for the step lines to give the learning rate.
    #[test]
    fn an_unmodelled_keras_schedule_is_named_not_declared() {
        for (lr, named) in [
            (
                r#"{"module": "my_project", "class_name": "WarmupThenDecay", "config": {"peak": 0.1}, "registered_name": "my>WarmupThenDecay"}"#,
                "`WarmupThenDecay` (module \"my_project\", registered_name \"my>WarmupThenDecay\")",
            ),
            (
                r#"{"module": "keras.optimizers.schedules", "class_name": "LearningRateSchedule", "config": {}, "registered_name": null}"#,
                "`LearningRateSchedule`",
            ),
            (
                r#"{"module": "keras.optimizers.schedules", "class_name": "CosineDecay", "config": {}, "registered_name": "my>CosineDecay"}"#,
                "`CosineDecay`",
            ),
            (
                r#"{"module": "builtins", "class_name": "function", "config": "lr_fn", "registered_name": "function"}"#,
                "`function`",
            ),
        ] {
            let mut h = keras_header(lr, None);
            keras_schedule_from_learning_rate(&mut h).unwrap();
            assert!(h.schedule.is_none(), "{lr}");
            let what = keras_learning_rate_unmodelled(&h).unwrap();
            assert!(what.contains(named) && what.contains("does not model"), "{what}");
        }
        assert!(keras_learning_rate_unmodelled(&keras_header("0.01", None)).is_none());
    }
}
