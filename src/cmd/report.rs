//! `tcpscope report`: every connection of a capture, as a table, JSON or NDJSON, written
//! as each finishes (memory follows the connections open at once, not the file's size).

use super::stream_connections;
use crate::cli::config::Report;
use crate::headless;
use crate::parallel::ReadProgress;
use std::io::{self, BufWriter};

pub fn run(c: Report) -> anyhow::Result<()> {
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let progress = ReadProgress::default();
    stream_connections(out, c.format, &progress.stop, |each| {
        Ok(headless::stream_with_progress(
            &c.source, c.analysis, &progress, each,
        )?)
    })
}
