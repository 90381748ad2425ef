//! # PyTorch kernels: `torch.optim`'s single-tensor (`foreach=False`) CPU path
//!
//! Transcriptions of the `_single_tensor_*` functions of torch 2.15's `torch/optim/*.py`, line
//! by line, in the dtype of the parameters. Each kernel's doc quotes the lines it transcribes
//! and says, per line, how it rounds. What decides the last bit (each measured against torch
//! 2.15.0 on the AVX2 machine that wrote `tests/data/golden/`, op by op on random inputs, in
//! f64 and f32, on the scalar tail and the vectorised body of the loops):
//!
//! | torch call | computed as | roundings |
//! |---|---|---|
//! | `a.add_(b, alpha=s)` | `fma(s, b, a)` (`vec::fmadd`) | 1 |
//! | `a.addcmul_(t1, t2, value=s)` | `fma(s·t1, t2, a)` (ATen writes `self + s*t1*t2`, contracted) | 2 (1 when s = ±1) |
//! | `a.addcdiv_(t1, t2, value=s)` | `a + (s·t1)/t2` (a division cannot fuse) | 3 (2 when s = 1) |
//! | `a.lerp_(b, w)` | \|w\| < ½: `fma(w, b − a, a)`; else `fma(w − 1, b − a, b)` | 2 |
//! | `a.mul_(s)`, `a / s`, `a.add_(s)` | one IEEE operation with `s` rounded to the dtype | 1 |
//! | `a.sqrt()` | oneMKL `vdSqrt`/`vsSqrt`: **not** correctly rounded | see below |
//!
//! * Python-float scalars (`1 − β`, `lr / bias_correction1`, `bias_correction2 ** 0.5`,
//!   `β ** step` with C `pow`, i.e. [`f64::powf`]) are computed in f64 and rounded to the
//!   tensor's dtype only where they meet a tensor ([`Real::from_f64`]).
//! * `state['step']` is a tensor of `_get_scalar_dtype()`, i.e. float64 whenever
//!   `torch.get_default_dtype()` is float64 — and the golden script sets
//!   `torch.set_default_dtype(torch.float64)` for its f32 runs too, so the step is float64 in
//!   every trace. The kernels read it with `.item()` (a Python float), so its dtype does not
//!   change the result while the step count is an integer below 2²⁴.
//! * In f32, ATen's CPU opmath type for `float` is `float`: every operation above rounds to
//!   f32, none is carried in f64 (checked: the f64-carried alternatives disagree on 25–30% of
//!   random inputs, the f32 ones on none).
//!
//! ## The one operation not reproduced: `sqrt`
//! torch's CPU `Tensor.sqrt` calls oneMKL VML (`vdSqrt`, `vsSqrt`; in the machine's profile
//! they are the kernels `mkl_vml_kernel_dSqrt_EXHAynn`/`sSqrt_EXHAynn`), which is not
//! correctly rounded: on random inputs in (0, 4) it returns the other neighbour of the exact
//! root for 1.4% of f64 and 20% of f32 inputs (never more than 1 ulp away; an f32 result is
//! off when the exact root lies between ¼ and ¾ of an ulp). The kernels here use IEEE `sqrt`.
//! MKL's algorithm is proprietary and is not reverse-engineered here; instead
//! `scripts/torch_sqrt_table.py` records, on the golden runs themselves, the inputs where
//! torch's root differs from IEEE's (`tests/data/torch-sqrt-table.json`), and the tests replay
//! every golden trace with that table in place of `sqrt` and require every step of every trace
//! to be bit-identical: every *other* operation is transcribed exactly. With IEEE `sqrt` (what
//! [`build`] returns) the traces agree to the bound argued in the tests (a few ulps of the
//! coordinate scale per step).
//!
//! Reference: PyTorch 2.15 `torch/optim/{sgd,adam,adamw,adagrad,rmsprop,adadelta,nadam,radam}.py`
//! (`_single_tensor_*`); ATen `native/cpu/{BinaryOpsKernel,PointwiseOpsKernel,LerpKernel}.cpp`
//! and `native/cpu/vml.h` for the element-wise kernels.

use super::{check_input, Kernel, Real};
use crate::error::StepError;
use crate::optim::adadelta::AdaDeltaConfig;
use crate::optim::adagrad::AdaGradConfig;
use crate::optim::adam::{AdamConfig, FirstMomentInit};
use crate::optim::conventions::{AdamFormulation, AmsGradMax, BiasCorrection, EpsPlacement, WeightDecay};
use crate::optim::nadam::{MomentumSchedule, NAdamConfig};
use crate::optim::radam::{RAdamConfig, Threshold};
use crate::optim::rmsprop::{Centering, MomentumPlacement, RmsPropConfig};
use crate::optim::sgd::SgdConfig;
use crate::oracle::presets::Setting;
use std::sync::Arc;

pub mod adafactor;

/// The square root a kernel calls (IEEE by default; the tests substitute torch's recorded one).
pub type SqrtFn<T> = Arc<dyn Fn(T) -> T + Send + Sync>;

/// The kernel for `setting` as `torch.optim` computes it, or `None` if torch cannot produce
/// the setting (decoupled decay in SGD/Adagrad/RMSprop/Adadelta, ε inside the root, optax's
/// AMSGrad, Keras' ε-hat, a schedule, RMSprop's initial scale or bias correction, …).
pub fn build<T: Real>(setting: &Setting) -> Option<Box<dyn Kernel<T>>> {
    build_with_sqrt(setting, Arc::new(|x: T| x.sqrt()))
}

/// [`build`] with `sqrt` in place of IEEE `sqrt` for every `Tensor.sqrt` of the torch source.
pub fn build_with_sqrt<T: Real>(setting: &Setting, sqrt: SqrtFn<T>) -> Option<Box<dyn Kernel<T>>> {
    fn boxed<T: Real, K: Kernel<T> + 'static>(k: Option<K>) -> Option<Box<dyn Kernel<T>>> {
        k.map(|k| Box::new(k) as Box<dyn Kernel<T>>)
    }
    match setting {
        Setting::Sgd(c) => boxed(Sgd::new(c)),
        Setting::Adam(c) => boxed(Adam::new(c, WeightDecay::None, sqrt)),
        Setting::AdamW(c) => boxed(Adam::new(&c.adam, c.weight_decay, sqrt)),
        Setting::AdaGrad(c) => boxed(Adagrad::new(c, sqrt)),
        Setting::RmsProp(c) => boxed(RmsProp::new(c, sqrt)),
        Setting::AdaDelta(c) => boxed(Adadelta::new(c, sqrt)),
        Setting::NAdam(c) => boxed(NAdam::new(c, sqrt)),
        Setting::RAdam(c) => boxed(RAdam::new(c, sqrt)),
        // One block per parameter tensor, from the layout the setting carries
        // (`presets::resolve_header`); torch/adafactor.rs.
        Setting::Adafactor(c) => boxed(adafactor::Adafactor::new(c)),
        // torch.optim has neither LAMB nor LARS.
        Setting::Lamb(_) | Setting::Lars(_) => None,
    }
}

/// λ of a coupled (L2) decay, `None` for a form torch's non-W optimizers do not have.
fn coupled_lambda(w: WeightDecay) -> Option<f64> {
    match w {
        WeightDecay::None => Some(0.0),
        WeightDecay::CoupledL2(l) => Some(l),
        WeightDecay::DecoupledSchedule(_) | WeightDecay::DecoupledTimesLr(_) => None,
    }
}

/// ATen's CPU element-wise operations on one coordinate, rounded as torch 2.15 rounds them
/// (table in the module doc).
mod aten {
    use super::Real;

    /// `a.add_(b, alpha=s)` = `fma(s, b, a)`: the CPU add kernel calls `vec::fmadd`.
    pub fn add_alpha<T: Real>(a: T, s: T, b: T) -> T {
        s.mul_add(b, a)
    }

    /// `a.addcmul_(t1, t2, value=s)`: ATen's `self + s * t1 * t2`, with `(s*t1)*t2 + self`
    /// contracted to one FMA (two roundings; `s*t1` is exact for s = ±1).
    pub fn addcmul<T: Real>(a: T, s: T, t1: T, t2: T) -> T {
        (s * t1).mul_add(t2, a)
    }

    /// `a.addcdiv_(t1, t2, value=s)`: ATen's `self + s * t1 / t2`, three roundings (a
    /// division does not fuse).
    pub fn addcdiv<T: Real>(a: T, s: T, t1: T, t2: T) -> T {
        a + s * t1 / t2
    }

    /// `a.lerp_(end, w)`: ATen's `|w| < 0.5 ? a + w*(end − a) : end − (end − a)*(1 − w)`, each
    /// branch one FMA after the subtraction (the vectorised form is literally
    /// `fmadd(w or w − 1, end − a, a or end)`; the scalar tail contracts to the same).
    pub fn lerp<T: Real>(a: T, end: T, w: T) -> T {
        let diff = end - a;
        if w.abs() < T::from_f64(0.5) {
            w.mul_add(diff, a)
        } else {
            (w - T::one()).mul_add(diff, end)
        }
    }
}

/// `torch.optim.SGD`, `_single_tensor_sgd`:
/// ```python
/// if weight_decay != 0: grad = grad.add(param, alpha=weight_decay)
/// if momentum != 0:
///     if buf is None: buf = torch.clone(grad).detach()
///     else: buf.mul_(momentum).add_(grad, alpha=1 - dampening)
///     grad = grad.add(buf, alpha=momentum) if nesterov else buf
/// param.add_(grad, alpha=-lr)
/// ```
pub struct Sgd<T: Real> {
    lr: T,
    momentum: T,
    one_minus_dampening: T,
    nesterov: bool,
    weight_decay: T,
    buf: Option<Vec<T>>,
}

impl<T: Real> Sgd<T> {
    /// `None` for a weight-decay form PyTorch's SGD does not have (decoupled decay).
    fn new(c: &SgdConfig) -> Option<Self> {
        let weight_decay = match c.weight_decay {
            WeightDecay::None => 0.0,
            WeightDecay::CoupledL2(l) => l,
            WeightDecay::DecoupledSchedule(_) | WeightDecay::DecoupledTimesLr(_) => return None,
        };
        Some(Sgd {
            lr: T::from_f64(-c.lr),
            momentum: T::from_f64(c.momentum),
            one_minus_dampening: T::from_f64(1.0 - c.dampening),
            nesterov: c.nesterov,
            weight_decay: T::from_f64(weight_decay),
            buf: None,
        })
    }
}

impl<T: Real> Kernel<T> for Sgd<T> {
    fn describe(&self) -> String {
        "torch _single_tensor_sgd (add_ with alpha as one FMA)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, self.buf.as_ref().map(Vec::len))?;
        let first = self.buf.is_none();
        let buf = self.buf.get_or_insert_with(|| vec![T::zero(); theta.len()]);
        for i in 0..theta.len() {
            let mut d = g[i];
            if self.weight_decay != T::zero() {
                d = self.weight_decay.mul_add(theta[i], d);
            }
            if self.momentum != T::zero() {
                buf[i] = if first {
                    d
                } else {
                    self.one_minus_dampening.mul_add(d, buf[i] * self.momentum)
                };
                d = if self.nesterov {
                    self.momentum.mul_add(buf[i], d)
                } else {
                    buf[i]
                };
            }
            // `-lr` is rounded to the dtype as a Python scalar is: from_f64(−lr), not −from_f64(lr)
            // (the same number, since rounding to nearest is symmetric).
            theta[i] = self.lr.mul_add(d, theta[i]);
        }
        Ok(())
    }

    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.lr = T::from_f64(-s.lr);
        if let Some(m) = s.momentum {
            // group["momentum"] is read at each step; a buffer exists only with momentum ≠ 0.
            if (m != 0.0) != (self.momentum != T::zero()) {
                return false;
            }
            self.momentum = T::from_f64(m);
        }
        true
    }
}

/// `torch.optim.Adam` and `torch.optim.AdamW`, `_single_tensor_adam` (AdamW calls it with
/// `decoupled_weight_decay=True`), the non-capturable branch:
///
/// | torch 2.15 line | here, in dtype T |
/// |---|---|
/// | `step_t += 1` | `step: f64` (the float64 step tensor, read by `.item()`) |
/// | `param.mul_(1 - lr * weight_decay)` (AdamW) | factor in f64, rounded to T once; 1 rounding |
/// | `grad = grad.add(param, alpha=weight_decay)` (Adam) | `fma(λ, θ, g)`; 1 rounding |
/// | `exp_avg.lerp_(grad, 1 - beta1)` | `fma(1−β₁, g − m, m)` (weight 0.1 < ½); 2 roundings |
/// | `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)` | `fma((1−β₂)·g, g, v·β₂)`; 3 roundings |
/// | `bias_correction1 = 1 - beta1 ** step`, `bias_correction2 = 1 - beta2 ** step` | f64, C `pow` |
/// | `step_size = lr / bias_correction1` | f64 |
/// | `bias_correction2_sqrt = bias_correction2 ** 0.5` | f64 `pow(·, 0.5)`, rounded to T where used |
/// | `torch.maximum(max_exp_avg_sqs[i], exp_avg_sq, out=...)` (amsgrad) | exact |
/// | `denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)` | sqrt (MKL in torch), ÷, + ε: 3 roundings |
/// | `param.addcdiv_(exp_avg, denom, value=-step_size)` | `θ + (−step_size·m)/denom`; 3 roundings |
pub struct Adam<T: Real> {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: T,
    /// Coupled λ (Adam's `weight_decay`), 0 for AdamW.
    weight_decay: T,
    /// AdamW's `1 − lr·weight_decay`, rounded to T.
    decoupled_factor: Option<T>,
    /// AdamW's λ (to recompute the factor when the learning rate changes).
    decoupled_lambda: f64,
    amsgrad: bool,
    one_minus_beta1: T,
    beta2_t: T,
    one_minus_beta2: T,
    sqrt: SqrtFn<T>,
    step: f64,
    exp_avg: Vec<T>,
    exp_avg_sq: Vec<T>,
    max_exp_avg_sq: Vec<T>,
}

impl<T: Real> Adam<T> {
    /// `decoupled` is AdamW's decay (`None` for Adam); `None` for what torch cannot produce.
    fn new(c: &AdamConfig, decoupled: WeightDecay, sqrt: SqrtFn<T>) -> Option<Self> {
        if c.formulation != AdamFormulation::Algorithm1
            || c.bias_correction != BiasCorrection::On
            || c.eps_root != 0.0
            || c.schedule.is_some()
            || c.first_moment_init != FirstMomentInit::Zero
        {
            return None;
        }
        let amsgrad = match c.amsgrad {
            None => false,
            Some(AmsGradMax::RawV) => true,
            Some(AmsGradMax::BiasCorrectedV | AmsGradMax::PaperNoBiasCorrection) => return None,
        };
        let coupled = coupled_lambda(c.weight_decay)?;
        let decoupled_factor = match decoupled {
            WeightDecay::None => None,
            // torch has no optimizer with both decays.
            WeightDecay::DecoupledTimesLr(l) if coupled == 0.0 => Some(T::from_f64(1.0 - c.lr * l)),
            _ => return None,
        };
        Some(Adam {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: T::from_f64(c.eps),
            weight_decay: T::from_f64(coupled),
            decoupled_factor,
            decoupled_lambda: match decoupled {
                WeightDecay::DecoupledTimesLr(l) => l,
                _ => 0.0,
            },
            amsgrad,
            one_minus_beta1: T::from_f64(1.0 - c.beta1),
            beta2_t: T::from_f64(c.beta2),
            one_minus_beta2: T::from_f64(1.0 - c.beta2),
            sqrt,
            step: 0.0,
            exp_avg: Vec::new(),
            exp_avg_sq: Vec::new(),
            max_exp_avg_sq: Vec::new(),
        })
    }
}

impl<T: Real> Kernel<T> for Adam<T> {
    fn describe(&self) -> String {
        format!(
            "torch _single_tensor_adam ({}{}; lerp, addcmul as FMA)",
            if self.decoupled_factor.is_some() {
                "AdamW"
            } else {
                "Adam"
            },
            if self.amsgrad { ", amsgrad" } else { "" }
        )
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, (self.step > 0.0).then_some(self.exp_avg.len()))?;
        if self.step == 0.0 {
            // torch.zeros_like(p) for exp_avg, exp_avg_sq and (amsgrad) max_exp_avg_sq.
            self.exp_avg = vec![T::zero(); theta.len()];
            self.exp_avg_sq = vec![T::zero(); theta.len()];
            self.max_exp_avg_sq = vec![T::zero(); theta.len()];
        }
        self.step += 1.0;
        // Python floats: `step` is `.item()` of the float64 step tensor, `**` is C pow.
        let bias_correction1 = 1.0 - self.beta1.powf(self.step);
        let bias_correction2 = 1.0 - self.beta2.powf(self.step);
        let step_size = self.lr / bias_correction1;
        let bias_correction2_sqrt = T::from_f64(bias_correction2.powf(0.5));
        let neg_step_size = T::from_f64(-step_size);
        for i in 0..theta.len() {
            let mut grad = g[i];
            if let Some(factor) = self.decoupled_factor {
                theta[i] = theta[i] * factor;
            } else if self.weight_decay != T::zero() {
                grad = aten::add_alpha(grad, self.weight_decay, theta[i]);
            }
            self.exp_avg[i] = aten::lerp(self.exp_avg[i], grad, self.one_minus_beta1);
            self.exp_avg_sq[i] = aten::addcmul(
                self.exp_avg_sq[i] * self.beta2_t,
                self.one_minus_beta2,
                grad,
                grad,
            );
            let second = if self.amsgrad {
                if self.exp_avg_sq[i] > self.max_exp_avg_sq[i] {
                    self.max_exp_avg_sq[i] = self.exp_avg_sq[i];
                }
                self.max_exp_avg_sq[i]
            } else {
                self.exp_avg_sq[i]
            };
            let denom = (self.sqrt)(second) / bias_correction2_sqrt + self.eps;
            theta[i] = aten::addcdiv(theta[i], neg_step_size, self.exp_avg[i], denom);
        }
        Ok(())
    }

    /// `group["lr"]` and `group["betas"][0]` are read at every step: `step_size`, the bias
    /// correction `1 − β₁ᵗ` (with the current β₁), `lerp`'s weight and AdamW's
    /// `1 − lr·λ` follow them.
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.lr = s.lr;
        if self.decoupled_factor.is_some() {
            self.decoupled_factor = Some(T::from_f64(1.0 - s.lr * self.decoupled_lambda));
        }
        if let Some(b1) = s.momentum {
            self.beta1 = b1;
            self.one_minus_beta1 = T::from_f64(1.0 - b1);
        }
        true
    }
}

/// `torch.optim.Adagrad`, `_single_tensor_adagrad`, dense branch:
///
/// | torch 2.15 line | here, in dtype T |
/// |---|---|
/// | `state["sum"] = torch.full_like(p, initial_accumulator_value)` | s₀ rounded to T |
/// | `step_t += 1; step = _get_value(step_t)` | `step: f64` |
/// | `grad = grad.add(param, alpha=weight_decay)` | `fma(λ, θ, g)`; 1 rounding |
/// | `clr = lr / (1 + (step - 1) * lr_decay)` | f64 |
/// | `state_sum.addcmul_(grad, grad, value=1)` | `fma(g, g, s)`; 1 rounding |
/// | `std = state_sum.sqrt().add_(eps)` | sqrt (MKL in torch), + ε; 2 roundings |
/// | `param.addcdiv_(grad, std, value=-clr)` | `θ + (−clr·g)/std`; 3 roundings |
pub struct Adagrad<T: Real> {
    lr: f64,
    lr_decay: f64,
    eps: T,
    weight_decay: T,
    initial_accumulator_value: T,
    sqrt: SqrtFn<T>,
    step: f64,
    sum: Vec<T>,
}

impl<T: Real> Adagrad<T> {
    /// `None` for ε inside the root or a decoupled decay (optax, Keras).
    fn new(c: &AdaGradConfig, sqrt: SqrtFn<T>) -> Option<Self> {
        if c.eps_placement != EpsPlacement::OutsideSqrt {
            return None;
        }
        Some(Adagrad {
            lr: c.lr,
            lr_decay: c.lr_decay,
            eps: T::from_f64(c.eps),
            weight_decay: T::from_f64(coupled_lambda(c.weight_decay)?),
            initial_accumulator_value: T::from_f64(c.initial_accumulator_value),
            sqrt,
            step: 0.0,
            sum: Vec::new(),
        })
    }
}

impl<T: Real> Kernel<T> for Adagrad<T> {
    fn describe(&self) -> String {
        "torch _single_tensor_adagrad (addcmul as FMA)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, (self.step > 0.0).then_some(self.sum.len()))?;
        if self.step == 0.0 {
            self.sum = vec![self.initial_accumulator_value; theta.len()];
        }
        self.step += 1.0;
        let clr = self.lr / (1.0 + (self.step - 1.0) * self.lr_decay);
        let neg_clr = T::from_f64(-clr);
        for i in 0..theta.len() {
            let mut grad = g[i];
            if self.weight_decay != T::zero() {
                grad = aten::add_alpha(grad, self.weight_decay, theta[i]);
            }
            self.sum[i] = aten::addcmul(self.sum[i], T::one(), grad, grad);
            let std = (self.sqrt)(self.sum[i]) + self.eps;
            theta[i] = aten::addcdiv(theta[i], neg_clr, grad, std);
        }
        Ok(())
    }

    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.lr = s.lr;
        s.momentum.is_none()
    }
}

/// `torch.optim.RMSprop`, `_single_tensor_rmsprop`:
///
/// | torch 2.15 line | here, in dtype T |
/// |---|---|
/// | `grad = grad.add(param, alpha=weight_decay)` | `fma(λ, θ, g)`; 1 rounding |
/// | `square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)` | `fma((1−α)·g, g, v·α)`; 3 roundings |
/// | `grad_avg.lerp_(grad, 1 - alpha)` (centered) | `fma(1−α, g − ḡ, ḡ)`; 2 roundings |
/// | `avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()` (centered) | `fma(−ḡ, ḡ, v)`, sqrt (MKL in torch); 2 roundings |
/// | `avg = square_avg.sqrt()` (else) | sqrt (MKL in torch) |
/// | `avg = avg.add_(eps)` | 1 rounding |
/// | `buf.mul_(momentum).addcdiv_(grad, avg)` (momentum > 0) | `b·μ + g/avg`; 3 roundings |
/// | `param.add_(buf, alpha=-lr)` (momentum > 0) | `fma(−lr, b, θ)`; 1 rounding |
/// | `param.addcdiv_(grad, avg, value=-lr)` (else) | `θ + (−lr·g)/avg`; 3 roundings |
pub struct RmsProp<T: Real> {
    neg_lr: T,
    alpha: T,
    one_minus_alpha: T,
    eps: T,
    weight_decay: T,
    momentum: T,
    centered: bool,
    sqrt: SqrtFn<T>,
    square_avg: Option<Vec<T>>,
    grad_avg: Vec<T>,
    momentum_buffer: Vec<T>,
}

impl<T: Real> RmsProp<T> {
    /// `None` for ε inside the root, an initial scale, bias correction, the learning rate
    /// inside the momentum buffer, or a decoupled decay (optax, Keras).
    fn new(c: &RmsPropConfig, sqrt: SqrtFn<T>) -> Option<Self> {
        if c.eps_placement != EpsPlacement::OutsideSqrt
            || c.initial_scale != 0.0
            || c.bias_correction != BiasCorrection::Off
            || c.nesterov
            || (c.momentum != 0.0 && c.momentum_placement != MomentumPlacement::LrOutsideBuffer)
        {
            return None;
        }
        Some(RmsProp {
            neg_lr: T::from_f64(-c.lr),
            alpha: T::from_f64(c.decay),
            one_minus_alpha: T::from_f64(1.0 - c.decay),
            eps: T::from_f64(c.eps),
            weight_decay: T::from_f64(coupled_lambda(c.weight_decay)?),
            momentum: T::from_f64(c.momentum),
            centered: c.centering == Centering::Centered,
            sqrt,
            square_avg: None,
            grad_avg: Vec::new(),
            momentum_buffer: Vec::new(),
        })
    }
}

impl<T: Real> Kernel<T> for RmsProp<T> {
    fn describe(&self) -> String {
        format!(
            "torch _single_tensor_rmsprop ({}{}addcmul, lerp as FMA)",
            if self.centered { "centered, " } else { "" },
            if self.momentum > T::zero() {
                "momentum, "
            } else {
                ""
            }
        )
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, self.square_avg.as_ref().map(Vec::len))?;
        if self.square_avg.is_none() {
            self.grad_avg = vec![T::zero(); theta.len()];
            self.momentum_buffer = vec![T::zero(); theta.len()];
        }
        let square_avg = self
            .square_avg
            .get_or_insert_with(|| vec![T::zero(); theta.len()]);
        for i in 0..theta.len() {
            let mut grad = g[i];
            if self.weight_decay != T::zero() {
                grad = aten::add_alpha(grad, self.weight_decay, theta[i]);
            }
            square_avg[i] = aten::addcmul(square_avg[i] * self.alpha, self.one_minus_alpha, grad, grad);
            let root = if self.centered {
                self.grad_avg[i] = aten::lerp(self.grad_avg[i], grad, self.one_minus_alpha);
                let ga = self.grad_avg[i];
                (self.sqrt)(aten::addcmul(square_avg[i], -T::one(), ga, ga))
            } else {
                (self.sqrt)(square_avg[i])
            };
            let avg = root + self.eps;
            if self.momentum > T::zero() {
                let buf = &mut self.momentum_buffer[i];
                *buf = aten::addcdiv(*buf * self.momentum, T::one(), grad, avg);
                theta[i] = aten::add_alpha(theta[i], self.neg_lr, *buf);
            } else {
                theta[i] = aten::addcdiv(theta[i], self.neg_lr, grad, avg);
            }
        }
        Ok(())
    }

    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.neg_lr = T::from_f64(-s.lr);
        if let Some(m) = s.momentum {
            if (m > 0.0) != (self.momentum > T::zero()) {
                return false;
            }
            self.momentum = T::from_f64(m);
        }
        true
    }
}

/// `torch.optim.Adadelta`, `_single_tensor_adadelta`:
///
/// | torch 2.15 line | here, in dtype T |
/// |---|---|
/// | `grad = grad.add(param, alpha=weight_decay)` | `fma(λ, θ, g)`; 1 rounding |
/// | `square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)` | `fma((1−ρ)·g, g, v·ρ)`; 3 roundings |
/// | `std = square_avg.add(eps).sqrt_()` | + ε, sqrt (MKL in torch); 2 roundings |
/// | `delta = acc_delta.add(eps).sqrt_()` | + ε, sqrt (MKL in torch); 2 roundings |
/// | `delta.div_(std).mul_(grad)` | ÷ then ×; 2 roundings |
/// | `acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)` | `fma((1−ρ)·Δ, Δ, u·ρ)`; 3 roundings |
/// | `param.add_(delta, alpha=-lr)` | `fma(−lr, Δ, θ)`; 1 rounding |
pub struct Adadelta<T: Real> {
    neg_lr: T,
    rho: T,
    one_minus_rho: T,
    eps: T,
    weight_decay: T,
    sqrt: SqrtFn<T>,
    square_avg: Option<Vec<T>>,
    acc_delta: Vec<T>,
}

impl<T: Real> Adadelta<T> {
    /// `None` for a decoupled decay (Keras).
    fn new(c: &AdaDeltaConfig, sqrt: SqrtFn<T>) -> Option<Self> {
        Some(Adadelta {
            neg_lr: T::from_f64(-c.lr),
            rho: T::from_f64(c.rho),
            one_minus_rho: T::from_f64(1.0 - c.rho),
            eps: T::from_f64(c.eps),
            weight_decay: T::from_f64(coupled_lambda(c.weight_decay)?),
            sqrt,
            square_avg: None,
            acc_delta: Vec::new(),
        })
    }
}

impl<T: Real> Kernel<T> for Adadelta<T> {
    fn describe(&self) -> String {
        "torch _single_tensor_adadelta (addcmul, add_ with alpha as FMA)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, self.square_avg.as_ref().map(Vec::len))?;
        if self.square_avg.is_none() {
            self.acc_delta = vec![T::zero(); theta.len()];
        }
        let square_avg = self
            .square_avg
            .get_or_insert_with(|| vec![T::zero(); theta.len()]);
        for i in 0..theta.len() {
            let mut grad = g[i];
            if self.weight_decay != T::zero() {
                grad = aten::add_alpha(grad, self.weight_decay, theta[i]);
            }
            square_avg[i] = aten::addcmul(square_avg[i] * self.rho, self.one_minus_rho, grad, grad);
            let std = (self.sqrt)(square_avg[i] + self.eps);
            let delta = (self.sqrt)(self.acc_delta[i] + self.eps) / std * grad;
            self.acc_delta[i] = aten::addcmul(self.acc_delta[i] * self.rho, self.one_minus_rho, delta, delta);
            theta[i] = aten::add_alpha(theta[i], self.neg_lr, delta);
        }
        Ok(())
    }

    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.neg_lr = T::from_f64(-s.lr);
        s.momentum.is_none()
    }
}

/// `torch.optim.NAdam`, `_single_tensor_nadam`, the non-capturable branch:
///
/// | torch 2.15 line | here, in dtype T |
/// |---|---|
/// | `step_t += 1; step = _get_value(step_t)` | `step: f64` |
/// | `bias_correction2 = 1 - beta2**step` | f64, C `pow` |
/// | `param.mul_(1 - lr * weight_decay)` (decoupled) | factor in f64, rounded to T; 1 rounding |
/// | `grad = grad.add(param, alpha=weight_decay)` (coupled) | `fma(λ, θ, g)`; 1 rounding |
/// | `mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))`, `mu_next` likewise with `step + 1` | f64 |
/// | `mu_product *= mu` | `state['mu_product']` is a 0-dim tensor of `_get_scalar_dtype()`: float64 in every golden run (default dtype float64), so f64 |
/// | `exp_avg.lerp_(grad, 1 - beta1)` | `fma(1−β₁, g − m, m)`; 2 roundings |
/// | `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)` | `fma((1−β₂)·g, g, v·β₂)`; 3 roundings |
/// | `denom = exp_avg_sq.div(bias_correction2).sqrt()` | ÷ then sqrt (MKL in torch) |
/// | `mu_product_next = _get_value(mu_product) * mu_next` | f64 |
/// | `denom.add_(eps)` | 1 rounding |
/// | `param.addcdiv_(grad, denom, value=(-lr * (1.0 - mu) / (1.0 - mu_product)))` | value in f64, then `θ + (value·g)/denom`; 3 roundings |
/// | `param.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))` | likewise with m; 3 roundings |
pub struct NAdam<T: Real> {
    lr: f64,
    beta1: f64,
    beta2: f64,
    momentum_decay: f64,
    eps: T,
    weight_decay: T,
    decoupled_factor: Option<T>,
    decoupled_lambda: f64,
    one_minus_beta1: T,
    beta2_t: T,
    one_minus_beta2: T,
    sqrt: SqrtFn<T>,
    step: f64,
    mu_product: f64,
    exp_avg: Vec<T>,
    exp_avg_sq: Vec<T>,
}

impl<T: Real> NAdam<T> {
    /// `None` for optax's constant μ or an ε inside the root.
    fn new(c: &NAdamConfig, sqrt: SqrtFn<T>) -> Option<Self> {
        let MomentumSchedule::Dozat { momentum_decay } = c.momentum_schedule else {
            return None;
        };
        if c.eps_root != 0.0 {
            return None;
        }
        let (weight_decay, decoupled_factor) = match c.weight_decay {
            WeightDecay::None => (0.0, None),
            WeightDecay::CoupledL2(l) => (l, None),
            WeightDecay::DecoupledTimesLr(l) => (0.0, Some(T::from_f64(1.0 - c.lr * l))),
            WeightDecay::DecoupledSchedule(_) => return None,
        };
        Some(NAdam {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            momentum_decay,
            eps: T::from_f64(c.eps),
            weight_decay: T::from_f64(weight_decay),
            decoupled_factor,
            decoupled_lambda: match c.weight_decay {
                WeightDecay::DecoupledTimesLr(l) => l,
                _ => 0.0,
            },
            one_minus_beta1: T::from_f64(1.0 - c.beta1),
            beta2_t: T::from_f64(c.beta2),
            one_minus_beta2: T::from_f64(1.0 - c.beta2),
            sqrt,
            step: 0.0,
            mu_product: 1.0,
            exp_avg: Vec::new(),
            exp_avg_sq: Vec::new(),
        })
    }
}

impl<T: Real> Kernel<T> for NAdam<T> {
    fn describe(&self) -> String {
        "torch _single_tensor_nadam (lerp, addcmul as FMA; μ-product in float64)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, (self.step > 0.0).then_some(self.exp_avg.len()))?;
        if self.step == 0.0 {
            self.exp_avg = vec![T::zero(); theta.len()];
            self.exp_avg_sq = vec![T::zero(); theta.len()];
        }
        self.step += 1.0;
        let step = self.step;
        let bias_correction2 = T::from_f64(1.0 - self.beta2.powf(step));
        let mu = self.beta1 * (1.0 - 0.5 * 0.96f64.powf(step * self.momentum_decay));
        let mu_next = self.beta1 * (1.0 - 0.5 * 0.96f64.powf((step + 1.0) * self.momentum_decay));
        self.mu_product *= mu;
        let mu_product_next = self.mu_product * mu_next;
        let grad_value = T::from_f64(-self.lr * (1.0 - mu) / (1.0 - self.mu_product));
        let exp_avg_value = T::from_f64((-self.lr * mu_next) / (1.0 - mu_product_next));
        for i in 0..theta.len() {
            let mut grad = g[i];
            if let Some(factor) = self.decoupled_factor {
                theta[i] = theta[i] * factor;
            } else if self.weight_decay != T::zero() {
                grad = aten::add_alpha(grad, self.weight_decay, theta[i]);
            }
            self.exp_avg[i] = aten::lerp(self.exp_avg[i], grad, self.one_minus_beta1);
            self.exp_avg_sq[i] = aten::addcmul(
                self.exp_avg_sq[i] * self.beta2_t,
                self.one_minus_beta2,
                grad,
                grad,
            );
            let denom = (self.sqrt)(self.exp_avg_sq[i] / bias_correction2) + self.eps;
            theta[i] = aten::addcdiv(theta[i], grad_value, grad, denom);
            theta[i] = aten::addcdiv(theta[i], exp_avg_value, self.exp_avg[i], denom);
        }
        Ok(())
    }

    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.lr = s.lr;
        if self.decoupled_factor.is_some() {
            self.decoupled_factor = Some(T::from_f64(1.0 - s.lr * self.decoupled_lambda));
        }
        // `group["betas"][0]` is read anew at every step (torch `OneCycleLR` cycles it, or a
        // step line declares it): every quantity derived from β₁ is recomputed from it.
        if let Some(b1) = s.momentum {
            self.beta1 = b1;
            self.one_minus_beta1 = T::from_f64(1.0 - b1);
        }
        true
    }
}

/// `torch.optim.RAdam`, `_single_tensor_radam`, the non-capturable branch:
///
/// | torch 2.15 line | here, in dtype T |
/// |---|---|
/// | `param.mul_(1 - lr * weight_decay)` / `grad = grad.add(param, alpha=weight_decay)` | as NAdam |
/// | `exp_avg.lerp_(grad, 1 - beta1)` | `fma(1−β₁, g − m, m)`; 2 roundings |
/// | `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)` | `fma((1−β₂)·g, g, v·β₂)`; 3 roundings |
/// | `bias_correction1 = 1 - beta1**step`, `bias_correction2 = 1 - beta2**step` | f64, C `pow` |
/// | `bias_corrected_exp_avg = exp_avg / bias_correction1` | 1 rounding |
/// | `rho_inf = 2 / (1 - beta2) - 1`, `rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2` | f64, left to right |
/// | `rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5` | f64 |
/// | `exp_avg_sq_sqrt = exp_avg_sq.sqrt().add_(eps)` | sqrt (MKL in torch), + ε |
/// | `(bias_correction2**0.5) / exp_avg_sq_sqrt` | a float ÷ a tensor is `Tensor.__rtruediv__` = `self.reciprocal() * other`: 1/x, then × √bc₂; 2 roundings |
/// | `param.add_(bias_corrected_exp_avg * lr * adaptive * rect, alpha=-1.0)` (ρ_t > 5) | left to right, 3 roundings, then `fma(−1, x, θ)` = θ − x |
/// | `param.add_(bias_corrected_exp_avg * lr, alpha=-1.0)` (else) | 1 rounding, then θ − x |
pub struct RAdam<T: Real> {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: T,
    weight_decay: T,
    decoupled_factor: Option<T>,
    decoupled_lambda: f64,
    one_minus_beta1: T,
    beta2_t: T,
    one_minus_beta2: T,
    sqrt: SqrtFn<T>,
    step: f64,
    exp_avg: Vec<T>,
    exp_avg_sq: Vec<T>,
}

impl<T: Real> RAdam<T> {
    /// `None` for optax's forms (ε after the bias correction, ε inside the root, ρ_t ≥ τ,
    /// Nesterov) and any threshold but torch's ρ_t > 5.
    fn new(c: &RAdamConfig, sqrt: SqrtFn<T>) -> Option<Self> {
        if c.formulation != AdamFormulation::EpsHat
            || c.eps_root != 0.0
            || c.nesterov
            || c.threshold != Threshold::Above(5.0)
        {
            return None;
        }
        let (weight_decay, decoupled_factor) = match c.weight_decay {
            WeightDecay::None => (0.0, None),
            WeightDecay::CoupledL2(l) => (l, None),
            WeightDecay::DecoupledTimesLr(l) => (0.0, Some(T::from_f64(1.0 - c.lr * l))),
            WeightDecay::DecoupledSchedule(_) => return None,
        };
        Some(RAdam {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: T::from_f64(c.eps),
            weight_decay: T::from_f64(weight_decay),
            decoupled_factor,
            decoupled_lambda: match c.weight_decay {
                WeightDecay::DecoupledTimesLr(l) => l,
                _ => 0.0,
            },
            one_minus_beta1: T::from_f64(1.0 - c.beta1),
            beta2_t: T::from_f64(c.beta2),
            one_minus_beta2: T::from_f64(1.0 - c.beta2),
            sqrt,
            step: 0.0,
            exp_avg: Vec::new(),
            exp_avg_sq: Vec::new(),
        })
    }
}

impl<T: Real> Kernel<T> for RAdam<T> {
    fn describe(&self) -> String {
        "torch _single_tensor_radam (lerp, addcmul as FMA; float ÷ tensor as reciprocal × float)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, (self.step > 0.0).then_some(self.exp_avg.len()))?;
        if self.step == 0.0 {
            self.exp_avg = vec![T::zero(); theta.len()];
            self.exp_avg_sq = vec![T::zero(); theta.len()];
        }
        self.step += 1.0;
        let step = self.step;
        let bias_correction1 = T::from_f64(1.0 - self.beta1.powf(step));
        let bias_correction2 = 1.0 - self.beta2.powf(step);
        let rho_inf = 2.0 / (1.0 - self.beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * step * self.beta2.powf(step) / bias_correction2;
        let rectified = rho_t > 5.0;
        let rect = T::from_f64(
            ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)).powf(0.5),
        );
        let bias_correction2_sqrt = T::from_f64(bias_correction2.powf(0.5));
        let lr = T::from_f64(self.lr);
        for i in 0..theta.len() {
            let mut grad = g[i];
            if let Some(factor) = self.decoupled_factor {
                theta[i] = theta[i] * factor;
            } else if self.weight_decay != T::zero() {
                grad = aten::add_alpha(grad, self.weight_decay, theta[i]);
            }
            self.exp_avg[i] = aten::lerp(self.exp_avg[i], grad, self.one_minus_beta1);
            self.exp_avg_sq[i] = aten::addcmul(
                self.exp_avg_sq[i] * self.beta2_t,
                self.one_minus_beta2,
                grad,
                grad,
            );
            let bias_corrected_exp_avg = self.exp_avg[i] / bias_correction1;
            let update = if rectified {
                let exp_avg_sq_sqrt = (self.sqrt)(self.exp_avg_sq[i]) + self.eps;
                let adaptive_lr = T::one() / exp_avg_sq_sqrt * bias_correction2_sqrt;
                bias_corrected_exp_avg * lr * adaptive_lr * rect
            } else {
                bias_corrected_exp_avg * lr
            };
            theta[i] = aten::add_alpha(theta[i], -T::one(), update);
        }
        Ok(())
    }

    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.lr = s.lr;
        if self.decoupled_factor.is_some() {
            self.decoupled_factor = Some(T::from_f64(1.0 - s.lr * self.decoupled_lambda));
        }
        // `group["betas"][0]` is read anew at every step (torch `OneCycleLR` cycles it, or a
        // step line declares it): every quantity derived from β₁ is recomputed from it.
        if let Some(b1) = s.momentum {
            self.beta1 = b1;
            self.one_minus_beta1 = T::from_f64(1.0 - b1);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::format::{open, Dtype};
    use crate::oracle::kernels::{exact_from_f64, replay_exact};
    use crate::oracle::presets::resolve;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    fn golden(prefix: &str) -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
        let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .collect();
        out.sort();
        out
    }

    fn name(path: &Path) -> String {
        path.file_name().unwrap().to_string_lossy().to_string()
    }

    /// A trace replayed through `kernel`: per step, the trace's θ_t and the kernel's, in f64.
    struct Replayed {
        theirs: Vec<Vec<f64>>,
        ours: Vec<Vec<f64>>,
        params0: Vec<f64>,
    }

    fn replay_with<T: Real>(path: &Path, mut kernel: Box<dyn Kernel<T>>) -> Replayed {
        let mut reader = open(path).unwrap();
        let params0 = reader.header().params0.clone();
        let mut theta: Vec<T> = Vec::new();
        exact_from_f64("params0", &params0, &mut theta).unwrap();
        let mut g: Vec<T> = Vec::new();
        let (mut theirs, mut ours) = (Vec::new(), Vec::new());
        while let Some(rec) = reader.next_step().unwrap() {
            exact_from_f64("grad", &rec.grad, &mut g).unwrap();
            kernel.step(&mut theta, &g).unwrap();
            theirs.push(rec.params.clone());
            ours.push(theta.iter().map(|&x| Real::to_f64(x)).collect());
        }
        Replayed {
            theirs,
            ours,
            params0,
        }
    }

    /// torch's recorded square roots where they are not IEEE's (scripts/torch_sqrt_table.py).
    fn torch_sqrt_table() -> (HashMap<u64, u64>, HashMap<u32, u32>) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/torch-sqrt-table.json");
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let pairs = |key: &str| -> Vec<(u64, u64)> {
            v[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_u64().unwrap(), p[1].as_u64().unwrap()))
                .collect()
        };
        let f64s = pairs("f64").into_iter().collect();
        let f32s = pairs("f32")
            .into_iter()
            .map(|(a, b)| (u32::try_from(a).unwrap(), u32::try_from(b).unwrap()))
            .collect();
        (f64s, f32s)
    }

    /// Replay `path` in its dtype with torch's recorded `sqrt`; `None` if no kernel exists.
    fn replay_with_torch_sqrt(
        path: &Path,
        table: &(HashMap<u64, u64>, HashMap<u32, u32>),
    ) -> Option<Replayed> {
        let reader = open(path).unwrap();
        let h = reader.header().clone();
        let setting = resolve(&h.preset, &h.optimizer, &h.hyperparameters).unwrap();
        Some(match h.dtype {
            Dtype::F64 => {
                let t = Arc::new(table.0.clone());
                let sqrt: SqrtFn<f64> =
                    Arc::new(move |x: f64| t.get(&x.to_bits()).map_or(x.sqrt(), |&b| f64::from_bits(b)));
                replay_with(path, build_with_sqrt(&setting, sqrt)?)
            }
            Dtype::F32 => {
                let t = Arc::new(table.1.clone());
                let sqrt: SqrtFn<f32> =
                    Arc::new(move |x: f32| t.get(&x.to_bits()).map_or(x.sqrt(), |&b| f32::from_bits(b)));
                replay_with(path, build_with_sqrt(&setting, sqrt)?)
            }
        })
    }

    /// Every golden torch trace (f64 and f32) that has a kernel, with torch's own square roots
    /// substituted for IEEE's, replays bit for bit at every step: every operation other than
    /// MKL's `sqrt` is transcribed exactly (operation order, fusion, dtype of every scalar).
    #[test]
    fn every_torch_golden_trace_replays_bit_for_bit_given_torchs_sqrt() {
        let table = torch_sqrt_table();
        let mut replayed = 0;
        for path in golden("torch-") {
            let Some(r) = replay_with_torch_sqrt(&path, &table) else {
                continue;
            };
            for (t, (a, b)) in r.theirs.iter().zip(&r.ours).enumerate() {
                for i in 0..a.len() {
                    assert_eq!(
                        a[i].to_bits(),
                        b[i].to_bits(),
                        "{}: step {} coordinate {i}: torch {} kernel {}",
                        name(&path),
                        t + 1,
                        a[i],
                        b[i]
                    );
                }
            }
            replayed += 1;
        }
        // 28 torch settings × (5 f64 + 2 f32 cases).
        assert!(
            replayed >= 196,
            "expected the 196 torch traces of the eight optimizers, replayed {replayed}"
        );
    }

    /// Every golden torch SGD trace (f64 and f32), replayed in its own dtype through the
    /// kernel [`build`] returns (no square root anywhere), bit for bit.
    #[test]
    fn torch_sgd_golden_traces_replay_bit_for_bit() {
        let mut seen = 0;
        for path in golden("torch-sgd-") {
            let mut reader = open(&path).unwrap();
            let r = replay_exact(&mut reader)
                .unwrap()
                .expect("a torch SGD kernel exists");
            assert!(
                r.bit_identical(),
                "{}: {}/{} steps identical, first difference {:?}, max {} ulps",
                name(&path),
                r.identical_steps,
                r.steps,
                r.first_difference,
                r.max_ulps
            );
            seen += 1;
        }
        assert!(
            seen >= 35,
            "expected the 25 f64 and 10 f32 torch SGD traces, found {seen}"
        );
    }

    /// scale_t = max_{s≤t} ‖θ_s‖∞ + max_{s≤t} ‖θ_s − θ_{s−1}‖∞ of the trace, for t = 1..T.
    fn scales(r: &Replayed) -> Vec<f64> {
        let (mut theta_max, mut delta_max) = (amax(&r.params0), 0.0f64);
        let mut prev = &r.params0;
        r.theirs
            .iter()
            .map(|theta| {
                theta_max = theta_max.max(amax(theta));
                delta_max = delta_max.max(
                    theta
                        .iter()
                        .zip(prev)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max),
                );
                prev = theta;
                theta_max + delta_max
            })
            .collect()
    }

    fn amax(x: &[f64]) -> f64 {
        x.iter().fold(0.0, |m, v| m.max(v.abs()))
    }

    /// With IEEE `sqrt` in place of MKL's, the bound `C_t` on the error of step t in units of
    /// ε·scale_t per step (|θ̂_t − θ_t| ≤ t·C_t·ε·scale_t, ε the dtype's machine epsilon,
    /// scale_t = max‖θ‖∞ + max‖Δθ‖∞ so far).
    ///
    /// Argument. All inputs (gradients) are the trace's. MKL's root is one of the two
    /// neighbours of the exact root (measured; see the module doc), so IEEE's differs from it by
    /// at most 1 ulp, a relative ε. Every later operation fed two values that differ rounds
    /// them at most 1 ulp further apart ("a flip": ≤ ε relative to its result). Per kernel:
    /// * Adam/AMSGrad: √ (ε), ÷√(1−β₂ᵗ) (ε), +ε (ε), (−s·m)/denom (ε): the increment differs by
    ///   ≤ 4ε|Δ_t|; θ + Δ flips ≤ ε|θ_t|. m, v do not depend on θ, so errors only add up:
    ///   C = 5. AdamW's extra `θ·(1−lr·λ)` flips ≤ ε|θ| and shrinks old errors: C = 6.
    /// * Adagrad, RMSprop without momentum: √, +ε, ÷ → 3ε|Δ_t|, plus the θ flip: C = 4.
    /// * RMSprop with momentum μ: q_t = g/avg differs by ≤ 3ε|q_t|, the buffer flips ≤ ε|b_t|
    ///   and carries old errors times μ, so the buffer error is ≤ Σ_k μᵏ(3ε|q| + ε|b|) and θ
    ///   collects lr times it: with lr|b_t| = |Δ_t| and lr|q_t| = |Δ_t − μΔ_{t−1}| ≤ (1+μ)max|Δ|,
    ///   C = (3(1+μ) + 1)/(1−μ) + 1.
    /// * Adadelta: two roots feed each other through the state u (acc_delta). With r_t the
    ///   relative error of u_t: Δ_t's relative error is ≤ 4ε + r_{t−1}/2 (√(u+ε) halves r, then
    ///   √(v+ε), ÷, × add ε each); u_t = ρu + (1−ρ)Δ² has r_t ≤ max(r_{t−1}, 2·r_Δ) + 3ε ≤
    ///   r_{t−1} + 11ε, so r_t ≤ 11tε and Δ_t's relative error ≤ (4 + 5.5t)ε; summed with the
    ///   θ flips, C_t = 5 + 2.75(t + 1).
    /// * Coupled weight decay makes the gradient g + λθ depend on θ: an error e in θ enters g
    ///   as λe and the moments with weight (1−β) ≤ 1, changing the next increment by at most
    ///   lr·λ·e/(√v̂+ε)-order terms; with the golden settings' lr·λ ≤ 1e-3 this feedback is of
    ///   second order (relative lr·λ per step) and is not budgeted: a failing trace here would
    ///   show it is not negligible. (Measured: every trace stays below 0.6·t·ε·scale_t, an
    ///   order of magnitude under the smallest constant, C = 4.)
    fn ieee_sqrt_bound(setting: &Setting, t: usize) -> f64 {
        match setting {
            Setting::Adam(_) => 5.0,
            Setting::AdamW(_) => 6.0,
            Setting::AdaGrad(_) => 4.0,
            Setting::RmsProp(c) if c.momentum > 0.0 => {
                (3.0 * (1.0 + c.momentum) + 1.0) / (1.0 - c.momentum) + 1.0
            }
            Setting::RmsProp(_) => 4.0,
            Setting::AdaDelta(_) => 5.0 + 2.75 * (t as f64 + 1.0),
            // RAdam: √, +ε, 1/x, ×√bc₂, ×(m̂·lr), ×rect flip ≤ ε each (m̂·lr itself is
            // identical), θ − x and the decoupled θ·(1 − lr·λ) one each: C = 8.
            Setting::RAdam(_) => 8.0,
            Setting::Sgd(_)
            | Setting::NAdam(_)
            | Setting::Lamb(_)
            | Setting::Lars(_)
            | Setting::Adafactor(_) => 0.0,
        }
    }

    /// NAdam's bound at step t, absolute: Σ_{s≤t} 3ε·A_s + 3tε·scale_t. Its two `addcdiv`s
    /// share the denominator d = √(v̂)+ε: each quotient differs by ≤ 3ε of itself (√, +ε, ÷),
    /// and the two θ updates and the decoupled decay flip ≤ ε|θ| each. The quotients are not
    /// bounded by |Δθ| (they may cancel), so they are bounded a priori: with
    /// c₁ = lr(1−μ_s)/(1−Πμ), c₂ = lr·μ_{s+1}/(1−Πμ·μ_{s+1}), Cauchy–Schwarz on the moment sums
    /// gives |g|/√v̂ ≤ √(bc₂/(1−β₂)) and |m|/√v̂ ≤ (1−β₁)√(bc₂/((1−β₂)(1−β₁²/β₂))), so
    /// A_s = c₁·√(bc₂/(1−β₂)) + c₂·(1−β₁)·√(bc₂/((1−β₂)(1−β₁²/β₂))) (needs β₁² < β₂).
    fn nadam_bound(c: &crate::optim::nadam::NAdamConfig, t: usize, eps: f64, scale: f64) -> f64 {
        let MomentumSchedule::Dozat { momentum_decay } = c.momentum_schedule else {
            unreachable!("torch NAdam has the Dozat schedule")
        };
        let (b1, b2) = (c.beta1, c.beta2);
        assert!(b1 * b1 < b2, "the a-priori bound needs β₁² < β₂");
        let mu = |s: f64| b1 * (1.0 - 0.5 * 0.96f64.powf(s * momentum_decay));
        let (mut product, mut sum) = (1.0, 0.0);
        for s in 1..=t {
            let s = s as f64;
            product *= mu(s);
            let c1 = c.lr * (1.0 - mu(s)) / (1.0 - product);
            let c2 = c.lr * mu(s + 1.0) / (1.0 - product * mu(s + 1.0));
            let bc2 = 1.0 - b2.powf(s);
            sum += c1 * (bc2 / (1.0 - b2)).sqrt()
                + c2 * (1.0 - b1) * (bc2 / ((1.0 - b2) * (1.0 - b1 * b1 / b2))).sqrt();
        }
        3.0 * eps * sum + 3.0 * t as f64 * eps * scale
    }

    /// The kernels [`build`] returns (IEEE `sqrt`) against every golden torch trace other than
    /// SGD's: within the bound argued in [`ieee_sqrt_bound`] at every step and coordinate.
    /// Prints, per trace, bit-identical steps, max ulps and the largest error in units of
    /// t·ε·scale_t (the constant actually used).
    #[test]
    fn with_ieee_sqrt_every_torch_golden_trace_is_within_the_sqrt_bound() {
        let mut checked = 0;
        for path in golden("torch-") {
            // SGD is bit for bit (tested above); Adafactor has no torch kernel.
            if name(&path).starts_with("torch-sgd-") || name(&path).starts_with("torch-adafactor-") {
                continue;
            }
            let reader = open(&path).unwrap();
            let h = reader.header().clone();
            let setting = resolve(&h.preset, &h.optimizer, &h.hyperparameters).unwrap();
            let (r, eps) = match h.dtype {
                Dtype::F64 => (replay_with(&path, build::<f64>(&setting).unwrap()), f64::EPSILON),
                Dtype::F32 => (
                    replay_with(&path, build::<f32>(&setting).unwrap()),
                    f64::from(f32::EPSILON),
                ),
            };
            let exact = replay_exact(&mut open(&path).unwrap()).unwrap().unwrap();
            let mut used = 0.0f64;
            for (k, scale) in scales(&r).into_iter().enumerate() {
                let t = k + 1;
                let bound = match &setting {
                    Setting::NAdam(c) => nadam_bound(c, t, eps, scale),
                    _ => t as f64 * ieee_sqrt_bound(&setting, t) * eps * scale,
                };
                for (i, (a, b)) in r.theirs[k].iter().zip(&r.ours[k]).enumerate() {
                    let err = (a - b).abs();
                    used = used.max(err / (t as f64 * eps * scale));
                    assert!(
                        err <= bound,
                        "{}: step {t} coordinate {i}: torch {a} kernel {b}, error {err:e} > bound {bound:e}",
                        name(&path)
                    );
                }
            }
            println!(
                "{:42} {:>2}/{:>2} steps bit-identical, max {:>4} ulps, error ≤ {used:.3}·t·ε·scale",
                name(&path),
                exact.identical_steps,
                exact.steps,
                exact.max_ulps
            );
            checked += 1;
        }
        assert!(
            checked >= 161,
            "expected 161 non-SGD torch traces, checked {checked}"
        );
    }

    /// Settings only optax or Keras compute have no torch kernel (the oracle then falls back
    /// to the crate's optimizer instead of replaying them in the wrong operation order).
    #[test]
    fn settings_torch_cannot_produce_have_no_kernel() {
        let none = |preset: &str, optimizer: &str, hp: serde_json::Value| {
            let setting = resolve(preset, optimizer, hp.as_object().unwrap()).unwrap();
            assert!(
                build::<f64>(&setting).is_none() && build::<f32>(&setting).is_none(),
                "{preset} {optimizer} {hp} must have no torch kernel"
            );
        };
        none("optax", "adagrad", serde_json::json!({"learning_rate": 0.1}));
        none("optax", "amsgrad", serde_json::json!({"learning_rate": 0.1}));
        none(
            "optax",
            "adam",
            serde_json::json!({"learning_rate": 0.1, "eps_root": 1e-8}),
        );
        none("optax", "rmsprop", serde_json::json!({"learning_rate": 0.1}));
        none("keras", "adam", serde_json::json!({}));
        none("keras", "adadelta", serde_json::json!({"weight_decay": 0.1}));
        let torch = resolve(
            "pytorch",
            "adamw",
            serde_json::json!({"amsgrad": true}).as_object().unwrap(),
        )
        .unwrap();
        assert!(build::<f32>(&torch).is_some());
    }

    /// `steps` gradients of dimension `dim` from `seed`: entries uniform in (−1, 1) times a
    /// per-coordinate scale 10^{−3..3}.
    fn gradients(seed: u64, dim: usize, steps: usize) -> Vec<Vec<f64>> {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let scales: Vec<f64> = (0..dim)
            .map(|_| 10f64.powf(rng.random_range(-3.0..3.0)))
            .collect();
        (0..steps)
            .map(|_| scales.iter().map(|s| s * rng.random_range(-1.0..1.0)).collect())
            .collect()
    }

    /// `kernel::<f64>` and the crate's optimizer of the same torch setting (resolved by
    /// [`resolve`] from torch's hyperparameter names) fed the same gradients agree at every
    /// step t to `prec::trajectory_rel(t) · scale_t`, scale_t = max‖θ‖∞ + max‖Δθ‖∞ so far
    /// (the argument of `optim::testing::assert_matches_reference`: both evaluate the same
    /// algorithm with ≤ 16 rounded operations per coordinate and step, in different orders,
    /// and the moments carry earlier roundings forward with weights < 1, so the differences add
    /// at most linearly). This ties each kernel to the paper's algorithm the crate implements.
    fn agrees_with_the_crate(
        optimizer: &str,
        hp: serde_json::Value,
        seed: u64,
        dim: usize,
        steps: usize,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        use nalgebra::DVector;
        use proptest::prelude::*;
        let setting = resolve("pytorch", optimizer, hp.as_object().unwrap()).unwrap();
        let mut kernel = build::<f64>(&setting).expect("a torch kernel for a torch setting");
        let mut reference = setting.build().unwrap();
        let mut theta: Vec<f64> = (0..dim).map(|i| 1.0 - 0.75 * i as f64).collect();
        let mut x = DVector::from_column_slice(&theta);
        let (mut theta_max, mut delta_max) = (amax(&theta), 0.0f64);
        for (k, g) in gradients(seed, dim, steps).into_iter().enumerate() {
            let before = x.clone();
            kernel.step(&mut theta, &g).unwrap();
            reference.step(&mut x, &DVector::from_column_slice(&g)).unwrap();
            theta_max = theta_max.max(x.amax());
            delta_max = delta_max.max((&x - &before).amax());
            let bound = crate::prec::trajectory_rel(k + 1) * (theta_max + delta_max);
            for i in 0..dim {
                prop_assert!(
                    (theta[i] - x[i]).abs() <= bound,
                    "{optimizer} {hp}: step {} coordinate {i}: kernel {} crate {} (bound {bound:e})",
                    k + 1,
                    theta[i],
                    x[i]
                );
            }
        }
        Ok(())
    }

    mod agreement {
        use super::agrees_with_the_crate;
        use proptest::prelude::*;
        use serde_json::json;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn adam(seed: u64, dim in 1usize..7, steps in 1usize..60, lr in 1e-3f64..0.1,
                    beta1 in 0.0f64..0.95, beta2 in 0.9f64..0.9999, eps_exp in -10i32..-5,
                    amsgrad: bool, decay in prop::sample::select(vec![0.0, 0.1])) {
                let hp = json!({"lr": lr, "betas": [beta1, beta2], "eps": 10f64.powi(eps_exp),
                                "amsgrad": amsgrad, "weight_decay": decay});
                agrees_with_the_crate("adam", hp, seed, dim, steps)?;
            }

            #[test]
            fn adamw(seed: u64, dim in 1usize..7, steps in 1usize..60, lr in 1e-3f64..0.1,
                     beta1 in 0.0f64..0.95, beta2 in 0.9f64..0.9999, amsgrad: bool,
                     decay in prop::sample::select(vec![0.0, 0.01, 0.1])) {
                let hp = json!({"lr": lr, "betas": [beta1, beta2], "amsgrad": amsgrad,
                                "weight_decay": decay});
                agrees_with_the_crate("adamw", hp, seed, dim, steps)?;
            }

            #[test]
            fn adagrad(seed: u64, dim in 1usize..7, steps in 1usize..60, lr in 1e-3f64..0.5,
                       lr_decay in prop::sample::select(vec![0.0, 0.01, 0.1]),
                       init in prop::sample::select(vec![0.0, 0.1, 1.0]), eps_exp in -10i32..-5,
                       decay in prop::sample::select(vec![0.0, 0.05])) {
                let hp = json!({"lr": lr, "lr_decay": lr_decay, "initial_accumulator_value": init,
                                "eps": 10f64.powi(eps_exp), "weight_decay": decay});
                agrees_with_the_crate("adagrad", hp, seed, dim, steps)?;
            }

            #[test]
            fn rmsprop(seed: u64, dim in 1usize..7, steps in 1usize..60, lr in 1e-3f64..0.05,
                       alpha in 0.8f64..0.999, eps_exp in -8i32..-5, centered: bool,
                       momentum in prop::sample::select(vec![0.0, 0.5, 0.9]),
                       decay in prop::sample::select(vec![0.0, 0.01])) {
                let hp = json!({"lr": lr, "alpha": alpha, "eps": 10f64.powi(eps_exp),
                                "centered": centered, "momentum": momentum, "weight_decay": decay});
                agrees_with_the_crate("rmsprop", hp, seed, dim, steps)?;
            }

            #[test]
            fn nadam(seed: u64, dim in 1usize..7, steps in 1usize..60, lr in 1e-3f64..0.05,
                     beta1 in 0.0f64..0.95, beta2 in 0.9f64..0.9999,
                     momentum_decay in prop::sample::select(vec![0.0, 4e-3, 0.01]),
                     decay in prop::sample::select(vec![0.0, 0.1]), decoupled: bool) {
                let hp = json!({"lr": lr, "betas": [beta1, beta2], "momentum_decay": momentum_decay,
                                "weight_decay": decay, "decoupled_weight_decay": decoupled});
                agrees_with_the_crate("nadam", hp, seed, dim, steps)?;
            }

            #[test]
            fn radam(seed: u64, dim in 1usize..7, steps in 1usize..60, lr in 1e-3f64..0.05,
                     beta1 in 0.0f64..0.95, beta2 in 0.9f64..0.999, eps_exp in -8i32..-5,
                     decay in prop::sample::select(vec![0.0, 0.1]), decoupled: bool) {
                let hp = json!({"lr": lr, "betas": [beta1, beta2], "eps": 10f64.powi(eps_exp),
                                "weight_decay": decay, "decoupled_weight_decay": decoupled});
                agrees_with_the_crate("radam", hp, seed, dim, steps)?;
            }

            #[test]
            fn adadelta(seed: u64, dim in 1usize..7, steps in 1usize..60, lr in 0.1f64..1.0,
                        rho in 0.8f64..0.99, eps_exp in -7i32..-4,
                        decay in prop::sample::select(vec![0.0, 0.1])) {
                let hp = json!({"lr": lr, "rho": rho, "eps": 10f64.powi(eps_exp),
                                "weight_decay": decay});
                agrees_with_the_crate("adadelta", hp, seed, dim, steps)?;
            }
        }
    }
}
