// Node `ws` as an echo server (interop peer; also a stand-in echo server).
//
//     node node_echo_server.mjs [127.0.0.1:PORT]     (default 127.0.0.1:0, any free port)
//
// Prints `listening on 127.0.0.1:PORT` once bound, then echoes every text message as text and
// every binary message as binary, until killed. For each connection that ends it prints
//     closed: code=CODE reason='REASON' messages=N extensions='EXTENSIONS'
// where CODE is the close code the client sent (1005 for a Close without a code, 1006 if the
// connection ended without a Close frame) and EXTENSIONS what the handshake agreed (`none`).
// permessage-deflate is on (ws leaves it off for servers by default), compressing every
// message (threshold 0). Binds only to loopback.
//
// `ws` is installed by scripts/interop.sh into .tools/node-interop/ (override: NODE_INTEROP_DIR).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const modulesDir = process.env.NODE_INTEROP_DIR
  ? pathToFileURL(process.env.NODE_INTEROP_DIR + '/')
  : new URL('../../.tools/node-interop/', import.meta.url);
const { WebSocketServer } = createRequire(new URL('package.json', modulesDir))('ws');

const MAX_PAYLOAD = 64 << 20; // Autobahn section 9 sends up to 16 MiB
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

const addr = process.argv[2] ?? '127.0.0.1:0';
const sep = addr.lastIndexOf(':');
const host = addr.slice(0, sep);
const port = Number(addr.slice(sep + 1));
if (!LOOPBACK.has(host) || !Number.isInteger(port)) {
  console.error(`node_echo_server: refusing to bind '${addr}': loopback only (127.0.0.1:PORT)`);
  process.exit(2);
}

const wss = new WebSocketServer({
  host,
  port,
  maxPayload: MAX_PAYLOAD,
  perMessageDeflate: { threshold: 0 },
});
wss.on('listening', () => {
  const a = wss.address();
  console.log(`listening on ${a.address}:${a.port}`);
});
wss.on('error', (e) => {
  console.error(`node_echo_server: ${e.message}`);
  process.exit(1);
});
wss.on('connection', (ws) => {
  let messages = 0;
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
    messages += 1;
  });
  ws.on('error', () => {}); // protocol errors end in 'close' with the code ws sent
  ws.on('close', (code, reason) => {
    console.log(`closed: code=${code} reason='${reason}' messages=${messages} ` +
      `extensions='${ws.extensions || 'none'}'`);
  });
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
