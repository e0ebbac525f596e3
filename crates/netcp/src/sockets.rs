//! Opening the host's sockets for services, and what the kernel can tell about them.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, BorrowedFd};

use socket2::{Domain, InterfaceIndexOrAddress, SockRef, Socket, Type};

/// How many connections may wait for accept.
const BACKLOG: i32 = 4096;

fn socket_for(addr: SocketAddr, ty: Type, tos: Option<u8>) -> io::Result<Socket> {
    let domain = Domain::for_address(addr);
    let socket = Socket::new(domain, ty, None)?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        // Each address family gets its own socket, so a service on both 0.0.0.0 and :: works.
        socket.set_only_v6(true)?;
    }
    if let Some(tos) = tos {
        set_tos(&SockRef::from(&socket), addr, tos)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket)
}

/// Sets IP_TOS (IPv4) or IPV6_TCLASS (IPv6).
pub fn set_tos(socket: &SockRef<'_>, addr: SocketAddr, tos: u8) -> io::Result<()> {
    if addr.is_ipv6() {
        socket.set_tclass_v6(u32::from(tos))
    } else {
        socket.set_tos(u32::from(tos))
    }
}

/// A listening TCP socket on `addr`.
pub fn tcp_listener(addr: SocketAddr, tos: Option<u8>) -> io::Result<tokio::net::TcpListener> {
    let socket = socket_for(addr, Type::STREAM, tos)?;
    socket.listen(BACKLOG)?;
    tokio::net::TcpListener::from_std(socket.into())
}

/// A bound UDP socket on `addr`.
pub fn udp_socket(addr: SocketAddr, tos: Option<u8>) -> io::Result<tokio::net::UdpSocket> {
    let socket = socket_for(addr, Type::DGRAM, tos)?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// Where a host socket joins a multicast group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostJoin {
    /// The interface that has this address (0.0.0.0: the one the kernel's routes choose).
    Address(Ipv4Addr),
    /// The Linux interface of this name.
    Interface(String),
}

/// A UDP socket bound to `group` (address and port) that joins the group on each of `joins`.
/// Linux sends from a socket bound to a multicast address with the source its routes choose
/// (`inet_saddr` stays 0), so replies never carry the group's address. Closing the socket
/// leaves the groups.
pub fn udp_group_socket(
    group: SocketAddrV4,
    tos: Option<u8>,
    joins: &[HostJoin],
) -> io::Result<tokio::net::UdpSocket> {
    let addr = SocketAddr::V4(group);
    let socket = socket_for(addr, Type::DGRAM, tos)?;
    for j in joins {
        let r = match j {
            HostJoin::Address(ip) => socket.join_multicast_v4(group.ip(), ip),
            HostJoin::Interface(name) => {
                let index = interface_index(name)?;
                socket.join_multicast_v4_n(group.ip(), &InterfaceIndexOrAddress::Index(index))
            }
        };
        r.map_err(|e| {
            let on = match j {
                HostJoin::Address(ip) if ip.is_unspecified() => "the routed interface".to_string(),
                HostJoin::Address(ip) => format!("the interface of {ip}"),
                HostJoin::Interface(name) => name.clone(),
            };
            io::Error::new(e.kind(), format!("cannot join {} on {on}: {e}", group.ip()))
        })?;
    }
    tokio::net::UdpSocket::from_std(socket.into())
}

/// A Linux interface's index by name.
fn interface_index(name: &str) -> io::Result<u32> {
    let cname = std::ffi::CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name contains NUL"))?;
    // SAFETY: `cname` is a NUL-terminated string that outlives the call, which only reads it.
    let index = unsafe { libc::if_nametoindex(cname.as_ptr()) };
    if index == 0 {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no interface {name} on this host"),
        ))
    } else {
        Ok(index)
    }
}

/// Whether binding to a privileged `port` fails for lack of privilege.
pub fn low_ports_forbidden(port: u16) -> bool {
    let probe = Socket::new(Domain::IPV4, Type::STREAM, None)
        .and_then(|s| s.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into()));
    matches!(probe, Err(e) if e.kind() == io::ErrorKind::PermissionDenied)
}

/// The kernel's TCP_INFO, as far as netcp reads it (Linux `struct tcp_info` up to
/// `tcpi_data_segs_out`, kernel 4.6 and later).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct TcpInfo {
    /// The connection's state (Linux `TCP_*` numbering).
    pub state: u8,
    ca_state: u8,
    retransmits: u8,
    probes: u8,
    backoff: u8,
    options: u8,
    wscale: u8,
    flags: u8,
    rto: u32,
    ato: u32,
    snd_mss: u32,
    rcv_mss: u32,
    unacked: u32,
    sacked: u32,
    lost: u32,
    retrans: u32,
    fackets: u32,
    last_data_sent: u32,
    last_ack_sent: u32,
    last_data_recv: u32,
    last_ack_recv: u32,
    pmtu: u32,
    rcv_ssthresh: u32,
    /// Smoothed round-trip time, microseconds.
    pub rtt: u32,
    rttvar: u32,
    snd_ssthresh: u32,
    snd_cwnd: u32,
    advmss: u32,
    reordering: u32,
    rcv_rtt: u32,
    rcv_space: u32,
    total_retrans: u32,
    pacing_rate: u64,
    max_pacing_rate: u64,
    /// Bytes sent and acknowledged by the peer.
    pub bytes_acked: u64,
    /// Bytes received from the peer.
    pub bytes_received: u64,
    segs_out: u32,
    segs_in: u32,
    notsent_bytes: u32,
    min_rtt: u32,
    /// Segments received that carried data.
    pub data_segs_in: u32,
    /// Segments sent that carried data.
    pub data_segs_out: u32,
}

impl TcpInfo {
    /// Bytes of data received: the kernel's count includes the peer's FIN, which occupies one
    /// sequence number but carries no data.
    pub fn data_bytes_received(&self) -> u64 {
        // TIME_WAIT, CLOSE_WAIT, LAST_ACK, CLOSING: the states in which the peer's FIN has arrived.
        let fin_received = matches!(self.state, 6 | 8 | 9 | 11);
        self.bytes_received.saturating_sub(u64::from(fin_received))
    }
}

/// Reads TCP_INFO of a TCP socket.
pub fn tcp_info(fd: BorrowedFd<'_>) -> io::Result<TcpInfo> {
    let mut info = TcpInfo::default();
    let mut len = std::mem::size_of::<TcpInfo>() as libc::socklen_t;
    // SAFETY: `info` is a plain-old-data buffer of `len` bytes that outlives the call; the
    // kernel writes at most `len` bytes and reports how many.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut TcpInfo).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(info)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Switches a socket between blocking (for a child process) and non-blocking (for tokio).
pub fn set_blocking(fd: BorrowedFd<'_>, blocking: bool) -> io::Result<()> {
    SockRef::from(&fd).set_nonblocking(!blocking)
}

/// An account from the passwd database.
#[derive(Debug, Clone)]
pub struct Account {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

/// Looks up `name` through the C library (so NSS sources such as LDAP count).
pub fn lookup_user(name: &str) -> io::Result<Option<Account>> {
    let cname = std::ffi::CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "user name contains NUL"))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: zeroed passwd is a valid "empty" value; getpwnam_r fills it with pointers into `buf`,
    // which lives until we have copied the strings out below.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let rc = unsafe {
        libc::getpwnam_r(
            cname.as_ptr(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    if result.is_null() {
        return Ok(None);
    }
    let text = |p: *const libc::c_char| {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: getpwnam_r set these to NUL-terminated strings inside `buf`.
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .into_owned()
        }
    };
    Ok(Some(Account {
        uid: pw.pw_uid,
        gid: pw.pw_gid,
        home: text(pw.pw_dir),
        shell: text(pw.pw_shell),
    }))
}

/// Looks up a group id by name.
pub fn lookup_group(name: &str) -> io::Result<Option<u32>> {
    let cname = std::ffi::CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "group name contains NUL"))?;
    let mut buf = vec![0 as libc::c_char; 64 * 1024];
    // SAFETY: as in lookup_user; only gr_gid is read.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    let rc = unsafe {
        libc::getgrnam_r(
            cname.as_ptr(),
            &mut gr,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok((!result.is_null()).then_some(gr.gr_gid))
}

/// Raises the open-file limit to its hard maximum: every connection is a descriptor.
pub fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
