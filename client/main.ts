/**
 * `deno run -A client/main.ts [host:port]`: the terminal chat client.
 *
 * On a terminal it shows incoming lines above the line you are typing. With
 * piped input it sends each input line, prints what it receives, and exits
 * once its input is sent and the server has closed (or `--linger-ms` passed).
 *
 * @module
 */

import { parseFlags, parseInteger, runMain, UsageError } from "../lib/args.ts";
import { formatEndpoint, parseEndpoint } from "../lib/endpoint.ts";
import { LineSplitter } from "../protocol/line_splitter.ts";
import { type ChatClient, connect } from "./chat_client.ts";
import { LineEditor } from "./line_editor.ts";
import { type ConnectionEnd, describeSessionEnd } from "./session_end.ts";
import { toTerminalText } from "./terminal_text.ts";

const USAGE =
  `linechat client: chat with everyone connected to a line-chat server.

Usage: deno run -A client/main.ts [host:port] [options]

  host:port            server to join (default 127.0.0.1:7687); tls://host:port
                       for a server that speaks TLS; ws://host:port/path (or
                       wss://) to join over WebSocket, one message per line
  --ca FILE            with tls:// or wss://: also trust this CA certificate
                       (PEM)
  --linger-ms N        with piped input: after sending everything, how long to
                       keep printing incoming lines if the server keeps the
                       connection open (default 1000)
  --keep-open          with piped input: stay connected after the input ends
                       (no half-close), printing incoming lines until the
                       server closes or you interrupt; for listen-only use
  --max-line-bytes N   longest incoming line shown; longer ones are skipped
                       (default 1m)
  -h, --help           this text
  --version            linechat's version

On a terminal: type a line and press Enter to send it. Ctrl-C, or Ctrl-D on an
empty line, quits. With piped input (printf 'a\\nb\\n' | deno task client) every
input line is sent byte for byte and received lines go to stdout.`;

const encoder = new TextEncoder();

/**
 * How long a piped client waits after connecting before it sends, and
 * after sending before it half-closes: a server that refuses a client
 * (full, or too many from its address) or cuts it (a line over its limit)
 * closes at once, and that close must be told apart from the answer to
 * the client's own.
 */
const SETTLE_MS = 100;

await runMain("linechat-client", async () => {
  const { values, positionals } = parseFlags({
    args: Deno.args,
    allowPositionals: true,
    options: {
      "linger-ms": { type: "string", default: "1000" },
      "keep-open": { type: "boolean", default: false },
      "max-line-bytes": { type: "string", default: "1m" },
      ca: { type: "string" },
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
  const given = positionals[0] ?? "127.0.0.1:7687";
  const endpoint = parseEndpoint(given);
  const tls = endpoint.kind === "tls" || endpoint.kind === "wss";
  if (values.ca !== undefined && !tls) {
    throw new UsageError("--ca goes with a tls:// or wss:// target");
  }
  let caCerts: string[] | undefined;
  if (values.ca !== undefined) {
    try {
      caCerts = [Deno.readTextFileSync(values.ca)];
    } catch (error) {
      throw new Error(`--ca: cannot read ${values.ca}: ${describe(error)}`);
    }
  }
  const lingerMs = parseInteger("--linger-ms", values["linger-ms"]);
  const maxLineBytes = parseInteger(
    "--max-line-bytes",
    values["max-line-bytes"],
    { min: 1 },
  );
  const where = formatEndpoint(endpoint);
  let client: ChatClient;
  try {
    client = await connect(where, { maxLineBytes, caCerts });
  } catch (error) {
    throw new Error(`cannot connect to ${where}: ${describe(error)}`);
  }
  const session: Session = {
    connectedAt: performance.now(),
    linesReceived: 0,
    sentAnything: false,
    inputDone: false,
  };
  const interactive = Deno.stdin.isTerminal();
  const end = interactive
    ? await chatOnTerminal(client, where, session)
    : await chatPiped(
      client,
      values["keep-open"] ? Infinity : lingerMs,
      session,
    );
  client.close();
  const outcome = describeSessionEnd({
    ...end,
    linesReceived: session.linesReceived,
    sentAnything: session.sentAnything,
    elapsedMs: performance.now() - session.connectedAt,
    inputDone: session.inputDone,
    // A kept-open session, like one on a terminal, only the server ends.
    interactive: interactive || values["keep-open"],
  }, where);
  if (outcome.message !== undefined) console.error(outcome.message);
  if (outcome.exitCode !== 0) Deno.exit(outcome.exitCode);
});

/** What a session has seen so far. */
interface Session {
  connectedAt: number;
  linesReceived: number;
  sentAnything: boolean;
  /** All input sent and half-closed (piped mode). */
  inputDone: boolean;
}

/** How a session ended, with the error for `error`. */
interface End {
  end: ConnectionEnd;
  error?: unknown;
}

/** Receives until the server ends the connection: EOF, a reset, an error. */
async function receiveAll(
  client: ChatClient,
  session: Session,
  show: (bytes: Uint8Array) => void,
): Promise<End> {
  try {
    for await (const line of client.lines()) {
      session.linesReceived++;
      show(line.bytes);
    }
    return { end: "eof" };
  } catch (error) {
    return error instanceof Deno.errors.ConnectionReset
      ? { end: "reset" }
      : { end: "error", error };
  }
}

/** Interactive mode: ends when the user quits or the server ends it. */
async function chatOnTerminal(
  client: ChatClient,
  where: string,
  session: Session,
): Promise<End> {
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
  const receiving = receiveAll(client, session, (bytes) => {
    out(`\r\x1b[2K${toTerminalText(bytes)}\r\n`);
    draw();
  });
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
            session.sentAnything = true;
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
    const end = await Promise.race([
      receiving,
      typing.then(
        (): End => ({ end: "quit" }),
        (): End => ({ end: "send-failed" }),
      ),
    ]);
    quit = true;
    out("\r\x1b[2K");
    return end;
  } finally {
    Deno.stdin.setRaw(false);
  }
}

/** Piped mode: sends the input, half-closes, prints until the server closes. */
async function chatPiped(
  client: ChatClient,
  lingerMs: number,
  session: Session,
): Promise<End> {
  const sanitize = Deno.stdout.isTerminal();
  const receiving = receiveAll(client, session, (bytes) => {
    const shown = sanitize ? encoder.encode(toTerminalText(bytes)) : bytes;
    const out = new Uint8Array(shown.length + 1);
    out.set(shown);
    out[shown.length] = 0x0a;
    writeAllSync(out);
  });
  const settled = await within(receiving, SETTLE_MS);
  if (settled !== undefined) return settled; // closed before we sent a byte
  const sending = (async () => {
    const splitter = new LineSplitter({ maxLineBytes: 1024 ** 3 });
    const lines: Uint8Array[] = [];
    for await (const chunk of Deno.stdin.readable) {
      splitter.push(chunk, (line) => lines.push(line.slice()));
      if (lines.length > 0) {
        session.sentAnything = true;
        await client.sendMany(lines.splice(0));
      }
    }
    const tail = splitter.takePartial();
    // A last line without a newline is still a line the user meant to send.
    if (tail.length > 0) {
      session.sentAnything = true;
      await client.send(tail);
    }
    // Half-closing is how a client leaves (PROTOCOL.md §5.1), so a client
    // told to keep listening must not.
    if (lingerMs === Infinity) return;
    // A server that cuts a client (a line over its limit) closes as soon as
    // it has read that far; one that has not closed by now took it all.
    // After our half-close, its close would look like the normal answer.
    if (await within(receiving, SETTLE_MS) !== undefined) return;
    await client.closeWrite();
    session.inputDone = true;
  })();
  const first = await Promise.race([
    receiving,
    sending.then(() => undefined, (): End => ({ end: "send-failed" })),
  ]);
  if (first !== undefined) return first;
  // Only the server ends a kept-open session; otherwise wait for its
  // close for at most lingerMs.
  if (lingerMs === Infinity) return await receiving;
  return await within(receiving, lingerMs) ?? { end: "eof" };
}

/** `promise`'s value if it settles within `ms`, else undefined. */
async function within<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) =>
        timer = setTimeout(() => resolve(undefined), ms)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
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
  if (error instanceof Deno.errors.TimedOut) {
    return /WebSocket/.test(error.message) ? error.message : "timed out";
  }
  return error instanceof Error ? error.message : String(error);
}
