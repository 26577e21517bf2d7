// idl-check: compares what idl-loadgen had acknowledged (its acked files) with the rows in
// PostgreSQL and prints lost, duplicated and unexpected counts. Exit 0 when every
// acknowledged event is stored exactly once and nothing else of those generators is, 1 when
// not, 2 on a usage or connection error.
#include "idl/core/config.h"
#include "idl/loadgen/checker.h"
#include "idl/pg/connection.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

using namespace idl;
using namespace idl::loadgen;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    Config c(QStringLiteral("idl-check"),
             QStringLiteral("Checks that every event acknowledged to idl-loadgen is stored "
                            "exactly once. Usage: idl-check [options] ACKED_FILE..."));
    const auto s = [](const char *t) { return QString::fromLatin1(t); };
    c.addString(s("stack"), QString(),
                s("stack.json of `idl-stack up`: takes postgres_dsn from it"));
    c.addSecret(s("pg.dsn"), QString(), s("PostgreSQL connection string of the logs database"));
    c.addDuration(s("wait"), s("0"),
                  s("First wait up to this long for the acknowledged rows to arrive (writer lag)"));
    c.addDuration(s("settle"), s("15s"),
                  s("While waiting, give up early when the row count has not changed this long"));
    c.addBool(s("json"), false, s("Print the result as one JSON line on stdout"));
    if (auto r = c.load(QCoreApplication::arguments()); !r) {
        std::fprintf(stderr, "idl-check: %s\n", r.error().message.c_str());
        return 2;
    }
    if (c.helpRequested()) {
        std::fputs(c.helpText().toUtf8().constData(), stdout);
        return 0;
    }
    QString dsn = c.string(s("pg.dsn"));
    if (const QString stack = c.string(s("stack")); !stack.isEmpty() && dsn.isEmpty()) {
        QFile f(stack);
        if (f.open(QIODevice::ReadOnly))
            dsn = QJsonDocument::fromJson(f.readAll()).object().value(s("postgres_dsn")).toString();
    }
    if (dsn.isEmpty() || c.positional().isEmpty()) {
        std::fprintf(stderr, "idl-check: need --pg.dsn (or --stack) and at least one acked file\n");
        return 2;
    }
    std::vector<AckLedger> ledgers;
    for (const QString &file : c.positional()) {
        auto l = AckLedger::load(file.toStdString());
        if (!l) {
            std::fprintf(stderr, "idl-check: %s\n", l.error().message.c_str());
            return 2;
        }
        ledgers.insert(ledgers.end(), l->begin(), l->end());
    }
    auto conn = pg::Connection::connect(dsn.toStdString());
    if (!conn) {
        std::fprintf(stderr, "idl-check: %s\n", conn.error().message.c_str());
        return 2;
    }
    if (const auto wait = c.duration(s("wait")); wait.count() > 0)
        if (auto n = waitForRows(*conn, ledgers, wait, c.duration(s("settle"))); !n) {
            std::fprintf(stderr, "idl-check: %s\n", n.error().message.c_str());
            return 2;
        }
    auto report = checkStored(*conn, ledgers);
    if (!report) {
        std::fprintf(stderr, "idl-check: %s\n", report.error().message.c_str());
        return 2;
    }
    if (c.boolean(s("json")))
        std::printf("%s\n", report->json().c_str());
    else
        std::fputs(report->text().c_str(), stdout);
    return report->ok() ? 0 : 1;
}
