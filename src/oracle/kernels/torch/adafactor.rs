//! `torch.optim.Adafactor` (torch 2.15, `_single_tensor_adafactor`), one block of the layout
//! per parameter tensor (`cols > 1`: a matrix, factored; `cols == 1`: a vector):
//!
//! | torch line | rounding |
//! |---|---|
//! | `one_minus_beta2_t = step_float**beta2_decay`, `rho_t = min(lr, 1 / step_float**0.5)` | Python floats (libm `pow`) |
//! | `alpha = max(eps2, param.norm(2).item() / numel**0.5) * rho_t` | the norm in the dtype ([`torch_norm_lastdim`]), the rest in f64 |
//! | `param.mul_(1 - lr * weight_decay)` | one multiply by the f64 factor rounded to the dtype |
//! | `row_mean = vector_norm(grad, dim=-1).square_().div_(cols)` | per row [`torch_norm_lastdim`], a square, a division |
//! | `row_var.lerp_(row_mean, one_minus_beta2_t)` | ATen's lerp (one FMA) |
//! | `col_mean = vector_norm(grad, dim=-2).square_().div_(rows)`; `col_var.lerp_` | per column [`torch_norm_strided`], as above |
//! | `var_estimate = row_var @ col_var` | one multiply per element (k = 1) |
//! | `var_estimate.div_(row_var.mean(dim=-2).clamp_(min=eps1))` | [`torch_sum`]` / rows`, clamp, one division |
//! | vector: `variance.lerp_(grad * grad, one_minus_beta2_t)` | a square, ATen's lerp |
//! | `update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()` | clamp, `1 / sqrt` (two roundings) |
//! | `update.mul_(grad)` | one multiply |
//! | `denom = max(1.0, update.norm(2).item() / (numel**0.5 * d))` | the norm in the dtype, the rest in f64 |
//! | `param.add_(update, alpha=-alpha / denom)` | `fma(−α/denom, u, θ)`, the scalar rounded to the dtype |

use super::aten;
use super::{check_input, Kernel, Real, StepError};
use crate::optim::adafactor::{AdafactorConfig, AdafactorDecay, DecayPrecision, Eps1Placement, Factoring};
use crate::oracle::kernels::reduce::{torch_norm_lastdim, torch_norm_strided, torch_sum};

#[derive(Debug, Clone)]
enum Moments<T> {
    Factored { row: Vec<T>, col: Vec<T> },
    Full(Vec<T>),
}

#[derive(Debug, Clone)]
struct Tensor {
    start: usize,
    rows: usize,
    cols: usize,
}

/// The per-tensor scalars of one step (what `--sample` needs and the recorder writes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockScalars<T> {
    /// `param.norm(2)` before the step, in the dtype.
    pub param_norm: T,
    /// `update.norm(2)` of the unclipped update, in the dtype.
    pub update_norm: T,
    /// `row_var.mean().clamp(min=eps1)` of a factored tensor (0 for a vector).
    pub row_mean: T,
}

/// See the module doc.
pub struct Adafactor<T: Real> {
    lr: f64,
    beta2_decay: f64,
    eps1: f64,
    eps2: f64,
    d: f64,
    weight_decay: f64,
    tensors: Vec<Tensor>,
    step: u64,
    moments: Vec<Moments<T>>,
    update: Vec<T>,
    /// The per-tensor scalars of the last step.
    pub last: Vec<BlockScalars<T>>,
}

impl<T: Real> Adafactor<T> {
    /// `None` unless `c` is torch's form (relative step, parameter scale, ε₁ as a clamp,
    /// every matrix factored, clipping, no momentum, β̂₂ₜ in f64, decay × lr) with a layout.
    pub fn new(c: &AdafactorConfig) -> Option<Self> {
        let torch_form = c.relative_step
            && c.scale_by_parameter_rms
            && c.eps1_placement == Eps1Placement::Clamp
            && c.factoring == Factoring::Matrices
            && c.momentum.is_none()
            && c.decay_precision == DecayPrecision::F64;
        let d = c.clip_threshold?;
        let weight_decay = match c.weight_decay {
            AdafactorDecay::None => 0.0,
            AdafactorDecay::TimesLr(l) => l,
            AdafactorDecay::Unscaled(_) => return None,
        };
        let tensors = c
            .layout
            .as_ref()?
            .blocks()
            .iter()
            .map(|b| Tensor {
                start: b.offset,
                rows: b.rows,
                cols: b.cols,
            })
            .collect();
        torch_form.then(|| Adafactor {
            lr: c.lr,
            beta2_decay: -c.decay_exponent,
            eps1: c.eps1,
            eps2: c.eps2,
            d,
            weight_decay,
            tensors,
            step: 0,
            moments: Vec::new(),
            update: Vec::new(),
            last: Vec::new(),
        })
    }
}

fn clamp_min<T: Real>(x: T, min: T) -> T {
    if x < min {
        min
    } else {
        x
    }
}

impl<T: Real> Kernel<T> for Adafactor<T> {
    fn describe(&self) -> String {
        "torch _single_tensor_adafactor (norms in ATen's lane order; lerp as FMA; 1/√; add_ as FMA)".into()
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, None)?;
        let total: usize = self.tensors.iter().map(|t| t.rows * t.cols).sum();
        if total != theta.len() {
            return Err(StepError::DimensionMismatch {
                what: "parameters (layout)",
                expected: total,
                got: theta.len(),
            });
        }
        if self.moments.is_empty() {
            self.moments = self
                .tensors
                .iter()
                .map(|t| {
                    if t.cols > 1 {
                        Moments::Factored {
                            row: vec![T::zero(); t.rows],
                            col: vec![T::zero(); t.cols],
                        }
                    } else {
                        Moments::Full(vec![T::zero(); t.rows])
                    }
                })
                .collect();
        }
        self.step += 1;
        let step_float = self.step as f64;
        let one_minus_beta2_t = step_float.powf(self.beta2_decay);
        let w = T::from_f64(one_minus_beta2_t);
        let rho_t = self.lr.min(1.0 / step_float.powf(0.5));
        let decay = T::from_f64(1.0 - self.lr * self.weight_decay);
        let eps1 = T::from_f64(self.eps1);
        let eps1_sq = T::from_f64(self.eps1 * self.eps1);
        self.last.clear();
        for (t, m) in self.tensors.iter().zip(self.moments.iter_mut()) {
            let numel = t.rows * t.cols;
            let range = t.start..t.start + numel;
            let (p, gr) = (&mut theta[range.clone()], &g[range]);
            let param_norm = torch_norm_lastdim(p);
            let alpha = self.eps2.max(param_norm.to_f64() / (numel as f64).powf(0.5)) * rho_t;
            if self.weight_decay != 0.0 {
                p.iter_mut().for_each(|x| *x = *x * decay);
            }
            let u = &mut self.update;
            u.clear();
            let mut row_mean_out = T::zero();
            match m {
                Moments::Factored { row, col } => {
                    let (rows, cols) = (t.rows, t.cols);
                    let (n_rows, n_cols) = (T::from_f64(rows as f64), T::from_f64(cols as f64));
                    for (r, rv) in row.iter_mut().enumerate() {
                        let n = torch_norm_lastdim(&gr[r * cols..(r + 1) * cols]);
                        *rv = aten::lerp(*rv, n * n / n_cols, w);
                    }
                    for (c, cv) in col.iter_mut().enumerate() {
                        let n = torch_norm_strided((0..rows).map(|r| gr[r * cols + c]));
                        *cv = aten::lerp(*cv, n * n / n_rows, w);
                    }
                    let denom = clamp_min(torch_sum(row) / n_rows, eps1);
                    row_mean_out = denom;
                    for &rv in row.iter() {
                        u.extend(col.iter().map(|&cv| rv * cv / denom));
                    }
                }
                Moments::Full(v) => {
                    for (vi, &gi) in v.iter_mut().zip(gr) {
                        *vi = aten::lerp(*vi, gi * gi, w);
                    }
                    u.extend_from_slice(v);
                }
            }
            for (ui, &gi) in u.iter_mut().zip(gr) {
                *ui = T::one() / clamp_min(*ui, eps1_sq).sqrt() * gi;
            }
            let update_norm = torch_norm_lastdim(u);
            let denom = 1.0f64.max(update_norm.to_f64() / ((numel as f64).powf(0.5) * self.d));
            let a = T::from_f64(-alpha / denom);
            for (x, &ui) in p.iter_mut().zip(u.iter()) {
                *x = aten::add_alpha(*x, a, ui);
            }
            self.last.push(BlockScalars {
                param_norm,
                update_norm,
                row_mean: row_mean_out,
            });
        }
        Ok(())
    }

    /// torch reads `group["lr"]` at every step: the cap of ρ_t and the decay factor.
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.lr = s.lr;
        s.momentum.is_none()
    }
}

#[cfg(test)]
mod tests {
    use crate::oracle::format::open;
    use crate::oracle::kernels::replay_exact;
    use std::path::Path;

    /// Every golden `torch.optim.Adafactor` trace (f64 and f32; vectors and a 3×4 matrix with
    /// its bias) replays bit for bit through the kernel, in its own dtype.
    #[test]
    fn torch_adafactor_golden_traces_replay_bit_for_bit() {
        let mut failures = Vec::new();
        let mut n = 0;
        for dir in ["tests/data/golden", "tests/data/golden/features"] {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if !name.starts_with("torch-adafactor") || !name.ends_with(".jsonl") {
                    continue;
                }
                let r = replay_exact(&mut open(&path).unwrap())
                    .unwrap()
                    .expect("a kernel for torch Adafactor");
                n += 1;
                if !r.bit_identical() {
                    failures.push(format!(
                        "{name}: {}/{} steps identical, first difference {:?}, max {} ulps",
                        r.identical_steps, r.steps, r.first_difference, r.max_ulps
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(n >= 14, "expected the torch Adafactor golden traces, found {n}");
    }
}
