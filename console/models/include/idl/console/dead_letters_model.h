#pragma once

#include "idl/console/gateway_client.h"
#include "idl/protocol/replies.h"
#include "idl/protocol/requests.h"

#include <QAbstractTableModel>
#include <QJsonObject>
#include <QList>
#include <QPointer>
#include <QStringList>
#include <QTimer>

#include <functional>
#include <utility>

namespace idl::console {

using protocol::DeadLetter;
using protocol::DeadLetterDetail;
using protocol::ReplayResult;

// A dead letter's id ("partition:offset") and times as the console shows them.
QString deadLetterId(const DeadLetter &letter);
QString formatTime(std::int64_t ns); // RFC 3339 with milliseconds; "" for 0
// A payload pretty-printed when it is JSON, else as stored.
QString prettyPayload(const std::string &payload);

// The dead letters an admin sees (dlq.list), newest first, with detail (dlq.get) and replay
// (dlq.replay). Columns: dead at, app, code, reason, attempts, replayed. GUI thread.
class DeadLettersModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { DeadAtCol, AppCol, CodeCol, ReasonCol, AttemptsCol, ReplayedCol, ColumnCount };

    explicit DeadLettersModel(GatewayClient *client, QObject *parent = nullptr);

    // Lists the dead letters the filter selects (at most `limit`).
    void refresh(const protocol::DlqFilter &filter, qint64 limit = 200);
    const protocol::DlqFilter &filter() const { return m_filter; }
    bool loading() const { return m_reply; }
    // The filter selects more than were listed.
    bool more() const { return m_more; }

    const DeadLetter &at(int row) const { return m_items.at(row); }
    const QList<DeadLetter> &items() const { return m_items; }

    using DetailCallback = std::function<void(const DeadLetterDetail *, const GatewayError *)>;
    void fetchDetail(const QString &id, DetailCallback done);
    using ReplayCallback = std::function<void(const ReplayResult *, const GatewayError *)>;
    // Replays the given dead letters, or (ids empty) everything the current filter selects;
    // refreshes the list afterwards.
    void replay(const QStringList &ids, ReplayCallback done);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void refreshed();
    void failed(const idl::console::GatewayError &error);

private:
    GatewayClient *m_client;
    protocol::DlqFilter m_filter;
    QList<DeadLetter> m_items;
    QPointer<GatewayReply> m_reply;
    bool m_more = false;
};

// Watches for dead letters the user has not looked at yet: while connected as an admin it
// asks every `intervalMs` how many arrived after the last one seen (at most 1000 are
// counted), and says so (the console's status-bar badge). acknowledge() marks everything
// listed so far as seen. GUI thread.
class DeadLetterWatch : public QObject
{
    Q_OBJECT
public:
    explicit DeadLetterWatch(GatewayClient *client, QObject *parent = nullptr);

    void setInterval(int intervalMs) { m_timer.setInterval(intervalMs); }
    // Dead letters at or before this time (RFC 3339) count as seen.
    void setSeenUntil(const QString &time) { m_seenUntil = time; }
    const QString &seenUntil() const { return m_seenUntil; }
    // Marks every dead letter counted so far, and every one up to `newest` (RFC 3339, the
    // newest the user was shown), as seen.
    void acknowledge(const QString &newest = {});
    // Asks now (also done on every (re)connection and every interval).
    void check();
    int unseen() const { return m_unseen; }
    bool moreUnseen() const { return m_more; }

Q_SIGNALS:
    // The number of unseen dead letters changed (`more`: at least that many).
    void unseenChanged(int count, bool more);
    // seenUntil() changed (to keep it across restarts).
    void seenUntilChanged(const QString &time);

private:
    GatewayClient *m_client;
    QTimer m_timer;
    QString m_seenUntil;
    QString m_newest;
    int m_unseen = 0;
    bool m_more = false;
    QPointer<GatewayReply> m_reply;
};

} // namespace idl::console
