//! Lays the rendered digest out in headless Chromium and checks the screenshot: the page is
//! not blank, the single column sits centred at desktop width and fills a phone screen, text
//! is drawn, and the embedded chart image loaded. Screenshots stay in `target/test-output/` for
//! a human to look at. CI installs Debian's `chromium`; without it this test fails unless
//! `STORYLINE_SKIP_BROWSER=1` is set.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};

use super::compose::compose;
use super::render::{render, Templates};
use super::sample::{quiet_input, sample_input};

const CHROMIUM: &str = "/usr/bin/chromium";
const TIMEOUT: Duration = Duration::from_secs(120);

const PAGE_BACKGROUND: [u8; 3] = [0xee, 0xf0, 0xf3];
const CARD: [u8; 3] = [0xff, 0xff, 0xff];
/// Only the chart draws past weeks' bars in this colour.
const CHART_BAR: [u8; 3] = [0xa9, 0xbf, 0xdc];

fn output_dir() -> PathBuf {
    // The test binary lives in target/<profile>/deps/; keep the output beside the build.
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|p| p.file_name().is_some_and(|n| n == "target"))
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("test-output");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn screenshot(html: &Path, png: &Path, width: u32, height: u32) -> RgbImage {
    let profile = tempfile::tempdir().unwrap();
    let _ = std::fs::remove_file(png);
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("chromium did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}):\n{stderr}");
    assert!(png.exists(), "chromium wrote no screenshot:\n{stderr}");
    image::open(png).unwrap().to_rgb8()
}

fn near(p: &Rgb<u8>, c: [u8; 3]) -> bool {
    p.0.iter().zip(c).all(|(a, b)| a.abs_diff(b) <= 6)
}

fn count(img: &RgbImage, c: [u8; 3]) -> usize {
    img.pixels().filter(|p| near(p, c)).count()
}

fn dark_pixels(img: &RgbImage) -> usize {
    img.pixels()
        .filter(|p| p.0.iter().all(|&v| v < 0x60))
        .count()
}

#[test]
fn rendered_html_lays_out_in_headless_chromium() {
    if std::env::var("STORYLINE_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("STORYLINE_SKIP_BROWSER=1: skipping the headless Chromium layout check");
        return;
    }
    assert!(
        Path::new(CHROMIUM).exists(),
        "this test needs headless Chromium at {CHROMIUM} (Debian: apt-get install chromium; \
         .ci/run installs it). Set STORYLINE_SKIP_BROWSER=1 to skip it."
    );
    let templates = Templates::embedded().unwrap();
    let dir = output_dir();
    let week = render(&compose(&sample_input()), &templates).unwrap();
    let html = dir.join("digest-2025-W20.html");
    std::fs::write(&html, &week.html).unwrap();

    // Desktop: a centred column on the page background.
    let desktop = screenshot(&html, &dir.join("digest-2025-W20-desktop.png"), 800, 1600);
    assert_eq!(desktop.dimensions(), (800, 1600));
    assert!(
        near(desktop.get_pixel(30, 400), PAGE_BACKGROUND),
        "left margin"
    );
    assert!(
        near(desktop.get_pixel(770, 400), PAGE_BACKGROUND),
        "right margin"
    );
    assert!(
        near(desktop.get_pixel(100, 40), CARD),
        "column starts near the top"
    );
    assert!(
        dark_pixels(&desktop) > 5_000,
        "headlines and text are drawn"
    );
    assert!(
        count(&desktop, CHART_BAR) > 2_000,
        "the embedded chart loaded"
    );

    // Phone: the column fills the screen and nothing overflows sideways.
    let phone = screenshot(&html, &dir.join("digest-2025-W20-phone.png"), 390, 2000);
    assert_eq!(phone.dimensions(), (390, 2000));
    assert!(
        near(phone.get_pixel(4, 400), CARD),
        "column fills the phone width"
    );
    assert!(
        near(phone.get_pixel(385, 400), CARD),
        "no sideways overflow"
    );
    assert!(dark_pixels(&phone) > 5_000);
    assert!(
        count(&phone, CHART_BAR) > 500,
        "the chart scales down and still shows"
    );

    // The quiet week still lays out.
    let quiet = render(&compose(&quiet_input()), &templates).unwrap();
    let quiet_html = dir.join("digest-2025-W21-quiet.html");
    std::fs::write(&quiet_html, &quiet.html).unwrap();
    let shot = screenshot(
        &quiet_html,
        &dir.join("digest-2025-W21-quiet.png"),
        800,
        1200,
    );
    assert!(dark_pixels(&shot) > 1_000);
    assert!(count(&shot, CHART_BAR) > 1_000);
}
