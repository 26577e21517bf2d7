#pragma once

#include "db_pool.h"
#include "gateway_impl.h"
#include "idl/core/result.h"
#include "idl/gateway/tokens.h"

#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

class QWebSocket;

namespace idl::gateway {

class TailSubscription;

// Bytes produced for a connection but not yet written to its socket: what workers wait on
// before producing more (export flow control). Updated on the main thread, read anywhere.
struct FlowState
{
    std::atomic<std::int64_t> posted{0}; // queued to the main thread, not yet sent
    std::atomic<std::int64_t> socket{0}; // QWebSocket::bytesToWrite() after the last write
    std::int64_t pending() const { return posted.load() + socket.load(); }
};

// One WebSocket client: parses requests, checks auth/RBAC/limits, runs database work on the
// gateway's workers and live tails on their own threads, and writes replies.
//
// Lifecycle: created by the gateway when a socket connects; deletes itself (deleteLater)
// when the socket disconnects. Main thread only; workers reach it through queued calls.
class Session : public QObject
{
    Q_OBJECT
public:
    Session(Gateway::Impl *gateway, QWebSocket *socket);
    ~Session() override;

    // Sessions open in this process (any thread).
    static int openSessions();

    // Closes the socket (code, reason) and ends every request.
    void closeWith(int code, const QString &reason);

    // Worker side, called through queued invocations: sends `json` for request `id` if it is
    // still active with `state`; `final` ends the request.
    void deliver(const std::shared_ptr<RequestState> &state, const std::string &id,
                 const std::string &json, bool final, std::int64_t postedBytes);

private:
    struct Active
    {
        std::string type;
        std::shared_ptr<RequestState> state;
        std::unique_ptr<TailSubscription> tail;
        bool startedSent = false;
        std::uint64_t droppedTotal = 0;
    };

    void onText(const QString &text);
    void onDisconnected();
    void handle(const std::string &type, const std::string &id, const QJsonObject &msg);
    void sendJson(const std::string &json);
    void sendError(const std::string &id, const Error &e);
    void sendOk(const std::string &id);

    void doHello(const std::string &id, const QJsonObject &msg);
    void doAuth(const std::string &id, const std::string &token, bool hello);
    void doQuery(const std::string &id, const QJsonObject &msg, bool exportMode);
    void doAggregate(const std::string &id, const QJsonObject &msg);
    void doTop(const std::string &id, const QJsonObject &msg);
    void doTailStart(const std::string &id, const QJsonObject &msg);
    void doSaved(const std::string &type, const std::string &id, const QJsonObject &msg);
    void doTokens(const std::string &type, const std::string &id, const QJsonObject &msg);
    void drainTail(const std::string &id);
    void drainAllTails();
    void revalidate();
    void endRequest(const std::string &id);

    // Starts a worker job for request `id`: fn(connection, emit) produces its messages;
    // emit(json, final). A returned error becomes the request's error message.
    using Emit = std::function<void(std::string json, bool final)>;
    void runJob(const std::string &id, const std::string &type,
                std::function<Result<void>(pg::Connection &, const Emit &,
                                           const std::shared_ptr<RequestState> &)>
                    fn);

    Gateway::Impl *m_gw;
    QWebSocket *m_socket;
    std::uint64_t m_serial;
    std::shared_ptr<FlowState> m_flow = std::make_shared<FlowState>();
    std::map<std::string, Active> m_active;
    std::optional<Identity> m_identity;
    std::string m_token;
    int m_failedLogins = 0;
    bool m_authPending = false;     // a token check is running
    std::vector<QString> m_backlog; // messages that arrived meanwhile, replayed after it
    bool m_helloDone = false;
    bool m_closing = false;
    QTimer m_idle;
    QTimer m_authDeadline;
    QTimer m_tailTimer;
    QTimer m_revalidate;
};

} // namespace idl::gateway
