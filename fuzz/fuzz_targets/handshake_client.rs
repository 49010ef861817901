//! The client handshake on any response bytes in any split; see `wsmachine_fuzz::handshake`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wsmachine_fuzz::handshake::run_client(data));
