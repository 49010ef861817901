// The chat example in headless Chromium, as people use it: three pages in three browser
// contexts (three users). This script runs the server itself, so it can kill it and start it
// again on the same address.
//
//   node chat_test.mjs CHAT_BINARY 127.0.0.1:PORT SCREENSHOT
//
// Environment: CHROMIUM (the browser binary), CHAT_LOG (the server's output, appended),
// CHAT_PIDFILE (the running server's pid, so the calling script can clean up after a crash).
//
// Phases:
//   0. a probe page's raw WebSocket: invalid JSON closes with 1007, binary with 1003;
//   1. pages connect on open: alice and bob open; both are online and see each other in the
//      presence list without sending anything;
//   2. a page that never sent receives: bob sends (Enter); alice shows it, as text;
//   3. history and presence for a late page: carol opens with a random nickname and sees bob's
//      earlier messages; everyone's presence list shows all three; carol renames herself;
//   4. server restart: the server is killed; every page says "reconnecting in N s" with its
//      input disabled; the server starts again on the same port; every page comes back online
//      by itself, rejoins the presence list, and messages flow again;
//   5. leave: bob clicks Leave (a clean close, code 1000) and stays offline; alice sees
//      "bob left"; carol closes her tab; alice sees her leave; bob joins again and his page
//      shows each message of the history it got again once;
//   6. screenshot of alice's page, which never sent anything (and one while it was
//      reconnecting, SCREENSHOT with -reconnecting before .png).
import { spawn } from "node:child_process";
import { appendFileSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";

const [chatBinary, addr, screenshot] = process.argv.slice(2);
if (!chatBinary || !addr || !screenshot) {
  console.error("usage: node chat_test.mjs CHAT_BINARY 127.0.0.1:PORT SCREENSHOT");
  process.exit(2);
}
const url = `http://${addr}/`;
const chatLog = process.env.CHAT_LOG || "/dev/null";
const pidFile = process.env.CHAT_PIDFILE;
const timeout = 10_000;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

// ---- the server ----
let server = null;

async function startServer() {
  for (let tries = 1; ; tries++) {
    const child = spawn(chatBinary, [addr], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal || code)));
    const listening = new Promise((resolve) => {
      child.stdout.on("data", (chunk) => {
        appendFileSync(chatLog, chunk);
        if (chunk.toString().includes("listening on")) resolve(true);
      });
    });
    child.stderr.on("data", (chunk) => appendFileSync(chatLog, chunk));
    const outcome = await Promise.race([listening, exited, sleep(10_000, "timeout")]);
    if (outcome === true) {
      server = { child, exited };
      if (pidFile) writeFileSync(pidFile, `${child.pid}\n`);
      return;
    }
    child.kill("SIGKILL");
    // The port can take a moment to be free again after a kill.
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
async function open(name, query = "") {
  const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
  const page = await context.newPage();
  page.name = name;
  page.on("console", (m) => console.log(`[${name}] ${m.text()}`));
  page.on("pageerror", (e) => errors.push(`${name}: ${e.message}`));
  await page.goto(url + query, { timeout });
  return page;
}

const wait = (page, fn, arg, t = timeout) => page.waitForFunction(fn, arg, { timeout: t });
const status = (page) => page.$eval("#status", (el) => `${el.dataset.state}: ${el.textContent}`);

function waitState(page, state, t) {
  return wait(page, (s) => document.getElementById("status").dataset.state === s, state, t);
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

function waitNotice(page, pattern) {
  return wait(page, (source) => [...document.querySelectorAll("#log li.system .text")].some(
    (el) => new RegExp(source).test(el.textContent),
  ), pattern.source);
}

async function say(page, text) {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

async function phase(name, body) {
  try {
    await body();
    console.log(`ok  ${name} (${elapsed()})`);
  } catch (e) {
    console.error(`FAIL ${name} (${elapsed()}): ${e.message.split("\n")[0]}`);
    for (const page of pages.filter((p) => !p.isClosed())) {
      const log = await page.$$eval("#log li", (lis) => lis.map((li) => li.textContent));
      const online = await page.$$eval("#online li", (lis) => lis.map((li) => li.textContent));
      console.error(`  ${page.name}: ${await status(page)}; online [${online}]\n    ${log.join("\n    ")}`);
    }
    throw e;
  }
}

const errors = [];
const pages = [];
await startServer();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let alice, bob, carol, carolNick;
const tricky = `<b>not bold</b> & "quotes" \\ ✓ 🦊`;
try {
  await phase("the server closes on what is not the protocol", async () => {
    const probe = await (await browser.newContext()).newPage();
    const closeCode = (payload) => probe.evaluate(async ([wsUrl, payload]) => {
      const ws = new WebSocket(wsUrl);
      await new Promise((resolve) => ws.addEventListener("open", resolve));
      ws.send(payload === null ? new Uint8Array([1, 2]) : payload);
      const e = await new Promise((resolve) => ws.addEventListener("close", resolve));
      return `${e.code} ${e.reason}`;
    }, [`ws://${addr}/ws?nick=probe`, payload]);
    for (const [payload, expected] of [
      ["not json", "1007 invalid JSON message"],
      ['{"type":"message"}', "1007 invalid JSON message"],
      [null, "1003 text messages only"],
    ]) {
      const got = await closeCode(payload);
      if (got !== expected) throw new Error(`${payload}: ${got}, expected ${expected}`);
    }
    await probe.context().close();
  });

  await phase("pages connect on open and see each other", async () => {
    alice = await open("alice", "?nick=alice");
    bob = await open("bob", "?nick=bob");
    pages.push(alice, bob);
    for (const page of [alice, bob]) {
      await waitState(page, "online");
      await waitPresence(page, ["alice", "bob"]);
    }
    if (!(await status(alice)).includes("online as alice")) throw new Error(await status(alice));
  });

  await phase("a page that never sent shows another's message, as text", async () => {
    await say(bob, tricky);
    await waitMessage(alice, "bob", tricky);
    await waitMessage(bob, "bob", tricky);
    if (await alice.$("#log b")) throw new Error("user text became markup");
    if (await alice.$eval("#text", (el) => el.disabled)) throw new Error("input disabled while online");
    await say(bob, "second message");
    await waitMessage(alice, "bob", "second message");
  });

  await phase("a late page gets the history and everyone sees it join", async () => {
    carol = await open("carol");
    pages.push(carol);
    await waitState(carol, "online");
    carolNick = await carol.$eval("#nick", (el) => el.value);
    const kept = await carol.evaluate(() => localStorage.getItem("chat.nick"));
    if (!carolNick || kept !== carolNick) throw new Error(`nickname ${carolNick} kept as ${kept}`);
    await waitMessage(carol, "bob", tricky);
    await waitMessage(carol, "bob", "second message");
    for (const page of pages) await waitPresence(page, ["alice", "bob", carolNick]);
    await waitNotice(alice, new RegExp(`^${carolNick} joined$`));
    // Carol picks a name.
    await carol.fill("#nick", "carol");
    await carol.press("#nick", "Enter");
    for (const page of pages) await waitPresence(page, ["alice", "bob", "carol"]);
    await waitNotice(alice, new RegExp(`^${carolNick} is now carol$`));
  });

  await phase("server restart: pages reconnect by themselves and rejoin", async () => {
    await killServer();
    for (const page of pages) {
      await waitState(page, "reconnecting");
      await wait(page, () => /^reconnecting in \d+ s$/.test(document.getElementById("status").textContent));
      if (!(await page.$eval("#text", (el) => el.disabled))) throw new Error("input enabled while offline");
    }
    await waitNotice(alice, /^connection lost \(code 1006\)$/);
    await alice.screenshot({ path: screenshot.replace(/\.png$/, "-reconnecting.png") });
    console.log(`    ${pages.map((p) => p.name).join(", ")} reconnecting; restarting the server`);
    await sleep(1_500);
    await startServer();
    const down = Date.now();
    for (const page of pages) await waitState(page, "online", 20_000);
    console.log(`    all pages back online ${((Date.now() - down) / 1000).toFixed(1)} s after the restart`);
    for (const page of pages) await waitPresence(page, ["alice", "bob", "carol"]);
    await say(bob, "back again");
    await waitMessage(alice, "bob", "back again");
    await waitMessage(carol, "bob", "back again");
  });

  await phase("leave: a clean close, seen by the others", async () => {
    await bob.click("#leave");
    await waitState(bob, "offline");
    await waitNotice(bob, /^you left \(code 1000(, bye)?, clean\)$/);
    await waitNotice(alice, /^bob left$/);
    await waitPresence(alice, ["alice", "carol"]);
    await sleep(1_000);
    if ((await status(bob)) !== "offline: offline") throw new Error(`bob: ${await status(bob)}`);
    await carol.context().close();
    await waitNotice(alice, /^carol left$/);
    await waitPresence(alice, ["alice"]);
    await bob.click("#leave");   // now "Join"
    await waitState(bob, "online");
    await waitPresence(alice, ["alice", "bob"]);
    await say(bob, "hello again");
    await waitMessage(alice, "bob", "hello again");
    // Bob's page got the history again and shows each message once.
    const copies = await bob.$$eval("#log li.message .text", (els) => els.filter((el) => el.textContent === "back again").length);
    if (copies !== 1) throw new Error(`"back again" shown ${copies} times on bob's page`);
  });

  await phase("no errors on the pages", async () => {
    if (errors.length) throw new Error(errors.join("; "));
  });

  await alice.screenshot({ path: screenshot });
  console.log(`ok  screenshot ${screenshot} (${elapsed()})`);
} finally {
  await browser.close();
  await killServer();
}
