// Read buffers. Every connection always has a read pending, and the buffer
// of a pending read is held until data arrives, so a buffer per connection
// is the main memory cost of an idle client we control. Idle reads
// therefore use a small slot carved from a shared slab (a view costs far
// less than an ArrayBuffer of its own); a read that fills it means a burst,
// and the next read borrows a large buffer from a shared pool, returned as
// soon as its bytes are framed (the framer hands out views only until the
// next read).

/** Bytes of each connection's idle slot: most chat lines fit in one. */
export const IDLE_READ_BYTES = 128;
/** Bytes of a pooled buffer, used while a client sends in bursts. */
export const BURST_READ_BYTES = 64 * 1024;
/** Pooled burst buffers kept for reuse; more are allocated when needed. */
const POOL_LIMIT = 64;
/** Idle slots per slab (64 KiB slabs). */
const SLOTS_PER_SLAB = 512;

const pool: Uint8Array[] = [];
let burstsLent = 0;
// Slabs are never freed: their size follows the peak connection count
// (128 B per connection), and reusing the views saves allocating them.
const freeSlots: Uint8Array[] = [];

/** A connection's idle read slot; return it once no read uses it. */
export function borrowIdleBuffer(): Uint8Array {
  if (freeSlots.length === 0) {
    const slab = new ArrayBuffer(IDLE_READ_BYTES * SLOTS_PER_SLAB);
    for (let slot = SLOTS_PER_SLAB - 1; slot >= 0; slot--) {
      freeSlots.push(
        new Uint8Array(slab, slot * IDLE_READ_BYTES, IDLE_READ_BYTES),
      );
    }
  }
  return freeSlots.pop()!;
}

export function returnIdleBuffer(slot: Uint8Array): void {
  freeSlots.push(slot);
}

export function borrowBurstBuffer(): Uint8Array {
  burstsLent++;
  return pool.pop() ?? new Uint8Array(BURST_READ_BYTES);
}

export function returnBurstBuffer(buffer: Uint8Array): void {
  burstsLent--;
  if (pool.length < POOL_LIMIT) pool.push(buffer);
}

/** Burst buffers lent to reads now (for tests: an idle client holds none). */
export function burstBuffersLent(): number {
  return burstsLent;
}
