//! Ladder diagrams of one connection for slides and handouts: a Mermaid
//! `sequenceDiagram`, plain ASCII, or SVG. One arrow per segment labelled with its
//! flags, relative seq/ack and length; state changes and analysis flags as notes.
//! Renderers only read the model; the facts come from the explain layer.

pub use super::slice::{FrameRange, Slice, TimeRange};
use crate::explain::{self, ConnFacts};
use crate::flow::Dir;
use crate::pipeline::Connection;
use crate::tcp::PacketRecord;
use crate::tcp::state::Transition;

/// Output format of `diagram`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagramFormat {
    Mermaid,
    Ascii,
    Svg,
}

impl DiagramFormat {
    pub fn name(self) -> &'static str {
        match self {
            DiagramFormat::Mermaid => "mermaid",
            DiagramFormat::Ascii => "ascii",
            DiagramFormat::Svg => "svg",
        }
    }
}

/// A graph drawn instead of the ladder (`--graph`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Graph {
    /// Sequence number over time, per direction (`report::seqgraph`).
    Seq,
}

impl Graph {
    pub fn name(self) -> &'static str {
        match self {
            Graph::Seq => "seq",
        }
    }
}

/// What to draw.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Stop after the handshake (the completing ACK, a refusal's RST, or the last
    /// packet before any data).
    pub handshake_only: bool,
}

/// One row of a ladder: a segment and the notes around it.
struct Row<'a> {
    p: &'a PacketRecord,
    /// Seconds since the connection's first packet.
    t: f64,
    label: String,
    /// Inferred states entered before the segment (LISTEN), per side.
    before: Vec<(Dir, String)>,
    /// States entered because of the segment, per side.
    after: Vec<(Dir, String)>,
    flags: Vec<String>,
}

fn label(p: &PacketRecord) -> String {
    let mut s = format!("[{}] {} seq={}", p.frame, p.flags, p.seq);
    if p.flags.ack() {
        s.push_str(&format!(" ack={}", p.ack));
    }
    s.push_str(&format!(" len={}", p.len));
    if let Some(m) = explain::loss_marker(p) {
        s.push_str(&format!(" {m}"));
    }
    s
}

fn rows<'a>(c: &'a Connection, cf: &ConnFacts<'a>, opts: Options, labels: &Labels) -> Vec<Row<'a>> {
    let pkts = cf.packets;
    let end = if opts.handshake_only {
        handshake_end(c, pkts)
    } else {
        pkts.len()
    };
    let t0 = pkts.first().map(|p| p.ts);
    let trans = |d: Dir| -> &'a [Transition] {
        match d {
            Dir::Client => cf.client_transitions,
            Dir::Server => cf.server_transitions,
        }
    };
    pkts[..end]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut before = Vec::new();
            let mut after = Vec::new();
            for d in [Dir::Client, Dir::Server] {
                let ts: Vec<&Transition> = trans(d).iter().filter(|t| t.frame == p.frame).collect();
                if ts.is_empty() {
                    let (b, a) = (explain::states_before(pkts, i), p.states_after);
                    let (b, a) = match d {
                        Dir::Client => (b.0, a.0),
                        Dir::Server => (b.1, a.1),
                    };
                    if b != a {
                        after.push((d, a.to_string()));
                    }
                }
                for t in ts {
                    if t.inferred && i == 0 {
                        before.push((d, t.state.to_string()));
                    } else {
                        after.push((d, t.state.to_string()));
                    }
                }
            }
            let flags = p
                .analysis
                .iter()
                .map(|x| match (x.flag(), p.dup_ack_num) {
                    (crate::tcp::analysis::Flag::DuplicateAck, Some(n)) => {
                        format!("{} #{n}", x.flag().label())
                    }
                    _ => x.flag().label().to_string(),
                })
                .collect();
            let mut label = label(p);
            // What the segment carries: TLS messages and records, HTTP/2 frames.
            if let Some(l) = labels.get(&p.frame) {
                label.push(' ');
                label.push_str(&l.full);
            }
            Row {
                p,
                t: t0.map_or(0.0, |t| p.ts.secs_since(t)),
                label,
                before,
                after,
                flags,
            }
        })
        .collect()
}

/// Index one past the last packet of the opening.
fn handshake_end(c: &Connection, pkts: &[PacketRecord]) -> usize {
    let ack = c.summary.as_ref().and_then(|s| s.handshake.ack_frame);
    if let Some(f) = ack {
        return pkts.partition_point(|p| p.frame <= f);
    }
    let mut end = 0;
    for (i, p) in pkts.iter().enumerate() {
        if p.len > 0 {
            break;
        }
        end = i + 1;
        if p.flags.rst() {
            break;
        }
    }
    end
}

/// What each frame's arrow carries (`report::labels`, the TUI ladder's too).
pub type Labels = std::collections::BTreeMap<u64, super::labels::FrameLabel>;

/// Render the ladder of `c`.
pub fn render(c: &Connection, format: DiagramFormat, opts: Options) -> String {
    render_slice(c, format, opts, Slice::All).unwrap_or_default()
}

/// Render the part of `c`'s ladder inside `slice` (times stay relative to the
/// connection's first packet, so a slice reads like the same rows of the whole); an
/// error when the slice holds none of the connection's packets. Labels from the
/// connection alone (TLS messages, HTTP/2 frames; no record sizes: see
/// [`render_labelled`]).
pub fn render_slice(
    c: &Connection,
    format: DiagramFormat,
    opts: Options,
    slice: Slice,
) -> Result<String, String> {
    let labels = super::labels::frame_labels(c, Default::default());
    render_labelled(c, format, opts, slice, &labels)
}

/// [`render_slice`] with the labels given (from the capture read again: TLS record
/// sizes).
pub fn render_labelled(
    c: &Connection,
    format: DiagramFormat,
    opts: Options,
    slice: Slice,
    labels: &Labels,
) -> Result<String, String> {
    let cf = ConnFacts::of(c);
    let mut rows = rows(c, &cf, opts, labels);
    let keep = slice.select(&cf.packets[..rows.len()]).map_err(|e| {
        let msg = format!("connection {}: {e}", c.id);
        if opts.handshake_only {
            format!("{msg} (with --handshake-only: only its opening)")
        } else {
            msg
        }
    })?;
    let cut = Cut {
        before: keep.first().copied().unwrap_or(0),
        after: rows.len() - keep.last().map_or(0, |l| l + 1),
    };
    if slice != Slice::All {
        let keep: std::collections::HashSet<usize> = keep.into_iter().collect();
        let mut i = 0;
        rows.retain(|_| {
            i += 1;
            keep.contains(&(i - 1))
        });
    }
    Ok(match format {
        DiagramFormat::Mermaid => mermaid(c, &rows, cut),
        DiagramFormat::Ascii => ascii(c, &rows, cut),
        DiagramFormat::Svg => svg(c, &rows, cut),
    })
}

/// Packets left out of a slice: before its first row and after its last.
#[derive(Clone, Copy, Debug, Default)]
struct Cut {
    before: usize,
    after: usize,
}

impl Cut {
    fn before_note(self) -> Option<String> {
        (self.before > 0).then(|| format!("… {} earlier packets not drawn", self.before))
    }
    fn after_note(self) -> Option<String> {
        (self.after > 0).then(|| format!("… {} later packets not drawn", self.after))
    }
}

// --- Mermaid ----------------------------------------------------------------------------

/// Escape text for a Mermaid label: characters Mermaid reads as syntax (`;` ends a
/// statement, `#` starts an entity, `:` separates the message, `%` starts a comment,
/// `<>` are HTML, quotes and braces) become entity codes `#NN;`; control characters are
/// dropped into visible escapes first.
pub fn mermaid_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in explain::clean(s).chars() {
        match c {
            ';' | '#' | ':' | '%' | '<' | '>' | '"' | '{' | '}' | '&' | '\\' | '`' => {
                out.push_str(&format!("#{};", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

fn mermaid(c: &Connection, rows: &[Row<'_>], cut: Cut) -> String {
    let mut o = String::from("sequenceDiagram\n");
    o.push_str(&format!(
        "    participant C as Client {}\n",
        mermaid_escape(&c.client.to_string())
    ));
    o.push_str(&format!(
        "    participant S as Server {}\n",
        mermaid_escape(&c.server.to_string())
    ));
    o.push_str("    %% solid arrows carry data, SYN, FIN or RST; dashed arrows are pure ACKs\n");
    let note = |d: Dir, text: &str| match d {
        Dir::Client => format!("    Note left of C: {}\n", mermaid_escape(text)),
        Dir::Server => format!("    Note right of S: {}\n", mermaid_escape(text)),
    };
    if rows.is_empty() {
        o.push_str("    Note over C,S: no packet to draw (the handshake was not captured)\n");
    }
    let cut_note = |n: Option<String>| {
        n.map(|n| format!("    Note over C,S: {}\n", mermaid_escape(&n)))
            .unwrap_or_default()
    };
    o.push_str(&cut_note(cut.before_note()));
    for r in rows {
        for (d, s) in &r.before {
            o.push_str(&note(*d, s));
        }
        let p = r.p;
        let (a, b) = match p.dir {
            Dir::Client => ("C", "S"),
            Dir::Server => ("S", "C"),
        };
        let f = p.flags;
        let arrow = if p.len > 0 || f.syn() || f.fin() || f.rst() {
            "->>"
        } else {
            "-->>"
        };
        o.push_str(&format!(
            "    {a}{arrow}{b}: {}\n",
            mermaid_escape(&format!("{} (+{:.6} s)", r.label, r.t))
        ));
        for (d, s) in &r.after {
            o.push_str(&note(*d, s));
        }
        if !r.flags.is_empty() {
            o.push_str(&format!(
                "    Note over C,S: {}\n",
                mermaid_escape(&format!("⚠ {}", r.flags.join(", ")))
            ));
        }
    }
    o.push_str(&cut_note(cut.after_note()));
    o
}

// --- ASCII ------------------------------------------------------------------------------

/// Plain ASCII: the resend marker `↺67` becomes `re:67`, `…` becomes `...`, `→` `->`,
/// `×` `x`, and anything
/// else non-ASCII `?` (labels and notes are ASCII otherwise).
fn ascii_only(s: &str) -> String {
    let mut out = String::new();
    for c in explain::clean(s).chars() {
        match c {
            '↺' => out.push_str("re:"),
            '…' => out.push_str("..."),
            '→' => out.push_str("->"),
            '×' => out.push('x'),
            c if c.is_ascii() => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

const TIME_W: usize = 11;
const NOTE_W: usize = 13;

fn ascii(c: &Connection, rows: &[Row<'_>], cut: Cut) -> String {
    let inner = rows
        .iter()
        .map(|r| r.label.len() + 8)
        .chain(rows.iter().map(|r| r.flags.join(", ").len() + 6))
        .max()
        .unwrap_or(0)
        .max(36);
    let mut o = ascii_heading(c, inner);
    let pad = " ".repeat(TIME_W + NOTE_W);
    let blank = format!("{pad}|{}|", " ".repeat(inner));
    o.push_str(&blank);
    o.push('\n');
    if rows.is_empty() {
        let msg = "(no packet: the handshake was not captured)";
        o.push_str(&format!("{pad}|  {msg:<w$}|\n", w = inner - 2));
    }
    let cut_line = |n: Option<String>| {
        n.map(|n| {
            format!(
                "{pad}|  {:<w$}|\n",
                ascii_only(&n.replace('…', "...")),
                w = inner - 2
            )
        })
        .unwrap_or_default()
    };
    o.push_str(&cut_line(cut.before_note()));
    for r in rows {
        if let Some(l) = ascii_notes(&r.before, inner) {
            o.push_str(&l);
            o.push('\n');
        }
        o.push_str(&format!(
            "{:>tw$}{:nw$}|{}|\n",
            format!("{:.6}", r.t),
            "",
            ascii_arrow(r, inner),
            tw = TIME_W - 1,
            nw = NOTE_W + 1
        ));
        if let Some(l) = ascii_notes(&r.after, inner) {
            o.push_str(&l);
            o.push('\n');
        }
        if !r.flags.is_empty() {
            let f = ascii_only(&format!("!! {}", r.flags.join(", ")));
            o.push_str(&format!("{pad}|  {f:<w$}|\n", w = inner - 2));
        }
    }
    o.push_str(&cut_line(cut.after_note()));
    o.push_str(&blank);
    o.push('\n');
    o
}

/// The heading line: the endpoints centred on their lifelines, `inner` apart.
fn ascii_heading(c: &Connection, inner: usize) -> String {
    let client = ascii_only(&format!("client {}", c.client));
    let server = ascii_only(&format!("server {}", c.server));
    let left_col = TIME_W + NOTE_W;
    let right_col = left_col + inner + 1;
    let mut head = format!("{:<w$}", "time (s)", w = TIME_W);
    let cl = left_col.saturating_sub(client.len() / 2);
    head.push_str(&" ".repeat(cl.saturating_sub(head.len())));
    head.push_str(&client);
    let sl = right_col
        .saturating_sub(server.len() / 2)
        .max(head.len() + 2);
    head.push_str(&" ".repeat(sl - head.len()));
    head.push_str(&server);
    let mut o = head.trim_end().to_string();
    o.push('\n');
    o
}

/// State notes beside the lifelines: the client's on the left, the server's on the right.
fn ascii_notes(notes: &[(Dir, String)], inner: usize) -> Option<String> {
    if notes.is_empty() {
        return None;
    }
    let side = |dir: Dir| -> Vec<&str> {
        notes
            .iter()
            .filter(|(d, _)| *d == dir)
            .map(|(_, s)| s.as_str())
            .collect()
    };
    let line = format!(
        "{:>tw$}{:>nw$}|{}|  {}",
        "",
        format!("{} ", side(Dir::Client).join(" ")),
        " ".repeat(inner),
        side(Dir::Server).join(" "),
        tw = TIME_W,
        nw = NOTE_W
    );
    Some(line.trim_end().to_string())
}

/// The segment's arrow between the lifelines, its label inside.
fn ascii_arrow(r: &Row<'_>, inner: usize) -> String {
    let body = format!(" {} ", ascii_only(&r.label));
    let dashes = inner.saturating_sub(body.len() + 1);
    let lead = 2.min(dashes);
    match r.p.dir {
        Dir::Client => format!("{}{body}{}>", "-".repeat(lead), "-".repeat(dashes - lead)),
        Dir::Server => format!("<{}{body}{}", "-".repeat(dashes - lead), "-".repeat(lead)),
    }
}

// --- SVG --------------------------------------------------------------------------------

/// Escape text for XML content and attributes.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in explain::clean(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

const XL: u32 = 260;
const XR: u32 = 760;
const W: u32 = 960;
const TOP: u32 = 70;
const STEP: u32 = 34;
const SLOPE: u32 = 12;

fn svg(c: &Connection, rows: &[Row<'_>], cut: Cut) -> String {
    let extra: u32 = rows.iter().map(|r| u32::from(!r.flags.is_empty())).sum();
    let notes = u32::from(cut.before > 0) + u32::from(cut.after > 0);
    let h = TOP + STEP * (rows.len() as u32 + extra + notes) + 40;
    let mut o = svg_head(c, h);
    let mut y = TOP;
    let note = |n: Option<String>, y: &mut u32, o: &mut String| {
        if let Some(n) = n {
            o.push_str(&format!(
                "  <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\" font-style=\"italic\">{}</text>\n",
                (XL + XR) / 2,
                *y + 4,
                xml_escape(&n)
            ));
            *y += STEP;
        }
    };
    note(cut.before_note(), &mut y, &mut o);
    for r in rows {
        y = svg_row(r, y, &mut o);
    }
    note(cut.after_note(), &mut y, &mut o);
    o.push_str("</svg>\n");
    o
}

/// The document's head for an image `h` high: title, arrow marker, the endpoints and
/// their lifelines.
fn svg_head(c: &Connection, h: u32) -> String {
    let mut o = String::new();
    o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    o.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\" font-family=\"monospace\" font-size=\"12\">\n"
    ));
    o.push_str(&format!(
        "  <title>{}</title>\n",
        xml_escape(&format!(
            "TCP connection {}: {} to {}",
            c.id, c.client, c.server
        ))
    ));
    o.push_str("  <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"black\"/></marker></defs>\n");
    o.push_str("  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    for (x, name, ep) in [(XL, "Client", &c.client), (XR, "Server", &c.server)] {
        o.push_str(&format!(
            "  <text x=\"{x}\" y=\"24\" text-anchor=\"middle\" font-weight=\"bold\">{name}</text>\n  <text x=\"{x}\" y=\"40\" text-anchor=\"middle\">{}</text>\n",
            xml_escape(&ep.to_string())
        ));
        o.push_str(&format!(
            "  <line x1=\"{x}\" y1=\"50\" x2=\"{x}\" y2=\"{}\" stroke=\"black\" stroke-width=\"2\"/>\n",
            h - 20
        ));
    }
    o.push_str("  <text x=\"10\" y=\"60\" fill=\"#555\">time (s)</text>\n");
    o
}

/// One segment at height `y`: time, arrow, label, state notes, flags; the next row's `y`.
fn svg_row(r: &Row<'_>, mut y: u32, o: &mut String) -> u32 {
    let (x1, x2) = match r.p.dir {
        Dir::Client => (XL, XR),
        Dir::Server => (XR, XL),
    };
    let colour = if r.flags.is_empty() {
        "black"
    } else {
        "#c00000"
    };
    o.push_str(&format!(
        "  <text x=\"10\" y=\"{}\" fill=\"#555\">{:.6}</text>\n",
        y + 4,
        r.t
    ));
    o.push_str(&format!(
        "  <line x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{}\" stroke=\"{colour}\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>\n",
        y + SLOPE
    ));
    o.push_str(&format!(
        "  <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\">{}</text>\n",
        (XL + XR) / 2,
        y + SLOPE / 2 - 4,
        xml_escape(&r.label)
    ));
    for (d, s) in r.before.iter().chain(&r.after) {
        let (x, anchor) = match d {
            Dir::Client => (XL - 8, "end"),
            Dir::Server => (XR + 8, "start"),
        };
        o.push_str(&format!(
            "  <text x=\"{x}\" y=\"{}\" text-anchor=\"{anchor}\" fill=\"#006000\">{}</text>\n",
            y + SLOPE,
            xml_escape(s)
        ));
    }
    if !r.flags.is_empty() {
        y += STEP;
        o.push_str(&format!(
            "  <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#c00000\">{}</text>\n",
            (XL + XR) / 2,
            y,
            xml_escape(&format!("⚠ {}", r.flags.join(", ")))
        ));
    }
    y + STEP
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mermaid_escapes_syntax() {
        assert_eq!(mermaid_escape("a;b#c:d"), "a#59;b#35;c#58;d");
        assert_eq!(mermaid_escape("[fd00::1]:80"), "[fd00#58;#58;1]#58;80");
    }

    #[test]
    fn xml_escapes() {
        assert_eq!(
            xml_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }
}
