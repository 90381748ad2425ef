//! Fuzzing the trace reader, the oracle's `check` on what it reads, and the presets'
//! hyperparameter parsing (src/oracle/presets.rs).
//!
//! Three input families, each a proptest strategy (so a failure shrinks and replays from its
//! seed):
//! * **structured**: a valid trace (a golden header's preset, optimizer and hyperparameters, a
//!   random layout, θ₀ and 0–3 steps), then a few mutations of fields (delete, replace by any
//!   JSON, add an unknown or optional one), numbers (extremes, non-finite strings, raw tokens
//!   JSON cannot hold such as `1e999` and bare `NaN`), nesting (wrap in arrays/objects, deep
//!   nesting), lengths (resize arrays) and lines (drop, duplicate, swap, truncate);
//! * **byte-level**: the first lines of a golden trace (tests/data/golden/) with bit flips,
//!   insertions of interesting tokens and bytes (invalid UTF-8, NUL, newlines), deletions and
//!   duplications of ranges;
//! * **hyperparameters**: a preset and optimizer (known or not) with a map of known and unknown
//!   names holding any JSON value, through `presets::resolve`, `Setting::build` and
//!   `presets::variants`.
//!
//! Properties: nothing panics; a reader error names the file and the line (and, for a value of
//! the wrong type or range, the field's path); `check` exits 0–4 and on bad input names the
//! file and the line; a preset error names the preset, the optimizer or the hyperparameter.
//!
//! `cargo test` runs a fast slice (1024 cases per family). The long run is ignored by default:
//! `FUZZ_CASES=1000000 cargo test --release --test fuzz_trace -- --ignored --nocapture`
//! (default 10⁶ cases per family). Recorded run (release, 2 shared cores): 10⁶ structured
//! traces in 988 s, 10⁶ golden byte mutations in 130 s, 10⁶ hyperparameter maps in 95 s, no
//! failure.

use optverify::oracle::{cli, format::TraceReader};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

#[path = "support/oracle_inputs.rs"]
mod oracle_inputs;
use oracle_inputs::{exercise_setting, OPTIMIZERS, PRESETS};

// ---------------------------------------------------------------- corpus

/// Golden traces cut to the header and the first `GOLDEN_LINES - 1` steps (small inputs run
/// fast; the reader streams, so later lines exercise nothing new).
const GOLDEN_LINES: usize = 4;

fn corpus() -> &'static [(String, Vec<u8>)] {
    static CORPUS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/golden");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("tests/data/golden")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort();
        let out: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).unwrap();
                let head: String = text.split_inclusive('\n').take(GOLDEN_LINES).collect();
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    head.into_bytes(),
                )
            })
            .collect();
        assert!(out.len() > 100, "golden corpus missing: {} files", out.len());
        out
    })
}

/// The golden headers (valid preset, optimizer and hyperparameters to build traces on).
fn golden_headers() -> &'static [Map<String, Value>] {
    static HEADERS: OnceLock<Vec<Map<String, Value>>> = OnceLock::new();
    HEADERS.get_or_init(|| {
        corpus()
            .iter()
            .map(|(_, bytes)| {
                let line = bytes.split(|&b| b == b'\n').next().unwrap();
                serde_json::from_slice(line).unwrap()
            })
            .collect()
    })
}

// ---------------------------------------------------------------- JSON values

/// Header and step field names, hyperparameter names of every preset, and a few strangers.
const KEYS: &[&str] = &[
    "format",
    "version",
    "optimizer",
    "preset",
    "hyperparameters",
    "layout",
    "dtype",
    "producer",
    "params0",
    "param_groups",
    "schedule",
    "transforms",
    "step",
    "grad",
    "params",
    "loss",
    "name",
    "rows",
    "cols",
    "blocks",
    "args",
    "interval",
    "lr",
    "momentum",
    "dampening",
    "nesterov",
    "weight_decay",
    "betas",
    "eps",
    "amsgrad",
    "lr_decay",
    "initial_accumulator_value",
    "alpha",
    "centered",
    "rho",
    "momentum_decay",
    "decoupled_weight_decay",
    "maximize",
    "foreach",
    "fused",
    "learning_rate",
    "b1",
    "b2",
    "eps_root",
    "mu_dtype",
    "threshold",
    "mask",
    "trust_ratio_mask",
    "trust_coefficient",
    "min_dim_size_to_factor",
    "decay_rate",
    "decay_offset",
    "multiply_by_parameter_scale",
    "clipping_threshold",
    "weight_decay_rate",
    "factored",
    "decay",
    "initial_scale",
    "eps_in_sqrt",
    "bias_correction",
    "beta_1",
    "beta_2",
    "epsilon",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
    "use_ema",
    "ema_momentum",
    "beta2_decay",
    "d",
    "",
    "unknown_name",
    "LR",
    "T_max",
    "max_norm",
];

const STRINGS: &[&str] = &[
    "NaN",
    "Infinity",
    "-Infinity",
    "nan",
    "inf",
    "",
    "f64",
    "f32",
    "float64",
    "bf16",
    "optverify-trace",
    "pytorch",
    "optax",
    "keras",
    "paper",
    "adam",
    "sgd",
    "lamb",
    "lars",
    "adafactor",
    "params",
    "w",
    "b",
    "CosineAnnealingLR",
    "clip_by_global_norm",
    "1e-3",
    "\u{0}",
    "é✓",
    "\\",
    "\"",
];

/// Numbers a parser or an optimizer may choke on.
fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (-10.0f64..10.0).prop_map(Value::from),
        2 => any::<f64>().prop_filter_map("finite", |x| serde_json::Number::from_f64(x).map(Value::Number)),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        3 => prop::sample::select(vec![
            json!(0), json!(-0.0), json!(1), json!(-1), json!(0.5), json!(0.999), json!(1.0000001),
            json!(1e308), json!(-1e308), json!(5e-324), json!(1e-300), json!(9007199254740993u64),
            json!(u64::MAX), json!(i64::MIN), json!(4294967296u64), json!(2), json!(3), json!(1e-8),
        ]),
    ]
}

/// Any JSON value, nested up to a few levels.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        4 => arb_number(),
        2 => prop::sample::select(STRINGS).prop_map(|s| Value::from(s.to_string())),
        1 => "[a-z_]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..4)
                .prop_map(|kv| { Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()) }),
        ]
    })
}

// ---------------------------------------------------------------- structured traces

/// A valid trace as JSON values, one per line: a golden header's preset, optimizer and
/// hyperparameters on a random layout, θ₀ and `steps` steps.
fn arb_valid_trace() -> impl Strategy<Value = Vec<Value>> {
    let n = golden_headers().len();
    (
        0..n,
        prop::collection::vec((1usize..4, 1usize..4), 1..4),
        0usize..4,
        any::<bool>(),
    )
        .prop_flat_map(|(h, shape, steps, f32)| {
            let dim: usize = shape.iter().map(|(r, c)| r * c).sum();
            // An f32 trace holds f32 values widened to f64.
            let vec = move || {
                prop::collection::vec(-3.0f64..3.0, dim).prop_map(move |v| {
                    if f32 {
                        v.iter().map(|&x| f64::from(x as f32)).collect()
                    } else {
                        v
                    }
                })
            };
            (
                Just((h, shape, f32)),
                vec(),
                prop::collection::vec((vec(), vec(), prop::option::of(0.0f64..10.0)), steps),
            )
        })
        .prop_map(|((h, shape, f32), params0, steps)| {
            let mut header = golden_headers()[h].clone();
            let layout: Vec<Value> = shape
                .iter()
                .enumerate()
                .map(|(i, (r, c))| json!({"name": format!("p{i}"), "rows": r, "cols": c}))
                .collect();
            // The golden groups and schedules name the golden layout's blocks: drop them.
            header.remove("param_groups");
            header.insert("layout".into(), Value::Array(layout));
            header.insert("params0".into(), json!(params0));
            header.insert("dtype".into(), json!(if f32 { "f32" } else { "f64" }));
            let mut lines = vec![Value::Object(header)];
            for (t, (g, p, loss)) in steps.into_iter().enumerate() {
                let mut s = json!({"step": t + 1, "grad": g, "params": p});
                if let Some(l) = loss {
                    s["loss"] = json!(l);
                }
                lines.push(s);
            }
            lines
        })
}

/// Tokens that are not JSON values (or not ones `Value` can hold) to put where a number was.
const RAW_TOKENS: &[&str] = &[
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    "-Infinity",
    "nan",
    "1e-400",
    "-0",
    "00",
    "1.",
    ".5",
    "+1",
    "0x10",
    "1_000",
    "18446744073709551616",
    "-9223372036854775809",
    "\"1\"",
    "true",
    "null",
    "[]",
    "{}",
    "[[[[[[[[",
    "1e",
    "--1",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Remove a key of an object on a line.
    DeleteField(Index, Index),
    /// Set a key (existing or from [`KEYS`]) of an object on a line to any JSON value.
    SetField(Index, Index, Value),
    /// Replace one number anywhere in a line by another.
    SetNumber(Index, Index, Value),
    /// Wrap a field's value in `depth` arrays or objects.
    Wrap(Index, Index, usize, bool),
    /// Resize an array anywhere in a line (truncate or pad by repeating its last element).
    Resize(Index, Index, usize),
    DropLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    /// Replace a whole line by any JSON value.
    ReplaceLine(Index, Value),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    let i = || any::<Index>();
    prop_oneof![
        2 => (i(), i()).prop_map(|(a, b)| Mutation::DeleteField(a, b)),
        3 => (i(), i(), arb_json()).prop_map(|(a, b, v)| Mutation::SetField(a, b, v)),
        4 => (i(), i(), arb_number()).prop_map(|(a, b, v)| Mutation::SetNumber(a, b, v)),
        1 => (i(), i(), 1usize..200, any::<bool>()).prop_map(|(a, b, d, o)| Mutation::Wrap(a, b, d, o)),
        2 => (i(), i(), 0usize..8).prop_map(|(a, b, n)| Mutation::Resize(a, b, n)),
        1 => i().prop_map(Mutation::DropLine),
        1 => i().prop_map(Mutation::DuplicateLine),
        1 => (i(), i()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => (i(), arb_json()).prop_map(|(a, v)| Mutation::ReplaceLine(a, v)),
    ]
}

/// Text-level mutations applied after serialisation.
#[derive(Debug, Clone)]
enum TextMutation {
    /// Replace the k-th number token of the text by a raw token.
    RawNumber(Index, &'static str),
    /// Drop the final newline (a truncated last line).
    NoFinalNewline,
    /// Cut the text at a position.
    Truncate(Index),
    /// Insert blank lines.
    BlankLines(Index),
}

fn arb_text_mutation() -> impl Strategy<Value = TextMutation> {
    prop_oneof![
        4 => (any::<Index>(), prop::sample::select(RAW_TOKENS)).prop_map(|(i, t)| TextMutation::RawNumber(i, t)),
        1 => Just(TextMutation::NoFinalNewline),
        1 => any::<Index>().prop_map(TextMutation::Truncate),
        1 => any::<Index>().prop_map(TextMutation::BlankLines),
    ]
}

/// Every path (object keys and array indices) to a value satisfying `want`.
fn paths(v: &Value, want: &dyn Fn(&Value) -> bool, at: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    if want(v) {
        out.push(at.clone());
    }
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(PathStep::At(i));
                paths(x, want, at, out);
                at.pop();
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                at.push(PathStep::Key(k.clone()));
                paths(x, want, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum PathStep {
    At(usize),
    Key(String),
}

fn get_mut<'a>(mut v: &'a mut Value, path: &[PathStep]) -> &'a mut Value {
    for s in path {
        v = match s {
            PathStep::At(i) => &mut v[*i],
            PathStep::Key(k) => &mut v[k.as_str()],
        };
    }
    v
}

/// Apply `m` to the value at a path chosen by `which` among those satisfying `want`.
fn at_path(line: &mut Value, which: &Index, want: &dyn Fn(&Value) -> bool, f: impl FnOnce(&mut Value)) {
    let mut out = vec![];
    paths(line, want, &mut vec![], &mut out);
    if !out.is_empty() {
        f(get_mut(line, &out[which.index(out.len())]));
    }
}

fn apply(lines: &mut Vec<Value>, m: &Mutation) {
    if lines.is_empty() {
        return;
    }
    let n = lines.len();
    match m {
        Mutation::DeleteField(l, k) => {
            if let Value::Object(o) = &mut lines[l.index(n)] {
                if !o.is_empty() {
                    let key = o.keys().nth(k.index(o.len())).unwrap().clone();
                    o.remove(&key);
                }
            }
        }
        Mutation::SetField(l, k, v) => {
            if let Value::Object(o) = &mut lines[l.index(n)] {
                // Half the time an existing key, else any key of KEYS.
                let existing: Vec<String> = o.keys().cloned().collect();
                let i = k.index(existing.len() + KEYS.len());
                let key = existing
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| KEYS[i - existing.len()].to_string());
                o.insert(key, v.clone());
            }
        }
        Mutation::SetNumber(l, k, v) => {
            at_path(&mut lines[l.index(n)], k, &|x| x.is_number(), |x| *x = v.clone())
        }
        Mutation::Wrap(l, k, depth, object) => at_path(
            &mut lines[l.index(n)],
            k,
            &|x| !x.is_object() || x.get("step").is_none(),
            |x| {
                for _ in 0..*depth {
                    *x = if *object {
                        json!({"v": x.take()})
                    } else {
                        json!([x.take()])
                    };
                }
            },
        ),
        Mutation::Resize(l, k, len) => at_path(&mut lines[l.index(n)], k, &|x| x.is_array(), |x| {
            let a = x.as_array_mut().unwrap();
            let last = a.last().cloned().unwrap_or(json!(0.5));
            a.resize(*len, last);
        }),
        Mutation::DropLine(l) => {
            lines.remove(l.index(n));
        }
        Mutation::DuplicateLine(l) => {
            let i = l.index(n);
            lines.insert(i, lines[i].clone());
        }
        Mutation::SwapLines(a, b) => lines.swap(a.index(n), b.index(n)),
        Mutation::ReplaceLine(l, v) => lines[l.index(n)] = v.clone(),
    }
}

fn apply_text(text: &mut String, m: &TextMutation) {
    match m {
        TextMutation::RawNumber(k, tok) => {
            // Number tokens: a digit or '-' not inside a string (the serialiser escapes quotes).
            let bytes = text.as_bytes();
            let mut starts = vec![];
            let mut in_str = false;
            let mut i = 0;
            while i < bytes.len() {
                let c = bytes[i];
                if in_str {
                    if c == b'\\' {
                        i += 1;
                    } else if c == b'"' {
                        in_str = false;
                    }
                } else if c == b'"' {
                    in_str = true;
                } else if c == b'-' || c.is_ascii_digit() {
                    let s = i;
                    while i < bytes.len()
                        && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                    {
                        i += 1;
                    }
                    starts.push((s, i));
                    continue;
                }
                i += 1;
            }
            if !starts.is_empty() {
                let (s, e) = starts[k.index(starts.len())];
                text.replace_range(s..e, tok);
            }
        }
        TextMutation::NoFinalNewline => {
            if text.ends_with('\n') {
                text.pop();
            }
        }
        TextMutation::Truncate(i) => {
            let mut at = i.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.truncate(at);
        }
        TextMutation::BlankLines(i) => {
            let starts: Vec<usize> = std::iter::once(0)
                .chain(text.match_indices('\n').map(|(j, _)| j + 1))
                .collect();
            let at = starts[i.index(starts.len())];
            text.insert_str(at, "\n  \n");
        }
    }
}

/// A generated file; `Debug` shows it as text so that a failing case can be read.
#[derive(Clone)]
struct Bytes(Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", String::from_utf8_lossy(&self.0))
    }
}

fn arb_structured_input() -> impl Strategy<Value = Bytes> {
    (
        arb_valid_trace(),
        prop::collection::vec(arb_mutation(), 0..4),
        prop::collection::vec(arb_text_mutation(), 0..2),
    )
        .prop_map(|(mut lines, muts, text_muts)| {
            for m in &muts {
                apply(&mut lines, m);
            }
            let mut text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            for m in &text_muts {
                apply_text(&mut text, m);
            }
            Bytes(text.into_bytes())
        })
}

// ---------------------------------------------------------------- byte-level

const BYTE_TOKENS: &[&[u8]] = &[
    b"NaN",
    b"1e999",
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\n",
    b"\r\n",
    b"\0",
    b"\xff",
    b"\xc3",
    b"-",
    b"\"Infinity\"",
    b"null",
    b"99999999999999999999999",
    b"\\u0000",
    b"\xef\xbb\xbf",
    b"{\"step\": 1}",
    b"0",
    b" ",
];

#[derive(Debug, Clone)]
enum ByteOp {
    Flip(Index, u8),
    Insert(Index, Vec<u8>),
    InsertToken(Index, &'static [u8]),
    Delete(Index, usize),
    Duplicate(Index, usize, Index),
}

fn arb_byte_op() -> impl Strategy<Value = ByteOp> {
    let i = || any::<Index>();
    prop_oneof![
        3 => (i(), 0u8..8).prop_map(|(p, b)| ByteOp::Flip(p, b)),
        1 => (i(), prop::collection::vec(any::<u8>(), 1..4)).prop_map(|(p, b)| ByteOp::Insert(p, b)),
        3 => (i(), prop::sample::select(BYTE_TOKENS)).prop_map(|(p, t)| ByteOp::InsertToken(p, t)),
        2 => (i(), 1usize..40).prop_map(|(p, n)| ByteOp::Delete(p, n)),
        1 => (i(), 1usize..200, i()).prop_map(|(p, n, q)| ByteOp::Duplicate(p, n, q)),
    ]
}

fn apply_bytes(b: &mut Vec<u8>, op: &ByteOp) {
    let pos = |i: &Index, b: &Vec<u8>| i.index(b.len() + 1);
    match op {
        ByteOp::Flip(i, bit) => {
            if !b.is_empty() {
                let p = i.index(b.len());
                b[p] ^= 1 << bit;
            }
        }
        ByteOp::Insert(i, bytes) => {
            let p = pos(i, b);
            b.splice(p..p, bytes.iter().copied());
        }
        ByteOp::InsertToken(i, t) => {
            let p = pos(i, b);
            b.splice(p..p, t.iter().copied());
        }
        ByteOp::Delete(i, n) => {
            let p = pos(i, b);
            let e = (p + n).min(b.len());
            b.drain(p..e);
        }
        ByteOp::Duplicate(i, n, j) => {
            let p = pos(i, b);
            let e = (p + n).min(b.len());
            let chunk: Vec<u8> = b[p..e].to_vec();
            let q = pos(j, b);
            b.splice(q..q, chunk);
        }
    }
}

fn arb_byte_input() -> impl Strategy<Value = Bytes> {
    (0..corpus().len(), prop::collection::vec(arb_byte_op(), 1..6)).prop_map(|(f, ops)| {
        let mut b = corpus()[f].1.clone();
        for op in &ops {
            apply_bytes(&mut b, op);
        }
        Bytes(b)
    })
}

// ---------------------------------------------------------------- hyperparameters

/// preset, optimizer, hyperparameters, layout shapes.
type HyperInput = (String, String, Map<String, Value>, Vec<(usize, usize)>);

fn arb_hyper_input() -> impl Strategy<Value = HyperInput> {
    (
        prop::sample::select(PRESETS),
        prop::sample::select(OPTIMIZERS),
        prop::collection::vec(
            (
                prop::sample::select(KEYS),
                prop_oneof![3 => arb_number(), 2 => arb_json()],
            ),
            0..5,
        ),
        prop::collection::vec((1usize..5, 1usize..5), 1..3),
    )
        .prop_map(|(p, o, kv, shape)| {
            (
                p.to_string(),
                o.to_string(),
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                shape,
            )
        })
}

// ---------------------------------------------------------------- properties

const FILE: &str = "fuzz.jsonl";

/// A reader or `check` error must start `fuzz.jsonl:LINE:` (or be the empty-file error).
fn assert_located(msg: &str) -> Result<(), TestCaseError> {
    if msg.starts_with(&format!("{FILE}: empty file")) {
        return Ok(());
    }
    let rest = msg
        .strip_prefix(FILE)
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(|| TestCaseError::fail(format!("error does not name the file: {msg}")))?;
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    prop_assert!(
        digits > 0 && rest[digits..].starts_with(": "),
        "error does not name the line: {msg}"
    );
    Ok(())
}

/// Read every step, then run `check` on a fresh reader of the same bytes.
fn exercise_trace(bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut reader = match TraceReader::new(FILE, bytes) {
        Err(e) => return assert_located(&e.to_string()),
        Ok(r) => r,
    };
    let mut read_ok = true;
    for rec in &mut reader {
        if let Err(e) = rec {
            assert_located(&e.to_string())?;
            read_ok = false;
            break;
        }
    }
    let mut reader = TraceReader::new(FILE, bytes).expect("the header parsed once");
    let out = cli::check_reader(&mut reader, None);
    prop_assert!(out.status <= 4, "status {}: {}", out.status, out.text);
    if out.status == cli::EXIT_BAD_INPUT {
        let msg = out.text.strip_prefix("error: ").unwrap_or(&out.text);
        assert_located(msg)?;
    } else {
        prop_assert!(read_ok, "check accepted a trace the reader refused: {}", out.text);
    }
    if out.status == cli::EXIT_NOTHING_TO_CHECK {
        prop_assert!(!out.text.contains("AGREES"), "{}", out.text);
    }
    Ok(())
}

fn exercise_hyper((preset, optimizer, map, shape): &HyperInput) -> Result<(), TestCaseError> {
    let blocks: Vec<_> = shape
        .iter()
        .enumerate()
        .map(|(i, &(rows, cols))| optverify::oracle::format::BlockSpec {
            name: format!("p{i}"),
            rows,
            cols,
        })
        .collect();
    if let Err(e) = exercise_setting(preset, optimizer, map, &blocks) {
        let msg = e.to_string();
        let named = msg.contains(&format!("{preset:?}"))
            || msg.contains(&format!("{optimizer:?}"))
            || (!preset.is_empty() && msg.contains(preset.as_str()))
            || (!optimizer.is_empty() && msg.contains(optimizer.as_str()))
            || map.keys().any(|k| !k.is_empty() && msg.contains(k.as_str()))
            || msg.contains("valid range");
        prop_assert!(
            named,
            "error names neither preset, optimizer nor hyperparameter: {msg}"
        );
    }
    Ok(())
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn prop_structured_traces_never_panic(bytes in arb_structured_input()) {
        exercise_trace(&bytes.0)?;
    }

    #[test]
    fn prop_golden_byte_mutations_never_panic(bytes in arb_byte_input()) {
        exercise_trace(&bytes.0)?;
    }

    #[test]
    fn prop_hyperparameters_never_panic(input in arb_hyper_input()) {
        exercise_hyper(&input)?;
    }
}

/// The unmutated structured traces are accepted (the generator is valid, so mutations start
/// from a trace the oracle reads).
#[test]
fn test_valid_traces_are_read_and_checked() {
    let mut runner = TestRunner::new(config(64));
    runner
        .run(&arb_valid_trace(), |lines| {
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let mut r =
                TraceReader::new(FILE, text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let steps = (&mut r).map(|s| s.map(|_| ())).collect::<Result<Vec<()>, _>>();
            prop_assert_eq!(
                steps.map_err(|e| TestCaseError::fail(e.to_string()))?.len(),
                lines.len() - 1
            );
            let mut r = TraceReader::new(FILE, text.as_bytes()).unwrap();
            let out = cli::check_reader(&mut r, None);
            prop_assert_ne!(out.status, cli::EXIT_BAD_INPUT, "{}", out.text);
            Ok(())
        })
        .unwrap();
}

/// The long run: `FUZZ_CASES` (default 10⁶) cases of each family; prints the counts.
#[test]
#[ignore = "long run (minutes): FUZZ_CASES=1000000 cargo test --release --test fuzz_trace -- --ignored --nocapture"]
fn fuzz_long() {
    let cases: u32 = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let t0 = std::time::Instant::now();
    TestRunner::new(config(cases))
        .run(&arb_structured_input(), |b| exercise_trace(&b.0))
        .unwrap();
    eprintln!(
        "structured traces: {cases} cases, 0 failures, {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    let t0 = std::time::Instant::now();
    TestRunner::new(config(cases))
        .run(&arb_byte_input(), |b| exercise_trace(&b.0))
        .unwrap();
    eprintln!(
        "golden byte mutations: {cases} cases, 0 failures, {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    let t0 = std::time::Instant::now();
    TestRunner::new(config(cases))
        .run(&arb_hyper_input(), |i| exercise_hyper(&i))
        .unwrap();
    eprintln!(
        "hyperparameters: {cases} cases, 0 failures, {:.0} s",
        t0.elapsed().as_secs_f64()
    );
}
