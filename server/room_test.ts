import { deepEqual, equal } from "node:assert/strict";
import { Batch } from "./batch.ts";
import { Room, type RoomMember } from "./room.ts";
import { SenderWindow } from "./sender_window.ts";

const batch = (bytes: number[], lines = 1) =>
  new Batch(Uint8Array.from(bytes), lines);

function recorder(id: number): RoomMember & { got: number[] } {
  const got: number[] = [];
  return { id, got, deliver: (batch) => got.push(batch.bytes[0]) };
}

Deno.test("§2.1 §2.2 a batch reaches every member but its sender", () => {
  const room = new Room();
  const members = [1, 2, 3, 4].map(recorder);
  members.forEach((m) => room.join(m));
  room.broadcast(members[0], batch([7], 2));
  deepEqual(members.map((m) => m.got), [[], [7], [7], [7]]);
  equal(room.linesRelayed, 2);
  equal(room.deliveries, 6);
});

Deno.test("§2.10 a member that left receives nothing", () => {
  const room = new Room();
  const [a, b, c] = [1, 2, 3].map(recorder);
  [a, b, c].forEach((m) => room.join(m));
  equal(room.leave(b), true);
  equal(room.leave(b), false);
  room.broadcast(a, batch([1], 1));
  deepEqual([a.got, b.got, c.got], [[], [], [1]]);
});

Deno.test("a batch from outside the room (from = null) reaches everyone", () => {
  const room = new Room();
  const [a, b] = [1, 2].map(recorder);
  room.join(a);
  room.join(b);
  room.broadcast(null, batch([9], 1));
  deepEqual([a.got, b.got], [[9], [9]]);
});

Deno.test("a member may leave during fan-out without upsetting it", () => {
  const room = new Room();
  const c = recorder(3);
  const leaver: RoomMember = { id: 2, deliver: () => room.leave(c) };
  const a = recorder(1);
  [a, leaver, c].forEach((m) => room.join(m));
  room.broadcast(a, batch([5], 1));
  deepEqual(c.got, []);
  equal(room.size, 2);
});

Deno.test("broadcast listeners see every batch with its sender", () => {
  const room = new Room();
  const a = recorder(1);
  room.join(a);
  const seen: [number | undefined, number][] = [];
  room.onBroadcast((from, batch) =>
    seen.push([from?.id, batch.bytes.length + batch.lineCount])
  );
  room.broadcast(a, batch([1, 2], 3));
  room.broadcast(null, batch([1], 1));
  deepEqual(seen, [[1, 5], [undefined, 2]]);
});

Deno.test("§4.9 a batch settles with its sender once every holder took it", () => {
  const room = new Room();
  const held: Batch[] = [];
  const holder = (id: number): RoomMember => ({
    id,
    deliver: (batch) => {
      batch.hold();
      held.push(batch);
    },
  });
  const sender = recorder(1);
  [sender, holder(2), holder(3)].forEach((m) => room.join(m));
  const events: string[] = [];
  const window = new SenderWindow({
    limitBytes: 1,
    onPause: () => events.push("pause"),
    onResume: () => events.push("resume"),
  });
  room.broadcast(sender, new Batch(Uint8Array.of(1), 1, window));
  window.check();
  deepEqual(events, ["pause"]);
  held[0].release();
  deepEqual(events, ["pause"]);
  held[1].release();
  deepEqual(events, ["pause", "resume"]);
  equal(window.outstanding, 0);
  window.close();
});

Deno.test("§4.9 a batch nobody holds settles at once", () => {
  const room = new Room();
  const sender = recorder(1);
  room.join(sender);
  room.join(recorder(2));
  const window = new SenderWindow({
    onPause: () => {},
    onResume: () => {},
  });
  room.broadcast(sender, new Batch(Uint8Array.of(1), 1, window));
  equal(window.outstanding, 0);
  window.close();
});
