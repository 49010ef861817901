//! The Autobahn|Testsuite testee in the client role on the tokio driver: asks the
//! fuzzing server for its case count, runs every case (echoing each message until the server
//! closes), then asks it to write the report. With `--deflate` (build with
//! `--features deflate`) it offers permessage-deflate on every case.
//!
//! ```sh
//! cargo run --release -p wsmachine-tokio --example tokio_autobahn_client -- [BASE_URL] [AGENT] [--deflate]
//! scripts/autobahn.sh --driver tokio
//! ```

use wsmachine_tokio::{Config, ConnectOptions, Error, Message, connect_with};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut positional = Vec::new();
    let mut deflate = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--deflate" => deflate = true,
            _ if !arg.starts_with('-') && positional.len() < 2 => positional.push(arg),
            _ => {
                eprintln!("usage: tokio_autobahn_client [BASE_URL] [AGENT] [--deflate]");
                std::process::exit(2);
            }
        }
    }
    let mut positional = positional.into_iter();
    let base = positional
        .next()
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = positional
        .next()
        .unwrap_or_else(|| "wsmachine-tokio".into());
    let base = base.trim_end_matches('/');

    let mut ws = connect_with(&format!("{base}/getCaseCount"), &ConnectOptions::new()).await?;
    let mut count = 0;
    while let Some(message) = ws.recv().await {
        if let Message::Text(text) = message? {
            count = text.trim().parse().unwrap_or(0);
        }
    }
    println!("{count} cases");
    let options = options(deflate);
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        if let Err(e) = echo(&url, &options).await {
            eprintln!("case {case}: {e}");
        }
    }
    let url = format!("{base}/updateReports?agent={agent}");
    let mut ws = connect_with(&url, &ConnectOptions::new()).await?;
    while ws.recv().await.transpose()?.is_some() {}
    println!("reports updated");
    Ok(())
}

/// 64 MiB limits, and the permessage-deflate offer when asked for.
fn options(deflate: bool) -> ConnectOptions {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    let options = ConnectOptions::new().config(config);
    if deflate {
        #[cfg(feature = "deflate")]
        return options.deflate(wsmachine_tokio::wsmachine::extensions::DeflateOptions::new());
        #[cfg(not(feature = "deflate"))]
        {
            eprintln!("tokio_autobahn_client: --deflate needs a build with `--features deflate`");
            std::process::exit(2);
        }
    }
    options
}

/// Echoes every message of one case until the server ends the connection; a failure the
/// case provoked ends it with `Error::Closed`, which is the expected end.
async fn echo(url: &str, options: &ConnectOptions) -> Result<(), Error> {
    let mut ws = connect_with(url, options).await?;
    while let Some(message) = ws.recv().await {
        match message {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => ws.send(m).await?,
            Ok(_) | Err(Error::Closed(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
