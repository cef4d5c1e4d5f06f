//! The digest's chart: questions per day by outcome, and theme sizes, drawn to a PNG in-process
//! (plotters, with DejaVu Sans embedded so it renders the same on any machine).
//!
//! Each panel has a head strip (its title, and its legend) above its plot, so no legend ever
//! sits on a bar; the count axes have round integer ticks (1, 2 or 5 times a power of ten) and a
//! top that is one of them.

use crate::domain::cluster::{Theme, Tightness};
use crate::domain::digest::DayOutcomes;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};
use std::path::Path;
use std::sync::Once;

const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const SIZE: (u32, u32) = (1100, 520);
/// The width of the questions-per-day panel; the themes panel has the rest.
const DAYS_WIDTH: u32 = 640;
/// The head strip of each panel: its title, and under it its legend.
const HEAD: u32 = 66;
/// At most this many tick steps on a count axis.
const MAX_STEPS: u64 = 6;
/// Theme rows the panel is divided into: a week of one or two themes keeps bars of the usual
/// thickness rather than one bar filling the panel.
const THEME_ROWS: usize = 5;
const BOT: RGBColor = RGBColor(46, 134, 193);
const COMMUNITY: RGBColor = RGBColor(39, 174, 96);
const UNANSWERED: RGBColor = RGBColor(231, 76, 60);
// Themes in their own hue: the blue, green and red of the days are outcomes, not themes.
const TIGHT: RGBColor = RGBColor(125, 60, 152);
const LOOSE: RGBColor = RGBColor(210, 180, 222);
const INK: RGBColor = RGBColor(33, 37, 41);
const MUTED: RGBColor = RGBColor(108, 117, 125);

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

pub(crate) fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            tracing::error!("the embedded chart font could not be read; chart text will be missing");
        }
    });
}

pub(crate) fn chart_error<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing the chart: {e}")
}

fn style(size: u32, color: &'static RGBColor, pos: Pos) -> TextStyle<'static> {
    TextStyle::from(("sans-serif", size).into_font()).color(color).pos(pos)
}

/// Draws the chart to `path` (PNG).
pub fn render(path: &Path, days: &[DayOutcomes], themes: &[Theme]) -> anyhow::Result<()> {
    let png = render_png(days, themes)?;
    std::fs::write(path, png).map_err(|e| anyhow::anyhow!("writing the chart to {}: {e}", path.display()))
}

/// Draws the chart as PNG bytes, to attach to a posted digest.
pub fn render_png(days: &[DayOutcomes], themes: &[Theme]) -> anyhow::Result<Vec<u8>> {
    register();
    let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let (left, right) = root.split_horizontally(DAYS_WIDTH);
        draw_days(&left, days)?;
        draw_themes(&right, themes, days.iter().all(|d| total(d) == 0))?;
        root.present().map_err(chart_error)?;
    }
    encode_png(&rgb, SIZE)
}

/// An RGB buffer drawn by plotters, as PNG bytes.
pub(crate) fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> anyhow::Result<Vec<u8>> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header().and_then(|mut w| w.write_image_data(rgb)).map_err(chart_error)?;
    Ok(png)
}

/// A count axis for values up to `max`: (step, top). The step is 1, 2 or 5 times a power of
/// ten, the smallest giving at most [`MAX_STEPS`] steps; the top is a multiple of it, with room
/// above `max` for the figure written over the tallest bar. Every tick is a distinct integer.
pub fn count_axis(max: u64) -> (u64, u64) {
    let need = (max as f64 * 1.05).max(max as f64 + 0.5).max(1.0);
    let mut power = 1u64;
    loop {
        for m in [1, 2, 5] {
            let step = power * m;
            let steps = (need / step as f64).ceil() as u64;
            if steps <= MAX_STEPS {
                return (step, steps * step);
            }
        }
        power = power.saturating_mul(10);
    }
}

/// The ticks of a count axis: 0, step, 2·step, …, top.
fn ticks(step: u64, top: u64) -> Vec<f64> {
    (0..=top / step).map(|i| (i * step) as f64).collect()
}

/// An f64 axis with exactly the given ticks (plotters would choose its own, fractional ones on a
/// small count, whose rounded labels repeat), and no light mesh lines.
struct Ticked {
    range: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn new(range: std::ops::Range<f64>, ticks: Vec<f64>) -> Ticked {
        Ticked { range: range.into(), ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.range.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.range()
    }
}

/// A panel's head strip: the title centred at the top, then the legend entries (colour, text)
/// centred on one row under it.
fn head(area: &Area<'_>, title: &str, legend: &[(RGBColor, &str)]) -> anyhow::Result<()> {
    let width = area.dim_in_pixel().0 as i32;
    area.draw_text(title, &style(22, &INK, Pos::new(HPos::Center, VPos::Top)), (width / 2, 8)).map_err(chart_error)?;
    let label = style(13, &INK, Pos::new(HPos::Left, VPos::Center));
    let (swatch, gap, spacing) = (12, 6, 22);
    let widths: Vec<i32> = legend.iter().map(|(_, text)| area.estimate_text_size(text, &label).map(|(w, _)| w as i32).unwrap_or(0)).collect();
    let row: i32 = widths.iter().map(|w| swatch + gap + w).sum::<i32>() + spacing * (legend.len() as i32 - 1).max(0);
    let (mut x, y) = ((width - row) / 2, 48);
    for ((color, text), w) in legend.iter().zip(widths) {
        area.draw(&Rectangle::new([(x, y - swatch / 2), (x + swatch, y + swatch / 2)], color.filled())).map_err(chart_error)?;
        area.draw_text(text, &label, (x + swatch + gap, y)).map_err(chart_error)?;
        x += swatch + gap + w + spacing;
    }
    Ok(())
}

/// A panel's plot, on `body` under its head strip.
type Plot<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<Ticked, Ticked>>;

/// The plot of a panel: margins of `right` and `top` pixels, and the y labels' width (the x
/// labels have one row, under the plot, in every panel).
fn plot<'a, 'b>(body: &'a Area<'b>, (right, top, y_labels): (u32, u32, u32), x: Ticked, y: Ticked) -> anyhow::Result<Plot<'a, 'b>> {
    ChartBuilder::on(body)
        .margin_left(12)
        .margin_right(right)
        .margin_top(top)
        .margin_bottom(6)
        .x_label_area_size(30)
        .y_label_area_size(y_labels)
        .build_cartesian_2d(x, y)
        .map_err(chart_error)
}

/// A plot's mesh as every panel has it: faint lines across the count axis (the caller turns the
/// other axis's lines off), grey axes, labels of `label_size` in ink.
fn grid<'a, 'b, 'c>(chart: &'c mut Plot<'a, 'b>, label_size: u32) -> MeshStyle<'a, 'c, Ticked, Ticked, BitMapBackend<'b>> {
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(BLACK.mix(0.12)).axis_style(BLACK.mix(0.6)).label_style(("sans-serif", label_size).into_font().color(&INK));
    mesh
}

fn total(d: &DayOutcomes) -> u32 {
    d.bot + d.community + d.unanswered
}

/// The x label of day `i` of `days`: the weekday and date for a week or so, the date alone
/// (every few days) for a longer period, so labels never run into each other.
fn day_label(days: &[DayOutcomes], i: usize) -> String {
    let Some(d) = days.get(i) else { return String::new() };
    if days.len() <= 8 {
        d.day.format("%a %m-%d").to_string()
    } else if i.is_multiple_of(days.len().div_ceil(10)) {
        d.day.format("%m-%d").to_string()
    } else {
        String::new()
    }
}

/// One stacked series: its legend, its colour, and where a day's bar segment starts and ends.
type Layer = (&'static str, RGBColor, fn(&DayOutcomes) -> (u32, u32));

fn draw_days(area: &Area<'_>, days: &[DayOutcomes]) -> anyhow::Result<()> {
    let layers: [Layer; 3] = [
        ("answered by the bot", BOT, |d| (0, d.bot)),
        ("by the community", COMMUNITY, |d| (d.bot, d.bot + d.community)),
        ("unanswered", UNANSWERED, |d| (d.bot + d.community, total(d))),
    ];
    let (top_strip, body) = area.split_vertically(HEAD);
    let max = days.iter().map(total).max().unwrap_or(0);
    // No bars, nothing for a legend to explain.
    let legend = if max == 0 { Vec::new() } else { layers.map(|(label, color, _)| (color, label)).to_vec() };
    head(&top_strip, "Questions per day", &legend)?;
    let (step, top) = count_axis(u64::from(max));
    let n = days.len().max(1);
    let xs: Vec<f64> = (0..days.len()).filter(|&i| !day_label(days, i).is_empty()).map(|i| i as f64).collect();
    let mut chart = plot(&body, (18, 10, 46), Ticked::new(-0.5..n as f64 - 0.5, xs), Ticked::new(0.0..top as f64, ticks(step, top)))?;
    grid(&mut chart, 14)
        .disable_x_mesh()
        .x_label_formatter(&|x| day_label(days, x.round().max(0.0) as usize))
        .y_label_formatter(&|y| format!("{}", y.round() as u64))
        .draw()
        .map_err(chart_error)?;
    for (_, color, span) in layers {
        chart
            .draw_series(days.iter().enumerate().filter(|(_, d)| span(d).1 > span(d).0).map(|(i, d)| {
                let (lo, hi) = span(d);
                Rectangle::new([(i as f64 - 0.35, lo as f64), (i as f64 + 0.35, hi as f64)], color.filled())
            }))
            .map_err(chart_error)?;
    }
    // Each day's total over its bar: the stack's height is hard to read off the axis.
    let figure = style(13, &INK, Pos::new(HPos::Center, VPos::Bottom));
    chart
        .draw_series(
            days.iter()
                .enumerate()
                .filter(|(_, d)| total(d) > 0)
                .map(|(i, d)| EmptyElement::at((i as f64, f64::from(total(d)))) + Text::new(total(d).to_string(), (0, -3), figure.clone())),
        )
        .map_err(chart_error)?;
    if max == 0 {
        chart
            .draw_series(std::iter::once(Text::new(
                "No questions this period",
                ((n as f64 - 1.0) / 2.0, top as f64 / 2.0),
                style(16, &MUTED, Pos::new(HPos::Center, VPos::Center)),
            )))
            .map_err(chart_error)?;
    }
    Ok(())
}

/// A theme's line over its bar: its first keywords, its size and how tight it is, cut to `width`
/// pixels.
fn theme_label(area: &Area<'_>, t: &Theme, width: u32, font: &TextStyle<'_>) -> String {
    let tightness = match t.tightness {
        Tightness::Tight => "tight",
        Tightness::Loose => "loose",
    };
    let size = format!("{} message{}, {tightness}", t.size, if t.size == 1 { "" } else { "s" });
    let fits = |s: &str| area.estimate_text_size(s, font).map(|(w, _)| w <= width).unwrap_or(true);
    for words in (1..=t.keywords.len().min(3)).rev() {
        let label = format!("{}: {size}", t.keywords[..words].join(", "));
        if fits(&label) {
            return label;
        }
    }
    // One long keyword: cut it.
    let word: Vec<char> = t.keywords.first().map(|w| w.chars().collect()).unwrap_or_default();
    for keep in (1..word.len()).rev() {
        let label = format!("{}…: {size}", word[..keep].iter().collect::<String>());
        if fits(&label) {
            return label;
        }
    }
    size
}

/// The themes the digest's text shows (coherent ones, largest first), as bars; `quiet` when the
/// period had no questions at all.
fn draw_themes(area: &Area<'_>, themes: &[Theme], quiet: bool) -> anyhow::Result<()> {
    let (top_strip, body) = area.split_vertically(HEAD);
    let mut legend = Vec::new();
    if themes.iter().any(|t| t.tightness == Tightness::Tight) {
        legend.push((TIGHT, "tight: alike messages"));
    }
    if themes.iter().any(|t| t.tightness == Tightness::Loose) {
        legend.push((LOOSE, "loose: related messages"));
    }
    head(&top_strip, "Top themes", &legend)?;
    if themes.is_empty() {
        let (w, h) = body.dim_in_pixel();
        let (w, h) = (w as i32 / 2, h as i32 / 2);
        body.draw_text("No themes this period", &style(16, &MUTED, Pos::new(HPos::Center, VPos::Bottom)), (w, h - 4)).map_err(chart_error)?;
        let why = if quiet { "no feedback or questions to group" } else { "no group of alike messages stood out" };
        body.draw_text(why, &style(13, &MUTED, Pos::new(HPos::Center, VPos::Top)), (w, h + 4)).map_err(chart_error)?;
        return Ok(());
    }
    let rows = themes.len().max(THEME_ROWS);
    let (step, top) = count_axis(themes.iter().map(|t| t.size as u64).max().unwrap_or(0));
    let mut chart = plot(&body, (22, 4, 6), Ticked::new(0.0..top as f64, ticks(step, top)), Ticked::new(0.0..rows as f64, Vec::new()))?;
    grid(&mut chart, 13).disable_y_mesh().x_label_formatter(&|x| format!("{}", x.round() as u64)).draw().map_err(chart_error)?;
    let font = style(13, &INK, Pos::new(HPos::Left, VPos::Bottom));
    let width = chart.plotting_area().dim_in_pixel().0.saturating_sub(8);
    for (i, t) in themes.iter().enumerate() {
        // Largest theme at the top; each row holds its label, then its bar.
        let row = (rows - 1 - i) as f64;
        let color = if t.tightness == Tightness::Tight { TIGHT } else { LOOSE };
        chart.draw_series(std::iter::once(Rectangle::new([(0.0, row + 0.12), (t.size as f64, row + 0.55)], color.filled()))).map_err(chart_error)?;
        let label = theme_label(&body, t, width, &font);
        chart.draw_series(std::iter::once(EmptyElement::at((0.0, row + 0.6)) + Text::new(label, (6, -1), font.clone()))).map_err(chart_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn the_chart_is_a_png_with_what_it_was_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("digest.png");
        let day = |d: u32, bot, community, unanswered| DayOutcomes { day: NaiveDate::from_ymd_opt(2026, 11, d).unwrap(), bot, community, unanswered };
        let themes = vec![Theme {
            keywords: vec!["card".into(), "arrive".into()],
            size: 12,
            previous_size: 3,
            examples: vec![],
            people: 5,
            coherence: 0.6,
            tightness: Tightness::Tight,
            members: vec![],
        }];
        render(&path, &[day(2, 5, 2, 1), day(3, 0, 0, 0), day(4, 9, 1, 3)], &themes).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(bytes.len() > 5_000, "a real picture, not an empty canvas");
        render(&path, &[], &[]).unwrap(); // an empty period still draws
    }

    /// A small week (a few questions over three days), a large one (hundreds over seven days,
    /// several themes), a month, a quiet week and a week of one question, drawn to
    /// `$CHART_PREVIEW_DIR` to look at (a temporary directory otherwise):
    /// `CHART_PREVIEW_DIR=/tmp cargo nextest run -E 'test(chart_preview)'`.
    #[test]
    fn chart_preview_small_large_and_empty_weeks() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = std::env::var_os("CHART_PREVIEW_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| tmp.path().to_path_buf());
        let start = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let day = |d: i64, bot, community, unanswered| DayOutcomes { day: start + chrono::Duration::days(d), bot, community, unanswered };
        let theme = |words: &[&str], size, previous_size, coherence: f64| Theme {
            keywords: words.iter().map(|w| w.to_string()).collect(),
            size,
            previous_size,
            examples: vec![],
            people: size,
            coherence,
            tightness: Tightness::of(coherence, crate::domain::cluster::EMBEDDING_BAR).unwrap(),
            members: vec![],
        };
        let small = [day(0, 1, 0, 0), day(1, 2, 1, 1), day(2, 0, 1, 0)];
        render(&dir.join("supportbot-chart-small.png"), &small, &[theme(&["password", "reset", "email", "arrive"], 3, 0, 0.71)]).unwrap();
        let large = [
            day(0, 61, 20, 9),
            day(1, 88, 31, 14),
            day(2, 70, 25, 12),
            day(3, 95, 40, 22),
            day(4, 120, 38, 17),
            day(5, 30, 12, 4),
            day(6, 122, 39, 25),
        ];
        let themes = [
            theme(&["password", "reset", "email", "link"], 96, 40, 0.62),
            theme(&["raspberry", "arm64", "build", "pi"], 71, 80, 0.55),
            theme(&["docker", "compose", "volume", "permission"], 54, 0, 0.38),
            theme(&["postgres", "connection", "refused", "timeout"], 38, 35, 0.51),
            theme(&["internationalization_and_localization_settings", "translation"], 21, 12, 0.27),
        ];
        render(&dir.join("supportbot-chart-large.png"), &large, &themes).unwrap();
        let month: Vec<DayOutcomes> = (0..30).map(|d| day(d, (d as u32 * 7) % 13, (d as u32 * 3) % 5, d as u32 % 3)).collect();
        render(&dir.join("supportbot-chart-month.png"), &month, &themes[..2]).unwrap();
        let quiet: Vec<DayOutcomes> = (0..7).map(|d| day(d, 0, 0, 0)).collect();
        render(&dir.join("supportbot-chart-empty.png"), &quiet, &[]).unwrap();
        let one: Vec<DayOutcomes> = (0..7).map(|d| day(d, 0, 0, u32::from(d == 6))).collect();
        render(&dir.join("supportbot-chart-one.png"), &one, &[]).unwrap();
    }

    #[test]
    fn count_axes_have_round_distinct_integer_ticks_and_a_top_on_one() {
        assert_eq!(count_axis(0), (1, 1));
        assert_eq!(count_axis(1), (1, 2));
        assert_eq!(count_axis(4), (1, 5));
        assert_eq!(count_axis(5), (1, 6));
        assert_eq!(count_axis(9), (2, 10));
        assert_eq!(count_axis(175), (50, 200));
        assert_eq!(count_axis(480), (100, 600));
        for max in (0..=2_000).chain([9_999, 123_456, u64::from(u32::MAX)]) {
            let (step, top) = count_axis(max);
            let power = 10u64.pow(step.ilog10());
            assert!([1, 2, 5].contains(&(step / power)) && step % power == 0, "{max}: step {step}");
            assert!(top % step == 0 && top > max && top / step <= MAX_STEPS, "{max}: {step} {top}");
            let labels: Vec<String> = ticks(step, top).iter().map(|y| format!("{}", y.round() as u64)).collect();
            let distinct: std::collections::HashSet<&String> = labels.iter().collect();
            assert_eq!(distinct.len(), labels.len(), "{max}: {labels:?}");
            assert!(labels.len() >= 2, "{max}: {labels:?}");
        }
    }

    #[test]
    fn day_labels_fit_however_long_the_period() {
        let start = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let days = |n: i64| -> Vec<DayOutcomes> {
            (0..n).map(|d| DayOutcomes { day: start + chrono::Duration::days(d), bot: 1, community: 0, unanswered: 0 }).collect()
        };
        assert_eq!(day_label(&days(7), 0), "Mon 11-02");
        let month = days(31);
        let shown = (0..31).filter(|&i| !day_label(&month, i).is_empty()).count();
        assert!((8..=11).contains(&shown), "{shown} labels for a month");
    }
}
