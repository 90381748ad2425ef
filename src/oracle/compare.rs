//! # Replay and comparison
//!
//! A candidate trace records, at every step, the gradient it used and the parameters it
//! reached. [`replay`] feeds those gradients, in order, into a *reference* built from the
//! header (starting at `params0`) and compares the parameters after every step, so only the
//! update rule is compared, never the gradient computation. [`compare_variants`] does the same
//! for several settings in one pass over the file (the trace is read once, streaming).
//!
//! ## The reference
//! [`Replayer`] is the reference for one setting:
//! * the **framework kernel** of the declared `(preset, setting)` in the trace's dtype
//!   ([`super::kernels::build`]), when one exists: an f32 run is then reproduced in f32
//!   arithmetic, in the framework's operation order, and agreement is expected to the last bit;
//! * otherwise the **crate's optimizer in f64** (the `paper` preset, a setting no kernel
//!   transcribes, and the convention variants of the diagnosis). For an f32 trace the comparison
//!   is then f64 against f32, and only the f32 tolerance below makes sense.
//!
//! [`Outcome::reference`] says which one was used; the command line prints it.
//!
//! ## Error measure
//! For coordinate i at step t, with ours `a`, theirs `b`:
//! * ulps **of the coordinate's scale** ([`scaled_ulps`], what the headline prints):
//!   `|a − b| / ulp(S)` rounded up, where `S = max(|a|, |b|, s_i)` is the denominator of the
//!   relative measure below and `ulp(S)` the spacing of the trace's dtype at `S` (2⁻⁵² · 2ᵉ in
//!   f64, 2⁻²³ · 2ᵉ in f32, for 2ᵉ ≤ S < 2ᵉ⁺¹). Where the coordinate is at its scale this is
//!   the raw ulp count (within a factor 2 at a binade boundary); where the coordinate passes
//!   near 0 on a trajectory of size 1, the raw count explodes (the spacing of floats near 0 is
//!   tiny: two values 1e-17 apart next to 0 are ~10¹⁶ raw ulps apart) while the scaled count
//!   says how many roundings *of the values that produced it* the difference is. So the
//!   headline can be read as "this many last bits of the numbers involved";
//! * raw ulps **of the trace's dtype** ([`Diff::ulps`], kept in the difference lines and in
//!   [`Outcome::worst_ulps`]): [`crate::prec::ulps_between`] for f64, [`Real::ulps_between`]
//!   for f32 (the f64 crate reference is rounded to f32 first, so "0 ulps" means the f64
//!   result rounds to the trace's value). Bit-identity is decided on these;
//! * relative: `|a − b| / max(|a|, |b|, s_i)`, where `s_i` is the largest `|θ_{k,i}|` of our
//!   trajectory so far (k ≤ t, including θ₀). Dividing by `max(|a|,|b|)` alone would turn a
//!   coordinate that passes near 0 into a huge "relative error" although both trajectories
//!   agree to rounding of the values that produced it.
//!
//! A step is bit-identical when every coordinate is 0 raw ulps apart. A NaN or infinite value
//! on either side counts as infinitely far (unless both are the same non-finite value). The
//! verdict depends on the relative measure only; the ulp counts are descriptions.
//!
//! ## Default tolerance
//! The argument is the same for both dtypes, with u the unit roundoff of the dtype: one
//! element-wise step (≤ 16 operations per coordinate for Adam with bias correction) has
//! relative error ≤ 16u on each side, so two implementations that order the operations
//! differently drift apart by at most 32u per step ([`crate::prec::STEP_REL`],
//! [`crate::prec::STEP_REL_F32`]), and by 32u·t after t steps of a non-expansive update. The
//! defaults cover t = [`DEFAULT_HORIZON`] = 200 steps:
//! * f64: [`DEFAULT_REL_F64`] = 1e-12 ≥ `trajectory_rel(200)` ≈ 7.1e-13 (u = 2⁻⁵³). The
//!   smallest convention difference the diagnosis names is far larger (conventions.md measures
//!   AMSGrad's max placement at ~6e-2, Adagrad's ε placement at ~5e-2, RAdam's ε order at
//!   ~2e-7), so 1e-12 separates rounding from conventions by five orders of magnitude.
//! * f32: [`DEFAULT_REL_F32`] = 200 · 32 · 2⁻²⁴ ≈ 3.8e-4 (u = 2⁻²⁴). It still separates
//!   rounding from the AMSGrad and Adagrad conventions (two orders of magnitude), but not from
//!   differences below ~1e-4 (RAdam's ε order, ε = 1e-8 inside or outside the root when v is
//!   large): in f32 such conventions are invisible, and the diagnosis will list several matches.
//!   When the reference is the crate's f64 optimizer (no f32 kernel), the f64 side contributes
//!   ~16·2⁻⁵³ per step and the trace's own f32 rounding ≤ 16·2⁻²⁴ per step plus one rounding of
//!   each hyperparameter to f32 (as a framework casts a Python scalar): still below 32u_f32
//!   per step, so the same default applies.

use super::format::{Dtype, Header, StepRecord, TraceError, TraceReader};
use super::groups::{self, Plan};
use super::kernels::{self, Kernel, Real};
use super::presets::{PresetError, Setting, Variant};
use super::schedules::{Scalars, ScheduleRun};
use crate::error::{HyperError, StepError};
use crate::optim::Optimizer;
use nalgebra::DVector;
use std::fmt;
use std::io::BufRead;
use thiserror::Error;

/// Number of steps the default tolerances cover (see the module doc).
pub const DEFAULT_HORIZON: usize = 200;
/// Default relative tolerance for f64 traces: 1e-12 ≥ `trajectory_rel(200)` ≈ 7.1e-13
/// (module doc).
pub const DEFAULT_REL_F64: f64 = 1e-12;
/// Default relative tolerance for f32 traces: 200 · 32 · 2⁻²⁴ ≈ 3.8e-4 (module doc).
pub const DEFAULT_REL_F32: f64 = DEFAULT_HORIZON as f64 * crate::prec::STEP_REL_F32;

/// The default tolerance for a trace of this dtype.
pub fn default_tolerance(dtype: Dtype) -> f64 {
    match dtype {
        Dtype::F64 => DEFAULT_REL_F64,
        Dtype::F32 => DEFAULT_REL_F32,
    }
}

/// The valid range of a relative tolerance, as the errors say it.
pub const REL_TOL_RANGE: &str = "[0, 1), finite (relative differences are at most 2, so a tolerance ≥ 1 \
accepts values of the same size whatever their digits, and NaN accepts everything)";

/// `t` if it is a usable relative tolerance: finite and in \[0, 1).
///
/// # Errors
/// A message naming the value and [`REL_TOL_RANGE`].
pub fn validate_rel_tol(t: f64) -> Result<f64, String> {
    if t.is_finite() && (0.0..1.0).contains(&t) {
        Ok(t)
    } else {
        Err(format!("{t:?} is out of range; valid range: {REL_TOL_RANGE}"))
    }
}

/// Bad input: the trace cannot be read, its header cannot be mapped, or it holds values its
/// dtype cannot.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReplayError {
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error("{file}:1: header: {source}")]
    Preset {
        file: String,
        #[source]
        source: Box<PresetError>,
    },
    /// An `"f32"` trace with a value that is not an f32 widened to f64.
    #[error("{file}:{line}: {message}")]
    Dtype {
        file: String,
        line: usize,
        message: String,
    },
    /// A step line's `hyperparameters` that is malformed or not modelled.
    #[error("{file}:{line}: {message}")]
    Step {
        file: String,
        line: usize,
        message: String,
    },
    /// A relative tolerance outside [`REL_TOL_RANGE`].
    #[error("relative tolerance (--rel-tol): {0}")]
    Tolerance(String),
}

/// What a trace is compared against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A framework kernel ([`super::kernels`]) run in `dtype`, the trace's dtype.
    Kernel { description: String, dtype: Dtype },
    /// The crate's optimizer, in f64.
    CrateF64,
}

impl Reference {
    /// True when the reference computes in f64 while the trace is f32.
    pub fn is_mixed(&self, trace: Dtype) -> bool {
        matches!(self, Reference::CrateF64) && trace == Dtype::F32
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Kernel { description, dtype } => write!(f, "{description} kernel, {dtype}"),
            Reference::CrateF64 => f.write_str("crate optimizer, f64"),
        }
    }
}

enum Engine {
    Crate {
        opt: Box<dyn Optimizer>,
        x: DVector<f64>,
        g: DVector<f64>,
        /// The learning rate and momentum (β₁) the optimizer was built with: a step line
        /// that declares these very values (torch's `watch` writes `lr` and `betas` on every
        /// step, scheduled or not) asks for nothing the optimizer does not already do.
        built: Scalars,
    },
    F64 {
        kernel: Box<dyn Kernel<f64>>,
        theta: Vec<f64>,
    },
    F32 {
        kernel: Box<dyn Kernel<f32>>,
        theta: Vec<f32>,
        g: Vec<f32>,
    },
    /// Parameter groups, a schedule, optax chain members or torch `maximize`
    /// ([`super::groups`]).
    Composite(Box<Composite>),
}

/// One reference per parameter group, each with its schedule, behind the chain members.
struct Composite {
    plan: Plan,
    layout: Vec<super::format::BlockSpec>,
    dtype: Dtype,
    parts: Vec<Part>,
    g: Vec<f64>,
}

struct Part {
    replayer: Replayer,
    schedule: Option<ScheduleRun>,
    g: Vec<f64>,
}

/// How a reference's refusal of a step's hyperparameters starts ([`Replayer::step_with`]).
pub const PER_STEP_NOT_MODELLED: &str = "per-step hyperparameters";

/// The reference computation for one setting, stepped with a trace's gradients.
pub struct Replayer {
    engine: Engine,
    reference: Reference,
}

impl fmt::Debug for Replayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replayer")
            .field("reference", &self.reference)
            .finish_non_exhaustive()
    }
}

/// Why a [`Replayer`] cannot be built.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error(transparent)]
    Hyper(#[from] HyperError),
    /// `params0` holds a value the kernel's dtype cannot hold.
    #[error("{0}")]
    Params0(StepError),
    /// Blocks whose sizes overflow.
    #[error(transparent)]
    Layout(#[from] crate::layout::LayoutError),
}

impl Replayer {
    /// The kernel of `(preset, setting)` in `dtype` for parameters made of `blocks` (optax's
    /// rounding depends on the number of pytree leaves) if one exists, else the crate's
    /// optimizer in f64. `params0` must be exact in `dtype` when a kernel is used.
    ///
    /// # Errors
    /// [`BuildError`] for an invalid setting or a `params0` the dtype cannot hold.
    pub fn declared(
        preset: &str,
        setting: &Setting,
        blocks: &[super::format::BlockSpec],
        dtype: Dtype,
        params0: &[f64],
    ) -> Result<Self, BuildError> {
        Self::declared_with_leaves(preset, setting, blocks, blocks.len(), dtype, params0)
    }

    /// [`Self::declared`] for a group of `blocks` inside a pytree of `leaves` leaves (optax
    /// computes an alias's moments over the whole tree; see [`super::groups`]).
    ///
    /// # Errors
    /// As [`Self::declared`].
    pub fn declared_with_leaves(
        preset: &str,
        setting: &Setting,
        blocks: &[super::format::BlockSpec],
        leaves: usize,
        dtype: Dtype,
        params0: &[f64],
    ) -> Result<Self, BuildError> {
        Self::declared_in_group(
            preset,
            setting,
            blocks,
            leaves,
            kernels::optax::Hyper::Plain,
            dtype,
            params0,
        )
    }

    /// [`Self::declared_with_leaves`]; `hyper`: how the optax alias holds its
    /// hyperparameters ([`GroupPlan::hyper`](super::groups::GroupPlan::hyper)).
    ///
    /// # Errors
    /// As [`Self::declared`].
    pub fn declared_in_group(
        preset: &str,
        setting: &Setting,
        blocks: &[super::format::BlockSpec],
        leaves: usize,
        hyper: kernels::optax::Hyper,
        dtype: Dtype,
        params0: &[f64],
    ) -> Result<Self, BuildError> {
        let layout =
            crate::optim::Layout::try_from_shapes(blocks.iter().map(|b| (b.name.clone(), b.rows, b.cols)))?;
        let kernel64 = || {
            if preset == "optax" {
                kernels::optax::build_for_group::<f64>(setting, leaves, hyper)
            } else {
                kernels::build_for_layout::<f64>(preset, setting, &layout)
            }
        };
        let kernel32 = || {
            if preset == "optax" {
                kernels::optax::build_for_group::<f32>(setting, leaves, hyper)
            } else {
                kernels::build_for_layout::<f32>(preset, setting, &layout)
            }
        };
        match dtype {
            Dtype::F64 => {
                if let Some(kernel) = kernel64() {
                    let reference = Reference::Kernel {
                        description: kernel.describe(),
                        dtype,
                    };
                    return Ok(Replayer {
                        engine: Engine::F64 {
                            kernel,
                            theta: params0.to_vec(),
                        },
                        reference,
                    });
                }
            }
            Dtype::F32 => {
                if let Some(kernel) = kernel32() {
                    let mut theta = Vec::new();
                    kernels::exact_from_f64("params0", params0, &mut theta).map_err(BuildError::Params0)?;
                    let reference = Reference::Kernel {
                        description: kernel.describe(),
                        dtype,
                    };
                    return Ok(Replayer {
                        engine: Engine::F32 {
                            kernel,
                            theta,
                            g: Vec::new(),
                        },
                        reference,
                    });
                }
            }
        }
        Self::crate_f64(setting, params0)
    }

    /// The crate's optimizer for `setting`, in f64.
    ///
    /// # Errors
    /// The setting's [`HyperError`].
    pub fn crate_f64(setting: &Setting, params0: &[f64]) -> Result<Self, BuildError> {
        Ok(Replayer {
            engine: Engine::Crate {
                opt: setting.build()?,
                x: DVector::from_column_slice(params0),
                g: DVector::zeros(params0.len()),
                built: Scalars {
                    lr: setting.lr(),
                    momentum: setting.momentum_like(),
                },
            },
            reference: Reference::CrateF64,
        })
    }

    /// The reference for everything `plan` resolved from `header`: one reference per
    /// parameter group ([`Self::declared_with_leaves`] on the group's blocks and coordinates),
    /// each with its schedule, behind the optax chain members and torch's `maximize`.
    ///
    /// # Errors
    /// As [`Self::declared`].
    pub fn for_plan(header: &Header, plan: &Plan) -> Result<Self, BuildError> {
        let mut parts = Vec::with_capacity(plan.groups.len());
        for (gi, g) in plan.groups.iter().enumerate() {
            let p0: Vec<f64> = g.indices.iter().map(|&i| header.params0[i]).collect();
            let replayer = Self::declared_in_group(
                &header.preset,
                &g.setting,
                &g.blocks,
                g.leaves,
                g.hyper,
                header.dtype,
                &p0,
            )?;
            let schedule = match &header.schedule {
                None => None,
                Some(spec) => Some(
                    ScheduleRun::new(&header.preset, spec, g.base_lr, g.base_momentum, gi)
                        .map_err(|e| BuildError::Params0(StepError::Invalid(e.to_string())))?,
                ),
            };
            parts.push(Part {
                replayer,
                schedule,
                g: Vec::new(),
            });
        }
        let mut notes = Vec::new();
        if plan.groups.len() > 1 {
            notes.push(format!("{} parameter groups", plan.groups.len()));
        }
        // multi_transform of different optimizers: name each other group's kernel.
        for (g, p) in plan.groups.iter().zip(&parts).skip(1) {
            if g.optimizer != header.optimizer {
                if let Reference::Kernel { description, .. } = &p.replayer.reference {
                    let names: Vec<&str> = g.blocks.iter().map(|b| b.name.as_str()).collect();
                    notes.push(format!("{}: {description}", names.join(", ")));
                }
            }
        }
        if let Some(s) = &header.schedule {
            notes.push(match groups::x64_disabled_schedule(header) {
                Some(name) => format!(
                    "schedule {} evaluated as with x64 (JAX without x64 computes {name} in float32, not modelled: its values may differ in the last float32 bits, within tolerance; a learning rate on the step lines replaces it)",
                    s.name
                ),
                None => format!("schedule {}", s.name),
            });
        }
        for t in &plan.transforms {
            notes.push(match t {
                groups::Transform::ClipByGlobalNorm(c) => format!("after clip_by_global_norm({c})"),
                groups::Transform::AddDecayedWeights { weight_decay, .. } => {
                    format!("after add_decayed_weights({weight_decay})")
                }
            });
        }
        if plan.maximize {
            notes.push("maximize (−grad)".into());
        }
        let reference = if parts.iter().any(|p| p.replayer.reference == Reference::CrateF64) {
            Reference::CrateF64
        } else {
            match &parts[0].replayer.reference {
                Reference::Kernel { description, dtype } => Reference::Kernel {
                    description: if notes.is_empty() {
                        description.clone()
                    } else {
                        format!("{description} [{}]", notes.join("; "))
                    },
                    dtype: *dtype,
                },
                Reference::CrateF64 => Reference::CrateF64,
            }
        };
        Ok(Replayer {
            engine: Engine::Composite(Box::new(Composite {
                plan: plan.clone(),
                layout: header.layout.clone(),
                dtype: header.dtype,
                parts,
                g: Vec::new(),
            })),
            reference,
        })
    }

    /// Which computation this is.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// Take the scalars of the next step ([`Kernel::set_scalars`]); `false` when the
    /// reference cannot (the crate's f64 optimizers take none but their own learning rate,
    /// which changes nothing).
    pub fn set_scalars(&mut self, s: &Scalars) -> bool {
        match &mut self.engine {
            Engine::Crate { built, .. } => {
                let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
                same(s.lr, built.lr)
                    && match (s.momentum, built.momentum) {
                        (None, _) => true,
                        (Some(m), Some(b)) => same(m, b),
                        (Some(_), None) => false,
                    }
            }
            Engine::Composite(_) => false,
            Engine::F64 { kernel, .. } => kernel.set_scalars(s),
            Engine::F32 { kernel, .. } => kernel.set_scalars(s),
        }
    }

    /// One step with the per-group scalars a step line declared (`None`: the declared
    /// schedule's, or none).
    ///
    /// # Errors
    /// As [`Self::step`]; [`StepError::Invalid`] when the reference cannot take the scalars
    /// (not modelled) or the schedule refuses the step.
    pub fn step_with(&mut self, grad: &[f64], scalars: Option<&[Scalars]>) -> Result<(), StepError> {
        if let Engine::Composite(c) = &mut self.engine {
            return c.step(grad, scalars);
        }
        if let Some(s) = scalars {
            let [s] = s else {
                return Err(StepError::DimensionMismatch {
                    what: "per-step scalars (one per parameter group)",
                    expected: 1,
                    got: s.len(),
                });
            };
            if !self.set_scalars(s) {
                return Err(StepError::Invalid(format!(
                    "{PER_STEP_NOT_MODELLED} (lr {}) are not modelled by {}",
                    s.lr, self.reference
                )));
            }
        }
        self.step(grad)
    }

    /// One step from gradient `g` (for an f32 kernel, `g` must hold f32 values).
    ///
    /// # Errors
    /// The optimizer's or kernel's [`StepError`]; [`StepError::Invalid`] for a gradient entry
    /// an f32 kernel cannot hold exactly.
    pub fn step(&mut self, grad: &[f64]) -> Result<(), StepError> {
        match &mut self.engine {
            Engine::Crate { opt, x, g, .. } => {
                if g.len() != grad.len() {
                    *g = DVector::zeros(grad.len());
                }
                g.copy_from_slice(grad);
                opt.step(x, g)
            }
            Engine::F64 { kernel, theta } => kernel.step(theta, grad),
            Engine::F32 { kernel, theta, g } => {
                kernels::exact_from_f64("grad", grad, g)?;
                kernel.step(theta, g)
            }
            Engine::Composite(c) => c.step(grad, None),
        }
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        match &self.engine {
            Engine::Crate { x, .. } => x.len(),
            Engine::F64 { theta, .. } => theta.len(),
            Engine::F32 { theta, .. } => theta.len(),
            Engine::Composite(c) => c.plan.owner.len(),
        }
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Parameter `i`, widened to f64 (exact).
    pub fn param(&self, i: usize) -> f64 {
        match &self.engine {
            Engine::Crate { x, .. } => x[i],
            Engine::F64 { theta, .. } => theta[i],
            Engine::F32 { theta, .. } => theta[i].to_f64(),
            Engine::Composite(c) => {
                let (g, k) = c.plan.owner[i];
                c.parts[g].replayer.param(k)
            }
        }
    }

    /// All parameters, widened to f64.
    pub fn params(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.param(i)).collect()
    }
}

impl Composite {
    fn step(&mut self, grad: &[f64], scalars: Option<&[Scalars]>) -> Result<(), StepError> {
        if grad.len() != self.plan.owner.len() {
            return Err(StepError::DimensionMismatch {
                what: "gradient",
                expected: self.plan.owner.len(),
                got: grad.len(),
            });
        }
        if let Some(s) = scalars.filter(|s| s.len() != self.parts.len()) {
            return Err(StepError::DimensionMismatch {
                what: "per-step scalars (one per parameter group)",
                expected: self.parts.len(),
                got: s.len(),
            });
        }
        self.g.clear();
        self.g.extend_from_slice(grad);
        if self.plan.maximize {
            // torch: `grad = -grads[i]` (exact).
            self.g.iter_mut().for_each(|x| *x = -*x);
        }
        if !self.plan.transforms.is_empty() {
            let theta: Vec<f64> = (0..self.plan.owner.len())
                .map(|i| {
                    let (g, k) = self.plan.owner[i];
                    self.parts[g].replayer.param(k)
                })
                .collect();
            match self.dtype {
                Dtype::F64 => {
                    groups::apply_transforms::<f64>(&self.plan.transforms, &self.layout, &theta, &mut self.g)
                }
                Dtype::F32 => {
                    groups::apply_transforms::<f32>(&self.plan.transforms, &self.layout, &theta, &mut self.g)
                }
            }
        }
        for (gi, part) in self.parts.iter_mut().enumerate() {
            part.g.clear();
            part.g
                .extend(self.plan.groups[gi].indices.iter().map(|&i| self.g[i]));
            // The schedule advances every step, also when the step line gives the values.
            let scheduled = match &mut part.schedule {
                None => None,
                Some(s) => Some(s.next_scalars().map_err(|e| StepError::Invalid(e.to_string()))?),
            };
            if let Some(s) = scalars.map(|s| s[gi]).or(scheduled) {
                if !part.replayer.set_scalars(&s) {
                    return Err(StepError::Invalid(format!(
                        "a per-step learning rate{} is not modelled by {}",
                        if s.momentum.is_some() { " and momentum" } else { "" },
                        part.replayer.reference
                    )));
                }
            }
            part.replayer.step(&part.g)?;
        }
        Ok(())
    }
}

/// One coordinate at one step where ours and theirs differ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diff {
    pub step: u64,
    pub coord: usize,
    pub ours: f64,
    pub theirs: f64,
    /// Distance in raw ulps of the trace's dtype (`u64::MAX` for NaN).
    pub ulps: u64,
    /// Distance in ulps of the coordinate's scale ([`scaled_ulps`]; `u64::MAX` for NaN).
    pub scaled_ulps: u64,
    pub rel: f64,
}

/// What a replay found for one setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// What the trace was compared against.
    pub reference: Reference,
    /// The trace's dtype (the unit of the ulps).
    pub dtype: Dtype,
    /// Steps compared.
    pub steps: u64,
    /// Steps whose parameters agree bit for bit (0 ulps of the trace's dtype) in every
    /// coordinate.
    pub bit_identical_steps: u64,
    /// First coordinate that is not bit-identical.
    pub first_difference: Option<Diff>,
    /// First coordinate beyond the tolerance.
    pub first_beyond: Option<Diff>,
    /// Largest difference in raw ulps, and where (a coordinate passing near 0 can be
    /// billions of raw ulps off while agreeing to rounding: see [`Outcome::worst_scaled_ulps`]).
    pub worst_ulps: Option<Diff>,
    /// Largest difference in ulps of the coordinate's scale ([`scaled_ulps`]), and where.
    pub worst_scaled_ulps: Option<Diff>,
    /// Largest relative difference, and where.
    pub worst_rel: Option<Diff>,
    /// The reference refused a step (e.g. a centred RMSprop denominator ≤ 0).
    pub step_error: Option<(u64, StepError)>,
    /// Tolerance used.
    pub tolerance: f64,
}

impl Outcome {
    /// Agreement: every step compared within tolerance and no step refused.
    pub fn agrees(&self) -> bool {
        self.first_beyond.is_none() && self.step_error.is_none()
    }

    /// Every step compared bit for bit (and at least one step).
    pub fn bit_identical(&self) -> bool {
        self.steps > 0 && self.bit_identical_steps == self.steps && self.step_error.is_none()
    }

    /// The worst relative difference (0 if bit for bit).
    pub fn worst_rel_value(&self) -> f64 {
        self.worst_rel.map_or(0.0, |d| d.rel)
    }

    /// The worst raw ulps (0 if bit for bit).
    pub fn worst_ulps_value(&self) -> u64 {
        self.worst_ulps.map_or(0, |d| d.ulps)
    }

    /// The worst ulps of the coordinate's scale (0 if bit for bit; [`scaled_ulps`]).
    pub fn worst_scaled_ulps_value(&self) -> u64 {
        self.worst_scaled_ulps.map_or(0, |d| d.scaled_ulps)
    }
}

/// The spacing of `dtype`'s numbers at magnitude `s` (finite, ≥ 0): `2^(e − 52)` in f64 and
/// `2^(e − 23)` in f32 for `2^e ≤ s < 2^(e+1)`, and the smallest subnormal of the dtype below
/// its normal range.
pub fn ulp_at(dtype: Dtype, s: f64) -> f64 {
    let (mantissa_bits, min_normal_exp, min_sub) = match dtype {
        Dtype::F64 => (52, -1022, f64::from_bits(1)),
        Dtype::F32 => (23, -126, f64::from(f32::from_bits(1))),
    };
    if !(s.is_finite() && s > 0.0) {
        return min_sub;
    }
    let bits = s.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    // f64 subnormals (biased exponent 0) are below both dtypes' normal ranges.
    let e = if biased == 0 { -1075 } else { biased - 1023 };
    if e < min_normal_exp {
        return min_sub;
    }
    let k = e - mantissa_bits;
    if k >= -1022 {
        // 2^k built from its bits (the same value as `2f64.powi(k)`, without the loop: this
        // runs for every differing coordinate of a model-scale trace).
        f64::from_bits(((k + 1023) as u64) << 52)
    } else {
        2f64.powi(k)
    }
}

/// Distance between ours `a` and theirs `b` in ulps of the coordinate's scale (module doc):
/// `⌈|â − b| / ulp(max(|a|, |b|, scale))⌉`, with `â` = `a` rounded to the trace's dtype;
/// `u64::MAX` if either is not finite (and they differ), 0 when `â` and `b` are equal.
pub fn scaled_ulps(dtype: Dtype, a: f64, b: f64, scale: f64) -> u64 {
    let a = match dtype {
        Dtype::F64 => a,
        Dtype::F32 => f64::from(a as f32),
    };
    if a == b {
        return 0;
    }
    if !(a.is_finite() && b.is_finite()) {
        return u64::MAX;
    }
    let s = a
        .abs()
        .max(b.abs())
        .max(if scale.is_finite() { scale } else { 0.0 });
    let n = ((a - b).abs() / ulp_at(dtype, s)).ceil();
    if n >= u64::MAX as f64 {
        u64::MAX
    } else {
        n as u64
    }
}

/// Distance in ulps of `dtype` (an f64 `a` is rounded to f32 first for an f32 trace).
fn ulps_in(dtype: Dtype, a: f64, b: f64) -> u64 {
    match dtype {
        Dtype::F64 => crate::prec::ulps_between(a, b),
        Dtype::F32 => f32::ulps_between(a as f32, b as f32),
    }
}

/// Compare one step's parameters coordinate by coordinate — ours (`ours(k)`, in the
/// reference's type `A`: the trace's dtype for a kernel, f64 for the crate's optimizers)
/// against the trace's `theirs` — and update `out`'s records (first difference, worst ulps,
/// worst scaled ulps, first beyond the tolerance, worst relative difference). `scale` is the
/// running max |θ| per coordinate (in `A`, updated here); `coord(k)` is the trace coordinate
/// of position `k` (the identity in full, the sampled index under `--sample`). Returns whether
/// the step is bit-identical. The one comparison of JSON Lines replays ([`replay`]) and binary
/// traces ([`super::binary`]).
pub(crate) fn compare_coordinates<A: Real, B: Real>(
    out: &mut Outcome,
    step: u64,
    ours: impl Fn(usize) -> A,
    theirs: &[B],
    scale: &mut [A],
    coord: impl Fn(usize) -> usize,
) -> bool {
    let dtype = out.dtype;
    let mut identical = true;
    // Ours in the trace's dtype (a kernel), so the scaled count needs no rounding of ours.
    let same_dtype = A::DTYPE == dtype;
    // 2^(p+1) · (1 + 2⁻²⁰): the bound of the scaled count by the relative difference, with
    // room for the rounding of rel.
    let scaled_bound = match dtype {
        Dtype::F64 => 2f64.powi(53),
        Dtype::F32 => 2f64.powi(24),
    } * (1.0 + 2f64.powi(-20));
    for (k, (&b, s)) in theirs.iter().zip(scale.iter_mut()).enumerate() {
        let a = ours(k);
        if a.is_finite() && a.abs() > *s {
            *s = a.abs();
        }
        let (a, b) = (Real::to_f64(a), Real::to_f64(b));
        if a.to_bits() == b.to_bits() {
            continue;
        }
        let ulps = ulps_in(dtype, a, b);
        let rel = if a == b {
            0.0 // ±0
        } else if a.is_finite() && b.is_finite() {
            (a - b).abs() / a.abs().max(b.abs()).max(Real::to_f64(*s))
        } else {
            f64::INFINITY
        };
        if ulps == 0 && rel == 0.0 {
            continue;
        }
        if ulps != 0 {
            identical = false;
        }
        // Most differing coordinates of a long run change nothing below: skip building the
        // Diff (and its scaled ulps) unless some record can move. The scaled count is below
        // rel · 2^(p+1) + 1 (ulp(S) > S · 2^-(p+1)) when ours is already in the trace's dtype.
        let beyond = rel.is_nan() || rel > out.tolerance;
        let moves = (ulps != 0
            && (out.first_difference.is_none()
                || out.worst_ulps.is_none_or(|w| ulps > w.ulps)
                || out.worst_scaled_ulps.is_none_or(|w| {
                    !same_dtype || rel * scaled_bound > w.scaled_ulps as f64 - 1.0 || !rel.is_finite()
                })))
            || (beyond && out.first_beyond.is_none())
            || out.worst_rel.is_none_or(|w| rel > w.rel);
        if !moves {
            continue;
        }
        let d = Diff {
            step,
            coord: coord(k),
            ours: a,
            theirs: b,
            ulps,
            scaled_ulps: scaled_ulps(dtype, a, b, Real::to_f64(*s)),
            rel,
        };
        if ulps != 0 {
            if out.first_difference.is_none() {
                out.first_difference = Some(d);
            }
            if out.worst_ulps.is_none_or(|w| ulps > w.ulps) {
                out.worst_ulps = Some(d);
            }
            if out
                .worst_scaled_ulps
                .is_none_or(|w| d.scaled_ulps > w.scaled_ulps)
            {
                out.worst_scaled_ulps = Some(d);
            }
        }
        if beyond && out.first_beyond.is_none() {
            out.first_beyond = Some(d);
        }
        if out.worst_rel.is_none_or(|w| rel > w.rel) {
            out.worst_rel = Some(d);
        }
    }
    identical
}

/// One reference being compared.
struct Tracker {
    replayer: Replayer,
    scale: Vec<f64>,
    out: Outcome,
    stopped: bool,
}

impl Tracker {
    fn new(replayer: Replayer, x0: &[f64], dtype: Dtype, tolerance: f64) -> Self {
        Tracker {
            out: Outcome {
                reference: replayer.reference().clone(),
                dtype,
                steps: 0,
                bit_identical_steps: 0,
                first_difference: None,
                first_beyond: None,
                worst_ulps: None,
                worst_scaled_ulps: None,
                worst_rel: None,
                step_error: None,
                tolerance,
            },
            replayer,
            scale: x0.iter().map(|v| v.abs()).collect(),
            stopped: false,
        }
    }

    #[cfg(test)]
    fn feed(&mut self, rec: &StepRecord) {
        self.feed_with(rec, None);
    }

    fn feed_with(&mut self, rec: &StepRecord, scalars: Option<&[Scalars]>) {
        if self.stopped {
            return;
        }
        if let Err(e) = self.replayer.step_with(&rec.grad, scalars) {
            self.out.step_error = Some((rec.step, e));
            self.stopped = true;
            return;
        }
        self.out.steps += 1;
        let replayer = &self.replayer;
        let identical = compare_coordinates(
            &mut self.out,
            rec.step,
            |i| replayer.param(i),
            &rec.params,
            &mut self.scale,
            |i| i,
        );
        if identical {
            self.out.bit_identical_steps += 1;
        }
    }
}

/// Which reference to build for a setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub setting: Setting,
    /// Use the framework kernel of the trace's preset in the trace's dtype when one exists.
    pub prefer_kernel: bool,
}

/// Check that every value of an f32 trace is an f32 widened to f64.
fn check_dtype(
    file: &str,
    dtype: Dtype,
    what: &str,
    step: Option<u64>,
    line: usize,
    values: &[f64],
) -> Result<(), ReplayError> {
    if dtype == Dtype::F64 {
        return Ok(());
    }
    if let Some(i) = values
        .iter()
        .position(|&v| !v.is_nan() && f64::from(v as f32).to_bits() != v.to_bits())
    {
        let at = step.map_or(String::new(), |s| format!("step {s}: "));
        return Err(ReplayError::Dtype {
            file: file.into(),
            line,
            message: format!(
                "{at}{what}[{i}] = {:e} is not an f32 value (an \"f32\" trace stores f32 values widened to f64, e.g. float(x) of a float32 tensor's entries)",
                values[i]
            ),
        });
    }
    Ok(())
}

/// Replay every candidate against the trace in one streaming pass.
///
/// # Errors
/// [`ReplayError`] for a malformed trace (the first error met), an invalid setting or a value
/// an f32 trace cannot hold.
pub fn compare_candidates<R: BufRead>(
    reader: &mut TraceReader<R>,
    candidates: &[Candidate],
    tolerance: f64,
) -> Result<Vec<Outcome>, ReplayError> {
    validate_rel_tol(tolerance).map_err(ReplayError::Tolerance)?;
    let header = reader.header().clone();
    let file = reader.file().to_string();
    check_dtype(&file, header.dtype, "params0", None, 1, &header.params0)?;
    // The header's groups, schedule and chain, resolved when the declared reference is built
    // or a step line declares per-step hyperparameters.
    let mut plan: Option<Plan> = None;
    let get_plan = |plan: &mut Option<Plan>| -> Result<Plan, ReplayError> {
        if plan.is_none() {
            *plan = Some(declared_plan(&file, &header)?);
        }
        Ok(plan.clone().unwrap_or_else(|| unreachable!()))
    };
    let mut trackers: Vec<Tracker> = Vec::with_capacity(candidates.len());
    for c in candidates {
        let composite = if c.prefer_kernel
            && (groups::declares_more(&header)
                || header_maximizes(&header)
                || groups::lr_is_callable(&header)
                || header.jax_enable_x64.is_some())
        {
            Some(get_plan(&mut plan)?)
        } else {
            None
        };
        let replayer = if let Some(p) = &composite {
            Replayer::for_plan(&header, p)
        } else if c.prefer_kernel {
            Replayer::declared(
                &header.preset,
                &c.setting,
                &header.layout,
                header.dtype,
                &header.params0,
            )
        } else {
            Replayer::crate_f64(&c.setting, &header.params0)
        }
        .map_err(|e| match e {
            BuildError::Hyper(h) => ReplayError::Preset {
                file: file.clone(),
                source: Box::new(PresetError::Hyper(h)),
            },
            BuildError::Params0(s) => ReplayError::Dtype {
                file: file.clone(),
                line: 1,
                message: s.to_string(),
            },
            BuildError::Layout(l) => ReplayError::Step {
                file: file.clone(),
                line: 1,
                message: format!("header field `layout`: {l}"),
            },
        })?;
        trackers.push(Tracker::new(replayer, &header.params0, header.dtype, tolerance));
    }
    while let Some(rec) = reader.next_step()? {
        let line = reader.line();
        check_dtype(&file, header.dtype, "grad", Some(rec.step), line, &rec.grad)?;
        check_dtype(&file, header.dtype, "params", Some(rec.step), line, &rec.params)?;
        let scalars = if rec.hyperparameters.is_some() {
            let p = get_plan(&mut plan)?;
            groups::step_scalars(&header, &p, &rec).map_err(|message| ReplayError::Step {
                file: file.clone(),
                line,
                message,
            })?
        } else if plan.as_ref().is_some_and(|p| p.lr_from_steps) {
            return Err(ReplayError::Step {
                file: file.clone(),
                line,
                message: match super::schedules::keras_learning_rate_unmodelled(&header) {
                    Some(what) => format!(
                        "step {}: the header's `learning_rate` is {what}, so every step line must give `hyperparameters` with `learning_rate` (the value the optimizer used at that step)",
                        rec.step
                    ),
                    None => format!(
                        "step {}: the header's `learning_rate` is a callable and no `schedule` is declared, so every step line must give `hyperparameters` with `learning_rate`",
                        rec.step
                    ),
                },
            });
        } else {
            None
        };
        for t in trackers.iter_mut() {
            t.feed_with(&rec, scalars.as_deref());
        }
    }
    Ok(trackers.into_iter().map(|t| t.out).collect())
}

/// Replay every setting through the crate's f64 optimizer, in one streaming pass.
///
/// # Errors
/// As [`compare_candidates`].
pub fn compare_settings<R: BufRead>(
    reader: &mut TraceReader<R>,
    settings: &[Setting],
    tolerance: f64,
) -> Result<Vec<Outcome>, ReplayError> {
    let candidates: Vec<Candidate> = settings
        .iter()
        .map(|s| Candidate {
            setting: s.clone(),
            prefer_kernel: false,
        })
        .collect();
    compare_candidates(reader, &candidates, tolerance)
}

/// The declared setting of a header (with its layout, for the layer-wise optimizers).
///
/// # Errors
/// [`ReplayError::Preset`] if the header cannot be mapped.
pub fn declared_setting(file: &str, header: &Header) -> Result<Setting, ReplayError> {
    Ok(declared_plan(file, header)?.groups.swap_remove(0).setting)
}

/// The header's groups, schedule and chain members, resolved ([`groups::plan`]).
///
/// # Errors
/// [`ReplayError::Preset`] naming the field.
pub fn declared_plan(file: &str, header: &Header) -> Result<Plan, ReplayError> {
    groups::plan(header).map_err(|source| ReplayError::Preset {
        file: file.to_string(),
        source: Box::new(source),
    })
}

/// torch `maximize=True` in the header or a group.
fn header_maximizes(header: &Header) -> bool {
    let t = |m: &serde_json::Map<String, serde_json::Value>| {
        m.get("maximize") == Some(&serde_json::Value::Bool(true))
    };
    header.preset == "pytorch"
        && (t(&header.hyperparameters)
            || header
                .param_groups
                .iter()
                .flatten()
                .any(|g| t(&g.hyperparameters)))
}

/// Replay a trace against its declared preset: its kernel in the trace's dtype if one exists,
/// else the crate's f64 optimizer.
///
/// # Errors
/// [`ReplayError`] for a malformed trace or an unmappable header.
pub fn replay<R: BufRead>(
    reader: &mut TraceReader<R>,
    tolerance: Option<f64>,
) -> Result<Outcome, ReplayError> {
    let setting = declared_setting(reader.file(), reader.header())?;
    let tol = tolerance.unwrap_or_else(|| default_tolerance(reader.header().dtype));
    let mut out = compare_candidates(
        reader,
        &[Candidate {
            setting,
            prefer_kernel: true,
        }],
        tol,
    )?;
    Ok(out.remove(0))
}

/// Replay the declared preset (as [`replay`]) and every convention variant of it
/// ([`super::presets::variants`], through the crate's f64 optimizers).
///
/// # Errors
/// [`ReplayError`] for a malformed trace or an unmappable header.
pub fn compare_variants<R: BufRead>(
    reader: &mut TraceReader<R>,
    tolerance: Option<f64>,
) -> Result<Vec<(Variant, Outcome)>, ReplayError> {
    let h = reader.header();
    let setting = declared_setting(reader.file(), h)?;
    let label = format!("{} {}", h.preset, h.optimizer);
    let mut variants = super::presets::variants(&label, &setting);
    if groups::declares_more(h) || header_maximizes(h) {
        // The convention variants are the crate's optimizers, which take no groups, schedule
        // or chain: only the declared reference is replayed.
        variants.truncate(1);
    }
    let tol = tolerance.unwrap_or_else(|| default_tolerance(h.dtype));
    let candidates: Vec<Candidate> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| Candidate {
            setting: v.setting.clone(),
            prefer_kernel: i == 0,
        })
        .collect();
    let outcomes = compare_candidates(reader, &candidates, tol)?;
    Ok(variants.into_iter().zip(outcomes).collect())
}

/// Name of coordinate `i` under the header's layout, e.g. `w[1,2]` or `b[0]`.
pub fn coordinate_name(header: &Header, i: usize) -> String {
    let mut offset = 0;
    for b in &header.layout {
        let n = b.rows * b.cols;
        if i < offset + n {
            let k = i - offset;
            return if b.cols == 1 {
                format!("{}[{}]", b.name, k)
            } else {
                format!("{}[{},{}]", b.name, k / b.cols, k % b.cols)
            };
        }
        offset += n;
    }
    format!("[{i}]")
}

/// A value as its dtype prints it (shortest round trip of that type).
fn show(x: f64, dtype: Dtype) -> String {
    match dtype {
        Dtype::F64 => format!("{x:e}"),
        Dtype::F32 => format!("{:e}", x as f32),
    }
}

/// One line describing a difference of `outcome`.
pub fn describe_diff(header: &Header, outcome: &Outcome, d: &Diff) -> String {
    let ours_dtype = match &outcome.reference {
        Reference::Kernel { dtype, .. } => *dtype,
        Reference::CrateF64 => Dtype::F64,
    };
    let n = |u: u64| {
        if u == u64::MAX {
            "∞".to_string()
        } else {
            u.to_string()
        }
    };
    let raw = if d.ulps == d.scaled_ulps {
        String::new()
    } else {
        format!(", raw {}", n(d.ulps))
    };
    format!(
        "step {}, coordinate {} ({}): ours {}, trace {}, {} ulps of scale ({}{raw}), relative {:.3e}",
        d.step,
        coordinate_name(header, d.coord),
        d.coord,
        show(d.ours, ours_dtype),
        show(d.theirs, header.dtype),
        n(d.scaled_ulps),
        outcome.dtype,
        d.rel
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::presets::Setting;

    #[test]
    fn the_crate_optimizer_takes_per_step_scalars_equal_to_its_own_and_refuses_others() {
        let mut hp = serde_json::Map::new();
        hp.insert("lr".into(), serde_json::json!(0.01));
        let setting = crate::oracle::presets::resolve("pytorch", "adam", &hp).unwrap();
        let mut r = Replayer::crate_f64(&setting, &[1.0, -2.0]).unwrap();
        let at = |lr: f64, momentum: Option<f64>| Scalars { lr, momentum };
        // torch's watch writes the group's lr and betas on every step, scheduled or not.
        assert!(r.set_scalars(&at(0.01, Some(0.9))));
        assert!(r.set_scalars(&at(0.01, None)));
        assert!(r.step_with(&[0.5, 0.25], Some(&[at(0.01, Some(0.9))])).is_ok());
        // A value the optimizer was not built with is not modelled by it.
        assert!(!r.set_scalars(&at(0.02, Some(0.9))));
        assert!(!r.set_scalars(&at(0.01, Some(0.8))));
        assert!(r.step_with(&[0.5, 0.25], Some(&[at(0.005, None)])).is_err());
    }

    #[test]
    fn default_tolerances_follow_from_the_unit_roundoffs() {
        // f64: the 200-step drift bound fits under the default, within a factor 2.
        let drift64 = crate::prec::trajectory_rel(DEFAULT_HORIZON);
        assert!(drift64 <= DEFAULT_REL_F64 && DEFAULT_REL_F64 < 2.0 * drift64);
        // f32: exactly the same argument with u = 2^-24.
        assert_eq!(DEFAULT_REL_F32, 200.0 * 32.0 * 2f64.powi(-24));
        // Both separate rounding from the coarsest conventions the diagnosis names (~5e-2).
        const { assert!(DEFAULT_REL_F32 * 100.0 < 5e-2) };
    }

    #[test]
    fn f32_ulps_round_an_f64_reference_first() {
        let b = f64::from(0.1f32);
        // An f64 value within half an f32 ulp of b rounds to b: 0 f32 ulps.
        assert_eq!(ulps_in(Dtype::F32, 0.1, b), 0);
        assert_eq!(ulps_in(Dtype::F64, 0.1, b), crate::prec::ulps_between(0.1, b));
        let next = f64::from(f32::from_bits(0.1f32.to_bits() + 1));
        assert_eq!(ulps_in(Dtype::F32, next, b), 1);
    }

    /// A one-step SGD (lr 1) tracker on `x0` and the step record (grad, trace's θ₁).
    fn one_step(x0: &[f64], grad: &[f64], theirs: &[f64]) -> Outcome {
        let setting = Setting::Sgd(crate::optim::sgd::SgdConfig::gd(1.0));
        let replayer = Replayer::crate_f64(&setting, x0).unwrap();
        let mut t = Tracker::new(replayer, x0, Dtype::F64, DEFAULT_REL_F64);
        t.feed(&StepRecord {
            step: 1,
            grad: grad.to_vec(),
            params: theirs.to_vec(),
            loss: None,
            hyperparameters: None,
        });
        t.out
    }

    #[test]
    fn a_coordinate_passing_near_zero_is_counted_against_its_scale() {
        // Ours: θ₁ = 1 − 1 = 0 exactly. Theirs: 1e-20, what a different operation order can
        // leave of a cancellation on a coordinate of size 1 (far below one rounding of 1).
        let o = one_step(&[1.0, 2.0], &[1.0, 1.0], &[1e-20, 1.0]);
        assert!(o.agrees(), "{o:?}");
        let d = o.worst_scaled_ulps.unwrap();
        // Raw: 0 and 1e-20 are ~3.8e18 f64 values apart; against the scale 1 (θ₀) the
        // difference is a fraction of one ulp(1) = 2.2e-16, so it counts as 1.
        assert!(d.ulps > 1_000_000_000_000_000_000, "{d:?}");
        assert_eq!(d.scaled_ulps, 1);
        assert_eq!(o.worst_scaled_ulps_value(), 1);
        // The raw count stays available.
        assert_eq!(o.worst_ulps_value(), d.ulps);
    }

    #[test]
    fn a_truly_wrong_coordinate_still_fails_and_reads_large() {
        // Ours θ₁ = (0, 1); theirs has coordinate 1 off by 1e-9 relative: the verdict is the
        // relative measure's, unchanged (1e-9 > 1e-12), and the scaled count is ~4.5e6.
        // (θ₀ = 1.5 keeps the scale in the binade of 1.)
        let o = one_step(&[1.0, 1.5], &[1.0, 0.5], &[0.0, 1.0 + 1e-9]);
        assert!(!o.agrees());
        let d = o.first_beyond.unwrap();
        assert_eq!(d.coord, 1);
        assert_eq!(d.scaled_ulps, d.ulps, "at its own scale the two counts coincide");
        assert!(d.scaled_ulps > 4_000_000 && d.scaled_ulps < 5_000_000, "{d:?}");
        // A wrong value near zero is wrong too: theirs 1e-9 where ours is 0 on a scale-1 path.
        let o = one_step(&[1.0, 2.0], &[1.0, 1.0], &[1e-9, 1.0]);
        assert!(!o.agrees());
        assert!(o.worst_scaled_ulps_value() > 4_000_000);
    }

    #[test]
    fn ulp_at_is_the_spacing_of_the_dtype() {
        assert_eq!(ulp_at(Dtype::F64, 1.0), f64::EPSILON);
        assert_eq!(ulp_at(Dtype::F64, 1.5), f64::EPSILON);
        assert_eq!(ulp_at(Dtype::F64, 2.0), 2.0 * f64::EPSILON);
        assert_eq!(ulp_at(Dtype::F32, 1.0), f64::from(f32::EPSILON));
        assert_eq!(ulp_at(Dtype::F32, 0.75), f64::from(f32::EPSILON) / 2.0);
        assert_eq!(ulp_at(Dtype::F64, 0.0), f64::from_bits(1));
        assert_eq!(ulp_at(Dtype::F32, 1e-45), f64::from(f32::from_bits(1)));
        assert_eq!(scaled_ulps(Dtype::F64, 1.0, 1.0 + f64::EPSILON, 0.0), 1);
        assert_eq!(scaled_ulps(Dtype::F64, 1.0, f64::NAN, 1.0), u64::MAX);
        assert_eq!(scaled_ulps(Dtype::F32, 0.1, f64::from(0.1f32), 1.0), 0);
    }
}
