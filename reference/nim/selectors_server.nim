# Reference chat server: the "Simple chat server in Nim" tutorial design.
#
# Design: Tejas Jadhav, "Simple chat server in Nim: Basics" (2019-01-24),
# https://blog.tejasjadhav.xyz/simple-chat-server-in-nim-using-sockets/
# (source: github.com/tejasjadhav/tejasjadhav.github.io,
# content/blog/simple-chat-server-in-nim-using-sockets/index.md), section
# "IV. Using `select` for optimization", the final server.nim. It runs on
# one thread with the `selectors` module and blocking-style `net` calls on
# non-blocking sockets. This file follows that listing line by line; the
# only changes are marked "DEVIATION" below.
#
# This is a reference to measure linechat against, NOT a server to improve.
# Its quirks are intentional and listed here so that the conformance matrix
# can explain every failure from the code. Compiled with Nim 1.6.10 as
# `nim c -d:release` (by reference/build.ts).
#
# Deviations from the tutorial:
#   * The final listing imports nativesockets, os and selectors but not `net`,
#     so as printed it does not compile (`Socket` is undeclared). All the
#     earlier listings import `net`, so it is imported here.
#   * The tutorial binds the fixed port 5555. Here the port is the first
#     command-line argument (`paramStr(1)`) and defaults to 7687, the same
#     default as the other references.
#
# Known quirks (each one comes from the code below or from Nim 1.6.10 `net`):
#   * One line per wake-up. When a client becomes readable, the server wraps
#     its fd in a NEW buffered `Socket` (`newSocket(result.fd.SocketHandle)`)
#     and calls `recvLine` once. The first read pulls up to 4000 bytes
#     (BufferSize) into that throwaway socket's buffer. Anything after the
#     first line in those bytes is thrown away with the wrapper.
#     "a\nb\n" sent in one segment is relayed as "a" only.
#   * Crash on a partial line. `recvLine` is a blocking-style call, but the
#     socket is non-blocking. If the bytes buffered so far hold no complete
#     line, the next recv fails with EAGAIN, `recvLine` raises OSError
#     ("Resource temporarily unavailable"), nothing catches it, and the
#     whole server exits. This happens for a line split across TCP segments,
#     for one longer than what has arrived (for example a 1 MB line), and
#     for a "\r" that is the last byte that has arrived (`recvLine` peeks at
#     the next byte to look for "\n"), and for a client that sends part of a
#     line and then disconnects, when the FIN arrives after the server has
#     woken up for the data. If the FIN arrives with the data, the partial
#     line is just dropped (recvLine returns "" and the client is removed).
#   * Framing (`net.recvLine`): "\n", "\r\n" and a lone "\r" end a line. A
#     lone "\r" does not consume the byte after it, but that byte is then
#     thrown away with the rest of the buffer (see above).
#   * An empty line makes `recvLine` return "\r\n", so the others get
#     "\r\n\r\n".
#   * Every relayed line ends with "\r\L" ("\r\n").
#   * Line length: MaxLineLength = 1_000_000. A longer line that has
#     completely arrived is cut to its first 1_000_001 bytes. The rest was
#     either in the throwaway buffer or is read later as new lines. In
#     practice such a line usually crashes the server first (partial line).
#   * Sends are blocking-style `net.send` calls on non-blocking sockets. If
#     a reader's kernel buffer is full, `send` fails with EAGAIN or sends only
#     part ("Could not send all data.") and raises OSError, which kills the
#     server. So a slow reader crashes the server rather than stalling it.
#     A send to a peer that has already reset (EPIPE) also raises "Could not
#     send all data." because `sent != data.len`.
#   * The sender never gets its own line back (fds are compared).
#   * On disconnect the client is unregistered and removed from `clients`,
#     but its socket is NEVER closed, so the fd leaks.
#   * Every line is echoed to stdout ("Server: received from client: ...").
#     If stdout is a pipe that nobody reads, the server blocks once the pipe
#     is full.
#   * The listener is bound to all addresses, with OptReuseAddr set.

import net # DEVIATION: missing from the tutorial's final listing.
import nativesockets
import os
import selectors
import strutils # DEVIATION: only for the port argument.

# DEVIATION: the tutorial binds Port(5555).
let port = if paramCount() >= 1: parseInt(paramStr(1)) else: 7687

var server: Socket = newSocket()
var select: Selector[int] = newSelector[int]()
server.setSockOpt(OptReuseAddr, true)
server.getFd().setBlocking(false)
server.bindAddr(Port(port))
server.listen()
stdout.writeLine("Server: started. Listening to new connections on port ", port, "...")

select.registerHandle(server.getFd(), {Event.Read}, -1)
var clients: seq[Socket] = @[]

while true:
  var results: seq[ReadyKey] = select.select(-1)

  for result in results:
    if Event.Read in result.events:
      if result.fd.SocketHandle == server.getFd():
        var client: Socket = new(Socket)
        server.accept(client)

        client.getFd().setBlocking(false)
        select.registerHandle(client.getFd(), {Event.Read}, -1)
        clients.add(client)
        stdout.writeLine("Server: client connected")
      else:
        # Quirk: a fresh buffered wrapper every time. Bytes it buffers past
        # the first line are lost, and a partial line raises EAGAIN.
        var sourceClient: Socket = newSocket(result.fd.SocketHandle)
        var message = sourceClient.recvLine()

        if message == "":
          var clientsToRemove: seq[int] = @[]

          for index, client in clients:
            if client.getFd() == sourceClient.getFd():
              clientsToRemove.add(index)

          for index in clientsToRemove:
            var client: Socket = clients[index]
            select.unregister(result.fd)
            clients.del(index)
            stdout.writeLine("Server: client disconnected")
        else:
          stdout.writeLine("Server: received from client: ", message)

          for client in clients:
            if client.getFd() == sourceClient.getFd():
              continue

            client.send(message & "\r\L")

select.close()
server.close()
