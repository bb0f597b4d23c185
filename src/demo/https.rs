//! The `https` scenario: the `keep-alive` lesson inside TLS 1.3. A certificate for
//! `tcpscope.demo` is made at start (rcgen, self-signed); a rustls server on the staged
//! listener and a rustls client on the staged socket (ALPN `http/1.1`) speak the same
//! hand-written HTTP/1.1 as the other scenarios. The client writes every secret it derives
//! to an NSS key log file (`SSLKEYLOGFILE` format) the moment it has it; the capture reads
//! that file as it grows, so what it sees encrypted on the wire it can also show
//! decrypted. The `h2` scenario (`demo::h2`) runs over the same machinery with ALPN `h2`.

use super::scenarios::{Say, drain, got, page, read_req, timeouts};
use super::sockets::connect_bound;
use super::wire;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection, StreamOwned};
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The name in the certificate and the client's SNI.
pub const SERVER_NAME: &str = "tcpscope.demo";

/// The two pages the `https` client asks for, the second with `Connection: close`.
pub const PAGES: [&str; 2] = ["/hello.txt", "/about.txt"];

/// Writes each secret rustls hands over as one key log line, flushed at once.
#[derive(Debug)]
struct KeyFile(Mutex<std::fs::File>);

impl rustls::KeyLog for KeyFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let line = format!("{label} {} {}\n", hex(client_random), hex(secret));
        if let Ok(mut f) = self.0.lock() {
            // The demo goes on without it: the capture then shows the ciphertext only.
            let _ = f.write_all(line.as_bytes()).and_then(|()| f.flush());
        }
    }
}

/// Server and client configurations of one run.
pub struct Tls {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl Tls {
    /// TLS 1.3 only, ring's cipher suites, the given ALPN protocol on both sides; the
    /// client's secrets appended to `keylog`.
    pub fn new(alpn: &[u8], keylog: Option<&PathBuf>) -> io::Result<Tls> {
        let cert =
            rcgen::generate_simple_self_signed(vec![SERVER_NAME.to_string()]).map_err(other)?;
        let der = CertificateDer::from(cert.cert.der().to_vec());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(other)?
            .with_no_client_auth()
            .with_single_cert(vec![der.clone()], key)
            .map_err(other)?;
        server.alpn_protocols = vec![alpn.to_vec()];
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der).map_err(other)?;
        let mut client = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.alpn_protocols = vec![alpn.to_vec()];
        if let Some(p) = keylog {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)?;
            client.key_log = Arc::new(KeyFile(Mutex::new(f)));
        }
        Ok(Tls {
            server: Arc::new(server),
            client: Arc::new(client),
        })
    }

    /// Accept the one connection and complete the server's side of the handshake.
    pub fn accept(
        &self,
        l: TcpListener,
        say: Say<'_>,
    ) -> io::Result<StreamOwned<ServerConnection, TcpStream>> {
        let (s, peer) = l.accept()?;
        drop(l);
        timeouts(&s)?;
        s.set_nodelay(true)?;
        say(format!("server: accepted a connection from {peer}"));
        let conn = ServerConnection::new(self.server.clone()).map_err(other)?;
        let mut t = StreamOwned::new(conn, s);
        while t.conn.is_handshaking() {
            t.conn.complete_io(&mut t.sock)?;
        }
        Ok(t)
    }

    /// Connect the staged socket and complete the client's side of the handshake.
    pub fn connect(
        &self,
        sock: TcpStream,
        addr: SocketAddr,
        say: Say<'_>,
    ) -> io::Result<StreamOwned<ClientConnection, TcpStream>> {
        let s = connect_bound(sock, addr)?;
        timeouts(&s)?;
        s.set_nodelay(true)?;
        say(format!(
            "client: connected to {addr}; TLS ClientHello for {SERVER_NAME}"
        ));
        let name = ServerName::try_from(SERVER_NAME).map_err(other)?;
        let conn = ClientConnection::new(self.client.clone(), name).map_err(other)?;
        let mut t = StreamOwned::new(conn, s);
        while t.conn.is_handshaking() {
            t.conn.complete_io(&mut t.sock)?;
        }
        let suite = t
            .conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default();
        let alpn = t
            .conn
            .alpn_protocol()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .unwrap_or_default();
        say(format!(
            "client: TLS 1.3 handshake done ({suite}, ALPN {alpn}); its secrets are in the key log, so the capture can decrypt what follows"
        ));
        Ok(t)
    }
}

/// The server: answer GETs inside TLS until one asks for `Connection: close`, then
/// close_notify, FIN, and wait for the client's close.
pub fn serve(tls: &Tls, l: TcpListener, say: Say<'_>) -> io::Result<()> {
    let mut t = tls.accept(l, say)?;
    say("server: TLS handshake done; every byte from here on is encrypted on the wire".into());
    let mut n = 0;
    while let Some(h) = read_req(&mut t, say)? {
        n += 1;
        let uri = h.start.split(' ').nth(1).unwrap_or("/").to_string();
        let close = h.wants_close();
        let conn = if close { "close" } else { "keep-alive" };
        wire::respond(
            &mut t,
            "200 OK",
            "text/plain",
            &page(&uri),
            &[("Connection", conn)],
        )?;
        say(format!(
            "server: answered request {n} with 200 OK (one encrypted record)"
        ));
        if close {
            break;
        }
    }
    t.conn.send_close_notify();
    t.conn.complete_io(&mut t.sock)?;
    t.sock.shutdown(Shutdown::Write)?;
    say("server: sent close_notify (an encrypted alert), then FIN".into());
    drain(&mut t).map(drop)
}

/// The client: two GETs on one TLS connection, the second asking the server to close.
pub fn client(tls: &Tls, sock: TcpStream, addr: SocketAddr, say: Say<'_>) -> io::Result<()> {
    let mut t = tls.connect(sock, addr, say)?;
    let host = SERVER_NAME;
    for (i, uri) in PAGES.iter().enumerate() {
        let extra: &[(&str, &str)] = if i + 1 == PAGES.len() {
            &[("Connection", "close")]
        } else {
            &[("Accept", "*/*")]
        };
        let req = wire::get(uri, host, extra);
        t.write_all(&req)?;
        say(format!(
            "client: wrote {} bytes inside TLS: {}",
            req.len(),
            wire::first_line(&req)
        ));
        got(&wire::read_response(&mut t)?, say);
    }
    drain(&mut t)?;
    t.conn.send_close_notify();
    t.conn.complete_io(&mut t.sock)?;
    say("client: the server said close_notify; answers with its own and closes".into());
    Ok(())
}
