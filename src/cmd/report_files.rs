//! `tcpscope report` on several files without `--merge`: reported one after another.
//! Each connection carries its `file`, ids go on from one file to the next (unique in
//! the report), and the summary holds the totals with each file's own facts in `files`.
//! The files are analysed on parallel threads (one per core, up to 4), each a file at a
//! time, and written in the order given; a file ahead of the writer waits once a few
//! thousand of its connections are queued, so memory stays bounded. A selection
//! (`--conn`, `--host`, ...) applies to the report's ids, as they are written.

use crate::capture::Source;
use crate::headless;
use crate::parallel::ReadProgress;
use crate::pipeline::{CaptureStats, Config, Connection};
use crate::report::select::Selection;
use crate::report::{Format, Writer, text};
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, sync_channel};

/// What one file's analysis thread sends the writer.
enum Msg {
    Conn(Box<Connection>),
    Done(anyhow::Result<Box<CaptureStats>>),
}

/// Connections a file ahead of the writer may queue before it waits.
const QUEUE: usize = 4096;

/// Report `files` one after another.
pub(super) fn run_each<W: Write>(
    out: W,
    files: &[Source],
    cfg: Config,
    format: Format,
    text: text::Options,
    sel: &Selection,
) -> anyhow::Result<CaptureStats> {
    // A missing file is said before anything is written, not after the files before it.
    for s in files {
        if let Source::File(p) = s
            && std::fs::metadata(p).is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
        {
            return Err(crate::capture::CaptureError::NotFound { file: s.display() }.into());
        }
    }
    let progress = ReadProgress::default();
    let lanes = crate::parallel::default_workers().min(files.len()).max(1);
    // Files run side by side, each single-threaded: the cores go to files, not shards.
    let mut one = cfg;
    one.workers = 1;
    std::thread::scope(|scope| {
        let mut rxs: Vec<Option<Receiver<Msg>>> = Vec::with_capacity(files.len());
        let mut started = 0;
        let mut start = |upto: usize, rxs: &mut Vec<Option<Receiver<Msg>>>| {
            while started < upto.min(files.len()) {
                let (tx, rx) = sync_channel::<Msg>(QUEUE);
                let (src, cfg, progress) = (&files[started], one.clone(), &progress);
                scope.spawn(move || {
                    let res = headless::stream_with_progress(src, cfg, progress, &mut |c| {
                        let _ = tx.send(Msg::Conn(Box::new(c)));
                    });
                    let _ = tx.send(Msg::Done(res.map(Box::new).map_err(anyhow::Error::from)));
                });
                rxs.push(Some(rx));
                started += 1;
            }
        };
        start(lanes, &mut rxs);
        let mut sink = Sink::new(out, format, text, sel);
        let mut result = Ok(());
        for k in 0..files.len() {
            // A lane is free once the file before this one is written.
            start(k + lanes, &mut rxs);
            let Some(rx) = rxs[k].take() else { break };
            if let Err(e) = sink.file(&files[k], rx) {
                progress
                    .stop
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                result = Err(e);
                break;
            }
        }
        // Stop the files still being read (an error, or the output closed).
        progress
            .stop
            .store(true, std::sync::atomic::Ordering::SeqCst);
        drop(rxs);
        result?;
        sink.finish()
    })
}

/// The report being written across files.
struct Sink<'s, W: Write> {
    writer: Option<Writer<W>>,
    format: Format,
    text: text::Options,
    sel: &'s Selection,
    next_id: u64,
    total: CaptureStats,
    per_file: Vec<CaptureStats>,
}

impl<'s, W: Write> Sink<'s, W> {
    fn new(out: W, format: Format, text: text::Options, sel: &'s Selection) -> Self {
        let mut s = Sink {
            writer: None,
            format,
            text,
            sel,
            next_id: 1,
            total: CaptureStats::default(),
            per_file: Vec::new(),
        };
        s.writer = Some(s.writer_on(out));
        s
    }

    /// A report writer on `out` as the command asked (layout, selection).
    fn writer_on(&self, out: W) -> Writer<W> {
        Writer::with_text(out, self.format, self.text.clone()).for_selection(self.sel)
    }

    /// Write one file's connections as they come, then take in its summary.
    fn file(&mut self, src: &Source, rx: Receiver<Msg>) -> anyhow::Result<()> {
        let name: Box<str> = src.display().into();
        let offset = self.next_id - 1;
        if self.format == Format::Text {
            self.text_heading(&name)?;
        }
        let mut stats = None;
        for msg in rx {
            match msg {
                Msg::Conn(c) => {
                    let mut c = *c;
                    c.id += offset;
                    c.port_reuse_of = c.port_reuse_of.map(|r| r + offset);
                    c.file = Some(name.clone());
                    self.next_id = self.next_id.max(c.id + 1);
                    if !self.sel.matches(&c) {
                        continue;
                    }
                    if let Some(w) = self.writer.as_mut() {
                        w.connection(&c)?;
                    }
                }
                Msg::Done(s) => stats = Some(s?),
            }
        }
        let mut s = *stats.ok_or_else(|| anyhow::anyhow!("{name}: the analysis thread failed"))?;
        self.next_id = self.next_id.max(offset + s.connections + 1);
        if self.format == Format::Text {
            // Each file's table ends with its own summary.
            let w = self.writer.take().expect("a writer between files");
            let out = w.finish(&s)?;
            self.writer = Some(self.writer_on(out));
        }
        let mut mine = s.clone();
        mine.warnings = std::mem::take(&mut s.warnings);
        s.warnings = mine
            .warnings
            .iter()
            .map(|w| format!("{name}: {w}"))
            .collect();
        s.file = String::new();
        self.total.merge(s);
        self.per_file.push(mine);
        Ok(())
    }

    fn text_heading(&mut self, name: &str) -> io::Result<()> {
        let w = self.writer.take().expect("a writer between files");
        let mut out = w.into_inner();
        let first = self.per_file.is_empty();
        writeln!(
            out,
            "{}== {} ==",
            if first { "" } else { "\n" },
            crate::escape::escape(name)
        )?;
        self.writer = Some(self.writer_on(out));
        Ok(())
    }

    /// The summary: totals, and each file's own facts (returned, for the warnings).
    fn finish(mut self) -> anyhow::Result<CaptureStats> {
        let Some(w) = self.writer.take() else {
            return Ok(self.total);
        };
        if self.format == Format::Text {
            w.into_inner().flush()?;
            self.total.connections = self.next_id - 1;
            return Ok(self.total);
        }
        let mut total = self.total;
        total.file = self
            .per_file
            .iter()
            .map(|s| s.file.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        total.connections = self.next_id - 1;
        total.files = self.per_file;
        w.finish(&total)?;
        Ok(total)
    }
}
