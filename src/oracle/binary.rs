//! # Binary traces: a directory of safetensors files, checked in constant memory
//!
//! The layout is specified in [`super::format`] ("The binary layout"); this module reads it
//! (memory-mapped, one step file at a time), writes it, converts either way, and checks it.
//!
//! * [`BinaryTrace::open`] validates the directory (header file, consecutive step files) and
//!   the header; [`BinaryTrace::step`] maps one step file and validates its tensors against
//!   the layout and dtype. Nothing of a step outlives the call that uses it, so memory is
//!   O(number of parameters) whatever the number of steps.
//! * [`check`] / [`replay`] run the declared reference in the trace's own dtype (f32 traces
//!   in f32 arithmetic, straight from the file's f32 values), single pass per step, with the
//!   buffers allocated once. `--sample K` replays only K coordinates per block
//!   ([`sample_block`]) for element-wise optimizers: their update of coordinate i depends on
//!   coordinate i only (plus per-step scalars), so the sub-vector's trajectory is the
//!   projection of the full one, bit for bit.
//! * The diagnosis of `check` (the convention variants, crate optimizers in f64) runs on
//!   [`DIAGNOSIS_SAMPLE`] coordinates per block for element-wise optimizers (all coordinates
//!   of smaller blocks), so its memory does not grow with the model either; the output says
//!   how many coordinates it saw.

use super::cli::{self, CommandOutput, EXIT_AGREE, EXIT_BAD_INPUT, EXIT_DISAGREE};
use super::compare::{self, Outcome, Reference};
use super::format::{self, Dtype, Header, StepRecord};
use super::kernels::{self, Kernel, Real};
use super::presets::{self, Setting};
use crate::optim::Optimizer;
use memmap2::Mmap;
use nalgebra::DVector;
use safetensors::SafeTensors;
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The header file of a binary trace directory.
pub const HEADER_FILE: &str = "header.safetensors";
/// Metadata key of the header file holding the header JSON.
pub const HEADER_KEY: &str = "optverify-trace";
/// Metadata key of a step file holding the step's non-array fields as JSON.
pub const STEP_KEY: &str = "optverify-step";
/// Exit status of `check`/`replay` when the trace has no steps.
pub const EXIT_NOTHING: u8 = 4;
/// Coordinates per block the diagnosis replays for element-wise optimizers.
pub const DIAGNOSIS_SAMPLE: usize = 1024;
/// Seed of the pseudo-random part of [`sample_block`].
pub const SAMPLE_SEED: u64 = 0x6f70_7476_6572_6966;

/// The file name of step `t` (`step-00000001.safetensors`).
pub fn step_file_name(t: u64) -> String {
    format!("step-{t:08}.safetensors")
}

/// Bad input in a binary trace: the file, the field and what is wrong (with the valid range).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BinaryError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {field}: {message}")]
    Field {
        file: String,
        field: String,
        message: String,
    },
}

fn field_err(file: &str, field: impl Into<String>, message: impl Into<String>) -> BinaryError {
    BinaryError::Field {
        file: file.into(),
        field: field.into(),
        message: message.into(),
    }
}

/// The element types of a binary trace.
pub trait Elem: Real {
    /// Its safetensors dtype.
    const ST: safetensors::Dtype;
    /// Bytes per element.
    const SIZE: usize;
    /// Decode little-endian `bytes` (a multiple of [`Self::SIZE`] long) into `out`.
    fn decode(bytes: &[u8], out: &mut [Self]);
    /// Element `j` of little-endian `bytes`.
    fn get(bytes: &[u8], j: usize) -> Self;
    /// Append the little-endian bytes of `x`.
    fn encode(x: Self, out: &mut Vec<u8>);
}

impl Elem for f32 {
    const ST: safetensors::Dtype = safetensors::Dtype::F32;
    const SIZE: usize = 4;
    fn decode(bytes: &[u8], out: &mut [f32]) {
        for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
    }
    fn get(bytes: &[u8], j: usize) -> f32 {
        let c = &bytes[4 * j..4 * j + 4];
        f32::from_le_bytes([c[0], c[1], c[2], c[3]])
    }
    fn encode(x: f32, out: &mut Vec<u8>) {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

impl Elem for f64 {
    const ST: safetensors::Dtype = safetensors::Dtype::F64;
    const SIZE: usize = 8;
    fn decode(bytes: &[u8], out: &mut [f64]) {
        for (o, c) in out.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            *o = f64::from_le_bytes(a);
        }
    }
    fn get(bytes: &[u8], j: usize) -> f64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&bytes[8 * j..8 * j + 8]);
        f64::from_le_bytes(a)
    }
    fn encode(x: f64, out: &mut Vec<u8>) {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

fn st_dtype(d: Dtype) -> safetensors::Dtype {
    match d {
        Dtype::F32 => safetensors::Dtype::F32,
        Dtype::F64 => safetensors::Dtype::F64,
    }
}

/// True when `path` is a binary trace: a directory, a `*.safetensors` file (its directory is
/// the trace), or a file that starts like a safetensors file.
pub fn is_binary(path: &Path) -> bool {
    if path.is_dir() || path.extension().is_some_and(|e| e == "safetensors") {
        return true;
    }
    // Only a regular file is sniffed: reading the first bytes of a pipe (`/dev/stdin`) or a
    // device would consume them before the JSON Lines reader sees them, and a binary trace
    // is memory-mapped, which needs a regular file anyway.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = [0u8; 9];
    match std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head)) {
        Ok(()) => head[8] == b'{' && u64::from_le_bytes(head[..8].try_into().unwrap_or([0; 8])) > 1,
        Err(_) => false,
    }
}

/// A parsed safetensors file and its `__metadata__`.
type Parsed<'a> = (SafeTensors<'a>, Option<HashMap<String, String>>);

/// The mapped bytes of one safetensors file.
struct Mapped {
    file: String,
    mmap: Mmap,
}

impl Mapped {
    fn open(path: &Path) -> Result<Self, BinaryError> {
        Self::open_with(path, false)
    }

    /// `populate`: fault the whole file in with one call (`MAP_POPULATE`), for a full read;
    /// a sampled read leaves it off and touches only the pages it reads.
    fn open_with(path: &Path, populate: bool) -> Result<Self, BinaryError> {
        let file = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|source| BinaryError::Io {
            file: file.clone(),
            source,
        })?;
        // SAFETY: the file is only read through the map. A trace being rewritten while it is
        // checked would be a misuse; writers here and in the Python recorder write each file to
        // a temporary name and rename it, so a file never changes once its name exists.
        let mut options = memmap2::MmapOptions::new();
        if populate {
            options.populate();
        }
        let mmap = unsafe { options.map(&f) }.map_err(|source| BinaryError::Io {
            file: file.clone(),
            source,
        })?;
        #[cfg(unix)]
        let _ = mmap.advise(memmap2::Advice::Sequential);
        Ok(Mapped { file, mmap })
    }

    fn parse(&self) -> Result<Parsed<'_>, BinaryError> {
        let bytes = &self.mmap[..];
        if bytes.len() < 8 {
            return Err(field_err(
                &self.file,
                "header length",
                format!(
                    "the file has {} bytes; a safetensors file starts with an 8-byte header length",
                    bytes.len()
                ),
            ));
        }
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap_or([0; 8]));
        let room = bytes.len() as u64 - 8;
        if n > room {
            return Err(field_err(
                &self.file,
                "header length",
                format!("is {n} bytes, but the file has only {room} bytes after it (truncated file?); valid range: 2..={room}"),
            ));
        }
        let err = |e: safetensors::SafeTensorError| {
            let hint = match e {
                safetensors::SafeTensorError::MetadataIncompleteBuffer => {
                    " (the tensors' data offsets do not end at the end of the file: truncated or padded file)"
                }
                _ => "",
            };
            field_err(&self.file, "safetensors header", format!("{e}{hint}"))
        };
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(err)?;
        let st = SafeTensors::deserialize(bytes).map_err(err)?;
        Ok((st, meta.metadata().clone()))
    }
}

/// Look up the block tensors `{prefix}.{i}` of a parsed file: dtype and element count must
/// match the layout; no other tensors may be present. Returns the byte ranges (relative to
/// the file's data section start, as slices of `st`).
fn block_tensors<'a>(
    file: &str,
    st: &SafeTensors<'a>,
    prefixes: &[&str],
    dtype: Dtype,
    sizes: &[usize],
) -> Result<Vec<Vec<&'a [u8]>>, BinaryError> {
    block_tensors_sized(file, st, prefixes, dtype, |_, i| sizes[i], sizes.len())
}

/// [`block_tensors`] with the element count of `{prefix}.{i}` given by `size(prefix, i)`.
fn block_tensors_sized<'a>(
    file: &str,
    st: &SafeTensors<'a>,
    prefixes: &[&str],
    dtype: Dtype,
    size: impl Fn(&str, usize) -> usize,
    n_blocks: usize,
) -> Result<Vec<Vec<&'a [u8]>>, BinaryError> {
    let want = st_dtype(dtype);
    let sizes: Vec<usize> = (0..n_blocks).collect();
    let mut out = Vec::with_capacity(prefixes.len());
    for p in prefixes {
        let mut blocks = Vec::with_capacity(sizes.len());
        for i in 0..n_blocks {
            let n = size(p, i);
            let name = format!("{p}.{i}");
            let view = st.tensor(&name).map_err(|_| {
                field_err(
                    file,
                    &name,
                    format!(
                        "missing tensor (the layout has {} blocks: expected tensors {p}.0..{p}.{})",
                        sizes.len(),
                        sizes.len() - 1
                    ),
                )
            })?;
            if view.dtype() != want {
                return Err(field_err(
                    file,
                    &name,
                    format!(
                        "has dtype {:?}, but the header's dtype is {dtype} ({want:?})",
                        view.dtype()
                    ),
                ));
            }
            let count = view.shape().iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            if count != Some(n) {
                return Err(field_err(
                    file,
                    &name,
                    format!(
                        "has shape {:?} ({} elements), but layout block {i} has {n} elements",
                        view.shape(),
                        count.map_or("overflowing".to_string(), |c| c.to_string())
                    ),
                ));
            }
            blocks.push(view.data());
        }
        out.push(blocks);
    }
    let expected = prefixes.len() * sizes.len();
    if st.len() != expected {
        let mut extra: Vec<String> = st
            .names()
            .into_iter()
            .filter(|name| {
                !prefixes.iter().any(|p| {
                    name.strip_prefix(p)
                        .and_then(|r| r.strip_prefix('.'))
                        .and_then(|r| r.parse::<usize>().ok())
                        .is_some_and(|i| i < sizes.len() && format!("{p}.{i}") == **name)
                })
            })
            .map(str::to_string)
            .collect();
        extra.sort();
        return Err(field_err(
            file,
            "tensors",
            format!(
                "unexpected tensors {extra:?}; this file holds exactly {}",
                prefixes
                    .iter()
                    .map(|p| format!("{p}.0..{p}.{}", sizes.len() - 1))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ));
    }
    Ok(out)
}

fn metadata_json(
    file: &str,
    st: &Parsed<'_>,
    key: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, BinaryError> {
    let Some(text) = st.1.as_ref().and_then(|m| m.get(key)) else {
        return Err(field_err(
            file,
            format!("__metadata__.{key}"),
            "missing: an optverify binary trace stores its JSON there",
        ));
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(field_err(
            file,
            format!("__metadata__.{key}"),
            "must be a JSON object",
        )),
        Err(e) => Err(field_err(
            file,
            format!("__metadata__.{key}"),
            format!("invalid JSON: {e}"),
        )),
    }
}

/// An open binary trace: the validated header (with `params0` left empty: it is read from the
/// header file on demand, see [`BinaryTrace::params0`]) and the number of steps.
#[derive(Debug)]
pub struct BinaryTrace {
    dir: PathBuf,
    name: String,
    header: Header,
    sizes: Vec<usize>,
    offsets: Vec<usize>,
    steps: u64,
}

impl BinaryTrace {
    /// Open the trace directory (or the directory of a `*.safetensors` file given instead).
    ///
    /// # Errors
    /// [`BinaryError`] naming the file and field: unreadable files, a malformed safetensors
    /// header, a header JSON that is not an optverify header, tensors that disagree with the
    /// layout or dtype, step files that are not consecutive from 1.
    pub fn open(path: &Path) -> Result<Self, BinaryError> {
        let dir = if path.is_dir() {
            path.to_path_buf()
        } else {
            path.parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        };
        let name = dir.display().to_string();
        let hpath = dir.join(HEADER_FILE);
        let mapped = Mapped::open(&hpath)?;
        let file = mapped.file.clone();
        let st = mapped.parse()?;
        let mut json = metadata_json(&file, &st, HEADER_KEY)?;
        match json.get("params0") {
            None => {}
            Some(serde_json::Value::Array(a)) if a.is_empty() => {}
            Some(_) => {
                return Err(field_err(
                    &file,
                    "params0",
                    "must be absent (or []) in the header JSON: θ₀ is stored as the tensors params0.<block>",
                ))
            }
        }
        json.insert("params0".into(), serde_json::Value::Array(vec![]));
        let mut header: Header = serde_json::from_value(serde_json::Value::Object(json))
            .map_err(|e| field_err(&file, format!("__metadata__.{HEADER_KEY}"), e.to_string()))?;
        super::schedules::keras_schedule_from_learning_rate(&mut header)
            .map_err(|m| field_err(&file, "hyperparameters.learning_rate", m))?;
        if header.format != format::FORMAT_NAME {
            return Err(field_err(
                &file,
                "format",
                format!("is {:?}, expected {:?}", header.format, format::FORMAT_NAME),
            ));
        }
        if header.version != format::FORMAT_VERSION {
            return Err(field_err(
                &file,
                "version",
                format!(
                    "is {}, this reader understands version {}",
                    header.version,
                    format::FORMAT_VERSION
                ),
            ));
        }
        if header.layout.is_empty() {
            return Err(field_err(&file, "layout", "has no blocks; valid: at least one"));
        }
        let elem = match header.dtype {
            Dtype::F32 => 4usize,
            Dtype::F64 => 8,
        };
        let mut sizes = Vec::with_capacity(header.layout.len());
        let mut offsets = Vec::with_capacity(header.layout.len() + 1);
        let mut total = 0usize;
        offsets.push(0);
        for (i, b) in header.layout.iter().enumerate() {
            let n = b
                .rows
                .checked_mul(b.cols)
                .filter(|n| {
                    n.checked_mul(elem)
                        .is_some_and(|bytes| bytes <= isize::MAX as usize)
                })
                .ok_or_else(|| {
                    field_err(
                        &file,
                        format!("layout[{i}]"),
                        format!(
                            "rows × cols = {} × {} overflows; valid: at most {} elements",
                            b.rows,
                            b.cols,
                            isize::MAX as usize / elem
                        ),
                    )
                })?;
            total = total
                .checked_add(n)
                .filter(|t| {
                    t.checked_mul(elem)
                        .is_some_and(|bytes| bytes <= isize::MAX as usize)
                })
                .ok_or_else(|| field_err(&file, "layout", "the total number of parameters overflows"))?;
            sizes.push(n);
            offsets.push(total);
        }
        block_tensors(&file, &st.0, &["params0"], header.dtype, &sizes)?;
        let steps = count_steps(&dir)?;
        Ok(BinaryTrace {
            dir,
            name,
            header,
            sizes,
            offsets,
            steps,
        })
    }

    /// The header, `params0` empty.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The directory, as used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of steps.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Number of parameters.
    pub fn dim(&self) -> usize {
        self.offsets[self.offsets.len() - 1]
    }

    /// Elements per block.
    pub fn block_sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// θ₀ in the trace's dtype `T`.
    ///
    /// # Errors
    /// [`BinaryError`] if the header file changed, or `T` is not the trace's dtype.
    pub fn params0<T: Elem>(&self) -> Result<Vec<T>, BinaryError> {
        let mapped = Mapped::open(&self.dir.join(HEADER_FILE))?;
        let st = mapped.parse()?;
        let blocks = block_tensors(&mapped.file, &st.0, &["params0"], T::DTYPE, &self.sizes)?;
        let mut out = vec![T::zero(); self.dim()];
        for (i, b) in blocks[0].iter().enumerate() {
            T::decode(b, &mut out[self.offsets[i]..self.offsets[i + 1]]);
        }
        Ok(out)
    }

    /// θ₀ widened to f64.
    ///
    /// # Errors
    /// As [`Self::params0`].
    pub fn params0_f64(&self) -> Result<Vec<f64>, BinaryError> {
        Ok(match self.header.dtype {
            Dtype::F64 => self.params0::<f64>()?,
            Dtype::F32 => self.params0::<f32>()?.into_iter().map(f64::from).collect(),
        })
    }

    /// Map step `t` (1-based) and validate it.
    ///
    /// # Errors
    /// [`BinaryError`] naming the step file and field.
    pub fn step(&self, t: u64) -> Result<StepFile, BinaryError> {
        self.step_with(t, false)
    }

    /// [`Self::step`], faulting the whole file in at once when `full` (every value will be
    /// read).
    ///
    /// # Errors
    /// As [`Self::step`].
    pub fn step_with(&self, t: u64, full: bool) -> Result<StepFile, BinaryError> {
        let mapped = Mapped::open_with(&self.dir.join(step_file_name(t)), full)?;
        let file = mapped.file.clone();
        let (record, ranges) = {
            let st = mapped.parse()?;
            let mut json = metadata_json(&file, &st, STEP_KEY)?;
            for f in ["grad", "params"] {
                if json.contains_key(f) {
                    return Err(field_err(
                        &file,
                        f,
                        format!("must not be in the step JSON: it is stored as the tensors {f}.<block>"),
                    ));
                }
                json.insert(f.into(), serde_json::Value::Array(vec![]));
            }
            let record: StepRecord = serde_json::from_value(serde_json::Value::Object(json))
                .map_err(|e| field_err(&file, format!("__metadata__.{STEP_KEY}"), e.to_string()))?;
            if record.step != t {
                return Err(field_err(
                    &file,
                    "step",
                    format!("is {}, but the file is step {t}'s", record.step),
                ));
            }
            // Layer-wise runs may carry `norms.<i>` (2 values per block: format.rs).
            let with_norms = st.0.tensor("norms.0").is_ok();
            let prefixes: &[&str] = if with_norms {
                &["grad", "params", "norms"]
            } else {
                &["grad", "params"]
            };
            let blocks = block_tensors_sized(
                &file,
                &st.0,
                prefixes,
                self.header.dtype,
                |p, i| {
                    if p == "norms" {
                        2
                    } else {
                        self.sizes[i]
                    }
                },
                self.sizes.len(),
            )?;
            let base = mapped.mmap.as_ptr() as usize;
            let range = |s: &[u8]| {
                let start = s.as_ptr() as usize - base;
                (start, start + s.len())
            };
            let ranges: Vec<Vec<(usize, usize)>> = blocks
                .iter()
                .map(|bs| bs.iter().map(|s| range(s)).collect())
                .collect();
            (record, ranges)
        };
        Ok(StepFile {
            file,
            mmap: mapped.mmap,
            record,
            grad: ranges[0].clone(),
            params: ranges[1].clone(),
            norms: ranges.get(2).cloned(),
        })
    }

    /// Step `t` as a full [`StepRecord`] (values widened to f64).
    ///
    /// # Errors
    /// As [`Self::step`].
    pub fn record(&self, t: u64) -> Result<StepRecord, BinaryError> {
        let s = self.step(t)?;
        let mut rec = s.record.clone();
        rec.grad = self.gather_f64(&s, true);
        rec.params = self.gather_f64(&s, false);
        Ok(rec)
    }

    fn gather_f64(&self, s: &StepFile, grad: bool) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.dim());
        for i in 0..self.sizes.len() {
            let b = if grad { s.grad_block(i) } else { s.params_block(i) };
            match self.header.dtype {
                Dtype::F32 => out.extend(b.chunks_exact(4).map(|c| f64::from(f32::get(c, 0)))),
                Dtype::F64 => out.extend(b.chunks_exact(8).map(|c| f64::get(c, 0))),
            }
        }
        out
    }
}

/// List `step-*.safetensors` in `dir` and require exactly steps 1..=T.
fn count_steps(dir: &Path) -> Result<u64, BinaryError> {
    let name = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|source| BinaryError::Io {
        file: name.clone(),
        source,
    })?;
    let mut steps = Vec::new();
    for e in entries {
        let e = e.map_err(|source| BinaryError::Io {
            file: name.clone(),
            source,
        })?;
        let f = e.file_name();
        let Some(f) = f.to_str() else { continue };
        if let Some(num) = f
            .strip_prefix("step-")
            .and_then(|r| r.strip_suffix(".safetensors"))
        {
            match num.parse::<u64>() {
                Ok(t) if t >= 1 && step_file_name(t) == f => steps.push(t),
                _ => return Err(field_err(
                    &name,
                    f,
                    "is not a step file name; valid: step-NNNNNNNN.safetensors, N ≥ 1, 8 digits zero-padded",
                )),
            }
        }
    }
    steps.sort_unstable();
    for (i, &t) in steps.iter().enumerate() {
        let want = i as u64 + 1;
        if t != want {
            return Err(field_err(
                &name,
                "steps",
                format!(
                    "not consecutive: {} is missing (found {} step files, the last {})",
                    step_file_name(want),
                    steps.len(),
                    step_file_name(steps[steps.len() - 1])
                ),
            ));
        }
    }
    Ok(steps.len() as u64)
}

/// One mapped step file.
pub struct StepFile {
    file: String,
    mmap: Mmap,
    record: StepRecord,
    grad: Vec<(usize, usize)>,
    params: Vec<(usize, usize)>,
    norms: Option<Vec<(usize, usize)>>,
}

impl fmt::Debug for StepFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepFile")
            .field("file", &self.file)
            .field("step", &self.record.step)
            .finish_non_exhaustive()
    }
}

impl StepFile {
    /// The step's non-array fields (`grad` and `params` empty).
    pub fn record(&self) -> &StepRecord {
        &self.record
    }
    /// The file name.
    pub fn file(&self) -> &str {
        &self.file
    }
    /// Little-endian bytes of block `i` of the gradient.
    pub fn grad_block(&self, i: usize) -> &[u8] {
        let (a, b) = self.grad[i];
        &self.mmap[a..b]
    }
    /// Little-endian bytes of block `i` of the parameters after the step.
    pub fn params_block(&self, i: usize) -> &[u8] {
        let (a, b) = self.params[i];
        &self.mmap[a..b]
    }
    /// Little-endian bytes of the recorded norms of block `i` (`[‖θ_{t−1}‖, ‖u_t‖]`), when the
    /// recorder wrote them (format.rs).
    pub fn norms_block(&self, i: usize) -> Option<&[u8]> {
        self.norms.as_ref().map(|n| &self.mmap[n[i].0..n[i].1])
    }
}

// ------------------------------------------------------------------ writer

/// Writes a binary trace directory: the header file on creation, then one file per step,
/// each written to a temporary name and renamed (a reader never sees a partial file).
#[derive(Debug)]
pub struct BinaryWriter {
    dir: PathBuf,
    layout: Vec<(String, usize)>,
    dtype: Dtype,
    next_step: u64,
}

fn io_err(path: &Path, e: impl fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("{}: {e}", path.display()))
}

fn encode_blocks(
    dtype: Dtype,
    what: &str,
    values: &[f64],
    sizes: &[(String, usize)],
    allow_non_finite: bool,
) -> std::io::Result<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity(sizes.len());
    let mut k = 0;
    for (_, n) in sizes {
        let mut b = Vec::with_capacity(n * 8);
        for &v in &values[k..k + n] {
            if !allow_non_finite && !v.is_finite() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{what}[{k}] = {v} is not finite"),
                ));
            }
            match dtype {
                Dtype::F64 => f64::encode(v, &mut b),
                Dtype::F32 => {
                    let x = v as f32;
                    if f64::from(x).to_bits() != v.to_bits() && !v.is_nan() {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidInput,
                            format!("{what}[{k}] = {v:e} is not an f32 value, but the trace is f32"),
                        ));
                    }
                    f32::encode(x, &mut b);
                }
            }
            k += 1;
        }
        out.push(b);
    }
    Ok(out)
}

fn write_file(
    path: &Path,
    dtype: Dtype,
    tensors: Vec<(String, Vec<usize>, Vec<u8>)>,
    key: &str,
    json: String,
) -> std::io::Result<()> {
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(name, shape, data)| {
            safetensors::tensor::TensorView::new(st_dtype(dtype), shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| io_err(path, e))
        })
        .collect::<Result<_, _>>()?;
    let meta = HashMap::from([(key.to_string(), json)]);
    safetensors::serialize_to_file(views, Some(meta), path).map_err(|e| io_err(path, e))
}

impl BinaryWriter {
    /// Create `dir` (it must not exist, or be empty) and write the header file. The header is
    /// checked before anything is created.
    ///
    /// # Errors
    /// I/O errors; a non-empty `dir`; a layout whose sizes overflow; `params0` not matching
    /// the layout or the dtype.
    pub fn create(dir: &Path, header: &Header) -> std::io::Result<Self> {
        let layout: Vec<(String, usize)> = header
            .layout()
            .map_err(|e| io_err(dir, e))?
            .blocks()
            .iter()
            .map(|b| (b.name.clone(), b.len()))
            .collect();
        let dim: usize = layout.iter().map(|(_, n)| n).sum();
        if header.params0.len() != dim {
            return Err(io_err(
                dir,
                format!(
                    "params0 has length {}, the layout describes {dim} parameters",
                    header.params0.len()
                ),
            ));
        }
        let blocks = encode_blocks(header.dtype, "params0", &header.params0, &layout, false)?;
        if dir.exists() {
            if std::fs::read_dir(dir)?.next().is_some() {
                return Err(io_err(
                    dir,
                    "exists and is not empty; a binary trace needs a new directory",
                ));
            }
        } else {
            std::fs::create_dir_all(dir)?;
        }
        let mut json = serde_json::to_value(Header {
            params0: vec![],
            ..header.clone()
        })
        .map_err(std::io::Error::other)?;
        if let Some(m) = json.as_object_mut() {
            m.remove("params0");
        }
        let tensors = blocks
            .into_iter()
            .enumerate()
            .map(|(i, b)| (format!("params0.{i}"), vec![layout[i].1], b))
            .collect();
        write_file(
            &dir.join(HEADER_FILE),
            header.dtype,
            tensors,
            HEADER_KEY,
            json.to_string(),
        )?;
        Ok(BinaryWriter {
            dir: dir.to_path_buf(),
            layout,
            dtype: header.dtype,
            next_step: 1,
        })
    }

    /// Write the next step (its `step` must be the next number; `grad` finite; for an f32
    /// trace every value must be an f32).
    ///
    /// # Errors
    /// I/O errors and the input errors above.
    pub fn step(&mut self, rec: &StepRecord) -> std::io::Result<()> {
        if rec.step != self.next_step {
            return Err(io_err(
                &self.dir,
                format!("step {} written after step {}", rec.step, self.next_step - 1),
            ));
        }
        let dim: usize = self.layout.iter().map(|(_, n)| n).sum();
        if rec.grad.len() != dim || rec.params.len() != dim {
            return Err(io_err(
                &self.dir,
                format!(
                    "step {}: grad has length {}, params {}, expected {dim}",
                    rec.step,
                    rec.grad.len(),
                    rec.params.len()
                ),
            ));
        }
        let g = encode_blocks(self.dtype, "grad", &rec.grad, &self.layout, false)?;
        let p = encode_blocks(self.dtype, "params", &rec.params, &self.layout, true)?;
        let mut json = serde_json::to_value(StepRecord {
            grad: vec![],
            params: vec![],
            ..rec.clone()
        })
        .map_err(std::io::Error::other)?;
        if let Some(m) = json.as_object_mut() {
            m.remove("grad");
            m.remove("params");
        }
        let mut tensors = Vec::with_capacity(2 * self.layout.len());
        for (i, b) in g.into_iter().enumerate() {
            tensors.push((format!("grad.{i}"), vec![self.layout[i].1], b));
        }
        for (i, b) in p.into_iter().enumerate() {
            tensors.push((format!("params.{i}"), vec![self.layout[i].1], b));
        }
        write_file(
            &self.dir.join(step_file_name(rec.step)),
            self.dtype,
            tensors,
            STEP_KEY,
            json.to_string(),
        )?;
        self.next_step += 1;
        Ok(())
    }
}

// ------------------------------------------------------------------ convert

/// `optverify convert IN OUT`: JSON Lines → binary directory, or binary → JSON Lines.
pub fn convert(input: &Path, output: &Path) -> CommandOutput {
    if is_binary(input) {
        let trace = match BinaryTrace::open(input) {
            Ok(t) => t,
            Err(e) => return bad(format!("error: {e}")),
        };
        let mut header = super::schedules::keras_header_as_written(trace.header());
        header.params0 = match trace.params0_f64() {
            Ok(p) => p,
            Err(e) => return bad(format!("error: {e}")),
        };
        let f = match std::fs::File::create(output) {
            Ok(f) => f,
            Err(e) => return bad(format!("error: {}: cannot write: {e}", output.display())),
        };
        let mut w = std::io::BufWriter::new(f);
        let werr = |e: &dyn fmt::Display| bad(format!("error: {}: {e}", output.display()));
        if let Err(e) = serde_json::to_writer(&mut w, &header) {
            return werr(&e);
        }
        if let Err(e) = w.write_all(b"\n") {
            return werr(&e);
        }
        for t in 1..=trace.steps() {
            let rec = match trace.record(t) {
                Ok(r) => r,
                Err(e) => return bad(format!("error: {e}")),
            };
            if let Some(i) = rec.grad.iter().position(|x| !x.is_finite()) {
                return bad(format!(
                    "error: {}: grad[{i}] = {} is not finite (gradients must be finite)",
                    step_file_name(t),
                    rec.grad[i]
                ));
            }
            if let Err(e) = serde_json::to_writer(&mut w, &rec) {
                return werr(&e);
            }
            if let Err(e) = w.write_all(b"\n") {
                return werr(&e);
            }
        }
        if let Err(e) = w.flush() {
            return werr(&e);
        }
        CommandOutput {
            status: EXIT_AGREE,
            text: format!(
                "wrote {} (JSON Lines, {} steps of {} parameters, {})\n",
                output.display(),
                trace.steps(),
                trace.dim(),
                header.dtype
            ),
        }
    } else {
        let mut reader = match format::open(input) {
            Ok(r) => r,
            Err(e) => return bad(format!("error: {e}")),
        };
        let header = super::schedules::keras_header_as_written(reader.header());
        let mut w = match BinaryWriter::create(output, &header) {
            Ok(w) => w,
            Err(e) => return bad(format!("error: {e}")),
        };
        let mut steps = 0;
        loop {
            match reader.next_step() {
                Ok(None) => break,
                Ok(Some(rec)) => {
                    if let Err(e) = w.step(&rec) {
                        return bad(format!("error: {}: step {}: {e}", input.display(), rec.step));
                    }
                    steps += 1;
                }
                Err(e) => return bad(format!("error: {e}")),
            }
        }
        CommandOutput {
            status: EXIT_AGREE,
            text: format!(
                "wrote {} (binary trace directory, {steps} steps of {} parameters, {})\n",
                output.display(),
                header.dim(),
                header.dtype
            ),
        }
    }
}

fn bad(text: impl Into<String>) -> CommandOutput {
    let mut text = text.into();
    text.push('\n');
    CommandOutput {
        status: EXIT_BAD_INPUT,
        text,
    }
}

// ------------------------------------------------------------------ sampling

/// The coordinates of a block of `len` elements that `--sample k` checks, sorted: the first
/// and the last; then, for the vector widths 4, 8, 16, 32, 64 elements (SSE/AVX/AVX-512 f32
/// and f64 lanes, unrolled loops), the last element of the vectorised body and the first of
/// the scalar tail (`⌊len/w⌋·w − 1`, `⌊len/w⌋·w`) and the first chunk boundary (`w − 1`, `w`);
/// then the chunk boundaries of multi-tensor launches (2048, 65536 elements: torch's
/// `multi_tensor_apply` chunk size); then pseudo-random coordinates (SplitMix64 from
/// [`SAMPLE_SEED`] and the block index) until there are `k`. The whole block if `k ≥ len`.
pub fn sample_block(len: usize, k: usize, block: usize) -> Vec<usize> {
    if k >= len {
        return (0..len).collect();
    }
    let mut chosen: Vec<usize> = Vec::with_capacity(k);
    let mut seen = std::collections::HashSet::with_capacity(k);
    let mut push = |i: usize, chosen: &mut Vec<usize>| {
        if i < len && chosen.len() < k && seen.insert(i) {
            chosen.push(i);
        }
    };
    push(0, &mut chosen);
    push(len - 1, &mut chosen);
    for w in [4usize, 8, 16, 32, 64, 2048, 65536] {
        let tail = len / w * w;
        if tail > 0 && tail < len {
            push(tail - 1, &mut chosen);
            push(tail, &mut chosen);
        }
        if w < len {
            push(w - 1, &mut chosen);
            push(w, &mut chosen);
        }
    }
    let mut state = SAMPLE_SEED ^ (block as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    while chosen.len() < k {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        push((z % len as u64) as usize, &mut chosen);
    }
    chosen.sort_unstable();
    chosen
}

/// Which coordinates a reference replays.
#[derive(Debug, Clone)]
struct Coords {
    /// `(block, local index)` per coordinate, or `None` for all coordinates.
    picks: Option<Vec<(usize, usize)>>,
    /// Global indices of the picks.
    global: Vec<usize>,
}

impl Coords {
    fn all() -> Self {
        Coords {
            picks: None,
            global: vec![],
        }
    }
    fn sample(trace: &BinaryTrace, k: usize) -> Self {
        let mut picks = Vec::new();
        let mut global = Vec::new();
        for (b, &n) in trace.block_sizes().iter().enumerate() {
            for j in sample_block(n, k, b) {
                picks.push((b, j));
                global.push(trace.offsets[b] + j);
            }
        }
        Coords {
            picks: Some(picks),
            global,
        }
    }
    fn len(&self, dim: usize) -> usize {
        self.picks.as_ref().map_or(dim, Vec::len)
    }
    /// The file's values at these coordinates, into `out` (resized once).
    fn read<T: Elem>(&self, trace: &BinaryTrace, s: &StepFile, grad: bool, out: &mut Vec<T>) {
        let block = |i: usize| if grad { s.grad_block(i) } else { s.params_block(i) };
        self.read_blocks(trace, block, out);
    }
    /// The values at these coordinates of the blocks `block(i)`, into `out`.
    fn read_blocks<'a, T: Elem>(
        &self,
        trace: &BinaryTrace,
        block: impl Fn(usize) -> &'a [u8],
        out: &mut Vec<T>,
    ) {
        out.resize(self.len(trace.dim()), T::zero());
        match &self.picks {
            None => {
                for i in 0..trace.sizes.len() {
                    T::decode(block(i), &mut out[trace.offsets[i]..trace.offsets[i + 1]]);
                }
            }
            Some(p) => {
                for (o, &(b, j)) in out.iter_mut().zip(p) {
                    *o = T::get(block(b), j);
                }
            }
        }
    }
    fn global(&self, k: usize) -> usize {
        match &self.picks {
            None => k,
            Some(_) => self.global[k],
        }
    }
}

// ------------------------------------------------------------------ comparison

enum Engine<T: Elem> {
    Kernel {
        kernel: Box<dyn Kernel<T>>,
        theta: Vec<T>,
        scale: Vec<T>,
    },
    Crate {
        opt: Box<dyn Optimizer>,
        x: DVector<f64>,
        g: DVector<f64>,
        scale: Vec<f64>,
    },
}

struct Track<T: Elem> {
    engine: Engine<T>,
    coords: usize,
    out: Outcome,
    stopped: bool,
}

fn new_outcome(reference: Reference, dtype: Dtype, tolerance: f64) -> Outcome {
    Outcome {
        reference,
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
    }
}

impl<T: Elem> Track<T> {
    fn feed(&mut self, step: u64, g: &[T], theirs: &[T], coords: &Coords, norms: Option<&[(usize, [T; 2])]>) {
        if self.stopped {
            return;
        }
        let res = match &mut self.engine {
            Engine::Kernel { kernel, theta, .. } => match norms {
                None => kernel.step(theta, g),
                Some(n) => kernel.step_given_norms(theta, g, n).unwrap_or_else(|| {
                    Err(crate::error::StepError::Invalid(format!(
                        "{} cannot step from recorded block norms",
                        kernel.describe()
                    )))
                }),
            },
            Engine::Crate { opt, x, g: gx, .. } => {
                for (d, &s) in gx.iter_mut().zip(g) {
                    *d = s.to_f64();
                }
                opt.step(x, gx)
            }
        };
        if let Err(e) = res {
            self.out.step_error = Some((step, e));
            self.stopped = true;
            return;
        }
        self.out.steps += 1;
        let identical = match &mut self.engine {
            Engine::Kernel { theta, scale, .. } => compare::compare_coordinates(
                &mut self.out,
                step,
                |k| theta[k],
                theirs,
                scale,
                |k| coords.global(k),
            ),
            Engine::Crate { x, scale, .. } => compare::compare_coordinates(
                &mut self.out,
                step,
                |k| x[k],
                theirs,
                scale,
                |k| coords.global(k),
            ),
        };
        if identical {
            self.out.bit_identical_steps += 1;
        }
    }
}

/// What `check`/`replay` of a binary trace found.
#[derive(Debug, Clone)]
pub struct BinaryOutcome {
    /// The declared reference's outcome.
    pub declared: Outcome,
    /// Convention variants (label, outcome), without the declared one; empty for `replay`.
    pub variants: Vec<(presets::Variant, Outcome)>,
    /// Coordinates the declared reference replayed (the dimension when not sampled).
    pub checked_coords: usize,
    /// Coordinates the diagnosis replayed.
    pub diagnosis_coords: usize,
    /// Under `--sample` of a layer-wise optimizer: what checking the recorded block norms
    /// against the kernel's own at step 1 found (one line).
    pub norm_check: Option<String>,
}

/// Element-wise settings: coordinate i's update reads coordinate i only (plus per-step
/// scalars), so any subset of coordinates can be replayed on its own.
fn element_wise(setting: &Setting, header: &Header) -> bool {
    let transforms = serde_json::to_value(header)
        .ok()
        .and_then(|v| v.get("transforms").cloned())
        .is_some_and(|t| !t.is_null() && t.as_array().is_none_or(|a| !a.is_empty()));
    !transforms
        && matches!(
            setting,
            Setting::Sgd(_)
                | Setting::Adam(_)
                | Setting::AdamW(_)
                | Setting::AdaGrad(_)
                | Setting::RmsProp(_)
                | Setting::AdaDelta(_)
                | Setting::NAdam(_)
                | Setting::RAdam(_)
        )
}

/// Replay a binary trace (declared reference, optionally sampled) and, with `diagnose`, the
/// convention variants.
///
/// # Errors
/// A message for bad input (the file and field), `--sample` on a layer-wise optimizer.
pub fn run(
    trace: &BinaryTrace,
    rel_tol: Option<f64>,
    sample: Option<usize>,
    diagnose: bool,
) -> Result<BinaryOutcome, String> {
    match trace.header().dtype {
        Dtype::F32 => run_typed::<f32>(trace, rel_tol, sample, diagnose),
        Dtype::F64 => run_typed::<f64>(trace, rel_tol, sample, diagnose),
    }
}

fn run_typed<T: Elem>(
    trace: &BinaryTrace,
    rel_tol: Option<f64>,
    sample: Option<usize>,
    diagnose: bool,
) -> Result<BinaryOutcome, String> {
    let header = trace.header();
    let file = trace.name();
    let setting = compare::declared_setting(file, header).map_err(|e| e.to_string())?;
    let elementwise = element_wise(&setting, header);
    if let Some(k) = sample {
        if k < 2 {
            return Err(format!("--sample {k} is invalid; valid range: 2 ≤ K (coordinates per block; the first and last are always included)"));
        }
        if !elementwise && !layerwise_from_norms(&setting, header) {
            return Err(format!(
                "--sample is only for element-wise optimizers and for optax lamb and lars traces that record their block norms (norms.<i>, format.rs); {} {} is layer-wise (its update of a block depends on the block's norms and statistics) or its header declares transforms across coordinates: check it in full",
                header.preset, header.optimizer
            ));
        }
    }
    let layerwise_sample = sample.is_some() && !elementwise;
    let tol = rel_tol.unwrap_or_else(|| compare::default_tolerance(header.dtype));
    let main = match sample {
        Some(k) => Coords::sample(trace, k),
        None => Coords::all(),
    };
    let dim = trace.dim();
    // θ₀ at the replayed coordinates only (a sampled check reads a few pages of the header).
    let header_file = Mapped::open(&trace.dir.join(HEADER_FILE)).map_err(|e| e.to_string())?;
    let parsed = header_file.parse().map_err(|e| e.to_string())?;
    let p0 = block_tensors(
        &header_file.file,
        &parsed.0,
        &["params0"],
        header.dtype,
        &trace.sizes,
    )
    .map_err(|e| e.to_string())?;
    let x0_of = |coords: &Coords| {
        let mut x = Vec::new();
        coords.read_blocks(trace, |i| p0[0][i], &mut x);
        x
    };
    let x0_main: Vec<T> = x0_of(&main);
    let layout = header.layout().map_err(|e| e.to_string())?;
    let declared = match kernels::build_for_header::<T>(header, &setting, &layout) {
        Some(kernel) => {
            let reference = Reference::Kernel {
                description: kernel.describe(),
                dtype: header.dtype,
            };
            Track {
                engine: Engine::Kernel {
                    kernel,
                    scale: x0_main.iter().map(|v| v.abs()).collect(),
                    theta: x0_main.clone(),
                },
                coords: 0,
                out: new_outcome(reference, header.dtype, tol),
                stopped: false,
            }
        }
        None => crate_track(&setting, &x0_main, header.dtype, tol, 0)?,
    };
    let mut tracks = vec![declared];
    let mut coord_sets = vec![main];
    let mut variants = vec![];
    let mut diagnosis_coords = 0;
    // A sampled layer-wise check has no diagnosis: its variants would need every coordinate.
    if diagnose && !layerwise_sample {
        let label = format!("{} {}", header.preset, header.optimizer);
        let all = presets::variants(&label, &setting);
        let diag = if elementwise {
            Coords::sample(trace, DIAGNOSIS_SAMPLE)
        } else {
            Coords::all()
        };
        diagnosis_coords = diag.len(dim);
        let x0_diag = x0_of(&diag);
        for v in all.into_iter().skip(1) {
            tracks.push(crate_track(&v.setting, &x0_diag, header.dtype, tol, 1)?);
            variants.push(v);
        }
        coord_sets.push(diag);
    }
    // Sampled layer-wise: the count of sampled coordinates per block, and the recorded norms
    // checked against the kernel's own on step 1 (θ₀ from the header and g₁ in full: the one
    // step whose full update needs no full replay).
    let counts: Vec<usize> = match &coord_sets[0].picks {
        Some(p) if layerwise_sample => {
            let mut c = vec![0usize; trace.sizes.len()];
            p.iter().for_each(|&(b, _)| c[b] += 1);
            c
        }
        _ => Vec::new(),
    };
    let norm_check = if layerwise_sample && trace.steps() > 0 {
        Some(check_recorded_norms::<T>(trace, &setting, &p0[0])?)
    } else {
        None
    };
    let mut block_norms: Vec<(usize, [T; 2])> = Vec::new();
    drop(p0);
    drop(parsed);
    drop(header_file);
    let mut g: Vec<Vec<T>> = vec![Vec::new(); coord_sets.len()];
    let mut theirs: Vec<Vec<T>> = vec![Vec::new(); coord_sets.len()];
    for t in 1..=trace.steps() {
        let s = trace
            .step_with(t, coord_sets[0].picks.is_none())
            .map_err(|e| e.to_string())?;
        if layerwise_sample {
            block_norms.clear();
            for (i, &n) in counts.iter().enumerate() {
                block_norms.push((n, recorded_norms(&s, i)?));
            }
        }
        for (c, coords) in coord_sets.iter().enumerate() {
            if !tracks.iter().any(|tr| tr.coords == c && !tr.stopped) {
                continue;
            }
            coords.read(trace, &s, true, &mut g[c]);
            if let Some(k) = g[c].iter().position(|x| !x.is_finite()) {
                let i = coords.global(k);
                return Err(format!(
                    "{}: grad: coordinate {} ({i}) is {}; gradients must be finite (a diverged run may write NaN/±∞ in params only)",
                    s.file(),
                    compare::coordinate_name(header, i),
                    g[c][k]
                ));
            }
            coords.read(trace, &s, false, &mut theirs[c]);
        }
        for tr in tracks.iter_mut() {
            let c = tr.coords;
            let n = if c == 0 && layerwise_sample {
                Some(block_norms.as_slice())
            } else {
                None
            };
            tr.feed(t, &g[c], &theirs[c], &coord_sets[c], n);
        }
    }
    let checked_coords = coord_sets[0].len(dim);
    let mut tracks = tracks.into_iter();
    let declared = tracks.next().map(|t| t.out).ok_or("no reference")?;
    Ok(BinaryOutcome {
        declared,
        variants: variants.into_iter().zip(tracks.map(|t| t.out)).collect(),
        checked_coords,
        diagnosis_coords,
        norm_check,
    })
}

/// Layer-wise settings whose kernel steps a sample of coordinates from the block norms the
/// trace records (`norms.<i>`): optax `lamb` and `lars`.
fn layerwise_from_norms(setting: &Setting, header: &Header) -> bool {
    header.preset == "optax" && matches!(setting, Setting::Lamb(_) | Setting::Lars(_))
}

/// The recorded `[‖θ_{t−1}‖, ‖u_t‖]` of block `i` of step file `s`.
fn recorded_norms<T: Elem>(s: &StepFile, i: usize) -> Result<[T; 2], String> {
    let b = s.norms_block(i).ok_or_else(|| {
        format!(
            "{}: no recorded block norms (tensors norms.<i>, format.rs): --sample on a layer-wise optimizer needs them (optverify.optax.record writes them for lamb and lars); check it in full",
            s.file()
        )
    })?;
    Ok([T::get(b, 0), T::get(b, 1)])
}

/// Step 1 replayed in full by the kernel (θ₀ from the header, g₁ from step 1), its block norms
/// compared with the ones step 1 records. Returns the line `check --sample` prints.
fn check_recorded_norms<T: Elem>(
    trace: &BinaryTrace,
    setting: &Setting,
    p0: &[&[u8]],
) -> Result<String, String> {
    let header = trace.header();
    let layout = header.layout().map_err(|e| e.to_string())?;
    let Some(mut kernel) = kernels::build_for_header::<T>(header, setting, &layout) else {
        return Ok("recorded block norms: not checked (no kernel)".into());
    };
    let s = trace.step_with(1, true).map_err(|e| e.to_string())?;
    let mut theta = vec![T::zero(); trace.dim()];
    let mut g = vec![T::zero(); trace.dim()];
    for (i, block) in p0.iter().enumerate().take(trace.sizes.len()) {
        let r = trace.offsets[i]..trace.offsets[i + 1];
        T::decode(block, &mut theta[r.clone()]);
        T::decode(s.grad_block(i), &mut g[r]);
    }
    kernel
        .step(&mut theta, &g)
        .map_err(|e| format!("{}: step 1: {e}", s.file()))?;
    let ours = kernel.last_norms();
    let mut bad = Vec::new();
    for (i, o) in ours.iter().enumerate() {
        let rec = recorded_norms::<T>(&s, i)?;
        for (k, what) in ["‖θ₀‖", "‖u₁‖"].iter().enumerate() {
            if o[k].to_f64().to_bits() != rec[k].to_f64().to_bits() {
                let b = &header.layout[i];
                let why = if header.preset == "optax"
                    && !kernels::reduce::xla_norm_is_transcribed(b.rows, b.cols)
                {
                    ", a block whose XLA reduction order is not transcribed (kernels/reduce.rs): within its rounding bound"
                } else {
                    ""
                };
                bad.push(format!(
                    "block {} {what}: recorded {:e}, kernel {:e} ({} ulps{why})",
                    b.name,
                    rec[k].to_f64(),
                    o[k].to_f64(),
                    T::ulps_between(rec[k], o[k])
                ));
            }
        }
    }
    Ok(if bad.is_empty() {
        format!(
            "recorded block norms: step 1's ‖θ₀‖ and ‖u₁‖ of all {} blocks bit-identical to the kernel's (the later steps' norms are used as recorded)",
            ours.len()
        )
    } else {
        format!(
            "recorded block norms DIFFER from the kernel's at step 1 (the sampled replay uses the recorded ones): {}",
            bad.join("; ")
        )
    })
}

fn crate_track<T: Elem>(
    setting: &Setting,
    x0: &[T],
    dtype: Dtype,
    tol: f64,
    coords: usize,
) -> Result<Track<T>, String> {
    let opt = setting.build().map_err(|e| e.to_string())?;
    let x: Vec<f64> = x0.iter().map(|&v| Real::to_f64(v)).collect();
    Ok(Track {
        engine: Engine::Crate {
            opt,
            scale: x.iter().map(|v| v.abs()).collect(),
            g: DVector::zeros(x.len()),
            x: DVector::from_vec(x),
        },
        coords,
        out: new_outcome(Reference::CrateF64, dtype, tol),
        stopped: false,
    })
}

/// True when the fast path's single declared setting is the whole story: no transforms, no
/// schedule, parameter groups (if any) without overrides, and every step's recorded
/// hyperparameters equal to the header's. Otherwise `check`/`replay` go through the JSON Lines
/// path ([`super::compare`], which replays groups, schedules and per-step values), fed by
/// [`JsonLinesView`].
fn fast_path_applies(trace: &BinaryTrace) -> Result<bool, BinaryError> {
    let h = trace.header();
    if !h.transforms.is_empty() || h.schedule.is_some() {
        return Ok(false);
    }
    if let Some(groups) = &h.param_groups {
        if groups.iter().any(|g| {
            g.hyperparameters
                .iter()
                .any(|(k, v)| h.hyperparameters.get(k) != Some(v))
        }) {
            return Ok(false);
        }
    }
    let same = |v: &serde_json::Value| {
        v.as_object()
            .is_some_and(|m| m.iter().all(|(k, v)| h.hyperparameters.get(k) == Some(v)))
    };
    for t in 1..=trace.steps() {
        let s = trace.step(t)?;
        let ok = match &s.record().hyperparameters {
            None => true,
            Some(serde_json::Value::Array(groups)) => groups.iter().all(same),
            Some(v) => same(v),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A binary trace read as JSON Lines text, one line at a time (memory: one step's line), so
/// that the JSON Lines reader and [`super::compare`] can check it with all their features.
pub struct JsonLinesView {
    trace: BinaryTrace,
    next: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl fmt::Debug for JsonLinesView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLinesView")
            .field("trace", &self.trace.name)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl JsonLinesView {
    /// The view of `trace`, from its header line.
    pub fn new(trace: BinaryTrace) -> Self {
        JsonLinesView {
            trace,
            next: 0,
            buf: Vec::new(),
            pos: 0,
        }
    }

    fn refill(&mut self) -> std::io::Result<bool> {
        self.buf.clear();
        self.pos = 0;
        if self.next > self.trace.steps() {
            return Ok(false);
        }
        if self.next == 0 {
            let mut h = self.trace.header().clone();
            h.params0 = self.trace.params0_f64().map_err(std::io::Error::other)?;
            serde_json::to_writer(&mut self.buf, &h).map_err(std::io::Error::other)?;
        } else {
            let rec = self.trace.record(self.next).map_err(std::io::Error::other)?;
            serde_json::to_writer(&mut self.buf, &rec).map_err(std::io::Error::other)?;
        }
        self.buf.push(b'\n');
        self.next += 1;
        Ok(true)
    }
}

impl std::io::Read for JsonLinesView {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() && !self.refill()? {
            return Ok(0);
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// `check` (`diagnose`) or `replay` of a binary trace through the JSON Lines path.
fn via_json_lines(
    trace: BinaryTrace,
    rel_tol: Option<f64>,
    sample: Option<usize>,
    diagnose: bool,
) -> CommandOutput {
    if sample.is_some() {
        return bad(format!(
            "error: {}: --sample is not available for a trace that declares parameter groups with overrides, a schedule, \
             transforms, or per-step hyperparameters that change: check it in full",
            trace.name()
        ));
    }
    let name = trace.name().to_string();
    let mut reader = match format::TraceReader::new(name, std::io::BufReader::new(JsonLinesView::new(trace)))
    {
        Ok(r) => r,
        Err(e) => return bad(format!("error: {e}")),
    };
    if diagnose {
        cli::check_reader(&mut reader, rel_tol)
    } else {
        cli::replay_reader(&mut reader, rel_tol)
    }
}

fn sample_text(trace: &BinaryTrace, k: Option<usize>, o: &BinaryOutcome) -> String {
    match k {
        Some(k) => format!(
            "sampled: {} of {} coordinates ({k} per block: first, last, vector-tail and chunk boundaries, the rest pseudo-random; whole blocks of ≤ {k}); counts below are over these coordinates\n{}",
            o.checked_coords,
            trace.dim(),
            o.norm_check.as_ref().map_or(String::new(), |l| format!("{l}\n"))
        ),
        None => String::new(),
    }
}

fn open_checked(path: &Path, rel_tol: Option<f64>) -> Result<BinaryTrace, CommandOutput> {
    if let Some(Err(e)) = rel_tol.map(compare::validate_rel_tol) {
        return Err(bad(format!("error: --rel-tol: {e}")));
    }
    let trace = BinaryTrace::open(path).map_err(|e| bad(format!("error: {e}")))?;
    if trace.steps() == 0 {
        return Err(CommandOutput {
            status: EXIT_NOTHING,
            text: format!("{}: no steps: nothing to check\n", trace.name()),
        });
    }
    Ok(trace)
}

/// `optverify replay` of a binary trace.
pub fn replay(path: &Path, rel_tol: Option<f64>, sample: Option<usize>) -> CommandOutput {
    let trace = match open_checked(path, rel_tol) {
        Ok(t) => t,
        Err(e) => return e,
    };
    match fast_path_applies(&trace) {
        Err(e) => return bad(format!("error: {e}")),
        Ok(false) => return via_json_lines(trace, rel_tol, sample, false),
        Ok(true) => {}
    }
    let o = match run(&trace, rel_tol, sample, false) {
        Ok(o) => o,
        Err(e) => return bad(format!("error: {e}")),
    };
    let h = trace.header();
    let agrees = o.declared.agrees();
    CommandOutput {
        status: if agrees { EXIT_AGREE } else { EXIT_DISAGREE },
        text: format!(
            "{}\n{}{}\n{}: {}\n",
            cli::header_line(trace.name(), h),
            sample_text(&trace, sample, &o),
            cli::reference_line(h, &o.declared),
            if agrees { "AGREES" } else { "DISAGREES" },
            cli::summary_line(h, &o.declared)
        ),
    }
}

/// `optverify check` of a binary trace.
pub fn check(path: &Path, rel_tol: Option<f64>, sample: Option<usize>) -> CommandOutput {
    let trace = match open_checked(path, rel_tol) {
        Ok(t) => t,
        Err(e) => return e,
    };
    match fast_path_applies(&trace) {
        Err(e) => return bad(format!("error: {e}")),
        Ok(false) => return via_json_lines(trace, rel_tol, sample, true),
        Ok(true) => {}
    }
    let o = match run(&trace, rel_tol, sample, true) {
        Ok(o) => o,
        Err(e) => return bad(format!("error: {e}")),
    };
    let h = trace.header();
    let agrees = o.declared.agrees();
    let label = format!("{} {}", h.preset, h.optimizer);
    let setting = compare::declared_setting(trace.name(), h).ok();
    let declared_variant = presets::Variant {
        label: format!("as declared ({label})"),
        setting: setting.unwrap_or_else(|| Setting::Sgd(crate::optim::sgd::SgdConfig::default())),
    };
    let mut results = vec![(declared_variant.clone(), o.declared.clone())];
    results.extend(o.variants.iter().cloned());
    let mut text = format!(
        "{}\n{}{}\n{} {}: {}\n",
        cli::header_line(trace.name(), h),
        sample_text(&trace, sample, &o),
        cli::reference_line(h, &o.declared),
        if agrees { "AGREES with" } else { "DISAGREES with" },
        declared_variant.label,
        cli::summary_line(h, &o.declared)
    );
    let diag = cli::diagnosis(h, &results);
    if o.norm_check.is_some() {
        text.push_str(
            "diagnosis: not run (a sampled layer-wise check replays the declared reference only; the convention variants need every coordinate: check in full)\n",
        );
    } else if o.diagnosis_coords < trace.dim() {
        text.push_str(&format!(
            "diagnosis on {} of {} coordinates (up to {DIAGNOSIS_SAMPLE} per block, chosen as by --sample; the optimizer is element-wise):\n",
            o.diagnosis_coords,
            trace.dim()
        ));
        text.push_str(diag.split_once('\n').map_or(diag.as_str(), |(_, rest)| rest));
    } else {
        text.push_str(&diag);
    }
    CommandOutput {
        status: if agrees { EXIT_AGREE } else { EXIT_DISAGREE },
        text,
    }
}

/// `check` of either format: binary traces as [`check`], JSON Lines as [`cli::check`]
/// (`--sample` needs a binary trace).
pub fn check_any(path: &Path, rel_tol: Option<f64>, sample: Option<usize>) -> CommandOutput {
    if is_binary(path) {
        check(path, rel_tol, sample)
    } else if sample.is_some() {
        bad(sampling_needs_binary(path))
    } else {
        cli::check(path, rel_tol)
    }
}

/// `replay` of either format.
pub fn replay_any(path: &Path, rel_tol: Option<f64>, sample: Option<usize>) -> CommandOutput {
    if is_binary(path) {
        replay(path, rel_tol, sample)
    } else if sample.is_some() {
        bad(sampling_needs_binary(path))
    } else {
        cli::replay(path, rel_tol)
    }
}

fn sampling_needs_binary(path: &Path) -> String {
    format!(
        "error: {}: --sample needs a binary trace (a JSON Lines trace is parsed in full anyway); convert it with `optverify convert {} DIR`",
        path.display(),
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_include_ends_and_boundaries_and_are_deterministic() {
        // 1003 = 250·4 + 3 = 62·16 + 11 = 15·64 + 43: vector tails start at 1000, 992, 960.
        let s = sample_block(1003, 40, 0);
        assert_eq!(s.len(), 40);
        assert_eq!(s, sample_block(1003, 40, 0));
        for i in [0, 1002, 999, 1000, 991, 992, 959, 960, 3, 4, 7, 8, 15, 16, 63, 64] {
            assert!(s.contains(&i), "{i} missing from {s:?}");
        }
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sample_block(5, 10, 3), vec![0, 1, 2, 3, 4]);
        assert_eq!(sample_block(100, 2, 0), vec![0, 99]);
        assert_ne!(sample_block(10_000, 100, 0), sample_block(10_000, 100, 1));
    }
}
