//! `tcpscope diagram`: a connection's ladder diagram (`report::diagram`), or its
//! sequence-number graph (`report::seqgraph`), whole or a slice of it.

use super::{load_classroom, select_or_warn, warn};
use crate::cli::config::Diagram;
use crate::report::{diagram, seqsvg};
use std::io::{self, Write};

pub fn run(c: Diagram) -> anyhow::Result<()> {
    // The first connection selected (the capture's first when nothing is asked for).
    let (stats, conns) = load_classroom(&c.file, &c.output)?;
    let mut conns = select_or_warn(&stats, conns, &c.select, &c.file)?;
    conns.truncate(1);
    let text = match c.graph {
        Some(diagram::Graph::Seq) => {
            let source = crate::capture::Source::from_arg(&c.file);
            let sacks = seqsvg::sack_blocks(&source, &conns[0]);
            seqsvg::render_svg(&conns[0], &sacks, c.slice)
        }
        None => {
            let source = crate::capture::Source::from_arg(&c.file);
            let labels = crate::report::labels::read_labels(&source, &conns[0]);
            diagram::render_labelled(&conns[0], c.format, c.options, c.slice, &labels)
        }
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}", crate::capture::label(&c.file)))?;
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    drop(out);
    warn::report(&stats, c.output.strict)
}
