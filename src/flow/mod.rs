//! Grouping packets into TCP connections.
//!
//! Owns: the canonical 5-tuple key, connection ids (numbered from 1 in order of first
//! packet), who is client and who is server, and the direction of every packet. Does not
//! interpret TCP beyond the SYN/ACK bits needed to tell roles apart. Pure: no I/O, no clock.

use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

mod tomb;
pub use tomb::{Ended, TombLimits};

/// One side of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: u16,
}

impl fmt::Display for Endpoint {
    /// `10.0.0.1:80`, `[::1]:8080`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

impl Serialize for Endpoint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Source and destination endpoints of a decoded TCP segment.
pub fn endpoints(
    ip: &crate::decode::IpInfo,
    seg: &crate::decode::TcpSegment<'_>,
) -> (Endpoint, Endpoint) {
    (
        Endpoint {
            addr: ip.src,
            port: seg.src_port,
        },
        Endpoint {
            addr: ip.dst,
            port: seg.dst_port,
        },
    )
}

/// The canonical key of a TCP conversation: the two endpoints in sorted order, packed:
/// 12 bytes for IPv4 (the flow table keeps IPv4 and IPv6 tuples in two maps, so an IPv4
/// entry does not carry two 20-byte `Endpoint`s: docs/memory.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowKey {
    V4(Key4),
    V6(Key6),
}

/// Two IPv4 endpoints in sorted order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key4 {
    lo: u32,
    hi: u32,
    lo_port: u16,
    hi_port: u16,
}

/// Two endpoints in sorted order, either or both not IPv4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key6 {
    lo: Endpoint,
    hi: Endpoint,
}

impl FlowKey {
    /// Whether the connection is between hosts `a` and `b` (in either direction).
    pub fn joins(&self, a: IpAddr, b: IpAddr) -> bool {
        let pair = |x: IpAddr, y: IpAddr| (x == a && y == b) || (x == b && y == a);
        match self {
            FlowKey::V4(k) => pair(
                IpAddr::V4(std::net::Ipv4Addr::from_bits(k.lo)),
                IpAddr::V4(std::net::Ipv4Addr::from_bits(k.hi)),
            ),
            FlowKey::V6(k) => pair(k.lo.addr, k.hi.addr),
        }
    }

    pub fn new(a: Endpoint, b: Endpoint) -> FlowKey {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        match (lo.addr, hi.addr) {
            (IpAddr::V4(l), IpAddr::V4(h)) => FlowKey::V4(Key4 {
                lo: l.to_bits(),
                hi: h.to_bits(),
                lo_port: lo.port,
                hi_port: hi.port,
            }),
            _ => FlowKey::V6(Key6 { lo, hi }),
        }
    }
}

pub type ConnId = u64;

/// Who sent a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    /// Sent by the client (the originator).
    Client,
    /// Sent by the server (the responder).
    Server,
}

impl Dir {
    pub fn idx(self) -> usize {
        match self {
            Dir::Client => 0,
            Dir::Server => 1,
        }
    }
    pub fn other(self) -> Dir {
        match self {
            Dir::Client => Dir::Server,
            Dir::Server => Dir::Client,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Dir::Client => "client",
            Dir::Server => "server",
        }
    }
}

/// What the flow table decided for one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lookup {
    pub conn: ConnId,
    pub dir: Dir,
    /// This packet opened a new connection.
    pub new: bool,
    /// For a new connection: the id of the connection on the same tuple that it replaces
    /// (port reuse after a close), to be finished by the caller.
    pub replaces: Option<ConnId>,
    /// For a new connection: the earlier connection on the same tuple that was closed
    /// (port reuse), whether still tracked (`replaces`) or already finished.
    pub reuse_of: Option<ConnId>,
    /// The packet belongs to `conn`, which was already finished (closed and written at
    /// once, or evicted): it is counted against it, not analysed.
    pub late: Option<Ended>,
    /// For a new connection: who is client and server, and whether that was guessed.
    pub roles: Option<Roles>,
}

/// Roles of a connection as decided from its first packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles {
    pub client: Endpoint,
    pub server: Endpoint,
    pub guessed: bool,
}

struct Entry {
    conn: ConnId,
    /// The client is the lower of the key's two endpoints (in `Endpoint` order): a bool
    /// where the endpoint took 20 bytes.
    client_lo: bool,
    /// FIN or RST seen: a new SYN starts a new connection.
    closed: bool,
    /// The sequence number of the client's SYN that opened it, if one was seen.
    isn: Option<u32>,
    /// The server answered with a SYN-ACK: a client SYN with another ISN is no longer
    /// a new attempt unless the connection closed.
    synack: bool,
    /// Finished already (written) but its tuple is remembered for a while: later packets
    /// are counted against it rather than opening a mid-stream connection.
    ended: Option<Ended>,
    /// Packet time (ns) of the latest packet on the tuple once it ended.
    last_ns: i64,
}

impl Entry {
    /// Port reuse: a fresh SYN on a closed connection opens a new one, unless it is the
    /// same client's SYN with the same ISN: that is the same attempt sent again (a SYN
    /// retried after a RST), as Wireshark and the RFC see it. A client's SYN with another
    /// ISN on a connection never answered by a SYN-ACK is a new attempt too (its RST was
    /// not captured, or was not acceptable).
    fn reused_by(&self, src_is_client: bool, syn: bool, ack: bool, seq: u32) -> bool {
        let same_attempt = src_is_client && self.isn == Some(seq);
        let fresh_syn = syn && !ack && !same_attempt;
        let unanswered = src_is_client && self.isn.is_some() && !self.synack;
        fresh_syn && (self.closed || self.ended.is_some() || unanswered)
    }

    /// A packet of this (not reused) connection: its direction, a server's SYN-ACK
    /// noted, and the time of a late packet kept.
    fn hit(&mut self, src_is_client: bool, syn: bool, ack: bool, now_ns: i64) -> Lookup {
        let dir = if src_is_client {
            Dir::Client
        } else {
            Dir::Server
        };
        self.synack |= syn && ack && dir == Dir::Server;
        if self.ended.is_some() {
            self.last_ns = self.last_ns.max(now_ns);
        }
        Lookup {
            conn: self.conn,
            dir,
            new: false,
            replaces: None,
            reuse_of: None,
            late: self.ended,
            roles: None,
        }
    }
}

/// Canonical tuple -> live connection, and tuples of connections already finished
/// (tombstones, bounded: see `tomb.rs`).
#[derive(Default)]
pub struct FlowTable {
    map: Map,
    next_id: ConnId,
    tombs: tomb::Tombs,
}

/// The flow table's entries: IPv4 tuples (12-byte keys) and the others (40-byte keys).
#[derive(Default)]
struct Map {
    v4: foldhash::HashMap<Key4, Entry>,
    v6: foldhash::HashMap<Key6, Entry>,
}

impl Map {
    fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    fn get(&self, k: &FlowKey) -> Option<&Entry> {
        match k {
            FlowKey::V4(k) => self.v4.get(k),
            FlowKey::V6(k) => self.v6.get(k),
        }
    }

    fn get_mut(&mut self, k: &FlowKey) -> Option<&mut Entry> {
        match k {
            FlowKey::V4(k) => self.v4.get_mut(k),
            FlowKey::V6(k) => self.v6.get_mut(k),
        }
    }

    fn insert(&mut self, k: FlowKey, e: Entry) {
        match k {
            FlowKey::V4(k) => self.v4.insert(k, e),
            FlowKey::V6(k) => self.v6.insert(k, e),
        };
    }

    fn remove(&mut self, k: &FlowKey) -> Option<Entry> {
        match k {
            FlowKey::V4(k) => self.v4.remove(k),
            FlowKey::V6(k) => self.v6.remove(k),
        }
    }
}

/// Decide roles from the first packet seen of a connection.
/// A SYN without ACK names its sender the client. Otherwise guess: the SYN-ACK sender is
/// the server; else the side with the well-known (lower) port is the server.
pub fn roles_from_first(src: Endpoint, dst: Endpoint, syn: bool, ack: bool) -> Roles {
    if syn && !ack {
        return Roles {
            client: src,
            server: dst,
            guessed: false,
        };
    }
    if syn && ack {
        return Roles {
            client: dst,
            server: src,
            guessed: true,
        };
    }
    let src_is_server = match (src.port < 1024, dst.port < 1024) {
        (true, false) => true,
        (false, true) => false,
        _ => src.port < dst.port || (src.port == dst.port && src > dst),
    };
    if src_is_server {
        Roles {
            client: dst,
            server: src,
            guessed: true,
        }
    } else {
        Roles {
            client: src,
            server: dst,
            guessed: true,
        }
    }
}

impl FlowTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// Find or create the connection of a packet from `src` to `dst` (`seq` is its
    /// sequence number, `now_ns` its time).
    #[allow(
        clippy::too_many_arguments,
        reason = "a segment's addressing bits, spelled out"
    )]
    pub fn lookup(
        &mut self,
        src: Endpoint,
        dst: Endpoint,
        syn: bool,
        ack: bool,
        seq: u32,
        now_ns: i64,
    ) -> Lookup {
        let key = FlowKey::new(src, dst);
        let lo = src.min(dst);
        let mut replaces = None;
        let mut reuse_of = None;
        if let Some(e) = self.map.get_mut(&key) {
            let src_is_client = src == if e.client_lo { lo } else { src.max(dst) };
            if !e.reused_by(src_is_client, syn, ack, seq) {
                return e.hit(src_is_client, syn, ack, now_ns);
            }
            if e.ended.is_none() {
                replaces = Some(e.conn);
            }
            if e.closed || e.ended == Some(Ended::Closed) {
                reuse_of = Some(e.conn);
            }
            if e.ended.is_some() {
                self.tombs.count -= 1;
            }
        }
        self.next_id += 1;
        let roles = roles_from_first(src, dst, syn, ack);
        let dir = if src == roles.client {
            Dir::Client
        } else {
            Dir::Server
        };
        self.map.insert(
            key,
            Entry {
                conn: self.next_id,
                client_lo: roles.client == lo,
                closed: false,
                isn: (syn && !ack).then_some(seq),
                synack: syn && ack,
                ended: None,
                last_ns: now_ns,
            },
        );
        Lookup {
            conn: self.next_id,
            dir,
            new: true,
            replaces,
            reuse_of,
            late: None,
            roles: Some(roles),
        }
    }

    /// Mark the connection on this tuple closed (FIN or RST seen).
    pub fn mark_closed(&mut self, a: Endpoint, b: Endpoint) {
        if let Some(e) = self.map.get_mut(&FlowKey::new(a, b)) {
            e.closed = true;
        }
    }

    /// Forget a connection (expired); later packets start a new one.
    pub fn remove(&mut self, a: Endpoint, b: Endpoint, conn: ConnId) {
        let key = FlowKey::new(a, b);
        if self.map.get(&key).is_some_and(|e| e.conn == conn)
            && let Some(e) = self.map.remove(&key)
            && e.ended.is_some()
        {
            self.tombs.count -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> Endpoint {
        let (a, p) = s.rsplit_once(':').unwrap();
        Endpoint {
            addr: a.trim_matches(['[', ']']).parse().unwrap(),
            port: p.parse().unwrap(),
        }
    }

    #[test]
    fn syn_sender_is_client_and_directions_follow() {
        let mut t = FlowTable::new();
        let c = ep("10.0.0.1:40000");
        let s = ep("10.0.0.2:80");
        let l = t.lookup(c, s, true, false, 1, 0);
        assert_eq!((l.conn, l.dir, l.new), (1, Dir::Client, true));
        let l = t.lookup(s, c, true, true, 2, 0);
        assert_eq!((l.conn, l.dir, l.new), (1, Dir::Server, false));
    }

    #[test]
    fn roles_guessed_without_syn() {
        let r = roles_from_first(ep("10.0.0.2:80"), ep("10.0.0.1:40000"), false, true);
        assert_eq!(r.server, ep("10.0.0.2:80"));
        assert!(r.guessed);
        let r = roles_from_first(ep("10.0.0.2:80"), ep("10.0.0.1:40000"), true, true);
        assert_eq!(r.server, ep("10.0.0.2:80"));
        assert!(r.guessed);
        let r = roles_from_first(ep("10.0.0.1:50000"), ep("10.0.0.2:8080"), false, true);
        assert_eq!(r.server, ep("10.0.0.2:8080"));
    }

    /// An IPv4 tuple's entry in the flow table (docs/memory.md): 88 bytes a bucket
    /// before (two 20-byte endpoints as the key, the client's endpoint in the entry).
    #[test]
    fn an_ipv4_flow_table_bucket_fits_48_bytes() {
        let n = std::mem::size_of::<(Key4, Entry)>();
        assert!(n <= 48, "{n} bytes");
    }

    /// The client is told from the key's order whichever side is lower, in both maps.
    #[test]
    fn the_client_is_known_whichever_endpoint_sorts_first() {
        for (c, s) in [
            ("10.0.0.9:40000", "10.0.0.2:80"),
            ("[::2]:40000", "[::9]:80"),
        ] {
            let mut t = FlowTable::new();
            let (c, s) = (ep(c), ep(s));
            assert_eq!(t.lookup(c, s, true, false, 1, 0).dir, Dir::Client);
            assert_eq!(t.lookup(s, c, true, true, 7, 0).dir, Dir::Server);
            assert_eq!(t.lookup(c, s, false, true, 2, 0).dir, Dir::Client);
            let l = t.lookup(s, c, false, true, 8, 0);
            assert_eq!((l.conn, l.dir, l.new), (1, Dir::Server, false));
            assert_eq!(t.len(), 1);
        }
    }

    #[test]
    fn port_reuse_after_close_starts_new_connection() {
        let mut t = FlowTable::new();
        let c = ep("[::1]:40000");
        let s = ep("[::1]:80");
        assert_eq!(t.lookup(c, s, true, false, 1000, 0).conn, 1);
        // A retransmitted SYN on an open connection stays in it.
        assert_eq!(t.lookup(c, s, true, false, 1000, 0).conn, 1);
        t.mark_closed(s, c);
        // The same SYN (same ISN) after a RST: the same attempt, sent again.
        let l = t.lookup(c, s, true, false, 1000, 0);
        assert_eq!((l.conn, l.new, l.replaces), (1, false, None));
        // A new ISN on the closed tuple: a new connection (port reuse).
        let l = t.lookup(c, s, true, false, 5000, 0);
        assert_eq!(
            (l.conn, l.new, l.replaces, l.reuse_of),
            (2, true, Some(1), Some(1))
        );
        assert_eq!(c.to_string(), "[::1]:40000");
    }
}
