//! The digest's chart: questions per day by outcome, and theme sizes, drawn to a PNG in-process
//! (plotters, with DejaVu Sans embedded so it renders the same on any machine).

use crate::domain::cluster::Theme;
use crate::domain::digest::DayOutcomes;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use std::path::Path;
use std::sync::Once;

const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const SIZE: (u32, u32) = (1100, 520);
const BOT: RGBColor = RGBColor(46, 134, 193);
const COMMUNITY: RGBColor = RGBColor(39, 174, 96);
const UNANSWERED: RGBColor = RGBColor(231, 76, 60);

fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            tracing::error!("the embedded chart font could not be read; chart text will be missing");
        }
    });
}

fn chart_error<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing the chart: {e}")
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
        let (left, right) = root.split_horizontally(640);
        draw_days(&left, days)?;
        draw_themes(&right, themes)?;
        root.present().map_err(chart_error)?;
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, SIZE.0, SIZE.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header().and_then(|mut w| w.write_image_data(&rgb)).map_err(chart_error)?;
    Ok(png)
}

/// One stacked series: its legend, its colour, and where a day's bar segment starts and ends.
type Layer = (&'static str, RGBColor, fn(&DayOutcomes) -> (u32, u32));

fn draw_days(area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>, days: &[DayOutcomes]) -> anyhow::Result<()> {
    let top = days.iter().map(|d| d.bot + d.community + d.unanswered).max().unwrap_or(0).max(1) as f64 * 1.15;
    let n = days.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption("Questions per day", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() > 0.01 || i < 0.0 { return String::new() }
            days.get(i as usize).map(|d| d.day.format("%m-%d").to_string()).unwrap_or_default()
        })
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(chart_error)?;
    let layers: [Layer; 3] = [
        ("answered by the bot", BOT, |d| (0, d.bot)),
        ("by the community", COMMUNITY, |d| (d.bot, d.bot + d.community)),
        ("unanswered", UNANSWERED, |d| (d.bot + d.community, d.bot + d.community + d.unanswered)),
    ];
    for (label, color, span) in layers {
        chart
            .draw_series(days.iter().enumerate().map(|(i, d)| {
                let (lo, hi) = span(d);
                Rectangle::new([(i as f64 - 0.35, lo as f64), (i as f64 + 0.35, hi as f64)], color.filled())
            }))
            .map_err(chart_error)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(chart_error)?;
    Ok(())
}

fn draw_themes(area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>, themes: &[Theme]) -> anyhow::Result<()> {
    let n = themes.len().max(1);
    let top = themes.iter().map(|t| t.size).max().unwrap_or(1).max(1) as f64 * 1.2;
    let mut chart = ChartBuilder::on(area)
        .caption("Top themes", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(10)
        .build_cartesian_2d(0f64..top, -0.5f64..(n as f64 - 0.5))
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(chart_error)?;
    for (i, t) in themes.iter().enumerate() {
        // Largest theme at the top.
        let y = (n - 1 - i) as f64;
        chart
            .draw_series(std::iter::once(Rectangle::new([(0.0, y - 0.3), (t.size as f64, y + 0.3)], BOT.mix(0.7).filled())))
            .map_err(chart_error)?;
        let label = format!("{} ({})", t.keywords.iter().take(3).cloned().collect::<Vec<_>>().join(", "), t.size);
        chart
            .draw_series(std::iter::once(Text::new(label, (top * 0.02, y + 0.42), ("sans-serif", 13).into_font())))
            .map_err(chart_error)?;
    }
    if themes.is_empty() {
        chart
            .draw_series(std::iter::once(Text::new("no themes (needs [model] dir)", (top * 0.05, 0.0), ("sans-serif", 14).into_font())))
            .map_err(chart_error)?;
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
        let themes = vec![Theme { keywords: vec!["card".into(), "arrive".into()], size: 12, previous_size: 3, examples: vec![], people: 5 }];
        render(&path, &[day(2, 5, 2, 1), day(3, 0, 0, 0), day(4, 9, 1, 3)], &themes).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(bytes.len() > 5_000, "a real picture, not an empty canvas");
        render(&path, &[], &[]).unwrap(); // an empty period still draws
    }
}
