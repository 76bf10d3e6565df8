// The web chat page in a real browser (Debian's chromium, driven by
// puppeteer-core): two pages and a TCP client chat, markup stays text, and
// the page says when the server goes and reconnects when it is back.
// LINECHAT_SCREENSHOTS=DIR keeps the screenshots (docs/web_chat.png is one).

import { deepEqual, equal, match, ok } from "node:assert/strict";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { connect } from "../client/chat_client.ts";
import { freePortBlock } from "../lib/free_port.ts";
import { ServerProcess } from "../lib/server_process.ts";
import { shellJoin } from "../lib/shell.ts";
import { testWithTools } from "../_testing/tools.ts";

const MAIN = new URL("../server/main.ts", import.meta.url).pathname;

async function launch(): Promise<Browser> {
  return await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    userDataDir: await Deno.makeTempDir({ prefix: "linechat-chromium-" }),
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** The lines a page shows, as [kind, text] pairs. */
function shown(page: Page): Promise<[string, string][]> {
  return page.$$eval(
    "#lines li",
    (items) => items.map((li) => [li.className, li.textContent ?? ""]),
  ) as Promise<[string, string][]>;
}

async function until<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}: ${JSON.stringify(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

const stateOf = (page: Page) =>
  page.$eval("#state", (el) => [el.getAttribute("data-state"), el.textContent]);

async function screenshot(page: Page, name: string): Promise<void> {
  const dir = Deno.env.get("LINECHAT_SCREENSHOTS") ??
    await Deno.makeTempDir({ prefix: "linechat-shots-" });
  await page.screenshot({ path: `${dir}/${name}.png` });
}

testWithTools(
  "the web page: two browsers and a TCP client chat, markup is text, and it reconnects after a restart",
  ["chromium"],
  async () => {
    const port = freePortBlock(2);
    const server = new ServerProcess({
      command: `${shellJoin([Deno.execPath(), "run", "-A", MAIN])} ` +
        "--port {port} --http-port {port+1} --quiet",
      port,
    });
    await server.start();
    const browser = await launch();
    try {
      const url = `http://127.0.0.1:${port + 1}/`;
      const [alice, bob] = await Promise.all([
        browser.newPage(),
        browser.newPage(),
      ]);
      await alice.setViewport({ width: 390, height: 700 }); // a phone
      for (const page of [alice, bob]) {
        await page.goto(url);
        await until(
          "connected",
          () => stateOf(page),
          ([s]) => s === "connected",
        );
      }
      const tcp = await connect({ port });
      await until(
        "the room's count",
        () => alice.$eval("#count", (el) => el.textContent ?? ""),
        (text) => text === "3 in the room",
      );

      // Keyboard only: the input has focus on load; Enter sends.
      await alice.bringToFront();
      equal(
        await alice.$eval(
          "#line",
          (el) => el === el.ownerDocument.activeElement,
        ),
        true,
      );
      await alice.keyboard.type("hello from alice");
      await alice.keyboard.press("Enter");
      equal(
        (await tcp.readLine({ timeoutMs: 5000 }))?.text,
        "hello from alice",
      );
      await tcp.send("hello from tcp");
      await tcp.send("<script>window.pwned = 1</script><b>bold</b>");
      await tcp.write(Uint8Array.of(0x62, 0x61, 0x64, 0xff, 0x0a));
      const bobs = await until(
        "bob's lines",
        () => shown(bob),
        (l) => l.length === 4,
      );
      deepEqual(bobs, [
        ["theirs", "hello from alice"],
        ["theirs", "hello from tcp"],
        ["theirs", "<script>window.pwned = 1</script><b>bold</b>"],
        ["theirs", "bad\\xff"],
      ]);
      equal(
        await bob.evaluate(() => (globalThis as { pwned?: number }).pwned),
        undefined,
      );
      equal(
        await bob.$$eval("#lines b, #lines script", (els) => els.length),
        0,
      );
      const alices = await until(
        "alice's lines",
        () => shown(alice),
        (l) => l.length === 4,
      );
      deepEqual(alices[0], ["mine", "hello from alice"]);
      ok(
        !alices.slice(1).some(([, text]) => text === "hello from alice"),
        "no echo",
      );
      await screenshot(alice, "web_chat");

      // The server goes: the page says so; it comes back: the page rejoins.
      tcp.close();
      await server.stop();
      const [state, text] = await until(
        "disconnected",
        () => stateOf(alice),
        ([s]) => s === "disconnected",
      );
      equal(state, "disconnected");
      match(text ?? "", /^disconnected.*reconnecting in \d+ s$/);
      await screenshot(alice, "web_disconnected");
      await server.start();
      await until(
        "reconnected",
        () => stateOf(alice),
        ([s]) => s === "connected",
        20_000,
      );
      await until(
        "bob reconnected",
        () => stateOf(bob),
        ([s]) => s === "connected",
        20_000,
      );
      await bob.bringToFront();
      await bob.focus("#line");
      await bob.keyboard.type("after the restart");
      await bob.keyboard.press("Enter");
      const after = await until(
        "the line after the restart",
        () => shown(alice),
        (l) =>
          l.some(([kind, t]) => kind === "theirs" && t === "after the restart"),
      );
      ok(after.length >= 5);
    } finally {
      await browser.close();
      await server.stop();
    }
  },
);
