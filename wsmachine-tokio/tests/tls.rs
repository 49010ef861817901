//! `wss://` on loopback: a rustls server with a certificate from rcgen, our client with a
//! `ClientConfig` that trusts it; SNI and the certificate check use the URL's host.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use wsmachine_testkit::driver::bounded;
use wsmachine_testkit::pattern;
use wsmachine_tokio::{CloseCode, ConnectOptions, Error, Message, accept, connect_with};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration and a client configuration that trusts its certificate for
/// `localhost`.
fn configs() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

#[tokio::test]
async fn wss_echo_over_loopback() {
    bounded(async {
        let (server_config, client_config) = configs();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let tls = TlsAcceptor::from(server_config).accept(tcp).await.unwrap();
            let mut ws = accept(tls).await.unwrap();
            while let Some(message) = ws.recv().await {
                if let m @ (Message::Text(_) | Message::Binary(_)) = message.unwrap() {
                    ws.send(m).await.unwrap();
                }
            }
            ws.close_outcome().cloned()
        });
        let options = ConnectOptions::new().tls_config(client_config);
        let mut ws = connect_with(&format!("wss://localhost:{port}/"), &options)
            .await
            .unwrap();
        let big = pattern(5, 1 << 20);
        ws.send("over TLS").await.unwrap();
        ws.send(big.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("over TLS"));
        assert!(ws.recv().await.unwrap().unwrap() == Message::binary(big));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert!(matches!(ws.recv().await, Some(Ok(Message::Close(_)))));
        assert!(ws.recv().await.is_none());
        assert!(server.await.unwrap().unwrap().clean);
    })
    .await;
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    bounded(async {
        let (server_config, client_config) = configs();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = TlsAcceptor::from(server_config).accept(tcp).await;
        });
        let options = ConnectOptions::new().tls_config(client_config);
        // The certificate names `localhost`; the URL's host is the address.
        match connect_with(&format!("wss://127.0.0.1:{port}/"), &options).await {
            Err(Error::Tls(_)) => {}
            other => panic!("{other:?}"),
        }
    })
    .await;
}
