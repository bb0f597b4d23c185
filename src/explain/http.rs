//! Sentences about HTTP messages: each request and response at the frame it starts or
//! ends in (framing, timing, pipelining, keep-alive), and one summary line an exchange.

use super::clean;
use crate::http::{Exchange, Request, Response};

fn header<'h>(h: &'h [(String, String)], name: &str) -> Option<&'h str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

pub(super) fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

pub(super) fn ms(v: f64) -> String {
    format!("{v:.3} ms")
}

/// "GET /index.html" (cleaned).
pub fn request_line(x: &Exchange) -> String {
    match &x.request {
        Some(r) => format!("{} {}", clean(&r.method), clean(&r.uri)),
        None => "(request not captured)".to_string(),
    }
}

/// How the response's body is delimited, in words.
fn framing(x: &Exchange) -> String {
    let Some(r) = &x.response else {
        return String::new();
    };
    let head = x.request.as_ref().is_some_and(|q| q.method == "HEAD");
    if head || r.status == 204 || r.status == 304 || (100..200).contains(&r.status) {
        return format!(
            "no body follows ({})",
            if head {
                "a response to HEAD never has one"
            } else {
                "this status never has one"
            }
        );
    }
    if r.chunked {
        return "the body is sent in chunks (Transfer-Encoding: chunked): each chunk is prefixed by its size in hex, a 0-size chunk ends it".to_string();
    }
    match header(&r.headers, "content-length") {
        Some(n) => format!(
            "Content-Length: {} says exactly how many body bytes follow",
            clean(n.trim())
        ),
        None => {
            "no Content-Length and not chunked: the body ends when the server closes the connection"
                .to_string()
        }
    }
}

/// Sentences for the HTTP messages that start or end in `frame`.
pub fn http_at_frame(xs: &[Exchange], frame: u64) -> Vec<String> {
    let all: Vec<usize> = (0..xs.len()).collect();
    http_at_frame_of(xs, &all, frame)
}

/// Sentences for the HTTP messages that start or end in `frame`, looking only at the
/// exchanges `ks` (ascending indices into `xs`; the others have nothing in `frame`).
pub(super) fn http_at_frame_of(xs: &[Exchange], ks: &[usize], frame: u64) -> Vec<String> {
    let mut out = Vec::new();
    for &k in ks {
        let Some(x) = xs.get(k) else { continue };
        let line = request_line(x);
        if let Some(r) = &x.request {
            if r.frame == frame {
                out.push(request_starts(k, r, &line));
                if k > 0 {
                    out.push(request_follows(&xs[k - 1], k, r));
                }
            } else if r.end_frame == frame {
                out.push(format!(
                    "HTTP request {}: the last byte of {line} arrives ({} body bytes).",
                    k + 1,
                    r.body_bytes
                ));
            }
        }
        for i in x.interim.iter().filter(|i| i.frame == frame) {
            out.push(format!(
                "HTTP interim response {} to {line}: not the answer yet{}.",
                i.status,
                if i.status == 100 {
                    "; 100 Continue tells the client to send the request body"
                } else {
                    ""
                }
            ));
        }
        if let Some(r) = &x.response {
            if r.frame == frame {
                out.push(response_starts(k, x, r, &line));
            }
            if r.end_frame == frame {
                out.push(response_ends(k, x, r));
            }
        }
    }
    out
}

/// Request `k` (0-based) begins: its line, headers, body and where it ends.
fn request_starts(k: usize, r: &Request, line: &str) -> String {
    let mut s = format!(
        "HTTP request {}: {line} ({}), {} header line{}",
        k + 1,
        clean(&r.version),
        r.headers.len(),
        if r.headers.len() == 1 { "" } else { "s" }
    );
    if r.body_bytes > 0 {
        s.push_str(&format!(", {} body bytes", r.body_bytes));
    }
    if let Some(h) = header(&r.headers, "expect") {
        s.push_str(&format!(", Expect: {}", clean(h)));
    }
    if r.end_frame == r.frame {
        s.push_str("; the whole request is in this segment");
    } else {
        s.push_str(&format!("; it ends in frame {}", r.end_frame));
    }
    s.push('.');
    s
}

/// Request `k` (0-based, not the first) after exchange `prev`: pipelined or kept alive.
fn request_follows(prev: &Exchange, k: usize, r: &Request) -> String {
    // HTTP/2 streams are concurrent, not pipelined: no order to keep.
    if prev.h2.is_some() {
        return format!(
            "HTTP/2: request {} goes on its own stream of the same connection; its answer need not wait for the earlier ones.",
            k + 1
        );
    }
    let pipelined = match &prev.response {
        None => true,
        Some(pr) => r.ts < pr.end_ts,
    };
    if pipelined {
        format!(
            "HTTP pipelining: request {} is sent before response {} has arrived; the server must answer in order.",
            k + 1,
            k
        )
    } else {
        format!(
            "HTTP keep-alive: the {} request reuses this connection, so it needs no new handshake.",
            ordinal(k + 1)
        )
    }
}

/// Response `k` (0-based) begins: status, time to first byte, framing, encoding.
fn response_starts(k: usize, x: &Exchange, r: &Response, line: &str) -> String {
    let mut s = format!(
        "HTTP response {}: {} {} to {line}",
        k + 1,
        r.status,
        clean(&r.reason)
    );
    if let Some(t) = x.ttfb_ms {
        s.push_str(&format!(
            ", {} after the request's last byte (time to first byte)",
            ms(t)
        ));
    }
    s.push_str(&format!("; {}", framing(x)));
    if let Some(enc) = &r.content_encoding {
        s.push_str(&format!("; the body is {}-compressed", clean(enc)));
    }
    if r.end_frame == r.frame {
        s.push_str("; the whole response is in this segment");
    }
    s.push('.');
    s
}

/// Response `k` (0-based) ends: complete or not, body sizes, total time.
fn response_ends(k: usize, x: &Exchange, r: &Response) -> String {
    let mut s = format!(
        "HTTP response {} {}: {} body bytes after transfer decoding",
        k + 1,
        if r.complete {
            "complete"
        } else {
            "stops here, incomplete"
        },
        r.body_bytes
    );
    if r.content_encoding.is_some() {
        s.push_str(&format!(", {} after decompression", r.body_bytes_decoded));
    }
    if let Some(t) = x.total_ms {
        s.push_str(&format!(
            "; {} from the request's first byte to the response's last",
            ms(t)
        ));
    }
    s.push('.');
    s
}

/// One line per exchange: "GET /index.html → 200 OK, 305 bytes, TTFB 0.086 ms".
pub fn exchange_summary(x: &Exchange) -> String {
    let mut s = request_line(x);
    match &x.response {
        Some(r) => {
            s.push_str(&format!(
                " → {} {}, {} body bytes",
                r.status,
                clean(&r.reason),
                r.body_bytes
            ));
            if let Some(t) = x.ttfb_ms {
                s.push_str(&format!(", TTFB {}", ms(t)));
            }
            if let Some(t) = x.total_ms {
                s.push_str(&format!(", total {}", ms(t)));
            }
        }
        None => s.push_str(" → no response captured"),
    }
    for a in &x.anomalies {
        s.push_str(&format!(" ⚠ {}", clean(&a.to_string())));
    }
    s
}
