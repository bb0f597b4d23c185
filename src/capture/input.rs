//! What a file command reads of its capture: a BPF read filter (`-f`, compiled by
//! libpcap for each link type the file holds, as `tcpdump -r FILE 'tcp port 80'` does)
//! and a packet count (`-c N`: stop after N packets that pass the filter, as tcpdump
//! counts).
//!
//! The settings are the process's, set once by `cli::config` before the command runs
//! ([`set`]); every reader of a source goes through [`super::read_source_shared`], which
//! applies them, so the report, the parallel reader, the UI's re-reads of frames, the
//! classroom commands and the stream rebuilds all see the same packets. Frame numbers
//! stay those of the file (as Wireshark shows a filtered file): the hex view's re-read of
//! frame N and a cross-check in Wireshark still find the same frame.

use super::live::{locate_error, marker};
use super::{CaptureError, RawPacket, linktype_name};
use std::sync::{Arc, Mutex};

/// The read settings of a command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    /// BPF expression (`man pcap-filter`); None or blank: every packet.
    pub filter: Option<String>,
    /// Stop after this many packets passing the filter.
    pub count: Option<u64>,
}

static CURRENT: Mutex<Option<Arc<Input>>> = Mutex::new(None);

/// Make `input` what every reader of this process applies from now on.
pub fn set(input: Input) {
    if let Ok(mut c) = CURRENT.lock() {
        *c = Some(Arc::new(input));
    }
}

/// The settings in force (none: every packet).
pub fn current() -> Arc<Input> {
    CURRENT
        .lock()
        .ok()
        .and_then(|c| c.clone())
        .unwrap_or_default()
}

/// libpcap's DLT value for a file's LINKTYPE value (`pcap_open_dead` takes DLTs; only
/// the raw-IP type differs among those tcpscope decodes).
fn dlt_of(linktype: u32) -> i32 {
    match linktype {
        101 => 12,
        other => other as i32,
    }
}

/// `filter` compiled for `linktype`, or the located error `file` names.
fn compile(filter: &str, linktype: u32, file: &str) -> Result<pcap::BpfProgram, CaptureError> {
    let dead = pcap::Capture::dead(pcap::Linktype(dlt_of(linktype))).map_err(|e| {
        CaptureError::Unreadable {
            file: file.to_string(),
            detail: super::libpcap_message(e),
        }
    })?;
    dead.compile(filter, true).map_err(|e| {
        let message = super::libpcap_message(&e);
        // A syntax error is one the parser reports; "unknown host" and the like are not.
        let parses = |f: &str| match dead.compile(f, false) {
            Ok(_) => true,
            Err(e) => !e.to_string().contains("syntax error"),
        };
        let span = locate_error(filter, &message, &parses);
        CaptureError::BadFilter {
            file: file.to_string(),
            linktype: linktype_name(linktype),
            filter: filter.to_string(),
            marker: marker(filter, span),
            message,
        }
    })
}

/// Check `filter` before any file is opened: an expression no link type accepts (a
/// syntax error, an unknown port name) is refused at once, before the terminal UI
/// starts or a report begins. What only some link types refuse is found when a packet
/// of such a type comes.
pub fn check(filter: &str) -> Result<(), CaptureError> {
    // Ethernet, raw IP, Linux cooked: nearly every capture is one of these.
    let mut first = None;
    for lt in [1u32, 101, 113] {
        match compile(filter, lt, "") {
            Ok(_) => return Ok(()),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    match first {
        Some(CaptureError::BadFilter {
            filter,
            marker,
            message,
            ..
        }) => Err(CaptureError::BadFilter {
            file: String::new(),
            linktype: String::new(),
            filter,
            marker,
            message,
        }),
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// What a reader does with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The filter rejects it: not handed out, counted.
    Skip,
    /// The count was reached before it: reading ends.
    Stop,
}

/// The filter and the count applied to one reading of a source.
pub struct Gate {
    filter: Option<String>,
    count: Option<u64>,
    file: String,
    /// Programs compiled so far, by link type.
    programs: Vec<(u32, pcap::BpfProgram)>,
    pub passed: u64,
    pub filtered_out: u64,
    /// A link type the filter cannot be compiled for: reading stops with this.
    pub error: Option<CaptureError>,
}

impl Gate {
    pub fn new(input: &Input, file: &str) -> Gate {
        Gate {
            filter: input.filter.clone().filter(|f| !f.trim().is_empty()),
            count: input.count,
            file: file.to_string(),
            programs: Vec::new(),
            passed: 0,
            filtered_out: 0,
            error: None,
        }
    }

    /// Whether the gate lets every packet through (nothing to do per packet).
    pub fn is_open(&self) -> bool {
        self.filter.is_none() && self.count.is_none()
    }

    /// Whether the count is reached: reading ends after the packet just passed.
    pub fn full(&self) -> bool {
        self.count.is_some_and(|n| self.passed >= n)
    }

    pub fn admit(&mut self, p: &RawPacket<'_>) -> Verdict {
        if self.full() || self.error.is_some() {
            return Verdict::Stop;
        }
        if let Some(f) = &self.filter {
            let at = match self.programs.iter().position(|(lt, _)| *lt == p.linktype) {
                Some(i) => i,
                None => match compile(f, p.linktype, &self.file) {
                    Ok(prog) => {
                        self.programs.push((p.linktype, prog));
                        self.programs.len() - 1
                    }
                    Err(e) => {
                        self.error = Some(e);
                        return Verdict::Stop;
                    }
                },
            };
            if !self.programs[at].1.filter(p.data) {
                self.filtered_out += 1;
                return Verdict::Skip;
            }
        }
        self.passed += 1;
        Verdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::Ts;

    /// An Ethernet/IPv4/TCP frame from port `sport` to port `dport`.
    fn frame(sport: u16, dport: u16) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 20];
        f[12] = 0x08;
        f[14] = 0x45;
        f[16..18].copy_from_slice(&40u16.to_be_bytes());
        f[22] = 64;
        f[23] = 6;
        f[26..30].copy_from_slice(&[10, 0, 0, 1]);
        f[30..34].copy_from_slice(&[10, 0, 0, 2]);
        f[34..36].copy_from_slice(&sport.to_be_bytes());
        f[36..38].copy_from_slice(&dport.to_be_bytes());
        f[46] = 0x50;
        f
    }

    fn raw(index: u64, data: &[u8]) -> RawPacket<'_> {
        RawPacket {
            index,
            ts: Ts(0),
            linktype: 1,
            orig_len: data.len() as u32,
            data,
        }
    }

    #[test]
    fn filter_then_count() {
        let input = Input {
            filter: Some("tcp port 80".into()),
            count: Some(2),
        };
        let mut g = Gate::new(&input, "x.pcap");
        let (web, other) = (frame(40000, 80), frame(40000, 22));
        assert_eq!(g.admit(&raw(1, &other)), Verdict::Skip);
        assert_eq!(g.admit(&raw(2, &web)), Verdict::Pass);
        assert_eq!(g.admit(&raw(3, &other)), Verdict::Skip);
        assert_eq!(g.admit(&raw(4, &web)), Verdict::Pass);
        assert_eq!(g.admit(&raw(5, &web)), Verdict::Stop);
        assert_eq!((g.passed, g.filtered_out), (2, 2));
    }

    #[test]
    fn a_bad_filter_is_located() {
        let e = check("tcp prot 80").unwrap_err().to_string();
        assert!(e.starts_with("bad read filter: "), "{e}");
        assert!(e.contains("\n  tcp prot 80\n      ^^^^\n"), "{e}");
        assert!(check("tcp port 80").is_ok());
    }

    #[test]
    fn a_link_type_the_filter_does_not_fit_stops_reading() {
        // Raw IP has no Ethernet header to test.
        let input = Input {
            filter: Some("ether host 01:02:03:04:05:06".into()),
            count: None,
        };
        let mut g = Gate::new(&input, "raw.pcap");
        let p = RawPacket {
            linktype: 101,
            ..raw(1, &[0x45, 0, 0, 20])
        };
        assert_eq!(g.admit(&p), Verdict::Stop);
        let e = g.error.unwrap().to_string();
        assert!(
            e.starts_with("raw.pcap: bad read filter for its link type RAW: "),
            "{e}"
        );
    }
}
