import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { ChatClient, connect, ReadTimeoutError } from "./chat_client.ts";

/** A raw peer for the client: a loopback listener and its accepted conn. */
async function pair() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await connect({ port: listener.addr.port });
  const peer = await listener.accept();
  listener.close();
  return { client, peer };
}

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("readLine returns lines with their terminator kind, then null at EOF", async () => {
  const { client, peer } = await pair();
  await peer.write(bytes("crlf\r\nlf\ntail"));
  peer.close();
  const first = await client.readLine();
  deepEqual([first?.text, first?.crlf], ["crlf", true]);
  const second = await client.readLine();
  deepEqual([second?.text, second?.crlf], ["lf", false]);
  equal(await client.readLine(), null);
  equal(client.eof, true);
  deepEqual(client.takeUnterminated(), bytes("tail"));
  client.close();
});

Deno.test("a readLine timeout loses no bytes: the read in flight is kept", async () => {
  const { client, peer } = await pair();
  await rejects(client.readLine({ timeoutMs: 20 }), ReadTimeoutError);
  await peer.write(bytes("late\n"));
  equal((await client.readLine({ timeoutMs: 5000 }))?.text, "late");
  peer.close();
  client.close();
});

Deno.test("send adds LF; sendMany writes several lines; write is raw", async () => {
  const { client, peer } = await pair();
  await client.send("a");
  await client.sendMany(["b", bytes("c")]);
  await client.write("raw");
  await client.closeWrite();
  const got = new Uint8Array(await new Response(peer.readable).arrayBuffer());
  deepEqual(got, bytes("a\nb\nc\nraw"));
  client.close();
});

Deno.test("send refuses a line containing LF", async () => {
  const { client, peer } = await pair();
  throws(() => client.send("two\nlines"), RangeError);
  client.close();
  peer.close();
});

Deno.test("lines longer than maxLineBytes are skipped and counted", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conn = await Deno.connect({ port: listener.addr.port });
  const client = new ChatClient(conn, { maxLineBytes: 4 });
  const peer = await listener.accept();
  listener.close();
  await peer.write(bytes("toolong\nok\n"));
  equal((await client.readLine())?.text, "ok");
  equal(client.skippedLines, 1);
  client.close();
  peer.close();
});

Deno.test("connect rejects with ConnectionRefused when nobody listens", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await rejects(connect(`127.0.0.1:${port}`), Deno.errors.ConnectionRefused);
});
