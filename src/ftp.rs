//! FTP control connections and the data connections they announce.
//!
//! Owns: reading the announcing lines of an FTP control stream (server `227 Entering
//! Passive Mode (h1,h2,h3,h4,p1,p2)`, `229 Entering Extended Passive Mode (|||port|)`;
//! client `PORT h1,h2,h3,h4,p1,p2`, `EPRT |1|addr|port|`) and the book of announced
//! endpoints that labels a later connection to one of them `ftp-data`. Sans-IO: bytes
//! and frame numbers in, typed endpoints out. It must not touch the HTTP assembler or the
//! TCP engine; detecting FTP itself is `http::detect`'s job.

use crate::flow::{Dir, Endpoint};
use crate::http::AppProto;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};

/// Longest control line kept; a longer one is skipped to its end.
const MAX_LINE: usize = 512;
/// Announcements kept per control connection (a long session may transfer many files).
const MAX_ANNOUNCED: usize = 1024;

/// A data endpoint announced by a control connection, and the frame that carried it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Announce {
    pub frame: u64,
    pub endpoint: Endpoint,
}

/// One direction's partial line.
#[derive(Clone, Debug, Default)]
struct Line {
    buf: Vec<u8>,
    /// The current line is too long or began in a gap: skip to its end.
    skipping: bool,
}

/// The control connection's reader.
#[derive(Clone, Debug, Default)]
pub struct FtpControl {
    lines: [Line; 2],
    pub announced: Vec<Announce>,
}

impl FtpControl {
    /// Bytes of the control stream from `dir`; `client`/`server` are the control
    /// connection's endpoints (an address left out of an announcement is theirs).
    pub fn push(&mut self, dir: Dir, bytes: &[u8], frame: u64, client: Endpoint, server: Endpoint) {
        for &b in bytes {
            let l = &mut self.lines[dir.idx()];
            if b == b'\n' {
                let skipped = std::mem::replace(&mut l.skipping, false);
                let line = std::mem::take(&mut l.buf);
                if !skipped
                    && self.announced.len() < MAX_ANNOUNCED
                    && let Some(endpoint) = announced(dir, trim(&line), client, server)
                {
                    self.announced.push(Announce { frame, endpoint });
                }
                self.lines[dir.idx()].buf = line;
                self.lines[dir.idx()].buf.clear();
            } else if !l.skipping {
                if l.buf.len() >= MAX_LINE {
                    l.skipping = true;
                    l.buf.clear();
                } else {
                    l.buf.push(b);
                }
            }
        }
    }

    /// Bytes never captured in `dir`: the line they fell in cannot be read.
    pub fn gap(&mut self, dir: Dir) {
        let l = &mut self.lines[dir.idx()];
        l.buf.clear();
        l.skipping = true;
    }
}

fn trim(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The endpoint a control line announces, if it announces one.
fn announced(dir: Dir, line: &[u8], client: Endpoint, server: Endpoint) -> Option<Endpoint> {
    let upper = |n: usize| line.get(..n).map(|p| p.to_ascii_uppercase());
    match dir {
        Dir::Server if line.starts_with(b"227") => {
            let (ip, port) = (3..line.len()).find_map(|i| {
                let starts = line.get(i).is_some_and(u8::is_ascii_digit)
                    && !line.get(i - 1).is_some_and(u8::is_ascii_digit);
                starts.then(|| host_port(line.get(i..)?)).flatten()
            })?;
            // Some servers announce 0.0.0.0 (or nothing useful): the control address is meant.
            let addr = if ip.is_unspecified() {
                server.addr
            } else {
                IpAddr::V4(ip)
            };
            Some(Endpoint { addr, port })
        }
        Dir::Server if line.starts_with(b"229") => {
            let open = line.iter().position(|&b| b == b'(')?;
            let inner = line.get(open + 1..)?;
            let d = *inner.first()?;
            let fields: Vec<&[u8]> = inner.split(|&b| b == d).collect();
            // (|||port|): fields "", "", "", "port", ")".
            let port = number(fields.get(3)?)?;
            Some(Endpoint {
                addr: server.addr,
                port: u16::try_from(port).ok()?,
            })
        }
        Dir::Client if upper(5).as_deref() == Some(b"PORT ") => {
            let (ip, port) = host_port(line.get(5..)?.trim_ascii_start())?;
            Some(Endpoint {
                addr: IpAddr::V4(ip),
                port,
            })
        }
        Dir::Client if upper(5).as_deref() == Some(b"EPRT ") => {
            let rest = line.get(5..)?.trim_ascii_start();
            let d = *rest.first()?;
            let fields: Vec<&[u8]> = rest.split(|&b| b == d).collect();
            // |proto|addr|port|: fields "", proto, addr, port, "".
            let addr = std::str::from_utf8(fields.get(2)?).ok()?;
            let addr = if addr.is_empty() {
                client.addr
            } else {
                addr.parse().ok()?
            };
            let port = u16::try_from(number(fields.get(3)?)?).ok()?;
            Some(Endpoint { addr, port })
        }
        _ => None,
    }
}

/// A decimal number of at most five digits.
fn number(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 5 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// `h1,h2,h3,h4,p1,p2` at the start of `s` (anything may follow).
fn host_port(s: &[u8]) -> Option<(Ipv4Addr, u16)> {
    let mut v = [0u8; 6];
    let mut rest = s;
    for (i, slot) in v.iter_mut().enumerate() {
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let x = number(rest.get(..n)?)?;
        *slot = u8::try_from(x).ok()?;
        rest = rest.get(n..)?;
        if i < 5 {
            rest = rest.strip_prefix(b",")?;
        }
    }
    Some((
        Ipv4Addr::new(v[0], v[1], v[2], v[3]),
        u16::from(v[4]) << 8 | u16::from(v[5]),
    ))
}

/// Endpoints announced by the control connections handed on so far. Connections pass
/// through in id order (first packet order), so a control connection is always seen before
/// any connection that starts after its announcement.
#[derive(Debug, Default)]
pub struct DataBook {
    /// Endpoint -> frame of its latest announcement.
    announced: HashMap<Endpoint, u64>,
    /// Insertion order, for the cap.
    order: VecDeque<Endpoint>,
}

/// Announced endpoints remembered at most (the oldest are forgotten first).
const MAX_BOOK: usize = 65_536;

impl DataBook {
    /// Whether a connection that began at `first_frame` is an FTP data connection: an
    /// earlier announcement names its server (or, roles guessed, either end), and it is
    /// not itself a control connection.
    pub fn is_data(
        &self,
        server: Endpoint,
        client: Endpoint,
        role_guessed: bool,
        first_frame: u64,
        app: AppProto,
    ) -> bool {
        let before = |e: &Endpoint| {
            self.announced
                .get(e)
                .is_some_and(|&frame| frame < first_frame)
        };
        app != AppProto::Ftp && (before(&server) || (role_guessed && before(&client)))
    }

    /// Remember what a control connection announced.
    pub fn learn(&mut self, ftp: &FtpControl) {
        for a in &ftp.announced {
            if self.announced.insert(a.endpoint, a.frame).is_none() {
                self.order.push_back(a.endpoint);
                if self.order.len() > MAX_BOOK
                    && let Some(old) = self.order.pop_front()
                {
                    self.announced.remove(&old);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> Endpoint {
        let sa: std::net::SocketAddr = s.parse().unwrap();
        Endpoint {
            addr: sa.ip(),
            port: sa.port(),
        }
    }

    #[test]
    fn announcements_are_read_from_every_form() {
        let (c, s) = (ep("10.0.0.1:50000"), ep("10.0.0.2:21"));
        let cases: &[(Dir, &[u8], Option<&str>)] = &[
            (
                Dir::Server,
                b"227 Entering Passive Mode (10,0,0,2,195,80)",
                Some("10.0.0.2:50000"),
            ),
            (
                Dir::Server,
                b"227 Entering Passive Mode 10,0,0,9,0,21",
                Some("10.0.0.9:21"),
            ),
            (Dir::Server, b"227 =0,0,0,0,4,1", Some("10.0.0.2:1025")),
            (
                Dir::Server,
                b"229 Entering Extended Passive Mode (|||6446|)",
                Some("10.0.0.2:6446"),
            ),
            (Dir::Client, b"PORT 10,0,0,1,4,1", Some("10.0.0.1:1025")),
            (Dir::Client, b"port 10,0,0,1,4,2", Some("10.0.0.1:1026")),
            (
                Dir::Client,
                b"EPRT |1|132.235.1.2|6275|",
                Some("132.235.1.2:6275"),
            ),
            (Dir::Client, b"EPRT |2|::1|6276|", Some("[::1]:6276")),
            (Dir::Client, b"EPRT |1||6277|", Some("10.0.0.1:6277")),
            (
                Dir::Server,
                b"227 Entering Passive Mode (10,0,0,2,300,80)",
                None,
            ),
            (
                Dir::Server,
                b"229 Entering Extended Passive Mode (|||99999|)",
                None,
            ),
            (Dir::Client, b"PORT 10,0,0,1,4", None),
            (Dir::Server, b"PORT 10,0,0,1,4,1", None),
            (
                Dir::Client,
                b"227 Entering Passive Mode (10,0,0,2,195,80)",
                None,
            ),
            (Dir::Server, b"230 Login successful.", None),
        ];
        for (dir, line, want) in cases {
            assert_eq!(
                announced(*dir, line, c, s),
                want.map(ep),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn lines_are_found_across_pushes_and_gaps_lose_only_their_line() {
        let (c, s) = (ep("10.0.0.1:50000"), ep("10.0.0.2:21"));
        let mut f = FtpControl::default();
        f.push(Dir::Server, b"227 Entering Passive Mode (10,0,", 5, c, s);
        f.push(Dir::Server, b"0,2,4,1)\r\n", 6, c, s);
        f.push(
            Dir::Server,
            b"227 Entering Passive Mode (10,0,0,2,4,2)",
            7,
            c,
            s,
        );
        f.gap(Dir::Server);
        f.push(Dir::Server, b"\r\n229 Extended (|||1027|)\r\n", 9, c, s);
        assert_eq!(
            f.announced,
            vec![
                Announce {
                    frame: 6,
                    endpoint: ep("10.0.0.2:1025")
                },
                Announce {
                    frame: 9,
                    endpoint: ep("10.0.0.2:1027")
                },
            ]
        );
    }
}
