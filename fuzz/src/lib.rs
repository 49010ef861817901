//! Shared harnesses for the wsmachine fuzz targets in `fuzz_targets/`.

pub mod conn;
pub mod handshake;
pub mod inflate;
pub mod output;
pub mod pair;
pub mod wire;
