#include "saved_store.h"

#include "idl/pg/connection.h"

#include <QString>
#include <QUuid>

namespace idl::gateway::saved {
namespace {

const char *kSelect = "SELECT uuid, name, query, range_from, range_to, shared, owner, "
                      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                      "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                      "FROM saved_queries ";

// SQL condition: a saved query row is visible to me: mine, or shared within my app scope.
// $<user> = my user, $<apps> = my apps as a text[] literal (NULL: unscoped, sees every one).
std::string visible(int user, int apps)
{
    const std::string u = "$" + std::to_string(user), a = "$" + std::to_string(apps);
    return "(owner = " + u + " OR (shared AND (" + a + "::text[] IS NULL OR (apps IS NOT NULL " +
           "AND cardinality(apps) > 0 AND apps <@ " + a + "::text[]))))";
}

pg::Param scope(const Identity &me)
{
    return me.apps.empty() ? pg::Param() : pg::Param(toPgArray(me.apps));
}

protocol::SavedQuery fromRow(const pg::Rows &r, int i)
{
    protocol::SavedQuery s;
    s.uuid = r.value(i, 0);
    s.name = r.value(i, 1);
    s.q = r.value(i, 2);
    s.from = r.value(i, 3);
    s.to = r.value(i, 4);
    s.shared = r.value(i, 5) == "t";
    s.owner = r.value(i, 6);
    s.created = r.value(i, 7);
    s.updated = r.value(i, 8);
    return s;
}

bool wellFormed(const std::string &uuid)
{
    return !QUuid::fromString(QString::fromStdString(uuid)).isNull();
}

Error notFound()
{
    return makeError(ErrorCode::NotFound, "no such saved query");
}

} // namespace

Result<std::vector<protocol::SavedQuery>> list(pg::Connection &db, const Identity &me)
{
    auto r = db.query(std::string(kSelect) + "WHERE " + visible(1, 2) + " ORDER BY name, uuid",
                      {me.user, scope(me)});
    if (!r)
        return r.error();
    std::vector<protocol::SavedQuery> out;
    for (int i = 0; i < r->rowCount(); ++i)
        out.push_back(fromRow(*r, i));
    return out;
}

Result<protocol::SavedQuery> get(pg::Connection &db, const Identity &me, const std::string &uuid)
{
    if (!wellFormed(uuid))
        return notFound();
    auto r = db.query(std::string(kSelect) + "WHERE uuid = $1::uuid AND " + visible(2, 3),
                      {uuid, me.user, scope(me)});
    if (!r)
        return r.error();
    if (r->rowCount() == 0)
        return notFound();
    return fromRow(*r, 0);
}

Result<protocol::SavedQuery> put(pg::Connection &db, const Identity &me,
                                 const protocol::SavedPut &s)
{
    if (s.shared && me.role < Role::Editor)
        return makeError(ErrorCode::Forbidden, "sharing a query needs the editor role");
    const std::string shared = s.shared ? "true" : "false";
    std::string key = s.uuid;
    if (key.empty()) {
        key = QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString();
        auto r = db.query("INSERT INTO saved_queries (uuid, owner, name, query, range_from, "
                          "range_to, shared, apps) VALUES ($1::uuid, $2, $3, $4, $5, $6, "
                          "$7::boolean, $8::text[])",
                          {key, me.user, s.name, s.q, s.range.from, s.range.to, shared, scope(me)});
        if (!r)
            return r.error();
    } else {
        if (!wellFormed(key))
            return notFound();
        auto cur = db.query(std::string("SELECT owner, shared FROM saved_queries "
                                        "WHERE uuid = $1::uuid AND ") +
                                visible(2, 3) + " FOR UPDATE",
                            {key, me.user, scope(me)});
        if (!cur)
            return cur.error();
        if (cur->rowCount() == 0)
            return notFound();
        if (cur->value(0, 1) == "t" && me.role < Role::Editor)
            return makeError(ErrorCode::Forbidden, "changing a shared query needs the editor role");
        auto r = db.query("UPDATE saved_queries SET name = $2, query = $3, range_from = $4, "
                          "range_to = $5, shared = $6::boolean, updated_at = now() "
                          "WHERE uuid = $1::uuid",
                          {key, s.name, s.q, s.range.from, s.range.to, shared});
        if (!r)
            return r.error();
    }
    auto r = db.query(std::string(kSelect) + "WHERE uuid = $1::uuid", {key});
    if (!r || r->rowCount() != 1)
        return makeError(ErrorCode::Internal, "saved query vanished");
    return fromRow(*r, 0);
}

Result<void> remove(pg::Connection &db, const Identity &me, const std::string &uuid)
{
    auto found = get(db, me, uuid);
    if (!found)
        return found.error();
    if (found->shared && me.role < Role::Editor)
        return makeError(ErrorCode::Forbidden, "deleting a shared query needs the editor role");
    auto d = db.query("DELETE FROM saved_queries WHERE uuid = $1::uuid", {uuid});
    if (!d)
        return d.error();
    return {};
}

} // namespace idl::gateway::saved
