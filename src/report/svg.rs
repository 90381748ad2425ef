//! SVG figures, drawn with plotters' SVG backend.
//!
//! * White background and dark text, so a figure reads on GitHub in light mode.
//! * `log_x`/`log_y` give logarithmic axes; a point that cannot be drawn (a NaN or infinite
//!   coordinate, or on a log axis one ≤ 0 or more than [`MAX_LOG_DECADES`] below the largest) is dropped, and a line is broken there rather
//!   than joined across the gap (a lone point between gaps is drawn as a dot). [`drawable_points`] counts what is dropped so the page can
//!   say so.
//! * [`Style::Line`] is a solid line, [`Style::Predicted`] a dashed line, [`Style::Points`]
//!   markers; every series is in the legend, with "(nothing to draw)" when all its points
//!   were dropped. A [`Style::BandLower`] series and the [`Style::BandUpper`] series after it
//!   are one filled band (one legend entry), in the colour of the line the band belongs to.
//! * A figure whose series are all [`Style::HeatRow`] is a heat map: one row of cells per
//!   series, coloured on the viridis scale (logarithmic when `log_y`) and annotated with
//!   their values, so the figure reads without a colour bar.
//! * The output depends only on the figure record: no timestamps, no random ids.

use super::format::num_short;
use super::record::{FigureRecord, SeriesRecord};
use crate::claims::Style;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
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
    if !fig.series.is_empty() && fig.series.iter().all(|s| s.style == Style::HeatRow) {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(|e| fail(&e))?;
            heat_map(&root, fig).map_err(|e| fail(&e))?;
            root.present().map_err(|e| fail(&e))?;
        }
        return Ok(svg);
    }
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
    let floors = log_floors(fig);
    let mut open_band: Option<&SeriesRecord> = None;
    for (i, (series, pieces)) in fig.series.iter().zip(segs).enumerate() {
        let color = PALETTE[band_owner(fig, i).unwrap_or(i) % PALETTE.len()];
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
            Style::BandLower => open_band = Some(series),
            Style::BandUpper => {
                let polygons = match open_band.take() {
                    Some(lower) => band_polygons(floors, lower, series),
                    None => Vec::new(),
                };
                let fill = color.mix(0.18).filled();
                let mut annotation = chart.draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?;
                for polygon in polygons {
                    annotation = chart.draw_series(std::iter::once(Polygon::new(polygon, fill)))?;
                }
                let label = label.replace(" (upper)", "");
                annotation.label(label).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 24, y + 5)], color.mix(0.3).filled())
                });
            }
            // A heat row among other series has no axes to be drawn on: skipped (a heat map is
            // a figure of heat rows only).
            Style::HeatRow => {}
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

/// Index of the series a band (a [`Style::BandLower`] or [`Style::BandUpper`] series) belongs
/// to: the first non-band series whose label is the band's label before `": "`.
fn band_owner(fig: &FigureRecord, i: usize) -> Option<usize> {
    let s = &fig.series[i];
    if !matches!(s.style, Style::BandLower | Style::BandUpper) {
        return None;
    }
    let (owner, _) = s.label.rsplit_once(": ")?;
    fig.series
        .iter()
        .position(|t| t.label == owner && !matches!(t.style, Style::BandLower | Style::BandUpper))
}

/// The filled regions between a band's edges: one polygon per maximal run of indices where
/// both edges are drawable (a band is not joined across a gap, as a line is not).
fn band_polygons(floors: (f64, f64), lower: &SeriesRecord, upper: &SeriesRecord) -> Vec<Vec<(f64, f64)>> {
    let n = lower
        .x
        .len()
        .min(lower.y.len())
        .min(upper.x.len())
        .min(upper.y.len());
    let ok = |i: usize| {
        drawable(floors, lower.x[i].0, lower.y[i].0) && drawable(floors, upper.x[i].0, upper.y[i].0)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if !ok(i) {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && ok(i) {
            i += 1;
        }
        if i - start >= 2 {
            let mut polygon: Vec<(f64, f64)> = (start..i).map(|k| (lower.x[k].0, lower.y[k].0)).collect();
            polygon.extend((start..i).rev().map(|k| (upper.x[k].0, upper.y[k].0)));
            out.push(polygon);
        }
    }
    out
}

/// Draw a figure of [`Style::HeatRow`] series as a heat map: the columns are the first row's
/// `x`, one row per series (bottom to top), each cell coloured by its value on the viridis
/// scale between the figure's smallest and largest finite values (log-scaled when `log_y`)
/// and annotated with the value; a cell that cannot be coloured (NaN, infinite, or ≤ 0 on a
/// log scale) is light grey and marked "–".
fn heat_map(root: &DrawingArea<SVGBackend, Shift>, fig: &FigureRecord) -> DrawResult {
    use plotters::style::colors::colormaps::ViridisRGB;
    let columns: Vec<f64> = fig.series[0].x.iter().map(|v| v.0).collect();
    let (ncols, nrows) = (columns.len().max(1), fig.series.len());
    let scale = |v: f64| -> Option<f64> {
        match (fig.log_y, v.is_finite()) {
            (_, false) => None,
            (true, true) if v <= 0.0 => None,
            (true, true) => Some(v.log10()),
            (false, true) => Some(v),
        }
    };
    let scaled = || {
        fig.series
            .iter()
            .flat_map(|s| s.y.iter())
            .filter_map(|v| scale(v.0))
    };
    let lo = scaled().fold(f64::INFINITY, f64::min);
    let hi = scaled().fold(f64::NEG_INFINITY, f64::max);
    let mut chart = ChartBuilder::on(root)
        .caption(&fig.title, ("sans-serif", 22).into_font().color(&BLACK))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(150)
        .build_cartesian_2d(0f64..ncols as f64, 0f64..nrows as f64)?;
    let column_label = |v: &f64| {
        let k = (v - 0.5).round();
        if (v - 0.5 - k).abs() < 1e-9 && k >= 0.0 && (k as usize) < columns.len() {
            num_short(columns[k as usize])
        } else {
            String::new()
        }
    };
    let row_label = |v: &f64| {
        let k = (v - 0.5).round();
        if (v - 0.5 - k).abs() < 1e-9 && k >= 0.0 && (k as usize) < nrows {
            fig.series[k as usize].label.clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(fig.x_label.as_str())
        .y_desc(fig.y_label.as_str())
        .x_labels(2 * ncols + 1)
        .y_labels(2 * nrows + 1)
        .x_label_formatter(&column_label)
        .y_label_formatter(&row_label)
        .axis_desc_style(("sans-serif", 18).into_font().color(&BLACK))
        .label_style(("sans-serif", 13).into_font().color(&BLACK))
        .axis_style(BLACK)
        .draw()?;
    for (r, row) in fig.series.iter().enumerate() {
        for (c, v) in row.y.iter().enumerate().take(ncols) {
            let (x0, y0) = (c as f64, r as f64);
            let (fill, text, dark) = match scale(v.0) {
                Some(t) => {
                    // Position on the scale; a map whose coloured cells all hold one value
                    // has no span (plotters would divide 0 by 0 and panic on the NaN index):
                    // its cells take the scale's middle.
                    let u = if hi > lo { (t - lo) / (hi - lo) } else { 0.5 };
                    let color = ViridisRGB::get_color_normalized(u, 0.0, 1.0);
                    let dark = u < 0.55;
                    (color, num_short(v.0), dark)
                }
                None => (RGBColor(220, 220, 220), "–".to_string(), false),
            };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, y0), (x0 + 1.0, y0 + 1.0)],
                fill.filled(),
            )))?;
            let ink = if dark { WHITE } else { BLACK };
            let style = ("sans-serif", 12)
                .into_font()
                .color(&ink)
                .pos(Pos::new(HPos::Center, VPos::Center));
            chart.draw_series(std::iter::once(Text::new(text, (x0 + 0.5, y0 + 0.5), style)))?;
        }
    }
    Ok(())
}
