#pragma once

#include "idl/collector/key_store.h"
#include "idl/core/result.h"
#include "idl/service/http_server.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace idl::collector {

// Who sent a request, once authenticated.
struct Identity
{
    std::string id;                 // key prefix, or "cert:<CN>" for a client certificate
    std::optional<std::string> app; // the only app it may send for; nullopt = any
    std::string name;               // key name or certificate subject, for logs
};

// How requests are authenticated. Defaults are the configuration defaults (collector_config.cpp,
// docs/security.md).
struct AuthOptions
{
    // How long a looked-up key (or its absence) is trusted before the database is asked
    // again: revocation takes effect within this time (see refreshWait).
    std::chrono::milliseconds cacheTtl{10'000};
    // When the database cannot be reached, a cached key is still used up to this age;
    // without one the request gets 503.
    std::chrono::milliseconds maxStale{300'000};
    // Cached entries kept at most (unknown prefixes included); the oldest half is dropped
    // beyond it.
    std::size_t maxCacheEntries = 100'000;
    // Client certificate CN -> app. "*" matches any verified CN; app "*" means "the CN
    // itself", app "" means "any app".
    std::map<std::string, std::string> certApps;

    // Threads that look keys up in parallel, each with its own database connection.
    int lookupThreads = 4;
    // Uncached keys waiting for a lookup at most; a request for another one gets 503 with
    // Retry-After at once (refreshes of known keys have their own lane and never wait here).
    std::size_t maxQueuedLookups = 256;
    // Requests waiting for a lookup at most, over all keys (each holds its body in memory);
    // beyond it a request is answered at once: from the cache when its key is known, else 503.
    std::size_t maxWaitingRequests = 512;
    // A known key past cacheTtl is refreshed in the background; its request waits for the
    // refresh at most this long and is then answered from the cached entry
    // (stale-while-revalidate, up to maxStale). 0 = never wait.
    std::chrono::milliseconds refreshWait{200};
    // Failed key authentications per client address: after maxFailures within
    // failureWindow, requests from that address whose key is not cached get 429 without a
    // lookup until the window ends (keys cached as valid still pass). 0 = off.
    int maxFailures = 50;
    std::chrono::milliseconds failureWindow{60'000};
    // Addresses tracked at most; beyond it the ones whose window ended are forgotten, then
    // the oldest.
    std::size_t maxTrackedAddresses = 100'000;
};

// Parses "cn=app,cn2=app2,*=*" into AuthOptions::certApps. BadField on malformed text.
Result<std::map<std::string, std::string>> parseCertApps(const std::string &text);

// The API key a request presents (docs/security.md): X-API-Key: <key>; Authorization:
// Bearer <key>; ApiKey <key> or ApiKey base64(<any id>:<key>) (Elasticsearch clients); Basic
// base64(<any user>:<key>) (Elasticsearch, Loki and Prometheus clients: the password is the
// key; with an empty password, the user name). "" when none is presented.
std::string presentedApiKey(const http::Request &request);

// Finds a key by prefix in the database. Called on the authenticator's lookup threads only,
// up to AuthOptions::lookupThreads calls at a time.
using KeyLookup = std::function<Result<std::optional<KeyRecord>>(std::string_view prefix)>;

// Authenticates requests by API key (Authorization: Bearer, or X-API-Key) or by a verified
// client certificate. Keys are cached in memory for AuthOptions::cacheTtl so the database is
// asked at most once per key per TTL; a miss is looked up on the authenticator's own threads
// (in parallel; concurrent misses for one key share one query), never on the caller's. The
// queue of lookups and the requests waiting for them are bounded, known keys are refreshed
// in their own lane and answered from the cache when the refresh is slow, and an address
// that keeps failing is throttled (AuthOptions; docs/security.md).
//
// Lifecycle: create before the HTTP server starts, destroy after it stopped. authenticate()
// is thread-safe.
class Authenticator
{
public:
    // The outcome: an Identity, or Unauthenticated / Unavailable.
    using Done = std::function<void(Result<Identity>)>;

    Authenticator(AuthOptions options, KeyLookup lookup);
    ~Authenticator();
    Authenticator(const Authenticator &) = delete;
    Authenticator &operator=(const Authenticator &) = delete;

    // Calls done exactly once: inline when the answer is known (cache hit, certificate, no
    // credentials), otherwise later from the lookup thread.
    void authenticate(const http::Request &request, Done done);

    // Drops every cached entry (tests, or an admin signal).
    void clearCache();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace idl::collector
