//! The story of one connection, packet by packet, as plain text or Markdown: what
//! `tcpscope explain` prints. Only arranges the sentences of the explain layer.

use super::{ConnFacts, arrow_label, connection_intro, connection_outro, packet};
use crate::pipeline::Connection;
use crate::tcp::PacketRecord;
use crate::ts::Ts;

/// Output format of a narrative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Style {
    #[default]
    Text,
    Markdown,
}

/// Escape the characters Markdown would interpret.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '<' | '>' | '[' | ']' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The narrative of one connection.
pub fn render(c: &Connection, style: Style) -> String {
    render_with(c, style, None)
}

/// [`render`], with the HTTP framing of the rebuilt byte streams (`wire`) when the edge
/// could rebuild them: then each segment carrying a chunk-size line says so.
pub fn render_with(c: &Connection, style: Style, wire: Option<&super::WireHttp>) -> String {
    let cf = ConnFacts::of(c);
    let h2 = super::http2::Story::of(c);
    let h2_at = |f: u64| h2.as_ref().map_or_else(Vec::new, |s| s.frame_sentences(f));
    let md = style == Style::Markdown;
    let mut out = if md {
        format!(
            "## Connection {}: {} → {}\n\n",
            c.id,
            md_escape(&c.client.to_string()),
            md_escape(&c.server.to_string())
        )
    } else {
        format!(
            "=== Connection {}: {} → {} ===\n\n",
            c.id, c.client, c.server
        )
    };
    push_list(&mut out, md, "", connection_intro(c));
    out.push('\n');
    let t0 = cf.packets.first().map(|p| p.ts);
    for (i, p) in cf.packets.iter().enumerate() {
        out.push_str(&packet_heading(p, t0, md));
        let said = packet(&cf, i)
            .into_iter()
            .chain(super::tls::frame_sentences(c, p.frame))
            .chain(h2_at(p.frame))
            .chain(chunk_sentences(wire, p.frame));
        push_list(&mut out, md, "    ", said);
        out.push('\n');
    }
    if cf.packets.is_empty() {
        out.push_str("(no packet records were kept for this connection)\n\n");
    }
    let mut outro = connection_outro(c);
    outro.extend(super::tls::summary(c));
    outro.extend(h2.as_ref().map_or_else(Vec::new, |s| s.summary()));
    out.push_str(if md { "### Summary\n\n" } else { "Summary\n" });
    push_list(&mut out, md, "    ", outro);
    out
}

/// Sentences one a line: Markdown list items (escaped), or plain lines after `indent`.
fn push_list<S: AsRef<str>>(
    out: &mut String,
    md: bool,
    indent: &str,
    items: impl IntoIterator<Item = S>,
) {
    for s in items {
        if md {
            out.push_str(&format!("- {}\n", md_escape(s.as_ref())));
        } else {
            out.push_str(&format!("{indent}{}\n", s.as_ref()));
        }
    }
}

/// The line that opens a packet's paragraph: its frame, time since the first packet
/// (`t0`), direction and arrow label.
fn packet_heading(p: &PacketRecord, t0: Option<Ts>, md: bool) -> String {
    // A packet stamped before the first (the clock went back) gets no negative offset.
    let when = match t0 {
        Some(t) if p.ts < t => format!(
            "stamped {} before the first packet (the clock went back)",
            super::human_duration(t.0.saturating_sub(p.ts.0))
        ),
        t => format!("+{:.6} s", t.map_or(0.0, |t| p.ts.secs_since(t))),
    };
    let dir = format!("{} → {}", p.dir.name(), p.dir.other().name());
    let label = arrow_label(p);
    if md {
        format!("### Frame {} · {when} · {dir} · `{label}`\n\n", p.frame)
    } else {
        format!("Frame {}  {when}  {dir}  {label}\n", p.frame)
    }
}

/// What the chunk-size lines whose line ends in `frame` say: "chunk size line `11`
/// (hex) = 17 bytes of body follow", and the last-chunk that ends the body.
fn chunk_sentences(wire: Option<&super::WireHttp>, frame: u64) -> Vec<String> {
    let Some(w) = wire else { return Vec::new() };
    let mut out = Vec::new();
    for (n, chunks) in w.chunks.iter().enumerate() {
        for (k, ch) in chunks.iter().enumerate().filter(|(_, c)| c.frame == frame) {
            out.push(if ch.size == 0 {
                format!(
                    "Chunked body of response {}: the last-chunk (size line `0`) ends the body after {} chunk{}; trailer fields, if any, then an empty line follow.",
                    n + 1,
                    k,
                    if k == 1 { "" } else { "s" }
                )
            } else {
                format!(
                    "Chunked body of response {}: chunk {} has the size line `{:x}` (hex) = {} bytes of body, then CRLF.",
                    n + 1,
                    k + 1,
                    ch.size,
                    ch.size
                )
            });
        }
    }
    out
}
