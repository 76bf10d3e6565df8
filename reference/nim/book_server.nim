# Reference chat server: the "Nim in Action" design.
#
# Design: Dominik Picheta, "Nim in Action" (Manning, 2017), chapter 3, the
# ChatApp server (src/server.nim). The final listing is kept, annotated, in
# the Nim repository's test suite as
# tests/niminaction/Chapter3/ChatApp/src/server.nim. This file follows it
# line by line; the only changes are marked "DEVIATION" below.
#
# This is a reference to measure linechat against, NOT a server to improve.
# Its quirks are intentional and listed here so that the conformance matrix
# can explain every failure from the code. Compiled with Nim 1.6.10 as
# `nim c -d:release` (by reference/build.ts). In Nim 1.6 `-d:release` keeps
# runtime checks and assertions on.
#
# Deviations from the book (there are only two):
#   * In the book the clients send JSON messages (protocol.nim) and the server
#     relays each JSON line as it is. The server never parses them, so for our
#     plain-line protocol it relays the raw line. The code is the same.
#   * The book's port is fixed at the `loop` default of 7687. Here the first
#     command-line argument, if given, overrides it (`paramStr(1)`).
#
# Known quirks (each one comes from the code below or from Nim 1.6.10 asyncnet):
#   * Framing (asyncnet `recvLine`, buffered socket): "\n", "\r\n" and a lone
#     "\r" all end a line. After a lone "\r" the byte that follows it is
#     consumed and LOST ("a\rbc\n" is relayed as "a" and then "c"). Any run of
#     "\r" counts as one terminator. A "\r" that is the last byte received so
#     far holds its line back until the next byte arrives.
#   * An empty line makes `recvLine` return "\r\n", not "" (asyncnet's
#     `addNLIfEmpty`). The server relays it as "\r\n" & "\r\n", so the others
#     get TWO empty lines ("\r\n\r\n").
#   * Every relayed line ends with "\r\n", whatever ending the sender used.
#   * Line length: `recvLine`'s maxLength is MaxLineLength = 1_000_000. When a
#     line is longer, the first 1_000_001 bytes are returned as one line and
#     the rest of it is read as the next line(s). Nothing is rejected and
#     nobody is disconnected.
#   * If a client disconnects in the middle of a line, that partial line is
#     dropped (recvLine returns "", which is treated as a disconnect).
#   * The sender never gets its own line back (`c.id != client.id`).
#   * The fan-out awaits each send in turn inside `processMessages`. One slow
#     reader stalls that sender's loop (and every later recipient in the
#     list), and the server does not read from the sender meanwhile.
#     Nothing is ever dropped, and the server buffers without limit.
#   * Every asyncdispatch `send` waits for one more trip round the event loop
#     (`addWrite`), even when the socket could take the data straight away.
#     So while a line is being relayed, `for c in server.clients` is paused
#     at an await. If a new client is accepted then, `server.clients.add`
#     changes the seq's length, and the seq `items` iterator's assertion
#     ("the length of the seq changed while iterating over it") raises an
#     AssertionDefect. That escapes through `asyncCheck` and KILLS THE WHOLE
#     SERVER. So a client connecting while lines are being relayed can crash it.
#   * A second crash: a recipient disconnects (a FIN, even just a half-close)
#     while a send to it is still pending because its buffers are full. Its
#     own `processMessages` reads EOF and calls `client.socket.close()`.
#     asyncdispatch's `closeSocket` then runs the pending write callback on
#     the closed fd. That `send` fails with EBADF ("Bad file descriptor"),
#     which is not a SafeDisconn error, so the sender's `processMessages`
#     fails and `asyncCheck` KILLS THE SERVER. (If the recipient resets
#     instead, the send completes quietly and the relay goes on.)
#   * Disconnected clients are never removed from `server.clients`. They are
#     only marked `connected = false`, so the seq grows by one for every
#     connection ever made and every fan-out walks all of them.
#   * Every received line is also echoed to stdout ("<id>(<addr>) sent: ...").
#     If stdout is a pipe that nobody reads, the server blocks once the pipe
#     is full.
#   * The listener is bound to all addresses (`bindAddr(port.Port)` =
#     0.0.0.0) and OptReuseAddr is NOT set.

import asyncdispatch, asyncnet
import os, strutils # DEVIATION: only for the port argument.

type
  Client = ref object
    socket: AsyncSocket
    netAddr: string
    id: int
    connected: bool

  Server = ref object
    socket: AsyncSocket
    clients: seq[Client]

proc newServer(): Server =
  ## Constructor for creating a new `Server`.
  Server(socket: newAsyncSocket(), clients: @[])

proc `$`(client: Client): string =
  ## Converts a `Client`'s information into a string.
  $client.id & "(" & client.netAddr & ")"

proc processMessages(server: Server, client: Client) {.async.} =
  ## Loops while `client` is connected to this server, and checks
  ## whether a message has been received from `client`.
  while true:
    # Quirk: "" means EOF or a line cut short by a disconnect. An empty line
    # comes back as "\r\n".
    let line = await client.socket.recvLine()

    if line.len == 0:
      echo(client, " disconnected!")
      client.connected = false
      client.socket.close()
      return

    echo(client, " sent: ", line)

    # Quirk: this loop awaits each send in turn, and its `items` iterator
    # asserts that the seq's length does not change while it is paused.
    for c in server.clients:
      if c.id != client.id and c.connected:
        await c.socket.send(line & "\c\l")

proc loop(server: Server, port = 7687) {.async.} =
  ## Loops forever and checks for new connections.
  server.socket.bindAddr(port.Port)
  server.socket.listen()
  echo("Listening on localhost:", port)

  while true:
    let (netAddr, clientSocket) = await server.socket.acceptAddr()
    echo("Accepted connection from ", netAddr)

    let client = Client(
      socket: clientSocket,
      netAddr: netAddr,
      id: server.clients.len,
      connected: true
    )
    server.clients.add(client)
    asyncCheck processMessages(server, client)

when isMainModule:
  # DEVIATION: the book calls `waitFor loop(server)` with the default port.
  let port = if paramCount() >= 1: parseInt(paramStr(1)) else: 7687
  var server = newServer()
  echo("Server initialised!")
  waitFor loop(server, port)
