//! The quiz's TLS question (topic `tls`): before a packet that carries handshake
//! messages, "which message comes next?", with four choices, answered from the
//! connection's real handshake list (`TlsInfo::handshake`). The explanation shows the
//! real flight and says how TLS 1.3 and TLS 1.2 differ there; its sentences are chosen by
//! the message (a tag), never by matching words.

use super::{Kind, Question, Verdict};
use crate::tcp::PacketRecord;
use crate::tls::{HandshakeEntry, TlsInfo};

/// The message a packet's question is about: the first of its frame, passing over a
/// ChangeCipherSpec (a compatibility record, not a handshake message) when more follow.
fn answer_at(info: &TlsInfo, frame: u64) -> Option<(usize, &HandshakeEntry)> {
    let at: Vec<(usize, &HandshakeEntry)> = info
        .handshake
        .iter()
        .enumerate()
        .filter(|(_, h)| h.frame == frame)
        .collect();
    at.iter()
        .find(|(_, h)| h.message != "ChangeCipherSpec")
        .or(at.first())
        .copied()
}

/// Whether packet `p` gets the TLS question: it carries a handshake message that is not
/// the connection's first (a ClientHello has nothing before it to reason from).
pub fn asks(info: &TlsInfo, p: &PacketRecord) -> bool {
    answer_at(info, p.frame).is_some_and(|(k, _)| k > 0)
}

/// Messages the choices are drawn from, in the order a full handshake sends them.
const VOCABULARY: [&str; 11] = [
    "ServerHello",
    "HelloRetryRequest",
    "EncryptedExtensions",
    "Certificate",
    "ServerKeyExchange",
    "CertificateVerify",
    "ServerHelloDone",
    "ClientKeyExchange",
    "ChangeCipherSpec",
    "Finished",
    "NewSessionTicket",
];

/// The four choices for `right`, sorted by name (so the right one has no fixed place):
/// it, then the messages after it in the vocabulary (the ones a student who skips a step
/// would pick), then those before.
pub fn choices(right: &str) -> Vec<String> {
    let at = VOCABULARY.iter().position(|m| *m == right);
    let mut v = vec![right.to_string()];
    let others = VOCABULARY
        .iter()
        .skip(at.map_or(0, |k| k + 1))
        .chain(VOCABULARY.iter())
        .filter(|m| **m != right);
    for m in others {
        if v.len() == 4 {
            break;
        }
        if !v.iter().any(|x| x == m) {
            v.push(m.to_string());
        }
    }
    v.sort();
    v
}

/// The TLS question about packet `index`, when it has one.
pub fn question(info: &TlsInfo, pkts: &[PacketRecord], index: usize) -> Option<Question> {
    let p = pkts.get(index)?;
    let (k, right) = answer_at(info, p.frame)?;
    if k == 0 {
        return None;
    }
    let prev = &info.handshake[k - 1];
    let list: Vec<String> = choices(&right.message)
        .iter()
        .enumerate()
        .map(|(n, c)| format!("{}) {c}", n + 1))
        .collect();
    Some(Question {
        index,
        frame: p.frame,
        kind: Kind::Tls,
        prompt: format!(
            "TLS: the last handshake message was the {}'s {} (frame {}). The next packet (frame {}) comes from the {}: which message comes next? {} (number or name)",
            prev.dir.name(),
            prev.message,
            prev.frame,
            p.frame,
            p.dir.name(),
            list.join("  ")
        ),
    })
}

/// Read an answer: a choice's number or a message name (case, spaces and dashes aside).
fn parse(answer: &str, choices: &[String]) -> Option<String> {
    let key = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let a = key(answer);
    if a.is_empty() {
        return None;
    }
    if let Ok(n) = a.parse::<usize>() {
        return choices.get(n.checked_sub(1)?).cloned();
    }
    VOCABULARY
        .iter()
        .chain(["ClientHello"].iter())
        .find(|m| key(m) == a)
        .map(|m| m.to_string())
}

/// Check an answer to the TLS question `q`.
pub fn check(info: &TlsInfo, q: &Question, answer: &str) -> Verdict {
    let Some((k, right)) = answer_at(info, q.frame) else {
        return Verdict {
            correct: false,
            unparsed: true,
            expected: String::new(),
            explanation: Vec::new(),
        };
    };
    let got = parse(answer, &choices(&right.message));
    Verdict {
        correct: got.as_deref() == Some(right.message.as_str()),
        unparsed: got.is_none(),
        expected: right.message.clone(),
        explanation: explain(info, k, right),
    }
}

/// The real flight of the answer's frame, then what the versions do there.
fn explain(info: &TlsInfo, k: usize, right: &HandshakeEntry) -> Vec<String> {
    let flight = crate::tls::labels::frame_labels(info)
        .remove(&right.frame)
        .unwrap_or_default();
    let version = info.version.as_deref().unwrap_or("TLS");
    let braces = if flight.contains('{') {
        " (in braces: sent encrypted)"
    } else {
        ""
    };
    let mut v = vec![format!(
        "In this {version} connection the {} sends at frame {}: {}{braces}.",
        right.dir.name(),
        right.frame,
        crate::escape::escape(&flight)
    )];
    let tls13 = version == "TLS 1.3";
    let prev = info.handshake[k - 1].message.as_str();
    let why = match (right.message.as_str(), tls13) {
        ("ServerHello", true) => {
            "TLS 1.3: the server answers the ClientHello with its ServerHello (its key share) and at once, encrypted with the handshake keys, EncryptedExtensions, Certificate, CertificateVerify and Finished: one round trip, then the client may send data. TLS 1.2 would send Certificate, ServerKeyExchange and ServerHelloDone in clear and need a second round trip."
        }
        ("ServerHello", false) => {
            "TLS 1.2: the server answers with ServerHello, Certificate, ServerKeyExchange (its ECDHE share, signed) and ServerHelloDone, all in clear; the client's key exchange and Finished follow: two round trips before data. TLS 1.3 would encrypt everything after the ServerHello and finish in one."
        }
        ("ClientKeyExchange", _) => {
            "TLS 1.2: after ServerHelloDone the client sends its ECDHE share (ClientKeyExchange), then ChangeCipherSpec and Finished, the first message under the new keys. TLS 1.3 has no ClientKeyExchange: the client's share was in its ClientHello."
        }
        ("Finished", true) => {
            "TLS 1.3: once the server's Finished has arrived, the client answers with its own Finished (after a ChangeCipherSpec kept only for middlebox compatibility) and may send application data in the same flight."
        }
        ("Finished", false) => {
            "TLS 1.2: each side's ChangeCipherSpec switches it to the new keys; the Finished after it proves the handshake was not tampered with. TLS 1.3 has no ClientKeyExchange step before it."
        }
        ("NewSessionTicket", true) => {
            "TLS 1.3: after the handshake the server sends NewSessionTicket messages, encrypted, so the client can resume later; they may arrive after application data has started."
        }
        ("NewSessionTicket", false) => {
            "TLS 1.2: the server's NewSessionTicket comes before its ChangeCipherSpec and Finished, in clear."
        }
        _ => "",
    };
    if !why.is_empty() {
        v.push(why.to_string());
    }
    if prev == "ClientHello" && right.message != "ServerHello" {
        v.push("The server's first message to a ClientHello is always its ServerHello (or a HelloRetryRequest).".to_string());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Dir;

    fn info(version: &str, msgs: &[(u64, Dir, &str, bool)]) -> TlsInfo {
        TlsInfo {
            version: Some(version.into()),
            handshake: msgs
                .iter()
                .map(|&(frame, dir, m, encrypted)| HandshakeEntry {
                    frame,
                    dir,
                    message: m.into(),
                    encrypted,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn choices_hold_the_answer_and_three_others() {
        let c = choices("ServerHello");
        assert_eq!(c.len(), 4);
        assert!(c.contains(&"ServerHello".to_string()));
        let mut s = c.clone();
        s.sort();
        assert_eq!(c, s);
        assert_eq!(choices("NewSessionTicket").len(), 4);
        assert_eq!(parse("serverhello", &c), Some("ServerHello".into()));
        let n = c.iter().position(|x| x == "ServerHello").unwrap() + 1;
        assert_eq!(parse(&n.to_string(), &c), Some("ServerHello".into()));
        assert_eq!(parse("9", &c), None);
        assert_eq!(parse("banana", &c), None);
    }

    #[test]
    fn tls13_and_tls12_flights_differ() {
        use Dir::*;
        let t13 = info(
            "TLS 1.3",
            &[
                (4, Client, "ClientHello", false),
                (6, Server, "ServerHello", false),
                (6, Server, "ChangeCipherSpec", false),
                (6, Server, "EncryptedExtensions", true),
                (8, Client, "ChangeCipherSpec", false),
                (8, Client, "Finished", true),
            ],
        );
        let mut p = crate::tcp::test_handshake();
        for (k, x) in p.iter_mut().enumerate() {
            x.frame = [4, 6, 8][k];
        }
        assert!(
            question(&t13, &p, 0).is_none(),
            "nothing before a ClientHello"
        );
        let q = question(&t13, &p, 1).unwrap();
        assert!(
            q.prompt.contains("client's ClientHello (frame 4)"),
            "{}",
            q.prompt
        );
        let v = check(&t13, &q, "ServerHello");
        assert!(v.correct, "{v:?}");
        assert!(v.explanation[0].contains("{EncryptedExtensions}"), "{v:?}");
        assert!(v.explanation[1].starts_with("TLS 1.3"), "{v:?}");
        assert!(!check(&t13, &q, "Certificate").correct);
        // Frame 8: the ChangeCipherSpec is passed over, Finished is the answer.
        let q = question(&t13, &p, 2).unwrap();
        assert_eq!(check(&t13, &q, "x").expected, "Finished");
        let t12 = info(
            "TLS 1.2",
            &[
                (4, Client, "ClientHello", false),
                (6, Server, "ServerHello", false),
                (6, Server, "Certificate", false),
                (8, Client, "ClientKeyExchange", false),
            ],
        );
        let v = check(&t12, &question(&t12, &p, 2).unwrap(), "clientkeyexchange");
        assert!(
            v.correct && v.explanation[1].starts_with("TLS 1.2"),
            "{v:?}"
        );
        let v = check(&t12, &question(&t12, &p, 1).unwrap(), "ServerHello");
        assert!(v.explanation[1].contains("two round trips"), "{v:?}");
    }
}
