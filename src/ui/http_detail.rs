//! The HTTP tab's detail of one exchange as plain lines (timing bar, anomalies, request
//! and response heads and bodies), each with a tone the view turns into a style. No
//! terminal types: the `App` counts these lines to bound the pane's scroll, the view
//! draws them.

use crate::escape::{escape, escape_bytes, escape_multiline};
use crate::http::Exchange;
use crate::pipeline::Connection;
use crate::ui::model::{ascii_column, fmt_ms};

/// How a piece of the detail looks (the view's theme maps each to a style).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    State,
    Warn,
    Client,
    ClientHead,
    Server,
    ServerHead,
    Anomaly,
    Dim,
}

/// One line of the detail.
#[derive(Clone, Debug, PartialEq)]
pub enum DetailLine {
    /// Unstyled text.
    Raw(String),
    /// A line of one tone.
    Styled(Tone, String),
    /// A line of pieces of different tones.
    Spans(Vec<(Tone, String)>),
}

/// What the detail of one exchange is drawn from.
pub struct DetailOf<'a> {
    pub conn: &'a Connection,
    pub exchange: &'a Exchange,
    /// Whether the response has been seen whole as of the playhead.
    pub resp_done: bool,
    pub req_body: Option<&'a [u8]>,
    pub resp_body: Option<&'a [u8]>,
    /// The exchange's place in the connection (0: the first, which carries the handshake).
    pub index: usize,
    /// The response's chunks, when chunked and the streams were rebuilt.
    pub chunks: Option<&'a [crate::explain::wire::Chunk]>,
}

/// The detail's lines. `width`: of the pane (for the timing bar).
pub fn detail(d: &DetailOf, width: u16) -> Vec<DetailLine> {
    let x = d.exchange;
    let mut out = Vec::new();
    if d.resp_done {
        timing(d, width, &mut out);
    }
    for a in &x.anomalies {
        out.push(DetailLine::Styled(
            Tone::Anomaly,
            format!("⚠ {}", escape(&a.to_string())),
        ));
    }
    if let Some(r) = &x.request {
        let head = format!(
            "{} {} {}   (frame {})",
            escape(&r.method),
            escape(&r.uri),
            escape(&r.version),
            r.frame
        );
        out.push(DetailLine::Styled(Tone::ClientHead, head));
        headers(&r.headers, Tone::Client, &mut out);
        if let Some(b) = d.req_body.filter(|b| !b.is_empty()) {
            out.push(DetailLine::Raw(String::new()));
            body(b, &r.headers, &mut out);
        }
    }
    if d.resp_done {
        response(d, &mut out);
    }
    let w = usize::from(width);
    out.into_iter().map(|l| fit_line(l, w)).collect()
}

/// A line of the detail in `w` cells: a header line keeps its value whole (its name may
/// shrink), other text is cut between words; never inside a number.
fn fit_line(l: DetailLine, w: usize) -> DetailLine {
    use crate::ui::fit::{cut_words, fit_name_value};
    match l {
        DetailLine::Raw(s) => DetailLine::Raw(cut_words(&s, w)),
        DetailLine::Styled(t @ (Tone::Client | Tone::Server), s) => {
            DetailLine::Styled(t, fit_name_value(&s, w))
        }
        DetailLine::Styled(t, s) => DetailLine::Styled(t, cut_words(&s, w)),
        DetailLine::Spans(v) => {
            // Whole pieces from the left while they fit.
            let mut used = 0;
            let mut kept = Vec::new();
            for (t, s) in v {
                let n = crate::ui::fit::width(&s);
                if used + n > w {
                    break;
                }
                used += n;
                kept.push((t, s));
            }
            DetailLine::Spans(kept)
        }
    }
}

/// Timing bar: handshake (first exchange only), waiting (request sent → first response
/// byte), transfer; then how a response cut by a reset ended.
fn timing(d: &DetailOf, width: u16, out: &mut Vec<DetailLine>) {
    let Some(t) = crate::ui::timing::timing(d.conn, d.index, d.exchange) else {
        return;
    };
    let hs_ms = t.handshake_ms();
    let (wait, xfer) = (t.wait_ms, t.transfer_ms);
    let total = (hs_ms + wait + xfer).max(1e-9);
    let w = usize::from(width.saturating_sub(2)).clamp(10, 60);
    // Each segment starts with its letter (H, W, T), so the bar reads without colour.
    let seg = |ms: f64, letter: char| {
        let n = ((ms / total) * w as f64).round() as usize;
        if n == 0 {
            String::new()
        } else {
            format!("{letter}{}", "█".repeat(n - 1))
        }
    };
    out.push(DetailLine::Spans(vec![
        (Tone::State, seg(hs_ms, 'H')),
        (Tone::Warn, seg(wait, 'W')),
        (Tone::Client, seg(xfer, 'T')),
    ]));
    out.push(DetailLine::Styled(Tone::State, t.handshake_text()));
    out.push(DetailLine::Spans(vec![
        (Tone::Warn, format!("W waiting {}  ", fmt_ms(wait))),
        (Tone::Client, format!("T transfer {}", fmt_ms(xfer))),
    ]));
    if let Some(a) = t.aborted {
        out.push(DetailLine::Styled(Tone::Anomaly, a));
    }
}

/// The chunks of a chunked response: size and the frame of its size line.
fn chunk_table(chunks: &[crate::explain::wire::Chunk], out: &mut Vec<DetailLine>) {
    const SHOWN: usize = 200;
    out.push(DetailLine::Styled(
        Tone::Dim,
        format!("chunks: {} (size, frame)", chunks.len()),
    ));
    for c in chunks.iter().take(SHOWN) {
        let t = if c.size == 0 {
            format!("  {:>10}  {:>10}  frame {}", "last-chunk", "0 B", c.frame)
        } else {
            format!(
                "  {:>10}  {:>10}  frame {}",
                format!("0x{:x}", c.size),
                format!("{} B", c.size),
                c.frame
            )
        };
        out.push(DetailLine::Styled(Tone::Server, t));
    }
    if chunks.len() > SHOWN {
        let more = format!("  … {} more chunks", chunks.len() - SHOWN);
        out.push(DetailLine::Styled(Tone::Dim, more));
    }
}

fn headers(h: &[(String, String)], tone: Tone, out: &mut Vec<DetailLine>) {
    for (k, v) in h {
        out.push(DetailLine::Styled(
            tone,
            format!("{}: {}", escape(k), escape(v)),
        ));
    }
}

fn body(b: &[u8], headers: &[(String, String)], out: &mut Vec<DetailLine>) {
    let ct = crate::http::header(headers, "content-type");
    out.extend(body_lines(b, ct).into_iter().map(DetailLine::Raw));
}

/// The response: interim responses, head, headers and body.
fn response(d: &DetailOf, out: &mut Vec<DetailLine>) {
    let x = d.exchange;
    let Some(r) = x.response.as_ref() else {
        return;
    };
    out.push(DetailLine::Raw(String::new()));
    for i in &x.interim {
        let t = format!("{} (interim, frame {})", i.status, i.frame);
        out.push(DetailLine::Styled(Tone::Server, t));
    }
    let head = format!(
        "{} {} {}   (frame {})",
        escape(&r.version),
        r.status,
        escape(&r.reason),
        r.frame
    );
    out.push(DetailLine::Styled(Tone::ServerHead, head));
    headers(&r.headers, Tone::Server, out);
    if let Some(c) = d.chunks.filter(|c| !c.is_empty()) {
        out.push(DetailLine::Raw(String::new()));
        chunk_table(c, out);
    }
    out.push(DetailLine::Raw(String::new()));
    let Some(b) = d.resp_body.filter(|b| !b.is_empty()) else {
        match cut_body(r, d.conn.tcp.is_none()) {
            Some(why) => out.push(DetailLine::Styled(Tone::Warn, why)),
            None => out.push(DetailLine::Styled(Tone::Dim, "(no body)".into())),
        }
        return;
    };
    let dec = match &r.content_encoding {
        Some(e) => format!(" (decoded from {})", escape(e)),
        None => String::new(),
    };
    let size = format!("body: {} bytes{dec}", b.len());
    out.push(DetailLine::Styled(Tone::Dim, size));
    body(b, &r.headers, out);
    if (b.len() as u64) < r.body_bytes_decoded {
        let kept = format!("(first {} of {} bytes kept)", b.len(), r.body_bytes_decoded);
        out.push(DetailLine::Styled(Tone::Warn, kept));
    }
    if let Some(why) = cut_body(r, d.conn.tcp.is_none()) {
        out.push(DetailLine::Styled(Tone::Warn, why));
    }
}

/// Why a response's body is not whole, in words (None when it is, or has none): the
/// connection ended before the announced length arrived, or bytes were lost in gaps.
/// `ended`: the connection is over (not still live).
fn cut_body(r: &crate::http::Response, ended: bool) -> Option<String> {
    if r.complete {
        return None;
    }
    let got = r.body_bytes;
    if !ended {
        return Some(format!("(body still arriving: {got} bytes so far)"));
    }
    let lost = r.body_bytes_missing.filter(|&n| n > 0);
    Some(match (r.body_bytes_announced, lost) {
        (_, Some(n)) => format!("(body incomplete: {n} bytes lost in capture gaps)"),
        (Some(all), None) => format!(
            "(body cut: {got} of {all} announced bytes arrived before the connection ended)"
        ),
        (None, None) if got == 0 => {
            "(body cut: the connection ended before any body byte arrived)".into()
        }
        (None, None) => format!("(body cut: the connection ended after {got} bytes)"),
    })
}

/// The request's or the response's body of `x`, if kept.
pub fn body_of(x: &Exchange, response: bool) -> Option<&[u8]> {
    if response {
        x.response.as_ref()?.body.as_deref()
    } else {
        x.request.as_ref()?.body.as_deref()
    }
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
                let ascii = ascii_column(c);
                format!("{:06x}  {:<48} {ascii}", i * 16, hex.join(" "))
            })
            .collect()
    };
    if body.len() > MAX {
        out.push(format!("… {} more bytes not shown", body.len() - MAX));
    }
    out
}
