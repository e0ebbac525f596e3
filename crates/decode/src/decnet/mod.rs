//! The DECnet protocol family, one module per protocol.

pub(crate) mod app;
pub(crate) mod cterm;
pub(crate) mod dap;
pub(crate) mod ddcmp;
pub(crate) mod lat;
pub(crate) mod lavc;
pub(crate) mod loopback;
pub(crate) mod mop;
pub(crate) mod multinet;
pub(crate) mod nsp;
pub(crate) mod routing;
pub(crate) mod session;
pub(crate) mod stp;
