//! # Keras kernels: Keras 3 optimizers on the JAX backend
//!
//! Transcriptions of `update_step` in `keras/src/optimizers/{sgd,adam,adagrad,rmsprop,
//! adadelta}.py` (Keras 3.15.1; `AdamW` is `Adam` with a default `weight_decay`), line by
//! line, in the dtype of the variables, preceded by the base optimizer's
//! `_apply_weight_decay`:
//!
//! ```python
//! variable.assign(variable - variable * wd * lr)      # only when weight_decay is not None
//! ```
//!
//! What decides the last bit (found by experiment against the golden traces, see the tests):
//! * With `optimizer.apply` called eagerly (as scripts/golden_keras.py does; not under
//!   `jax.jit`, where XLA may fuse and reorder), every `keras.ops` call is its own XLA
//!   computation: one elementwise op, no fusion, no FMA contraction, `x / y` stays a division.
//!   So each `ops.*` is one IEEE rounding and Python's left-to-right evaluation fixes the order:
//!   `m + (g − m)·(1−β₁)`, `(m·α_t) / (√v + ε̂)`, `(lr·g) / √(acc + ε)`, `(θ·wd)·lr`.
//! * Python-float hyperparameters meet a tensor as weakly typed scalars: `1 − β₁` and `1 − ρ`
//!   are computed in f64 by Python and rounded once to the dtype ([`Real::from_f64`]);
//!   `1 − β₂ᵗ` is computed in the dtype (the power is a tensor).
//! * The learning rate is a variable of dtype `floatx` (the golden traces set floatx to the
//!   variables' dtype), i.e. the Python float rounded once to the dtype.
//! * `ops.power(β, t)` (XLA's `pow` of two tensors of the dtype) is reproduced by `powf` in the
//!   same dtype, which calls the C library's `pow`/`powf`: every golden trace agrees bit for
//!   bit, t ≤ 60 (how XLA:CPU lowers `pow` was not examined beyond that).
//!
//! Under `jax.jit` (as `model.fit` runs the optimizer) XLA fuses the elementwise ops into
//! loops, and the results move: measured on the randn case over 40 steps (jitted
//! `stateless_apply` against the eager golden traces), Adam is still bit-identical, SGD with
//! Nesterov differs by up to 16 ulps and centred RMSprop by up to 49 (f64; 16 and 36 in f32).
//! The fused HLO holds the same multiplies and subtractions, so the likely cause is
//! multiply-add contraction when XLA:CPU compiles the fused loops; not examined further, and
//! not modelled here: these kernels reproduce eager Keras.
//!
//! A kernel is built only for settings Keras can compute (ε inside the root for Adagrad and
//! RMSprop, the ε-hat Adam, decoupled decay × lr or none, no dampening, …); anything else
//! returns `None` and the oracle falls back to the crate's f64 optimizer.
//!
//! Reference: Keras `keras/src/optimizers/base_optimizer.py` (`_apply_weight_decay`,
//! `_backend_apply_gradients`), `sgd.py`, `adam.py`, `adamw.py`, `adagrad.py`, `rmsprop.py`,
//! `adadelta.py`.

use super::{check_input, Kernel, Real};
use crate::error::StepError;
use crate::optim::adadelta::AdaDeltaConfig;
use crate::optim::adagrad::AdaGradConfig;
use crate::optim::adam::{AdamConfig, FirstMomentInit};
use crate::optim::conventions::{AdamFormulation, AmsGradMax, BiasCorrection, EpsPlacement, WeightDecay};
use crate::optim::rmsprop::{Centering, MomentumPlacement, RmsPropConfig};
use crate::optim::sgd::SgdConfig;
use crate::oracle::presets::Setting;

/// The kernel for `setting` as Keras computes it, or `None` if Keras cannot compute it.
pub fn build<T: Real>(setting: &Setting) -> Option<Box<dyn Kernel<T>>> {
    fn boxed<T: Real, K: Kernel<T> + 'static>(k: K) -> Box<dyn Kernel<T>> {
        Box::new(k)
    }
    match setting {
        Setting::Sgd(c) => Sgd::new(c).map(boxed),
        Setting::Adam(c) => Adam::new(c, &WeightDecay::None).map(boxed),
        Setting::AdamW(c) => Adam::new(&c.adam, &c.weight_decay).map(boxed),
        Setting::AdaGrad(c) => Adagrad::new(c).map(boxed),
        Setting::RmsProp(c) => RmsProp::new(c).map(boxed),
        Setting::AdaDelta(c) => AdaDelta::new(c).map(boxed),
        // Keras has Nadam, Lamb, Lion…, but no golden traces here pin their operation order.
        _ => None,
    }
}

/// The base optimizer's `_apply_weight_decay`, run before every `update_step`:
/// `variable - variable * wd * lr`, i.e. `θ − (θ·wd)·lr`.
#[derive(Debug, Clone, Copy)]
struct Decay<T> {
    wd: Option<T>,
    lr: T,
}

impl<T: Real> Decay<T> {
    /// `None` for a decay Keras does not have (coupled L2, decay × schedule only).
    fn new(w: &WeightDecay, lr: T) -> Option<Self> {
        let wd = match *w {
            WeightDecay::None => None,
            WeightDecay::DecoupledTimesLr(l) => Some(T::from_f64(l)),
            WeightDecay::CoupledL2(_) | WeightDecay::DecoupledSchedule(_) => return None,
        };
        Some(Decay { wd, lr })
    }

    fn apply(&self, theta: &mut [T]) {
        if let Some(wd) = self.wd {
            for x in theta.iter_mut() {
                *x = *x - *x * wd * self.lr;
            }
        }
    }
}

/// `keras.optimizers.SGD.update_step`:
/// ```python
/// if m is not None:                                   # momentum != 0
///     m.assign(m * momentum - gradient * learning_rate)
///     if nesterov: variable.assign_add(m * momentum - gradient * learning_rate)
///     else:        variable.assign_add(m)
/// else:
///     variable.assign_sub(gradient * learning_rate)
/// ```
pub struct Sgd<T: Real> {
    lr: T,
    /// `None` when momentum is 0: Keras then creates no momentum slot (and ignores Nesterov).
    momentum: Option<T>,
    nesterov: bool,
    decay: Decay<T>,
    m: Option<Vec<T>>,
}

impl<T: Real> Sgd<T> {
    /// `None` for dampening (PyTorch only) or a decay form Keras does not have.
    fn new(c: &SgdConfig) -> Option<Self> {
        if c.dampening != 0.0 {
            return None;
        }
        let lr = T::from_f64(c.lr);
        Some(Sgd {
            lr,
            momentum: (c.momentum != 0.0).then(|| T::from_f64(c.momentum)),
            nesterov: c.nesterov,
            decay: Decay::new(&c.weight_decay, lr)?,
            m: None,
        })
    }
}

impl<T: Real> Kernel<T> for Sgd<T> {
    /// A schedule's value at this step (`ops.cast(learning_rate, variable.dtype)`, also the
    /// `learning_rate` of `_apply_weight_decay`); Keras schedules no momentum.
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        let lr = T::from_f64(s.lr);
        self.lr = lr;
        self.decay.lr = lr;
        s.momentum.is_none()
    }

    fn describe(&self) -> String {
        "keras SGD.update_step (jax backend, one rounding per ops call)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, self.m.as_ref().map(Vec::len))?;
        self.decay.apply(theta);
        match self.momentum {
            Some(momentum) => {
                let m = self.m.get_or_insert_with(|| vec![T::zero(); theta.len()]);
                for i in 0..theta.len() {
                    m[i] = m[i] * momentum - g[i] * self.lr;
                    if self.nesterov {
                        theta[i] = theta[i] + (m[i] * momentum - g[i] * self.lr);
                    } else {
                        theta[i] = theta[i] + m[i];
                    }
                }
            }
            None => {
                for i in 0..theta.len() {
                    theta[i] = theta[i] - g[i] * self.lr;
                }
            }
        }
        Ok(())
    }
}

/// `keras.optimizers.Adam.update_step` (and `AdamW`, which only adds the decay):
/// ```python
/// local_step = cast(iterations + 1, dtype)
/// beta_1_power = power(cast(beta_1, dtype), local_step)
/// beta_2_power = power(cast(beta_2, dtype), local_step)
/// alpha = lr * sqrt(1 - beta_2_power) / (1 - beta_1_power)
/// m.assign_add((gradient - m) * (1 - beta_1))
/// v.assign_add((square(gradient) - v) * (1 - beta_2))
/// if amsgrad: v_hat.assign(maximum(v_hat, v)); v = v_hat
/// variable.assign_sub((m * alpha) / (sqrt(v) + epsilon))
/// ```
pub struct Adam<T: Real> {
    lr: T,
    beta1: T,
    beta2: T,
    one_minus_beta1: T,
    one_minus_beta2: T,
    epsilon: T,
    amsgrad: bool,
    decay: Decay<T>,
    t: u64,
    m: Vec<T>,
    v: Vec<T>,
    v_hat: Vec<T>,
}

impl<T: Real> Adam<T> {
    /// `None` unless the setting is Keras's: ε-hat, bias correction, AMSGrad over the raw v,
    /// no ε inside the root, no schedule, m₀ = 0, decoupled decay × lr or none.
    fn new(c: &AdamConfig, decoupled: &WeightDecay) -> Option<Self> {
        let keras_form = c.formulation == AdamFormulation::EpsHat
            && c.bias_correction == BiasCorrection::On
            && c.eps_root == 0.0
            && c.schedule.is_none()
            && c.first_moment_init == FirstMomentInit::Zero
            && c.weight_decay == WeightDecay::None
            && matches!(c.amsgrad, None | Some(AmsGradMax::RawV));
        if !keras_form {
            return None;
        }
        let lr = T::from_f64(c.lr);
        Some(Adam {
            lr,
            beta1: T::from_f64(c.beta1),
            beta2: T::from_f64(c.beta2),
            one_minus_beta1: T::from_f64(1.0 - c.beta1),
            one_minus_beta2: T::from_f64(1.0 - c.beta2),
            epsilon: T::from_f64(c.eps),
            amsgrad: c.amsgrad.is_some(),
            decay: Decay::new(decoupled, lr)?,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
            v_hat: Vec::new(),
        })
    }
}

impl<T: Real> Kernel<T> for Adam<T> {
    /// A schedule's value at this step (`ops.cast(learning_rate, variable.dtype)`, also the
    /// `learning_rate` of `_apply_weight_decay`); Keras schedules no momentum.
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        let lr = T::from_f64(s.lr);
        self.lr = lr;
        self.decay.lr = lr;
        s.momentum.is_none()
    }

    fn describe(&self) -> String {
        "keras Adam.update_step (eps-hat; jax backend, one rounding per ops call, XLA pow)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, (self.t > 0).then_some(self.m.len()))?;
        if self.t == 0 {
            self.m = vec![T::zero(); theta.len()];
            self.v = vec![T::zero(); theta.len()];
            if self.amsgrad {
                self.v_hat = vec![T::zero(); theta.len()];
            }
        }
        self.decay.apply(theta);
        self.t += 1;
        let local_step = T::from_f64(self.t as f64);
        let beta_1_power = self.beta1.powf(local_step);
        let beta_2_power = self.beta2.powf(local_step);
        let alpha = self.lr * (T::one() - beta_2_power).sqrt() / (T::one() - beta_1_power);
        for i in 0..theta.len() {
            self.m[i] = self.m[i] + (g[i] - self.m[i]) * self.one_minus_beta1;
            self.v[i] = self.v[i] + (g[i] * g[i] - self.v[i]) * self.one_minus_beta2;
            let v = if self.amsgrad {
                self.v_hat[i] = self.v_hat[i].max(self.v[i]);
                self.v_hat[i]
            } else {
                self.v[i]
            };
            theta[i] = theta[i] - (self.m[i] * alpha) / (v.sqrt() + self.epsilon);
        }
        Ok(())
    }
}

/// `keras.optimizers.Adagrad.update_step` (accumulator initialised to
/// `initial_accumulator_value`):
/// ```python
/// accumulator.assign_add(square(gradient))
/// variable.assign_sub((lr * gradient) / sqrt(accumulator + epsilon))
/// ```
pub struct Adagrad<T: Real> {
    lr: T,
    epsilon: T,
    initial: T,
    decay: Decay<T>,
    acc: Option<Vec<T>>,
}

impl<T: Real> Adagrad<T> {
    /// `None` for ε outside the root or a learning-rate decay (PyTorch only), or a decay form
    /// Keras does not have.
    fn new(c: &AdaGradConfig) -> Option<Self> {
        if c.eps_placement != EpsPlacement::InsideSqrt || c.lr_decay != 0.0 {
            return None;
        }
        let lr = T::from_f64(c.lr);
        Some(Adagrad {
            lr,
            epsilon: T::from_f64(c.eps),
            initial: T::from_f64(c.initial_accumulator_value),
            decay: Decay::new(&c.weight_decay, lr)?,
            acc: None,
        })
    }
}

impl<T: Real> Kernel<T> for Adagrad<T> {
    /// A schedule's value at this step (`ops.cast(learning_rate, variable.dtype)`, also the
    /// `learning_rate` of `_apply_weight_decay`); Keras schedules no momentum.
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        let lr = T::from_f64(s.lr);
        self.lr = lr;
        self.decay.lr = lr;
        s.momentum.is_none()
    }

    fn describe(&self) -> String {
        "keras Adagrad.update_step (jax backend, one rounding per ops call)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, self.acc.as_ref().map(Vec::len))?;
        self.decay.apply(theta);
        let initial = self.initial;
        let acc = self.acc.get_or_insert_with(|| vec![initial; theta.len()]);
        for i in 0..theta.len() {
            acc[i] = acc[i] + g[i] * g[i];
            theta[i] = theta[i] - (self.lr * g[i]) / (acc[i] + self.epsilon).sqrt();
        }
        Ok(())
    }
}

/// `keras.optimizers.RMSprop.update_step`:
/// ```python
/// velocity.assign(rho * velocity + (1 - rho) * square(gradient))
/// if centered:
///     average_grad.assign(rho * average_grad + (1 - rho) * gradient)
///     denominator = velocity - square(average_grad) + epsilon
/// else:
///     denominator = velocity + epsilon
/// increment = (lr * gradient) / sqrt(denominator)
/// if momentum > 0: momentum.assign(momentum * momentum + increment); variable.assign_sub(momentum)
/// else:            variable.assign_sub(increment)
/// ```
pub struct RmsProp<T: Real> {
    lr: T,
    rho: T,
    one_minus_rho: T,
    epsilon: T,
    centered: bool,
    /// `None` unless momentum > 0 (Keras creates the slot only then).
    momentum: Option<T>,
    decay: Decay<T>,
    started: bool,
    velocity: Vec<T>,
    average_grad: Vec<T>,
    buffer: Vec<T>,
}

impl<T: Real> RmsProp<T> {
    /// `None` for ε outside the root, a non-zero initial scale, bias correction, the learning
    /// rate outside the momentum buffer (optax/PyTorch forms Keras does not have), or a decay
    /// form Keras does not have.
    fn new(c: &RmsPropConfig) -> Option<Self> {
        let keras_form = c.eps_placement == EpsPlacement::InsideSqrt
            && c.initial_scale == 0.0
            && c.bias_correction == BiasCorrection::Off
            && !c.nesterov
            && (c.momentum == 0.0 || c.momentum_placement == MomentumPlacement::LrInsideBuffer);
        if !keras_form {
            return None;
        }
        let lr = T::from_f64(c.lr);
        Some(RmsProp {
            lr,
            rho: T::from_f64(c.decay),
            one_minus_rho: T::from_f64(1.0 - c.decay),
            epsilon: T::from_f64(c.eps),
            centered: c.centering == Centering::Centered,
            momentum: (c.momentum > 0.0).then(|| T::from_f64(c.momentum)),
            decay: Decay::new(&c.weight_decay, lr)?,
            started: false,
            velocity: Vec::new(),
            average_grad: Vec::new(),
            buffer: Vec::new(),
        })
    }
}

impl<T: Real> Kernel<T> for RmsProp<T> {
    /// A schedule's value at this step (`ops.cast(learning_rate, variable.dtype)`, also the
    /// `learning_rate` of `_apply_weight_decay`); Keras schedules no momentum.
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        let lr = T::from_f64(s.lr);
        self.lr = lr;
        self.decay.lr = lr;
        s.momentum.is_none()
    }

    fn describe(&self) -> String {
        "keras RMSprop.update_step (jax backend, one rounding per ops call)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, self.started.then_some(self.velocity.len()))?;
        if !self.started {
            let zeros = vec![T::zero(); theta.len()];
            self.velocity = zeros.clone();
            if self.centered {
                self.average_grad = zeros.clone();
            }
            if self.momentum.is_some() {
                self.buffer = zeros;
            }
            self.started = true;
        }
        self.decay.apply(theta);
        for i in 0..theta.len() {
            self.velocity[i] = self.rho * self.velocity[i] + self.one_minus_rho * (g[i] * g[i]);
            let denominator = if self.centered {
                self.average_grad[i] = self.rho * self.average_grad[i] + self.one_minus_rho * g[i];
                self.velocity[i] - self.average_grad[i] * self.average_grad[i] + self.epsilon
            } else {
                self.velocity[i] + self.epsilon
            };
            let increment = (self.lr * g[i]) / denominator.sqrt();
            match self.momentum {
                Some(momentum) => {
                    self.buffer[i] = momentum * self.buffer[i] + increment;
                    theta[i] = theta[i] - self.buffer[i];
                }
                None => theta[i] = theta[i] - increment,
            }
        }
        Ok(())
    }
}

/// `keras.optimizers.Adadelta.update_step` (`rms(x) = sqrt(x + epsilon)`):
/// ```python
/// accumulated_grad.assign(rho * accumulated_grad + (1 - rho) * square(grad))
/// delta_var = -((rms(accumulated_delta_var) * grad) / rms(accumulated_grad))
/// accumulated_delta_var.assign(rho * accumulated_delta_var + (1 - rho) * square(delta_var))
/// variable.assign_add(lr * delta_var)
/// ```
pub struct AdaDelta<T: Real> {
    lr: T,
    rho: T,
    one_minus_rho: T,
    epsilon: T,
    decay: Decay<T>,
    started: bool,
    accumulated_grad: Vec<T>,
    accumulated_delta: Vec<T>,
}

impl<T: Real> AdaDelta<T> {
    /// `None` for a decay form Keras does not have.
    fn new(c: &AdaDeltaConfig) -> Option<Self> {
        let lr = T::from_f64(c.lr);
        Some(AdaDelta {
            lr,
            rho: T::from_f64(c.rho),
            one_minus_rho: T::from_f64(1.0 - c.rho),
            epsilon: T::from_f64(c.eps),
            decay: Decay::new(&c.weight_decay, lr)?,
            started: false,
            accumulated_grad: Vec::new(),
            accumulated_delta: Vec::new(),
        })
    }
}

impl<T: Real> Kernel<T> for AdaDelta<T> {
    /// A schedule's value at this step (`ops.cast(learning_rate, variable.dtype)`, also the
    /// `learning_rate` of `_apply_weight_decay`); Keras schedules no momentum.
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        let lr = T::from_f64(s.lr);
        self.lr = lr;
        self.decay.lr = lr;
        s.momentum.is_none()
    }

    fn describe(&self) -> String {
        "keras Adadelta.update_step (jax backend, one rounding per ops call)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, self.started.then_some(self.accumulated_grad.len()))?;
        if !self.started {
            self.accumulated_grad = vec![T::zero(); theta.len()];
            self.accumulated_delta = vec![T::zero(); theta.len()];
            self.started = true;
        }
        self.decay.apply(theta);
        for i in 0..theta.len() {
            self.accumulated_grad[i] =
                self.rho * self.accumulated_grad[i] + self.one_minus_rho * (g[i] * g[i]);
            let delta = -(((self.accumulated_delta[i] + self.epsilon).sqrt() * g[i])
                / (self.accumulated_grad[i] + self.epsilon).sqrt());
            self.accumulated_delta[i] =
                self.rho * self.accumulated_delta[i] + self.one_minus_rho * (delta * delta);
            theta[i] = theta[i] + self.lr * delta;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::adamw::AdamWConfig;
    use crate::oracle::format::{open, Dtype};
    use crate::oracle::kernels::replay_exact;
    use nalgebra::DVector;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};
    use std::collections::BTreeMap;
    use std::path::Path;

    /// The Keras settings of scripts/golden_keras.py and how many traces each has: the five
    /// cases in f64 and randn, quad in f32.
    const KERAS_SETTINGS: usize = 17;

    /// Every golden Keras trace (f64 and f32), replayed through its kernel in its own dtype,
    /// bit for bit: every step, every coordinate, 0 ulps.
    #[test]
    fn keras_golden_traces_replay_bit_for_bit() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
        // setting (file name without case and dtype) → (f64 identical, f64 seen, f32 identical, f32 seen)
        let mut table: BTreeMap<String, [usize; 4]> = BTreeMap::new();
        let mut failures = Vec::new();
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with("keras-") && n.ends_with(".jsonl"))
            .collect();
        names.sort();
        for name in &names {
            let mut reader = open(&dir.join(name)).unwrap();
            let dtype = reader.header().dtype;
            let r = replay_exact(&mut reader)
                .unwrap()
                .unwrap_or_else(|| panic!("{name}: no Keras kernel for its setting"));
            let stem = name.trim_end_matches(".jsonl").trim_end_matches("-f32");
            let setting = stem.rsplit_once('-').unwrap().0.to_string();
            let row = table.entry(setting).or_default();
            let col = if dtype == Dtype::F64 { 0 } else { 2 };
            row[col] += usize::from(r.bit_identical());
            row[col + 1] += 1;
            if !r.bit_identical() {
                failures.push(format!(
                    "{name}: {}/{} steps identical, first difference {:?}, max {} ulps",
                    r.identical_steps, r.steps, r.first_difference, r.max_ulps
                ));
            }
        }
        for (setting, [b64, n64, b32, n32]) in &table {
            println!("{setting:28} f64 {b64}/{n64} bit for bit, f32 {b32}/{n32}");
        }
        assert!(failures.is_empty(), "{failures:#?}");
        assert_eq!(table.len(), KERAS_SETTINGS, "{:?}", table.keys());
        for (setting, row) in &table {
            assert_eq!((row[1], row[3]), (5, 2), "{setting}: traces per dtype");
        }
    }

    #[test]
    fn settings_keras_cannot_compute_have_no_kernel() {
        let torch_sgd = Setting::Sgd(SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.5,
            nesterov: false,
            weight_decay: WeightDecay::None,
        });
        assert!(build::<f64>(&torch_sgd).is_none());
        let coupled = Setting::Sgd(SgdConfig {
            dampening: 0.0,
            weight_decay: WeightDecay::CoupledL2(0.1),
            ..SgdConfig::nesterov(0.1, 0.9)
        });
        assert!(build::<f64>(&coupled).is_none());
        assert!(build::<f32>(&Setting::Adam(AdamConfig::pytorch())).is_none());
        assert!(build::<f32>(&Setting::Adam(AdamConfig::keras())).is_some());
        assert!(build::<f64>(&Setting::AdaGrad(AdaGradConfig::pytorch())).is_none());
        assert!(build::<f64>(&Setting::AdaGrad(AdaGradConfig::keras())).is_some());
        assert!(build::<f64>(&Setting::RmsProp(RmsPropConfig::pytorch())).is_none());
        assert!(build::<f64>(&Setting::RmsProp(RmsPropConfig::keras())).is_some());
        let paper = Setting::AdamW(AdamWConfig {
            adam: AdamConfig::keras(),
            weight_decay: WeightDecay::DecoupledSchedule(0.1),
        });
        assert!(build::<f64>(&paper).is_none());
    }

    #[test]
    fn kernels_refuse_bad_input_without_moving() {
        let mut k = build::<f32>(&Setting::Adam(AdamConfig::keras())).unwrap();
        let mut theta = vec![1.0f32, 2.0];
        assert!(k.step(&mut theta, &[0.5, f32::NAN]).is_err());
        assert!(k.step(&mut theta, &[0.5]).is_err());
        assert_eq!(theta, vec![1.0, 2.0]);
        k.step(&mut theta, &[0.5, -0.5]).unwrap();
        assert!(theta[0] < 1.0 && theta[1] > 2.0);
        let mut three = vec![0.0f32; 3];
        assert!(k.step(&mut three, &[0.0; 3]).is_err(), "state has length 2");
    }

    // ---- kernel::<f64> against the crate's optimizer of the same setting ----

    /// Steps per property case.
    const STEPS: usize = 30;

    /// Replay `STEPS` open-loop N(0, 1) gradients from θ₀ with |θ₀ᵢ| ∈ [1, 2] through the
    /// Keras kernel (f64) and the crate's optimizer built from the same setting; return the
    /// first (step, coordinate, relative difference, bound) beyond `trajectory_rel(t)`.
    ///
    /// The bound: the kernel and the crate compute the same real numbers in different
    /// operation orders (Keras `m + (g − m)(1−β)` vs `βm + (1−β)g`, α_t folded vs not, …),
    /// each step with relative rounding ≤ STEP_REL = 32u of the quantities it combines. The
    /// strategies keep every per-step update below the parameters' scale (|θ₀ᵢ| ≥ 1, lr ≤ 0.05,
    /// normalised updates of size O(1)) and the iterations non-expansive in θ (open loop,
    /// decay factor 1 − lr·λ ∈ (0, 1]), so differences add up to at most STEP_REL · t
    /// relative to the coordinate's scale: `prec::trajectory_rel(t)`. Relative is measured as
    /// in compare.rs: |a − b| / max(|a|, |b|, largest |θ_k,i| so far).
    fn first_beyond_bound(setting: &Setting, seed: u64, dim: usize) -> Option<(usize, usize, f64, f64)> {
        first_beyond_bound_against(setting, setting, seed, dim)
    }

    /// [`first_beyond_bound`] with the crate's optimizer built from `reference` (to show that
    /// the comparison sees a convention difference).
    fn first_beyond_bound_against(
        setting: &Setting,
        reference: &Setting,
        seed: u64,
        dim: usize,
    ) -> Option<(usize, usize, f64, f64)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
        let theta0: Vec<f64> = (0..dim)
            .map(|_| {
                let x = normal();
                x.signum() * (1.0 + x.abs().fract())
            })
            .collect();
        let mut kernel = build::<f64>(setting).expect("a Keras setting has a kernel");
        let mut opt = reference.build().expect("valid setting");
        let mut ours = theta0.clone();
        let mut crate_x = DVector::from_vec(theta0.clone());
        let mut scale: Vec<f64> = theta0.iter().map(|x| x.abs()).collect();
        for t in 1..=STEPS {
            let g: Vec<f64> = (0..dim).map(|_| normal()).collect();
            kernel.step(&mut ours, &g).unwrap();
            opt.step(&mut crate_x, &DVector::from_vec(g)).unwrap();
            let bound = crate::prec::trajectory_rel(t);
            for i in 0..dim {
                let (a, b) = (crate_x[i], ours[i]);
                scale[i] = scale[i].max(a.abs());
                let rel = (a - b).abs() / a.abs().max(b.abs()).max(scale[i]);
                if rel.is_nan() || rel > bound {
                    return Some((t, i, rel, bound));
                }
            }
        }
        None
    }

    #[test]
    fn the_kernel_comparison_sees_a_convention_difference() {
        // The same numbers in Algorithm 1 (ε outside the root after bias correction) instead of
        // Keras's ε-hat: ε_eff = ε̂/√(1 − β₂ᵗ) ≈ 32 ε̂ at t = 1, a ~3 % change of the first
        // step when ε̂ = 1e-3 and |g| ~ 1, far beyond trajectory_rel.
        let keras = AdamConfig {
            lr: 0.01,
            eps: 1e-3,
            ..AdamConfig::keras()
        };
        let algorithm1 = AdamConfig {
            formulation: AdamFormulation::Algorithm1,
            ..keras.clone()
        };
        let found = first_beyond_bound_against(&Setting::Adam(keras), &Setting::Adam(algorithm1), 7, 4);
        assert!(matches!(found, Some((1, _, _, _))), "{found:?}");
        // And a plain SGD learning rate off by one part in 10⁹.
        let sgd = SgdConfig::gd(0.01);
        let off = SgdConfig::gd(0.01 * (1.0 + 1e-9));
        let found = first_beyond_bound_against(&Setting::Sgd(sgd), &Setting::Sgd(off), 7, 4);
        assert!(found.is_some(), "{found:?}");
    }

    fn decay(lambda: f64) -> WeightDecay {
        if lambda == 0.0 {
            WeightDecay::None
        } else {
            WeightDecay::DecoupledTimesLr(lambda)
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn sgd_kernel_agrees_with_the_crate(
            seed in any::<u64>(), dim in 1usize..=6, lr in 1e-3f64..0.05,
            momentum in prop_oneof![Just(0.0), 0.0f64..0.9], nesterov in any::<bool>(),
            lambda in prop_oneof![Just(0.0), 0.0f64..0.5],
        ) {
            let setting = Setting::Sgd(SgdConfig {
                lr, momentum, dampening: 0.0, nesterov: nesterov && momentum > 0.0,
                weight_decay: decay(lambda),
            });
            prop_assert_eq!(first_beyond_bound(&setting, seed, dim), None);
        }

        #[test]
        fn adam_kernel_agrees_with_the_crate(
            seed in any::<u64>(), dim in 1usize..=6, lr in 1e-4f64..0.05,
            beta1 in 0.5f64..0.95, beta2 in 0.9f64..0.9999, log10_eps in -9.0f64..-5.0,
            amsgrad in any::<bool>(), lambda in prop_oneof![Just(0.0), 0.0f64..0.5],
        ) {
            let adam = AdamConfig {
                lr, beta1, beta2, eps: 10f64.powf(log10_eps),
                amsgrad: amsgrad.then_some(AmsGradMax::RawV),
                ..AdamConfig::keras()
            };
            let setting = Setting::AdamW(AdamWConfig { adam, weight_decay: decay(lambda) });
            prop_assert_eq!(first_beyond_bound(&setting, seed, dim), None);
        }

        #[test]
        fn adagrad_kernel_agrees_with_the_crate(
            seed in any::<u64>(), dim in 1usize..=6, lr in 1e-3f64..0.05,
            initial in prop_oneof![Just(0.0), 0.0f64..1.0], log10_eps in -9.0f64..-3.0,
            lambda in prop_oneof![Just(0.0), 0.0f64..0.5],
        ) {
            let setting = Setting::AdaGrad(AdaGradConfig {
                lr, eps: 10f64.powf(log10_eps), initial_accumulator_value: initial,
                weight_decay: decay(lambda),
                ..AdaGradConfig::keras()
            });
            prop_assert_eq!(first_beyond_bound(&setting, seed, dim), None);
        }

        #[test]
        fn rmsprop_kernel_agrees_with_the_crate(
            seed in any::<u64>(), dim in 1usize..=6, lr in 1e-4f64..0.01,
            rho in 0.5f64..0.99, log10_eps in -9.0f64..-3.0, centered in any::<bool>(),
            momentum in prop_oneof![Just(0.0), 0.0f64..0.9],
            lambda in prop_oneof![Just(0.0), 0.0f64..0.5],
        ) {
            let setting = Setting::RmsProp(RmsPropConfig {
                lr, decay: rho, eps: 10f64.powf(log10_eps), momentum,
                centering: if centered { Centering::Centered } else { Centering::Uncentered },
                weight_decay: decay(lambda),
                ..RmsPropConfig::keras()
            });
            prop_assert_eq!(first_beyond_bound(&setting, seed, dim), None);
        }

        #[test]
        fn adadelta_kernel_agrees_with_the_crate(
            seed in any::<u64>(), dim in 1usize..=6, lr in 1e-3f64..1.0,
            rho in 0.5f64..0.99, log10_eps in -9.0f64..-3.0,
            lambda in prop_oneof![Just(0.0), 0.0f64..0.05],
        ) {
            let setting = Setting::AdaDelta(AdaDeltaConfig {
                lr, rho, eps: 10f64.powf(log10_eps), weight_decay: decay(lambda),
            });
            prop_assert_eq!(first_beyond_bound(&setting, seed, dim), None);
        }
    }
}
