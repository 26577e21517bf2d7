// idl-admin: operator tool. Global settings come before the subcommand name:
//   idl-admin [--pg.dsn DSN] <command> [command options]
#include "admin_command.h"

#include "idl/core/config.h"
#include "idl/pg/connection.h"

#include <QCoreApplication>

#include <algorithm>
#include <cstdio>

using namespace idl;

namespace idl::admin {

std::vector<Command> &commands()
{
    static std::vector<Command> all;
    return all;
}

Registration::Registration(std::string name, std::string summary,
                           std::function<int(Context &, const QStringList &)> run)
{
    auto &all = commands();
    all.push_back({std::move(name), std::move(summary), std::move(run)});
    std::sort(all.begin(), all.end(),
              [](const Command &a, const Command &b) { return a.name < b.name; });
}

Result<pg::Connection> Context::connect() const
{
    return pg::Connection::connect(pgDsn.toStdString(), std::chrono::seconds(10));
}

int fail(const QString &what, const std::string &message)
{
    std::fprintf(stderr, "idl-admin %s: %s\n", what.toUtf8().constData(), message.c_str());
    return 1;
}

} // namespace idl::admin

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList argsAll = QCoreApplication::arguments();
    const auto &all = admin::commands();

    // The first word naming a subcommand splits global options from the command's own.
    qsizetype split = -1;
    for (qsizetype i = 1; i < argsAll.size() && split < 0; ++i)
        for (const auto &c : all)
            if (argsAll.at(i) == QString::fromStdString(c.name)) {
                split = i;
                break;
            }

    Config config(QStringLiteral("idl-admin"),
                  QStringLiteral("Operator tool: idl-admin [options] <command> ..."));
    config.addString(QStringLiteral("pg.dsn"), QStringLiteral("host=127.0.0.1 dbname=idl user=idl"),
                     QStringLiteral("PostgreSQL connection string"));
    const QStringList global = split < 0 ? argsAll : argsAll.mid(0, split);
    if (auto r = config.load(global); !r) {
        std::fprintf(stderr, "idl-admin: %s\n", r.error().message.c_str());
        return 2;
    }
    if (config.versionRequested()) {
        std::puts("idl-admin " IDL_VERSION);
        return 0;
    }
    if (split < 0 || config.helpRequested()) {
        std::string help = config.helpText().toStdString();
        help += "\nCommands (idl-admin <command> --help for their options):\n";
        for (const auto &c : all)
            help += "  " + c.name + std::string(c.name.size() < 10 ? 10 - c.name.size() : 1, ' ') +
                    c.summary + "\n";
        std::fputs(help.c_str(), split < 0 && !config.helpRequested() ? stderr : stdout);
        return split < 0 && !config.helpRequested() ? 2 : 0;
    }
    admin::Context ctx;
    ctx.pgDsn = config.string(QStringLiteral("pg.dsn"));
    const QString name = argsAll.at(split);
    QStringList rest = argsAll.mid(split + 1);
    rest.prepend(QStringLiteral("idl-admin ") + name);
    for (const auto &c : all)
        if (QString::fromStdString(c.name) == name)
            return c.run(ctx, rest);
    return 2;
}
