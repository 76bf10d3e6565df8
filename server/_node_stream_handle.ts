// The native stream handle a `node:net` server accepts, for the node
// transport, which never makes a `net.Socket` of it.
//
// Why not a socket: node's stream machinery destroys the whole socket when
// one write fails, and destroying it closes the handle, so lines the peer
// sent before resetting, still unread in the kernel, are lost. Reading and
// writing through the handle keeps the two sides apart, as they are in the
// kernel (and in `Deno.Conn`). And a socket with its streams costs more
// memory per idle client than everything else the server holds for it.
//
// The handle speaks node's StreamBase protocol (what `lib/net.js` uses): in
// Deno 2.9 it is a native libuv-style `TCPWrap`. Results travel through a
// shared `streamBaseState` array, reachable through `process.binding`. Both
// are internals: if a runtime lacks them, listenNode rejects with a clear
// error, and node_transport_test.ts exercises every path used here.

import type net from "node:net";
import os from "node:os";
import process from "node:process";
import { getSystemErrorName } from "node:util";

/** What the transport uses of an accepted connection's native handle. */
export interface StreamHandle {
  /**
   * Called with `this` the handle: an `ArrayBuffer` holding the bytes read,
   * or `undefined` once reading ended; see {@linkcode readResult}.
   */
  onread: (this: StreamHandle, buffer: ArrayBuffer | undefined) => void;
  /** Starts calling `onread`; returns 0 or a negative errno. */
  readStart(): number;
  /** Stops calling `onread`; the kernel keeps what arrives. */
  readStop(): number;
  /**
   * Writes (or queues a copy of) `data`; returns 0 or a negative errno.
   * When {@linkcode lastWriteWasAsync}, `request.oncomplete` reports later.
   */
  writeBuffer(request: WriteRequest, data: Uint8Array): number;
  /** Sets TCP_NODELAY; returns 0 or a negative errno. */
  setNoDelay(on: boolean): number;
  /** Fills `out` with the peer's address; returns 0 or a negative errno. */
  getpeername(out: { address?: string; port?: number }): number;
  /** Closes the connection (FIN); pending writes are not reported. */
  close(): void;
}

/** What the listener uses of a `net.Server`'s native handle. */
interface ServerHandle {
  /** Called with `this` the handle and 0 (or a negative errno) per accept. */
  onconnection: (this: ServerHandle, status: number) => void;
  /** Accepts a pending connection into `client`; 0 or a negative errno. */
  accept(client: StreamHandle): number;
}

/** The fields of node's `tcp_wrap` binding that accepting needs. */
interface TcpWrapBinding {
  TCP: new (type: number) => StreamHandle;
  constants: { SOCKET: number };
}

/** The fields of node's `streamBaseState` (`internalBinding('stream_wrap')`). */
interface StreamWrapBinding {
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
}

let binding: StreamWrapBinding | undefined;

/** The shared state array; throws if this runtime does not expose it. */
function streamWrap(): StreamWrapBinding {
  if (binding !== undefined) return binding;
  let found: Partial<StreamWrapBinding> | undefined;
  try {
    // deno-lint-ignore no-explicit-any
    found = (process as any).binding("stream_wrap");
  } catch {
    // Reported below.
  }
  if (!(found?.streamBaseState instanceof Int32Array)) {
    throw new Error(
      "--transport node needs node's stream_wrap binding (Deno 2.9)",
    );
  }
  binding = found as StreamWrapBinding;
  return binding;
}

/** Checks that the runtime offers what this module needs; throws if not. */
export function checkStreamHandles(): void {
  streamWrap();
}

/**
 * Takes over accepting from a listening `net.Server`: each connection's
 * native handle goes to `onHandle` (or the negative errno of a failed
 * accept to `onError`), and no `net.Socket` is made for it. A socket and
 * its streams cost about a KiB and a half per idle connection; the handle
 * alone is all the transport uses. Throws if this runtime lacks it.
 */
export function acceptHandles(
  server: net.Server,
  onHandle: (handle: StreamHandle) => void,
  onError: (status: number) => void,
): void {
  const listening = (server as unknown as { _handle?: Partial<ServerHandle> })
    ._handle;
  let tcp: Partial<TcpWrapBinding> | undefined;
  try {
    // deno-lint-ignore no-explicit-any
    tcp = (process as any).binding("tcp_wrap");
  } catch {
    // Reported below.
  }
  if (
    typeof listening?.accept !== "function" ||
    typeof tcp?.TCP !== "function" || tcp.constants === undefined
  ) {
    throw new Error(
      "--transport node needs node's tcp_wrap binding (Deno 2.9)",
    );
  }
  const { TCP, constants } = tcp as TcpWrapBinding;
  listening.onconnection = function (status) {
    if (status !== 0) return onError(status);
    const handle = new TCP(constants.SOCKET);
    const accepted = this.accept(handle);
    if (accepted !== 0) {
      handle.close();
      return onError(accepted);
    }
    onHandle(handle);
  };
}

/** Inside `onread`: bytes read (> 0), or the negative errno that ended it. */
export function readResult(): number {
  const state = streamWrap();
  return state.streamBaseState[state.kReadBytesOrError];
}

/** Inside `onread`: where the bytes start in the buffer. */
export function readOffset(): number {
  const state = streamWrap();
  return state.streamBaseState[state.kArrayBufferOffset];
}

/** Right after `writeBuffer`: whether completion is reported later. */
export function lastWriteWasAsync(): boolean {
  const state = streamWrap();
  return state.streamBaseState[state.kLastWriteWasAsync] !== 0;
}

/** Whether a negative errno is the end of input (`UV_EOF`). */
export function isEof(status: number): boolean {
  return getSystemErrorName(status) === "EOF";
}

/** A negative errno as a node-style error: `code` `ECONNRESET` and so on. */
export function errnoError(
  status: number,
  syscall: string,
): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(status);
  } catch {
    code = "UNKNOWN";
  }
  const error: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  error.code = code;
  error.errno = status;
  error.syscall = syscall;
  return error;
}

/** `ECANCELED` as a negative errno, for writes cut short by a close. */
const UV_ECANCELED = -os.constants.errno.ECANCELED;

/** The error of a write on a closed transport (`EBADF`). */
export function closedError(): NodeJS.ErrnoException {
  return errnoError(-os.constants.errno.EBADF, "write");
}

/**
 * One write handed to the handle, which calls `oncomplete` once the bytes
 * are with the kernel (or the write failed) when the write went async.
 */
export class WriteRequest {
  /** Kept until the write completes, as node does (`req.buffer`). */
  buffer: Uint8Array | null;
  readonly #length: number;
  #status: number | undefined;
  #settle: ((status: number) => void) | undefined;

  /** A request for writing `buffer`. */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
    this.#length = buffer.length;
  }

  /** Called by the handle with 0 or a negative errno; later calls do nothing. */
  oncomplete(status: number): void {
    if (this.#status !== undefined) return;
    this.#status = status;
    this.buffer = null;
    this.#settle?.(status);
  }

  /** Rejects (if still pending) because the connection was closed. */
  cancel(): void {
    this.oncomplete(UV_ECANCELED);
  }

  /** Resolves with the bytes written, or rejects with the write's error. */
  completion(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#settle = (status) => {
        if (status === 0) resolve(this.#length);
        else reject(errnoError(status, "write"));
      };
      if (this.#status !== undefined) this.#settle(this.#status);
    });
  }
}
