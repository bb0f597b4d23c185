//! What libpcap can capture on: names (for "no such device") and `tcpscope interfaces`.

use super::LiveError;
use crate::capture::{dlt_to_linktype, libpcap_message};

pub(super) fn interface_names() -> Vec<String> {
    pcap::Device::list()
        .map(|v| v.into_iter().map(|d| d.name).collect())
        .unwrap_or_default()
}

/// One interface as `tcpscope interfaces` shows it.
#[derive(Clone, Debug)]
pub struct InterfaceInfo {
    pub name: String,
    pub description: Option<String>,
    pub addresses: Vec<String>,
    pub flags: Vec<&'static str>,
    /// Link types libpcap offers on it (None: it could not be opened to ask).
    pub linktypes: Result<Vec<String>, String>,
    pub is_default: bool,
}

/// Every interface libpcap can capture on, default first as libpcap orders them.
pub fn interfaces() -> Result<Vec<InterfaceInfo>, LiveError> {
    let devs = pcap::Device::list().map_err(|e| LiveError::List {
        detail: e.to_string(),
    })?;
    let default = pcap::Device::lookup().ok().flatten().map(|d| d.name);
    Ok(devs
        .into_iter()
        .map(|d| {
            let mut flags = Vec::new();
            if d.flags.is_up() {
                flags.push("up");
            } else {
                flags.push("down");
            }
            if d.flags.is_running() {
                flags.push("running");
            }
            if d.flags.is_loopback() {
                flags.push("loopback");
            }
            if d.flags.is_wireless() {
                flags.push("wireless");
            }
            let addresses = d
                .addresses
                .iter()
                .map(|a| match a.netmask {
                    Some(m) => format!("{}/{}", a.addr, prefix_len(m)),
                    None => a.addr.to_string(),
                })
                .collect();
            let linktypes = pcap::Capture::from_device(d.name.as_str())
                .and_then(|c| c.snaplen(256).open())
                .and_then(|c| c.list_datalinks())
                .map(|v| {
                    v.into_iter()
                        .map(|l| {
                            let n = crate::capture::linktype_name(dlt_to_linktype(l.0));
                            match l.get_name() {
                                Ok(p) if n.starts_with("LINKTYPE_") => p,
                                _ => n,
                            }
                        })
                        .collect()
                })
                .map_err(|e| {
                    let m = e.to_string();
                    if m.to_ascii_lowercase().contains("permission") || m.contains("not permitted")
                    {
                        "? (needs root or cap_net_raw)".to_string()
                    } else {
                        format!("? ({})", libpcap_message(&m))
                    }
                });
            InterfaceInfo {
                is_default: default.as_deref() == Some(d.name.as_str()),
                name: d.name,
                description: d.desc,
                addresses,
                flags,
                linktypes,
            }
        })
        .collect())
}

fn prefix_len(m: std::net::IpAddr) -> u32 {
    match m {
        std::net::IpAddr::V4(a) => u32::from(a).count_ones(),
        std::net::IpAddr::V6(a) => u128::from(a).count_ones(),
    }
}
