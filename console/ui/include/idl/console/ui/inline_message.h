#pragma once

#include <QFrame>

class QLabel;
class QTimer;
class QToolButton;

namespace idl::console::ui {

// A slim banner shown above a view for errors and notices, instead of a dialog: one at a
// time (a new message replaces the old one, repeats are counted), closable, and notices hide
// themselves after a few seconds.
class InlineMessage : public QFrame
{
    Q_OBJECT
public:
    enum class Kind { Info, Warning, Error };

    explicit InlineMessage(QWidget *parent = nullptr);

    void showMessage(Kind kind, const QString &text, int autoHideMs = -1);
    void showError(const QString &text) { showMessage(Kind::Error, text); }
    void showInfo(const QString &text) { showMessage(Kind::Info, text, 5000); }
    QString text() const;
    Kind kind() const { return m_kind; }

private:
    QLabel *m_icon;
    QLabel *m_label;
    QToolButton *m_close;
    QTimer *m_hide;
    QString m_text;
    Kind m_kind = Kind::Info;
    int m_repeats = 0;
};

} // namespace idl::console::ui
