//! Heap held by idle connections, measured with a counting allocator (not by timing).

use wsmachine::{Config, Connection, Negotiated, Role};
use wsmachine_testkit::alloc::Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A real handshake (with a subprotocol) for `role`, giving what the connection starts from.
fn handshake(role: Role) -> Negotiated {
    use wsmachine::handshake::{
        Accept, ClientHandshake, ClientOptions, ServerHandshake, Status, Url,
    };
    let url = Url::parse("ws://example.com/chat").unwrap();
    let mut client =
        ClientHandshake::with_nonce(&url, ClientOptions::new().protocol("chat"), [7; 16]).unwrap();
    let mut server = ServerHandshake::default();
    let Ok(Status::Complete(request)) = server.receive(client.request_bytes()) else {
        panic!()
    };
    let accepted = request.accept(&Accept::new().protocol("chat")).unwrap();
    match role {
        Role::Server => accepted.negotiated,
        Role::Client => {
            let Ok(Status::Complete(done)) = client.receive(&accepted.to_bytes()) else {
                panic!()
            };
            done.negotiated
        }
    }
}

/// Heap bytes per connection for 10,000 idle connections of `role` after a handshake (boxed,
/// as a server that keeps them in a map would), not counting the box itself. Whatever the
/// handshake allocated and did not hand to the connection is freed before the next one, so
/// the difference is what the connections keep.
fn heap_per_idle_connection(role: Role) -> isize {
    const N: usize = 10_000;
    let mut conns = Vec::with_capacity(N);
    let before = Counting::live();
    for _ in 0..N {
        conns.push(Box::new(match role {
            Role::Server => Connection::server(handshake(role), Config::default()),
            Role::Client => Connection::client(handshake(role), Config::default()),
        }));
    }
    let after = Counting::live();
    let boxes = (N * std::mem::size_of::<Connection>()) as isize;
    drop(conns);
    (after - before - boxes) / N as isize
}

// One test function: the allocator counter is global to this test binary.
#[test]
fn idle_connections_hold_at_most_a_few_hundred_bytes_of_heap() {
    let server = heap_per_idle_connection(Role::Server);
    let client = heap_per_idle_connection(Role::Client);
    let inline = std::mem::size_of::<Connection>();
    println!(
        "10,000 idle connections after a handshake: heap per connection: server {server} B, \
         client {client} B; inline size {inline} B"
    );
    assert!(server <= 256, "server: {server} bytes");
    // A client also holds its batched OS mask source.
    assert!(client <= 384, "client: {client} bytes");
    // Even counting the connection itself, boxed, under 1 KiB.
    assert!(inline + server as usize <= 1024);
    assert!(inline + client as usize <= 1024);
}
