//! # Thinning long lines for figures and `results.json`
//!
//! A 20 000-step trajectory drawn on an 800-pixel-wide figure puts 25 points on every pixel
//! column, and stored in full it made `results.json` 10.9 MB and single SVGs 0.5 MB. A line
//! ([`Style::Line`] or [`Style::Predicted`]) of more than [`MAX_POINTS`] points is therefore
//! reduced to its min–max envelope: the plotted x range (in log₁₀ x on a log axis) is cut into
//! [`BUCKETS`] equal buckets, and in each bucket the points with the smallest and the largest
//! y are kept (M4-style aggregation), in their original order. The first and last points and
//! every point the figure cannot draw (non-finite, ≤ 0 on a log axis) are always kept, so the
//! line still breaks where it did and the page's count of undrawn points is unchanged. At one
//! bucket per two pixel columns the drawn envelope is the same as the full line's.
//!
//! Markers ([`Style::Points`]) and heat-map rows ([`Style::HeatRow`]) are never thinned: each
//! point is an instance or a cell. Verdicts and
//! measurements are computed from the full series before any record is made; only what is
//! drawn and stored is thinned, and the series records how many points it had
//! (`thinned_from`).

use super::record::{FigureRecord, JsonF64};
use super::svg::{drawable, log_floors};
use crate::claims::Style;

/// Lines longer than this are thinned.
pub const MAX_POINTS: usize = 1000;
/// Buckets of the x axis (two points each at most): half the figure's plot width in pixels.
pub const BUCKETS: usize = 400;

/// Thin every long line of `fig` in place.
pub fn thin_figure(fig: &mut FigureRecord) {
    let floors = log_floors(fig);
    let log_x = fig.log_x;
    for s in &mut fig.series {
        if matches!(s.style, Style::Points | Style::HeatRow)
            || s.x.len() <= MAX_POINTS
            || s.x.len() != s.y.len()
        {
            continue;
        }
        let keep = envelope_indices(&s.x, &s.y, log_x, |x, y| drawable(floors, x, y));
        if keep.len() < s.x.len() {
            s.thinned_from = Some(s.x.len());
            s.x = keep.iter().map(|&i| s.x[i]).collect();
            s.y = keep.iter().map(|&i| s.y[i]).collect();
        }
    }
}

/// Indices (increasing) of the min–max envelope of `(x, y)` over [`BUCKETS`] buckets of x
/// (of log₁₀ x when `log_x`), plus the first, the last and every point `drawable` rejects.
fn envelope_indices(
    x: &[JsonF64],
    y: &[JsonF64],
    log_x: bool,
    drawable: impl Fn(f64, f64) -> bool,
) -> Vec<usize> {
    let n = x.len();
    let coord = |i: usize| if log_x { x[i].0.log10() } else { x[i].0 };
    let (lo, hi) = (0..n)
        .filter(|&i| drawable(x[i].0, y[i].0))
        .map(coord)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
            (lo.min(c), hi.max(c))
        });
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    // (index of min y, index of max y) per bucket.
    let mut extremes: Vec<Option<(usize, usize)>> = vec![None; BUCKETS];
    for i in 0..n {
        if !drawable(x[i].0, y[i].0) {
            keep[i] = true;
            continue;
        }
        let b = if hi > lo {
            (((coord(i) - lo) / (hi - lo)) * BUCKETS as f64).floor() as usize
        } else {
            0
        }
        .min(BUCKETS - 1);
        extremes[b] = Some(match extremes[b] {
            None => (i, i),
            Some((mn, mx)) => (
                if y[i].0 < y[mn].0 { i } else { mn },
                if y[i].0 > y[mx].0 { i } else { mx },
            ),
        });
    }
    for (mn, mx) in extremes.into_iter().flatten() {
        keep[mn] = true;
        keep[mx] = true;
    }
    (0..n).filter(|&i| keep[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::record::SeriesRecord;

    fn line(x: Vec<f64>, y: Vec<f64>, style: Style) -> SeriesRecord {
        SeriesRecord {
            label: "s".into(),
            style,
            x: x.into_iter().map(JsonF64).collect(),
            y: y.into_iter().map(JsonF64).collect(),
            thinned_from: None,
        }
    }

    fn figure(series: Vec<SeriesRecord>, log_x: bool, log_y: bool) -> FigureRecord {
        FigureRecord {
            id: "f".into(),
            title: "t".into(),
            x_label: "k".into(),
            y_label: "e".into(),
            log_x,
            log_y,
            series,
            caption: String::new(),
        }
    }

    #[test]
    fn long_line_keeps_its_envelope_ends_and_gaps() {
        // A decaying oscillation with a NaN gap and a zero (undrawable on a log y axis).
        let n = 20_000;
        let x: Vec<f64> = (1..=n).map(|k| k as f64).collect();
        let mut y: Vec<f64> = x.iter().map(|k| (1.0 + 0.5 * (k * 0.7).sin()) / k).collect();
        y[5000] = f64::NAN;
        y[7000] = 0.0;
        let (ymax, ymin) = (
            y[0],
            y[n - 1].min(
                y.iter()
                    .copied()
                    .filter(|v| *v > 0.0)
                    .fold(f64::INFINITY, f64::min),
            ),
        );
        let mut fig = figure(vec![line(x, y, Style::Line)], true, true);
        thin_figure(&mut fig);
        let s = &fig.series[0];
        assert_eq!(s.thinned_from, Some(n));
        assert!(s.x.len() <= 2 * BUCKETS + 4, "{} points kept", s.x.len());
        assert_eq!(
            (s.x[0].0, s.x[s.x.len() - 1].0),
            (1.0, n as f64),
            "first and last kept"
        );
        assert!(s.x.windows(2).all(|w| w[0].0 < w[1].0), "original order kept");
        assert!(
            s.y.iter().any(|v| v.0.is_nan()) && s.y.iter().any(|v| v.0 == 0.0),
            "gaps kept"
        );
        let kept_max =
            s.y.iter()
                .map(|v| v.0)
                .filter(|v| v.is_finite())
                .fold(f64::NEG_INFINITY, f64::max);
        let kept_min =
            s.y.iter()
                .map(|v| v.0)
                .filter(|v| *v > 0.0)
                .fold(f64::INFINITY, f64::min);
        assert_eq!((kept_max, kept_min), (ymax, ymin), "global extremes kept exactly");
    }

    #[test]
    fn short_lines_and_markers_are_left_alone() {
        let x: Vec<f64> = (0..5000).map(f64::from).collect();
        let short = line(x[..MAX_POINTS].to_vec(), x[..MAX_POINTS].to_vec(), Style::Line);
        let markers = line(x.clone(), x.clone(), Style::Points);
        let mut fig = figure(vec![short.clone(), markers.clone()], false, false);
        thin_figure(&mut fig);
        assert_eq!(fig.series, vec![short, markers]);
    }

    #[test]
    fn the_page_counts_the_same_undrawn_points_after_thinning() {
        let x: Vec<f64> = (1..=3000).map(f64::from).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|k| if (*k as u64) % 97 == 0 { -1.0 } else { 1.0 / k })
            .collect();
        let full = figure(vec![line(x, y, Style::Line)], false, true);
        let mut thinned = full.clone();
        thin_figure(&mut thinned);
        assert!(thinned.series[0].x.len() < 3000);
        assert_eq!(
            crate::report::svg::drawable_points(&full).1,
            crate::report::svg::drawable_points(&thinned).1
        );
    }
}
