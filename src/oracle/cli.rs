//! The oracle's commands as library functions (`optverify trace | replay | check |
//! conformance`): plain arguments in, an exit code and the text to print out.
//!
//! ## Exit statuses
//!
//! | status | meaning |
//! |---:|---|
//! | 0 | the trace agrees with its declared preset (or `trace` wrote the trace) |
//! | 1 | the trace disagrees |
//! | 2 | bad input: unreadable or malformed trace, unknown preset, bad arguments |
//! | 3 | agrees only given an inferred explanation the header did not declare |
//! | 4 | nothing to check: the trace has a header and no steps |
//!
//! A check that compared nothing never says it agrees: a trace with no steps gets status 4.
//!
//! ## Limits of `trace --problem`
//!
//! `--dim` is bounded by memory: building a problem holds [`problem_footprint`] f64 values
//! at its peak (dense data or Hessian matrices of d² entries, plus vectors of d), and the
//! largest accepted `--dim` is the largest d whose footprint fits in
//! [`PROBLEM_MEMORY_BUDGET`] ([`max_problem_dim`]). `--steps` is bounded by the size of the
//! trace written: a step line holds at most [`step_line_bytes`] bytes, and the trace must fit
//! in [`TRACE_BYTES_BUDGET`] ([`max_trace_steps`]). Larger values are refused with the
//! largest value that fits, before anything is built.
//!
//! Every command names the reference it compared against ([`compare::Reference`]): a
//! framework kernel in the trace's dtype, or the crate's optimizer in f64 when no kernel
//! transcribes the declared setting (then said plainly, with the tolerance that applies).

use super::compare::{self, describe_diff, Outcome, Reference, ReplayError, Replayer};
use super::format::{self, BlockSpec, Dtype, Header, TraceReader, TraceWriter};
use super::presets;
use crate::problems::{self, Objective};
use nalgebra::DVector;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Exit status: the trace agrees with the preset (or the trace was written).
pub const EXIT_AGREE: u8 = 0;
/// Exit status: the trace disagrees.
pub const EXIT_DISAGREE: u8 = 1;
/// Exit status: bad input (unreadable or malformed trace, unknown preset, bad arguments).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit status: the trace agrees only given an explanation the header did not declare, which
/// `check` inferred from the trace ([`super::infer`]: a schedule, parameter groups, clipping).
pub const EXIT_AGREE_INFERRED: u8 = 3;
/// What the diagnosis says when no convention variant matches (then `check` infers).
pub const NO_VARIANT_MATCHES: &str = "matches none of the known convention variants";
/// The diagnosis's line when the header's declarations keep the convention variants from
/// being replayed (the inference still runs, with those declarations).
pub const VARIANTS_NOT_REPLAYED: &str = "convention variants not replayed";
/// Exit status: nothing to check (the trace has a header and no steps).
pub const EXIT_NOTHING_TO_CHECK: u8 = 4;

fn nothing_to_check(head: &str) -> CommandOutput {
    CommandOutput {
        status: EXIT_NOTHING_TO_CHECK,
        text: format!(
            "{head}\nNOTHING TO CHECK: the trace has a header and no steps (exit status {EXIT_NOTHING_TO_CHECK})\n"
        ),
    }
}

/// True when the replay compared no step because the trace has none (a step the reference
/// refused is a disagreement, not "nothing").
fn compared_nothing(o: &Outcome) -> bool {
    o.steps == 0 && o.step_error.is_none()
}

/// What a command returns: the exit status and the text for stdout (or stderr when the
/// status is [`EXIT_BAD_INPUT`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    pub status: u8,
    pub text: String,
}

fn bad(text: impl Into<String>) -> CommandOutput {
    let mut text = text.into();
    text.push('\n');
    CommandOutput {
        status: EXIT_BAD_INPUT,
        text,
    }
}

fn ulps_text(u: u64) -> String {
    if u == u64::MAX {
        "∞".into()
    } else {
        u.to_string()
    }
}

/// The `reference:` line, and for an f32 trace replayed in f64 the sentence that says so.
pub(crate) fn reference_line(h: &Header, o: &Outcome) -> String {
    let mut s = format!("reference: {}", o.reference);
    if o.reference.is_mixed(h.dtype) {
        s.push_str(&format!(
            "\n  no f32 kernel transcribes {} {}: this f32 trace is compared against the crate's f64 optimizer, \
             so bit-identical means the f64 result rounds to the trace's f32 value, and the tolerance is the f32 \
             one ({:.1e} = 200 steps × 32 u_f32, u_f32 = 2⁻²⁴)",
            h.preset,
            h.optimizer,
            compare::DEFAULT_REL_F32
        ));
    } else if o.reference == Reference::CrateF64 {
        s.push_str(&format!(
            " (no kernel transcribes {} {}; the crate's optimizer follows the preset's conventions in the paper's operation order, so expect agreement to rounding, not to the bit)",
            h.preset, h.optimizer
        ));
    }
    s
}

pub(crate) fn summary_line(h: &Header, o: &Outcome) -> String {
    let mut s = format!(
        "{}/{} steps bit for bit; worst {} ulps of scale ({}), worst relative difference {:.3e} (tolerance {:.1e})",
        o.bit_identical_steps,
        o.steps,
        ulps_text(o.worst_scaled_ulps_value()),
        o.dtype,
        o.worst_rel_value(),
        o.tolerance
    );
    if let Some((step, e)) = &o.step_error {
        s.push_str(&format!("; the reference refused step {step}: {e}"));
    }
    match (&o.first_difference, &o.first_beyond) {
        (Some(d), Some(b)) if d == b => {
            s.push_str(&format!(
                "\n  first difference (beyond tolerance): {}",
                describe_diff(h, o, d)
            ));
        }
        (d, b) => {
            if let Some(d) = d {
                s.push_str(&format!("\n  first difference:       {}", describe_diff(h, o, d)));
            }
            if let Some(b) = b {
                s.push_str(&format!("\n  first beyond tolerance: {}", describe_diff(h, o, b)));
            }
        }
    }
    s
}

fn layout_text(h: &Header) -> String {
    h.layout
        .iter()
        .map(|b| {
            if b.cols == 1 {
                format!("{} {}", b.name, b.rows)
            } else {
                format!("{} {}×{}", b.name, b.rows, b.cols)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn header_line(file: &str, h: &Header) -> String {
    format!(
        "trace {file}: {} {} {}, {} parameters ({}), {}, producer {:?}",
        h.preset,
        h.optimizer,
        serde_json::Value::Object(h.hyperparameters.clone()),
        h.dim(),
        layout_text(h),
        h.dtype,
        h.producer
    )
}

fn open(path: &Path) -> Result<TraceReader<std::io::BufReader<std::fs::File>>, CommandOutput> {
    format::open(path).map_err(|e| bad(format!("error: {e}")))
}

fn check_tol(rel_tol: Option<f64>) -> Result<(), CommandOutput> {
    match rel_tol.map(compare::validate_rel_tol) {
        Some(Err(e)) => Err(bad(format!("error: --rel-tol: {e}"))),
        _ => Ok(()),
    }
}

/// `optverify replay TRACE [--rel-tol X]`: replay the trace's gradients through its declared
/// preset and compare the parameters step by step.
pub fn replay(path: &Path, rel_tol: Option<f64>) -> CommandOutput {
    let mut reader = match open(path) {
        Ok(r) => r,
        Err(e) => return e,
    };
    replay_reader(&mut reader, rel_tol)
}

/// [`replay`] on an open reader.
pub fn replay_reader<R: BufRead>(reader: &mut TraceReader<R>, rel_tol: Option<f64>) -> CommandOutput {
    if let Err(e) = check_tol(rel_tol) {
        return e;
    }
    let head = header_line(reader.file(), reader.header());
    let header = reader.header().clone();
    match compare::replay(reader, rel_tol) {
        Err(e) => bad(format!("error: {e}")),
        Ok(o) if compared_nothing(&o) => nothing_to_check(&head),
        Ok(o) => CommandOutput {
            status: if o.agrees() { EXIT_AGREE } else { EXIT_DISAGREE },
            text: format!(
                "{head}\n{}\n{}: {}\n",
                reference_line(&header, &o),
                if o.agrees() { "AGREES" } else { "DISAGREES" },
                summary_line(&header, &o)
            ),
        },
    }
}

/// `optverify check TRACE [--rel-tol X]`: [`replay`], then replay every convention variant
/// and say which the trace matches; when none does, infer what the header left out
/// ([`super::infer`]: a schedule, parameter groups, gradient clipping, a typical bug) and
/// exit [`EXIT_AGREE_INFERRED`] if an explanation agrees.
pub fn check(path: &Path, rel_tol: Option<f64>) -> CommandOutput {
    let mut reader = match open(path) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let out = check_reader(&mut reader, rel_tol);
    super::infer::extend_check(path, rel_tol, out)
}

/// [`check`] on an open reader.
pub fn check_reader<R: BufRead>(reader: &mut TraceReader<R>, rel_tol: Option<f64>) -> CommandOutput {
    if let Err(e) = check_tol(rel_tol) {
        return e;
    }
    let head = header_line(reader.file(), reader.header());
    let header = reader.header().clone();
    let results = match compare::compare_variants(reader, rel_tol) {
        Err(e) => return bad(format!("error: {e}")),
        Ok(r) => r,
    };
    let Some((declared, declared_outcome)) = results.first() else {
        return bad(format!("error: {}: no setting to replay", reader.file()));
    };
    if compared_nothing(declared_outcome) {
        return nothing_to_check(&head);
    }
    let agrees = declared_outcome.agrees();
    let mut text = format!(
        "{head}\n{}\n{} {}: {}\n",
        reference_line(&header, declared_outcome),
        if agrees { "AGREES with" } else { "DISAGREES with" },
        declared.label,
        summary_line(&header, declared_outcome)
    );
    text.push_str(&diagnosis(&header, &results));
    CommandOutput {
        status: if agrees { EXIT_AGREE } else { EXIT_DISAGREE },
        text,
    }
}

/// The diagnosis paragraph: which convention variants (crate optimizers, f64) the trace
/// matches within the tolerance, and which it does not, closest first.
///
/// `results[0]` is the declared setting (its tolerance is quoted); an empty slice gives a
/// one-line paragraph saying there is nothing to diagnose.
pub fn diagnosis(header: &Header, results: &[(presets::Variant, Outcome)]) -> String {
    let Some(((_, declared), variants)) = results.split_first() else {
        return "diagnosis: nothing to diagnose (no replays)\n".into();
    };
    // Skip the declared entry (index 0); its setting is repeated among the variants.
    let mut matches: Vec<&(presets::Variant, Outcome)> =
        variants.iter().filter(|(_, o)| o.agrees()).collect();
    matches.sort_by(|a, b| a.1.worst_rel_value().total_cmp(&b.1.worst_rel_value()));
    let mut misses: Vec<&(presets::Variant, Outcome)> =
        variants.iter().filter(|(_, o)| !o.agrees()).collect();
    misses.sort_by(|a, b| a.1.worst_rel_value().total_cmp(&b.1.worst_rel_value()));
    let tol = declared.tolerance;
    let mut s = format!(
        "diagnosis (convention variants, each replayed by the crate's optimizer in f64, tolerance {tol:.1e}):\n"
    );
    // Variants the crate's optimizers could not replay: the step lines give hyperparameters
    // that change (a schedule recorded per step), which they do not take.
    let refused_per_step = |o: &Outcome| {
        o.step_error
            .as_ref()
            .is_some_and(|(_, e)| e.to_string().starts_with(compare::PER_STEP_NOT_MODELLED))
    };
    if results.len() > 1 && matches.is_empty() && variants.iter().all(|(_, o)| refused_per_step(o)) {
        s.push_str(&format!(
            "  {VARIANTS_NOT_REPLAYED}: the step lines give hyperparameters that change from step to step (a schedule), which the crate's reference optimizers do not take\n"
        ));
        return s;
    }
    if results.len() == 1 {
        s.push_str(
            &format!("  {VARIANTS_NOT_REPLAYED}: the header declares parameter groups, a schedule, optax chain members or maximize, which the crate's reference optimizers do not take\n"),
        );
    } else if matches.is_empty() {
        s.push_str(&format!("  {NO_VARIANT_MATCHES}\n"));
    }
    for (v, o) in &matches {
        s.push_str(&format!(
            "  matches {} [worst relative {:.1e}]\n",
            v.label,
            o.worst_rel_value()
        ));
    }
    for (v, o) in &misses {
        let at = o
            .first_beyond
            .map(|d| {
                format!(
                    "first at step {}, coordinate {}",
                    d.step,
                    compare::coordinate_name(header, d.coord)
                )
            })
            .or_else(|| {
                o.step_error
                    .as_ref()
                    .map(|(t, e)| format!("refused step {t}: {e}"))
            })
            .unwrap_or_default();
        s.push_str(&format!(
            "  does not match {} [worst relative {:.1e}; {at}]\n",
            v.label,
            o.worst_rel_value()
        ));
    }
    s
}

// ---------------------------------------------------------------- conformance

#[derive(Default)]
struct Row {
    traces: usize,
    bit_identical: usize,
    beyond: usize,
    worst_ulps: u64,
    worst_rel: f64,
    references: BTreeMap<String, usize>,
}

/// `optverify conformance [DIR]`: replay every `*.jsonl` trace of `DIR` against its declared
/// preset (default tolerance of its dtype) and print a Markdown table per (preset, optimizer,
/// dtype). Exit 1 if any trace is beyond tolerance, 2 if a trace cannot be read or has no
/// steps.
pub fn conformance(dir: &Path) -> CommandOutput {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return bad(format!("error: {}: cannot read directory: {e}", dir.display())),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    if files.is_empty() {
        return bad(format!("error: {}: no *.jsonl traces", dir.display()));
    }
    let mut rows: BTreeMap<(String, String, &'static str), Row> = BTreeMap::new();
    let mut beyond = vec![];
    let mut errors = vec![];
    for f in &files {
        let mut reader = match format::open(f) {
            Ok(r) => r,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        let header = reader.header().clone();
        let o = match compare::replay(&mut reader, None) {
            Ok(o) if compared_nothing(&o) => {
                errors.push(format!("{}: no steps (nothing to check)", reader.file()));
                continue;
            }
            Ok(o) => o,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        let row = rows
            .entry((
                header.preset.clone(),
                header.optimizer.clone(),
                header.dtype.name(),
            ))
            .or_default();
        row.traces += 1;
        row.bit_identical += usize::from(o.bit_identical());
        row.worst_ulps = row.worst_ulps.max(o.worst_scaled_ulps_value());
        row.worst_rel = row.worst_rel.max(o.worst_rel_value());
        *row.references.entry(o.reference.to_string()).or_default() += 1;
        if !o.agrees() {
            row.beyond += 1;
            let name = f
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let what = o
                .first_beyond
                .map(|d| describe_diff(&header, &o, &d))
                .or_else(|| {
                    o.step_error
                        .as_ref()
                        .map(|(t, e)| format!("refused step {t}: {e}"))
                })
                .unwrap_or_default();
            beyond.push(format!("{name}: {what}"));
        }
    }
    if !errors.is_empty() {
        return bad(format!(
            "error: {} of {} traces in {} cannot be replayed:\n  {}",
            errors.len(),
            files.len(),
            dir.display(),
            errors.join("\n  ")
        ));
    }
    let mut text = String::from(
        "| preset | optimizer | dtype | traces | bit-identical | worst ulps of scale | worst relative | reference |\n\
         |---|---|---|---:|---:|---:|---:|---|\n",
    );
    let (mut total, mut total_bit) = (0, 0);
    for ((preset, optimizer, dtype), r) in &rows {
        total += r.traces;
        total_bit += r.bit_identical;
        let refs: Vec<String> = r
            .references
            .iter()
            .map(|(name, n)| {
                if *n == r.traces {
                    name.clone()
                } else {
                    format!("{name} ({n})")
                }
            })
            .collect();
        let rel = if r.worst_rel == 0.0 {
            "0".to_string()
        } else {
            format!("{:.1e}", r.worst_rel)
        };
        text.push_str(&format!(
            "| {preset} | {optimizer} | {dtype} | {} | {} | {} | {rel} | {}{} |\n",
            r.traces,
            r.bit_identical,
            ulps_text(r.worst_ulps),
            refs.join("; "),
            if r.beyond > 0 {
                format!(" — **{} beyond tolerance**", r.beyond)
            } else {
                String::new()
            }
        ));
    }
    text.push_str(&format!(
        "\n{total_bit} of {total} traces bit-identical to their reference; {} beyond the default tolerance ({:.0e} for f64, {:.1e} for f32).\n",
        if beyond.is_empty() {
            "none".to_string()
        } else {
            beyond.len().to_string()
        },
        compare::DEFAULT_REL_F64,
        compare::DEFAULT_REL_F32,
    ));
    for b in &beyond {
        text.push_str(&format!("  beyond tolerance: {b}\n"));
    }
    CommandOutput {
        status: if beyond.is_empty() {
            EXIT_AGREE
        } else {
            EXIT_DISAGREE
        },
        text,
    }
}

// ---------------------------------------------------------------- trace

/// Where `trace` takes its gradients from.
#[derive(Debug, Clone, Copy)]
pub enum GradientSource<'a> {
    /// Another optverify trace: its gradients, `params0` and layout are reused.
    Trace(&'a Path),
    /// JSON Lines, one array of numbers per line; `params0` is a JSON array (or zeros).
    Lines {
        path: &'a Path,
        params0: Option<&'a str>,
    },
    /// A named problem of [`problems::catalogue`], run closed loop: the gradient at the
    /// current parameters, `steps` times.
    Problem {
        name: &'a str,
        dim: Option<usize>,
        seed: u64,
        steps: usize,
    },
}

/// A named problem: the objective, its layout, θ₀.
pub type NamedProblem = (Box<dyn Objective>, Vec<BlockSpec>, Vec<f64>);

/// XORed into `--seed` to draw θ₀ of `trace --problem`: a stream none of the problems'
/// constructors use (they draw from the seed plus 0, 1 or 2, which differ from the seed in
/// low bits only, while this constant flips bits across the whole word).
pub const THETA0_STREAM: u64 = 0x9E37_79B9_7F4A_7C15;

/// Default `--dim` of `trace --problem`.
pub const DEFAULT_PROBLEM_DIM: usize = 10;

/// Memory budget of `trace --problem` for building the problem (4 GiB; see the module doc).
pub const PROBLEM_MEMORY_BUDGET: u64 = 4 << 30;

/// Largest trace `trace --problem` writes (1 TiB; see the module doc).
pub const TRACE_BYTES_BUDGET: u64 = 1 << 40;

/// The f64 values a named problem of dimension d holds at the peak of its construction and
/// run, as `(a, b)` in a·d² + b·d; `None` for an unknown name.
///
/// Read off the constructors: `quadratic` holds the Gaussian matrix, its QR factors, Q, the
/// product QΛQᵀ and its symmetrised copy (6 d×d); `least_squares` the 4d×d design, its copy
/// and the SVD's U (4d² each), the Gram matrix and its eigenvectors (16); `logistic` and
/// `multinomial` the 8d×d design, its bias-augmented copy, the Gram matrix and its
/// eigenvectors (8 + 8 + 2, rounded up to 20); `tanh_neuron` the 4d×d inputs, the Gram
/// matrix and its eigenvectors (6, rounded up to 8); `mlp` 32 samples × d inputs and their
/// copy plus the 8×d first layer (b = 160). Every problem also counts 64·d for θ, the
/// gradient, the optimizer's state and the step's copies. Measured peak resident memory of
/// `trace --problem P --dim d --steps 1` (release build) is below the model for every
/// problem, e.g. quadratic d = 1500: 76 MiB measured, 104 MiB modelled; least_squares
/// d = 1000: 111 vs 123 MiB; logistic d = 800: 92 vs 98 MiB; mlp d = 10⁵: 96 vs 122 MiB.
pub fn problem_footprint(name: &str) -> Option<(u64, u64)> {
    Some(match name {
        "quadratic" => (6, 64),
        "least_squares" => (16, 64),
        "logistic" | "multinomial" => (20, 64),
        "tanh_neuron" => (8, 64),
        "mlp" => (0, 160),
        "rosenbrock" | "lessard" | "one_minus_cos" | "rational_bump" | "shifted_quadratic" => (0, 64),
        _ => return None,
    })
}

/// Bytes needed to build and run problem `name` at dimension `d` (saturating).
fn problem_bytes(a: u64, b: u64, d: u64) -> u64 {
    d.saturating_mul(d)
        .saturating_mul(a)
        .saturating_add(b.saturating_mul(d))
        .saturating_mul(8)
}

/// The non-blank lines of a `--gradients` file with their 0-based line numbers. Each is read
/// with a bound, so a file without newlines (`/dev/zero`) is refused instead of exhausting
/// memory: at most [`format::MAX_HEADER_LINE`] bytes (a gradient line holds as many numbers
/// as a header's θ₀). An over-long line ends the iteration with an error.
fn bounded_lines<R: BufRead>(mut reader: R) -> impl Iterator<Item = (usize, std::io::Result<String>)> {
    let mut index = 0usize;
    let limit = format::MAX_HEADER_LINE;
    let mut done = false;
    std::iter::from_fn(move || {
        while !done {
            let mut buf = String::new();
            let i = index;
            index += 1;
            match format::read_line_bounded(&mut reader, &mut buf, limit) {
                Ok(Some(0)) => done = true,
                Ok(Some(_)) => {
                    if buf.trim().is_empty() {
                        continue;
                    }
                    let line = buf.trim_end_matches(['\n', '\r']).to_string();
                    return Some((i, Ok(line)));
                }
                Ok(None) => {
                    done = true;
                    let e = std::io::Error::other(format!(
                        "line longer than {limit} bytes, the most a gradient line may take here (one JSON array per line)"
                    ));
                    return Some((i, Err(e)));
                }
                Err(e) => {
                    done = true;
                    return Some((i, Err(e)));
                }
            }
        }
        None
    })
}

/// The largest `--dim` of problem `name` whose footprint ([`problem_footprint`]) fits in
/// [`PROBLEM_MEMORY_BUDGET`]; `None` for an unknown name.
pub fn max_problem_dim(name: &str) -> Option<usize> {
    let (a, b) = problem_footprint(name)?;
    // Largest d with problem_bytes(d) ≤ budget: binary search on the monotone footprint.
    let (mut lo, mut hi) = (0u64, PROBLEM_MEMORY_BUDGET);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if problem_bytes(a, b, mid) <= PROBLEM_MEMORY_BUDGET {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(usize::try_from(lo).unwrap_or(usize::MAX))
}

/// Upper bound on the bytes of one step line of a trace with `params` parameters: `grad` and
/// `params` take at most 25 bytes per number (24 for the longest shortest-round-trip f64,
/// `-2.2250738585072014e-308`, and a comma), plus 96 for the step number, the loss and the
/// field names.
pub fn step_line_bytes(params: usize) -> u64 {
    (params as u64).saturating_mul(50).saturating_add(96)
}

/// The largest `--steps` whose trace fits in [`TRACE_BYTES_BUDGET`] for `params` parameters.
pub fn max_trace_steps(params: usize) -> u64 {
    TRACE_BYTES_BUDGET / step_line_bytes(params)
}

/// The smallest `--dim` of problem `name`: 2 for `quadratic` (its spectrum spans μ and L) and
/// `rosenbrock`, 1 for the other known problems; `None` for an unknown name.
pub fn min_problem_dim(name: &str) -> Option<usize> {
    problem_footprint(name)?;
    Some(if matches!(name, "quadratic" | "rosenbrock") {
        2
    } else {
        1
    })
}

/// A named problem: objective, layout and starting point. `dim` is the problem's dimension
/// parameter (the input dimension for the data problems, whose parameter count follows from
/// it); `seed` draws the data and θ₀.
///
/// # Errors
/// A message naming the unknown problem and listing the known ones, or the problem's own
/// [`problems::ProblemError`].
pub fn named_problem(name: &str, dim: Option<usize>, seed: u64) -> Result<NamedProblem, String> {
    use problems::*;
    let d = dim.unwrap_or(DEFAULT_PROBLEM_DIM);
    if let (Some(min), Some(max)) = (min_problem_dim(name), max_problem_dim(name)) {
        if d < min || d > max {
            let (a, b) = problem_footprint(name).unwrap_or((0, 0));
            return Err(format!(
                "--dim = {d} is out of range for problem {name}; valid range: {min}..={max} \
                 (building it holds about {a}·d² + {b}·d f64 values, which must fit in {} GiB)",
                PROBLEM_MEMORY_BUDGET >> 30
            ));
        }
    }
    let e = |e: ProblemError| e.to_string();
    let flat = |n: usize| {
        vec![BlockSpec {
            name: "params".into(),
            rows: n,
            cols: 1,
        }]
    };
    let blocks = |l: crate::optim::Layout| {
        l.blocks()
            .iter()
            .map(|b| BlockSpec {
                name: b.name.clone(),
                rows: b.rows,
                cols: b.cols,
            })
            .collect::<Vec<_>>()
    };
    // θ₀ from its own stream: the constructors draw from seed, seed + 1 and seed + 2, and
    // `quadratic`'s θ* (gaussian_vector(n, seed + 1)) and `mlp`'s teacher (init(seed + 1))
    // are exactly what θ₀ = start(seed + 1) drew, a start at the minimum with g = 0 forever.
    let theta0_seed = seed ^ THETA0_STREAM;
    let start = |n: usize| quadratic::gaussian_vector(n, theta0_seed).as_slice().to_vec();
    let (obj, layout, x0): (Box<dyn Objective>, Vec<BlockSpec>, Vec<f64>) = match name {
        "quadratic" => (
            Box::new(Quadratic::random(d, 0.1, 10.0, Spectrum::LogUniform, seed).map_err(e)?),
            flat(d),
            start(d),
        ),
        "least_squares" => (
            Box::new(LeastSquares::random(4 * d, d, 0.1, seed).map_err(e)?),
            flat(d),
            start(d),
        ),
        "logistic" => {
            let p = BinaryLogistic::random(8 * d, d, true, 1e-3, seed).map_err(e)?;
            let l = blocks(p.layout());
            (Box::new(p), l, start(d + 1))
        }
        "multinomial" => {
            let p = Multinomial::random(8 * d, d, 3, true, 1e-3, seed).map_err(e)?;
            let l = blocks(p.layout());
            (Box::new(p), l, start(3 * d + 3))
        }
        "mlp" => {
            let p = Mlp::random_teacher(32, d, 8, 2, true, seed).map_err(e)?;
            let l = blocks(p.layout());
            let x0 = p.init(theta0_seed).as_slice().to_vec();
            (Box::new(p), l, x0)
        }
        "rosenbrock" => (Box::new(Rosenbrock::new(d).map_err(e)?), flat(d), start(d)),
        "lessard" => (Box::new(Lessard::new(d).map_err(e)?), flat(d), start(d)),
        "one_minus_cos" => (Box::new(OneMinusCos::new(d, 1.0).map_err(e)?), flat(d), start(d)),
        "rational_bump" => (Box::new(RationalBump::new(d, 1.0).map_err(e)?), flat(d), start(d)),
        "tanh_neuron" => (
            Box::new(TanhNeuron::random(4 * d, d, seed).map_err(e)?),
            flat(d),
            start(d),
        ),
        "shifted_quadratic" => {
            // Curvatures log-spaced in [0.1, 10] (κ = 100), offset 1.
            let diag = (0..d)
                .map(|i| 10f64.powf(-1.0 + 2.0 * i as f64 / (d.max(2) - 1) as f64))
                .collect();
            (
                Box::new(ShiftedQuadratic::new(diag, 1.0).map_err(e)?),
                flat(d),
                start(d),
            )
        }
        _ => {
            let known: Vec<&str> = catalogue().iter().map(|p| p.name).collect();
            return Err(format!(
                "--problem: unknown problem {name:?}; known problems: {}",
                known.join(", ")
            ));
        }
    };
    if obj.dim() != x0.len()
        || layout
            .iter()
            .map(|b| b.rows.saturating_mul(b.cols))
            .sum::<usize>()
            != x0.len()
    {
        return Err(format!(
            "problem {name}: dimension {} does not match its layout ({} parameters)",
            obj.dim(),
            x0.len()
        ));
    }
    Ok((obj, layout, x0))
}

/// Round to the dtype (identity for f64).
fn to_dtype(dtype: Dtype, x: f64) -> f64 {
    match dtype {
        Dtype::F64 => x,
        Dtype::F32 => f64::from(x as f32),
    }
}

/// `optverify trace --preset P --optimizer O --hyperparameters JSON (--problem NAME [--dim N]
/// [--seed S] [--steps T] | --from-trace T | --gradients G [--params0 JSON]) [--dtype D]
/// --out FILE`: run the reference of the preset (its framework kernel in the dtype if one
/// exists, else the crate's optimizer in f64) and write the trajectory as a trace. The
/// reference is the one `replay` and `check` use, so the written trace replays bit for bit.
///
/// `dtype` defaults to the source trace's dtype for `--from-trace`, f64 otherwise. In f32,
/// θ₀ and every gradient are rounded to f32 (and recorded so), and a kernel is required.
pub fn trace(
    preset: &str,
    optimizer: &str,
    hyperparameters: &str,
    source: GradientSource,
    dtype: Option<Dtype>,
    out: &Path,
) -> CommandOutput {
    let hp: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(hyperparameters) {
        Ok(m) => m,
        Err(e) => return bad(format!("error: --hyperparameters must be a JSON object: {e}")),
    };
    let setting = match presets::resolve(preset, optimizer, &hp) {
        Ok(s) => s,
        Err(e) => {
            let arg = match e {
                presets::PresetError::UnknownPreset { .. } => "--preset",
                presets::PresetError::UnknownOptimizer { .. } => "--optimizer",
                _ => "--hyperparameters",
            };
            return bad(format!("error: {arg}: {e}"));
        }
    };
    /// Where gradients come from: a sequence, or an objective queried at the current θ.
    enum Feed {
        Open(Box<dyn Iterator<Item = Result<Vec<f64>, String>>>),
        Closed { obj: Box<dyn Objective>, steps: usize },
    }
    let (params0, layout, feed, source_dtype) = match source {
        GradientSource::Trace(p) => match format::open(p) {
            Err(e) => return bad(format!("error: --from-trace: {e}")),
            Ok(r) => {
                let h = r.header().clone();
                (
                    h.params0,
                    h.layout,
                    Feed::Open(Box::new(r.map(|s| s.map(|s| s.grad).map_err(|e| e.to_string())))),
                    Some(h.dtype),
                )
            }
        },
        GradientSource::Lines { path, params0 } => {
            let file = match std::fs::File::open(path) {
                Ok(f) => f,
                Err(e) => return bad(format!("error: --gradients {}: cannot read: {e}", path.display())),
            };
            let name = path.display().to_string();
            let mut lines = bounded_lines(std::io::BufReader::new(file));
            let parse = move |(i, l): (usize, std::io::Result<String>)| -> Result<Vec<f64>, String> {
                let l = l.map_err(|e| format!("{name}:{}: {e}", i + 1))?;
                let v: Vec<f64> = serde_json::from_str(&l)
                    .map_err(|e| format!("{name}:{}: expected an array of finite numbers: {e}", i + 1))?;
                Ok(v)
            };
            let first = match lines.next() {
                None => return bad(format!("error: --gradients {}: no gradients", path.display())),
                Some(x) => match parse(x) {
                    Ok(v) => v,
                    Err(e) => return bad(format!("error: {e}")),
                },
            };
            let dim = first.len();
            let p0 = match params0 {
                None => vec![0.0; dim],
                Some(s) => match serde_json::from_str::<Vec<f64>>(s) {
                    Ok(v) => v,
                    Err(e) => return bad(format!("error: --params0 must be a JSON array of numbers: {e}")),
                },
            };
            let layout = vec![BlockSpec {
                name: "params".into(),
                rows: p0.len(),
                cols: 1,
            }];
            (
                p0,
                layout,
                Feed::Open(Box::new(std::iter::once(Ok(first)).chain(lines.map(parse)))),
                None,
            )
        }
        GradientSource::Problem {
            name,
            dim,
            seed,
            steps,
        } => {
            if steps == 0 {
                return bad("error: --steps = 0 is out of range; valid range: at least 1 (a trace with no steps checks nothing)");
            }
            match named_problem(name, dim, seed) {
                Err(e) => return bad(format!("error: {e}")),
                Ok((obj, layout, x0)) => {
                    let max = max_trace_steps(x0.len());
                    if steps as u64 > max {
                        return bad(format!(
                            "error: --steps = {steps} is out of range for {} parameters; valid range: 1..={max} \
                             (a step line takes at most {} bytes and the trace must fit in {} GiB)",
                            x0.len(),
                            step_line_bytes(x0.len()),
                            TRACE_BYTES_BUDGET >> 30
                        ));
                    }
                    (x0, layout, Feed::Closed { obj, steps }, None)
                }
            }
        }
    };
    // Layer-wise optimizers (LAMB, LARS) take one trust ratio per block of the layout.
    let setting = match setting.with_layout(&layout) {
        Ok(s) => s,
        Err(e) => return bad(format!("error: {e}")),
    };
    let dtype = dtype.or(source_dtype).unwrap_or(Dtype::F64);
    if let Some(i) = params0.iter().position(|x| !x.is_finite()) {
        return bad(format!("error: params0[{i}] = {} is not finite", params0[i]));
    }
    let params0: Vec<f64> = params0.iter().map(|&x| to_dtype(dtype, x)).collect();
    let mut reference = match Replayer::declared(preset, &setting, &layout, dtype, &params0) {
        Ok(r) => r,
        Err(e) => return bad(format!("error: {e}")),
    };
    if reference.reference().is_mixed(dtype) {
        return bad(format!(
            "error: no f32 kernel transcribes {preset} {optimizer}, so there is no f32 reference to write; \
             use --dtype f64 (the crate's optimizer), or a preset and optimizer with an f32 kernel"
        ));
    }
    let header = Header {
        format: format::FORMAT_NAME.into(),
        version: format::FORMAT_VERSION,
        optimizer: optimizer.into(),
        preset: preset.into(),
        hyperparameters: hp,
        layout,
        dtype,
        producer: format!("optverify {} ({})", crate::VERSION, reference.reference()),
        params0: params0.clone(),
        param_groups: None,
        schedule: None,
        transforms: Vec::new(),
        jax_enable_x64: None,
    };
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => return bad(format!("error: {}: cannot write: {e}", out.display())),
    };
    let mut w = match TraceWriter::new(std::io::BufWriter::new(file), &header) {
        Ok(w) => w,
        Err(e) => return bad(format!("error: {}: {e}", out.display())),
    };
    let mut feed = feed;
    let mut steps = 0u64;
    loop {
        let (g, loss) = match &mut feed {
            Feed::Open(it) => match it.next() {
                None => break,
                Some(Err(e)) => return bad(format!("error: {e}")),
                Some(Ok(g)) => (g, None),
            },
            Feed::Closed { obj, steps: total } => {
                if steps as usize >= *total {
                    break;
                }
                let x = DVector::from_vec(reference.params());
                (
                    obj.gradient(&x).as_slice().to_vec(),
                    Some(to_dtype(dtype, obj.value(&x))),
                )
            }
        };
        let g: Vec<f64> = g.iter().map(|&x| to_dtype(dtype, x)).collect();
        if g.len() != params0.len() {
            return bad(format!(
                "error: step {}: gradient has length {}, expected {} (the length of params0)",
                steps + 1,
                g.len(),
                params0.len()
            ));
        }
        if let Some(i) = g.iter().position(|x| !x.is_finite()) {
            let _ = w.finish();
            return bad(format!(
                "error: step {}: gradient[{i}] = {} is not finite (the run diverged); {} wrote the {steps} steps before it",
                steps + 1,
                g[i],
                out.display()
            ));
        }
        if let Err(e) = reference.step(&g) {
            return bad(format!("error: step {}: {e}", steps + 1));
        }
        if let Err(e) = w.step(&g, &reference.params(), loss) {
            return bad(format!("error: {}: {e}", out.display()));
        }
        steps += 1;
    }
    if let Err(e) = w.finish() {
        return bad(format!("error: {}: {e}", out.display()));
    }
    CommandOutput {
        status: EXIT_AGREE,
        text: format!(
            "wrote {} ({steps} steps of {preset} {optimizer}, {dtype}; reference: {})\n",
            out.display(),
            reference.reference()
        ),
    }
}

impl From<ReplayError> for CommandOutput {
    fn from(e: ReplayError) -> Self {
        bad(format!("error: {e}"))
    }
}
