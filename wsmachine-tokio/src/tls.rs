//! `wss://` over rustls (feature `rustls`).

use std::io;
use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use wsmachine::handshake::Url;

use crate::{ConnectOptions, Error, MaybeTlsStream};

/// Runs TLS over `tcp` with SNI and certificate checks for the URL's host.
pub(crate) async fn connect(
    tcp: TcpStream,
    url: &Url,
    options: &ConnectOptions,
) -> Result<MaybeTlsStream<TcpStream>, Error> {
    let config = match &options.tls {
        Some(config) => Arc::clone(config),
        None => default_config()?,
    };
    let name = ServerName::try_from(url.host().to_owned())
        .map_err(|e| Error::Tls(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
    let stream = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(Error::Tls)?;
    Ok(MaybeTlsStream::Rustls(Box::new(stream)))
}

/// The configuration with the roots of the `rustls-tls-*` features, built once.
fn default_config() -> Result<Arc<ClientConfig>, Error> {
    static CONFIG: OnceLock<Option<Arc<ClientConfig>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = roots()?;
            let config = ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .ok()?
            .with_root_certificates(roots)
            .with_no_client_auth();
            Some(Arc::new(config))
        })
        .clone()
        .ok_or(Error::TlsUnavailable)
}

/// The trusted roots: the features' sets together; `None` if no feature brings any.
fn roots() -> Option<rustls::RootCertStore> {
    #[allow(unused_mut)]
    let mut roots = rustls::RootCertStore::empty();
    #[cfg(feature = "rustls-tls-webpki-roots")]
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    #[cfg(feature = "rustls-tls-native-roots")]
    for cert in rustls_native_certs::load_native_certs().certs {
        // A certificate the store cannot parse is skipped: the others still serve.
        let _ = roots.add(cert);
    }
    (!roots.is_empty()).then_some(roots)
}
