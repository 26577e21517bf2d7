#pragma once

#include "idl/core/log_event.h"
#include "idl/core/result.h"
#include "idl/query/ast.h"

#include <memory>
#include <string_view>

namespace idl::query {

// The fields of one event that a filter reads; views into storage owned by the caller.
struct EventView
{
    Level level = Level::Info;
    std::string_view app;
    std::string_view host;
    std::string_view message;
    std::string_view attrsJson; // a JSON object; anything else has no attributes
    std::string_view traceId;
    std::string_view spanId;
};

// A view of a LogEvent (which must outlive the view).
EventView viewOf(const LogEvent &event) noexcept;

// A filter prepared for live-tail matching: regexes compiled once, needles case-folded once.
// Immutable after create(); copies share state; matches() may run on many threads at once.
class Matcher
{
public:
    // Prepares ast (copied). Fails with QuerySyntax if a regex does not compile.
    static Result<Matcher> create(const Node &ast);

    // Same semantics as the SQL from compileWhere(). Parses attrsJson at most once per call.
    bool matches(const EventView &event) const;
    bool matches(const LogEvent &event) const { return matches(viewOf(event)); }

    // False only when no event whose app is `app` can match, whatever its other fields (the
    // filter evaluated in three-valued logic with only the app known). A stream keyed by app
    // (the events topic) skips decoding the events of apps for which this is false.
    bool mayMatchApp(std::string_view app) const;

    // Opaque prepared state (defined in evaluator.cpp).
    struct Impl;

private:
    explicit Matcher(std::shared_ptr<const Impl> impl) : d(std::move(impl)) {}
    std::shared_ptr<const Impl> d;
};

// One-off match (compiles regexes on every call: use Matcher for a stream). A regex that
// does not compile matches nothing.
bool matches(const Node &ast, const EventView &event);
bool matches(const Node &ast, const LogEvent &event);

} // namespace idl::query
