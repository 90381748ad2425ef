//! # Synthetic traces, generated as they are read
//!
//! [`SyntheticTrace`] is a `std::io::Read` that writes an `optverify-trace` line by line: the
//! header, then one step at a time of a `torch.optim.Adam`-preset run (the torch Adam kernel of
//! [`super::kernels::torch`], torch's defaults with lr = 0.01) on a deterministic gradient
//! stream. Nothing is
//! materialised, so a trace of any length costs O(n) memory to produce. The memory test
//! (`tests/oracle_memory.rs`) and the throughput benchmark (`benches/oracle.rs`) read it;
//! because the parameters are the preset's own trajectory, `check` agrees with it and runs
//! its agreement path over every step.
//!
//! [`write_binary_adamw_f32`] writes the binary counterpart, a `pytorch` AdamW f32 trace
//! directory, for the binary memory test (`tests/binary_memory.rs`) and throughput benchmark
//! (`benches/binary_trace.rs`).

use super::binary::BinaryWriter;
use super::compare::Replayer;
use super::format::{BlockSpec, Dtype, Header, StepRecord, FORMAT_NAME, FORMAT_VERSION};
use super::kernels::{self, Kernel};
use super::presets::{self, Setting};
use crate::optim::adam::AdamConfig;
use std::io::Read;
use std::path::Path;

/// The learning rate written in the header and used to generate the parameters.
pub const LR: f64 = 0.01;

/// A generated `pytorch` Adam trace of `steps` steps on `n` parameters.
pub struct SyntheticTrace {
    n: usize,
    steps: u64,
    step: u64,
    opt: Box<dyn Kernel<f64>>,
    x: Vec<f64>,
    line: Vec<u8>,
    pos: usize,
}

impl SyntheticTrace {
    /// The trace's header is ready to read; steps are generated on demand.
    pub fn adam_pytorch(n: usize, steps: u64) -> Self {
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 500.0 - 1.0).collect();
        let header = serde_json::json!({
            "format": "optverify-trace", "version": 1, "optimizer": "adam", "preset": "pytorch",
            "hyperparameters": {"lr": LR}, "layout": [{"name": "w", "rows": n, "cols": 1}],
            "dtype": "f64", "producer": "optverify synthetic", "params0": x,
        });
        SyntheticTrace {
            n,
            steps,
            step: 0,
            opt: kernels::build(
                "pytorch",
                &Setting::Adam(AdamConfig {
                    lr: LR,
                    ..AdamConfig::pytorch()
                }),
            )
            .expect("a torch Adam kernel exists"),
            x,
            line: format!("{header}\n").into_bytes(),
            pos: 0,
        }
    }

    fn next_line(&mut self) {
        self.step += 1;
        // Gradient of ½‖x‖² plus a deterministic perturbation: nonzero, of varied magnitudes.
        let step = self.step;
        let x = &self.x;
        let g: Vec<f64> = (0..self.n)
            .map(|i| x[i] + ((i as u64 * 31 + step) % 17) as f64 * 1e-3)
            .collect();
        self.opt
            .step(&mut self.x, &g)
            .expect("finite gradients of matching length");
        let rec = serde_json::json!({"step": self.step, "grad": g, "params": self.x});
        self.line = format!("{rec}\n").into_bytes();
        self.pos = 0;
    }
}

impl Read for SyntheticTrace {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.line.len() {
            if self.step == self.steps {
                return Ok(0);
            }
            self.next_line();
        }
        let k = out.len().min(self.line.len() - self.pos);
        out[..k].copy_from_slice(&self.line[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

/// Write a `pytorch` AdamW (`{"lr": lr}`, torch's other defaults) f32 binary trace into
/// `dir` (removed first if it exists): θ₀ = `x0(i)`, then `steps` steps with gradient
/// `grad(t, i)` at step t, the parameters stepped by the crate's torch AdamW kernel in f32, so
/// that `check` agrees and runs its agreement path over every step. Memory: a few parameter
/// vectors.
///
/// # Errors
/// I/O errors writing `dir`; a `layout` whose sizes overflow.
pub fn write_binary_adamw_f32(
    dir: &Path,
    layout: Vec<BlockSpec>,
    lr: f64,
    x0: impl Fn(usize) -> f32,
    grad: impl Fn(u64, usize) -> f32,
    steps: u64,
) -> std::io::Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    let mut hp = serde_json::Map::new();
    hp.insert("lr".into(), serde_json::json!(lr));
    let header = Header {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
        optimizer: "adamw".into(),
        preset: "pytorch".into(),
        hyperparameters: hp,
        layout,
        dtype: Dtype::F32,
        producer: "optverify synthetic".into(),
        params0: vec![],
        param_groups: None,
        schedule: None,
        transforms: vec![],
        jax_enable_x64: None,
    };
    let n = header.layout().map_err(std::io::Error::other)?.dim();
    let header = Header {
        params0: (0..n).map(|i| f64::from(x0(i))).collect(),
        ..header
    };
    let setting =
        presets::resolve("pytorch", "adamw", &header.hyperparameters).map_err(std::io::Error::other)?;
    let mut reference = Replayer::declared("pytorch", &setting, &header.layout, Dtype::F32, &header.params0)
        .map_err(std::io::Error::other)?;
    let mut w = BinaryWriter::create(dir, &header)?;
    for t in 1..=steps {
        let g: Vec<f64> = (0..n).map(|i| f64::from(grad(t, i))).collect();
        reference.step(&g).map_err(std::io::Error::other)?;
        w.step(&StepRecord {
            step: t,
            grad: g,
            params: reference.params(),
            loss: None,
            hyperparameters: None,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::format::TraceReader;
    use std::io::BufReader;

    #[test]
    fn synthetic_trace_replays_bit_for_bit_through_its_preset() {
        let mut r =
            TraceReader::new("synthetic", BufReader::new(SyntheticTrace::adam_pytorch(7, 25))).unwrap();
        let o = crate::oracle::compare::replay(&mut r, Some(0.0)).unwrap();
        assert_eq!((o.steps, o.bit_identical_steps), (25, 25));
    }
}
