#include "idl/console/ui/main_window.h"

#include "idl/console/ui/alerts_view.h"
#include "idl/console/ui/analytics_view.h"
#include "idl/console/ui/console_context.h"
#include "idl/console/ui/dead_letters_view.h"
#include "idl/console/ui/inline_message.h"
#include "idl/console/ui/profile_dialog.h"
#include "idl/console/ui/query_tab.h"
#include "idl/console/ui/saved_queries_panel.h"
#include "idl/console/ui/tail_tab.h"
#include "idl/console/ui/theme.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDockWidget>
#include <QFrame>
#include <QInputDialog>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QSettings>
#include <QStatusBar>
#include <QTabBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace idl::console::ui {

namespace {

QIcon dot(const QColor &c)
{
    QPixmap pm(12, 12);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(c);
    p.drawEllipse(QRectF(1, 1, 10, 10));
    return QIcon(pm);
}

} // namespace

MainWindow::MainWindow(QSettings *settings, SecretStore *secrets, QWidget *parent)
    : QMainWindow(parent), m_settings(settings), m_secrets(secrets), m_profiles(settings),
      m_context(new ConsoleContext(this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Instant Dev Logs"));
    setWindowIcon(icon(QStringLiteral("app")));
    m_context->setDark(isDarkNow());

    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    m_strip = new QFrame(central);
    m_strip->setFixedHeight(3);
    layout->addWidget(m_strip);
    m_banner = new InlineMessage(central);
    auto *bannerBox = new QVBoxLayout;
    bannerBox->setContentsMargins(8, 6, 8, 0);
    bannerBox->addWidget(m_banner);
    layout->addLayout(bannerBox);
    m_tabs = new QTabWidget(central);
    m_tabs->setObjectName(QStringLiteral("tabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->setTabsClosable(true);
    m_tabs->setMovable(true);
    layout->addWidget(m_tabs, 1);
    setCentralWidget(central);

    auto *toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolbar"));
    toolbar->setMovable(false);
    toolbar->setIconSize(QSize(18, 18));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_profileBox = new QComboBox(toolbar);
    m_profileBox->setObjectName(QStringLiteral("profileBox"));
    m_profileBox->setMinimumWidth(160);
    m_profileBox->setToolTip(tr("Cluster profile"));
    toolbar->addWidget(new QLabel(tr("  Cluster "), toolbar));
    toolbar->addWidget(m_profileBox);
    m_connection = new QLabel(toolbar);
    m_connection->setObjectName(QStringLiteral("connectionLabel"));
    m_connection->setContentsMargins(10, 0, 10, 0);
    toolbar->addWidget(m_connection);
    toolbar->addSeparator();

    m_savedPanel = new SavedQueriesPanel(m_context->savedQueries(), this);
    m_savedDock = new QDockWidget(tr("Saved queries"), this);
    m_savedDock->setObjectName(QStringLiteral("savedDock"));
    m_savedDock->setWidget(m_savedPanel);
    m_savedDock->setFeatures(QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetMovable);
    addDockWidget(Qt::LeftDockWidgetArea, m_savedDock);
    resizeDocks({m_savedDock}, {240}, Qt::Horizontal);

    m_server = new QLabel(this);
    m_dlqWatch = new DeadLetterWatch(m_context->client(), this);
    m_dlqBadge = new QToolButton(this);
    m_dlqBadge->setObjectName(QStringLiteral("deadLetterBadge"));
    m_dlqBadge->setIcon(icon(QStringLiteral("warning")));
    m_dlqBadge->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_dlqBadge->setAutoRaise(true);
    m_dlqBadge->setToolTip(tr("Dead letters you have not looked at yet (View → Dead letters)"));
    m_dlqBadge->hide();
    connect(m_dlqBadge, &QToolButton::clicked, this, [this] { showDeadLetters(); });
    connect(m_dlqWatch, &DeadLetterWatch::unseenChanged, this, [this](int count, bool more) {
        m_dlqBadge->setText(more ? tr("%1+ new dead letters").arg(count)
                                 : tr("%n new dead letter(s)", nullptr, count));
        m_dlqBadge->setVisible(count > 0);
    });
    connect(m_dlqWatch, &DeadLetterWatch::seenUntilChanged, this, [this](const QString &t) {
        if (!m_profileName.isEmpty())
            m_settings->setValue(QStringLiteral("deadLetters/seenUntil/") + m_profileName, t);
    });
    m_alertWatch = new AlertWatch(m_context->client(), this);
    m_tray = new TrayAlertNotifier(this);
    m_tray->setFallback([this](const QString &title, const QString &body) {
        statusBar()->showMessage(QStringLiteral("%1 · %2").arg(title, body), 15'000);
    });
    connect(m_tray, &TrayAlertNotifier::activated, this, [this] {
        showNormal();
        raise();
        activateWindow();
        showAlerts();
    });
    m_alertWatch->setNotifier(m_tray);
    m_alertBadge = new QToolButton(this);
    m_alertBadge->setObjectName(QStringLiteral("alertBadge"));
    m_alertBadge->setIcon(icon(QStringLiteral("error")));
    m_alertBadge->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_alertBadge->setAutoRaise(true);
    m_alertBadge->setToolTip(tr("Alerts firing now (View → Alerts)"));
    m_alertBadge->hide();
    connect(m_alertBadge, &QToolButton::clicked, this, [this] { showAlerts(); });
    connect(m_alertWatch, &AlertWatch::firingCountChanged, this, [this](int count) {
        m_alertBadge->setText(tr("%n alert(s) firing", nullptr, count));
        m_alertBadge->setVisible(count > 0);
    });
    statusBar()->addPermanentWidget(m_alertBadge);
    statusBar()->addPermanentWidget(m_dlqBadge);
    statusBar()->addPermanentWidget(m_server);
    m_countdown = new QTimer(this);
    m_countdown->setInterval(1000);
    connect(m_countdown, &QTimer::timeout, this, &MainWindow::updateConnectionLabel);

    buildActions();
    // Toolbar actions come from the menus built above.
    for (const QString &name :
         {QStringLiteral("newQuery"), QStringLiteral("newTail"), QStringLiteral("analytics"),
          QStringLiteral("saveQuery"), QStringLiteral("export"), QStringLiteral("profiles")}) {
        if (auto *a = findChild<QAction *>(name))
            toolbar->addAction(a);
    }

    GatewayClient *client = m_context->client();
    connect(client, &GatewayClient::stateChanged, this, &MainWindow::updateConnectionLabel);
    connect(client, &GatewayClient::connected, this, [this] {
        if (QAction *a = findChild<QAction *>(QStringLiteral("deadLetters")))
            a->setEnabled(m_context->client()->serverInfo().role == u"admin");
        m_banner->hide();
        m_countdown->stop();
        updateConnectionLabel();
    });
    connect(client, &GatewayClient::connectionLost, this,
            [this](const GatewayError &e, int delayMs) { onConnectionLost(e.message, delayMs); });
    connect(m_tabs, &QTabWidget::tabCloseRequested, this, [this](int i) {
        QWidget *w = m_tabs->widget(i);
        if (w == m_analytics)
            m_analytics = nullptr;
        if (w == m_deadLetters)
            m_deadLetters = nullptr;
        if (w == m_alerts)
            m_alerts = nullptr;
        m_tabs->removeTab(i);
        w->deleteLater();
    });
    connect(m_profileBox, &QComboBox::activated, this, [this](int i) {
        const QString name = m_profileBox->itemData(i).toString();
        if (name == u"__manage__") {
            m_profileBox->setCurrentIndex(m_profileBox->findData(m_profileName));
            openProfiles();
        } else if (!name.isEmpty() && name != m_profileName) {
            connectProfile(name);
        }
    });
    connect(m_savedPanel, &SavedQueriesPanel::openRequested, this,
            [this](const SavedQuery &q, bool newTab) {
                openSaved(q.q, TimeRange{q.from, q.to}, newTab);
            });

    reloadProfiles();
    restoreGeometry(m_settings->value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(m_settings->value(QStringLiteral("window/state")).toByteArray());
    if (!m_settings->contains(QStringLiteral("window/geometry")))
        resize(1360, 860);
    updateConnectionLabel();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions()
{
    auto make = [this](const QString &name, const QString &text, const QString &iconName,
                       const QList<QKeySequence> &keys, auto slot) {
        auto *a = new QAction(text, this);
        a->setObjectName(name);
        if (!iconName.isEmpty())
            a->setIcon(icon(iconName));
        a->setShortcuts(keys);
        a->setShortcutContext(Qt::WindowShortcut);
        if (!keys.isEmpty())
            a->setToolTip(QStringLiteral("%1 (%2)").arg(
                text, keys.first().toString(QKeySequence::NativeText)));
        connect(a, &QAction::triggered, this, slot);
        addAction(a);
        return a;
    };
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(make(QStringLiteral("newQuery"), tr("New query"), QStringLiteral("search"),
                         {QKeySequence(Qt::CTRL | Qt::Key_T)}, [this] {
                             QueryTab *t = newQueryTab();
                             t->focusQuery();
                         }));
    file->addAction(make(QStringLiteral("newTail"), tr("New live tail"), QStringLiteral("tail"),
                         {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T)}, [this] {
                             // A new tail follows at once, as `tail -f` does, with the
                             // filter of the tab it was opened from.
                             QString q;
                             if (auto *qt = qobject_cast<QueryTab *>(m_tabs->currentWidget()))
                                 q = qt->queryText();
                             else if (auto *tt = qobject_cast<TailTab *>(m_tabs->currentWidget()))
                                 q = tt->filter();
                             TailTab *t = newTailTab(q, true);
                             t->focusQuery();
                         }));
    file->addAction(make(QStringLiteral("closeTab"), tr("Close tab"), QString(),
                         {QKeySequence(Qt::CTRL | Qt::Key_W)}, [this] {
                             if (m_tabs->count() > 0)
                                 Q_EMIT m_tabs->tabCloseRequested(m_tabs->currentIndex());
                         }));
    file->addSeparator();
    file->addAction(make(QStringLiteral("export"), tr("Export CSV…"), QStringLiteral("export"),
                         {QKeySequence(Qt::CTRL | Qt::Key_E)}, [this] {
                             if (QueryTab *t = currentQueryTab())
                                 t->openExportDialog();
                             else
                                 m_banner->showInfo(tr("Export works on a query tab."));
                         }));
    file->addSeparator();
    file->addAction(make(QStringLiteral("quit"), tr("Quit"), QString(),
                         {QKeySequence(Qt::CTRL | Qt::Key_Q)}, [this] { close(); }));

    QMenu *query = menuBar()->addMenu(tr("&Query"));
    query->addAction(make(QStringLiteral("run"), tr("Run / refresh"), QStringLiteral("play"),
                          {QKeySequence(Qt::Key_F5), QKeySequence(Qt::CTRL | Qt::Key_Return)},
                          [this] {
                              if (QueryTab *t = currentQueryTab())
                                  t->run();
                              else if (TailTab *tail = currentTailTab())
                                  tail->start();
                              else if (m_analytics && m_tabs->currentWidget() == m_analytics)
                                  m_analytics->refresh();
                              else if (m_alerts && m_tabs->currentWidget() == m_alerts)
                                  m_alerts->preview();
                          }));
    query->addAction(make(QStringLiteral("focusQuery"), tr("Edit query"), QString(),
                          {QKeySequence(Qt::CTRL | Qt::Key_L)}, [this] {
                              if (QueryTab *t = currentQueryTab())
                                  t->focusQuery();
                              else if (TailTab *tail = currentTailTab())
                                  tail->focusQuery();
                          }));
    query->addAction(make(QStringLiteral("timeRange"), tr("Time range…"), QStringLiteral("clock"),
                          {QKeySequence(Qt::CTRL | Qt::Key_R)}, [this] {
                              if (QueryTab *t = currentQueryTab())
                                  t->pickRange();
                          }));
    query->addAction(make(QStringLiteral("saveQuery"), tr("Save query…"), QStringLiteral("star"),
                          {QKeySequence(Qt::CTRL | Qt::Key_S)}, [this] {
                              if (QueryTab *t = currentQueryTab())
                                  saveQuery(t->queryText(), t->range());
                              else if (TailTab *tail = currentTailTab())
                                  saveQuery(tail->filter(), TimeRange{});
                              else if (m_alerts && m_tabs->currentWidget() == m_alerts)
                                  m_alerts->save();
                          }));
    query->addAction(make(QStringLiteral("copyJson"), tr("Copy selected as JSON"),
                          QStringLiteral("copy"), {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C)},
                          [this] {
                              if (QueryTab *t = currentQueryTab())
                                  t->copySelectedJson();
                          }));
    query->addAction(make(QStringLiteral("createAlert"), tr("Create alert from this query…"),
                          QStringLiteral("error"), {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N)},
                          [this] {
                              if (QueryTab *t = currentQueryTab())
                                  createAlert(t->queryText());
                              else if (TailTab *tail = currentTailTab())
                                  createAlert(tail->filter());
                              else
                                  m_banner->showInfo(tr("Alerts are created from a query tab."));
                          }));
    query->addSeparator();
    query->addAction(make(QStringLiteral("pauseTail"), tr("Pause / resume tail"),
                          QStringLiteral("pause"), {QKeySequence(Qt::CTRL | Qt::Key_P)}, [this] {
                              if (TailTab *t = currentTailTab())
                                  t->togglePause();
                          }));
    query->addAction(make(QStringLiteral("clearTail"), tr("Clear tail"), QStringLiteral("clear"),
                          {QKeySequence(Qt::CTRL | Qt::Key_K)}, [this] {
                              if (TailTab *t = currentTailTab())
                                  t->model()->clear();
                          }));

    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addAction(make(QStringLiteral("analytics"), tr("Analytics"), QStringLiteral("chart"),
                         {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A)},
                         [this] { showAnalytics(); }));
    view->addAction(make(QStringLiteral("alerts"), tr("Alerts"), QStringLiteral("error"),
                         {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L)},
                         [this] { showAlerts(); }));
    view->addAction(
        make(QStringLiteral("deadLetters"), tr("Dead letters"), QStringLiteral("warning"),
             {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D)}, [this] { showDeadLetters(); }));
    QAction *toggleSaved = m_savedDock->toggleViewAction();
    toggleSaved->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_B));
    view->addAction(toggleSaved);
    view->addAction(make(QStringLiteral("nextTab"), tr("Next tab"), QString(),
                         {QKeySequence(Qt::CTRL | Qt::Key_PageDown)}, [this] {
                             if (m_tabs->count() > 0)
                                 m_tabs->setCurrentIndex((m_tabs->currentIndex() + 1) %
                                                         m_tabs->count());
                         }));
    view->addAction(make(QStringLiteral("prevTab"), tr("Previous tab"), QString(),
                         {QKeySequence(Qt::CTRL | Qt::Key_PageUp)}, [this] {
                             if (m_tabs->count() > 0)
                                 m_tabs->setCurrentIndex(
                                     (m_tabs->currentIndex() + m_tabs->count() - 1) %
                                     m_tabs->count());
                         }));

    QMenu *cluster = menuBar()->addMenu(tr("&Cluster"));
    cluster->addAction(make(QStringLiteral("profiles"), tr("Profiles…"), QStringLiteral("server"),
                            {QKeySequence(Qt::CTRL | Qt::Key_Comma)}, [this] { openProfiles(); }));
    cluster->addAction(make(QStringLiteral("reconnect"), tr("Reconnect"), QStringLiteral("refresh"),
                            {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R)}, [this] {
                                if (!m_profileName.isEmpty())
                                    connectProfile(m_profileName);
                            }));

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(make(QStringLiteral("shortcuts"), tr("Keyboard shortcuts"), QString(),
                         {QKeySequence(Qt::Key_F1)}, [this] { showShortcuts(); }));
    help->addAction(
        make(QStringLiteral("about"), tr("About Instant Dev Logs"), QString(), {}, [this] {
            QMessageBox::about(this, tr("About Instant Dev Logs"),
                               tr("<b>Instant Dev Logs console</b> %1<br>Self-hosted logs for "
                                  "development teams.<br>Gateway protocol v1.")
                                   .arg(QStringLiteral(IDL_VERSION)));
        }));
}

void MainWindow::showShortcuts()
{
    QString rows;
    for (QAction *a : actions()) {
        if (a->shortcut().isEmpty())
            continue;
        QStringList keys;
        for (const auto &k : a->shortcuts())
            keys << k.toString(QKeySequence::NativeText);
        rows += QStringLiteral("<tr><td>%1</td><td style='padding-left:16px'><b>%2</b></td></tr>")
                    .arg(a->text().remove(u'&').toHtmlEscaped(), keys.join(QStringLiteral(", ")));
    }
    rows += QStringLiteral("<tr><td>%1</td><td style='padding-left:16px'><b>Ctrl+B</b></td></tr>")
                .arg(tr("Saved queries sidebar"));
    rows +=
        QStringLiteral("<tr><td>%1</td><td style='padding-left:16px'><b>Ctrl+Space</b></td></tr>")
            .arg(tr("Complete in the query bar"));
    QMessageBox box(this);
    box.setWindowTitle(tr("Keyboard shortcuts"));
    box.setText(QStringLiteral("<table>%1</table>").arg(rows));
    box.exec();
}

void MainWindow::reloadProfiles()
{
    m_profileBox->clear();
    for (const auto &p : m_profiles.profiles())
        m_profileBox->addItem(dot(p.colour), p.name, p.name);
    m_profileBox->insertSeparator(m_profileBox->count());
    m_profileBox->addItem(tr("Manage profiles…"), QStringLiteral("__manage__"));
    const int i = m_profileBox->findData(m_profileName);
    m_profileBox->setCurrentIndex(i >= 0 ? i : -1);
}

void MainWindow::setProfileColour(const QColor &c)
{
    m_strip->setStyleSheet(QStringLiteral("background: %1;").arg(c.name()));
}

void MainWindow::connectProfile(const QString &name)
{
    auto p = m_profiles.find(name);
    if (!p) {
        m_banner->showError(tr("No profile named “%1”. Add it in Cluster → Profiles.").arg(name));
        return;
    }
    m_profileName = name;
    m_profiles.setLastUsed(name);
    m_dlqWatch->setSeenUntil(
        m_settings->value(QStringLiteral("deadLetters/seenUntil/") + name).toString());
    reloadProfiles();
    setProfileColour(p->colour);
    setWindowTitle(tr("%1 — Instant Dev Logs").arg(name));
    // A profile imported from idl-stack follows its stack.json (port and token may change).
    if (!p->stackFile.isEmpty()) {
        if (auto info = readStackJson(p->stackFile); info) {
            if (p->gatewayUrl != info->gatewayUrl) {
                p->gatewayUrl = info->gatewayUrl;
                m_profiles.save(*p);
            }
            m_secrets->write(p->secretKey(), info->adminToken);
            m_context->client()->open(p->connection(info->adminToken));
            updateConnectionLabel();
            return;
        }
    }
    const Profile profile = *p;
    QPointer<MainWindow> self(this);
    m_secrets->read(
        profile.secretKey(), [self, profile](std::optional<QString> token, QString error) {
            if (!self || self->m_profileName != profile.name)
                return;
            if (!token || token->isEmpty()) {
                bool ok = false;
                const QString entered = QInputDialog::getText(
                    self, tr("Token for %1").arg(profile.name),
                    tr("Gateway token for %1%2:")
                        .arg(profile.gatewayUrl.toString(),
                             error.isEmpty() ? QString() : tr(" (keychain: %1)").arg(error)),
                    QLineEdit::Password, {}, &ok);
                if (!ok || entered.trimmed().isEmpty()) {
                    self->m_banner->showMessage(
                        InlineMessage::Kind::Warning,
                        tr("Not connected: no token for “%1”.").arg(profile.name));
                    return;
                }
                token = entered.trimmed();
                self->m_secrets->write(
                    profile.secretKey(), *token, [self](bool persisted, QString why) {
                        if (self && !persisted)
                            self->m_banner->showMessage(InlineMessage::Kind::Warning, why, 8000);
                    });
            }
            self->m_context->client()->open(profile.connection(*token));
            self->updateConnectionLabel();
        });
}

bool MainWindow::importStack(const QString &stackJsonPath)
{
    auto imported = m_profiles.importStack(stackJsonPath);
    if (!imported) {
        m_banner->showError(
            tr("Cannot import %1: %2")
                .arg(stackJsonPath, QString::fromStdString(imported.error().message)));
        return false;
    }
    QPointer<MainWindow> self(this);
    m_secrets->write(
        imported->first.secretKey(), imported->second, [self](bool persisted, QString) {
            if (self && !persisted)
                self->statusBar()->showMessage(
                    tr("No OS keychain: the local token is read from stack.json when needed"),
                    8000);
        });
    reloadProfiles();
    connectProfile(imported->first.name);
    return true;
}

void MainWindow::onConnectionLost(const QString &message, int delayMs)
{
    m_lostMessage = message;
    if (delayMs >= 0) {
        m_reconnectAtMs = QDateTime::currentMSecsSinceEpoch() + delayMs;
        m_countdown->start();
        // Shown once per outage; later attempts only update the toolbar label.
        if (m_context->client()->reconnectAttempts() <= 1)
            m_banner->showMessage(InlineMessage::Kind::Warning,
                                  tr("Lost the connection to the gateway (%1). Reconnecting "
                                     "automatically; live tails resume where they stopped.")
                                      .arg(message));
    } else {
        m_countdown->stop();
        m_banner->showError(tr("Not connected: %1").arg(message));
    }
    updateConnectionLabel();
}

QString MainWindow::connectionText() const
{
    return m_connection->text();
}

void MainWindow::updateConnectionLabel()
{
    GatewayClient *c = m_context->client();
    QString colour;
    QString text;
    switch (c->state()) {
    case GatewayClient::State::Connected:
        colour = QStringLiteral("#2e9e5b");
        text = tr("Connected as %1 (%2)").arg(c->serverInfo().user, c->serverInfo().role);
        m_server->setText(tr("%1 · %2 · protocol v%3")
                              .arg(c->settings().url.toString(), c->serverInfo().server)
                              .arg(c->serverInfo().version));
        break;
    case GatewayClient::State::Connecting:
        colour = QStringLiteral("#e09a12");
        text = tr("Connecting…");
        break;
    case GatewayClient::State::WaitingToReconnect: {
        colour = QStringLiteral("#e09a12");
        const qint64 left = qMax<qint64>(0, m_reconnectAtMs - QDateTime::currentMSecsSinceEpoch());
        text = tr("Reconnecting in %1 s").arg((left + 999) / 1000);
        break;
    }
    case GatewayClient::State::Disconnected:
        colour = QStringLiteral("#9aa4b0");
        text = m_profileName.isEmpty() ? tr("No cluster selected") : tr("Disconnected");
        m_server->clear();
        break;
    }
    m_connection->setText(
        QStringLiteral("<span style='color:%1'>●</span> %2").arg(colour, text.toHtmlEscaped()));
    m_connection->setToolTip(m_lostMessage);
}

QueryTab *MainWindow::newQueryTab(const QString &q, const TimeRange &range, bool run)
{
    auto *tab = new QueryTab(m_context, m_tabs);
    tab->setQuery(q, range);
    const int i = m_tabs->addTab(tab, icon(QStringLiteral("search")), tab->title());
    m_tabs->setCurrentIndex(i);
    connect(tab, &QueryTab::titleChanged, this,
            [this, tab](const QString &t) { m_tabs->setTabText(m_tabs->indexOf(tab), t); });
    connect(tab, &QueryTab::saveRequested, this, &MainWindow::saveQuery);
    connect(tab, &QueryTab::alertRequested, this, &MainWindow::createAlert);
    if (run)
        tab->run();
    return tab;
}

TailTab *MainWindow::newTailTab(const QString &q, bool start)
{
    auto *tab = new TailTab(m_context, m_tabs);
    tab->setFilter(q);
    const int i = m_tabs->addTab(tab, icon(QStringLiteral("tail")), tab->title());
    m_tabs->setCurrentIndex(i);
    connect(tab, &TailTab::titleChanged, this,
            [this, tab](const QString &t) { m_tabs->setTabText(m_tabs->indexOf(tab), t); });
    if (start)
        tab->start();
    return tab;
}

AnalyticsView *MainWindow::showAnalytics()
{
    if (!m_analytics) {
        m_analytics = new AnalyticsView(m_context, m_tabs);
        m_tabs->addTab(m_analytics, icon(QStringLiteral("chart")), tr("Analytics"));
        connect(m_analytics, &AnalyticsView::queryRequested, this,
                [this](const QString &q, const TimeRange &r) { newQueryTab(q, r, true); });
        m_analytics->refresh();
    }
    m_tabs->setCurrentWidget(m_analytics);
    return m_analytics;
}

DeadLettersView *MainWindow::showDeadLetters()
{
    if (!m_deadLetters) {
        m_deadLetters = new DeadLettersView(m_context, m_dlqWatch, m_tabs);
        m_tabs->addTab(m_deadLetters, icon(QStringLiteral("warning")), tr("Dead letters"));
    }
    m_tabs->setCurrentWidget(m_deadLetters);
    m_deadLetters->refresh();
    return m_deadLetters;
}

AlertsView *MainWindow::showAlerts()
{
    if (!m_alerts) {
        m_alerts = new AlertsView(m_context, m_alertWatch, m_tabs);
        m_tabs->addTab(m_alerts, icon(QStringLiteral("error")), tr("Alerts"));
    }
    m_tabs->setCurrentWidget(m_alerts);
    m_alerts->refresh();
    return m_alerts;
}

AlertsView *MainWindow::createAlert(const QString &q)
{
    AlertsView *view = showAlerts();
    view->newRule(q);
    return view;
}

void MainWindow::setAlertNotifier(AlertNotifier *notifier)
{
    m_alertWatch->setNotifier(notifier);
}

void MainWindow::openProfiles()
{
    ProfileDialog dialog(&m_profiles, m_secrets, this);
    if (!m_profileName.isEmpty())
        dialog.select(m_profileName);
    connect(&dialog, &ProfileDialog::profilesChanged, this, &MainWindow::reloadProfiles);
    if (dialog.exec() == QDialog::Accepted && !dialog.chosen().isEmpty())
        connectProfile(dialog.chosen());
    reloadProfiles();
}

void MainWindow::saveQuery(const QString &q, const TimeRange &range)
{
    bool ok = false;
    const QString name =
        QInputDialog::getText(this, tr("Save query"), tr("Name:"), QLineEdit::Normal,
                              q.isEmpty() ? tr("All events") : q.left(60), &ok);
    if (!ok || name.trimmed().isEmpty())
        return;
    SavedQuery s;
    s.name = name.trimmed();
    s.q = q;
    s.from = range.from;
    s.to = range.to;
    QPointer<MainWindow> self(this);
    m_context->savedQueries()->save(s, [self](const SavedQuery *stored, const GatewayError *e) {
        if (!self)
            return;
        if (stored)
            self->statusBar()->showMessage(tr("Saved “%1”").arg(stored->name), 4000);
        else if (e)
            self->m_banner->showError(tr("Could not save the query: %1").arg(e->text()));
    });
}

void MainWindow::openSaved(const QString &q, const TimeRange &range, bool newTab)
{
    QueryTab *tab = newTab ? nullptr : currentQueryTab();
    if (!tab)
        tab = newQueryTab();
    tab->setQuery(q, range);
    tab->run();
}

QueryTab *MainWindow::currentQueryTab() const
{
    return qobject_cast<QueryTab *>(m_tabs->currentWidget());
}

TailTab *MainWindow::currentTailTab() const
{
    return qobject_cast<TailTab *>(m_tabs->currentWidget());
}

void MainWindow::restoreTabs()
{
    const QJsonArray tabs =
        QJsonDocument::fromJson(m_settings->value(QStringLiteral("window/tabs")).toByteArray())
            .array();
    for (const auto &v : tabs) {
        const QJsonObject o = v.toObject();
        const QString kind = o.value(QLatin1String("kind")).toString();
        const QString q = o.value(QLatin1String("q")).toString();
        if (kind == u"query")
            newQueryTab(q,
                        TimeRange{o.value(QLatin1String("from")).toString(QStringLiteral("-15m")),
                                  o.value(QLatin1String("to")).toString(QStringLiteral("now"))},
                        true);
        else if (kind == u"tail")
            newTailTab(q, true);
        else if (kind == u"analytics")
            showAnalytics();
        else if (kind == u"alerts")
            showAlerts();
    }
    if (m_tabs->count() == 0)
        newQueryTab(QString(), TimeRange{}, true);
    m_tabs->setCurrentIndex(qBound(
        0, m_settings->value(QStringLiteral("window/current_tab")).toInt(), m_tabs->count() - 1));
}

void MainWindow::saveWindowState()
{
    m_settings->setValue(QStringLiteral("window/geometry"), saveGeometry());
    m_settings->setValue(QStringLiteral("window/state"), saveState());
    QJsonArray tabs;
    for (int i = 0; i < m_tabs->count(); ++i) {
        QWidget *w = m_tabs->widget(i);
        if (auto *q = qobject_cast<QueryTab *>(w))
            tabs.append(QJsonObject{{QStringLiteral("kind"), QStringLiteral("query")},
                                    {QStringLiteral("q"), q->queryText()},
                                    {QStringLiteral("from"), q->range().from},
                                    {QStringLiteral("to"), q->range().to}});
        else if (auto *t = qobject_cast<TailTab *>(w))
            tabs.append(QJsonObject{{QStringLiteral("kind"), QStringLiteral("tail")},
                                    {QStringLiteral("q"), t->filter()}});
        else if (w == m_analytics)
            tabs.append(QJsonObject{{QStringLiteral("kind"), QStringLiteral("analytics")}});
        else if (w == m_alerts)
            tabs.append(QJsonObject{{QStringLiteral("kind"), QStringLiteral("alerts")}});
    }
    m_settings->setValue(QStringLiteral("window/tabs"),
                         QJsonDocument(tabs).toJson(QJsonDocument::Compact));
    m_settings->setValue(QStringLiteral("window/current_tab"), m_tabs->currentIndex());
    m_settings->sync();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveWindowState();
    QMainWindow::closeEvent(event);
}

void MainWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange)
        m_context->setDark(isDark(palette()));
}

} // namespace idl::console::ui
