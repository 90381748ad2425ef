//! SVG figures, drawn with plotters' SVG backend.
//!
//! * White background and dark text, so a figure reads on GitHub in light mode.
//! * `log_x`/`log_y` give logarithmic axes; a point that cannot be drawn (a NaN or infinite
//!   coordinate, or on a log axis one ≤ 0 or more than [`MAX_LOG_DECADES`] below the largest) is dropped, and a line is broken there rather
//!   than joined across the gap (a lone point between gaps is drawn as a dot). [`drawable_points`] counts what is dropped so the page can
//!   say so.
//! * [`Style::Line`] is a solid line, [`Style::Predicted`] a dashed line, [`Style::Points`]
//!   markers; every series is in the legend, with "(nothing to draw)" when all its points
//!   were dropped.
//! * The output depends only on the figure record: no timestamps, no random ids.

use super::format::num_short;
use super::record::{FigureRecord, SeriesRecord};
use crate::claims::Style;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use std::ops::Range;

/// Width and height of every figure, in pixels.
pub const SIZE: (u32, u32) = (800, 480);

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies, dark enough
/// on white.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// A drawing failure (plotters reports layout errors this way).
#[derive(Debug, thiserror::Error)]
#[error("figure `{figure}`: {message}")]
pub struct PlotError {
    pub figure: String,
    pub message: String,
}

/// Most decades a log axis spans. plotters 0.3.7 computes the number of decades of a log axis
/// as `ln(end/start)`, which overflows to infinity past ~308 decades and then loops for ever;
/// and a figure spanning more than 60 decades is unreadable anyway. Points more than this many
/// decades below the axis's largest value are dropped (and counted as dropped on the page).
pub const MAX_LOG_DECADES: f64 = 60.0;

/// The smallest value drawn on each axis of `fig`: 0 on a linear axis (any finite value is
/// drawn); on a log axis the larger of the smallest normal float (a subnormal's padded decade
/// can underflow to 0) and `10^-MAX_LOG_DECADES` times the largest drawable value.
pub(super) fn log_floors(fig: &FigureRecord) -> (f64, f64) {
    let floor = |log: bool, pick: fn(f64, f64) -> f64| {
        if !log {
            return f64::NEG_INFINITY;
        }
        let hi = fig
            .series
            .iter()
            .flat_map(|s| s.x.iter().zip(&s.y))
            .map(|(x, y)| pick(x.0, y.0))
            .filter(|v| v.is_finite() && *v >= f64::MIN_POSITIVE)
            .fold(f64::NEG_INFINITY, f64::max);
        (hi * 10f64.powf(-MAX_LOG_DECADES)).max(f64::MIN_POSITIVE)
    };
    (floor(fig.log_x, |x, _| x), floor(fig.log_y, |_, y| y))
}

/// Whether `(x, y)` can be drawn on the figure's axes, given its [`log_floors`].
pub(super) fn drawable(floors: (f64, f64), x: f64, y: f64) -> bool {
    x.is_finite() && y.is_finite() && x >= floors.0 && y >= floors.1
}

/// (drawn, dropped) point counts of a figure. Extra coordinates of a series whose `x` and `y`
/// differ in length count as dropped.
pub fn drawable_points(fig: &FigureRecord) -> (usize, usize) {
    let floors = log_floors(fig);
    let mut drawn = 0;
    let mut dropped = 0;
    for s in &fig.series {
        let n = s.x.len().min(s.y.len());
        dropped += s.x.len().max(s.y.len()) - n;
        for (x, y) in s.x.iter().zip(&s.y) {
            if drawable(floors, x.0, y.0) {
                drawn += 1;
            } else {
                dropped += 1;
            }
        }
    }
    (drawn, dropped)
}

/// The maximal runs of consecutive drawable points of a series.
fn segments(fig: &FigureRecord, s: &SeriesRecord) -> Vec<Vec<(f64, f64)>> {
    let floors = log_floors(fig);
    let mut out = Vec::new();
    let mut current = Vec::new();
    for (x, y) in s.x.iter().zip(&s.y) {
        if drawable(floors, x.0, y.0) {
            current.push((x.0, y.0));
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The axis range covering `values`, with a margin: 3% of the span on a linear axis; on a
/// log axis the enclosing whole decades plus 2% of their span. A single value on a linear
/// axis gets a window of ±half its magnitude (±1 at 0).
fn axis_range(values: impl Iterator<Item = f64>, log: bool) -> Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() || !hi.is_finite() {
        return if log { 1.0..10.0 } else { 0.0..1.0 };
    }
    if log {
        // Whole decades, so the axis always carries labelled ticks (plotters labels decades
        // and, within a decade, its integer multiples).
        let llo = lo.log10().floor();
        let lhi = hi.log10().ceil().max(llo + 1.0);
        let pad = 0.02 * (lhi - llo);
        10f64.powf(llo - pad)..10f64.powf(lhi + pad)
    } else if hi > lo {
        let pad = 0.03 * (hi - lo);
        lo - pad..hi + pad
    } else {
        let pad = if lo == 0.0 { 1.0 } else { 0.5 * lo.abs() };
        lo - pad..hi + pad
    }
}

/// Render `fig` as an SVG document.
///
/// # Errors
/// plotters failed to lay the chart out.
pub fn render(fig: &FigureRecord) -> Result<String, PlotError> {
    let fail = |e: &dyn std::fmt::Display| PlotError {
        figure: fig.id.clone(),
        message: e.to_string(),
    };
    let segs: Vec<Vec<Vec<(f64, f64)>>> = fig.series.iter().map(|s| segments(fig, s)).collect();
    let all = || segs.iter().flatten().flatten();
    let xr = axis_range(all().map(|p| p.0), fig.log_x);
    let yr = axis_range(all().map(|p| p.1), fig.log_y);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        match (fig.log_x, fig.log_y) {
            (false, false) => draw(&root, fig, &segs, xr, yr),
            (true, false) => draw(&root, fig, &segs, xr.log_scale(), yr),
            (false, true) => draw(&root, fig, &segs, xr, yr.log_scale()),
            (true, true) => draw(&root, fig, &segs, xr.log_scale(), yr.log_scale()),
        }
        .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(svg)
}

type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

fn draw<X, Y>(
    root: &DrawingArea<SVGBackend, Shift>,
    fig: &FigureRecord,
    segs: &[Vec<Vec<(f64, f64)>>],
    xr: X,
    yr: Y,
) -> DrawResult
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(root)
        .caption(&fig.title, ("sans-serif", 22).into_font().color(&BLACK))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(xr, yr)?;
    let format = |v: &f64| num_short(*v);
    chart
        .configure_mesh()
        .x_desc(fig.x_label.as_str())
        .y_desc(fig.y_label.as_str())
        .x_label_formatter(&format)
        .y_label_formatter(&format)
        .axis_desc_style(("sans-serif", 18).into_font().color(&BLACK))
        .label_style(("sans-serif", 15).into_font().color(&BLACK))
        .bold_line_style(RGBColor(215, 215, 215))
        .light_line_style(RGBColor(240, 240, 240))
        .axis_style(BLACK)
        .draw()?;
    for (i, (series, pieces)) in fig.series.iter().zip(segs).enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let label = if pieces.is_empty() {
            format!("{} (nothing to draw)", series.label)
        } else {
            series.label.clone()
        };
        let line = color.stroke_width(2);
        let points: Vec<(f64, f64)> = pieces.iter().flatten().copied().collect();
        match series.style {
            Style::Line | Style::Predicted => {
                let dashed = series.style == Style::Predicted;
                let mut last = None;
                for piece in pieces {
                    last = Some(if piece.len() == 1 {
                        // A lone drawable point between gaps: a dot, since a line needs two.
                        chart.draw_series(std::iter::once(Circle::new(piece[0], 2, color.filled())))?
                    } else if dashed {
                        chart.draw_series(DashedLineSeries::new(piece.iter().copied(), 8, 5, line))?
                    } else {
                        chart.draw_series(LineSeries::new(piece.iter().copied(), line))?
                    });
                }
                let annotation = match last {
                    Some(a) => a,
                    None => chart.draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?,
                };
                annotation.label(label).legend(move |(x, y)| {
                    let ends = vec![(x, y), (x + 24, y)];
                    if dashed {
                        DashedPathElement::new(ends, 6, 4, line).into_dyn()
                    } else {
                        PathElement::new(ends, line).into_dyn()
                    }
                });
            }
            Style::Points => {
                chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?
                    .label(label)
                    .legend(move |(x, y)| Circle::new((x + 12, y), 3, color.filled()));
            }
        }
    }
    if !fig.series.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(160, 160, 160))
            .label_font(("sans-serif", 15).into_font().color(&BLACK))
            .draw()?;
    }
    Ok(())
}
