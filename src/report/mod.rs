//! Non-interactive renderers of an analysis: a text table, one JSON document, or NDJSON
//! (one line per connection, then one summary line). Field names are a contract:
//! see docs/json.md. Renderers only read the model; they never decode or analyse.
//!
//! Connections are written as they finish (in id order), so a report of a huge capture
//! never holds every connection in memory; the capture summary comes last.

pub mod diagram;
pub mod grid;
pub mod json;
pub mod labels;
pub mod packets;
pub mod select;
pub mod seqgraph;
pub mod seqsvg;
pub mod slice;
pub mod text;
pub mod text_summary;
pub mod zeek;

use crate::pipeline::{CaptureStats, Connection};
use serde::Serialize;
use std::io::{self, Write};

/// Output format of `report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Ndjson,
    /// Zeek's conn.log and http.log (TSV) into a folder: `report --format zeek --out DIR`.
    Zeek,
}

/// The version of the JSON and NDJSON layout (`"schema"` in the document and in the
/// NDJSON summary line). Fields may be added within a version; a field renamed, removed
/// or changed in meaning gives a new version (docs/json.md).
pub const SCHEMA: u32 = 1;

#[derive(Serialize)]
struct SummaryLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    schema: u32,
    /// Connections written, when a selection (`--conn`, `--host`, ...) was applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    selected: Option<u64>,
    capture: &'a CaptureStats,
}

#[derive(Serialize)]
struct ConnLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    conn: &'a Connection,
}

/// A connection's JSON or NDJSON record as [`Writer::connection`] writes it, without the
/// separators around it; `None` for the formats written row by row (text, Zeek). Pure,
/// so it may run on any thread.
pub fn render(format: Format, c: &Connection) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(16 * 1024);
    match format {
        Format::Json | Format::Ndjson => render_into(&mut out, format, c).ok().map(|()| out),
        Format::Text | Format::Zeek => None,
    }
}

fn render_into<W: Write>(out: W, format: Format, c: &Connection) -> io::Result<()> {
    match format {
        Format::Ndjson => json::to_writer(
            out,
            &ConnLine {
                kind: "connection",
                conn: c,
            },
        ),
        _ => json::to_writer_pretty(out, c),
    }
}

/// A report being written: `connection` for each, then `finish` with the summary.
pub struct Writer<W: Write> {
    out: W,
    format: Format,
    count: u64,
    text: text::Table,
    /// The selection applied, as typed (`--port 80`), when there was one.
    selection: Option<String>,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W, format: Format) -> Self {
        Self::with_text(out, format, text::Options::default())
    }

    /// A report whose text table is laid out as `text` says (width, colour).
    pub fn with_text(out: W, format: Format, text: text::Options) -> Self {
        Writer {
            out,
            format,
            count: 0,
            text: text::Table::new(text),
            selection: None,
        }
    }

    /// The connections handed over are a selection (described as typed): the summary
    /// says how many were selected; its counts stay those of the whole capture.
    pub fn selected(mut self, description: String) -> Self {
        self.selection = Some(description);
        self
    }

    /// [`Writer::selected`] when `sel` keeps only some connections; unchanged when it
    /// keeps them all.
    pub fn for_selection(self, sel: &select::Selection) -> Self {
        match sel.is_all() {
            true => self,
            false => self.selected(sel.describe()),
        }
    }

    fn selected_count(&self) -> Option<u64> {
        self.selection.as_ref().map(|_| self.count)
    }

    pub fn connection(&mut self, c: &Connection) -> io::Result<()> {
        match self.format {
            Format::Text => self.text.row(&mut self.out, c)?,
            // Written by `zeek::ZeekWriter` into files, never to a stream.
            Format::Zeek => return Ok(()),
            Format::Json | Format::Ndjson => {
                self.separate()?;
                render_into(&mut self.out, self.format, c)?;
                self.end_record()?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Whether this report's records can be made by [`render`] apart from the writer.
    pub fn renders_apart(&self) -> bool {
        matches!(self.format, Format::Json | Format::Ndjson)
    }

    /// Write a connection that [`render`] made (on another thread): the same bytes as
    /// [`Writer::connection`] would write.
    pub fn rendered(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.separate()?;
        self.out.write_all(bytes)?;
        self.end_record()?;
        self.count += 1;
        Ok(())
    }

    /// What comes before a JSON or NDJSON connection.
    fn separate(&mut self) -> io::Result<()> {
        match (self.format, self.count) {
            (Format::Json, 0) => write!(self.out, "{{\"schema\": {SCHEMA},\n\"connections\": [\n"),
            (Format::Json, _) => self.out.write_all(b",\n"),
            _ => Ok(()),
        }
    }

    /// What comes after one.
    fn end_record(&mut self) -> io::Result<()> {
        match self.format {
            Format::Ndjson => self.out.write_all(b"\n"),
            _ => Ok(()),
        }
    }

    /// The output, without a summary (a report of several files writes its own).
    pub fn into_inner(self) -> W {
        self.out
    }

    pub fn finish(mut self, stats: &CaptureStats) -> io::Result<W> {
        match self.format {
            Format::Text => {
                text::summary(&mut self.out, stats, &mut self.text)?;
                if let Some(sel) = &self.selection {
                    writeln!(
                        self.out,
                        "selected: {} of {} connections ({sel})",
                        self.count, stats.connections
                    )?;
                }
            }
            Format::Zeek => {}
            Format::Json => {
                if self.count == 0 {
                    write!(self.out, "{{\"schema\": {SCHEMA},\n\"connections\": [")?;
                }
                self.out.write_all(b"\n],\n")?;
                if let Some(n) = self.selected_count() {
                    writeln!(self.out, "\"selected\": {n},")?;
                }
                self.out.write_all(b"\"capture\": ")?;
                json::to_writer_pretty(&mut self.out, stats)?;
                self.out.write_all(b"\n}\n")?;
            }
            Format::Ndjson => {
                let selected = self.selected_count();
                json::to_writer(
                    &mut self.out,
                    &SummaryLine {
                        kind: "summary",
                        schema: SCHEMA,
                        selected,
                        capture: stats,
                    },
                )?;
                self.out.write_all(b"\n")?;
            }
        }
        self.out.flush()?;
        Ok(self.out)
    }
}
