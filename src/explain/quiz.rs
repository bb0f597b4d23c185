//! Quiz logic: before a packet is shown, ask for a prediction (its flags, its ACK
//! number, the sender's state after it), check the answer against the capture, explain
//! the right one and keep score. Pure: the terminal quiz (`tcpscope quiz`) and the TUI
//! overlay only ask and print.
//!
//! Answers are parsed tolerantly: flags as "syn,ack", "SYN-ACK", "SYN+ACK", "SA",
//! tcpdump's "S." or "[P.]"; numbers as "1", "ack 1", "ack=1"; states as
//! "TIME-WAIT", "time_wait", "timewait", "SYN_RECV", "fw1".

use super::{ConnFacts, Said, Topic, packet_said};
use crate::pipeline::Connection;

#[path = "quiz_tls.rs"]
pub mod tls;
use crate::decode::TcpFlags;
use crate::flow::Dir;
use crate::tcp::PacketRecord;
use crate::tcp::state::TcpState;

/// What a question asks about the next packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Flags,
    Ack,
    NextState,
    /// Where the capture has loss: which seq a resend carries, how many duplicate ACKs
    /// came before a fast retransmit, what ACK answers a resend (quiz_loss.rs).
    Loss,
    /// On a TLS connection: which handshake message comes next (quiz_tls.rs).
    Tls,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Flags,
        Kind::Ack,
        Kind::NextState,
        Kind::Loss,
        Kind::Tls,
    ];

    /// Parse "flags", "ack", "state" (for `--ask`).
    pub fn parse(s: &str) -> Option<Kind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "flags" | "flag" | "f" => Some(Kind::Flags),
            "ack" | "a" => Some(Kind::Ack),
            "state" | "states" | "next-state" | "s" => Some(Kind::NextState),
            "loss" | "l" => Some(Kind::Loss),
            "tls" | "t" => Some(Kind::Tls),
            _ => None,
        }
    }
}

/// One question about packet `index` of a connection.
#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    pub index: usize,
    pub frame: u64,
    pub kind: Kind,
    pub prompt: String,
}

/// The result of checking an answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub correct: bool,
    /// The answer could not be read at all (counted as wrong).
    pub unparsed: bool,
    /// The right answer, short ("SYN, ACK", "1", "ESTABLISHED").
    pub expected: String,
    /// Why the right answer is right.
    pub explanation: Vec<String>,
}

/// Score of a quiz session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Score {
    pub asked: u32,
    pub right: u32,
}

impl Score {
    pub fn record(&mut self, v: &Verdict) {
        self.asked += 1;
        if v.correct {
            self.right += 1;
        }
    }

    pub fn percent(&self) -> u32 {
        (self.right * 100).checked_div(self.asked).unwrap_or(0)
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} ({}%)", self.right, self.asked, self.percent())
    }
}

/// The flags a prediction is judged on. PSH, URG, ECE and CWR are left aside: whether a
/// stack sets PSH is its own business, not something the protocol lets you predict.
const CORE: u16 = TcpFlags::SYN | TcpFlags::ACK | TcpFlags::FIN | TcpFlags::RST;

/// Parse a tolerant list of flags. `None` when nothing in it reads as a flag.
pub fn parse_flags(input: &str) -> Option<u16> {
    let s = input.trim().to_ascii_uppercase();
    let s = s.trim_matches(|c| c == '[' || c == ']');
    if s.is_empty() {
        return None;
    }
    // tcpdump style: letters followed by "." (ACK): "S.", "P.", "F.", ".".
    if let Some(letters) = s.strip_suffix('.')
        && letters.chars().all(|c| "SFRPUEW".contains(c))
    {
        let mut f = TcpFlags::ACK;
        for c in letters.chars() {
            f |= letter(c)?;
        }
        return Some(f);
    }
    let mut flags = 0u16;
    for tok in s.split(|c: char| !c.is_ascii_alphanumeric()) {
        if tok.is_empty() {
            continue;
        }
        flags |= names(tok).or_else(|| letters(tok))?;
    }
    (flags != 0).then_some(flags)
}

const NAMES: [(&str, u16); 13] = [
    ("SYN", TcpFlags::SYN),
    ("ACK", TcpFlags::ACK),
    ("FIN", TcpFlags::FIN),
    ("RST", TcpFlags::RST),
    ("RESET", TcpFlags::RST),
    ("PSH", TcpFlags::PSH),
    ("PUSH", TcpFlags::PSH),
    ("URG", TcpFlags::URG),
    ("ECE", TcpFlags::ECE),
    ("CWR", TcpFlags::CWR),
    ("NONE", 0),
    ("DATA", 0),
    ("ONLY", 0),
];

/// A token made of whole flag names: "SYN", "SYNACK", "FINACK".
fn names(tok: &str) -> Option<u16> {
    let mut rest = tok;
    let mut f = 0;
    'outer: while !rest.is_empty() {
        for (n, bit) in NAMES {
            if let Some(r) = rest.strip_prefix(n) {
                f |= bit;
                rest = r;
                continue 'outer;
            }
        }
        return None;
    }
    Some(f)
}

/// A token of one letter per flag: "SA", "FA", "R", "PA".
fn letters(tok: &str) -> Option<u16> {
    let mut f = 0;
    for c in tok.chars() {
        f |= letter(c)?;
    }
    Some(f)
}

fn letter(c: char) -> Option<u16> {
    Some(match c {
        'S' => TcpFlags::SYN,
        'A' => TcpFlags::ACK,
        'F' => TcpFlags::FIN,
        'R' => TcpFlags::RST,
        'P' => TcpFlags::PSH,
        'U' => TcpFlags::URG,
        'E' => TcpFlags::ECE,
        'C' | 'W' => TcpFlags::CWR,
        _ => return None,
    })
}

/// Parse a number answer: the last run of digits ("1", "ack 1", "ACK=1001").
pub fn parse_number(input: &str) -> Option<u32> {
    let digits: Vec<&str> = input
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .collect();
    digits.last()?.parse().ok()
}

/// Parse a state name tolerantly ("TIME-WAIT", "time_wait", "SYN_RECV", "fw2", "est").
pub fn parse_state(input: &str) -> Option<TcpState> {
    let key: String = input
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    use TcpState::*;
    Some(match key.as_str() {
        "CLOSED" | "CLOSE" => Closed,
        "LISTEN" | "LISTENING" => Listen,
        "SYNSENT" | "SS" => SynSent,
        "SYNRECEIVED" | "SYNRECV" | "SYNRCVD" | "SYNRCV" | "SR" => SynReceived,
        "ESTABLISHED" | "EST" | "ESTAB" | "E" => Established,
        "FINWAIT1" | "FINWAITONE" | "FW1" => FinWait1,
        "FINWAIT2" | "FINWAITTWO" | "FW2" => FinWait2,
        "CLOSEWAIT" | "CW" => CloseWait,
        "CLOSING" => Closing,
        "LASTACK" | "LA" => LastAck,
        "TIMEWAIT" | "TW" => TimeWait,
        _ => return None,
    })
}

fn sender_state(p: &PacketRecord) -> TcpState {
    match p.dir {
        Dir::Client => p.states_after.0,
        Dir::Server => p.states_after.1,
    }
}

/// Packets worth a question: those that open, close or reset, change a state, carry
/// an analysis flag, or are the first data of a direction.
pub fn key_positions(pkts: &[PacketRecord]) -> Vec<usize> {
    let mut seen_data = [false; 2];
    let mut v = Vec::new();
    for (i, p) in pkts.iter().enumerate() {
        let before = super::states_before(pkts, i);
        let first_data = p.len > 0 && !seen_data[p.dir.idx()];
        if p.len > 0 {
            seen_data[p.dir.idx()] = true;
        }
        if p.flags.syn()
            || p.flags.fin()
            || p.flags.rst()
            || before != p.states_after
            || !p.analysis.is_empty()
            || first_data
            || super::quiz_loss::ack_after_resend(pkts, i).is_some()
        {
            v.push(i);
        }
    }
    v
}

/// The questions about packet `i`, in the order flags, ACK (only when the packet
/// acknowledges), next state, limited to `kinds`.
pub fn questions(cf: &ConnFacts<'_>, i: usize, kinds: &[Kind]) -> Vec<Question> {
    let Some(p) = cf.packets.get(i) else {
        return Vec::new();
    };
    let who = p.dir.name();
    let mut v = Vec::new();
    for &k in kinds {
        let prompt = match k {
            Kind::Flags => format!(
                "The next packet (frame {}) comes from the {who}. Which flags does it carry? (e.g. SYN, ACK / SA / FIN-ACK)",
                p.frame
            ),
            Kind::Ack if p.flags.ack() => {
                "It acknowledges. What is its (relative) ACK number?".to_string()
            }
            Kind::Ack => continue,
            Kind::NextState => format!(
                "Which RFC 9293 state is the {who} in after sending it? (e.g. ESTABLISHED, FIN-WAIT-1)"
            ),
            Kind::Loss => match super::quiz_loss::prompt(cf.packets, i) {
                Some(q) => q,
                None => continue,
            },
            // Needs the connection's TLS facts: see `questions_for`.
            Kind::Tls => continue,
        };
        v.push(Question {
            index: i,
            frame: p.frame,
            kind: k,
            prompt,
        });
    }
    v
}

/// Packets worth a question on connection `c`: [`key_positions`] and, on a TLS
/// connection, those carrying a handshake message after the first.
pub fn key_positions_for(c: &Connection, cf: &ConnFacts<'_>) -> Vec<usize> {
    let mut v = key_positions(cf.packets);
    if let Some(info) = c.tls_info() {
        v.extend(
            cf.packets
                .iter()
                .enumerate()
                .filter(|(_, p)| tls::asks(info, p))
                .map(|(i, _)| i),
        );
        v.sort_unstable();
        v.dedup();
    }
    v
}

/// [`questions`] and, on a TLS connection, the TLS question ("which message comes
/// next?") when packet `i` has one and `kinds` holds `tls`.
pub fn questions_for(
    c: &Connection,
    cf: &ConnFacts<'_>,
    i: usize,
    kinds: &[Kind],
) -> Vec<Question> {
    let mut v = questions(cf, i, kinds);
    if kinds.contains(&Kind::Tls)
        && let Some(q) = c.tls_info().and_then(|t| tls::question(t, cf.packets, i))
    {
        v.push(q);
    }
    v
}

/// [`check`], the TLS question included.
pub fn check_for(c: &Connection, cf: &ConnFacts<'_>, q: &Question, answer: &str) -> Verdict {
    match (q.kind, c.tls_info()) {
        (Kind::Tls, Some(info)) => tls::check(info, q, answer),
        _ => check(cf, q, answer),
    }
}

/// Check an answer to `q`.
pub fn check(cf: &ConnFacts<'_>, q: &Question, answer: &str) -> Verdict {
    let Some(p) = cf.packets.get(q.index) else {
        return Verdict {
            correct: false,
            unparsed: true,
            expected: String::new(),
            explanation: Vec::new(),
        };
    };
    let all = packet_said(cf, q.index);
    match q.kind {
        Kind::Flags => check_flags(p, &all, answer),
        Kind::Ack => check_ack(cf, p, &all, answer),
        Kind::Loss => super::quiz_loss::check(cf, q.index, answer, &all),
        Kind::Tls => Verdict {
            correct: false,
            unparsed: true,
            expected: String::new(),
            explanation: vec!["(not a TLS connection)".into()],
        },
        Kind::NextState => check_state(p, &all, answer),
    }
}

/// The sentences said about the packet whose topic passes `pred`.
fn pick(all: &[Said], pred: impl Fn(Topic) -> bool) -> Vec<String> {
    all.iter()
        .filter(|s| pred(s.topic))
        .map(|s| s.text.clone())
        .collect()
}

/// [`check`] of a flags answer: SYN, FIN, RST and ACK are judged, PSH is not.
fn check_flags(p: &PacketRecord, all: &[Said], answer: &str) -> Verdict {
    let got = parse_flags(answer);
    let want = p.flags.0 & CORE;
    let correct = got.is_some_and(|g| g & CORE == want);
    // The ACK arithmetic and states have questions of their own.
    let mut explanation = pick(all, |t| {
        !matches!(
            t,
            Topic::Window | Topic::State(_) | Topic::Http | Topic::Ack
        )
    });
    if p.flags.psh() {
        explanation.push(
            "(PSH is also set; it is not judged: whether a stack sets it is not up to the protocol.)"
                .to_string(),
        );
    }
    Verdict {
        correct,
        unparsed: got.is_none(),
        expected: TcpFlags(p.flags.0 & (CORE | TcpFlags::PSH)).to_string(),
        explanation,
    }
}

/// [`check`] of an ACK number: the relative one, or the raw one when the peer's ISN is
/// known.
fn check_ack(cf: &ConnFacts<'_>, p: &PacketRecord, all: &[Said], answer: &str) -> Verdict {
    let got = parse_number(answer);
    let raw = cf.isn(p.dir.other()).map(|isn| isn.wrapping_add(p.ack));
    let correct = p.flags.ack() && got.is_some_and(|g| g == p.ack || Some(g) == raw);
    let mut explanation = pick(all, |t| t == Topic::Ack);
    if let Some(r) = raw {
        explanation.push(format!("Raw ACK number: {r}."));
    }
    Verdict {
        correct,
        unparsed: got.is_none(),
        expected: p.ack.to_string(),
        explanation,
    }
}

/// [`check`] of the sender's state after the packet.
fn check_state(p: &PacketRecord, all: &[Said], answer: &str) -> Verdict {
    let got = parse_state(answer);
    let want = sender_state(p);
    let mut explanation = pick(all, |t| matches!(t, Topic::State(_)));
    if !all.iter().any(|s| s.topic == Topic::State(p.dir)) {
        explanation.push(format!(
            "The {} stays in {want}: this packet does not change its state.",
            p.dir.name()
        ));
    }
    Verdict {
        correct: got == Some(want),
        unparsed: got.is_none(),
        expected: want.to_string(),
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SA: u16 = TcpFlags::SYN | TcpFlags::ACK;
    const FA: u16 = TcpFlags::FIN | TcpFlags::ACK;
    const PA: u16 = TcpFlags::PSH | TcpFlags::ACK;

    #[test]
    fn flags_tolerant() {
        for s in [
            "syn,ack",
            "SYN-ACK",
            "SA",
            "syn ack",
            "SYN+ACK",
            "synack",
            "S.",
            "[S.]",
            "ack syn",
            " Syn, Ack ",
        ] {
            assert_eq!(parse_flags(s), Some(SA), "{s}");
        }
        for s in ["fin,ack", "FA", "F.", "FIN-ACK", "finack"] {
            assert_eq!(parse_flags(s), Some(FA), "{s}");
        }
        assert_eq!(parse_flags("P."), Some(PA));
        assert_eq!(parse_flags("psh ack"), Some(PA));
        assert_eq!(parse_flags("."), Some(TcpFlags::ACK));
        assert_eq!(parse_flags("ack"), Some(TcpFlags::ACK));
        assert_eq!(parse_flags("A"), Some(TcpFlags::ACK));
        assert_eq!(parse_flags("rst"), Some(TcpFlags::RST));
        assert_eq!(parse_flags("reset"), Some(TcpFlags::RST));
        assert_eq!(parse_flags("R"), Some(TcpFlags::RST));
        assert_eq!(parse_flags("S"), Some(TcpFlags::SYN));
        assert_eq!(parse_flags(""), None);
        assert_eq!(parse_flags("banana"), None);
        assert_eq!(parse_flags("syn, maybe"), None);
    }

    #[test]
    fn numbers_and_states() {
        assert_eq!(parse_number("1"), Some(1));
        assert_eq!(parse_number("ack=1001"), Some(1001));
        assert_eq!(parse_number(" ACK 84 "), Some(84));
        assert_eq!(parse_number("none"), None);
        assert_eq!(parse_state("TIME-WAIT"), Some(TcpState::TimeWait));
        assert_eq!(parse_state("time_wait"), Some(TcpState::TimeWait));
        assert_eq!(parse_state("timewait"), Some(TcpState::TimeWait));
        assert_eq!(parse_state("SYN_RECV"), Some(TcpState::SynReceived));
        assert_eq!(parse_state("syn-received"), Some(TcpState::SynReceived));
        assert_eq!(parse_state("fin wait 1"), Some(TcpState::FinWait1));
        assert_eq!(parse_state("FIN_WAIT2"), Some(TcpState::FinWait2));
        assert_eq!(parse_state("est"), Some(TcpState::Established));
        assert_eq!(parse_state("last ack"), Some(TcpState::LastAck));
        assert_eq!(parse_state("wait"), None);
    }

    use crate::tcp::test_record as rec;

    fn conn() -> Vec<PacketRecord> {
        use TcpState::*;
        let mut v = crate::tcp::test_handshake();
        v.extend([
            rec(Dir::Client, PA, 1, 1, 10, (Established, Established)),
            rec(Dir::Client, FA, 11, 1, 0, (FinWait1, CloseWait)),
        ]);
        for (k, p) in v.iter_mut().enumerate() {
            p.frame = k as u64 + 1;
        }
        v
    }

    #[test]
    fn checking_and_score() {
        let p = conn();
        let cf = ConnFacts {
            client_isn: Some(1000),
            server_isn: Some(5000),
            ..ConnFacts::bare(&p)
        };
        let qs = questions(&cf, 1, &Kind::ALL);
        assert_eq!(qs.len(), 3);
        let mut score = Score::default();
        let v = check(&cf, &qs[0], "SA");
        assert!(v.correct && v.expected == "SYN, ACK", "{v:?}");
        score.record(&v);
        let v = check(&cf, &qs[1], "1");
        assert!(v.correct, "{v:?}");
        assert!(
            v.explanation.iter().any(|s| s.contains("ISN 1000 plus 1")),
            "{v:?}"
        );
        score.record(&v);
        // The raw number is right too.
        assert!(check(&cf, &qs[1], "1001").correct);
        let v = check(&cf, &qs[2], "established");
        assert!(!v.correct && v.expected == "SYN-RECEIVED", "{v:?}");
        score.record(&v);
        assert_eq!(score.to_string(), "2/3 (66%)");
        // PSH is not judged.
        let q = &questions(&cf, 3, &[Kind::Flags])[0];
        assert!(check(&cf, q, "ack").correct);
        assert!(check(&cf, q, "PA").correct);
        assert!(!check(&cf, q, "fin ack").correct);
        let v = check(&cf, q, "???");
        assert!(v.unparsed && !v.correct);
        // A pure ACK that changes nothing for its sender.
        let q = &questions(&cf, 2, &[Kind::NextState])[0];
        let v = check(&cf, q, "SYN-SENT");
        assert!(!v.correct && v.expected == "ESTABLISHED", "{v:?}");
        // No ACK question for a packet without ACK.
        assert_eq!(questions(&cf, 0, &Kind::ALL).len(), 2);
        assert_eq!(
            check(&cf, &questions(&cf, 4, &[Kind::NextState])[0], "fw1").expected,
            "FIN-WAIT-1"
        );
    }

    #[test]
    fn key_positions_skip_plain_acks() {
        let p = conn();
        assert_eq!(key_positions(&p), vec![0, 1, 2, 3, 4]);
        let mut p2 = p.clone();
        p2.insert(4, p[3].clone());
        p2[4].seq = 11;
        assert!(!key_positions(&p2).contains(&4));
    }
}
