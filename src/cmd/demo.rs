//! `tcpscope demo`: stage a scenario (`demo`) on 127.0.0.1 and capture it live, in the
//! terminal UI stepping from the first packet or, with `--format`, as the report of
//! `tcpscope report` once the scenario is over; without capture permission (or with
//! `--replay`) the bundled recording of the same scenario is shown instead.

use super::stream_connections;
use crate::capture::Source;
use crate::capture::live::{Live, LiveConfig, LiveError};
use crate::cli::config::{Demo, DemoAction};
use crate::demo::{Scenario, Stage, bundled};
use crate::parallel::ReadProgress;
use crate::pipeline::Config;
use crate::tls::{KeyLog, KeySource};
use crate::ui::app::{App, Screen};
use anyhow::Context;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Time left for the last packets (the final ACK) to be captured after the scenario's
/// sockets are closed.
const GRACE: Duration = Duration::from_millis(300);

/// `tcpscope demo`.
pub fn run(a: Demo) -> anyhow::Result<()> {
    match a.action {
        DemoAction::List => list(),
        DemoAction::Replay => replay(&a),
        DemoAction::Stage => stage(&a),
    }
}

/// `--list`: one line per scenario.
fn list() -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    for s in Scenario::ALL {
        writeln!(out, "{:<14} {}", s.name(), s.describe())?;
    }
    Ok(out.flush()?)
}

/// Stage the scenario while capturing it; replay it when capture is not allowed.
fn stage(a: &Demo) -> anyhow::Result<()> {
    if a.scenario == Scenario::Loss {
        return stage_loss(a);
    }
    let mut stage =
        Stage::bind(a.scenario).context("cannot bind a port on 127.0.0.1 for the demo server")?;
    // Both ports of the scenario's one connection: other loopback traffic stays out.
    let filter = stage.filter();
    let keys = match a.scenario.is_tls() {
        true => Some(KeyFile::create(a)?),
        false => None,
    };
    let mut cfg = capture_config(&filter, a);
    // The TLS scenarios tell the two views of their connection afterwards, from the capture.
    let tmp_cap = (keys.is_some() && a.write.is_none()).then(|| {
        TempFile(std::env::temp_dir().join(format!(
            "tcpscope-{}-{}.pcap",
            std::process::id(),
            a.scenario
        )))
    });
    if let Some(t) = &tmp_cap {
        cfg.write = Some(t.0.clone());
    }
    let saved = cfg.write.clone();
    let live = match Live::start(cfg) {
        Ok(l) => l,
        Err(e) => {
            let why = match &e {
                LiveError::PermissionDenied { .. } => {
                    "no permission to capture on lo (run as root, or give the binary cap_net_raw,cap_net_admin with setcap)".to_string()
                }
                other => other.to_string(),
            };
            eprintln!(
                "tcpscope demo: {why}; replaying the bundled capture of `{}` instead",
                a.scenario
            );
            return replay(a);
        }
    };
    if let Some(k) = &keys {
        stage.keylog = Some(k.path.clone());
        k.follow();
    }
    let r = run_staged(a, stage, live, filter);
    if let (true, Some(p)) = (keys.is_some(), &saved) {
        tell_tls(p);
    }
    r
}

/// The two views of the TLS demos' connection in the capture at `path` (stderr).
fn tell_tls(path: &std::path::Path) {
    let Ok(conns) = crate::classroom::load(&path.display().to_string()) else {
        return;
    };
    if let Some(c) = conns.first() {
        for l in crate::demo::narrate::tls_story(c) {
            eprintln!("demo: {l}");
        }
    }
}

/// The key log the TLS scenarios' client writes and their capture follows as it grows:
/// `-w FILE`'s `FILE.keys` (kept, to open the capture again with `--keylog`), else a
/// temporary file.
struct KeyFile {
    path: PathBuf,
    _tmp: Option<TempFile>,
}

impl KeyFile {
    fn create(a: &Demo) -> anyhow::Result<KeyFile> {
        let (path, tmp) = match &a.write {
            Some(w) => (w.with_extension("keys"), None),
            None => {
                let p = std::env::temp_dir().join(format!(
                    "tcpscope-{}-{}.keys",
                    std::process::id(),
                    a.scenario
                ));
                (p.clone(), Some(TempFile(p)))
            }
        };
        std::fs::write(&path, b"")
            .with_context(|| format!("cannot write the key log {}", path.display()))?;
        Ok(KeyFile { path, _tmp: tmp })
    }

    /// Make the file the run's key log, read again as the client appends to it.
    fn follow(&self) {
        let tail = crate::capture::keytail::KeyTail::new(self.path.clone(), 0);
        crate::tls::keylog::set_run_keys(KeyLog::growing(KeyLog::new(), Box::new(tail)));
        eprintln!(
            "tcpscope demo: the client writes its TLS secrets to {} (NSS key log); the capture reads them as they come",
            self.path.display()
        );
    }
}

/// Run a staged scenario under its capture: the UI or the report, then what client and
/// server said.
fn run_staged(a: &Demo, stage: Stage, live: Live, filter: String) -> anyhow::Result<()> {
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let scenario = spawn_scenario(stage, live.stop_flag(), a.format.is_some(), log.clone())?;
    let result = show_live(a, live, filter);
    let outcome = scenario
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the scenario thread panicked")));
    if let Ok(v) = log.lock() {
        for m in v.iter() {
            eprintln!("demo: {m}");
        }
    }
    if let Err(e) = outcome {
        eprintln!(
            "tcpscope demo: the `{}` scenario did not go as planned: {e}",
            a.scenario
        );
    }
    result
}

/// `loss`: the download in a namespace pair over a lossy veth link (`demo::netns`),
/// captured on the client's end, then the story of its losses; without permission to
/// build the link, the bundled lossy recording.
fn stage_loss(a: &Demo) -> anyhow::Result<()> {
    use crate::demo::netns::{CLIENT_IP, LossNet, SERVER_IP};
    let net = match LossNet::create() {
        Ok(n) => n,
        Err(e) => {
            eprintln!(
                "tcpscope demo: cannot build the lossy link in network namespaces (needs root): {e}; replaying the bundled capture of `loss` instead"
            );
            return replay(a);
        }
    };
    let listener = LossNet::within(&net.server_ns, || {
        std::net::TcpListener::bind((SERVER_IP, 0))
    })??;
    let client = LossNet::within(&net.client_ns, || Stage::client_socket(CLIENT_IP))??;
    let stage = Stage::from_parts(Scenario::Loss, listener, client, SERVER_IP)?;
    let filter = stage.filter();
    let tmp =
        TempFile(std::env::temp_dir().join(format!("tcpscope-{}-loss.pcap", std::process::id())));
    let saved = a.write.clone().unwrap_or_else(|| tmp.0.clone());
    let mut cfg = capture_config(&filter, a);
    cfg.interface = Some(net.client_if.clone());
    cfg.write = Some(saved.clone());
    let live = LossNet::within(&net.client_ns, || Live::start(cfg))?
        .map_err(|e| anyhow::anyhow!("cannot capture on the demo's veth link: {e}"))?;
    eprintln!(
        "tcpscope demo: namespaces {} and {}, veth {}, every {}th data segment from the server dropped on arrival (after the capture sees it)",
        net.client_ns,
        net.server_ns,
        net.client_if,
        crate::demo::netns::DROP_EVERY
    );
    let r = run_staged(a, stage, live, filter);
    drop(net);
    tell_losses(&saved);
    r
}

/// The story of the losses in the capture at `path` (stderr).
fn tell_losses(path: &std::path::Path) {
    let Ok(conns) = crate::classroom::load(&path.display().to_string()) else {
        return;
    };
    if let Some(c) = conns.first() {
        for l in crate::demo::narrate::loss_story(c) {
            eprintln!("demo: {l}");
        }
    }
}

/// The live capture of the scenario: loopback, its two ports, every packet kept whole.
fn capture_config(filter: &str, a: &Demo) -> LiveConfig {
    LiveConfig {
        interface: Some("lo".into()),
        filter: Some(filter.to_string()),
        write: a.write.clone(),
        promisc: false,
        // In immediate mode libpcap's ring holds buffer / snaplen packets: the loopback
        // MTU (65536) plus headers is all a packet can be, and 32 MiB then holds ~500.
        snaplen: 66_000,
        buffer_bytes: 32 << 20,
        immediate_buffer_bytes: 32 << 20,
        immediate: true,
        ..LiveConfig::default()
    }
}

/// Run the scenario on its own thread, then (after a grace time for the last packets)
/// stop the capture. What it says goes to stderr at once when `headless`, else into
/// `log` for after the UI has closed.
fn spawn_scenario(
    stage: Stage,
    stop: Arc<AtomicBool>,
    headless: bool,
    log: Arc<Mutex<Vec<String>>>,
) -> io::Result<JoinHandle<io::Result<()>>> {
    std::thread::Builder::new()
        .name("tcpscope-demo".into())
        .spawn(move || {
            let say = move |m: String| {
                if headless {
                    // Not eprintln!: with stderr closed (`2>&1 | head`) it would panic this
                    // thread before it stops the capture, and the demo would never end.
                    use std::io::Write;
                    let _ = writeln!(io::stderr(), "demo: {m}");
                } else if let Ok(mut v) = log.lock() {
                    v.push(m);
                }
            };
            let r = stage.run(&say);
            std::thread::sleep(GRACE);
            stop.store(true, Ordering::SeqCst);
            r
        })
}

/// The capture as it happens: the report once it ends (`--format`), or the UI.
fn show_live(a: &Demo, live: Live, filter: String) -> anyhow::Result<()> {
    match a.format {
        Some(f) => super::live::report_on(
            live,
            Some(filter),
            a.write.clone(),
            Config::default(),
            f,
            &mut io::stdout(),
        ),
        None => {
            let mut started = false;
            crate::ui::live::run_on(
                live,
                a.write.clone(),
                crate::ui::loader::live_ui_config(),
                a.present,
                &mut |app| start_stepping(app, &mut started),
            )
        }
    }
}

/// Once the first connection is on screen: open it with the playhead on its first
/// packet, so Space steps through it. Runs once.
fn start_stepping(app: &mut App, started: &mut bool) {
    if *started || app.data.as_ref().is_none_or(|d| d.is_empty()) {
        return;
    }
    *started = true;
    app.open_row(0);
    if app.screen == Screen::Connection
        && let Some(first) = app.conn().map(|c| c.first_frame)
    {
        app.play.playhead = Some(first);
        app.conn_view.pkt_sel = 0;
        app.message = Some("demo: Space steps one packet, End shows all, z quizzes".into());
    }
}

/// Deletes the replay's temporary file when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Show the bundled capture of the scenario: the report, or the TUI stepping from the
/// first packet.
fn replay(a: &Demo) -> anyhow::Result<()> {
    let name = match a.scenario {
        Scenario::Loss => "http-lossy-download.pcap".to_string(),
        s if s.is_tls() => format!("demo-{s}.pcapng"),
        s => format!("demo-{s}.pcap"),
    };
    let bytes = bundled(a.scenario);
    if let Some(w) = &a.write {
        std::fs::write(w, bytes).with_context(|| format!("cannot write {}", w.display()))?;
    }
    let tmp =
        TempFile(std::env::temp_dir().join(format!("tcpscope-{}-{name}", std::process::id())));
    std::fs::write(&tmp.0, bytes).with_context(|| format!("cannot write {}", tmp.0.display()))?;
    if a.scenario.is_tls() {
        // The recording carries the client's secrets in a Decryption Secrets Block.
        let mut k = KeyLog::new();
        k.add_text(&crate::capture::dsb::tls_secrets(&tmp.0), KeySource::Dsb);
        crate::tls::keylog::set_run_keys(k);
    }
    if a.scenario == Scenario::Loss && a.format.is_some() {
        tell_losses(&tmp.0);
    }
    if a.scenario.is_tls() && a.format.is_some() {
        tell_tls(&tmp.0);
    }
    match a.format {
        Some(f) => {
            let source = Source::File(tmp.0.clone());
            let out = BufWriter::new(io::stdout().lock());
            let progress = ReadProgress::default();
            stream_connections(out, f, &progress.stop, |each| {
                let mut stats = crate::headless::stream_with_progress(
                    &source,
                    Config::default(),
                    &progress,
                    each,
                )?;
                stats.file = format!("bundled:captures/{name}");
                Ok(stats)
            })
        }
        None => {
            let mut started = false;
            crate::ui::run_with(
                crate::ui::Options {
                    file: tmp.0.display().to_string(),
                    present: a.present,
                },
                &mut |app| start_stepping(app, &mut started),
            )
        }
    }
}
