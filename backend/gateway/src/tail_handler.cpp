// tail.start, tail.stop and cancel.
#include "handlers.h"
#include "idl/core/timestamp.h"
#include "idl/protocol/replies.h"
#include "idl/query/evaluator.h"
#include "idl/query/parser.h"
#include "session.h"
#include "tail.h"

namespace idl::gateway::handlers {

void tailStart(Session &session, const std::string &id, const protocol::TailStart &request)
{
    const GatewayOptions &opt = session.gateway()->opt;
    if (session.tailCount() >= opt.maxTails)
        return session.sendError(
            id, makeError(ErrorCode::Overloaded, "too many tails on this connection"));
    int tailsHere = 0;
    for (const Session *s : session.gateway()->sessions)
        tailsHere += s->tailCount();
    if (tailsHere >= opt.maxTailsTotal)
        return session.sendError(
            id, makeError(ErrorCode::Overloaded, "too many live tails on this gateway"));
    auto ast = query::parse(request.q);
    if (!ast)
        return session.sendError(id, ast.error());
    auto matcher = query::Matcher::create(*ast);
    if (!matcher)
        return session.sendError(id, matcher.error());
    TailOptions to;
    to.bootstrap = opt.kafkaBootstrap;
    to.topic = opt.kafkaTopic;
    to.writerGroup = opt.writerGroup;
    to.pool = session.gateway()->pool.get();
    to.hub = session.gateway()->hub;
    to.historyPage = opt.tailHistoryPage;
    to.ast = *ast;
    to.matcher = std::move(matcher).value();
    to.apps = session.identity().apps;
    to.queueCapacity = opt.tailQueue;
    to.queueBytes = static_cast<std::size_t>(opt.tailQueueBytes);
    if (!request.since.empty()) {
        auto s = protocol::parseTimeArg(request.since, nowNs());
        if (!s)
            return session.sendError(id, s.error());
        to.sinceNs = *s;
    }
    to.resume = request.resume;
    session.startTail(id, std::move(to));
}

void stopRequest(Session &session, const std::string &id, const std::string &target, bool cancel)
{
    // tail.stop ends only tails; cancel ends any request. A stopped tail sends nothing more;
    // a cancelled request gets its `cancelled` error. An unknown target is no error.
    const Session::Ended ended =
        cancel ? session.endRequest(target)
               : (session.isTail(target) ? session.endRequest(target) : Session::Ended::None);
    if (cancel && ended != Session::Ended::None)
        session.sendError(target, makeError(ErrorCode::Cancelled, "cancelled by the client"));
    session.sendJson(protocol::okMessage(id));
}

} // namespace idl::gateway::handlers
