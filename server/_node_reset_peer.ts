// Test clients on a worker thread, so they can send lines and reset (RST)
// while the test's thread, which runs the server, is blocked in one of the
// server's callbacks: the lines and the RST are then in the server's kernel
// buffers, unread, when the server next writes to that client. That is the
// race in which node:net streams lost a client's last lines (see
// node_transport_test.ts).
//
// Imported by a test, this module gives ResetPeer; run as a worker (by
// ResetPeer), it holds the sockets.

import net from "node:net";

// The flag both threads wait on: IDLE until the reset is done.
const IDLE = 0, RESET_DONE = 1;

/** Clients on a worker thread that send and reset on command. */
export class ResetPeer implements AsyncDisposable {
  readonly #worker: Worker;
  readonly #flag = new Int32Array(new SharedArrayBuffer(4));
  readonly #replies: (() => void)[] = [];

  /** Starts the worker. */
  constructor() {
    this.#worker = new Worker(import.meta.url, { type: "module" });
    this.#worker.onmessage = () => this.#replies.shift()?.();
    this.#post({ type: "init", flag: this.#flag.buffer });
  }

  /** Connects a client named `name` to `port` on loopback. */
  connect(name: string, port: number): Promise<void> {
    return this.#post({ type: "connect", name, port });
  }

  /** Sends `text` from `name`; resolves once it is with the kernel. */
  send(name: string, text: string): Promise<void> {
    return this.#post({ type: "send", name, text });
  }

  /**
   * Sends `text` from `name` and resets it, blocking this thread until the
   * RST is sent. Called from inside one of the server's callbacks, it makes
   * whatever the server does next in that turn happen before the server
   * has read any of it.
   */
  resetNow(name: string, text: string): void {
    this.#set(IDLE);
    this.#post({ type: "reset", name, text });
    Atomics.wait(this.#flag, 0, IDLE, 5000);
  }

  /** Stops the worker and its sockets. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#worker.terminate();
    return Promise.resolve();
  }

  #set(value: number): void {
    Atomics.store(this.#flag, 0, value);
    Atomics.notify(this.#flag, 0);
  }

  #post(message: Record<string, unknown>): Promise<void> {
    const reply = new Promise<void>((resolve) => this.#replies.push(resolve));
    this.#worker.postMessage(message);
    return reply;
  }
}

/** The worker's side: sockets by name, driven by ResetPeer's messages. */
function serveAsWorker(): void {
  let flag: Int32Array;
  const sockets = new Map<string, net.Socket>();
  const set = (value: number) => {
    Atomics.store(flag, 0, value);
    Atomics.notify(flag, 0);
  };
  const connect = (name: string, port: number) =>
    new Promise<void>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => resolve());
      // Each line at once: Nagle's algorithm would hold one back until the
      // last is acknowledged, 40 ms later.
      socket.setNoDelay(true);
      socket.on("error", () => {});
      socket.on("data", () => {});
      sockets.set(name, socket);
    });
  const send = (name: string, text: string) =>
    new Promise<void>((resolve) =>
      sockets.get(name)!.write(text, () => resolve())
    );
  const writeAndReset = (name: string, text: string) => {
    const socket = sockets.get(name)!;
    sockets.delete(name);
    socket.once("close", () => set(RESET_DONE));
    // node:net hands the bytes to the kernel at once, ahead of the RST.
    socket.write(text);
    socket.resetAndDestroy();
  };
  // Typed as the main thread's globals; in a worker these exist.
  const scope = self as unknown as {
    onmessage: (event: MessageEvent) => void;
    postMessage(message: unknown): void;
  };
  scope.onmessage = async ({ data }: MessageEvent) => {
    if (data.type === "init") flag = new Int32Array(data.flag);
    if (data.type === "connect") await connect(data.name, data.port);
    if (data.type === "send") await send(data.name, data.text);
    if (data.type === "reset") writeAndReset(data.name, data.text);
    scope.postMessage("done");
  };
}

if ("WorkerGlobalScope" in globalThis) serveAsWorker();
