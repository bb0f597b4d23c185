//! Drawing: every view reads `&App` and writes to a ratatui `Frame`; nothing here
//! changes state. Lists build widgets only for the rows on screen, so a table of
//! 100,000 connections costs the same to draw as one of 20.
//!
//! Every string that comes from capture data passes through `escape` first.
//!
//! One file a view: `connections`, the connection tabs (`ladder`, `packets`, `states`,
//! `http`, `stream`), the `status` bar and the `help` overlay; this file lays the screen
//! out and picks the view. Row counts shared with `app` come from `ui::layout`.

mod anomalies;
mod connections;
mod graph;
mod help;
mod http;
mod ladder;
mod lanes;
mod packets;
mod slide;
mod states;
mod status;
mod stream;

pub use crate::ui::http_detail::body_lines;
pub use crate::ui::keys::{HELP, help_max_scroll};
pub use connections::columns_for;
pub use ladder::arrow_text;
pub use status::warnings;

use crate::escape::escape;
use crate::ui::app::{App, Screen, Tab};
use crate::ui::model::ascii_column;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph, Wrap};

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
            Screen::Connections => connections::render(f, app, th, body),
            Screen::Connection => match app.conn_view.tab {
                Tab::Ladder | Tab::Packets if app.present => slide::render(f, app, th, body),
                Tab::Ladder => ladder::render(f, app, th, body),
                Tab::Packets => packets::render(f, app, th, body),
                Tab::States => states::render(f, app, th, body),
                Tab::Http => http::render(f, app, th, body),
                Tab::Stream => stream::render(f, app, th, body),
                Tab::Graph => graph::render(f, app, th, body),
                Tab::Lanes => lanes::render(f, app, th, body),
            },
        },
    }
    status::render(f, app, th, status);
    anomalies::render(f, app, th, body);
    crate::ui::quiz::render(f, app, th, body);
    if app.help {
        help::render(f, th, area, app.help_scroll);
    }
}

fn render_title(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    use crate::ui::fit::{Piece, fit_pieces, width};
    let mut spans = vec![Span::styled(" tcpscope ", th.title())];
    let room = usize::from(area.width).saturating_sub(10);
    match (app.screen, app.row()) {
        (Screen::Connection, Some(c)) => {
            let mut tabs: Vec<String> = Tab::ALL
                .iter()
                .map(|t| format!(" {} ", t.title()))
                .collect();
            let mut tabs_w: usize = tabs.iter().map(|t| width(t) + 1).sum();
            // Narrow: the tabs without their padding, so all seven fit with the id.
            if tabs_w + 6 > room {
                tabs = Tab::ALL.iter().map(|t| t.title().to_string()).collect();
                tabs_w = tabs.iter().map(|t| width(t) + 1).sum();
            }
            // The tabs matter more than the endpoints, which show whole or not at all.
            let who = fit_pieces(
                &[
                    Piece::new(format!("#{}", c.id), usize::MAX),
                    Piece::new(format!("{} → {}", c.client, c.server), 1),
                ],
                room.saturating_sub(tabs_w + 2),
            );
            spans.push(Span::raw(format!(" {who} ")));
            for (t, text) in Tab::ALL.iter().zip(tabs) {
                let s = if *t == app.conn_view.tab {
                    th.selected()
                } else {
                    Style::default()
                };
                spans.push(Span::raw(" "));
                spans.push(Span::styled(text, s));
            }
        }
        _ => {
            let mut pieces = vec![Piece::new(escape(&app.source), 2)];
            if let Some(d) = &app.data {
                pieces.push(Piece::new(
                    format!("│ {} of {} connections", app.table.visible.len(), d.len()),
                    usize::MAX,
                ));
                pieces.push(Piece::new(
                    format!(
                        "│ sort: {} {}",
                        app.table.sort.title(),
                        if app.table.sort_rev { "↓" } else { "↑" }
                    ),
                    1,
                ));
            }
            spans.push(Span::raw(format!(" {} ", fit_pieces(&pieces, room))));
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
