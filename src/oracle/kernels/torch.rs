//! # PyTorch kernels: `torch.optim`'s single-tensor (`foreach=False`) CPU path
//!
//! Transcriptions of the `_single_tensor_*` functions of `torch/optim/*.py`, line by line,
//! in the dtype of the parameters. What decides the last bit:
//! * `a.add_(b, alpha=s)` is `fma(s, b, a)`: the CPU `add` kernel calls `vec::fmadd` (one
//!   rounding). Plain `a.mul_(s)` is one rounding of `a·s`.
//! * Python-float scalars (`1 − dampening`, `−lr`) are computed in f64 and rounded to the
//!   tensor's dtype when they meet the tensor ([`Real::from_f64`]).
//!
//! Reference: PyTorch `torch/optim/sgd.py` (`_single_tensor_sgd`).

use super::{check_input, Kernel, Real};
use crate::error::StepError;
use crate::optim::conventions::WeightDecay;
use crate::optim::sgd::SgdConfig;
use crate::oracle::presets::Setting;

/// The kernel for `setting` as `torch.optim` computes it, or `None` if none transcribes it.
pub fn build<T: Real>(setting: &Setting) -> Option<Box<dyn Kernel<T>>> {
    match setting {
        Setting::Sgd(c) => Sgd::new(c).map(|k| Box::new(k) as Box<dyn Kernel<T>>),
        _ => None,
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
}

#[cfg(test)]
mod tests {
    use crate::oracle::format::open;
    use crate::oracle::kernels::replay_exact;
    use std::path::Path;

    /// Every golden torch SGD trace (f64 and f32), replayed in its own dtype, bit for bit.
    #[test]
    fn torch_sgd_golden_traces_replay_bit_for_bit() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with("torch-sgd-") {
                continue;
            }
            let mut reader = open(&path).unwrap();
            let r = replay_exact(&mut reader)
                .unwrap()
                .expect("a torch SGD kernel exists");
            assert!(
                r.bit_identical(),
                "{name}: {}/{} steps identical, first difference {:?}, max {} ulps",
                r.identical_steps,
                r.steps,
                r.first_difference,
                r.max_ulps
            );
            seen += 1;
        }
        assert!(
            seen >= 25,
            "expected the 25 f64 and 10 f32 torch SGD traces, found {seen}"
        );
    }
}
