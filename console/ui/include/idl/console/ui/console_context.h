#pragma once

#include "idl/console/gateway_client.h"
#include "idl/console/saved_queries_model.h"

#include <QObject>
#include <QStringList>

namespace idl::console::ui {

// What every view of one window shares: the gateway connection, the saved queries, the
// apps and hosts known for completion, and the theme. Owned by the MainWindow; GUI thread.
class ConsoleContext : public QObject
{
    Q_OBJECT
public:
    explicit ConsoleContext(QObject *parent = nullptr);

    GatewayClient *client() const { return m_client; }
    SavedQueriesModel *savedQueries() const { return m_saved; }

    const QStringList &knownApps() const { return m_apps; }
    const QStringList &knownHosts() const { return m_hosts; }
    // Asks the gateway for the apps and hosts seen in the last 24 h.
    void refreshKnownValues();

    bool isDark() const { return m_dark; }
    void setDark(bool dark);

Q_SIGNALS:
    void knownValuesChanged();
    void themeChanged(bool dark);

private:
    GatewayClient *m_client;
    SavedQueriesModel *m_saved;
    QStringList m_apps;
    QStringList m_hosts;
    bool m_dark = false;
};

} // namespace idl::console::ui
