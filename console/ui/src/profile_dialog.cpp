#include "idl/console/ui/profile_dialog.h"

#include "idl/console/gateway_client.h"
#include "idl/console/ui/inline_message.h"
#include "idl/console/ui/theme.h"

#include <QColorDialog>
#include <QDialogButtonBox>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

namespace idl::console::ui {

namespace {

QIcon colourDot(const QColor &c)
{
    QPixmap pm(14, 14);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(c);
    p.drawEllipse(QRectF(1, 1, 12, 12));
    return QIcon(pm);
}

} // namespace

ProfileDialog::ProfileDialog(ProfileStore *store, SecretStore *secrets, QWidget *parent)
    : QDialog(parent), m_store(store), m_secrets(secrets)
{
    setObjectName(QStringLiteral("profileDialog"));
    setWindowTitle(tr("Cluster profiles"));
    resize(760, 480);
    auto *outer = new QVBoxLayout(this);
    auto *main = new QHBoxLayout;
    outer->addLayout(main, 1);

    auto *left = new QVBoxLayout;
    m_list = new QListWidget(this);
    m_list->setMinimumWidth(180);
    m_list->setIconSize(QSize(14, 14));
    left->addWidget(m_list, 1);
    auto *leftButtons = new QHBoxLayout;
    auto *add = new QPushButton(icon(QStringLiteral("add")), tr("Add"), this);
    auto *remove = new QPushButton(icon(QStringLiteral("delete")), tr("Delete"), this);
    leftButtons->addWidget(add);
    leftButtons->addWidget(remove);
    left->addLayout(leftButtons);
    main->addLayout(left);

    auto *right = new QVBoxLayout;
    auto *general = new QGroupBox(tr("Connection"), this);
    auto *form = new QFormLayout(general);
    m_name = new QLineEdit(this);
    m_name->setPlaceholderText(tr("e.g. production"));
    m_url = new QLineEdit(this);
    m_url->setPlaceholderText(QStringLiteral("wss://logs.example.com:8090/ws"));
    m_token = new QLineEdit(this);
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(QStringLiteral("idt_…"));
    m_tokenNote = new QLabel(this);
    m_tokenNote->setWordWrap(true);
    QFont small = m_tokenNote->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    m_tokenNote->setFont(small);
    auto *colourRow = new QHBoxLayout;
    m_colour = new QPushButton(this);
    m_colour->setToolTip(
        tr("The colour marks this cluster in the window (e.g. red for production)"));
    colourRow->addWidget(m_colour);
    colourRow->addStretch(1);
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("Gateway URL"), m_url);
    form->addRow(tr("Token"), m_token);
    form->addRow(QString(), m_tokenNote);
    form->addRow(tr("Colour"), colourRow);
    right->addWidget(general);

    auto *tls = new QGroupBox(tr("TLS (wss:// only)"), this);
    auto *tlsForm = new QFormLayout(tls);
    auto fileRow = [this, tlsForm](const QString &label, QLineEdit *&edit,
                                   const QString &placeholder) {
        auto *row = new QHBoxLayout;
        edit = new QLineEdit(this);
        edit->setPlaceholderText(placeholder);
        auto *b = new QPushButton(tr("Browse…"), this);
        row->addWidget(edit, 1);
        row->addWidget(b);
        tlsForm->addRow(label, row);
        QLineEdit *target = edit;
        connect(b, &QPushButton::clicked, this, [this, label, target] { browse(label, target); });
    };
    fileRow(tr("CA certificates"), m_ca, tr("PEM file; empty: system trust store"));
    fileRow(tr("Client certificate"), m_cert, tr("PEM file, for mutual TLS"));
    fileRow(tr("Client key"), m_key, tr("PEM private key of the client certificate"));
    right->addWidget(tls);

    auto *testRow = new QHBoxLayout;
    m_test = new QPushButton(icon(QStringLiteral("plug")), tr("&Test connection"), this);
    m_testLabel = new QLabel(this);
    m_testLabel->setObjectName(QStringLiteral("testResult"));
    m_testLabel->setWordWrap(true);
    testRow->addWidget(m_test);
    testRow->addWidget(m_testLabel, 1);
    right->addLayout(testRow);
    m_message = new InlineMessage(this);
    right->addWidget(m_message);
    right->addStretch(1);
    main->addLayout(right, 1);

    auto *buttons = new QDialogButtonBox(this);
    auto *save = buttons->addButton(tr("Save"), QDialogButtonBox::ApplyRole);
    auto *connectButton = buttons->addButton(tr("Save and connect"), QDialogButtonBox::AcceptRole);
    connectButton->setDefault(true);
    buttons->addButton(QDialogButtonBox::Close);
    outer->addWidget(buttons);

    connect(add, &QPushButton::clicked, this, &ProfileDialog::addNew);
    connect(remove, &QPushButton::clicked, this, &ProfileDialog::removeCurrent);
    connect(save, &QPushButton::clicked, this, [this] { saveForm(); });
    connect(connectButton, &QPushButton::clicked, this, [this] {
        if (saveForm()) {
            m_chosen = m_editing;
            accept();
        }
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_test, &QPushButton::clicked, this, &ProfileDialog::testConnection);
    connect(m_colour, &QPushButton::clicked, this, [this] {
        const QColor c = QColorDialog::getColor(m_colourValue, this, tr("Profile colour"));
        if (c.isValid())
            setColour(c);
    });
    connect(m_list, &QListWidget::currentTextChanged, this, [this](const QString &name) {
        if (!name.isEmpty() && name != m_editing)
            loadForm(name);
    });
    const bool session = m_secrets->backend() == SecretStore::Backend::Session;
    m_tokenNote->setText(session ? tr("⚠ No OS keychain is available (%1): the token is kept for "
                                      "this session only and asked for again next time.")
                                       .arg(m_secrets->unavailableReason())
                                 : tr("Stored in the OS keychain, never in the settings file."));
    reload(m_store->lastUsed());
}

void ProfileDialog::reload(const QString &selectName)
{
    m_list->clear();
    for (const auto &p : m_store->profiles()) {
        auto *item = new QListWidgetItem(colourDot(p.colour), p.name, m_list);
        item->setToolTip(p.gatewayUrl.toString());
    }
    select(selectName);
}

void ProfileDialog::select(const QString &name)
{
    const auto items = m_list->findItems(name, Qt::MatchExactly);
    if (!items.isEmpty()) {
        m_list->setCurrentItem(items.first());
        loadForm(name);
    } else if (m_list->count() > 0) {
        m_list->setCurrentRow(0);
        loadForm(m_list->item(0)->text());
    } else {
        addNew();
    }
}

void ProfileDialog::setColour(const QColor &c)
{
    m_colourValue = c;
    m_colour->setIcon(colourDot(c));
    m_colour->setText(c.name());
}

void ProfileDialog::addNew()
{
    m_list->clearSelection();
    m_editing.clear();
    m_stackFile.clear();
    m_name->clear();
    m_url->setText(QStringLiteral("ws://127.0.0.1:8090/ws"));
    m_token->clear();
    m_ca->clear();
    m_cert->clear();
    m_key->clear();
    setColour(QColor(0x3b, 0x7d, 0xd8));
    m_testLabel->clear();
    m_message->hide();
    m_name->setFocus();
}

void ProfileDialog::loadForm(const QString &name)
{
    const auto p = m_store->find(name);
    if (!p)
        return;
    m_editing = name;
    m_stackFile = p->stackFile;
    m_name->setText(p->name);
    m_url->setText(p->gatewayUrl.toString());
    m_ca->setText(p->caFile);
    m_cert->setText(p->clientCertFile);
    m_key->setText(p->clientKeyFile);
    setColour(p->colour);
    m_token->clear();
    m_testLabel->clear();
    m_message->hide();
    QPointer<ProfileDialog> self(this);
    m_secrets->read(p->secretKey(), [self, name](std::optional<QString> token, QString) {
        if (self && self->m_editing == name && token)
            self->m_token->setText(*token);
    });
}

Profile ProfileDialog::formProfile() const
{
    Profile p;
    p.name = m_name->text().trimmed();
    p.gatewayUrl = QUrl(m_url->text().trimmed());
    p.caFile = m_ca->text().trimmed();
    p.clientCertFile = m_cert->text().trimmed();
    p.clientKeyFile = m_key->text().trimmed();
    p.colour = m_colourValue;
    p.stackFile = m_stackFile;
    return p;
}

QString ProfileDialog::formToken() const
{
    return m_token->text().trimmed();
}

void ProfileDialog::setFormToken(const QString &token)
{
    m_token->setText(token);
}

bool ProfileDialog::saveForm()
{
    const Profile p = formProfile();
    if (auto r = ProfileStore::validate(p); !r) {
        m_message->showError(QString::fromStdString(r.error().message));
        return false;
    }
    if (!m_editing.isEmpty() && m_editing != p.name) {
        const auto old = m_store->find(m_editing);
        m_store->remove(m_editing);
        if (old)
            m_secrets->remove(old->secretKey());
    }
    m_store->save(p);
    if (!formToken().isEmpty()) {
        QPointer<ProfileDialog> self(this);
        m_secrets->write(p.secretKey(), formToken(), [self](bool persisted, QString why) {
            if (self && !persisted)
                self->m_message->showMessage(InlineMessage::Kind::Warning, why);
        });
    }
    m_editing = p.name;
    reload(p.name);
    m_message->showInfo(tr("Saved “%1”.").arg(p.name));
    Q_EMIT profilesChanged();
    return true;
}

void ProfileDialog::removeCurrent()
{
    if (m_editing.isEmpty())
        return;
    if (QMessageBox::question(this, tr("Delete profile"),
                              tr("Delete the profile “%1” and its stored token?").arg(m_editing)) !=
        QMessageBox::Yes)
        return;
    const auto p = m_store->find(m_editing);
    if (p)
        m_secrets->remove(p->secretKey());
    m_store->remove(m_editing);
    m_editing.clear();
    reload(QString());
    Q_EMIT profilesChanged();
}

QString ProfileDialog::browse(const QString &title, QLineEdit *target)
{
    const QString f = QFileDialog::getOpenFileName(
        this, title, target->text(), tr("PEM files (*.pem *.crt *.key);;All files (*)"));
    if (!f.isEmpty())
        target->setText(f);
    return f;
}

void ProfileDialog::testConnection()
{
    const Profile p = formProfile();
    if (auto r = ProfileStore::validate(p); !r) {
        m_testLabel->setText(QStringLiteral("<span style='color:#d93b3b'>✗ %1</span>")
                                 .arg(QString::fromStdString(r.error().message).toHtmlEscaped()));
        m_testResult = QString::fromStdString(r.error().message);
        Q_EMIT testFinished(false);
        return;
    }
    m_test->setEnabled(false);
    m_testLabel->setText(tr("Connecting…"));
    auto *client = new GatewayClient(this);
    auto *timeout = new QTimer(client);
    timeout->setSingleShot(true);
    auto *clock = new QElapsedTimer;
    clock->start();
    auto finish = [this, client, clock, timeout](bool ok, const QString &text) {
        timeout->stop();
        timeout->disconnect(this);
        m_test->setEnabled(true);
        m_testResult = text;
        m_testLabel->setText(
            ok ? QStringLiteral("<span style='color:#2e9e5b'>✓ %1</span>").arg(text.toHtmlEscaped())
               : QStringLiteral("<span style='color:#d93b3b'>✗ %1</span>")
                     .arg(text.toHtmlEscaped()));
        client->disconnect(this);
        client->close();
        client->deleteLater();
        delete clock;
        Q_EMIT testFinished(ok);
    };
    connect(client, &GatewayClient::connected, this, [client, clock, finish] {
        const ServerInfo &i = client->serverInfo();
        finish(true, tr("Connected in %1 ms to %2 as %3 (%4)%5")
                         .arg(clock->elapsed())
                         .arg(i.server, i.user, i.role,
                              i.apps ? tr(", apps: %1").arg(i.apps->join(QStringLiteral(", ")))
                                     : QString()));
    });
    connect(client, &GatewayClient::connectionLost, this,
            [finish](const GatewayError &e, int) { finish(false, e.message); });
    connect(timeout, &QTimer::timeout, this,
            [finish] { finish(false, tr("No answer within 10 s")); });
    client->setReconnectDelays(60'000, 60'000);
    client->open(p.connection(formToken()));
    timeout->start(10'000);
}

} // namespace idl::console::ui
