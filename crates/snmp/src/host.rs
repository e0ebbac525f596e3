//! Reading the host: MIB modules read /proc and /sys through [`HostSource`], so tests can feed
//! fixed contents.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

pub trait HostSource: Send + Sync {
    /// The contents of a file, or `None` if it cannot be read.
    fn read(&self, path: &str) -> Option<String>;
    /// The names in a directory (sorted), empty if it cannot be read.
    fn list(&self, path: &str) -> Vec<String>;
    /// Wall-clock time, seconds and nanoseconds since the Unix epoch, and the local offset
    /// from UTC in minutes.
    fn wall_clock(&self) -> (i64, u32, i32);
    /// A file's raw bytes (utmp is binary).
    fn read_bytes(&self, path: &str) -> Option<Vec<u8>> {
        self.read(path).map(String::into_bytes)
    }
    /// File system statistics for a mount point.
    fn statvfs(&self, _path: &str) -> Option<FsStats> {
        None
    }
    /// Clock ticks per second (USER_HZ) for /proc/<pid>/stat times.
    fn clock_ticks(&self) -> u64 {
        100
    }
    /// The memory page size in bytes.
    fn page_size(&self) -> u64 {
        4096
    }
    /// IPv4 addresses: (interface name, address, netmask). Linux has no /proc file for them.
    fn ipv4_addresses(&self) -> Vec<(String, [u8; 4], [u8; 4])> {
        Vec::new()
    }
    /// The target of a symbolic link (e.g. /proc/PID/fd/N → "socket:[INODE]").
    fn read_link(&self, _path: &str) -> Option<String> {
        None
    }
}

/// What statvfs(3) says about a file system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsStats {
    pub block_size: u64,
    pub blocks: u64,
    pub blocks_free: u64,
}

/// The real Linux host.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinuxHost;

impl HostSource for LinuxHost {
    fn read(&self, path: &str) -> Option<String> {
        std::fs::read(path)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn list(&self, path: &str) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(path)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    fn wall_clock(&self) -> (i64, u32, i32) {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
            0,
        )
    }

    fn read_bytes(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(path).ok()
    }

    fn statvfs(&self, path: &str) -> Option<FsStats> {
        let c = std::ffi::CString::new(path).ok()?;
        let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
        // SAFETY: `c` is a valid NUL-terminated string and `st` points to writable memory of
        // the right type; statvfs only writes into it.
        let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
        if rc != 0 {
            return None;
        }
        // SAFETY: statvfs returned 0, so it filled `st`.
        let st = unsafe { st.assume_init() };
        #[allow(clippy::unnecessary_cast)]
        Some(FsStats {
            block_size: st.f_frsize as u64,
            blocks: st.f_blocks as u64,
            blocks_free: st.f_bfree as u64,
        })
    }

    fn clock_ticks(&self) -> u64 {
        // SAFETY: sysconf has no preconditions.
        let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        u64::try_from(t).ok().filter(|&t| t > 0).unwrap_or(100)
    }

    fn ipv4_addresses(&self) -> Vec<(String, [u8; 4], [u8; 4])> {
        let mut out = Vec::new();
        let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
        // SAFETY: getifaddrs writes a list head into `head`, freed below with freeifaddrs.
        if unsafe { libc::getifaddrs(&mut head) } != 0 {
            return out;
        }
        let mut cur = head;
        while !cur.is_null() {
            // SAFETY: `cur` is a node of the list getifaddrs returned, not yet freed.
            let ifa = unsafe { &*cur };
            cur = ifa.ifa_next;
            if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
                continue;
            }
            // SAFETY: ifa_addr is non-null and points to a sockaddr of at least its family's size.
            let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
            if family != libc::AF_INET {
                continue;
            }
            let v4 = |p: *const libc::sockaddr| -> [u8; 4] {
                if p.is_null() {
                    return [0; 4];
                }
                // SAFETY: an AF_INET entry's addresses are sockaddr_in.
                let sin = unsafe { &*(p as *const libc::sockaddr_in) };
                sin.sin_addr.s_addr.to_ne_bytes()
            };
            // SAFETY: ifa_name is a NUL-terminated string owned by the list.
            let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }
                .to_string_lossy()
                .into_owned();
            out.push((name, v4(ifa.ifa_addr), v4(ifa.ifa_netmask)));
        }
        // SAFETY: `head` came from getifaddrs and is freed once.
        unsafe { libc::freeifaddrs(head) };
        out
    }

    fn read_link(&self, path: &str) -> Option<String> {
        std::fs::read_link(path)
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    }

    fn page_size(&self) -> u64 {
        // SAFETY: sysconf has no preconditions.
        let t = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        u64::try_from(t).ok().filter(|&t| t > 0).unwrap_or(4096)
    }
}

/// Fixed contents, for tests: files by path; directories are implied by the paths.
#[derive(Debug, Default, Clone)]
pub struct FakeHost {
    pub files: BTreeMap<String, String>,
    pub fs: BTreeMap<String, FsStats>,
    pub v4: Vec<(String, [u8; 4], [u8; 4])>,
    pub links: BTreeMap<String, String>,
    pub clock: (i64, u32, i32),
}

impl FakeHost {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn file(mut self, path: &str, contents: &str) -> Self {
        self.files.insert(path.to_string(), contents.to_string());
        self
    }
}

impl HostSource for FakeHost {
    fn read(&self, path: &str) -> Option<String> {
        self.files.get(path).cloned()
    }

    fn wall_clock(&self) -> (i64, u32, i32) {
        self.clock
    }

    fn statvfs(&self, path: &str) -> Option<FsStats> {
        self.fs.get(path).copied()
    }

    fn ipv4_addresses(&self) -> Vec<(String, [u8; 4], [u8; 4])> {
        self.v4.clone()
    }

    fn read_link(&self, path: &str) -> Option<String> {
        self.links.get(path).cloned()
    }

    fn list(&self, path: &str) -> Vec<String> {
        let dir = format!("{}/", path.trim_end_matches('/'));
        let mut v: Vec<String> = self
            .files
            .keys()
            .chain(self.links.keys())
            .filter_map(|k| k.strip_prefix(&dir))
            .filter_map(|rest| rest.split('/').next())
            .map(str::to_string)
            .collect();
        v.sort();
        v.dedup();
        v
    }
}
