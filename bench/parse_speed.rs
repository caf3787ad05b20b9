//! Parser throughput: the corpus written to files, parsed in this process with
//! `storyline::parse::parse_feed` (the poller's parse) and by Python feedparser over the same
//! files (bench/feedparser_speed.py). One thread each; the best of `repeat` passes.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::corpus;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Throughput {
    pub parser: String,
    pub files: usize,
    pub items: usize,
    pub bytes: usize,
    pub seconds: f64,
}

impl Throughput {
    pub fn items_per_s(&self) -> f64 {
        self.items as f64 / self.seconds
    }

    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / self.seconds / 1e6
    }
}

/// Write feeds `0..n` (first version) into `dir`, one file each.
pub fn write_corpus(dir: &Path, n: usize) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    for i in 0..n {
        let ext = if i % 2 == 0 { "rss" } else { "atom" };
        let path = dir.join(format!("{i:05}.{ext}.xml"));
        std::fs::write(&path, corpus::feed(i, 0).body)
            .map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Parse every file in `dir` with Storyline's parser.
pub fn storyline(dir: &Path, repeat: usize) -> Result<Throughput, String> {
    let bodies = read_all(dir)?;
    let bytes = bodies.iter().map(Vec::len).sum();
    let mut best = f64::INFINITY;
    let mut items = 0;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        items = 0;
        for body in &bodies {
            let doc = storyline::parse::parse_feed(body, Some("application/xml"), None)
                .map_err(|e| format!("Storyline cannot parse a corpus file: {e}"))?;
            items += doc.entries.len();
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(Throughput {
        parser: format!("storyline {}", env!("CARGO_PKG_VERSION")),
        files: bodies.len(),
        items,
        bytes,
        seconds: best,
    })
}

/// Run bench/feedparser_speed.py with `python` over `dir`.
pub fn feedparser(python: &Path, dir: &Path, repeat: usize) -> Result<Throughput, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/feedparser_speed.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(dir)
        .arg("--repeat")
        .arg(repeat.max(1).to_string())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("feedparser_speed.py output: {e}"))
}

fn read_all(dir: &Path) -> Result<Vec<Vec<u8>>, String> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).map_err(|e| format!("read {}: {e}", p.display())))
        .collect()
}
