//! The `Sec-WebSocket-Extensions` grammar (RFC 6455 §9.1) on any two values; see
//! `wsmachine_fuzz::handshake::run_extension_params`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wsmachine_fuzz::handshake::run_extension_params(data));
