#pragma once

#include "idl/console/live_tail_model.h"
#include "idl/console/tail_subscription.h"

#include <QDialog>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QTableView;
class QTableWidget;
class QToolButton;

namespace idl::console::ui {

class ConsoleContext;
class DetailPane;
class InlineMessage;
class QueryEdit;

// A live tail tab: server-side filter, optional history, pause/resume, auto-scroll (turns
// itself off when you scroll up, back on at the bottom), ring buffer capacity, event rate
// and dropped counters, highlight rules, and the detail pane. Resumes without a gap when
// the connection comes back.
class TailTab : public QWidget
{
    Q_OBJECT
public:
    explicit TailTab(ConsoleContext *context, QWidget *parent = nullptr);

    void start();
    void stop();
    void setFilter(const QString &q);
    QString filter() const;
    void togglePause();
    void focusQuery();
    QString title() const;

    LiveTailModel *model() const { return m_model; }
    TailSubscription *subscription() const { return m_tail; }
    QTableView *table() const { return m_table; }
    InlineMessage *message() const { return m_message; }
    void setAutoScroll(bool on);
    bool autoScroll() const;

Q_SIGNALS:
    void titleChanged(const QString &title);

private:
    void updateCounters();
    void editHighlights();
    void onBatch(int added, int removed);
    void updatePauseButton();

    ConsoleContext *m_context;
    LiveTailModel *m_model;
    TailSubscription *m_tail;
    QueryEdit *m_edit;
    QComboBox *m_history;
    QPushButton *m_startButton;
    QToolButton *m_pause;
    QCheckBox *m_autoScroll;
    QToolButton *m_clear;
    QToolButton *m_highlight;
    QToolButton *m_settings;
    InlineMessage *m_message;
    QTableView *m_table;
    DetailPane *m_detail;
    QLabel *m_rate;
    QLabel *m_rows;
    QLabel *m_dropped;
    QLabel *m_state;
    bool m_userScrolling = false;
};

// Edits highlight rules: text → background colour.
class HighlightRulesDialog : public QDialog
{
    Q_OBJECT
public:
    HighlightRulesDialog(const QList<HighlightRule> &rules, QWidget *parent = nullptr);
    QList<HighlightRule> rules() const;

private:
    void addRow(const HighlightRule &rule);
    QTableWidget *m_table;
};

} // namespace idl::console::ui
