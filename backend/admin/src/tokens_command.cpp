// idl-admin tokens: access tokens of the query gateway (create | list | revoke).
// See docs/protocol.md ("Tokens").
#include "admin_command.h"

#include "idl/core/config.h"
#include "idl/gateway/tokens.h"
#include "idl/pg/connection.h"
#include "idl/schema/migrations.h"

#include <cstdio>
#include <string>

namespace idl::admin {

namespace {

const QString kWhat = QStringLiteral("tokens");

std::string pad(std::string s, std::size_t width)
{
    if (s.size() < width)
        s.append(width - s.size(), ' ');
    return s;
}

std::string joined(const std::vector<std::string> &v)
{
    std::string out;
    for (const auto &s : v)
        out += (out.empty() ? "" : ",") + s;
    return out.empty() ? std::string("*") : out;
}

int runTokens(Context &ctx, const QStringList &args)
{
    Config cfg(QStringLiteral("idl-admin tokens"),
               QStringLiteral("Manage query gateway tokens:\n"
                              "  tokens create --name USER [--role viewer|editor|admin] "
                              "[--apps A,B]   prints the token (last line; shown once)\n"
                              "  tokens list                                  every token\n"
                              "  tokens revoke PREFIX|TOKEN                   revoke a token"));
    cfg.addString(QStringLiteral("name"), QString(),
                  QStringLiteral("User the token belongs to (create)"));
    cfg.addString(QStringLiteral("role"), QStringLiteral("viewer"),
                  QStringLiteral("viewer, editor or admin (create)"));
    cfg.addString(QStringLiteral("apps"), QString(),
                  QStringLiteral("Comma-separated app scope (create; empty: every app)"));
    if (auto r = cfg.load(args, {}); !r)
        return fail(kWhat, r.error().message) + 1;
    const QStringList pos = cfg.positional();
    if (cfg.helpRequested() || pos.isEmpty()) {
        std::fputs(cfg.helpText().toUtf8().constData(), cfg.helpRequested() ? stdout : stderr);
        return cfg.helpRequested() ? 0 : 2;
    }
    const QString action = pos.first();
    if (action != u"create" && action != u"list" && action != u"revoke")
        return fail(kWhat, "unknown action " + action.toStdString() + " (create, list or revoke)") +
               1;
    if (action == u"revoke" && pos.size() != 2)
        return fail(kWhat, "usage: tokens revoke PREFIX|TOKEN") + 1;
    const auto role = gateway::parseRole(cfg.string(QStringLiteral("role")).toStdString());
    if (action == u"create" && (cfg.string(QStringLiteral("name")).isEmpty() || !role))
        return fail(kWhat, "tokens create needs --name and a valid --role") + 1;

    auto db = ctx.connect();
    if (!db)
        return fail(kWhat, db.error().message);
    if (auto m = schema::migrate(*db); !m)
        return fail(kWhat, m.error().message);

    if (action == u"create") {
        std::vector<std::string> apps;
        for (const QString &a :
             cfg.string(QStringLiteral("apps")).split(QLatin1Char(','), Qt::SkipEmptyParts))
            apps.push_back(a.trimmed().toStdString());
        auto t = gateway::tokens::create(*db, cfg.string(QStringLiteral("name")).toStdString(),
                                         *role, apps);
        if (!t)
            return fail(kWhat, t.error().message);
        std::printf("created token %s (user %s, role %s, apps %s); it is shown only now:\n%s\n",
                    t->prefix.c_str(), cfg.string(QStringLiteral("name")).toUtf8().constData(),
                    std::string(gateway::roleName(*role)).c_str(), joined(apps).c_str(),
                    t->token.c_str());
        return 0;
    }
    if (action == u"list") {
        auto list = gateway::tokens::list(*db);
        if (!list)
            return fail(kWhat, list.error().message);
        std::printf("%s%s%s%s%s%s\n", pad("PREFIX", 14).c_str(), pad("USER", 20).c_str(),
                    pad("ROLE", 8).c_str(), pad("APPS", 24).c_str(), pad("CREATED", 22).c_str(),
                    "REVOKED");
        for (const auto &t : *list)
            std::printf("%s%s%s%s%s%s\n", pad(t.prefix, 14).c_str(), pad(t.name, 20).c_str(),
                        pad(std::string(gateway::roleName(t.role)), 8).c_str(),
                        pad(joined(t.apps), 24).c_str(), pad(t.created, 22).c_str(),
                        t.revoked ? t.revoked->c_str() : "-");
        return 0;
    }
    std::string prefix = pos.at(1).toStdString();
    if (auto p = gateway::tokenPrefix(prefix))
        prefix = *p;
    if (auto r = gateway::tokens::revoke(*db, prefix); !r)
        return fail(kWhat, r.error().message);
    std::printf("revoked; new logins fail at once, open gateway connections close within 30s\n");
    return 0;
}

} // namespace

IDL_ADMIN_COMMAND(tokens, "Manage query gateway tokens: create | list | revoke", runTokens)

} // namespace idl::admin
