//! What each frame's arrow says on a ladder, one source for the TUI's Ladder tab and
//! `tcpscope diagram`: TLS handshake messages (`tls::labels::frame_labels`), Application
//! Data records with their size and what they carry (`Application Data 1,400 B → GET /`),
//! HTTP/2 frames (`http2::label`, several in one segment joined), and on cleartext
//! HTTP/1.x what the segment carries (`explain::wire`, given by the caller).
//!
//! Every label has a full and a short form (the ladder's narrow step) and is escaped:
//! paths, SNI and ALPN are captured strings.

use crate::http::Exchange;
use crate::http2::FrameRecord;
use crate::pipeline::{Connection, H2State};
use crate::tls::labels::{self as tl, AppRecord};
use std::collections::{BTreeMap, HashMap};

/// One frame's label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameLabel {
    pub full: String,
    /// What is left once flags are letters (`ClientHello`, `HEADERS s1 GET /a +2 more`).
    pub short: String,
    /// The HTTP/2 stream the frame's first frame on a stream other than 0 belongs to.
    pub stream: Option<u32>,
    /// The label holds TLS handshake messages.
    pub tls: bool,
}

/// What the caller rebuilt from the capture (the labels from the connection alone need
/// nothing): the Application Data records of a TLS connection, the HTTP/1.x wire labels.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rebuilt<'a> {
    pub records: Option<&'a [AppRecord]>,
    pub wire: Option<&'a HashMap<u64, String>>,
}

/// The connection's HTTP/2 frames (cleartext, or decrypted from TLS).
pub fn h2_frames(c: &Connection) -> &[FrameRecord] {
    match c.h2_live.as_deref() {
        Some(H2State::Done(s)) => &s.frame_list,
        Some(H2State::Live(s)) => &s.summary().frame_list,
        _ => &[],
    }
}

/// The labels of `c` with what only the capture read again tells (a TLS connection's
/// record sizes); from the connection alone when it cannot be read again (standard
/// input).
pub fn read_labels(source: &crate::capture::Source, c: &Connection) -> BTreeMap<u64, FrameLabel> {
    if c.tls_info().is_none() {
        return frame_labels(c, Rebuilt::default());
    }
    match crate::stream::rebuild_stream(source, c, 0) {
        Ok(s) => frame_labels(
            c,
            Rebuilt {
                records: Some(&s.tls_records),
                wire: None,
            },
        ),
        Err(_) => frame_labels(c, Rebuilt::default()),
    }
}

/// Each labelled frame's label.
pub fn frame_labels(c: &Connection, rb: Rebuilt<'_>) -> BTreeMap<u64, FrameLabel> {
    let h2: BTreeMap<u64, (String, String, Option<u32>)> =
        crate::http2::label::by_frame(h2_frames(c))
            .into_iter()
            .map(|(f, (v, s))| {
                let (full, short) = crate::http2::label::joined(&v);
                (f, (full, short, s))
            })
            .collect();
    let Some(info) = c.tls_info() else {
        let mut out: BTreeMap<u64, FrameLabel> = h2
            .into_iter()
            .map(|(f, (full, short, stream))| (f, label(full, short, stream, false)))
            .collect();
        if out.is_empty()
            && let Some(w) = rb.wire
        {
            for (&f, h) in w {
                let first = h.split(" + ").next().unwrap_or(h).to_string();
                out.insert(f, label(h.clone(), first, None, false));
            }
        }
        return out;
    };
    let carried = if h2.is_empty() {
        exchange_starts(&c.http)
    } else {
        h2
    };
    let hs = tl::frame_labels(info);
    let app = rb
        .records
        .map(|r| tl::app_data_by_frame(info, r))
        .unwrap_or_default();
    let mut frames: Vec<u64> = hs
        .keys()
        .chain(app.keys())
        .chain(carried.keys())
        .copied()
        .collect();
    frames.sort_unstable();
    frames.dedup();
    frames
        .into_iter()
        .map(|f| {
            let h = hs.get(&f);
            let a = app.get(&f).map(|l| tl::app_data_label(l));
            let cr = carried.get(&f);
            let data_full = match (&a, cr) {
                (Some(a), Some(c)) => Some(format!("{a} → {}", c.0)),
                (Some(a), None) => Some(a.clone()),
                (None, Some(c)) => Some(c.0.clone()),
                (None, None) => None,
            };
            let data_short = cr.map(|c| c.1.clone()).or(a);
            let full = [h.cloned(), data_full].into_iter().flatten();
            let short = [h.map(|h| tls_short(h)), data_short].into_iter().flatten();
            let full: Vec<String> = full.collect();
            let short: Vec<String> = short.collect();
            let stream = cr.and_then(|c| c.2);
            (
                f,
                label(full.join(", "), short.join(", "), stream, h.is_some()),
            )
        })
        .collect()
}

fn label(full: String, short: String, stream: Option<u32>, tls: bool) -> FrameLabel {
    FrameLabel {
        full: crate::escape::escape(&full),
        short: crate::escape::escape(&short),
        stream,
        tls,
    }
}

/// Where each HTTP/1.x message of a decrypted connection starts: `GET /` at its
/// request's first frame, `200 OK` at its response's (several joined with ` + `).
fn exchange_starts(ex: &[Exchange]) -> BTreeMap<u64, (String, String, Option<u32>)> {
    let mut by: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for e in ex {
        if let Some(r) = &e.request {
            by.entry(r.meta.frame)
                .or_default()
                .push(format!("{} {}", r.method, r.uri));
        }
        if let Some(r) = &e.response {
            by.entry(r.meta.frame)
                .or_default()
                .push(format!("{} {}", r.status, r.reason).trim_end().to_string());
        }
    }
    by.into_iter()
        .map(|(f, v)| {
            let (full, short) = crate::http2::label::joined(&v);
            (f, (full, short, None))
        })
        .collect()
}

/// A TLS label's short form: the clear messages without their details (two at most,
/// `…` for more) and the first encrypted one
/// (`ServerHello TLS 1.3 AES_256_GCM, ChangeCipherSpec, {EncryptedExtensions, …}`).
pub fn tls_short(l: &str) -> String {
    let (clear, enc) = match l.find('{') {
        Some(i) => (l[..i].trim_end_matches([',', ' ']), Some(&l[i..])),
        None => (l, None),
    };
    // Details in parentheses hold commas of their own (`(SNI a, ALPN h2,http/1.1)`).
    let mut bare = String::new();
    let mut depth = 0usize;
    for ch in clear.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => bare.push(ch),
            _ => {}
        }
    }
    // Two clear messages stay (`ServerHello …, ChangeCipherSpec`); more become `…`.
    let msgs: Vec<&str> = bare
        .split(", ")
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    let mut parts: Vec<String> = match msgs.as_slice() {
        [] => Vec::new(),
        [a] => vec![a.to_string()],
        [a, b] => vec![a.to_string(), b.to_string()],
        [a, ..] => vec![a.to_string(), "…".into()],
    };
    if let Some(e) = enc {
        let inner = e.trim_start_matches('{').trim_end_matches('}');
        parts.push(match inner.split_once(", ") {
            Some((first, _)) => format!("{{{first}, …}}"),
            None => format!("{{{inner}}}"),
        });
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::tls_short;

    #[test]
    fn tls_labels_shorten_to_their_message_names() {
        assert_eq!(
            tls_short("ClientHello (SNI tls.test, ALPN h2,http/1.1)"),
            "ClientHello"
        );
        assert_eq!(
            tls_short(
                "ServerHello TLS 1.3 AES_256_GCM, {EncryptedExtensions, Certificate, CertificateVerify, Finished}"
            ),
            "ServerHello TLS 1.3 AES_256_GCM, {EncryptedExtensions, …}"
        );
        assert_eq!(
            tls_short("ChangeCipherSpec, {Finished}"),
            "ChangeCipherSpec, {Finished}"
        );
        assert_eq!(
            tls_short(
                "ServerHello TLS 1.2 CHACHA20_POLY1305, Certificate, ServerKeyExchange, ServerHelloDone"
            ),
            "ServerHello TLS 1.2 CHACHA20_POLY1305, …"
        );
        assert_eq!(
            tls_short("ClientKeyExchange, ChangeCipherSpec, {Finished}"),
            "ClientKeyExchange, ChangeCipherSpec, {Finished}"
        );
        assert_eq!(tls_short("{NewSessionTicket}"), "{NewSessionTicket}");
    }
}
