//! Thread CPU time as a criterion measurement, so that the benches read the same on a machine
//! shared with other jobs: wall time counts the time the scheduler gives to other processes,
//! the thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`, nanosecond resolution) does not. Under
//! load a step still pays for caches the other processes evicted, so figures taken on a busy
//! machine stay somewhat pessimistic, but no longer by the load factor. Outside Linux it falls
//! back to wall time. `scripts/bench_torch.py` times PyTorch with the same clock
//! (`time.thread_time_ns`). Included by the benches with `#[path]`.

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::Throughput;

/// The measurement: nanoseconds of CPU time of the calling thread.
pub struct ThreadCpuTime;

#[cfg(target_os = "linux")]
fn now_ns() -> u64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec (64-bit time_t on the 64-bit Linux targets
    // this crate is built for); the clock id is a constant Linux defines.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(not(target_os = "linux"))]
fn now_ns() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        now_ns()
    }
    fn end(&self, start: u64) -> u64 {
        now_ns() - start
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

/// Formats nanoseconds as criterion's wall-time formatter does (ns … s; B/s and elem/s).
struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = match typical {
            t if t < 1e3 => (1.0, "ns"),
            t if t < 1e6 => (1e-3, "µs"),
            t if t < 1e9 => (1e-6, "ms"),
            _ => (1e-9, "s"),
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(&self, typical: f64, throughput: &Throughput, values: &mut [f64]) -> &'static str {
        let (per_iteration, units): (f64, [&'static str; 4]) = match *throughput {
            Throughput::Bytes(b) | Throughput::BytesDecimal(b) => (b as f64, ["B/s", "KB/s", "MB/s", "GB/s"]),
            Throughput::Elements(e) | Throughput::ElementsAndBytes { elements: e, .. } => {
                (e as f64, ["elem/s", "Kelem/s", "Melem/s", "Gelem/s"])
            }
            Throughput::Bits(b) => (b as f64, ["b/s", "Kb/s", "Mb/s", "Gb/s"]),
        };
        let rate = per_iteration * 1e9 / typical;
        let k = match rate {
            r if r < 1e3 => 0,
            r if r < 1e6 => 1,
            r if r < 1e9 => 2,
            _ => 3,
        };
        let denominator = 1e3f64.powi(k as i32);
        values
            .iter_mut()
            .for_each(|v| *v = per_iteration * 1e9 / *v / denominator);
        units[k]
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}
