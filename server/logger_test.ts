import { deepEqual, equal, match, ok } from "node:assert/strict";
import { LogOutput } from "./_log_output.ts";
import { Logger, type LogSink } from "./logger.ts";
import { waitFor } from "../_testing/wait.ts";

const decoder = new TextDecoder();

/**
 * A sink the test drives: each write waits until released, takes at most
 * `maxChunk` bytes, and is recorded.
 */
class TestSink implements LogSink {
  readonly written: number[] = [];
  inFlight = 0;
  maxInFlight = 0;
  blocked: boolean;
  maxChunk: number;
  #waiting: (() => void)[] = [];

  constructor({ blocked = false, maxChunk = Infinity } = {}) {
    this.blocked = blocked;
    this.maxChunk = maxChunk;
  }

  async write(bytes: Uint8Array): Promise<number> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.blocked) {
        await new Promise<void>((resolve) => this.#waiting.push(resolve));
      } else {
        await Promise.resolve();
      }
      const n = Math.min(bytes.length, this.maxChunk);
      this.written.push(...bytes.subarray(0, n));
      return n;
    } finally {
      this.inFlight--;
    }
  }

  /** Lets every write through from now on. */
  release(): void {
    this.blocked = false;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }

  get text(): string {
    return decoder.decode(new Uint8Array(this.written));
  }

  get lines(): string[] {
    return this.text.split("\n").slice(0, -1);
  }
}

/** Drops the timestamp of a text line. */
function body(line: string): string {
  match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
  return line.slice(25);
}

function capture(options: ConstructorParameters<typeof Logger>[0] = {}) {
  const lines: string[] = [];
  const logger = new Logger({ ...options, write: (l) => lines.push(l) });
  return { logger, lines };
}

// Formats: unchanged by the buffering.

Deno.test("text: fields as key=value in order, quoted when they hold space, quote or =, undefined left out", () => {
  const { logger, lines } = capture();
  logger.event("disconnect", {
    id: 3,
    addr: "127.0.0.1:5000",
    reason: "eof",
    note: "a b",
    eq: "x=y",
    gone: undefined,
    ok: true,
  });
  equal(
    body(lines[0]),
    'disconnect id=3 addr=127.0.0.1:5000 reason=eof note="a b" eq="x=y" ok=true',
  );
});

Deno.test("json: ts and event first, numbers stay numbers", () => {
  const { logger, lines } = capture({ format: "json" });
  logger.event("connect", { id: 1, addr: "127.0.0.1:5000", clients: 2 });
  const parsed = JSON.parse(lines[0]);
  deepEqual(Object.keys(parsed), ["ts", "event", "id", "addr", "clients"]);
  equal(parsed.event, "connect");
  equal(parsed.id, 1);
  equal(parsed.clients, 2);
});

// The bounded buffer.

Deno.test("buffer: holds at most maxBufferBytes, allocated once; a line that does not fit is refused whole", async () => {
  const sink = new TestSink({ blocked: true });
  const output = new LogOutput({ sink, maxBufferBytes: 100 });
  equal(output.heldBytes, 0);
  const line = "x".repeat(29); // 30 bytes with its newline
  deepEqual([1, 2, 3, 4].map(() => output.push(line)), [
    true,
    true,
    true,
    false,
  ]);
  equal(output.bufferedBytes, 90);
  equal(output.heldBytes, 100);
  ok(output.push("y".repeat(9)), "10 bytes still fit");
  equal(output.push(""), false, "not even a newline fits now");
  equal(output.push("z".repeat(200)), false);
  equal(output.heldBytes, 100);
  sink.release();
  ok(await output.flush(1000));
  deepEqual(sink.lines, [line, line, line, "y".repeat(9)]);
});

Deno.test("buffer: bytes are counted in UTF-8, not in string length", async () => {
  const sink = new TestSink({ blocked: true });
  const output = new LogOutput({ sink, maxBufferBytes: 10 });
  equal(output.push("ééééé"), false, "5 characters, 11 bytes with LF");
  ok(output.push("éééé"));
  equal(output.bufferedBytes, 9);
  sink.release();
  ok(await output.flush(1000));
  deepEqual(sink.lines, ["éééé"]);
});

Deno.test("buffer: one write in flight at a time; partial writes and the ring's wrap keep every line whole and in order", async () => {
  const sink = new TestSink({ maxChunk: 7 });
  const output = new LogOutput({ sink, maxBufferBytes: 64 });
  const expected: string[] = [];
  for (let i = 0; i < 200; i++) {
    const line = `line ${i} ${"-".repeat(i % 13)}`;
    if (output.push(line)) expected.push(line);
    // Let some writes finish between pushes, so the ring wraps around.
    if (i % 3 === 0) await Promise.resolve();
  }
  ok(await output.flush(1000));
  ok(expected.length > 20, `only ${expected.length} lines went in`);
  deepEqual(sink.lines, expected);
  equal(sink.maxInFlight, 1);
  equal(output.heldBytes, 64);
});

Deno.test("flush: false when the timeout passes with the sink blocked, true once it drains", async () => {
  const sink = new TestSink({ blocked: true });
  const output = new LogOutput({ sink, maxBufferBytes: 100 });
  ok(await output.flush(10), "nothing buffered: true at once");
  output.push("one");
  equal(await output.flush(20), false);
  const drained = output.flush(5000);
  sink.release();
  equal(await drained, true);
  equal(output.bufferedBytes, 0);
  deepEqual(sink.lines, ["one"]);
});

Deno.test("a sink that fails: nothing more is held, lines are refused, flush resolves false", async () => {
  let writes = 0;
  const output = new LogOutput({
    sink: {
      write() {
        writes++;
        return Promise.reject(new Deno.errors.BrokenPipe("gone"));
      },
    },
  });
  ok(output.push("first"));
  equal(await output.flush(1000), false);
  equal(output.bufferedBytes, 0);
  equal(output.heldBytes, 0);
  equal(output.push("second"), false);
  equal(writes, 1);
});

// Drops, as the logger reports them.

Deno.test("dropped lines are counted, and the next line through says how many since the last one through (text)", async () => {
  const sink = new TestSink({ blocked: true });
  // "2026-…Z tick i=10\n" is 35 bytes: three fit.
  const logger = new Logger({ sink, maxBufferBytes: 110 });
  for (let i = 10; i < 15; i++) logger.event("tick", { i });
  equal(logger.dropped, 2);
  sink.release();
  ok(await logger.flush(1000));
  logger.event("tick", { i: 15 });
  logger.event("tick", { i: 16 });
  ok(await logger.flush(1000));
  deepEqual(sink.lines.map(body), [
    "tick i=10",
    "tick i=11",
    "tick i=12",
    "tick i=15 log_dropped=2",
    "tick i=16",
  ]);
  equal(logger.dropped, 2);
});

Deno.test("dropped lines in JSON: log_dropped is a number, last; logger.dropped is the total", async () => {
  const sink = new TestSink({ blocked: true });
  const logger = new Logger({ format: "json", sink, maxBufferBytes: 200 });
  const fill = "f".repeat(100);
  logger.event("warning", { fill }); // ~150 bytes: nothing else fits
  logger.event("warning", { n: 1 });
  logger.event("warning", { n: 2 });
  sink.release();
  ok(await logger.flush(1000));
  sink.blocked = true;
  logger.event("warning", { fill, n: 3 }); // gets through, says 2
  logger.event("warning", { n: 4 }); // dropped
  sink.release();
  ok(await logger.flush(1000));
  logger.event("warning", { n: 5 }); // says 1
  ok(await logger.flush(1000));
  const parsed = sink.lines.map((line) => JSON.parse(line));
  deepEqual(parsed.map((p) => [p.n, p.log_dropped]), [
    [undefined, undefined],
    [3, 2],
    [5, 1],
  ]);
  deepEqual(Object.keys(parsed[1]).at(-1), "log_dropped");
  equal(logger.dropped, 3);
});

Deno.test("a custom write gets every line synchronously and never drops", async () => {
  const { logger, lines } = capture();
  for (let i = 0; i < 10_000; i++) logger.event("tick", { i });
  equal(lines.length, 10_000);
  equal(logger.dropped, 0);
  equal(await logger.flush(0), true);
});

// Rate limiting.

Deno.test("repeated: the first of a window is written as an event, the rest become one summary at the window's end", async () => {
  const { logger, lines } = capture({ repeatWindowMs: 50 });
  for (let i = 0; i < 10; i++) {
    logger.repeated("accept-error", { error: `boom ${i}` });
  }
  deepEqual(lines.map(body), ['accept-error error="boom 0"']);
  await waitFor(() => lines.length === 2, "the summary");
  equal(body(lines[1]), "accept-error-summary count=9 window_ms=50");
  // The window is over: the next one is written again.
  logger.repeated("accept-error", { error: "boom 10" });
  equal(body(lines[2]), 'accept-error error="boom 10"');
  await logger.flush(0); // no owed summary: nothing written
  equal(lines.length, 3);
});

Deno.test("repeated in JSON: the summary's count and window_ms are numbers", async () => {
  const { logger, lines } = capture({ format: "json", repeatWindowMs: 30 });
  logger.repeated("reject", { reason: "server-full", clients: 1 });
  logger.repeated("reject", { reason: "server-full", clients: 1 });
  await waitFor(() => lines.length === 2, "the summary");
  const [first, summary] = lines.map((line) => JSON.parse(line));
  equal(first.event, "reject");
  equal(first.clients, 1);
  equal(summary.event, "reject-summary");
  equal(summary.count, 1);
  equal(summary.window_ms, 30);
});

Deno.test("repeated: each event name has its own window", async () => {
  const { logger, lines } = capture({ repeatWindowMs: 60_000 });
  logger.repeated("reject", { reason: "server-full" });
  logger.repeated("accept-error", { error: "x" });
  logger.repeated("reject", { reason: "server-full" });
  logger.repeated("accept-error", { error: "x" });
  deepEqual(lines.map(body), [
    "reject reason=server-full",
    "accept-error error=x",
  ]);
  await logger.flush(0);
  deepEqual(lines.slice(2).map((l) => body(l).split(" window_ms")[0]), [
    "reject-summary count=1",
    "accept-error-summary count=1",
  ]);
});

Deno.test("repeated: a lone occurrence owes no summary, and one after its window is written", async () => {
  const { logger, lines } = capture({ repeatWindowMs: 20 });
  logger.repeated("reject", { reason: "server-full" });
  await new Promise((resolve) => setTimeout(resolve, 40));
  logger.repeated("reject", { reason: "server-full" });
  deepEqual(lines.map(body), [
    "reject reason=server-full",
    "reject reason=server-full",
  ]);
});

Deno.test("flush writes owed summaries at once, with the window so far, and ends their timers", async () => {
  const { logger, lines } = capture({ repeatWindowMs: 60_000 });
  for (let i = 0; i < 3; i++) logger.repeated("reject", { reason: "x" });
  ok(await logger.flush(1000));
  equal(lines.length, 2);
  const [, count, windowMs] = /^reject-summary count=(\d+) window_ms=(\d+)$/
    .exec(body(lines[1]))!;
  equal(count, "2");
  ok(Number(windowMs) < 60_000);
  // The test's timer sanitizer checks that no window timer is left.
});

Deno.test("an owed summary's timer does not keep the process alive", async () => {
  const url = new URL("./logger.ts", import.meta.url).href;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { Logger } from ${JSON.stringify(url)};
       const log = new Logger({ repeatWindowMs: 60000, write: () => {} });
       log.repeated("reject", {}); log.repeated("reject", {});`,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const status = await child.status;
  clearTimeout(timer);
  equal(status.code, 0, "killed: the timer held the process");
});

// Quiet.

Deno.test("quiet silences per-connection events and their summaries, nothing else", async () => {
  const { logger, lines } = capture({ quiet: true, repeatWindowMs: 60_000 });
  for (const event of ["connect", "disconnect", "reject", "accept-error"]) {
    logger.event(event, { id: 1 });
    logger.repeated(event, { id: 1 });
    logger.repeated(event, { id: 1 });
  }
  for (const event of ["listening", "internal-error", "warning", "shutdown"]) {
    logger.event(event, { id: 1 });
  }
  logger.repeated("redis-error", { id: 1 });
  logger.repeated("redis-error", { id: 1 });
  await logger.flush(0);
  deepEqual(lines.map((l) => body(l).split(" ")[0]), [
    "listening",
    "internal-error",
    "warning",
    "shutdown",
    "redis-error",
    "redis-error-summary",
  ]);
});

// The default output: the real stdout of a process.

Deno.test("by default lines go to stdout, whole and in order", async () => {
  const url = new URL("./logger.ts", import.meta.url).href;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { Logger } from ${JSON.stringify(url)};
       const log = new Logger({ format: "json" });
       for (let i = 0; i < 2000; i++) log.event("tick", { i });
       if (!(await log.flush(5000))) Deno.exit(3);`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  equal(out.code, 0);
  const ticks = decoder.decode(out.stdout).trimEnd().split("\n").map((line) =>
    JSON.parse(line).i
  );
  deepEqual(ticks, Array.from({ length: 2000 }, (_, i) => i));
});
