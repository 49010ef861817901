// Node `ws` as a client against an echo server (interop check).
//
//     node node_client.mjs ws://127.0.0.1:PORT [--require-extension NAME]
//
// It offers permessage-deflate and compresses every message (threshold 0); with
// --require-extension it fails unless the server agreed to NAME.
//
// Sends the message set of messages.py (built here byte for byte the same) one at a time and
// checks that each comes back with the same type and bytes; sends a ping and waits for the
// pong event with the same payload; closes with 1000 and checks that the server answers with
// 1000 and then closes the TCP connection. One line per check; exit 1 at the first mismatch.
//
// `ws` is installed by scripts/interop.sh into .tools/node-interop/ (override: NODE_INTEROP_DIR).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const modulesDir = process.env.NODE_INTEROP_DIR
  ? pathToFileURL(process.env.NODE_INTEROP_DIR + '/')
  : new URL('../../.tools/node-interop/', import.meta.url);
const WebSocket = createRequire(new URL('package.json', modulesDir))('ws');

const STEP_TIMEOUT_MS = 20_000;
const MAX_PAYLOAD = 64 << 20;

// ---- the message set (keep in step with messages.py) ----
const UNIT = 'κόσμε 𝄞 ✓ 0123456789ab'; // 32 bytes of UTF-8
function pseudoRandomBytes(n, seed = 0x9e3779b9) {
  // xorshift32, 4 little-endian bytes per step: the same bytes as messages.py
  const out = Buffer.alloc(n + 3);
  let x = seed >>> 0;
  for (let i = 0; i < n; i += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out.writeUInt32LE(x, i);
  }
  return out.subarray(0, n);
}
const MESSAGES = [
  ['text hello', 'hello'],
  ['text empty', ''],
  ['text multi-byte UTF-8', 'κόσμε 𝄞 ✓'],
  ['text 64 KiB', UNIT.repeat(2048)],
  ['binary empty', Buffer.alloc(0)],
  ['binary 256 byte values', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
  ['binary 1 MiB pseudo-random', pseudoRandomBytes(1 << 20)],
];

class Mismatch extends Error {}

function describe(isBinary, bytes) {
  const sha = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  return `${isBinary ? 'binary' : 'text'}, ${bytes.length} bytes, sha256 ${sha}`;
}

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

// Resolves with the first of `events` (name -> handler result) or rejects after a timeout.
function waitFor(what, setup) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Mismatch(`${what}: nothing within ${STEP_TIMEOUT_MS / 1000}s`)),
      STEP_TIMEOUT_MS,
    );
    setup(
      (v) => { clearTimeout(timer); resolve(v); },
      (e) => { clearTimeout(timer); reject(e); },
    );
  });
}

async function run(url, required) {
  const ws = new WebSocket(url, { maxPayload: MAX_PAYLOAD, perMessageDeflate: { threshold: 0 } });
  // Messages are queued as they arrive and taken one at a time.
  const inbox = [];
  let wake = null;
  let failure = null;
  ws.on('message', (data, isBinary) => { inbox.push({ data, isBinary }); wake?.(); });
  ws.on('error', (e) => { failure = e; wake?.(); });
  ws.on('close', (code) => { failure ??= new Mismatch(`connection closed early (code ${code})`); wake?.(); });

  await waitFor('connect', (resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  console.log(`node_client: connected to ${url} (extensions: ${ws.extensions || 'none'})`);
  if (required && !(ws.extensions || '').split(',').some((e) => e.trim().split(';')[0].trim() === required)) {
    throw new Mismatch(`handshake: ${required} not negotiated (extensions: ${ws.extensions || 'none'})`);
  }

  const next = (what) => waitFor(what, (resolve, reject) => {
    const check = () => {
      if (inbox.length) { wake = null; resolve(inbox.shift()); }
      else if (failure) { wake = null; reject(failure); }
    };
    wake = check;
    check();
  });

  for (const [name, payload] of MESSAGES) {
    const isBinary = Buffer.isBuffer(payload);
    const sent = isBinary ? payload : Buffer.from(payload, 'utf8');
    ws.send(payload, { binary: isBinary });
    const echo = await next(name);
    const got = Buffer.from(echo.data);
    if (echo.isBinary !== isBinary) {
      throw new Mismatch(`${name}: sent ${describe(isBinary, sent)}, got back ${describe(echo.isBinary, got)}`);
    }
    if (!got.equals(sent)) {
      throw new Mismatch(`${name}: sent ${describe(isBinary, sent)}, got back ${describe(echo.isBinary, got)}; ` +
        `first difference at byte ${firstDifference(sent, got)}`);
    }
    console.log(`node_client: ok  ${name} (${describe(isBinary, sent)})`);
  }

  const pingData = Buffer.from('interop-ping');
  const started = process.hrtime.bigint();
  const pong = waitFor('ping', (resolve) => ws.once('pong', resolve));
  ws.ping(pingData);
  const pongData = await pong;
  if (!pongData.equals(pingData)) {
    throw new Mismatch(`ping: sent payload ${pingData.toString('hex')}, pong carried ${pongData.toString('hex')}`);
  }
  console.log(`node_client: ok  ping -> pong (${Number(process.hrtime.bigint() - started) / 1e6} ms)`);

  // ws emits 'close' once the TCP connection is closed; if the server never closes it,
  // ws gives up after 30 s. A healthy close takes milliseconds.
  ws.removeAllListeners('close');
  const closeStarted = Date.now();
  const closed = waitFor('close', (resolve) => ws.once('close', (code, reason) => resolve({ code, reason })));
  ws.close(1000, 'bye');
  const { code, reason } = await closed;
  const took = (Date.now() - closeStarted) / 1000;
  if (code !== 1000) {
    throw new Mismatch(`close: sent 1000, server answered ${code} '${reason}' (1006: no Close frame came back)`);
  }
  if (took >= 5) {
    throw new Mismatch(`close: closing handshake took ${took}s: the server did not close the TCP ` +
      'connection after the closing handshake (RFC 6455 §7.1.1: server closes first)');
  }
  console.log(`node_client: ok  close 1000 answered with 1000, reason '${reason}' (${took * 1000} ms)`);
}

const args = process.argv.slice(2);
let required = null;
if (args.length === 3 && args[1] === '--require-extension') {
  required = args[2];
  args.length = 1;
}
const url = args[0];
if (!url || args.length !== 1) {
  console.error('usage: node node_client.mjs ws://127.0.0.1:PORT [--require-extension NAME]');
  process.exit(2);
}
try {
  await run(url, required);
  console.log('node_client: all checks passed');
  process.exit(0);
} catch (e) {
  console.error(e instanceof Mismatch ? `node_client: MISMATCH ${e.message}` : `node_client: FAILED ${e.stack || e}`);
  process.exit(1);
}
