import { deepEqual, equal, throws } from "node:assert/strict";
import {
  clockTicksPerSecond,
  cpuShare,
  parseBacklogDrops,
  parseRssBytes,
  parseStatTicks,
  parseSystemBusyTicks,
  parseTcpRetransmits,
  sampleProcess,
  sampleSystem,
  sampleThread,
} from "./proc_stats.ts";

Deno.test("parseStatTicks adds utime and stime, counting after the name", () => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
  fields[11] = "700"; // field 14, utime
  fields[12] = "45"; // field 15, stime
  deepEqual(parseStatTicks(`123 (a) b (c)) ${fields.join(" ")}`), 745);
});

Deno.test("parseRssBytes reads VmRSS in kB", () => {
  deepEqual(parseRssBytes("VmPeak:\t 9 kB\nVmRSS:\t    12 kB\n"), 12 * 1024);
  deepEqual(parseRssBytes("State:\tZ (zombie)\n"), 0);
});

Deno.test("this process can be sampled, and CPU time only grows", async () => {
  deepEqual((await clockTicksPerSecond()) > 0, true);
  const before = await sampleProcess("self");
  const thread = await sampleThread();
  let x = 0;
  for (let i = 0; i < 1e6; i++) x += Math.sqrt(i);
  const after = await sampleProcess(Deno.pid);
  deepEqual(x > 0, true);
  deepEqual(before.rssBytes > 1024 * 1024, true);
  deepEqual(after.cpuSeconds >= before.cpuSeconds, true);
  deepEqual(thread.cpuSeconds <= after.cpuSeconds, true);
  deepEqual(cpuShare(before, after) >= 0, true);
});

Deno.test("cpuShare is CPU seconds over wall seconds", () => {
  const at = (atMs: number, cpuSeconds: number) => ({
    atMs,
    cpuSeconds,
    rssBytes: 0,
  });
  deepEqual(cpuShare(at(0, 10), at(4000, 12)), 0.5);
  deepEqual(cpuShare(at(5, 1), at(5, 2)), 0);
});

Deno.test("parseSystemBusyTicks counts all but idle and iowait", () => {
  deepEqual(
    parseSystemBusyTicks(
      "cpu  10 1 5 900 40 2 3 4 0 0\ncpu0 5 0 2 450 20 1 1 2",
    ),
    25,
  );
});

Deno.test("the machine's busy CPU time and loss counters can be sampled and only grow", async () => {
  const a = await sampleSystem();
  const b = await sampleSystem();
  deepEqual(b.busySeconds >= a.busySeconds && a.busySeconds > 0, true);
  // Linux has both files; the counters never go down.
  deepEqual(b.tcpRetransmits! >= a.tcpRetransmits!, true);
  deepEqual(b.backlogDrops! >= a.backlogDrops!, true);
});

Deno.test("parseTcpRetransmits reads RetransSegs from the Tcp lines of /proc/net/snmp", () => {
  const snmp = [
    "Ip: Forwarding DefaultTTL",
    "Ip: 1 64",
    "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens " +
    "AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs " +
    "OutRsts InCsumErrors",
    "Tcp: 1 200 120000 -1 5000 4990 3 12 20 900000 950000 1234 0 55 0",
    "Udp: InDatagrams",
    "Udp: 7",
  ].join("\n");
  equal(parseTcpRetransmits(snmp), 1234);
  throws(() => parseTcpRetransmits("Ip: Forwarding\nIp: 1\n"), /RetransSegs/);
});

Deno.test("parseBacklogDrops sums the hexadecimal second column over CPUs", () => {
  const softnet = "0a9d4f6e 0001508e 00000000 00000000\n" +
    "0ae5a1c0 0000c803 00000000 00000000\n";
  equal(parseBacklogDrops(softnet), 0x1508e + 0xc803);
  equal(parseBacklogDrops(""), 0);
  throws(() => parseBacklogDrops("0a9d zz\n"), /softnet_stat/);
});
