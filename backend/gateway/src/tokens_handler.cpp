// tokens.list, tokens.create, tokens.revoke (admin role; a scoped admin stays in its scope).
#include "handlers.h"
#include "idl/pg/connection.h"
#include "idl/protocol/replies.h"
#include "session.h"

#include <algorithm>

namespace idl::gateway::handlers {
namespace {

// A token (or saved query) with `apps` lies within `scope` (empty scope: every app).
bool withinScope(const std::vector<std::string> &apps, const std::vector<std::string> &scope)
{
    if (scope.empty())
        return true;
    if (apps.empty())
        return false; // unscoped: wider than any scope
    return std::all_of(apps.begin(), apps.end(), [&](const std::string &a) {
        return std::find(scope.begin(), scope.end(), a) != scope.end();
    });
}

} // namespace

void tokensList(Session &session, const std::string &id)
{
    if (!requireRole(session, id, Role::Admin, "tokens need"))
        return;
    session.runJob(id, "tokens.list",
                   [id, scope = session.identity().apps](
                       pg::Connection &db, const Session::Emit &emit,
                       const std::shared_ptr<RequestState> &) -> Result<void> {
                       auto r = tokens::list(db);
                       if (!r)
                           return r.error();
                       std::vector<protocol::TokenInfo> items;
                       for (const auto &t : *r) {
                           if (withinScope(t.apps, scope))
                               items.push_back({t.prefix, t.name, std::string(roleName(t.role)),
                                                t.apps, t.created, t.revoked});
                       }
                       emit(protocol::tokensListMessage(id, items), true);
                       return {};
                   });
}

void tokensRevoke(Session &session, const std::string &id, const protocol::TokensRevoke &request)
{
    if (!requireRole(session, id, Role::Admin, "tokens need"))
        return;
    session.runJob(
        id, "tokens.revoke",
        [id, prefix = request.prefix,
         scope = session.identity().apps](pg::Connection &db, const Session::Emit &emit,
                                          const std::shared_ptr<RequestState> &) -> Result<void> {
            if (!scope.empty()) {
                auto all = tokens::list(db);
                if (!all)
                    return all.error();
                const bool mine = std::any_of(all->begin(), all->end(), [&](const TokenRecord &t) {
                    return t.prefix == prefix && withinScope(t.apps, scope);
                });
                if (!mine) // the same answer as for an unknown prefix
                    return makeError(ErrorCode::NotFound, "no active token with that prefix");
            }
            if (auto r = tokens::revoke(db, prefix); !r)
                return r.error();
            emit(protocol::okMessage(id), true);
            return {};
        });
}

void tokensCreate(Session &session, const std::string &id, const protocol::TokensCreate &request)
{
    if (!requireRole(session, id, Role::Admin, "tokens need"))
        return;
    const std::vector<std::string> &scope = session.identity().apps;
    std::vector<std::string> apps = request.apps;
    if (!scope.empty()) {
        if (apps.empty())
            apps = scope; // a scoped admin mints tokens within its own scope, never wider
        else if (!withinScope(apps, scope))
            return session.sendError(
                id, makeError(ErrorCode::Forbidden, "apps outside your token's scope"));
    }
    const Role role = parseRole(request.role).value_or(Role::Viewer);
    session.runJob(id, "tokens.create",
                   [id, name = request.name, role,
                    apps](pg::Connection &db, const Session::Emit &emit,
                          const std::shared_ptr<RequestState> &) -> Result<void> {
                       auto r = tokens::create(db, name, role, apps);
                       if (!r)
                           return r.error();
                       emit(protocol::tokensCreatedMessage(id, r->prefix, r->token), true);
                       return {};
                   });
}

} // namespace idl::gateway::handlers
