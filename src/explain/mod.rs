//! Plain-language sentences about a connection: what each packet does, the arithmetic
//! behind its numbers (relative and raw, from the real ISNs), each state change and the
//! rule that made it, each analysis flag and the rule that fired, each HTTP message.
//!
//! One explain layer, several front ends: the TUI's Packets tab, `tcpscope explain`,
//! the diagrams' notes and the quiz all take their text from here. Pure functions over
//! the model (`Connection`, `PacketRecord`, `Transition`, `Finding`, `Exchange`): no
//! terminal, no pcap, no clock. Capture-derived strings (URIs, reasons) go through
//! [`clean`] so no control character reaches a terminal or a document.

pub mod narrative;
pub mod quiz;

use crate::analyze::Connection;
use crate::flow::Dir;
use crate::http::Exchange;
use crate::tcp::PacketRecord;
use crate::tcp::analysis::Finding;
use crate::tcp::handshake::Outcome;
use crate::tcp::state::{TcpState, Transition};

/// "client" / "server".
pub fn side(d: Dir) -> &'static str {
    match d {
        Dir::Client => "client",
        Dir::Server => "server",
    }
}

/// What the explain layer needs to know about one connection. Built from a finished
/// [`Connection`] with [`ConnFacts::of`], or from a bare packet list (no ISNs, no rules,
/// no HTTP) with [`ConnFacts::bare`].
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnFacts<'a> {
    pub packets: &'a [PacketRecord],
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    pub client_transitions: &'a [Transition],
    pub server_transitions: &'a [Transition],
    pub http: &'a [Exchange],
}

impl<'a> ConnFacts<'a> {
    pub fn bare(packets: &'a [PacketRecord]) -> Self {
        ConnFacts {
            packets,
            ..Default::default()
        }
    }

    pub fn of(c: &'a Connection) -> Self {
        let Some(s) = c.summary.as_ref() else {
            return ConnFacts {
                http: &c.http,
                ..Default::default()
            };
        };
        ConnFacts {
            packets: s.packets.as_deref().unwrap_or(&[]),
            client_isn: s.handshake.client_isn,
            server_isn: s.handshake.server_isn,
            client_transitions: &s.states.client,
            server_transitions: &s.states.server,
            http: &c.http,
        }
    }

    fn isn(&self, d: Dir) -> Option<u32> {
        match d {
            Dir::Client => self.client_isn,
            Dir::Server => self.server_isn,
        }
    }

    fn transitions(&self, d: Dir) -> &'a [Transition] {
        match d {
            Dir::Client => self.client_transitions,
            Dir::Server => self.server_transitions,
        }
    }
}

/// Make capture-derived text safe for a terminal or a document: control characters,
/// C1 controls, bidi overrides and zero-width characters become visible escapes (the
/// same escaping the TUI uses).
pub fn clean(s: &str) -> String {
    crate::escape::escape(s)
}

/// States of (client, server) before packet `i`.
pub fn states_before(pkts: &[PacketRecord], i: usize) -> (TcpState, TcpState) {
    if i == 0 {
        (TcpState::Closed, TcpState::Closed)
    } else {
        pkts.get(i - 1)
            .map_or((TcpState::Closed, TcpState::Closed), |p| p.states_after)
    }
}

/// Explain packet `i` of a bare packet list (no ISNs, rules or HTTP known).
pub fn explain_packet(pkts: &[PacketRecord], i: usize) -> Vec<String> {
    packet(&ConnFacts::bare(pkts), i)
}

/// Explain packet `i` of a connection. Every line is a sentence. Lines about analysis
/// flags start with `⚠`, state changes with "client state:" / "server state:", HTTP
/// messages with "HTTP".
pub fn packet(cf: &ConnFacts<'_>, i: usize) -> Vec<String> {
    let pkts = cf.packets;
    let Some(p) = pkts.get(i) else {
        return Vec::new();
    };
    let me = side(p.dir);
    let peer = side(p.dir.other());
    let f = p.flags;
    let mut out = Vec::new();
    let seglen = p.len + u32::from(f.syn()) + u32::from(f.fin());
    // The peer's most recent SYN / FIN before this packet, for the ACK arithmetic.
    let peer_syn = pkts[..i]
        .iter()
        .rev()
        .find(|q| q.dir != p.dir && q.flags.syn());
    let peer_fin = pkts[..i]
        .iter()
        .rev()
        .find(|q| q.dir != p.dir && q.flags.fin());

    // What the packet does.
    if f.rst() {
        out.push(format!(
            "RST from the {me}: abort the connection at once; no FIN exchange, unsent and unacknowledged data is discarded."
        ));
    } else if f.syn() && !f.ack() {
        let raw = cf
            .isn(p.dir)
            .map(|isn| format!(", {isn} in the raw header"))
            .unwrap_or_default();
        out.push(format!(
            "SYN from the {me}: asks to open a connection. Seq {} is relative: 0 stands for the {me}'s initial sequence number (ISN){raw}.",
            p.seq
        ));
        out.push(
            "A SYN counts as one byte of sequence space, so the first data byte will be seq 1."
                .to_string(),
        );
    } else if f.syn() && f.ack() {
        let raw = cf
            .isn(p.dir)
            .map(|isn| format!(", {isn} in the raw header"))
            .unwrap_or_default();
        out.push(format!(
            "SYN-ACK from the {me}: accepts the {peer}'s SYN and sends its own ISN (relative seq {}{raw}).",
            p.seq
        ));
    }
    if f.ack() && !f.rst() {
        let first_ack_from_me = !pkts[..i].iter().any(|q| q.dir == p.dir && q.flags.ack());
        if p.ack == 1 && peer_syn.is_some() && peer_fin.is_none() && first_ack_from_me {
            out.push(format!(
                "ACK 1 = {peer} ISN + 1: a SYN counts as one byte, so acknowledging the SYN means expecting byte 1 next."
            ));
            if let Some(isn) = cf.isn(p.dir.other()) {
                out.push(format!(
                    "In raw numbers: the {me} answers ACK {}: the {peer}'s ISN {isn} plus 1, because a SYN counts as one byte.",
                    isn.wrapping_add(1)
                ));
            }
            if !f.syn() && peer_syn.is_some_and(|s| s.flags.ack()) && p.len == 0 {
                out.push(format!(
                    "This ACK of the {peer}'s SYN-ACK completes the three-way handshake."
                ));
            }
        } else if let Some(fin) = peer_fin
            && p.ack == fin.seq.wrapping_add(fin.len).wrapping_add(1)
        {
            out.push(format!(
                "ACK {} = the {peer}'s FIN seq {} + {} data bytes + 1: a FIN counts as one byte, so this acknowledges the FIN.",
                p.ack, fin.seq, fin.len
            ));
        } else {
            out.push(format!(
                "ACK {}: the {me} has received every {peer} byte before {} and expects byte {} next.",
                p.ack, p.ack, p.ack
            ));
        }
    }
    if p.len > 0 {
        let last = p.seq.wrapping_add(p.len).wrapping_sub(1);
        out.push(format!(
            "Carries {} data bytes, seq {}..{}; the {me}'s next new byte is seq {} + {} = {}.",
            p.len,
            p.seq,
            last,
            p.seq,
            p.len,
            p.seq.wrapping_add(p.len)
        ));
    } else if !f.syn() && !f.fin() && !f.rst() {
        out.push("No data: a pure acknowledgement (it does not use sequence space).".to_string());
    }
    if f.fin() {
        out.push(format!(
            "FIN: the {me} has no more data to send. A FIN counts as one byte (seq {}), so the {peer} will acknowledge {}.",
            p.seq.wrapping_add(p.len),
            p.seq.wrapping_add(seglen)
        ));
    }
    if f.psh() && p.len > 0 {
        out.push("PSH: deliver the data to the application without waiting.".to_string());
    }
    if !f.rst() {
        out.push(window_sentence(p, me));
    }

    out.extend(state_changes(cf, i));
    out.extend(p.analysis.iter().map(finding));
    out.extend(http_at_frame(cf.http, p.frame));
    out
}

fn window_sentence(p: &PacketRecord, me: &str) -> String {
    match p.window_scaled {
        Some(w) if w != u64::from(p.window) => format!(
            "Window {} × scale {} = {} bytes: how much more the {me} can receive.",
            p.window,
            w / u64::from(p.window.max(1)),
            w
        ),
        Some(w) => format!(
            "Window {w} bytes: how much more the {me} can receive{}.",
            if p.flags.syn() {
                " (windows in SYNs are never scaled)"
            } else {
                ""
            }
        ),
        None => format!(
            "Window {} (raw): the scale factor is unknown because the handshake was not captured.",
            p.window
        ),
    }
}

/// One state change with the rule that made it:
/// "client state: SYN-SENT → ESTABLISHED: received SYN-ACK for its SYN".
pub fn transition(d: Dir, t: &Transition) -> String {
    format!(
        "{} state: {} → {}: {}{}",
        side(d),
        t.from,
        t.state,
        t.reason,
        if t.inferred { " (inferred)" } else { "" }
    )
}

/// The state changes packet `i` caused: the recorded transitions of its frame (with
/// their rules) or, without them, the difference of the states before and after.
pub fn state_changes(cf: &ConnFacts<'_>, i: usize) -> Vec<String> {
    let Some(p) = cf.packets.get(i) else {
        return Vec::new();
    };
    let (bc, bs) = states_before(cf.packets, i);
    let (ac, as_) = p.states_after;
    let mut out = Vec::new();
    for (d, before, after) in [(Dir::Client, bc, ac), (Dir::Server, bs, as_)] {
        let ts: Vec<&Transition> = cf
            .transitions(d)
            .iter()
            .filter(|t| t.frame == p.frame)
            .collect();
        if ts.is_empty() {
            if before != after {
                out.push(format!("{} state: {before} → {after}", side(d)));
            }
        } else {
            out.extend(ts.into_iter().map(|t| transition(d, t)));
        }
    }
    out
}

/// An analysis flag and the rule that fired: "⚠ Dup ACK: no data, same ACK ...".
pub fn finding(x: &Finding) -> String {
    format!("⚠ {}: {}", x.flag.label(), clean(&x.why))
}

/// A one-line label for a ladder arrow: flags and the relative numbers.
pub fn arrow_label(p: &PacketRecord) -> String {
    let mut s = format!("{} seq={}", p.flags, p.seq);
    if p.flags.ack() {
        s.push_str(&format!(" ack={}", p.ack));
    }
    s.push_str(&format!(
        " len={} win={}",
        p.len,
        p.window_scaled.unwrap_or(u64::from(p.window))
    ));
    s
}

/// Short marker for analysis flags, e.g. `[Retransmission]`.
pub fn flag_marker(p: &PacketRecord) -> Option<String> {
    if p.analysis.is_empty() {
        return None;
    }
    let v: Vec<&str> = p.analysis.iter().map(|f| f.flag.label()).collect();
    Some(format!("[{}]", v.join(", ")))
}

fn header<'h>(h: &'h [(String, String)], name: &str) -> Option<&'h str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn ms(v: f64) -> String {
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
    let mut out = Vec::new();
    for (k, x) in xs.iter().enumerate() {
        let line = request_line(x);
        if let Some(r) = &x.request {
            if r.frame == frame {
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
                out.push(s);
                if k > 0 {
                    let prev = &xs[k - 1];
                    let pipelined = match &prev.response {
                        None => true,
                        Some(pr) => r.ts_ns < pr.end_ts_ns,
                    };
                    if pipelined {
                        out.push(format!(
                            "HTTP pipelining: request {} is sent before response {} has arrived; the server must answer in order.",
                            k + 1,
                            k
                        ));
                    } else {
                        out.push(format!(
                            "HTTP keep-alive: the {} request reuses this connection, so it needs no new handshake.",
                            ordinal(k + 1)
                        ));
                    }
                }
            } else if r.end_frame == frame {
                out.push(format!(
                    "HTTP request {}: the last byte of {line} arrives ({} body bytes).",
                    k + 1,
                    r.body_bytes
                ));
            }
        }
        for i in &x.interim {
            if i.frame == frame {
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
        }
        if let Some(r) = &x.response {
            if r.frame == frame {
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
                out.push(s);
            }
            if r.end_frame == frame {
                let mut s = format!(
                    "HTTP response {} {}: {} body bytes after transfer decoding",
                    k + 1,
                    if r.complete {
                        "complete"
                    } else {
                        "stops here, incomplete"
                    },
                    r.body_bytes_wire
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
                out.push(s);
            }
        }
    }
    out
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
                r.body_bytes_wire
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
        s.push_str(&format!(" ⚠ {}", clean(a)));
    }
    s
}

/// Sentences that open a connection's story: who talks to whom, the handshake, the ISNs
/// (and what relative numbers are), the options each side offered.
pub fn connection_intro(c: &Connection) -> Vec<String> {
    let mut out = vec![format!(
        "Connection {}: client {} talks to server {}{}.",
        c.id,
        c.client,
        c.server,
        if c.role_guessed {
            " (roles guessed: the opening SYN was not captured)"
        } else {
            ""
        }
    )];
    let Some(s) = c.summary.as_ref() else {
        return out;
    };
    let h = &s.handshake;
    out.push(match h.outcome {
        Outcome::Complete => format!(
            "The three-way handshake completed (SYN frame {}, SYN-ACK frame {}, ACK frame {}){}.",
            opt(h.syn_frame),
            opt(h.syn_ack_frame),
            opt(h.ack_frame),
            h.irtt_ms
                .map(|t| format!("; initial RTT {}", ms(t)))
                .unwrap_or_default()
        ),
        Outcome::Refused => "The server refused the connection: it answered the SYN with RST (no process listens on that port).".to_string(),
        Outcome::NoAnswer => "Nothing answered the SYN: the client gave up (or the capture ended) waiting.".to_string(),
        Outcome::SimultaneousOpen => "Both sides sent a SYN: a simultaneous open.".to_string(),
        Outcome::NotCaptured => "The capture began after the handshake, so the ISNs and window scales are unknown; relative numbers count from the first sequence number seen.".to_string(),
        Outcome::ResetDuringHandshake => "A RST ended the opening before the handshake completed.".to_string(),
        Outcome::Incomplete => "SYN and SYN-ACK were seen but the completing ACK never was.".to_string(),
    });
    if h.syn_retransmissions > 0 {
        let backoffs: Vec<String> = h
            .syns
            .iter()
            .filter_map(|a| a.backoff_ms.map(|b| format!("{b:.0} ms")))
            .collect();
        out.push(format!(
            "The client sent its SYN {} times ({} retransmissions, waits {}): no answer came at first, so it retried with the same ISN.",
            h.syns.len(),
            h.syn_retransmissions,
            backoffs.join(", ")
        ));
    }
    if h.syn_ack_retransmissions > 0 {
        out.push(format!(
            "The server sent its SYN-ACK {} times.",
            h.syn_acks.len()
        ));
    }
    match (h.client_isn, h.server_isn) {
        (Some(ci), Some(si)) => out.push(format!(
            "The client's ISN is {ci}, the server's {si}. Sequence and acknowledgement numbers below are relative: raw number − ISN, so each side's SYN is 0 and its first data byte is 1."
        )),
        (Some(ci), None) => out.push(format!(
            "The client's ISN is {ci}; sequence numbers below are relative to it (the SYN is 0)."
        )),
        _ => {}
    }
    for (who, o) in [("client", h.options.client), ("server", h.options.server)] {
        if let Some(o) = o {
            let mut parts = Vec::new();
            if let Some(m) = o.mss {
                parts.push(format!("MSS {m} (largest segment it accepts)"));
            }
            if let Some(w) = o.wscale {
                parts.push(format!(
                    "window scale {w} (multiply its windows by {})",
                    1u64 << w.min(14)
                ));
            }
            if o.sack_perm {
                parts.push("SACK permitted".to_string());
            }
            if o.timestamps {
                parts.push("timestamps".to_string());
            }
            if !parts.is_empty() {
                out.push(format!("The {who} offered: {}.", parts.join(", ")));
            }
        }
    }
    out
}

/// Sentences that close a connection's story: final states, how it ended, flag counts,
/// HTTP exchanges.
pub fn connection_outro(c: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = c.summary.as_ref() {
        out.push(format!(
            "At the end of the capture the client is in {} and the server in {}.",
            s.final_states.client, s.final_states.server
        ));
        if s.final_states.client == TcpState::TimeWait
            || s.final_states.server == TcpState::TimeWait
        {
            out.push("TIME-WAIT belongs to the side that closed first: it waits 2×MSL so that a lost final ACK can be sent again and old segments die out before the port pair is reused.".to_string());
        }
        out.push(format!(
            "Zeek summary: conn_state {}, history {}.",
            s.conn_state,
            clean(&s.history)
        ));
        let counts = serde_json::to_value(&s.analysis).ok();
        if let Some(serde_json::Value::Object(m)) = counts {
            let v: Vec<String> = m
                .iter()
                .filter_map(|(k, n)| n.as_u64().filter(|n| *n > 0).map(|n| format!("{k} {n}")))
                .collect();
            if v.is_empty() {
                out.push(
                    "No analysis flag fired: no loss, reordering or window trouble was seen."
                        .to_string(),
                );
            } else {
                out.push(format!("Analysis flags: {}.", v.join(", ")));
            }
        }
        if s.rtt.samples > 0
            && let (Some(a), Some(b), Some(m)) = (s.rtt.min_ms, s.rtt.avg_ms, s.rtt.max_ms)
        {
            out.push(format!(
                "RTT from {} data → ACK samples: min {}, avg {}, max {}.",
                s.rtt.samples,
                ms(a),
                ms(b),
                ms(m)
            ));
        }
    }
    for (k, x) in c.http.iter().enumerate() {
        out.push(format!("HTTP exchange {}: {}.", k + 1, exchange_summary(x)));
    }
    out
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "?".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::test_handshake as handshake;
    use crate::ts::Ts;

    #[test]
    fn raw_isn_arithmetic() {
        let p = handshake();
        let cf = ConnFacts {
            client_isn: Some(1000),
            server_isn: Some(5000),
            ..ConnFacts::bare(&p)
        };
        let t = packet(&cf, 1).join("\n");
        assert!(
            t.contains("the server answers ACK 1001: the client's ISN 1000 plus 1, because a SYN counts as one byte"),
            "{t}"
        );
        let t = packet(&cf, 0).join("\n");
        assert!(t.contains("(ISN), 1000 in the raw header."), "{t}");
        let t = packet(&cf, 2).join("\n");
        assert!(t.contains("ACK 5001: the server's ISN 5000 plus 1"), "{t}");
    }

    #[test]
    fn transitions_carry_their_rule() {
        let p = handshake();
        let tr = [Transition {
            from: TcpState::SynSent,
            state: TcpState::Established,
            frame: 2,
            ts: Ts(0),
            inferred: false,
            reason: "received SYN-ACK for its SYN",
        }];
        let cf = ConnFacts {
            client_transitions: &tr,
            ..ConnFacts::bare(&p)
        };
        let t = packet(&cf, 1).join("\n");
        assert!(
            t.contains("client state: SYN-SENT → ESTABLISHED: received SYN-ACK for its SYN"),
            "{t}"
        );
        // No server transition recorded for frame 2: the state difference is used.
        assert!(t.contains("server state: LISTEN → SYN-RECEIVED"), "{t}");
    }

    #[test]
    fn clean_escapes_controls() {
        assert_eq!(clean("a\u{1b}[2Jb\u{202e}\n"), "a^[[2Jb\\u{202E}\\n");
    }

    #[test]
    fn ordinals() {
        assert_eq!(ordinal(2), "2nd");
        assert_eq!(ordinal(3), "3rd");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(21), "21st");
    }
}
