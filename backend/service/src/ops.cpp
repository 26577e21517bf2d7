#include "idl/service/ops.h"

#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"
#include "idl/service/auth/secret.h"

#include <memory>
#include <mutex>

namespace idl::service {

namespace {

bool bearerMatches(const http::Request &req, std::string_view token)
{
    const std::string_view header = req.header("authorization");
    constexpr std::string_view bearer = "Bearer ";
    return header.substr(0, bearer.size()) == bearer &&
           auth::constantTimeEquals(header.substr(bearer.size()), token);
}

} // namespace

void addOpsRoutes(http::Server &server, std::function<std::string()> notReadyReason,
                  std::string metricsToken)
{
    server.route("GET", "/healthz", [](http::Request &&, http::Responder respond) {
        respond({200, "application/json", R"({"status":"ok"})", {}});
    });
    // The reason a service is not ready names hosts, users and libpq/librdkafka errors: it
    // goes to the service's log (when it changes) and to callers holding the metrics token;
    // anyone else (load balancers, probes) learns only "not ready".
    auto lastLogged = std::make_shared<std::pair<std::mutex, std::string>>();
    server.route("GET", "/readyz",
                 [reason = std::move(notReadyReason), token = metricsToken,
                  lastLogged](http::Request &&req, http::Responder respond) {
                     const std::string why = reason ? reason() : std::string();
                     {
                         std::lock_guard lock(lastLogged->first);
                         if (why != lastLogged->second) {
                             lastLogged->second = why;
                             if (!why.empty())
                                 jlog::warn("not ready", {{"reason", QString::fromStdString(why)}});
                         }
                     }
                     if (why.empty())
                         respond({200, "application/json", R"({"status":"ready"})", {}});
                     else if (!token.empty() && bearerMatches(req, token))
                         respond(http::errorResponse(503, "unavailable", why));
                     else
                         respond(http::errorResponse(503, "unavailable", "not ready"));
                 });
    server.route(
        "GET", "/metrics",
        [token = std::move(metricsToken)](http::Request &&req, http::Responder respond) {
            if (!token.empty()) {
                if (!bearerMatches(req, token)) {
                    auto r =
                        http::errorResponse(401, "unauthenticated", "metrics need a bearer token");
                    r.headers.emplace_back("WWW-Authenticate", "Bearer");
                    return respond(std::move(r));
                }
            }
            respond(
                {200, "text/plain; version=0.0.4", metrics::Registry::global().exposition(), {}});
        });
}

} // namespace idl::service
