#include "idl/service/ops.h"

#include "idl/core/metrics.h"

namespace idl::service {

bool constantTimeEquals(std::string_view a, std::string_view b) noexcept
{
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
        const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
        const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
        diff |= static_cast<unsigned char>(x ^ y);
    }
    return diff == 0;
}

void addOpsRoutes(http::Server &server, std::function<std::string()> notReadyReason,
                  std::string metricsToken)
{
    server.route("GET", "/healthz", [](http::Request &&, http::Responder respond) {
        respond({200, "application/json", R"({"status":"ok"})", {}});
    });
    server.route("GET", "/readyz",
                 [reason = std::move(notReadyReason)](http::Request &&, http::Responder respond) {
                     const std::string why = reason ? reason() : std::string();
                     if (why.empty())
                         respond({200, "application/json", R"({"status":"ready"})", {}});
                     else
                         respond(http::errorResponse(503, "unavailable", why));
                 });
    server.route(
        "GET", "/metrics",
        [token = std::move(metricsToken)](http::Request &&req, http::Responder respond) {
            if (!token.empty()) {
                const std::string_view auth = req.header("authorization");
                constexpr std::string_view bearer = "Bearer ";
                if (auth.substr(0, bearer.size()) != bearer ||
                    !constantTimeEquals(auth.substr(bearer.size()), token)) {
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
