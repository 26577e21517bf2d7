#pragma once

// Helpers shared by the collector tests: gzip/zstd encoding of test bodies, and a blocking
// HTTP/1.1 client (plain or TLS with a client certificate) that needs no event loop.
#include <QByteArray>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslSocket>

#include <zlib.h>
#include <zstd.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace idl::collectortest {

// gzip (RFC 1952) of `data`.
inline std::string gzip(std::string_view data, int level = 6)
{
    z_stream zs{};
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2");
    std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef *>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        throw std::runtime_error("deflate");
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

// gzip of `size` zero bytes, produced in chunks (a decompression bomb: ~1000:1).
inline std::string gzipZeros(std::size_t size)
{
    z_stream zs{};
    if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2");
    std::string zeros(1 << 20, '\0');
    std::string out;
    char buf[1 << 16];
    std::size_t left = size;
    while (true) {
        const std::size_t n = std::min(left, zeros.size());
        zs.next_in = reinterpret_cast<Bytef *>(zeros.data());
        zs.avail_in = static_cast<uInt>(n);
        left -= n;
        const int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        int rc = Z_OK;
        do {
            zs.next_out = reinterpret_cast<Bytef *>(buf);
            zs.avail_out = sizeof buf;
            rc = deflate(&zs, flush);
            out.append(buf, sizeof buf - zs.avail_out);
        } while (zs.avail_out == 0);
        if (left == 0 && rc == Z_STREAM_END)
            break;
    }
    deflateEnd(&zs);
    return out;
}

// zstd frame of `data`.
inline std::string zstd(std::string_view data, int level = 3)
{
    std::string out(ZSTD_compressBound(data.size()), '\0');
    const std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
    if (ZSTD_isError(n))
        throw std::runtime_error("ZSTD_compress");
    out.resize(n);
    return out;
}

} // namespace idl::collectortest

// ---- A small blocking HTTP/1.1 client over QSslSocket (plain or TLS, keep-alive) ----------
namespace idl::collectortest {

// One HTTP reply; status 0 when the connection closed (or failed) without a reply.
struct HttpReply
{
    int status = 0;
    QByteArray head;
    QByteArray body;
    QString error;

    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QByteArray header(const QByteArray &lowerName) const
    {
        for (const QByteArray &line : head.split('\n')) {
            const auto colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().toLower() == lowerName)
                return line.mid(colon + 1).trimmed();
        }
        return {};
    }
};

// TLS settings of a client: the CA that signed the server, and an optional client identity.
struct ClientTls
{
    QString caFile;
    QString certFile;
    QString keyFile;
};

using HttpHeaders = std::vector<std::pair<QByteArray, QByteArray>>;

// Blocking client for tests (no event loop needed). Keeps one connection alive between
// requests and reconnects when the server closed it.
class HttpClient
{
public:
    explicit HttpClient(quint16 port, std::optional<ClientTls> tls = std::nullopt)
        : m_port(port), m_tls(std::move(tls))
    {}

    HttpReply post(const QByteArray &path, const QByteArray &body, HttpHeaders headers,
                   int timeoutMs = 20'000)
    {
        return request("POST", path, body, std::move(headers), timeoutMs);
    }

    HttpReply get(const QByteArray &path, HttpHeaders headers = {}, int timeoutMs = 10'000)
    {
        return request("GET", path, {}, std::move(headers), timeoutMs);
    }

    HttpReply request(const QByteArray &method, const QByteArray &path, const QByteArray &body,
                      HttpHeaders headers, int timeoutMs)
    {
        HttpReply r;
        if (!m_socket || m_socket->state() != QAbstractSocket::ConnectedState) {
            if (auto err = connect(); !err.isEmpty()) {
                r.error = err;
                return r;
            }
        }
        QByteArray req = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        for (const auto &[k, v] : headers)
            req += k + ": " + v + "\r\n";
        if (method == "POST")
            req += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        req += "\r\n";
        m_socket->write(req);
        m_socket->write(body);
        QElapsedTimer t;
        t.start();
        while (m_socket->bytesToWrite() > 0 && t.elapsed() < timeoutMs &&
               m_socket->state() == QAbstractSocket::ConnectedState)
            m_socket->waitForBytesWritten(100);
        return readReply(timeoutMs);
    }

    // Writes raw bytes on a fresh connection and reads whatever reply comes (or none).
    HttpReply raw(const QByteArray &bytes, int timeoutMs = 5'000)
    {
        close();
        HttpReply r;
        if (auto err = connect(); !err.isEmpty()) {
            r.error = err;
            return r;
        }
        m_socket->write(bytes);
        m_socket->waitForBytesWritten(timeoutMs);
        return readReply(timeoutMs);
    }

    // Sends `head`, then `chunk` up to `times` times, and stops sending as soon as the server
    // answers (so an early reply is read before the server closes the connection).
    HttpReply stream(const QByteArray &head, const QByteArray &chunk, int times,
                     int timeoutMs = 20'000)
    {
        close();
        HttpReply r;
        if (auto err = connect(); !err.isEmpty()) {
            r.error = err;
            return r;
        }
        m_socket->write(head);
        m_streamed = 0;
        for (int i = 0; i < times && m_socket->bytesAvailable() == 0 &&
                        m_socket->state() == QAbstractSocket::ConnectedState;
             ++i) {
            m_socket->write(chunk);
            m_streamed += chunk.size();
            while (m_socket->bytesToWrite() > 0 && m_socket->bytesAvailable() == 0 &&
                   m_socket->state() == QAbstractSocket::ConnectedState)
                m_socket->waitForBytesWritten(50);
            m_socket->waitForReadyRead(1);
        }
        return readReply(timeoutMs);
    }

    void close() { m_socket.reset(); }

    // Bytes of chunks the last stream() call handed to the socket.
    qint64 streamed() const { return m_streamed; }

private:
    QString connect()
    {
        m_socket = std::make_unique<QSslSocket>();
        if (!m_tls) {
            m_socket->connectToHost(QStringLiteral("127.0.0.1"), m_port);
            if (!m_socket->waitForConnected(5000))
                return m_socket->errorString();
            return {};
        }
        QSslConfiguration conf = QSslConfiguration::defaultConfiguration();
        conf.setCaCertificates(QSslCertificate::fromPath(m_tls->caFile));
        if (!m_tls->certFile.isEmpty()) {
            const auto certs = QSslCertificate::fromPath(m_tls->certFile);
            QFile keyFile(m_tls->keyFile);
            keyFile.open(QIODevice::ReadOnly);
            const QByteArray keyPem = keyFile.readAll();
            QSslKey key(keyPem, QSsl::Ec);
            if (key.isNull())
                key = QSslKey(keyPem, QSsl::Rsa);
            if (!certs.isEmpty())
                conf.setLocalCertificate(certs.first());
            conf.setPrivateKey(key);
        }
        m_socket->setSslConfiguration(conf);
        m_socket->connectToHostEncrypted(QStringLiteral("127.0.0.1"), m_port,
                                         QStringLiteral("localhost"));
        if (!m_socket->waitForEncrypted(5000))
            return QStringLiteral("TLS: ") + m_socket->errorString();
        return {};
    }

    HttpReply readReply(int timeoutMs)
    {
        HttpReply r;
        QByteArray buf;
        QElapsedTimer t;
        t.start();
        qsizetype headerEnd = -1;
        qsizetype length = -1;
        while (t.elapsed() < timeoutMs) {
            buf += m_socket->readAll();
            if (headerEnd < 0 && (headerEnd = buf.indexOf("\r\n\r\n")) >= 0) {
                r.head = buf.left(headerEnd);
                r.status = buf.mid(9, 3).toInt();
                length = r.header("content-length").toLongLong();
            }
            if (headerEnd >= 0 && buf.size() >= headerEnd + 4 + length) {
                r.body = buf.mid(headerEnd + 4, length);
                if (r.header("connection").toLower() == "close")
                    close();
                return r;
            }
            if (m_socket->state() != QAbstractSocket::ConnectedState &&
                m_socket->bytesAvailable() == 0) {
                r.status = 0;
                r.error = QStringLiteral("connection closed: ") + m_socket->errorString();
                close();
                return r;
            }
            m_socket->waitForReadyRead(50);
        }
        r.status = 0;
        r.error = QStringLiteral("timed out");
        close();
        return r;
    }

    quint16 m_port;
    std::optional<ClientTls> m_tls;
    std::unique_ptr<QSslSocket> m_socket;
    qint64 m_streamed = 0;
};

} // namespace idl::collectortest
