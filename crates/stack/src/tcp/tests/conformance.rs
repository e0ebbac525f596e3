//! Scripted conformance tests (filled below).
