//! Maynard's own stack inside netcp: a dedicated thread owns the sans-I/O [`Stack`] and the links
//! of `network.toml`, and loops on `poll(2)` over the links' descriptors and a wake-up socket,
//! with the timeout the stack's next timer asks for.
//!
//! ```text
//!  links ──recv_batch──► Stack::receive_batch ──► Outbox (frames + TSO facts) ──► per-link queue ──send_batch──► links
//!  timers: Stack::poll_at / on_timer        events: take_events ──► the activity log
//!  daemon ──Box<dyn FnOnce(&mut Driver)>──► channel + wake-up ──► runs on this thread ──oneshot──► reply
//!  services on the stack's addresses: UdpReadable ──► their channels; send_to ──► a closure (udp_socket.rs)
//!  external UDP servers: their loopback socket ◄──relay──► the stack's sockets (udp_relay.rs)
//!  TCP services: Tcp(h) ──► accept / byte queues shared with the streams (tcp_socket.rs)
//! ```
//!
//! Every SHOW and SET runs on the stack's own thread, between two rounds of the loop, so the
//! stack needs no lock and a command sees a consistent state.

mod capture;
mod doorbell;
mod driver;
mod filter_hook;
mod snmp_view;
mod tcp_socket;
mod udp_relay;
mod udp_socket;

pub use capture::{CaptureSession, CaptureSlots};
pub use driver::{Driver, NetstackHandle};
pub use filter_hook::FilterSlots;
pub use tcp_socket::{StackTcpListener, StackTcpStream};
pub use udp_socket::{
    open_on_stack, serve_udp, stack_claims, StackJoin, StackSocket, StackUdpSocket,
};
