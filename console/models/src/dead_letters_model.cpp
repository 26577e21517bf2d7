#include "idl/console/dead_letters_model.h"

#include "idl/console/log_row.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace idl::console {
namespace {

QString str(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toString();
}

ReplayResult replayFromJson(const QJsonObject &o)
{
    ReplayResult r;
    r.replayed = o.value(QLatin1String("replayed")).toInteger();
    r.skipped = o.value(QLatin1String("skipped")).toInteger();
    for (const auto &v : o.value(QLatin1String("ids")).toArray())
        r.ids << v.toString();
    r.more = o.value(QLatin1String("more")).toBool();
    return r;
}

// One millisecond after an RFC 3339 time (dead_at has millisecond precision).
QString justAfter(const QString &time)
{
    const QDateTime t = QDateTime::fromString(time, Qt::ISODateWithMs);
    return t.isValid() ? t.addMSecs(1).toUTC().toString(Qt::ISODateWithMs) : time;
}

} // namespace

DeadLetter DeadLetter::fromJson(const QJsonObject &o)
{
    DeadLetter d;
    d.id = str(o, "id");
    d.deadAt = str(o, "dead_at");
    d.firstSeen = str(o, "first_seen");
    d.app = str(o, "app");
    d.code = str(o, "code");
    d.reason = str(o, "reason");
    d.attempts = o.value(QLatin1String("attempts")).toInt();
    const QJsonObject src = o.value(QLatin1String("source")).toObject();
    d.sourceTopic = str(src, "topic");
    d.sourcePartition = src.value(QLatin1String("partition")).toInteger(-1);
    d.sourceOffset = src.value(QLatin1String("offset")).toInteger(-1);
    d.bytes = o.value(QLatin1String("bytes")).toInteger();
    d.replayedAt = str(o, "replayed_at");
    d.replayedBy = str(o, "replayed_by");
    return d;
}

QString DeadLetterDetail::prettyPayload() const
{
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(payload.toUtf8(), &err);
    if (err.error != QJsonParseError::NoError || doc.isNull())
        return payload;
    return QString::fromUtf8(doc.toJson(QJsonDocument::Indented));
}

DeadLettersModel::DeadLettersModel(GatewayClient *client, QObject *parent)
    : QAbstractTableModel(parent), m_client(client)
{}

void DeadLettersModel::refresh(const protocol::DlqFilter &filter, qint64 limit)
{
    if (m_reply)
        m_client->cancel(m_reply);
    m_filter = filter;
    protocol::DlqList req;
    req.filter = filter;
    req.limit = std::clamp<std::int64_t>(limit, 1, protocol::kMaxDlqList);
    GatewayReply *r = m_client->send(req);
    m_reply = r;
    connect(r, &GatewayReply::finished, this, [this, r](const QJsonObject &msg) {
        if (r != m_reply)
            return;
        m_reply = nullptr;
        beginResetModel();
        m_items.clear();
        for (const auto &v : msg.value(QLatin1String("items")).toArray())
            m_items.append(DeadLetter::fromJson(v.toObject()));
        m_more = msg.value(QLatin1String("more")).toBool();
        endResetModel();
        Q_EMIT refreshed();
    });
    connect(r, &GatewayReply::failed, this, [this, r](const GatewayError &e) {
        if (r == m_reply)
            m_reply = nullptr;
        Q_EMIT failed(e);
    });
}

void DeadLettersModel::fetchDetail(const QString &id, DetailCallback done)
{
    const auto po = protocol::parseDlqId(id.toStdString());
    if (!po) {
        const GatewayError e{QStringLiteral("bad_field"), QStringLiteral("no such dead letter")};
        done(nullptr, &e);
        return;
    }
    GatewayReply *r = m_client->send(protocol::DlqGet{po->first, po->second});
    connect(r, &GatewayReply::finished, this, [done](const QJsonObject &msg) {
        const QJsonObject item = msg.value(QLatin1String("item")).toObject();
        DeadLetterDetail d;
        d.letter = DeadLetter::fromJson(item);
        for (const auto &h : item.value(QLatin1String("headers")).toArray()) {
            const QJsonArray kv = h.toArray();
            d.headers.append({kv.at(0).toString(), kv.at(1).toString()});
        }
        d.payload = item.value(QLatin1String("payload")).toString();
        done(&d, nullptr);
    });
    connect(r, &GatewayReply::failed, this, [done](const GatewayError &e) { done(nullptr, &e); });
}

void DeadLettersModel::replay(const QStringList &ids, ReplayCallback done)
{
    protocol::DlqReplay req;
    for (const QString &id : ids)
        req.ids.push_back(id.toStdString());
    req.all = ids.isEmpty();
    if (req.all)
        req.filter = m_filter;
    GatewayReply *r = m_client->send(req);
    connect(r, &GatewayReply::finished, this, [this, done](const QJsonObject &msg) {
        const ReplayResult result = replayFromJson(msg);
        done(&result, nullptr);
        refresh(m_filter);
    });
    connect(r, &GatewayReply::failed, this, [done](const GatewayError &e) { done(nullptr, &e); });
}

int DeadLettersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_items.size());
}

int DeadLettersModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DeadLettersModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_items.size())
        return {};
    const DeadLetter &d = m_items.at(index.row());
    if (role == Qt::ToolTipRole && index.column() == ReasonCol)
        return plainTextToolTip(d.reason); // log text never as rich text
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case DeadAtCol:
        return d.deadAt;
    case AppCol:
        return d.app;
    case CodeCol:
        return d.code;
    case ReasonCol:
        return d.reason;
    case AttemptsCol:
        return d.attempts;
    case ReplayedCol:
        return d.replayedAt.isEmpty() ? QString() : tr("%1 by %2").arg(d.replayedAt, d.replayedBy);
    default:
        return {};
    }
}

QVariant DeadLettersModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case DeadAtCol:
        return tr("Dead-lettered");
    case AppCol:
        return tr("App");
    case CodeCol:
        return tr("Code");
    case ReasonCol:
        return tr("Reason");
    case AttemptsCol:
        return tr("Attempts");
    case ReplayedCol:
        return tr("Replayed");
    default:
        return {};
    }
}

DeadLetterWatch::DeadLetterWatch(GatewayClient *client, QObject *parent)
    : QObject(parent), m_client(client)
{
    m_timer.setInterval(30'000);
    connect(&m_timer, &QTimer::timeout, this, &DeadLetterWatch::check);
    connect(m_client, &GatewayClient::connected, this, [this] {
        if (m_client->serverInfo().role == u"admin") {
            m_timer.start();
            check();
        } else {
            m_timer.stop();
            if (m_unseen) {
                m_unseen = 0;
                Q_EMIT unseenChanged(0, false);
            }
        }
    });
}

void DeadLetterWatch::check()
{
    if (m_reply || m_client->state() != GatewayClient::State::Connected ||
        m_client->serverInfo().role != u"admin")
        return;
    protocol::DlqList req;
    if (!m_seenUntil.isEmpty())
        req.filter.from = justAfter(m_seenUntil).toStdString();
    req.limit = protocol::kMaxDlqList;
    GatewayReply *r = m_client->send(req);
    m_reply = r;
    connect(r, &GatewayReply::finished, this, [this](const QJsonObject &msg) {
        m_reply = nullptr;
        const QJsonArray items = msg.value(QLatin1String("items")).toArray();
        m_newest = items.isEmpty()
                       ? QString()
                       : items.first().toObject().value(QLatin1String("dead_at")).toString();
        const int count = static_cast<int>(items.size());
        const bool more = msg.value(QLatin1String("more")).toBool();
        if (count != m_unseen || more != m_more) {
            m_unseen = count;
            m_more = more;
            Q_EMIT unseenChanged(count, more);
        }
    });
    connect(r, &GatewayReply::failed, this, [this](const GatewayError &) { m_reply = nullptr; });
}

void DeadLetterWatch::acknowledge(const QString &newest)
{
    // RFC 3339 UTC times with milliseconds compare as text.
    const QString until = std::max(newest, m_newest);
    if (!until.isEmpty() && until > m_seenUntil) {
        m_seenUntil = until;
        Q_EMIT seenUntilChanged(m_seenUntil);
    }
    if (m_unseen || m_more) {
        m_unseen = 0;
        m_more = false;
        Q_EMIT unseenChanged(0, false);
    }
}

} // namespace idl::console
