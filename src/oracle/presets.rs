//! # Presets: a trace header → the crate's optimizer
//!
//! Maps `(preset, optimizer, hyperparameters under the framework's own names)` onto the
//! crate's configs ([`crate::optim`]), filling in the framework's defaults for every name the
//! header leaves out, and rejecting names this mapping does not know (a silently ignored
//! setting would make a disagreement look like a convention difference).
//!
//! | preset | optimizers | names |
//! |---|---|---|
//! | `pytorch` | `sgd`, `adam`, `adamw`, `adagrad`, `rmsprop`, `adadelta`, `nadam`, `radam`, `adafactor` | `beta2_decay`, `d`, `lr`, `momentum`, `dampening`, `nesterov`, `weight_decay`, `betas`, `eps`, `amsgrad`, `lr_decay`, `initial_accumulator_value`, `alpha`, `centered`, `rho`, `momentum_decay`, `decoupled_weight_decay` |
//! | `optax` | `sgd`, `adam`, `adamw`, `amsgrad`, `nadam`, `radam`, `lamb`, `lars`, `adafactor`, `adagrad`, `rmsprop`, `adadelta` | `learning_rate`, `momentum`, `nesterov`, `b1`, `b2`, `eps`, `eps_root`, `mu_dtype` (null only), `weight_decay`, `threshold`, `mask` (null only), `weight_decay_mask`, `trust_ratio_mask` (true only), `trust_coefficient`, `min_dim_size_to_factor`, `decay_rate`, `decay_offset` (an integer ≤ 0), `multiply_by_parameter_scale`, `clipping_threshold`, `momentum`, `dtype_momentum` (`"float32"`, `"float64"`, null), `weight_decay_rate`, `factored`, `initial_accumulator_value`, `decay`, `initial_scale`, `eps_in_sqrt`, `centered`, `bias_correction`, `rho` |
//! | `keras` | `sgd`, `adam`, `adamw`, `adagrad`, `rmsprop`, `adadelta` | `learning_rate` (a number, or a serialized schedule: see below), `momentum`, `nesterov`, `beta_1`, `beta_2`, `epsilon`, `amsgrad`, `weight_decay`, `initial_accumulator_value`, `rho`, `centered`; base arguments `name`, `ema_momentum` (no effect), `clipnorm`, `clipvalue`, `global_clipnorm`, `loss_scale_factor`, `gradient_accumulation_steps`, `ema_overwrite_frequency` (must be null), `use_ema` (must be false) |
//!
//! PyTorch's execution flags `foreach`, `differentiable`, `capturable` and `fused` are accepted
//! and do not change the update's mathematics; `maximize` is handled by the replay (the
//! gradient negated, [`super::groups`]). `fused=True` runs ATen's fused kernels, which
//! evaluate the same operations in another rounding order: the reference is the for-loop
//! kernel, so such a run agrees within tolerance rather than bit for bit (measured on real
//! torch 2.15 CPU runs of 30 steps: SGD, Adagrad 0 ulps; SGD-Nesterov, Adam, AdamW,
//! AMSGrad ≤ 3 ulps of the coordinate scale, f32 and f64). optax has no default learning
//! rate: `learning_rate` is required (for `adadelta`, absent or `null` means no scaling, 1).
//!
//! Keras `optimizer.get_config()` can be written as the header's `hyperparameters` verbatim.
//! With a schedule its `learning_rate` is the serialized schedule (`{"module":
//! "keras.optimizers.schedules", "class_name": "CosineDecay", "config": {…}, "registered_name":
//! null}`): the trace readers take that as the header's `schedule` declaration
//! ([`super::schedules::keras_schedule_from_learning_rate`]) and [`super::groups`] resolves
//! the setting without it; a schedule the oracle does not model (custom, registered, a
//! callable) needs the learning rate on the step lines.
//!
//! Layer-wise and factored settings (`lamb`, `lars`, `adafactor`) need the trace's layout: [`resolve_header`] applies it
//! ([`Setting::with_layout`]); [`resolve`] alone gives one block.
//!
//! [`variants`] lists the convention variants of a resolved setting that the diagnosis of
//! [`super::cli::check`] replays (ε inside/outside the root, AMSGrad's maximum, AdamW's decay,
//! Keras' ε-hat, AdaGrad's initial accumulator, where the learning rate enters a momentum
//! buffer, NAdam's momentum schedule, RAdam's ε order and threshold).

use super::format::{BlockSpec, Header};
use crate::error::HyperError;
use crate::layout::LayoutError;
use crate::optim::adadelta::AdaDeltaConfig;
use crate::optim::adafactor::{
    AdafactorConfig, AdafactorDecay, DecayPrecision, Eps1Placement, Factoring, MomentumDtype,
};
use crate::optim::adagrad::AdaGradConfig;
use crate::optim::adam::AdamConfig;
use crate::optim::adamw::AdamWConfig;
use crate::optim::conventions::{AdamFormulation, AmsGradMax, BiasCorrection, EpsPlacement, WeightDecay};
use crate::optim::lamb::LambConfig;
use crate::optim::lars::{LarsConfig, LarsTrustRatio};
use crate::optim::layout::Layout;
use crate::optim::nadam::{MomentumSchedule, NAdamConfig};
use crate::optim::radam::{RAdamConfig, Threshold};
use crate::optim::rmsprop::{Centering, MomentumPlacement, RmsPropConfig};
use crate::optim::sgd::SgdConfig;
use crate::optim::Optimizer;
use serde_json::{Map, Value};
use thiserror::Error;

/// A header that cannot be mapped onto an optimizer.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum PresetError {
    #[error("unknown preset {preset:?}; known presets: pytorch, optax, keras")]
    UnknownPreset { preset: String },
    #[error("preset {preset}: unknown optimizer {optimizer:?}; known: {known}")]
    UnknownOptimizer {
        preset: String,
        optimizer: String,
        known: &'static str,
    },
    #[error("{preset} {optimizer}: unknown hyperparameter {name:?}; known: {known}")]
    UnknownHyperparameter {
        preset: String,
        optimizer: String,
        name: String,
        known: String,
    },
    #[error("{preset} {optimizer}: hyperparameter `{name}` must be {expected}, got {got}")]
    BadValue {
        preset: String,
        optimizer: String,
        name: String,
        expected: &'static str,
        got: String,
    },
    #[error("{preset} {optimizer}: hyperparameter `{name}` is required")]
    Required {
        preset: String,
        optimizer: String,
        name: &'static str,
    },
    #[error("{preset} {optimizer}: {reason}")]
    Unsupported {
        preset: String,
        optimizer: String,
        reason: String,
    },
    #[error("{0}")]
    Hyper(#[from] HyperError),
    /// A header field beyond the hyperparameters (`param_groups`, `schedule`, `transforms`)
    /// that is malformed or declares something not modelled.
    #[error("header field `{field}`: {message}")]
    Declaration { field: String, message: String },
}

/// A resolved configuration of one of the crate's optimizers.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    Sgd(SgdConfig),
    Adam(AdamConfig),
    AdamW(AdamWConfig),
    AdaGrad(AdaGradConfig),
    RmsProp(RmsPropConfig),
    AdaDelta(AdaDeltaConfig),
    NAdam(NAdamConfig),
    RAdam(RAdamConfig),
    Lamb(LambConfig),
    Lars(LarsConfig),
    Adafactor(AdafactorConfig),
}

impl Setting {
    /// Validate and build the optimizer.
    ///
    /// # Errors
    /// The config's [`HyperError`].
    pub fn build(&self) -> Result<Box<dyn Optimizer>, HyperError> {
        Ok(match self.clone() {
            Setting::Sgd(c) => Box::new(c.build()?),
            Setting::Adam(c) => Box::new(c.build()?),
            Setting::AdamW(c) => Box::new(c.build()?),
            Setting::AdaGrad(c) => Box::new(c.build()?),
            Setting::RmsProp(c) => Box::new(c.build()?),
            Setting::AdaDelta(c) => Box::new(c.build()?),
            Setting::NAdam(c) => Box::new(c.build()?),
            Setting::RAdam(c) => Box::new(c.build()?),
            Setting::Lamb(c) => Box::new(c.build()?),
            Setting::Lars(c) => Box::new(c.build()?),
            Setting::Adafactor(c) => Box::new(c.build()?),
        })
    }

    /// The learning rate of the setting, to change it in place.
    pub fn lr_mut(&mut self) -> &mut f64 {
        match self {
            Setting::Sgd(c) => &mut c.lr,
            Setting::Adam(c) => &mut c.lr,
            Setting::AdamW(c) => &mut c.adam.lr,
            Setting::AdaGrad(c) => &mut c.lr,
            Setting::RmsProp(c) => &mut c.lr,
            Setting::AdaDelta(c) => &mut c.lr,
            Setting::NAdam(c) => &mut c.lr,
            Setting::RAdam(c) => &mut c.lr,
            Setting::Lamb(c) => &mut c.lr,
            Setting::Lars(c) => &mut c.lr,
            Setting::Adafactor(c) => &mut c.lr,
        }
    }

    /// The element-wise weight decay of the setting, to read or change in place; `None` for
    /// the layer-wise optimizers, whose decay is not a [`WeightDecay`].
    pub fn weight_decay_mut(&mut self) -> Option<&mut WeightDecay> {
        match self {
            Setting::Sgd(c) => Some(&mut c.weight_decay),
            Setting::Adam(c) => Some(&mut c.weight_decay),
            Setting::AdamW(c) => Some(&mut c.weight_decay),
            Setting::AdaGrad(c) => Some(&mut c.weight_decay),
            Setting::RmsProp(c) => Some(&mut c.weight_decay),
            Setting::AdaDelta(c) => Some(&mut c.weight_decay),
            Setting::NAdam(c) => Some(&mut c.weight_decay),
            Setting::RAdam(c) => Some(&mut c.weight_decay),
            Setting::Lamb(_) | Setting::Lars(_) | Setting::Adafactor(_) => None,
        }
    }

    /// The learning rate of the setting (what a schedule starts from).
    pub fn lr(&self) -> f64 {
        match self {
            Setting::Sgd(c) => c.lr,
            Setting::Adam(c) => c.lr,
            Setting::AdamW(c) => c.adam.lr,
            Setting::AdaGrad(c) => c.lr,
            Setting::RmsProp(c) => c.lr,
            Setting::AdaDelta(c) => c.lr,
            Setting::NAdam(c) => c.lr,
            Setting::RAdam(c) => c.lr,
            Setting::Lamb(c) => c.lr,
            Setting::Lars(c) => c.lr,
            Setting::Adafactor(c) => c.lr,
        }
    }

    /// What torch's `OneCycleLR` cycles: `betas[0]` of the Adam family, `momentum` of SGD and
    /// RMSprop; `None` for the others.
    pub fn momentum_like(&self) -> Option<f64> {
        match self {
            Setting::Sgd(c) => Some(c.momentum),
            Setting::RmsProp(c) => Some(c.momentum),
            Setting::Adam(c) => Some(c.beta1),
            Setting::AdamW(c) => Some(c.adam.beta1),
            Setting::NAdam(c) => Some(c.beta1),
            Setting::RAdam(c) => Some(c.beta1),
            _ => None,
        }
    }

    /// The setting with the trace's layout: layer-wise and factored optimizers (LAMB, LARS)
    /// take one trust ratio per block, as optax takes one per leaf. Element-wise settings are
    /// returned unchanged.
    ///
    /// # Errors
    /// [`LayoutError`] naming the block, for blocks whose sizes overflow `usize` (a header
    /// built by hand; a header read by [`super::format`] or [`super::binary`] was checked),
    /// when the setting takes a layout.
    pub fn with_layout(self, blocks: &[BlockSpec]) -> Result<Setting, LayoutError> {
        let layout = || Layout::try_from_shapes(blocks.iter().map(|b| (b.name.clone(), b.rows, b.cols)));
        Ok(match self {
            Setting::Lamb(c) => Setting::Lamb(c.with_layout(layout()?)),
            Setting::Lars(c) => Setting::Lars(c.with_layout(layout()?)),
            Setting::Adafactor(c) => Setting::Adafactor(c.with_layout(layout()?)),
            other => other,
        })
    }
}

/// Reads hyperparameters by name, remembering which were used.
struct Hp<'a> {
    map: &'a Map<String, Value>,
    preset: &'a str,
    optimizer: &'a str,
    known: Vec<&'static str>,
}

impl<'a> Hp<'a> {
    fn bad(&self, name: &str, expected: &'static str, got: &Value) -> PresetError {
        PresetError::BadValue {
            preset: self.preset.into(),
            optimizer: self.optimizer.into(),
            name: name.into(),
            expected,
            got: got.to_string(),
        }
    }

    fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        self.known.push(name);
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn f64(&mut self, name: &'static str, default: f64) -> Result<f64, PresetError> {
        Ok(self.opt_f64(name)?.unwrap_or(default))
    }

    fn opt_f64(&mut self, name: &'static str) -> Result<Option<f64>, PresetError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(self.bad(name, "a finite number", v)),
            },
        }
    }

    fn required_f64(&mut self, name: &'static str) -> Result<f64, PresetError> {
        self.opt_f64(name)?.ok_or(PresetError::Required {
            preset: self.preset.into(),
            optimizer: self.optimizer.into(),
            name,
        })
    }

    fn bool(&mut self, name: &'static str, default: bool) -> Result<bool, PresetError> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.bad(name, "true or false", v)),
        }
    }

    fn pair(&mut self, name: &'static str, default: (f64, f64)) -> Result<(f64, f64), PresetError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.as_array().map(|a| a.as_slice()) {
                Some([a, b]) => match (a.as_f64(), b.as_f64()) {
                    (Some(a), Some(b)) if a.is_finite() && b.is_finite() => Ok((a, b)),
                    _ => Err(self.bad(name, "a pair of finite numbers", v)),
                },
                _ => Err(self.bad(name, "a pair of finite numbers", v)),
            },
        }
    }

    /// PyTorch's execution flags: accepted, no effect on the update's mathematics (`fused`
    /// rounds differently: see the module doc); maximize refused here (the plan handles it).
    fn torch_flags(&mut self) -> Result<(), PresetError> {
        for flag in ["foreach", "differentiable", "capturable", "fused"] {
            let _ = self.get(flag);
        }
        for flag in ["maximize"] {
            if self.bool(flag, false)? {
                return Err(PresetError::Unsupported {
                    preset: self.preset.into(),
                    optimizer: self.optimizer.into(),
                    reason: format!("`{flag}=True` is not modelled by the oracle"),
                });
            }
        }
        Ok(())
    }

    fn unsupported(&self, reason: &str) -> PresetError {
        PresetError::Unsupported {
            preset: self.preset.into(),
            optimizer: self.optimizer.into(),
            reason: reason.into(),
        }
    }

    /// Every name in the map must have been asked for.
    fn finish(self) -> Result<(), PresetError> {
        for name in self.map.keys() {
            if !self.known.contains(&name.as_str()) {
                let mut known = self.known.clone();
                known.sort_unstable();
                known.dedup();
                return Err(PresetError::UnknownHyperparameter {
                    preset: self.preset.into(),
                    optimizer: self.optimizer.into(),
                    name: name.clone(),
                    known: known.join(", "),
                });
            }
        }
        Ok(())
    }
}

fn coupled(lambda: f64) -> WeightDecay {
    if lambda == 0.0 {
        WeightDecay::None
    } else {
        WeightDecay::CoupledL2(lambda)
    }
}

fn decoupled_times_lr(lambda: f64) -> WeightDecay {
    if lambda == 0.0 {
        WeightDecay::None
    } else {
        WeightDecay::DecoupledTimesLr(lambda)
    }
}

/// PyTorch NAdam/RAdam: `weight_decay` (0) coupled, or × lr with `decoupled_weight_decay`.
fn torch_decay(hp: &mut Hp) -> Result<WeightDecay, PresetError> {
    let lambda = hp.f64("weight_decay", 0.0)?;
    Ok(if hp.bool("decoupled_weight_decay", false)? {
        decoupled_times_lr(lambda)
    } else {
        coupled(lambda)
    })
}

/// Resolve a header's `(preset, optimizer, hyperparameters)` into a crate config.
///
/// # Errors
/// [`PresetError`] naming the unknown preset, optimizer or hyperparameter, or the bad value.
pub fn resolve(preset: &str, optimizer: &str, map: &Map<String, Value>) -> Result<Setting, PresetError> {
    let mut hp = Hp {
        map,
        preset,
        optimizer,
        known: Vec::new(),
    };
    let setting = match preset {
        "pytorch" => pytorch(optimizer, &mut hp)?,
        "optax" => optax(optimizer, &mut hp)?,
        "keras" => keras(optimizer, &mut hp)?,
        _ => {
            return Err(PresetError::UnknownPreset {
                preset: preset.into(),
            })
        }
    };
    hp.finish()?;
    // Validate now, so a bad value is reported as bad input before any replay.
    setting.build()?;
    Ok(setting)
}

/// Resolve a trace header: [`resolve`] plus the header's layout ([`Setting::with_layout`]).
/// Without the layout a layer-wise optimizer would take one trust ratio over all blocks
/// together, which no framework does for a model with several leaves.
///
/// # Errors
/// As [`resolve`]; [`PresetError::Declaration`] (field `layout`) for a layer-wise or factored
/// optimizer whose layout's sizes overflow.
/// PyTorch's Adafactor takes ε₁ = `eps[0]` = None as the machine epsilon of the parameters'
/// dtype, which only the header's dtype tells ([`resolve`] assumes f64).
pub fn resolve_header(header: &Header) -> Result<Setting, PresetError> {
    let setting = resolve(&header.preset, &header.optimizer, &header.hyperparameters)?
        .with_layout(&header.layout)
        .map_err(|e| PresetError::Declaration {
            field: "layout".into(),
            message: e.to_string(),
        })?;
    Ok(match setting {
        Setting::Adafactor(c)
            if header.preset == "pytorch"
                && header.dtype == super::format::Dtype::F32
                && header
                    .hyperparameters
                    .get("eps")
                    .is_none_or(|e| e.get(0).is_none_or(Value::is_null)) =>
        {
            Setting::Adafactor(AdafactorConfig {
                eps1: f64::from(f32::EPSILON),
                ..c
            })
        }
        other => other,
    })
}

fn unknown(preset: &str, optimizer: &str, known: &'static str) -> PresetError {
    PresetError::UnknownOptimizer {
        preset: preset.into(),
        optimizer: optimizer.into(),
        known,
    }
}

fn pytorch(optimizer: &str, hp: &mut Hp) -> Result<Setting, PresetError> {
    hp.torch_flags()?;
    Ok(match optimizer {
        "sgd" => Setting::Sgd(SgdConfig {
            lr: hp.f64("lr", 1e-3)?,
            momentum: hp.f64("momentum", 0.0)?,
            dampening: hp.f64("dampening", 0.0)?,
            nesterov: hp.bool("nesterov", false)?,
            weight_decay: coupled(hp.f64("weight_decay", 0.0)?),
        }),
        "adam" | "adamw" => {
            let (beta1, beta2) = hp.pair("betas", (0.9, 0.999))?;
            let adam = AdamConfig {
                lr: hp.f64("lr", 1e-3)?,
                beta1,
                beta2,
                eps: hp.f64("eps", 1e-8)?,
                amsgrad: hp.bool("amsgrad", false)?.then_some(AmsGradMax::RawV),
                ..AdamConfig::pytorch()
            };
            // torch 2.15: Adam(decoupled_weight_decay=True) is AdamW; AdamW's is always True.
            let decoupled = hp.bool("decoupled_weight_decay", optimizer == "adamw")?;
            if optimizer == "adamw" && !decoupled {
                return Err(hp.unsupported(
                    "`decoupled_weight_decay=False` is not modelled for AdamW (torch 2.15's AdamW always decouples); use optimizer \"adam\"",
                ));
            }
            if optimizer == "adam" && decoupled {
                Setting::AdamW(AdamWConfig {
                    adam,
                    weight_decay: decoupled_times_lr(hp.f64("weight_decay", 0.0)?),
                })
            } else if optimizer == "adam" {
                Setting::Adam(AdamConfig {
                    weight_decay: coupled(hp.f64("weight_decay", 0.0)?),
                    ..adam
                })
            } else {
                Setting::AdamW(AdamWConfig {
                    adam,
                    weight_decay: decoupled_times_lr(hp.f64("weight_decay", 1e-2)?),
                })
            }
        }
        "adagrad" => Setting::AdaGrad(AdaGradConfig {
            lr: hp.f64("lr", 1e-2)?,
            lr_decay: hp.f64("lr_decay", 0.0)?,
            eps: hp.f64("eps", 1e-10)?,
            initial_accumulator_value: hp.f64("initial_accumulator_value", 0.0)?,
            weight_decay: coupled(hp.f64("weight_decay", 0.0)?),
            ..AdaGradConfig::pytorch()
        }),
        "rmsprop" => Setting::RmsProp(RmsPropConfig {
            lr: hp.f64("lr", 1e-2)?,
            decay: hp.f64("alpha", 0.99)?,
            eps: hp.f64("eps", 1e-8)?,
            momentum: hp.f64("momentum", 0.0)?,
            centering: if hp.bool("centered", false)? {
                Centering::Centered
            } else {
                Centering::Uncentered
            },
            weight_decay: coupled(hp.f64("weight_decay", 0.0)?),
            ..RmsPropConfig::pytorch()
        }),
        "adadelta" => Setting::AdaDelta(AdaDeltaConfig {
            lr: hp.f64("lr", 1.0)?,
            rho: hp.f64("rho", 0.9)?,
            eps: hp.f64("eps", 1e-6)?,
            weight_decay: coupled(hp.f64("weight_decay", 0.0)?),
        }),
        "nadam" => {
            let (beta1, beta2) = hp.pair("betas", (0.9, 0.999))?;
            Setting::NAdam(NAdamConfig {
                lr: hp.f64("lr", 2e-3)?,
                beta1,
                beta2,
                eps: hp.f64("eps", 1e-8)?,
                eps_root: 0.0,
                momentum_schedule: MomentumSchedule::Dozat {
                    momentum_decay: hp.f64("momentum_decay", 4e-3)?,
                },
                weight_decay: torch_decay(hp)?,
            })
        }
        "radam" => {
            let (beta1, beta2) = hp.pair("betas", (0.9, 0.999))?;
            Setting::RAdam(RAdamConfig {
                lr: hp.f64("lr", 1e-3)?,
                beta1,
                beta2,
                eps: hp.f64("eps", 1e-8)?,
                weight_decay: torch_decay(hp)?,
                ..RAdamConfig::pytorch()
            })
        }
        "adafactor" => {
            // eps = (ε₁ or None → machine epsilon, ε₂).
            let (eps1, eps2) = match hp.get("eps") {
                None => (None, 1e-3),
                Some(v) => match v.as_array().map(|a| a.as_slice()) {
                    Some([e1, e2]) if (e1.is_null() || e1.as_f64().is_some()) && e2.as_f64().is_some() => {
                        (e1.as_f64(), e2.as_f64().unwrap_or_default())
                    }
                    _ => return Err(hp.bad("eps", "a pair [eps1 or null, eps2]", v)),
                },
            };
            let lr = hp.f64("lr", 1e-2)?;
            let lambda = hp.f64("weight_decay", 0.0)?;
            Setting::Adafactor(AdafactorConfig {
                lr,
                eps1: eps1.unwrap_or(f64::EPSILON),
                eps2,
                // 1 − β̂₂ₜ = t^{beta2_decay}.
                decay_exponent: -hp.f64("beta2_decay", -0.8)?,
                clip_threshold: Some(hp.f64("d", 1.0)?),
                weight_decay: if lambda == 0.0 {
                    AdafactorDecay::None
                } else {
                    AdafactorDecay::TimesLr(lambda)
                },
                ..AdafactorConfig::pytorch()
            })
        }
        _ => {
            return Err(unknown(
                "pytorch",
                optimizer,
                "sgd, adam, adamw, adagrad, rmsprop, adadelta, nadam, radam, adafactor",
            ))
        }
    })
}

fn optax(optimizer: &str, hp: &mut Hp) -> Result<Setting, PresetError> {
    Ok(match optimizer {
        "sgd" => {
            if let Some(v) = hp.get("accumulator_dtype") {
                return Err(hp.unsupported(&format!(
                    "`accumulator_dtype={v}` (a momentum trace in another dtype) is not modelled; null is"
                )));
            }
            Setting::Sgd(SgdConfig {
                lr: hp.required_f64("learning_rate")?,
                momentum: hp.f64("momentum", 0.0)?,
                dampening: 0.0,
                nesterov: hp.bool("nesterov", false)?,
                weight_decay: WeightDecay::None,
            })
        }
        "adam" | "adamw" | "amsgrad" | "nadam" | "nadamw" => {
            let optimizer = if optimizer == "nadamw" { "adamw" } else { optimizer };
            let nesterov_default = hp.optimizer == "nadam" || hp.optimizer == "nadamw";
            let adam = AdamConfig {
                lr: hp.required_f64("learning_rate")?,
                beta1: hp.f64("b1", 0.9)?,
                beta2: hp.f64("b2", 0.999)?,
                eps: hp.f64("eps", 1e-8)?,
                eps_root: hp.f64("eps_root", 0.0)?,
                amsgrad: (optimizer == "amsgrad").then_some(AmsGradMax::BiasCorrectedV),
                ..AdamConfig::optax()
            };
            // optax.nadam = partial(adam, nesterov=True); nadamw likewise for adamw.
            let nesterov = optimizer != "amsgrad" && hp.bool("nesterov", nesterov_default)?;
            if hp.get("mu_dtype").is_some() {
                return Err(hp.unsupported("mu_dtype (a lower-precision first moment) is not modelled"));
            }
            if optimizer == "adamw" {
                if let Some(v) = hp.get("mask") {
                    return Err(hp.unsupported(&format!(
                        "`mask={v}` is not modelled as an argument: declare the mask as header `param_groups` (the masked-out blocks with \"weight_decay\": 0)"
                    )));
                }
            }
            let mut adam = adam;
            if optimizer == "amsgrad" {
                // bias_correction_mu/nu (optax 0.2.8 scale_by_amsgrad): both False is
                // Reddi et al.'s form, max over the raw v and no correction at all; one of
                // them False corrects the other moment only (the max is over the v it sees).
                match (hp.bool("bias_correction_mu", true)?, hp.bool("bias_correction_nu", true)?) {
                    (true, true) => {}
                    (false, false) => {
                        adam.bias_correction = BiasCorrection::Off;
                        adam.amsgrad = Some(AmsGradMax::PaperNoBiasCorrection);
                    }
                    (true, false) => adam.bias_correction = BiasCorrection::FirstMomentOnly,
                    (false, true) => adam.bias_correction = BiasCorrection::SecondMomentOnly,
                }
            }
            let weight_decay = if optimizer == "adamw" {
                decoupled_times_lr(hp.f64("weight_decay", 1e-4)?)
            } else {
                WeightDecay::None
            };
            if nesterov {
                // scale_by_adam(nesterov=True) → [add_decayed_weights] → lr:
                // θ − α(m̄/d + λθ) = (1 − αλ)θ − α m̄/d, NAdam with a constant μ_t = β₁.
                Setting::NAdam(NAdamConfig {
                    lr: adam.lr,
                    beta1: adam.beta1,
                    beta2: adam.beta2,
                    eps: adam.eps,
                    eps_root: adam.eps_root,
                    momentum_schedule: MomentumSchedule::Constant,
                    weight_decay,
                })
            } else if optimizer == "adamw" {
                Setting::AdamW(AdamWConfig { adam, weight_decay })
            } else {
                Setting::Adam(adam)
            }
        }
        "lamb" => {
            // scale_by_adam → add_decayed_weights(mask) → scale_by_trust_ratio → lr.
            if hp.get("mask").is_some() {
                return Err(hp.unsupported("mask (no decay on some leaves) is not modelled"));
            }
            Setting::Lamb(LambConfig {
                lr: hp.required_f64("learning_rate")?,
                beta1: hp.f64("b1", 0.9)?,
                beta2: hp.f64("b2", 0.999)?,
                eps: hp.f64("eps", 1e-6)?,
                eps_root: hp.f64("eps_root", 0.0)?,
                weight_decay: hp.f64("weight_decay", 0.0)?,
                ..LambConfig::optax()
            })
        }
        "lars" => {
            // add_decayed_weights(mask) → masked(scale_by_trust_ratio) → lr → trace.
            for mask in ["weight_decay_mask", "trust_ratio_mask"] {
                if !hp.bool(mask, true)? {
                    return Err(
                        hp.unsupported(&format!("{mask}=False is not modelled (every block gets it)"))
                    );
                }
            }
            Setting::Lars(LarsConfig {
                lr: hp.required_f64("learning_rate")?,
                momentum: hp.f64("momentum", 0.9)?,
                weight_decay: hp.f64("weight_decay", 0.0)?,
                trust_coefficient: hp.f64("trust_coefficient", 1e-3)?,
                trust_ratio: LarsTrustRatio::Optax {
                    eps: hp.f64("eps", 0.0)?,
                },
                nesterov: hp.bool("nesterov", false)?,
                layout: None,
            })
        }
        "adafactor" => {
            // scale_by_factored_rms → clip_by_block_rms → lr → scale_by_param_block_rms →
            // [ema] → [add_decayed_weights] → −1.
            let decay_offset = match hp.get("decay_offset") {
                None => 0,
                Some(v) => match v.as_i64() {
                    Some(k) if k <= 0 => k,
                    Some(k) => {
                        return Err(hp.unsupported(&format!(
                            "decay_offset={k} > 0 is not modelled: a trace starts from a fresh state (count 0), where t = count − decay_offset + 1 ≤ 0 makes 1 − t^(−decay_rate) −∞ or NaN; an offset ≤ 0 is"
                        )))
                    }
                    None => return Err(hp.bad("decay_offset", "an integer", v)),
                },
            };
            let momentum = match hp.get("momentum") {
                None => None,
                Some(v) => match v.as_f64() {
                    Some(m) if m.is_finite() => Some(m),
                    _ => return Err(hp.bad("momentum", "a number or null", v)),
                },
            };
            // ema(momentum, accumulator_dtype=dtype_momentum): float32 by default, also for
            // float64 parameters; null keeps the parameters' dtype.
            let momentum_dtype = match hp.get("dtype_momentum") {
                None if hp.map.get("dtype_momentum").is_some() => MomentumDtype::Params,
                None => MomentumDtype::F32,
                Some(v) => match v.as_str() {
                    Some("float32") => MomentumDtype::F32,
                    Some("float64") => MomentumDtype::F64,
                    _ => {
                        return Err(hp.unsupported(&format!(
                            "dtype_momentum={v} is not modelled; \"float32\", \"float64\" or null are"
                        )))
                    }
                },
            };
            if let Some(v) = hp.get("weight_decay_mask") {
                return Err(hp.unsupported(&format!(
                    "`weight_decay_mask={v}` is not modelled as an argument: declare it as header `param_groups` (the masked-out blocks with \"weight_decay_rate\": null)"
                )));
            }
            let min_dim = match hp.get("min_dim_size_to_factor") {
                None => 128,
                Some(v) => match v.as_u64() {
                    Some(k) => usize::try_from(k).unwrap_or(usize::MAX),
                    None => return Err(hp.bad("min_dim_size_to_factor", "a non-negative integer", v)),
                },
            };
            let factoring = if hp.bool("factored", true)? {
                Factoring::MinDimSize(min_dim.max(1))
            } else {
                Factoring::Never
            };
            let clip_threshold = match hp.get("clipping_threshold") {
                None if hp.map.get("clipping_threshold").is_some() => None,
                None => Some(1.0),
                Some(v) => match v.as_f64() {
                    Some(d) => Some(d),
                    None => return Err(hp.bad("clipping_threshold", "a number or null", v)),
                },
            };
            let lambda = hp.opt_f64("weight_decay_rate")?.unwrap_or(0.0);
            Setting::Adafactor(AdafactorConfig {
                // None: no scale_by_learning_rate, i.e. a step of 1 × the parameter scale.
                lr: hp.opt_f64("learning_rate")?.unwrap_or(1.0),
                relative_step: false,
                scale_by_parameter_rms: hp.bool("multiply_by_parameter_scale", true)?,
                eps1: hp.f64("eps", 1e-30)?,
                decay_exponent: hp.f64("decay_rate", 0.8)?,
                clip_threshold,
                factoring,
                decay_precision: DecayPrecision::F32,
                eps1_placement: Eps1Placement::AddedToSquare,
                weight_decay: if lambda == 0.0 {
                    AdafactorDecay::None
                } else {
                    AdafactorDecay::Unscaled(lambda)
                },
                momentum,
                momentum_dtype,
                decay_offset,
                ..AdafactorConfig::optax()
            })
        }
        "radam" => Setting::RAdam(RAdamConfig {
            lr: hp.required_f64("learning_rate")?,
            beta1: hp.f64("b1", 0.9)?,
            beta2: hp.f64("b2", 0.999)?,
            eps: hp.f64("eps", 1e-8)?,
            eps_root: hp.f64("eps_root", 0.0)?,
            threshold: Threshold::AtLeast(hp.f64("threshold", 5.0)?),
            nesterov: hp.bool("nesterov", false)?,
            ..RAdamConfig::optax()
        }),
        "adagrad" => Setting::AdaGrad(AdaGradConfig {
            initial_accumulator_value: hp.f64("initial_accumulator_value", 0.1)?,
            eps: hp.f64("eps", 1e-7)?,
            ..AdaGradConfig::optax(hp.required_f64("learning_rate")?)
        }),
        "rmsprop" => {
            let lr = hp.required_f64("learning_rate")?;
            let momentum = hp.f64("momentum", 0.0)?;
            // `trace(decay=momentum, nesterov=nesterov)` only when momentum is not None: without
            // momentum optax ignores the flag.
            let nesterov = hp.bool("nesterov", false)? && momentum != 0.0;
            Setting::RmsProp(RmsPropConfig {
                lr,
                decay: hp.f64("decay", 0.9)?,
                eps: hp.f64("eps", 1e-8)?,
                initial_scale: hp.f64("initial_scale", 0.0)?,
                eps_placement: if hp.bool("eps_in_sqrt", true)? {
                    EpsPlacement::InsideSqrt
                } else {
                    EpsPlacement::OutsideSqrt
                },
                centering: if hp.bool("centered", false)? {
                    Centering::Centered
                } else {
                    Centering::Uncentered
                },
                momentum,
                nesterov,
                bias_correction: if hp.bool("bias_correction", false)? {
                    BiasCorrection::On
                } else {
                    BiasCorrection::Off
                },
                ..RmsPropConfig::optax()
            })
        }
        "adadelta" => Setting::AdaDelta(AdaDeltaConfig {
            lr: {
                if let Some(v) = hp.get("weight_decay_mask") {
                    return Err(hp.unsupported(&format!(
                        "`weight_decay_mask={v}` is not modelled as an argument: declare it as header `param_groups`"
                    )));
                }
                hp.f64("learning_rate", 1.0)?
            },
            rho: hp.f64("rho", 0.9)?,
            eps: hp.f64("eps", 1e-6)?,
            weight_decay: coupled(hp.f64("weight_decay", 0.0)?),
        }),
        _ => {
            return Err(unknown(
                "optax",
                optimizer,
                "sgd, adam, adamw, amsgrad, nadam, nadamw, radam, lamb, lars, adafactor, adagrad, rmsprop, adadelta",
            ))
        }
    })
}

/// Keras's base-optimizer keyword arguments (`keras.optimizers.Optimizer`): `name` does not
/// change the update; clipping, loss scaling, gradient accumulation and EMA do, in ways the
/// oracle does not model, so they must be absent or `null` (`use_ema` false). `ema_momentum`
/// only matters with `use_ema=True`.
fn keras_base_arguments(hp: &mut Hp) -> Result<(), PresetError> {
    let _ = hp.get("name");
    let _ = hp.get("ema_momentum");
    for arg in [
        "clipnorm",
        "clipvalue",
        "global_clipnorm",
        "loss_scale_factor",
        "gradient_accumulation_steps",
        "ema_overwrite_frequency",
    ] {
        if let Some(v) = hp.get(arg) {
            return Err(hp.unsupported(&format!("`{arg}={v}` is not modelled by the oracle")));
        }
    }
    if hp.bool("use_ema", false)? {
        return Err(hp.unsupported("`use_ema=True` is not modelled by the oracle"));
    }
    Ok(())
}

/// Keras's `weight_decay` (every optimizer, `base_optimizer._apply_weight_decay`): before the
/// update, `θ ← θ − θ·λ·lr`, i.e. decoupled and multiplied by the learning rate, for SGD,
/// Adagrad, RMSprop and Adadelta as much as for AdamW. `None` (absent) means no decay; `AdamW`
/// refuses `None` ("Argument `weight_decay` must be a float"), so for it `null` is bad input.
fn keras_weight_decay(hp: &mut Hp, default: Option<f64>) -> Result<WeightDecay, PresetError> {
    if default.is_some() {
        if let Some(v @ Value::Null) = hp.map.get("weight_decay") {
            return Err(hp.bad("weight_decay", "a float (keras AdamW refuses None)", v));
        }
    }
    Ok(decoupled_times_lr(
        hp.f64("weight_decay", default.unwrap_or(0.0))?,
    ))
}

fn keras(optimizer: &str, hp: &mut Hp) -> Result<Setting, PresetError> {
    keras_base_arguments(hp)?;
    Ok(match optimizer {
        "sgd" => {
            // Keras: v = μv − γg, θ += v; with a constant γ this is PyTorch's form (b = −v/γ).
            let momentum = hp.f64("momentum", 0.0)?;
            Setting::Sgd(SgdConfig {
                lr: hp.f64("learning_rate", 1e-2)?,
                momentum,
                dampening: 0.0,
                // With momentum 0 Keras creates no momentum slot and `nesterov` does nothing
                // (sgd.py: `if m is not None`), where the crate (like PyTorch) refuses it.
                nesterov: hp.bool("nesterov", false)? && momentum != 0.0,
                weight_decay: keras_weight_decay(hp, None)?,
            })
        }
        "adam" | "adamw" => {
            let adam = AdamConfig {
                lr: hp.f64("learning_rate", 1e-3)?,
                beta1: hp.f64("beta_1", 0.9)?,
                beta2: hp.f64("beta_2", 0.999)?,
                eps: hp.f64("epsilon", 1e-7)?,
                amsgrad: hp.bool("amsgrad", false)?.then_some(AmsGradMax::RawV),
                ..AdamConfig::keras()
            };
            // Keras Adam's `weight_decay` is the same decoupled decay as AdamW's (only the
            // default differs: None for Adam, 0.004 for AdamW), hence AdamW for both.
            let default_decay = (optimizer == "adamw").then_some(4e-3);
            Setting::AdamW(AdamWConfig {
                adam,
                weight_decay: keras_weight_decay(hp, default_decay)?,
            })
        }
        "adagrad" => Setting::AdaGrad(AdaGradConfig {
            lr: hp.f64("learning_rate", 1e-3)?,
            initial_accumulator_value: hp.f64("initial_accumulator_value", 0.1)?,
            eps: hp.f64("epsilon", 1e-7)?,
            weight_decay: keras_weight_decay(hp, None)?,
            ..AdaGradConfig::keras()
        }),
        "rmsprop" => Setting::RmsProp(RmsPropConfig {
            lr: hp.f64("learning_rate", 1e-3)?,
            decay: hp.f64("rho", 0.9)?,
            eps: hp.f64("epsilon", 1e-7)?,
            momentum: hp.f64("momentum", 0.0)?,
            centering: if hp.bool("centered", false)? {
                Centering::Centered
            } else {
                Centering::Uncentered
            },
            weight_decay: keras_weight_decay(hp, None)?,
            ..RmsPropConfig::keras()
        }),
        "adadelta" => Setting::AdaDelta(AdaDeltaConfig {
            lr: hp.f64("learning_rate", 1e-3)?,
            rho: hp.f64("rho", 0.95)?,
            eps: hp.f64("epsilon", 1e-7)?,
            weight_decay: keras_weight_decay(hp, None)?,
        }),
        _ => {
            return Err(unknown(
                "keras",
                optimizer,
                "sgd, adam, adamw, adagrad, rmsprop, adadelta",
            ))
        }
    })
}

/// A named convention variant of a setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// What it is, in the words of the framework that computes it.
    pub label: String,
    pub setting: Setting,
}

fn adam_variants(base: &AdamConfig, decay: WeightDecay, out: &mut Vec<Variant>) {
    let lambda = decay.lambda();
    // Decay placements (only when the declared setting has a decay).
    let mut decays: Vec<(String, WeightDecay)> = vec![];
    if lambda != 0.0 {
        decays.push((
            format!("Adam + L2, decay {lambda} added to the gradient (pytorch Adam)"),
            WeightDecay::CoupledL2(lambda),
        ));
        decays.push((
            format!("AdamW, decay {lambda} × lr (pytorch AdamW, optax adamw)"),
            WeightDecay::DecoupledTimesLr(lambda),
        ));
        decays.push((
            format!("AdamW, decay {lambda} × schedule only (Loshchilov & Hutter Alg. 2)"),
            WeightDecay::DecoupledSchedule(lambda),
        ));
    } else {
        decays.push(("no weight decay".into(), WeightDecay::None));
    }
    let amsgrads: Vec<(&str, Option<AmsGradMax>)> = match base.amsgrad {
        None => vec![("", None)],
        Some(_) => vec![
            ("AMSGrad max of raw v (pytorch, keras)", Some(AmsGradMax::RawV)),
            (
                "AMSGrad max of bias-corrected v̂ (optax amsgrad)",
                Some(AmsGradMax::BiasCorrectedV),
            ),
        ],
    };
    let forms = [
        (
            "ε outside the root after bias correction (Algorithm 1: pytorch, optax)",
            AdamFormulation::Algorithm1,
            false,
        ),
        (
            "ε inside the root (optax eps_root)",
            AdamFormulation::Algorithm1,
            true,
        ),
        (
            "Keras ε-hat (ε added to √v before bias correction)",
            AdamFormulation::EpsHat,
            false,
        ),
    ];
    for (dl, d) in &decays {
        for (al, a) in &amsgrads {
            for (fl, f, inside) in &forms {
                if *f == AdamFormulation::EpsHat && *a == Some(AmsGradMax::BiasCorrectedV) {
                    continue;
                }
                let mut c = AdamConfig {
                    amsgrad: *a,
                    formulation: *f,
                    weight_decay: WeightDecay::None,
                    ..base.clone()
                };
                if *inside {
                    // ε moved under the root; a negligible ε outside keeps the config valid.
                    c.eps_root = base.eps + base.eps_root;
                    c.eps = f64::MIN_POSITIVE;
                }
                if *f == AdamFormulation::EpsHat {
                    // Keras's form has no ε under the root (an optax eps_root would make the
                    // variant invalid and the whole diagnosis bad input): ε̂ = the declared ε.
                    c.eps_root = 0.0;
                }
                let mut label = String::from(dl.as_str());
                if !al.is_empty() {
                    label.push_str("; ");
                    label.push_str(al);
                }
                label.push_str("; ");
                label.push_str(fl);
                let setting = match d {
                    WeightDecay::CoupledL2(_) | WeightDecay::None => Setting::Adam(AdamConfig {
                        weight_decay: *d,
                        ..c
                    }),
                    _ => Setting::AdamW(AdamWConfig {
                        adam: c,
                        weight_decay: *d,
                    }),
                };
                out.push(Variant { label, setting });
            }
        }
    }
}

/// Weight-decay placements of PyTorch's NAdam/RAdam (only when the declared λ ≠ 0).
fn torch_decays(decay: WeightDecay) -> Vec<(String, WeightDecay)> {
    let lambda = decay.lambda();
    if lambda == 0.0 {
        return vec![(String::new(), decay)];
    }
    vec![
        (
            format!(", decay {lambda} added to the gradient (pytorch weight_decay)"),
            WeightDecay::CoupledL2(lambda),
        ),
        (
            format!(", decay {lambda} × lr before the step (pytorch decoupled_weight_decay, optax nadamw)"),
            WeightDecay::DecoupledTimesLr(lambda),
        ),
    ]
}

fn nadam_variants(c: &NAdamConfig, out: &mut Vec<Variant>) {
    let psi = match c.momentum_schedule {
        MomentumSchedule::Dozat { momentum_decay } => momentum_decay,
        MomentumSchedule::Constant => 4e-3,
    };
    let schedules = [
        (
            format!("NAdam μ_t = β₁(1 − ½·0.96^(tψ)), ψ = {psi} (pytorch NAdam)"),
            MomentumSchedule::Dozat { momentum_decay: psi },
        ),
        (
            "NAdam μ_t = β₁ constant (optax nadam, adam(nesterov=True))".to_string(),
            MomentumSchedule::Constant,
        ),
    ];
    for (sl, schedule) in &schedules {
        for (dl, decay) in torch_decays(c.weight_decay) {
            out.push(Variant {
                label: format!("{sl}{dl}"),
                setting: Setting::NAdam(NAdamConfig {
                    momentum_schedule: *schedule,
                    weight_decay: decay,
                    ..c.clone()
                }),
            });
        }
    }
}

fn radam_variants(c: &RAdamConfig, out: &mut Vec<Variant>) {
    let forms = [
        (
            "RAdam ε added to √v before bias correction (pytorch RAdam)",
            AdamFormulation::EpsHat,
        ),
        (
            "RAdam ε after bias correction (optax radam)",
            AdamFormulation::Algorithm1,
        ),
    ];
    let thresholds = [
        ("ρ_t > 5 (pytorch)", Threshold::Above(5.0)),
        ("ρ_t ≥ 5 (optax threshold=5.0)", Threshold::AtLeast(5.0)),
        ("ρ_t > 4 (Liu et al. Algorithm 2)", Threshold::Above(4.0)),
    ];
    for (fl, form) in forms {
        for (tl, threshold) in thresholds {
            for (dl, decay) in torch_decays(c.weight_decay) {
                let cfg = RAdamConfig {
                    formulation: form,
                    threshold,
                    weight_decay: decay,
                    ..c.clone()
                };
                // ε̄ has no place in PyTorch's order: such a combination is not a variant.
                if cfg.validate().is_ok() {
                    out.push(Variant {
                        label: format!("{fl}, {tl}{dl}"),
                        setting: Setting::RAdam(cfg),
                    });
                }
            }
        }
    }
}

/// The convention variants of `setting` the diagnosis tries, the declared one first.
pub fn variants(declared_label: &str, setting: &Setting) -> Vec<Variant> {
    let mut out = vec![Variant {
        label: format!("as declared ({declared_label})"),
        setting: setting.clone(),
    }];
    match setting {
        Setting::Sgd(c) => {
            let lambda = c.weight_decay.lambda();
            let mut decays = vec![(String::new(), c.weight_decay)];
            if lambda != 0.0 {
                decays = vec![
                    (
                        format!(", decay {lambda} added to the gradient (pytorch)"),
                        WeightDecay::CoupledL2(lambda),
                    ),
                    (
                        format!(", decay {lambda} × lr before the step (keras)"),
                        WeightDecay::DecoupledTimesLr(lambda),
                    ),
                ];
            }
            for (dl, d) in decays {
                for nesterov in [false, true] {
                    if nesterov && c.momentum == 0.0 {
                        continue;
                    }
                    for dampening in [0.0, c.dampening] {
                        if nesterov && dampening != 0.0 {
                            continue;
                        }
                        let label = format!(
                            "SGD momentum {}{}{}{}",
                            c.momentum,
                            if nesterov { ", Nesterov" } else { "" },
                            if dampening != 0.0 {
                                format!(", dampening {dampening}")
                            } else {
                                String::new()
                            },
                            dl
                        );
                        out.push(Variant {
                            label,
                            setting: Setting::Sgd(SgdConfig {
                                nesterov,
                                dampening,
                                weight_decay: d,
                                ..c.clone()
                            }),
                        });
                    }
                }
            }
        }
        Setting::Adam(c) => adam_variants(c, c.weight_decay, &mut out),
        Setting::AdamW(c) => adam_variants(&c.adam, c.weight_decay, &mut out),
        Setting::AdaGrad(c) => {
            let mut configs: Vec<(String, AdaGradConfig)> = vec![
                (
                    "pytorch Adagrad defaults (ε = 1e-10 outside the root, s₀ = 0)".into(),
                    AdaGradConfig {
                        lr: c.lr,
                        lr_decay: c.lr_decay,
                        weight_decay: c.weight_decay,
                        ..AdaGradConfig::pytorch()
                    },
                ),
                (
                    "optax adagrad defaults (ε = 1e-7 inside the root, s₀ = 0.1)".into(),
                    AdaGradConfig {
                        lr_decay: c.lr_decay,
                        weight_decay: c.weight_decay,
                        ..AdaGradConfig::optax(c.lr)
                    },
                ),
            ];
            for placement in [EpsPlacement::OutsideSqrt, EpsPlacement::InsideSqrt] {
                for s0 in [c.initial_accumulator_value, 0.0, 0.1] {
                    let where_ = match placement {
                        EpsPlacement::OutsideSqrt => "outside the root (pytorch)",
                        EpsPlacement::InsideSqrt => "inside the root (optax, keras)",
                    };
                    configs.push((
                        format!("ε = {:e} {where_}, s₀ = {s0}", c.eps),
                        AdaGradConfig {
                            eps_placement: placement,
                            initial_accumulator_value: s0,
                            ..c.clone()
                        },
                    ));
                }
            }
            for (label, cfg) in configs {
                if cfg.clone().build().is_ok() {
                    out.push(Variant {
                        label,
                        setting: Setting::AdaGrad(cfg),
                    });
                }
            }
        }
        Setting::RmsProp(c) => {
            for placement in [EpsPlacement::OutsideSqrt, EpsPlacement::InsideSqrt] {
                let momenta = if c.momentum > 0.0 {
                    vec![
                        MomentumPlacement::LrOutsideBuffer,
                        MomentumPlacement::LrInsideBuffer,
                    ]
                } else {
                    vec![c.momentum_placement]
                };
                for mp in momenta {
                    let label = format!(
                        "RMSprop ε {}{}",
                        match placement {
                            EpsPlacement::OutsideSqrt => "outside the root (pytorch)",
                            EpsPlacement::InsideSqrt => "inside the root (optax eps_in_sqrt, keras)",
                        },
                        if c.momentum > 0.0 {
                            match mp {
                                MomentumPlacement::LrOutsideBuffer => {
                                    ", lr outside the momentum buffer (pytorch)"
                                }
                                MomentumPlacement::LrInsideBuffer => {
                                    ", lr inside the momentum buffer (optax, keras)"
                                }
                            }
                        } else {
                            ""
                        }
                    );
                    out.push(Variant {
                        label,
                        setting: Setting::RmsProp(RmsPropConfig {
                            eps_placement: placement,
                            momentum_placement: mp,
                            ..c.clone()
                        }),
                    });
                }
            }
        }
        Setting::NAdam(_) | Setting::RAdam(_) => {}
        Setting::Adafactor(c) => {
            let mut push = |label: &str, cfg: AdafactorConfig| {
                out.push(Variant {
                    label: label.into(),
                    setting: Setting::Adafactor(cfg),
                })
            };
            push(
                "Adafactor, β̂₂ₜ in float64 (pytorch)",
                AdafactorConfig {
                    decay_precision: DecayPrecision::F64,
                    ..c.clone()
                },
            );
            push(
                "Adafactor, β̂₂ₜ in float32 (optax)",
                AdafactorConfig {
                    decay_precision: DecayPrecision::F32,
                    ..c.clone()
                },
            );
            push(
                "Adafactor, every matrix factored (paper, pytorch)",
                AdafactorConfig {
                    factoring: Factoring::Matrices,
                    ..c.clone()
                },
            );
            push(
                "Adafactor, nothing factored",
                AdafactorConfig {
                    factoring: Factoring::Never,
                    ..c.clone()
                },
            );
            let lambda = c.weight_decay.lambda_value();
            if lambda != 0.0 {
                push(
                    &format!("Adafactor, decay {lambda} × lr (pytorch)"),
                    AdafactorConfig {
                        weight_decay: AdafactorDecay::TimesLr(lambda),
                        ..c.clone()
                    },
                );
                push(
                    &format!("Adafactor, decay {lambda} unscaled (optax weight_decay_rate)"),
                    AdafactorConfig {
                        weight_decay: AdafactorDecay::Unscaled(lambda),
                        ..c.clone()
                    },
                );
            }
        }
        Setting::Lamb(c) => {
            // With the ratio forced to 1, optax lamb is optax adamw (lamb.rs).
            out.push(Variant {
                label: "LAMB without the trust ratio (= optax adamw)".into(),
                setting: Setting::Lamb(LambConfig {
                    phi: crate::optim::lamb::Phi::One,
                    ..c.clone()
                }),
            });
            if c.layout.as_ref().is_some_and(|l| l.blocks().len() > 1) {
                out.push(Variant {
                    label: "LAMB with one trust ratio over all blocks together".into(),
                    setting: Setting::Lamb(LambConfig {
                        layout: None,
                        ..c.clone()
                    }),
                });
            }
        }
        Setting::Lars(c) => {
            out.push(Variant {
                label: "LARS, paper denominator ‖g‖ + β‖w‖ (You et al. Alg. 1)".into(),
                setting: Setting::Lars(LarsConfig {
                    trust_ratio: LarsTrustRatio::Paper,
                    ..c.clone()
                }),
            });
            if c.layout.as_ref().is_some_and(|l| l.blocks().len() > 1) {
                out.push(Variant {
                    label: "LARS with one trust ratio over all blocks together".into(),
                    setting: Setting::Lars(LarsConfig {
                        layout: None,
                        ..c.clone()
                    }),
                });
            }
        }
        Setting::AdaDelta(c) => {
            // The learning rate (the paper has none: 1) × the two decays, so that the
            // declared setting is always among the variants (the diagnosis skips "as declared").
            let mut lrs = vec![(
                "AdaDelta without learning-rate scaling (paper, optax learning_rate=None)".to_string(),
                1.0,
            )];
            if c.lr != 1.0 {
                lrs.insert(
                    0,
                    (
                        format!("AdaDelta scaled by lr {} (pytorch, keras, optax)", c.lr),
                        c.lr,
                    ),
                );
            }
            let lambda = c.weight_decay.lambda();
            let decays = if lambda == 0.0 {
                vec![(String::new(), c.weight_decay)]
            } else {
                vec![
                    (
                        format!(", decay {lambda} added to the gradient (pytorch)"),
                        WeightDecay::CoupledL2(lambda),
                    ),
                    (
                        format!(", decay {lambda} × lr before the step (keras)"),
                        WeightDecay::DecoupledTimesLr(lambda),
                    ),
                ]
            };
            for (lr_label, lr) in &lrs {
                for (decay_label, weight_decay) in &decays {
                    out.push(Variant {
                        label: format!("{lr_label}{decay_label}"),
                        setting: Setting::AdaDelta(AdaDeltaConfig {
                            lr: *lr,
                            weight_decay: *weight_decay,
                            ..c.clone()
                        }),
                    });
                }
            }
        }
    }
    match setting {
        Setting::NAdam(c) => nadam_variants(c, &mut out),
        Setting::RAdam(c) => radam_variants(c, &mut out),
        _ => {}
    }
    // Drop repeated settings after the declared entry (e.g. s₀ declared = 0.1 and 0.1 again),
    // and variants the declared values make invalid (one invalid variant would turn the whole
    // diagnosis into bad input).
    let mut unique: Vec<Variant> = vec![out[0].clone()];
    for v in out.into_iter().skip(1) {
        if v.setting.build().is_ok() && !unique[1..].iter().any(|u| u.setting == v.setting) {
            unique.push(v);
        }
    }
    // The diagnosis skips the "as declared" entry and names the variants a run matches: the
    // declared setting must be one of them, or an agreeing run "matches none" (optax lamb,
    // whose only variants change the trust ratio, did).
    if !unique[1..].iter().any(|u| u.setting == *setting) {
        unique.insert(
            1,
            Variant {
                label: format!("the declared convention ({declared_label})"),
                setting: setting.clone(),
            },
        );
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_hand_built_header_whose_layout_overflows_is_an_error_not_a_panic() {
        // 2³² × 2³² wraps to 0 on 64 bits. A header built in code skips the readers' checks:
        // every public function that turns its layout into a `Layout` returns the error.
        let big = 1usize << 32;
        let header = Header {
            format: super::super::format::FORMAT_NAME.into(),
            version: super::super::format::FORMAT_VERSION,
            optimizer: "lamb".into(),
            preset: "optax".into(),
            hyperparameters: map(r#"{"learning_rate": 0.01}"#),
            layout: vec![
                BlockSpec {
                    name: "b".into(),
                    rows: 3,
                    cols: 1,
                },
                BlockSpec {
                    name: "w".into(),
                    rows: big,
                    cols: big,
                },
            ],
            dtype: super::super::format::Dtype::F32,
            producer: "test".into(),
            params0: vec![],
            param_groups: None,
            schedule: None,
            transforms: vec![],
            jax_enable_x64: None,
        };
        let e = header.layout().unwrap_err();
        assert!(matches!(e, LayoutError::BlockOverflow { index: 1, .. }), "{e}");
        let lamb = resolve("optax", "lamb", &header.hyperparameters).unwrap();
        let e = lamb.with_layout(&header.layout).unwrap_err();
        assert!(e.to_string().contains("layout block 1 (\"w\")"), "{e}");
        let e = resolve_header(&header).unwrap_err().to_string();
        assert!(
            e.contains("header field `layout`") && e.contains("overflows"),
            "{e}"
        );
        let e = crate::oracle::compare::declared_setting("hand-built", &header)
            .unwrap_err()
            .to_string();
        assert!(e.contains("layout block 1") && e.contains("overflows"), "{e}");
        // Element-wise settings take no layout: unchanged.
        let sgd = resolve("optax", "sgd", &header.hyperparameters).unwrap();
        assert_eq!(sgd.clone().with_layout(&header.layout).unwrap(), sgd);
    }

    #[test]
    fn pytorch_adagrad_defaults_and_names() {
        let s = resolve("pytorch", "adagrad", &map(r#"{"lr": 0.1, "lr_decay": 0.01}"#)).unwrap();
        match s {
            Setting::AdaGrad(c) => {
                assert_eq!(c.lr, 0.1);
                assert_eq!(c.lr_decay, 0.01);
                assert_eq!(c.eps, 1e-10);
                assert_eq!(c.eps_placement, EpsPlacement::OutsideSqrt);
                assert_eq!(c.initial_accumulator_value, 0.0);
            }
            other => panic!("wrong setting {other:?}"),
        }
    }

    #[test]
    fn keras_defaults_decay_and_base_arguments() {
        // Every Keras default (Keras 3.15.1 constructors), with an empty header.
        match resolve("keras", "adamw", &map("{}")).unwrap() {
            Setting::AdamW(c) => {
                assert_eq!(
                    (c.adam.lr, c.adam.beta1, c.adam.beta2, c.adam.eps),
                    (1e-3, 0.9, 0.999, 1e-7)
                );
                assert_eq!(c.adam.formulation, AdamFormulation::EpsHat);
                assert_eq!(c.weight_decay, WeightDecay::DecoupledTimesLr(4e-3));
            }
            other => panic!("wrong setting {other:?}"),
        }
        match resolve("keras", "adam", &map(r#"{"weight_decay": 0.1, "name": "opt"}"#)).unwrap() {
            Setting::AdamW(c) => assert_eq!(c.weight_decay, WeightDecay::DecoupledTimesLr(0.1)),
            other => panic!("wrong setting {other:?}"),
        }
        match resolve("keras", "sgd", &map(r#"{"nesterov": true, "weight_decay": 0.1}"#)).unwrap() {
            Setting::Sgd(c) => {
                assert_eq!((c.lr, c.momentum), (1e-2, 0.0));
                // Keras ignores nesterov without momentum; the crate would refuse it.
                assert!(!c.nesterov);
                assert_eq!(c.weight_decay, WeightDecay::DecoupledTimesLr(0.1));
            }
            other => panic!("wrong setting {other:?}"),
        }
        match resolve("keras", "adadelta", &map("{}")).unwrap() {
            Setting::AdaDelta(c) => assert_eq!((c.lr, c.rho, c.eps), (1e-3, 0.95, 1e-7)),
            other => panic!("wrong setting {other:?}"),
        }
        let err = resolve("keras", "adamw", &map(r#"{"weight_decay": null}"#)).unwrap_err();
        assert!(
            matches!(&err, PresetError::BadValue { name, .. } if name == "weight_decay"),
            "{err}"
        );
        let err = resolve("keras", "adam", &map(r#"{"clipnorm": 1.0}"#)).unwrap_err();
        assert!(matches!(err, PresetError::Unsupported { .. }), "{err}");
        let err = resolve("keras", "rmsprop", &map(r#"{"use_ema": true}"#)).unwrap_err();
        assert!(matches!(err, PresetError::Unsupported { .. }), "{err}");
        assert!(resolve(
            "keras",
            "rmsprop",
            &map(r#"{"clipnorm": null, "use_ema": false}"#)
        )
        .is_ok());
    }

    #[test]
    fn every_adam_variant_of_an_eps_root_setting_is_valid() {
        let s = resolve(
            "optax",
            "adam",
            &map(r#"{"learning_rate": 0.01, "eps_root": 1e-10}"#),
        )
        .unwrap();
        let vs = variants("optax adam", &s);
        assert!(vs.iter().all(|v| v.setting.build().is_ok()));
        assert!(vs.iter().any(|v| v.label.contains("Keras ε-hat")), "{vs:#?}");
    }

    #[test]
    fn unknown_names_are_rejected_with_the_name() {
        let err = resolve("pytorch", "adam", &map(r#"{"lr": 0.1, "beta1": 0.8}"#)).unwrap_err();
        assert!(
            matches!(&err, PresetError::UnknownHyperparameter { name, .. } if name == "beta1"),
            "{err}"
        );
        let err = resolve("optax", "lion", &map("{}")).unwrap_err();
        assert!(matches!(err, PresetError::UnknownOptimizer { .. }));
        let err = resolve("jax", "adam", &map("{}")).unwrap_err();
        assert!(matches!(err, PresetError::UnknownPreset { .. }));
        let err = resolve("optax", "adam", &map("{}")).unwrap_err();
        assert!(matches!(
            err,
            PresetError::Required {
                name: "learning_rate",
                ..
            }
        ));
        let err = resolve("pytorch", "adam", &map(r#"{"lr": -1}"#)).unwrap_err();
        assert!(matches!(err, PresetError::Hyper(_)), "{err}");
        let err = resolve("pytorch", "adam", &map(r#"{"betas": [0.9]}"#)).unwrap_err();
        assert!(matches!(err, PresetError::BadValue { .. }), "{err}");
    }
}
