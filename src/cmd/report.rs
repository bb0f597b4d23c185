//! `tcpscope report`: every connection of a capture (or those selected), as a table,
//! JSON, NDJSON or Zeek logs, written as each finishes (memory follows the connections
//! open at once, not the file's size); with `-w`, the selected connections' frames are
//! then copied to a pcap (a second pass over the file). A progress bar on standard error
//! while a long file is read; the capture's warnings on standard error after the report.

use super::progress::{self, Lifting};
use super::render::Pool;
use super::{term, warn};
use crate::cli::config::Report;
use crate::headless;
use crate::parallel::ReadProgress;
use crate::pipeline::{CaptureStats, Connection};
use crate::report::select::{FrameMatcher, Selection};
use crate::report::text;
use crate::report::zeek::ZeekWriter;
use crate::report::{Format, Writer};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Where the selected connections go.
enum Sink<'a> {
    Stream(Box<Writer<BufWriter<Lifting<io::StdoutLock<'a>>>>>),
    Zeek(ZeekWriter<BufWriter<File>>),
}

impl Sink<'_> {
    fn connection(&mut self, c: &Connection) -> io::Result<()> {
        match self {
            Sink::Stream(w) => w.connection(c),
            Sink::Zeek(z) => z.connection(c),
        }
    }

    /// A record rendered apart (`render.rs`), for a stream only.
    fn rendered(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stream(w) => w.rendered(bytes),
            Sink::Zeek(_) => Ok(()),
        }
    }

    fn finish(self, stats: &CaptureStats) -> io::Result<()> {
        match self {
            Sink::Stream(w) => (*w).finish(stats).map(drop),
            Sink::Zeek(z) => z.finish(stats).map(drop),
        }
    }
}

pub fn run(c: Report) -> anyhow::Result<()> {
    let text = text::Options {
        width: term::report_width(c.output.wide),
        color: term::color(c.output.color),
        sample: text::SAMPLE_ROWS,
    };
    if c.files.len() > 1 {
        return run_files(&c, text);
    }
    let file = c.source.display();
    let progress = Arc::new(ReadProgress::default());
    let bar = progress::Bar::start(
        Arc::clone(&progress),
        &c.source,
        progress::wanted(c.output.quiet),
    );
    let mut sink = open_sink(&c, &bar, text)?;
    let mut got = Gathered::default();
    let read = read_into(&c, &progress, &mut sink, &mut got);
    bar.finish();
    let stats = read?;
    if let Some(e) = got.write_err {
        return Err(e.into());
    }
    check(&c.select, &stats, &file)?;
    for conn in &got.held {
        sink.connection(conn)?;
    }
    sink.finish(&stats)?;
    if let Some(path) = &c.write {
        write_pcap(&c.source, path, &got.frames)?;
    }
    warn::report(&stats, c.output.strict)
}

/// Several files: each reported in turn (`report_files.rs`).
fn run_files(c: &Report, text: text::Options) -> anyhow::Result<()> {
    if c.format == Format::Zeek {
        anyhow::bail!(
            "--format zeek writes the logs of one capture: give one file, or several with --merge"
        );
    }
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let stats = super::report_files::run_each(
        out,
        &c.files,
        c.analysis.clone(),
        c.format,
        text,
        &c.select,
    )?;
    check(&c.select, &stats, "the files")?;
    warn::report(&stats, c.output.strict)
}

/// Where the report goes: Zeek logs in `--out`, else standard output (lifted above the
/// progress bar).
fn open_sink(
    c: &Report,
    bar: &progress::Bar,
    text: text::Options,
) -> anyhow::Result<Sink<'static>> {
    Ok(match (c.format, &c.out) {
        (Format::Zeek, Some(dir)) => Sink::Zeek(zeek_writer(dir)?),
        _ => {
            let out = BufWriter::with_capacity(1 << 16, bar.writer(io::stdout().lock()));
            let w = Writer::with_text(out, c.format, text).for_selection(&c.select);
            Sink::Stream(Box::new(w))
        }
    })
}

/// What the read keeps beside the records it writes.
#[derive(Default)]
struct Gathered {
    /// With --conn, the (few) selected connections, held to the end so that an id
    /// naming no connection is an error before anything is written.
    held: Vec<Connection>,
    /// The selected connections' frames, for `-w`.
    frames: FrameMatcher,
    /// The first error writing the report (reading then stops).
    write_err: Option<io::Error>,
}

/// Read the capture, each selected connection written to `sink` as it finishes (or
/// held, see [`Gathered`]). On several cores, JSON and NDJSON records are rendered by
/// helpers (`render.rs`).
fn read_into(
    c: &Report,
    progress: &ReadProgress,
    sink: &mut Sink<'_>,
    got: &mut Gathered,
) -> Result<CaptureStats, crate::capture::CaptureError> {
    let hold = !c.select.conns.is_empty();
    let helpers = match c.analysis.workers {
        0 => crate::parallel::default_workers(),
        n => n,
    };
    let pooled = helpers > 1 && !hold && matches!(&*sink, Sink::Stream(w) if w.renders_apart());
    std::thread::scope(|scope| {
        let mut pool = pooled.then(|| Pool::start(scope, helpers, c.format));
        let read =
            headless::stream_with_progress(&c.source, c.analysis.clone(), progress, &mut |conn| {
                if !c.select.matches(&conn) {
                    return;
                }
                if c.write.is_some() {
                    got.frames.add(&conn);
                }
                if hold {
                    got.held.push(conn);
                    return;
                }
                if got.write_err.is_some() {
                    return;
                }
                let res = match pool.as_mut() {
                    Some(p) => p.submit(conn, &mut |b| sink.rendered(b)),
                    None => sink.connection(&conn),
                };
                if let Err(e) = res {
                    got.write_err = Some(e);
                    progress.stop.store(true, Ordering::SeqCst);
                }
            });
        if let Some(p) = pool
            && let Err(e) = p.finish(&mut |b| sink.rendered(b))
        {
            got.write_err.get_or_insert(e);
        }
        read
    })
}

fn check(sel: &Selection, stats: &CaptureStats, file: &str) -> anyhow::Result<()> {
    sel.check_ids(stats.connections, file)
        .map_err(anyhow::Error::msg)
}

/// Copy the selected connections' frames into `path`, saying so on stderr.
fn write_pcap(
    source: &crate::capture::Source,
    path: &Path,
    frames: &FrameMatcher,
) -> anyhow::Result<()> {
    let last = frames.last_frame();
    let w = crate::capture::write::write_frames_to(source, path, last, &mut |p| frames.matches(p))?;
    let _ = writeln!(
        io::stderr(),
        "tcpscope: wrote {} frames of {} connection{} to {}",
        w.frames,
        frames.len(),
        if frames.len() == 1 { "" } else { "s" },
        path.display()
    );
    Ok(())
}

/// conn.log and http.log in `dir` (created if missing); existing logs are never replaced.
fn zeek_writer(dir: &Path) -> anyhow::Result<ZeekWriter<BufWriter<File>>> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!(
            "{}: not a folder; --out names the folder conn.log and http.log go into",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("{}: cannot create the folder: {e}", dir.display()))?;
    let open = |name: &str| -> anyhow::Result<BufWriter<File>> {
        let p = dir.join(name);
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => anyhow::anyhow!(
                    "{}: exists; logs are never overwritten: remove it or give another --out folder",
                    p.display()
                ),
                _ => anyhow::anyhow!("{}: cannot be written: {e}", p.display()),
            })?;
        Ok(BufWriter::with_capacity(1 << 16, f))
    };
    if dir.join("http.log").exists() {
        open("http.log")?;
    }
    Ok(ZeekWriter::new(open("conn.log")?, open("http.log")?)?)
}
