//! # optax kernels: optax 0.2.8 on XLA:CPU (jax 0.10.2), eager
//!
//! Transcriptions of optax's gradient transformations (`optax/_src/transform.py`,
//! `optax/_src/alias.py`, `optax/transforms/*.py`, `optax/tree_utils/_tree_math.py`) in the
//! dtype of the parameters, in the order of the chain (`scale_by_… → add_decayed_weights →
//! scale_by_learning_rate → trace`), one rounding per operation XLA executes.
//!
//! What decides the last bit (read from the optimized HLO, `XLA_FLAGS=--xla_dump_to=…
//! --xla_dump_hlo_as_text`, and the LLVM IR / object code XLA:CPU emits next to it):
//! * **Eager = one XLA computation per `jnp` operation.** `(1 - decay) * g + decay * t` is
//!   three computations (multiply, multiply, add): three roundings, never an FMA across them.
//!   Python-float scalars (`1 - decay`, `-learning_rate`) are computed in f64 by Python and
//!   passed to the computation as f64; in an f32 computation they are `convert`ed to f32
//!   first ([`Real::from_f64`]), so `1 - 0.9` enters as `f32(0.09999999999999998)`.
//! * **Jitted helpers are compiled as one unit.** `optax.tree.bias_correction` is
//!   `jax.jit(inline=True)`; called eagerly it is one computation in which XLA rewrites
//!   `t / (1 - decay**count)` into `t * (1 / (1 - decay**count))` — but only when the pytree
//!   has one leaf or the moment is f32; for several f64 leaves it keeps the division
//!   (`BiasCorrectionOp`). `decay**count` is XLA's `power` on f64, which on CPU calls the
//!   same libm `pow` as [`f64::powf`].
//! * **`jax.lax.rsqrt`.** XLA:CPU without AVX-512 emits f64 `rsqrt(x)` as `1 / sqrt(x)` (two
//!   roundings). f32 `rsqrt(x)` on an AVX machine is the hardware estimate `rsqrtss`
//!   (`rsqrtps`) refined by one Newton–Raphson step which LLVM contracts into two FMAs:
//!   `r = x·y; h = fma(r, y, −1); y = fma(−y/2, h, y)`, the raw estimate kept for
//!   `x < FLT_MIN` and `x = +∞` ([`rsqrt`]). The estimate's table is the CPU's own (AMD and
//!   Intel differ), so an f32 trace that uses `rsqrt` replays bit for bit only on a CPU of the
//!   family that wrote it.
//! * `jnp.sqrt`, `+`, `−`, `·`, `/`, `maximum` are IEEE operations (one rounding each).
//!
//! Each kernel's doc comment lists the optax lines it transcribes and the rounding of each.
//! The tests replay every optax golden trace with a kernel (asserting bit identity per
//! trace) and compare each kernel in f64 with the crate's optimizer of the same setting.

use super::{check_input, Kernel, Real};
use crate::error::StepError;
use crate::optim::adam::{AdamConfig, FirstMomentInit};
use crate::optim::conventions::{AdamFormulation, AmsGradMax, BiasCorrection, EpsPlacement, WeightDecay};
use crate::optim::layout::Layout;
use crate::optim::nadam::{MomentumSchedule, NAdamConfig};
use crate::optim::radam::{RAdamConfig, Threshold};
use crate::optim::rmsprop::{Centering, MomentumPlacement, RmsPropConfig};
use crate::oracle::format::Dtype;
use crate::oracle::presets::Setting;

pub mod layerwise;

/// The kernel for `setting` as optax computes it on parameters that are one array (a pytree
/// with one leaf), or `None` if optax has no such setting (e.g. coupled weight decay in Adam,
/// a learning-rate schedule, dampening).
pub fn build<T: Real>(setting: &Setting) -> Option<Box<dyn Kernel<T>>> {
    build_for_leaves(setting, 1)
}

/// As [`build`], for parameters that are the blocks of `layout`, one pytree leaf per block
/// (the number of leaves changes how XLA compiles the jitted bias correction, and the
/// layer-wise optimizers work per leaf).
pub fn build_for_layout<T: Real>(setting: &Setting, layout: &Layout) -> Option<Box<dyn Kernel<T>>> {
    build_for_leaves(setting, layout.blocks().len())
}

/// As [`build`], for parameters made of `leaves` pytree leaves.
pub fn build_for_leaves<T: Real>(setting: &Setting, leaves: usize) -> Option<Box<dyn Kernel<T>>> {
    build_for_group(setting, leaves, Hyper::Plain)
}

/// As [`build_for_leaves`], with the alias's hyperparameters held as `hyper` says: Python
/// floats with jax's x64 enabled ([`Hyper::Plain`]) or disabled ([`Hyper::PlainX32`]), or
/// wrapped by `optax.inject_hyperparams` ([`Hyper::Injected`]), which hands the alias every
/// float hyperparameter as an array of the parameters' dtype `T` (`jnp.asarray(v, dtype)` at
/// `init`; a schedule's value cast the same way at every `update`). The alias then computes
/// its per-step scalars in `T` instead of from Python floats; in f64 the two are the same
/// values, so an injected f64 kernel is bit-identical to the plain one.
/// [`Hyper::PlainX32`] is a float32 mode (float64 arrays need x64; `groups::plan` refuses the
/// combination): in f64 it computes its scalars in f64 as [`Hyper::Plain`] does.
pub fn build_for_group<T: Real>(
    setting: &Setting,
    leaves: usize,
    hyper: Hyper,
) -> Option<Box<dyn Kernel<T>>> {
    let injected = hyper == Hyper::Injected;
    fn boxed<T: Real, K: Kernel<T> + 'static>(k: Option<K>) -> Option<Box<dyn Kernel<T>>> {
        k.map(|k| Box::new(k) as Box<dyn Kernel<T>>)
    }
    match setting {
        Setting::Sgd(c) => boxed(
            (c.dampening == 0.0 && c.weight_decay == WeightDecay::None)
                .then(|| Sgd::new(c.lr, c.momentum, c.nesterov)),
        ),
        Setting::Adam(c) => boxed(Adam::new(c, 0.0, leaves, hyper)),
        Setting::AdamW(c) => match c.weight_decay {
            WeightDecay::None => boxed(Adam::new(&c.adam, 0.0, leaves, hyper)),
            WeightDecay::DecoupledTimesLr(lambda) if c.adam.weight_decay == WeightDecay::None => {
                boxed(Adam::new(&c.adam, lambda, leaves, hyper))
            }
            _ => None,
        },
        Setting::AdaGrad(c) => boxed(
            (c.lr_decay == 0.0
                && c.eps_placement == EpsPlacement::InsideSqrt
                && c.weight_decay == WeightDecay::None)
                .then(|| AdaGrad::new(c.lr, c.initial_accumulator_value, c.eps)),
        ),
        Setting::RmsProp(c) => boxed(RmsProp::new(c, leaves, hyper)),
        Setting::AdaDelta(c) => {
            let weight_decay = match c.weight_decay {
                WeightDecay::None => 0.0,
                WeightDecay::CoupledL2(lambda) => lambda,
                _ => return None,
            };
            boxed(Some(AdaDelta::new(c.lr, c.rho, c.eps, weight_decay, hyper)))
        }
        Setting::NAdam(c) => boxed(nadam(c, leaves, hyper)),
        Setting::RAdam(c) => boxed(RAdam::new(c, leaves, hyper)),
        // Layer-wise: one trust ratio per leaf of the layout the setting carries
        // (`presets::resolve_header`), norms in XLA's reduction order (layerwise.rs).
        Setting::Lamb(c) => boxed(layerwise::Lamb::new(c, hyper)),
        Setting::Lars(c) => boxed(layerwise::Lars::new(c)),
        // sgd, adagrad and lars multiply by their hyperparameters (`g + μ·t`, `−lr·u`,
        // `rsqrt(s + ε)`, `c·‖θ‖/(‖u‖ + ε)`) and never compute with them first: the
        // injected values, and the weak float32 ones of x64 disabled, are the same roundings,
        // so the same kernels serve.
        // Per leaf of the setting's layout (optax_adafactor.rs). optax adafactor computes its
        // decay in f32 whatever the dtype, so injected in f32 (without momentum, which
        // groups.rs refuses, as f64) it is the plain alias; with x64 disabled too (its
        // `1 - momentum` is a Python float rounded once as with x64; measured bit for bit on
        // `scripts/golden_x64off.py`'s adafactor traces, with and without momentum).
        Setting::Adafactor(c) if !injected || (T::DTYPE == Dtype::F32 && c.momentum.is_none()) => {
            super::optax_adafactor::build(c)
        }
        Setting::Adafactor(_) => None,
    }
}

// ------------------------------------------------------------------------------- helpers

/// `jax.lax.rsqrt(x)` as XLA:CPU computes it (see the module doc).
///
/// f64: `1 / sqrt(x)`, two roundings (XLA's fallback without AVX-512; the f64 estimate
/// `vrsqrt14pd` needs AVX-512F, and these traces were written on a CPU without it — on an
/// AVX-512 host XLA would refine `vrsqrt14pd` instead and this transcription would no longer
/// be XLA's). f32 on an x86-64 CPU with AVX: the hardware estimate plus one Newton step with
/// FMAs; elsewhere XLA falls back to `1 / sqrt(x)` and so does this function.
pub fn rsqrt<T: Real>(x: T) -> T {
    if T::DTYPE == Dtype::F32 {
        // Exact round trip: T is f32 here.
        let y = rsqrt_f32(x.to_f64() as f32);
        return T::from_f64(f64::from(y));
    }
    T::one() / x.sqrt()
}

/// XLA:CPU's f32 `rsqrt` (`xla/codegen/math/rsqrt.cc` in jaxlib 0.10.2: one Newton–Raphson
/// step, `PMAdd` contracted to FMA by the backend, as the emitted `vfmadd213ss` shows).
fn rsqrt_f32(x: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            use std::arch::x86_64::{_mm_cvtss_f32, _mm_rsqrt_ss, _mm_set_ss};
            // SAFETY: SSE is part of the x86-64 baseline (every x86-64 CPU has it), and
            // these intrinsics only read their by-value operands.
            let estimate = unsafe { _mm_cvtss_f32(_mm_rsqrt_ss(_mm_set_ss(x))) };
            // `llvm.is.fpclass(x, 764)`: ±0, subnormals, negatives, +∞ keep the estimate.
            let keep_estimate = !x.is_nan() && (x < f32::MIN_POSITIVE || x == f32::INFINITY);
            if keep_estimate {
                return estimate;
            }
            let r2 = x * estimate;
            let half_r = estimate * -0.5;
            let h = r2.mul_add(estimate, -1.0);
            return half_r.mul_add(h, estimate);
        }
    }
    1.0 / x.sqrt()
}

/// How the alias holds its hyperparameters, which decides the dtype of its per-step scalars.
///
/// * **Plain** (`optax.adam(b1=0.9, …)`): Python floats, with jax's x64 enabled (as the golden
///   traces were written). `1 - b1` is computed by Python in f64 and rounded once to the
///   dtype where it meets the array; `b1**count` in the jitted bias correction promotes the
///   int32 count to f64 (`power` = libm `pow`); RAdam's `ro_inf`, `b2**t`, `ro`, `r` are f64
///   scalar operations (the bias correction, [`RAdam`]).
/// * **PlainX32** (the same plain alias with jax's x64 *disabled*, jax's default; the header
///   says `"jax_enable_x64": false`): a Python float meeting an array is then a *weakly
///   typed float32*, and an int32 array meeting a Python float promotes to float32, not
///   float64. What changes, measured with jax 0.10.2 / optax 0.2.8 (`/tmp/ovenv`,
///   `jax.make_jaxpr`, eager calls against glibc `powf` through ctypes):
///   - `1 - b1` is still computed by Python in f64 (both operands are Python floats) and
///     rounded once where it meets the f32 array: as Plain;
///   - the jitted bias correction traces to `pow 0.999:f32[] count; sub 1.0:f32[] _; div m _`
///     (`make_jaxpr`): `1 - powf(f32(decay), f32(count))` in f32, and XLA keeps the division
///     for several leaves and multiplies by the f32 reciprocal for one — exactly the
///     [`Hyper::Injected`] arithmetic (measured on 400 random (decay, count, moment) draws per
///     leaf count: one leaf, reciprocal 0 mismatches and division 97; two and three leaves,
///     division 0 of 800 and 1200, reciprocal 206 and 311);
///   - RAdam's `b2**count_inc` (eager, concrete int32 exponent) is `integer_pow` in **f32**,
///     binary powering with a result below `FLT_MIN` flushed to 0 (of 3000 random (b2, t),
///     37 differ from unflushed binary powering, all of them subnormal results, and none once
///     these are flushed; `ro` would round the same either way, `ρ_∞ ≫ 2t·x`),
///     `2 * count_inc * b2t / (1 - b2t)` f32 operations,
///     while `ro_inf = 2/(1 - b2) - 1` and `(ro_inf - 4) * (ro_inf - 2)` are Python-float
///     (f64) values rounded once to f32 where they meet `ro` ([`RAdam`]);
///   - everything that only multiplies by a hyperparameter is unchanged (sgd, adagrad, lars,
///     adadelta, rmsprop without bias correction, adafactor, whose decay is f32 anyway).
///
///   Before this mode (the Plain kernel on x64-disabled f32 runs, `scripts/golden_x64off.py`,
///   30 steps): adam 0/30 steps bit for bit (25 ulps of scale), adamw 66, amsgrad 80, nadam
///   32, nadamw 40, radam 2318, lamb 3, bias-corrected rmsprop 4; with it, all bit for bit.
/// * **Injected** (`optax.inject_hyperparams(optax.adam)(…)`, optax 0.2.8
///   `schedules/_inject.py`): every float hyperparameter is `jnp.asarray(v, dtype)` with
///   `dtype = hyperparam_dtype or optax.tree.dtype(params, 'highest')` — a *strong* array of
///   the parameters' dtype (a schedule's value is cast the same way at every step; bools,
///   `None` and `static_args` pass through). The alias then computes in that dtype:
///   `1 - b1` is one f32 subtraction of `f32(b1)` (exact for b1 ∈ [0.5, 1]: f32(1 − 0.9) =
///   0.100000001 but 1 − f32(0.9) = 0.100000024); the bias correction's `decay**count` is
///   XLA's f32 `power(b, f32(count))`, a call to libm `powf` (read from the object code XLA
///   emits; measured equal to glibc `powf` on 13,333 (b, t) pairs except results below
///   `FLT_MIN`, which XLA flushes to 0 — `1 − x` is then 1 either way); RAdam's `b2**t`
///   (eager, concrete int32 exponent: `integer_pow`, binary powering), `ro_inf`, `ro`, `r` and
///   the comparison with the threshold are f32 operations. This holds with jax's x64 enabled
///   or disabled (the arrays are f32 either way; measured).
///
/// In f64 both give the same values (`1 − b` and `b**t` in f64 either way) — except optax
/// adafactor, whose plain alias computes its decay in f32 whatever the dtype; injected in
/// f64 it becomes f64 (not modelled, refused by `groups::plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hyper {
    /// Python floats, jax's x64 enabled: per-step scalars in f64, rounded once to the dtype.
    Plain,
    /// Python floats, jax's x64 disabled: `1 − β` in f64 rounded once, `βᵗ` and RAdam's
    /// `ρ`, `r` in f32.
    PlainX32,
    /// `inject_hyperparams`: arrays of the parameters' dtype, scalars computed in it.
    Injected,
}

impl Hyper {
    /// The mode of an alias: wrapped by `inject_hyperparams` or not, and jax's x64 flag
    /// (`jax_enable_x64`) during the run. Injected arrays have the hyperparameters' dtype
    /// whatever the flag (measured), so the flag only matters for the plain alias.
    pub fn of(injected: bool, x64: bool) -> Self {
        match (injected, x64) {
            (true, _) => Hyper::Injected,
            (false, true) => Hyper::Plain,
            (false, false) => Hyper::PlainX32,
        }
    }

    /// `1 - decay` as the alias computes it (Python `1 - 0.9` rounded once, or `1 - f32(0.9)`
    /// in the dtype).
    fn one_minus<T: Real>(self, decay: f64) -> T {
        match self {
            Hyper::Plain | Hyper::PlainX32 => T::from_f64(1.0 - decay),
            Hyper::Injected => T::one() - T::from_f64(decay),
        }
    }
}

/// `optax.tree.bias_correction(moment, decay, count)`, `jax.jit(inline=True)`, called eagerly
/// on the whole pytree: `1 - decay**count` in f64 (the Python-float `decay` and the int32
/// `count` promote to f64; `power` is libm's `pow`), then, as XLA compiles it:
/// * one leaf, or an f32 moment: `moment * (1 / bc)` — the algebraic simplifier turns the
///   division by a broadcast scalar into a multiply by its reciprocal (for f32 the reciprocal
///   of the f32-converted `bc`, in f32);
/// * several f64 leaves: `moment / bc` — `1 - decay**count` is duplicated into each leaf's
///   fusion and the division kept (seen in the optimized HLO of the 2- and 3-leaf calls);
///   likewise several f32 leaves under `inject_hyperparams` ([`Hyper`]), where `bc` is
///   computed in f32 and needs no conversion.
#[derive(Debug, Clone, Copy)]
enum BiasCorrectionOp<T> {
    MultiplyByReciprocal(T),
    Divide(T),
}

impl<T: Real> BiasCorrectionOp<T> {
    /// With [`Hyper::Injected`] and [`Hyper::PlainX32`], `1 - decay**count` in the dtype:
    /// `powf(T(decay), T(count))` (the count converted exactly below 2²⁴), then the
    /// subtraction in `T`; as for f64, the division is kept for several leaves (measured in
    /// f32: with 2 and 3 leaves the reciprocal disagreed on 17 of 240 random steps and the
    /// division on none; with one leaf the other way round, 0 and 18; x64 disabled: [`Hyper`]).
    fn new(decay: f64, count: u32, leaves: usize, hyper: Hyper) -> Self {
        let in_dtype = hyper != Hyper::Plain;
        let bc = if in_dtype {
            T::one() - T::from_f64(decay).powf(T::from_f64(f64::from(count)))
        } else {
            T::from_f64(1.0 - decay.powf(f64::from(count)))
        };
        // Divided when `bc` is already in the moment's dtype (f64, injected, x64 disabled):
        // XLA then duplicates `1 - decay**count` into each leaf's fusion and keeps the
        // division.
        if leaves > 1 && (T::DTYPE == Dtype::F64 || in_dtype) {
            BiasCorrectionOp::Divide(bc)
        } else {
            BiasCorrectionOp::MultiplyByReciprocal(T::one() / bc)
        }
    }

    #[inline]
    fn apply(self, moment: T) -> T {
        match self {
            BiasCorrectionOp::MultiplyByReciprocal(r) => moment * r,
            BiasCorrectionOp::Divide(bc) => moment / bc,
        }
    }
}

/// `x ** n` for a Python float `x` and a *concrete* int32 array `n` evaluated eagerly:
/// `jnp.power` sees the concrete integer exponent and emits `lax.integer_pow(x, n)`, which
/// JAX lowers by binary powering (`acc = acc * x` on each set bit, `x = x * x` between bits;
/// the optimized HLO for n = 6 is `x² · (x²)²`), so the result is not libm's `pow`
/// (they differ at t = 6, 8, 9 for 0.999). Inside a jitted function (the bias correction)
/// the exponent is traced and XLA's `power` (libm) is used instead.
fn integer_pow<T: Real>(x: T, n: u32) -> T {
    if n == 0 {
        return T::one();
    }
    let (mut base, mut n, mut acc) = (x, n, None::<T>);
    while n > 0 {
        if n & 1 == 1 {
            acc = Some(match acc {
                None => base,
                Some(a) => a * base,
            });
        }
        n >>= 1;
        if n > 0 {
            base = base * base;
        }
    }
    acc.unwrap_or(T::one())
}

/// `optax.tree.update_moment(g, t, decay, 1)` / `update_moment_per_elem_norm(…, 2)` for one
/// element, with the squared (or plain) gradient precomputed:
/// `(1 - decay) * g_pow + decay * t` — two multiplies and an add, each rounded.
#[inline]
fn moment<T: Real>(one_minus_decay: T, decay: T, g_pow: T, t: T) -> T {
    one_minus_decay * g_pow + decay * t
}

// ------------------------------------------------------------------------------- sgd

/// `optax.sgd(learning_rate, momentum, nesterov)` = `chain(trace(momentum, nesterov),
/// scale_by_learning_rate(learning_rate))`, then `optax.apply_updates`:
///
/// | optax line | rounding |
/// |---|---|
/// | `new_trace = g + decay * t` (`trace`, `_accumulation.py`) | `decay·t` rounded, then the sum |
/// | `updates = g + decay * new_trace` if nesterov else `new_trace` | as above |
/// | `step_size * g` with `step_size = -1 * learning_rate` (`scale`) | one multiply |
/// | `p + u` (`apply_updates`) | one add |
///
/// `momentum = None` (the crate's momentum 0) skips `trace`; an explicit 0 computes
/// `g + 0·t = g`, the same values.
pub struct Sgd<T: Real> {
    minus_lr: T,
    momentum: Option<T>,
    nesterov: bool,
    trace: Vec<T>,
}

impl<T: Real> Sgd<T> {
    fn new(lr: f64, momentum: f64, nesterov: bool) -> Self {
        Sgd {
            minus_lr: T::from_f64(-lr),
            momentum: (momentum != 0.0).then(|| T::from_f64(momentum)),
            nesterov,
            trace: Vec::new(),
        }
    }
}

impl<T: Real> Kernel<T> for Sgd<T> {
    fn describe(&self) -> String {
        "optax sgd (trace: g + μ·t, two roundings; scale by −lr; p + u)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, (!self.trace.is_empty()).then_some(self.trace.len()))?;
        if self.trace.is_empty() {
            self.trace = vec![T::zero(); theta.len()];
        }
        for i in 0..theta.len() {
            let mut u = g[i];
            if let Some(mu) = self.momentum {
                self.trace[i] = g[i] + mu * self.trace[i];
                u = if self.nesterov {
                    g[i] + mu * self.trace[i]
                } else {
                    self.trace[i]
                };
            }
            theta[i] = theta[i] + self.minus_lr * u;
        }
        Ok(())
    }

    /// `scale_by_schedule`: `jnp.array(-value, dtype=g.dtype) * g`, the value rounded once.
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.minus_lr = T::from_f64(-s.lr);
        s.momentum.is_none()
    }
}

// ------------------------------------------------------------------------------- adam

/// `optax.adam`, `optax.adamw`, `optax.amsgrad`: `chain(scale_by_adam | scale_by_amsgrad,
/// [add_decayed_weights(λ)], scale_by_learning_rate(lr))`, then `apply_updates`:
///
/// | optax line | rounding |
/// |---|---|
/// | `mu = (1 - b1) * (g**1) + b1 * mu` (`update_moment`; `g**1` is a copy) | three: two multiplies, the add |
/// | `nu = (1 - b2) * (g**2) + b2 * nu` (`g**2` is `g*g`) | four |
/// | `count_inc = safe_increment(count)` | exact (int32) |
/// | `mu_hat = bias_correction(mu, b1, count_inc)` (jitted, see `BiasCorrectionOp`) | one leaf or f32: `mu * (1/(1 - b1**t))`, reciprocal once per step; several f64 leaves: `mu / (1 - b1**t)` |
/// | `nu_hat = bias_correction(nu, b2, count_inc)` | as above |
/// | amsgrad: `nu_max = maximum(nu_max, nu_hat)` | exact |
/// | `m / (sqrt(v + eps_root) + eps)` | four: add (exact when eps_root = 0), sqrt, add, divide |
/// | adamw: `g + s * p` (`add_decayed_weights`) | two |
/// | `-lr * u`, `p + u` | one each |
pub struct Adam<T: Real> {
    b1: f64,
    b2: f64,
    b1_t: T,
    b2_t: T,
    one_minus_b1: T,
    one_minus_b2: T,
    eps: T,
    eps_root: T,
    weight_decay: Option<T>,
    amsgrad: bool,
    /// `amsgrad(bias_correction_mu=…)`: `mu_hat = bias_correction(mu, b1, t)` when true, else
    /// `mu_hat = mu` (no jitted call).
    correct_mu: bool,
    /// `amsgrad(bias_correction_nu=…)`: `nu_eff = bias_correction(nu, b2, t)` when true, else
    /// `nu_eff = nu`; the maximum is taken over `nu_eff`.
    correct_nu: bool,
    nesterov: bool,
    minus_lr: T,
    leaves: usize,
    /// Python floats or `inject_hyperparams` arrays ([`Hyper`]).
    hyper: Hyper,
    count: u32,
    mu: Vec<T>,
    nu: Vec<T>,
    nu_max: Vec<T>,
}

impl<T: Real> Adam<T> {
    /// `None` unless `c` is one of optax's Adam forms (Algorithm 1 with bias correction, no
    /// coupled decay, no schedule, m₀ = 0, AMSGrad only over the bias-corrected v̂).
    fn new(c: &AdamConfig, decoupled_weight_decay: f64, leaves: usize, hyper: Hyper) -> Option<Self> {
        let (amsgrad, correct_mu, correct_nu) = match (c.amsgrad, c.bias_correction) {
            (None, BiasCorrection::On) => (false, true, true),
            (Some(AmsGradMax::BiasCorrectedV), BiasCorrection::On) => (true, true, true),
            (Some(AmsGradMax::BiasCorrectedV), BiasCorrection::FirstMomentOnly) => (true, true, false),
            (Some(AmsGradMax::BiasCorrectedV), BiasCorrection::SecondMomentOnly) => (true, false, true),
            (Some(AmsGradMax::PaperNoBiasCorrection), BiasCorrection::Off) => (true, false, false),
            _ => return None,
        };
        let optax_form = c.formulation == AdamFormulation::Algorithm1
            && c.weight_decay == WeightDecay::None
            && c.schedule.is_none()
            && c.first_moment_init == FirstMomentInit::Zero;
        optax_form.then(|| Adam {
            b1: c.beta1,
            b2: c.beta2,
            b1_t: T::from_f64(c.beta1),
            b2_t: T::from_f64(c.beta2),
            one_minus_b1: hyper.one_minus(c.beta1),
            one_minus_b2: hyper.one_minus(c.beta2),
            eps: T::from_f64(c.eps),
            eps_root: T::from_f64(c.eps_root),
            weight_decay: (decoupled_weight_decay != 0.0).then(|| T::from_f64(decoupled_weight_decay)),
            amsgrad,
            correct_mu,
            correct_nu,
            nesterov: false,
            minus_lr: T::from_f64(-c.lr),
            leaves,
            hyper,
            count: 0,
            mu: Vec::new(),
            nu: Vec::new(),
            nu_max: Vec::new(),
        })
    }
}

impl<T: Real> Adam<T> {
    /// Input checks, state on first use, `count_inc = safe_increment(count)` (saturating at
    /// `i32::MAX`), and the moments `mu`, `nu` of this step.
    fn advance(&mut self, theta: &[T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, (!self.mu.is_empty()).then_some(self.mu.len()))?;
        if self.mu.is_empty() {
            self.mu = vec![T::zero(); theta.len()];
            self.nu = vec![T::zero(); theta.len()];
            self.nu_max = vec![T::zero(); theta.len()];
        }
        self.count = (self.count + 1).min(i32::MAX as u32);
        for ((mu, nu), &gi) in self.mu.iter_mut().zip(self.nu.iter_mut()).zip(g) {
            *mu = moment(self.one_minus_b1, self.b1_t, gi, *mu);
            *nu = moment(self.one_minus_b2, self.b2_t, gi * gi, *nu);
        }
        Ok(())
    }

    /// The bias corrections of this step: b1 at t, b1 at t + 1 (Nesterov), b2 at t.
    fn corrections(&self) -> (BiasCorrectionOp<T>, BiasCorrectionOp<T>, BiasCorrectionOp<T>) {
        let next = (self.count + 1).min(i32::MAX as u32);
        (
            BiasCorrectionOp::new(self.b1, self.count, self.leaves, self.hyper),
            BiasCorrectionOp::new(self.b1, next, self.leaves, self.hyper),
            BiasCorrectionOp::new(self.b2, self.count, self.leaves, self.hyper),
        )
    }

    /// A scheduled `b1` under `inject_hyperparams` (the step line's value, already in the
    /// dtype): `b1`, `1 - b1` and `b1**t` of this step use it. `false` for a plain alias,
    /// whose `b1` is a constant Python float.
    fn set_b1(&mut self, b1: f64) -> bool {
        if self.hyper != Hyper::Injected {
            return false;
        }
        self.b1 = b1;
        self.b1_t = T::from_f64(b1);
        self.one_minus_b1 = self.hyper.one_minus(b1);
        true
    }

    /// [`Kernel::set_scalars`] of the Adam family: the learning rate (`scale_by_schedule`:
    /// `jnp.array(-value, dtype=g.dtype) * g`, the value rounded once; under
    /// `inject_hyperparams`, `-1 * lr` of the cast value, the same) and, injected, `b1`
    /// (carried as [`Scalars::momentum`](crate::oracle::schedules::Scalars::momentum)).
    fn take_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.minus_lr = T::from_f64(-s.lr);
        match s.momentum {
            None => true,
            Some(b1) => self.set_b1(b1),
        }
    }

    /// The note [`Kernel::describe`] appends: the per-step scalars' dtype when it is not f64.
    fn describe_hyper(&self) -> &'static str {
        hyper_note::<T>(self.hyper)
    }

    /// `mu_hat`: `bias_correction(mu, b1, t)`, or with `nesterov=True`
    /// `b1 * bias_correction(mu, b1, t + 1) + (1 - b1) * bias_correction(g, b1, t)`
    /// (each multiply rounded, then the add).
    #[inline]
    fn mu_hat(&self, i: usize, g: T, bc1: BiasCorrectionOp<T>, bc1_next: BiasCorrectionOp<T>) -> T {
        if self.nesterov {
            self.b1_t * bc1_next.apply(self.mu[i]) + self.one_minus_b1 * bc1.apply(g)
        } else {
            bc1.apply(self.mu[i])
        }
    }
}

impl<T: Real> Kernel<T> for Adam<T> {
    fn describe(&self) -> String {
        format!(
            "optax {} (moments (1−β)·g + β·m in three roundings; jitted bias correction; \
             m̂/(√(v̂+ε_root)+ε); −lr·u; p + u){}",
            match (self.amsgrad, self.nesterov, self.weight_decay.is_some()) {
                (true, _, _) => "amsgrad",
                (false, true, true) => "nadamw",
                (false, true, false) => "nadam",
                (false, false, true) => "adamw",
                (false, false, false) => "adam",
            },
            self.describe_hyper()
        )
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        self.advance(theta, g)?;
        let (bc1, bc1_next, bc2) = self.corrections();
        for i in 0..theta.len() {
            let mu_hat = if self.correct_mu {
                self.mu_hat(i, g[i], bc1, bc1_next)
            } else {
                self.mu[i]
            };
            let mut nu_hat = if self.correct_nu {
                bc2.apply(self.nu[i])
            } else {
                self.nu[i]
            };
            if self.amsgrad {
                self.nu_max[i] = self.nu_max[i].max(nu_hat);
                nu_hat = self.nu_max[i];
            }
            let mut u = mu_hat / ((nu_hat + self.eps_root).sqrt() + self.eps);
            if let Some(s) = self.weight_decay {
                u = u + s * theta[i];
            }
            theta[i] = theta[i] + self.minus_lr * u;
        }
        Ok(())
    }

    /// `scale_by_schedule`: `jnp.array(-value, dtype=g.dtype) * g`, the value rounded once;
    /// a scheduled `b1` under `inject_hyperparams`.
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.take_scalars(s)
    }
}

// ------------------------------------------------------------------------------- nadam

/// `optax.nadam` / `optax.nadamw` = `adam` / `adamw` with `nesterov=True`: the [`Adam`]
/// kernel with `mu_hat = b1 * bias_correction(mu, b1, t + 1) + (1 - b1) *
/// bias_correction(g, b1, t)` (two jitted corrections, two multiplies, one add). `None` for
/// PyTorch's momentum-decay schedule or a coupled decay.
fn nadam<T: Real>(c: &NAdamConfig, leaves: usize, hyper: Hyper) -> Option<Adam<T>> {
    if c.momentum_schedule != MomentumSchedule::Constant {
        return None;
    }
    let decoupled = match c.weight_decay {
        WeightDecay::None => 0.0,
        WeightDecay::DecoupledTimesLr(lambda) => lambda,
        _ => return None,
    };
    let adam = AdamConfig {
        lr: c.lr,
        beta1: c.beta1,
        beta2: c.beta2,
        eps: c.eps,
        eps_root: c.eps_root,
        ..AdamConfig::optax()
    };
    let mut k = Adam::new(&adam, decoupled, leaves, hyper)?;
    k.nesterov = true;
    Some(k)
}

// ------------------------------------------------------------------------------- radam

/// `optax.radam(learning_rate, b1, b2, eps, eps_root, threshold, nesterov)` =
/// `chain(scale_by_radam, scale_by_learning_rate)`, then `apply_updates`:
///
/// | optax line | rounding |
/// |---|---|
/// | `mu`, `nu` as in [`Adam`] | three / four |
/// | `b2t = b2**count_inc` (eager, concrete int32 exponent: `lax.integer_pow`) | `integer_pow`: binary powering, one rounding per multiply (not libm `pow`) |
/// | `ro = ro_inf - 2 * count_inc * b2t / (1 - b2t)`, `ro_inf = 2/(1 - b2) - 1` in Python | `2·t` exact (int32); then multiply, subtract, divide, subtract in f64 |
/// | `r = sqrt((ro - 4) * (ro - 2) * ro_inf / ((ro_inf - 4) * (ro_inf - 2) * ro))` | f64, left to right; `(ro_inf − 4)(ro_inf − 2)` is a Python float |
/// | `mu_hat`, `nu_hat` (`BiasCorrectionOp`; nesterov as in [`Adam`]) | |
/// | `r.astype(m.dtype) * m / (jnp.sqrt(v + eps_root) + eps)` | `r` rounded to the dtype; multiply, add, sqrt, add, divide |
/// | `jnp.where(ro >= threshold, update, mu_hat)` | exact |
/// | `-lr * u`, `p + u` | one each |
pub struct RAdam<T: Real> {
    moments: Adam<T>,
    threshold: f64,
}

impl<T: Real> RAdam<T> {
    /// `None` unless `c` is optax's RAdam (ε after the bias correction, `ro ≥ threshold`, no
    /// weight decay).
    fn new(c: &RAdamConfig, leaves: usize, hyper: Hyper) -> Option<Self> {
        let threshold = match c.threshold {
            Threshold::AtLeast(x) => x,
            Threshold::Above(_) => return None,
        };
        if c.formulation != AdamFormulation::Algorithm1 || c.weight_decay != WeightDecay::None {
            return None;
        }
        let adam = AdamConfig {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            eps_root: c.eps_root,
            ..AdamConfig::optax()
        };
        let mut moments = Adam::new(&adam, 0.0, leaves, hyper)?;
        moments.nesterov = c.nesterov;
        Some(RAdam { moments, threshold })
    }
}

impl<T: Real> Kernel<T> for RAdam<T> {
    fn describe(&self) -> String {
        format!(
            "optax radam{} (ro and r in {} eager scalar ops; r·m̂/(√(v̂+ε_root)+ε) where ro ≥ {}, else m̂){}",
            if self.moments.nesterov { " (nesterov)" } else { "" },
            match self.moments.hyper {
                Hyper::Plain => "f64",
                Hyper::PlainX32 => "f32 (ρ_∞ from Python floats)",
                Hyper::Injected => T::DTYPE.name(),
            },
            self.threshold,
            self.moments.describe_hyper()
        )
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        let a = &mut self.moments;
        a.advance(theta, g)?;
        // `r.astype(m.dtype)`: rounded once from f64, or already in the dtype.
        let (r_t, rectified) = match a.hyper {
            Hyper::Plain => {
                let (r, rectified) = rectification::<f64>(a.b2, a.count, self.threshold);
                (T::from_f64(r), rectified)
            }
            Hyper::PlainX32 => rectification_x32::<T>(a.b2, a.count, self.threshold),
            Hyper::Injected => rectification::<T>(a.b2, a.count, self.threshold),
        };
        let (bc1, bc1_next, bc2) = a.corrections();
        for i in 0..theta.len() {
            let mu_hat = a.mu_hat(i, g[i], bc1, bc1_next);
            let nu_hat = bc2.apply(a.nu[i]);
            let u = if rectified {
                r_t * mu_hat / ((nu_hat + a.eps_root).sqrt() + a.eps)
            } else {
                mu_hat
            };
            theta[i] = theta[i] + a.minus_lr * u;
        }
        Ok(())
    }

    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.moments.take_scalars(s)
    }
}

/// RAdam's `(r, ro ≥ threshold)` of step `t`, computed in `S` (f64 for Python-float
/// hyperparameters, the dtype under `inject_hyperparams`), in optax's order:
/// `b2t = b2**t` (binary powering), `ro_inf = 2/(1 − b2) − 1`,
/// `ro = ro_inf − (2t)·b2t/(1 − b2t)`, `r = √((ro − 4)(ro − 2)·ro_inf / ((ro_inf − 4)(ro_inf − 2)·ro))`.
fn rectification<S: Real>(b2: f64, t: u32, threshold: f64) -> (S, bool) {
    let one = S::one();
    let (two, four) = (S::from_f64(2.0), S::from_f64(4.0));
    let b2 = S::from_f64(b2);
    let b2t = integer_pow(b2, t);
    let ro_inf = two / (one - b2) - one;
    let ro = ro_inf - S::from_f64(f64::from(2 * t)) * b2t / (one - b2t);
    let r = ((ro - four) * (ro - two) * ro_inf / (((ro_inf - four) * (ro_inf - two)) * ro)).sqrt();
    (r, ro >= S::from_f64(threshold))
}

/// RAdam's `(r, ro ≥ threshold)` of step `t` as the plain alias computes them with jax's x64
/// disabled ([`Hyper::PlainX32`]), in the dtype `S` (f32): the Python-float scalars
/// `ro_inf = 2/(1 − b2) − 1` and `(ro_inf − 4)(ro_inf − 2)` in f64, each rounded once where it
/// meets an array; `b2t = b2**t` (eager `integer_pow` of `f32(b2)`, flushed to 0 below
/// `FLT_MIN` as XLA's CPU code does: for 0 < b2 < 1 every intermediate power is at least the
/// result, so flushing the result alone equals flushing every product),
/// `ro = f32(ro_inf) − f32(2t)·b2t/(1 − b2t)`,
/// `r = √((ro − 4)(ro − 2)·f32(ro_inf) / (f32((ro_inf − 4)(ro_inf − 2))·ro))`, and the
/// comparison with `f32(threshold)`; each operation rounded in `S`.
fn rectification_x32<S: Real>(b2: f64, t: u32, threshold: f64) -> (S, bool) {
    let one = S::one();
    let (two, four) = (S::from_f64(2.0), S::from_f64(4.0));
    let ro_inf_py = 2.0 / (1.0 - b2) - 1.0;
    let ro_inf = S::from_f64(ro_inf_py);
    let den_py = S::from_f64((ro_inf_py - 4.0) * (ro_inf_py - 2.0));
    let mut b2t = integer_pow(S::from_f64(b2), t);
    if b2t.abs() < S::min_positive_value() {
        b2t = S::zero();
    }
    let ro = ro_inf - S::from_f64(f64::from(2 * t)) * b2t / (one - b2t);
    let r = ((ro - four) * (ro - two) * ro_inf / (den_py * ro)).sqrt();
    (r, ro >= S::from_f64(threshold))
}

/// The note a kernel's description ends with when `inject_hyperparams` or jax's x64 disabled
/// makes it compute its scalars in f32 (empty otherwise: in f64 they are the plain ones).
fn hyper_note<T: Real>(hyper: Hyper) -> &'static str {
    match hyper {
        Hyper::Injected if T::DTYPE == Dtype::F32 => {
            " [inject_hyperparams: 1 − β, βᵗ and the other scalars in f32]"
        }
        Hyper::PlainX32 if T::DTYPE == Dtype::F32 => " [jax_enable_x64 false: βᵗ and RAdam's ρ, r in f32]",
        _ => "",
    }
}

// ------------------------------------------------------------------------------- adagrad

/// `optax.adagrad(learning_rate, initial_accumulator_value, eps)` = `chain(scale_by_rss,
/// scale_by_learning_rate)`, then `apply_updates`:
///
/// | optax line | rounding |
/// |---|---|
/// | `sum_of_squares = abs_sq(g) + t` (`abs_sq` is `(conj(g) * g).real` = `g*g`) | two |
/// | `jnp.where(t > 0, jax.lax.rsqrt(t + eps), 0.0)` | add, then [`rsqrt`] (f64: two roundings) |
/// | `optax.tree.mul(inv_sqrt, updates)` | one |
/// | `-lr * u`, `p + u` | one each |
pub struct AdaGrad<T: Real> {
    minus_lr: T,
    initial: T,
    eps: T,
    sum_of_squares: Vec<T>,
}

impl<T: Real> AdaGrad<T> {
    fn new(lr: f64, initial_accumulator_value: f64, eps: f64) -> Self {
        AdaGrad {
            minus_lr: T::from_f64(-lr),
            initial: T::from_f64(initial_accumulator_value),
            eps: T::from_f64(eps),
            sum_of_squares: Vec::new(),
        }
    }
}

impl<T: Real> Kernel<T> for AdaGrad<T> {
    fn describe(&self) -> String {
        "optax adagrad (s = g·g + s; where(s > 0, rsqrt(s + ε), 0)·g; −lr·u; p + u)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        let state_len = (!self.sum_of_squares.is_empty()).then_some(self.sum_of_squares.len());
        check_input(theta, g, state_len)?;
        if self.sum_of_squares.is_empty() {
            self.sum_of_squares = vec![self.initial; theta.len()];
        }
        for i in 0..theta.len() {
            let s = g[i] * g[i] + self.sum_of_squares[i];
            self.sum_of_squares[i] = s;
            let inv_sqrt = if s > T::zero() {
                rsqrt(s + self.eps)
            } else {
                T::zero()
            };
            theta[i] = theta[i] + self.minus_lr * (inv_sqrt * g[i]);
        }
        Ok(())
    }

    /// `scale_by_schedule`: `jnp.array(-value, dtype=g.dtype) * g`, the value rounded once.
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.minus_lr = T::from_f64(-s.lr);
        s.momentum.is_none()
    }
}

// ------------------------------------------------------------------------------- rmsprop

/// `optax.rmsprop(learning_rate, decay, eps, initial_scale, eps_in_sqrt, centered, momentum,
/// bias_correction)` = `chain(scale_by_rms | scale_by_stddev, scale_by_learning_rate,
/// [trace(momentum)])`, then `apply_updates`:
///
/// | optax line | rounding |
/// |---|---|
/// | centred: `mu = (1 - decay) * (g**1) + decay * mu` | three |
/// | `nu = (1 - decay) * (g**2) + decay * nu`, `nu₀ = initial_scale` | four |
/// | bias_correction: `nu_hat = bias_correction(nu, decay, t)` (and `mu_hat`) | `BiasCorrectionOp` |
/// | `jax.lax.rsqrt(n + eps)` (eps_in_sqrt) / `1 / (jnp.sqrt(n) + eps)` | add + [`rsqrt`] / sqrt, add, divide |
/// | centred: `rsqrt(n - abs_sq(m) + eps)` / `1 / (sqrt(n - abs_sq(m)) + eps)` | multiply, subtract, then as above |
/// | `s * g` | one |
/// | `-lr * u` | one |
/// | momentum: `new_trace = g + decay * t` (lr inside the buffer) | two |
/// | nesterov: `g + decay * new_trace` (`trace(nesterov=True)`) | two |
/// | `p + u` | one |
///
/// A centred second moment that rounds below −ε gives NaN here, as in optax (the crate's
/// optimizer refuses the step instead).
pub struct RmsProp<T: Real> {
    decay: f64,
    decay_t: T,
    one_minus_decay: T,
    eps: T,
    eps_in_sqrt: bool,
    centered: bool,
    bias_correction: bool,
    momentum: Option<T>,
    nesterov: bool,
    initial_scale: T,
    minus_lr: T,
    leaves: usize,
    hyper: Hyper,
    count: u32,
    mu: Vec<T>,
    nu: Vec<T>,
    trace: Vec<T>,
}

impl<T: Real> RmsProp<T> {
    /// `None` for forms optax's rmsprop does not have (coupled or decoupled decay, lr outside
    /// the momentum buffer).
    fn new(c: &RmsPropConfig, leaves: usize, hyper: Hyper) -> Option<Self> {
        if c.weight_decay != WeightDecay::None
            || (c.momentum != 0.0 && c.momentum_placement != MomentumPlacement::LrInsideBuffer)
        {
            return None;
        }
        Some(RmsProp {
            decay: c.decay,
            decay_t: T::from_f64(c.decay),
            one_minus_decay: hyper.one_minus(c.decay),
            eps: T::from_f64(c.eps),
            eps_in_sqrt: c.eps_placement == EpsPlacement::InsideSqrt,
            centered: c.centering == Centering::Centered,
            bias_correction: c.bias_correction == BiasCorrection::On,
            momentum: (c.momentum != 0.0).then(|| T::from_f64(c.momentum)),
            nesterov: c.nesterov,
            initial_scale: T::from_f64(c.initial_scale),
            minus_lr: T::from_f64(-c.lr),
            leaves,
            hyper,
            count: 0,
            mu: Vec::new(),
            nu: Vec::new(),
            trace: Vec::new(),
        })
    }
}

impl<T: Real> Kernel<T> for RmsProp<T> {
    fn describe(&self) -> String {
        format!(
            "optax rmsprop ({}{}{}{}){}",
            if self.centered { "centred, " } else { "" },
            if self.eps_in_sqrt {
                "rsqrt(v + ε)·g"
            } else {
                "(1/(√v + ε))·g"
            },
            if self.bias_correction {
                ", bias-corrected"
            } else {
                ""
            },
            match (self.momentum.is_some(), self.nesterov) {
                (true, true) => ", Nesterov trace after −lr",
                (true, false) => ", trace after −lr",
                _ => "",
            },
            hyper_note::<T>(self.hyper)
        )
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, (!self.nu.is_empty()).then_some(self.nu.len()))?;
        if self.nu.is_empty() {
            self.mu = vec![T::zero(); theta.len()];
            self.nu = vec![self.initial_scale; theta.len()];
            self.trace = vec![T::zero(); theta.len()];
        }
        let bc = if self.bias_correction {
            self.count = (self.count + 1).min(i32::MAX as u32);
            Some(BiasCorrectionOp::<T>::new(
                self.decay,
                self.count,
                self.leaves,
                self.hyper,
            ))
        } else {
            None
        };
        for i in 0..theta.len() {
            if self.centered {
                self.mu[i] = moment(self.one_minus_decay, self.decay_t, g[i], self.mu[i]);
            }
            self.nu[i] = moment(self.one_minus_decay, self.decay_t, g[i] * g[i], self.nu[i]);
            let (mut mu_hat, mut nu_hat) = (self.mu[i], self.nu[i]);
            if let Some(bc) = bc {
                mu_hat = bc.apply(mu_hat);
                nu_hat = bc.apply(nu_hat);
            }
            let n = if self.centered {
                nu_hat - mu_hat * mu_hat
            } else {
                nu_hat
            };
            let scaling = if self.eps_in_sqrt {
                rsqrt(n + self.eps)
            } else {
                T::one() / (n.sqrt() + self.eps)
            };
            let mut u = self.minus_lr * (scaling * g[i]);
            if let Some(mu) = self.momentum {
                self.trace[i] = u + mu * self.trace[i];
                u = if self.nesterov {
                    u + mu * self.trace[i]
                } else {
                    self.trace[i]
                };
            }
            theta[i] = theta[i] + u;
        }
        Ok(())
    }

    /// `scale_by_schedule`: `jnp.array(-value, dtype=g.dtype) * g`, the value rounded once.
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.minus_lr = T::from_f64(-s.lr);
        s.momentum.is_none()
    }
}

// ------------------------------------------------------------------------------- adadelta

/// `optax.adadelta(learning_rate, rho, eps, weight_decay)` = `chain(add_decayed_weights,
/// scale_by_adadelta, scale_by_learning_rate)`, then `apply_updates`:
///
/// | optax line | rounding |
/// |---|---|
/// | `g + s * p` (skipped when `weight_decay == 0.0`) | two |
/// | `e_g = (1 - rho) * (g**2) + rho * e_g` | four |
/// | `(jnp.sqrt(prev_e_x + eps) / jnp.sqrt(cur_e_g + eps)) * g` | six: two adds, two roots, divide, multiply |
/// | `e_x = (1 - rho) * (u**2) + rho * e_x` (with the update before the lr) | four |
/// | `-lr * u`, `p + u` | one each |
pub struct AdaDelta<T: Real> {
    hyper: Hyper,
    rho: T,
    one_minus_rho: T,
    eps: T,
    weight_decay: Option<T>,
    minus_lr: T,
    e_g: Vec<T>,
    e_x: Vec<T>,
}

impl<T: Real> AdaDelta<T> {
    fn new(lr: f64, rho: f64, eps: f64, weight_decay: f64, hyper: Hyper) -> Self {
        AdaDelta {
            hyper,
            rho: T::from_f64(rho),
            one_minus_rho: hyper.one_minus(rho),
            eps: T::from_f64(eps),
            weight_decay: (weight_decay != 0.0).then(|| T::from_f64(weight_decay)),
            minus_lr: T::from_f64(-lr),
            e_g: Vec::new(),
            e_x: Vec::new(),
        }
    }
}

impl<T: Real> Kernel<T> for AdaDelta<T> {
    fn describe(&self) -> String {
        format!(
            "optax adadelta ((√(e_x+ε)/√(e_g+ε))·g; moments in three roundings; −lr·u; p + u){}",
            hyper_note::<T>(self.hyper)
        )
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, (!self.e_g.is_empty()).then_some(self.e_g.len()))?;
        if self.e_g.is_empty() {
            self.e_g = vec![T::zero(); theta.len()];
            self.e_x = vec![T::zero(); theta.len()];
        }
        for i in 0..theta.len() {
            let gi = match self.weight_decay {
                Some(s) => g[i] + s * theta[i],
                None => g[i],
            };
            self.e_g[i] = moment(self.one_minus_rho, self.rho, gi * gi, self.e_g[i]);
            let u = ((self.e_x[i] + self.eps).sqrt() / (self.e_g[i] + self.eps).sqrt()) * gi;
            self.e_x[i] = moment(self.one_minus_rho, self.rho, u * u, self.e_x[i]);
            theta[i] = theta[i] + self.minus_lr * u;
        }
        Ok(())
    }

    /// `scale_by_schedule`: `jnp.array(-value, dtype=g.dtype) * g`, the value rounded once.
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.minus_lr = T::from_f64(-s.lr);
        s.momentum.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::build;
    use crate::oracle::format::open;
    use crate::oracle::kernels::{replay_exact, ExactReplay};
    use crate::oracle::presets::{resolve, Setting};
    use crate::prec::trajectory_rel;
    use nalgebra::DVector;
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};
    use std::collections::BTreeMap;
    use std::path::Path;

    /// Replay every optax golden trace (f64 and f32) through its kernel; returns
    /// `file name → replay` for the traces that have a kernel.
    fn replay_all_optax() -> BTreeMap<String, ExactReplay> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
        let mut out = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with("optax-") {
                continue;
            }
            let mut reader = open(&path).unwrap();
            if let Some(r) = replay_exact(&mut reader).unwrap() {
                out.insert(name, r);
            }
        }
        out
    }

    /// `rsqrtss` estimates (input bits, estimate bits) recorded on the AMD EPYC host that wrote
    /// the golden traces: 48 inputs spread over [1, 4), both exponent parities of the
    /// estimate's lookup table. The estimate is not specified beyond its relative error
    /// (≤ 1.5·2⁻¹²); Intel and AMD tables differ, so XLA's f32 `rsqrt` — and the kernel, which
    /// runs the host's instruction as XLA does — is bit-reproducible only on a host whose table
    /// gives these values.
    const PRODUCER_RSQRT_ESTIMATES: [(u32, u32); 48] = [
        (0x3f800000, 0x3f7ff800),
        (0x3f8820c5, 0x3f784000),
        (0x3f904189, 0x3f712800),
        (0x3f98624e, 0x3f6aa000),
        (0x3fa08312, 0x3f649800),
        (0x3fa8a3d7, 0x3f5f0800),
        (0x3fb0c49c, 0x3f59e000),
        (0x3fb8e560, 0x3f550800),
        (0x3fc10625, 0x3f507800),
        (0x3fc926e9, 0x3f4c3800),
        (0x3fd147ae, 0x3f484000),
        (0x3fd96873, 0x3f447000),
        (0x3fe18937, 0x3f40e000),
        (0x3fe9a9fc, 0x3f3d7800),
        (0x3ff1cac1, 0x3f3a4800),
        (0x3ff9eb85, 0x3f373800),
        (0x40010625, 0x3f345000),
        (0x40051687, 0x3f319000),
        (0x400926e9, 0x3f2ee800),
        (0x400d374c, 0x3f2c6000),
        (0x401147ae, 0x3f29f000),
        (0x40155810, 0x3f279800),
        (0x40196873, 0x3f255800),
        (0x401d78d5, 0x3f233000),
        (0x40218937, 0x3f212800),
        (0x4025999a, 0x3f1f2800),
        (0x4029a9fc, 0x3f1d4000),
        (0x402dba5e, 0x3f1b6000),
        (0x4031cac1, 0x3f199800),
        (0x4035db23, 0x3f17d800),
        (0x4039eb85, 0x3f163800),
        (0x403dfbe7, 0x3f149800),
        (0x40420c4a, 0x3f130800),
        (0x40461cac, 0x3f118000),
        (0x404a2d0e, 0x3f100800),
        (0x404e3d71, 0x3f0ea000),
        (0x40524dd3, 0x3f0d3800),
        (0x40565e35, 0x3f0be000),
        (0x405a6e98, 0x3f0a9800),
        (0x405e7efa, 0x3f095000),
        (0x40628f5c, 0x3f081000),
        (0x40669fbe, 0x3f06d800),
        (0x406ab021, 0x3f05a800),
        (0x406ec083, 0x3f048800),
        (0x4072d0e5, 0x3f036800),
        (0x4076e148, 0x3f025800),
        (0x407af1aa, 0x3f014800),
        (0x407f020c, 0x3f004000),
    ];

    /// Whether this host's `rsqrtss` gives the producer's estimates (always false off x86-64
    /// or without AVX, where the kernel falls back to `1/sqrt`).
    fn host_rsqrt_matches_producer() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx") {
                use std::arch::x86_64::{_mm_cvtss_f32, _mm_rsqrt_ss, _mm_set_ss};
                return PRODUCER_RSQRT_ESTIMATES.iter().all(|&(x, e)| {
                    // SAFETY: SSE is in the x86-64 baseline; by-value operands only.
                    let got = unsafe { _mm_cvtss_f32(_mm_rsqrt_ss(_mm_set_ss(f32::from_bits(x)))) };
                    got.to_bits() == e
                });
            }
        }
        false
    }

    /// Every optax golden trace that has a kernel replays bit for bit, in its own dtype. On a
    /// host whose `rsqrtss` table is not the producer's (see [`PRODUCER_RSQRT_ESTIMATES`]), an
    /// f32 trace may instead differ by the estimate's last bits, and is then required to agree
    /// within the oracle's default f32 tolerance (`compare::DEFAULT_REL_F32`, argued there);
    /// f64 traces use no estimate and stay bit for bit on every host.
    #[test]
    fn optax_golden_traces_replay_bit_for_bit() {
        let results = replay_all_optax();
        let same_table = host_rsqrt_matches_producer();
        if !same_table {
            eprintln!("this host's rsqrtss estimates differ from the trace producer's (AMD EPYC): f32 traces are checked within the default f32 tolerance instead of bit for bit");
        }
        let mut failures = Vec::new();
        for (name, r) in &results {
            if !same_table && name.ends_with("-f32.jsonl") && !r.bit_identical() {
                let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/data/golden")
                    .join(name);
                let o = crate::oracle::compare::replay(&mut open(&path).unwrap(), None).unwrap();
                if !o.agrees() {
                    failures.push(format!(
                        "{name}: beyond the default f32 tolerance: {:?}",
                        o.first_beyond
                    ));
                }
                continue;
            }
            if !r.bit_identical() {
                failures.push(format!(
                    "{name}: {}/{} steps identical, first difference {:?}, max {} ulps",
                    r.identical_steps, r.steps, r.first_difference, r.max_ulps
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        let f64_traces = results.keys().filter(|n| !n.ends_with("-f32.jsonl")).count();
        assert!(
            f64_traces >= 80,
            "expected the 80 f64 optax traces, found {f64_traces}"
        );
    }

    /// Under `inject_hyperparams` the float64 alias computes the same values as the plain one
    /// (`1 − β`, `βᵗ`, RAdam's rectification in f64 either way): the injected f64 kernel is
    /// bit-identical to the plain one, for one and several leaves, on random gradients. In f32
    /// the kernels of the optimizers that compute with their hyperparameters differ from the
    /// plain ones (`1 − f32(β)` is not `f32(1 − β)`, `powf` is not `pow`), and those that only
    /// multiply by them (sgd, adagrad) do not.
    #[test]
    fn injected_kernels_equal_plain_ones_in_f64_and_not_in_f32() {
        use super::Hyper;
        use serde_json::json;
        let cases = [
            (
                "sgd",
                json!({"learning_rate": 0.05, "momentum": 0.9, "nesterov": true}),
                false,
            ),
            ("adagrad", json!({"learning_rate": 0.1}), false),
            ("adam", json!({"learning_rate": 0.01}), true),
            (
                "adamw",
                json!({"learning_rate": 0.01, "b1": 0.85, "b2": 0.99, "weight_decay": 0.05}),
                true,
            ),
            ("amsgrad", json!({"learning_rate": 0.01}), true),
            ("nadam", json!({"learning_rate": 0.01}), true),
            (
                "nadamw",
                json!({"learning_rate": 0.01, "weight_decay": 0.05}),
                true,
            ),
            ("radam", json!({"learning_rate": 0.01}), true),
            (
                "rmsprop",
                json!({"learning_rate": 0.01, "momentum": 0.9, "bias_correction": true, "centered": true}),
                true,
            ),
            (
                "adadelta",
                json!({"learning_rate": 1.0, "rho": 0.95, "weight_decay": 0.01}),
                true,
            ),
        ];
        mode_is_plain_in_f64_and_differs_in_f32(Hyper::Injected, 0, cases);
    }

    /// [`Hyper::PlainX32`] (jax's x64 disabled) is a float32 mode; a kernel built with it in
    /// f64 computes as the plain one (its scalars in f64), bit for bit, for one and several
    /// leaves — the claim `build_for_group` documents — and in f32 it differs from the plain
    /// kernel exactly for the optimizers whose scalars involve `βᵗ`.
    #[test]
    fn x64_disabled_kernels_are_plain_in_f64_and_not_in_f32() {
        use super::Hyper;
        use serde_json::json;
        let cases = [
            ("sgd", json!({"learning_rate": 0.05, "momentum": 0.9}), false),
            ("adadelta", json!({"learning_rate": 1.0, "rho": 0.95}), false),
            ("rmsprop", json!({"learning_rate": 0.01, "momentum": 0.9}), false),
            ("adam", json!({"learning_rate": 0.01}), true),
            (
                "nadamw",
                json!({"learning_rate": 0.01, "weight_decay": 0.05}),
                true,
            ),
            ("amsgrad", json!({"learning_rate": 0.01}), true),
            ("radam", json!({"learning_rate": 0.01}), true),
            (
                "rmsprop",
                json!({"learning_rate": 0.01, "bias_correction": true}),
                true,
            ),
        ];
        mode_is_plain_in_f64_and_differs_in_f32(Hyper::PlainX32, 7, cases);
    }

    /// Kernels built with `mode` are bit-identical to the plain ones in f64 (1 and 3 leaves, 40
    /// steps of random gradients from seed `seed + leaves`) and, in f32, differ from them in
    /// some step exactly for the cases marked `true`.
    fn mode_is_plain_in_f64_and_differs_in_f32(
        mode: super::Hyper,
        seed: u64,
        cases: impl IntoIterator<Item = (&'static str, serde_json::Value, bool)>,
    ) {
        use super::{build_for_group, Hyper};
        for (name, hp, f32_differs) in cases {
            let s = optax_setting(name, hp);
            let mut f32_same = true;
            for leaves in [1, 3] {
                let mut rng = ChaCha8Rng::seed_from_u64(seed + leaves as u64);
                let dim = 9;
                let theta0: Vec<f32> = (0..dim)
                    .map(|_| {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        z as f32
                    })
                    .collect();
                let mut plain = build_for_group::<f64>(&s, leaves, Hyper::Plain).unwrap();
                let mut other = build_for_group::<f64>(&s, leaves, mode).unwrap();
                let mut plain32 = build_for_group::<f32>(&s, leaves, Hyper::Plain).unwrap();
                let mut other32 = build_for_group::<f32>(&s, leaves, mode).unwrap();
                let mut a: Vec<f64> = theta0.iter().map(|&x| f64::from(x)).collect();
                let mut b = a.clone();
                let (mut a32, mut b32) = (theta0.clone(), theta0.clone());
                for t in 1..=40 {
                    let g32: Vec<f32> = (0..dim)
                        .map(|_| {
                            let z: f64 = StandardNormal.sample(&mut rng);
                            (z * 10f64.powf(rng.random_range(-2.0..2.0))) as f32
                        })
                        .collect();
                    let g: Vec<f64> = g32.iter().map(|&x| f64::from(x)).collect();
                    plain.step(&mut a, &g).unwrap();
                    other.step(&mut b, &g).unwrap();
                    plain32.step(&mut a32, &g32).unwrap();
                    other32.step(&mut b32, &g32).unwrap();
                    assert!(
                        a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{name}, {leaves} leaves, step {t}: {mode:?} in f64 differs from Plain"
                    );
                    f32_same &= a32.iter().zip(&b32).all(|(x, y)| x.to_bits() == y.to_bits());
                }
            }
            assert_eq!(!f32_same, f32_differs, "{name}: f32 {mode:?} vs Plain");
        }
    }

    /// The optax setting named `optimizer` with `hyperparameters` (optax's own names), resolved
    /// by the presets exactly as a trace header is.
    fn optax_setting(optimizer: &str, hyperparameters: serde_json::Value) -> Setting {
        let map = hyperparameters.as_object().unwrap().clone();
        resolve("optax", optimizer, &map).unwrap()
    }

    /// Run the f64 kernel and the crate's optimizer of `setting` side by side on an open-loop
    /// gradient sequence (seeded; coordinate scales 10^±decades; a fifth of the entries exactly
    /// 0, which exercises AdaGrad's `where(s > 0, …)` and zero moments), and check after every
    /// step t, per coordinate i:
    ///
    /// |θ_kernel − θ_crate| ≤ trajectory_rel(t) · scale_i,  scale_i = max_k |θ_k,i| + Σ_k |Δθ_k,i|.
    ///
    /// Why this bound: both compute the same update from the same inputs in different
    /// operation orders (optax's multiply-by-reciprocal bias correction, rsqrt as 1/√, the
    /// EMA written (1−β)g + βm vs βm + (1−β)g, −lr·u then θ + u vs θ − lr·u, ...): at most a
    /// dozen roundings per element per step, so each increment differs by less than
    /// STEP_REL = 32u relative to the magnitudes it is made of. The moments are
    /// exponential averages (contractive), so a rounding difference made at step k is carried
    /// forward without growth and the differences add at most linearly over the steps:
    /// after t steps the parameter difference is below 32u·t times the parameter magnitude
    /// plus everything added to it — `trajectory_rel(t) · scale_i`. Open loop (gradients do
    /// not depend on θ) so a difference in θ is not fed back through the gradient.
    ///
    /// One update is not well conditioned: centred RMSProp's `v̂ − m̂²` cancels (exactly to 0
    /// at the first bias-corrected step, where v̂ = g², m̂ = g), and a rounding difference of
    /// u·(v̂ + m̂²) in it moves the step by the factor `condition` returns per coordinate
    /// (≥ 1, see [`centred_rmsprop_condition`]); the increment of that step enters `scale_i`
    /// multiplied by it. For every other setting the factor is 1.
    fn kernel_agrees_with_crate(
        setting: &Setting,
        seed: u64,
        dim: usize,
        steps: usize,
        decades: f64,
    ) -> Result<(), TestCaseError> {
        kernel_agrees_with_crate_conditioned(setting, seed, dim, steps, decades, &mut |g| vec![1.0; g.len()])
    }

    fn kernel_agrees_with_crate_conditioned(
        setting: &Setting,
        seed: u64,
        dim: usize,
        steps: usize,
        decades: f64,
        condition: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    ) -> Result<(), TestCaseError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let theta0: Vec<f64> = (0..dim).map(|_| StandardNormal.sample(&mut rng)).collect();
        let scales: Vec<f64> = (0..dim)
            .map(|_| 10f64.powf(rng.random_range(-decades..=decades)))
            .collect();
        let mut kernel = build::<f64>(setting).expect("an optax kernel for an optax setting");
        let mut optimizer = setting.build().unwrap();
        let (mut ours, mut theirs) = (theta0.clone(), DVector::from_vec(theta0.clone()));
        let mut scale: Vec<f64> = theta0.iter().map(|x| x.abs()).collect();
        for t in 1..=steps {
            let g: Vec<f64> = scales
                .iter()
                .map(|s| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    if rng.random::<f64>() < 0.2 {
                        0.0
                    } else {
                        s * z
                    }
                })
                .collect();
            let before = theirs.clone();
            if optimizer
                .step(&mut theirs, &DVector::from_vec(g.clone()))
                .is_err()
            {
                // The crate's centred RMSProp refuses a step whose centred second moment
                // rounded below −ε (optax writes NaN); nothing to compare from here on.
                return Ok(());
            }
            kernel.step(&mut ours, &g).unwrap();
            let kappa = condition(&g);
            for i in 0..dim {
                let moved = (theirs[i] - before[i]).abs();
                // A coordinate that did not move adds nothing, however ill-conditioned.
                scale[i] = scale[i].max(theirs[i].abs()) + if moved == 0.0 { 0.0 } else { kappa[i] * moved };
                let bound = trajectory_rel(t) * scale[i];
                prop_assert!(
                    (ours[i] - theirs[i]).abs() <= bound,
                    "{}: step {t}, coordinate {i}: kernel {:e} vs crate {:e}, difference {:e} > bound {:e}",
                    kernel.describe(),
                    ours[i],
                    theirs[i],
                    (ours[i] - theirs[i]).abs(),
                    bound
                );
            }
        }
        Ok(())
    }

    /// The factor by which a relative rounding difference in centred RMSProp's second moments
    /// can move the step, per coordinate, tracked alongside the optimizer in f64.
    ///
    /// optax's scaling is `rsqrt(n + ε)` (or `1/(√n + ε)`) with `n = v̂ − m̂²`. Rounding
    /// differences in v̂ and m̂² are at most a few u relative to v̂ and m̂², so `n + ε` changes
    /// by u·(v̂ + m̂²), i.e. relatively by u·(v̂ + m̂²)/(n + ε); the inverse root halves that.
    /// Outside the root, `√n` changes by u·(v̂ + m̂²)/(2√n) and `√n + ε` relatively by that over
    /// `√n + ε`. The factor returned is that relative sensitivity over u (at least 1), ∞ when
    /// the denominator is not positive.
    fn centred_rmsprop_condition(
        decay: f64,
        eps: f64,
        initial_scale: f64,
        eps_in_sqrt: bool,
        bias_correction: bool,
    ) -> impl FnMut(&[f64]) -> Vec<f64> {
        let (mut mu, mut nu, mut t): (Vec<f64>, Vec<f64>, i32) = (Vec::new(), Vec::new(), 0);
        move |g: &[f64]| {
            if mu.is_empty() {
                mu = vec![0.0; g.len()];
                nu = vec![initial_scale; g.len()];
            }
            t += 1;
            let correction = if bias_correction { 1.0 - decay.powi(t) } else { 1.0 };
            (0..g.len())
                .map(|i| {
                    mu[i] = decay * mu[i] + (1.0 - decay) * g[i];
                    nu[i] = decay * nu[i] + (1.0 - decay) * g[i] * g[i];
                    let (m, v) = (mu[i] / correction, nu[i] / correction);
                    let n = v - m * m;
                    let sensitivity = if eps_in_sqrt {
                        (v + m * m) / (n + eps)
                    } else {
                        (v + m * m) / (2.0 * n.sqrt() * (n.sqrt() + eps))
                    };
                    if sensitivity.is_finite() && sensitivity > 0.0 {
                        sensitivity.max(1.0)
                    } else {
                        f64::INFINITY
                    }
                })
                .collect()
        }
    }

    /// RAdam's rectification `r = √((ρ−4)(ρ−2)ρ_∞ / ((ρ_∞−4)(ρ_∞−2)ρ))` with
    /// `ρ = ρ_∞ − a`, `a = 2tβ₂ᵗ/(1−β₂ᵗ)`, is ill-conditioned near ρ = 4 (where it starts, for
    /// a threshold near 4). optax raises β₂ to the t by binary powering, the crate by `powf`:
    /// a few ulps of β₂ᵗ become a relative difference of about t·u/(1−β₂ᵗ) in `1 − β₂ᵗ`, so
    /// `a` moves by a·(t+2)u/(1−β₂ᵗ) and `ρ` by that plus u·ρ_∞; `r` then moves relatively by
    /// half that over ρ − 4. The factor returned (in units of u, at least 1; the same for every
    /// coordinate) is that sensitivity; before rectification (ρ ≤ 4) it is 1.
    fn radam_condition(b2: f64) -> impl FnMut(&[f64]) -> Vec<f64> {
        let mut t = 0_i32;
        move |g: &[f64]| {
            t += 1;
            let b2t = b2.powi(t);
            let rho_inf = 2.0 / (1.0 - b2) - 1.0;
            let a = 2.0 * f64::from(t) * b2t / (1.0 - b2t);
            let rho = rho_inf - a;
            let k = if rho > 4.0 {
                (0.5 * (a * f64::from(t + 2) / (1.0 - b2t) + rho_inf) / (rho - 4.0)).max(1.0)
            } else {
                1.0
            };
            vec![k; g.len()]
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn sgd_kernel_agrees_with_crate_sgd(
            seed in any::<u64>(), dim in 1_usize..8, steps in 1_usize..60, decades in 0.0_f64..4.0,
            log_lr in -3.0_f64..-1.0, momentum in prop_oneof![Just(0.0), 0.0_f64..0.99], nesterov in any::<bool>(),
        ) {
            let s = optax_setting("sgd", serde_json::json!({
                "learning_rate": 10f64.powf(log_lr), "momentum": momentum, "nesterov": nesterov && momentum > 0.0,
            }));
            kernel_agrees_with_crate(&s, seed, dim, steps, decades)?;
        }

        #[test]
        fn adam_kernels_agree_with_crate_adam(
            seed in any::<u64>(), dim in 1_usize..8, steps in 1_usize..60, decades in 0.0_f64..4.0,
            which in 0_usize..3, log_lr in -3.0_f64..-1.0, b1 in 0.5_f64..0.95, b2 in 0.9_f64..0.9999,
            log_eps in -10.0_f64..-4.0, eps_root in prop_oneof![Just(0.0), 1e-12_f64..1e-6],
            weight_decay in 0.0_f64..0.2, correct_mu in any::<bool>(), correct_nu in any::<bool>(),
        ) {
            let mut hp = serde_json::json!({
                "learning_rate": 10f64.powf(log_lr), "b1": b1, "b2": b2, "eps": 10f64.powf(log_eps),
                "eps_root": eps_root,
            });
            let name = ["adam", "adamw", "amsgrad"][which];
            if name == "adamw" {
                hp["weight_decay"] = serde_json::json!(weight_decay);
            }
            if name == "amsgrad" {
                hp["bias_correction_mu"] = serde_json::json!(correct_mu);
                hp["bias_correction_nu"] = serde_json::json!(correct_nu);
            }
            kernel_agrees_with_crate(&optax_setting(name, hp), seed, dim, steps, decades)?;
        }

        #[test]
        fn nadam_kernel_agrees_with_crate_nadam(
            seed in any::<u64>(), dim in 1_usize..8, steps in 1_usize..60, decades in 0.0_f64..4.0,
            log_lr in -3.0_f64..-1.0, b1 in 0.5_f64..0.95, b2 in 0.9_f64..0.9999,
            log_eps in -10.0_f64..-4.0, eps_root in prop_oneof![Just(0.0), 1e-12_f64..1e-6],
            weight_decay in prop_oneof![Just(0.0), 0.0_f64..0.2],
        ) {
            // optax.nadamw = adamw(nesterov=True); weight_decay 0 is optax.nadam.
            let s = optax_setting("adamw", serde_json::json!({
                "learning_rate": 10f64.powf(log_lr), "b1": b1, "b2": b2, "eps": 10f64.powf(log_eps),
                "eps_root": eps_root, "weight_decay": weight_decay, "nesterov": true,
            }));
            kernel_agrees_with_crate(&s, seed, dim, steps, decades)?;
        }

        #[test]
        fn radam_kernel_agrees_with_crate_radam(
            seed in any::<u64>(), dim in 1_usize..8, steps in 1_usize..60, decades in 0.0_f64..4.0,
            log_lr in -3.0_f64..-1.0, b1 in 0.5_f64..0.95, b2 in 0.9_f64..0.9999,
            log_eps in -10.0_f64..-4.0, eps_root in prop_oneof![Just(0.0), 1e-12_f64..1e-6],
            threshold in 4.01_f64..6.0, nesterov in any::<bool>(),
        ) {
            let s = optax_setting("radam", serde_json::json!({
                "learning_rate": 10f64.powf(log_lr), "b1": b1, "b2": b2, "eps": 10f64.powf(log_eps),
                "eps_root": eps_root, "threshold": threshold, "nesterov": nesterov,
            }));
            let mut condition = radam_condition(b2);
            kernel_agrees_with_crate_conditioned(&s, seed, dim, steps, decades, &mut condition)?;
        }

        #[test]
        fn adagrad_kernel_agrees_with_crate_adagrad(
            seed in any::<u64>(), dim in 1_usize..8, steps in 1_usize..60, decades in 0.0_f64..4.0,
            log_lr in -3.0_f64..0.0, initial in prop_oneof![Just(0.0), Just(0.1), 0.0_f64..1.0],
            log_eps in -10.0_f64..-3.0,
        ) {
            let s = optax_setting("adagrad", serde_json::json!({
                "learning_rate": 10f64.powf(log_lr), "initial_accumulator_value": initial,
                "eps": 10f64.powf(log_eps),
            }));
            kernel_agrees_with_crate(&s, seed, dim, steps, decades)?;
        }

        #[test]
        fn rmsprop_kernel_agrees_with_crate_rmsprop(
            seed in any::<u64>(), dim in 1_usize..8, steps in 1_usize..60, decades in 0.0_f64..4.0,
            log_lr in -3.0_f64..-1.0, decay in 0.5_f64..0.99, log_eps in -10.0_f64..-4.0,
            initial_scale in prop_oneof![Just(0.0), Just(1.0)], eps_in_sqrt in any::<bool>(),
            centered in any::<bool>(), momentum in prop_oneof![Just(0.0), 0.0_f64..0.95],
            bias_correction in any::<bool>(), nesterov in any::<bool>(),
        ) {
            let eps = 10f64.powf(log_eps);
            let s = optax_setting("rmsprop", serde_json::json!({
                "learning_rate": 10f64.powf(log_lr), "decay": decay, "eps": eps,
                "initial_scale": initial_scale, "eps_in_sqrt": eps_in_sqrt, "centered": centered,
                "momentum": momentum, "bias_correction": bias_correction, "nesterov": nesterov,
            }));
            if centered {
                let mut condition = centred_rmsprop_condition(decay, eps, initial_scale, eps_in_sqrt, bias_correction);
                kernel_agrees_with_crate_conditioned(&s, seed, dim, steps, decades, &mut condition)?;
            } else {
                kernel_agrees_with_crate(&s, seed, dim, steps, decades)?;
            }
        }

        #[test]
        fn adadelta_kernel_agrees_with_crate_adadelta(
            seed in any::<u64>(), dim in 1_usize..8, steps in 1_usize..60, decades in 0.0_f64..4.0,
            lr in 0.1_f64..1.0, rho in 0.5_f64..0.99, log_eps in -8.0_f64..-3.0,
            weight_decay in prop_oneof![Just(0.0), 0.0_f64..0.1],
        ) {
            let s = optax_setting("adadelta", serde_json::json!({
                "learning_rate": lr, "rho": rho, "eps": 10f64.powf(log_eps), "weight_decay": weight_decay,
            }));
            kernel_agrees_with_crate(&s, seed, dim, steps, decades)?;
        }
    }
}
