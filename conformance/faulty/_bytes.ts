/**
 * Byte helpers of the faulty server.
 *
 * @module
 */

/** A byte buffer that grows geometrically. */
export class Growable {
  data = new Uint8Array(256);
  length = 0;
  push(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.data.length) {
      const grown = new Uint8Array(
        Math.max(this.length + bytes.length, this.data.length * 2),
      );
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    this.data.set(bytes, this.length);
    this.length += bytes.length;
  }
  take(): Uint8Array {
    const out = this.data.slice(0, this.length);
    this.length = 0;
    if (this.data.length > 64 * 1024) this.data = new Uint8Array(256);
    return out;
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `a` then `b`, in a new array. */
export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** `line` without leading and trailing ASCII whitespace. */
export function trimWhitespace(line: Uint8Array): Uint8Array {
  const space = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d);
  let start = 0;
  let end = line.length;
  while (start < end && space(line[start])) start++;
  while (end > start && space(line[end - 1])) end--;
  return line.subarray(start, end);
}
