// idl-loadgen: sends realistic logs to a collector at a target rate (or as fast as it
// answers), prints what was acknowledged and how fast, and writes the acknowledged sequence
// ranges for idl-check.
#include "idl/core/config.h"
#include "idl/loadgen/http_connection.h"
#include "idl/loadgen/load_run.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>

#include <csignal>
#include <cstdio>

using namespace idl;
using namespace idl::loadgen;

namespace {

std::atomic<bool> g_stop{false};

void onSignal(int)
{
    g_stop.store(true);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    Config c(QStringLiteral("idl-loadgen"),
             QStringLiteral("Sends synthetic application logs to idl-collector and records "
                            "which were acknowledged"));
    const auto s = [](const char *t) { return QString::fromLatin1(t); };
    c.addString(s("stack"), QString(),
                s("stack.json of `idl-stack up`: takes collector_url and ingest_api_key from it"));
    c.addString(s("url"), s("http://127.0.0.1:7080"), s("Collector base URL (http://host:port)"));
    c.addSecret(s("key"), QString(), s("Ingest API key (Authorization: Bearer)"));
    c.addString(s("format"), s("native"),
                s("native (NDJSON on /api/v1/logs) or otlp (OTLP JSON on /v1/logs)"));
    c.addInt(s("rate"), 0, s("Target events per second; 0 = as fast as the collector answers"), 0,
             100'000'000);
    c.addString(s("profile"), s("steady"),
                s("steady | burst:PERIOD:LENGTH:MULT (every PERIOD s, LENGTH s at MULT x rate) | "
                  "ramp:SECONDS"));
    c.addDuration(s("duration"), s("10s"), s("How long to send; 0 = until SIGINT/SIGTERM"));
    c.addInt(s("max-events"), 0, s("Stop after this many events; 0 = no limit"), 0,
             1'000'000'000'000LL);
    c.addInt(s("connections"), 4, s("Keep-alive HTTP connections (one sender thread each)"), 1,
             256);
    c.addInt(s("batch"), 1000, s("Events per request"), 1, 100'000);
    c.addInt(s("payload-bytes"), 64,
             s("Mean size of the free-text payload attribute (0 = none; varies +-50%)"), 0,
             1'000'000);
    c.addString(s("generator"), QString(),
                s("Generator id stored in every event (loadgen.id); default: random"));
    c.addInt(s("seed"), 1, s("Seed of the synthetic data"), 0, 1'000'000'000);
    c.addInt(s("retries"), 0,
             s("Attempts after the first for a batch answered 429/502/503/504 or not at all "
               "(Retry-After honoured, as OTLP/HTTP exporters do); 0 = never retried"),
             0, 1000);
    c.addBool(s("idempotency-keys"), false,
              s("Send an Idempotency-Key header per batch, the same on each of its retries (the "
                "platform then stores a resent batch once)"));
    c.addInt(s("retry-max-wait"), 30, s("Longest Retry-After waited, in seconds"), 1, 3600);
    c.addString(s("acked-file"), QString(),
                s("Write the acknowledged (generator, sequence) ranges here for idl-check"));
    c.addBool(s("json"), false, s("Print the report as one JSON line on stdout"));
    c.addBool(s("progress"), false,
              s("Print progress to stderr every second (with --json: the report so far, as one "
                "JSON line)"));
    if (auto r = c.load(QCoreApplication::arguments()); !r) {
        std::fprintf(stderr, "idl-loadgen: %s\n", r.error().message.c_str());
        return 2;
    }
    if (c.helpRequested()) {
        std::fputs(c.helpText().toUtf8().constData(), stdout);
        return 0;
    }
    if (c.versionRequested()) {
        std::puts("idl-loadgen " IDL_VERSION);
        return 0;
    }

    QString url = c.string(s("url"));
    QString key = c.string(s("key"));
    if (const QString stack = c.string(s("stack")); !stack.isEmpty()) {
        QFile f(stack);
        if (!f.open(QIODevice::ReadOnly)) {
            std::fprintf(stderr, "idl-loadgen: cannot read %s\n", qPrintable(stack));
            return 2;
        }
        const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
        if (!c.isSet(s("url")))
            url = o.value(s("collector_url")).toString();
        if (!c.isSet(s("key")))
            key = o.value(s("ingest_api_key")).toString();
    }
    LoadOptions opt;
    if (!splitHttpUrl(url.toStdString(), opt.host, opt.port)) {
        std::fprintf(stderr, "idl-loadgen: --url must be http://host:port (got '%s')\n",
                     qPrintable(url));
        return 2;
    }
    if (key.isEmpty()) {
        std::fprintf(stderr, "idl-loadgen: --key (or --stack) is required\n");
        return 2;
    }
    opt.apiKey = key.toStdString();
    if (!EventFactory::parseFormat(c.string(s("format")).toStdString(), opt.format)) {
        std::fprintf(stderr, "idl-loadgen: --format must be native or otlp\n");
        return 2;
    }
    opt.rate = static_cast<double>(c.integer(s("rate")));
    opt.profile = c.string(s("profile")).toStdString();
    opt.seconds = static_cast<double>(c.duration(s("duration")).count()) / 1000.0;
    opt.maxEvents = static_cast<std::uint64_t>(c.integer(s("max-events")));
    opt.connections = static_cast<int>(c.integer(s("connections")));
    opt.batch = static_cast<int>(c.integer(s("batch")));
    opt.payloadBytes = static_cast<int>(c.integer(s("payload-bytes")));
    opt.seed = static_cast<std::uint64_t>(c.integer(s("seed")));
    opt.retries = static_cast<int>(c.integer(s("retries")));
    opt.retryMaxWaitS = c.integer(s("retry-max-wait"));
    opt.idempotencyKeys = c.boolean(s("idempotency-keys"));
    opt.generatorId = c.string(s("generator")).toStdString();
    if (opt.generatorId.empty())
        opt.generatorId =
            "lg-" + QString::number(QRandomGenerator::system()->generate(), 16).toStdString();

    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    const bool progress = c.boolean(s("progress"));
    const bool json = c.boolean(s("json"));
    LoadRun run(opt);
    auto report = run.run(g_stop, [&](const LoadReport &r) {
        if (progress && json)
            std::fprintf(stderr, "%s\n", r.json().c_str());
        else if (progress)
            std::fprintf(stderr,
                         "idl-loadgen: %5.1f s  accepted %llu (%.0f/s)  rejected %llu  "
                         "uncertain %llu  ack p99 %.1f ms\n",
                         r.seconds, static_cast<unsigned long long>(r.accepted),
                         r.acceptedPerSecond(), static_cast<unsigned long long>(r.rejected),
                         static_cast<unsigned long long>(r.uncertain), r.p99Ms);
    });
    if (!report) {
        std::fprintf(stderr, "idl-loadgen: %s\n", report.error().message.c_str());
        return 2;
    }
    if (const QString file = c.string(s("acked-file")); !file.isEmpty())
        if (auto r = AckLedger::save(file.toStdString(), {run.ledger()}); !r) {
            std::fprintf(stderr, "idl-loadgen: %s\n", r.error().message.c_str());
            return 2;
        }
    if (json)
        std::printf("%s\n", report->json().c_str());
    else
        std::fputs(report->text().c_str(), stdout);
    std::fflush(stdout);
    // Non-zero when nothing at all was acknowledged: the target is down or refuses the key.
    return report->accepted > 0 || report->sent == 0 ? 0 : 1;
}
