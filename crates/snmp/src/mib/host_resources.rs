//! HOST-RESOURCES-MIB (1.3.6.1.2.1.25) sourced from Linux: hrSystem (live), hrStorage,
//! hrDevice (with hrProcessorTable, hrNetworkTable, hrDiskStorageTable), hrSWRun and
//! hrSWRunPerf (cached scans of /proc).

use crate::agent::{push_event, EventSink};
use crate::host::HostSource;
use crate::mib::interfaces;
use crate::notify::AgentEvent;
use crate::oid::Oid;
use crate::pdu::ErrorStatus;
use crate::registry::{Ctx, Handler, Snapshot, SnapshotData, TtlCache};
use crate::value::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const HOST: [u32; 7] = [1, 3, 6, 1, 2, 1, 25];
/// How long a scan of /proc is reused.
pub const TTL: Duration = Duration::from_secs(5);

fn hr(more: &[u32]) -> Oid {
    Oid::new(&HOST).child(more)
}

fn int(v: u64) -> Value {
    Value::Integer(i32::try_from(v).unwrap_or(i32::MAX))
}

/// Parses /proc/meminfo into kB values.
pub fn parse_meminfo(s: &str) -> BTreeMap<String, u64> {
    s.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            let n = v.split_whitespace().next()?.parse().ok()?;
            Some((k.trim().to_string(), n))
        })
        .collect()
}

/// DateAndTime (RFC 2579) for seconds since the epoch and an offset from UTC in minutes.
pub fn date_and_time(secs: i64, nanos: u32, offset_min: i32) -> Vec<u8> {
    let local = secs.saturating_add(i64::from(offset_min) * 60);
    let days = local.div_euclid(86_400);
    let sod = local.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let y = u16::try_from(y.clamp(0, 65535)).unwrap_or(0);
    let off = offset_min.unsigned_abs();
    vec![
        (y >> 8) as u8,
        (y & 0xff) as u8,
        m as u8,
        d as u8,
        (sod / 3600) as u8,
        (sod % 3600 / 60) as u8,
        (sod % 60) as u8,
        (nanos / 100_000_000) as u8,
        if offset_min < 0 { b'-' } else { b'+' },
        (off / 60).min(13) as u8,
        (off % 60) as u8,
    ]
}

/// USER_PROCESS records in a glibc x86-64/aarch64 utmp file (384-byte records).
pub fn count_utmp_users(b: &[u8]) -> u32 {
    b.chunks_exact(384)
        .filter(|r| {
            r.get(..4)
                .map(|t| i32::from_le_bytes([t[0], t[1], t[2], t[3]]))
                == Some(7)
        })
        .count() as u32
}

fn pids(host: &dyn HostSource) -> Vec<u32> {
    let mut v: Vec<u32> = host
        .list("/proc")
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    v.sort_unstable();
    v
}

/// A block device for hrDeviceTable / hrDiskStorageTable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    pub name: String,
    pub model: String,
    pub read_only: bool,
    pub removable: bool,
    pub sectors: u64,
}

pub fn disks(host: &dyn HostSource) -> Vec<Disk> {
    host.list("/sys/block")
        .into_iter()
        .filter(|n| !n.starts_with("loop") && !n.starts_with("ram"))
        .map(|name| {
            let d = format!("/sys/block/{name}");
            let r = |f: &str| host.read(&format!("{d}/{f}")).map(|s| s.trim().to_string());
            Disk {
                model: r("device/model").unwrap_or_default(),
                read_only: r("ro").as_deref() == Some("1"),
                removable: r("removable").as_deref() == Some("1"),
                sectors: r("size").and_then(|s| s.parse().ok()).unwrap_or(0),
                name,
            }
        })
        .collect()
}

const DEV_PROCESSOR: u32 = 768;
const DEV_NETWORK: u32 = 1024;
const DEV_DISK: u32 = 1536;

/// The hrDeviceIndex of the disk holding the root file system, or 0.
fn root_disk_index(host: &dyn HostSource, disks: &[Disk]) -> u32 {
    let root = host.read("/proc/mounts").and_then(|m| {
        m.lines().find_map(|l| {
            let mut f = l.split_whitespace();
            let src = f.next()?;
            (f.next()? == "/").then(|| src.trim_start_matches("/dev/").to_string())
        })
    });
    root.and_then(|r| disks.iter().position(|d| r.starts_with(&d.name)))
        .and_then(|p| u32::try_from(p).ok())
        .map(|p| DEV_DISK + p + 1)
        .unwrap_or(0)
}

/// hrSystem (25.1), computed on every request.
/// The hrSystem scalars are hrSystem.1 to hrSystem.7.
const SYSTEM_SCALARS: std::ops::RangeInclusive<u32> = 1..=7;

/// One hrSystem scalar (`n` in 1..=7), read live; only what that scalar needs is read.
fn system_value(host: &dyn HostSource, n: u32) -> Value {
    match n {
        1 => {
            let up = host
                .read("/proc/uptime")
                .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
                .unwrap_or(0.0);
            Value::TimeTicks((up * 100.0).clamp(0.0, f64::from(u32::MAX)) as u32)
        }
        2 => {
            let (secs, nanos, off) = host.wall_clock();
            Value::OctetString(date_and_time(secs, nanos, off))
        }
        3 => {
            let ds = disks(host);
            int(u64::from(root_disk_index(host, &ds)))
        }
        4 => {
            let cmdline = host.read("/proc/cmdline").unwrap_or_default();
            let cmdline: String = cmdline.trim_end().chars().take(128).collect();
            Value::string(cmdline)
        }
        5 => {
            let users = host
                .read_bytes("/var/run/utmp")
                .map(|b| count_utmp_users(&b))
                .unwrap_or(0);
            Value::Gauge32(users)
        }
        6 => Value::Gauge32(u32::try_from(pids(host).len()).unwrap_or(u32::MAX)),
        _ => {
            let max = host
                .read("/proc/sys/kernel/pid_max")
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(0);
            int(max)
        }
    }
}

pub fn system_snapshot(host: &dyn HostSource) -> SnapshotData {
    let mut d = SnapshotData::new();
    for n in SYSTEM_SCALARS {
        d.scalar(hr(&[1, n]), system_value(host, n));
    }
    d
}

fn storage_type(t: u32) -> Value {
    Value::ObjectId(hr(&[2, 1, t]))
}

/// hrMemorySize and hrStorageTable (25.2).
pub fn storage_snapshot(host: &dyn HostSource) -> SnapshotData {
    let mut d = SnapshotData::new();
    let mi = host
        .read("/proc/meminfo")
        .map(|s| parse_meminfo(&s))
        .unwrap_or_default();
    let m = |k: &str| mi.get(k).copied().unwrap_or(0);
    let total = m("MemTotal");
    let avail = mi.get("MemAvailable").copied().unwrap_or(m("MemFree"));
    let swap_used = m("SwapTotal").saturating_sub(m("SwapFree"));
    d.scalar(hr(&[2, 2]), int(total));
    let entry = hr(&[2, 3, 1]);
    // (index, type, descr, units, size, used)
    let mut rows: Vec<(u32, u32, String, u64, u64, u64)> = vec![
        (
            1,
            2,
            "Physical memory".into(),
            1024,
            total,
            total.saturating_sub(avail),
        ),
        (
            3,
            3,
            "Virtual memory".into(),
            1024,
            total + m("SwapTotal"),
            total.saturating_sub(avail) + swap_used,
        ),
        (6, 1, "Memory buffers".into(), 1024, total, m("Buffers")),
        (7, 1, "Cached memory".into(), 1024, total, m("Cached")),
        (8, 1, "Shared memory".into(), 1024, total, m("Shmem")),
        (10, 3, "Swap space".into(), 1024, m("SwapTotal"), swap_used),
    ];
    let mut seen = std::collections::BTreeSet::new();
    let mut next = 31u32;
    for line in host.read("/proc/mounts").unwrap_or_default().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(mp), Some(fstype)) = (f.get(1), f.get(2)) else {
            continue;
        };
        let t = match *fstype {
            "ext2" | "ext3" | "ext4" | "xfs" | "btrfs" | "vfat" | "f2fs" | "jfs" | "zfs"
            | "overlay" | "reiserfs" | "exfat" | "ntfs" | "ntfs3" => 4, // hrStorageFixedDisk
            "tmpfs" => 8,                           // hrStorageRamDisk
            "nfs" | "nfs4" | "cifs" | "smb3" => 10, // hrStorageNetworkDisk
            _ => continue,
        };
        let mp = mp.replace("\\040", " ");
        if !seen.insert(mp.clone()) {
            continue;
        }
        let Some(st) = host.statvfs(&mp) else {
            continue;
        };
        rows.push((
            next,
            t,
            mp,
            st.block_size,
            st.blocks,
            st.blocks.saturating_sub(st.blocks_free),
        ));
        next += 1;
    }
    for (idx, t, descr, mut units, mut size, mut used) in rows {
        // INTEGER (0..2147483647): grow the allocation unit until the sizes fit.
        while size > i32::MAX as u64 && units < (1 << 30) {
            units *= 2;
            size /= 2;
            used /= 2;
        }
        let i = [idx];
        d.cell(&entry, 1, &i, int(u64::from(idx)));
        d.cell(&entry, 2, &i, storage_type(t));
        d.cell(&entry, 3, &i, Value::string(descr));
        d.cell(&entry, 4, &i, int(units));
        d.cell(&entry, 5, &i, int(size));
        d.cell(&entry, 6, &i, int(used));
        d.cell(&entry, 7, &i, Value::Counter32(0));
    }
    d
}

/// Busy and total jiffies per CPU from /proc/stat.
pub fn cpu_times(s: &str) -> Vec<(u64, u64)> {
    s.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let f: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .map(|x| x.parse().unwrap_or(0))
                .collect();
            let total: u64 = f.iter().take(8).sum();
            let idle = f.get(3).copied().unwrap_or(0) + f.get(4).copied().unwrap_or(0);
            (total.saturating_sub(idle), total)
        })
        .collect()
}

fn device_type(t: u32) -> Value {
    Value::ObjectId(hr(&[3, 1, t]))
}

/// hrDeviceTable, hrProcessorTable, hrNetworkTable, hrDiskStorageTable (25.3). `prev` holds
/// the CPU times of the previous scan, for hrProcessorLoad.
pub fn device_snapshot(host: &dyn HostSource, prev: &mut Vec<(u64, u64)>) -> SnapshotData {
    let mut d = SnapshotData::new();
    let dev = hr(&[3, 2, 1]);
    let proc_entry = hr(&[3, 3, 1]);
    let net_entry = hr(&[3, 4, 1]);
    let disk_entry = hr(&[3, 6, 1]);
    let cpuinfo = host.read("/proc/cpuinfo").unwrap_or_default();
    let models: Vec<String> = cpuinfo
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "model name").then(|| v.trim().to_string())
        })
        .collect();
    let times = cpu_times(&host.read("/proc/stat").unwrap_or_default());
    let ncpu = times.len().max(models.len());
    for n in 0..ncpu {
        let idx = [DEV_PROCESSOR + u32::try_from(n).unwrap_or(0)];
        let descr = models
            .get(n)
            .cloned()
            .unwrap_or_else(|| "Processor".to_string());
        d.cell(&dev, 1, &idx, int(u64::from(idx[0])));
        d.cell(&dev, 2, &idx, device_type(3));
        d.cell(&dev, 3, &idx, Value::string(descr));
        d.cell(&dev, 4, &idx, Value::ObjectId(Oid::new(&[0, 0])));
        d.cell(&dev, 5, &idx, Value::Integer(2));
        d.cell(&dev, 6, &idx, Value::Counter32(0));
        let (busy, total) = times.get(n).copied().unwrap_or((0, 0));
        let (pb, pt) = prev.get(n).copied().unwrap_or((0, 0));
        let (db, dt) = if total > pt {
            (busy.saturating_sub(pb), total - pt)
        } else {
            (busy, total)
        };
        let load = db.saturating_mul(100).checked_div(dt).unwrap_or(0).min(100);
        d.cell(&proc_entry, 1, &idx, Value::ObjectId(Oid::new(&[0, 0])));
        d.cell(&proc_entry, 2, &idx, int(load));
    }
    *prev = times;
    for i in interfaces::scan(host) {
        let idx = [DEV_NETWORK + i.index];
        d.cell(&dev, 1, &idx, int(u64::from(idx[0])));
        d.cell(&dev, 2, &idx, device_type(4));
        d.cell(
            &dev,
            3,
            &idx,
            Value::string(format!("network interface {}", i.name)),
        );
        d.cell(&dev, 4, &idx, Value::ObjectId(Oid::new(&[0, 0])));
        let status = if i.oper_status() == 1 { 2 } else { 5 };
        d.cell(&dev, 5, &idx, Value::Integer(status));
        d.cell(&dev, 6, &idx, c32(i.counters.rx_errs + i.counters.tx_errs));
        d.cell(&net_entry, 1, &idx, int(u64::from(i.index)));
    }
    for (n, disk) in disks(host).into_iter().enumerate() {
        let idx = [DEV_DISK + 1 + u32::try_from(n).unwrap_or(0)];
        let descr = if disk.model.is_empty() {
            disk.name.clone()
        } else {
            format!("{} ({})", disk.model, disk.name)
        };
        d.cell(&dev, 1, &idx, int(u64::from(idx[0])));
        d.cell(&dev, 2, &idx, device_type(6));
        d.cell(&dev, 3, &idx, Value::string(descr));
        d.cell(&dev, 4, &idx, Value::ObjectId(Oid::new(&[0, 0])));
        d.cell(&dev, 5, &idx, Value::Integer(2));
        d.cell(&dev, 6, &idx, Value::Counter32(0));
        let media = if disk.name.starts_with("sr") {
            5
        } else if disk.name.starts_with("zram") {
            8
        } else {
            3
        };
        d.cell(
            &disk_entry,
            1,
            &idx,
            Value::Integer(if disk.read_only { 2 } else { 1 }),
        );
        d.cell(&disk_entry, 2, &idx, Value::Integer(media));
        d.cell(
            &disk_entry,
            3,
            &idx,
            Value::Integer(if disk.removable { 1 } else { 2 }),
        );
        d.cell(&disk_entry, 4, &idx, int(disk.sectors / 2));
    }
    d
}

fn c32(v: u64) -> Value {
    Value::Counter32((v & 0xffff_ffff) as u32)
}

/// One process from /proc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: u32,
    pub name: String,
    pub path: String,
    pub params: String,
    pub kernel_thread: bool,
    pub state: char,
    /// CPU time in centiseconds.
    pub cpu_centis: u64,
    pub rss_kb: u64,
}

/// Parses /proc/<pid>/stat: (comm, state, utime+stime in ticks).
pub fn parse_stat(s: &str) -> Option<(String, char, u64)> {
    let open = s.find('(')?;
    let close = s.rfind(')')?;
    let comm = s.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = s.get(close + 1..)?.split_whitespace().collect();
    let state = rest.first()?.chars().next()?;
    let ut: u64 = rest.get(11)?.parse().ok()?;
    let st: u64 = rest.get(12)?.parse().ok()?;
    Some((comm, state, ut + st))
}

pub fn scan_procs(host: &dyn HostSource) -> Vec<Proc> {
    let hz = host.clock_ticks().max(1);
    let page_kb = host.page_size() / 1024;
    let mut out = Vec::new();
    for pid in pids(host) {
        let Some((comm, state, ticks)) = host
            .read(&format!("/proc/{pid}/stat"))
            .and_then(|s| parse_stat(&s))
        else {
            continue; // gone since the listing
        };
        let cmd = host
            .read_bytes(&format!("/proc/{pid}/cmdline"))
            .unwrap_or_default();
        let mut args = cmd
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned());
        let path = args.next().unwrap_or_default();
        let params = args.collect::<Vec<_>>().join(" ");
        let rss_pages = host
            .read(&format!("/proc/{pid}/statm"))
            .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
            .unwrap_or(0);
        out.push(Proc {
            pid,
            name: comm.chars().take(64).collect(),
            kernel_thread: cmd.is_empty(),
            path: path.chars().take(128).collect(),
            params: params.chars().take(128).collect(),
            state,
            cpu_centis: ticks * 100 / hz,
            rss_kb: rss_pages * page_kb,
        });
    }
    out
}

/// hrSWOSIndex and hrSWRunTable (25.4).
pub fn swrun_snapshot(procs: &[Proc]) -> SnapshotData {
    let mut d = SnapshotData::new();
    d.scalar(hr(&[4, 1]), Value::Integer(1));
    let e = hr(&[4, 2, 1]);
    for p in procs {
        let i = [p.pid];
        d.cell(&e, 1, &i, int(u64::from(p.pid)));
        d.cell(&e, 2, &i, Value::string(&p.name));
        d.cell(&e, 3, &i, Value::ObjectId(Oid::new(&[0, 0])));
        d.cell(&e, 4, &i, Value::string(&p.path));
        d.cell(&e, 5, &i, Value::string(&p.params));
        d.cell(
            &e,
            6,
            &i,
            Value::Integer(if p.kernel_thread { 2 } else { 4 }),
        );
        let status = match p.state {
            'R' => 1,
            'S' | 'I' => 2,
            'D' | 'T' | 't' | 'W' => 3,
            _ => 4,
        };
        d.cell(&e, 7, &i, Value::Integer(status));
    }
    d
}

/// hrSWRunPerfTable (25.5).
pub fn swrun_perf_snapshot(procs: &[Proc]) -> SnapshotData {
    let mut d = SnapshotData::new();
    let e = hr(&[5, 1, 1]);
    for p in procs {
        let i = [p.pid];
        d.cell(&e, 1, &i, int(p.cpu_centis));
        d.cell(&e, 2, &i, int(p.rss_kb));
    }
    d
}

type ProcCache = Arc<Mutex<TtlCache<Arc<Vec<Proc>>>>>;

fn procs(cache: &ProcCache, host: &dyn HostSource, now: Duration) -> Arc<Vec<Proc>> {
    let mut c = crate::agent::lock(cache);
    c.get(now, || Arc::new(scan_procs(host))).clone()
}

/// Seconds since the Unix epoch (UTC) of an RFC 2579 DateAndTime (8 or 11 octets), if valid.
pub fn parse_date_and_time(b: &[u8]) -> Option<i64> {
    let ([y1, y2, mo, d, h, mi, s, ds], rest) = b.split_first_chunk::<8>()?;
    // Only 8 octets, or 11 with a time zone.
    if *ds > 9 || !(rest.is_empty() || rest.len() == 3) {
        return None;
    }
    let (y, mo, d, h, mi, s) = (u16::from_be_bytes([*y1, *y2]), *mo, *d, *h, *mi, *s);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let (y, m) = (i64::from(y), i64::from(mo));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let local = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
    let offset = match b.get(8..11) {
        Some([sign, oh, om]) if (*sign == b'+' || *sign == b'-') && *oh <= 13 && *om <= 59 => {
            let o = i64::from(*oh) * 3600 + i64::from(*om) * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        Some(_) => return None,
        None => 0,
    };
    Some(local - offset)
}

/// hrSystem: live values; hrSystemDate settable when `events` is given (the host sets the
/// clock when it sees [`AgentEvent::SetSystemDate`]).
pub struct HrSystem {
    host: Arc<dyn HostSource>,
    events: Option<EventSink>,
    /// Events queued by commits of this request, for undo.
    committed: usize,
}

impl Handler for HrSystem {
    // As `system_snapshot(..).get` and `.next`, but reading only the scalar asked for: a
    // walk through hrSystem must not rescan /proc and /sys for every object.
    fn get(&mut self, oid: &Oid, _cx: &Ctx) -> Value {
        for n in SYSTEM_SCALARS {
            let object = hr(&[1, n]);
            if oid.starts_with(&object) && oid.len() > object.len() {
                return if oid.arcs().get(object.len()..) == Some(&[0][..]) {
                    system_value(&*self.host, n)
                } else {
                    Value::NoSuchInstance
                };
            }
        }
        Value::NoSuchObject
    }

    fn next(&mut self, after: &Oid, _cx: &Ctx) -> Option<crate::value::VarBind> {
        SYSTEM_SCALARS
            .map(|n| (n, hr(&[1, n, 0])))
            .find(|(_, oid)| oid > after)
            .map(|(n, oid)| crate::value::VarBind::new(oid, system_value(&*self.host, n)))
    }

    fn test_set(&mut self, vb: &crate::value::VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        if vb.oid != hr(&[1, 2, 0]) || self.events.is_none() {
            return Err(ErrorStatus::NotWritable);
        }
        match &vb.value {
            Value::OctetString(b) if b.len() != 8 && b.len() != 11 => Err(ErrorStatus::WrongLength),
            Value::OctetString(b) => parse_date_and_time(b)
                .map(|_| ())
                .ok_or(ErrorStatus::WrongValue),
            _ => Err(ErrorStatus::WrongType),
        }
    }

    fn commit_set(&mut self, vb: &crate::value::VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        let (Some(sink), Value::OctetString(b)) = (&self.events, &vb.value) else {
            return Err(ErrorStatus::CommitFailed);
        };
        let unix_seconds = parse_date_and_time(b).ok_or(ErrorStatus::CommitFailed)?;
        push_event(sink, AgentEvent::SetSystemDate { unix_seconds });
        self.committed += 1;
        Ok(())
    }

    fn undo_set(&mut self, _vb: &crate::value::VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        if let Some(sink) = &self.events {
            let mut q = crate::agent::lock(sink);
            if self.committed > 0 {
                if let Some(pos) = q
                    .iter()
                    .rposition(|e| matches!(e, AgentEvent::SetSystemDate { .. }))
                {
                    q.remove(pos);
                    self.committed -= 1;
                }
            }
        }
        Ok(())
    }

    fn cleanup_set(&mut self, _vb: &crate::value::VarBind, _cx: &Ctx) {
        self.committed = 0;
    }
}

/// The HOST-RESOURCES-MIB handlers and their subtrees; `events` enables setting hrSystemDate.
pub fn handlers(
    host: Arc<dyn HostSource>,
    events: Option<EventSink>,
) -> Vec<(Oid, Box<dyn Handler>)> {
    let cache: ProcCache = Arc::new(Mutex::new(TtlCache::new(TTL)));
    let (h1, h2, h3, h4, h5) = (host.clone(), host.clone(), host.clone(), host.clone(), host);
    let (c4, c5) = (cache.clone(), cache);
    let mut prev = Vec::new();
    vec![
        (
            hr(&[1]),
            Box::new(HrSystem {
                host: h1,
                events,
                committed: 0,
            }) as Box<dyn Handler>,
        ),
        (
            hr(&[2]),
            Box::new(Snapshot::new(TTL, move |_: &Ctx| storage_snapshot(&*h2))),
        ),
        (
            hr(&[3]),
            Box::new(Snapshot::new(TTL, move |_: &Ctx| {
                device_snapshot(&*h3, &mut prev)
            })),
        ),
        (
            hr(&[4]),
            Box::new(Snapshot::new(TTL, move |cx: &Ctx| {
                swrun_snapshot(&procs(&c4, &*h4, cx.now))
            })),
        ),
        (
            hr(&[5]),
            Box::new(Snapshot::new(TTL, move |cx: &Ctx| {
                swrun_perf_snapshot(&procs(&c5, &*h5, cx.now))
            })),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{FakeHost, FsStats};

    fn fake() -> FakeHost {
        let mut h = FakeHost::new()
            .file("/proc/uptime", "12345.67 100.00\n")
            .file("/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro\n")
            .file("/proc/sys/kernel/pid_max", "4194304\n")
            .file(
                "/proc/meminfo",
                "MemTotal:  2000000 kB\nMemFree: 500000 kB\nMemAvailable: 1000000 kB\nBuffers: 1000 kB\nCached: 2000 kB\nSwapTotal: 100 kB\nSwapFree: 40 kB\nShmem: 7 kB\n",
            )
            .file(
                "/proc/mounts",
                "/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\ntmpfs /run tmpfs rw 0 0\n",
            )
            .file("/proc/1/stat", "1 (init (x)) S 0 1 1 0 -1 4194560 0 0 0 0 150 50 0 0 20 0 1 0 1 0 0\n")
            .file("/proc/1/cmdline", "/sbin/init\0splash\0")
            .file("/proc/1/statm", "100 25 0 0 0 0 0\n")
            .file("/proc/2/stat", "2 (kthreadd) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n")
            .file("/proc/2/statm", "0 0 0 0 0 0 0\n")
            .file("/proc/stat", "cpu 10 0 10 80 0 0 0 0\ncpu0 10 0 10 80 0 0 0 0 0 0\n")
            .file("/proc/cpuinfo", "processor : 0\nmodel name : Test CPU 3000\n")
            .file("/sys/block/sda/size", "2000\n")
            .file("/sys/block/sda/ro", "0\n")
            .file("/sys/block/sda/removable", "0\n")
            .file("/sys/block/loop0/size", "0\n");
        h.clock = (1_700_000_000, 300_000_000, 60);
        h.fs.insert(
            "/".into(),
            FsStats {
                block_size: 4096,
                blocks: 1000,
                blocks_free: 250,
            },
        );
        h
    }

    #[test]
    fn system_group() {
        let d = system_snapshot(&fake());
        assert_eq!(d.get(&hr(&[1, 1, 0])), Value::TimeTicks(1_234_567));
        // 2023-11-14 22:13:20 UTC, +01:00 → 23:13:20.3 local.
        assert_eq!(
            d.get(&hr(&[1, 2, 0])),
            Value::OctetString(vec![0x07, 0xe7, 11, 14, 23, 13, 20, 3, b'+', 1, 0])
        );
        assert_eq!(d.get(&hr(&[1, 3, 0])), Value::Integer(1537));
        assert_eq!(d.get(&hr(&[1, 6, 0])), Value::Gauge32(2));
        assert_eq!(d.get(&hr(&[1, 7, 0])), Value::Integer(4_194_304));
    }

    #[test]
    fn hr_system_handler_matches_snapshot() {
        let host: Arc<dyn HostSource> = Arc::new(fake());
        let snap = system_snapshot(&*host);
        let mut h = HrSystem {
            host,
            events: None,
            committed: 0,
        };
        let cx = Ctx {
            now: Duration::ZERO,
        };
        let probes = [
            Oid::new(&[1]),
            hr(&[]),
            hr(&[1]),
            hr(&[1, 0]),
            hr(&[1, 1]),
            hr(&[1, 1, 0]),
            hr(&[1, 1, 0, 0]),
            hr(&[1, 1, 1]),
            hr(&[1, 3, 0]),
            hr(&[1, 4, 7]),
            hr(&[1, 6, 0]),
            hr(&[1, 7]),
            hr(&[1, 7, 0]),
            hr(&[1, 7, 0, 1]),
            hr(&[1, 8]),
            hr(&[1, 8, 0]),
            hr(&[2]),
        ];
        for p in &probes {
            assert_eq!(h.get(p, &cx), snap.get(p), "get {p}");
            assert_eq!(h.next(p, &cx), snap.next(p), "next {p}");
        }
    }

    #[test]
    fn storage() {
        let d = storage_snapshot(&fake());
        assert_eq!(d.get(&hr(&[2, 2, 0])), Value::Integer(2_000_000));
        assert_eq!(d.get(&hr(&[2, 3, 1, 6, 1])), Value::Integer(1_000_000));
        assert_eq!(d.get(&hr(&[2, 3, 1, 3, 31])), Value::string("/"));
        assert_eq!(d.get(&hr(&[2, 3, 1, 6, 31])), Value::Integer(750));
        assert_eq!(
            d.get(&hr(&[2, 3, 1, 2, 31])),
            Value::ObjectId(hr(&[2, 1, 4]))
        );
        // tmpfs /run has no statvfs in the fake host: skipped.
        assert_eq!(d.get(&hr(&[2, 3, 1, 3, 32])), Value::NoSuchInstance);
    }

    #[test]
    fn devices_and_processes() {
        let h = fake();
        let mut prev = Vec::new();
        let d = device_snapshot(&h, &mut prev);
        assert_eq!(
            d.get(&hr(&[3, 2, 1, 3, 768])),
            Value::string("Test CPU 3000")
        );
        assert_eq!(d.get(&hr(&[3, 3, 1, 2, 768])), Value::Integer(20));
        assert_eq!(d.get(&hr(&[3, 6, 1, 4, 1537])), Value::Integer(1000));
        let procs = scan_procs(&h);
        assert_eq!(procs.len(), 2);
        let s = swrun_snapshot(&procs);
        assert_eq!(s.get(&hr(&[4, 2, 1, 2, 1])), Value::string("init (x)"));
        assert_eq!(s.get(&hr(&[4, 2, 1, 4, 1])), Value::string("/sbin/init"));
        assert_eq!(s.get(&hr(&[4, 2, 1, 5, 1])), Value::string("splash"));
        assert_eq!(s.get(&hr(&[4, 2, 1, 6, 2])), Value::Integer(2));
        let p = swrun_perf_snapshot(&procs);
        assert_eq!(p.get(&hr(&[5, 1, 1, 1, 1])), Value::Integer(200));
        assert_eq!(p.get(&hr(&[5, 1, 1, 2, 1])), Value::Integer(100));
    }

    #[test]
    fn date_and_time_round_trip() {
        for (secs, off) in [(1_700_000_000i64, 60i32), (0, 0), (951_782_400, -330)] {
            let b = date_and_time(secs, 0, off);
            assert_eq!(parse_date_and_time(&b), Some(secs));
            assert_eq!(
                parse_date_and_time(&b[..8]),
                Some(secs + i64::from(off) * 60)
            );
        }
        assert_eq!(parse_date_and_time(&[7, 0xe7, 13, 1, 0, 0, 0, 0]), None);
        assert_eq!(parse_date_and_time(&[7, 0xe7, 1, 1, 0, 0, 0]), None);
    }

    #[test]
    fn utmp() {
        let mut b = vec![0u8; 384 * 3];
        b[0] = 7;
        b[384] = 8;
        b[768] = 7;
        assert_eq!(count_utmp_users(&b), 2);
    }
}
