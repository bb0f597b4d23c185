//! The connection-selection options shared by `report`, `explain`, `diagram` and
//! `export-http` (flattened into each), and `report`'s file outputs (`-w`, `--out`).
//! `into_selection` checks the values once; `report::select` applies them.

use crate::report::select::{APPS, STATES, Selection};
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(clap::Args, Debug, Default, Clone)]
pub struct SelectArgs {
    /// Only these connections, by id as `tcpscope report` lists them (comma-separated:
    /// `--conn 3,5`).
    #[arg(long, value_name = "ID[,ID]", value_delimiter = ',')]
    pub conn: Vec<u64>,
    /// Only connections with this address at either end (IPv4 or IPv6; comma-separated).
    #[arg(long, value_name = "ADDR", value_delimiter = ',')]
    pub host: Vec<IpAddr>,
    /// Only connections with this port at either end (comma-separated).
    #[arg(long, value_name = "N", value_delimiter = ',')]
    pub port: Vec<u16>,
    /// Only connections whose detected protocol is one of these (the JSON `app`: http,
    /// tls, http2, ssh, smtp, ftp, ftp-data, unknown; `tls` includes decrypted ones).
    #[arg(long, value_name = "APP", value_delimiter = ',')]
    pub app: Vec<String>,
    /// Only connections in one of these Zeek conn_states (SF, REJ, S0, S1, RSTO, ...).
    #[arg(long, value_name = "STATE", value_delimiter = ',')]
    pub state: Vec<String>,
    /// Only connections with analysis flags (retransmissions, lost segments, duplicate
    /// ACKs, zero windows, out-of-order, bad flags, ...).
    #[arg(long)]
    pub anomalies: bool,
}

impl SelectArgs {
    /// The selection, or an error naming the value at fault.
    pub fn into_selection(self) -> anyhow::Result<Selection> {
        let apps = self
            .app
            .into_iter()
            .map(|a| {
                let l = a.to_ascii_lowercase();
                match APPS.contains(&l.as_str()) {
                    true => Ok(l),
                    false => Err(anyhow::anyhow!(
                        "--app {a}: expected one of {}",
                        APPS.join(", ")
                    )),
                }
            })
            .collect::<anyhow::Result<_>>()?;
        let states = self
            .state
            .into_iter()
            .map(|s| {
                let u = s.to_ascii_uppercase();
                match STATES.contains(&u.as_str()) {
                    true => Ok(u),
                    false => Err(anyhow::anyhow!(
                        "--state {s}: expected a Zeek conn_state: {}",
                        STATES.join(", ")
                    )),
                }
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Selection {
            conns: self.conn,
            hosts: self.host,
            ports: self.port,
            apps,
            states,
            anomalies: self.anomalies,
        })
    }
}

/// `report`'s outputs besides standard output.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ReportOutArgs {
    /// Also write the selected connections' frames (original bytes, timestamps and link
    /// type) to this pcap file, replaced if it exists, as `tcpdump -w` does
    /// (`report --conn 3 -w conn3.pcap`).
    #[arg(short = 'w', long = "write", value_name = "FILE.pcap")]
    pub write: Option<PathBuf>,
    /// Folder the `--format zeek` logs (conn.log, http.log) are written into (created if
    /// missing; existing logs are never overwritten).
    #[arg(long = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
}
