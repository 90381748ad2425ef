//! # Reductions in the frameworks' own summation order
//!
//! The layer-wise optimizers (LAMB, LARS, Adafactor) reduce a block to a scalar (a norm, a
//! mean) and scale every coordinate by it, so the last bit of every coordinate depends on the
//! order in which the framework adds the block's terms. Each function here transcribes one
//! framework's order, found by reading the emitted code and confirmed on random inputs against
//! the installed framework (`/tmp/ovenv`: jax 0.10.2 / XLA:CPU, torch 2.15 CPU):
//!
//! * [`xla_sum`] — `jnp.sum` of an array of fewer than [`XLA_TREE_MAX`] elements, eager: XLA's
//!   `TreeReductionRewriter` (CPU, window 32) turns a reduction over a dimension longer than 32
//!   into a `reduce-window` of size 32, stride 32 and symmetric zero padding
//!   (`pad = ⌈d/32⌉·32 − d`, ⌊pad/2⌋ in front), repeated until every dimension is ≤ 32, then one
//!   sequential `reduce` in row-major order (the optimized HLO, `--xla_dump_hlo_as_text`).
//!   A window sums its elements sequentially from 0 (the padding adds exact zeros).
//!   From 4096 elements on XLA:CPU hands the reduction to YNNPACK (`ynn_fusion` in the HLO),
//!   whose vectorised order is not transcribed; [`xla_sum_is_transcribed`] says which case a
//!   block is in. A 2-D block with *both* dimensions above 32 reduces 32×32 windows whose
//!   internal order is not always row-major (matched 8 of 10 random 40×40 inputs), so it is
//!   reported as not transcribed either.
//! * [`xla_norm`] — `jnp.linalg.norm` is jitted and its additions are `reassoc`: the order is
//!   the unrolled code LLVM emits (see there).
//! * [`torch_norm_lastdim`] — `torch.linalg.vector_norm(x, dim=-1)` / `Tensor.norm(2)` on a
//!   contiguous run (ATen's `norm_kernel_tensor_iterator_impl` last-dim path): `w` lane
//!   accumulators (`acc += x·x`, two roundings; w = 8 for f32, 4 for f64, the 256-bit
//!   `Vectorized` of the build), summed sequentially into lane 0; then, for f32, a remaining
//!   block of 4 added as `s += x·x` unfused (a 128-bit step), and the last < 4 (f32) or < 4
//!   (f64) terms as `s = fma(x, x, s)`; then `sqrt`.
//! * [`torch_norm_strided`] — `vector_norm(x, dim=-2)` (a column of a row-major matrix):
//!   `acc + x·x`, two roundings, rows in order.
//! * [`torch_sum`] — `Tensor.sum()` of a contiguous run (ATen's `cascade_sum`): `w` lanes
//!   reduced by `row_sum` (4 interleaved accumulators, each a 4-level cascade with
//!   `level_step = 2^max(4, ⌈log₂ n⌉/4)`), the scalar tail summed first and the lanes added to
//!   it in order; below `w` elements the scalar `row_sum`.
//!
//! Confirmed bit for bit on 10–40 random inputs per size (f32 and f64, sizes 1 … 5000 and
//! matrices up to 100 × 40) by the scripts quoted in the module docs of the kernels that use
//! these.

use super::Real;
use crate::oracle::format::Dtype;

/// Elements from which XLA:CPU reduces through YNNPACK instead of its tree rewrite.
pub const XLA_TREE_MAX: usize = 4096;

const XLA_WINDOW: usize = 32;

/// Whether [`xla_sum`] transcribes XLA's order for a block of `rows × cols` (`cols == 1`: a
/// vector): fewer than [`XLA_TREE_MAX`] elements and not both dimensions above 32.
pub fn xla_sum_is_transcribed(rows: usize, cols: usize) -> bool {
    rows * cols < XLA_TREE_MAX && !(rows > XLA_WINDOW && cols > XLA_WINDOW)
}

/// `jnp.sum` of `values` (row-major `rows × cols`; `cols == 1` is a 1-D array of `rows`), as
/// XLA:CPU reduces it eagerly (see the module doc; exact for the shapes
/// [`xla_sum_is_transcribed`] accepts, XLA's tree order applied to the others).
pub fn xla_sum<T: Real>(values: &[T], rows: usize, cols: usize) -> T {
    debug_assert_eq!(values.len(), rows * cols);
    let mut shape: Vec<usize> = if cols == 1 { vec![rows] } else { vec![rows, cols] };
    let mut a: Vec<T> = values.to_vec();
    while shape.iter().any(|&d| d > XLA_WINDOW) {
        let w: Vec<usize> = shape
            .iter()
            .map(|&d| if d > XLA_WINDOW { XLA_WINDOW } else { d })
            .collect();
        let out: Vec<usize> = shape.iter().zip(&w).map(|(&d, &w)| d.div_ceil(w)).collect();
        let lo: Vec<usize> = shape
            .iter()
            .zip(&w)
            .zip(&out)
            .map(|((&d, &w), &o)| (o * w - d) / 2)
            .collect();
        let mut next = Vec::with_capacity(out.iter().product());
        if shape.len() == 1 {
            for o in 0..out[0] {
                let mut acc = T::zero();
                for k in 0..w[0] {
                    let s = (o * w[0] + k).wrapping_sub(lo[0]);
                    if s < shape[0] {
                        acc = acc + a[s];
                    }
                }
                next.push(acc);
            }
        } else {
            for o0 in 0..out[0] {
                for o1 in 0..out[1] {
                    let mut acc = T::zero();
                    for k0 in 0..w[0] {
                        let s0 = (o0 * w[0] + k0).wrapping_sub(lo[0]);
                        if s0 >= shape[0] {
                            continue;
                        }
                        for k1 in 0..w[1] {
                            let s1 = (o1 * w[1] + k1).wrapping_sub(lo[1]);
                            if s1 < shape[1] {
                                acc = acc + a[s0 * shape[1] + s1];
                            }
                        }
                    }
                    next.push(acc);
                }
            }
        }
        a = next;
        shape = out;
    }
    a.iter().fold(T::zero(), |acc, &x| acc + x)
}

/// `jnp.linalg.norm(x)` (ord None): `sqrt(sum(x * x))`, one jitted computation.
///
/// XLA marks the reduction's additions `reassoc`, so the order is the one LLVM's code
/// generation picks, read from the object code XLA:CPU emits (`--xla_dump_to`, `objdump`)
/// and confirmed on 30–40 random inputs per shape, f32 and f64:
/// * 1-D of length ≤ 32: the loop is unrolled into `s = x₁²` (rounded), `s = fma(x₀, x₀, s)`,
///   then `s = fma(x_k, x_k, s)` for k = 2, 3, … (every length 1 … 32);
/// * 2-D with both dimensions ≤ 32: a loop over rows, the row unrolled, `s = fma(x, x, s)` in
///   row-major order (3×4, 5×7, 10×10, 7×16, 16×24, 3×20, 2×32, 32×32; *not* 2×2, 4×3, 8×8,
///   20×3, 32×2 — at most 3 columns, or 8×8, are scheduled differently);
/// * a dimension above 32: the squares are rounded into the `reduce-window` fusion and summed
///   in [`xla_sum`]'s order.
///
/// Then `sqrt`.
pub fn xla_norm<T: Real>(values: &[T], rows: usize, cols: usize) -> T {
    if rows <= XLA_WINDOW && cols <= XLA_WINDOW {
        let s = match values {
            [] => T::zero(),
            [x] => *x * *x,
            [x0, x1, rest @ ..] if cols == 1 => rest
                .iter()
                .fold(x0.mul_add(*x0, *x1 * *x1), |acc, &x| x.mul_add(x, acc)),
            _ => values.iter().fold(T::zero(), |acc, &x| x.mul_add(x, acc)),
        };
        return s.sqrt();
    }
    let squares: Vec<T> = values.iter().map(|&x| x * x).collect();
    xla_sum(&squares, rows, cols).sqrt()
}

/// Whether [`xla_norm`] is XLA's order for a leaf of `rows × cols` (`cols == 1`: 1-D), as far
/// as measured (see there): fewer than [`XLA_TREE_MAX`] elements, at most one dimension above
/// 32, and not a small matrix of at most 3 columns or 8×8.
pub fn xla_norm_is_transcribed(rows: usize, cols: usize) -> bool {
    let small_matrix = cols > 1 && rows <= XLA_WINDOW && cols <= XLA_WINDOW;
    xla_sum_is_transcribed(rows, cols) && !(small_matrix && (cols <= 3 || (rows, cols) == (8, 8)))
}

/// Lanes of ATen's `Vectorized<T>` in the torch 2.15 CPU build the golden traces pin.
fn torch_lanes<T: Real>() -> usize {
    match T::DTYPE {
        Dtype::F32 => 8,
        Dtype::F64 => 4,
    }
}

/// `torch.linalg.vector_norm` over a contiguous run `x` (module doc).
pub fn torch_norm_lastdim<T: Real>(x: &[T]) -> T {
    let w = torch_lanes::<T>();
    let n = x.len();
    let mut lanes = [T::zero(); 8];
    let mut d = 0;
    while d + w <= n {
        for (l, acc) in lanes.iter_mut().enumerate().take(w) {
            *acc = *acc + x[d + l] * x[d + l];
        }
        d += w;
    }
    let mut s = lanes[0];
    for &l in lanes.iter().take(w).skip(1) {
        s = s + l;
    }
    if T::DTYPE == Dtype::F32 && n - d >= 4 {
        for &v in &x[d..d + 4] {
            s = s + v * v;
        }
        d += 4;
    }
    for &v in &x[d..] {
        s = v.mul_add(v, s);
    }
    s.sqrt()
}

/// `torch.linalg.vector_norm` over a strided run (`dim=-2` of a row-major matrix): the
/// values in order, `acc + x·x` with two roundings.
pub fn torch_norm_strided<T: Real>(x: impl Iterator<Item = T>) -> T {
    x.fold(T::zero(), |acc, v| acc + v * v).sqrt()
}

/// ATen's `multi_row_sum` over `size` items of `nrows` lanes each (`load(i, k)`), its loops
/// kept index by index so that they read as ATen's.
#[allow(clippy::needless_range_loop)]
fn multi_row_sum<T: Real, const L: usize>(
    load: impl Fn(usize, usize) -> [T; L],
    nrows: usize,
    size: usize,
) -> Vec<[T; L]> {
    const LEVELS: usize = 4;
    let ceil_log2 = if size <= 1 {
        0
    } else {
        usize::BITS - (size - 1).leading_zeros()
    } as usize;
    let level_power = (ceil_log2 / LEVELS).max(4);
    let level_step = 1usize << level_power;
    let level_mask = level_step - 1;
    let add = |a: [T; L], b: [T; L]| -> [T; L] {
        let mut out = a;
        for (o, v) in out.iter_mut().zip(b) {
            *o = *o + v;
        }
        out
    };
    let zero = [T::zero(); L];
    let mut acc = vec![vec![zero; nrows]; LEVELS];
    let mut i = 0;
    while i + level_step <= size {
        for _ in 0..level_step {
            for k in 0..nrows {
                acc[0][k] = add(acc[0][k], load(i, k));
            }
            i += 1;
        }
        for j in 1..LEVELS {
            for k in 0..nrows {
                acc[j][k] = add(acc[j][k], acc[j - 1][k]);
                acc[j - 1][k] = zero;
            }
            let mask = level_mask << (j * level_power);
            if i & mask != 0 {
                break;
            }
        }
    }
    while i < size {
        for k in 0..nrows {
            acc[0][k] = add(acc[0][k], load(i, k));
        }
        i += 1;
    }
    for j in 1..LEVELS {
        for k in 0..nrows {
            acc[0][k] = add(acc[0][k], acc[j][k]);
        }
    }
    acc.swap_remove(0)
}

/// ATen's `row_sum`: 4 interleaved accumulators over `size` items, the tail into the first,
/// then the four summed in order.
fn row_sum<T: Real, const L: usize>(load: impl Fn(usize) -> [T; L], size: usize) -> [T; L] {
    const ILP: usize = 4;
    let size_ilp = size / ILP;
    let mut ps = multi_row_sum(|i, k| load(i * ILP + k), ILP, size_ilp);
    for i in size_ilp * ILP..size {
        let v = load(i);
        for (o, x) in ps[0].iter_mut().zip(v) {
            *o = *o + x;
        }
    }
    let mut out = ps[0];
    for p in ps.iter().skip(1) {
        for (o, x) in out.iter_mut().zip(p) {
            *o = *o + *x;
        }
    }
    out
}

/// `Tensor.sum()` of a contiguous run, ATen's `cascade_sum` (module doc).
pub fn torch_sum<T: Real>(x: &[T]) -> T {
    let n = x.len();
    fn vec_sum<T: Real, const W: usize>(x: &[T]) -> T {
        let n = x.len();
        let nv = n / W;
        let lanes = row_sum::<T, W>(
            |i| {
                let mut v = [T::zero(); W];
                v.copy_from_slice(&x[i * W..(i + 1) * W]);
                v
            },
            nv,
        );
        let mut f = T::zero();
        for &v in &x[nv * W..] {
            f = f + v;
        }
        for l in lanes {
            f = f + l;
        }
        f
    }
    match (T::DTYPE, n >= torch_lanes::<T>()) {
        (Dtype::F32, true) => vec_sum::<T, 8>(x),
        (Dtype::F64, true) => vec_sum::<T, 4>(x),
        _ => row_sum::<T, 1>(|i| [x[i]], n)[0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xla_tree_sums_windows_of_32_with_symmetric_padding() {
        // 100 elements: windows [pad 14 | 0..18), [18..50), [50..82), [82..100 | pad 14).
        let x: Vec<f64> = (0..100).map(|i| 1.0 + f64::from(i) * 1e-17).collect();
        let windows = [0..18, 18..50, 50..82, 82..100];
        let expect = windows
            .iter()
            .map(|r| x[r.clone()].iter().fold(0.0, |a, &v| a + v))
            .fold(0.0, |a, v| a + v);
        assert_eq!(xla_sum(&x, 100, 1).to_bits(), expect.to_bits());
        assert!(xla_sum_is_transcribed(4095, 1) && !xla_sum_is_transcribed(4096, 1));
        assert!(xla_sum_is_transcribed(257, 3) && !xla_sum_is_transcribed(40, 40));
    }

    #[test]
    fn torch_sum_and_norm_agree_with_exact_sums_to_rounding() {
        let x: Vec<f32> = (0..1000).map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0).collect();
        let exact: f64 = x.iter().map(|&v| f64::from(v)).sum();
        assert!((f64::from(torch_sum(&x)) - exact).abs() <= 1e-6 * exact.abs().max(1.0) * 10.0);
        let exact_norm: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt();
        assert!((f64::from(torch_norm_lastdim(&x)) - exact_norm).abs() <= 1e-5 * exact_norm);
    }
}
