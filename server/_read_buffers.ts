// Read buffers. Every connection always has a read pending, and the buffer
// of a pending read is held until data arrives, so a buffer per connection
// is the main memory cost of an idle client. Idle reads therefore use a
// small buffer; a read that fills it means a burst, and the next read
// borrows a large buffer from a shared pool, returned as soon as its bytes
// are framed (the framer hands out views only until the next read).

/** Bytes of each connection's own buffer, used while traffic is light. */
export const IDLE_READ_BYTES = 512;
/** Bytes of a pooled buffer, used while a client sends in bursts. */
export const BURST_READ_BYTES = 64 * 1024;
/** Pooled buffers kept for reuse; more are allocated when needed. */
const POOL_LIMIT = 64;

const pool: Uint8Array[] = [];

export function borrowBurstBuffer(): Uint8Array {
  return pool.pop() ?? new Uint8Array(BURST_READ_BYTES);
}

export function returnBurstBuffer(buffer: Uint8Array): void {
  if (pool.length < POOL_LIMIT) pool.push(buffer);
}
