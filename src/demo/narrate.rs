//! What the `loss` demo tells the class once the download is over: its first
//! retransmission (which original it repeats and what triggered it), its first fast
//! retransmit (the duplicate ACKs that asked for it) and the recovery (the first ACK past
//! everything sent before the loss). Read from the analysis of the captured packets.

use crate::flow::Dir;
use crate::pipeline::Connection;
use crate::tcp::PacketRecord;
use crate::tcp::analysis::Flag;

fn has(p: &PacketRecord, f: Flag) -> bool {
    p.analysis.iter().any(|x| x.flag() == f)
}

fn resent(p: &PacketRecord) -> bool {
    p.len > 0
        && (has(p, Flag::Retransmission)
            || has(p, Flag::FastRetransmission)
            || has(p, Flag::OutOfOrder))
}

/// Milliseconds from `a` to `b`.
fn ms(a: &PacketRecord, b: &PacketRecord) -> String {
    format!("{:.3} ms", b.ts.secs_since(a.ts) * 1e3)
}

/// The story of the connection's losses, one sentence a line.
pub fn loss_story(c: &Connection) -> Vec<String> {
    let Some(pk) = c.summary.as_ref().and_then(|s| s.packets.as_deref()) else {
        return vec!["no packet records: nothing to tell".into()];
    };
    let mut out = Vec::new();
    let Some(i) = pk.iter().position(resent) else {
        out.push("no segment was retransmitted: the link dropped nothing this time".into());
        return out;
    };
    let r = &pk[i];
    let orig = pk[..i]
        .iter()
        .find(|p| p.dir == r.dir && p.seq == r.seq && p.len > 0);
    let dups: Vec<&PacketRecord> = pk[..i]
        .iter()
        .filter(|p| p.dir != r.dir && p.dup_ack_num.is_some() && p.ack == r.seq)
        .collect();
    let what = match orig {
        Some(o) => format!(
            "frame {} resends seq {} ({} bytes) first sent in frame {}, {} earlier: that copy was captured, then dropped by the link's rule",
            r.frame,
            r.seq,
            r.len,
            o.frame,
            ms(o, r)
        ),
        None => format!(
            "frame {} resends seq {} ({} bytes), whose first copy was lost before the capture point",
            r.frame, r.seq, r.len
        ),
    };
    out.push(format!("First retransmission: {what}."));
    out.push(match dups.last() {
        Some(d) => format!(
            "  Why: the client kept acknowledging {} ({} duplicate ACK(s), the last in frame {}) and its SACK blocks named what it had beyond the hole, so the server resent the missing bytes.",
            r.seq,
            dups.len(),
            d.frame
        ),
        None => "  Why: no ACK for it came back in time (a retransmission timeout).".into(),
    });
    if let Some(j) = pk.iter().position(|p| has(p, Flag::FastRetransmission)) {
        let f = &pk[j];
        let n = pk[..j]
            .iter()
            .filter(|p| p.dir != f.dir && p.dup_ack_num.is_some() && p.ack == f.seq)
            .count();
        out.push(format!(
            "First fast retransmit: frame {} resends seq {} after {n} duplicate ACK(s) asking for it, without waiting for a timer.",
            f.frame, f.seq
        ));
    }
    let sent_before = pk[..i]
        .iter()
        .filter(|p| p.dir == r.dir)
        .map(|p| u64::from(p.seq) + u64::from(p.len))
        .max()
        .unwrap_or(0);
    if let Some(a) = pk[i..]
        .iter()
        .find(|p| p.dir != r.dir && p.flags.ack() && u64::from(p.ack) >= sent_before)
    {
        out.push(format!(
            "Recovery: frame {} acknowledges {} — everything sent before the first retransmission — {} after it.",
            a.frame,
            a.ack,
            ms(r, a)
        ));
    }
    let count = |f: Flag| pk.iter().filter(|p| has(p, f)).count();
    let who = |d: Dir| pk.iter().filter(|p| p.dir == d && resent(p)).count();
    out.push(format!(
        "In all: {} segments resent ({} flagged retransmission, {} fast retransmission), {} duplicate ACKs.",
        who(Dir::Server) + who(Dir::Client),
        count(Flag::Retransmission),
        count(Flag::FastRetransmission),
        count(Flag::DuplicateAck)
    ));
    out
}

/// What the TLS demos tell the class once the capture is over: the two views of the same
/// connection, what anyone on the path sees and what the key log opens.
pub fn tls_story(c: &Connection) -> Vec<String> {
    let Some(t) = c.tls_info() else {
        return vec!["no TLS seen on the connection".into()];
    };
    let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
    let clear: Vec<&str> = t
        .handshake
        .iter()
        .filter(|h| !h.encrypted)
        .map(|h| h.message.as_str())
        .collect();
    let hidden: Vec<&str> = t
        .handshake
        .iter()
        .filter(|h| h.encrypted)
        .map(|h| h.message.as_str())
        .collect();
    let mut out = vec![
        format!(
            "On the wire (what anyone on the path sees): {} in clear text — {}, SNI {}, ALPN {}, {}; then only encrypted records.",
            clear.join(", "),
            or(&t.version),
            or(&t.sni),
            or(&t.alpn),
            or(&t.cipher_suite)
        ),
        format!(
            "  {} TLS records in all ({} from the client, {} from the server).",
            t.records.client + t.records.server,
            t.records.client,
            t.records.server
        ),
    ];
    if !t.decrypted {
        out.push("Not decrypted: the key log had no secrets for this connection.".into());
        return out;
    }
    let from = match t.keys_from {
        Some(crate::tls::KeySource::Dsb) => "the key log inside the capture (pcapng DSB)",
        _ => "the key log the client wrote",
    };
    out.push(format!(
        "Decrypted with {from}: the encrypted handshake ({}) and what HTTP said inside:",
        hidden.join(", ")
    ));
    for x in &c.http {
        let (Some(q), Some(r)) = (&x.request, &x.response) else {
            continue;
        };
        let stream =
            x.h2.as_ref()
                .map(|h| format!("stream {}: ", h.stream_id))
                .unwrap_or_default();
        let reason = if r.reason.is_empty() {
            String::new()
        } else {
            format!(" {}", r.reason)
        };
        out.push(format!(
            "  {stream}{} {} → {}{reason} ({}-byte body, response frames {}–{})",
            q.method, q.uri, r.status, r.meta.body_bytes, r.meta.frame, r.meta.end_frame
        ));
    }
    let h2 = c.http.iter().any(|x| x.h2.is_some());
    if h2 {
        out.push(format!(
            "  Multiplexed: {} streams on one connection; their responses' frame ranges overlap, because the server sent their DATA frames in turn.",
            c.http.len()
        ));
    }
    out.push(format!(
        "In the terminal UI the HTTP and Stream tabs show them, marked `decrypted TLS 1.3 (key log)`; the text report says APP {}.",
        if h2 { "tls→h2" } else { "tls→http" }
    ));
    out
}
