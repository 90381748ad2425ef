//! Statistics over independent replicates (seeds): Student-t intervals, pointwise t-bands for
//! figures, ordinary least-squares slopes.
//!
//! A two-sided interval at level 1 − α misses the true mean with probability α when the
//! replicates are i.i.d. normal, and approximately so otherwise (the t-statistic is robust
//! for the sample sizes the cards use, ≥ 8): a card that declares a failure when an interval
//! excludes a predicted value has false-alarm probability α per interval.

use crate::claims::{Series, Style};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Two-sided Student-t interval: (mean, mean − t_{1−α/2, n−1}·s/√n, mean + t_{1−α/2, n−1}·s/√n).
/// NaN ends for fewer than two replicates.
pub fn t_interval(xs: &[f64], alpha: f64) -> (f64, f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .map(|d| d.inverse_cdf(1.0 - alpha / 2.0))
        .unwrap_or(f64::NAN);
    let half = t * (var / n).sqrt();
    (mean, mean - half, mean + half)
}

/// Pointwise two-sided Student-t band at level 1 − α over independent replicates
/// (`replicates[r][i]` is replicate r's value at `x[i]`), drawn as a filled band between its
/// two edges ([`Style::BandLower`], [`Style::BandUpper`]) in the colour of the series whose
/// label is `label`. Every
/// stochastic figure that shows a mean over seeds draws its band with this function. A lower
/// end ≤ 0 is dropped on a log axis by the SVG writer (the line is broken there).
pub fn t_band(label: &str, alpha: f64, x: &[f64], replicates: &[Vec<f64>]) -> [Series; 2] {
    let (lo, hi): (Vec<f64>, Vec<f64>) = (0..x.len())
        .map(|i| {
            let col: Vec<f64> = replicates.iter().map(|r| r[i]).collect();
            let (_, lo, hi) = t_interval(&col, alpha);
            (lo, hi)
        })
        .unzip();
    let level = 100.0 * (1.0 - alpha);
    let series = |end: &str, style: Style, y: Vec<f64>| Series {
        label: format!("{label}: {level:.0}% t-band ({end})"),
        style,
        x: x.to_vec(),
        y,
    };
    [
        series("lower", Style::BandLower, lo),
        series("upper", Style::BandUpper, hi),
    ]
}

/// OLS slope of y on x.
pub fn slope(x: &[f64], y: &[f64]) -> f64 {
    slope_intercept(x, y).0
}

/// OLS slope and intercept of y on x.
pub fn slope_intercept(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let s = sxy / sxx;
    (s, my - s * mx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line_is_exact_and_intercept_recovered() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v - 1.0).collect();
        assert_eq!(slope_intercept(&x, &y), (2.0, -1.0));
        assert_eq!(slope(&x, &y), 2.0);
    }

    #[test]
    fn t_interval_matches_a_hand_computed_case() {
        // xs = 1, 2, 3: mean 2, s = 1, t_{0.975, 2} = 4.302652729911275 (tables).
        let (m, lo, hi) = t_interval(&[1.0, 2.0, 3.0], 0.05);
        let half = 4.302_652_729_911_275 / 3f64.sqrt();
        assert_eq!(m, 2.0);
        assert!((lo - (2.0 - half)).abs() < 1e-9 && (hi - (2.0 + half)).abs() < 1e-9);
        assert!(t_interval(&[1.0], 0.05).1.is_nan());
    }

    #[test]
    fn t_band_is_the_interval_pointwise() {
        let reps = vec![vec![1.0, 10.0], vec![2.0, 20.0], vec![3.0, 30.0]];
        let [lo, hi] = t_band("b", 0.05, &[1.0, 2.0], &reps);
        let (_, l1, h1) = t_interval(&[10.0, 20.0, 30.0], 0.05);
        assert_eq!((lo.y[1], hi.y[1]), (l1, h1));
        assert!(lo.label.contains("95% t-band (lower)"));
    }
}
