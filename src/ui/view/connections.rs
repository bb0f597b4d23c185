//! The connections table: one row a connection, columns by width, the playhead dimming
//! connections not begun yet. Builds widgets only for the rows on screen.

use crate::escape::escape;
use crate::ui::app::App;
use crate::ui::model::{Column, app_name, fmt_ms, states_at};
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
    let (cs, ss) = states_at(c, app.play.playhead);
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
    let rows: Vec<Row> = (offset..end)
        .map(|vi| {
            let i = app.table.visible[vi];
            let c = &d.conns[i];
            let hidden = app.play.playhead.is_some_and(|f| c.first_frame > f);
            let mut row = Row::new(cols.iter().map(|col| conn_cell(app, i, *col, th)));
            if hidden {
                row = row.style(th.dim());
            }
            if vi == app.table.sel {
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
    if app.table.visible.is_empty() {
        let msg = if d.conns.is_empty() {
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
