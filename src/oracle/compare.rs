//! # Replay and comparison
//!
//! A candidate trace records, at every step, the gradient it used and the parameters it
//! reached. [`replay`] feeds those gradients, in order, into the crate's optimizer built from
//! the header (starting at `params0`) and compares the parameters after every step, so only
//! the update rule is compared, never the gradient computation. [`compare_variants`] does the
//! same for several settings in one pass over the file (the trace is read once, streaming).
//!
//! ## Error measure
//! For coordinate i at step t, with ours `a`, theirs `b`:
//! * ulps: [`crate::prec::ulps_between`] (0 = bit for bit);
//! * relative: `|a − b| / max(|a|, |b|, s_i)`, where `s_i` is the largest `|θ_{k,i}|` of our
//!   trajectory so far (k ≤ t, including θ₀). Dividing by `max(|a|,|b|)` alone would turn a
//!   coordinate that passes near 0 into a huge "relative error" although both trajectories
//!   agree to rounding of the values that produced it.
//!
//! A NaN or infinite value on either side counts as infinitely far (unless both are the same
//! non-finite value).
//!
//! ## Default tolerance
//! * f64 traces: relative [`DEFAULT_REL_F64`] = 1e-12. Argument: an element-wise step has
//!   relative rounding error ≤ [`crate::prec::STEP_REL`] = 32u ≈ 3.6e-15 per step
//!   (prec's module doc); over ≤ 200 steps of a non-expansive update that is
//!   `trajectory_rel(200)` ≈ 7.1e-13 < 1e-12. The smallest convention difference this oracle
//!   diagnoses is far larger (conventions.md measures AMSGrad's max placement at ~6e-2,
//!   Adagrad's ε placement at ~5e-2, RAdam's ε order at ~2e-7), so 1e-12 separates rounding
//!   from conventions by five orders of magnitude.
//! * f32 traces: relative [`DEFAULT_REL_F32`] = 1e-4: the same argument with the f32 unit
//!   roundoff 2⁻²⁴ ≈ 6e-8: 32 · 6e-8 · 50 steps ≈ 1e-4 (the crate computes in f64, so the
//!   comparison measures the producer's f32 rounding).

use super::format::{Dtype, Header, StepRecord, TraceError, TraceReader};
use super::presets::{PresetError, Setting, Variant};
use crate::error::StepError;
use crate::optim::Optimizer;
use nalgebra::DVector;
use std::io::BufRead;
use thiserror::Error;

/// Default relative tolerance for f64 traces (see the module doc for the argument).
pub const DEFAULT_REL_F64: f64 = 1e-12;
/// Default relative tolerance for f32 traces (see the module doc for the argument).
pub const DEFAULT_REL_F32: f64 = 1e-4;

/// The default tolerance for a trace of this dtype.
pub fn default_tolerance(dtype: Dtype) -> f64 {
    match dtype {
        Dtype::F64 => DEFAULT_REL_F64,
        Dtype::F32 => DEFAULT_REL_F32,
    }
}

/// Bad input: the trace cannot be read or its header cannot be mapped.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReplayError {
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error("{file}: header: {source}")]
    Preset {
        file: String,
        #[source]
        source: PresetError,
    },
}

/// One coordinate at one step where ours and theirs differ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diff {
    pub step: u64,
    pub coord: usize,
    pub ours: f64,
    pub theirs: f64,
    pub ulps: u64,
    pub rel: f64,
}

/// What a replay found for one setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Steps compared.
    pub steps: u64,
    /// Steps whose parameters agree bit for bit in every coordinate.
    pub bit_identical_steps: u64,
    /// First coordinate that is not bit-identical.
    pub first_difference: Option<Diff>,
    /// First coordinate beyond the tolerance.
    pub first_beyond: Option<Diff>,
    /// Largest difference in ulps, and where.
    pub worst_ulps: Option<Diff>,
    /// Largest relative difference, and where.
    pub worst_rel: Option<Diff>,
    /// The crate's optimizer refused a step (e.g. a centred RMSprop denominator ≤ 0).
    pub step_error: Option<(u64, StepError)>,
    /// Tolerance used.
    pub tolerance: f64,
}

impl Outcome {
    /// Agreement: every step compared within tolerance and no step refused.
    pub fn agrees(&self) -> bool {
        self.first_beyond.is_none() && self.step_error.is_none()
    }

    /// The worst relative difference (0 if bit for bit).
    pub fn worst_rel_value(&self) -> f64 {
        self.worst_rel.map_or(0.0, |d| d.rel)
    }

    /// The worst ulps (0 if bit for bit).
    pub fn worst_ulps_value(&self) -> u64 {
        self.worst_ulps.map_or(0, |d| d.ulps)
    }
}

/// One setting being replayed.
struct Tracker {
    opt: Box<dyn Optimizer>,
    x: DVector<f64>,
    scale: Vec<f64>,
    out: Outcome,
    stopped: bool,
}

impl Tracker {
    fn new(opt: Box<dyn Optimizer>, x0: &[f64], tolerance: f64) -> Self {
        Tracker {
            opt,
            x: DVector::from_column_slice(x0),
            scale: x0.iter().map(|v| v.abs()).collect(),
            out: Outcome {
                steps: 0,
                bit_identical_steps: 0,
                first_difference: None,
                first_beyond: None,
                worst_ulps: None,
                worst_rel: None,
                step_error: None,
                tolerance,
            },
            stopped: false,
        }
    }

    fn feed(&mut self, rec: &StepRecord) {
        if self.stopped {
            return;
        }
        let g = DVector::from_column_slice(&rec.grad);
        if let Err(e) = self.opt.step(&mut self.x, &g) {
            self.out.step_error = Some((rec.step, e));
            self.stopped = true;
            return;
        }
        self.out.steps += 1;
        let mut identical = true;
        for (i, (&a, &b)) in self.x.iter().zip(rec.params.iter()).enumerate() {
            if a.is_finite() {
                self.scale[i] = self.scale[i].max(a.abs());
            }
            let same = a.to_bits() == b.to_bits() || a == b;
            if same {
                continue;
            }
            identical = false;
            let ulps = crate::prec::ulps_between(a, b);
            let rel = if a.is_finite() && b.is_finite() {
                (a - b).abs() / a.abs().max(b.abs()).max(self.scale[i])
            } else {
                f64::INFINITY
            };
            let d = Diff {
                step: rec.step,
                coord: i,
                ours: a,
                theirs: b,
                ulps,
                rel,
            };
            if self.out.first_difference.is_none() {
                self.out.first_difference = Some(d);
            }
            if !(rel <= self.out.tolerance) && self.out.first_beyond.is_none() {
                self.out.first_beyond = Some(d);
            }
            if self.out.worst_ulps.is_none_or(|w| ulps > w.ulps) {
                self.out.worst_ulps = Some(d);
            }
            if self.out.worst_rel.is_none_or(|w| rel > w.rel) {
                self.out.worst_rel = Some(d);
            }
        }
        if identical {
            self.out.bit_identical_steps += 1;
        }
    }
}

/// Replay every setting in `settings` against the trace in one streaming pass.
///
/// # Errors
/// [`ReplayError::Trace`] for a malformed trace (the first error met).
pub fn compare_settings<R: BufRead>(
    reader: &mut TraceReader<R>,
    settings: &[Setting],
    tolerance: f64,
) -> Result<Vec<Outcome>, ReplayError> {
    let x0 = reader.header().params0.clone();
    let mut trackers: Vec<Tracker> = Vec::with_capacity(settings.len());
    for s in settings {
        let opt = s.build().map_err(|e| ReplayError::Preset {
            file: reader.file().to_string(),
            source: PresetError::Hyper(e),
        })?;
        trackers.push(Tracker::new(opt, &x0, tolerance));
    }
    while let Some(rec) = reader.next_step()? {
        for t in trackers.iter_mut() {
            t.feed(&rec);
        }
    }
    Ok(trackers.into_iter().map(|t| t.out).collect())
}

/// The declared setting of a header.
///
/// # Errors
/// [`ReplayError::Preset`] if the header cannot be mapped.
pub fn declared_setting(file: &str, header: &Header) -> Result<Setting, ReplayError> {
    super::presets::resolve(&header.preset, &header.optimizer, &header.hyperparameters).map_err(|source| {
        ReplayError::Preset {
            file: file.to_string(),
            source,
        }
    })
}

/// Replay a trace against its declared preset.
///
/// # Errors
/// [`ReplayError`] for a malformed trace or an unmappable header.
pub fn replay<R: BufRead>(
    reader: &mut TraceReader<R>,
    tolerance: Option<f64>,
) -> Result<Outcome, ReplayError> {
    let setting = declared_setting(reader.file(), reader.header())?;
    let tol = tolerance.unwrap_or_else(|| default_tolerance(reader.header().dtype));
    let mut out = compare_settings(reader, &[setting], tol)?;
    Ok(out.remove(0))
}

/// Replay the declared preset and every convention variant of it ([`super::presets::variants`]).
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
    let variants = super::presets::variants(&label, &setting);
    let tol = tolerance.unwrap_or_else(|| default_tolerance(h.dtype));
    let settings: Vec<Setting> = variants.iter().map(|v| v.setting.clone()).collect();
    let outcomes = compare_settings(reader, &settings, tol)?;
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

/// One line describing a difference.
pub fn describe_diff(header: &Header, d: &Diff) -> String {
    format!(
        "step {}, coordinate {} ({}): ours {:e}, trace {:e}, {} ulps, relative {:.3e}",
        d.step,
        d.coord,
        coordinate_name(header, d.coord),
        d.ours,
        d.theirs,
        if d.ulps == u64::MAX {
            "∞".to_string()
        } else {
            d.ulps.to_string()
        },
        d.rel
    )
}
