#include "idl/console/ui/inline_message.h"

#include "idl/console/ui/theme.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QTimer>
#include <QToolButton>

namespace idl::console::ui {

InlineMessage::InlineMessage(QWidget *parent) : QFrame(parent)
{
    setObjectName(QStringLiteral("inlineMessage"));
    auto *l = new QHBoxLayout(this);
    l->setContentsMargins(10, 6, 6, 6);
    l->setSpacing(8);
    m_icon = new QLabel(this);
    m_label = new QLabel(this);
    m_label->setTextFormat(Qt::PlainText); // server messages may quote queries and log text
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_close = new QToolButton(this);
    m_close->setIcon(icon(QStringLiteral("close")));
    m_close->setAutoRaise(true);
    m_close->setToolTip(tr("Dismiss"));
    l->addWidget(m_icon);
    l->addWidget(m_label, 1);
    l->addWidget(m_close);
    m_hide = new QTimer(this);
    m_hide->setSingleShot(true);
    connect(m_hide, &QTimer::timeout, this, &QWidget::hide);
    connect(m_close, &QToolButton::clicked, this, &QWidget::hide);
    hide();
}

QString InlineMessage::text() const
{
    return isVisible() ? m_text : QString();
}

void InlineMessage::showMessage(Kind kind, const QString &text, int autoHideMs)
{
    if (isVisible() && text == m_text && kind == m_kind)
        ++m_repeats;
    else
        m_repeats = 0;
    m_text = text;
    m_kind = kind;
    QColor c;
    QString iconName;
    switch (kind) {
    case Kind::Info:
        c = QColor(0x3b, 0x7d, 0xd8);
        iconName = QStringLiteral("info");
        break;
    case Kind::Warning:
        c = QColor(0xe0, 0x9a, 0x12);
        iconName = QStringLiteral("warning");
        break;
    case Kind::Error:
        c = QColor(0xd9, 0x3b, 0x3b);
        iconName = QStringLiteral("error");
        break;
    }
    QColor bg = c;
    bg.setAlphaF(0.13f);
    setStyleSheet(
        QStringLiteral("#inlineMessage { background: rgba(%1,%2,%3,%4); border: 1px solid "
                       "rgba(%1,%2,%3,0.45); border-radius: 4px; }")
            .arg(c.red())
            .arg(c.green())
            .arg(c.blue())
            .arg(bg.alphaF()));
    m_icon->setPixmap(icon(iconName).pixmap(16, 16));
    m_label->setText(m_repeats > 0 ? QStringLiteral("%1 (×%2)").arg(text).arg(m_repeats + 1)
                                   : text);
    show();
    if (autoHideMs > 0)
        m_hide->start(autoHideMs);
    else
        m_hide->stop();
}

} // namespace idl::console::ui
