//! Helpers shared by this crate's unit tests: temporary directories and connected socket pairs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::{TcpListener, TcpStream};

use crate::net::PeerInfo;

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory whose name includes `tag`, the process id and a counter.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("maynard-services-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `name` (creating parent directories) and returns its path.
    pub fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&p, contents).expect("write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A connected loopback TCP pair: (client, server, the server side's addresses).
pub async fn tcp_pair() -> (TcpStream, TcpStream, PeerInfo) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let client = client.expect("connect");
    let (server, peer) = accepted.expect("accept");
    let info = PeerInfo {
        peer,
        local: server.local_addr().expect("local addr"),
    };
    (client, server, info)
}

/// Addresses to hand a service that is served over an in-memory duplex.
pub fn fake_info() -> PeerInfo {
    let peer: SocketAddr = "192.0.2.1:40000".parse().expect("addr");
    let local: SocketAddr = "192.0.2.2:7".parse().expect("addr");
    PeerInfo { peer, local }
}
