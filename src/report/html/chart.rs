//! The page's charts, drawn as inline SVG by `plotters` (its SVG backend alone: no fonts, no
//! bitmap code). Two kinds: values over the run's seconds, with the phases as bands and the
//! events as numbered marks; and HDR percentile spectra, on the classic log-scaled percentile
//! axis. Legends are the page's (HTML beside the chart), so that they never cover a line.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One line of a chart.
#[derive(Clone, Debug)]
pub struct Line {
    pub name: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed: a target or a reference, not a measurement.
    pub dashed: bool,
}

impl Line {
    #[must_use]
    pub fn new(name: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            color,
            points,
            dashed: false,
        }
    }

    #[must_use]
    pub fn dashed(mut self) -> Self {
        self.dashed = true;
        self
    }
}

/// The run's time marks, drawn on every time chart.
#[derive(Clone, Debug, Default)]
pub struct TimeMarks {
    /// (start, end, phase name), seconds on the run's clock.
    pub phases: Vec<(f64, f64, String)>,
    /// (number in the page's event table, seconds).
    pub events: Vec<(usize, f64)>,
    /// The end of the time axis.
    pub end: f64,
}

/// Chart size in SVG pixels; the page scales it to its column.
pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 260;

/// Colours that stay apart for the colour-blind (Okabe-Ito, then Tableau's grey and olive).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 200, 40),
    RGBColor(60, 60, 60),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
];

const EVENT_COLOR: RGBColor = RGBColor(200, 30, 60);
const GRID: RGBColor = RGBColor(228, 230, 235);
const AXIS_TEXT: RGBColor = RGBColor(80, 86, 96);
const BAND_SHADES: [RGBColor; 2] = [RGBColor(244, 246, 250), RGBColor(255, 255, 255)];

fn fail(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("drawing a chart: {error}")
}

/// A short axis figure: 950, 1.2k, 15.1M; fractions keep two digits.
#[must_use]
pub fn short_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if magnitude >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else if magnitude >= 1e3 {
        format!("{:.1}k", value / 1e3)
    } else if magnitude >= 10.0 || value.fract().abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// Seconds as a time-axis label: `45s`, `2m30s`.
#[must_use]
pub fn clock_label(seconds: f64) -> String {
    // Axis positions: non-negative and far below u64's range.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = seconds.max(0.0).round() as u64;
    if whole < 120 {
        format!("{whole}s")
    } else if whole.is_multiple_of(60) {
        format!("{}m", whole / 60)
    } else {
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

/// The largest value of `lines` (0 with none).
#[must_use]
pub fn highest(lines: &[Line]) -> f64 {
    lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0_f64, f64::max)
}

/// Values over the run's seconds, with its phases and events.
pub fn time_chart(y_label: &str, lines: &[Line], marks: &TimeMarks) -> anyhow::Result<String> {
    let x_end = marks.end.max(1.0);
    let y_top = highest(lines);
    let y_end = if y_top > 0.0 { y_top * 1.12 } else { 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(22)
            .margin_right(16)
            .margin_left(6)
            .margin_bottom(4)
            .x_label_area_size(28)
            .y_label_area_size(58)
            .build_cartesian_2d(0.0..x_end, 0.0..y_end)
            .map_err(fail)?;
        // Bands first, so that the grid and the lines are drawn over them.
        for (i, (start, end, _)) in marks.phases.iter().enumerate() {
            let shade = BAND_SHADES[i % 2];
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(*start, 0.0), (end.min(x_end), y_end)],
                    shade.filled(),
                )))
                .map_err(fail)?;
        }
        let axis_font = ("sans-serif", 15).into_font().color(&AXIS_TEXT);
        chart
            .configure_mesh()
            .light_line_style(GRID.mix(0.0))
            .bold_line_style(GRID)
            .axis_style(AXIS_TEXT)
            .x_labels(8)
            .y_labels(6)
            .x_label_formatter(&|x| clock_label(*x))
            .y_label_formatter(&|y| short_number(*y))
            .label_style(axis_font.clone())
            .y_desc(y_label)
            .axis_desc_style(axis_font)
            .draw()
            .map_err(fail)?;
        let band_font = ("sans-serif", 14)
            .into_font()
            .color(&AXIS_TEXT)
            .pos(Pos::new(HPos::Left, VPos::Top));
        let x_per_pixel = x_end / f64::from(WIDTH - 80);
        for (start, end, name) in &marks.phases {
            // A phase's name where its band is wide enough to hold it.
            if (end.min(x_end) - start) / x_per_pixel > 8.5 * name.len() as f64 {
                chart
                    .draw_series(std::iter::once(Text::new(
                        name.clone(),
                        (*start + 3.0 * x_per_pixel, y_end * 0.995),
                        band_font.clone(),
                    )))
                    .map_err(fail)?;
            }
        }
        for line in lines {
            let style = ShapeStyle::from(&line.color).stroke_width(2);
            if line.dashed {
                chart
                    .draw_series(DashedLineSeries::new(
                        line.points.iter().copied(),
                        6,
                        4,
                        style.stroke_width(1),
                    ))
                    .map_err(fail)?;
            } else {
                for run in gapless_runs(&line.points) {
                    chart
                        .draw_series(LineSeries::new(run.iter().copied(), style))
                        .map_err(fail)?;
                }
            }
        }
        mark_events(&mut chart, &marks.events, y_end)?;
        root.present().map_err(fail)?;
    }
    Ok(svg)
}

/// A line's points cut where a second is missing (no answer in it), so that a gap is drawn as
/// one, not as a slope across it.
fn gapless_runs(points: &[(f64, f64)]) -> Vec<&[(f64, f64)]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=points.len() {
        if i == points.len() || points[i].0 - points[i - 1].0 > 1.5 {
            runs.push(&points[start..i]);
            start = i;
        }
    }
    runs
}

/// The plotting area of a time chart.
type TimeArea<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Each event as a thin line across the chart, numbered at its top.
fn mark_events(
    chart: &mut TimeArea<'_, '_>,
    events: &[(usize, f64)],
    y_end: f64,
) -> anyhow::Result<()> {
    let mark_font = ("sans-serif", 14)
        .into_font()
        .color(&EVENT_COLOR)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    // Every event gets its line; a number only where it clears the last one drawn, so that
    // a ramp's step a second does not print a smear of digits.
    let mut next_free_px = i32::MIN;
    for (number, at) in events {
        chart
            .draw_series(LineSeries::new(
                [(*at, 0.0), (*at, y_end)],
                ShapeStyle::from(&EVENT_COLOR.mix(0.6)).stroke_width(1),
            ))
            .map_err(fail)?;
        let (x_px, _) = chart.backend_coord(&(*at, y_end));
        if x_px < next_free_px {
            continue;
        }
        let label = number.to_string();
        next_free_px = x_px + 9 * i32::try_from(label.len()).unwrap_or(4) + 4;
        chart
            .plotting_area()
            .draw(&Text::new(label, (*at, y_end), mark_font.clone()))
            .map_err(fail)?;
    }
    Ok(())
}

/// The percentile axis: x = log10(1 / (1 - q)), so 90 %, 99 %, 99.9 % fall one unit apart.
#[must_use]
pub fn percentile_x(quantile: f64) -> f64 {
    -(1.0 - quantile).max(1e-9).log10()
}

/// `90%`, `99.9%` for a position on the percentile axis.
#[must_use]
pub fn percentile_label(x: f64) -> String {
    let percent = 100.0 * (1.0 - 10f64.powf(-x));
    // A decade count on the axis: a small non-negative whole number.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let digits = (x.max(0.0).round() as usize).saturating_sub(2);
    format!("{percent:.digits$}%")
}

/// Latency (ms) by percentile, one line per part.
pub fn spectrum_chart(y_label: &str, lines: &[Line]) -> anyhow::Result<String> {
    let x_end = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold(2.0_f64, f64::max)
        .ceil();
    // At most 9 decades: `percentile_x` caps 1 - q at 1e-9.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let decades = x_end.min(9.0) as usize;
    let y_top = highest(lines);
    let y_end = if y_top > 0.0 { y_top * 1.08 } else { 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(14)
            .margin_right(22)
            .margin_left(6)
            .margin_bottom(4)
            .x_label_area_size(28)
            .y_label_area_size(58)
            .build_cartesian_2d(0.0..x_end, 0.0..y_end)
            .map_err(fail)?;
        let axis_font = ("sans-serif", 15).into_font().color(&AXIS_TEXT);
        chart
            .configure_mesh()
            .light_line_style(GRID.mix(0.0))
            .bold_line_style(GRID)
            .axis_style(AXIS_TEXT)
            .x_labels(decades + 1)
            .y_labels(6)
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|y| short_number(*y))
            .label_style(axis_font.clone())
            .y_desc(y_label)
            .axis_desc_style(axis_font)
            .draw()
            .map_err(fail)?;
        for line in lines {
            chart
                .draw_series(LineSeries::new(
                    line.points.iter().copied(),
                    ShapeStyle::from(&line.color).stroke_width(2),
                ))
                .map_err(fail)?;
        }
        root.present().map_err(fail)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_are_short_and_whole() {
        assert_eq!(short_number(950.0), "950");
        assert_eq!(short_number(1_234.0), "1.2k");
        assert_eq!(short_number(15_100_000.0), "15.1M");
        assert_eq!(short_number(0.25), "0.25");
        assert_eq!(clock_label(45.2), "45s");
        assert_eq!(clock_label(150.0), "2m30s");
        assert_eq!(percentile_label(percentile_x(0.9)), "90%");
        assert_eq!(percentile_label(percentile_x(0.999)), "99.9%");
        assert_eq!(percentile_label(0.0), "0%");
    }

    #[test]
    fn a_time_chart_draws_its_lines_bands_and_marks() {
        let marks = TimeMarks {
            phases: vec![
                (0.0, 4.0, "mint".to_owned()),
                (4.0, 10.0, "sustained".to_owned()),
            ],
            events: vec![(1, 6.5)],
            end: 10.0,
        };
        let line = Line::new(
            "ok",
            PALETTE[0],
            (0..10).map(|s| (f64::from(s), 100.0)).collect(),
        );
        let svg = time_chart("POST/s", &[line], &marks).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..60]);
        // Measured lines are 2 px wide; the grid, the axes and the marks 1 px.
        let lines = svg.matches(r#"stroke-width="2" points"#).count();
        assert_eq!(lines, 1, "one line, drawn as one polyline");
        // plotters writes a text's content on a line of its own.
        assert!(svg.contains(">\nsustained\n<"), "the wide band is named");
        assert!(svg.contains(">\n1\n</text>"), "the event is numbered");
    }

    #[test]
    fn a_missing_second_cuts_the_line() {
        let points = [(0.5, 1.0), (1.5, 2.0), (4.5, 3.0), (5.5, 4.0)];
        assert_eq!(gapless_runs(&points), [&points[..2], &points[2..]]);
        assert!(gapless_runs(&[]).is_empty());
    }

    #[test]
    fn crowded_events_keep_their_lines_and_drop_overlapping_numbers() {
        let marks = TimeMarks {
            phases: Vec::new(),
            // A ramp's step a second over a 10-minute run: one pixel apart.
            events: (1..=60)
                .map(|n| (n, f64::from(u32::try_from(n).unwrap())))
                .collect(),
            end: 600.0,
        };
        // Values whose axis labels are no event's number (0, 100, ... 500).
        let line = Line::new("ok", PALETTE[0], vec![(0.0, 500.0), (600.0, 500.0)]);
        let svg = time_chart("POST/s", &[line], &marks).unwrap();
        let numbers = (1..=60)
            .filter(|n| svg.contains(&format!(">\n{n}\n</text>")))
            .count();
        assert!(svg.contains(">\n1\n</text>"), "the first is numbered");
        assert!((2..=10).contains(&numbers), "{numbers} of 60 numbered");
    }
}
