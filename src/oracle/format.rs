//! # The trace format (`optverify-trace`, version 1)
//!
//! A trace is a JSON Lines file. Line 1 is the header:
//!
//! ```json
//! {"format": "optverify-trace", "version": 1, "optimizer": "adam", "preset": "pytorch",
//!  "hyperparameters": {"lr": 0.01, "betas": [0.9, 0.999], "amsgrad": true},
//!  "layout": [{"name": "w", "rows": 2, "cols": 3}], "dtype": "f64",
//!  "producer": "torch 2.15.0", "params0": [0.1, -0.2, 0.3, 0.0, 1.5, -1.0]}
//! ```
//!
//! then one object per step, `t` counting from 1 and consecutive:
//!
//! ```json
//! {"step": 1, "grad": [...], "params": [...], "loss": 0.25}
//! ```
//!
//! * `grad` is the gradient the producer used at step t (at θ_{t−1}), `params` is θ_t after
//!   the step, `loss` (optional) is f(θ_{t−1}). Parameters are flattened in the layout's block
//!   order, row-major inside a block (as `torch.Tensor.flatten` and `jnp.ravel` do).
//! * `hyperparameters` uses the framework's own names (`lr`/`learning_rate`, `betas`/`b1`,`b2`,
//!   `alpha`/`decay`, …); [`super::presets`] maps them and rejects names it does not know.
//! * Floats are written shortest-round-trip (ryu in Rust, `repr(float)` in Python), so every
//!   f64 reads back bit for bit. An `"f32"` trace stores the f32 values widened to f64 (exact).
//!
//! ## Declarations beyond the hyperparameters (all optional; [`super::groups`] replays them)
//! * header `param_groups`: `[{"blocks": ["w"], "hyperparameters": {}}, {"blocks": ["b"],
//!   "hyperparameters": {"weight_decay": 0.0}}]` — every layout block in exactly one group;
//!   a group's `hyperparameters` override the header's (framework's own names; a torch
//!   `param_groups[i]` dict minus `params` may be written as is, including `initial_lr`,
//!   `max_lr`, … of a scheduler). optax: a `mask=` of the alias is written as groups (the
//!   masked-out blocks with `"weight_decay": 0.0`); a `multi_transform` as groups plus the
//!   transform `{"name": "multi_transform"}`; a `multi_transform` whose labels map to
//!   *different* optimizers gives each such group its own `"optimizer"` (the alias name, e.g.
//!   `{"blocks": ["b"], "optimizer": "sgd", "hyperparameters": {"learning_rate": 0.1}}`), and
//!   that group takes only its own `hyperparameters`, not the header's. Keras: only `exclude_from_weight_decay`, written
//!   as groups whose excluded blocks have `"weight_decay": 0` (or `null`). Absent = one group.
//! * header `schedule`: `{"name": "CosineAnnealingLR", "args": {"T_max": 60}}` — the framework's
//!   scheduler (torch `lr_scheduler` class) or schedule (optax function) by its own name and
//!   arguments; nested ones (`SequentialLR`, `join_schedules`) take `schedulers`/`schedules`
//!   as a list of such objects. **torch steps the scheduler once per optimizer step**
//!   (`opt.step(); sched.step()`): step t uses the lr after t − 1 scheduler steps. A scheduler
//!   stepped once per epoch of k optimizer steps is declared with `"interval": k`. The header's
//!   `lr` is the optimizer's lr before the scheduler was built (a dict dumped after, with
//!   `initial_lr`, is read from `initial_lr`). optax evaluates the schedule at count t − 1;
//!   `learning_rate` may then be absent, `null` or a string. Keras: a
//!   `keras.optimizers.schedules` class by name with its constructor's arguments
//!   (`{"name": "CosineDecay", "args": {"initial_learning_rate": 0.01, "decay_steps": 100}}`),
//!   evaluated at `iterations` = t − 1; `learning_rate` then absent (or the schedule's config,
//!   any non-number). Keras `optimizer.get_config()` verbatim declares it by itself: a
//!   `learning_rate` that is a serialized built-in schedule (`{"module":
//!   "keras.optimizers.schedules", "class_name": "CosineDecay", "config": {…},
//!   "registered_name": null}`) is read as the `schedule` `{"name": class_name, "args":
//!   config}`; a `schedule` declared as well must be the same one. Any other serialized object
//!   (a custom schedule) is not modelled: every step line must then give `learning_rate`.
//!   See [`super::schedules`].
//! * header `transforms`: optax chain members before the optimizer, in chain order:
//!   `{"name": "clip_by_global_norm", "args": {"max_norm": 1.0}}`,
//!   `{"name": "add_decayed_weights", "args": {"weight_decay": 1e-4, "mask": ["w"]}}` (mask: the
//!   decayed blocks, `null` = all), `{"name": "inject_hyperparams", "args":
//!   {"hyperparam_dtype": null}}` (`args` optional; `hyperparam_dtype` as passed to
//!   `optax.inject_hyperparams`, `null` for its default, the parameters' dtype: `"float32"`,
//!   `"float64"`; only the trace's own dtype is modelled; a hyperparameter given to it as a
//!   schedule is written in `hyperparameters` as a string and its values on the step lines,
//!   modelled for `learning_rate` and `b1`), `{"name": "multi_transform"}`. A torch trace
//!   declares none: **with `clip_grad_norm_` the
//!   trace records the gradient the optimizer saw, i.e. the clipped one** (it is clipped in
//!   `p.grad` before `opt.step()`), so no declaration is needed.
//! * header `jax_enable_x64`: `true` or `false`, JAX's x64 flag during the run (presets
//!   `optax` and `keras`; absent = `true`, what every trace without the field has meant).
//!   With `false` (JAX's default) optax's plain aliases compute `βᵗ` and RAdam's
//!   rectification in float32, which the optax kernels then reproduce
//!   ([`super::kernels::optax::Hyper`]); an optax schedule whose float32 values differ from
//!   its x64 ones, and any Keras schedule, is then evaluated as with x64 (not modelled in
//!   float32: within tolerance, not always bit for bit, and the reference line says so), unless
//!   the step lines give its value ([`super::groups`]). Refused: another value (`null`, `0`, `"false"`), `false` with
//!   dtype `f64` (float64 arrays need x64), the field on a `pytorch` or `paper` trace.
//!   `optverify.optax.record` writes it always, `optverify.keras.record` on the JAX backend.
//! * step `hyperparameters`: the values the producer used at this step, for schedules nobody
//!   can name (torch `LambdaLR`, an optax callable): `{"lr": 0.01}` for every group or
//!   `[{"lr": 0.01}, {"lr": 0.02}]` one per group (torch `lr`, `betas`, `momentum`; optax and
//!   Keras `learning_rate`; optax `b1` when `inject_hyperparams` schedules it). They take
//!   precedence over a declared schedule. Other names are accepted
//!   when they change nothing (the declared value, as an int or a float; a default the header
//!   left out; an execution flag); a per-step change of any other is refused.
//!
//! ## Line lengths
//! Each line is read whole, with a bound: the header at most [`MAX_HEADER_LINE`] (256 MiB, θ₀
//! of about 10 million parameters), a step line at most [`max_step_line`] (128 bytes per
//! parameter + 1 MiB). A longer line is [`TraceError::LineTooLong`]; model-scale runs use the
//! binary format ([`super::binary`]).
//!
//! ## Non-finite numbers
//! JSON has no NaN or infinity. A producer whose run diverged may write the *strings*
//! `"NaN"`, `"Infinity"`, `"-Infinity"` in `params` and `loss`: the oracle reads them and
//! reports the step as a disagreement. They are rejected in `grad` and `params0` (a replay
//! cannot feed a NaN gradient to an optimizer) and in hyperparameters. Python's default
//! `json.dumps` writes bare `NaN` tokens, which are not JSON: the reader rejects them with an
//! error that says to write strings instead.
//!
//! ## Streaming
//! [`TraceReader`] reads line by line into one reused buffer and yields one [`StepRecord`] at
//! a time: memory is O(number of parameters), independent of the number of steps. Every error
//! names the file, the line, the step (when known) and the field; nothing panics on input.
//!
//! ## The binary layout (model-scale runs): a directory of safetensors files
//! JSON Lines costs ~20 bytes per float and a parse; a 10⁷-parameter run of 100 steps would
//! be a 40 GB file. The binary layout stores the same trace in
//! [safetensors](https://github.com/huggingface/safetensors) files (the `safetensors` crate
//! and Python package; little-endian, the ecosystem's format), 4 bytes per float for an
//! `"f32"` trace and 8 for `"f64"`, read through a memory map ([`super::binary`]):
//!
//! ```text
//! run.ovt/                      any directory name; `optverify check run.ovt`
//!   header.safetensors          __metadata__["optverify-trace"] = the header JSON above, without params0
//!                               tensors params0.0, params0.1, …: θ₀, one per layout block
//!   step-00000001.safetensors   __metadata__["optverify-step"] = the step's JSON without grad/params
//!                               tensors grad.0, grad.1, …, params.0, params.1, …: one per block
//!                               optional norms.0, norms.1, …: 2 values per block (below)
//!   step-00000002.safetensors   …
//! ```
//!
//! * Tensor `X.i` belongs to layout block i: dtype `F32` for an `"f32"` trace, `F64` for
//!   `"f64"`; any shape whose element count is the block's `rows × cols` (a recorder saves
//!   a parameter tensor as is), values row-major. No other tensors may be present, except:
//! * **`norms.i`** (layer-wise optimizers, optional; all blocks or none): the two norms the
//!   framework's trust ratio of block i was computed from at this step, in the trace's dtype,
//!   as the framework computed them: `[‖θ_{t−1}‖, ‖u_t‖]`, θ_{t−1} the block before the step
//!   and u_t the update the ratio divides by (optax `lars`: g + λθ; `lamb`: the bias-corrected
//!   Adam direction plus λθ; λθ omitted for λ = 0). `check --sample K` needs them for optax
//!   `lamb` and `lars`: a sampled coordinate's update is element-wise once the block's ratio
//!   is known, and the ratio cannot be computed from K coordinates. `optverify.optax.record`
//!   writes them for these two optimizers (with optax's own operations, in its order). The
//!   check verifies step 1's pair against the kernel's own (θ₀ and g₁ read in full: the one
//!   step whose complete update needs no full replay) and uses the later ones as recorded.
//!   Adafactor would need per-row and per-column statistics as well (its factored moments and
//!   RMS clipping); it is not sampled.
//! * The metadata strings are the *same* JSON as the JSON Lines header and step lines, minus
//!   the arrays: the reader deserializes them into the same [`Header`] and [`StepRecord`]
//!   types, so every field (`loss`, `hyperparameters`, `param_groups`, `schedule`,
//!   `transforms`, …) means the same in both formats and a field added to those types flows
//!   through without the binary code knowing it.
//! * Steps are numbered from 1, consecutively, with 8-digit zero-padded names; a step file's
//!   `step` field must equal its name's number. Other file names are ignored (a recorder's
//!   temporary files: each file is written under a temporary name and renamed, so a reader
//!   never sees a partial step).
//! * NaN/±∞ may appear in `params` (a diverged run), never in `grad` or `params0`.
//!
//! **Why a directory of per-step files, not one file per run.** A safetensors file starts
//! with its header, which lists every tensor's offsets: a single-file trace would need all
//! tensor sizes — the number of steps — before the first byte is written, so a recorder
//! would have to know the run's length in advance or hold the run (8 GB for 10⁷ f32
//! parameters × 100 steps) in memory or a temporary file and rewrite it at the end. With
//! one file per step, a recorder writes each step as it happens, holding one step (the
//! framework's own tensors, saved as they are), and an interrupted run leaves a valid trace
//! of the steps written so far. The checker maps one step file at a time, so it streams in
//! constant memory as well, and `--sample` reads only the pages holding the sampled
//! coordinates. The cost, one small JSON header per step, is negligible at model scale.
//!
//! `optverify convert IN OUT` converts either way, exactly (an f32 trace's values are f32 in
//! both). `check`/`replay` accept either format: a directory (or a `*.safetensors` file,
//! meaning its directory) is a binary trace, anything else JSON Lines.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::io::{BufRead, Write};
use thiserror::Error;

/// The value of the header's `format` field.
pub const FORMAT_NAME: &str = "optverify-trace";
/// The only version this reader understands.
pub const FORMAT_VERSION: u64 = 1;

/// Precision the producer computed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    F64,
    F32,
}

impl Dtype {
    /// `"f64"` or `"f32"`, as written in a header.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F64 => "f64",
            Dtype::F32 => "f32",
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Dtype {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f64" | "float64" => Ok(Dtype::F64),
            "f32" | "float32" => Ok(Dtype::F32),
            _ => Err(format!("unknown dtype {s:?}; known: f64, f32")),
        }
    }
}

/// One block of the layout as written in the header (offsets are implied by the order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockSpec {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
}

/// The header line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u64,
    /// The framework's optimizer name, lower case (`sgd`, `adam`, `adamw`, `adagrad`, …).
    pub optimizer: String,
    /// Whose conventions: `pytorch`, `optax`, `keras`, `paper`.
    pub preset: String,
    /// Hyperparameters under the framework's own names.
    pub hyperparameters: serde_json::Map<String, serde_json::Value>,
    pub layout: Vec<BlockSpec>,
    pub dtype: Dtype,
    /// Who wrote the trace, with version (`"torch 2.15.0"`, `"optverify 0.1.0"`).
    pub producer: String,
    /// θ₀.
    #[serde(serialize_with = "ser_finite_vec", deserialize_with = "de_finite_vec")]
    pub params0: Vec<f64>,
    /// Parameter groups (torch `param_groups`, optax masks / `multi_transform`): absent = one
    /// group holding every block with the header's `hyperparameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param_groups: Option<Vec<ParamGroup>>,
    /// The framework's learning-rate scheduler (torch) or schedule (optax), by its own name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleSpec>,
    /// optax chain members before the optimizer, in chain order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<TransformSpec>,
    /// JAX's `jax_enable_x64` flag during the run (presets `optax` and `keras`): `false` when
    /// the run had x64 disabled, JAX's default, under which optax's plain aliases compute
    /// `βᵗ` and RAdam's rectification in float32 ([`super::kernels::optax::Hyper`]). Absent
    /// means enabled (the meaning every trace without the field has had).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_jax_enable_x64"
    )]
    pub jax_enable_x64: Option<bool>,
}

/// `jax_enable_x64`: `true` or `false`; anything else (`null`, `0`, `"False"`) is refused with
/// the valid values, so that a recorder writing a Python `None` or a string is caught.
fn de_jax_enable_x64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Ok(Some(b)),
        other => Err(de::Error::custom(format_args!(
            "`jax_enable_x64` must be true or false (JAX's x64 flag during the run; absent = true), got {other}"
        ))),
    }
}

/// One parameter group of the header: the layout blocks it holds and the hyperparameters
/// that differ from the header's (framework's own names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamGroup {
    pub blocks: Vec<String>,
    /// optax `multi_transform` only: the group's own optimizer (the alias name), when it is
    /// not the header's. Such a group does not inherit the header's `hyperparameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<String>,
    #[serde(default)]
    pub hyperparameters: serde_json::Map<String, serde_json::Value>,
}

/// A declared schedule: `{"name": "CosineAnnealingLR", "args": {"T_max": 60}}`, and for torch
/// an optional `interval` (optimizer steps per scheduler step, default 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    pub name: String,
    #[serde(default)]
    pub args: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u64>,
}

/// A chain member: `{"name": "clip_by_global_norm", "args": {"max_norm": 1.0}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformSpec {
    pub name: String,
    #[serde(default)]
    pub args: serde_json::Map<String, serde_json::Value>,
}

impl Header {
    /// Number of parameters the layout describes (saturating at `usize::MAX` for a layout
    /// whose size overflows; [`Header::checked_dim`] says which block overflows).
    pub fn dim(&self) -> usize {
        self.checked_dim().unwrap_or(usize::MAX)
    }

    /// Number of parameters the layout describes, or a message naming the block whose
    /// `rows × cols` (or the running sum) overflows `usize`.
    ///
    /// # Errors
    /// The message, for a layout whose size does not fit in `usize`.
    pub fn checked_dim(&self) -> Result<usize, String> {
        let mut total = 0usize;
        for (i, b) in self.layout.iter().enumerate() {
            let n = b.rows.checked_mul(b.cols).ok_or_else(|| {
                format!(
                    "block {i} ({:?}) has rows × cols = {} × {}, which overflows the number of parameters \
                     (at most {} on this machine)",
                    b.name,
                    b.rows,
                    b.cols,
                    usize::MAX
                )
            })?;
            total = total.checked_add(n).ok_or_else(|| {
                format!(
                    "the blocks up to block {i} ({:?}) describe more than {} parameters",
                    b.name,
                    usize::MAX
                )
            })?;
        }
        Ok(total)
    }

    /// The crate's [`crate::optim::Layout`] for this header.
    ///
    /// # Errors
    /// [`crate::layout::LayoutError`] naming the block whose `rows × cols` (or the running
    /// total) overflows `usize`: possible for a header built by hand; a header read by
    /// [`TraceReader`] or [`super::binary::BinaryTrace`] was checked.
    pub fn layout(&self) -> Result<crate::optim::Layout, crate::layout::LayoutError> {
        crate::optim::Layout::try_from_shapes(self.layout.iter().map(|b| (b.name.clone(), b.rows, b.cols)))
    }
}

/// One step line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRecord {
    pub step: u64,
    /// The gradient used at this step (finite).
    #[serde(serialize_with = "ser_finite_vec", deserialize_with = "de_finite_vec")]
    pub grad: Vec<f64>,
    /// θ_t; may hold NaN/±∞ (written as strings) if the producer diverged.
    #[serde(serialize_with = "ser_num_vec", deserialize_with = "de_num_vec")]
    pub params: Vec<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_num",
        deserialize_with = "de_opt_num"
    )]
    pub loss: Option<f64>,
    /// The hyperparameters the producer used at this step (framework's own names): an object
    /// for every group, or an array with one object per parameter group (header order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyperparameters: Option<serde_json::Value>,
}

/// Everything that can be wrong with a trace. `file` is the path as given (or `<stdin>`),
/// `line` counts from 1.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TraceError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: empty file: expected a header line")]
    Empty { file: String },
    #[error("{file}:{line}: {what}: {message}")]
    Json {
        file: String,
        line: usize,
        what: String,
        message: String,
    },
    #[error("{file}:{line}: missing field `{field}` in {what}")]
    MissingField {
        file: String,
        line: usize,
        what: String,
        field: String,
    },
    #[error("{file}:1: header field `{field}`: {message}")]
    BadHeader {
        file: String,
        field: String,
        message: String,
    },
    #[error("{file}:{line}: step {step}: field `{field}` has length {got}, expected {expected}")]
    Length {
        file: String,
        line: usize,
        step: u64,
        field: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{file}:{line}: steps not consecutive: expected step {expected}, found step {got}")]
    NotConsecutive {
        file: String,
        line: usize,
        expected: u64,
        got: u64,
    },
    #[error("{file}:{line}: truncated: the last line ends without a newline and is not a complete JSON object ({message})")]
    Truncated {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: not UTF-8 text (a trace is JSON Lines)")]
    NotUtf8 { file: String, line: usize },
    /// A line longer than the reader accepts ([`MAX_HEADER_LINE`], [`max_step_line`]): a file
    /// without newlines (`/dev/zero`, a binary file given by mistake) is refused after at
    /// most that many bytes instead of exhausting memory.
    #[error("{file}:{line}: line longer than {limit} bytes, the most a {what} line of this trace may take (a trace is JSON Lines; model-scale runs: the binary format)")]
    LineTooLong {
        file: String,
        line: usize,
        what: &'static str,
        limit: u64,
    },
}

/// The longest header line a JSON Lines trace may have, 256 MiB: θ₀ of about 10 million
/// parameters at up to 25 characters a number (model-scale runs: the binary format, which
/// has no such limit). A line is read into memory whole, so the bound is what protects the
/// reader from a file without newlines.
pub const MAX_HEADER_LINE: u64 = 256 << 20;

/// The longest step line of a trace of `dim` parameters: 64 bytes for each of the 2·dim
/// numbers (gradient and parameters; the longest f64 in JSON, `-2.2250738585072014e-308`,
/// takes 24 and `"-Infinity"` 11, so 64 leaves room for any separator), at most 1 GiB (four
/// times the largest θ₀ a header may hold, [`MAX_HEADER_LINE`]), plus 1 MiB for the step's
/// loss and hyperparameters.
pub fn max_step_line(dim: usize) -> u64 {
    (dim as u64).saturating_mul(128).min(4 * MAX_HEADER_LINE) + (1 << 20)
}

/// `read_line` that takes at most `limit` bytes: `Ok(Some(n))` for a line of n ≤ `limit`
/// bytes (0 at the end of the input), `Ok(None)` for a longer one (what was read is left in
/// `buf`, at most `limit` + 1 bytes).
///
/// # Errors
/// The reader's I/O errors; `InvalidData` for text that is not UTF-8.
pub fn read_line_bounded<R: BufRead>(
    reader: &mut R,
    buf: &mut String,
    limit: u64,
) -> std::io::Result<Option<usize>> {
    let n = std::io::Read::take(reader, limit.saturating_add(1)).read_line(buf)?;
    Ok((n as u64 <= limit).then_some(n))
}

impl TraceError {
    /// `path` is where in the line's object the error is (`layout[0].rows`), `None` or `"."`
    /// at the top level.
    fn json(file: &str, line: usize, what: &str, err: &serde_json::Error, path: Option<&str>) -> Self {
        let msg = err.to_string();
        let path = path.filter(|p| !p.is_empty() && *p != ".");
        // serde_json reports a missing field as "missing field `x` at line 1 column N".
        if let Some(rest) = msg.strip_prefix("missing field `") {
            if let Some(end) = rest.find('`') {
                let name = &rest[..end];
                return TraceError::MissingField {
                    file: file.into(),
                    line,
                    what: what.into(),
                    field: path.map_or_else(|| name.to_string(), |p| format!("{p}.{name}")),
                };
            }
        }
        TraceError::Json {
            file: file.into(),
            line,
            what: path.map_or_else(|| what.to_string(), |p| format!("{what} field `{p}`")),
            message: msg,
        }
    }

    /// A failed `read_line`: invalid UTF-8 is located at `line`, anything else is I/O.
    fn read(file: &str, line: usize, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::InvalidData {
            TraceError::NotUtf8 {
                file: file.into(),
                line,
            }
        } else {
            TraceError::Io {
                file: file.into(),
                source,
            }
        }
    }
}

/// Parse one line. On failure, parse it again tracking the path so that the error names the
/// field (`layout[0].rows`, `grad[3]`); the fast path pays nothing for it.
fn parse_line<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, (serde_json::Error, Option<String>)> {
    serde_json::from_str(text).map_err(|e| {
        let mut de = serde_json::Deserializer::from_str(text);
        let path = match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Err(located) => Some(located.path().to_string()),
            Ok(_) => None,
        };
        (e, path)
    })
}

// ---- numbers: finite f64, or (where allowed) the strings "NaN", "Infinity", "-Infinity" ----

fn non_finite_from_str(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

struct NumVecVisitor {
    allow_non_finite: bool,
}

impl<'de> Visitor<'de> for NumVecVisitor {
    type Value = Vec<f64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.allow_non_finite {
            f.write_str("an array of numbers (or the strings \"NaN\", \"Infinity\", \"-Infinity\")")
        } else {
            f.write_str("an array of finite numbers")
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
        // Preallocate no more than a small bound: a size hint comes from the input.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(n) = seq.next_element::<Num>()? {
            if !self.allow_non_finite && !n.0.is_finite() {
                return Err(de::Error::custom(format_args!(
                    "entry {} is {}, but this field must be finite",
                    out.len(),
                    n.0
                )));
            }
            out.push(n.0);
        }
        Ok(out)
    }
}

/// One number as read: a JSON number or one of the three non-finite strings.
struct Num(f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Num, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or \"NaN\"/\"Infinity\"/\"-Infinity\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                non_finite_from_str(v)
                    .map(Num)
                    .ok_or_else(|| E::custom(format_args!("string {v:?} is not a number")))
            }
        }
        d.deserialize_any(V)
    }
}

fn de_num_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    d.deserialize_seq(NumVecVisitor {
        allow_non_finite: true,
    })
}

fn de_finite_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    d.deserialize_seq(NumVecVisitor {
        allow_non_finite: false,
    })
}

fn de_opt_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<Num>::deserialize(d).map(|o| o.map(|n| n.0))
}

fn ser_one<S: Serializer>(x: f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(x)
    } else if x.is_nan() {
        s.serialize_str("NaN")
    } else if x > 0.0 {
        s.serialize_str("Infinity")
    } else {
        s.serialize_str("-Infinity")
    }
}

struct SerNum(f64);
impl Serialize for SerNum {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ser_one(self.0, s)
    }
}

fn ser_num_vec<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|&x| SerNum(x)))
}

fn ser_finite_vec<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(serde::ser::Error::custom(format_args!(
            "entry {i} is {}, which this field does not allow",
            v[i]
        )));
    }
    s.collect_seq(v.iter().copied())
}

fn ser_opt_num<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) => ser_one(*x, s),
        None => s.serialize_none(),
    }
}

// ---- reader ----

/// Streaming reader: parses the header on construction, then yields steps.
pub struct TraceReader<R: BufRead> {
    file: String,
    reader: R,
    header: Header,
    line: usize,
    next_step: u64,
    buf: String,
    /// [`max_step_line`] of this trace.
    max_line: u64,
    done: bool,
}

impl<R: BufRead> fmt::Debug for TraceReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceReader")
            .field("file", &self.file)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

/// Explain serde_json's failure on Python's bare `NaN` / `Infinity` tokens.
fn bare_non_finite_hint(text: &str) -> &'static str {
    let has = |tok: &str| {
        text.match_indices(tok).any(|(i, _)| {
            // a bare token is not preceded by a quote
            i == 0 || text.as_bytes()[i - 1] != b'"'
        })
    };
    if has("NaN") || has("Infinity") {
        " (bare NaN/Infinity is not JSON; write the strings \"NaN\", \"Infinity\", \"-Infinity\")"
    } else {
        ""
    }
}

impl<R: BufRead> TraceReader<R> {
    /// Read and validate the header. `file` is only used in error messages.
    ///
    /// # Errors
    /// [`TraceError`] naming the file, line 1 and the field.
    pub fn new(file: impl Into<String>, mut reader: R) -> Result<Self, TraceError> {
        let file = file.into();
        let mut buf = String::new();
        let n = read_line_bounded(&mut reader, &mut buf, MAX_HEADER_LINE)
            .map_err(|source| TraceError::read(&file, 1, source))?
            .ok_or_else(|| TraceError::LineTooLong {
                file: file.clone(),
                line: 1,
                what: "header",
                limit: MAX_HEADER_LINE,
            })?;
        if n == 0 || buf.trim().is_empty() {
            return Err(TraceError::Empty { file });
        }
        let header: Header = parse_line(buf.trim_end()).map_err(|(e, path)| {
            let mut err = TraceError::json(&file, 1, "header", &e, path.as_deref());
            if let TraceError::Json { message, .. } = &mut err {
                message.push_str(bare_non_finite_hint(&buf));
            }
            err
        })?;
        let bad = |field: &str, message: String| TraceError::BadHeader {
            file: file.clone(),
            field: field.into(),
            message,
        };
        if header.format != FORMAT_NAME {
            return Err(bad(
                "format",
                format!("is {:?}, expected {FORMAT_NAME:?}", header.format),
            ));
        }
        if header.version != FORMAT_VERSION {
            return Err(bad(
                "version",
                format!(
                    "is {}, this reader understands version {FORMAT_VERSION}",
                    header.version
                ),
            ));
        }
        if header.layout.is_empty() {
            return Err(bad("layout", "has no blocks".into()));
        }
        // Sizes come from the input: checked arithmetic, and every block non-empty, so that a
        // layout can neither wrap to a small number nor describe nothing.
        if let Some((i, b)) = header
            .layout
            .iter()
            .enumerate()
            .find(|(_, b)| b.rows == 0 || b.cols == 0)
        {
            return Err(bad(
                "layout",
                format!(
                    "block {i} ({:?}) is {} × {}; valid range: rows ≥ 1 and cols ≥ 1",
                    b.name, b.rows, b.cols
                ),
            ));
        }
        let dim = header.checked_dim().map_err(|m| {
            bad(
                "layout",
                format!(
                    "{m}; valid: the blocks' rows × cols must sum to the length of params0 ({})",
                    header.params0.len()
                ),
            )
        })?;
        // Checked before anything is allocated for the layout: params0 is what the input
        // actually supplied.
        if header.params0.len() != dim {
            return Err(bad(
                "params0",
                format!(
                    "has length {}, but the layout describes {dim} parameters",
                    header.params0.len(),
                ),
            ));
        }
        let mut header = header;
        super::schedules::keras_schedule_from_learning_rate(&mut header)
            .map_err(|m| bad("hyperparameters.learning_rate", m))?;
        let max_line = max_step_line(dim);
        Ok(TraceReader {
            file,
            reader,
            header,
            line: 1,
            next_step: 1,
            buf,
            max_line,
            done: false,
        })
    }

    /// The parsed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The file name used in messages.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Line number of the last line read.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The next step, `Ok(None)` at the end of the file.
    ///
    /// # Errors
    /// [`TraceError`] for I/O failures, malformed JSON, missing fields, wrong lengths,
    /// non-finite gradients, non-consecutive steps and a truncated last line.
    pub fn next_step(&mut self) -> Result<Option<StepRecord>, TraceError> {
        if self.done {
            return Ok(None);
        }
        loop {
            self.buf.clear();
            let n = match read_line_bounded(&mut self.reader, &mut self.buf, self.max_line) {
                Ok(Some(n)) => n,
                Ok(None) => {
                    self.done = true;
                    return Err(TraceError::LineTooLong {
                        file: self.file.clone(),
                        line: self.line + 1,
                        what: "step",
                        limit: self.max_line,
                    });
                }
                Err(source) => {
                    self.done = true;
                    return Err(TraceError::read(&self.file, self.line + 1, source));
                }
            };
            if n == 0 {
                self.done = true;
                return Ok(None);
            }
            self.line += 1;
            if !self.buf.trim().is_empty() {
                break;
            }
        }
        let complete = self.buf.ends_with('\n');
        let rec: StepRecord = match parse_line(self.buf.trim_end()) {
            Ok(r) => r,
            Err((e, path)) => {
                self.done = true;
                if !complete && (e.is_eof() || e.is_syntax()) {
                    return Err(TraceError::Truncated {
                        file: self.file.clone(),
                        line: self.line,
                        message: e.to_string(),
                    });
                }
                let what = format!("step {}", self.next_step);
                let mut err = TraceError::json(&self.file, self.line, &what, &e, path.as_deref());
                if let TraceError::Json { message, .. } = &mut err {
                    message.push_str(bare_non_finite_hint(&self.buf));
                }
                return Err(err);
            }
        };
        if rec.step != self.next_step {
            self.done = true;
            return Err(TraceError::NotConsecutive {
                file: self.file.clone(),
                line: self.line,
                expected: self.next_step,
                got: rec.step,
            });
        }
        let dim = self.header.params0.len();
        for (field, len) in [("grad", rec.grad.len()), ("params", rec.params.len())] {
            if len != dim {
                self.done = true;
                return Err(TraceError::Length {
                    file: self.file.clone(),
                    line: self.line,
                    step: rec.step,
                    field,
                    expected: dim,
                    got: len,
                });
            }
        }
        self.next_step += 1;
        Ok(Some(rec))
    }
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = Result<StepRecord, TraceError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_step().transpose()
    }
}

/// Open a trace file (buffered) and read its header.
///
/// # Errors
/// As [`TraceReader::new`], plus [`TraceError::Io`] if the file cannot be opened.
pub fn open(path: &std::path::Path) -> Result<TraceReader<std::io::BufReader<std::fs::File>>, TraceError> {
    let name = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|source| TraceError::Io {
        file: name.clone(),
        source,
    })?;
    TraceReader::new(name, std::io::BufReader::new(f))
}

// ---- writer ----

/// Writes a header, then steps, one JSON object per line, floats shortest-round-trip.
pub struct TraceWriter<W: Write> {
    out: W,
    dim: usize,
    next_step: u64,
}

impl<W: Write> fmt::Debug for TraceWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceWriter")
            .field("dim", &self.dim)
            .field("next_step", &self.next_step)
            .finish_non_exhaustive()
    }
}

impl<W: Write> TraceWriter<W> {
    /// Write the header line.
    ///
    /// # Errors
    /// I/O errors, or a non-finite value in `params0`.
    pub fn new(mut out: W, header: &Header) -> std::io::Result<Self> {
        serde_json::to_writer(&mut out, header).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
        Ok(TraceWriter {
            out,
            dim: header.params0.len(),
            next_step: 1,
        })
    }

    /// Write the next step (numbered automatically from 1).
    ///
    /// # Errors
    /// I/O errors, a length that differs from `params0`, or a non-finite gradient.
    pub fn step(&mut self, grad: &[f64], params: &[f64], loss: Option<f64>) -> std::io::Result<()> {
        if grad.len() != self.dim || params.len() != self.dim {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "step {}: grad has length {}, params {}, expected {}",
                    self.next_step,
                    grad.len(),
                    params.len(),
                    self.dim
                ),
            ));
        }
        let rec = StepRecord {
            step: self.next_step,
            grad: grad.to_vec(),
            params: params.to_vec(),
            loss,
            hyperparameters: None,
        };
        serde_json::to_writer(&mut self.out, &rec).map_err(std::io::Error::other)?;
        self.out.write_all(b"\n")?;
        self.next_step += 1;
        Ok(())
    }

    /// Flush and return the inner writer.
    ///
    /// # Errors
    /// I/O errors on flush.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(dim: usize) -> Header {
        Header {
            format: FORMAT_NAME.into(),
            version: 1,
            optimizer: "sgd".into(),
            preset: "pytorch".into(),
            hyperparameters: serde_json::Map::new(),
            layout: vec![BlockSpec {
                name: "params".into(),
                rows: dim,
                cols: 1,
            }],
            dtype: Dtype::F64,
            producer: "test".into(),
            params0: vec![0.1; dim],
            param_groups: None,
            schedule: None,
            transforms: Vec::new(),
            jax_enable_x64: None,
        }
    }

    #[test]
    fn round_trip_is_bit_exact_including_non_finite_params() {
        let values = [0.1, 1e-300, -3.0e8, f64::MIN_POSITIVE / 3.0, 1.0 / 3.0];
        let mut w = TraceWriter::new(Vec::new(), &header(5)).unwrap();
        w.step(&values, &values, Some(0.5)).unwrap();
        let odd = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0];
        w.step(&values, &odd, None).unwrap();
        let bytes = w.finish().unwrap();
        let mut r = TraceReader::new("mem", &bytes[..]).unwrap();
        let s1 = r.next_step().unwrap().unwrap();
        for (a, b) in s1.params.iter().zip(values.iter()) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
        assert_eq!(s1.loss, Some(0.5));
        let s2 = r.next_step().unwrap().unwrap();
        assert!(s2.params[0].is_nan());
        assert_eq!(s2.params[1], f64::INFINITY);
        assert_eq!(s2.params[2], f64::NEG_INFINITY);
        assert_eq!(s2.params[4].to_bits(), (-0.0f64).to_bits());
        assert!(r.next_step().unwrap().is_none());
    }

    #[test]
    fn writer_refuses_non_finite_gradient() {
        let mut w = TraceWriter::new(Vec::new(), &header(1)).unwrap();
        assert!(w.step(&[f64::NAN], &[0.0], None).is_err());
    }
}
