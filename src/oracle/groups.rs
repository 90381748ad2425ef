//! # Parameter groups, schedules, optax chains and per-step hyperparameters in a replay
//!
//! What a header declares beyond `(preset, optimizer, hyperparameters)` ([`super::format`]):
//!
//! * **`param_groups`** — each group names layout blocks and overrides hyperparameters (torch
//!   `param_groups`, e.g. `weight_decay = 0` on biases; optax `mask=` arguments or
//!   `multi_transform` written as groups). The replay runs one reference per group on the
//!   group's coordinates, with the group's hyperparameters (layer-wise optimizers per block of
//!   the group, as before). torch steps each tensor independently, so per-group references are
//!   exact. For optax, the alias's moments are computed over the whole pytree and only the
//!   masked member differs, so each group's kernel is built with the *whole* tree's leaf count
//!   (which decides how XLA compiles the bias correction); a `multi_transform` (each
//!   optimizer sees only its own leaves) is declared with the transform
//!   `{"name": "multi_transform"}`, and then each group counts its own leaves; a label mapped
//!   to another optimizer is a group with its own `optimizer`, which takes only its own
//!   `hyperparameters` and is replayed by that optimizer's kernel. Keras has one
//!   set of hyperparameters per optimizer and per-variable exclusion from weight decay only
//!   (`exclude_from_weight_decay`): a keras group may only set `"weight_decay": 0` (or
//!   `null`); Keras updates each variable independently, so per-group references are exact.
//! * **`schedule`** — one [`super::schedules::ScheduleRun`] per group, started from the group's
//!   learning rate (torch: the group's `initial_lr` if the dict has one, i.e. it was dumped
//!   after the scheduler was built; else its `lr`). For optax the schedule replaces
//!   `learning_rate`, which may then be absent, `null` or a string.
//! * **`transforms`** (optax, chain order, all before the optimizer):
//!   `clip_by_global_norm` `{max_norm}`: optax's `tree.norm` — per leaf `jnp.sum(x*x)`
//!   (sequential on XLA:CPU for leaves of up to 17 entries, measured; longer leaves are
//!   reduced in another order and replay to rounding), the leaf sums added in leaf order, √,
//!   then `select(norm < max_norm, g, (g / norm) * max_norm)`, all in the dtype, with the
//!   division computed as XLA compiles it, `g · (1/norm)`;
//!   `add_decayed_weights` `{weight_decay, mask}`: `g + weight_decay * p` (two roundings) on
//!   the blocks of `mask` (a list of block names; `null` = all);
//!   `inject_hyperparams` `{hyperparam_dtype}`: the alias was wrapped by
//!   `optax.inject_hyperparams` (a learning-rate schedule is then the header's `schedule`, its
//!   values on the step lines). optax 0.2.8 casts every float hyperparameter to
//!   `hyperparam_dtype` (`null` or absent: the parameters' dtype) before the alias computes
//!   with it, so the alias computes `1 − β`, `βᵗ` in its bias corrections and RAdam's
//!   rectification in that dtype ([`super::kernels::optax::Hyper`]): in float64 the same
//!   values as the plain alias, in float32 not (the plain f32 kernel is 1 to 204 ulps off
//!   such runs, measured), and [`GroupPlan::injected`] builds the kernels that do. Modelled:
//!   `hyperparam_dtype` equal to the trace's dtype (`"float32"`, `"float64"`) or `null`; a
//!   scheduled `b1` (a string or `null` in the header, its value on every step line, taken
//!   as the step's β₁). optax adafactor computes its decay in float32 whatever the dtype:
//!   injected in float32 without `momentum` it is the plain alias (measured). Not modelled,
//!   refused naming it: another `hyperparam_dtype` (mixed precision), any other scheduled
//!   hyperparameter, optax adafactor injected in float64 (its decay then float64) or with
//!   `momentum` (`1 − momentum` in the dtype).
//!   `multi_transform` `{}`: see above.
//! * **`jax_enable_x64`** (header, a bool; absent = `true`): JAX's x64 flag during the run.
//!   optax, `false`: the plain aliases compute `βᵗ` and RAdam's rectification in float32
//!   ([`GroupPlan::hyper`], [`super::kernels::optax::Hyper::PlainX32`]); under
//!   `inject_hyperparams` nothing changes (its arrays are float32 either way). Refused with
//!   dtype `f64` (float64 arrays need x64). A declared optax schedule is evaluated as with x64
//!   when its values do not depend on the flag — `constant_schedule`, `exponential_decay`,
//!   `linear_schedule`, `polynomial_schedule`, `warmup_constant_schedule`,
//!   `warmup_exponential_decay_schedule` and `join_schedules` of these (measured with x64
//!   enabled and disabled: float32 values identical on counts 0–199 or 0–299 for 18
//!   configurations, staircase, `transition_begin`, `end_value`, growth and joins included);
//!   the others (`cosine_decay_schedule`, `piecewise_constant_schedule`,
//!   `warmup_cosine_decay_schedule`, `piecewise_interpolate_schedule`, the one-cycle ones,
//!   `sgdr_schedule`, …) compute in float32 with XLA's `cos` and float32 products, and differ
//!   by 1–56 ulps on 11 to 188 of 200 counts (11 configurations): not modelled, so they
//!   are evaluated as with x64 and the run replays within tolerance, not always bit for bit
//!   (the reference says so; a `learning_rate` on the step lines, which `inject_hyperparams`
//!   records, replaces the schedule and is exact). Keras: accepted (its optimizers compute
//!   the same with the flag off: the Keras recorder's float32 run without x64 replays 50/50
//!   bit for bit); its schedules compute in float32 without x64 (not modelled), evaluated as
//!   with x64 likewise (`optverify.keras.record` writes the learning rate per step in that
//!   case, which is exact). Any other preset: refused (a JAX
//!   flag on a torch trace is a mistake in the header, not a setting to ignore).
//! * **torch `maximize=True`**: torch steps with `-grad` (exact), so the replay negates the
//!   gradient. torch's `clip_grad_norm_` needs no declaration: it runs before `opt.step()`,
//!   and the trace records the gradient the optimizer saw, i.e. the clipped one.
//! * **step `hyperparameters`** — the values the producer used at this step (`lr`, `betas`,
//!   `momentum` for torch; `learning_rate`, and a scheduled `b1` under `inject_hyperparams`,
//!   for optax), an object for all groups or an array
//!   with one object per group: they take precedence over the declared schedule. Other names
//!   are accepted when they change nothing: the group's declared value, or any value that
//!   resolves to the same setting (the int `0` for a declared `0.0`, a default the header
//!   left out, an execution flag such as `foreach`, under `inject_hyperparams` in float32 the
//!   declared value cast to float32), and torch's scheduler bookkeeping
//!   `initial_lr`, `max_lr`, `min_lr`, `base_momentum`, `max_momentum` always; a value of any
//!   other hyperparameter that changes the setting is refused as not modelled.

use super::format::{BlockSpec, Dtype, Header, ScheduleSpec, StepRecord};
use super::kernels::optax::Hyper;
use super::presets::{self, PresetError, Setting};
use super::schedules::{Scalars, ScheduleRun};
use serde_json::{Map, Value};

/// torch's scheduler bookkeeping in a param group: no effect on the update.
const TORCH_SCHEDULER_KEYS: [&str; 5] = ["initial_lr", "max_lr", "min_lr", "base_momentum", "max_momentum"];

/// optax's numeric hyperparameters other than `learning_rate` (the aliases of the preset):
/// under `inject_hyperparams`, a string in their place names a schedule.
const OPTAX_NUMERIC: [&str; 15] = [
    "b1",
    "b2",
    "eps",
    "eps_root",
    "weight_decay",
    "momentum",
    "decay",
    "rho",
    "initial_accumulator_value",
    "initial_scale",
    "threshold",
    "trust_coefficient",
    "decay_rate",
    "clipping_threshold",
    "weight_decay_rate",
];

/// One optax chain member before the optimizer.
#[derive(Debug, Clone, PartialEq)]
pub enum Transform {
    /// `clip_by_global_norm(max_norm)`.
    ClipByGlobalNorm(f64),
    /// `add_decayed_weights(weight_decay, mask)`: `mask[i]` per coordinate.
    AddDecayedWeights { weight_decay: f64, mask: Vec<bool> },
}

/// One group of a plan.
#[derive(Debug, Clone)]
pub struct GroupPlan {
    /// The group's blocks, in layout order.
    pub blocks: Vec<BlockSpec>,
    /// The group's coordinates in the flattened parameters, ascending.
    pub indices: Vec<usize>,
    /// The resolved setting (with the group's layout).
    pub setting: Setting,
    /// The group's hyperparameters as declared (header's, overridden by the group's).
    pub hyperparameters: Map<String, Value>,
    /// The same as [`presets::resolve`] read them: without torch's scheduler bookkeeping and
    /// `maximize` (`initial_lr` as `lr` under a schedule), optax's and Keras' scheduled
    /// `learning_rate` replaced.
    pub resolvable: Map<String, Value>,
    /// The lr a torch scheduler starts from.
    pub base_lr: f64,
    /// The momentum (or β₁) a torch `OneCycleLR` starts from.
    pub base_momentum: Option<f64>,
    /// optax: the number of pytree leaves the group's kernel sees.
    pub leaves: usize,
    /// optax: how the alias holds its hyperparameters — Python floats with x64 enabled or
    /// disabled, or wrapped by `inject_hyperparams`, whose float hyperparameters are arrays
    /// of the trace's dtype ([`Hyper`]). [`Hyper::Plain`] for the other presets.
    pub hyper: Hyper,
    /// optax under `inject_hyperparams`: `b1` is a schedule (a string or `null` in the
    /// header); every step line gives its value.
    pub b1_from_steps: bool,
    /// The group's optimizer: the header's, or (optax `multi_transform`) the group's own.
    pub optimizer: String,
}

/// Everything a header declares, resolved.
#[derive(Debug, Clone)]
pub struct Plan {
    pub groups: Vec<GroupPlan>,
    pub transforms: Vec<Transform>,
    /// torch `maximize=True`: the gradient is negated.
    pub maximize: bool,
    /// Coordinate i → (group, index inside the group).
    pub owner: Vec<(usize, usize)>,
    /// optax `learning_rate` is not a number in the header (a callable written as `null` or
    /// a string) and no schedule is declared, or `b1` is a schedule under
    /// `inject_hyperparams`: every step line must give its `hyperparameters`.
    pub lr_from_steps: bool,
}

impl Plan {
    /// True when the plan is a single group without schedule, transforms or maximize: the
    /// plain reference of [`super::compare::Replayer::declared`] computes it.
    pub fn is_plain(&self, header: &Header) -> bool {
        self.groups.len() == 1
            && self.transforms.is_empty()
            && !self.maximize
            && header.schedule.is_none()
            && self.groups[0].hyper == Hyper::Plain
    }
}

impl GroupPlan {
    /// optax: the alias is wrapped by `inject_hyperparams`.
    pub fn injected(&self) -> bool {
        self.hyper == Hyper::Injected
    }
}

/// optax schedules whose values JAX computes the same with x64 enabled and disabled
/// (measured, see the module doc): with `jax_enable_x64` false the oracle evaluates them as
/// with x64.
const OPTAX_X64_INDEPENDENT: [&str; 6] = [
    "constant_schedule",
    "exponential_decay",
    "linear_schedule",
    "polynomial_schedule",
    "warmup_constant_schedule",
    "warmup_exponential_decay_schedule",
];

/// Whether an optax schedule's values do not depend on JAX's x64 flag: one of
/// [`OPTAX_X64_INDEPENDENT`], or `join_schedules` of such schedules only.
fn optax_x64_independent(spec: &ScheduleSpec) -> bool {
    match spec.name.as_str() {
        "join_schedules" => spec
            .args
            .get("schedules")
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter().all(|s| {
                    serde_json::from_value::<ScheduleSpec>(s.clone()).is_ok_and(|s| optax_x64_independent(&s))
                })
            }),
        name => OPTAX_X64_INDEPENDENT.contains(&name),
    }
}

/// JAX's x64 flag as the header declares it (`jax_enable_x64`; absent = enabled), validated:
/// only presets `optax` and `keras` run on JAX, and float64 arrays need x64.
///
/// # Errors
/// [`PresetError::Declaration`] naming `jax_enable_x64`.
pub fn jax_x64(header: &Header) -> Result<bool, PresetError> {
    let Some(x64) = header.jax_enable_x64 else {
        return Ok(true);
    };
    match header.preset.as_str() {
        "optax" | "keras" => {}
        other => {
            return Err(decl(
                "jax_enable_x64",
                format!(
                    "is JAX's x64 flag; a {other} trace does not run on JAX (valid for presets optax and keras: true or false)"
                ),
            ))
        }
    }
    if !x64 && header.dtype == Dtype::F64 {
        return Err(decl(
            "jax_enable_x64",
            "false with dtype f64: JAX makes float64 arrays only with x64 enabled, so a float64 run had it true (valid with f64: true, or leave the field out)",
        ));
    }
    Ok(x64)
}

/// With `jax_enable_x64` false, the declared schedule whose float32 values the oracle does not
/// model, by name (it is evaluated as with x64, within tolerance of the run; the step lines'
/// `learning_rate`, when given, replaces it); `None` when there is none.
pub fn x64_disabled_schedule(header: &Header) -> Option<&str> {
    if header.jax_enable_x64 != Some(false) {
        return None;
    }
    let spec = header.schedule.as_ref()?;
    match header.preset.as_str() {
        "optax" if !optax_x64_independent(spec) => Some(spec.name.as_str()),
        "keras" => Some(spec.name.as_str()),
        _ => None,
    }
}

/// True when the header declares groups, a schedule or transforms.
pub fn declares_more(header: &Header) -> bool {
    header.param_groups.is_some() || header.schedule.is_some() || !header.transforms.is_empty()
}

/// True when the header's optax `learning_rate` is a callable (`null` or a string) without a
/// declared schedule, or the Keras `learning_rate` a serialized schedule that is not modelled
/// ([`super::schedules::keras_learning_rate_unmodelled`]): the step lines must give it
/// ([`Plan::lr_from_steps`]).
pub fn lr_is_callable(header: &Header) -> bool {
    (header.preset == "optax"
        && header.schedule.is_none()
        && header
            .hyperparameters
            .get("learning_rate")
            .is_some_and(|v| !v.is_number()))
        || super::schedules::keras_learning_rate_unmodelled(header).is_some()
}

fn decl(field: &str, message: impl Into<String>) -> PresetError {
    PresetError::Declaration {
        field: field.into(),
        message: message.into(),
    }
}

/// Resolve a header's groups, schedule and transforms.
///
/// # Errors
/// [`PresetError`] naming the field: an unknown block, a block in two groups or in none, an
/// unknown transform, a declaration for a preset that has no such thing, a value not modelled.
pub fn plan(header: &Header) -> Result<Plan, PresetError> {
    let preset = header.preset.as_str();
    let x64 = jax_x64(header)?;
    let nblocks = header.layout.len();
    // Each block's coordinates (checked sizes: a header built by hand may overflow).
    let layout = header.layout().map_err(|e| decl("layout", e.to_string()))?;
    let dim = layout.dim();
    let block_index = |name: &str, field: &str| -> Result<usize, PresetError> {
        header.layout.iter().position(|b| b.name == name).ok_or_else(|| {
            let known: Vec<&str> = header.layout.iter().map(|b| b.name.as_str()).collect();
            decl(
                field,
                format!(
                    "unknown block {name:?}; the layout's blocks: {}",
                    known.join(", ")
                ),
            )
        })
    };
    // Transforms.
    let mut transforms = Vec::new();
    let mut multi = false;
    let mut injected = false;
    if !header.transforms.is_empty() && preset != "optax" {
        return Err(decl(
            "transforms",
            format!(
                "chain members are optax's; a {preset} trace declares none (torch's clip_grad_norm_ needs no declaration: the trace records the gradient the optimizer saw, the clipped one)"
            ),
        ));
    }
    for (k, t) in header.transforms.iter().enumerate() {
        let field = format!("transforms[{k}]");
        let known = |allowed: &[&str]| -> Result<(), PresetError> {
            match t.args.keys().find(|a| !allowed.contains(&a.as_str())) {
                Some(a) => Err(decl(
                    &field,
                    format!(
                        "{}: unknown argument {a:?}; known: {}",
                        t.name,
                        allowed.join(", ")
                    ),
                )),
                None => Ok(()),
            }
        };
        let num = |name: &str| -> Result<f64, PresetError> {
            t.args
                .get(name)
                .and_then(Value::as_f64)
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    decl(
                        &field,
                        format!("{}: argument `{name}` must be a finite number", t.name),
                    )
                })
        };
        match t.name.as_str() {
            "clip_by_global_norm" => {
                known(&["max_norm"])?;
                let c = num("max_norm")?;
                if c <= 0.0 {
                    return Err(decl(&field, "clip_by_global_norm: `max_norm` must be > 0"));
                }
                transforms.push(Transform::ClipByGlobalNorm(c));
            }
            "add_decayed_weights" => {
                known(&["weight_decay", "mask"])?;
                let wd = if t.args.get("weight_decay").is_some() {
                    num("weight_decay")?
                } else {
                    0.0
                };
                let mut mask = vec![true; dim];
                match t.args.get("mask") {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(names)) => {
                        mask.iter_mut().for_each(|m| *m = false);
                        for n in names {
                            let n = n.as_str().ok_or_else(|| {
                                decl(&field, "add_decayed_weights: `mask` must be null or a list of block names")
                            })?;
                            let bi = block_index(n, &field)?;
                            mask[layout.blocks()[bi].range()]
                                .iter_mut()
                                .for_each(|m| *m = true);
                        }
                    }
                    Some(_) => {
                        return Err(decl(&field, "add_decayed_weights: `mask` must be null or a list of block names"))
                    }
                }
                if wd != 0.0 {
                    transforms.push(Transform::AddDecayedWeights { weight_decay: wd, mask });
                }
            }
            "inject_hyperparams" => {
                known(&["hyperparam_dtype"])?;
                // `hyperparam_dtype=None` (optax's default): the parameters' highest dtype.
                let numpy_name = |d: Dtype| match d {
                    Dtype::F32 => "float32",
                    Dtype::F64 => "float64",
                };
                let (declared, spelled) = match t.args.get("hyperparam_dtype") {
                    None | Some(Value::Null) => (header.dtype, numpy_name(header.dtype).to_string()),
                    Some(Value::String(d)) => match d.as_str() {
                        "float32" | "f32" => (Dtype::F32, d.clone()),
                        "float64" | "f64" => (Dtype::F64, d.clone()),
                        other => {
                            return Err(decl(
                                &field,
                                format!("inject_hyperparams: hyperparam_dtype {other:?} is not modelled (float32 and float64 are, each on parameters of that dtype)"),
                            ))
                        }
                    },
                    Some(v) => {
                        return Err(decl(
                            &field,
                            format!("inject_hyperparams: `hyperparam_dtype` must be null or a dtype name such as \"float32\", got {v}"),
                        ))
                    }
                };
                if declared != header.dtype {
                    return Err(decl(
                        &field,
                        format!(
                            "inject_hyperparams: hyperparam_dtype {spelled:?} on {} parameters is not modelled (the alias would compute with {} scalars on {} parameters, in mixed precision); the parameters' own dtype (or null) is",
                            numpy_name(header.dtype),
                            numpy_name(declared),
                            numpy_name(header.dtype)
                        ),
                    ));
                }
                injected = true;
            }
            "multi_transform" => {
                known(&[])?;
                multi = true;
            }
            other => {
                return Err(decl(
                    &field,
                    format!("unknown transform {other:?}; modelled: clip_by_global_norm, add_decayed_weights, inject_hyperparams, multi_transform"),
                ))
            }
        }
    }
    if injected && header.optimizer == "adafactor" {
        // optax adafactor computes its decay `1 - t**(-decay_rate)` in float32 whatever the
        // dtype (`t` is a float32 array): injected in float32 nothing changes (measured: bit-
        // identical to the plain alias, with clipping, weight_decay_rate, eps, parameter
        // scaling), but in float64 `decay_rate` becomes a float64 array and the decay float64
        // (1.2e-9 apart after 30 steps), and with `momentum` its `ema` computes `1 - momentum`
        // in float32.
        let momentum = |m: &Map<String, Value>| m.get("momentum").is_some_and(|v| !v.is_null());
        let with_momentum = momentum(&header.hyperparameters)
            || header
                .param_groups
                .iter()
                .flatten()
                .any(|g| momentum(&g.hyperparameters));
        if header.dtype == Dtype::F64 || with_momentum {
            return Err(decl(
                "transforms",
                format!(
                    "inject_hyperparams on optax adafactor {} is not modelled (its {} then computed in the hyperparameters' dtype); float32 without momentum is",
                    if header.dtype == Dtype::F64 { "in float64" } else { "with momentum" },
                    if header.dtype == Dtype::F64 {
                        "decay 1 − t^(−decay_rate) is"
                    } else {
                        "momentum's 1 − momentum is"
                    }
                ),
            ));
        }
    }
    // Groups: each block in exactly one.
    // (blocks, hyperparameter overrides, the group's own optimizer if it is not the header's)
    type RawGroup = (Vec<usize>, Map<String, Value>, Option<String>);
    let raw_groups: Vec<RawGroup> = match &header.param_groups {
        None => vec![((0..nblocks).collect(), Map::new(), None)],
        Some(gs) => {
            if gs.is_empty() {
                return Err(decl("param_groups", "is empty; omit it for one group"));
            }
            if header.preset == "keras" {
                // Keras has one set of hyperparameters per optimizer; what it has per variable
                // is `exclude_from_weight_decay(var_list=…, var_names=…)`: a group may only
                // switch the decay off.
                for (gi, g) in gs.iter().enumerate() {
                    if let Some((k, v)) = g.hyperparameters.iter().find(|(k, v)| {
                        !(k.as_str() == "weight_decay" && (v.is_null() || v.as_f64() == Some(0.0)))
                    }) {
                        return Err(decl(
                            &format!("param_groups[{gi}].hyperparameters"),
                            format!(
                                "`{k}` = {v}: keras has no parameter groups, only exclusion from weight decay (`exclude_from_weight_decay`, declared as \"weight_decay\": 0); other per-variable hyperparameters are not modelled"
                            ),
                        ));
                    }
                }
            }
            let mut seen = vec![None::<usize>; nblocks];
            let mut out = Vec::new();
            for (gi, g) in gs.iter().enumerate() {
                let field = format!("param_groups[{gi}].blocks");
                let mut idx = Vec::new();
                for n in &g.blocks {
                    let bi = block_index(n, &field)?;
                    if let Some(other) = seen[bi] {
                        return Err(decl(
                            &field,
                            format!("block {n:?} is already in param_groups[{other}]"),
                        ));
                    }
                    seen[bi] = Some(gi);
                    idx.push(bi);
                }
                if idx.is_empty() {
                    return Err(decl(&field, "names no block"));
                }
                idx.sort_unstable();
                let own = match &g.optimizer {
                    Some(o) if *o != header.optimizer => {
                        if preset != "optax" || !multi {
                            return Err(decl(
                                &format!("param_groups[{gi}].optimizer"),
                                format!(
                                    "{o:?} differs from the header's {:?}: a group with its own optimizer is an optax multi_transform (declare the transform {{\"name\": \"multi_transform\"}}); {preset} groups share the optimizer",
                                    header.optimizer
                                ),
                            ));
                        }
                        Some(o.clone())
                    }
                    _ => None,
                };
                out.push((idx, g.hyperparameters.clone(), own));
            }
            if let Some(bi) = seen.iter().position(Option::is_none) {
                return Err(decl(
                    "param_groups",
                    format!(
                        "block {:?} is in no group (each layout block must be in exactly one)",
                        header.layout[bi].name
                    ),
                ));
            }
            out
        }
    };
    let mut groups = Vec::with_capacity(raw_groups.len());
    let mut owner = vec![(0, 0); dim];
    let mut maximize = None::<bool>;
    // A schedule JAX computes in float32 without x64 (`x64_disabled_schedule`) is evaluated
    // as with x64: its values differ by a few float32 ulps at some counts (1–56 ulps on
    // 11–188 of 200 counts, measured), so the run replays within tolerance, not always bit
    // for bit, and the reference says so. Refusing it would turn a correct run into an error.
    let mut lr_from_steps = false;
    for (gi, (blocks, over, own_optimizer)) in raw_groups.into_iter().enumerate() {
        // A group with its own optimizer (multi_transform) was built from its own arguments.
        let mut hp = if own_optimizer.is_some() {
            Map::new()
        } else {
            header.hyperparameters.clone()
        };
        let optimizer = own_optimizer.unwrap_or_else(|| header.optimizer.clone());
        for (k, v) in over {
            hp.insert(k, v);
        }
        let what = if header.param_groups.is_some() {
            format!("param_groups[{gi}].hyperparameters")
        } else {
            "hyperparameters".to_string()
        };
        let mut resolve_map = hp.clone();
        let mut base_lr_override = None;
        if preset == "pytorch" {
            // Scheduler bookkeeping; with `initial_lr` the dict was dumped after the scheduler
            // was built and `lr` is already scheduled: the replay starts from `initial_lr`.
            for k in TORCH_SCHEDULER_KEYS {
                if let Some(v) = resolve_map.remove(k) {
                    if k == "initial_lr" && header.schedule.is_some() && !v.is_null() {
                        let x = v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| {
                            decl(&what, format!("`initial_lr` must be a finite number, got {v}"))
                        })?;
                        base_lr_override = Some(x);
                        resolve_map.insert("lr".into(), Value::from(x));
                    }
                }
            }
            let m = match resolve_map.remove("maximize") {
                None | Some(Value::Null) | Some(Value::Bool(false)) => false,
                Some(Value::Bool(true)) => true,
                Some(v) => return Err(decl(&what, format!("`maximize` must be true or false, got {v}"))),
            };
            if maximize.is_some_and(|x| x != m) {
                return Err(decl(
                    "param_groups",
                    "`maximize` differs between groups; not modelled",
                ));
            }
            maximize = Some(m);
        }
        if preset == "keras" {
            // An excluded variable: no decay (AdamW refuses a None decay, so 0).
            if resolve_map.get("weight_decay").is_some_and(Value::is_null) && header.param_groups.is_some() {
                resolve_map.insert("weight_decay".into(), Value::from(0.0));
            }
            // A schedule is the learning_rate (its config or repr may stand there).
            if header.schedule.is_some() && resolve_map.get("learning_rate").is_some_and(|v| !v.is_number()) {
                resolve_map.remove("learning_rate");
            }
            // A serialized schedule the oracle does not model: the step lines give the values.
            if super::schedules::keras_learning_rate_unmodelled(header).is_some()
                && resolve_map.get("learning_rate").is_some_and(Value::is_object)
            {
                lr_from_steps = true;
                resolve_map.insert("learning_rate".into(), Value::from(1.0));
            }
        }
        let mut b1_from_steps = false;
        if preset == "optax" && injected {
            // inject_hyperparams evaluates any hyperparameter given as a schedule at every
            // step; the step lines carry its value (optverify.optax.record writes them). A
            // scheduled `b1` is modelled (the Adam family takes it per step); others are not.
            // A string in place of a numeric hyperparameter is a schedule's name (`null` too
            // for `b1`, which has no `None`); strings elsewhere are dtypes (`mu_dtype`).
            let scheduled: Vec<String> = resolve_map
                .iter()
                .filter(|(k, v)| {
                    OPTAX_NUMERIC.contains(&k.as_str())
                        && (v.is_string() || (k.as_str() == "b1" && v.is_null()))
                })
                .map(|(k, _)| k.clone())
                .collect();
            for k in scheduled {
                if k != "b1" {
                    return Err(decl(
                        &what,
                        format!(
                            "`{k}` = {} under inject_hyperparams is a schedule; a scheduled `{k}` is not modelled (a scheduled learning_rate and b1 are)",
                            resolve_map[&k]
                        ),
                    ));
                }
                // A placeholder for the resolution; the first step line sets the value.
                resolve_map.insert(k, Value::from(0.9));
                b1_from_steps = true;
                lr_from_steps = true;
            }
        }
        if preset == "optax" {
            // A schedule replaces learning_rate (a callable: absent, null or its repr); without
            // one, a callable must be resolved from the step lines.
            let callable = resolve_map.get("learning_rate").is_some_and(|v| !v.is_number());
            if header.schedule.is_some() && resolve_map.get("learning_rate").is_none_or(|v| !v.is_number()) {
                resolve_map.insert("learning_rate".into(), Value::from(1.0));
            } else if callable {
                lr_from_steps = true;
                resolve_map.insert("learning_rate".into(), Value::from(1.0));
            }
        }
        let block_specs: Vec<BlockSpec> = blocks.iter().map(|&b| header.layout[b].clone()).collect();
        let sub = Header {
            optimizer: optimizer.clone(),
            hyperparameters: resolve_map,
            layout: block_specs.clone(),
            params0: Vec::new(),
            param_groups: None,
            schedule: None,
            transforms: Vec::new(),
            ..header.clone()
        };
        let setting = presets::resolve_header(&sub).map_err(|e| match e {
            PresetError::Declaration { .. } => e,
            PresetError::UnknownOptimizer { .. } if header.param_groups.is_some() => {
                decl(&format!("param_groups[{gi}].optimizer"), e.to_string())
            }
            other => {
                if header.param_groups.is_some() {
                    decl(&what, other.to_string())
                } else {
                    other
                }
            }
        })?;
        let mut indices = Vec::new();
        for &b in &blocks {
            indices.extend(layout.blocks()[b].range());
        }
        for (k, &i) in indices.iter().enumerate() {
            owner[i] = (gi, k);
        }
        groups.push(GroupPlan {
            leaves: if multi { blocks.len() } else { nblocks },
            hyper: if preset == "optax" {
                Hyper::of(injected, x64)
            } else {
                Hyper::Plain
            },
            b1_from_steps,
            base_lr: base_lr_override.unwrap_or_else(|| setting.lr()),
            base_momentum: setting.momentum_like(),
            blocks: block_specs,
            indices,
            setting,
            hyperparameters: hp,
            resolvable: sub.hyperparameters,
            optimizer,
        });
    }
    if let Some(spec) = &header.schedule {
        // Validate now (bad input before any replay).
        for (gi, g) in groups.iter().enumerate() {
            ScheduleRun::new(preset, spec, g.base_lr, g.base_momentum, gi)
                .map_err(|e| decl("schedule", e.to_string()))?;
        }
    }
    Ok(Plan {
        groups,
        transforms,
        maximize: maximize.unwrap_or(false),
        owner,
        lr_from_steps,
    })
}

/// Whether setting `k = v` in a group's resolvable hyperparameters leaves the resolved
/// setting unchanged ([`presets::resolve`], the one mapping of the frameworks' names).
fn resolves_alike(
    header: &Header,
    optimizer: &str,
    resolvable: &Map<String, Value>,
    k: &str,
    v: &Value,
) -> bool {
    let resolve = |m: &Map<String, Value>| presets::resolve(&header.preset, optimizer, m);
    let mut changed = resolvable.clone();
    changed.insert(k.to_string(), v.clone());
    match (resolve(&changed), resolve(resolvable)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The per-group scalars a step record's `hyperparameters` declare (`None` when the record
/// has none).
///
/// # Errors
/// A message naming the field, for a malformed value or a hyperparameter whose per-step change
/// is not modelled.
pub fn step_scalars(header: &Header, plan: &Plan, rec: &StepRecord) -> Result<Option<Vec<Scalars>>, String> {
    let Some(v) = &rec.hyperparameters else {
        return Ok(None);
    };
    let n = plan.groups.len();
    let objects: Vec<&Map<String, Value>> = match v {
        Value::Object(m) => vec![m; n],
        Value::Array(a) if a.len() == n => a
            .iter()
            .map(|x| x.as_object().ok_or("each entry must be an object"))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("step {}: `hyperparameters`: {e}", rec.step))?,
        Value::Array(a) => {
            return Err(format!(
                "step {}: `hyperparameters` has {} entries, the header declares {n} parameter group(s)",
                rec.step,
                a.len()
            ))
        }
        _ => {
            return Err(format!(
                "step {}: `hyperparameters` must be an object or an array of objects (one per group)",
                rec.step
            ))
        }
    };
    let mut out = Vec::with_capacity(n);
    for (gi, (m, g)) in objects.into_iter().zip(&plan.groups).enumerate() {
        let at = if n > 1 {
            format!("step {}: `hyperparameters[{gi}]`", rec.step)
        } else {
            format!("step {}: `hyperparameters`", rec.step)
        };
        let num = |k: &str, v: &Value| -> Result<f64, String> {
            v.as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{at}: `{k}` must be a finite number, got {v}"))
        };
        let lr_key = if header.preset == "optax" || header.preset == "keras" {
            "learning_rate"
        } else {
            "lr"
        };
        let mut s = Scalars {
            lr: g.setting.lr(),
            momentum: None,
        };
        let mut lr_seen = false;
        let mut b1_seen = false;
        for (k, v) in m {
            if k == lr_key {
                s.lr = num(k, v)?;
                lr_seen = true;
            } else if header.preset == "optax" && k == "b1" && g.b1_from_steps {
                // A scheduled b1 under inject_hyperparams, already cast to the dtype.
                s.momentum = Some(num(k, v)?);
                b1_seen = true;
            } else if header.preset == "pytorch" && k == "betas" {
                let pair = v
                    .as_array()
                    .filter(|a| a.len() == 2)
                    .ok_or_else(|| format!("{at}: `betas` must be a pair"))?;
                let b1 = num("betas[0]", &pair[0])?;
                let declared_b2 = g.hyperparameters.get("betas").and_then(|b| b.get(1)).cloned();
                let b2_ok = match &declared_b2 {
                    Some(d) => d.as_f64() == pair[1].as_f64(),
                    None => pair[1].as_f64() == Some(0.999),
                };
                if !b2_ok {
                    return Err(format!("{at}: a per-step change of betas[1] is not modelled"));
                }
                // Passed on even when it equals the declared β₁: a kernel keeps the last β₁
                // it was given, so a step back at the declared value (the last step of a
                // `OneCycleLR`, whose momentum returns to `max_momentum`) must set it again.
                s.momentum = Some(b1);
            } else if header.preset == "pytorch" && k == "momentum" && g.setting.momentum_like().is_some() {
                // As `betas[0]` above.
                s.momentum = Some(num(k, v)?);
            } else {
                // No-ops: torch's scheduler bookkeeping, the declared value itself, and any
                // value that resolves to the group's setting (torch's `opt.defaults` holds the
                // int 0 where a group given 0.0 holds a float, which Python compares equal, so
                // `watch` leaves it out of the header's group and writes 0.0 on every step;
                // a default the header left out; an execution flag such as `foreach`).
                // Under inject_hyperparams the state holds each constant cast to the dtype
                // (b1 = 0.8999999761581421 in float32): the declared value, cast.
                let cast_declared = g.injected()
                    && header.dtype == Dtype::F32
                    && v.as_f64().is_some_and(|x| {
                        g.hyperparameters
                            .get(k)
                            .and_then(Value::as_f64)
                            .is_some_and(|d| f64::from(d as f32).to_bits() == x.to_bits())
                    });
                let no_op = (header.preset == "pytorch" && TORCH_SCHEDULER_KEYS.contains(&k.as_str()))
                    || cast_declared
                    || g.hyperparameters.get(k) == Some(v)
                    || (v.is_null() && g.hyperparameters.get(k).is_none())
                    || resolves_alike(header, &g.optimizer, &g.resolvable, k, v);
                if no_op {
                    continue;
                }
                return Err(format!(
                    "{at}: `{k}` = {v} differs from the declared {}; a per-step change of `{k}` is not modelled (only `{lr_key}`{})",
                    g.hyperparameters.get(k).map_or("(absent)".to_string(), Value::to_string),
                    if header.preset == "pytorch" { ", `betas[0]`, `momentum`" } else { "" }
                ));
            }
        }
        if !lr_seen {
            return Err(format!("{at}: must give `{lr_key}`"));
        }
        if g.b1_from_steps && !b1_seen {
            return Err(format!(
                "{at}: must give `b1` (a schedule under inject_hyperparams)"
            ));
        }
        out.push(s);
    }
    Ok(Some(out))
}

/// `clip_by_global_norm` and `add_decayed_weights` on the gradient `g` (values of the trace's
/// dtype widened to f64) at parameters `theta`, in dtype `T`.
pub fn apply_transforms<T: super::kernels::Real>(
    transforms: &[Transform],
    layout: &[BlockSpec],
    theta: &[f64],
    g: &mut [f64],
) {
    for t in transforms {
        match t {
            Transform::ClipByGlobalNorm(max_norm) => {
                // optax.tree.norm: per leaf jnp.sum(x*x) (sequential), leaves added in order.
                let mut total = T::zero();
                let mut off = 0;
                for b in layout {
                    let n = b.rows * b.cols;
                    let mut s = T::zero();
                    for &x in &g[off..off + n] {
                        let x = T::from_f64(x);
                        s = s + x * x;
                    }
                    total = total + s;
                    off += n;
                }
                let norm = total.sqrt();
                let c = T::from_f64(*max_norm);
                // `select(norm < max_norm, g, …)`: a NaN norm clips (the comparison is false).
                let trigger = norm < c;
                if !trigger {
                    // `(t / norm) * max_norm`: XLA turns the division by the (broadcast)
                    // scalar into a multiplication by its reciprocal (measured: the division
                    // disagrees on ~87% of random inputs, the reciprocal on none).
                    let r = T::one() / norm;
                    for x in g.iter_mut() {
                        *x = ((T::from_f64(*x) * r) * c).to_f64();
                    }
                }
            }
            Transform::AddDecayedWeights { weight_decay, mask } => {
                let wd = T::from_f64(*weight_decay);
                for i in 0..g.len() {
                    if mask[i] {
                        g[i] = (T::from_f64(g[i]) + wd * T::from_f64(theta[i])).to_f64();
                    }
                }
            }
        }
    }
}
