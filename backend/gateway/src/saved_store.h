#pragma once

#include "idl/core/result.h"
#include "idl/gateway/tokens.h"
#include "idl/protocol/replies.h"
#include "idl/protocol/requests.h"

#include <string>
#include <vector>

namespace idl::pg {
class Connection;
}

// Saved queries in PostgreSQL (table saved_queries): visibility, ownership, sharing and app
// scope are enforced here, in SQL. Every function runs on the caller's connection.
//
// Visible to `me`: my own queries, and shared ones within my app scope (a query carries the
// scope of the token that saved it; an unscoped token sees every shared query).
namespace idl::gateway::saved {

// Every visible query, ordered by name.
Result<std::vector<protocol::SavedQuery>> list(pg::Connection &db, const Identity &me);
// One visible query; NotFound otherwise (also for a malformed uuid).
Result<protocol::SavedQuery> get(pg::Connection &db, const Identity &me, const std::string &uuid);
// Creates (no uuid) or replaces a visible query; Forbidden when a shared query is created,
// changed or unshared without the editor role.
Result<protocol::SavedQuery> put(pg::Connection &db, const Identity &me,
                                 const protocol::SavedPut &request);
// Deletes a visible query; Forbidden for a shared query without the editor role.
Result<void> remove(pg::Connection &db, const Identity &me, const std::string &uuid);

} // namespace idl::gateway::saved
