#include "idl/collector/authenticator.h"

#include "idl/service/auth/secret.h"

#include <condition_variable>
#include <deque>
#include <mutex>
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

// The presented key: X-API-Key, or Authorization: Bearer <key>.
std::string_view presentedKey(const http::Request &req)
{
    if (auto k = trim(req.header("x-api-key")); !k.empty())
        return k;
    const auto auth = trim(req.header("authorization"));
    if (iequalsPrefix(auth, "bearer "))
        return trim(auth.substr(7));
    return {};
}

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
        Done done;
    };
    struct Entry
    {
        std::optional<KeyRecord> record; // nullopt: no such key
        Clock::time_point fetched;
        bool valid = false; // a lookup has completed at least once
        bool loading = false;
        std::vector<Waiter> waiters;
    };

    AuthOptions opt;
    KeyLookup lookup;
    std::mutex mutex;
    std::condition_variable cv;
    std::unordered_map<std::string, Entry> cache;
    std::deque<std::string> queue;
    bool stopping = false;
    std::thread worker;

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

    void run()
    {
        std::unique_lock lock(mutex);
        for (;;) {
            cv.wait(lock, [&] { return stopping || !queue.empty(); });
            if (stopping)
                break;
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
            const auto now = Clock::now();
            std::optional<Result<Identity>> failure;
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
            for (auto &w : waiters)
                w.done(failure ? *failure : judge(rec, w.key));
            lock.lock();
        }
        // Answer whoever is still waiting.
        std::vector<Waiter> left;
        for (auto &[k, e] : cache)
            for (auto &w : e.waiters)
                left.push_back(std::move(w));
        lock.unlock();
        for (auto &w : left)
            w.done(makeError(ErrorCode::Unavailable, "shutting down"));
    }
};

Authenticator::Authenticator(AuthOptions options, KeyLookup lookup) : d(std::make_unique<Impl>())
{
    d->opt = std::move(options);
    d->lookup = std::move(lookup);
    d->worker = std::thread([this] { d->run(); });
}

Authenticator::~Authenticator()
{
    {
        std::lock_guard lock(d->mutex);
        d->stopping = true;
    }
    d->cv.notify_all();
    d->worker.join();
}

void Authenticator::clearCache()
{
    std::lock_guard lock(d->mutex);
    std::erase_if(d->cache, [](auto &kv) { return !kv.second.loading; });
}

void Authenticator::authenticate(const http::Request &request, Done done)
{
    const std::string_view key = presentedKey(request);
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
    const auto prefix = apiKeyPrefix(key);
    if (!prefix)
        return done(unauthenticated("invalid API key"));

    std::unique_lock lock(d->mutex);
    const auto now = Clock::now();
    auto it = d->cache.find(std::string(*prefix));
    if (it == d->cache.end()) {
        d->trimCache();
        it = d->cache.try_emplace(std::string(*prefix)).first;
    }
    Impl::Entry &e = it->second;
    if (e.valid && now - e.fetched <= d->opt.cacheTtl) {
        const std::optional<KeyRecord> rec = e.record;
        lock.unlock();
        return done(Impl::judge(rec, key));
    }
    e.waiters.push_back({std::string(key), std::move(done)});
    if (!e.loading) {
        e.loading = true;
        d->queue.push_back(it->first);
        lock.unlock();
        d->cv.notify_one();
    }
}

} // namespace idl::collector
