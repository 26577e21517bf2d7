#pragma once

#include "idl/console/profile_store.h"
#include "idl/console/secret_store.h"
#include "idl/console/time_range.h"

#include <QMainWindow>

class QComboBox;
class QFrame;
class QLabel;
class QSettings;
class QTabWidget;
class QTimer;
class QToolButton;

namespace idl::console {
class AlertNotifier;
class AlertWatch;
class DeadLetterWatch;
} // namespace idl::console

namespace idl::console::ui {

class AlertsView;
class AnalyticsView;
class DeadLettersView;
class ConsoleContext;
class InlineMessage;
class QueryTab;
class SavedQueriesPanel;
class TailTab;
class TrayAlertNotifier;

// The console's main window: the cluster profile selector and connection state in the
// toolbar (with the profile's colour as a strip), tabs for queries, live tails and
// analytics, the saved-queries sidebar, menus with keyboard shortcuts, one inline banner for
// connection problems (no dialog storms), and window layout and open tabs remembered in
// QSettings. GUI thread.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    MainWindow(QSettings *settings, SecretStore *secrets, QWidget *parent = nullptr);
    ~MainWindow() override;

    // Connects to a stored profile (token from the SecretStore, or its stack.json).
    void connectProfile(const QString &name);
    // Imports an idl-stack stack.json as a profile and connects to it.
    bool importStack(const QString &stackJsonPath);

    QueryTab *newQueryTab(const QString &q = {}, const TimeRange &range = {}, bool run = false);
    TailTab *newTailTab(const QString &q = {}, bool start = false);
    AnalyticsView *showAnalytics();
    // The dead-letters view (admin), listed afresh.
    DeadLettersView *showDeadLetters();
    DeadLetterWatch *deadLetterWatch() const { return m_dlqWatch; }
    // The Alerts view (rules, editor with preview, firing, history), listed afresh.
    AlertsView *showAlerts();
    // Opens the Alerts view with a new rule for this query ("Create alert from this query").
    AlertsView *createAlert(const QString &q);
    AlertWatch *alertWatch() const { return m_alertWatch; }
    // Who is told when an alert fires (default: the system tray); not owned, null: nobody.
    void setAlertNotifier(AlertNotifier *notifier);
    void openProfiles();
    // Restores the tabs of the last session (or opens a default query tab).
    void restoreTabs();

    ConsoleContext *context() const { return m_context; }
    QTabWidget *tabs() const { return m_tabs; }
    InlineMessage *banner() const { return m_banner; }
    SavedQueriesPanel *savedPanel() const { return m_savedPanel; }
    ProfileStore *profiles() { return &m_profiles; }
    QString connectionText() const;

protected:
    void closeEvent(QCloseEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void buildActions();
    void reloadProfiles();
    void onConnectionLost(const QString &message, int delayMs);
    void updateConnectionLabel();
    void saveQuery(const QString &q, const TimeRange &range);
    void openSaved(const QString &q, const TimeRange &range, bool newTab);
    QueryTab *currentQueryTab() const;
    TailTab *currentTailTab() const;
    void saveWindowState();
    void setProfileColour(const QColor &c);
    void showShortcuts();

    QSettings *m_settings;
    SecretStore *m_secrets;
    ProfileStore m_profiles;
    ConsoleContext *m_context;
    QTabWidget *m_tabs;
    InlineMessage *m_banner;
    QFrame *m_strip;
    QComboBox *m_profileBox;
    QLabel *m_connection;
    QLabel *m_server;
    SavedQueriesPanel *m_savedPanel;
    QDockWidget *m_savedDock;
    AnalyticsView *m_analytics = nullptr;
    DeadLettersView *m_deadLetters = nullptr;
    AlertsView *m_alerts = nullptr;
    DeadLetterWatch *m_dlqWatch;
    QToolButton *m_dlqBadge;
    AlertWatch *m_alertWatch;
    TrayAlertNotifier *m_tray;
    QToolButton *m_alertBadge;
    QTimer *m_countdown;
    QString m_profileName;
    QString m_lostMessage;
    qint64 m_reconnectAtMs = 0;
    bool m_switchingProfile = false;
};

} // namespace idl::console::ui
