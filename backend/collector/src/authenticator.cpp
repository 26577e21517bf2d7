#include "idl/collector/authenticator.h"

#include "idl/collector/api_key.h"

#include "idl/observability/metrics.h"
#include "idl/service/auth/secret.h"

#include <QByteArray>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

namespace idl::collector {

namespace {

using Clock = std::chrono::steady_clock;

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool iequalsPrefix(std::string_view text, std::string_view prefix)
{
    if (text.size() < prefix.size())
        return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i])
            return false;
    return true;
}

// The text after the first ':' of base64(user:secret), or the user when the secret is empty;
// nullopt when `encoded` is not base64 of such a pair.
std::optional<std::string> secretOfPair(std::string_view encoded)
{
    const auto decoded = QByteArray::fromBase64Encoding(
        QByteArray::fromRawData(encoded.data(), static_cast<qsizetype>(encoded.size())),
        QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    const std::string pair = decoded.decoded.toStdString();
    const auto colon = pair.find(':');
    if (colon == std::string::npos)
        return std::nullopt;
    std::string secret = pair.substr(colon + 1);
    return secret.empty() ? pair.substr(0, colon) : secret;
}

} // namespace

std::string presentedApiKey(const http::Request &req)
{
    if (auto k = trim(req.header("x-api-key")); !k.empty())
        return std::string(k);
    const auto auth = trim(req.header("authorization"));
    if (iequalsPrefix(auth, "bearer "))
        return std::string(trim(auth.substr(7)));
    if (iequalsPrefix(auth, "apikey ")) {
        // Elasticsearch clients: the key itself, or base64(id:key) with any id.
        const auto value = trim(auth.substr(7));
        if (apiKeyPrefix(value))
            return std::string(value);
        return secretOfPair(value).value_or(std::string(value));
    }
    if (iequalsPrefix(auth, "basic ")) // user name free, the password is the key
        return secretOfPair(trim(auth.substr(6))).value_or(std::string());
    return {};
}

namespace {

Error unauthenticated(std::string message)
{
    return makeError(ErrorCode::Unauthenticated, std::move(message));
}

} // namespace

Result<std::map<std::string, std::string>> parseCertApps(const std::string &text)
{
    std::map<std::string, std::string> out;
    std::string_view rest = text;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const auto item = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (item.empty())
            continue;
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || trim(item.substr(0, eq)).empty())
            return makeError(ErrorCode::BadField,
                             "client certificate mapping must be CN=APP, got " + std::string(item));
        out[std::string(trim(item.substr(0, eq)))] = std::string(trim(item.substr(eq + 1)));
    }
    return out;
}

struct Authenticator::Impl
{
    struct Waiter
    {
        std::string key;
        std::string address; // client address, for the failure throttle
        Done done;
        // Set for a known key being refreshed: answered from the cache at this time if the
        // refresh has not finished (stale-while-revalidate).
        std::optional<Clock::time_point> deadline;
    };
    struct Entry
    {
        std::optional<KeyRecord> record; // nullopt: no such key
        Clock::time_point fetched;
        bool valid = false; // a lookup has completed at least once
        bool loading = false;
        std::vector<Waiter> waiters;
    };
    // Failed authentications of one client address in the current window.
    struct Failures
    {
        Clock::time_point windowStart;
        int count = 0;
    };
    using Answer = std::pair<Done, Result<Identity>>;

    AuthOptions opt;
    KeyLookup lookup;
    std::mutex mutex;
    std::condition_variable cv;      // lookup threads: work or stop
    std::condition_variable timerCv; // the refresh-wait timer
    std::unordered_map<std::string, Entry> cache;
    std::deque<std::string> refreshQueue; // known keys (few: only real keys get here)
    std::deque<std::string> lookupQueue;  // everything else, at most opt.maxQueuedLookups
    std::size_t waiting = 0;              // requests in Entry::waiters
    // Deadlines of waiters on a refresh, earliest first: (deadline, prefix).
    std::priority_queue<std::pair<Clock::time_point, std::string>,
                        std::vector<std::pair<Clock::time_point, std::string>>, std::greater<>>
        deadlines;
    std::unordered_map<std::string, Failures> failures;
    bool stopping = false;
    std::vector<std::thread> workers;
    std::thread timer;

    metrics::Registry &reg = metrics::Registry::global();
    metrics::Counter &refusedQueueFull =
        reg.counter("idl_collector_auth_refused_total",
                    "Requests refused without a key lookup, by reason", {{"reason", "queue_full"}});
    metrics::Counter &refusedThrottled = reg.counter(
        "idl_collector_auth_refused_total", "Requests refused without a key lookup, by reason",
        {{"reason", "address_throttled"}});
    metrics::Counter &staleAnswers =
        reg.counter("idl_collector_auth_stale_answers_total",
                    "Known keys answered from the cache while their refresh was pending");

    static Result<Identity> judge(const std::optional<KeyRecord> &rec, std::string_view key)
    {
        // The same reply for "unknown", "wrong secret" and "revoked" would hide which keys
        // exist; revoked keys say so, since the prefix is public anyway.
        if (!rec || !auth::secretMatches(key, rec->hash))
            return unauthenticated("invalid API key");
        if (rec->revoked)
            return unauthenticated("API key revoked");
        return Identity{rec->prefix, rec->app, rec->name};
    }

    void trimCache()
    {
        if (cache.size() < opt.maxCacheEntries)
            return;
        // Drop idle entries, oldest first, until half the budget is free.
        std::vector<std::pair<Clock::time_point, std::string>> idle;
        for (auto &[k, e] : cache)
            if (!e.loading)
                idle.emplace_back(e.fetched, k);
        std::sort(idle.begin(), idle.end());
        const std::size_t drop = std::min(idle.size(), cache.size() - opt.maxCacheEntries / 2);
        for (std::size_t i = 0; i < drop; ++i)
            cache.erase(idle[i].second);
    }

    // ---- failure throttle (mutex held) ----

    bool throttled(const std::string &address, Clock::time_point now) const
    {
        if (opt.maxFailures <= 0)
            return false;
        const auto it = failures.find(address);
        return it != failures.end() && now - it->second.windowStart < opt.failureWindow &&
               it->second.count >= opt.maxFailures;
    }

    void countFailure(const std::string &address, Clock::time_point now)
    {
        if (opt.maxFailures <= 0)
            return;
        if (failures.size() >= opt.maxTrackedAddresses && !failures.count(address)) {
            std::erase_if(failures, [&](const auto &kv) {
                return now - kv.second.windowStart >= opt.failureWindow;
            });
            while (failures.size() >= opt.maxTrackedAddresses) {
                auto oldest = failures.begin();
                for (auto it = failures.begin(); it != failures.end(); ++it)
                    if (it->second.windowStart < oldest->second.windowStart)
                        oldest = it;
                failures.erase(oldest);
            }
        }
        Failures &f = failures[address];
        if (f.count == 0 || now - f.windowStart >= opt.failureWindow) {
            f.windowStart = now;
            f.count = 0;
        }
        ++f.count;
    }

    // Answers outside the lock; failed key checks are counted against their address.
    void deliver(std::vector<Answer> &answers, const std::vector<std::string> &addresses)
    {
        for (std::size_t i = 0; i < answers.size(); ++i)
            if (!answers[i].second &&
                answers[i].second.error().code == ErrorCode::Unauthenticated) {
                std::lock_guard lock(mutex);
                countFailure(addresses[i], Clock::now());
            }
        for (auto &[done, result] : answers)
            done(std::move(result));
    }

    // ---- lookups ----

    void runLookups()
    {
        std::unique_lock lock(mutex);
        for (;;) {
            cv.wait(lock,
                    [&] { return stopping || !refreshQueue.empty() || !lookupQueue.empty(); });
            if (stopping)
                return;
            std::deque<std::string> &queue = refreshQueue.empty() ? lookupQueue : refreshQueue;
            const std::string prefix = std::move(queue.front());
            queue.pop_front();
            lock.unlock();
            auto found = lookup(prefix);
            lock.lock();
            auto it = cache.find(prefix);
            if (it == cache.end())
                continue;
            Entry &e = it->second;
            e.loading = false;
            std::vector<Waiter> waiters = std::move(e.waiters);
            e.waiters.clear();
            waiting -= waiters.size();
            const auto now = Clock::now();
            std::optional<Error> failure;
            if (found) {
                e.record = std::move(*found);
                e.fetched = now;
                e.valid = true;
            } else if (!e.valid || now - e.fetched > opt.maxStale) {
                failure = makeError(ErrorCode::Unavailable,
                                    "cannot check the API key: " + found.error().message);
            }
            const std::optional<KeyRecord> rec = e.record;
            lock.unlock();
            std::vector<Answer> answers;
            std::vector<std::string> addresses;
            for (auto &w : waiters) {
                answers.emplace_back(std::move(w.done),
                                     failure ? Result<Identity>(*failure) : judge(rec, w.key));
                addresses.push_back(std::move(w.address));
            }
            deliver(answers, addresses);
            lock.lock();
        }
    }

    // Answers requests whose refresh is slower than opt.refreshWait from the cached entry.
    void runTimer()
    {
        std::unique_lock lock(mutex);
        while (!stopping) {
            if (deadlines.empty()) {
                timerCv.wait(lock);
                continue;
            }
            const auto due = deadlines.top().first;
            if (Clock::now() < due) {
                timerCv.wait_until(lock, due);
                continue;
            }
            const std::string prefix = deadlines.top().second;
            deadlines.pop();
            auto it = cache.find(prefix);
            if (it == cache.end() || !it->second.valid)
                continue;
            Entry &e = it->second;
            const auto now = Clock::now();
            std::vector<Answer> answers;
            std::vector<std::string> addresses;
            std::erase_if(e.waiters, [&](Waiter &w) {
                if (!w.deadline || *w.deadline > now)
                    return false;
                answers.emplace_back(std::move(w.done), judge(e.record, w.key));
                addresses.push_back(std::move(w.address));
                return true;
            });
            waiting -= answers.size();
            if (answers.empty())
                continue;
            staleAnswers.inc(answers.size());
            lock.unlock();
            deliver(answers, addresses);
            lock.lock();
        }
    }

    // Queues a lookup of `prefix` (mutex held). The refresh lane is for known keys.
    bool schedule(Entry &e, const std::string &prefix, bool knownKey)
    {
        if (e.loading)
            return true;
        if (!knownKey && lookupQueue.size() >= opt.maxQueuedLookups)
            return false;
        e.loading = true;
        (knownKey ? refreshQueue : lookupQueue).push_back(prefix);
        cv.notify_one();
        return true;
    }
};

Authenticator::Authenticator(AuthOptions options, KeyLookup lookup) : d(std::make_unique<Impl>())
{
    d->opt = std::move(options);
    d->lookup = std::move(lookup);
    for (int i = 0; i < std::max(1, d->opt.lookupThreads); ++i)
        d->workers.emplace_back([this] { d->runLookups(); });
    d->timer = std::thread([this] { d->runTimer(); });
}

Authenticator::~Authenticator()
{
    {
        std::lock_guard lock(d->mutex);
        d->stopping = true;
    }
    d->cv.notify_all();
    d->timerCv.notify_all();
    for (auto &w : d->workers)
        w.join();
    d->timer.join();
    // Answer whoever is still waiting.
    std::vector<Impl::Waiter> left;
    for (auto &[k, e] : d->cache)
        for (auto &w : e.waiters)
            left.push_back(std::move(w));
    for (auto &w : left)
        w.done(makeError(ErrorCode::Unavailable, "shutting down"));
}

void Authenticator::clearCache()
{
    std::lock_guard lock(d->mutex);
    std::erase_if(d->cache, [](auto &kv) { return !kv.second.loading; });
}

void Authenticator::authenticate(const http::Request &request, Done done)
{
    const std::string presented = presentedApiKey(request);
    const std::string_view key = presented;
    if (key.empty()) {
        if (const auto &cert = request.clientCertificate) {
            auto it = d->opt.certApps.find(cert->commonName);
            if (it == d->opt.certApps.end())
                it = d->opt.certApps.find("*");
            if (it == d->opt.certApps.end() || cert->commonName.empty())
                return done(unauthenticated("client certificate " + cert->subject +
                                            " is not mapped to an app"));
            Identity id{"cert:" + cert->commonName, std::nullopt, cert->subject};
            if (it->second == "*")
                id.app = cert->commonName;
            else if (!it->second.empty())
                id.app = it->second;
            return done(std::move(id));
        }
        return done(unauthenticated(
            "credentials required: Authorization: Bearer <key>, X-API-Key, or a client "
            "certificate"));
    }
    std::unique_lock lock(d->mutex);
    const auto now = Clock::now();
    const auto answerNow = [&](Result<Identity> result) {
        if (!result && result.error().code == ErrorCode::Unauthenticated)
            d->countFailure(request.peerAddress, now);
        lock.unlock();
        done(std::move(result));
    };
    const auto wait = [&](Impl::Entry &e, std::optional<Clock::time_point> deadline) {
        e.waiters.push_back({std::string(key), request.peerAddress, std::move(done), deadline});
        ++d->waiting;
    };
    const auto prefix = apiKeyPrefix(key);
    if (!prefix)
        return answerNow(unauthenticated("invalid API key"));
    const auto overloaded = [&] {
        d->refusedQueueFull.inc();
        answerNow(
            makeError(ErrorCode::Unavailable, "too many API key lookups in progress; retry later"));
    };

    auto it = d->cache.find(std::string(*prefix));
    if (it != d->cache.end() && it->second.valid) {
        Impl::Entry &e = it->second;
        const auto age = now - e.fetched;
        if (age <= d->opt.cacheTtl)
            return answerNow(Impl::judge(e.record, key));
        if (!e.record) {
            // Unknown key past its TTL: still unknown now, checked again in the background
            // when there is room (no request waits for it, no body is held).
            d->schedule(e, it->first, false);
            return answerNow(Impl::judge(e.record, key));
        }
        // A known key past its TTL: refreshed in its own lane; the request waits for the
        // refresh at most refreshWait, then gets the cached answer (up to maxStale).
        d->schedule(e, it->first, true);
        const bool usable = age <= d->opt.maxStale;
        if (usable &&
            (d->opt.refreshWait.count() <= 0 || d->waiting >= d->opt.maxWaitingRequests)) {
            d->staleAnswers.inc();
            return answerNow(Impl::judge(e.record, key));
        }
        if (!usable && d->waiting >= d->opt.maxWaitingRequests)
            return overloaded();
        std::optional<Clock::time_point> deadline;
        if (usable) {
            deadline = now + d->opt.refreshWait;
            d->deadlines.emplace(*deadline, it->first);
            d->timerCv.notify_one();
        }
        wait(e, deadline);
        return;
    }
    // Not known yet: needs the database.
    if (d->throttled(request.peerAddress, now)) {
        d->refusedThrottled.inc();
        lock.unlock();
        return done(makeError(ErrorCode::RateLimited,
                              "too many failed authentications from this address; retry later"));
    }
    if (d->waiting >= d->opt.maxWaitingRequests)
        return overloaded();
    if (it == d->cache.end()) {
        if (d->lookupQueue.size() >= d->opt.maxQueuedLookups)
            return overloaded();
        d->trimCache();
        it = d->cache.try_emplace(std::string(*prefix)).first;
    }
    if (!d->schedule(it->second, it->first, false))
        return overloaded();
    wait(it->second, std::nullopt);
}

} // namespace idl::collector
