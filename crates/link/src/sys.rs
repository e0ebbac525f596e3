//! The system calls the links share: interface ioctls through a control socket, descriptors.

use crate::{Error, Result};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use wire::EthernetAddress;

/// Checks a Linux interface name and returns it as the 16-byte `ifr_name`.
pub(crate) fn ifname(name: &str) -> Result<[libc::c_char; libc::IFNAMSIZ]> {
    let bytes = name.as_bytes();
    if bytes.is_empty()
        || bytes.len() >= libc::IFNAMSIZ
        || bytes
            .iter()
            .any(|&b| b == 0 || b == b'/' || b.is_ascii_whitespace() || b == b':')
    {
        return Err(Error::BadName(name.to_string()));
    }
    let mut out = [0 as libc::c_char; libc::IFNAMSIZ];
    for (o, &b) in out.iter_mut().zip(bytes) {
        *o = b as libc::c_char;
    }
    Ok(out)
}

/// A zeroed `ifreq` naming `name`.
pub(crate) fn ifreq(name: &str) -> Result<libc::ifreq> {
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut r: libc::ifreq = unsafe { std::mem::zeroed() };
    r.ifr_name = ifname(name)?;
    Ok(r)
}

/// The name the kernel put in an `ifreq` (after `TUNSETIFF` with a `%d` pattern, say).
pub(crate) fn ifreq_name(r: &libc::ifreq) -> String {
    let bytes: Vec<u8> = r
        .ifr_name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

pub(crate) fn check(r: libc::c_int, op: impl FnOnce() -> String) -> Result<libc::c_int> {
    if r < 0 {
        Err(Error::io(op(), io::Error::last_os_error()))
    } else {
        Ok(r)
    }
}

/// An `AF_INET` datagram socket for interface ioctls. It stays in the network namespace it was
/// made in, so a link opened inside a namespace keeps configuring its device there.
pub(crate) fn control_socket() -> Result<OwnedFd> {
    // SAFETY: plain socket(2); the result is checked before it is owned.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    check(fd, || "socket(AF_INET) for interface ioctls".into())?;
    // SAFETY: fd is a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// One interface ioctl on `ctl`.
pub(crate) fn ioctl_ifreq(
    ctl: &OwnedFd,
    req: libc::Ioctl,
    r: &mut libc::ifreq,
    what: &str,
) -> Result<()> {
    // SAFETY: r is a valid ifreq for every request used here (SIOC[GS]IF*).
    let rc = unsafe { libc::ioctl(ctl.as_raw_fd(), req, r as *mut libc::ifreq) };
    check(rc, || format!("{what} {}", ifreq_name(r))).map(|_| ())
}

/// The interface's index.
pub(crate) fn if_index(ctl: &OwnedFd, name: &str) -> Result<i32> {
    let mut r = ifreq(name)?;
    ioctl_ifreq(ctl, libc::SIOCGIFINDEX, &mut r, "SIOCGIFINDEX")?;
    // SAFETY: SIOCGIFINDEX filled the ifindex member.
    Ok(unsafe { r.ifr_ifru.ifru_ifindex })
}

/// The interface's flags (`IFF_UP`, ...).
pub(crate) fn if_flags(ctl: &OwnedFd, name: &str) -> Result<libc::c_int> {
    let mut r = ifreq(name)?;
    ioctl_ifreq(ctl, libc::SIOCGIFFLAGS, &mut r, "SIOCGIFFLAGS")?;
    // SAFETY: SIOCGIFFLAGS filled the flags member.
    Ok(libc::c_int::from(unsafe { r.ifr_ifru.ifru_flags }) & 0xffff)
}

/// Sets or clears `bits` in the interface's flags.
pub(crate) fn set_if_flags(ctl: &OwnedFd, name: &str, bits: libc::c_int, on: bool) -> Result<()> {
    let old = if_flags(ctl, name)?;
    let new = if on { old | bits } else { old & !bits };
    if new == old {
        return Ok(());
    }
    let mut r = ifreq(name)?;
    r.ifr_ifru.ifru_flags = new as libc::c_short;
    ioctl_ifreq(ctl, libc::SIOCSIFFLAGS, &mut r, "SIOCSIFFLAGS")
}

/// The interface's MTU.
pub(crate) fn if_mtu(ctl: &OwnedFd, name: &str) -> Result<usize> {
    let mut r = ifreq(name)?;
    ioctl_ifreq(ctl, libc::SIOCGIFMTU, &mut r, "SIOCGIFMTU")?;
    // SAFETY: SIOCGIFMTU filled the mtu member.
    Ok(usize::try_from(unsafe { r.ifr_ifru.ifru_mtu }).unwrap_or(0))
}

/// Sets the interface's MTU.
pub(crate) fn set_if_mtu(ctl: &OwnedFd, name: &str, mtu: usize) -> Result<()> {
    let mut r = ifreq(name)?;
    r.ifr_ifru.ifru_mtu = libc::c_int::try_from(mtu).map_err(|_| Error::Invalid {
        what: "MTU",
        value: mtu.to_string(),
    })?;
    ioctl_ifreq(ctl, libc::SIOCSIFMTU, &mut r, "SIOCSIFMTU")
}

/// The interface's hardware address.
pub(crate) fn if_hwaddr(ctl: &OwnedFd, name: &str) -> Result<EthernetAddress> {
    let mut r = ifreq(name)?;
    ioctl_ifreq(ctl, libc::SIOCGIFHWADDR, &mut r, "SIOCGIFHWADDR")?;
    // SAFETY: SIOCGIFHWADDR filled the hwaddr member.
    let sa = unsafe { r.ifr_ifru.ifru_hwaddr };
    let mut b = [0u8; 6];
    for (o, &c) in b.iter_mut().zip(sa.sa_data.iter()) {
        *o = c as u8;
    }
    Ok(EthernetAddress(b))
}

/// Sets the interface's hardware address.
pub(crate) fn set_if_hwaddr(ctl: &OwnedFd, name: &str, mac: EthernetAddress) -> Result<()> {
    let mut r = ifreq(name)?;
    // SAFETY: sockaddr is plain old data.
    let mut sa: libc::sockaddr = unsafe { std::mem::zeroed() };
    sa.sa_family = libc::ARPHRD_ETHER;
    for (o, &b) in sa.sa_data.iter_mut().zip(mac.0.iter()) {
        *o = b as libc::c_char;
    }
    r.ifr_ifru.ifru_hwaddr = sa;
    ioctl_ifreq(ctl, libc::SIOCSIFHWADDR, &mut r, "SIOCSIFHWADDR")
}

/// The calling thread's network namespace, as a descriptor (for `setns`).
pub(crate) fn current_netns() -> Result<OwnedFd> {
    let f = std::fs::File::open("/proc/thread-self/ns/net")
        .map_err(|e| Error::io("open /proc/thread-self/ns/net", e))?;
    Ok(OwnedFd::from(f))
}

/// Fills `b` from the kernel's random source (falls back to the clock and pid).
pub(crate) fn fill_random(b: &mut [u8]) {
    // SAFETY: b is a valid writable buffer of b.len() bytes.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if usize::try_from(n).ok() != Some(b.len()) {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ (u128::from(std::process::id()) << 64);
        for (o, x) in b.iter_mut().zip(t.to_le_bytes()) {
            *o = x;
        }
    }
}

/// Whether an errno means "try again later".
pub(crate) fn would_block(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EINTR))
        || e.kind() == io::ErrorKind::WouldBlock
}

/// Whether an errno concerns one frame (drop it and go on) rather than the link.
pub(crate) fn frame_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL)
            | Some(libc::EMSGSIZE)
            | Some(libc::EIO)
            | Some(libc::ENETDOWN)
            | Some(libc::ENXIO)
            | Some(libc::ENOBUFS)
            | Some(libc::EFAULT)
            | Some(libc::ENOMEM)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(ifname("mayn0").is_ok());
        assert!(ifname("tap%d").is_ok());
        assert!(ifname("").is_err());
        assert!(ifname("0123456789abcdef").is_err());
        assert!(ifname("0123456789abcde").is_ok());
        assert!(ifname("a b").is_err());
        assert!(ifname("a/b").is_err());
        let r = ifreq("se0").unwrap();
        assert_eq!(ifreq_name(&r), "se0");
    }
}
