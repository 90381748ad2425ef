//! # Oracle
//!
//! Reference trajectories and step-by-step comparison of other implementations' traces.
//!
//! | file | what |
//! |---|---|
//! | [`format`](mod@format) | the `optverify-trace` format (JSON Lines and the binary layout, specified there): streaming reader with located errors, writer |
//! | [`binary`] | the binary layout (a directory of safetensors files, memory-mapped): reader, writer, `convert`, `check`/`replay` in constant memory, `--sample` |
//! | [`presets`] | header `(preset, optimizer, framework hyperparameter names)` → the crate's config; convention variants |
//! | [`groups`] | a header's parameter groups, schedule, optax chain members and per-step hyperparameters, resolved for the replay |
//! | [`kernels`] | each framework's own operation order, generic over f32/f64, for bit-for-bit replay |
//! | [`compare`] | replay a trace's gradients through its reference (kernel in the trace's dtype, or the crate's f64 optimizer), compare parameters in ulps and relative terms |
//! | [`infer`] | when nothing declared matches: infer a schedule, parameter groups, clipping from the trace (exit 3), or name a typical bug |
//! | [`schedules`] | the frameworks' learning-rate schedulers/schedules in their own arithmetic (torch recursive, optax in JAX dtypes) |
//! | [`synthetic`] | a trace generated as it is read (memory test, benchmark) |
//! | [`cli`] | `trace`, `replay`, `check`, `conformance` as functions returning an exit status and text |
//!
//! Golden traces from torch and optax live in `tests/data/golden/` (written by
//! `scripts/golden_traces.py`), and from Keras 3 on the jax backend (`keras-*.jsonl`, written
//! by `scripts/golden_keras.py` from the same cases); versions pinned in
//! `scripts/requirements-golden.txt`.

pub mod binary;
pub mod cli;
pub mod compare;
pub mod format;
pub mod groups;
pub mod infer;
pub mod kernels;
pub mod presets;
pub mod schedules;
pub mod synthetic;
