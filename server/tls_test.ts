// TLS over real sockets with a throwaway certificate (Debian's openssl):
// chat on the TCP port, HTTPS and WSS on the ops port, a plain-text client
// refused cleanly, and the command line end to end.

import { deepEqual, equal, match } from "node:assert/strict";
import { connect } from "../client/chat_client.ts";
import { testWithTools } from "../_testing/tools.ts";
import { throwawayCertificate } from "../lib/throwaway_certificate.ts";
import { readLines, spawnServer, startServer, waitFor } from "./_testing.ts";

testWithTools(
  "TLS: clients chat over the TCP port; a plain-text client is closed cleanly and the room goes on",
  [
    "openssl",
  ],
  async () => {
    await using certificate = await throwawayCertificate();
    await using t = await startServer({
      tls: { cert: certificate.cert, key: certificate.key },
    });
    const target = `tls://127.0.0.1:${t.port}`;
    const options = { caCerts: [certificate.ca] };
    const a = await connect(target, options);
    const b = await connect(target, options);
    await waitFor(() => t.server.clientCount === 2, "two TLS clients");
    equal(t.server.clientsByKind.tls, 2);
    await a.send("secret");
    deepEqual(await readLines(b, 1), ["secret"]);
    // Plain text to a TLS port: the handshake fails, that client is closed.
    const plain = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
    await plain.write(new TextEncoder().encode("hello in the clear\n"));
    const buffer = new Uint8Array(1024);
    let ended = false;
    try {
      while (await plain.read(buffer) !== null) { /* a TLS alert, then EOF */ }
      ended = true;
    } catch {
      ended = true; // reset: closed too
    }
    plain.close();
    equal(ended, true);
    await b.send("still here");
    deepEqual(await readLines(a, 1), ["still here"]);
    a.close();
    b.close();
  },
);

testWithTools(
  "TLS: HTTPS and WSS on the ops port; a WSS client and a TLS client share the room",
  [
    "openssl",
  ],
  async () => {
    await using certificate = await throwawayCertificate();
    await using t = await startServer({
      httpPort: 0,
      tls: { cert: certificate.cert, key: certificate.key },
    });
    const http = Deno.createHttpClient({ caCerts: [certificate.ca] });
    const health = await fetch(
      `https://localhost:${t.server.httpAddr!.port}/healthz`,
      { client: http },
    );
    equal(health.status, 200);
    await health.body?.cancel();
    http.close();
    const tcp = await connect(`tls://127.0.0.1:${t.port}`, {
      caCerts: [certificate.ca],
    });
    // Deno's WebSocket trusts extra CAs through DENO_CERT only: a process.
    const script = `
    const ws = new WebSocket("wss://localhost:${t.server.httpAddr!.port}/ws");
    ws.onopen = () => ws.send("over wss");
    ws.onmessage = (e) => { console.log(e.data); ws.close(); };
    ws.onclose = () => Deno.exit(0);`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      env: { DENO_CERT: certificate.caFile },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    deepEqual(await readLines(tcp, 1, 10_000), ["over wss"]);
    equal(t.server.clientsByKind.wss, 1);
    await tcp.send("back over tls");
    const out = await child.output();
    equal(new TextDecoder().decode(out.stdout).trim(), "back over tls");
    tcp.close();
  },
);

testWithTools(
  "TLS from the command line: server --tls-cert/--tls-key, client tls://… --ca",
  [
    "openssl",
  ],
  async () => {
    await using certificate = await throwawayCertificate();
    await using server = await spawnServer([
      "--tls-cert",
      certificate.certFile,
      "--tls-key",
      certificate.keyFile,
    ]);
    // The port answers before the process's stdout is read: wait for it.
    await waitFor(() => server.log.length > 0, "the listening line");
    match(server.log[0], /listening addr=127\.0\.0\.1:\d+ tls=true/);
    const listener = await connect(`tls://127.0.0.1:${server.port}`, {
      caCerts: [certificate.ca],
    });
    const client = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../client/main.ts", import.meta.url).pathname,
        `tls://127.0.0.1:${server.port}`,
        "--ca",
        certificate.caFile,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = client.stdin.getWriter();
    await writer.write(new TextEncoder().encode("via the terminal client\n"));
    deepEqual(await readLines(listener, 1, 10_000), [
      "via the terminal client",
    ]);
    await writer.close();
    const out = await client.output();
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    listener.close();
    // Without --ca the certificate is not trusted: one clear line, exit 1.
    const untrusted = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../client/main.ts", import.meta.url).pathname,
        `tls://127.0.0.1:${server.port}`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    equal(untrusted.code, 1);
    match(
      new TextDecoder().decode(untrusted.stderr),
      /^linechat-client: cannot connect to tls:\/\/127\.0\.0\.1:\d+: .*certificate/,
    );
  },
);
