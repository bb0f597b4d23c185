//! Drawing: every view reads `&App` and writes to a ratatui `Frame`; nothing here
//! changes state. Lists build widgets only for the rows on screen, so a table of
//! 100,000 connections costs the same to draw as one of 20.
//!
//! Every string that comes from capture data passes through `escape` first.

use crate::analyze::Connection;
use crate::explain::ConnFacts;
use crate::flow::Dir;
use crate::http::Exchange;
use crate::tcp::PacketRecord;
use crate::tcp::handshake::Outcome;
use crate::tcp::state::{TcpState, Transition};
use crate::ui::app::{
    App, SPEEDS, Screen, Tab, http_list_offset, http_list_rows, packets_list_rows,
};
use crate::ui::bytes::{Field, header_tree};
use crate::ui::escape::{escape, escape_bytes, escape_multiline};
use crate::ui::explain::{arrow_label, flag_marker, states_before};
use crate::ui::model::{Column, app_name, fmt_delta, fmt_ms, states_at};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Cell, Clear, Gauge, Paragraph, Row, Table, Wrap};

pub fn render(f: &mut Frame, app: &App) {
    let area = f.area();
    let th = Theme { color: app.color };
    if area.width < 20 || area.height < 5 {
        f.render_widget(Paragraph::new("terminal too small"), area);
        return;
    }
    let [title, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_title(f, app, th, title);
    match (&app.data, &app.error) {
        (_, Some(e)) => f.render_widget(
            Paragraph::new(format!(
                "cannot load {}: {}",
                escape(&app.source),
                escape(e)
            ))
            .style(th.anomaly())
            .wrap(Wrap { trim: false }),
            body,
        ),
        (None, None) => render_loading(f, app, th, body),
        (Some(_), None) => match app.screen {
            Screen::Connections => render_connections(f, app, th, body),
            Screen::Connection => match app.tab {
                Tab::Ladder => render_ladder(f, app, th, body),
                Tab::Packets => render_packets(f, app, th, body),
                Tab::States => render_states(f, app, th, body),
                Tab::Http => render_http(f, app, th, body),
                Tab::Stream => render_stream(f, app, th, body),
            },
        },
    }
    render_status(f, app, th, status);
    crate::ui::quiz::render(f, app, th, body);
    if app.help {
        render_help(f, th, area);
    }
}

fn render_title(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let mut spans = vec![Span::styled(" tcpscope ", th.title())];
    match (app.screen, app.conn()) {
        (Screen::Connection, Some(c)) => {
            // Narrow terminals: the tabs matter more than the endpoints.
            if area.width >= 100 {
                spans.push(Span::raw(format!(
                    " #{} {} → {} ",
                    c.id, c.client, c.server
                )));
            } else {
                spans.push(Span::raw(format!(" #{} ", c.id)));
            }
            for t in Tab::ALL {
                let s = if t == app.tab {
                    th.selected()
                } else {
                    Style::default()
                };
                spans.push(Span::raw(" "));
                spans.push(Span::styled(format!(" {} ", t.title()), s));
            }
        }
        _ => {
            spans.push(Span::raw(format!(" {} ", escape(&app.source))));
            if let Some(d) = &app.data {
                spans.push(Span::raw(format!(
                    "│ {} of {} connections │ sort: {} {} ",
                    app.visible.len(),
                    d.conns.len(),
                    app.sort.title(),
                    if app.sort_rev { "↓" } else { "↑" }
                )));
            }
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_loading(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let p = app.loading.unwrap_or_default();
    let [_, g, t] = Layout::vertical([
        Constraint::Length(area.height / 3),
        Constraint::Length(1),
        Constraint::Length(2),
    ])
    .areas(area);
    let label = format!(
        "loading: {:.1} MB{}, {} packets, {:.0} packets/s",
        p.bytes as f64 / 1e6,
        p.total
            .map_or(String::new(), |t| format!(" of {:.1} MB", t as f64 / 1e6)),
        p.packets,
        p.rate_pps()
    );
    match p.ratio() {
        Some(ratio) => f.render_widget(
            Gauge::default()
                .gauge_style(th.client())
                .ratio(ratio)
                .label(format!("{:.0}%", ratio * 100.0)),
            g.inner(ratatui::layout::Margin::new(2, 0)),
        ),
        // Standard input: no size to measure against. Connections appear as they finish.
        None => f.render_widget(
            Paragraph::new("reading the capture as it arrives; connections appear as they finish")
                .style(th.dim())
                .centered(),
            g,
        ),
    }
    f.render_widget(Paragraph::new(label).centered(), t);
}

/// Columns shown at a width (fewer in presenter mode).
pub fn columns_for(width: u16, present: bool) -> Vec<Column> {
    use Column::*;
    if present {
        return vec![Id, Client, Server, ClientState, ServerState, Http];
    }
    if width >= 140 {
        Column::ALL.to_vec()
    } else if width >= 110 {
        vec![
            Id,
            Client,
            Server,
            App,
            ClientState,
            ServerState,
            Handshake,
            Packets,
            Http,
            Anomalies,
        ]
    } else {
        vec![
            Id,
            Client,
            Server,
            ClientState,
            ServerState,
            Packets,
            Http,
            Anomalies,
        ]
    }
}

/// `id_digits`: digits of the largest connection id, so six-digit ids are not cut.
fn col_width(c: Column, id_digits: u16) -> Constraint {
    match c {
        Column::Id => Constraint::Length(id_digits.max(4) + 1),
        Column::Client | Column::Server => Constraint::Fill(1),
        Column::App => Constraint::Length(4),
        Column::ConnState => Constraint::Length(6),
        Column::ClientState | Column::ServerState => Constraint::Length(12),
        Column::Handshake => Constraint::Length(22),
        Column::Packets => Constraint::Length(6),
        Column::Bytes => Constraint::Length(9),
        Column::Http => Constraint::Length(4),
        Column::Anomalies => Constraint::Length(3),
    }
}

fn conn_cell(app: &App, i: usize, col: Column, th: Theme) -> Cell<'static> {
    let Some(d) = &app.data else {
        return Cell::from("");
    };
    let c = &d.conns[i];
    let r = &d.rows[i];
    let (cs, ss) = states_at(c, app.playhead);
    match col {
        Column::Id => Cell::from(c.id.to_string()),
        Column::Client => Cell::from(r.client.clone()).style(th.client()),
        Column::Server => Cell::from(r.server.clone()).style(th.server()),
        Column::App => Cell::from(app_name(c.app)),
        Column::ConnState => Cell::from(c.summary.as_ref().map_or("", |s| s.conn_state)),
        Column::ClientState => Cell::from(cs.name()),
        Column::ServerState => Cell::from(ss.name()),
        Column::Handshake => Cell::from(match r.irtt_ms {
            Some(ms) => format!("{} {}", r.outcome, fmt_ms(ms)),
            None => r.outcome.to_string(),
        }),
        Column::Packets => Cell::from(r.packets.to_string()),
        Column::Bytes => Cell::from(r.bytes.to_string()),
        Column::Http => Cell::from(if r.http > 0 {
            r.http.to_string()
        } else {
            String::new()
        }),
        Column::Anomalies => {
            if r.anomalies > 0 {
                Cell::from("⚠").style(th.anomaly())
            } else {
                Cell::from("")
            }
        }
    }
}

fn render_connections(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(d) = &app.data else { return };
    let cols = columns_for(area.width, app.present);
    let rows_avail = usize::from(area.height.saturating_sub(1));
    let offset = app.offset.min(app.visible.len().saturating_sub(1));
    let end = (offset + rows_avail).min(app.visible.len());
    let header = Row::new(cols.iter().map(|c| {
        let mut t = c.title().to_string();
        if *c == app.sort {
            t.push(if app.sort_rev { '↓' } else { '↑' });
        }
        Cell::from(t)
    }))
    .style(th.header());
    let rows: Vec<Row> = (offset..end)
        .map(|vi| {
            let i = app.visible[vi];
            let c = &d.conns[i];
            let hidden = app.playhead.is_some_and(|f| c.first_frame > f);
            let mut row = Row::new(cols.iter().map(|col| conn_cell(app, i, *col, th)));
            if hidden {
                row = row.style(th.dim());
            }
            if vi == app.sel {
                row = row.style(th.selected());
            }
            row
        })
        .collect();
    let id_digits = app
        .data
        .as_ref()
        .and_then(|d| d.conns.last())
        .map_or(1, |c| c.id.to_string().len() as u16);
    let widths: Vec<Constraint> = cols.iter().map(|c| col_width(*c, id_digits)).collect();
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
    if app.visible.is_empty() {
        let msg = if d.conns.is_empty() {
            "no TCP connections in this capture".to_string()
        } else {
            format!("no connection matches \"{}\"", escape(&app.filter))
        };
        let a = Rect {
            y: area.y + 2,
            height: 1,
            ..area
        };
        f.render_widget(Paragraph::new(msg).centered(), a);
    }
}

// --- Ladder ---------------------------------------------------------------------------

struct LadderGeom {
    time: u16,
    state: u16,
    arrow: u16,
    bracket: u16,
}

fn ladder_geom(w: u16) -> LadderGeom {
    let time = if w >= 100 { 20 } else { 16 };
    let state = 12;
    let bracket = if w >= 100 { 14 } else { 2 };
    let arrow = w.saturating_sub(time + 2 * state + 4 + bracket).max(8);
    LadderGeom {
        time,
        state,
        arrow,
        bracket,
    }
}

fn pad(s: &str, w: usize, right: bool) -> String {
    let n = s.chars().count();
    if n >= w {
        s.chars().take(w).collect()
    } else if right {
        format!("{}{s}", " ".repeat(w - n))
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

/// The arrow for one segment, `w` cells wide.
pub fn arrow_text(p: &PacketRecord, w: usize) -> String {
    let mut label = arrow_label(p);
    if let Some(m) = flag_marker(p) {
        // The marker first: it is what the eye should catch when space runs out.
        label = format!("⚠ {m} {label}");
    }
    let inner = w.saturating_sub(2);
    let label: String = label.chars().take(inner.saturating_sub(2)).collect();
    let n = label.chars().count();
    let dashes = inner.saturating_sub(n + 2);
    let left = dashes / 2;
    let right = dashes - left;
    let body = format!("{} {label} {}", "─".repeat(left), "─".repeat(right));
    match p.dir {
        Dir::Client => format!("─{body}▶"),
        Dir::Server => format!("◀{body}─"),
    }
}

fn render_ladder(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(c) = app.conn() else { return };
    let all = app.packets();
    let pk = app.visible_packets();
    let g = ladder_geom(area.width);
    let mut lines: Vec<Line> = Vec::new();
    // Header: endpoints above their lifelines.
    let cname = c.client.to_string();
    let left_w = usize::from(g.time + 1 + g.state + 1);
    let mut head = vec![Span::styled("time", th.header())];
    head.push(Span::styled(
        pad(&cname, left_w.saturating_sub(4), true),
        th.client(),
    ));
    head.push(Span::raw(pad("", usize::from(g.arrow), false)));
    head.push(Span::styled(
        pad(&c.server.to_string(), usize::from(g.state) + 2, false),
        th.server(),
    ));
    if pk.is_empty() && !all.is_empty() {
        lines.push(Line::from(head));
        lines.push(Line::from(
            "(the playhead is before this connection's first packet: press Space)",
        ));
        f.render_widget(Paragraph::new(lines), area);
        return;
    }
    lines.push(Line::from(head));
    if all.is_empty() {
        lines.push(Line::from(
            "no packet records were kept for this connection",
        ));
        f.render_widget(Paragraph::new(lines), area);
        return;
    }
    let hs = c.summary.as_ref().map(|s| &s.handshake);
    let (syn_f, ack_f) = (
        hs.and_then(|h| h.syns.last().map(|a| a.frame)),
        hs.and_then(|h| {
            h.ack_frame
                .or(h.syn_ack_frame.filter(|_| h.outcome == Outcome::Refused))
        }),
    );
    let irtt = hs.and_then(|h| h.irtt_ms);
    let t0 = all[0].ts;
    let rows = usize::from(area.height.saturating_sub(1));
    let per = if app.present { 2 } else { 1 };
    let count = (rows / per).max(1);
    let offset = app.pkt_offset.min(pk.len().saturating_sub(1));
    for i in offset..(offset + count).min(pk.len()) {
        let p = &pk[i];
        let (bc, bs) = states_before(all, i);
        let (ac, as_) = p.states_after;
        let prev_ts = if i == 0 { p.ts } else { pk[i - 1].ts };
        let rel = p.ts.secs_since(t0);
        let time = if g.time >= 20 {
            format!("{rel:>10.6} {:>8}", fmt_delta(p.ts.0 - prev_ts.0))
        } else {
            format!("{rel:>8.4} {:>7}", fmt_delta(p.ts.0 - prev_ts.0))
        };
        let mut spans = vec![
            Span::styled(pad(&time, usize::from(g.time), false), th.dim()),
            Span::raw(" "),
        ];
        let cst = if ac != bc || i == 0 { ac.name() } else { "" };
        let sst = if as_ != bs || i == 0 { as_.name() } else { "" };
        spans.push(Span::styled(
            pad(cst, usize::from(g.state), true),
            th.state(),
        ));
        spans.push(Span::styled("│", th.client()));
        let st = packet_style(th, p, i == app.pkt_sel);
        spans.push(Span::styled(arrow_text(p, usize::from(g.arrow)), st));
        spans.push(Span::styled("│", th.server()));
        spans.push(Span::styled(
            pad(sst, usize::from(g.state) + 1, false),
            th.state(),
        ));
        // iRTT bracket from the (last) SYN to the ACK that completed the handshake.
        if let (Some(sf), Some(af)) = (syn_f, ack_f) {
            let b = if p.frame == sf {
                Some("┐".to_string())
            } else if p.frame == af {
                Some(format!("┘ iRTT {}", irtt.map_or(String::new(), fmt_ms)))
            } else if p.frame > sf && p.frame < af {
                Some("│".to_string())
            } else {
                None
            };
            if let Some(b) = b {
                let b: String = if g.bracket >= 10 {
                    b
                } else {
                    b.chars().take(1).collect()
                };
                spans.push(Span::styled(format!(" {b}"), th.warn()));
            }
        }
        lines.push(Line::from(spans));
        if app.present {
            lines.push(Line::from(vec![
                Span::raw(" ".repeat(usize::from(g.time + 1 + g.state))),
                Span::styled("│", th.client()),
                Span::raw(" ".repeat(usize::from(g.arrow))),
                Span::styled("│", th.server()),
            ]));
        }
    }
    f.render_widget(Paragraph::new(lines), area);
}

// --- Packets --------------------------------------------------------------------------

/// A packet's arrow or row: its side's colour, the anomaly style if a flag fired,
/// reversed when selected.
fn packet_style(th: Theme, p: &PacketRecord, selected: bool) -> Style {
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

fn packet_row(p: &PacketRecord, t0: crate::ts::Ts) -> String {
    let mut s = format!(
        "{:>6} {:>10.6} {} {:<14} {:>10} {:>10} {:>5} {:>7}",
        p.frame,
        p.ts.secs_since(t0),
        if p.dir == Dir::Client {
            "C→S"
        } else {
            "S→C"
        },
        p.flags.to_string(),
        p.seq,
        p.ack,
        p.len,
        p.window_scaled.unwrap_or(u64::from(p.window)),
    );
    if let Some(m) = flag_marker(p) {
        s.push(' ');
        s.push_str(&m);
    }
    s
}

fn render_packets(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let all = app.packets();
    let pk = app.visible_packets();
    let list_rows =
        packets_list_rows(app.size.1).min(usize::from(area.height.saturating_sub(4)).max(1));
    let [list_a, detail_a, expl_a] = Layout::vertical([
        Constraint::Length(list_rows as u16 + 1),
        Constraint::Min(4),
        Constraint::Length(if area.height >= 30 { 9 } else { 6 }),
    ])
    .areas(area);
    let t0 = all.first().map_or(crate::ts::Ts(0), |p| p.ts);
    let mut lines = vec![Line::styled(
        format!(
            "{:>6} {:>10} {} {:<14} {:>10} {:>10} {:>5} {:>7} analysis",
            "frame", "time", "dir", "flags", "seq", "ack", "len", "win"
        ),
        th.header(),
    )];
    let off = app.pkt_offset.min(pk.len().saturating_sub(1));
    for (i, p) in pk.iter().enumerate().skip(off).take(list_rows) {
        lines.push(Line::styled(
            packet_row(p, t0),
            packet_style(th, p, i == app.pkt_sel),
        ));
    }
    f.render_widget(Paragraph::new(lines), list_a);

    let Some(p) = pk.get(app.pkt_sel) else { return };
    // Header tree and hex dump.
    let (tree, data): (Vec<Field>, Option<&[u8]>) = match app.selected_frame_bytes() {
        Some(Ok(fb)) => (header_tree(fb), Some(&fb.data[..])),
        Some(Err(e)) => (
            vec![Field {
                depth: 0,
                text: escape(&e.msg),
                range: None,
            }],
            None,
        ),
        _ => (
            vec![Field {
                depth: 0,
                text: "reading the frame from the file…".into(),
                range: None,
            }],
            None,
        ),
    };
    let fsel = app.current_field().min(tree.len().saturating_sub(1));
    let range = tree.get(fsel).and_then(|x| x.range);
    let bpl: usize = if detail_a.width >= 110 { 16 } else { 8 };
    let hex_w = (5 + bpl * 3 + 1 + bpl) as u16 + 2;
    let [tree_a, hex_a] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(hex_w)]).areas(detail_a);
    let th_rows = usize::from(tree_a.height.saturating_sub(2)).max(1);
    let toff = fsel
        .saturating_sub(1)
        .min(tree.len().saturating_sub(th_rows));
    let tlines: Vec<Line> = tree
        .iter()
        .enumerate()
        .skip(toff)
        .take(th_rows)
        .map(|(i, x)| {
            let s = format!("{}{}", "  ".repeat(usize::from(x.depth)), x.text);
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
        tree_a,
    );
    if let Some(data) = data {
        let hrows = usize::from(hex_a.height.saturating_sub(2)).max(1);
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
            let ascii: String = chunk
                .iter()
                .map(|&b| {
                    if (0x20..0x7f).contains(&b) {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            spans.push(Span::styled(ascii, th.dim()));
            hl.push(Line::from(spans));
        }
        f.render_widget(
            Paragraph::new(hl).block(Block::default().borders(Borders::ALL).title(" bytes ")),
            hex_a,
        );
    }
    // Explanation.
    let idx = app.pkt_sel;
    let facts = app
        .conn()
        .map_or_else(|| ConnFacts::bare(all), ConnFacts::of);
    let text: Vec<Line> = crate::explain::packet(&facts, idx)
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
                .title(format!(" frame {}: what it does ", p.frame)),
        ),
        expl_a,
    );
}

// --- States ---------------------------------------------------------------------------

/// The RFC 9293 state diagram, compact. State names are located by text search; the
/// edges are the connector cells listed in [`EDGES`].
const DIAGRAM: [&str; 13] = [
    "             CLOSED",
    "           /        \\",
    "     LISTEN          SYN-SENT",
    "        |               |",
    "  SYN-RECEIVED <--------|",
    "           \\           /",
    "           ESTABLISHED",
    "          /           \\",
    "   FIN-WAIT-1        CLOSE-WAIT",
    "    |        \\           |",
    "  FIN-WAIT-2  CLOSING  LAST-ACK",
    "       \\       /         |",
    "       TIME-WAIT       CLOSED",
];

/// Rows above the States tab's transition list: each side's title, the diagram, and the
/// line for transitions the drawing has no edge for.
pub const STATES_TOP_ROWS: u16 = DIAGRAM.len() as u16 + 2;

/// The line of the second CLOSED (after LAST-ACK); the first is on line 0.
const FINAL_CLOSED_LINE: usize = 12;

/// An edge of the drawing: from, to, and its connector cells (line, column).
type Edge = (TcpState, TcpState, &'static [(usize, usize)]);

/// Each edge of the drawing.
const EDGES: &[Edge] = {
    use TcpState::*;
    &[
        (Closed, Listen, &[(1, 11)]),
        (Closed, SynSent, &[(1, 20)]),
        (Listen, SynReceived, &[(3, 8)]),
        (
            SynSent,
            SynReceived,
            &[
                (3, 24),
                (4, 24),
                (4, 23),
                (4, 22),
                (4, 21),
                (4, 20),
                (4, 19),
                (4, 18),
                (4, 17),
                (4, 16),
                (4, 15),
            ],
        ),
        (SynSent, Established, &[(3, 24), (4, 24), (5, 23)]),
        (SynReceived, Established, &[(5, 11)]),
        (Established, FinWait1, &[(7, 10)]),
        (Established, CloseWait, &[(7, 22)]),
        (FinWait1, FinWait2, &[(9, 4)]),
        (FinWait1, Closing, &[(9, 13)]),
        (CloseWait, LastAck, &[(9, 25)]),
        (FinWait2, TimeWait, &[(11, 7)]),
        (Closing, TimeWait, &[(11, 15)]),
        (LastAck, Closed, &[(11, 25)]),
    ]
};

/// The drawn edges a transition follows: its own, or for FIN-WAIT-1 → TIME-WAIT (the ACK
/// of our FIN and the peer's FIN in one segment) the ACK's edge then the FIN's, as RFC 9293
/// processes them. None: an edge the drawing leaves out (resets, timeouts, refusals).
fn drawn_path(from: TcpState, to: TcpState) -> Option<Vec<(TcpState, TcpState)>> {
    use TcpState::*;
    if EDGES.iter().any(|(a, b, _)| (*a, *b) == (from, to)) {
        return Some(vec![(from, to)]);
    }
    match (from, to) {
        (FinWait1, TimeWait) => Some(vec![(FinWait1, FinWait2), (FinWait2, TimeWait)]),
        _ => None,
    }
}

/// The heavy glyph of a connector on the path taken (it reads without colour too).
fn heavy(ch: char) -> char {
    match ch {
        '|' => '┃',
        '/' => '╱',
        '\\' => '╲',
        '-' => '━',
        '<' => '◀',
        c => c,
    }
}

/// The diagram with the path taken by `transitions` drawn heavy, the states visited in
/// the state style and `current` highlighted; then one line naming the transitions the
/// drawing has no edge for.
fn diagram_lines(transitions: &[&Transition], current: TcpState, th: Theme) -> Vec<Line<'static>> {
    let mut taken: Vec<(TcpState, TcpState)> = Vec::new();
    let mut off: Vec<String> = Vec::new();
    let mut visited = vec![TcpState::Closed];
    // Which CLOSED is the current one: the last, once LAST-ACK's edge led there.
    let mut at_final_closed = false;
    for t in transitions {
        match drawn_path(t.from, t.state) {
            Some(path) => {
                at_final_closed = path.last() == Some(&(TcpState::LastAck, TcpState::Closed));
                for (a, b) in path {
                    visited.push(b);
                    taken.push((a, b));
                }
            }
            None => {
                at_final_closed = false;
                visited.push(t.state);
                off.push(format!("{} → {} (frame {})", t.from, t.state, t.frame));
            }
        }
    }
    let heavy_cells: Vec<(usize, usize)> = EDGES
        .iter()
        .filter(|(a, b, _)| taken.contains(&(*a, *b)))
        .flat_map(|(_, _, cells)| cells.iter().copied())
        .collect();
    let final_closed_visited = taken.contains(&(TcpState::LastAck, TcpState::Closed));
    let names = TcpState::ALL;
    let mut out: Vec<Line<'static>> = DIAGRAM
        .iter()
        .enumerate()
        .map(|(y, l)| {
            let mut spans = Vec::new();
            let mut x = 0;
            let mut rest: &str = l;
            while !rest.is_empty() {
                // Longest state name starting here.
                let hit = names
                    .iter()
                    .filter(|s| rest.starts_with(s.name()))
                    .max_by_key(|s| s.name().len());
                match hit {
                    Some(s) => {
                        let (is_current, was_visited) = if *s == TcpState::Closed {
                            let last = y == FINAL_CLOSED_LINE;
                            (
                                current == TcpState::Closed && last == at_final_closed,
                                !last || final_closed_visited,
                            )
                        } else {
                            (*s == current, visited.contains(s))
                        };
                        let st = if is_current {
                            th.highlight().add_modifier(Modifier::BOLD)
                        } else if was_visited {
                            th.state()
                        } else {
                            th.dim()
                        };
                        spans.push(Span::styled(s.name().to_string(), st));
                        rest = &rest[s.name().len()..];
                        x += s.name().len();
                    }
                    None => {
                        let ch = rest.chars().next().unwrap_or(' ');
                        let span = if heavy_cells.contains(&(y, x)) {
                            Span::styled(heavy(ch).to_string(), th.state())
                        } else {
                            Span::styled(ch.to_string(), th.dim())
                        };
                        spans.push(span);
                        rest = &rest[ch.len_utf8()..];
                        x += 1;
                    }
                }
            }
            Line::from(spans)
        })
        .collect();
    if !off.is_empty() {
        out.push(Line::from(vec![
            Span::styled("not drawn: ", th.dim()),
            Span::styled(off.join(", "), th.state()),
        ]));
    }
    out
}

fn transitions_at(c: &Connection, dir: Dir, at: Option<u64>) -> Vec<&Transition> {
    let Some(s) = &c.summary else {
        return Vec::new();
    };
    let v = match dir {
        Dir::Client => &s.states.client,
        Dir::Server => &s.states.server,
    };
    v.iter()
        .filter(|t| at.is_none_or(|f| t.frame <= f))
        .collect()
}

fn render_states(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(c) = app.conn() else { return };
    let (cs, ss) = states_at(c, app.playhead);
    let ct = transitions_at(c, Dir::Client, app.playhead);
    let st = transitions_at(c, Dir::Server, app.playhead);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(STATES_TOP_ROWS), Constraint::Min(1)]).areas(area);
    let [l, r] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    let mut cl = vec![Line::styled(
        format!("client {} — now {cs}", c.client),
        th.client(),
    )];
    cl.extend(diagram_lines(&ct, cs, th));
    let mut sl = vec![Line::styled(
        format!("server {} — now {ss}", c.server),
        th.server(),
    )];
    sl.extend(diagram_lines(&st, ss, th));
    f.render_widget(Paragraph::new(cl), l);
    f.render_widget(Paragraph::new(sl), r);
    // Transition list, both endpoints merged by frame.
    let mut all: Vec<(Dir, &Transition)> = ct.iter().map(|t| (Dir::Client, *t)).collect();
    all.extend(st.iter().map(|t| (Dir::Server, *t)));
    all.sort_by_key(|(d, t)| (t.frame, d.idx()));
    let mut lines = vec![Line::styled(
        format!("{:>6}  {:<6}  {:<28}  why", "frame", "side", "transition"),
        th.header(),
    )];
    // `update` keeps the scroll within the list; this only guards a list that shrank since.
    for (d, t) in all.iter().skip(app.scroll.min(all.len().saturating_sub(1))) {
        let sty = th.side(*d);
        lines.push(Line::from(vec![
            Span::raw(format!("{:>6}  ", t.frame)),
            Span::styled(format!("{:<6}  ", d.name()), sty),
            Span::styled(
                format!("{:<28}", format!("{} → {}", t.from, t.state)),
                th.state(),
            ),
            Span::raw(format!(
                "  {}{}",
                t.reason,
                if t.inferred { " (inferred)" } else { "" }
            )),
        ]));
    }
    f.render_widget(Paragraph::new(lines), bottom);
}

// --- HTTP -----------------------------------------------------------------------------

fn exchange_summary(x: &Exchange, show_resp: bool) -> String {
    let req = x
        .request
        .as_ref()
        .map_or("(no request seen)".to_string(), |r| {
            format!("{} {}", escape(&r.method), escape(&r.uri))
        });
    let resp = match (&x.response, show_resp) {
        (Some(r), true) => format!(
            "→ {} {} ({} B{})",
            r.status,
            escape(&r.reason),
            r.body_bytes_decoded,
            x.ttfb_ms
                .map_or(String::new(), |t| format!(", ttfb {}", fmt_ms(t)))
        ),
        _ => "→ (waiting)".to_string(),
    };
    format!("{req} {resp}")
}

/// Body text for display: JSON pretty-printed, text escaped, binary as hex.
pub fn body_lines(body: &[u8], content_type: Option<&str>) -> Vec<String> {
    const MAX: usize = 64 * 1024;
    let b = &body[..body.len().min(MAX)];
    let is_json = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("json"))
        || matches!(
            b.iter().find(|c| !c.is_ascii_whitespace()),
            Some(b'{' | b'[')
        );
    if is_json
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(b)
        && let Ok(s) = serde_json::to_string_pretty(&v)
    {
        return escape_multiline(&s).lines().map(str::to_string).collect();
    }
    let text_like = std::str::from_utf8(b).is_ok()
        || b.iter()
            .filter(|c| c.is_ascii_graphic() || c.is_ascii_whitespace())
            .count()
            * 4
            >= b.len() * 3;
    let mut out: Vec<String> = if text_like {
        escape_bytes(b, true).lines().map(str::to_string).collect()
    } else {
        b.chunks(16)
            .enumerate()
            .map(|(i, c)| {
                let hex: Vec<String> = c.iter().map(|x| format!("{x:02x}")).collect();
                let ascii: String = c
                    .iter()
                    .map(|&x| {
                        if (0x20..0x7f).contains(&x) {
                            x as char
                        } else {
                            '.'
                        }
                    })
                    .collect();
                format!("{:06x}  {:<48} {ascii}", i * 16, hex.join(" "))
            })
            .collect()
    };
    if body.len() > MAX {
        out.push(format!("… {} more bytes not shown", body.len() - MAX));
    }
    out
}

/// Whether `x`'s response has been seen whole as of the playhead.
fn resp_done(app: &App, x: &Exchange) -> bool {
    x.response
        .as_ref()
        .is_some_and(|r| app.playhead.is_none_or(|f| r.end_frame <= f))
}

/// The selected exchange of the open connection, if it is visible as of the playhead.
fn selected_exchange(app: &App) -> Option<(&Connection, &Exchange)> {
    let c = app.conn()?;
    let x = c
        .http
        .get(app.http_sel)
        .filter(|_| app.http_sel < app.visible_exchanges())?;
    Some((c, x))
}

/// Lines of the HTTP tab's detail of the selected exchange (what its pane scrolls
/// through); 0 when no exchange is shown.
pub fn http_detail_len(app: &App) -> usize {
    selected_exchange(app).map_or(0, |(c, x)| {
        http_detail(app, c, x, Theme { color: false }, 60).len()
    })
}

/// The detail of one exchange: timing bar, anomalies, request and response with bodies.
/// `width`: of the pane (for the timing bar).
fn http_detail(
    app: &App,
    c: &Connection,
    x: &Exchange,
    th: Theme,
    width: u16,
) -> Vec<Line<'static>> {
    let mut d: Vec<Line<'static>> = Vec::new();
    // Timing bar: handshake, waiting (request sent → first response byte), transfer.
    let hs_ms = c
        .summary
        .as_ref()
        .and_then(|s| s.handshake.irtt_ms)
        .unwrap_or(0.0);
    if let (Some(rq), Some(rs)) = (&x.request, &x.response)
        && resp_done(app, x)
    {
        let wait = (rs.ts_ns - rq.end_ts_ns).max(0) as f64 / 1e6;
        let xfer = (rs.end_ts_ns - rs.ts_ns).max(0) as f64 / 1e6;
        let total = (hs_ms + wait + xfer).max(1e-9);
        let w = usize::from(width.saturating_sub(2)).clamp(10, 60);
        let seg = |ms: f64| ((ms / total) * w as f64).round() as usize;
        d.push(Line::from(vec![
            Span::styled("█".repeat(seg(hs_ms)), th.state()),
            Span::styled("█".repeat(seg(wait)), th.warn()),
            Span::styled("█".repeat(seg(xfer)), th.client()),
        ]));
        d.push(Line::from(vec![
            Span::styled(format!("handshake {}  ", fmt_ms(hs_ms)), th.state()),
            Span::styled(format!("waiting {}  ", fmt_ms(wait)), th.warn()),
            Span::styled(format!("transfer {}", fmt_ms(xfer)), th.client()),
        ]));
    }
    for a in &x.anomalies {
        d.push(Line::styled(format!("⚠ {}", escape(a)), th.anomaly()));
    }
    if let Some(r) = &x.request {
        d.push(Line::styled(
            format!(
                "{} {} {}   (frame {})",
                escape(&r.method),
                escape(&r.uri),
                escape(&r.version),
                r.frame
            ),
            th.client().add_modifier(Modifier::BOLD),
        ));
        for (k, v) in &r.headers {
            d.push(Line::styled(
                format!("{}: {}", escape(k), escape(v)),
                th.client(),
            ));
        }
        if let Some(b) = app.body(app.http_sel, false)
            && !b.is_empty()
        {
            d.push(Line::raw(""));
            for l in body_lines(b, crate::http::header(&r.headers, "content-type")) {
                d.push(Line::raw(l));
            }
        }
    }
    if let Some(r) = x.response.as_ref().filter(|_| resp_done(app, x)) {
        d.push(Line::raw(""));
        for i in &x.interim {
            d.push(Line::styled(
                format!("{} (interim, frame {})", i.status, i.frame),
                th.server(),
            ));
        }
        d.push(Line::styled(
            format!(
                "{} {} {}   (frame {})",
                escape(&r.version),
                r.status,
                escape(&r.reason),
                r.frame
            ),
            th.server().add_modifier(Modifier::BOLD),
        ));
        for (k, v) in &r.headers {
            d.push(Line::styled(
                format!("{}: {}", escape(k), escape(v)),
                th.server(),
            ));
        }
        d.push(Line::raw(""));
        match app.body(app.http_sel, true) {
            Some(b) if !b.is_empty() => {
                let dec = match &r.content_encoding {
                    Some(e) => format!(" (decoded from {})", escape(e)),
                    None => String::new(),
                };
                d.push(Line::styled(
                    format!("body: {} bytes{dec}", b.len()),
                    th.dim(),
                ));
                for l in body_lines(b, crate::http::header(&r.headers, "content-type")) {
                    d.push(Line::raw(l));
                }
                if (b.len() as u64) < r.body_bytes_decoded {
                    d.push(Line::styled(
                        format!("(first {} of {} bytes kept)", b.len(), r.body_bytes_decoded),
                        th.warn(),
                    ));
                }
            }
            _ => d.push(Line::styled("(no body)", th.dim())),
        }
    }
    d
}

fn render_http(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(c) = app.conn() else { return };
    let n = app.visible_exchanges();
    if c.http.is_empty() {
        f.render_widget(
            Paragraph::new(format!(
                "no HTTP in this connection (app: {})",
                app_name(c.app)
            )),
            area,
        );
        return;
    }
    let list_rows = http_list_rows(app.size.1);
    let [list_a, detail_a] =
        Layout::vertical([Constraint::Length(list_rows as u16 + 1), Constraint::Min(1)])
            .areas(area);
    let mut lines = vec![Line::styled(format!("{n} exchange(s)"), th.header())];
    let off = http_list_offset(app.http_sel, app.size.1);
    for (i, x) in c.http.iter().enumerate().take(n).skip(off).take(list_rows) {
        let mut st = Style::default();
        if !x.anomalies.is_empty() {
            st = th.anomaly();
        }
        if i == app.http_sel {
            st = st.add_modifier(Modifier::REVERSED);
        }
        lines.push(Line::styled(
            format!("{:>3} {}", i + 1, exchange_summary(x, resp_done(app, x))),
            st,
        ));
    }
    f.render_widget(Paragraph::new(lines), list_a);
    let Some((c, x)) = selected_exchange(app) else {
        f.render_widget(
            Paragraph::new("(no exchange yet at the playhead)"),
            detail_a,
        );
        return;
    };
    let d = http_detail(app, c, x, th, detail_a.width);
    // `update` keeps the scroll within the detail; this only guards one that shrank since.
    let scroll = app.scroll.min(d.len().saturating_sub(1)) as u16;
    f.render_widget(
        Paragraph::new(Text::from(d))
            .scroll((scroll, 0))
            .block(Block::default().borders(Borders::TOP)),
        detail_a,
    );
}

// --- Stream ---------------------------------------------------------------------------

fn render_stream(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    if app.conn().is_none() {
        return;
    }
    let s = match app.open_stream() {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            f.render_widget(Paragraph::new(escape(&e.msg)).style(th.warn()), area);
            return;
        }
        _ => {
            f.render_widget(
                Paragraph::new("rebuilding the streams from the file…"),
                area,
            );
            return;
        }
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("client → server {} B", s.bytes[0]), th.client()),
        Span::raw("   "),
        Span::styled(format!("server → client {} B", s.bytes[1]), th.server()),
        Span::raw(if s.truncated {
            "   (cut at the display cap)"
        } else {
            ""
        }),
    ])];
    let rows = usize::from(area.height.saturating_sub(1));
    // `update` keeps the scroll within the lines; this only guards lines that shrank since.
    let visible = s
        .lines
        .iter()
        .filter(|l| app.playhead.is_none_or(|f| l.frame <= f))
        .skip(app.scroll.min(app.max_scroll()))
        .take(rows);
    for l in visible {
        let st = if l.gap { th.anomaly() } else { th.side(l.dir) };
        lines.push(Line::styled(l.text.clone(), st));
    }
    if s.lines.is_empty() {
        lines.push(Line::styled(
            "(no payload bytes in either direction)",
            th.dim(),
        ));
    }
    f.render_widget(Paragraph::new(lines), area);
}

// --- Status bar and help ----------------------------------------------------------------

/// Warnings for the status bar: the capture's, then the open connection's.
pub fn warnings(app: &App) -> Vec<String> {
    let mut w: Vec<String> = Vec::new();
    if let Some(d) = &app.data {
        w.extend(d.stats.warnings.iter().map(|s| escape(s)));
    }
    let c = match app.screen {
        Screen::Connection => app.conn(),
        Screen::Connections => app
            .selected_conn()
            .and_then(|i| app.data.as_ref().and_then(|d| d.conns.get(i))),
    };
    if let Some(c) = c
        && let Some(s) = &c.summary
    {
        if s.handshake.outcome == Outcome::NotCaptured {
            w.push("capture began mid-connection: handshake not seen".into());
        }
        if s.packets_not_kept > 0 {
            w.push(format!(
                "{} packets of this connection not kept",
                s.packets_not_kept
            ));
        }
    }
    w
}

fn render_status(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let mut spans: Vec<Span> = Vec::new();
    if app.filter_editing || !app.filter.is_empty() {
        spans.push(Span::styled(
            format!(
                " /{}{} ",
                escape(&app.filter),
                if app.filter_editing { "▏" } else { "" }
            ),
            th.highlight(),
        ));
    }
    let (pk, nc) = app
        .data
        .as_ref()
        .map_or((0, 0), |d| (d.stats.packets, d.conns.len()));
    if let (Some(p), Some(_)) = (app.loading, app.data.as_ref()) {
        // The table fills in while the rest of the file is read.
        spans.push(Span::styled(
            format!(
                " loading{} {} packets {:.0}/s │",
                p.ratio()
                    .map_or(String::new(), |r| format!(" {:.0}%", r * 100.0)),
                p.packets,
                p.rate_pps()
            ),
            th.highlight(),
        ));
    }
    let ph = match app.playhead {
        None => " playhead: end".to_string(),
        Some(fr) => format!(" playhead: frame {fr}/{pk}"),
    };
    spans.push(Span::styled(ph, th.warn()));
    spans.push(Span::raw(format!(
        " {} x{}",
        if app.playing { "▶" } else { "⏸" },
        SPEEDS[app.speed]
    )));
    if app.present {
        spans.push(Span::raw(" │ presenter"));
    }
    if let Some(q) = crate::ui::quiz::status(app) {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(q, th.highlight()));
    }
    if let Some(m) = &app.message {
        spans.push(Span::raw(format!(" │ {m}")));
    }
    for w in warnings(app) {
        spans.push(Span::styled(format!(" │ ⚠ {w}"), th.anomaly()));
    }
    spans.push(Span::styled(
        format!(
            " │ {} │ {pk} packets │ {nc} conns │ ? help",
            escape(&app.source)
        ),
        th.dim(),
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Every key, for the help screen and docs/tui.md.
pub const HELP: &[(&str, &str)] = &[
    ("q  Ctrl-C", "quit"),
    (
        "Esc",
        "back (closes help, leaves a connection, quits from the list)",
    ),
    ("?", "this help (any key closes it)"),
    ("P", "presenter mode: larger spacing, fewer columns"),
    (
        "↑ ↓  k j",
        "move the selection (arrow, packet, exchange) or scroll",
    ),
    (
        "PgUp PgDn  Ctrl-B Ctrl-F",
        "page up / down (HTTP tab: scroll the exchange)",
    ),
    ("g  G", "first / last row"),
    (
        "Enter",
        "open the connection; on a ladder arrow: open it in Packets",
    ),
    (
        "/",
        "filter as you type: address, port, state, http, GET, 404, anomalies",
    ),
    ("s  S", "cycle the sort column / reverse the order"),
    (
        "1-5  Tab  Shift-Tab",
        "Ladder, Packets, States, HTTP, Stream tabs",
    ),
    (
        "[  ]",
        "Packets tab: previous / next header field (highlights its bytes)",
    ),
    (
        "Space → l",
        "playhead: next packet (in the connection, or across the capture)",
    ),
    ("← h", "playhead: previous packet"),
    ("Home  End", "playhead: first packet / show everything"),
    ("p", "play / pause in real time"),
    (
        "z",
        "quiz: predict each key packet (flags, ACK, next state) before it shows",
    ),
    ("+  -", "playback speed (x0.1 to x100)"),
    ("Backspace", "back to the connections list"),
    ("mouse", "click selects, wheel scrolls"),
];

fn render_help(f: &mut Frame, th: Theme, area: Rect) {
    let w = area.width.min(84);
    let h = area.height.min(HELP.len() as u16 + 4);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:>26}  "), th.warn()),
                Span::raw(*v),
            ])
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys (any key closes) "),
        ),
        r,
    );
}

#[cfg(test)]
mod diagram_tests {
    use super::*;

    /// Every edge cell is a connector of the drawing, and each edge touches its states:
    /// a cell of the edge is next to (or on the line after) the `from` name and one is
    /// next to (or on the line before) the `to` name.
    #[test]
    fn edges_are_connectors_between_their_states() {
        let at = |y: usize, x: usize| DIAGRAM.get(y).and_then(|l| l.chars().nth(x));
        let spans = |st: TcpState| -> Vec<(usize, usize, usize)> {
            DIAGRAM
                .iter()
                .enumerate()
                .flat_map(|(y, l)| {
                    l.match_indices(st.name())
                        // "CLOSED" is not part of a longer name in the drawing.
                        .map(move |(x, m)| (y, x, x + m.len()))
                })
                .collect()
        };
        let near = |cell: (usize, usize), st: TcpState| {
            spans(st).iter().any(|&(y, x0, x1)| {
                cell.0.abs_diff(y) == 1 && cell.1 + 2 >= x0 && cell.1 <= x1 + 1
                    || cell.0 == y && (cell.1 + 2 == x0 || cell.1 == x1 + 1)
            })
        };
        for (from, to, cells) in EDGES {
            for &(y, x) in *cells {
                assert!(
                    matches!(at(y, x), Some('|' | '/' | '\\' | '-' | '<')),
                    "{from} → {to}: ({y},{x}) is {:?}",
                    at(y, x)
                );
            }
            assert!(
                cells.iter().any(|c| near(*c, *from)),
                "{from} → {to} leaves nowhere"
            );
            assert!(
                cells.iter().any(|c| near(*c, *to)),
                "{from} → {to} arrives nowhere"
            );
        }
        // Every connector in the drawing (outside the names) belongs to an edge.
        let in_name = |y: usize, x: usize| {
            TcpState::ALL.iter().any(|st| {
                spans(*st)
                    .iter()
                    .any(|&(sy, x0, x1)| sy == y && x >= x0 && x < x1)
            })
        };
        for (y, l) in DIAGRAM.iter().enumerate() {
            for (x, ch) in l.chars().enumerate() {
                if "|/\\-<".contains(ch) && !in_name(y, x) {
                    assert!(
                        EDGES.iter().any(|(_, _, c)| c.contains(&(y, x))),
                        "({y},{x}) {ch:?} is in no edge"
                    );
                }
            }
        }
    }
}
