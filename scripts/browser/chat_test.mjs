// Two browser pages on the chat example: one sends, the other must show the message; then the
// sender leaves and the other must show the leave notice. Saves a screenshot.
//
//   node chat_test.mjs URL SCREENSHOT
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error("usage: node chat_test.mjs URL SCREENSHOT");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const timeout = 10_000;
try {
  const context = await browser.newContext();
  const alice = await context.newPage();
  const bob = await context.newPage();
  for (const page of [alice, bob]) {
    page.on("console", (m) => console.log(`[page] ${m.text()}`));
    await page.goto(url, { timeout });
  }

  async function say(page, nick, text) {
    await page.fill("#nick", nick);
    await page.fill("#message", text);
    await page.click("#send");
  }
  async function waitForLine(page, text) {
    await page.waitForFunction(
      (t) => [...document.querySelectorAll("#log li")].some((li) => li.textContent === t),
      text,
      { timeout },
    );
  }

  // Bob joins first (a page connects on its first message), then Alice speaks.
  await say(bob, "bob", "hi, bob here");
  await waitForLine(bob, "bob: hi, bob here");
  await say(alice, "alice", "hello from alice ✓");
  await waitForLine(bob, "* alice joined");
  await waitForLine(bob, "alice: hello from alice ✓");
  await waitForLine(alice, "alice: hello from alice ✓");
  console.log("ok  message from one page shown on the other");

  // The status line reflects the WebSocket API (readyState, bufferedAmount).
  await bob.waitForFunction(() => document.getElementById("status").textContent.includes("OPEN"), null, { timeout });
  console.log("ok  readyState OPEN shown");

  // The close path: Alice's page goes away; Bob sees her leave.
  await alice.close();
  await waitForLine(bob, "* alice left");
  console.log("ok  close seen by the other page");

  // Bob changes nickname: his socket closes cleanly (code 1000) and a new one opens.
  await say(bob, "robert", "new name");
  await waitForLine(bob, "robert: new name");
  await bob.waitForFunction(
    () => [...document.querySelectorAll("#log li")].some((li) => li.textContent.startsWith("disconnected (code 1000")),
    null,
    { timeout },
  );
  console.log("ok  clean close from the page (code 1000)");

  await bob.screenshot({ path: screenshot });
  console.log(`ok  screenshot ${screenshot}`);
} finally {
  await browser.close();
}
