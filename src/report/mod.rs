//! Non-interactive renderers of an analysis: a text table, one JSON document, or NDJSON
//! (one line per connection, then one summary line). Field names are a contract:
//! see docs/json.md. Renderers only read the model; they never decode or analyse.
//!
//! Connections are written as they finish (in id order), so a report of a huge capture
//! never holds every connection in memory; the capture summary comes last.

pub mod diagram;
pub mod json;
pub mod seqgraph;
pub mod seqsvg;
pub mod slice;
pub mod text;

use crate::pipeline::{CaptureStats, Connection};
use serde::Serialize;
use std::io::{self, Write};

/// Output format of `report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Ndjson,
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    capture: &'a CaptureStats,
}

#[derive(Serialize)]
struct ConnLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    conn: &'a Connection,
}

/// A report being written: `connection` for each, then `finish` with the summary.
pub struct Writer<W: Write> {
    out: W,
    format: Format,
    count: u64,
    text: text::Table,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W, format: Format) -> Self {
        Writer {
            out,
            format,
            count: 0,
            text: text::Table::default(),
        }
    }

    pub fn connection(&mut self, c: &Connection) -> io::Result<()> {
        match self.format {
            Format::Text => self.text.row(&mut self.out, c)?,
            Format::Json => {
                self.out.write_all(if self.count == 0 {
                    b"{\"connections\": [\n"
                } else {
                    b",\n"
                })?;
                json::to_writer_pretty(&mut self.out, c)?;
            }
            Format::Ndjson => {
                json::to_writer(
                    &mut self.out,
                    &ConnLine {
                        kind: "connection",
                        conn: c,
                    },
                )?;
                self.out.write_all(b"\n")?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// The output, without a summary (a report of several files writes its own).
    pub fn into_inner(self) -> W {
        self.out
    }

    pub fn finish(mut self, stats: &CaptureStats) -> io::Result<W> {
        match self.format {
            Format::Text => text::summary(&mut self.out, stats, &self.text)?,
            Format::Json => {
                if self.count == 0 {
                    self.out.write_all(b"{\"connections\": [")?;
                }
                self.out.write_all(b"\n],\n\"capture\": ")?;
                json::to_writer_pretty(&mut self.out, stats)?;
                self.out.write_all(b"\n}\n")?;
            }
            Format::Ndjson => {
                json::to_writer(
                    &mut self.out,
                    &SummaryLine {
                        kind: "summary",
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
