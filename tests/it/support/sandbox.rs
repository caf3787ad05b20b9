//! A loopback HTTP server whose documents can change between polls and which counts every
//! request, a sandbox directory with a config, and a runner for the real binary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::Response;
use axum::Router;

/// A real fixture from the shared read-only set.
pub fn real_fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../shared/fixtures/real/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture written for these tests (tests/fixtures/).
pub fn own_fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Clone)]
struct Doc {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    docs: HashMap<String, Doc>,
    hits: Vec<String>,
}

/// A loopback server on its own thread and runtime, so tests may be sync or async.
pub struct Server {
    pub base: String,
    shared: Arc<Mutex<Shared>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = Router::new().fallback(respond).with_state(state);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Server {
            base,
            shared,
            stop: Some(stop),
        }
    }

    /// Serve `body` at `path` (with its query string, if any) from now on.
    pub fn serve(&self, path: &str, content_type: &str, body: impl Into<Vec<u8>>) {
        self.serve_status(path, 200, content_type, body);
    }

    pub fn serve_status(
        &self,
        path: &str,
        status: u16,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) {
        self.shared.lock().unwrap().docs.insert(
            path.to_string(),
            Doc {
                status,
                content_type: content_type.to_string(),
                body: body.into(),
            },
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests received so far, any path.
    pub fn hits(&self) -> usize {
        self.shared.lock().unwrap().hits.len()
    }

    pub fn hits_for(&self, path: &str) -> usize {
        self.shared
            .lock()
            .unwrap()
            .hits
            .iter()
            .filter(|h| *h == path)
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn respond(State(shared): State<Arc<Mutex<Shared>>>, uri: Uri) -> Response {
    let key = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| uri.path().to_string());
    let doc = {
        let mut s = shared.lock().unwrap();
        s.hits.push(key.clone());
        s.docs.get(&key).cloned()
    };
    match doc {
        Some(d) => Response::builder()
            .status(StatusCode::from_u16(d.status).unwrap())
            .header(header::CONTENT_TYPE, d.content_type)
            .body(Body::from(d.body))
            .unwrap(),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::from("not found"))
            .unwrap(),
    }
}

/// A temp directory with a config that allows loopback sources and keeps the database inside.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// `sources` is TOML appended after the generated header (`[[source]]` tables).
    pub fn new(sources: &str) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = Sandbox { dir };
        sandbox.write_config(sources);
        sandbox
    }

    pub fn write_config(&self, sources: &str) {
        let text = format!(
            "database = \"{}\"\n\n[fetch]\nallow_private_addresses = true\ntimeout = \"10s\"\n\n{sources}",
            self.db_path().display()
        );
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("storyline.toml")
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("storyline.db")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Run the real binary with this sandbox's config, in the sandbox directory.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_at(args, None)
    }

    /// As [`Sandbox::run`], pretending it is `now` (RFC 3339).
    pub fn run_at(&self, args: &[&str], now: Option<&str>) -> Run {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_storyline"));
        cmd.current_dir(self.dir.path())
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .env_remove("STORYLINE_CONFIG")
            .env_remove("STORYLINE_NOW")
            .env("STORYLINE_LOG", "error");
        if let Some(now) = now {
            cmd.env("STORYLINE_NOW", now);
        }
        Run(cmd.output().unwrap())
    }

    pub fn dir_path(&self) -> &Path {
        self.dir.path()
    }
}

/// The output of one run of the binary.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    /// Panic with both streams unless the run exited 0.
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code(),
            0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout())
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout()))
    }
}
