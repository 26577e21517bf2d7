#pragma once

#include "idl/console/gateway_client.h"

#include <QAbstractListModel>
#include <QJsonObject>
#include <QPointer>

#include <functional>

namespace idl::console {

// A saved query as the gateway stores it (protocol 3.7).
struct SavedQuery
{
    QString uuid; // empty until stored
    QString name;
    QString q;
    QString from = QStringLiteral("-1h");
    QString to = QStringLiteral("now");
    bool shared = false;
    QString owner;
    QString created;
    QString updated;

    static SavedQuery fromJson(const QJsonObject &o);
    QJsonObject toJson() const;
};

// The saved queries visible to the user (own + shared), kept in sync with the gateway:
// refresh() lists them; save(), rename(), setShared() and remove() change them on the server
// and then here. Display: the name; a "shared" mark via SharedRole. Lives in the GUI thread.
class SavedQueriesModel : public QAbstractListModel
{
    Q_OBJECT
public:
    enum Role { UuidRole = Qt::UserRole + 1, QueryRole, SharedRole, OwnerRole };
    // Called with the stored query, or with an error.
    using Callback = std::function<void(const SavedQuery *, const GatewayError *)>;

    explicit SavedQueriesModel(GatewayClient *client, QObject *parent = nullptr);

    void refresh();
    // Creates (no uuid) or replaces a saved query.
    void save(const SavedQuery &query, Callback done = {});
    void rename(const QString &uuid, const QString &name, Callback done = {});
    void setShared(const QString &uuid, bool shared, Callback done = {});
    void remove(const QString &uuid, Callback done = {});

    const QList<SavedQuery> &items() const { return m_items; }
    // Row of a uuid, or -1.
    int indexOf(const QString &uuid) const;
    const SavedQuery &at(int row) const { return m_items.at(row); }

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void refreshed();
    void failed(const idl::console::GatewayError &error);

private:
    void upsert(const SavedQuery &q);

    QPointer<GatewayClient> m_client;
    QList<SavedQuery> m_items;
};

} // namespace idl::console
