//! # Framework kernels: each framework's own operation order, in f32 and in f64
//!
//! The optimizers of [`crate::optim`] transcribe the papers' algorithm boxes, in f64, in the
//! papers' operation order. A framework computes the same update in *its* operation order and
//! in the dtype of the parameters, and the two differ by a few ulps per step:
//!
//! * PyTorch's CPU kernels are compiled with FMA contraction, so `param.add_(grad, alpha=-lr)`
//!   is one rounding, `fma(−lr, g, θ)`, not two; `lerp_`, `addcmul_`, `addcdiv_` likewise.
//!   Python-float scalars (`lr / (1 − β₁ᵗ)`, `√(1 − β₂ᵗ)`) are computed in f64 and rounded to
//!   the tensor's dtype only when they meet the tensor.
//! * optax runs through XLA: `x / √(v + ε)` may be emitted as `x · rsqrt(v + ε)`, and the
//!   chain `scale_by_… → add_decayed_weights → scale(−lr)` fixes the order of the terms.
//! * Keras writes `m += (g − m)(1 − β₁)` and folds the bias corrections into α_t.
//!
//! A kernel here transcribes one framework's source line by line, generic over [`Real`]
//! (f32 or f64), so that an f32 run is reproduced in f32 arithmetic — bit for bit where the
//! framework's operation order is known — and not compared against f64 with a loose tolerance.
//!
//! Kernels are built from the same resolved [`Setting`] as the crate's optimizers, so there is
//! one mapping of the frameworks' hyperparameter names ([`super::presets`]); a kernel adds
//! only the operation order. Each kernel is tested twice: against the crate's optimizer of the
//! same setting (agreement to a rounding bound, which ties it to the paper's algorithm) and
//! against the golden traces (the number of bit-identical traces is reported in the README).
//!
//! | file | framework |
//! |---|---|
//! | [`torch`] | PyTorch `torch.optim` single-tensor (`foreach=False`) CPU path |
//! | [`optax`] | optax on XLA:CPU, eager |
//! | [`optax_adafactor`] | optax `adafactor` on XLA:CPU, eager |
//! | [`keras`] | Keras 3 optimizers |

pub mod keras;
pub mod optax;
pub mod optax_adafactor;
pub mod reduce;
pub mod torch;

use super::format::{Dtype, TraceReader};
use super::presets::Setting;
use crate::error::StepError;
use std::fmt::{Debug, Display};
use std::io::BufRead;

/// The float types a kernel runs in.
pub trait Real: num_traits::Float + Copy + Send + Sync + Debug + Display + 'static {
    /// The trace dtype of this type.
    const DTYPE: Dtype;
    /// Round an f64 to this type, to nearest (how a framework casts a Python or NumPy scalar
    /// into a tensor of this dtype).
    fn from_f64(x: f64) -> Self;
    /// Widen to f64 (exact).
    fn to_f64(self) -> f64;
    /// Distance in units in the last place *of this type* (0 when bit-identical or ±0;
    /// `u64::MAX` if either is NaN).
    fn ulps_between(a: Self, b: Self) -> u64;
}

impl Real for f64 {
    const DTYPE: Dtype = Dtype::F64;
    fn from_f64(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn ulps_between(a: Self, b: Self) -> u64 {
        crate::prec::ulps_between(a, b)
    }
}

impl Real for f32 {
    const DTYPE: Dtype = Dtype::F32;
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn ulps_between(a: Self, b: Self) -> u64 {
        if a.is_nan() || b.is_nan() {
            return u64::MAX;
        }
        if a == b {
            return 0;
        }
        // Sign-magnitude bits onto a monotone integer line (as prec::ulps_between for f64).
        fn key(x: f32) -> i64 {
            let bits = x.to_bits() as i32;
            if bits < 0 {
                -i64::from(bits & i32::MAX)
            } else {
                i64::from(bits)
            }
        }
        (key(a) - key(b)).unsigned_abs()
    }
}

/// One framework's update rule in dtype `T`, stepping in place.
pub trait Kernel<T: Real>: Send {
    /// Framework, function and operation-order notes, e.g. `"torch _single_tensor_adam (FMA)"`.
    fn describe(&self) -> String;

    /// One step from gradient `g` at the current `theta`.
    ///
    /// # Errors
    /// [`StepError::DimensionMismatch`] if lengths differ from each other or from the state;
    /// [`StepError::NonFinite`] for a NaN or infinite gradient entry.
    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError>;

    /// Take the scalars of the next step (a declared schedule's, or the trace's per-step
    /// `hyperparameters`): the learning rate, and torch `OneCycleLR`'s momentum (`betas[0]` or
    /// `momentum`), as the framework reads them at every step — torch reads `group["lr"]` (a
    /// Python float) anew at each `step()`, optax multiplies by the schedule's value cast to
    /// the dtype. Returns `false` when this kernel cannot take them (the caller then reports
    /// the declaration as not modelled).
    fn set_scalars(&mut self, _s: &crate::oracle::schedules::Scalars) -> bool {
        false
    }

    /// One step of a layer-wise kernel on a subset of the coordinates (`--sample`), given
    /// each block's norms as the trace recorded them: `blocks[i] = (n_i, [‖θ_{t−1}‖, ‖u_t‖])`,
    /// `theta` and `g` holding the sampled coordinates of block 0, then block 1, …
    /// (`n_i` of them). `None` when the kernel cannot step from recorded norms (element-wise
    /// kernels use [`Kernel::step`] on any subset instead).
    fn step_given_norms(
        &mut self,
        _theta: &mut [T],
        _g: &[T],
        _blocks: &[(usize, [T; 2])],
    ) -> Option<Result<(), StepError>> {
        None
    }

    /// The norms `[‖θ_{t−1}‖, ‖u_t‖]` of each block of the last full [`Kernel::step`] of a
    /// layer-wise kernel (to check a trace's recorded norms against); empty otherwise.
    fn last_norms(&self) -> Vec<[T; 2]> {
        Vec::new()
    }
}

/// The kernel transcribing `preset`'s implementation of `setting` in dtype `T`, or `None` when
/// no kernel transcribes it (the oracle then falls back to the crate's f64 optimizer).
pub fn build<T: Real>(preset: &str, setting: &Setting) -> Option<Box<dyn Kernel<T>>> {
    match preset {
        "pytorch" => torch::build(setting),
        "optax" => optax::build(setting),
        "keras" => keras::build(setting),
        _ => None,
    }
}

/// As [`build`], for parameters made of the blocks of `layout` (optax's rounding depends on
/// the number of pytree leaves; the other frameworks' kernels are element-wise).
pub fn build_for_layout<T: Real>(
    preset: &str,
    setting: &Setting,
    layout: &crate::optim::Layout,
) -> Option<Box<dyn Kernel<T>>> {
    match preset {
        "optax" => optax::build_for_layout(setting, layout),
        _ => build(preset, setting),
    }
}

/// As [`build_for_layout`], with what `header` declares about the framework's arithmetic
/// beyond the setting: JAX's x64 flag (`jax_enable_x64`, which decides the dtype of an optax
/// alias's Python-float scalars, [`optax::Hyper`]). The header is assumed validated
/// ([`super::groups::jax_x64`]).
pub fn build_for_header<T: Real>(
    header: &super::format::Header,
    setting: &Setting,
    layout: &crate::optim::Layout,
) -> Option<Box<dyn Kernel<T>>> {
    match header.preset.as_str() {
        "optax" => {
            let hyper = optax::Hyper::of(false, header.jax_enable_x64 != Some(false));
            optax::build_for_group(setting, layout.blocks().len(), hyper)
        }
        preset => build(preset, setting),
    }
}

/// The preconditions every kernel checks first: equal lengths (and the state's, once it
/// exists) and a finite gradient.
///
/// # Errors
/// As [`Kernel::step`].
pub fn check_input<T: Real>(theta: &[T], g: &[T], state_len: Option<usize>) -> Result<(), StepError> {
    if g.len() != theta.len() {
        return Err(StepError::DimensionMismatch {
            what: "gradient",
            expected: theta.len(),
            got: g.len(),
        });
    }
    if let Some(n) = state_len {
        if theta.len() != n {
            return Err(StepError::DimensionMismatch {
                what: "parameters",
                expected: n,
                got: theta.len(),
            });
        }
    }
    match g.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(index) => Err(StepError::NonFinite {
            what: "gradient",
            index,
            value: g[index].to_f64(),
        }),
    }
}

/// Convert a trace's f64 values into `T`, refusing values that `T` cannot hold exactly (an
/// `"f32"` trace must store f32 values widened to f64; anything else is a malformed trace).
///
/// # Errors
/// [`StepError::Invalid`] naming the field, the index and the value.
pub fn exact_from_f64<T: Real>(what: &str, values: &[f64], out: &mut Vec<T>) -> Result<(), StepError> {
    out.clear();
    for (i, &v) in values.iter().enumerate() {
        let x = T::from_f64(v);
        if x.to_f64().to_bits() != v.to_bits() && !(v.is_nan() && x.is_nan()) {
            return Err(StepError::Invalid(format!(
                "{what}[{i}] = {v:e} is not exactly representable as {:?} (an {:?} trace must store {:?} values widened to f64)",
                T::DTYPE,
                T::DTYPE,
                T::DTYPE
            )));
        }
        out.push(x);
    }
    Ok(())
}

/// What replaying a trace through its kernel found, counted in the trace's own dtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExactReplay {
    /// Steps replayed.
    pub steps: u64,
    /// Steps whose parameters are bit-identical in every coordinate.
    pub identical_steps: u64,
    /// First `(step, coordinate, ulps)` that is not bit-identical.
    pub first_difference: Option<(u64, usize, u64)>,
    /// Largest distance in ulps of the trace's dtype over all steps and coordinates.
    pub max_ulps: u64,
}

impl ExactReplay {
    /// Every step bit-identical.
    pub fn bit_identical(&self) -> bool {
        self.steps > 0 && self.identical_steps == self.steps
    }
}

/// Replay a trace's gradients through the kernel of its declared preset and setting, in the
/// trace's dtype, counting bit-identical steps. `Ok(None)` when no kernel transcribes the
/// setting.
///
/// # Errors
/// A message naming the file for a malformed trace, an unmappable header, a value the dtype
/// cannot hold, or a step the kernel refuses.
pub fn replay_exact<R: BufRead>(reader: &mut TraceReader<R>) -> Result<Option<ExactReplay>, String> {
    let header = reader.header().clone();
    // With the header's layout (layer-wise kernels take one ratio per block) and dtype.
    let setting =
        super::presets::resolve_header(&header).map_err(|e| format!("{}: header: {e}", reader.file()))?;
    super::groups::jax_x64(&header).map_err(|e| format!("{}: header: {e}", reader.file()))?;
    match header.dtype {
        Dtype::F64 => replay_exact_in::<f64, R>(reader, &setting),
        Dtype::F32 => replay_exact_in::<f32, R>(reader, &setting),
    }
}

fn replay_exact_in<T: Real, R: BufRead>(
    reader: &mut TraceReader<R>,
    setting: &Setting,
) -> Result<Option<ExactReplay>, String> {
    let layout = reader
        .header()
        .layout()
        .map_err(|e| format!("{}: header: {e}", reader.file()))?;
    let Some(mut kernel) = build_for_header::<T>(reader.header(), setting, &layout) else {
        return Ok(None);
    };
    let file = reader.file().to_string();
    let mut theta: Vec<T> = Vec::new();
    exact_from_f64("params0", &reader.header().params0, &mut theta).map_err(|e| format!("{file}: {e}"))?;
    let (mut g, mut theirs) = (Vec::new(), Vec::new());
    let mut out = ExactReplay::default();
    while let Some(rec) = reader.next_step().map_err(|e| e.to_string())? {
        exact_from_f64("grad", &rec.grad, &mut g).map_err(|e| format!("{file}: step {}: {e}", rec.step))?;
        exact_from_f64("params", &rec.params, &mut theirs)
            .map_err(|e| format!("{file}: step {}: {e}", rec.step))?;
        kernel.step(&mut theta, &g).map_err(|e| {
            format!(
                "{file}: step {}: {} refused the step: {e}",
                rec.step,
                kernel.describe()
            )
        })?;
        out.steps += 1;
        let mut identical = true;
        for (i, (&a, &b)) in theta.iter().zip(theirs.iter()).enumerate() {
            let ulps = T::ulps_between(a, b);
            if ulps != 0 {
                identical = false;
                if out.first_difference.is_none() {
                    out.first_difference = Some((rec.step, i, ulps));
                }
                out.max_ulps = out.max_ulps.max(ulps);
            }
        }
        if identical {
            out.identical_steps += 1;
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_ulps_count_representable_values_between() {
        assert_eq!(f32::ulps_between(1.0, 1.0), 0);
        assert_eq!(f32::ulps_between(0.0, -0.0), 0);
        assert_eq!(f32::ulps_between(1.0, 1.0 + f32::EPSILON), 1);
        // Across zero: the two smallest subnormals of opposite sign are 2 apart.
        assert_eq!(f32::ulps_between(f32::from_bits(1), -f32::from_bits(1)), 2);
        assert_eq!(f32::ulps_between(f32::NAN, 1.0), u64::MAX);
    }

    #[test]
    fn exact_conversion_refuses_values_an_f32_cannot_hold() {
        let mut out: Vec<f32> = Vec::new();
        assert!(exact_from_f64("grad", &[0.5, f64::from(0.1f32)], &mut out).is_ok());
        assert_eq!(out, vec![0.5f32, 0.1f32]);
        let err = exact_from_f64::<f32>("grad", &[0.1], &mut out)
            .unwrap_err()
            .to_string();
        assert!(err.contains("grad[0]") && err.contains("F32"), "{err}");
    }

    #[test]
    fn kernel_input_checks_name_the_field() {
        let e = check_input::<f32>(&[0.0; 2], &[0.0; 3], None).unwrap_err();
        assert!(matches!(e, StepError::DimensionMismatch { what: "gradient", .. }));
        let e = check_input::<f32>(&[0.0; 2], &[0.0, f32::NAN], None).unwrap_err();
        assert!(matches!(e, StepError::NonFinite { index: 1, .. }));
        let e = check_input::<f64>(&[0.0; 2], &[0.0; 2], Some(3)).unwrap_err();
        assert!(matches!(
            e,
            StepError::DimensionMismatch {
                what: "parameters",
                ..
            }
        ));
    }
}
