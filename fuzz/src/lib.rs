//! Shared harnesses for the wsmachine fuzz targets in `fuzz_targets/`. What tests and fuzz
//! targets share (the pair, the frame builder, the wire checker) is in `wsmachine-testkit`.

pub mod conn;
pub mod handshake;
pub mod inflate;
pub mod pair;

use wsmachine::extensions::DeflateParams;

/// `params` with every window size moved into 8–15 (`b` becomes `8 + b % 8`), so that fuzzed
/// agreements use every window size rather than mostly the clamped ends.
pub fn spread_windows(mut params: DeflateParams) -> DeflateParams {
    let spread = |b: Option<u8>| b.map(|b| 8 + b % 8);
    params.server_max_window_bits = spread(params.server_max_window_bits);
    params.client_max_window_bits = spread(params.client_max_window_bits);
    params
}
