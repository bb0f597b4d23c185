//! TLS between the TCP byte streams and HTTP (sans-IO): record framing across segments
//! and gaps (`record`), handshake dissection (`handshake`, with `tls-parser`), and, given
//! a key log (`keylog`), record decryption (`crypto`) whose plaintext goes on to HTTP.
//!
//! A [`TlsSession`] is pushed each direction's reassembled bytes and gaps; it fills a
//! [`TlsInfo`] (the JSON's `tls` object) and hands decrypted application data to a
//! callback as [`Plain`] events. A record that fails to authenticate is an anomaly with
//! its frame; its bytes never reach the callback. Secrets never appear in any output.

pub mod crypto;
mod handshake;
pub mod keylog;
pub mod labels;
pub mod names;
pub mod record;
mod session;
pub mod tree;

pub use keylog::{KeyFeed, KeyLog, KeySource};
pub use session::TlsSession;

use crate::flow::Dir;
use serde::Serialize;

/// Handshake entries kept per connection (a renegotiating or hostile peer sends more).
const MAX_HANDSHAKE: usize = 256;
/// Alerts and anomalies kept per connection.
const MAX_NOTES: usize = 64;

/// What the TLS layer hands on: decrypted application data, or plaintext lost with
/// records that were never captured (its length estimated from the ciphertext).
#[derive(Debug)]
pub enum Plain<'a> {
    Data { bytes: &'a [u8], frame: u64 },
    Gap { offset: u64, len: u64 },
}

/// One handshake-level message in capture order (`ChangeCipherSpec` included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HandshakeEntry {
    pub frame: u64,
    pub dir: Dir,
    pub message: String,
    /// Sent encrypted (shown because the key log opened it, or known by its place).
    pub encrypted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub frame: u64,
    pub dir: Dir,
    pub level: String,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Certificate {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Records {
    pub client: u64,
    pub server: u64,
}

/// The ClientHello as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClientHelloInfo {
    /// legacy_version (TLS 1.3 clients send TLS 1.2 here; see `supported_versions`).
    pub version: String,
    pub random: String,
    pub session_id: String,
    /// Offered suites (GREASE left out; at most 128 names, `cipher_suites_offered` counts all).
    pub cipher_suites: Vec<String>,
    pub cipher_suites_offered: usize,
    pub supported_versions: Vec<String>,
    pub key_share_groups: Vec<String>,
    pub extensions: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServerHelloInfo {
    pub version: String,
    /// The supported_versions extension's choice (TLS 1.3).
    pub supported_version: Option<String>,
    pub random: String,
    pub session_id: String,
    pub cipher_suite: String,
    /// The server asked for a second ClientHello (a HelloRetryRequest, TLS 1.3) before
    /// this ServerHello, or this is that request (when no ServerHello followed).
    pub hello_retry_request: bool,
}

/// A TLS problem tied to a frame: a record that does not authenticate, a malformed header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlsAnomaly {
    pub frame: u64,
    pub dir: Dir,
    pub what: String,
}

/// A connection's TLS facts: the JSON's `tls` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TlsInfo {
    pub version: Option<String>,
    pub cipher_suite: Option<String>,
    pub sni: Option<String>,
    pub alpn_offered: Vec<String>,
    pub alpn: Option<String>,
    pub certificates: Vec<Certificate>,
    pub decrypted: bool,
    pub keys_from: Option<KeySource>,
    pub handshake: Vec<HandshakeEntry>,
    pub records: Records,
    pub alerts: Vec<Alert>,
    pub decrypt_failures: u64,
    pub client_hello: Option<ClientHelloInfo>,
    pub server_hello: Option<ServerHelloInfo>,
    /// ECDHE group (ServerKeyExchange in TLS 1.2, key_share in TLS 1.3).
    pub key_exchange_group: Option<String>,
    /// Why nothing was decrypted although keys were given, or what is not parsed yet.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<TlsAnomaly>,
    /// Records that could not be framed or handshake messages that did not parse.
    pub malformed_handshake: u64,
    /// Handshake entries beyond the 256 kept.
    #[serde(skip_serializing_if = "is_zero")]
    pub handshake_not_kept: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl TlsInfo {
    fn note(&mut self, s: String) {
        if !self.notes.contains(&s) && self.notes.len() < MAX_NOTES {
            self.notes.push(s);
        }
    }

    fn anomaly(&mut self, frame: u64, dir: Dir, what: String) {
        if self.anomalies.len() < MAX_NOTES {
            self.anomalies.push(TlsAnomaly { frame, dir, what });
        }
    }

    fn entry(&mut self, frame: u64, dir: Dir, message: String, encrypted: bool) {
        if self.handshake.len() < MAX_HANDSHAKE {
            self.handshake.push(HandshakeEntry {
                frame,
                dir,
                message,
                encrypted,
            });
        } else {
            self.handshake_not_kept += 1;
        }
    }
}
