//! The demo scenarios: a tiny HTTP server on a thread and a client on plain sockets,
//! both written by hand (see `wire`), each staging one thing a lesson wants to show.
//!
//! Every socket has timeouts, so no scenario can hang: the slowest (`timeout`,
//! `slow-reader`) take under two seconds.

use super::sockets::{bound_client, connect_bound, linger_zero};
use super::wire::{self, Head};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

pub use super::catalog::Scenario;

/// Where narration goes (stderr in headless runs, a buffer under the TUI).
pub type Say<'a> = &'a (dyn Fn(String) + Sync);

/// A scenario ready to run: its server socket bound (or, for `refused`, a free port
/// nobody listens on) and its client socket bound but not connected, so the capture
/// filter can name both ports before any packet: other loopback traffic is never caught.
pub struct Stage {
    pub scenario: Scenario,
    pub port: u16,
    /// The client's local port, bound before the capture starts.
    pub client_port: u16,
    listener: Option<TcpListener>,
    /// The client's socket: bound, not yet connected.
    client: TcpStream,
    /// The server's address (127.0.0.1, or the server namespace's for `loss`).
    host: std::net::Ipv4Addr,
    /// Where the TLS scenarios' client appends its secrets.
    pub keylog: Option<std::path::PathBuf>,
}

const IO_TIMEOUT: Duration = Duration::from_secs(4);
const HOST: &str = "127.0.0.1";

impl Stage {
    pub fn bind(scenario: Scenario) -> io::Result<Stage> {
        let l = TcpListener::bind((HOST, 0))?;
        let port = l.local_addr()?.port();
        let listener = if scenario == Scenario::Refused {
            // Free the port again: nothing listens there now.
            drop(l);
            None
        } else {
            Some(l)
        };
        // The window offered in the SYN depends on SO_RCVBUF: set before connect().
        let rcvbuf = (scenario == Scenario::SlowReader).then_some(2048);
        let (client, client_port) = bound_client(rcvbuf, HOST.parse().expect("an IPv4 address"))?;
        Ok(Stage {
            scenario,
            port,
            client_port,
            listener,
            client,
            host: HOST.parse().expect("an IPv4 address"),
            keylog: None,
        })
    }

    /// A stage from sockets made elsewhere (`loss` makes each in its own namespace).
    pub fn from_parts(
        scenario: Scenario,
        listener: TcpListener,
        client: (TcpStream, u16),
        host: std::net::Ipv4Addr,
    ) -> io::Result<Stage> {
        Ok(Stage {
            scenario,
            port: listener.local_addr()?.port(),
            client_port: client.1,
            listener: Some(listener),
            client: client.0,
            host,
            keylog: None,
        })
    }

    /// A client socket bound to `ip` (in the calling thread's network namespace).
    pub fn client_socket(ip: std::net::Ipv4Addr) -> io::Result<(TcpStream, u16)> {
        bound_client(None, ip)
    }

    /// The capture filter that takes this scenario's packets and nothing else.
    pub fn filter(&self) -> String {
        format!(
            "tcp and host {} and port {} and port {}",
            self.host, self.port, self.client_port
        )
    }

    /// Run the server (on a thread) and the client (here) to the end of the scenario.
    pub fn run(self, say: Say<'_>) -> io::Result<()> {
        let sc = self.scenario;
        let addr: SocketAddr = (self.host, self.port).into();
        let tls = match sc {
            Scenario::Https => Some(super::https::Tls::new(b"http/1.1", self.keylog.as_ref())?),
            Scenario::H2 => Some(super::https::Tls::new(b"h2", self.keylog.as_ref())?),
            _ => None,
        };
        std::thread::scope(|scope| {
            let tls = tls.as_ref();
            let server = self.listener.map(|l| {
                scope.spawn(move || {
                    let r = match tls {
                        Some(t) if sc == Scenario::H2 => super::h2::serve(t, l, say),
                        Some(t) => super::https::serve(t, l, say),
                        None => serve(sc, l, say),
                    };
                    if let Err(e) = &r {
                        say(format!("server: stopped: {e}"));
                    }
                    r
                })
            });
            let client = match tls {
                Some(t) if sc == Scenario::H2 => super::h2::client(t, self.client, addr, say),
                Some(t) => super::https::client(t, self.client, addr, say),
                None => client(sc, self.client, addr, say),
            };
            if let Err(e) = &client {
                say(format!("client: stopped: {e}"));
            }
            let server = match server {
                Some(h) => h
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("the server thread panicked"))),
                None => Ok(()),
            };
            client.and(server)
        })
    }
}

pub(super) fn timeouts(s: &TcpStream) -> io::Result<()> {
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))
}

/// Read until the peer's FIN (data, if any, is counted and dropped).
pub(super) fn drain(s: &mut impl Read) -> io::Result<usize> {
    let mut n = 0;
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf)? {
            0 => return Ok(n),
            k => n += k,
        }
    }
}

/// Bytes the `loss` scenario downloads: enough segments (about 720) for several losses.
const LOSS_BODY: usize = 1 << 20;

/// A body that does not compress or repeat (a simple LCG), the same every run.
fn loss_body() -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..LOSS_BODY)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

pub(super) fn page(name: &str) -> Vec<u8> {
    format!("Hello from the tcpscope demo server: this is {name}.\n").into_bytes()
}

/// The server side: accept one connection and answer as the scenario says.
fn serve(sc: Scenario, l: TcpListener, say: Say<'_>) -> io::Result<()> {
    let (mut s, peer) = l.accept()?;
    drop(l);
    timeouts(&s)?;
    // Each write its own segment: Nagle would hold small writes back for an ACK.
    s.set_nodelay(true)?;
    say(format!("server: accepted a connection from {peer}"));
    match sc {
        Scenario::Get | Scenario::KeepAlive | Scenario::Pipelined => serve_gets(&mut s, say),
        Scenario::Chunked => serve_chunked(&mut s, say),
        Scenario::PostContinue => serve_post(&mut s, say),
        Scenario::Refused | Scenario::Https | Scenario::H2 => Ok(()),
        Scenario::Reset => serve_reset(s, say),
        Scenario::HalfClose => serve_half_close(&mut s, say),
        Scenario::SlowReader => {
            read_req(&mut s, say)?;
            let body = vec![b'z'; 48 * 1024];
            say("server: sending 48 KiB; the client's receive window will fill".into());
            wire::respond(&mut s, "200 OK", "application/octet-stream", &body, &[])?;
            drain(&mut s).map(drop)
        }
        Scenario::Loss => {
            read_req(&mut s, say)?;
            say(format!(
                "server: sending {} bytes over the lossy link",
                LOSS_BODY
            ));
            wire::respond(
                &mut s,
                "200 OK",
                "application/octet-stream",
                &loss_body(),
                &[],
            )?;
            s.shutdown(Shutdown::Write)?;
            drain(&mut s).map(drop)
        }
        Scenario::Timeout => {
            read_req(&mut s, say)?;
            say("server: got the request and says nothing".into());
            drain(&mut s)?;
            say("server: the client gave up and closed; closing too".into());
            Ok(())
        }
    }
}

/// Read a request head (byte by byte, so nothing of the next request is consumed).
pub(super) fn read_req(s: &mut impl Read, say: Say<'_>) -> io::Result<Option<Head>> {
    let h = wire::read_head(s)?;
    if let Some(h) = &h {
        say(format!(
            "server: read a request head byte by byte: {}",
            h.start
        ));
    }
    Ok(h)
}

/// Answer GETs until the client closes, or one asks for `Connection: close`.
fn serve_gets(s: &mut TcpStream, say: Say<'_>) -> io::Result<()> {
    let mut n = 0;
    while let Some(h) = read_req(s, say)? {
        n += 1;
        let uri = h.start.split(' ').nth(1).unwrap_or("/").to_string();
        let close = h.wants_close();
        let extra: &[(&str, &str)] = if close {
            &[("Connection", "close")]
        } else {
            &[("Connection", "keep-alive")]
        };
        wire::respond(s, "200 OK", "text/plain", &page(&uri), extra)?;
        say(format!("server: answered request {n} with 200 OK"));
        if close {
            say("server: the request said Connection: close, so the server closes first".into());
            return Ok(());
        }
    }
    say("server: the client closed; closing too".into());
    Ok(())
}

fn serve_chunked(s: &mut TcpStream, say: Say<'_>) -> io::Result<()> {
    read_req(s, say)?;
    s.write_all(&wire::head(
        "HTTP/1.1 200 OK",
        &[
            ("Server", "tcpscope-demo"),
            ("Content-Type", "text/plain"),
            ("Transfer-Encoding", "chunked"),
        ],
    ))?;
    for part in [
        "The body arrives ",
        "in chunks, each with ",
        "its size in hex.\n",
    ] {
        std::thread::sleep(Duration::from_millis(20));
        s.write_all(format!("{:x}\r\n{part}\r\n", part.len()).as_bytes())?;
    }
    std::thread::sleep(Duration::from_millis(20));
    s.write_all(b"0\r\n\r\n")?;
    say("server: sent 3 chunks and the last-chunk marker 0".into());
    drain(s).map(drop)
}

/// A POST with `Expect: 100-continue`: the interim answer, then the body, then 201.
fn serve_post(s: &mut TcpStream, say: Say<'_>) -> io::Result<()> {
    let Some(h) = read_req(s, say)? else {
        return Ok(());
    };
    if h.get("Expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        say("server: sent the interim HTTP/1.1 100 Continue".into());
    }
    let mut body = vec![0u8; h.content_length().unwrap_or(0).min(1 << 20)];
    s.read_exact(&mut body)?;
    let msg = format!("received {} bytes\n", body.len());
    wire::respond(s, "201 Created", "text/plain", msg.as_bytes(), &[])?;
    say(format!(
        "server: read the {}-byte body, answered 201 Created",
        body.len()
    ));
    drain(s).map(drop)
}

/// Part of a body, then an abort: the socket is closed with RST.
fn serve_reset(mut s: TcpStream, say: Say<'_>) -> io::Result<()> {
    read_req(&mut s, say)?;
    let mut msg = wire::head(
        "HTTP/1.1 200 OK",
        &[
            ("Server", "tcpscope-demo"),
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", "100000"),
        ],
    );
    msg.extend(std::iter::repeat_n(b'x', 2000));
    s.write_all(&msg)?;
    std::thread::sleep(Duration::from_millis(100));
    linger_zero(&s)?;
    say("server: sent 2000 of 100000 body bytes, then aborted (SO_LINGER 0 + close: RST)".into());
    drop(s);
    Ok(())
}

/// The response sent after the client's FIN, its end marked by the server's close.
fn serve_half_close(s: &mut TcpStream, say: Say<'_>) -> io::Result<()> {
    read_req(s, say)?;
    drain(s)?;
    say("server: read the client's FIN (end of its data); it can still send".into());
    s.write_all(&wire::head(
        "HTTP/1.1 200 OK",
        &[
            ("Server", "tcpscope-demo"),
            ("Content-Type", "text/plain"),
            ("Connection", "close"),
        ],
    ))?;
    for i in 1..=3 {
        std::thread::sleep(Duration::from_millis(20));
        s.write_all(format!("part {i} of a body that ends with the close\n").as_bytes())?;
    }
    say("server: sent the response after the client's FIN, now closes".into());
    Ok(())
}

/// The keep-alive and pipelined scenarios' three GETs; the last asks the server to close.
fn three_gets(host: &str) -> Vec<Vec<u8>> {
    let uris = ["/index.html", "/style.css", "/data.json"];
    let close: &[(&str, &str)] = &[("Connection", "close")];
    uris.iter()
        .enumerate()
        .map(|(i, uri)| wire::get(uri, host, if i == 2 { close } else { &[] }))
        .collect()
}

/// The client side: connect, write the hand-built request(s), read and parse.
fn client(sc: Scenario, sock: TcpStream, addr: SocketAddr, say: Say<'_>) -> io::Result<()> {
    let host = addr.to_string();
    if sc == Scenario::Refused {
        return client_refused(sock, addr, say);
    }
    let mut s = connect_bound(sock, addr)?;
    timeouts(&s)?;
    say(format!("client: connected to {addr}"));
    let s = &mut s;
    match sc {
        Scenario::Get | Scenario::Chunked => {
            send(
                s,
                &wire::get("/hello.txt", &host, &[("Accept", "*/*")]),
                say,
            )?;
            got(&wire::read_response(s)?, say);
            say("client: done; closes first".into());
        }
        Scenario::KeepAlive => {
            for req in three_gets(&host) {
                send(s, &req, say)?;
                got(&wire::read_response(s)?, say);
            }
            drain(s)?;
            say("client: the server closed; closing too".into());
        }
        Scenario::Pipelined => client_pipelined(s, &host, say)?,
        Scenario::PostContinue => client_post(s, &host, say)?,
        Scenario::Reset => client_reset(s, &host, say)?,
        Scenario::HalfClose => {
            send(s, &wire::get("/stream.txt", &host, &[]), say)?;
            s.shutdown(Shutdown::Write)?;
            say("client: shutdown(Write): FIN sent, still reading".into());
            got(&wire::read_response(s)?, say);
        }
        Scenario::SlowReader => {
            send(s, &wire::get("/big.bin", &host, &[]), say)?;
            say("client: receive buffer 2 KiB; not reading for 1 s".into());
            std::thread::sleep(Duration::from_millis(1000));
            got(&wire::read_response(s)?, say);
        }
        Scenario::Timeout => client_timeout(s, &host, say)?,
        Scenario::Loss => {
            send(s, &wire::get("/random-1m.bin", &host, &[]), say)?;
            got(&wire::read_response(s)?, say);
            say("client: done; closes first".into());
        }
        Scenario::Refused | Scenario::Https | Scenario::H2 => {}
    }
    Ok(())
}

fn send(s: &mut TcpStream, bytes: &[u8], say: Say<'_>) -> io::Result<()> {
    s.write_all(bytes)?;
    say(format!(
        "client: wrote {} bytes: {}",
        bytes.len(),
        wire::first_line(bytes)
    ));
    Ok(())
}

pub(super) fn got(r: &wire::Response, say: Say<'_>) {
    say(format!(
        "client: read {} ({}-byte body{})",
        r.head.start,
        r.body.len(),
        if r.chunks > 0 {
            format!(", {} chunks", r.chunks)
        } else {
            String::new()
        }
    ));
}

/// Connect where nothing listens: the kernel's RST is the expected outcome.
fn client_refused(sock: TcpStream, addr: SocketAddr, say: Say<'_>) -> io::Result<()> {
    say(format!(
        "client: connecting to {addr}, where nothing listens"
    ));
    match connect_bound(sock, addr) {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            say("client: connection refused (the kernel answered the SYN with RST)".into());
            Ok(())
        }
        Err(e) => Err(e),
        Ok(_) => Err(io::Error::other("something listens on the port after all")),
    }
}

fn client_pipelined(s: &mut TcpStream, host: &str, say: Say<'_>) -> io::Result<()> {
    let all = three_gets(host).concat();
    s.write_all(&all)?;
    say(format!(
        "client: wrote three requests in one write ({} bytes) before reading anything",
        all.len()
    ));
    for _ in 0..3 {
        got(&wire::read_response(s)?, say);
    }
    drain(s)?;
    say("client: the server closed; closing too".into());
    Ok(())
}

/// A POST that waits for `100 Continue` before sending its body.
fn client_post(s: &mut TcpStream, host: &str, say: Say<'_>) -> io::Result<()> {
    let body = vec![b'b'; 1024];
    let head = wire::head(
        "POST /upload HTTP/1.1",
        &[
            ("Host", host),
            ("User-Agent", "tcpscope-demo/1"),
            ("Content-Type", "text/plain"),
            ("Content-Length", "1024"),
            ("Expect", "100-continue"),
        ],
    );
    send(s, &head, say)?;
    let interim = wire::read_head(s)?.unwrap_or_default();
    say(format!(
        "client: read the interim {}; now the body",
        interim.start
    ));
    let final_head = if interim.status() == Some(100) {
        s.write_all(&body)?;
        wire::read_head(s)?.unwrap_or_default()
    } else {
        interim
    };
    got(&wire::read_body(s, final_head)?, say);
    Ok(())
}

/// Read what arrives of a big body until the server's RST.
fn client_reset(s: &mut TcpStream, host: &str, say: Say<'_>) -> io::Result<()> {
    send(s, &wire::get("/big.bin", host, &[]), say)?;
    let head = wire::read_head(s)?.unwrap_or_default();
    let mut n = 0usize;
    let mut buf = [0u8; 4096];
    let err = loop {
        match s.read(&mut buf) {
            Ok(0) => break None,
            Ok(k) => n += k,
            Err(e) => break Some(e),
        }
    };
    say(format!(
        "client: read {} and {n} of {} body bytes, then: {}",
        head.start,
        head.content_length().unwrap_or(0),
        err.map_or("the close".to_string(), |e| e.to_string())
    ));
    Ok(())
}

/// A request the server never answers: give up after 1.5 s.
fn client_timeout(s: &mut TcpStream, host: &str, say: Say<'_>) -> io::Result<()> {
    send(s, &wire::get("/never", host, &[]), say)?;
    s.set_read_timeout(Some(Duration::from_millis(1500)))?;
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            say("client: no answer within 1.5 s; gives up and closes".into());
            Ok(())
        }
        Ok(_) => Err(io::Error::other("the server answered after all")),
        Err(e) => Err(e),
    }
}
