# Reference chat server: the Nim stdlib `asyncnet` documentation example.
#
# Design: the "Chat server" example in the module documentation of Nim's
# `std/asyncnet` (lib/pure/asyncnet.nim, Nim 1.6.10, "Examples > Chat
# server"). This file is that example line by line, plus a port argument.
#
# This is a reference to measure linechat against, NOT a server to improve.
# Its quirks are intentional and listed here so that the conformance matrix
# can explain every failure from the code. Compiled with Nim 1.6.10 as
# `nim c -d:release` (by reference/build.ts). In Nim 1.6 `-d:release` keeps
# runtime checks and assertions on.
#
# Deviation from the doc (the only one):
#   * The doc binds the fixed port 12345. Here the port is the first
#     command-line argument (`paramStr(1)`) and defaults to 7687, the same
#     default as the other references.
#
# What the doc design does (quirks included):
#   * It relays each line to EVERY client, the SENDER INCLUDED
#     (`for c in clients`). Our protocol says "every other client", so the
#     sender always gets its own line back.
#   * Clients are never removed from `clients`, and a socket is never closed,
#     even after its reader loop sees a disconnect (`break`). The fd stays
#     open (leaks), and every later fan-out still sends to the dead socket.
#     asyncdispatch's SafeDisconn flag silently drops the EPIPE/ECONNRESET
#     that follows, so this costs time but does not crash.
#   * Framing (asyncnet `recvLine`, buffered socket): "\n", "\r\n" and a lone
#     "\r" all end a line. After a lone "\r" the byte that follows it is
#     consumed and LOST ("a\rbc\n" is relayed as "a" and then "c"). Any run of
#     "\r" counts as one terminator. A "\r" that is the last byte received so
#     far holds its line back until the next byte arrives.
#   * An empty line makes `recvLine` return "\r\n", not "". It is relayed as
#     "\r\n" & "\r\n", so everyone, the sender included, gets "\r\n\r\n".
#   * Every relayed line ends with "\r\n".
#   * Line length: `recvLine`'s maxLength is MaxLineLength = 1_000_000. A
#     longer line is split: the first 1_000_001 bytes become one line and
#     the rest is read as the next line(s).
#   * A line cut short by a disconnect is dropped (recvLine returns "").
#   * The fan-out awaits each send in turn. One slow reader stalls the
#     sender's loop, and the sender is not read from meanwhile. Nothing is
#     dropped, and the server buffers without limit. Because of the echo, a
#     sender that never reads (a send-only client) is itself that slow
#     reader: once its receive buffer is full, its own relays stop.
#   * A client that sends and then closes straight away, without reading, can
#     lose the rest of what it sent. The echo of its first line reaches a
#     closed socket, which answers with a reset, and the reset throws away
#     the input the server had not read yet. (With `ncat --send-only` and
#     a 1.5 MB line followed by "after\n", only the first 1_000_001 bytes
#     were relayed.)
#   * Every asyncdispatch `send` waits for one more trip round the event loop,
#     so `for c in clients` is paused at an await while a line is being
#     relayed. If `serve` accepts a client then, `clients.add` changes the
#     seq's length, and the `items` iterator's assertion ("the length of the
#     seq changed while iterating over it") raises an AssertionDefect. That
#     escapes through `asyncCheck` and KILLS THE WHOLE SERVER.
#   * The listener is bound to all addresses, with OptReuseAddr set. It
#     writes nothing to stdout.

import std/[asyncnet, asyncdispatch]
import std/[os, strutils] # DEVIATION: only for the port argument.

var clients {.threadvar.}: seq[AsyncSocket]

proc processClient(client: AsyncSocket) {.async.} =
  while true:
    let line = await client.recvLine()
    if line.len == 0: break
    # Quirk: the sender is in `clients` too, and no client is ever removed.
    for c in clients:
      await c.send(line & "\c\L")

proc serve(port: int) {.async.} =
  clients = @[]
  var server = newAsyncSocket()
  server.setSockOpt(OptReuseAddr, true)
  server.bindAddr(Port(port))
  server.listen()

  while true:
    let client = await server.accept()
    clients.add client

    asyncCheck processClient(client)

# DEVIATION: the doc's `serve()` takes no argument and binds Port(12345).
let port = if paramCount() >= 1: parseInt(paramStr(1)) else: 7687
asyncCheck serve(port)
runForever()
