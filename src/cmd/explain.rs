//! `tcpscope explain`: a connection's story in plain language (`explain::narrative`).
//! With colour (`--color`), the analysis markers and resets of the text stand out.

use super::{load_classroom, select_or_warn, term, warn};
use crate::cli::config::Explain;
use crate::explain::narrative::{self, Style};
use std::io::{self, Write};

pub fn run(c: Explain) -> anyhow::Result<()> {
    let (stats, conns) = load_classroom(&c.file, &c.output)?;
    let conns = select_or_warn(&stats, conns, c.conn, &c.file)?;
    let color = c.style == Style::Text && term::color(c.output.color);
    let mut out = io::BufWriter::new(io::stdout().lock());
    for (k, conn) in conns.iter().enumerate() {
        if k > 0 {
            out.write_all(b"\n")?;
        }
        let text = narrative::render(conn, c.style);
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
