//! Binary traces (a directory of safetensors files, `oracle::binary`): the same verdicts as
//! JSON Lines, exact conversion both ways, `--sample`, and clear errors (file, field, valid
//! range) for hostile or malformed directories — never a panic.

use optverify::oracle::binary::{self, BinaryTrace, HEADER_FILE, HEADER_KEY, STEP_KEY};
use optverify::oracle::cli::{self, CommandOutput, EXIT_AGREE, EXIT_BAD_INPUT, EXIT_DISAGREE};
use std::path::{Path, PathBuf};

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(name)
}

/// A fresh directory under the system temp dir.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("optverify-binary-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn convert(jsonl: &Path, dir: &Path) {
    let out = binary::convert(jsonl, dir);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
}

/// A pytorch Adam f32 trace (kernel reference) of `dim` parameters in two blocks, written by
/// the crate's `trace` command on the quadratic problem, converted to binary.
fn adam_f32_trace(name: &str, steps: usize) -> PathBuf {
    let d = scratch(name);
    let jsonl = d.join("run.jsonl");
    let out = cli::trace(
        "pytorch",
        "adamw",
        r#"{"lr": 0.01}"#,
        cli::GradientSource::Problem {
            name: "logistic",
            dim: Some(40),
            seed: 3,
            steps,
        },
        Some(optverify::oracle::format::Dtype::F32),
        &jsonl,
    );
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    let bin = d.join("run.ovt");
    convert(&jsonl, &bin);
    bin
}

/// Everything after the first line (which names the file).
fn body(o: &CommandOutput) -> String {
    o.text
        .split_once('\n')
        .map_or(String::new(), |(_, r)| r.to_string())
}

#[test]
fn binary_and_json_lines_give_the_same_check_output() {
    for name in [
        "torch-adamw-default-randn-f32.jsonl",
        "torch-adam-amsgrad-matrix.jsonl",
        "optax-adam-default-matrix.jsonl",
        "keras-adadelta-default-quad-f32.jsonl",
        // Schedules and parameter groups: checked through the JSON Lines path.
        "features/torch-adam-cosine.jsonl",
        "features/optax-sgd-piecewise.jsonl",
        // Keras get_config() verbatim: the schedule serialized in `learning_rate`.
        "features/keras-recorder-adamw-restarts-f32.jsonl",
        "features/keras-verbatim-sgd-piecewise.jsonl",
    ] {
        let src = golden(name);
        if !src.exists() {
            panic!("golden trace {name} missing");
        }
        let d = scratch(&format!("same-{}", name.replace('/', "-")));
        let bin = d.join("t.ovt");
        convert(&src, &bin);
        let a = cli::check(&src, None);
        let b = binary::check_any(&bin, None, None);
        assert_eq!(a.status, b.status, "{name}: {}\n{}", a.text, b.text);
        assert_eq!(body(&a), body(&b), "{name}");
        // ...and back to JSON Lines, value for value.
        let back = d.join("back.jsonl");
        assert_eq!(binary::convert(&bin, &back).status, EXIT_AGREE);
        let parse = |p: &Path| -> Vec<serde_json::Value> {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        assert_eq!(parse(&src), parse(&back), "{name}: round trip");
    }
}

#[test]
fn an_f32_binary_trace_stores_four_bytes_per_float() {
    let bin = adam_f32_trace("size", 3);
    let trace = BinaryTrace::open(&bin).unwrap();
    let n = trace.dim() as u64;
    let step = std::fs::metadata(bin.join(binary::step_file_name(1)))
        .unwrap()
        .len();
    // grad + params, 4 bytes each, plus a header of a few hundred bytes.
    assert!(
        step >= 8 * n && step < 8 * n + 1024,
        "{step} bytes for {n} parameters"
    );
}

#[test]
fn a_wrong_coordinate_is_found_in_full_and_by_the_sample() {
    let bin = adam_f32_trace("wrong", 5);
    assert_eq!(binary::check_any(&bin, None, None).status, EXIT_AGREE);
    assert_eq!(binary::check_any(&bin, None, Some(4)).status, EXIT_AGREE);
    // Perturb the last coordinate of the last block at step 3 (always sampled).
    let trace = BinaryTrace::open(&bin).unwrap();
    let mut rec = trace.record(3).unwrap();
    let last = rec.params.len() - 1;
    rec.params[last] = f64::from((rec.params[last] as f32) * 1.01);
    let d = scratch("wrong-out");
    let out = d.join("w.ovt");
    let mut h = trace.header().clone();
    h.params0 = trace.params0_f64().unwrap();
    let mut w = binary::BinaryWriter::create(&out, &h).unwrap();
    for t in 1..=trace.steps() {
        let r = if t == 3 {
            rec.clone()
        } else {
            trace.record(t).unwrap()
        };
        w.step(&r).unwrap();
    }
    let full = binary::check_any(&out, None, None);
    assert_eq!(full.status, EXIT_DISAGREE, "{}", full.text);
    assert!(full.text.contains("step 3"), "{}", full.text);
    let sampled = binary::check_any(&out, None, Some(2));
    assert_eq!(sampled.status, EXIT_DISAGREE, "{}", sampled.text);
    assert!(sampled.text.contains("sampled:"), "{}", sampled.text);
    let replay = binary::replay_any(&out, None, Some(2));
    assert_eq!(replay.status, EXIT_DISAGREE, "{}", replay.text);
}

fn expect_bad(dir: &Path, needles: &[&str]) {
    let o = binary::check_any(dir, None, None);
    assert_eq!(o.status, EXIT_BAD_INPUT, "{}", o.text);
    for n in needles {
        assert!(o.text.contains(n), "expected {n:?} in: {}", o.text);
    }
}

/// A copy of the trace directory `src` at `dst`.
fn copy_dir(src: &Path, dst: &Path) {
    let _ = std::fs::remove_dir_all(dst);
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
}

/// A safetensors file written byte by byte (hostile input for the reader).
fn raw_file(header_json: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header_json.as_bytes().to_vec();
    while h.len() % 8 != 0 {
        h.push(b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out
}

#[test]
fn malformed_directories_are_bad_input_naming_file_and_field() {
    let bin = adam_f32_trace("bad", 3);
    let base = scratch("bad-cases");
    let step2 = binary::step_file_name(2);

    // Truncated step file.
    let d = base.join("truncated");
    copy_dir(&bin, &d);
    let bytes = std::fs::read(d.join(&step2)).unwrap();
    std::fs::write(d.join(&step2), &bytes[..bytes.len() - 7]).unwrap();
    expect_bad(&d, &[&step2, "truncated"]);

    // Header length beyond the file.
    let d = base.join("huge-length");
    copy_dir(&bin, &d);
    let mut bytes = std::fs::read(d.join(&step2)).unwrap();
    bytes[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(d.join(&step2), &bytes).unwrap();
    expect_bad(&d, &[&step2, "header length", "valid range"]);

    // Shorter than the 8-byte length.
    let d = base.join("tiny");
    copy_dir(&bin, &d);
    std::fs::write(d.join(&step2), b"abc").unwrap();
    expect_bad(&d, &[&step2, "header length"]);

    // A step missing from the middle.
    let d = base.join("gap");
    copy_dir(&bin, &d);
    std::fs::remove_file(d.join(&step2)).unwrap();
    expect_bad(&d, &["not consecutive", &step2]);

    // A stray step-like name.
    let d = base.join("stray");
    copy_dir(&bin, &d);
    std::fs::write(d.join("step-x.safetensors"), b"").unwrap();
    expect_bad(&d, &["step-x.safetensors", "valid"]);

    // Wrong dtype: f64 tensors in an f32 trace.
    let d = base.join("dtype");
    copy_dir(&bin, &d);
    let n = BinaryTrace::open(&bin).unwrap().block_sizes().to_vec();
    let mut tensors = vec![];
    let mut off = 0;
    for p in ["grad", "params"] {
        for (i, &k) in n.iter().enumerate() {
            tensors.push(format!(
                r#""{p}.{i}":{{"dtype":"F64","shape":[{k}],"data_offsets":[{off},{}]}}"#,
                off + 8 * k
            ));
            off += 8 * k;
        }
    }
    let json = format!(
        r#"{{"__metadata__":{{"{STEP_KEY}":"{{\"step\":2}}"}},{}}}"#,
        tensors.join(",")
    );
    std::fs::write(d.join(&step2), raw_file(&json, &vec![0u8; off])).unwrap();
    expect_bad(&d, &["grad.0", "F64", "f32"]);

    // Shape disagreeing with the layout.
    let d = base.join("shape");
    copy_dir(&bin, &d);
    let json = format!(
        r#"{{"__metadata__":{{"{STEP_KEY}":"{{\"step\":2}}"}},"grad.0":{{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}}}"#
    );
    std::fs::write(d.join(&step2), raw_file(&json, &[0u8; 4])).unwrap();
    expect_bad(&d, &["grad.0", "layout block 0"]);

    // Data offsets that overflow / point outside the file.
    let d = base.join("offsets");
    copy_dir(&bin, &d);
    let json = format!(
        r#"{{"__metadata__":{{"{STEP_KEY}":"{{\"step\":2}}"}},"grad.0":{{"dtype":"F32","shape":[18446744073709551615,2],"data_offsets":[0,4]}}}}"#
    );
    std::fs::write(d.join(&step2), raw_file(&json, &[0u8; 4])).unwrap();
    expect_bad(&d, &[&step2]);

    // Step number in the metadata disagreeing with the file name.
    let d = base.join("stepno");
    copy_dir(&bin, &d);
    let mut bytes = std::fs::read(d.join(&step2)).unwrap();
    let pat = br#"\"step\":2"#;
    let at = bytes
        .windows(pat.len())
        .position(|w| w == pat)
        .expect("the step JSON in the metadata");
    bytes[at + pat.len() - 1] = b'7';
    std::fs::write(d.join(&step2), &bytes).unwrap();
    expect_bad(&d, &[&step2, "step", "is 7"]);

    // Header: missing metadata key, overflowing layout.
    let d = base.join("header");
    copy_dir(&bin, &d);
    std::fs::write(
        d.join(HEADER_FILE),
        raw_file(r#"{"__metadata__":{"other":"x"}}"#, &[]),
    )
    .unwrap();
    expect_bad(&d, &[HEADER_FILE, HEADER_KEY, "missing"]);
    let header = r#"{"format":"optverify-trace","version":1,"optimizer":"sgd","preset":"pytorch","hyperparameters":{},"layout":[{"name":"w","rows":18446744073709551615,"cols":3}],"dtype":"f32","producer":"x"}"#;
    let json = format!(
        r#"{{"__metadata__":{{"{HEADER_KEY}":{}}}}}"#,
        serde_json::to_string(&header).unwrap()
    );
    std::fs::write(d.join(HEADER_FILE), raw_file(&json, &[])).unwrap();
    expect_bad(&d, &["layout[0]", "overflows", "valid"]);

    // No header file at all.
    let d = base.join("empty");
    std::fs::create_dir_all(&d).unwrap();
    expect_bad(&d, &[HEADER_FILE, "cannot read"]);
}

#[test]
fn sampling_is_refused_where_it_would_be_wrong_or_useless() {
    let bin = adam_f32_trace("refuse", 2);
    let o = binary::check_any(&bin, None, Some(1));
    assert_eq!(o.status, EXIT_BAD_INPUT);
    assert!(o.text.contains("valid range"), "{}", o.text);
    let o = binary::check_any(&golden("torch-adamw-default-randn-f32.jsonl"), None, Some(8));
    assert_eq!(o.status, EXIT_BAD_INPUT);
    assert!(o.text.contains("convert"), "{}", o.text);
    // A layer-wise optimizer: the sample would need the blocks' norms.
    let lamb = std::fs::read_dir(golden("").as_path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("optax-lamb"))
        .expect("an optax lamb golden trace");
    let d = scratch("lamb");
    convert(&lamb, &d.join("l.ovt"));
    let o = binary::check_any(&d.join("l.ovt"), None, Some(8));
    assert_eq!(o.status, EXIT_BAD_INPUT, "{}", o.text);
    assert!(o.text.contains("layer-wise"), "{}", o.text);
}

#[test]
fn a_trace_without_steps_is_nothing_to_check() {
    let bin = adam_f32_trace("nosteps", 2);
    let d = scratch("nosteps-copy");
    let only = d.join("h.ovt");
    std::fs::create_dir_all(&only).unwrap();
    std::fs::copy(bin.join(HEADER_FILE), only.join(HEADER_FILE)).unwrap();
    let o = binary::check_any(&only, None, None);
    assert_eq!(o.status, binary::EXIT_NOTHING, "{}", o.text);
}

/// `--sample` on optax lamb and lars traces recorded by `optverify.optax.record`
/// (scripts/record_layerwise.py), which writes each block's norms (`norms.<i>`): the sampled
/// coordinates replay bit for bit from the recorded norms, step 1's recorded norms equal the
/// kernel's own (θ₀ and g₁ in full), and the full check agrees bit for bit as well.
#[test]
fn layerwise_traces_sample_from_their_recorded_block_norms() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/layerwise");
    for name in ["optax-lamb-f32.ovt", "optax-lars-f64.ovt"] {
        let path = dir.join(name);
        let o = binary::check_any(&path, None, Some(8));
        assert_eq!(o.status, 0, "{name}: {}", o.text);
        assert!(o.text.contains("12/12 steps bit for bit"), "{name}: {}", o.text);
        assert!(
            o.text.contains("‖u₁‖ of all 4 blocks bit-identical"),
            "{name}: {}",
            o.text
        );
        let full = binary::check_any(&path, None, None);
        assert_eq!(full.status, 0, "{name}: {}", full.text);
        assert!(
            full.text.contains("12/12 steps bit for bit"),
            "{name}: {}",
            full.text
        );
    }
}

/// A header built in code is not checked by a reader: the writer checks its layout before it
/// creates anything (2³² × 2³² wraps to 0, which `params0: []` would otherwise match).
#[test]
fn the_writer_refuses_a_hand_built_header_whose_layout_overflows() {
    use optverify::oracle::format::{BlockSpec, Dtype, Header, FORMAT_NAME, FORMAT_VERSION};
    let big = 1usize << 32;
    let header = Header {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
        optimizer: "sgd".into(),
        preset: "pytorch".into(),
        hyperparameters: serde_json::Map::new(),
        layout: vec![BlockSpec {
            name: "w".into(),
            rows: big,
            cols: big,
        }],
        dtype: Dtype::F32,
        producer: "test".into(),
        params0: vec![],
        param_groups: None,
        schedule: None,
        transforms: vec![],
        jax_enable_x64: None,
    };
    let d = scratch("overflow-writer").join("t.ovt");
    let e = binary::BinaryWriter::create(&d, &header).unwrap_err().to_string();
    assert!(e.contains("layout block 0") && e.contains("overflows"), "{e}");
    assert!(!d.exists(), "nothing is created for a header that is refused");
}
