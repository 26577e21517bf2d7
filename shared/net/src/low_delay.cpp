#include "idl/net/low_delay.h"

#include <QAbstractSocket>
#include <QWebSocket>

namespace idl::net {

bool setLowDelay(QWebSocket &socket)
{
    // QWebSocket owns its QTcpSocket (or QSslSocket) as a child object and has no accessor
    // for it; the socket option is the public API of that child.
    bool any = false;
    const auto children = socket.findChildren<QAbstractSocket *>(Qt::FindDirectChildrenOnly);
    for (QAbstractSocket *s : children) {
        if (s->state() != QAbstractSocket::ConnectedState)
            continue;
        s->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        any = s->socketOption(QAbstractSocket::LowDelayOption).toInt() == 1;
    }
    return any;
}

} // namespace idl::net
