//! WebSockets over HTTP/2 over TLS, as browsers reach them: a rustls server that offers ALPN
//! `h2` and serves each extended CONNECT with `accept_h2`, and our client, which negotiates
//! `h2` with ALPN, checks the server's SETTINGS and opens `wss://` WebSockets on the one
//! connection (`:scheme https`).

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use wsmachine_testkit::driver::bounded;
use wsmachine_testkit::pattern;
use wsmachine_tokio::{
    AcceptOptions, CloseCode, ConnectOptions, Message, accept_h2, connect_h2, h2_client,
};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server and a client configuration for `localhost`, both with ALPN `h2` only.
fn configs() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let mut server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    server.alpn_protocols = vec![b"h2".to_vec()];
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let mut client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![b"h2".to_vec()];
    (Arc::new(server), Arc::new(client))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_websockets_over_h2_with_alpn() {
    bounded(async {
        let (server_config, client_config) = configs();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let tls = TlsAcceptor::from(server_config).accept(tcp).await.unwrap();
            assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
            let mut connection = h2::server::Builder::new()
                .enable_connect_protocol()
                .handshake(tls)
                .await
                .unwrap();
            while let Some(Ok((request, respond))) = connection.accept().await {
                // A browser's WebSocket over HTTPS says `:scheme https`.
                assert_eq!(request.uri().scheme_str(), Some("https"));
                tokio::spawn(async move {
                    let mut ws = accept_h2(request, respond, &AcceptOptions::new())
                        .await
                        .unwrap();
                    while let Some(Ok(message)) = ws.recv().await {
                        if let m @ (Message::Text(_) | Message::Binary(_)) = message {
                            let _ = ws.send(m).await;
                        }
                    }
                });
            }
        });

        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let tls = TlsConnector::from(client_config)
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let send_request = h2_client(tls).await.unwrap();
        let url = format!("wss://localhost:{port}/chat");
        let mut runs = Vec::new();
        for i in 0..3u64 {
            let mut ws = connect_h2(send_request.clone(), &url, &ConnectOptions::new())
                .await
                .unwrap();
            runs.push(tokio::spawn(async move {
                let big = pattern(20 + i, 200_000);
                ws.send(big.clone()).await.unwrap();
                assert!(ws.recv().await.unwrap().unwrap() == Message::binary(big));
                ws.close(CloseCode::NORMAL, "").await.unwrap();
                while ws.recv().await.transpose().unwrap().is_some() {}
                ws.close_outcome().unwrap().clone()
            }));
        }
        for run in runs {
            let outcome = run.await.unwrap();
            assert!(
                outcome.clean && outcome.code == CloseCode::NORMAL,
                "{outcome:?}"
            );
        }
    })
    .await;
}
