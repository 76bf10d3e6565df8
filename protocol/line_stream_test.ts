import { deepEqual, ok, rejects } from "node:assert/strict";
import { LineStream, LineTooLongError } from "./line_stream.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function run(chunks: string[], options = {}): Promise<string[]> {
  return Array.fromAsync(
    ReadableStream.from(chunks.map(bytes)).pipeThrough(new LineStream(options)),
    text,
  );
}

Deno.test("LineStream frames chunks into lines, each a fresh copy", async () => {
  const input = ReadableStream.from([bytes("a\r\nb"), bytes("c\n\n")]);
  const lines = await Array.fromAsync(input.pipeThrough(new LineStream()));
  deepEqual(lines.map(text), ["a", "bc", ""]);
  ok(lines[0].buffer !== lines[1].buffer, "lines share no buffer");
});

Deno.test("LineStream errors with LineTooLongError by default", async () => {
  await rejects(
    run(["12345\n"], { maxLineBytes: 4 }),
    (error) => error instanceof LineTooLongError && error.maxLineBytes === 4,
  );
});

Deno.test("LineStream skips over-long lines when asked", async () => {
  deepEqual(
    await run(["ok\n123", "45\nfine\n"], {
      maxLineBytes: 4,
      onTooLong: "skip",
    }),
    ["ok", "fine"],
  );
});

Deno.test("LineStream drops an unterminated tail unless emitPartial", async () => {
  deepEqual(await run(["a\ntail"]), ["a"]);
  deepEqual(await run(["a\ntail"], { emitPartial: true }), ["a", "tail"]);
});
