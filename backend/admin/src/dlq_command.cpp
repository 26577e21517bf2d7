// idl-admin dlq list|show|replay: inspect dead letters and send them back through the
// processor (see docs/processor.md).
#include "admin_command.h"

#include "idl/core/config.h"
#include "idl/core/timestamp.h"
#include "idl/processor/dlq.h"
#include "idl/processor/envelope.h"

#include <cstdio>

namespace idl::admin {

namespace {

QString s(const char *text)
{
    return QString::fromUtf8(text);
}

std::string oneLine(std::string text, std::size_t max)
{
    for (char &c : text)
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
    if (text.size() > max)
        text = text.substr(0, max - 3) + "...";
    return text;
}

std::string firstSeen(const processor::DlqRecord &r)
{
    const std::string ns = r.header(processor::headers::kFirstSeen);
    if (ns.empty())
        return "-";
    return formatRfc3339Millis(std::stoll(ns));
}

int runDlq(Context &, const QStringList &args)
{
    Config cfg(s("idl-admin dlq list|show P:O|replay"),
               s("Inspect the dead-letter topic and replay dead letters into the raw topic"));
    cfg.addString(s("kafka.bootstrap"), s("127.0.0.1:9092"), s("Kafka bootstrap servers"));
    cfg.addString(s("topic.dlq"), s("idl.logs.dlq"), s("Dead-letter topic"));
    cfg.addString(s("topic.raw"), s("idl.logs.raw"), s("replay: where dead letters go back to"));
    cfg.addInt(s("limit"), 100, s("list/replay: at most this many records"), 1, 10'000'000);
    cfg.addString(s("code"), QString(), s("Only dead letters with this error code"));
    cfg.addInt(s("partition"), -1, s("Only this partition (-1 = all)"), -1, 100000);
    cfg.addInt(s("offset"), -1, s("With --partition: exactly this record"), -1, INT64_MAX);
    cfg.addBool(s("all"), false,
                s("replay: from the beginning instead of where the last replay stopped"));
    cfg.addBool(s("dry-run"), false, s("replay: list what would be replayed, send nothing"));
    if (auto r = cfg.load(args, {}); !r)
        return fail(s("dlq"), r.error().message) + 1;
    if (cfg.helpRequested()) {
        std::fputs(cfg.helpText().toUtf8().constData(), stdout);
        return 0;
    }
    const QStringList pos = cfg.positional();
    if (pos.isEmpty())
        return fail(s("dlq"), "usage: idl-admin dlq list|show P:O|replay [options]") + 1;
    const QString action = pos.first();
    const std::string bootstrap = cfg.string(s("kafka.bootstrap")).toStdString();
    const std::string topic = cfg.string(s("topic.dlq")).toStdString();

    processor::DlqQuery q;
    q.limit = static_cast<std::size_t>(cfg.integer(s("limit")));
    q.code = cfg.string(s("code")).toStdString();
    if (cfg.integer(s("partition")) >= 0)
        q.partition = static_cast<std::int32_t>(cfg.integer(s("partition")));
    if (cfg.integer(s("offset")) >= 0) {
        if (!q.partition)
            return fail(s("dlq"), "--offset needs --partition") + 1;
        q.offset = cfg.integer(s("offset"));
    }
    if (pos.size() > 1) { // "P:O"
        const QStringList po = pos.at(1).split(u':');
        bool ok1 = false, ok2 = po.size() == 2;
        const int p = po.value(0).toInt(&ok1);
        const qint64 o = ok2 ? po.value(1).toLongLong(&ok2) : 0;
        if (!ok1 || !ok2)
            return fail(s("dlq"), "expected PARTITION:OFFSET, got " + pos.at(1).toStdString()) + 1;
        q.partition = p;
        q.offset = o;
    }

    if (action == s("list")) {
        auto records = processor::readDlq(bootstrap, topic, q);
        if (!records)
            return fail(s("dlq list"), records.error().message);
        std::printf("%-12s %-24s %-8s %-14s %-20s %s\n", "P:OFFSET", "FIRST SEEN", "ATTEMPTS",
                    "CODE", "KEY", "REASON");
        for (const auto &r : *records)
            std::printf("%-12s %-24s %-8s %-14s %-20s %s\n",
                        (std::to_string(r.partition) + ":" + std::to_string(r.offset)).c_str(),
                        firstSeen(r).c_str(), r.header(processor::headers::kAttempts).c_str(),
                        r.header(processor::headers::kErrorCode).c_str(),
                        oneLine(r.key.value_or("-"), 20).c_str(),
                        oneLine(r.header(processor::headers::kErrorMessage), 100).c_str());
        std::printf("%zu dead letter(s)\n", records->size());
        return 0;
    }
    if (action == s("show")) {
        if (!q.partition || !q.offset)
            return fail(s("dlq show"), "which record? idl-admin dlq show PARTITION:OFFSET") + 1;
        auto records = processor::readDlq(bootstrap, topic, q);
        if (!records)
            return fail(s("dlq show"), records.error().message);
        const auto &r = records->front();
        std::printf("record     %d:%lld\n", r.partition, static_cast<long long>(r.offset));
        std::printf("first seen %s\n", firstSeen(r).c_str());
        std::printf("key        %s\n", r.key ? r.key->c_str() : "(null)");
        std::printf("headers\n");
        for (const auto &h : r.headers)
            std::printf("  %s: %s\n", h.key.c_str(),
                        h.value ? oneLine(*h.value, 2000).c_str() : "(null)");
        std::printf("value (%zu bytes)\n", r.value.size());
        std::fwrite(r.value.data(), 1, r.value.size(), stdout);
        std::printf("\n");
        return 0;
    }
    if (action == s("replay")) {
        processor::ReplayOptions ro;
        ro.bootstrap = bootstrap;
        ro.dlqTopic = topic;
        ro.targetTopic = cfg.string(s("topic.raw")).toStdString();
        ro.query = q;
        ro.all = cfg.boolean(s("all"));
        ro.dryRun = cfg.boolean(s("dry-run"));
        auto report = processor::replayDlq(ro);
        if (!report)
            return fail(s("dlq replay"), report.error().message);
        for (const auto &id : report->ids)
            std::printf("%s %s\n", ro.dryRun ? "would replay" : "replayed", id.c_str());
        std::printf("%zu dead letter(s) %s to %s\n", report->replayed,
                    ro.dryRun ? "would be replayed" : "replayed", ro.targetTopic.c_str());
        return 0;
    }
    return fail(s("dlq"), "unknown action '" + action.toStdString() + "' (list, show, replay)") + 1;
}

} // namespace

IDL_ADMIN_COMMAND(dlq, "Dead letters: list | show P:O | replay", runDlq)

} // namespace idl::admin
