//! The learning curve of `eval learn --chart`: coverage, precision and out-of-scope answers per
//! block of queries, to PNG (plotters, the digest chart's embedded font).

use super::learn::{BLOCK, Outcome, figures};
use crate::chart::{chart_error, encode_png, register};
use plotters::prelude::*;
use std::path::Path;

const SIZE: (u32, u32) = (900, 480);
const SERIES: [(&str, &str, RGBColor); 3] = [
    ("precision", "precision", RGBColor(39, 174, 96)),
    ("coverage", "in-scope coverage", RGBColor(46, 134, 193)),
    ("oos_false_answer_rate", "out-of-scope answered", RGBColor(231, 76, 60)),
];

/// Draws one point per block of [`BLOCK`] queries, at the number of queries asked by its end;
/// a last block of less than half that is left out (a few dozen queries make a noisy point).
pub fn render(path: &Path, outcomes: &[Outcome], title: &str) -> anyhow::Result<()> {
    register();
    let blocks: Vec<(f64, serde_json::Value)> = (outcomes.chunks(BLOCK).enumerate())
        .filter(|(i, block)| *i == 0 || block.len() >= BLOCK / 2)
        .map(|(i, block)| ((i * BLOCK + block.len()) as f64, figures(block)))
        .collect();
    let last = blocks.last().map(|(x, _)| *x).unwrap_or(BLOCK as f64);
    let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..last, 0f64..1f64)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_desc("queries asked")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .y_desc("share")
            .bold_line_style(BLACK.mix(0.12))
            .light_line_style(TRANSPARENT)
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(chart_error)?;
        for (key, label, color) in SERIES {
            let points: Vec<(f64, f64)> = blocks.iter().map(|(x, f)| (*x, f[key].as_f64().unwrap_or(0.0))).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(chart_error)?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
            chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled()))).map_err(chart_error)?;
        }
        chart
            .configure_series_labels()
            // Between the coverage and the out-of-scope lines, where the curves usually leave room.
            .position(SeriesLabelPosition::Coordinate(SIZE.0 as i32 - 260, SIZE.1 as i32 - 210))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    std::fs::write(path, encode_png(&rgb, SIZE)?).map_err(|e| anyhow::anyhow!("writing the chart to {}: {e}", path.display()))
}
