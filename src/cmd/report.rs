//! `tcpscope report`: every connection of a capture, as a table, JSON or NDJSON, written
//! as each finishes (memory follows the connections open at once, not the file's size).
//! A progress bar on standard error while a long file is read; the capture's warnings
//! on standard error after the report.

use super::{progress, stream_report, term, warn};
use crate::cli::config::Report;
use crate::headless;
use crate::parallel::ReadProgress;
use crate::report::text;
use std::io::{self, BufWriter};
use std::sync::Arc;

pub fn run(c: Report) -> anyhow::Result<()> {
    let text = text::Options {
        width: term::report_width(c.output.wide),
        color: term::color(c.output.color),
        sample: text::SAMPLE_ROWS,
    };
    let progress = Arc::new(ReadProgress::default());
    let bar = progress::Bar::start(
        Arc::clone(&progress),
        &c.source,
        progress::wanted(c.output.quiet),
    );
    let out = BufWriter::with_capacity(1 << 16, bar.writer(io::stdout().lock()));
    let stats = stream_report(out, c.format, text, &progress.stop, |each| {
        let r = headless::stream_with_progress(&c.source, c.analysis, &progress, each);
        bar.finish();
        Ok(r?)
    })?;
    warn::report(&stats, c.output.strict)
}
