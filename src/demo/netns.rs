//! The `loss` scenario's network: two network namespaces of their own joined by a veth
//! pair, with segmentation offloads off (every frame MTU-sized, as on a real link) and
//! an nftables rule in the client's namespace that drops every 40th data segment from
//! the server on arrival. The capture runs on the client's veth, which sees each frame
//! before the rule drops it: the original of every retransmission is in the capture.
//!
//! Nothing touches the host's own interfaces or loopback: the namespaces are created
//! here (names carry the process id) and deleted on drop, which deletes the veth pair
//! and the rule with them. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN).

use std::fs::File;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::process::Command;

pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(10, 203, 0, 1);
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(10, 203, 0, 2);
/// Every Nth data segment from the server is dropped.
pub const DROP_EVERY: u32 = 40;

/// The namespace pair; deleted when dropped.
pub struct LossNet {
    pub client_ns: String,
    pub server_ns: String,
    /// The client's end of the veth pair (where the capture runs).
    pub client_if: String,
    created: Vec<String>,
}

fn run(cmd: &[&str]) -> io::Result<()> {
    let out = Command::new(cmd[0]).args(&cmd[1..]).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "`{}` failed: {}",
            cmd.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

impl LossNet {
    /// Create the namespaces, the link and the impairment.
    pub fn create() -> io::Result<LossNet> {
        let id = std::process::id();
        let mut net = LossNet {
            client_ns: format!("tcpscope-loss-c{id}"),
            server_ns: format!("tcpscope-loss-s{id}"),
            client_if: format!("tsl{id}c"),
            created: Vec::new(),
        };
        let (c, s, ci) = (
            net.client_ns.clone(),
            net.server_ns.clone(),
            net.client_if.clone(),
        );
        let si = format!("tsl{id}s");
        for ns in [&c, &s] {
            run(&["ip", "netns", "add", ns])?;
            net.created.push(ns.clone());
            run(&["ip", "-n", ns, "link", "set", "lo", "up"])?;
        }
        run(&[
            "ip", "link", "add", &ci, "netns", &c, "type", "veth", "peer", "name", &si, "netns", &s,
        ])?;
        for (ns, dev, ip) in [(&c, &ci, CLIENT_IP), (&s, &si, SERVER_IP)] {
            run(&[
                "ip",
                "-n",
                ns,
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                dev,
            ])?;
            run(&["ip", "-n", ns, "link", "set", dev, "up"])?;
            // Without offloads the kernel sends and delivers MTU-sized frames, so each
            // captured frame is one segment on the wire (and one the rule can drop).
            run(&[
                "ip", "netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro",
                "off",
            ])?;
        }
        let nft = |args: &str| -> io::Result<()> {
            let mut v = vec!["ip", "netns", "exec", &c, "nft"];
            v.extend(args.split(' '));
            run(&v)
        };
        nft("add table inet tcpscope_loss")?;
        nft(
            "add chain inet tcpscope_loss input { type filter hook input priority 0 ; policy accept ; }",
        )?;
        nft(&format!(
            "add rule inet tcpscope_loss input ip saddr {SERVER_IP} meta l4proto tcp meta length > 1000 numgen inc mod {DROP_EVERY} == {} counter drop",
            DROP_EVERY / 2
        ))?;
        Ok(net)
    }

    /// Run `f` with the calling thread inside namespace `ns` (sockets and capture
    /// handles made there stay there), then return to the thread's own namespace.
    pub fn within<T>(ns: &str, f: impl FnOnce() -> T) -> io::Result<T> {
        let home = File::open("/proc/thread-self/ns/net")?;
        let there = File::open(format!("/run/netns/{ns}"))?;
        // SAFETY: setns(2) on a namespace descriptor we own, for this thread only.
        if unsafe { libc::setns(there.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let r = f();
        // SAFETY: as above, back to the namespace the thread started in.
        if unsafe { libc::setns(home.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            // A thread left in the demo's namespace would capture or connect there:
            // better to stop than to go on.
            panic!(
                "cannot return from network namespace {ns}: {}",
                io::Error::last_os_error()
            );
        }
        Ok(r)
    }
}

impl Drop for LossNet {
    fn drop(&mut self) {
        for ns in self.created.drain(..) {
            let _ = run(&["ip", "netns", "del", &ns]);
        }
    }
}
