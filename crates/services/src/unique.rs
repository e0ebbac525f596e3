//! Names for files a server makes beside others (staged writes, spooled jobs): unique within
//! and across processes, and sorting in the order they were made.

use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Nanoseconds since the Unix epoch (zero-padded, so names sort by time), this process's id and
/// a counter.
pub(crate) fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{nanos:024}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
