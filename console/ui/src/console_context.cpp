#include "idl/console/ui/console_context.h"

#include "idl/console/histogram_data.h"

namespace idl::console::ui {

ConsoleContext::ConsoleContext(QObject *parent)
    : QObject(parent), m_client(new GatewayClient(this)),
      m_saved(new SavedQueriesModel(m_client, this))
{
    connect(m_client, &GatewayClient::connected, this, [this] {
        refreshKnownValues();
        m_saved->refresh();
    });
}

void ConsoleContext::refreshKnownValues()
{
    for (const QString &field : {QStringLiteral("app"), QStringLiteral("host")}) {
        protocol::Top top;
        top.field = field.toStdString();
        top.range = {"-24h", "now"};
        top.limit = 100;
        GatewayReply *r = m_client->send(top);
        connect(r, &GatewayReply::finished, this, [this, field](const QJsonObject &msg) {
            QStringList values;
            for (const auto &item : topItemsFromJson(msg))
                values << item.value;
            values.sort(Qt::CaseInsensitive);
            (field == u"app" ? m_apps : m_hosts) = values;
            Q_EMIT knownValuesChanged();
        });
    }
}

void ConsoleContext::setDark(bool dark)
{
    if (m_dark == dark)
        return;
    m_dark = dark;
    Q_EMIT themeChanged(dark);
}

} // namespace idl::console::ui
