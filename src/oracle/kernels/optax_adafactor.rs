//! # optax `adafactor` on XLA:CPU, eager (optax 0.2.8, jax 0.10.2)
//!
//! `optax.adafactor(learning_rate, min_dim_size_to_factor, decay_rate, decay_offset,
//! multiply_by_parameter_scale, clipping_threshold, momentum, dtype_momentum,
//! weight_decay_rate, eps, factored, weight_decay_mask)` (`optax/_src/alias.py`) is the chain
//!
//! ```text
//! scale_by_factored_rms(factored, decay_rate, decay_offset, min_dim_size_to_factor, eps)
//! → [clip_by_block_rms(clipping_threshold)]      unless clipping_threshold is None
//! → [scale_by_learning_rate(lr, flip_sign=False)] unless learning_rate is None
//! → [scale_by_param_block_rms()]                  if multiply_by_parameter_scale
//! → [ema(momentum, debias=False, accumulator_dtype=dtype_momentum)] unless momentum is None
//! → [add_decayed_weights(weight_decay_rate, weight_decay_mask)] unless weight_decay_rate is None
//! → scale(-1)
//! ```
//!
//! then `apply_updates`. Per leaf X (one block of the trace's layout; `cols = 1` is a 1-D
//! leaf, as the recorders write it), with count k = 0, 1, … before the step:
//! $$\begin{aligned}
//! t &= \mathrm{f32}(k - \text{offset} + 1), \quad \beta = 1 - t^{-c}\ \text{(float32)},\quad G_2 = G\odot G + \epsilon\\\\
//! R &\leftarrow \beta R + (1-\beta)\\,\mathrm{mean}_{\text{long}}(G_2), \quad
//! C \leftarrow \beta C + (1-\beta)\\,\mathrm{mean}_{\text{short}}(G_2)\\\\
//! U &= G \odot (R/\mathrm{mean}(R))^{-1/2} \odot C^{-1/2}
//!   \quad\text{(not factored: } V \leftarrow \beta V + (1-\beta) G_2,\ U = G\odot V^{-1/2})\\\\
//! U &\leftarrow U / \max(1, \mathrm{RMS}(U)/d), \quad U \leftarrow \mathrm{lr}\\,U, \quad
//! U \leftarrow U \max(10^{-3}, \mathrm{RMS}(X))\ \text{(where RMS} \le 10^{-3} \text{: } 10^{-3})\\\\
//! M &\leftarrow (1-\mu) U + \mu M,\ U \leftarrow M, \qquad U \leftarrow U + \lambda X, \qquad X \leftarrow X + (-1\cdot U)
//! \end{aligned}$$
//! A 2-D leaf of shape (r, c) is factored when `factored` and min(r, c) ≥
//! `min_dim_size_to_factor` (`_factored_dims`: the two largest axes, `np.argsort` of (r, c)).
//! "short" is the axis of the smaller dimension (rows when r ≤ c, argsort's order for r = c):
//! R (optax's `v_row`) holds the means over the *longer* axis, one per index of the shorter
//! one, and is the one normalised by its mean; C (`v_col`) the means over the shorter axis.
//! So for r > c optax's `v_row` is per column, and the update is `(g · rf[j]) · cf[i]`.
//!
//! | optax line | as XLA:CPU computes it eagerly (one computation per `jnp` call) |
//! |---|---|
//! | `t = jnp.array(step - step_offset + 1, float32)`; `1.0 - t ** (-exponent)` | int32 count, converted; `power` is libm `powf(t, f32(−c))`; the subtraction in f32 |
//! | `decay_rate_t * v`, `(1.0 - decay_rate_t) * mean` | `1 − β` in **f32**, then both widened exactly for an f64 leaf; each product rounded |
//! | `abs_sq(grad) + epsilon` | `g·g` rounded, `+ ε` rounded (ε in the dtype) |
//! | `jnp.mean(x, axis)` | `reduce` then `multiply` by the constant `1/n` (in the dtype): the sum along the axis in XLA's tree order ([`xla_sum`] on the 1-D run), × (1/n) |
//! | `new_v_row / row_col_mean` | XLA rewrites the division by a broadcast into `x · (1/m)` (`1/m` one division) |
//! | `x ** -0.5` | the exponent is a runtime operand (not constant-folded into `rsqrt`): libm `powf`/`pow`, one rounding |
//! | `grad * rf * cf` | two multiplies, left to right |
//! | clip: `maximum(1.0, sqrt(mean(abs_sq(u))) / threshold)`; `u / clip_denom` | squares, [`xla_sum`] over the leaf × (1/n), `sqrt`, a real division by d, `maximum`; then `u · (1/denom)` |
//! | `lr * u` (`scale`), or `jnp.array(schedule(count), dtype) * u` | one multiply |
//! | `u * safe_root_mean_squares(p, 1e-3)` | `sqrt(mean(p·p))` as the clip's, `where(rms ≤ 1e-3, 1e-3, rms)`, one multiply |
//! | ema: `(1 - μ) * (u ** 1) + μ * m`; state `new.astype(dtype_momentum)` | `(1−μ)·u` in the update's dtype, `μ·m` in the moment's dtype, the add in the wider of the two; the *unrounded* sum is the update, the stored moment is rounded to `dtype_momentum` (float32 by default, so also for f64 leaves) |
//! | `g + s * p` (`add_decayed_weights`) | `s·p` in the parameters' dtype, the add in the update's |
//! | `-1 * u`, `p + u` | exact negation; one add, then `.astype(p.dtype)` (a second rounding only for f32 parameters with an f64 moment) |
//!
//! Measured against optax 0.2.8 on random inputs (`/tmp/ovenv`, the HLO of every eager
//! computation read with `XLA_FLAGS=--xla_dump_to`): `x ** -0.5` equals glibc `powf`/`pow` on
//! 20 000 random x in [1e-30, 1e10] (f32: 5 489 differ from `1/sqrt(x)`; f64: 5 316) and on
//! every *normal* f32 of 100 000 drawn log-uniformly from [1e-44, 1e38] — XLA:CPU treats a
//! subnormal input as 0 (7 364 of them gave 2⁷⁵ instead), so a subnormal moment (only
//! reachable with `eps` below the dtype's smallest normal) is not transcribed; and
//! `1 − t^(−c)` equals `1 − powf(t, f32(−c))` for t = 1 … 20 000 and c ∈ {0.5, 0.6, 0.8, 1},
//! and for t = 1 … 3000 and 40 random c in [0.05, 3];
//! `jnp.mean(x, axis)` equals the 1-D tree sum along the axis × f(1/n) on every output of 15
//! shapes (3×4 … 200×7, 1×50, 50×1; 5 random inputs each, f32 and f64) below 4096 elements,
//! not 64×64 (4096: YNNPACK); `jnp.mean(x)` equals [`xla_sum`] × f(1/n) for 1-D leaves up to
//! 1000 and matrices with at most one dimension above 32 (3×4, 40×12, 12×40, 3×40, 9×12,
//! 33×33), not 40×40 or 100×40 (both dimensions above 32, as [`xla_sum_is_transcribed`]
//! says). A leaf outside those shapes is replayed in this order anyway, to rounding
//! ([`Kernel::describe`] says so). The whole chain, on the 46 golden traces of
//! `scripts/golden_traces.py` and `scripts/golden_adafactor.py` (f32 and f64; factored wide,
//! tall and square matrices, a matrix too small to factor, vectors; each option): every step
//! bit for bit. `powf`/`pow` are the platform's libm (glibc here, as XLA's); another libm
//! may round `t^(−c)` and `x^(−½)` differently.

use super::reduce::{xla_sum, xla_sum_is_transcribed, XLA_TREE_MAX};
use super::{check_input, Kernel, Real};
use crate::error::StepError;
use crate::optim::adafactor::{
    AdafactorConfig, AdafactorDecay, DecayPrecision, Eps1Placement, Factoring, MomentumDtype,
};
use crate::oracle::format::Dtype;

/// One leaf: where its coordinates start, its shape, and whether (and how) it is factored.
#[derive(Debug, Clone)]
struct Leaf {
    start: usize,
    rows: usize,
    cols: usize,
    /// Factored second moment: `short` = per index of the shorter axis (optax `v_row`),
    /// `long` = per index of the longer axis (`v_col`); `None` = the full `v`.
    factored: Option<(Vec<f64>, Vec<f64>)>,
    full: Vec<f64>,
}

impl Leaf {
    fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// r ≤ c: the shorter axis is the rows (argsort of (r, c) keeps (0, 1) for r = c).
    fn rows_are_short(&self) -> bool {
        self.rows <= self.cols
    }
}

/// The kernel (module doc). Values are held as f64; every operation is rounded to the dtype
/// optax computes it in (for f32 operands an f64 operation followed by one rounding to f32 is
/// the correctly rounded f32 operation: f64 has more than 2·24 + 2 bits).
pub struct Adafactor<T: Real> {
    leaves: Vec<Leaf>,
    min_dim: Option<usize>,
    decay_exponent: f32,
    decay_offset: i64,
    eps: T,
    clip: Option<T>,
    lr: T,
    param_scale: bool,
    momentum: Option<(f64, MomentumDtype)>,
    weight_decay: Option<T>,
    count: u32,
    started: bool,
    ema: Vec<f64>,
}

/// Round to the dtype `d`.
#[inline]
fn round_to(d: Dtype, x: f64) -> f64 {
    match d {
        Dtype::F32 => f64::from(x as f32),
        Dtype::F64 => x,
    }
}

impl<T: Real> Adafactor<T> {
    /// `None` unless `c` is optax's form (constant step, β̂₂ₜ in float32, ε added to G²,
    /// factoring by `min_dim_size_to_factor` or none, unscaled decay) with a layout.
    pub fn new(c: &AdafactorConfig) -> Option<Self> {
        if c.relative_step
            || c.decay_precision != DecayPrecision::F32
            || c.eps1_placement != Eps1Placement::AddedToSquare
            || c.eps2 != 1e-3
            || c.decay_offset > 0
        {
            return None;
        }
        let min_dim = match c.factoring {
            Factoring::MinDimSize(k) => Some(k),
            Factoring::Never => None,
            Factoring::Matrices => return None,
        };
        let weight_decay = match c.weight_decay {
            AdafactorDecay::None => None,
            AdafactorDecay::Unscaled(l) => Some(T::from_f64(l)),
            AdafactorDecay::TimesLr(_) => return None,
        };
        let leaves = c
            .layout
            .as_ref()?
            .blocks()
            .iter()
            .map(|b| Leaf {
                start: b.offset,
                rows: b.rows,
                cols: b.cols,
                factored: None,
                full: Vec::new(),
            })
            .collect();
        Some(Adafactor {
            leaves,
            min_dim,
            decay_exponent: c.decay_exponent as f32,
            decay_offset: c.decay_offset,
            eps: T::from_f64(c.eps1),
            clip: c.clip_threshold.map(T::from_f64),
            lr: T::from_f64(c.lr),
            param_scale: c.scale_by_parameter_rms,
            momentum: c.momentum.map(|m| (m, c.momentum_dtype)),
            weight_decay,
            count: 0,
            started: false,
            ema: Vec::new(),
        })
    }

    /// `_factored_dims`: a 2-D leaf whose smaller dimension is ≥ `min_dim_size_to_factor`.
    fn is_factored(&self, rows: usize, cols: usize) -> bool {
        match self.min_dim {
            Some(k) => cols > 1 && rows.min(cols) >= k,
            None => false,
        }
    }

    /// The dtype of the momentum buffer.
    fn momentum_dtype(d: MomentumDtype) -> Dtype {
        match d {
            MomentumDtype::Params => T::DTYPE,
            MomentumDtype::F32 => Dtype::F32,
            MomentumDtype::F64 => Dtype::F64,
        }
    }

    /// Whether every leaf's reductions are in XLA's transcribed order (module doc).
    fn transcribed(&self) -> bool {
        self.leaves
            .iter()
            .all(|l| l.len() < XLA_TREE_MAX && xla_sum_is_transcribed(l.rows, l.cols))
    }
}

/// `jnp.mean` of a whole leaf: XLA's tree sum × (1/n), in `T`.
fn mean_all<T: Real>(values: &[T], rows: usize, cols: usize) -> T {
    let n = T::from_f64(values.len() as f64);
    xla_sum(values, rows, cols) * (T::one() / n)
}

impl<T: Real> Kernel<T> for Adafactor<T> {
    fn describe(&self) -> String {
        format!(
            "optax adafactor (β̂ = 1 − powf(t, −c) in f32; means as XLA's tree sum × (1/n); \
             x/m as x·(1/m); (·)^−½ as libm pow; clip, lr, parameter scale, [ema kept in \
             dtype_momentum], [+ λθ]; p − u){}",
            if self.transcribed() {
                ""
            } else {
                " [a leaf of ≥ 4096 elements or with both dims > 32: its reduction order is not transcribed, within rounding there]"
            }
        )
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        let total: usize = self.leaves.iter().map(Leaf::len).sum();
        check_input(theta, g, Some(total))?;
        if !self.started {
            self.started = true;
            for i in 0..self.leaves.len() {
                let (rows, cols) = (self.leaves[i].rows, self.leaves[i].cols);
                if self.is_factored(rows, cols) {
                    let (short, long) = if rows <= cols { (rows, cols) } else { (cols, rows) };
                    self.leaves[i].factored = Some((vec![0.0; short], vec![0.0; long]));
                } else {
                    self.leaves[i].full = vec![0.0; rows * cols];
                }
            }
        }
        // _decay_rate_pow(step - step_offset): int32 count, then float32 throughout.
        let k = i64::from(self.count) - self.decay_offset + 1;
        let t = k as f32;
        let beta_f32 = 1.0_f32 - t.powf(-self.decay_exponent);
        let one_minus_f32 = 1.0_f32 - beta_f32;
        // Widened exactly for an f64 leaf (f32 array × f64 array promotes to f64).
        let beta = T::from_f64(f64::from(beta_f32));
        let one_minus = T::from_f64(f64::from(one_minus_f32));
        let minus_half = T::from_f64(-0.5);
        let mut u: Vec<T> = vec![T::zero(); theta.len()];
        for leaf in self.leaves.iter_mut() {
            let (r, c, s) = (leaf.rows, leaf.cols, leaf.start);
            let n = r * c;
            let gl = &g[s..s + n];
            let ul = &mut u[s..s + n];
            let g2: Vec<T> = gl.iter().map(|&x| x * x + self.eps).collect();
            let rows_short = leaf.rows_are_short();
            match leaf.factored.as_mut() {
                Some((v_short, v_long)) => {
                    let (ns, nl) = (v_short.len(), v_long.len());
                    // index of (short i, long j) in the row-major leaf
                    let at = |i: usize, j: usize| if rows_short { i * c + j } else { j * c + i };
                    let inv_nl = T::one() / T::from_f64(nl as f64);
                    let inv_ns = T::one() / T::from_f64(ns as f64);
                    let mut run: Vec<T> = Vec::with_capacity(nl.max(ns));
                    for (i, v) in v_short.iter_mut().enumerate() {
                        run.clear();
                        run.extend((0..nl).map(|j| g2[at(i, j)]));
                        let mean = xla_sum(&run, nl, 1) * inv_nl;
                        *v = (beta * T::from_f64(*v) + one_minus * mean).to_f64();
                    }
                    for (j, v) in v_long.iter_mut().enumerate() {
                        run.clear();
                        run.extend((0..ns).map(|i| g2[at(i, j)]));
                        let mean = xla_sum(&run, ns, 1) * inv_ns;
                        *v = (beta * T::from_f64(*v) + one_minus * mean).to_f64();
                    }
                    let vs: Vec<T> = v_short.iter().map(|&x| T::from_f64(x)).collect();
                    let row_col_mean = xla_sum(&vs, ns, 1) * inv_ns;
                    let recip = T::one() / row_col_mean;
                    let rf: Vec<T> = vs.iter().map(|&x| (x * recip).powf(minus_half)).collect();
                    let cf: Vec<T> = v_long.iter().map(|&x| T::from_f64(x).powf(minus_half)).collect();
                    // grad * expand_dims(row_factor, d0) * expand_dims(col_factor, d1)
                    for (i, &r_i) in rf.iter().enumerate() {
                        for (j, &c_j) in cf.iter().enumerate() {
                            let idx = at(i, j);
                            ul[idx] = gl[idx] * r_i * c_j;
                        }
                    }
                }
                None => {
                    for idx in 0..n {
                        let v = beta * T::from_f64(leaf.full[idx]) + one_minus * g2[idx];
                        leaf.full[idx] = v.to_f64();
                        ul[idx] = gl[idx] * v.powf(minus_half);
                    }
                }
            }
            if let Some(d) = self.clip {
                let sq: Vec<T> = ul.iter().map(|&x| x * x).collect();
                let rms = mean_all(&sq, r, c).sqrt();
                let denom = (rms / d).max(T::one());
                let recip = T::one() / denom;
                ul.iter_mut().for_each(|x| *x = *x * recip);
            }
            ul.iter_mut().for_each(|x| *x = self.lr * *x);
            if self.param_scale {
                let p = &theta[s..s + n];
                let sq: Vec<T> = p.iter().map(|&x| x * x).collect();
                let rms = mean_all(&sq, r, c).sqrt();
                let min_scale = T::from_f64(1e-3);
                let scale = if rms <= min_scale { min_scale } else { rms };
                ul.iter_mut().for_each(|x| *x = *x * scale);
            }
        }
        self.count = (self.count + 1).min(i32::MAX as u32);
        // The tail in f64 with explicit roundings: the update's dtype becomes the wider of the
        // parameters' and the moment's once the ema has run.
        let pd = T::DTYPE;
        let mut ud = pd;
        let mut wide: Vec<f64> = u.iter().map(|&x| Real::to_f64(x)).collect();
        if let Some((mu, md)) = self.momentum {
            let md = Self::momentum_dtype(md);
            if self.ema.is_empty() {
                self.ema = vec![0.0; theta.len()];
            }
            let one_minus_mu = round_to(pd, 1.0 - mu);
            let mu_m = round_to(md, mu);
            ud = if pd == Dtype::F64 || md == Dtype::F64 {
                Dtype::F64
            } else {
                Dtype::F32
            };
            for (w, m) in wide.iter_mut().zip(self.ema.iter_mut()) {
                let a = round_to(pd, one_minus_mu * *w);
                let b = round_to(md, mu_m * *m);
                let new = round_to(ud, a + b);
                *w = new;
                *m = round_to(md, new);
            }
        }
        if let Some(s) = self.weight_decay {
            for (w, p) in wide.iter_mut().zip(theta.iter()) {
                let sp = (s * *p).to_f64();
                *w = round_to(ud, *w + sp);
            }
        }
        for (p, w) in theta.iter_mut().zip(wide) {
            let sum = round_to(ud, p.to_f64() + -w);
            *p = T::from_f64(sum);
        }
        Ok(())
    }

    /// `scale_by_schedule`: `jnp.array(1 * schedule(count), dtype=g.dtype) * g`, the value
    /// rounded once (`flip_sign=False`: the sign comes from the final `scale(-1)`).
    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.lr = T::from_f64(s.lr);
        s.momentum.is_none()
    }
}

/// The kernel for an optax `adafactor` setting, boxed (`None` when optax has no such form).
pub fn build<T: Real>(c: &AdafactorConfig) -> Option<Box<dyn Kernel<T>>> {
    Adafactor::<T>::new(c).map(|k| Box::new(k) as Box<dyn Kernel<T>>)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Layout, Optimizer};
    use crate::oracle::compare;
    use crate::oracle::format::open;
    use crate::oracle::presets::{resolve, resolve_header, Setting};
    use crate::prec::UNIT_ROUNDOFF as U;
    use nalgebra::DVector;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};
    use std::path::Path;

    /// Every optax `adafactor` golden trace — scripts/golden_traces.py's (vectors, a 3×4
    /// matrix and its bias, the `layers` case) and scripts/golden_adafactor.py's (wide, tall,
    /// square, too-small matrices and a vector; momentum in float32, float64 and the
    /// parameters' dtype, no clipping, no parameter scale, weight decay, unfactored, a decay
    /// offset, no learning rate, a cosine schedule, a weight-decay mask as parameter groups) —
    /// replays bit for bit through this kernel, f32 and f64, as `check` replays it (declared
    /// schedule and groups included). Before this kernel they were replayed by the crate's
    /// f64 optimizer: 0 of 16 bit for bit (8 ulps f32, 10 ulps f64).
    #[test]
    fn optax_adafactor_golden_traces_replay_bit_for_bit() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut failures = Vec::new();
        let (mut f32s, mut f64s) = (0, 0);
        for dir in ["tests/data/golden", "tests/data/golden/features"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if !name.starts_with("optax-adafactor") || !name.ends_with(".jsonl") {
                    continue;
                }
                let o = compare::replay(&mut open(&path).unwrap(), None).unwrap();
                if name.ends_with("-f32.jsonl") {
                    f32s += 1;
                } else {
                    f64s += 1;
                }
                let reference = o.reference.to_string();
                if !reference.starts_with("optax adafactor") || !o.bit_identical() {
                    failures.push(format!(
                        "{name}: {reference}: {}/{} steps bit for bit, first difference {:?}",
                        o.bit_identical_steps, o.steps, o.first_difference
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(
            f32s >= 20 && f64s >= 26,
            "expected the optax adafactor golden traces, found {f32s} f32 and {f64s} f64"
        );
    }

    /// The options change the trace: replaying a golden trace with one option changed
    /// (dtype_momentum, decay_offset) is no longer bit for bit, so the traces pin each one.
    #[test]
    fn each_modelled_option_is_pinned_by_its_golden_trace() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
        type Change = fn(&mut AdafactorConfig);
        let cases: [(&str, Change); 4] = [
            ("optax-adafactor-opt-momentum-f64.jsonl", |c| {
                c.momentum_dtype = MomentumDtype::F32
            }),
            ("optax-adafactor-opt-momentum-params-dtype.jsonl", |c| {
                c.momentum_dtype = MomentumDtype::F32
            }),
            ("optax-adafactor-opt-momentum-f64-f32.jsonl", |c| {
                c.momentum_dtype = MomentumDtype::F32
            }),
            ("optax-adafactor-opt-offset.jsonl", |c| c.decay_offset = 0),
        ];
        for (name, change) in cases {
            let path = root.join(name);
            let exact = super::super::replay_exact(&mut open(&path).unwrap())
                .unwrap()
                .unwrap();
            assert!(exact.bit_identical(), "{name}: {exact:?}");
            let mut reader = open(&path).unwrap();
            let Setting::Adafactor(mut c) = resolve_header(reader.header()).unwrap() else {
                panic!("{name}: not adafactor")
            };
            change(&mut c);
            let changed = match reader.header().dtype {
                Dtype::F64 => replay_with::<f64>(&mut reader, &c),
                Dtype::F32 => replay_with::<f32>(&mut reader, &c),
            };
            assert!(
                changed > 0,
                "{name}: the changed option still replays bit for bit"
            );
        }
    }

    /// Coordinates of the last step that differ from the trace, replaying with config `c`.
    fn replay_with<T: Real>(
        reader: &mut crate::oracle::format::TraceReader<std::io::BufReader<std::fs::File>>,
        c: &AdafactorConfig,
    ) -> usize {
        let mut k = Adafactor::<T>::new(c).unwrap();
        let mut theta: Vec<T> = reader.header().params0.iter().map(|&x| T::from_f64(x)).collect();
        let mut differ = 0;
        while let Some(rec) = reader.next_step().unwrap() {
            let g: Vec<T> = rec.grad.iter().map(|&x| T::from_f64(x)).collect();
            k.step(&mut theta, &g).unwrap();
            differ = theta
                .iter()
                .zip(&rec.params)
                .filter(|(a, b)| Real::to_f64(**a) != **b)
                .count();
        }
        differ
    }

    fn layout() -> Layout {
        Layout::from_shapes([
            ("wide", 5, 40),
            ("tall", 36, 6),
            ("small", 3, 4),
            ("b", 36, 1),
            ("sq", 5, 5),
        ])
    }

    /// The f64 kernel against the crate's optimizer (`crate::optim::adafactor`, the paper's
    /// order: row/column *sums*, `V̂ = R·C/ΣR`, `G/√V̂`, `U/clip`, `α = scale·lr` then `α·U`,
    /// `βm + (1−β)u`, `x −= u`) of the same setting, on an open-loop gradient sequence (seeded;
    /// per-coordinate scales 10^±2, a tenth of the entries exactly 0), every step and every
    /// coordinate within a bound derived from the operation counts, inductively:
    ///
    /// Per side, against the exact value (first order in u, positive terms): `g²+ε` 2u; a sum
    /// of n of them (n = the block's longer dimension) and the mean's × (1/n): (n+3)u; the EMA
    /// of positives adds 3u per step without growing what it carries: e_v(t) ≤ (n+3)u + 3ut;
    /// the normaliser (a mean of ≤ n moments) e_v + (n+1)u; V̂ = R·C/mean(R) adds the three
    /// and 3u, and U = G·V̂^(−½) halves that and adds 3u: e_U ≤ 1.5·e_v + (n/2 + 5)u (the
    /// unfactored blocks are below this). Clipping divides by max(1, RMS(U)/d), RMS over the
    /// N = rows·cols entries: e_rms ≤ e_U + (N/2 + 2)u, then ≤ 4u more; the learning rate and
    /// the parameter scale ≤ 3u, RMS(θ) ≤ (N/2 + 2)u. The two sides differ by at most the sum
    /// of their bounds, 2× the above, plus what the parameters' difference B (this bound at
    /// step t − 1) does to RMS(θ): ‖B‖₂/(√N·RMS(θ) − ‖B‖₂). So the update u_i differs by
    /// e_upd·|u_i|; the momentum m = μm + (1−μ)u (3 roundings) carries its own difference
    /// M ← μM + (1−μ)e_upd|u| + 2·3u·(μ|m₋| + (1−μ)|u| + |m|); the decay λθ adds λB + 2·2u·|λθ|;
    /// and θ − Δ rounds once per side, 2u·|θ_t|: B_t = B_{t−1} + (those). The magnitudes |u|,
    /// |m| are read off the crate's own trajectory (Δ = θ_{t−1} − θ_t = m + λθ_{t−1}).
    fn kernel_agrees_with_crate(c: &AdafactorConfig, seed: u64, steps: usize) -> f64 {
        let layout = layout();
        let dim = layout.dim();
        let c = c.clone().with_layout(layout.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let theta0: Vec<f64> = (0..dim).map(|_| StandardNormal.sample(&mut rng)).collect();
        let scales: Vec<f64> = (0..dim)
            .map(|_| 10f64.powf(rng.random_range(-2.0..=2.0)))
            .collect();
        let mut kernel = Adafactor::<f64>::new(&c).expect("an optax setting");
        let mut crate_opt = c.clone().build().unwrap();
        let (mut ours, mut theirs) = (theta0.clone(), DVector::from_vec(theta0));
        let lambda = c.weight_decay.lambda_value();
        let mu = c.momentum.unwrap_or(0.0);
        let mut bound = vec![0.0; dim];
        let mut m_bound = vec![0.0; dim];
        let mut m_prev = vec![0.0; dim];
        let mut worst: f64 = 0.0;
        for t in 1..=steps {
            let g: Vec<f64> = scales
                .iter()
                .map(|s| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    if rng.random::<f64>() < 0.1 {
                        0.0
                    } else {
                        s * z
                    }
                })
                .collect();
            let before = theirs.clone();
            crate_opt
                .step(&mut theirs, &DVector::from_vec(g.clone()))
                .unwrap();
            kernel.step(&mut ours, &g).unwrap();
            let tf = t as f64;
            let mut next = bound.clone();
            for b in layout.blocks() {
                let n = b.rows.max(b.cols) as f64;
                let big_n = b.len() as f64;
                let e_v = (n + 3.0) * U + 3.0 * U * tf;
                let e_u = 1.5 * e_v + (n / 2.0 + 5.0) * U;
                let e_clip = if c.clip_threshold.is_some() {
                    2.0 * e_u + (big_n / 2.0 + 6.0) * U
                } else {
                    e_u
                };
                let mut e_upd = 2.0 * (e_clip + 3.0 * U);
                if c.scale_by_parameter_rms {
                    let r = b.range();
                    let rms =
                        (before.as_slice()[r.clone()].iter().map(|x| x * x).sum::<f64>() / big_n).sqrt();
                    let b_norm = bound[r].iter().map(|x| x * x).sum::<f64>().sqrt();
                    let denom = big_n.sqrt() * rms - b_norm;
                    assert!(denom > 0.0, "the bound outgrew the parameters");
                    e_upd += 2.0 * (big_n / 2.0 + 2.0) * U + b_norm / denom;
                }
                for i in b.range() {
                    let delta = before[i] - theirs[i];
                    let m = delta - lambda * before[i];
                    let mut err = if c.momentum.is_some() {
                        let u_i = (m - mu * m_prev[i]) / (1.0 - mu);
                        m_bound[i] = mu * m_bound[i]
                            + (1.0 - mu) * e_upd * u_i.abs()
                            + 6.0 * U * (mu * m_prev[i].abs() + (1.0 - mu) * u_i.abs() + m.abs());
                        m_prev[i] = m;
                        m_bound[i]
                    } else {
                        e_upd * m.abs()
                    };
                    if lambda != 0.0 {
                        err += lambda * bound[i] + 4.0 * U * (lambda * before[i]).abs();
                    }
                    next[i] = bound[i] + err + 2.0 * U * theirs[i].abs();
                }
            }
            bound = next;
            for i in 0..dim {
                let d = (ours[i] - theirs[i]).abs();
                assert!(
                    d <= bound[i],
                    "{c:?}: step {t}, coordinate {i}: kernel {:e} vs crate {:e}, difference {d:e} > bound {:e}",
                    ours[i],
                    theirs[i],
                    bound[i]
                );
                if bound[i] > 0.0 {
                    worst = worst.max(d / bound[i]);
                }
            }
        }
        worst
    }

    #[test]
    fn f64_kernel_agrees_with_the_crate_optimizer_within_the_rounding_bound() {
        let optax =
            |json: &str| match resolve("optax", "adafactor", &serde_json::from_str(json).unwrap()).unwrap() {
                Setting::Adafactor(c) => c,
                other => panic!("{other:?}"),
            };
        let mut worst: f64 = 0.0;
        for (seed, json) in [
            r#"{"learning_rate": 0.01, "min_dim_size_to_factor": 4}"#,
            r#"{"learning_rate": 0.05, "min_dim_size_to_factor": 4, "clipping_threshold": null, "decay_rate": 0.6, "weight_decay_rate": 0.01}"#,
            r#"{"learning_rate": 0.01, "min_dim_size_to_factor": 4, "multiply_by_parameter_scale": false, "decay_offset": -10}"#,
            r#"{"learning_rate": 0.01, "min_dim_size_to_factor": 4, "momentum": 0.9, "dtype_momentum": null, "weight_decay_rate": 0.02}"#,
            r#"{"learning_rate": 0.01, "factored": false, "momentum": 0.8, "dtype_momentum": "float64"}"#,
        ]
        .iter()
        .enumerate()
        {
            let w = kernel_agrees_with_crate(&optax(json), 7 + seed as u64, 40);
            println!("{json}: largest difference / bound {w:.2e}");
            worst = worst.max(w);
        }
        // The bound is a worst case; typical differences are far below it.
        println!("largest difference / bound: {worst:.2e}");
    }

    /// optax's `v_row` is per column for a tall matrix (r > c) and per row otherwise: the
    /// kernel normalises the statistics of the shorter axis. Transposing the problem
    /// transposes the result bit for bit, because each side runs the same operations on the
    /// same values.
    #[test]
    fn factored_statistics_follow_the_shorter_axis() {
        let c = |rows: usize, cols: usize| {
            AdafactorConfig {
                factoring: Factoring::MinDimSize(2),
                lr: 0.01,
                ..AdafactorConfig::optax()
            }
            .with_layout(Layout::from_shapes([("w", rows, cols)]))
        };
        let (r, k) = (3, 7);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let theta: Vec<f64> = (0..r * k).map(|_| StandardNormal.sample(&mut rng)).collect();
        let transpose = |x: &[f64], rows: usize, cols: usize| -> Vec<f64> {
            (0..cols)
                .flat_map(|j| (0..rows).map(move |i| x[i * cols + j]))
                .collect()
        };
        let mut wide = Adafactor::<f64>::new(&c(r, k)).unwrap();
        let mut tall = Adafactor::<f64>::new(&c(k, r)).unwrap();
        let (mut a, mut b) = (theta.clone(), transpose(&theta, r, k));
        for _ in 0..5 {
            let g: Vec<f64> = (0..r * k).map(|_| StandardNormal.sample(&mut rng)).collect();
            wide.step(&mut a, &g).unwrap();
            tall.step(&mut b, &transpose(&g, r, k)).unwrap();
            assert_eq!(transpose(&a, r, k), b);
        }
        assert!(matches!(&tall.leaves[0].factored, Some((s, l)) if s.len() == r && l.len() == k));
    }

    /// Settings optax's alias cannot produce have no kernel (the crate's optimizer replays
    /// them): PyTorch's relative step and clamped ε₁, every matrix factored, β̂₂ₜ in f64.
    #[test]
    fn non_optax_forms_have_no_kernel() {
        let with = |c: AdafactorConfig| c.with_layout(Layout::flat(3));
        assert!(Adafactor::<f64>::new(&with(AdafactorConfig::optax())).is_some());
        for c in [
            AdafactorConfig::pytorch(),
            AdafactorConfig::paper(),
            AdafactorConfig {
                decay_precision: DecayPrecision::F64,
                ..AdafactorConfig::optax()
            },
            AdafactorConfig {
                weight_decay: AdafactorDecay::TimesLr(0.1),
                ..AdafactorConfig::optax()
            },
        ] {
            assert!(Adafactor::<f32>::new(&with(c.clone())).is_none(), "{c:?}");
        }
        // Without a layout there are no leaves to factor.
        assert!(Adafactor::<f64>::new(&AdafactorConfig::optax()).is_none());
    }
}
