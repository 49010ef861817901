//! Heap held by active permessage-deflate connections with the default settings, measured
//! with a counting allocator (not by timing).
#![cfg(feature = "deflate")]

use wsmachine::extensions::DeflateOptions;
use wsmachine::handshake::{Accept, ClientHandshake, ClientOptions, ServerHandshake, Status, Url};
use wsmachine::{Config, Connection, FixedMask, Negotiated, Role};
use wsmachine_testkit::alloc::Counting;
use wsmachine_testkit::deflate::{converse, json_corpus};
use wsmachine_testkit::output;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What a real handshake with default deflate options on both sides agrees to.
fn negotiate() -> (Negotiated, Negotiated) {
    let url = Url::parse("ws://example.com/feed").unwrap();
    let offer = ClientOptions::new().deflate(DeflateOptions::new());
    let mut client = ClientHandshake::with_nonce(&url, offer, [5; 16]).unwrap();
    let mut server = ServerHandshake::default();
    let Ok(Status::Complete(request)) = server.receive(client.request_bytes()) else {
        panic!("request")
    };
    let params = request.select_deflate(&DeflateOptions::new());
    assert!(params.is_some(), "deflate agreed");
    let accepted = request.accept(&Accept::new().deflate(params)).unwrap();
    let Ok(Status::Complete(done)) = client.receive(&accepted.to_bytes()) else {
        panic!("response")
    };
    (accepted.negotiated, done.negotiated)
}

fn connection(role: Role, negotiated: Negotiated, config: Config) -> Connection {
    match role {
        Role::Server => Connection::server(negotiated, config),
        Role::Client => Connection::client_with_mask_source(negotiated, config, FixedMask([1; 4])),
    }
}

/// Heap per connection of `role` (default config) once it has received and sent the corpus
/// compressed: every message received from a peer that keeps its compressor's context (as
/// browsers do), one at a time, and answered by a compressed message. The compressor the thread's connections
/// share is made before counting (it is the thread's, not a connection's) and reported apart.
fn heap_per_active_connection(role: Role) -> (isize, isize) {
    const N: usize = 200;
    let (server_side, client_side) = negotiate();
    let (ours, theirs) = match role {
        Role::Server => (server_side, client_side),
        Role::Client => (client_side, server_side),
    };
    let peer_role = match role {
        Role::Server => Role::Client,
        Role::Client => Role::Server,
    };
    // The peer's messages, made once: compressed with context takeover, each its own read
    // (one message in flight, as in a conversation).
    let corpus = json_corpus();
    let mut peer_config = Config::default();
    peer_config.deflate.context_takeover = true;
    let mut peer = connection(peer_role, theirs, peer_config);
    let reads: Vec<Vec<u8>> = corpus
        .iter()
        .map(|text| {
            peer.send_text(text.as_str()).unwrap();
            output(&mut peer)
        })
        .collect();
    drop(peer);

    let shared_before = Counting::live();
    let mut warm = connection(role, ours.clone(), Config::default());
    warm.send_text(corpus[10].as_str()).unwrap();
    drop(warm);
    let shared = Counting::live() - shared_before;

    let before = Counting::live();
    let mut conns: Vec<Box<Connection>> = Vec::with_capacity(N);
    for _ in 0..N {
        let mut conn = Box::new(connection(role, ours.clone(), Config::default()));
        converse(&mut conn, &reads);
        conns.push(conn);
    }
    let after = Counting::live();
    let boxes = (N * std::mem::size_of::<Connection>()) as isize;
    drop(conns);
    ((after - before - boxes) / N as isize, shared)
}

// One test function: the allocator counter is global to this test binary.
#[test]
fn an_active_deflate_connection_holds_at_most_64_kib_with_the_defaults() {
    for role in [Role::Server, Role::Client] {
        let (per_connection, shared) = heap_per_active_connection(role);
        println!(
            "{role:?}: {per_connection} B of heap per active connection, plus {shared} B for \
             the compressor shared by the thread's connections"
        );
        assert!(per_connection <= 64 * 1024, "{role:?}: {per_connection} B");
        // The decompressor is there: the connections were active.
        assert!(per_connection > 32 * 1024, "{role:?}: {per_connection} B");
    }
}
