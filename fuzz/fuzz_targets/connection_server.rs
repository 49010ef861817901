//! A server connection under a structured sequence of operations; see `wsmachine_fuzz::conn`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsmachine::Role;

fuzz_target!(|data: &[u8]| wsmachine_fuzz::conn::run(Role::Server, data));
