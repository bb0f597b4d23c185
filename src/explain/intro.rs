//! The sentences that open and close a connection's story: who talks to whom, how the
//! handshake went, the ISNs and options; the final states, flag counts and exchanges.

use super::clean;
use super::http::{exchange_summary, ms};
use crate::pipeline::Connection;
use crate::tcp::handshake::{Handshake, Outcome, SideOptions};
use crate::tcp::state::TcpState;

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
    out.push(handshake_outcome(c, h));
    retries(h, &mut out);
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
            options(who, &o, &mut out);
        }
    }
    out
}

/// How the handshake went, in one sentence.
fn handshake_outcome(c: &Connection, h: &Handshake) -> String {
    match h.outcome {
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
    }
}

/// SYNs and SYN-ACKs sent more than once.
fn retries(h: &Handshake, out: &mut Vec<String>) {
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
}

/// The TCP options one side offered in its SYN.
fn options(who: &str, o: &SideOptions, out: &mut Vec<String>) {
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
        let line = match gave_up(x) {
            Some(g) => format!("{}{g}", crate::explain::request_line(x)),
            None => exchange_summary(x),
        };
        out.push(format!("HTTP exchange {}: {line}.", k + 1));
    }
    out
}

/// A request never answered before the client closed: " → no response: the client gave
/// up after 1.5 s (its FIN, frame 7)". None when a response came or the client did not
/// close (the assembler's `client_gave_up`).
pub fn gave_up(x: &crate::http::Exchange) -> Option<String> {
    let g = x.client_gave_up?;
    let after = if g.waited_ms >= 1000.0 {
        format!("{:.1} s", g.waited_ms / 1e3)
    } else {
        ms(g.waited_ms)
    };
    Some(format!(
        " → no response: the client gave up after {after} (its FIN, frame {})",
        g.fin_frame
    ))
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "?".to_string(), |v| v.to_string())
}
