//! The permessage-deflate receive path (RFC 7692) against a one-shot reference: compressed,
//! corrupted and arbitrary payloads, fragmented, masked, split into reads, in whole-message and
//! streaming mode, under small and large limits; see `wsmachine_fuzz::inflate`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wsmachine_fuzz::inflate::run(data));
