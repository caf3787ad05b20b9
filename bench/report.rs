//! What a run found: the rows, the machine, the parse throughput, the targets; written as
//! results.md, results.json and wall-vs-n.png (plotters, bundled font, no system fonts).

use std::path::Path;

/// One target row: what is compared, the goal, the measured value, the test, the unit.
type Target<'a> = (&'a str, &'a str, Option<f64>, fn(f64) -> bool, &'a str);

use image::ImageEncoder as _;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::measure::Cost;
use crate::parse_speed::Throughput;
use crate::server::Counts;
use crate::tools::{Env, Round, Tool};

pub const ROW_HEADER: &str = "| feeds | tool | round | wall s | CPU s | peak RSS MB | requests | \
conditional | 304s | new items stored | mails received | load (1/5/15 min) | CPU busy before |\n\
|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|";

#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub feeds: usize,
    pub tool: Tool,
    pub round: Round,
    /// `None` when the round was not run.
    pub measured: Option<Measured>,
    /// The linear estimate from the previous size, when there was one.
    pub estimate_s: Option<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Measured {
    pub cost: Cost,
    pub server: Counts,
    /// Items the tool newly holds after the round (`None`: the tool stores nothing).
    pub new_items: Option<u64>,
    pub messages: u64,
    pub conditions: Conditions,
    /// Each command's cost, when the round ran several (Storyline's poll, then digest).
    pub steps: Vec<(String, Cost)>,
}

/// How busy the machine was just before a round.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Conditions {
    /// Load averages over 1, 5 and 15 minutes.
    pub load: String,
    /// Share of CPU time other processes took in the second before the round.
    pub busy: Option<f64>,
}

impl Row {
    #[allow(clippy::too_many_arguments)]
    pub fn measured(
        feeds: usize,
        tool: Tool,
        round: Round,
        cost: Cost,
        server: Counts,
        new_items: Option<u64>,
        messages: u64,
        conditions: Conditions,
    ) -> Row {
        Row {
            feeds,
            tool,
            round,
            measured: Some(Measured {
                cost,
                server,
                new_items,
                messages,
                conditions,
                steps: Vec::new(),
            }),
            estimate_s: None,
        }
    }

    pub fn not_run(feeds: usize, tool: Tool, round: Round, estimate_s: Option<f64>) -> Row {
        Row {
            feeds,
            tool,
            round,
            measured: None,
            estimate_s,
        }
    }

    pub fn markdown(&self) -> String {
        let head = format!(
            "| {} | {} | {} |",
            self.feeds,
            self.tool.name(),
            self.round.name()
        );
        match &self.measured {
            Some(m) => format!(
                "{head} {:.2} | {:.2} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
                m.cost.wall_s,
                m.cost.cpu_s,
                m.cost.peak_rss_mb,
                m.server.requests,
                m.server.conditional,
                m.server.not_modified,
                m.new_items.map_or("—".into(), |n| n.to_string()),
                m.messages,
                m.conditions.load,
                m.conditions
                    .busy
                    .map_or("—".into(), |b| format!("{:.0}%", b * 100.0)),
            ),
            None => {
                let why = match self.estimate_s {
                    Some(e) => format!("not run (this round estimated at {:.1} min)", e / 60.0),
                    None => "not run".into(),
                };
                format!("{head} {why} | | | | | | | | | |")
            }
        }
    }

    fn wall(&self) -> Option<f64> {
        self.measured.as_ref().map(|m| m.cost.wall_s)
    }
}

#[derive(Debug, serde::Serialize)]
pub struct Results {
    pub machine: Vec<(String, String)>,
    pub load_at_start: Vec<(usize, String)>,
    pub load_at_end: Vec<(usize, String)>,
    pub rows: Vec<Row>,
    pub parse: Vec<Throughput>,
}

impl Results {
    pub fn new(env: &Env, python: &Path, max_feeds: usize, floor: Cost) -> Results {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .unwrap_or("unknown")
            .trim()
            .to_string();
        let mem = read("/proc/meminfo")
            .lines()
            .find(|l| l.starts_with("MemTotal"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or("unknown".into(), |kb| {
                format!("{:.1} GiB", kb / 1024.0 / 1024.0)
            });
        let os = read("/etc/os-release")
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .unwrap_or("unknown")
            .trim_matches('"')
            .to_string();
        let cores = std::thread::available_parallelism().map_or(0, |p| p.get());
        let feedparser = std::process::Command::new(python)
            .args(["-c", "import feedparser; print(feedparser.__version__)"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let digest = if env.storyline_digest {
            "poll --all; cold round also `digest --story bench --week 2025-W15 --send`"
        } else {
            "poll --all only (this build has no `storyline digest`)"
        };
        let machine = vec![
            ("CPU".into(), format!("{cpu}, {cores} cores available")),
            ("memory".into(), mem),
            ("OS".into(), os),
            (
                "kernel".into(),
                read("/proc/sys/kernel/osrelease").trim().to_string(),
            ),
            (
                "storyline".into(),
                crate::version(&env.storyline, "--version"),
            ),
            ("storyline rounds".into(), digest.into()),
            ("curl".into(), crate::version(&env.curl, "--version")),
            (
                "newsboat".into(),
                crate::version(&env.newsboat, "--version"),
            ),
            ("rss2email".into(), crate::version(&env.r2e, "--version")),
            ("python".into(), crate::version(python, "--version")),
            ("feedparser".into(), feedparser),
            ("corpus".into(), corpus_summary(max_feeds)),
            (
                "method floor".into(),
                format!(
                    "`true` through the launcher: {:.1} MB peak RSS, {:.3} s wall",
                    floor.peak_rss_mb, floor.wall_s
                ),
            ),
        ];
        Results {
            machine,
            load_at_start: Vec::new(),
            load_at_end: Vec::new(),
            rows: Vec::new(),
            parse: Vec::new(),
        }
    }

    pub fn machine_markdown(&self) -> String {
        let mut s = String::from("| | |\n|---|---|\n");
        for (k, v) in &self.machine {
            s.push_str(&format!("| {k} | {v} |\n"));
        }
        s
    }

    fn find(&self, feeds: usize, tool: Tool, round: Round) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.feeds == feeds && r.tool == tool && r.round == round)
    }

    /// The targets at 1,000 feeds, as ratios within this run.
    pub fn targets_markdown(&self) -> String {
        let n = 1000;
        let wall = |tool, round| self.find(n, tool, round).and_then(Row::wall);
        let s_cold = wall(Tool::Storyline, Round::Cold);
        let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
        let peak = self
            .rows
            .iter()
            .filter(|r| r.feeds == n && r.tool == Tool::Storyline)
            .filter_map(|r| r.measured.as_ref().map(|m| m.cost.peak_rss_mb))
            .reduce(f64::max);
        let targets: [Target; 5] = [
            (
                "cold: rss2email wall ÷ Storyline wall",
                "≥ 100",
                ratio(wall(Tool::Rss2email, Round::Cold), s_cold),
                |x| x >= 100.0,
                "×",
            ),
            (
                "cold: newsboat wall ÷ Storyline wall",
                "≥ 20",
                ratio(wall(Tool::Newsboat, Round::Cold), s_cold),
                |x| x >= 20.0,
                "×",
            ),
            (
                "cold: Storyline wall ÷ curl wall",
                "≤ 2",
                ratio(s_cold, wall(Tool::Curl, Round::Cold)),
                |x| x <= 2.0,
                "×",
            ),
            (
                "idle: Storyline wall ÷ curl wall",
                "≤ 1.5",
                ratio(
                    wall(Tool::Storyline, Round::Idle),
                    wall(Tool::Curl, Round::Idle),
                ),
                |x| x <= 1.5,
                "×",
            ),
            (
                "Storyline peak RSS, any round",
                "< 64",
                peak,
                |x| x < 64.0,
                " MB",
            ),
        ];
        let mut s = format!(
            "Targets at {n} feeds (this run)\n\n| target | needed | measured | result |\n\
             |---|---|---:|---|\n"
        );
        for (what, needed, value, pass, unit) in targets {
            let (measured, result) = match value {
                Some(v) => (
                    format!("{v:.2}{unit}"),
                    if pass(v) { "pass" } else { "FAIL" },
                ),
                None => ("not measured".into(), "—"),
            };
            s.push_str(&format!(
                "| {what} | {needed}{unit} | {measured} | {result} |\n"
            ));
        }
        s
    }

    pub fn write(&self, out: &Path) -> Result<(), String> {
        let json = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        write(&out.join("results.json"), json.as_bytes())?;
        let mut md = String::from("# Benchmark results\n\n");
        md.push_str(&self.machine_markdown());
        md.push_str("\nLoad average (1/5/15 min) at the start and end of each size: ");
        let loads: Vec<String> = self
            .load_at_start
            .iter()
            .map(|(n, l)| {
                let end = self
                    .load_at_end
                    .iter()
                    .find(|(m, _)| m == n)
                    .map_or("—", |(_, e)| e.as_str());
                format!("{n} feeds: {l} → {end}")
            })
            .collect();
        md.push_str(&loads.join("; "));
        md.push_str("\n\n");
        md.push_str(ROW_HEADER);
        md.push('\n');
        for r in &self.rows {
            md.push_str(&r.markdown());
            md.push('\n');
        }
        let steps: Vec<String> = self
            .rows
            .iter()
            .filter_map(|r| Some((r, r.measured.as_ref()?)))
            .filter(|(_, m)| !m.steps.is_empty())
            .map(|(r, m)| {
                let parts: Vec<String> = m
                    .steps
                    .iter()
                    .map(|(name, c)| {
                        format!(
                            "{name} {:.2} s wall, {:.2} s CPU, {:.1} MB",
                            c.wall_s, c.cpu_s, c.peak_rss_mb
                        )
                    })
                    .collect();
                format!(
                    "- {} feeds, {} {}: {}\n",
                    r.feeds,
                    r.tool.name(),
                    r.round.name(),
                    parts.join("; ")
                )
            })
            .collect();
        if !steps.is_empty() {
            md.push_str("\nRounds of several commands:\n\n");
            md.push_str(&steps.concat());
        }
        if !self.parse.is_empty() {
            md.push_str(&format!("\n{PARSE_HEADER}\n"));
            for p in &self.parse {
                md.push_str(&parse_markdown(p));
                md.push('\n');
            }
        }
        md.push('\n');
        md.push_str(&self.targets_markdown());
        write(&out.join("results.md"), md.as_bytes())?;
        let png = plot(&self.rows).map_err(|e| format!("plot: {e}"))?;
        write(&out.join("wall-vs-n.png"), &png)
    }
}

pub const PARSE_HEADER: &str = "| parser | files | items | MB | seconds | items/s | MB/s |\n\
|---|---:|---:|---:|---:|---:|---:|";

pub fn parse_markdown(p: &Throughput) -> String {
    format!(
        "| {} | {} | {} | {:.1} | {:.3} | {:.0} | {:.1} |",
        p.parser,
        p.files,
        p.items,
        p.bytes as f64 / 1e6,
        p.seconds,
        p.items_per_s(),
        p.mb_per_s()
    )
}

fn corpus_summary(n: usize) -> String {
    let items: usize = (0..n).map(crate::corpus::base_len).sum();
    let first_1000: usize = (0..n.min(1000)).map(crate::corpus::base_len).sum();
    format!(
        "{n} feeds hold {items} items ({} feeds: {first_1000}); RSS 2.0 and Atom alternate",
        n.min(1000)
    )
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("write {}: {e}", path.display()))
}

const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-subset.ttf");
const FONT_FAMILY: &str = "storyline-bench-dejavu-sans";

fn color(tool: Tool) -> RGBColor {
    match tool {
        Tool::Storyline => RGBColor(0x1f, 0x4e, 0x96),
        Tool::Curl => RGBColor(0x55, 0x5b, 0x66),
        Tool::Newsboat => RGBColor(0xc0, 0x6a, 0x10),
        Tool::Rss2email => RGBColor(0xa8, 0x23, 0x2f),
    }
}

/// Wall time against feeds, log-log, one panel per round, one line per tool.
fn plot(rows: &[Row]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    register_font(FONT_FAMILY, FontStyle::Normal, FONT).map_err(|_| "unreadable font")?;
    let (w, h) = (1800u32, 640u32);
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        let measured: Vec<(&Row, f64)> = rows.iter().filter_map(|r| Some((r, r.wall()?))).collect();
        let min_n = rows.iter().map(|r| r.feeds).min().unwrap_or(100) as f64;
        let max_n = rows.iter().map(|r| r.feeds).max().unwrap_or(10_000) as f64;
        let lo = measured.iter().map(|m| m.1).fold(f64::INFINITY, f64::min);
        let hi = measured.iter().map(|m| m.1).fold(0.0, f64::max);
        let (lo, hi) = if lo.is_finite() && hi > 0.0 {
            (lo / 1.6, hi * 1.6)
        } else {
            (0.01, 100.0)
        };
        let (title, panels) = root.split_vertically(60);
        title.draw(&Text::new(
            "Wall time against number of feeds (log-log; missing points: not run)",
            (20, 16),
            (FONT_FAMILY, 30.0).into_font(),
        ))?;
        let areas = panels.split_evenly((1, 3));
        for (area, round) in areas.iter().zip(Round::ALL) {
            let mut chart = ChartBuilder::on(area)
                .caption(
                    format!("{} round", round.name()),
                    (FONT_FAMILY, 26.0).into_font(),
                )
                .margin(16)
                .x_label_area_size(60)
                .y_label_area_size(80)
                .build_cartesian_2d((min_n / 1.3..max_n * 1.3).log_scale(), (lo..hi).log_scale())?;
            chart
                .configure_mesh()
                .x_desc("feeds")
                .y_desc("wall time (s)")
                .label_style((FONT_FAMILY, 18.0).into_font())
                .axis_desc_style((FONT_FAMILY, 20.0).into_font())
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| {
                    if *v >= 1.0 {
                        format!("{v:.0}")
                    } else {
                        format!("{v:.2}")
                    }
                })
                .draw()?;
            for tool in [Tool::Storyline, Tool::Curl, Tool::Newsboat, Tool::Rss2email] {
                let points: Vec<(f64, f64)> = measured
                    .iter()
                    .filter(|(r, _)| r.tool == tool && r.round == round)
                    .map(|(r, wall)| (r.feeds as f64, *wall))
                    .collect();
                if points.is_empty() {
                    continue;
                }
                let c = color(tool);
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        points.clone(),
                        c.stroke_width(3),
                    )))?
                    .label(tool.name())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
                    });
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 6, c.filled())))?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font((FONT_FAMILY, 18.0).into_font())
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()?;
        }
        root.present()?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png).write_image(
        &pixels,
        w,
        h,
        image::ColorType::Rgb8,
    )?;
    Ok(png)
}
