//! A client and a server joined in memory; see `wsmachine_fuzz::pair`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wsmachine_fuzz::pair::run(data));
