//! The TLS handshake told in plain language: what each message does, what travels in
//! clear and what does not, why TLS 1.3 needs one round trip and TLS 1.2 two, and what a
//! key log gives. Sentences are built from the connection's `tls` facts only.

use crate::escape::escape;
use crate::pipeline::Connection;
use crate::tls::{HandshakeEntry, TlsInfo, labels};

fn list(v: &[String]) -> String {
    escape(&v.join(", "))
}

fn tls13(info: &TlsInfo) -> bool {
    info.version.as_deref() == Some("TLS 1.3")
}

fn client_hello(info: &TlsInfo) -> String {
    let mut s = "TLS ClientHello, in clear: the client proposes".to_string();
    if let Some(ch) = &info.client_hello {
        s += &format!(" {} cipher suites", ch.cipher_suites_offered);
        if !ch.supported_versions.is_empty() {
            s += &format!(
                ", the versions it speaks ({})",
                list(&ch.supported_versions)
            );
        }
        if !ch.key_share_groups.is_empty() {
            s += &format!(
                " and already sends key shares for {} so a TLS 1.3 server can answer at once",
                list(&ch.key_share_groups)
            );
        }
    } else {
        s += " its versions and cipher suites";
    }
    if let Some(sni) = &info.sni {
        s += &format!(
            "; it names the site it wants (SNI {}), visible to anyone on the path",
            escape(sni)
        );
    }
    if !info.alpn_offered.is_empty() {
        s += &format!(
            "; application protocols offered (ALPN): {}",
            list(&info.alpn_offered)
        );
    }
    s + "."
}

fn server_hello(info: &TlsInfo) -> String {
    let v = info.version.as_deref().unwrap_or("an unknown version");
    let c = info.cipher_suite.as_deref().unwrap_or("an unknown suite");
    if tls13(info) {
        format!(
            "TLS ServerHello: the server picks {v} with {c} and answers the client's key share. Both sides now compute the handshake keys: everything after this message is encrypted, the certificate included. One round trip (ClientHello → ServerHello) was enough before the client may send its request."
        )
    } else {
        format!(
            "TLS ServerHello: the server picks {v} with {c}. Its certificate and key-exchange parameters follow in clear; the keys exist only after the client's ClientKeyExchange, so TLS 1.2 needs two round trips before the first request."
        )
    }
}

fn certificate(info: &TlsInfo, encrypted: bool) -> String {
    let how = if encrypted { "encrypted" } else { "in clear" };
    match info.certificates.first() {
        Some(c) => format!(
            "Certificate ({how}): the server's chain of {}; the leaf is {}, issued by {}, valid {} to {}.",
            info.certificates.len(),
            escape(&c.subject),
            escape(&c.issuer),
            c.not_before,
            c.not_after
        ),
        None => format!("Certificate ({how}): the server's certificate chain."),
    }
}

/// What one handshake message does.
fn sentence(info: &TlsInfo, h: &HandshakeEntry) -> String {
    match h.message.as_str() {
        "ClientHello" => client_hello(info),
        "ServerHello" => server_hello(info),
        "HelloRetryRequest" => "HelloRetryRequest: the server wants a key share for another group; the client sends a second ClientHello, costing one more round trip.".into(),
        "Certificate" => certificate(info, h.encrypted),
        "ServerKeyExchange" => format!(
            "ServerKeyExchange: the server's ephemeral ECDHE public key ({}), signed with its certificate's key.",
            info.key_exchange_group.as_deref().unwrap_or("group unknown")
        ),
        "ServerHelloDone" => "ServerHelloDone: the server has said everything for this round trip; the client answers.".into(),
        "ClientKeyExchange" => "ClientKeyExchange: the client's ECDHE public key. Both sides can now compute the same master secret, which never crosses the wire.".into(),
        "ChangeCipherSpec" if tls13(info) => "ChangeCipherSpec: a no-op kept for middleboxes that expect TLS 1.2 (RFC 8446 appendix D.4).".into(),
        "ChangeCipherSpec" => format!("ChangeCipherSpec: from its next record on, the {} encrypts.", h.dir.name()),
        "EncryptedExtensions" => format!(
            "EncryptedExtensions: the server's choices that need no clear text{}.",
            info.alpn.as_ref().map_or(String::new(), |a| format!(", among them the application protocol {}", escape(a)))
        ),
        "CertificateVerify" => "CertificateVerify: a signature over the handshake so far with the certificate's private key: the server proves it holds it.".into(),
        "Finished" => format!(
            "Finished ({}): a MAC over the whole handshake with keys only the two ends have; each side checks that nobody altered a message.",
            if h.encrypted { "encrypted" } else { "in clear" }
        ),
        "NewSessionTicket" => "NewSessionTicket: a ticket the client may present later to resume without a full handshake.".into(),
        "KeyUpdate" => format!("KeyUpdate: the {} switches to fresh traffic keys.", h.dir.name()),
        "EncryptedHandshake" => format!(
            "Encrypted handshake messages from the {}: without the key log their content is hidden (TLS 1.3 encrypts everything after the ServerHello).",
            h.dir.name()
        ),
        m => format!("{m}."),
    }
}

/// Sentences for the TLS messages of one frame (empty when it has none).
pub fn frame_sentences(c: &Connection, frame: u64) -> Vec<String> {
    let Some(info) = c.tls_info() else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    if let Some(l) = labels::frame_labels(info).get(&frame) {
        out.push(format!("TLS: {}", escape(l)));
    }
    for h in info.handshake.iter().filter(|h| h.frame == frame) {
        let s = sentence(info, h);
        if !out.contains(&s) {
            out.push(s);
        }
    }
    for a in info.alerts.iter().filter(|a| a.frame == frame) {
        out.push(format!(
            "TLS alert from the {} ({}): {}{}.",
            a.dir.name(),
            a.level,
            a.description,
            if a.description == "close_notify" {
                ", the orderly end of the TLS session"
            } else {
                ""
            }
        ));
    }
    for a in info.anomalies.iter().filter(|a| a.frame == frame) {
        out.push(format!("TLS anomaly: {}.", a.what));
    }
    out
}

/// What the TLS layer adds to the connection's summary.
pub fn summary(c: &Connection) -> Vec<String> {
    let Some(info) = c.tls_info() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if info.decrypted {
        out.push(format!(
            "Decrypted with a key log (from the {}): it holds this connection's secrets, matched by the ClientHello random. Whoever has the key log can read the traffic, so keep it as secret as a password; tcpscope never prints it.",
            if info.keys_from.is_some_and(|k| k == crate::tls::KeySource::Dsb) { "capture's Decryption Secrets Block" } else { "key log file" }
        ));
        if !c.http.is_empty() {
            out.push(format!(
                "Inside the TLS records: {} HTTP exchange(s), read from the decrypted bytes.",
                c.http.len()
            ));
        }
    } else {
        out.push("Not decrypted: only the clear-text handshake is visible. With the key log the client wrote (`SSLKEYLOGFILE`), `--keylog FILE` shows the requests inside.".into());
    }
    if info.decrypt_failures > 0 {
        out.push(format!(
            "{} record(s) did not authenticate with the key log's keys: wrong keys, or damaged bytes; nothing after them was decrypted.",
            info.decrypt_failures
        ));
    }
    for n in &info.notes {
        out.push(format!("{}.", escape(n)));
    }
    out
}
