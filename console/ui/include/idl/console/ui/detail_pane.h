#pragma once

#include <QJsonObject>
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace idl::console::ui {

// Shows one event as pretty-printed JSON, with buttons to copy the JSON or the message.
class DetailPane : public QWidget
{
    Q_OBJECT
public:
    explicit DetailPane(QWidget *parent = nullptr);

    void setRow(const QJsonObject &row);
    void clear();
    QString json() const;

Q_SIGNALS:
    // The user asked to filter by a field value (e.g. "app:checkout").
    void filterRequested(const QString &term);

private:
    QLabel *m_title;
    QPlainTextEdit *m_text;
    QPushButton *m_copy;
    QPushButton *m_copyMessage;
    QJsonObject m_row;
};

} // namespace idl::console::ui
