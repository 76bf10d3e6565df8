/**
 * Starts each Nim reference server and checks, byte for byte, how it relays
 * one line between three clients. The expected bytes are what each design
 * does (see reference/nim/README.md), not what linechat's protocol asks for.
 */

import { testWithTools } from "../_testing/tools.ts";
import { startServer } from "../lib/server_process.ts";
import { shellJoin } from "../lib/shell.ts";
import { buildReferences, type ReferenceBinary } from "./build.ts";

/** Longest wait for any single step (build excluded). */
const STEP_TIMEOUT_MS = 5_000;

interface Expectation {
  /** What the sender gets back for its own line (the doc example echoes it). */
  echoesSender: boolean;
}

const EXPECTATIONS: Record<string, Expectation> = {
  // book_server.nim: `if c.id != client.id and c.connected`
  book_server: { echoesSender: false },
  // asyncnet_server.nim: `for c in clients: await c.send(...)`
  asyncnet_server: { echoesSender: true },
  // selectors_server.nim: `if client.getFd() == sourceClient.getFd(): continue`
  selectors_server: { echoesSender: false },
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

let built: Promise<ReferenceBinary[]> | undefined;
function references(): Promise<ReferenceBinary[]> {
  built ??= buildReferences();
  return built;
}

/** Resolves like `promise`, or rejects once `ms` have passed. */
async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads until `length` bytes have arrived (or the peer closes) and
 * returns everything read, which may be more than asked for.
 */
async function readAtLeast(
  conn: Deno.Conn,
  length: number,
  what: string,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(64 * 1024);
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (total < length) {
    const read = conn.read(buffer);
    // If the wait times out, the read is still pending; closing the
    // connection later rejects it, and that rejection is expected.
    read.catch(() => {});
    const n = await within(read, Math.max(1, deadline - Date.now()), what);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
    total += n;
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return decoder.decode(bytes);
}

async function expectBytes(conn: Deno.Conn, expected: string, who: string) {
  const got = await readAtLeast(conn, encoder.encode(expected).length, who);
  if (got !== expected) {
    throw new Error(
      `${who}: expected ${JSON.stringify(expected)}, got ${
        JSON.stringify(got)
      }`,
    );
  }
}

async function send(conn: Deno.Conn, text: string, who: string) {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += await within(
      conn.write(bytes.subarray(written)),
      STEP_TIMEOUT_MS,
      `${who} to send`,
    );
  }
}

async function relaysOneLine(name: string, expectation: Expectation) {
  const reference = (await references()).find((r) => r.name === name);
  if (reference === undefined) throw new Error(`no reference named ${name}`);
  const server = await startServer({
    // {port} stands in for the port: a sentinel no reference takes.
    command: shellJoin(reference.command(65432)).replace("65432", "{port}"),
  });
  const conns: Deno.Conn[] = [];
  let failure: unknown;
  let output = "";
  try {
    for (let i = 0; i < 3; i++) {
      conns.push(
        await within(
          Deno.connect({ hostname: "127.0.0.1", port: server.port }),
          STEP_TIMEOUT_MS,
          `client ${i} to connect`,
        ),
      );
    }
    const [a, b, c] = conns;

    // Join barrier: the servers accept in connection order, so once A and B
    // receive a line from C, all three are in the server's client list.
    await send(c, "ready\n", "C");
    await expectBytes(a, "ready\r\n", "A (barrier)");
    await expectBytes(b, "ready\r\n", "B (barrier)");
    if (expectation.echoesSender) {
      await expectBytes(c, "ready\r\n", "C (barrier)");
    }

    await send(a, "hello\n", "A");
    await expectBytes(b, "hello\r\n", "B");
    await expectBytes(c, "hello\r\n", "C");

    // Whether A got its own line: B's next line is the first thing A reads
    // unless the server echoed "hello" back to A.
    await send(b, "bye\n", "B");
    await expectBytes(
      a,
      expectation.echoesSender ? "hello\r\nbye\r\n" : "bye\r\n",
      "A",
    );
  } catch (error) {
    failure = error;
  } finally {
    for (const conn of conns) conn.close();
    await server.stop();
    output = server.outputTail().trim();
  }
  if (failure !== undefined) {
    if (output === "") throw failure;
    const message = failure instanceof Error
      ? failure.message
      : String(failure);
    throw new Error(`${message}\n${name} output:\n${output}`, {
      cause: failure,
    });
  }
}

for (const [name, expectation] of Object.entries(EXPECTATIONS)) {
  const clause = expectation.echoesSender
    ? 'relays "hello\\n" as "hello\\r\\n" to every client, the sender included'
    : 'relays "hello\\n" as "hello\\r\\n" to every other client, not the sender';
  testWithTools(
    `${name} ${clause}`,
    ["nim"],
    () => relaysOneLine(name, expectation),
  );
}
