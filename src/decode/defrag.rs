//! IP fragments of TCP segments put back together, so that a segment sent in fragments
//! is analysed as the one segment it is (as Wireshark does), not reported as lost: before
//! this, a request sent in two fragments was missing from the HTTP exchanges and the
//! server's acknowledgement of it was flagged "ACKed unseen segment".
//!
//! Pure and bounded: at most [`MAX_DATAGRAMS`] datagrams and [`MAX_BYTES`] bytes are held
//! at once (the oldest is dropped first), a datagram is given up [`TIMEOUT_NS`] of packet
//! time after its first fragment, and no buffer is sized from a length field beyond the
//! 65,535 bytes an IPv4 datagram can have. Overlapping fragments: the later bytes win.
//! IPv6 fragments (RFC 8200) are put back together the same way. Fragments inside a
//! tunnel are not (counted only).

use super::link;
use crate::ts::Ts;
use std::collections::{HashMap, VecDeque};

/// Datagrams being reassembled at once, at most.
pub const MAX_DATAGRAMS: usize = 4096;
/// Bytes held for them, at most.
pub const MAX_BYTES: usize = 32 << 20;
/// Packet time after a datagram's first fragment when it is given up (Linux's default
/// `ipfrag_time`).
pub const TIMEOUT_NS: i64 = 30_000_000_000;

/// One IP fragment of a TCP segment, read in place.
#[derive(Debug)]
pub struct Fragment<'a> {
    key: Key,
    /// The IP header (IPv4: options included; IPv6: the part before the fragment header).
    header: &'a [u8],
    /// IPv6: where in `header` the next-header byte that named the fragment header is
    /// (it names TCP in the packet put back together).
    next_at: Option<usize>,
    /// Where this fragment's bytes go in the datagram's payload, and whether more follow.
    offset: usize,
    more: bool,
    payload: &'a [u8],
}

/// A datagram's identity: addresses (IPv4 ones in the first 4 bytes) and identification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: [u8; 16],
    dst: [u8; 16],
    id: u32,
    v6: bool,
}

/// The IP fragment carrying TCP in this frame, if it is one (Ethernet with up to two
/// VLAN tags, the cooked and loopback link types, raw IP; not inside a tunnel).
pub fn fragment(linktype: u32, data: &[u8]) -> Option<Fragment<'_>> {
    let ip = match link::strip(linktype, data) {
        link::Link::Ethernet(d) => match super::ethertype_of(d)? {
            (0x0800 | 0x86DD, rest) => rest,
            _ => return None,
        },
        link::Link::EtherType(0x0800 | 0x86DD, d) | link::Link::Ip(d) => d,
        _ => return None,
    };
    match ip.first()? >> 4 {
        4 => fragment_v4(ip),
        6 => fragment_v6(ip),
        _ => None,
    }
}

/// Addresses as a key stores them.
fn addr16(a: &[u8]) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..a.len()].copy_from_slice(a);
    k
}

fn fragment_v4(ip: &[u8]) -> Option<Fragment<'_>> {
    let h = ip.first_chunk::<20>()?;
    let ihl = usize::from(h[0] & 0x0F) * 4;
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let flags = u16::from_be_bytes([h[6], h[7]]);
    let (more, offset) = (flags & 0x2000 != 0, usize::from(flags & 0x1FFF) * 8);
    if h[0] >> 4 != 4 || ihl < 20 || h[9] != 6 || (!more && offset == 0) || total < ihl {
        return None;
    }
    let header = ip.get(..ihl)?;
    // The payload the header claims, as far as it was captured.
    let payload = ip.get(ihl..total.min(ip.len()))?;
    // A fragment cut by the snapshot length cannot be put back.
    if ihl + payload.len() < total || (more && payload.len() % 8 != 0) {
        return None;
    }
    let key = Key {
        src: addr16(&h[12..16]),
        dst: addr16(&h[16..20]),
        id: u32::from(u16::from_be_bytes([h[4], h[5]])),
        v6: false,
    };
    Some(Fragment {
        key,
        header,
        next_at: None,
        offset,
        more,
        payload,
    })
}

/// An IPv6 fragment (RFC 8200 section 4.5): the extension headers before the fragment
/// header (hop-by-hop, routing, destination options) are the part every fragment repeats;
/// a fragment header naming TCP follows them.
fn fragment_v6(ip: &[u8]) -> Option<Fragment<'_>> {
    let h = ip.first_chunk::<40>()?;
    let end = 40 + usize::from(u16::from_be_bytes([h[4], h[5]]));
    // A fragment cut by the snapshot length cannot be put back.
    if end > ip.len() {
        return None;
    }
    let (mut next, mut next_at, mut at) = (h[6], 6, 40);
    // Every extension header is at least 8 bytes; the count bounds the walk too.
    for _ in 0..8 {
        match next {
            0 | 43 | 60 => {
                let len = (usize::from(*ip.get(at + 1)?) + 1) * 8;
                (next, next_at) = (*ip.get(at)?, at);
                at += len;
                if at > end {
                    return None;
                }
            }
            44 => {
                let f = ip.get(at..at + 8)?;
                let off_m = u16::from_be_bytes([f[2], f[3]]);
                let (offset, more) = (usize::from(off_m >> 3) * 8, off_m & 1 != 0);
                let payload = ip.get(at + 8..end)?;
                if f[0] != 6 || (offset == 0 && !more) || (more && payload.len() % 8 != 0) {
                    return None;
                }
                let key = Key {
                    src: addr16(&h[8..24]),
                    dst: addr16(&h[24..40]),
                    id: u32::from_be_bytes([f[4], f[5], f[6], f[7]]),
                    v6: true,
                };
                return Some(Fragment {
                    key,
                    header: &ip[..at],
                    next_at: Some(next_at),
                    offset,
                    more,
                    payload,
                });
            }
            _ => return None,
        }
    }
    None
}

/// A datagram being put back together.
struct Datagram {
    /// The first fragment's IP header, once seen (IPv6: the part before the fragment
    /// header, and where in it the next-header byte to set to TCP is).
    header: Vec<u8>,
    next_at: Option<usize>,
    data: Vec<u8>,
    /// Byte ranges of `data` received, merged.
    have: Vec<(usize, usize)>,
    /// The payload's length, once the last fragment is seen.
    total: Option<usize>,
    first_ts: Ts,
    /// Which entry of `Defrag::order` is this datagram's (a key can come again).
    generation: u64,
}

impl Datagram {
    fn complete(&self) -> bool {
        !self.header.is_empty() && self.total.is_some_and(|t| self.have == [(0, t)])
    }
}

/// The datagrams being put back together.
#[derive(Default)]
pub struct Defrag {
    table: HashMap<Key, Datagram>,
    /// Datagrams in the order their first fragment came (for giving up the oldest), by
    /// key and generation; entries of datagrams already gone are skipped when met, and
    /// cleared out when they pile up, so each packet costs O(1) on average.
    order: VecDeque<(Key, u64)>,
    next_generation: u64,
    bytes: usize,
    /// Datagrams given up (timed out, evicted, or inconsistent).
    pub dropped: u64,
}

impl Defrag {
    /// Take in one fragment seen at `ts`; the whole IPv4 packet (header with its length
    /// and fragment fields rewritten, then the payload) when it completes a datagram.
    pub fn push(&mut self, f: Fragment<'_>, ts: Ts) -> Option<Vec<u8>> {
        self.expire(ts);
        let end = f.offset + f.payload.len();
        if end + f.header.len() > usize::from(u16::MAX) {
            return None;
        }
        let held = self.table.get(&f.key).map(|d| d.data.len());
        self.make_room(f.key, end.saturating_sub(held.unwrap_or(0)));
        let generation = self.next_generation;
        if held.is_none() {
            self.next_generation += 1;
            self.order.push_back((f.key, generation));
            self.tidy();
        }
        let d = self.table.entry(f.key).or_insert_with(|| Datagram {
            header: Vec::new(),
            next_at: None,
            data: Vec::new(),
            have: Vec::new(),
            total: None,
            first_ts: ts,
            generation,
        });
        if d.data.len() < end {
            self.bytes += end - d.data.len();
            d.data.resize(end, 0);
        }
        d.data[f.offset..end].copy_from_slice(f.payload);
        add_range(&mut d.have, f.offset, end);
        if f.offset == 0 {
            d.header = f.header.to_vec();
            d.next_at = f.next_at;
        }
        if !f.more {
            d.total = Some(end);
        }
        // Bytes beyond the last fragment's end: the fragments disagree.
        if d.total.is_some_and(|t| d.data.len() > t) {
            self.give_up(f.key);
            return None;
        }
        if !d.complete() {
            return None;
        }
        let d = self.take(f.key)?;
        Some(whole(d))
    }

    /// Datagrams still waiting for a fragment.
    pub fn pending(&self) -> usize {
        self.table.len()
    }

    /// Give up the datagrams whose first fragment is older than the timeout.
    fn expire(&mut self, now: Ts) {
        while let Some(&(k, g)) = self.order.front() {
            match self.table.get(&k) {
                Some(d) if d.generation == g => {
                    if now.0.saturating_sub(d.first_ts.0) <= TIMEOUT_NS {
                        break;
                    }
                    self.give_up(k);
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Whether an entry of `order` is a datagram still held.
    fn live(&self, (k, g): (Key, u64)) -> bool {
        self.table.get(&k).is_some_and(|d| d.generation == g)
    }

    /// Clear out the entries of datagrams gone, once they are more than the live ones.
    fn tidy(&mut self) {
        if self.order.len() > 2 * self.table.len() + 64 {
            let table = &self.table;
            self.order
                .retain(|(k, g)| table.get(k).is_some_and(|d| d.generation == *g));
        }
    }

    /// Drop the oldest other datagrams until `grow` more bytes for `key` fit (and, for a
    /// new one, one more datagram).
    fn make_room(&mut self, key: Key, grow: usize) {
        let new = !self.table.contains_key(&key);
        let mut mine = None;
        while (new && self.table.len() >= MAX_DATAGRAMS) || self.bytes + grow > MAX_BYTES {
            let Some(e) = self.order.pop_front() else {
                break;
            };
            if !self.live(e) {
                continue;
            }
            if e.0 == key {
                mine = Some(e);
                continue;
            }
            self.give_up(e.0);
        }
        if let Some(e) = mine {
            self.order.push_front(e);
        }
    }

    fn give_up(&mut self, k: Key) {
        if self.take(k).is_some() {
            self.dropped += 1;
        }
    }

    fn take(&mut self, k: Key) -> Option<Datagram> {
        let d = self.table.remove(&k)?;
        self.bytes -= d.data.len();
        Some(d)
    }
}

/// Merge `[from, to)` into the sorted, disjoint ranges `have`.
fn add_range(have: &mut Vec<(usize, usize)>, from: usize, to: usize) {
    let (mut from, mut to) = (from, to);
    have.retain(|&(a, b)| {
        let touches = a <= to && from <= b;
        if touches {
            from = from.min(a);
            to = to.max(b);
        }
        !touches
    });
    let at = have.partition_point(|&(a, _)| a < from);
    have.insert(at, (from, to));
}

/// The reassembled packet: the first fragment's header, its total length set, its
/// fragment fields cleared and its checksum recomputed, then the payload. IPv6: the part
/// before the fragment header, naming TCP where it named the fragment header, its
/// payload length set, then the payload.
fn whole(d: Datagram) -> Vec<u8> {
    let mut p = d.header;
    if let Some(at) = d.next_at {
        p[at] = 6;
        let len = (p.len() - 40 + d.data.len()) as u16;
        p[4..6].copy_from_slice(&len.to_be_bytes());
        p.extend_from_slice(&d.data);
        return p;
    }
    let len = (p.len() + d.data.len()) as u16;
    p[2..4].copy_from_slice(&len.to_be_bytes());
    p[6..8].copy_from_slice(&[0, 0]);
    p[10..12].copy_from_slice(&[0, 0]);
    let sum = p
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum::<u32>();
    let folded = (sum & 0xFFFF) + (sum >> 16);
    let folded = (folded & 0xFFFF) + (folded >> 16);
    p[10..12].copy_from_slice(&(!(folded as u16)).to_be_bytes());
    p.extend_from_slice(&d.data);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw IPv4 fragment (link type RAW) of datagram `id` at `offset`.
    fn frag(id: u16, offset: usize, more: bool, payload: &[u8]) -> Vec<u8> {
        let mut h = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        h[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
        h[4..6].copy_from_slice(&id.to_be_bytes());
        let f = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
        h[6..8].copy_from_slice(&f.to_be_bytes());
        [h, payload.to_vec()].concat()
    }

    fn push(d: &mut Defrag, p: &[u8], t: i64) -> Option<Vec<u8>> {
        d.push(fragment(101, p).expect("a fragment"), Ts(t))
    }

    #[test]
    fn fragments_in_any_order_make_the_whole_packet() {
        let body: Vec<u8> = (0..40u8).collect();
        let parts = [
            frag(7, 16, true, &body[16..32]),
            frag(7, 32, false, &body[32..]),
            frag(7, 0, true, &body[..16]),
        ];
        let mut d = Defrag::default();
        assert!(push(&mut d, &parts[0], 0).is_none());
        assert!(push(&mut d, &parts[1], 1).is_none());
        let p = push(&mut d, &parts[2], 2).expect("complete");
        assert_eq!(&p[20..], &body[..]);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), 60);
        assert_eq!(&p[6..8], &[0, 0]);
        // The checksum is right: the header sums to 0xFFFF.
        let sum: u32 = p[..20]
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        assert_eq!((sum & 0xFFFF) + (sum >> 16), 0xFFFF);
        assert_eq!((d.table.len(), d.bytes), (0, 0));
    }

    #[test]
    fn a_missing_piece_times_out_and_memory_is_bounded() {
        let mut d = Defrag::default();
        assert!(push(&mut d, &frag(1, 0, true, &[1; 8]), 0).is_none());
        assert_eq!(d.table.len(), 1);
        // 31 s later another datagram's fragment: the first is given up.
        assert!(push(&mut d, &frag(2, 0, true, &[1; 8]), 31_000_000_000).is_none());
        assert_eq!((d.table.len(), d.dropped), (1, 1));
        // A flood of first fragments never holds more than MAX_DATAGRAMS.
        for id in 0..(MAX_DATAGRAMS as u16 + 100) {
            push(&mut d, &frag(id, 0, true, &[0; 8]), 31_000_000_000);
        }
        assert_eq!(d.table.len(), MAX_DATAGRAMS);
        assert!(d.order.len() <= 2 * MAX_DATAGRAMS + 64, "{}", d.order.len());
        // Datagrams grown by fragments far out never hold more than MAX_BYTES.
        for id in 0..2000u16 {
            push(&mut d, &frag(id, 65_000, true, &[0; 8]), 31_000_000_000);
        }
        assert!(d.bytes <= MAX_BYTES, "{}", d.bytes);
        assert_eq!(
            d.bytes,
            d.table.values().map(|g| g.data.len()).sum::<usize>()
        );
    }

    #[test]
    fn not_fragments_cut_ones_and_disagreeing_ones_are_not_put_back() {
        // Not a fragment; a non-TCP one; one cut by the snapshot length.
        assert!(fragment(101, &frag(1, 0, false, &[0; 8])).is_none());
        let mut udp = frag(1, 0, true, &[0; 8]);
        udp[9] = 17;
        assert!(fragment(101, &udp).is_none());
        let cut = frag(1, 0, true, &[0; 16]);
        assert!(fragment(101, &cut[..30]).is_none());
        // A last fragment ending before bytes already received.
        let mut d = Defrag::default();
        assert!(push(&mut d, &frag(3, 16, true, &[0; 16]), 0).is_none());
        assert!(push(&mut d, &frag(3, 8, false, &[0; 8]), 0).is_none());
        assert_eq!((d.table.len(), d.dropped), (0, 1));
    }
}
