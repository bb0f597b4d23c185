//! `tcpscope explain`: a connection's story in plain language (`explain::narrative`).
//! With colour (`--color`), the analysis markers and resets of the text stand out.

use super::{load_classroom, select_or_warn, term, warn};
use crate::cli::config::Explain;
use crate::explain::narrative::{self, Style};
use std::io::{self, Write};

/// Bytes of each direction kept when a stream is rebuilt for its chunk sizes.
const STREAM_CAP: u64 = 1 << 20;

pub fn run(c: Explain) -> anyhow::Result<()> {
    let (stats, conns) = load_classroom(&c.file, &c.output)?;
    let conns = select_or_warn(&stats, conns, &c.select, &c.file)?;
    let color = c.style == Style::Text && term::color(c.output.color);
    let mut out = io::BufWriter::new(io::stdout().lock());
    let source = crate::capture::Source::from_arg(&c.file);
    for (k, conn) in conns.iter().enumerate() {
        if k > 0 {
            out.write_all(b"\n")?;
        }
        // Chunk sizes are read off the rebuilt streams, only where a response is chunked
        // (standard input cannot be read twice: then the story goes without them).
        let chunked = conn
            .http
            .iter()
            .any(|x| x.response.as_ref().is_some_and(|r| r.chunked));
        let stream = chunked
            .then(|| crate::stream::rebuild_stream(&source, conn, STREAM_CAP).ok())
            .flatten();
        let wire = stream.as_ref().map(|s| &s.wire);
        let text = narrative::render_with(conn, c.style, wire);
        if color {
            out.write_all(crate::report::grid::paint_explain(&text).as_bytes())?;
        } else {
            out.write_all(text.as_bytes())?;
        }
    }
    out.flush()?;
    drop(out);
    warn::report(&stats, c.output.strict)
}
