//! The demo's raw socket calls: options std does not offer (SO_RCVBUF before connect,
//! SO_LINGER 0) and a client socket bound before it connects, so the capture filter can
//! name its port before the first packet.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd};

pub(super) fn set_int_opt(s: &impl AsRawFd, level: i32, opt: i32, value: i32) -> io::Result<()> {
    // SAFETY: a valid socket and a pointer to an int that lives for the call.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            opt,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// SO_LINGER on with a zero timeout: close() then discards unsent data and sends RST.
pub(super) fn linger_zero(s: &TcpStream) -> io::Result<()> {
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a pointer to a linger struct that lives for the call.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&l as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

pub(super) fn sockaddr(v4: std::net::SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: v4.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*v4.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

/// A client socket bound to `ip` on a port the kernel picks (with SO_RCVBUF set
/// first when asked), not yet connected, and that port: std's `TcpStream` cannot bind
/// before connecting.
pub(super) fn bound_client(
    rcvbuf: Option<i32>,
    ip: std::net::Ipv4Addr,
) -> io::Result<(TcpStream, u16)> {
    // SAFETY: socket(2) with constant arguments; the descriptor is owned below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh socket nobody else owns; the stream closes it on drop.
    let s = unsafe { TcpStream::from_raw_fd(fd) };
    if let Some(n) = rcvbuf {
        set_int_opt(&s, libc::SOL_SOCKET, libc::SO_RCVBUF, n)?;
    }
    let sa = sockaddr(std::net::SocketAddrV4::new(ip, 0));
    // SAFETY: a valid socket and a sockaddr_in that lives for the call.
    let r = unsafe {
        libc::bind(
            fd,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut got = sockaddr(std::net::SocketAddrV4::new([0, 0, 0, 0].into(), 0));
    let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: a valid socket, a sockaddr_in and its length that live for the call.
    let r = unsafe { libc::getsockname(fd, (&mut got as *mut libc::sockaddr_in).cast(), &mut len) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((s, u16::from_be(got.sin_port)))
}

/// Connect the bound client socket to `addr` (loopback: it answers at once, SYN-ACK
/// or RST).
pub(super) fn connect_bound(s: TcpStream, addr: SocketAddr) -> io::Result<TcpStream> {
    let SocketAddr::V4(v4) = addr else {
        return Err(io::Error::other("IPv4 only"));
    };
    let sa = sockaddr(v4);
    // SAFETY: a valid socket and a sockaddr_in that lives for the call.
    let r = unsafe {
        libc::connect(
            s.as_raw_fd(),
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(s)
}
