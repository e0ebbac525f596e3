//! SNMP for Maynard: a BER codec written for SNMP, SNMPv1/v2c messages, a sans-I/O agent core
//! with a run-time registry of subtrees, and MIB modules sourced from the Linux host.
//!
//! The agent takes bytes in and hands bytes out; time is a parameter:
//!
//! ```
//! use snmp::agent::{Agent, AgentConfig};
//! use std::time::Duration;
//! let mut agent = Agent::new(AgentConfig::default());
//! let peer = "127.0.0.1:40000".parse().unwrap();
//! assert!(agent.handle(b"garbage", peer, Duration::ZERO).is_none());
//! ```

pub mod agent;
pub mod ber;
pub mod delegate;
pub mod host;
pub mod mib;
pub mod notify;
pub mod oid;
pub mod pdu;
pub mod registry;
pub mod smux;
pub mod usm_sender;
pub mod v3;
pub mod value;

pub use agent::{Agent, AgentConfig, Community, IpPrefix, View};
pub use oid::Oid;
pub use pdu::{AnyPdu, ErrorStatus, Message, Pdu, PduType, Version};
pub use registry::{Handler, Registry};
pub use value::{Value, VarBind};

#[cfg(test)]
mod tests {
    /// netcp moves the agent into its runtime (behind a mutex): it must be `Send`.
    #[test]
    fn agent_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<crate::Agent>();
    }
}
