/**
 * `deno run -A client/main.ts [host:port]`: the terminal chat client.
 *
 * On a terminal it shows incoming lines above the line you are typing. With
 * piped input it sends each input line, prints what it receives, and exits
 * once its input is sent and the server has closed (or `--linger-ms` passed).
 *
 * @module
 */

import {
  parseFlags,
  parseInteger,
  parseTarget,
  runMain,
  UsageError,
} from "../lib/args.ts";
import { LineSplitter } from "../protocol/line_splitter.ts";
import { type ChatClient, connect } from "./chat_client.ts";
import { LineEditor } from "./line_editor.ts";
import { toTerminalText } from "./terminal_text.ts";

const USAGE =
  `linechat client: chat with everyone connected to a line-chat server.

Usage: deno run -A client/main.ts [host:port] [options]

  host:port            server to join (default 127.0.0.1:7687)
  --linger-ms N        with piped input: after sending everything, how long to
                       keep printing incoming lines if the server keeps the
                       connection open (default 1000)
  --keep-open          with piped input: stay connected after the input ends
                       (no half-close), printing incoming lines until the
                       server closes or you interrupt; for listen-only use
  --max-line-bytes N   longest incoming line shown; longer ones are skipped
                       (default 1m)
  -h, --help           this text

On a terminal: type a line and press Enter to send it. Ctrl-C, or Ctrl-D on an
empty line, quits. With piped input (printf 'a\\nb\\n' | deno task client) every
input line is sent byte for byte and received lines go to stdout.`;

const encoder = new TextEncoder();

await runMain("linechat-client", async () => {
  const { values, positionals } = parseFlags({
    args: Deno.args,
    allowPositionals: true,
    options: {
      "linger-ms": { type: "string", default: "1000" },
      "keep-open": { type: "boolean", default: false },
      "max-line-bytes": { type: "string", default: "1m" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `expected one host:port, got "${positionals.join(" ")}"`,
    );
  }
  const target = parseTarget(positionals[0] ?? "127.0.0.1:7687");
  const lingerMs = parseInteger("--linger-ms", values["linger-ms"]);
  const maxLineBytes = parseInteger(
    "--max-line-bytes",
    values["max-line-bytes"],
    { min: 1 },
  );
  const where = `${target.hostname}:${target.port}`;
  let client: ChatClient;
  try {
    client = await connect(target, { maxLineBytes });
  } catch (error) {
    throw new Error(`cannot connect to ${where}: ${describe(error)}`);
  }
  const ok = Deno.stdin.isTerminal()
    ? await chatOnTerminal(client, where)
    : await chatPiped(client, values["keep-open"] ? Infinity : lingerMs);
  client.close();
  if (!ok) throw new Error(`connection to ${where} lost`);
});

/** Interactive mode; resolves false if the server ended the session. */
async function chatOnTerminal(
  client: ChatClient,
  where: string,
): Promise<boolean> {
  const editor = new LineEditor();
  const prompt = "> ";
  const out = (text: string) => writeAllSync(encoder.encode(text));
  const draw = () => {
    const width = Deno.stdout.isTerminal() ? Deno.consoleSize().columns : 80;
    // Show the end of a long input rather than letting it wrap, which a
    // one-row redraw could not clean up.
    const visible = [...editor.text].slice(
      -Math.max(1, width - prompt.length - 1),
    ).join("");
    out(`\r\x1b[2K${prompt}${visible}`);
  };
  console.error(
    `connected to ${where}; type and press Enter to send, Ctrl-C to quit`,
  );
  Deno.stdin.setRaw(true);
  let quit = false;
  const receiving = (async () => {
    try {
      for await (const line of client.lines()) {
        out(`\r\x1b[2K${toTerminalText(line.bytes)}\r\n`);
        draw();
      }
    } catch {
      // Reset or broken: treated like a close by the server.
    }
  })();
  const typing = (async () => {
    draw();
    const reader = Deno.stdin.readable.getReader();
    try {
      while (!quit) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const action of editor.feed(value)) {
          if (action.kind === "quit") return;
          if (action.kind === "send") {
            out(`\r\x1b[2K${prompt}${action.line}\r\n`);
            await client.send(action.line);
          }
          draw();
        }
      }
    } finally {
      reader.releaseLock();
    }
  })();
  try {
    const serverEnded = await Promise.race([
      receiving.then(() => true),
      typing.then(() => false),
    ]);
    quit = true;
    out("\r\x1b[2K");
    return !serverEnded;
  } finally {
    Deno.stdin.setRaw(false);
  }
}

/** Piped mode; resolves false if the server ended the session early. */
async function chatPiped(
  client: ChatClient,
  lingerMs: number,
): Promise<boolean> {
  const sanitize = Deno.stdout.isTerminal();
  let inputDone = false;
  const receiving = (async () => {
    try {
      for await (const line of client.lines()) {
        const shown = sanitize
          ? encoder.encode(toTerminalText(line.bytes))
          : line.bytes;
        const out = new Uint8Array(shown.length + 1);
        out.set(shown);
        out[shown.length] = 0x0a;
        writeAllSync(out);
      }
    } catch {
      // A reset ends the session like a close.
    }
    return inputDone;
  })();
  const sending = (async () => {
    const splitter = new LineSplitter({ maxLineBytes: 1024 ** 3 });
    const lines: Uint8Array[] = [];
    for await (const chunk of Deno.stdin.readable) {
      splitter.push(chunk, (line) => lines.push(line.slice()));
      if (lines.length > 0) await client.sendMany(lines.splice(0));
    }
    const tail = splitter.takePartial();
    // A last line without a newline is still a line the user meant to send.
    if (tail.length > 0) await client.send(tail);
    inputDone = true;
    // Half-closing is how a client leaves (PROTOCOL.md §5.1), so a client
    // told to keep listening must not.
    if (lingerMs !== Infinity) await client.closeWrite();
  })();
  const first = await Promise.race([
    receiving.then((expected) => ({ ended: true, expected })),
    sending.then(
      () => ({ ended: false, expected: true }),
      () => ({ ended: true, expected: false }), // the send failed: lost
    ),
  ]);
  if (first.ended) return first.expected;
  // Input sent: wait for the server to close, at most lingerMs.
  if (lingerMs === Infinity) {
    await receiving;
    return false; // only the server ends a kept-open session: report it
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    receiving,
    new Promise((resolve) => timer = setTimeout(resolve, lingerMs)),
  ]);
  clearTimeout(timer);
  return true;
}

function writeAllSync(bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    offset += Deno.stdout.writeSync(bytes.subarray(offset));
  }
}

function describe(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionRefused) {
    return "connection refused";
  }
  if (error instanceof Deno.errors.NotFound) return "no such host";
  if (error instanceof Deno.errors.TimedOut) return "timed out";
  return error instanceof Error ? error.message : String(error);
}
