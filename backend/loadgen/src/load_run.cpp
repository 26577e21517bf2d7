#include "idl/loadgen/load_run.h"

#include "idl/loadgen/http_connection.h"
#include "idl/loadgen/rate_profile.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sys/resource.h>
#include <thread>
#include <utility>
#include <vector>

namespace idl::loadgen {

using Clock = std::chrono::steady_clock;

namespace {

std::int64_t wallNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

double cpuSecondsSelf()
{
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double percentile(std::vector<float> &sorted, double p)
{
    if (sorted.empty())
        return 0;
    const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(i, sorted.size() - 1)];
}

// One request's fate on the run's clock: when it was sent, whether it got a 2xx.
struct Outcome
{
    double sentS;
    bool ok;
};

// Per-sender counters, merged under the run's mutex when the sender ends and for progress.
struct Tally
{
    std::vector<Outcome> outcomes;
    std::uint64_t requests = 0, sent = 0, accepted = 0, rejected = 0, uncertain = 0, errors = 0,
                  bytes = 0, batches = 0, batchesOk = 0, retries = 0, resent = 0;
    std::map<int, std::uint64_t> statuses;
    std::vector<float> latencies; // ms
    RangeSet acked, maybe;
};

// Refused ingestion, folded in send order: a window opens at the sending of a request that
// got no 2xx answer and closes at the sending of the next request that got one (or the end of
// the run): the time in which a new request would have been refused, to within the time
// between two requests.
struct RefusalFold
{
    double openedAt = -1;
    std::vector<std::pair<double, double>> windows;

    // Outcomes sent after every one folded before.
    void fold(std::vector<Outcome> &outcomes)
    {
        std::sort(outcomes.begin(), outcomes.end(),
                  [](const Outcome &a, const Outcome &b) { return a.sentS < b.sentS; });
        for (const Outcome &o : outcomes) {
            if (!o.ok && openedAt < 0) {
                openedAt = o.sentS;
            } else if (o.ok && openedAt >= 0) {
                windows.push_back({openedAt, o.sentS});
                openedAt = -1;
            }
        }
    }
};

} // namespace

struct LoadRun::Impl
{
    LoadOptions opt;
    AckLedger ledger;
    std::atomic<std::uint64_t> nextBatch{0};
    std::mutex mutex;
    std::vector<Tally> tallies; // one per sender, guarded by mutex for reads during the run
    std::atomic<int> connects{0};
    std::int64_t startedMs = 0; // wall clock at the start, ms since the epoch
    // Outcomes sent more than a minute ago (every request of theirs is answered or timed out
    // by then) are folded here and dropped, so a run without end keeps bounded memory.
    RefusalFold refused;

    void sender(int index, const RateProfile &profile, Clock::time_point start,
                const std::atomic<bool> &stop)
    {
        EventFactory factory(opt.generatorId, opt.seed * 1000 + static_cast<std::uint64_t>(index),
                             opt.payloadBytes);
        HttpConnection conn(opt.host, opt.port);
        const std::string auth = "Bearer " + opt.apiKey;
        const auto path = EventFactory::path(opt.format);
        const auto type = EventFactory::contentType(opt.format);
        const auto end = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(opt.seconds));
        std::string body;
        const auto batch = static_cast<std::uint64_t>(opt.batch);
        while (!stop.load(std::memory_order_relaxed)) {
            const std::uint64_t k = nextBatch.fetch_add(1);
            const std::uint64_t first = k * batch;
            std::uint64_t n = batch;
            if (opt.maxEvents) {
                if (first >= opt.maxEvents)
                    break;
                n = std::min(n, opt.maxEvents - first);
            }
            if (!profile.unlimited()) {
                const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(
                                                 profile.timeFor(static_cast<double>(first + n))));
                if (opt.seconds > 0 && due > end)
                    break;
                while (!stop.load(std::memory_order_relaxed) && Clock::now() < due)
                    std::this_thread::sleep_for(std::min<Clock::duration>(
                        due - Clock::now(), std::chrono::milliseconds(50)));
                if (stop.load(std::memory_order_relaxed))
                    break;
            } else if (opt.seconds > 0 && Clock::now() >= end) {
                break;
            }
            body.clear();
            factory.appendBody(body, opt.format, first, static_cast<int>(n), wallNs());
            const std::size_t bodyBytes = body.size();
            // With retries the body is kept for the next attempt.
            const std::string payload = opt.retries > 0 ? body : std::string();
            // The key names the batch, so every attempt carries the same one.
            std::string key;
            std::vector<HttpConnection::Header> headers;
            if (opt.idempotencyKeys) {
                key = opt.generatorId + '-' + std::to_string(k);
                headers.emplace_back("Idempotency-Key", key);
            }
            for (int attempt = 0;; ++attempt) {
                const auto t0 = Clock::now();
                auto reply =
                    conn.post(path, type, auth, attempt == 0 ? std::move(body) : payload, headers);
                const auto t1 = Clock::now();
                std::unique_lock lock(mutex);
                Tally &t = tallies[static_cast<std::size_t>(index)];
                t.outcomes.push_back({std::chrono::duration<double>(t0 - start).count(),
                                      reply && reply->status / 100 == 2});
                ++t.requests;
                t.bytes += bodyBytes;
                if (attempt == 0) {
                    t.sent += n;
                    ++t.batches;
                }
                // Retried as OTLP/HTTP exporters do: transport failures, 429, 502, 503 and 504,
                // after the reply's Retry-After (capped) or an exponential back-off.
                const bool retryable = !reply || reply->status == 429 || reply->status == 502 ||
                                       reply->status == 503 || reply->status == 504;
                if (retryable && attempt < opt.retries && !stop.load()) {
                    ++t.errors;
                    ++t.statuses[reply ? reply->status : 0];
                    ++t.retries;
                    // Kafka may hold some of the events of an attempt that got no answer or a
                    // 5xx (not of a 429): the resent copy can store them twice (unless it
                    // carries the batch's Idempotency-Key: then the platform stores them once).
                    if (!reply || reply->status != 429)
                        t.resent += n;
                    lock.unlock();
                    auto delay = std::chrono::milliseconds(
                        std::min<long long>(5000, 250LL << std::min(attempt, 5)));
                    if (reply && !reply->retryAfter.empty()) {
                        const long long secs = std::atoll(reply->retryAfter.c_str());
                        if (secs > 0)
                            delay = std::chrono::milliseconds(
                                std::min<long long>(secs, opt.retryMaxWaitS) * 1000);
                    }
                    const auto until = Clock::now() + delay;
                    while (!stop.load() && Clock::now() < until)
                        std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    continue;
                }
                if (!reply) {
                    ++t.errors;
                    ++t.statuses[0];
                    t.uncertain += n;
                    t.maybe.add(first, n);
                    lock.unlock();
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    break;
                }
                ++t.statuses[reply->status];
                if (reply->status == 200 || reply->status == 202) {
                    ++t.batchesOk;
                    t.latencies.push_back(
                        std::chrono::duration<float, std::milli>(t1 - t0).count());
                    const QJsonObject o =
                        QJsonDocument::fromJson(QByteArray::fromStdString(reply->body)).object();
                    const auto accepted = static_cast<std::uint64_t>(
                        o.value(QStringLiteral("accepted")).toInteger(-1));
                    const auto rejected = static_cast<std::uint64_t>(
                        o.value(QStringLiteral("rejected")).toInteger(0));
                    const QJsonArray errors = o.value(QStringLiteral("errors")).toArray();
                    if (accepted == n && rejected == 0) {
                        t.accepted += n;
                        t.acked.add(first, n);
                    } else if (opt.format == Format::Native && accepted + rejected == n &&
                               static_cast<std::uint64_t>(errors.size()) == rejected) {
                        // Exactly which events were refused is known: the rest are acknowledged.
                        std::vector<bool> refused(n, false);
                        for (const auto &e : errors) {
                            const auto i =
                                e.toObject().value(QStringLiteral("index")).toInteger(-1);
                            if (i >= 0 && static_cast<std::uint64_t>(i) < n)
                                refused[static_cast<std::size_t>(i)] = true;
                        }
                        for (std::uint64_t i = 0; i < n; ++i)
                            if (!refused[i])
                                t.acked.add(first + i, 1);
                        t.accepted += accepted;
                        t.rejected += rejected;
                    } else {
                        // Counts that do not add up: don't guess which events are stored.
                        t.uncertain += n;
                        t.maybe.add(first, n);
                        ++t.errors;
                    }
                    break;
                }
                ++t.errors;
                if (reply->status == 429 || reply->status >= 500) {
                    // Back-pressure or Kafka trouble: some events may still be written (see
                    // docs/collector.md); without retries (left), each is stored at most once.
                    t.uncertain += n;
                    t.maybe.add(first, n);
                    lock.unlock();
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
                } else {
                    t.rejected += n;
                    if (t.statuses[reply->status] == 1)
                        std::fprintf(stderr, "idl-loadgen: HTTP %d: %s\n", reply->status,
                                     reply->body.substr(0, 300).c_str());
                }
                break;
            }
            body = std::string();
        }
        connects += conn.connects();
    }

    LoadReport report(Clock::time_point start, bool final)
    {
        LoadReport r;
        r.generatorId = opt.generatorId;
        r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        r.startedMs = startedMs;
        std::vector<float> lat;
        std::vector<Outcome> settled, recent;
        const double settledBefore = final ? r.seconds + 1 : r.seconds - 60;
        std::lock_guard lock(mutex);
        for (Tally &t : tallies) {
            // A sender's outcomes are in send order.
            const auto split =
                std::find_if(t.outcomes.begin(), t.outcomes.end(),
                             [&](const Outcome &o) { return o.sentS >= settledBefore; });
            settled.insert(settled.end(), t.outcomes.begin(), split);
            recent.insert(recent.end(), split, t.outcomes.end());
            t.outcomes.erase(t.outcomes.begin(), split);
            r.requests += t.requests;
            r.sent += t.sent;
            r.accepted += t.accepted;
            r.rejected += t.rejected;
            r.uncertain += t.uncertain;
            r.errorRequests += t.errors;
            r.bytes += t.bytes;
            r.batches += t.batches;
            r.batchesOk += t.batchesOk;
            r.retries += t.retries;
            r.resent += t.resent;
            for (const auto &[status, count] : t.statuses)
                r.statuses[status] += count;
            lat.insert(lat.end(), t.latencies.begin(), t.latencies.end());
        }
        std::sort(lat.begin(), lat.end());
        r.p50Ms = percentile(lat, 0.50);
        r.p90Ms = percentile(lat, 0.90);
        r.p99Ms = percentile(lat, 0.99);
        r.p999Ms = percentile(lat, 0.999);
        r.maxMs = lat.empty() ? 0 : lat.back();
        r.cpuSeconds = cpuSecondsSelf();
        r.connects = connects.load();
        refused.fold(settled);
        RefusalFold now = refused;
        now.fold(recent);
        if (now.openedAt >= 0)
            now.windows.push_back({now.openedAt, std::max(now.openedAt, r.seconds)});
        r.refusals = std::move(now.windows);
        for (const auto &[from, to] : r.refusals)
            r.refusedSeconds += to - from;
        if (final) {
            ledger.generatorId = opt.generatorId;
            ledger.nextSeq = nextBatch.load() * static_cast<std::uint64_t>(opt.batch);
            for (const Tally &t : tallies) {
                ledger.acked.merge(t.acked);
                ledger.maybe.merge(t.maybe);
            }
            ledger.acked.normalize();
            ledger.maybe.normalize();
        }
        return r;
    }
};

LoadRun::LoadRun(LoadOptions options) : d(std::make_unique<Impl>())
{
    d->opt = std::move(options);
}

LoadRun::~LoadRun() = default;

const AckLedger &LoadRun::ledger() const
{
    return d->ledger;
}

Result<LoadReport> LoadRun::run(const std::atomic<bool> &stop,
                                const std::function<void(const LoadReport &)> &progress)
{
    if (d->opt.connections < 1 || d->opt.batch < 1)
        return makeError(ErrorCode::BadRequest, "connections and batch must be at least 1");
    if (d->opt.generatorId.empty())
        return makeError(ErrorCode::BadRequest, "a generator id is needed");
    auto profile = RateProfile::parse(d->opt.profile, d->opt.rate);
    if (!profile)
        return profile.error();
    d->tallies.assign(static_cast<std::size_t>(d->opt.connections), Tally{});
    const auto start = Clock::now();
    d->startedMs = wallNs() / 1'000'000;
    std::vector<std::thread> threads;
    std::atomic<int> running{d->opt.connections};
    for (int i = 0; i < d->opt.connections; ++i)
        threads.emplace_back([&, i] {
            d->sender(i, *profile, start, stop);
            --running;
        });
    auto nextProgress = start + std::chrono::seconds(1);
    while (running.load() > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (progress && Clock::now() >= nextProgress) {
            nextProgress += std::chrono::seconds(1);
            progress(d->report(start, false));
        }
    }
    for (auto &t : threads)
        t.join();
    return d->report(start, true);
}

std::string LoadReport::json() const
{
    QJsonObject o;
    o.insert(QStringLiteral("generator"), QString::fromStdString(generatorId));
    o.insert(QStringLiteral("seconds"), seconds);
    o.insert(QStringLiteral("requests"), static_cast<qint64>(requests));
    o.insert(QStringLiteral("sent"), static_cast<qint64>(sent));
    o.insert(QStringLiteral("accepted"), static_cast<qint64>(accepted));
    o.insert(QStringLiteral("rejected"), static_cast<qint64>(rejected));
    o.insert(QStringLiteral("uncertain"), static_cast<qint64>(uncertain));
    o.insert(QStringLiteral("error_requests"), static_cast<qint64>(errorRequests));
    o.insert(QStringLiteral("batches"), static_cast<qint64>(batches));
    o.insert(QStringLiteral("batches_ok"), static_cast<qint64>(batchesOk));
    o.insert(QStringLiteral("retries"), static_cast<qint64>(retries));
    o.insert(QStringLiteral("resent_uncertain"), static_cast<qint64>(resent));
    o.insert(QStringLiteral("accepted_per_s"), acceptedPerSecond());
    o.insert(QStringLiteral("ack_p50_ms"), p50Ms);
    o.insert(QStringLiteral("ack_p90_ms"), p90Ms);
    o.insert(QStringLiteral("ack_p99_ms"), p99Ms);
    o.insert(QStringLiteral("ack_p999_ms"), p999Ms);
    o.insert(QStringLiteral("ack_max_ms"), maxMs);
    o.insert(QStringLiteral("cpu_s"), cpuSeconds);
    o.insert(QStringLiteral("bytes"), static_cast<qint64>(bytes));
    o.insert(QStringLiteral("connects"), connects);
    o.insert(QStringLiteral("started_ms"), static_cast<qint64>(startedMs));
    o.insert(QStringLiteral("refused_s"), refusedSeconds);
    QJsonArray windows;
    for (const auto &[from, to] : refusals)
        windows.append(QJsonArray{from, to});
    o.insert(QStringLiteral("refusals"), windows);
    QJsonObject st;
    for (const auto &[status, count] : statuses)
        st.insert(status ? QString::number(status) : QStringLiteral("transport"),
                  static_cast<qint64>(count));
    o.insert(QStringLiteral("statuses"), st);
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

std::string LoadReport::text() const
{
    char buf[1024];
    std::string statusText;
    for (const auto &[status, count] : statuses)
        statusText += (statusText.empty() ? "" : ", ") +
                      (status ? std::to_string(status) : std::string("transport")) + ": " +
                      std::to_string(count);
    std::snprintf(
        buf, sizeof buf,
        "generator %s: %.1f s, %llu requests (%s), %d connects\n"
        "  events: sent %llu, accepted %llu, rejected %llu, uncertain %llu\n"
        "  rate: %.0f accepted events/s, %.1f MB/s sent\n"
        "  ack latency ms: p50 %.1f, p90 %.1f, p99 %.1f, p99.9 %.1f, max %.1f\n"
        "  cpu: %.1f s\n"
        "  refused: %.2f s in %zu windows (requests sent while none got a 2xx answer)\n",
        generatorId.c_str(), seconds, static_cast<unsigned long long>(requests), statusText.c_str(),
        connects, static_cast<unsigned long long>(sent), static_cast<unsigned long long>(accepted),
        static_cast<unsigned long long>(rejected), static_cast<unsigned long long>(uncertain),
        acceptedPerSecond(), seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0.0, p50Ms,
        p90Ms, p99Ms, p999Ms, maxMs, cpuSeconds, refusedSeconds, refusals.size());
    return buf;
}

} // namespace idl::loadgen
