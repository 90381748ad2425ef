//! The preset/optimizer names and the one exercise of a hyperparameter object shared by the
//! proptest slice of the readers (tests/fuzz_trace.rs) and the libFuzzer target
//! (fuzz/fuzz_targets/oracle_inputs.rs), each of which includes this file with `#[path]`.
//! The names include ones that are not presets or optimizers (wrong case, empty, another
//! framework), so that the refusal paths are exercised too. The fuzz target indexes these
//! lists by input bytes: new names go at the end, so that its committed seeds keep their
//! meaning.

use optverify::oracle::format::BlockSpec;
use optverify::oracle::presets::{self, PresetError};
use serde_json::{Map, Value};

/// Preset names given to [`presets::resolve`].
pub const PRESETS: &[&str] = &["pytorch", "optax", "keras", "tensorflow", "paper", "", "PyTorch"];

/// Optimizer names given to [`presets::resolve`].
pub const OPTIMIZERS: &[&str] = &[
    "sgd",
    "adam",
    "adamw",
    "amsgrad",
    "adagrad",
    "rmsprop",
    "adadelta",
    "nadam",
    "radam",
    "adafactor",
    "lamb",
    "lars",
    "adagrad_norm",
    "heavy_ball",
    "kfac",
    "",
    "Adam",
];

/// Resolve `(preset, optimizer, map)`; if it resolves, give the setting the layout `blocks`,
/// build it and build every convention variant (whose own errors are values, not checked).
///
/// # Errors
/// The refusal of [`presets::resolve`], for the caller to check that it names what is wrong;
/// a layout whose sizes overflow, as a [`PresetError::Declaration`] of `layout`.
pub fn exercise_setting(
    preset: &str,
    optimizer: &str,
    map: &Map<String, Value>,
    blocks: &[BlockSpec],
) -> Result<(), PresetError> {
    let setting = presets::resolve(preset, optimizer, map)?
        .with_layout(blocks)
        .map_err(|e| PresetError::Declaration {
            field: "layout".into(),
            message: e.to_string(),
        })?;
    let _ = setting.build();
    for v in presets::variants("fuzz", &setting) {
        let _ = v.setting.build();
    }
    Ok(())
}
