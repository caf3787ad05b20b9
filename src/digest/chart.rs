//! The items-per-week bar chart, drawn with plotters into an in-memory PNG. Text uses the
//! bundled DejaVu Sans subset (`assets/fonts/`), so drawing never looks up system fonts and
//! gives the same bytes on every machine.

use image::ImageEncoder;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use super::model::Chart;
use super::DigestError;

/// Display size of the chart in CSS pixels.
pub const WIDTH: u32 = 600;
pub const HEIGHT: u32 = 200;
/// The PNG holds twice the pixels so it stays sharp on high-density screens.
const SCALE: u32 = 2;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");
/// A private family name, so nothing else registered with plotters can shadow it.
const FONT_FAMILY: &str = "storyline-dejavu-sans";

const BAR: RGBColor = RGBColor(0xa9, 0xbf, 0xdc);
const BAR_THIS_WEEK: RGBColor = RGBColor(0x1f, 0x4e, 0x96);
const INK: RGBColor = RGBColor(0x55, 0x5b, 0x66);
const RULE: RGBColor = RGBColor(0xe3, 0xe6, 0xeb);

/// Draw `chart` as a PNG of `WIDTH`×`HEIGHT` CSS pixels (at 2× resolution).
pub fn draw_png(chart: &Chart) -> Result<Vec<u8>, DigestError> {
    // plotters keeps fonts in its own process-wide table; registering the same constant bytes
    // again is harmless and keeps this function free of set-up order.
    register_font(FONT_FAMILY, FontStyle::Normal, FONT)
        .map_err(|_| DigestError::Chart("the bundled chart font is unreadable".into()))?;
    let (w, h) = (WIDTH * SCALE, HEIGHT * SCALE);
    let mut pixels = vec![0u8; (w as usize) * (h as usize) * 3];
    draw_bars(chart, &mut pixels, (w, h)).map_err(|e| DigestError::Chart(e.to_string()))?;
    let mut png = Vec::new();
    // Flat colours in horizontal runs: the "Up" filter compresses them as well as adaptive
    // filtering does, several times faster.
    image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Default,
        image::codecs::png::FilterType::Up,
    )
    .write_image(&pixels, w, h, image::ColorType::Rgb8)
    .map_err(|e| DigestError::Chart(e.to_string()))?;
    Ok(png)
}

fn draw_bars(
    chart: &Chart,
    pixels: &mut [u8],
    size: (u32, u32),
) -> Result<(), Box<dyn std::error::Error>> {
    let s = SCALE as i32;
    let root = BitMapBackend::with_buffer(pixels, size).into_drawing_area();
    root.fill(&WHITE)?;
    let bars = &chart.bars;
    let n = bars.len().max(1);
    // u64 so plotters' tick arithmetic has room even for absurd counts.
    let max = u64::from(bars.iter().map(|b| b.count).max().unwrap_or(0));
    // Headroom above the tallest bar for its value label.
    let top = (max + max / 5).max(4) + 1;
    let font =
        |px: i32, color: &RGBColor| (FONT_FAMILY, f64::from(px * s)).into_font().color(color);

    let mut ctx = ChartBuilder::on(&root)
        .margin_top(8 * s)
        .margin_right(8 * s)
        .margin_left(4 * s)
        .x_label_area_size(24 * s)
        .y_label_area_size(34 * s)
        .build_cartesian_2d((0..n).into_segmented(), 0u64..top)?;

    let label = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) => bars.get(*i).map(|b| b.label.clone()).unwrap_or_default(),
        _ => String::new(),
    };
    ctx.configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&label)
        .y_labels(4)
        .y_label_formatter(&|v| v.to_string())
        .label_style(font(13, &INK))
        .axis_style(RULE.stroke_width(s as u32))
        .bold_line_style(RULE.stroke_width(s as u32))
        .light_line_style(TRANSPARENT)
        .draw()?;

    ctx.draw_series(bars.iter().enumerate().map(|(i, bar)| {
        let color = if bar.this_week { BAR_THIS_WEEK } else { BAR };
        let mut rect = Rectangle::new(
            [
                (SegmentValue::Exact(i), 0),
                (SegmentValue::Exact(i + 1), u64::from(bar.count)),
            ],
            color.filled(),
        );
        rect.set_margin(0, 0, 6 * SCALE, 6 * SCALE);
        rect
    }))?;

    // Value labels above non-empty bars, so the numbers read without the axis.
    ctx.draw_series(
        bars.iter()
            .enumerate()
            .filter(|(_, b)| b.count > 0)
            .map(|(i, bar)| {
                let style = font(13, if bar.this_week { &BAR_THIS_WEEK } else { &INK }).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Bottom,
                    ),
                );
                Text::new(
                    bar.count.to_string(),
                    (SegmentValue::CenterOf(i), u64::from(bar.count)),
                    style,
                )
            }),
    )?;

    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::compose::compose;
    use crate::digest::sample::sample_input;

    fn decode(png: &[u8]) -> image::RgbImage {
        image::load_from_memory_with_format(png, image::ImageFormat::Png)
            .unwrap()
            .to_rgb8()
    }

    #[test]
    fn chart_is_a_png_of_the_declared_size() {
        let digest = compose(&sample_input());
        let png = draw_png(&digest.chart).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let img = decode(&png);
        assert_eq!(img.dimensions(), (WIDTH * SCALE, HEIGHT * SCALE));
        // Small enough to inline in a mail.
        assert!(png.len() < 40_000, "{} bytes", png.len());
    }

    #[test]
    fn this_weeks_bar_is_drawn_in_the_accent_colour() {
        let digest = compose(&sample_input());
        let img = decode(&draw_png(&digest.chart).unwrap());
        let count = |c: RGBColor| img.pixels().filter(|p| p.0 == [c.0, c.1, c.2]).count();
        // Eleven past weeks with some items, one accent bar for this week.
        assert!(count(BAR_THIS_WEEK) > 1000, "accent pixels");
        assert!(count(BAR) > 5 * 1000, "past-week pixels");
    }

    #[test]
    fn chart_is_deterministic_and_handles_an_empty_story() {
        let mut digest = compose(&sample_input());
        assert_eq!(
            draw_png(&digest.chart).unwrap(),
            draw_png(&digest.chart).unwrap()
        );
        for bar in &mut digest.chart.bars {
            bar.count = 0;
        }
        digest.chart.max = 0;
        let img = decode(&draw_png(&digest.chart).unwrap());
        assert!(img.pixels().all(|p| p.0 != [BAR.0, BAR.1, BAR.2]));
        digest.chart.bars.clear();
        assert!(draw_png(&digest.chart).is_ok());
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let mut digest = compose(&sample_input());
        digest.chart.bars[3].count = u32::MAX - 1;
        digest.chart.max = u32::MAX - 1;
        assert!(draw_png(&digest.chart).is_ok());
    }
}
