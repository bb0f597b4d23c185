//! The Packets tab: the packet list, the selected frame's header tree and hex dump
//! (the selected field's bytes highlighted), and what the packet does in plain words.

use crate::decode::tree::Field;
use crate::escape::escape;
use crate::explain::{ConnFacts, flag_marker};
use crate::flow::Dir;
use crate::tcp::PacketRecord;
use crate::ui::app::App;
use crate::ui::layout;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// A packet's arrow or row: its side's colour, the anomaly style if a flag fired,
/// reversed when selected.
pub(super) fn packet_style(th: Theme, p: &PacketRecord, selected: bool) -> Style {
    let st = if p.analysis.is_empty() {
        th.side(p.dir)
    } else {
        th.anomaly()
    };
    if selected {
        st.add_modifier(Modifier::REVERSED)
    } else {
        st
    }
}

/// The packet list's columns at a width: which of ack, len, win are shown and whether
/// flags are words, dropped in the fixed order win, len, ack, then flag words → letters.
#[derive(Clone, Copy)]
struct Cols {
    time: usize,
    flag_words: bool,
    ack: bool,
    len: bool,
    win: bool,
}

impl Cols {
    fn fit(width: usize, time: usize) -> Cols {
        let mut c = Cols {
            time,
            flag_words: true,
            ack: true,
            len: true,
            win: true,
        };
        // The analysis column needs at least a `⚠`.
        let need = |c: &Cols| {
            6 + 1
                + c.time
                + 1
                + 3
                + 1
                + if c.flag_words { 14 } else { 6 }
                + 1
                + 10
                + if c.ack { 11 } else { 0 }
                + if c.len { 6 } else { 0 }
                + if c.win { 8 } else { 0 }
                + 2
        };
        for step in 0..4 {
            if need(&c) <= width {
                break;
            }
            match step {
                0 => c.win = false,
                1 => c.len = false,
                2 => c.ack = false,
                _ => c.flag_words = false,
            }
        }
        c
    }

    fn line(&self, cells: [&str; 8]) -> String {
        let [frame, time, dir, flags, seq, ack, len, win] = cells;
        let fw = if self.flag_words { 14 } else { 6 };
        let mut s = format!(
            "{frame:>6} {time:>tw$} {dir:<3} {flags:<fw$} {seq:>10}",
            tw = self.time
        );
        if self.ack {
            s.push_str(&format!(" {ack:>10}"));
        }
        if self.len {
            s.push_str(&format!(" {len:>5}"));
        }
        if self.win {
            s.push_str(&format!(" {win:>7}"));
        }
        s
    }
}

fn packet_row(p: &PacketRecord, time: &str, cols: &Cols, width: usize) -> String {
    let flags = p.flags.to_string();
    let flags = if cols.flag_words {
        flags
    } else {
        crate::ui::fit::flag_letters(&flags)
    };
    let mut s = cols.line([
        &p.frame.to_string(),
        time,
        if p.dir == Dir::Client {
            "C→S"
        } else {
            "S→C"
        },
        &flags,
        &p.seq.to_string(),
        &p.ack.to_string(),
        &p.len.to_string(),
        &p.window_scaled.unwrap_or(u64::from(p.window)).to_string(),
    ]);
    if let Some(m) = flag_marker(p) {
        let room = width.saturating_sub(crate::ui::fit::width(&s) + 1);
        let m = crate::ui::fit::cut_words(&format!("⚠ {m}"), room);
        if !m.is_empty() {
            s.push(' ');
            s.push_str(&m);
        }
    }
    s
}

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let list_rows = layout::packets_list_rows(app.size.1)
        .min(usize::from(area.height.saturating_sub(4)).max(1));
    let [list_a, detail_a, expl_a] = Layout::vertical([
        Constraint::Length(list_rows as u16 + 1),
        Constraint::Min(4),
        Constraint::Length(if area.height >= 30 { 9 } else { 6 }),
    ])
    .areas(area);
    render_list(f, app, th, list_a, list_rows);
    let Some(p) = app.visible_packets().get(app.conn_view.pkt_sel) else {
        return;
    };
    render_detail(f, app, th, detail_a);
    render_explanation(f, app, th, expl_a, p.frame);
}

/// The packet list: a header row and the packets as of the playhead.
fn render_list(f: &mut Frame, app: &App, th: Theme, area: Rect, list_rows: usize) {
    let pk = app.visible_packets();
    let off = app.conn_view.pkt_offset.min(pk.len().saturating_sub(1));
    // Times of the revealed packets, each with the digits that tell it from its neighbours.
    let ts: Vec<i64> = pk.iter().map(|p| p.ts.0).collect();
    let end = (off + list_rows).min(pk.len());
    let times = crate::ui::fit::rel_times(&ts, off..end);
    let tw = times.iter().map(|t| t.len()).max().unwrap_or(0).max(4);
    let width = usize::from(area.width);
    let cols = Cols::fit(width, tw);
    let mut head = cols.line(["frame", "time", "dir", "flags", "seq", "ack", "len", "win"]);
    head.push_str(" analysis");
    let mut lines = vec![Line::styled(
        crate::ui::fit::cut_words(&head, width),
        th.header(),
    )];
    for (k, i) in (off..end).enumerate() {
        let p = &pk[i];
        lines.push(Line::styled(
            packet_row(p, &times[k], &cols, width),
            packet_style(th, p, i == app.conn_view.pkt_sel),
        ));
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// The selected frame's header tree and hex dump, the selected field highlighted in both.
fn render_detail(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let note = |text: String| {
        vec![Field {
            depth: 0,
            text,
            range: None,
        }]
    };
    let (tree, data): (Vec<Field>, Option<&[u8]>) = match app.selected_frame_bytes() {
        Some(Ok(fb)) => (app.tree(), Some(&fb.data[..])),
        Some(Err(e)) => (note(escape(&e.msg)), None),
        _ => (note("reading the frame from the file…".into()), None),
    };
    let fsel = app.current_field().min(tree.len().saturating_sub(1));
    let range = tree.get(fsel).and_then(|x| x.range);
    let bpl: usize = if area.width >= 110 { 16 } else { 8 };
    let hex_w = (5 + bpl * 3 + 1 + bpl) as u16 + 2;
    let [tree_a, hex_a] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(hex_w)]).areas(area);
    render_tree(f, th, tree_a, &tree, fsel);
    if let Some(data) = data {
        render_hex(f, th, hex_a, data, bpl, range);
    }
}

/// The header tree, scrolled to keep field `fsel` in view.
fn render_tree(f: &mut Frame, th: Theme, area: Rect, tree: &[Field], fsel: usize) {
    let th_rows = usize::from(area.height.saturating_sub(2)).max(1);
    let toff = fsel
        .saturating_sub(1)
        .min(tree.len().saturating_sub(th_rows));
    let tlines: Vec<Line> = tree
        .iter()
        .enumerate()
        .skip(toff)
        .take(th_rows)
        .map(|(i, x)| {
            let indent = "  ".repeat(usize::from(x.depth));
            let room = usize::from(area.width.saturating_sub(2)).saturating_sub(indent.len());
            let s = format!("{indent}{}", crate::ui::fit::fit_name_value(&x.text, room));
            if i == fsel {
                Line::styled(s, th.highlight())
            } else {
                Line::raw(s)
            }
        })
        .collect();
    f.render_widget(
        Paragraph::new(tlines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" headers ([ ] select field) "),
        ),
        area,
    );
}

/// The hex dump, `bpl` bytes a line, the bytes of `range` (start, length) highlighted.
fn render_hex(
    f: &mut Frame,
    th: Theme,
    area: Rect,
    data: &[u8],
    bpl: usize,
    range: Option<(usize, usize)>,
) {
    let hrows = usize::from(area.height.saturating_sub(2)).max(1);
    let first_line = range.map_or(0, |(s, _)| s / bpl);
    let hoff = first_line.saturating_sub(hrows / 3);
    let mut hl = Vec::new();
    for (li, chunk) in data.chunks(bpl).enumerate().skip(hoff).take(hrows) {
        let base = li * bpl;
        let mut spans = vec![Span::styled(format!("{base:04x} "), th.dim())];
        for (k, b) in chunk.iter().enumerate() {
            let inr = range.is_some_and(|(s, l)| base + k >= s && base + k < s + l);
            let st = if inr {
                th.highlight()
            } else {
                Style::default()
            };
            spans.push(Span::styled(format!("{b:02x}"), st));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::raw("   ".repeat(bpl - chunk.len())));
        spans.push(Span::styled(super::ascii_column(chunk), th.dim()));
        hl.push(Line::from(spans));
    }
    f.render_widget(
        Paragraph::new(hl).block(Block::default().borders(Borders::ALL).title(" bytes ")),
        area,
    );
}

/// What the selected packet (frame `frame`) does, in plain words.
pub(super) fn render_explanation(f: &mut Frame, app: &App, th: Theme, area: Rect, frame: u64) {
    let facts = app
        .conn()
        .map_or_else(|| ConnFacts::bare(app.packets()), ConnFacts::of);
    let text: Vec<Line> = crate::explain::packet(&facts, app.conn_view.pkt_sel)
        .into_iter()
        .map(|s| {
            if s.starts_with('⚠') {
                Line::styled(s, th.anomaly())
            } else if s.contains(" → ") && s.contains("state") {
                Line::styled(s, th.state())
            } else {
                Line::raw(s)
            }
        })
        .collect();
    f.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::TOP)
                .title(format!(" frame {frame}: what it does ")),
        ),
        area,
    );
}

#[cfg(test)]
mod tests {
    //! The explanation the Packets tab shows, as the shared explain layer builds it.
    use crate::decode::TcpFlags;
    use crate::explain::explain_packet;
    use crate::flow::Dir;
    use crate::tcp::state::TcpState;

    use crate::tcp::test_record as rec;

    #[test]
    fn syn_ack_arithmetic() {
        let p = crate::tcp::test_handshake();
        let t = explain_packet(&p, 1).join("\n");
        assert!(
            t.contains("ACK 1 = client ISN + 1: a SYN counts as one byte"),
            "{t}"
        );
        assert!(t.contains("client state: SYN-SENT → ESTABLISHED"), "{t}");
        let t = explain_packet(&p, 2).join("\n");
        assert!(t.contains("ACK 1 = server ISN + 1"), "{t}");
        assert!(t.contains("completes the three-way handshake"), "{t}");
        assert!(
            t.contains("server state: SYN-RECEIVED → ESTABLISHED"),
            "{t}"
        );
    }

    #[test]
    fn fin_ack_arithmetic() {
        use TcpState::*;
        let p = vec![
            rec(
                Dir::Client,
                TcpFlags::FIN | TcpFlags::ACK,
                79,
                306,
                0,
                (FinWait1, CloseWait),
            ),
            rec(
                Dir::Server,
                TcpFlags::FIN | TcpFlags::ACK,
                306,
                80,
                0,
                (TimeWait, LastAck),
            ),
        ];
        let t = explain_packet(&p, 1).join("\n");
        assert!(
            t.contains("ACK 80 = the client's FIN seq 79 + 0 data bytes + 1"),
            "{t}"
        );
        assert!(
            t.contains("server will acknowledge") || t.contains("client will acknowledge 307"),
            "{t}"
        );
    }

    #[test]
    fn data_segment() {
        use TcpState::*;
        let p = vec![rec(
            Dir::Client,
            TcpFlags::ACK | TcpFlags::PSH,
            1,
            1,
            78,
            (Established, Established),
        )];
        let t = explain_packet(&p, 0).join("\n");
        assert!(t.contains("Carries 78 data bytes, seq 1..78"), "{t}");
        assert!(t.contains("1 + 78 = 79"), "{t}");
    }
}
