// saved.list, saved.get, saved.put, saved.delete (the SQL lives in saved_store.cpp).
#include "handlers.h"
#include "idl/core/timestamp.h"
#include "idl/pg/connection.h"
#include "idl/protocol/replies.h"
#include "idl/query/parser.h"
#include "saved_store.h"
#include "session.h"

namespace idl::gateway::handlers {

void savedList(Session &session, const std::string &id)
{
    session.runJob(
        id, "saved.list",
        [me = session.identity(), id](pg::Connection &db, const Session::Emit &emit,
                                      const std::shared_ptr<RequestState> &) -> Result<void> {
            auto items = saved::list(db, me);
            if (!items)
                return items.error();
            emit(protocol::savedListMessage(id, *items), true);
            return {};
        });
}

void savedGet(Session &session, const std::string &id, const protocol::SavedGet &request)
{
    session.runJob(id, "saved.get",
                   [me = session.identity(), id,
                    uuid = request.uuid](pg::Connection &db, const Session::Emit &emit,
                                         const std::shared_ptr<RequestState> &) -> Result<void> {
                       auto s = saved::get(db, me, uuid);
                       if (!s)
                           return s.error();
                       emit(protocol::savedResultMessage(id, *s), true);
                       return {};
                   });
}

void savedPut(Session &session, const std::string &id, const protocol::SavedPut &request)
{
    // Checked before any database work: the query and its times must parse.
    if (auto p = query::parse(request.q); !p)
        return session.sendError(id, p.error());
    for (const std::string *t : {&request.range.from, &request.range.to}) {
        if (auto v = protocol::parseTimeArg(*t, nowNs()); !v)
            return session.sendError(id, v.error());
    }
    session.runJob(id, "saved.put",
                   [me = session.identity(), id,
                    request](pg::Connection &db, const Session::Emit &emit,
                             const std::shared_ptr<RequestState> &) -> Result<void> {
                       auto s = saved::put(db, me, request);
                       if (!s)
                           return s.error();
                       emit(protocol::savedResultMessage(id, *s), true);
                       return {};
                   });
}

void savedDelete(Session &session, const std::string &id, const protocol::SavedDelete &request)
{
    session.runJob(id, "saved.delete",
                   [me = session.identity(), id,
                    uuid = request.uuid](pg::Connection &db, const Session::Emit &emit,
                                         const std::shared_ptr<RequestState> &) -> Result<void> {
                       if (auto r = saved::remove(db, me, uuid); !r)
                           return r;
                       emit(protocol::okMessage(id), true);
                       return {};
                   });
}

} // namespace idl::gateway::handlers
