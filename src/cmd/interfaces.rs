//! `tcpscope interfaces`: what libpcap can capture on (the list is `capture::live`'s).

use std::io::{self, BufWriter, Write};

pub fn run() -> anyhow::Result<()> {
    let list = crate::capture::live::interfaces()?;
    let mut out = BufWriter::new(io::stdout().lock());
    let name_w = list
        .iter()
        .map(|i| i.name.len() + 2)
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:name_w$}  {:26}  {:28}  ADDRESSES",
        "NAME", "FLAGS", "LINK TYPES"
    )?;
    for i in &list {
        let name = if i.is_default {
            format!("{} *", i.name)
        } else {
            i.name.clone()
        };
        let lts = match &i.linktypes {
            Ok(v) => v.join(", "),
            Err(e) => e.clone(),
        };
        let addrs = if i.addresses.is_empty() {
            "-".to_string()
        } else {
            i.addresses.join(", ")
        };
        writeln!(
            out,
            "{name:name_w$}  {:26}  {lts:28}  {addrs}",
            i.flags.join(", ")
        )?;
        if let Some(d) = &i.description {
            writeln!(out, "{:name_w$}  {d}", "")?;
        }
    }
    writeln!(
        out,
        "\n* libpcap's default device: what `tcpscope live` captures on without -i"
    )?;
    out.flush()?;
    Ok(())
}
