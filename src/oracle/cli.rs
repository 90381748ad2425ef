//! The oracle's commands as library functions (`optverify trace | replay | check`): plain
//! arguments in, an exit code and the text to print out. Exit codes: 0 agreement (or trace
//! written), 1 disagreement, 2 bad input.

use super::compare::{self, describe_diff, Outcome, ReplayError};
use super::format::{self, BlockSpec, Dtype, Header, TraceReader, TraceWriter};
use super::presets;
use nalgebra::DVector;
use std::io::BufRead;
use std::path::Path;

/// Exit status: the trace agrees with the preset (or the trace was written).
pub const EXIT_AGREE: u8 = 0;
/// Exit status: the trace disagrees.
pub const EXIT_DISAGREE: u8 = 1;
/// Exit status: bad input (unreadable or malformed trace, unknown preset, bad arguments).
pub const EXIT_BAD_INPUT: u8 = 2;

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

fn summary_line(h: &Header, o: &Outcome) -> String {
    let mut s = format!(
        "{}/{} steps bit for bit; worst {} ulps, worst relative difference {:.3e} (tolerance {:.1e})",
        o.bit_identical_steps,
        o.steps,
        o.worst_ulps_value(),
        o.worst_rel_value(),
        o.tolerance
    );
    if let Some((step, e)) = &o.step_error {
        s.push_str(&format!("; the crate's optimizer refused step {step}: {e}"));
    }
    if let Some(d) = &o.first_beyond {
        s.push_str(&format!("\n  first beyond tolerance: {}", describe_diff(h, d)));
    } else if let Some(d) = &o.first_difference {
        s.push_str(&format!("\n  first difference: {}", describe_diff(h, d)));
    }
    s
}

fn header_line(file: &str, h: &Header) -> String {
    format!(
        "trace {file}: {} {} ({}), {} parameters, {}, producer {:?}",
        h.preset,
        h.optimizer,
        serde_json::Value::Object(h.hyperparameters.clone()),
        h.dim(),
        match h.dtype {
            Dtype::F64 => "f64",
            Dtype::F32 => "f32",
        },
        h.producer
    )
}

fn open(path: &Path) -> Result<TraceReader<std::io::BufReader<std::fs::File>>, CommandOutput> {
    format::open(path).map_err(|e| bad(format!("error: {e}")))
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
    if let Some(t) = rel_tol {
        if !(t.is_finite() && t >= 0.0) {
            return bad(format!(
                "error: --rel-tol = {t} is invalid; valid range: [0, inf), finite"
            ));
        }
    }
    let head = header_line(reader.file(), reader.header());
    let header = reader.header().clone();
    match compare::replay(reader, rel_tol) {
        Err(e) => bad(format!("error: {e}")),
        Ok(o) => CommandOutput {
            status: if o.agrees() { EXIT_AGREE } else { EXIT_DISAGREE },
            text: format!(
                "{head}\n{}: {}\n",
                if o.agrees() { "AGREES" } else { "DISAGREES" },
                summary_line(&header, &o)
            ),
        },
    }
}

/// `optverify check TRACE [--rel-tol X]`: [`replay`], then replay every convention variant
/// and say which the trace matches.
pub fn check(path: &Path, rel_tol: Option<f64>) -> CommandOutput {
    let mut reader = match open(path) {
        Ok(r) => r,
        Err(e) => return e,
    };
    check_reader(&mut reader, rel_tol)
}

/// [`check`] on an open reader.
pub fn check_reader<R: BufRead>(reader: &mut TraceReader<R>, rel_tol: Option<f64>) -> CommandOutput {
    if let Some(t) = rel_tol {
        if !(t.is_finite() && t >= 0.0) {
            return bad(format!(
                "error: --rel-tol = {t} is invalid; valid range: [0, inf), finite"
            ));
        }
    }
    let head = header_line(reader.file(), reader.header());
    let header = reader.header().clone();
    let results = match compare::compare_variants(reader, rel_tol) {
        Err(e) => return bad(format!("error: {e}")),
        Ok(r) => r,
    };
    let (declared, declared_outcome) = &results[0];
    let agrees = declared_outcome.agrees();
    let mut text = format!(
        "{head}\n{} {}: {}\n",
        if agrees { "AGREES with" } else { "DISAGREES with" },
        declared.label,
        summary_line(&header, declared_outcome)
    );
    text.push_str(&diagnosis(&results));
    CommandOutput {
        status: if agrees { EXIT_AGREE } else { EXIT_DISAGREE },
        text,
    }
}

/// The diagnosis paragraph: which variants the trace matches, which it does not.
pub fn diagnosis(results: &[(presets::Variant, Outcome)]) -> String {
    // Skip the declared entry (index 0); it is repeated among the variants.
    let mut matches: Vec<&(presets::Variant, Outcome)> =
        results[1..].iter().filter(|(_, o)| o.agrees()).collect();
    matches.sort_by(|a, b| a.1.worst_rel_value().total_cmp(&b.1.worst_rel_value()));
    let mut misses: Vec<&(presets::Variant, Outcome)> =
        results[1..].iter().filter(|(_, o)| !o.agrees()).collect();
    misses.sort_by(|a, b| a.1.worst_rel_value().total_cmp(&b.1.worst_rel_value()));
    let mut s = String::from("diagnosis:\n");
    if matches.is_empty() {
        s.push_str("  matches none of the known convention variants\n");
    }
    for (v, o) in &matches {
        s.push_str(&format!(
            "  matches {} [{}/{} steps bit for bit, worst relative {:.1e}]\n",
            v.label,
            o.bit_identical_steps,
            o.steps,
            o.worst_rel_value()
        ));
    }
    for (v, o) in &misses {
        let at = o
            .first_beyond
            .map(|d| format!("first at step {}, coordinate {}", d.step, d.coord))
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
}

/// `optverify trace --preset P --optimizer O --hyperparameters JSON (--from-trace T |
/// --gradients G [--params0 JSON]) --out FILE`: run the crate's optimizer on a supplied
/// gradient sequence and write a reference trace.
pub fn trace(
    preset: &str,
    optimizer: &str,
    hyperparameters: &str,
    source: GradientSource,
    out: &Path,
) -> CommandOutput {
    let hp: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(hyperparameters) {
        Ok(m) => m,
        Err(e) => return bad(format!("error: --hyperparameters must be a JSON object: {e}")),
    };
    let setting = match presets::resolve(preset, optimizer, &hp) {
        Ok(s) => s,
        Err(e) => return bad(format!("error: {e}")),
    };
    let mut opt = match setting.build() {
        Ok(o) => o,
        Err(e) => return bad(format!("error: {e}")),
    };
    // Gradients as an iterator of Result<Vec<f64>, String>, with params0 and layout.
    type Grads = Box<dyn Iterator<Item = Result<Vec<f64>, String>>>;
    let (params0, layout, grads): (Vec<f64>, Vec<BlockSpec>, Grads) = match source {
        GradientSource::Trace(p) => match format::open(p) {
            Err(e) => return bad(format!("error: {e}")),
            Ok(r) => {
                let h = r.header().clone();
                (
                    h.params0,
                    h.layout,
                    Box::new(r.map(|s| s.map(|s| s.grad).map_err(|e| e.to_string()))),
                )
            }
        },
        GradientSource::Lines { path, params0 } => {
            let file = match std::fs::File::open(path) {
                Ok(f) => f,
                Err(e) => return bad(format!("error: {}: cannot read: {e}", path.display())),
            };
            let name = path.display().to_string();
            let mut lines = std::io::BufReader::new(file)
                .lines()
                .enumerate()
                .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()));
            let parse = move |(i, l): (usize, std::io::Result<String>)| -> Result<Vec<f64>, String> {
                let l = l.map_err(|e| format!("{name}:{}: {e}", i + 1))?;
                let v: Vec<f64> = serde_json::from_str(&l)
                    .map_err(|e| format!("{name}:{}: expected an array of finite numbers: {e}", i + 1))?;
                Ok(v)
            };
            let first = match lines.next() {
                None => return bad(format!("error: {}: no gradients", path.display())),
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
                Box::new(std::iter::once(Ok(first)).chain(lines.map(parse))),
            )
        }
    };
    let header = Header {
        format: format::FORMAT_NAME.into(),
        version: format::FORMAT_VERSION,
        optimizer: optimizer.into(),
        preset: preset.into(),
        hyperparameters: hp,
        layout,
        dtype: Dtype::F64,
        producer: format!("optverify {}", crate::VERSION),
        params0: params0.clone(),
    };
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => return bad(format!("error: {}: cannot write: {e}", out.display())),
    };
    let mut w = match TraceWriter::new(std::io::BufWriter::new(file), &header) {
        Ok(w) => w,
        Err(e) => return bad(format!("error: {}: {e}", out.display())),
    };
    let mut x = DVector::from_vec(params0);
    let mut steps = 0u64;
    for g in grads {
        let g = match g {
            Ok(g) => g,
            Err(e) => return bad(format!("error: {e}")),
        };
        let gv = DVector::from_vec(g);
        if let Err(e) = opt.step(&mut x, &gv) {
            return bad(format!("error: step {}: {e}", steps + 1));
        }
        if let Err(e) = w.step(gv.as_slice(), x.as_slice(), None) {
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
            "wrote {} ({steps} steps of {preset} {optimizer}, {})\n",
            out.display(),
            opt.variant()
        ),
    }
}

impl From<ReplayError> for CommandOutput {
    fn from(e: ReplayError) -> Self {
        bad(format!("error: {e}"))
    }
}
