#include "idl/console/saved_queries_model.h"

#include <QJsonArray>

namespace idl::console {

SavedQuery SavedQuery::fromJson(const QJsonObject &o)
{
    SavedQuery s;
    s.uuid = o.value(QLatin1String("uuid")).toString();
    s.name = o.value(QLatin1String("name")).toString();
    s.q = o.value(QLatin1String("q")).toString();
    s.from = o.value(QLatin1String("from")).toString(QStringLiteral("-1h"));
    s.to = o.value(QLatin1String("to")).toString(QStringLiteral("now"));
    s.shared = o.value(QLatin1String("shared")).toBool();
    s.owner = o.value(QLatin1String("owner")).toString();
    s.created = o.value(QLatin1String("created")).toString();
    s.updated = o.value(QLatin1String("updated")).toString();
    return s;
}

QJsonObject SavedQuery::toJson() const
{
    QJsonObject o{{QStringLiteral("name"), name},
                  {QStringLiteral("q"), q},
                  {QStringLiteral("from"), from},
                  {QStringLiteral("to"), to},
                  {QStringLiteral("shared"), shared}};
    if (!uuid.isEmpty())
        o.insert(QStringLiteral("uuid"), uuid);
    return o;
}

SavedQueriesModel::SavedQueriesModel(GatewayClient *client, QObject *parent)
    : QAbstractListModel(parent), m_client(client)
{}

void SavedQueriesModel::refresh()
{
    if (!m_client)
        return;
    GatewayReply *r = m_client->send(protocol::SavedList{});
    connect(r, &GatewayReply::finished, this, [this](const QJsonObject &msg) {
        beginResetModel();
        m_items.clear();
        for (const auto &v : msg.value(QLatin1String("items")).toArray())
            m_items.append(SavedQuery::fromJson(v.toObject()));
        endResetModel();
        Q_EMIT refreshed();
    });
    connect(r, &GatewayReply::failed, this, &SavedQueriesModel::failed);
}

void SavedQueriesModel::save(const SavedQuery &query, Callback done)
{
    if (!m_client)
        return;
    protocol::SavedPut put;
    put.uuid = query.uuid.toStdString();
    put.name = query.name.toStdString();
    put.q = query.q.toStdString();
    put.range = {query.from.toStdString(), query.to.toStdString()};
    put.shared = query.shared;
    GatewayReply *r = m_client->send(put);
    connect(r, &GatewayReply::finished, this, [this, done](const QJsonObject &msg) {
        const SavedQuery stored =
            SavedQuery::fromJson(msg.value(QLatin1String("saved")).toObject());
        upsert(stored);
        if (done)
            done(&stored, nullptr);
    });
    connect(r, &GatewayReply::failed, this, [this, done](const GatewayError &e) {
        if (done)
            done(nullptr, &e);
        Q_EMIT failed(e);
    });
}

void SavedQueriesModel::rename(const QString &uuid, const QString &name, Callback done)
{
    const int row = indexOf(uuid);
    if (row < 0)
        return;
    SavedQuery q = m_items.at(row);
    q.name = name;
    save(q, std::move(done));
}

void SavedQueriesModel::setShared(const QString &uuid, bool shared, Callback done)
{
    const int row = indexOf(uuid);
    if (row < 0)
        return;
    SavedQuery q = m_items.at(row);
    q.shared = shared;
    save(q, std::move(done));
}

void SavedQueriesModel::remove(const QString &uuid, Callback done)
{
    if (!m_client)
        return;
    GatewayReply *r = m_client->send(protocol::SavedDelete{uuid.toStdString()});
    connect(r, &GatewayReply::finished, this, [this, uuid, done](const QJsonObject &) {
        const int row = indexOf(uuid);
        if (row >= 0) {
            beginRemoveRows({}, row, row);
            m_items.removeAt(row);
            endRemoveRows();
        }
        if (done)
            done(nullptr, nullptr);
    });
    connect(r, &GatewayReply::failed, this, [this, done](const GatewayError &e) {
        if (done)
            done(nullptr, &e);
        Q_EMIT failed(e);
    });
}

void SavedQueriesModel::upsert(const SavedQuery &q)
{
    const int row = indexOf(q.uuid);
    if (row >= 0) {
        m_items[row] = q;
        Q_EMIT dataChanged(index(row), index(row));
    }
    // Keep the server's order (by name): insert before the first larger name.
    if (row < 0) {
        int at = 0;
        while (at < m_items.size() && m_items.at(at).name.compare(q.name, Qt::CaseInsensitive) <= 0)
            ++at;
        beginInsertRows({}, at, at);
        m_items.insert(at, q);
        endInsertRows();
    }
}

int SavedQueriesModel::indexOf(const QString &uuid) const
{
    for (int i = 0; i < m_items.size(); ++i) {
        if (m_items.at(i).uuid == uuid)
            return i;
    }
    return -1;
}

int SavedQueriesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_items.size());
}

QVariant SavedQueriesModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_items.size())
        return {};
    const SavedQuery &s = m_items.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case Qt::EditRole:
        return s.name;
    case Qt::ToolTipRole:
        return QStringLiteral("%1\n%2 → %3%4")
            .arg(s.q.isEmpty() ? tr("(everything)") : s.q, s.from, s.to,
                 s.shared ? tr("\nshared by %1").arg(s.owner) : QString());
    case UuidRole:
        return s.uuid;
    case QueryRole:
        return s.q;
    case SharedRole:
        return s.shared;
    case OwnerRole:
        return s.owner;
    default:
        return {};
    }
}

} // namespace idl::console
