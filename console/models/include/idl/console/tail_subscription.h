#pragma once

#include "idl/console/gateway_client.h"

#include <QJsonObject>
#include <QObject>
#include <QPointer>

#include <utility>

namespace idl::console {

class LiveTailModel;

// One live tail on the gateway feeding a LiveTailModel: sends `tail.start` (filter, optional
// `since` for history first), turns `tail.events` frames into rows, counts dropped events,
// and remembers the last frame's `positions`. When the connection drops and comes back it
// re-subscribes with `resume:{positions}`, so the tail continues without a gap or duplicate.
// Lives in the client's thread.
class TailSubscription : public QObject
{
    Q_OBJECT
public:
    TailSubscription(GatewayClient *client, LiveTailModel *model, QObject *parent = nullptr);
    ~TailSubscription() override;

    // Starts (or restarts) the tail with a filter and an optional `since` time argument.
    void start(const QString &query, const QString &since = {});
    // Stops the tail (tail.stop); rows stay in the model.
    void stop();

    bool isActive() const { return m_active; }
    const QString &query() const { return m_query; }
    // The positions of the last frame received (what a resume sends).
    const QJsonObject &positions() const { return m_positions; }
    // "history", "live" or "" before the first frame.
    const QString &phase() const { return m_phase; }
    // Times the tail was resumed after a lost connection.
    int resumeCount() const { return m_resumes; }

Q_SIGNALS:
    // The server accepted the tail (also after each resume).
    void started();
    // The phase changed from history to live.
    void phaseChanged(const QString &phase);
    // The tail failed for a reason other than a lost connection (bad filter, forbidden…);
    // it is no longer active.
    void failed(const idl::console::GatewayError &error);
    // The connection dropped; the tail will resume when it is back.
    void interrupted(const idl::console::GatewayError &error);

private:
    void subscribe();
    void onMessage(const QJsonObject &msg);
    void onFrame(const QByteArray &utf8);

    QPointer<GatewayClient> m_client;
    QPointer<LiveTailModel> m_model;
    QPointer<GatewayReply> m_reply;
    QString m_query;
    QString m_since;
    QJsonObject m_positions;
    QString m_phase;
    std::pair<qint64, QString> m_lastHistoryKey;
    bool m_haveHistoryKey = false;
    bool m_active = false;
    int m_resumes = 0;
};

} // namespace idl::console
