// The request router: one handler per decoded request type.
#include "handlers.h"
#include "session.h"

#include <type_traits>

namespace idl::gateway::handlers {

bool requireRole(Session &session, const std::string &id, Role role, std::string_view what)
{
    if (session.identity().role >= role)
        return true;
    session.sendError(id,
                      makeError(ErrorCode::Forbidden, std::string(what) + " the " +
                                                          std::string(roleName(role)) + " role"));
    return false;
}

void dispatch(Session &session, const std::string &id, const protocol::Request &request)
{
    std::visit(
        [&](const auto &r) {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, protocol::Query>)
                query(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::Export>)
                exportRows(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::Aggregate>)
                aggregate(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::Top>)
                top(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::TailStart>)
                tailStart(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::TailStop>)
                stopRequest(session, id, r.target, false);
            else if constexpr (std::is_same_v<T, protocol::Cancel>)
                stopRequest(session, id, r.target, true);
            else if constexpr (std::is_same_v<T, protocol::SavedList>)
                savedList(session, id);
            else if constexpr (std::is_same_v<T, protocol::SavedGet>)
                savedGet(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::SavedPut>)
                savedPut(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::SavedDelete>)
                savedDelete(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::TokensList>)
                tokensList(session, id);
            else if constexpr (std::is_same_v<T, protocol::TokensCreate>)
                tokensCreate(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::TokensRevoke>)
                tokensRevoke(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::DlqList>)
                dlqList(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::DlqGet>)
                dlqGet(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::DlqReplay>)
                dlqReplay(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::AlertsRulesList>)
                alertsRulesList(session, id);
            else if constexpr (std::is_same_v<T, protocol::AlertsRulesGet>)
                alertsRulesGet(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::AlertsRulesPut>)
                alertsRulesPut(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::AlertsRulesDelete>)
                alertsRulesDelete(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::AlertsRulesTest>)
                alertsRulesTest(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::AlertsFiring>)
                alertsFiring(session, id, r);
            else if constexpr (std::is_same_v<T, protocol::AlertsHistory>)
                alertsHistory(session, id, r);
            else // hello, auth, ping: answered by the session before routing
                session.sendError(id, makeError(ErrorCode::BadRequest, "unexpected request"));
        },
        request);
}

} // namespace idl::gateway::handlers
