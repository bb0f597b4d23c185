//! Plain-language sentences about a connection: what each packet does, the arithmetic
//! behind its numbers (relative and raw, from the real ISNs), each state change and the
//! rule that made it, each analysis flag and the rule that fired, each HTTP message.
//!
//! One explain layer, several front ends: the TUI's Packets tab, `tcpscope explain`,
//! the diagrams' notes and the quiz all take their text from here. Pure functions over
//! the model (`Connection`, `PacketRecord`, `Transition`, `Finding`, `Exchange`): no
//! terminal, no pcap, no clock. Capture-derived strings (URIs, reasons) go through
//! [`clean`] so no control character reaches a terminal or a document.

pub mod findings;
pub mod narrative;
pub mod quiz;

use crate::flow::Dir;
use crate::http::Exchange;
use crate::pipeline::Connection;
use crate::tcp::PacketRecord;
use crate::tcp::analysis::Finding;
use crate::tcp::handshake::Outcome;
use crate::tcp::state::{TcpState, Transition};
use std::sync::OnceLock;

/// What the explain layer needs to know about one connection. Built from a finished
/// [`Connection`] with [`ConnFacts::of`], or from a bare packet list (no ISNs, no rules,
/// no HTTP) with [`ConnFacts::bare`].
///
/// Explaining every packet of a connection with the same `ConnFacts` is linear in the
/// packet count: the positions of each side's SYNs, FINs and first ACK are found in one
/// pass, the first time [`packet`] needs them, and kept here.
#[derive(Clone, Debug, Default)]
pub struct ConnFacts<'a> {
    pub packets: &'a [PacketRecord],
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    pub client_transitions: &'a [Transition],
    pub server_transitions: &'a [Transition],
    pub http: &'a [Exchange],
    /// The server's port, when known (for "no process listens on port 81").
    pub server_port: Option<u16>,
    /// Built lazily from `packets` by [`ConnFacts::marks`].
    marks: OnceLock<Marks<'a>>,
}

/// Where each side's SYNs, FINs and first ACK are in a packet list, so that "the peer's
/// last SYN / FIN before packet `i`" takes a binary search instead of a walk back over
/// `packets[..i]` for every packet. Arrays are indexed by [`Dir::idx`].
#[derive(Clone, Debug, Default)]
struct Marks<'a> {
    /// The list the positions refer to (to detect a `ConnFacts` whose `packets` changed).
    packets: &'a [PacketRecord],
    /// Positions of the packets with SYN set, ascending.
    syns: [Vec<usize>; 2],
    /// Positions of the packets with FIN set, ascending.
    fins: [Vec<usize>; 2],
    /// Position of the first packet with ACK set.
    first_ack: [Option<usize>; 2],
}

impl<'a> Marks<'a> {
    fn of(packets: &'a [PacketRecord]) -> Self {
        let mut m = Marks {
            packets,
            ..Default::default()
        };
        for (k, p) in packets.iter().enumerate() {
            let d = p.dir.idx();
            if p.flags.syn() {
                m.syns[d].push(k);
            }
            if p.flags.fin() {
                m.fins[d].push(k);
            }
            if p.flags.ack() && m.first_ack[d].is_none() {
                m.first_ack[d] = Some(k);
            }
        }
        m
    }

    /// The last position in `v` (ascending) before `i`.
    fn last_before(v: &[usize], i: usize) -> Option<usize> {
        v[..v.partition_point(|&k| k < i)].last().copied()
    }

    /// The most recent SYN `d` sent before packet `i`.
    fn syn_before(&self, d: Dir, i: usize) -> Option<&'a PacketRecord> {
        Self::last_before(&self.syns[d.idx()], i).map(|k| &self.packets[k])
    }

    /// The most recent FIN `d` sent before packet `i`.
    fn fin_before(&self, d: Dir, i: usize) -> Option<&'a PacketRecord> {
        Self::last_before(&self.fins[d.idx()], i).map(|k| &self.packets[k])
    }

    /// Whether `d` sent a packet with ACK set before packet `i`.
    fn acked_before(&self, d: Dir, i: usize) -> bool {
        self.first_ack[d.idx()].is_some_and(|k| k < i)
    }
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
            server_port: Some(c.server.port),
            marks: OnceLock::new(),
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

    /// The SYN / FIN / ACK positions of `packets`, built on first use. `None` if
    /// `packets` was replaced after they were built (the fields are public): the caller
    /// then builds fresh ones.
    fn marks(&self) -> Option<&Marks<'a>> {
        let m = self.marks.get_or_init(|| Marks::of(self.packets));
        std::ptr::eq(m.packets, self.packets).then_some(m)
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

/// What a sentence about a packet is about, so front ends (the quiz, the TUI) choose
/// sentences by topic, never by their wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// What the packet does: SYN, SYN-ACK, RST.
    Opens,
    /// The ACK number and its arithmetic (relative and raw).
    Ack,
    /// The ACK that completes the three-way handshake.
    Handshake,
    /// The payload and the next new byte, or "no data".
    Data,
    Fin,
    Psh,
    Window,
    /// A state change of one side.
    State(Dir),
    /// An analysis finding.
    Finding,
    /// An HTTP message at this frame.
    Http,
}

/// One sentence about a packet and what it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct Said {
    pub topic: Topic,
    pub text: String,
}

/// Explain packet `i` of a connection. Every line is a sentence. Lines about analysis
/// flags start with `⚠`, state changes with "client state:" / "server state:", HTTP
/// messages with "HTTP".
pub fn packet(cf: &ConnFacts<'_>, i: usize) -> Vec<String> {
    packet_said(cf, i).into_iter().map(|s| s.text).collect()
}

/// The sentences of [`packet`] with their topics.
pub fn packet_said(cf: &ConnFacts<'_>, i: usize) -> Vec<Said> {
    let pkts = cf.packets;
    let Some(p) = pkts.get(i) else {
        return Vec::new();
    };
    let mut topics: Vec<Topic> = Vec::new();
    // Every sentence pushed since the last call is about `t`.
    let tag = |topics: &mut Vec<Topic>, out: &Vec<String>, t: Topic| topics.resize(out.len(), t);
    let me = p.dir.name();
    let peer = p.dir.other().name();
    let f = p.flags;
    let mut out = Vec::new();
    let seglen = p.len + u32::from(f.syn()) + u32::from(f.fin());
    let fresh;
    let marks = match cf.marks() {
        Some(m) => m,
        None => {
            fresh = Marks::of(pkts);
            &fresh
        }
    };
    // The peer's most recent SYN / FIN before this packet, for the ACK arithmetic.
    let peer_syn = marks.syn_before(p.dir.other(), i);
    let peer_fin = marks.fin_before(p.dir.other(), i);

    // What the packet does.
    let (before_me, before_peer) = {
        let b = states_before(pkts, i);
        match p.dir {
            Dir::Client => (b.0, b.1),
            Dir::Server => (b.1, b.0),
        }
    };
    if f.rst() && before_me == TcpState::Closed && before_peer == TcpState::SynSent {
        // RFC 9293 §3.10.7.1: a SYN to a CLOSED port is answered by RST. Nothing was
        // open, so nothing is aborted.
        let port = cf
            .server_port
            .filter(|_| p.dir == Dir::Server)
            .map_or("that port".to_string(), |n| format!("port {n}"));
        out.push(format!(
            "RST from the {me}: no process listens on {port}: the connection is refused. The {me} was never in LISTEN; it stays CLOSED, and the {peer}'s attempt ends."
        ));
    } else if f.rst() {
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
    tag(&mut topics, &out, Topic::Opens);
    if f.ack() && !f.rst() {
        let first_ack_from_me = !marks.acked_before(p.dir, i);
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
                tag(&mut topics, &out, Topic::Ack);
                out.push(format!(
                    "This ACK of the {peer}'s SYN-ACK completes the three-way handshake."
                ));
                tag(&mut topics, &out, Topic::Handshake);
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
    tag(&mut topics, &out, Topic::Ack);
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
    tag(&mut topics, &out, Topic::Data);
    if f.fin() {
        out.push(format!(
            "FIN: the {me} has no more data to send. A FIN counts as one byte (seq {}), so the {peer} will acknowledge {}.",
            p.seq.wrapping_add(p.len),
            p.seq.wrapping_add(seglen)
        ));
        let peer_dir = p.dir.other();
        if let Some(t) = cf
            .transitions(peer_dir)
            .iter()
            .find(|t| t.fin_frame == Some(p.frame) && t.frame != p.frame)
        {
            out.push(format!(
                "FIN received at frame {} ahead of missing data; it takes effect at frame {}: a receiver acts on a FIN only once every byte before it has arrived (RFC 9293 §3.10.7.4).",
                p.frame, t.frame
            ));
        }
    }
    tag(&mut topics, &out, Topic::Fin);
    if f.psh() && p.len > 0 {
        out.push("PSH: deliver the data to the application without waiting.".to_string());
    }
    tag(&mut topics, &out, Topic::Psh);
    if !f.rst() {
        out.push(window_sentence(p, me));
    }
    tag(&mut topics, &out, Topic::Window);
    let mut said: Vec<Said> = topics
        .into_iter()
        .zip(out)
        .map(|(topic, text)| Said { topic, text })
        .collect();
    said.extend(state_changes_of(cf, i).into_iter().map(|(d, text)| Said {
        topic: Topic::State(d),
        text,
    }));
    said.extend(p.analysis.iter().map(|x| Said {
        topic: Topic::Finding,
        text: finding(x),
    }));
    said.extend(
        http_at_frame(cf.http, p.frame)
            .into_iter()
            .map(|text| Said {
                topic: Topic::Http,
                text,
            }),
    );
    said
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
    let held = match t.fin_frame {
        Some(x) if x != t.frame => format!(
            " (FIN received at frame {x} ahead of missing data; it takes effect at frame {})",
            t.frame
        ),
        _ => String::new(),
    };
    format!(
        "{} state: {} → {}: {}{}{held}",
        d.name(),
        t.from,
        t.state,
        t.reason,
        if t.inferred { " (inferred)" } else { "" }
    )
}

/// The state changes packet `i` caused: the recorded transitions of its frame (with
/// their rules) or, without them, the difference of the states before and after.
pub fn state_changes(cf: &ConnFacts<'_>, i: usize) -> Vec<String> {
    state_changes_of(cf, i)
        .into_iter()
        .map(|(_, s)| s)
        .collect()
}

/// [`state_changes`], each with the side whose state changed.
fn state_changes_of(cf: &ConnFacts<'_>, i: usize) -> Vec<(Dir, String)> {
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
                out.push((d, format!("{} state: {before} → {after}", d.name())));
            }
        } else {
            out.extend(ts.into_iter().map(|t| (d, transition(d, t))));
        }
    }
    out
}

/// An analysis flag and the rule that fired: "⚠ Dup ACK: no data, same ACK ...".
pub fn finding(x: &Finding) -> String {
    format!("⚠ {}: {}", x.flag().label(), clean(&findings::why(x)))
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
    let v: Vec<&str> = p.analysis.iter().map(|f| f.flag().label()).collect();
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
        Outcome::Refused => format!(
            "The server refused the connection: it answered the SYN with RST (no process listens on port {}; the server was never in LISTEN).",
            c.server.port
        ),
        Outcome::NoAnswer => "Nothing answered the SYN: the client gave up (or the capture ended) waiting.".to_string(),
        Outcome::SimultaneousOpen => "Both sides sent a SYN: a simultaneous open.".to_string(),
        Outcome::NotCaptured => "The capture began after the handshake, so the ISNs and window scales are unknown; relative numbers count as though each ISN were the number just before the first byte seen (the first byte seen is 1, as in Wireshark).".to_string(),
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
            "The client sent its SYN {} times ({} retransmissions, waits {}): {}, so it retried with the same ISN: one attempt, sent again, not a new connection.",
            h.syns.len(),
            h.syn_retransmissions,
            backoffs.join(", "),
            if h.outcome == Outcome::Refused {
                "each time the server refused it with RST"
            } else {
                "no answer came at first"
            }
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
        let skipped = s.rtt.samples_skipped + s.handshake.timings_skipped;
        if c.timestamps_backwards > 0 || skipped > 0 {
            out.push(format!(
                "{} packets of this connection are stamped before an earlier one (the capture's clock went back); {skipped} timings across them (RTT samples, handshake times) are left out rather than shown negative or absurd.",
                c.timestamps_backwards
            ));
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

pub use crate::ts::human_duration;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::test_handshake as handshake;
    use crate::ts::Ts;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human_duration(3_000_000), "3 ms");
        assert_eq!(human_duration(-3_000_000), "3 ms");
        assert_eq!(human_duration(1_500_000_000), "1.5 s");
        assert_eq!(human_duration(12_000), "12 µs");
        assert_eq!(human_duration(999), "999 ns");
        assert_eq!(human_duration(0), "0 ns");
        assert_eq!(human_duration(86_400_000_000_000), "1 day");
        assert_eq!(human_duration(668_322_441_995_000_000), "21 years");
        assert_eq!(human_duration(120_000_000_000), "2 min");
    }

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
            fin_frame: None,
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

    /// A varied packet list: both directions, repeated SYNs and FINs, RSTs, packets
    /// without ACK, from a fixed pseudo-random sequence.
    fn mixed(n: usize) -> Vec<PacketRecord> {
        use crate::decode::TcpFlags as F;
        let mut x: u32 = 12345;
        (0..n)
            .map(|k| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let r = x >> 16;
                let dir = if r & 1 == 0 { Dir::Client } else { Dir::Server };
                let flags = [
                    F::SYN,
                    F::SYN | F::ACK,
                    F::ACK,
                    F::FIN | F::ACK,
                    F::FIN,
                    F::RST,
                ][(r >> 1) as usize % 6];
                let mut p = crate::tcp::test_record(
                    dir,
                    flags,
                    r % 7,
                    r % 5,
                    (r >> 4) % 3,
                    (TcpState::Established, TcpState::Established),
                );
                p.frame = k as u64 + 1;
                p
            })
            .collect()
    }

    #[test]
    fn marks_match_a_backward_scan() {
        let pkts = mixed(300);
        let m = Marks::of(&pkts);
        for i in 0..=pkts.len() {
            for d in [Dir::Client, Dir::Server] {
                let back = |pred: &dyn Fn(&PacketRecord) -> bool| {
                    pkts[..i].iter().rev().find(|q| q.dir == d && pred(q))
                };
                let same = |a: Option<&PacketRecord>, b: Option<&PacketRecord>| match (a, b) {
                    (Some(a), Some(b)) => std::ptr::eq(a, b),
                    (None, None) => true,
                    _ => false,
                };
                assert!(
                    same(m.syn_before(d, i), back(&|q| q.flags.syn())),
                    "{i} {d:?}"
                );
                assert!(
                    same(m.fin_before(d, i), back(&|q| q.flags.fin())),
                    "{i} {d:?}"
                );
                assert_eq!(
                    m.acked_before(d, i),
                    pkts[..i].iter().any(|q| q.dir == d && q.flags.ack()),
                    "{i} {d:?}"
                );
            }
        }
    }

    #[test]
    fn replaced_packets_are_not_explained_from_stale_marks() {
        let a = mixed(50);
        let b = mixed(80);
        let mut cf = ConnFacts::bare(&a);
        let _ = packet(&cf, 10);
        cf.packets = &b;
        for i in 0..b.len() {
            assert_eq!(packet(&cf, i), packet(&ConnFacts::bare(&b), i), "{i}");
        }
    }

    /// Explaining every packet of a long connection is linear: the peer's SYN / FIN is
    /// no longer searched for by walking back over all earlier packets (which took
    /// minutes for 200,000 packets in a debug build).
    #[test]
    fn explaining_a_long_connection_is_linear() {
        use crate::decode::TcpFlags as F;
        const N: usize = 200_000;
        let est = (TcpState::Established, TcpState::Established);
        let mut pkts = handshake();
        let mut seq = 1u32;
        while pkts.len() < N - 2 {
            pkts.push(crate::tcp::test_record(
                Dir::Client,
                F::PSH | F::ACK,
                seq,
                1,
                100,
                est,
            ));
            seq += 100;
            pkts.push(crate::tcp::test_record(Dir::Server, F::ACK, 1, seq, 0, est));
        }
        pkts.push(crate::tcp::test_record(
            Dir::Client,
            F::FIN | F::ACK,
            seq,
            1,
            0,
            (TcpState::FinWait1, TcpState::CloseWait),
        ));
        pkts.push(crate::tcp::test_record(
            Dir::Server,
            F::ACK,
            1,
            seq + 1,
            0,
            (TcpState::FinWait1, TcpState::CloseWait),
        ));
        for (k, p) in pkts.iter_mut().enumerate() {
            p.frame = k as u64 + 1;
        }
        let cf = ConnFacts::bare(&pkts);
        let start = std::time::Instant::now();
        let mut lines = 0;
        for i in 0..pkts.len() {
            lines += packet(&cf, i).len();
        }
        let took = start.elapsed();
        assert!(lines > pkts.len());
        assert!(
            took < std::time::Duration::from_secs(20),
            "explaining {} packets took {took:?}",
            pkts.len()
        );
        // The sentences that need the peer's SYN / FIN are still found at the far end.
        let t = packet(&cf, pkts.len() - 1).join("\n");
        assert!(t.contains("the client's FIN seq"), "{t}");
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
