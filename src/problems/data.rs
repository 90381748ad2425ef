//! # Digits
//!
//! The UCI *Optical Recognition of Handwritten Digits* test set (E. Alpaydin, C. Kaynak, 1998;
//! CC BY 4.0) as shipped inside scikit-learn 1.9.1 (`sklearn/datasets/data/digits.csv.gz`):
//! 1797 rows, each 64 integer pixels of an 8×8 image (values 0..=16) followed by the class label
//! 0..=9. The gzip file is vendored as `data/digits.csv.gz` (attribution in `data/README.md`)
//! and embedded in the binary with `include_bytes!`, so `optverify` works from any directory.
//! Its SHA-256 is recorded in `data/digits.sha256` and checked by a unit test below.
//!
//! Features are scaled to $[0, 1]$ by dividing the pixel values by 16:
//! $$x_{kj} = \frac{p_{kj}}{16} \in [0, 1].$$
//!
//! ## References
//! 1. E. Alpaydin, C. Kaynak. *Optical Recognition of Handwritten Digits* (1998), UCI Machine
//!    Learning Repository, <https://doi.org/10.24432/C50P49>.

use super::ProblemError;
use nalgebra::DMatrix;
use std::io::Read;
use std::sync::OnceLock;

/// The vendored gzip file, byte for byte.
pub const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// Expected SHA-256 of [`DIGITS_CSV_GZ`] (the content of `data/digits.sha256`).
pub const DIGITS_SHA256: &str = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22";

/// Number of pixels per image.
pub const DIGITS_FEATURES: usize = 64;
/// Number of classes.
pub const DIGITS_CLASSES: usize = 10;
/// Largest pixel value; features are divided by it.
pub const DIGITS_MAX_PIXEL: f64 = 16.0;

/// A labelled data set: `features` is m × d (one example per row), `labels[k]` ∈ 0..classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Digits {
    /// m × 64 pixel intensities scaled to [0, 1].
    pub features: DMatrix<f64>,
    /// Class labels 0..=9.
    pub labels: Vec<u8>,
}

impl Digits {
    /// Number of examples m.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// The rows whose label satisfies `keep`, in their original order.
    pub fn filter(&self, keep: impl Fn(u8) -> bool) -> Digits {
        let rows: Vec<usize> = (0..self.len()).filter(|&k| keep(self.labels[k])).collect();
        let features = DMatrix::from_fn(rows.len(), self.features.ncols(), |r, c| {
            self.features[(rows[r], c)]
        });
        Digits {
            features,
            labels: rows.iter().map(|&k| self.labels[k]).collect(),
        }
    }
}

/// Parse the CSV text: each non-empty line has 64 integers in 0..=16 and a label in 0..=9.
/// Malformed lines are reported with their (1-based) line number, never a panic.
pub fn parse_digits_csv(text: &str) -> Result<Digits, ProblemError> {
    let mut values: Vec<f64> = Vec::new();
    let mut labels = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != DIGITS_FEATURES + 1 {
            return Err(ProblemError::Data {
                line: line_no,
                reason: format!("expected {} fields, found {}", DIGITS_FEATURES + 1, fields.len()),
            });
        }
        for (j, field) in fields.iter().enumerate() {
            let v: u8 = field.trim().parse().map_err(|_| ProblemError::Data {
                line: line_no,
                reason: format!("field {} = {field:?} is not a non-negative integer", j + 1),
            })?;
            if j < DIGITS_FEATURES {
                if f64::from(v) > DIGITS_MAX_PIXEL {
                    return Err(ProblemError::Data {
                        line: line_no,
                        reason: format!("pixel {} = {v} is outside 0..=16", j + 1),
                    });
                }
                values.push(f64::from(v) / DIGITS_MAX_PIXEL);
            } else {
                if usize::from(v) >= DIGITS_CLASSES {
                    return Err(ProblemError::Data {
                        line: line_no,
                        reason: format!("label {v} is outside 0..=9"),
                    });
                }
                labels.push(v);
            }
        }
    }
    let features = DMatrix::from_row_slice(labels.len(), DIGITS_FEATURES, &values);
    Ok(Digits { features, labels })
}

/// Decompress and parse gzip-compressed digits CSV bytes.
pub fn load_digits_gz(bytes: &[u8]) -> Result<Digits, ProblemError> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .map_err(|e| ProblemError::Data {
            line: 0,
            reason: format!("cannot decompress: {e}"),
        })?;
    parse_digits_csv(&text)
}

/// The vendored digits data, decompressed and parsed once per process.
///
/// # Errors
/// Only if the embedded file is corrupt (the unit tests rule this out for the shipped file).
pub fn digits() -> Result<&'static Digits, ProblemError> {
    static CELL: OnceLock<Result<Digits, ProblemError>> = OnceLock::new();
    CELL.get_or_init(|| load_digits_gz(DIGITS_CSV_GZ))
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SHA-256 (FIPS 180-4), written here so the integrity test needs no extra dependency.
    /// The round constants are the first 32 bits of the fractional parts of the cube roots of
    /// the first 64 primes, the initial state those of the square roots of the first 8; both
    /// are computed below in f64 (cube roots < 7, so 50 fractional bits are available and the
    /// 32 we keep are exact unless a root lies within 2⁻⁴⁸ of a multiple of 2⁻³², which the
    /// known-answer tests would catch).
    fn sha256(message: &[u8]) -> String {
        let primes: Vec<u64> = (2u64..)
            .filter(|&p| (2..p).take_while(|d| d * d <= p).all(|d| p % d != 0))
            .take(64)
            .collect();
        let frac32 = |x: f64| ((x - x.floor()) * 4294967296.0) as u32;
        let k: Vec<u32> = primes.iter().map(|&p| frac32((p as f64).cbrt())).collect();
        let mut h: Vec<u32> = primes[..8].iter().map(|&p| frac32((p as f64).sqrt())).collect();
        let mut data = message.to_vec();
        let bit_len = (message.len() as u64).wrapping_mul(8);
        data.push(0x80);
        while data.len() % 64 != 56 {
            data.push(0);
        }
        data.extend_from_slice(&bit_len.to_be_bytes());
        for chunk in data.chunks(64) {
            let mut w = [0u32; 64];
            for t in 0..16 {
                w[t] =
                    u32::from_be_bytes([chunk[4 * t], chunk[4 * t + 1], chunk[4 * t + 2], chunk[4 * t + 3]]);
            }
            for t in 16..64 {
                let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
                let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
                w[t] = w[t - 16].wrapping_add(s0).wrapping_add(w[t - 7]).wrapping_add(s1);
            }
            let mut s = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]];
            for t in 0..64 {
                let big_s1 = s[4].rotate_right(6) ^ s[4].rotate_right(11) ^ s[4].rotate_right(25);
                let ch = (s[4] & s[5]) ^ (!s[4] & s[6]);
                let t1 = s[7]
                    .wrapping_add(big_s1)
                    .wrapping_add(ch)
                    .wrapping_add(k[t])
                    .wrapping_add(w[t]);
                let big_s0 = s[0].rotate_right(2) ^ s[0].rotate_right(13) ^ s[0].rotate_right(22);
                let maj = (s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]);
                let t2 = big_s0.wrapping_add(maj);
                s = [
                    t1.wrapping_add(t2),
                    s[0],
                    s[1],
                    s[2],
                    s[3].wrapping_add(t1),
                    s[4],
                    s[5],
                    s[6],
                ];
            }
            for i in 0..8 {
                h[i] = h[i].wrapping_add(s[i]);
            }
        }
        h.iter().map(|x| format!("{x:08x}")).collect()
    }

    #[test]
    fn test_sha256_known_answers() {
        // FIPS 180-4 examples (one block, two blocks) and the empty message.
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(
            sha256(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn test_digits_sha256_matches_recorded() {
        assert_eq!(sha256(DIGITS_CSV_GZ), DIGITS_SHA256);
        let recorded = include_str!("../../data/digits.sha256");
        assert_eq!(recorded.split_whitespace().next(), Some(DIGITS_SHA256));
    }

    #[test]
    fn test_digits_shape_and_ranges() {
        let d = digits().expect("embedded data parses");
        assert_eq!(d.len(), 1797);
        assert_eq!(d.features.shape(), (1797, 64));
        assert!(d.features.iter().all(|&v| (0.0..=1.0).contains(&v)));
        // Both extremes occur, so the ÷16 scaling really maps onto [0, 1].
        assert_eq!(d.features.max(), 1.0);
        assert_eq!(d.features.min(), 0.0);
        let mut counts = [0usize; 10];
        for &l in &d.labels {
            counts[l as usize] += 1;
        }
        // The UCI test set has between 174 and 183 examples of each digit.
        assert!(counts.iter().all(|&c| (174..=183).contains(&c)), "{counts:?}");
        assert_eq!(counts.iter().sum::<usize>(), 1797);
        // First row as printed by `zcat digits.csv.gz | head -1`: label 0, pixel 3 = 5.
        assert_eq!(d.labels[0], 0);
        assert_eq!(d.features[(0, 2)], 5.0 / 16.0);
    }

    #[test]
    fn test_parse_rejects_malformed_rows() {
        let good: String = (0..64).map(|_| "0,").collect::<String>() + "3";
        assert_eq!(parse_digits_csv(&good).unwrap().labels, vec![3]);
        let short = "1,2,3";
        assert!(matches!(
            parse_digits_csv(short),
            Err(ProblemError::Data { line: 1, .. })
        ));
        let bad_pixel = good.replacen('0', "17", 1);
        assert!(matches!(
            parse_digits_csv(&format!("{good}\n{bad_pixel}")),
            Err(ProblemError::Data { line: 2, .. })
        ));
        let bad_label = (0..64).map(|_| "0,").collect::<String>() + "10";
        assert!(parse_digits_csv(&bad_label).is_err());
        let not_number = good.replacen('0', "x", 1);
        assert!(parse_digits_csv(&not_number).is_err());
        assert!(load_digits_gz(b"not gzip").is_err());
    }

    #[test]
    fn test_filter_keeps_order() {
        let d = digits().unwrap();
        let zeros_ones = d.filter(|l| l <= 1);
        assert!(zeros_ones.labels.iter().all(|&l| l <= 1));
        let first_one = d.labels.iter().position(|&l| l == 1).unwrap();
        let idx = zeros_ones.labels.iter().position(|&l| l == 1).unwrap();
        assert_eq!(zeros_ones.features.row(idx), d.features.row(first_one));
    }
}
