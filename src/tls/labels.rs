//! Ladder labels for TLS handshake frames (pure: the UI and `diagram` pick them up by
//! frame): `ClientHello (SNI tls.test, ALPN h2,http/1.1)`, `ServerHello TLS 1.3
//! AES_128_GCM`, `{EncryptedExtensions, Certificate, CertificateVerify, Finished}` for
//! messages sent encrypted.

use super::TlsInfo;
use std::collections::BTreeMap;

/// A suite's cipher part from its IANA name: `TLS_AES_128_GCM_SHA256` -> `AES_128_GCM`.
pub fn short_suite(name: &str) -> &str {
    let s = name.strip_prefix("TLS_").unwrap_or(name);
    let s = s.split_once("_WITH_").map_or(s, |(_, c)| c);
    match s.rsplit_once('_') {
        Some((c, h)) if h.starts_with("SHA") => c,
        _ => s,
    }
}

fn one(info: &TlsInfo, message: &str) -> String {
    match message {
        "ClientHello" => {
            let mut extra = Vec::new();
            if let Some(sni) = &info.sni {
                extra.push(format!("SNI {sni}"));
            }
            if !info.alpn_offered.is_empty() {
                extra.push(format!("ALPN {}", info.alpn_offered.join(",")));
            }
            if extra.is_empty() {
                "ClientHello".into()
            } else {
                format!("ClientHello ({})", extra.join(", "))
            }
        }
        "ServerHello" => {
            let mut s = "ServerHello".to_string();
            if let Some(v) = &info.version {
                s += &format!(" {v}");
            }
            if let Some(c) = &info.cipher_suite {
                s += &format!(" {}", short_suite(c));
            }
            s
        }
        m => m.to_string(),
    }
}

/// Each handshake frame's label, several messages of a frame joined; encrypted ones in
/// braces. Captured strings (SNI, ALPN) are the caller's to escape before display.
pub fn frame_labels(info: &TlsInfo) -> BTreeMap<u64, String> {
    let mut by_frame: BTreeMap<u64, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for h in &info.handshake {
        let e = by_frame.entry(h.frame).or_default();
        let side = if h.encrypted { &mut e.1 } else { &mut e.0 };
        let label = one(info, &h.message);
        if side.last() != Some(&label) {
            side.push(label);
        }
    }
    by_frame
        .into_iter()
        .map(|(f, (clear, enc))| {
            let mut parts = clear;
            if !enc.is_empty() {
                parts.push(format!("{{{}}}", enc.join(", ")));
            }
            (f, parts.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Dir;
    use crate::tls::HandshakeEntry;

    #[test]
    fn labels_as_the_issue_shows_them() {
        let e = |frame, dir, m: &str, encrypted| HandshakeEntry {
            frame,
            dir,
            message: m.into(),
            encrypted,
        };
        let info = TlsInfo {
            version: Some("TLS 1.3".into()),
            cipher_suite: Some("TLS_AES_128_GCM_SHA256".into()),
            sni: Some("tls.test".into()),
            alpn_offered: vec!["h2".into(), "http/1.1".into()],
            handshake: vec![
                e(4, Dir::Client, "ClientHello", false),
                e(6, Dir::Server, "ServerHello", false),
                e(6, Dir::Server, "ChangeCipherSpec", false),
                e(6, Dir::Server, "EncryptedExtensions", true),
                e(6, Dir::Server, "Certificate", true),
                e(6, Dir::Server, "Finished", true),
            ],
            ..Default::default()
        };
        let l = frame_labels(&info);
        assert_eq!(l[&4], "ClientHello (SNI tls.test, ALPN h2,http/1.1)");
        assert_eq!(
            l[&6],
            "ServerHello TLS 1.3 AES_128_GCM, ChangeCipherSpec, {EncryptedExtensions, Certificate, Finished}"
        );
        assert_eq!(
            short_suite("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
            "CHACHA20_POLY1305"
        );
    }
}
