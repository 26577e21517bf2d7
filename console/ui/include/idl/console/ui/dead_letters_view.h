#pragma once

#include "idl/console/dead_letters_model.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableView;

namespace idl::console::ui {

class ConsoleContext;
class InlineMessage;

// Dead letters (admin): a filter (code, app, time), the list newest first, the selected dead
// letter in full (reason, source, headers, payload as pretty JSON), and replay of the
// selected ones or of everything the filter selects, after a confirmation, with the counts
// the gateway reports. Listing marks the dead letters as seen (the status-bar badge).
class DeadLettersView : public QWidget
{
    Q_OBJECT
public:
    DeadLettersView(ConsoleContext *context, DeadLetterWatch *watch, QWidget *parent = nullptr);

    DeadLettersModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    QPlainTextEdit *detail() const { return m_detail; }
    // Lists with the filter fields.
    void refresh();
    // Replays the selected rows (all matching when `all`), asking first unless `confirm` is
    // false (tests).
    void replay(bool all, bool confirm = true);

private:
    void showDetail();
    void updateButtons();

    ConsoleContext *m_context;
    DeadLetterWatch *m_watch;
    DeadLettersModel *m_model;
    QComboBox *m_code;
    QLineEdit *m_app;
    QLineEdit *m_from;
    QLineEdit *m_to;
    QPushButton *m_replaySelected;
    QPushButton *m_replayAll;
    QLabel *m_count;
    InlineMessage *m_message;
    QTableView *m_table;
    QPlainTextEdit *m_detail;
};

} // namespace idl::console::ui
