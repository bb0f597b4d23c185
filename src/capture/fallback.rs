//! Built-in pcapng reader for files libpcap refuses (interfaces with different link types).
//! Reads the file with `pcap-parser`, tracking each interface's link type and timestamp
//! resolution, and delivers packets after the first `skip` ones.

use super::{CaptureError, RawPacket, ReadSummary};
use crate::ts::Ts;
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError, PcapNGReader};
use std::ops::ControlFlow;
use std::path::Path;

struct Iface {
    linktype: u32,
    /// Units per second of the timestamp.
    resolution: u64,
    offset_secs: i64,
}

/// Units per second of an interface's `if_tsresol` (RFC: 10^n, or 2^n with the top bit
/// set; default microseconds). pcap-parser 0.17 rejects every 2^n value (it tests the
/// byte before masking the flag), so this is done here.
fn ts_resolution(tsresol: u8) -> u64 {
    let n = u32::from(tsresol & 0x7f);
    let r = if tsresol & 0x80 == 0 {
        10u64.checked_pow(n)
    } else {
        1u64.checked_shl(n).filter(|_| n < 64)
    };
    r.unwrap_or(1_000_000).max(1)
}

pub(super) fn read_pcapng(
    path: &Path,
    name: &str,
    skip: u64,
    f: &mut dyn FnMut(&RawPacket<'_>) -> ControlFlow<()>,
) -> Result<ReadSummary, CaptureError> {
    let file = std::fs::File::open(path).map_err(|e| CaptureError::Unreadable {
        file: name.to_string(),
        detail: e.to_string(),
    })?;
    let file = super::spool::Tail::new(file, path);
    read_pcapng_from(Box::new(file), name, skip, f)
}

/// [`read_pcapng`] from a stream (a decompressed file).
pub(super) fn read_pcapng_from(
    file: Box<dyn std::io::Read + Send>,
    name: &str,
    skip: u64,
    f: &mut dyn FnMut(&RawPacket<'_>) -> ControlFlow<()>,
) -> Result<ReadSummary, CaptureError> {
    let mut reader = PcapNGReader::new(1 << 20, file).map_err(|e| CaptureError::NotACapture {
        file: name.to_string(),
        detail: format!("{e:?}"),
    })?;
    let mut summary = ReadSummary {
        reader: "pcap-parser",
        ..Default::default()
    };
    let mut blocks = Blocks {
        ifaces: Vec::new(),
        seen: 0,
        skip,
    };
    // A refill that brings nothing new at the end of a cut file must not spin forever.
    let mut stalled = 0u32;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                stalled = 0;
                let stop = blocks.on_block(block, f).is_break();
                reader.consume(offset);
                if stop {
                    break;
                }
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                stalled += 1;
                if stalled > 2 || reader.refill().is_err() {
                    summary.warnings.push(format!(
                        "reading stopped after packet {}: the file was cut short in the middle of a block; everything before that point is reported",
                        blocks.seen
                    ));
                    break;
                }
            }
            Err(e) => {
                summary.warnings.push(format!(
                    "reading stopped after packet {}: damaged pcapng block ({e:?}); everything before that point is reported",
                    blocks.seen
                ));
                break;
            }
        }
    }
    summary.packets = blocks.seen;
    Ok(summary)
}

impl Iface {
    /// A packet's time from its 64-bit timestamp in this interface's units.
    fn ts(&self, high: u32, low: u32) -> Ts {
        let raw = (u64::from(high) << 32) | u64::from(low);
        // if_tsoffset comes from the file: any i64.
        let secs = i64::try_from(raw / self.resolution)
            .unwrap_or(i64::MAX)
            .saturating_add(self.offset_secs);
        let frac = u128::from(raw % self.resolution);
        let nanos = (frac * 1_000_000_000 / u128::from(self.resolution)) as i64;
        Ts::from_parts(secs, nanos)
    }
}

/// What the blocks read so far say: the section's interfaces, packets seen.
struct Blocks {
    ifaces: Vec<Iface>,
    seen: u64,
    /// Packets already delivered (by libpcap): counted, not handed out again.
    skip: u64,
}

impl Blocks {
    fn on_block(
        &mut self,
        block: PcapBlockOwned<'_>,
        f: &mut dyn FnMut(&RawPacket<'_>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let (index, linktype, ts, orig_len, data) = match block {
            PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                self.ifaces.clear();
                return ControlFlow::Continue(());
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                self.ifaces.push(Iface {
                    linktype: idb.linktype.0 as u32,
                    resolution: ts_resolution(idb.if_tsresol),
                    offset_secs: idb.ts_offset(),
                });
                return ControlFlow::Continue(());
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                self.seen += 1;
                let (linktype, ts) = match self.ifaces.get(epb.if_id as usize) {
                    Some(i) => (i.linktype, i.ts(epb.ts_high, epb.ts_low)),
                    None => (u32::MAX, Ts(0)),
                };
                let caplen = (epb.caplen as usize).min(epb.data.len());
                (self.seen, linktype, ts, epb.origlen, &epb.data[..caplen])
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                self.seen += 1;
                let linktype = self.ifaces.first().map(|i| i.linktype).unwrap_or(u32::MAX);
                (self.seen, linktype, Ts(0), spb.origlen, spb.data)
            }
            _ => return ControlFlow::Continue(()),
        };
        if index <= self.skip {
            return ControlFlow::Continue(());
        }
        f(&RawPacket {
            index,
            ts,
            linktype,
            orig_len,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ts_resolution;

    #[test]
    fn resolutions_decimal_and_binary() {
        assert_eq!(ts_resolution(6), 1_000_000);
        assert_eq!(ts_resolution(9), 1_000_000_000);
        assert_eq!(ts_resolution(0x80 | 10), 1024);
        assert_eq!(ts_resolution(0x80 | 30), 1 << 30);
        // Out of range: microseconds, never a zero divisor.
        assert_eq!(ts_resolution(20), 1_000_000);
        assert_eq!(ts_resolution(0xff), 1_000_000);
    }
}
