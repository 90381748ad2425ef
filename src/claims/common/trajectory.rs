//! Deterministic runs shared by several checkers: an optimizer driven by a gradient map for a
//! fixed number of steps, and the distance between two trajectories.

use crate::error::StepError;
use crate::optim::Optimizer;
use nalgebra::DVector;

/// θ_0, …, θ_T of `opt` started at `x0` with gradient map `grad`.
///
/// # Errors
/// A step the optimizer refuses (non-finite input, dimension change).
pub fn trajectory<O: Optimizer>(
    mut opt: O,
    x0: &DVector<f64>,
    grad: &dyn Fn(&DVector<f64>) -> DVector<f64>,
    steps: usize,
) -> Result<Vec<DVector<f64>>, StepError> {
    let mut x = x0.clone();
    let mut out = Vec::with_capacity(steps + 1);
    out.push(x.clone());
    for _ in 0..steps {
        let g = grad(&x);
        opt.step(&mut x, &g)?;
        out.push(x.clone());
    }
    Ok(out)
}

/// max over t of ‖a_t − b_t‖∞ (over the common length).
pub fn max_dist(a: &[DVector<f64>], b: &[DVector<f64>]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q).amax()).fold(0.0, f64::max)
}
