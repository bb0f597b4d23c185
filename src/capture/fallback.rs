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
    let mut reader = PcapNGReader::new(1 << 20, file).map_err(|e| CaptureError::NotACapture {
        file: name.to_string(),
        detail: format!("{e:?}"),
    })?;
    let mut ifaces: Vec<Iface> = Vec::new();
    let mut summary = ReadSummary {
        reader: "pcap-parser",
        ..Default::default()
    };
    let mut seen: u64 = 0;
    // A refill that brings nothing new at the end of a cut file must not spin forever.
    let mut stalled = 0u32;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                stalled = 0;
                let mut stop = false;
                match block {
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => ifaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        ifaces.push(Iface {
                            linktype: idb.linktype.0 as u32,
                            resolution: ts_resolution(idb.if_tsresol),
                            offset_secs: idb.ts_offset(),
                        });
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        seen += 1;
                        if seen > skip {
                            let (linktype, ts) = match ifaces.get(epb.if_id as usize) {
                                Some(i) => {
                                    let raw =
                                        (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                                    // if_tsoffset comes from the file: any i64.
                                    let secs = i64::try_from(raw / i.resolution)
                                        .unwrap_or(i64::MAX)
                                        .saturating_add(i.offset_secs);
                                    let frac = u128::from(raw % i.resolution);
                                    let nanos =
                                        (frac * 1_000_000_000 / u128::from(i.resolution)) as i64;
                                    (i.linktype, Ts::from_parts(secs, nanos))
                                }
                                None => (u32::MAX, Ts(0)),
                            };
                            let caplen = (epb.caplen as usize).min(epb.data.len());
                            let raw = RawPacket {
                                index: seen,
                                ts,
                                linktype,
                                orig_len: epb.origlen,
                                data: &epb.data[..caplen],
                            };
                            stop = f(&raw).is_break();
                        }
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        seen += 1;
                        if seen > skip {
                            let linktype = ifaces.first().map(|i| i.linktype).unwrap_or(u32::MAX);
                            let raw = RawPacket {
                                index: seen,
                                ts: Ts(0),
                                linktype,
                                orig_len: spb.origlen,
                                data: spb.data,
                            };
                            stop = f(&raw).is_break();
                        }
                    }
                    _ => {}
                }
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
                        "reading stopped after packet {seen}: the file was cut short in the middle of a block; everything before that point is reported"
                    ));
                    break;
                }
            }
            Err(e) => {
                summary.warnings.push(format!(
                    "reading stopped after packet {seen}: damaged pcapng block ({e:?}); everything before that point is reported"
                ));
                break;
            }
        }
    }
    summary.packets = seen;
    Ok(summary)
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
