//! The connections table: one row a connection, columns by width, the playhead dimming
//! connections not begun yet. Builds widgets only for the rows on screen.

use crate::escape::escape;
use crate::tcp::state::TcpState;
use crate::ui::app::App;
use crate::ui::fit::{fit_endpoint, whole};
use crate::ui::model::{Column, app_name, fmt_ms, packets, states_at};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

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
        Column::Handshake => Constraint::Length(24),
        Column::Packets => Constraint::Length(6),
        Column::Bytes => Constraint::Length(9),
        Column::Http => Constraint::Length(4),
        Column::Anomalies => Constraint::Length(3),
    }
}

/// The counts of a connection as of the playhead: while stepping, the table never shows
/// what the packets not yet revealed will bring (packets, payload bytes, HTTP exchanges
/// whose request has arrived, anomalies flagged so far, the handshake once it is over).
struct AsOf {
    packets: u64,
    bytes: u64,
    http: usize,
    anomalies: u32,
    handshake: Option<String>,
}

fn as_of(app: &App, i: usize) -> AsOf {
    let d = app.data.as_ref().expect("rows come from loaded data");
    let r = &d.rows[i];
    let hs = match r.irtt_ms() {
        Some(ms) => format!("{} {}", r.outcome(), fmt_ms(ms)),
        None => r.outcome().to_string(),
    };
    let Some(f) = app.play.playhead else {
        return AsOf {
            packets: r.packets,
            bytes: r.bytes,
            http: r.http as usize,
            anomalies: r.anomalies,
            handshake: Some(hs),
        };
    };
    // The table shows the kept record as of the playhead; a compact row (no packet
    // records, even once opened) its totals once the playhead has passed its last frame.
    let Some(c) = d.record(i) else {
        let done = r.last_frame <= f;
        return AsOf {
            packets: if done { r.packets } else { 0 },
            bytes: if done { r.bytes } else { 0 },
            http: if done { r.http as usize } else { 0 },
            anomalies: if done { r.anomalies } else { 0 },
            handshake: done.then_some(hs),
        };
    };
    let pk = packets(c);
    let seen = &pk[..pk.partition_point(|p| p.frame <= f)];
    let settled = c.summary.as_ref().is_some_and(|s| {
        let h = &s.handshake;
        h.ack_frame
            .or(h.syn_ack_frame)
            .or(h.syn_frame)
            .is_some_and(|x| x <= f)
    });
    AsOf {
        packets: seen.len() as u64,
        bytes: seen.iter().map(|p| u64::from(p.len)).sum(),
        http: app.play.exchanges_shown(&c.http),
        anomalies: seen.iter().filter(|p| !p.analysis.is_empty()).count() as u32,
        handshake: settled.then_some(hs),
    }
}

/// Cell `col` of connection `i`, its text whole in `w` cells (an endpoint may shrink to
/// its port, a count to `…`).
fn conn_cell(app: &App, i: usize, col: Column, th: Theme, w: usize, n: &AsOf) -> Cell<'static> {
    let Some(d) = &app.data else {
        return Cell::from("");
    };
    let r = &d.rows[i];
    let (cs, ss) = match (app.play.playhead, d.record(i)) {
        (Some(f), None) if r.last_frame > f => (TcpState::Closed, TcpState::Closed),
        (_, None) => r.finals,
        (at, Some(c)) => states_at(c, at),
    };
    let text = |s: String| Cell::from(whole(&s, w));
    match col {
        Column::Id => text(r.id.to_string()),
        Column::Client => Cell::from(fit_endpoint(&r.client.to_string(), w)).style(th.client()),
        Column::Server => Cell::from(fit_endpoint(&r.server.to_string(), w)).style(th.server()),
        Column::App => text(app_name(r.app).to_string()),
        Column::ConnState => text(
            if app.play.playhead.is_none() {
                r.conn_state()
            } else {
                ""
            }
            .to_string(),
        ),
        Column::ClientState => text(cs.name().to_string()),
        Column::ServerState => text(ss.name().to_string()),
        Column::Handshake => text(n.handshake.clone().unwrap_or_default()),
        Column::Packets => text(n.packets.to_string()),
        Column::Bytes => text(n.bytes.to_string()),
        Column::Http => text(if n.http > 0 {
            n.http.to_string()
        } else {
            String::new()
        }),
        Column::Anomalies => {
            if n.anomalies > 0 {
                Cell::from("⚠").style(th.anomaly())
            } else {
                Cell::from("")
            }
        }
    }
}

/// Cells of each column: the fixed ones as set, the two endpoint columns sharing the rest.
fn cell_widths(widths: &[Constraint], total: u16) -> Vec<usize> {
    let spacing = widths.len().saturating_sub(1);
    let fixed: usize = widths
        .iter()
        .map(|c| match c {
            Constraint::Length(n) => usize::from(*n),
            _ => 0,
        })
        .sum();
    let fills = widths
        .iter()
        .filter(|c| matches!(c, Constraint::Fill(_)))
        .count()
        .max(1);
    let fill = usize::from(total).saturating_sub(fixed + spacing) / fills;
    widths
        .iter()
        .map(|c| match c {
            Constraint::Length(n) => usize::from(*n),
            _ => fill,
        })
        .collect()
}

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(d) = &app.data else { return };
    let cols = columns_for(area.width, app.present);
    let rows_avail = usize::from(area.height.saturating_sub(1));
    let offset = app
        .table
        .offset
        .min(app.table.visible.len().saturating_sub(1));
    let end = (offset + rows_avail).min(app.table.visible.len());
    let header = Row::new(cols.iter().map(|c| {
        let mut t = c.title().to_string();
        if *c == app.table.sort {
            t.push(if app.table.sort_rev { '↓' } else { '↑' });
        }
        Cell::from(t)
    }))
    .style(th.header());
    let id_digits = app
        .data
        .as_ref()
        .and_then(|d| d.rows.last())
        .map_or(1, |r| r.id.to_string().len() as u16);
    let widths: Vec<Constraint> = cols.iter().map(|c| col_width(*c, id_digits)).collect();
    let cw = cell_widths(&widths, area.width);
    let rows: Vec<Row> = (offset..end)
        .map(|vi| {
            let i = app.table.visible[vi];
            let hidden = app.play.playhead.is_some_and(|f| d.rows[i].first_frame > f);
            let n = as_of(app, i);
            let mut row = Row::new(
                cols.iter()
                    .zip(&cw)
                    .map(|(col, w)| conn_cell(app, i, *col, th, *w, &n)),
            );
            if hidden {
                row = row.style(th.dim());
            }
            if vi == app.table.sel {
                row = row.style(th.selected());
            }
            row
        })
        .collect();
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
    if app.table.visible.is_empty() {
        let msg = if d.is_empty() {
            "no TCP connections in this capture".to_string()
        } else {
            format!("no connection matches \"{}\"", escape(&app.table.filter))
        };
        let a = Rect {
            y: area.y + 2,
            height: 1,
            ..area
        };
        f.render_widget(Paragraph::new(msg).centered(), a);
    }
}
