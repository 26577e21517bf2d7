#pragma once

#include "idl/console/alerts_model.h"

#include <QObject>
#include <QPointer>
#include <QWidget>

class QChartView;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QSystemTrayIcon;
class QTableView;
class QTableWidget;
class QTabWidget;

namespace idl::console::ui {

class ConsoleContext;
class InlineMessage;
class QueryEdit;

// The Alerts view: the rules the user sees (list), an editor for one rule (every field of
// docs/alerts.md) whose series are previewed on a chart (`alerts.rules.test`), the series
// firing now (kept live by `alert.state` pushes) and the history of state changes.
class AlertsView : public QWidget
{
    Q_OBJECT
public:
    AlertsView(ConsoleContext *context, AlertWatch *watch, QWidget *parent = nullptr);

    // Lists the rules, the firing series and the history afresh.
    void refresh();
    // Starts a new rule in the editor, its query prefilled (from a query tab), and previews it.
    void newRule(const QString &q = {});
    // Loads a rule into the editor.
    void editRule(const AlertRule &rule);
    // The editor's rule; nullopt (and the reason shown) when a field is invalid (the name
    // may be empty for a preview).
    std::optional<AlertRuleDraft> editedRule(bool needName = true);
    // Saves the edited rule (alerts.rules.put).
    void save();
    // Deletes the rule in the editor (asks first when `confirm`).
    void removeRule(bool confirm = true);
    // Previews the edited rule's series on the chart.
    void preview();

    AlertRulesModel *rules() const { return m_rules; }
    QTableView *rulesTable() const { return m_rulesTable; }
    QTableView *firingTable() const { return m_firingTable; }
    QTableView *historyTable() const { return m_historyTable; }
    QueryEdit *queryEdit() const { return m_query; }
    QLineEdit *nameEdit() const { return m_name; }
    QChartView *chart() const { return m_chart; }
    InlineMessage *message() const { return m_message; }
    // The last preview drawn (no buckets before the first).
    const AlertTestResult &lastPreview() const { return m_preview; }
    // The editor's text fields, for tests: window, interval, for, resolve.
    QLineEdit *windowEdit() const { return m_window; }
    QSpinBox *thresholdEdit() const { return m_threshold; }
    QComboBox *groupByBox() const { return m_groupBy; }
    QComboBox *conditionBox() const { return m_condition; }

Q_SIGNALS:
    void previewed();
    void saved(const idl::protocol::AlertRule &rule);

private:
    void drawPreview();
    void updateTabTitles();
    void addTargetRow(const AlertTarget &target);
    void updateEnabledFields();

    ConsoleContext *m_context;
    AlertWatch *m_watch;
    AlertRulesModel *m_rules;
    QString m_uuid; // of the rule in the editor; empty: new
    AlertTestResult m_preview;
    quint64 m_previewSeq = 0;

    InlineMessage *m_message;
    QTableView *m_rulesTable;
    QLabel *m_editorTitle;
    QLineEdit *m_name;
    QueryEdit *m_query;
    QLineEdit *m_window;
    QComboBox *m_condition;
    QSpinBox *m_threshold;
    QComboBox *m_groupBy;
    QLineEdit *m_interval;
    QLineEdit *m_for;
    QLineEdit *m_resolve;
    QComboBox *m_severity;
    QTableWidget *m_targets;
    QPushButton *m_addTarget;
    QPushButton *m_removeTarget;
    QCheckBox *m_shared;
    QCheckBox *m_enabled;
    QPushButton *m_save;
    QPushButton *m_delete;
    QChartView *m_chart;
    QLabel *m_previewStatus;
    QTabWidget *m_lists;
    QTableView *m_firingTable;
    QTableView *m_historyTable;
};

// Desktop notifications of firing alerts: a system-tray message when the desktop has a tray,
// else the fallback (the window's status bar). Text is plain: rule names and series (app and
// host names) come from users and logs.
class TrayAlertNotifier : public QObject, public AlertNotifier
{
    Q_OBJECT
public:
    explicit TrayAlertNotifier(QObject *parent = nullptr);

    void alertFired(const AlertChange &change) override;
    // Where the message goes when there is no system tray.
    void setFallback(std::function<void(const QString &title, const QString &body)> fallback)
    {
        m_fallback = std::move(fallback);
    }

    // The message of a change.
    static QString title(const AlertChange &change);
    static QString body(const AlertChange &change);

Q_SIGNALS:
    // The user clicked the message.
    void activated();

private:
    QSystemTrayIcon *m_tray = nullptr;
    std::function<void(const QString &, const QString &)> m_fallback;
};

} // namespace idl::console::ui
