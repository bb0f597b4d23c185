//! Handshake message dissection with `tls-parser`: what each message says, written into
//! the connection's [`TlsInfo`]. Handshake messages are reassembled across records by
//! the session; here each message arrives whole (4-byte header included).

use super::names;
use super::{Certificate, ClientHelloInfo, ServerHelloInfo, TlsInfo};
use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};

/// Certificates kept per connection (a chain is rarely longer).
const MAX_CERTS: usize = 16;
/// Names kept from one list (cipher suites, ALPN, groups): a hostile ClientHello may
/// carry thousands.
pub(super) const MAX_LIST: usize = 128;

/// What the session needs to know from a message to move its key schedule.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    ClientHello {
        random: [u8; 32],
    },
    ServerHello {
        random: [u8; 32],
        version: u16,
        suite: u16,
        retry: bool,
    },
    Finished,
    KeyUpdate,
    Other,
}

/// The ServerHello random that marks a HelloRetryRequest (RFC 8446 §4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

fn push_capped<T>(v: &mut Vec<T>, x: T) {
    if v.len() < MAX_LIST {
        v.push(x);
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Key-share groups of a ClientHello's key_share extension (a u16-length list of
/// group, u16-length key).
fn key_share_groups(mut b: &[u8]) -> Vec<u16> {
    let mut out = Vec::new();
    if b.len() < 2 {
        return out;
    }
    b = &b[2..];
    while b.len() >= 4 && out.len() < MAX_LIST {
        let g = u16::from_be_bytes([b[0], b[1]]);
        let n = usize::from(u16::from_be_bytes([b[2], b[3]]));
        out.push(g);
        b = b.get(4 + n..).unwrap_or_default();
    }
    out
}

/// Dissect one whole handshake message (`msg` starts with its 4-byte header).
pub fn dissect(info: &mut TlsInfo, msg: &[u8], tls13: bool) -> Step {
    let t = msg[0];
    let body = &msg[4..];
    match t {
        // TLS 1.3 forms tls-parser reads as 1.2 ones (or not at all).
        8 => return encrypted_extensions(info, body),
        11 if tls13 => return certificate13(info, body),
        4 if tls13 => return Step::Other,
        12 => {
            // ECDHE params: curve_type 3 (named_curve), then the group.
            if let [3, a, b, ..] = body {
                info.key_exchange_group = Some(names::group(u16::from_be_bytes([*a, *b])));
            }
            return Step::Other;
        }
        20 => return Step::Finished,
        24 => return Step::KeyUpdate,
        _ => {}
    }
    let Ok((_, TlsMessage::Handshake(hs))) = tls_parser::parse_tls_message_handshake(msg) else {
        info.malformed_handshake += 1;
        return Step::Other;
    };
    match hs {
        TlsMessageHandshake::ClientHello(ch) => client_hello(info, &ch),
        TlsMessageHandshake::ServerHello(sh) => server_hello(info, &sh),
        TlsMessageHandshake::Certificate(c) => {
            for raw in c.cert_chain.iter().take(MAX_CERTS) {
                add_cert(info, raw.data);
            }
            Step::Other
        }
        _ => Step::Other,
    }
}

fn client_hello(info: &mut TlsInfo, ch: &tls_parser::TlsClientHelloContents<'_>) -> Step {
    let mut c = ClientHelloInfo {
        version: names::version(ch.version.0),
        random: hex(ch.random),
        session_id: hex(ch.session_id.unwrap_or_default()),
        ..Default::default()
    };
    for s in ch.ciphers.iter().filter(|s| !names::is_grease(s.0)) {
        push_capped(&mut c.cipher_suites, names::suite(s.0));
    }
    c.cipher_suites_offered = ch.ciphers.len();
    let exts = ch
        .ext
        .and_then(|e| tls_parser::parse_tls_client_hello_extensions(e).ok())
        .map(|(_, v)| v)
        .unwrap_or_default();
    c.extensions = exts.len();
    for e in &exts {
        match e {
            TlsExtension::SNI(list) => {
                if let Some((_, name)) = list.first() {
                    info.sni.get_or_insert_with(|| lossy(name));
                }
            }
            TlsExtension::ALPN(list) if info.alpn_offered.is_empty() => {
                for p in list {
                    push_capped(&mut info.alpn_offered, lossy(p));
                }
            }
            TlsExtension::SupportedVersions(v) => {
                for x in v.iter().filter(|x| !names::is_grease(x.0)) {
                    push_capped(&mut c.supported_versions, names::version(x.0));
                }
            }
            TlsExtension::KeyShare(b) => {
                for g in key_share_groups(b)
                    .into_iter()
                    .filter(|g| !names::is_grease(*g))
                {
                    push_capped(&mut c.key_share_groups, names::group(g));
                }
            }
            _ => {}
        }
    }
    let mut random = [0u8; 32];
    if ch.random.len() == 32 {
        random.copy_from_slice(ch.random);
    }
    // A second ClientHello (after a HelloRetryRequest) keeps the first one's facts.
    info.client_hello.get_or_insert(c);
    Step::ClientHello { random }
}

fn server_hello(info: &mut TlsInfo, sh: &tls_parser::TlsServerHelloContents<'_>) -> Step {
    let mut version = sh.version.0;
    let exts = sh
        .ext
        .and_then(|e| tls_parser::parse_tls_server_hello_extensions(e).ok())
        .map(|(_, v)| v)
        .unwrap_or_default();
    let mut supported = None;
    for e in &exts {
        match e {
            TlsExtension::SupportedVersions(v) => {
                if let Some(x) = v.first() {
                    version = x.0;
                    supported = Some(names::version(x.0));
                }
            }
            TlsExtension::ALPN(list) => {
                info.alpn = list.first().map(|p| lossy(p));
            }
            TlsExtension::KeyShare(b) if b.len() >= 2 => {
                info.key_exchange_group = Some(names::group(u16::from_be_bytes([b[0], b[1]])));
            }
            _ => {}
        }
    }
    let retry = sh.random == &HRR_RANDOM[..];
    // The ServerHello after a HelloRetryRequest replaces it, but the retry stays a fact.
    let after_retry = info
        .server_hello
        .as_ref()
        .is_some_and(|s| s.hello_retry_request);
    info.version = Some(names::version(version));
    info.cipher_suite = Some(names::suite(sh.cipher.0));
    info.server_hello = Some(ServerHelloInfo {
        version: names::version(sh.version.0),
        supported_version: supported,
        random: hex(sh.random),
        session_id: hex(sh.session_id.unwrap_or_default()),
        cipher_suite: names::suite(sh.cipher.0),
        hello_retry_request: retry || after_retry,
    });
    let mut random = [0u8; 32];
    if sh.random.len() == 32 {
        random.copy_from_slice(sh.random);
    }
    Step::ServerHello {
        random,
        version,
        suite: sh.cipher.0,
        retry,
    }
}

fn encrypted_extensions(info: &mut TlsInfo, body: &[u8]) -> Step {
    if let Some(list) = body.get(2..)
        && let Ok((_, exts)) = tls_parser::parse_tls_extensions(list)
    {
        for e in exts {
            if let TlsExtension::ALPN(p) = e {
                info.alpn = p.first().map(|p| lossy(p));
            }
        }
    }
    Step::Other
}

fn u24(b: &[u8]) -> Option<usize> {
    Some(usize::from(*b.first()?) << 16 | usize::from(*b.get(1)?) << 8 | usize::from(*b.get(2)?))
}

/// TLS 1.3 Certificate: request context, then entries of (u24 cert, u16 extensions).
fn certificate13(info: &mut TlsInfo, body: &[u8]) -> Step {
    let ctx = usize::from(body.first().copied().unwrap_or(0));
    let mut b = body.get(1 + ctx + 3..).unwrap_or_default();
    let mut n = 0;
    while let Some(len) = u24(b) {
        let Some(der) = b.get(3..3 + len) else { break };
        if n < MAX_CERTS {
            add_cert(info, der);
        }
        n += 1;
        let ext = b
            .get(3 + len..3 + len + 2)
            .map_or(0, |e| usize::from(u16::from_be_bytes([e[0], e[1]])));
        b = b.get(3 + len + 2 + ext..).unwrap_or_default();
    }
    Step::Other
}

/// A Unix time as ISO 8601 UTC (`2026-12-01T12:00:00Z`).
fn iso(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let s = t.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn add_cert(info: &mut TlsInfo, der: &[u8]) {
    if info.certificates.len() >= MAX_CERTS {
        return;
    }
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, c)) => info.certificates.push(Certificate {
            subject: c.subject().to_string(),
            issuer: c.issuer().to_string(),
            not_before: iso(c.validity().not_before.timestamp()),
            not_after: iso(c.validity().not_after.timestamp()),
        }),
        Err(_) => info.malformed_handshake += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(iso(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn key_share_list() {
        let b = [0, 8, 0, 29, 0, 1, 0xaa, 0, 23, 0, 0];
        assert_eq!(key_share_groups(&b), vec![29, 23]);
        assert_eq!(key_share_groups(&[0, 9, 0, 29, 0, 200]), vec![29]);
    }
}
