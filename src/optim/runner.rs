//! The loop that plugs any [`Optimizer`] into any [`GradientOracle`], with an observer.
//!
//! Before each step the runner asks the optimizer where it wants the gradient
//! ([`Optimizer::gradient_point`]), evaluates the oracle there, and steps. The observer sees
//! the parameters after every step (and before the first, with `k = 0`) and may stop the run.

use super::Optimizer;
use crate::error::StepError;
use crate::problems::GradientOracle;
use nalgebra::DVector;

/// What the observer tells the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// Run `steps` steps from `x0`, calling `observe(k, θ_k)` for k = 0, 1, …; returns the final
/// parameters. Stops early if the observer says so.
///
/// # Errors
/// The first [`StepError`] of the optimizer, or a dimension mismatch between `x0` and the
/// oracle.
pub fn run(
    opt: &mut dyn Optimizer,
    oracle: &mut dyn GradientOracle,
    x0: DVector<f64>,
    steps: usize,
    observe: &mut dyn FnMut(usize, &DVector<f64>) -> Control,
) -> Result<DVector<f64>, StepError> {
    crate::error::step_check::len("initial parameters", &x0, oracle.dim())?;
    let mut x = x0;
    let mut g = DVector::zeros(x.len());
    if observe(0, &x) == Control::Stop {
        return Ok(x);
    }
    for k in 1..=steps {
        match opt.gradient_point(&x) {
            Some(p) => oracle.gradient_into(&p, &mut g),
            None => oracle.gradient_into(&x, &mut g),
        }
        opt.step(&mut x, &g)?;
        if observe(k, &x) == Control::Stop {
            break;
        }
    }
    Ok(x)
}

/// Run `steps` steps and return every iterate θ_0, …, θ_steps.
pub fn trajectory(
    opt: &mut dyn Optimizer,
    oracle: &mut dyn GradientOracle,
    x0: DVector<f64>,
    steps: usize,
) -> Result<Vec<DVector<f64>>, StepError> {
    let mut out = Vec::with_capacity(steps + 1);
    run(opt, oracle, x0, steps, &mut |_, x| {
        out.push(x.clone());
        Control::Continue
    })?;
    Ok(out)
}
