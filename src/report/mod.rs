//! Non-interactive renderers of an analysis: a text table, one JSON document, or NDJSON
//! (one line per connection, then one summary line). Field names are a contract:
//! see docs/json.md. Renderers only read the model; they never decode or analyse.

pub mod text;

use crate::analyze::{CaptureStats, Connection};
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
struct Document<'a> {
    capture: &'a CaptureStats,
    connections: &'a [Connection],
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

pub fn write(
    out: &mut dyn Write,
    format: Format,
    stats: &CaptureStats,
    conns: &[Connection],
) -> io::Result<()> {
    match format {
        Format::Text => text::write(out, stats, conns),
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut *out,
                &Document {
                    capture: stats,
                    connections: conns,
                },
            )?;
            writeln!(out)
        }
        Format::Ndjson => {
            for c in conns {
                serde_json::to_writer(
                    &mut *out,
                    &ConnLine {
                        kind: "connection",
                        conn: c,
                    },
                )?;
                writeln!(out)?;
            }
            serde_json::to_writer(
                &mut *out,
                &SummaryLine {
                    kind: "summary",
                    capture: stats,
                },
            )?;
            writeln!(out)
        }
    }
}
