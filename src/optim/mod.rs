//! # Optimizers
//!
//! One file per optimizer, each a transcription of its paper's algorithm box, with the
//! conventions that frameworks disagree on made explicit as enums (see [`conventions`]).
//!
//! | file | optimizer | reference |
//! |---|---|---|
//! | [`sgd`] | GD / mini-batch SGD (PyTorch-style momentum, dampening, Nesterov, coupled decay) | Robbins & Monro 1951; PyTorch `torch.optim.SGD` |
//! | [`heavy_ball`] | Polyak heavy-ball, the lecture's form | Polyak 1964 |
//! | [`nesterov`] | Nesterov's accelerated gradient, look-ahead and PyTorch forms | Nesterov 1983; Sutskever et al. 2013 |
//! | [`adagrad`] | diagonal AdaGrad | Duchi, Hazan, Singer 2011 |
//! | [`adagrad_norm`] | scalar AdaGrad / AdaGrad-Norm | Ward, Wu, Bottou 2018 |
//! | [`rmsprop`] | RMSProp (lecture and PyTorch forms, centred, momentum) | Hinton 2012 (lecture 6e) |
//! | [`adadelta`] | AdaDelta | Zeiler 2012, Algorithm 1 |
//! | [`adam`] | Adam, AMSGrad, Keras ε-hat, Adam + L2 | Kingma & Ba 2015, Algorithm 1; Reddi et al. 2018 |
//! | [`adamw`] | AdamW: Adam + decoupled weight decay | Loshchilov & Hutter 2019, Algorithm 2 |
//! | [`nadam`] | NAdam: Adam + Nesterov momentum (PyTorch's μ_t schedule or optax's constant μ) | Dozat 2016, Algorithm 2 |
//! | [`radam`] | RAdam: Adam + variance rectification (ε before/after bias correction, threshold) | Liu et al. 2020, Algorithm 2 |
//! | [`lars`] | LARS: layer-wise trust ratio + momentum (paper and optax denominators) | You, Gitman, Ginsburg 2017, Algorithm 1 |
//! | [`lamb`] | LAMB: Adam moments + layer-wise trust ratio | You et al. 2020, Algorithm 2 |
//! | [`adafactor`] | Adafactor: factored second moments, update clipping, relative step | Shazeer & Stern 2018, Algorithms 4–5 |
//! | [`kfac`] | K-FAC: block-diagonal Kronecker-factored natural gradient, factored damping, §6.4/§7 rescaling and momentum | Martens & Grosse 2015, §§3–8 |
//! | [`schedule`] | schedule multipliers η_t: constant, step-drop, cosine, warm restarts | Loshchilov & Hutter 2017 (SGDR) |
//!
//! ## The interface
//! An optimizer is a struct of validated hyperparameters plus its state, stepping in place.
//! Gradients are *supplied* to it, so the same struct replays a gradient sequence recorded
//! elsewhere (the oracle) or runs closed-loop on a problem ([`runner`]). Methods that want the
//! gradient somewhere other than at the stored parameters (the lecture's Nesterov, evaluated
//! at the look-ahead point θ̂ = θ + β(θ − θ₋₁)) say so through
//! [`Optimizer::gradient_point`]; the runner asks before each step.

pub mod adadelta;
pub mod adafactor;
pub mod adagrad;
pub mod adagrad_norm;
pub mod adam;
pub mod adamw;
pub mod conventions;
pub mod heavy_ball;
pub mod kfac;
pub mod lamb;
pub mod lars;
/// The parameter layout, at [`crate::layout`] (re-exported here: optimizers use it).
pub use crate::layout;
pub mod nadam;
pub mod nesterov;
pub mod radam;
pub mod rmsprop;
pub mod runner;
pub mod schedule;
pub mod sgd;
mod sweep;
#[cfg(test)]
mod testing;

pub use layout::{Block, Layout};

use crate::error::StepError;
use nalgebra::DVector;

/// A first-order optimizer: validated hyperparameters + state + one step.
///
/// State is created lazily on the first step from the length of the parameters (as PyTorch
/// does), and every later step checks that lengths agree.
pub trait Optimizer: Send {
    /// Short identifier, e.g. `"adam"`; with [`Optimizer::variant`] it names the exact update.
    fn name(&self) -> &'static str;

    /// The convention variant in words, e.g. `"eps outside sqrt, bias-corrected"`.
    fn variant(&self) -> String {
        String::new()
    }

    /// Where the next gradient must be evaluated, given the current parameters `x`.
    /// `None` (the default) means at `x` itself.
    fn gradient_point(&self, _x: &DVector<f64>) -> Option<DVector<f64>> {
        None
    }

    /// Take one step: `g` is the gradient evaluated at `gradient_point(x)` (or at `x`).
    ///
    /// The caller is trusted to have evaluated `g` at the right point. For an optimizer whose
    /// [`Optimizer::gradient_point`] is not `x` (the lecture's Nesterov,
    /// [`nesterov::NesterovForm::LookAhead`]), a gradient at `x` is a different method, and
    /// nothing here can tell: use [`Optimizer::step_with`], which asks for the point itself.
    ///
    /// # Errors
    /// [`StepError::DimensionMismatch`] if `g` and `x` differ in length from each other or from
    /// the state; [`StepError::NonFinite`] if `g` has a NaN or infinite entry.
    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError>;

    /// Take one step with the gradient evaluated where this optimizer wants it: `gradient` is
    /// called once, at [`Optimizer::gradient_point`] (the look-ahead point for Nesterov's
    /// lecture form) or at `x`. The safe path for closed-loop use; [`runner`] does the same.
    ///
    /// # Errors
    /// As [`Optimizer::step`].
    fn step_with(
        &mut self,
        x: &mut DVector<f64>,
        gradient: &mut dyn FnMut(&DVector<f64>) -> DVector<f64>,
    ) -> Result<(), StepError> {
        let g = match self.gradient_point(x) {
            Some(point) => gradient(&point),
            None => gradient(x),
        };
        self.step(x, &g)
    }

    /// Number of steps taken so far (the `t` of the papers after the step). The one name of
    /// the step counter across the crate's optimizers.
    fn steps_taken(&self) -> u64;
}

/// Validate the common preconditions of a step: equal lengths, a finite gradient, and (when
/// state exists) the state's length. Every optimizer calls this first, so that an error
/// leaves it as it was. The finiteness check is a vectorised read of g (see `optim::sweep`).
#[inline]
pub fn check_step_input(
    x: &DVector<f64>,
    g: &DVector<f64>,
    state_len: Option<usize>,
) -> Result<(), StepError> {
    crate::error::step_check::len("gradient", g, x.len())?;
    if let Some(n) = state_len {
        crate::error::step_check::len("parameters", x, n)?;
    }
    match sweep::first_non_finite(g.as_slice()) {
        None => Ok(()),
        Some(index) => Err(StepError::NonFinite {
            what: "gradient",
            index,
            value: g[index],
        }),
    }
}

/// Every optimizer of the crate, in the lecture's order, for `optverify list`.
pub fn catalogue() -> Vec<CatalogueEntry> {
    vec![
        sgd::catalogue_entry(),
        heavy_ball::catalogue_entry(),
        nesterov::catalogue_entry(),
        adagrad::catalogue_entry(),
        adagrad_norm::catalogue_entry(),
        rmsprop::catalogue_entry(),
        adadelta::catalogue_entry(),
        adam::catalogue_entry(),
        adamw::catalogue_entry(),
        nadam::catalogue_entry(),
        radam::catalogue_entry(),
        lars::catalogue_entry(),
        lamb::catalogue_entry(),
        adafactor::catalogue_entry(),
        kfac::catalogue_entry(),
    ]
}

/// One entry of the catalogue printed by `optverify list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CatalogueEntry {
    /// Identifier used on the command line.
    pub name: &'static str,
    /// What it is, with its reference.
    pub description: &'static str,
    /// The convention variants it supports, each a short phrase.
    pub variants: Vec<&'static str>,
}
