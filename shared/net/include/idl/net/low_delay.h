#pragma once

class QWebSocket;

namespace idl::net {

// Turns Nagle's algorithm off (TCP_NODELAY) on the TCP socket under a connected client
// QWebSocket, so that a message leaves at once instead of waiting behind an unacknowledged
// segment for the peer's delayed ACK (up to 40 ms on Linux). Call it once the socket is
// connected. Returns false when no connected TCP socket is found under it.
//
// Servers set the option where they accept the TCP connection (the gateway hands accepted
// sockets to QWebSocketServer::handleConnection): a server-side QWebSocket does not own its
// socket as a child, so this function cannot reach it.
bool setLowDelay(QWebSocket &socket);

} // namespace idl::net
