//! The HTTP tab: the exchanges of the connection and the selected one's detail (timing
//! bar, anomalies, heads and bodies).

use crate::escape::{escape, escape_bytes, escape_multiline};
use crate::http::Exchange;
use crate::pipeline::Connection;
use crate::ui::app::App;
use crate::ui::layout;
use crate::ui::model::{app_name, fmt_ms};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph};

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
                let ascii = super::ascii_column(c);
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

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
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
    let list_rows = layout::http_list_rows(app.size.1);
    let [list_a, detail_a] =
        Layout::vertical([Constraint::Length(list_rows as u16 + 1), Constraint::Min(1)])
            .areas(area);
    let mut lines = vec![Line::styled(format!("{n} exchange(s)"), th.header())];
    let off = layout::http_list_offset(app.http_sel, app.size.1);
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
