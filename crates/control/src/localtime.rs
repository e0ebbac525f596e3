//! The host's clock as local time: packet filter windows and VMS times are local.

/// Seconds since the Unix epoch now, and the host's offset from UTC in seconds (east positive).
pub fn now_with_offset() -> (i64, i32) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let t = now as libc::time_t;
    // SAFETY: localtime_r only writes into `tm`, a plain C struct we own.
    let offset = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            0
        } else {
            tm.tm_gmtoff as i32
        }
    };
    (now, offset)
}
