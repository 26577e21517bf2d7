// idl-console: the desktop console. Options are parsed before any window system is touched,
// so --help and --version work without a display.
#include "idl/console/secret_store.h"
#include "idl/console/ui/main_window.h"
#include "idl/console/ui/theme.h"
#include "idl/core/config.h"

#include <QApplication>
#include <QFileInfo>
#include <QSettings>
#include <QStyle>
#include <QStyleFactory>
#include <QTextStream>

#include <cstdio>

int main(int argc, char *argv[])
{
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);

    idl::Config cfg(QStringLiteral("idl-console"),
                    QStringLiteral("the Instant Dev Logs desktop console: live tail, queries, "
                                   "charts, saved queries and CSV export"));
    cfg.addString(QStringLiteral("import-stack"), QString(),
                  QStringLiteral("Create or update the profile described by an idl-stack "
                                 "stack.json (usually \"local\") and connect to it"));
    cfg.addString(
        QStringLiteral("profile"), QString(),
        QStringLiteral("Connect to this cluster profile at start (default: the last one)"));
    cfg.addString(QStringLiteral("secrets"), QStringLiteral("auto"),
                  QStringLiteral("Where tokens are kept: auto (OS keychain; this session only when "
                                 "there is none) or session (never stored)"));
    if (auto r = cfg.load(arguments); !r) {
        std::fprintf(stderr, "idl-console: %s\n", r.error().message.c_str());
        return 2;
    }
    if (cfg.helpRequested()) {
        QTextStream(stdout) << cfg.helpText()
                            << "\nQt options such as -platform offscreen or -style fusion are "
                               "accepted too.\n";
        return 0;
    }
    if (cfg.versionRequested()) {
        QTextStream(stdout) << "idl-console " << IDL_VERSION << " (gateway protocol v1)\n";
        return 0;
    }
    const QString secretsMode = cfg.string(QStringLiteral("secrets"));
    if (secretsMode != u"auto" && secretsMode != u"session") {
        std::fprintf(stderr, "idl-console: --secrets must be auto or session\n");
        return 2;
    }
    const QString importPath = cfg.string(QStringLiteral("import-stack"));
    if (!importPath.isEmpty() && !QFileInfo::exists(importPath)) {
        std::fprintf(stderr, "idl-console: %s does not exist (is idl-stack up?)\n",
                     qPrintable(importPath));
        return 2;
    }

    QApplication::setOrganizationName(QStringLiteral("instant-dev-logs"));
    QApplication::setApplicationName(QStringLiteral("console"));
    QApplication::setApplicationDisplayName(QStringLiteral("Instant Dev Logs"));
    QApplication::setApplicationVersion(QStringLiteral(IDL_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("instant-dev-logs-console"));
    QApplication app(argc, argv);
    // Fusion follows the platform palette (light or dark) and looks the same everywhere.
    if (QApplication::style()->name().compare(QStringLiteral("fusion"), Qt::CaseInsensitive) != 0 &&
        !arguments.contains(QStringLiteral("-style")))
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QApplication::setWindowIcon(idl::console::ui::icon(QStringLiteral("app")));

    QSettings settings;
    idl::console::SecretStore secrets;
    if (secretsMode == u"session")
        secrets.useSessionOnly(QStringLiteral("--secrets=session"));

    idl::console::ui::MainWindow window(&settings, &secrets);
    window.show();
    window.restoreTabs();
    if (!importPath.isEmpty()) {
        window.importStack(importPath);
    } else {
        QString profile = cfg.string(QStringLiteral("profile"));
        if (profile.isEmpty())
            profile = window.profiles()->lastUsed();
        if (!profile.isEmpty())
            window.connectProfile(profile);
        else
            window.openProfiles();
    }
    return QApplication::exec();
}
