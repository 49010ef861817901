// The chat example over HTTPS in headless Chromium: the page over HTTP/2 and its WebSocket on
// the same HTTP/2 connection (RFC 8441 extended CONNECT), and one browser without HTTP/2 whose
// WebSocket is an HTTP/1.1 upgrade over TLS, in one room.
//
//   node chat_tls_test.mjs CHAT_BINARY 127.0.0.1:PORT SCREENSHOT
//
// Environment: CHROMIUM (the browser binary), CHAT_LOG (the server's output, appended),
// CHAT_PIDFILE (the running server's pid, so the calling script can clean up after a crash).
//
// The server (`chat ADDR --tls`) makes a self-signed certificate at start-up; Chromium runs
// with --ignore-certificate-errors. No other flag is needed: Chromium opens a WebSocket as an
// extended CONNECT when the page's origin already has an HTTP/2 connection whose SETTINGS
// said ENABLE_CONNECT_PROTOCOL=1.
//
// Phases:
//   1. the certificate: the server printed its PEM and SHA-256 fingerprint on stderr;
//   2. alice and bob open https://ADDR/ (HTTP/2 says the page's navigation entry) and come
//      online; each sees the other in the presence list;
//   3. messages both ways between them;
//   4. the server's log says their WebSockets were accepted over h2, none over http/1.1;
//   5. carol, in a second Chromium started with --disable-http2, joins the same room over
//      HTTP/1.1 with TLS; messages flow between her and the HTTP/2 pages; the log says
//      http/1.1 for her WebSocket;
//   6. no errors on the pages; a screenshot of alice's page.
import { spawn } from "node:child_process";
import { appendFileSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";

const [chatBinary, addr, screenshot] = process.argv.slice(2);
if (!chatBinary || !addr || !screenshot) {
  console.error("usage: node chat_tls_test.mjs CHAT_BINARY 127.0.0.1:PORT SCREENSHOT");
  process.exit(2);
}
const url = `https://${addr}/`;
const chatLog = process.env.CHAT_LOG || "/dev/null";
const pidFile = process.env.CHAT_PIDFILE;
const timeout = 10_000;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

// ---- the server ----
let server = null;
let stderr = "";

async function startServer() {
  for (let tries = 1; ; tries++) {
    const child = spawn(chatBinary, [addr, "--tls"], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal || code)));
    const listening = new Promise((resolve) => {
      child.stdout.on("data", (chunk) => {
        appendFileSync(chatLog, chunk);
        if (chunk.toString().includes("listening on")) resolve(true);
      });
    });
    child.stderr.on("data", (chunk) => {
      appendFileSync(chatLog, chunk);
      stderr += chunk.toString();
    });
    const outcome = await Promise.race([listening, exited, sleep(10_000, "timeout")]);
    if (outcome === true) {
      server = { child, exited };
      if (pidFile) writeFileSync(pidFile, `${child.pid}\n`);
      return;
    }
    child.kill("SIGKILL");
    if (tries === 5) throw new Error(`the chat server did not start (${outcome}); see ${chatLog}`);
    await sleep(300);
  }
}

async function killServer() {
  if (!server) return;
  const { child, exited } = server;
  server = null;
  child.kill("SIGKILL");
  await exited;
  if (pidFile) rmSync(pidFile, { force: true });
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server?.child.kill("SIGKILL");
    process.exit(1);
  });
}

// ---- the pages ----
const errors = [];
const pages = [];

async function open(browser, name) {
  const context = await browser.newContext({ viewport: { width: 900, height: 560 }, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.name = name;
  page.on("console", (m) => console.log(`[${name}] ${m.text()}`));
  page.on("pageerror", (e) => errors.push(`${name}: ${e.message}`));
  await page.goto(`${url}?nick=${name}`, { timeout });
  pages.push(page);
  return page;
}

const wait = (page, fn, arg, t = timeout) => page.waitForFunction(fn, arg, { timeout: t });
const status = (page) => page.$eval("#status", (el) => `${el.dataset.state}: ${el.textContent}`);
const protocolOf = (page) => page.evaluate(() => performance.getEntriesByType("navigation")[0].nextHopProtocol);

function waitState(page, state) {
  return wait(page, (s) => document.getElementById("status").dataset.state === s, state);
}

function waitPresence(page, names) {
  return wait(page, (names) => {
    const shown = [...document.querySelectorAll("#online li")]
      .map((li) => li.textContent.replace(/ \(you\)$/, ""));
    return JSON.stringify(shown.sort()) === JSON.stringify([...names].sort());
  }, names);
}

function waitMessage(page, from, text) {
  return wait(page, ([from, text]) => [...document.querySelectorAll("#log li.message")].some(
    (li) => li.querySelector(".from").textContent === from && li.querySelector(".text").textContent === text,
  ), [from, text]);
}

async function say(page, text) {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

/// The transports the server logged for `nick`'s WebSockets ("h2", "http/1.1").
function transportsOf(nick) {
  const re = new RegExp(`WebSocket accepted over (\\S+) for "${nick}"`, "g");
  return [...stderr.matchAll(re)].map((m) => m[1]);
}

async function phase(name, body) {
  try {
    await body();
    console.log(`ok  ${name} (${elapsed()})`);
  } catch (e) {
    console.error(`FAIL ${name} (${elapsed()}): ${e.message.split("\n")[0]}`);
    for (const page of pages.filter((p) => !p.isClosed())) {
      const log = await page.$$eval("#log li", (lis) => lis.map((li) => li.textContent));
      console.error(`  ${page.name}: ${await status(page)}\n    ${log.join("\n    ")}`);
    }
    throw e;
  }
}

const args = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  // The server's certificate is self-signed, made at start-up.
  "--ignore-certificate-errors",
];
await startServer();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args });
let http1Browser = null;
try {
  let alice, bob, carol;
  await phase("the server printed its certificate and fingerprint", async () => {
    if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(stderr)) throw new Error("no PEM on stderr");
    if (!/SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}/.test(stderr)) throw new Error("no SHA-256 fingerprint on stderr");
  });

  await phase("pages over HTTP/2 come online and see each other", async () => {
    alice = await open(browser, "alice");
    bob = await open(browser, "bob");
    for (const page of [alice, bob]) {
      const protocol = await protocolOf(page);
      if (protocol !== "h2") throw new Error(`${page.name}'s page came over ${protocol}, not h2`);
      await waitState(page, "online");
      await waitPresence(page, ["alice", "bob"]);
    }
  });

  await phase("messages both ways", async () => {
    await say(bob, "hello from bob over h2");
    await waitMessage(alice, "bob", "hello from bob over h2");
    await say(alice, "and from alice ✓");
    await waitMessage(bob, "alice", "and from alice ✓");
  });

  await phase("the server accepted their WebSockets over h2", async () => {
    for (const nick of ["alice", "bob"]) {
      const seen = transportsOf(nick);
      if (seen.length === 0 || seen.some((t) => t !== "h2")) {
        throw new Error(`${nick}'s WebSockets were accepted over [${seen}], expected h2 only`);
      }
      console.log(`    ${nick}: WebSocket over ${seen.join(", ")}`);
    }
  });

  await phase("a browser without HTTP/2 joins the same room over HTTP/1.1 with TLS", async () => {
    http1Browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: [...args, "--disable-http2"],
    });
    carol = await open(http1Browser, "carol");
    const protocol = await protocolOf(carol);
    if (protocol !== "http/1.1") throw new Error(`carol's page came over ${protocol}, not http/1.1`);
    await waitState(carol, "online");
    for (const page of [alice, bob, carol]) await waitPresence(page, ["alice", "bob", "carol"]);
    await say(carol, "carol on http/1.1");
    await waitMessage(alice, "carol", "carol on http/1.1");
    await say(bob, "bob answers over h2");
    await waitMessage(carol, "bob", "bob answers over h2");
    const seen = transportsOf("carol");
    if (seen.length === 0 || seen.some((t) => t !== "http/1.1")) {
      throw new Error(`carol's WebSockets were accepted over [${seen}], expected http/1.1 only`);
    }
    console.log(`    carol: WebSocket over ${seen.join(", ")}`);
  });

  await phase("no errors on the pages", async () => {
    if (errors.length) throw new Error(errors.join("; "));
  });

  await alice.screenshot({ path: screenshot });
  console.log(`ok  screenshot ${screenshot} (${elapsed()})`);
} finally {
  await browser.close();
  await http1Browser?.close();
  await killServer();
}
