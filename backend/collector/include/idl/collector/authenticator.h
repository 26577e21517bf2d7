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

// How requests are authenticated.
struct AuthOptions
{
    // How long a looked-up key (or its absence) is trusted before the database is asked
    // again: revocation takes effect within this time.
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
};

// Parses "cn=app,cn2=app2,*=*" into AuthOptions::certApps. BadField on malformed text.
Result<std::map<std::string, std::string>> parseCertApps(const std::string &text);

// Finds a key by prefix in the database; runs on the authenticator's own thread only.
using KeyLookup = std::function<Result<std::optional<KeyRecord>>(std::string_view prefix)>;

// Authenticates requests by API key (Authorization: Bearer, or X-API-Key) or by a verified
// client certificate. Keys are cached in memory for AuthOptions::cacheTtl so the database is
// asked at most once per key per TTL; a miss is looked up on the authenticator's own thread
// (concurrent misses for one key share one query), never on the caller's.
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
