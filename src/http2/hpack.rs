//! One direction's HPACK decoding context (RFC 7541) over `loona-hpack`: the dynamic
//! table, its size bound from the peer's SETTINGS_HEADER_TABLE_SIZE (capped), poisoning
//! after a loss, and a bounded header list.
//!
//! Owns: the decoder of the header blocks one side sends. Must not touch framing.

use crate::http::{Dir, H2Note};

/// The largest dynamic table this tool keeps, whatever the peer allows (an HPACK bomb
/// asks for gigabytes).
pub const TABLE_CAP: u32 = 1 << 20;

/// The default SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2).
const DEFAULT_TABLE: u32 = 4096;

pub(super) struct Hpack {
    dir: Dir,
    dec: loona_hpack::Decoder<'static>,
    /// The largest table size the peer allowed so far (capped): what the encoder may use.
    allowed: u32,
    /// A block of this direction was lost or refused: the table is unknown from here on.
    poisoned: bool,
    /// Blocks not decoded (refused, or after poisoning).
    pub(super) failures: u64,
}

/// How one field (or a table size update) was sent in a header block (RFC 7541 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepKind {
    /// The whole field from the table (`index`: static 1..61, dynamic from 62).
    Indexed,
    /// A literal the decoder adds to its dynamic table (§6.2.1).
    Incremental,
    /// A literal not added to the table (§6.2.2).
    WithoutIndexing,
    /// A literal no intermediary may index (§6.2.3): a secret.
    NeverIndexed,
    /// A dynamic table size update (§6.3): `index` holds the new size.
    SizeUpdate,
}

/// One representation: its kind, its index (0: a new name sent as a literal; for a size
/// update the size), and whether its value string was Huffman coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rep {
    pub kind: RepKind,
    pub index: u64,
    pub huffman: bool,
}

/// Representations read from one block at most (the explain layer's; a block may hold
/// thousands).
pub const MAX_REPS: usize = 64;

/// The representations of a header block, in order, at most `MAX_REPS` (None when the
/// block does not parse: the decoder then says why).
pub fn representations(block: &[u8]) -> Option<Vec<Rep>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < block.len() && out.len() < MAX_REPS {
        let b = *block.get(at)?;
        let (kind, prefix) = match b {
            0x80.. => (RepKind::Indexed, 7),
            0x40..=0x7f => (RepKind::Incremental, 6),
            0x20..=0x3f => (RepKind::SizeUpdate, 5),
            0x10..=0x1f => (RepKind::NeverIndexed, 4),
            _ => (RepKind::WithoutIndexing, 4),
        };
        let index = integer(block, &mut at, prefix)?;
        let mut huffman = false;
        if !matches!(kind, RepKind::Indexed | RepKind::SizeUpdate) {
            if index == 0 {
                skip_string(block, &mut at)?;
            }
            huffman = skip_string(block, &mut at)?;
        }
        out.push(Rep {
            kind,
            index,
            huffman,
        });
    }
    Some(out)
}

/// An HPACK integer with an N-bit prefix at `*at` (RFC 7541 §5.1), at most 10 bytes.
fn integer(b: &[u8], at: &mut usize, prefix: u32) -> Option<u64> {
    let max = (1u64 << prefix) - 1;
    let mut v = u64::from(*b.get(*at)?) & max;
    *at += 1;
    if v < max {
        return Some(v);
    }
    for i in 0..9u32 {
        let c = *b.get(*at)?;
        *at += 1;
        v = v.checked_add(u64::from(c & 0x7f).checked_shl(7 * i)?)?;
        if c & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Skip a string literal; whether it was Huffman coded.
fn skip_string(b: &[u8], at: &mut usize) -> Option<bool> {
    let huffman = *b.get(*at)? & 0x80 != 0;
    let len = usize::try_from(integer(b, at, 7)?).ok()?;
    *at = at.checked_add(len).filter(|&e| e <= b.len())?;
    Some(huffman)
}

/// A decoded header block.
pub(super) struct Decoded {
    pub(super) fields: Vec<(String, String)>,
    /// Fields past the caps were decoded (to keep the table right) but not kept.
    pub(super) note: Option<H2Note>,
}

impl Hpack {
    pub(super) fn new(dir: Dir) -> Self {
        let mut dec = loona_hpack::Decoder::new();
        dec.set_max_allowed_table_size(DEFAULT_TABLE as usize);
        Hpack {
            dir,
            dec,
            allowed: DEFAULT_TABLE,
            poisoned: false,
            failures: 0,
        }
    }

    #[cfg(test)]
    pub(super) fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// A header block of this direction was lost: later ones cannot be decoded.
    pub(super) fn poison(&mut self) {
        self.poisoned = true;
    }

    /// The peer (the decoding side) sent SETTINGS_HEADER_TABLE_SIZE = `size`. The bound
    /// only grows: an encoder may still use the old size until it has seen the new one.
    pub(super) fn peer_table_size(&mut self, size: u32) -> Option<H2Note> {
        let capped = size.min(TABLE_CAP);
        if capped > self.allowed {
            self.allowed = capped;
            self.dec.set_max_allowed_table_size(capped as usize);
        }
        (size > TABLE_CAP).then_some(H2Note::TableSizeOverCap {
            dir: self.dir,
            size: u64::from(size),
            cap: TABLE_CAP,
        })
    }

    /// Decode a whole header block, keeping at most `max_fields` fields and `list_cap`
    /// bytes (name + value + 32 each, RFC 9113 §6.5.2's measure).
    pub(super) fn decode(
        &mut self,
        block: &[u8],
        max_fields: usize,
        list_cap: usize,
    ) -> Result<Decoded, H2Note> {
        if self.poisoned {
            self.failures += 1;
            return Err(H2Note::TablePoisoned { dir: self.dir });
        }
        let mut fields = Vec::new();
        let mut size = 0usize;
        let mut over = false;
        let res = self.dec.decode_with_cb(block, |n, v| {
            size = size.saturating_add(n.len() + v.len() + 32);
            if size > list_cap || fields.len() >= max_fields {
                over = true;
                return;
            }
            fields.push((
                String::from_utf8_lossy(&n).into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            ));
        });
        match res {
            Ok(()) => Ok(Decoded {
                fields,
                note: over.then_some(H2Note::HeaderListTooLarge {
                    dir: self.dir,
                    cap: list_cap,
                }),
            }),
            Err(e) => {
                self.failures += 1;
                self.poisoned = true;
                Err(match e {
                    loona_hpack::decoder::DecoderError::InvalidMaxDynamicSize => {
                        H2Note::TableSizeOverCap {
                            dir: self.dir,
                            size: requested_size(block).unwrap_or(0),
                            cap: self.allowed,
                        }
                    }
                    other => H2Note::HpackError {
                        dir: self.dir,
                        error: other.to_string(),
                    },
                })
            }
        }
    }
}

/// The first dynamic table size update's value in a block (for the note), if the block
/// opens with one (RFC 7541 §6.3: `001xxxxx`, 5-bit prefix integer).
fn requested_size(block: &[u8]) -> Option<u64> {
    let (&first, rest) = block.split_first()?;
    if first & 0xe0 != 0x20 {
        return None;
    }
    let mut v = u64::from(first & 0x1f);
    if v < 31 {
        return Some(v);
    }
    for (i, &b) in rest.iter().take(9).enumerate() {
        v = v.checked_add(u64::from(b & 0x7f).checked_shl(7 * i as u32)?)?;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7541 C.4.1 and C.4.2: Huffman-coded requests, the second using the dynamic
    /// table entry the first added.
    #[test]
    fn rfc7541_huffman_requests_share_the_table() {
        let mut h = Hpack::new(Dir::Client);
        let b1 = [
            0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab,
            0x90, 0xf4, 0xff,
        ];
        let d = h.decode(&b1, 100, 1 << 16).ok().map(|d| d.fields);
        let want1: Vec<(String, String)> = [
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(d, Some(want1));
        let b2 = [
            0x82, 0x86, 0x84, 0xbe, 0x58, 0x86, 0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf,
        ];
        let d = h.decode(&b2, 100, 1 << 16).ok().map(|d| d.fields);
        let d = d.unwrap_or_default();
        assert_eq!(d.get(3).map(|f| f.1.as_str()), Some("www.example.com"));
        assert_eq!(
            d.get(4).map(|f| (f.0.as_str(), f.1.as_str())),
            Some(("cache-control", "no-cache"))
        );
    }

    #[test]
    fn poisoned_table_refuses_and_counts() {
        let mut h = Hpack::new(Dir::Server);
        h.poison();
        assert!(matches!(
            h.decode(&[0x88], 100, 1 << 16),
            Err(H2Note::TablePoisoned { .. })
        ));
        assert_eq!(h.failures, 1);
    }

    #[test]
    fn huge_table_size_update_is_refused_not_allocated() {
        let mut h = Hpack::new(Dir::Client);
        assert!(
            h.peer_table_size(u32::MAX).is_some(),
            "over the cap is noted"
        );
        // A size update to 2^28 (beyond the 1 MiB cap), then an indexed field.
        let block = [0x3f, 0xe1, 0xff, 0xff, 0x7f, 0x82];
        let r = h.decode(&block, 100, 1 << 16);
        assert!(
            matches!(
                r,
                Err(H2Note::TableSizeOverCap {
                    size: 268_435_456,
                    ..
                })
            ),
            "{:?}",
            r.err()
        );
        assert!(h.is_poisoned());
    }

    #[test]
    fn invalid_huffman_is_an_error() {
        let mut h = Hpack::new(Dir::Client);
        // Literal without indexing, new name "a", Huffman value of 0xff 0xff 0xff 0xff
        // (the EOS code inside a string: RFC 7541 §5.2 says decoding error).
        let block = [0x00, 0x01, b'a', 0x84, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            h.decode(&block, 100, 1 << 16),
            Err(H2Note::HpackError { .. })
        ));
    }

    #[test]
    fn header_list_bomb_is_cut() {
        let mut h = Hpack::new(Dir::Client);
        // One 1000-byte value added to the table, then referenced 10 000 times.
        let mut block = vec![0x40, 0x01, b'x', 0x7f, 0xe9, 0x06];
        block.extend(std::iter::repeat_n(b'v', 1000));
        block.extend(std::iter::repeat_n(0xbe, 10_000));
        let d = h.decode(&block, 100_000, 64 << 10).ok();
        let d = d.expect("decodes");
        assert!(d.fields.len() < 70, "{}", d.fields.len());
        assert!(matches!(d.note, Some(H2Note::HeaderListTooLarge { .. })));
    }

    #[test]
    fn representations_are_read_from_the_prefixes() {
        // RFC 7541 C.4.1 then C.4.2 (static 2, 6, 4; a Huffman literal with incremental
        // indexing, name index 1; then dynamic index 62), a size update, a never-indexed
        // literal with a new name, a literal without indexing.
        let b = [
            0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab,
            0x90, 0xf4, 0xff, 0xbe, 0x3f, 0xe1, 0x1f, 0x10, 0x01, b'k', 0x01, b'v', 0x04, 0x01,
            b'/',
        ];
        let r = representations(&b).unwrap_or_default();
        let k: Vec<(RepKind, u64, bool)> = r.iter().map(|r| (r.kind, r.index, r.huffman)).collect();
        assert_eq!(
            k,
            vec![
                (RepKind::Indexed, 2, false),
                (RepKind::Indexed, 6, false),
                (RepKind::Indexed, 4, false),
                (RepKind::Incremental, 1, true),
                (RepKind::Indexed, 62, false),
                (RepKind::SizeUpdate, 4096, false),
                (RepKind::NeverIndexed, 0, false),
                (RepKind::WithoutIndexing, 4, false),
            ]
        );
        assert_eq!(representations(&[0x41, 0x8c, 0xf1]), None, "cut string");
        let many = vec![0x82u8; 1000];
        assert_eq!(representations(&many).map(|v| v.len()), Some(MAX_REPS));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u32 = 12345;
        for _ in 0..2000 {
            let mut h = Hpack::new(Dir::Client);
            let block: Vec<u8> = (0..64)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8
                })
                .collect();
            let _ = h.decode(&block, 100, 1 << 16);
            let _ = representations(&block);
        }
    }
}
