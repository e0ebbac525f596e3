//! The packetdrill-style harness (filled below).
