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
/// braces; alerts after them (`Alert close_notify`). Captured strings (SNI, ALPN) are the caller's to escape before display.
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
    for a in &info.alerts {
        by_frame
            .entry(a.frame)
            .or_default()
            .0
            .push(format!("Alert {}", a.description));
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

/// One Application Data record (content type 23) as the wire carries it: its length
/// field (as tshark's `tls.record.length`) and the frame holding its last byte (where
/// its plaintext, when decrypted, is handed on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppRecord {
    pub dir: crate::flow::Dir,
    pub frame: u64,
    pub len: u64,
}

/// Records kept per connection by [`RecordScan`] (the rest are counted only).
pub const MAX_RECORDS: usize = 100_000;

/// Frames both directions' ciphertext into records (the same framing as the session's)
/// and keeps the records of content type 23. Bounded: one record buffered per
/// direction, [`MAX_RECORDS`] kept.
#[derive(Debug, Default)]
pub struct RecordScan {
    framer: [super::record::Framer; 2],
    pub records: Vec<AppRecord>,
    pub not_kept: u64,
}

impl RecordScan {
    pub fn push(&mut self, dir: crate::flow::Dir, bytes: &[u8], frame: u64) {
        let mut out = Vec::new();
        self.framer[dir.idx()].push(bytes, frame, &mut out);
        for f in out {
            if let super::record::Framed::Record(r) = f
                && r.ctype() == 23
            {
                if self.records.len() < MAX_RECORDS {
                    self.records.push(AppRecord {
                        dir,
                        frame: r.last_frame,
                        len: r.body.len() as u64,
                    });
                } else {
                    self.not_kept += 1;
                }
            }
        }
    }

    pub fn gap(&mut self, dir: crate::flow::Dir, len: u64) {
        self.framer[dir.idx()].gap(len);
    }
}

/// `n` with thousands separators: `1,400`.
pub fn thousands(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::new();
    for (i, ch) in d.chars().enumerate() {
        if i > 0 && (d.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The Application Data records of each frame, per frame: the records of content type
/// 23 less those that carried encrypted handshake messages (TLS 1.3 sends its
/// EncryptedExtensions to Finished and NewSessionTickets as type 23: one record a
/// message, as the usual stacks send them; each `{…}` message at a frame accounts for
/// one record there).
pub fn app_data_by_frame(info: &TlsInfo, records: &[AppRecord]) -> BTreeMap<u64, Vec<u64>> {
    let mut hs: BTreeMap<(u64, usize), usize> = BTreeMap::new();
    for h in info.handshake.iter().filter(|h| h.encrypted) {
        *hs.entry((h.frame, h.dir.idx())).or_default() += 1;
    }
    // An alert is one record too (sent as type 23 once encrypted).
    for a in &info.alerts {
        *hs.entry((a.frame, a.dir.idx())).or_default() += 1;
    }
    let mut out: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for r in records {
        if let Some(n) = hs.get_mut(&(r.frame, r.dir.idx()))
            && *n > 0
        {
            *n -= 1;
            continue;
        }
        out.entry(r.frame).or_default().push(r.len);
    }
    out
}

/// A frame's Application Data label: `Application Data 1,400 B`, several records
/// `Application Data ×3 4,200 B` (their total); what they carry is appended by the
/// caller (`→ GET /`).
pub fn app_data_label(lens: &[u64]) -> String {
    let total = thousands(lens.iter().sum());
    match lens.len() {
        0 => String::new(),
        1 => format!("Application Data {total} B"),
        n => format!("Application Data ×{n} {total} B"),
    }
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

    #[test]
    fn application_data_records_less_the_encrypted_handshake() {
        assert_eq!(thousands(1400), "1,400");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        let info = TlsInfo {
            handshake: vec![HandshakeEntry {
                frame: 9,
                dir: Dir::Server,
                message: "NewSessionTicket".into(),
                encrypted: true,
            }],
            ..Default::default()
        };
        let r = |dir, frame, len| AppRecord { dir, frame, len };
        let recs = [
            r(Dir::Server, 9, 74),
            r(Dir::Server, 9, 57),
            r(Dir::Client, 9, 98),
            r(Dir::Client, 12, 81),
        ];
        let by = app_data_by_frame(&info, &recs);
        assert_eq!(by[&9], [57, 98]);
        assert_eq!(by[&12], [81]);
        assert_eq!(app_data_label(&by[&12]), "Application Data 81 B");
        assert_eq!(
            app_data_label(&[1000, 400, 57]),
            "Application Data ×3 1,457 B"
        );
    }

    #[test]
    fn scan_frames_records_across_pushes() {
        let mut s = RecordScan::default();
        let mut rec = vec![23u8, 3, 3, 0, 4, 1, 2];
        s.push(Dir::Client, &rec, 5);
        rec = vec![3, 4, 22, 3, 3, 0, 1, 9, 23, 3, 3, 0, 0];
        s.push(Dir::Client, &rec, 6);
        assert_eq!(
            s.records,
            [
                AppRecord {
                    dir: Dir::Client,
                    frame: 6,
                    len: 4
                },
                AppRecord {
                    dir: Dir::Client,
                    frame: 6,
                    len: 0
                }
            ]
        );
    }
}
