#pragma once

#include "idl/console/profile_store.h"
#include "idl/console/secret_store.h"

#include <QDialog>
#include <QPointer>

class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;

namespace idl::console::ui {

class InlineMessage;

// Manage cluster profiles: list on the left; name, gateway URL, token, TLS files (CA,
// client certificate and key) and colour on the right; Add, Delete, Test connection, Save.
// Tokens go to the SecretStore (OS keychain, or this session only when there is none).
class ProfileDialog : public QDialog
{
    Q_OBJECT
public:
    ProfileDialog(ProfileStore *store, SecretStore *secrets, QWidget *parent = nullptr);

    // Selects a profile (or the first one).
    void select(const QString &name);
    // The profile being edited, as the form shows it.
    Profile formProfile() const;
    QString formToken() const;
    void setFormToken(const QString &token);
    // The profile chosen when the dialog was accepted with "Connect".
    const QString &chosen() const { return m_chosen; }
    // Runs the connection test for the form (what the button does).
    void testConnection();
    const QString &testResult() const { return m_testResult; }

Q_SIGNALS:
    void profilesChanged();
    void testFinished(bool ok);

private:
    void reload(const QString &select);
    void loadForm(const QString &name);
    bool saveForm();
    void removeCurrent();
    void addNew();
    void setColour(const QColor &c);
    QString browse(const QString &title, QLineEdit *target);

    ProfileStore *m_store;
    SecretStore *m_secrets;
    QListWidget *m_list;
    QLineEdit *m_name;
    QLineEdit *m_url;
    QLineEdit *m_token;
    QLabel *m_tokenNote;
    QLineEdit *m_ca;
    QLineEdit *m_cert;
    QLineEdit *m_key;
    QPushButton *m_colour;
    QColor m_colourValue;
    QPushButton *m_test;
    QLabel *m_testLabel;
    InlineMessage *m_message;
    QString m_editing; // name of the profile in the form ("" = new)
    QString m_chosen;
    QString m_testResult;
    QString m_stackFile;
};

} // namespace idl::console::ui
