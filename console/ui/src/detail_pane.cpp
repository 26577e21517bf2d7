#include "idl/console/ui/detail_pane.h"

#include "idl/console/ui/theme.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace idl::console::ui {

DetailPane::DetailPane(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("detailPane"));
    auto *l = new QVBoxLayout(this);
    l->setContentsMargins(0, 0, 0, 0);
    auto *head = new QHBoxLayout;
    m_title = new QLabel(tr("Event"), this);
    m_title->setTextFormat(Qt::PlainText); // app and host come from whoever sent the log
    QFont f = m_title->font();
    f.setBold(true);
    m_title->setFont(f);
    m_copy = new QPushButton(icon(QStringLiteral("copy")), tr("Copy JSON"), this);
    m_copy->setToolTip(tr("Copy the event as JSON (Ctrl+Shift+C)"));
    m_copyMessage = new QPushButton(tr("Copy message"), this);
    head->addWidget(m_title, 1);
    head->addWidget(m_copyMessage);
    head->addWidget(m_copy);
    l->addLayout(head);
    m_text = new QPlainTextEdit(this);
    m_text->setReadOnly(true);
    m_text->setFont(monospaceFont());
    m_text->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_text->setPlaceholderText(tr("Select an event to see all of its fields."));
    l->addWidget(m_text, 1);
    connect(m_copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(json()); });
    connect(m_copyMessage, &QPushButton::clicked, this, [this] {
        QApplication::clipboard()->setText(m_row.value(QLatin1String("message")).toString());
    });
    clear();
}

void DetailPane::setRow(const QJsonObject &row)
{
    m_row = row;
    m_text->setPlainText(json());
    m_title->setText(QStringLiteral("%1 · %2 · %3")
                         .arg(row.value(QLatin1String("level")).toString().toUpper(),
                              row.value(QLatin1String("app")).toString(),
                              row.value(QLatin1String("time")).toString()));
    m_copy->setEnabled(true);
    m_copyMessage->setEnabled(true);
}

void DetailPane::clear()
{
    m_row = {};
    m_text->clear();
    m_title->setText(tr("Event"));
    m_copy->setEnabled(false);
    m_copyMessage->setEnabled(false);
}

QString DetailPane::json() const
{
    if (m_row.isEmpty())
        return {};
    return QString::fromUtf8(QJsonDocument(m_row).toJson(QJsonDocument::Indented)).trimmed();
}

} // namespace idl::console::ui
