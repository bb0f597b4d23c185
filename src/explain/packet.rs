//! Sentences about one packet: what it does, the arithmetic of its numbers, its state
//! changes with their rules, its analysis flags; and the short labels of the diagrams.

use super::findings;
use super::{ConnFacts, Marks, Topic, clean, states_before};
use crate::flow::Dir;
use crate::tcp::PacketRecord;
use crate::tcp::analysis::Finding;
use crate::tcp::state::{TcpState, Transition};

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

/// The sentences of one packet, each tagged with its topic as it is said.
struct Sentences {
    topics: Vec<Topic>,
    out: Vec<String>,
}

impl Sentences {
    fn push(&mut self, s: String) {
        self.out.push(s);
    }

    /// Every sentence pushed since the last tag is about `t`.
    fn tag(&mut self, t: Topic) {
        self.topics.resize(self.out.len(), t);
    }
}

/// The sentences of [`packet`] with their topics.
pub fn packet_said(cf: &ConnFacts<'_>, i: usize) -> Vec<Said> {
    let pkts = cf.packets;
    let Some(p) = pkts.get(i) else {
        return Vec::new();
    };
    let fresh;
    let marks = match cf.marks() {
        Some(m) => m,
        None => {
            fresh = Marks::of(pkts);
            &fresh
        }
    };
    let mut s = Sentences {
        topics: Vec::new(),
        out: Vec::new(),
    };
    opening(cf, i, &mut s);
    s.tag(Topic::Opens);
    if p.flags.ack() && !p.flags.rst() {
        ack(cf, marks, i, &mut s);
    }
    s.tag(Topic::Ack);
    data(p, &mut s);
    s.tag(Topic::Data);
    if p.flags.fin() {
        fin(cf, p, &mut s);
    }
    s.tag(Topic::Fin);
    if p.flags.psh() && p.len > 0 {
        s.push("PSH: deliver the data to the application without waiting.".to_string());
    }
    s.tag(Topic::Psh);
    if !p.flags.rst() {
        s.push(window_sentence(p, p.dir.name()));
    }
    s.tag(Topic::Window);
    let mut said: Vec<Said> = s
        .topics
        .into_iter()
        .zip(s.out)
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
    said.extend(cf.http_at(p.frame).into_iter().map(|text| Said {
        topic: Topic::Http,
        text,
    }));
    said
}

/// What packet `i` does when it opens or refuses a connection: RST, SYN, SYN-ACK.
fn opening(cf: &ConnFacts<'_>, i: usize, s: &mut Sentences) {
    let p = &cf.packets[i];
    let (me, peer, f) = (p.dir.name(), p.dir.other().name(), p.flags);
    let (before_me, before_peer) = {
        let b = states_before(cf.packets, i);
        match p.dir {
            Dir::Client => (b.0, b.1),
            Dir::Server => (b.1, b.0),
        }
    };
    let raw = || {
        cf.isn(p.dir)
            .map(|isn| format!(", {isn} in the raw header"))
            .unwrap_or_default()
    };
    if f.rst() && before_me == TcpState::Closed && before_peer == TcpState::SynSent {
        // RFC 9293 §3.10.7.1: a SYN to a CLOSED port is answered by RST. Nothing was
        // open, so nothing is aborted.
        let port = cf
            .server_port
            .filter(|_| p.dir == Dir::Server)
            .map_or("that port".to_string(), |n| format!("port {n}"));
        s.push(format!(
            "RST from the {me}: no process listens on {port}: the connection is refused. The {me} was never in LISTEN; it stays CLOSED, and the {peer}'s attempt ends."
        ));
    } else if f.rst() {
        s.push(format!(
            "RST from the {me}: abort the connection at once; no FIN exchange, unsent and unacknowledged data is discarded."
        ));
    } else if f.syn() && !f.ack() {
        s.push(format!(
            "SYN from the {me}: asks to open a connection. Seq {} is relative: 0 stands for the {me}'s initial sequence number (ISN){}.",
            p.seq,
            raw()
        ));
        s.push(
            "A SYN counts as one byte of sequence space, so the first data byte will be seq 1."
                .to_string(),
        );
    } else if f.syn() && f.ack() {
        s.push(format!(
            "SYN-ACK from the {me}: accepts the {peer}'s SYN and sends its own ISN (relative seq {}{}).",
            p.seq,
            raw()
        ));
    }
}

/// The ACK number of packet `i` and its arithmetic: of the peer's SYN (relative and raw,
/// and whether it completes the handshake), of its FIN, or of its bytes.
fn ack(cf: &ConnFacts<'_>, marks: &Marks<'_>, i: usize, s: &mut Sentences) {
    let p = &cf.packets[i];
    let (me, peer) = (p.dir.name(), p.dir.other().name());
    // The peer's most recent SYN / FIN before this packet, for the ACK arithmetic.
    let peer_syn = marks.syn_before(p.dir.other(), i);
    let peer_fin = marks.fin_before(p.dir.other(), i);
    let first_ack_from_me = !marks.acked_before(p.dir, i);
    if p.ack == 1 && peer_syn.is_some() && peer_fin.is_none() && first_ack_from_me {
        s.push(format!(
            "ACK 1 = {peer} ISN + 1: a SYN counts as one byte, so acknowledging the SYN means expecting byte 1 next."
        ));
        if let Some(isn) = cf.isn(p.dir.other()) {
            s.push(format!(
                "In raw numbers: the {me} answers ACK {}: the {peer}'s ISN {isn} plus 1, because a SYN counts as one byte.",
                isn.wrapping_add(1)
            ));
        }
        // A SYN-ACK of 1 to a SYN that carried data: the data was not taken.
        if p.flags.syn()
            && let Some(syn) = peer_syn.filter(|x| x.len > 0)
        {
            s.push(format!(
                "The {peer}'s SYN carried {} data bytes (TCP Fast Open), but ACK 1 covers only the SYN: the {me} did not take them (no valid Fast Open cookie, or Fast Open off here), so the {peer} will send them again.",
                syn.len
            ));
        }
        if !p.flags.syn() && peer_syn.is_some_and(|x| x.flags.ack()) && p.len == 0 {
            s.tag(Topic::Ack);
            s.push(format!(
                "This ACK of the {peer}'s SYN-ACK completes the three-way handshake."
            ));
            s.tag(Topic::Handshake);
        }
    } else if let Some(fin) = peer_fin
        && p.ack == fin.seq.wrapping_add(fin.len).wrapping_add(1)
    {
        s.push(format!(
            "ACK {} = the {peer}'s FIN seq {} + {} data bytes + 1: a FIN counts as one byte, so this acknowledges the FIN.",
            p.ack, fin.seq, fin.len
        ));
    } else {
        s.push(format!(
            "ACK {}: the {me} has received every {peer} byte before {} and expects byte {} next.",
            p.ack, p.ack, p.ack
        ));
    }
}

/// The payload and the next new byte, or that there is none.
fn data(p: &PacketRecord, s: &mut Sentences) {
    let f = p.flags;
    let resent = p.analysis.iter().find_map(|x| match x {
        Finding::Retransmission { expected, .. } => Some(*expected),
        _ => None,
    });
    // On a SYN (TCP Fast Open) the SYN takes the first sequence number: the data
    // follows it.
    let first = p.seq.wrapping_add(u32::from(f.syn()));
    let last = first.wrapping_add(p.len).wrapping_sub(1);
    let after_syn = if f.syn() {
        format!(" (after the SYN's own seq {})", p.seq)
    } else {
        String::new()
    };
    if p.len > 0
        && let Some(next) = resent
    {
        s.push(format!(
            "Carries {} data bytes again, seq {first}..{last}{after_syn}; the {}'s next new byte is still seq {next}, the highest it has sent so far (a resend does not move it).",
            p.len,
            p.dir.name(),
        ));
    } else if p.len > 0 {
        let sum = if f.syn() {
            format!("{} + 1 + {}", p.seq, p.len)
        } else {
            format!("{} + {}", p.seq, p.len)
        };
        s.push(format!(
            "Carries {} data bytes, seq {first}..{last}{after_syn}; the {}'s next new byte is seq {sum} = {}.",
            p.len,
            p.dir.name(),
            first.wrapping_add(p.len)
        ));
    } else if !f.syn() && !f.fin() && !f.rst() {
        s.push("No data: a pure acknowledgement (it does not use sequence space).".to_string());
    }
}

/// A FIN: its place in sequence space, and whether it waited for missing data.
fn fin(cf: &ConnFacts<'_>, p: &PacketRecord, s: &mut Sentences) {
    let (me, peer) = (p.dir.name(), p.dir.other().name());
    let seglen = p.len + u32::from(p.flags.syn()) + u32::from(p.flags.fin());
    s.push(format!(
        "FIN: the {me} has no more data to send. A FIN counts as one byte (seq {}), so the {peer} will acknowledge {}.",
        p.seq.wrapping_add(p.len),
        p.seq.wrapping_add(seglen)
    ));
    if let Some(t) = cf
        .transitions(p.dir.other())
        .iter()
        .find(|t| t.fin_frame.map(|f| f.get()) == Some(p.frame) && t.frame != p.frame)
    {
        s.push(format!(
            "FIN received at frame {} ahead of missing data; it takes effect at frame {}: a receiver acts on a FIN only once every byte before it has arrived (RFC 9293 §3.10.7.4).",
            p.frame, t.frame
        ));
    }
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
    let held = match t.fin_frame.map(|f| f.get()) {
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

/// A short marker of a packet's place in a loss story, for ladder arrows: `↺67` for a
/// resend of the bytes first sent in frame 67 (`↺` alone when that frame was not
/// captured), `#2` for the second duplicate ACK in a row.
pub fn loss_marker(p: &PacketRecord) -> Option<String> {
    p.analysis.iter().find_map(|x| match x {
        Finding::Retransmission { chain, .. } => Some(match chain.original_frame {
            Some(f) => format!("↺{f}"),
            None => "↺".to_string(),
        }),
        Finding::DuplicateAck { n, .. } => Some(format!("#{n}")),
        _ => None,
    })
}
