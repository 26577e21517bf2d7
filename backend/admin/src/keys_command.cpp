// idl-admin keys: ingestion API keys (create | list | revoke). See docs/security.md.
#include "admin_command.h"

#include "idl/collector/key_store.h"
#include "idl/core/config.h"
#include "idl/pg/connection.h"

#include <cstdio>
#include <string>

namespace idl::admin {

namespace {

const QString kWhat = QStringLiteral("keys");

std::string pad(std::string s, std::size_t width)
{
    if (s.size() < width)
        s.append(width - s.size(), ' ');
    return s;
}

int runKeys(Context &ctx, const QStringList &args)
{
    Config cfg(QStringLiteral("idl-admin keys"),
               QStringLiteral("Manage ingestion API keys:\n"
                              "  keys create --name NAME [--app APP]   prints the new key "
                              "(last line; shown once)\n"
                              "  keys list [--all]                       active keys (--all: "
                              "revoked too)\n"
                              "  keys revoke PREFIX|KEY                  revoke a key"));
    cfg.addString(QStringLiteral("name"), QString(), QStringLiteral("Key name (create)"));
    cfg.addString(QStringLiteral("app"), QString(),
                  QStringLiteral("Bind the key to this app (create; empty: any app)"));
    cfg.addBool(QStringLiteral("all"), false, QStringLiteral("Include revoked keys (list)"));
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
        return fail(kWhat, "usage: keys revoke PREFIX|KEY") + 1;
    if (action == u"create" && cfg.string(QStringLiteral("name")).isEmpty())
        return fail(kWhat, "keys create needs --name") + 1;

    auto db = ctx.connect();
    if (!db)
        return fail(kWhat, db.error().message);

    if (action == u"create") {
        const QString app = cfg.string(QStringLiteral("app"));
        auto key = collector::createKey(
            *db, cfg.string(QStringLiteral("name")).toStdString(),
            app.isEmpty() ? std::nullopt : std::optional<std::string>(app.toStdString()));
        if (!key)
            return fail(kWhat, key.error().message);
        std::printf("created key %s (name %s, app %s); it is shown only now:\n%s\n",
                    key->prefix.c_str(), cfg.string(QStringLiteral("name")).toUtf8().constData(),
                    app.isEmpty() ? "any" : app.toUtf8().constData(), key->key.c_str());
        return 0;
    }
    if (action == u"list") {
        auto keys = collector::listKeys(*db, cfg.boolean(QStringLiteral("all")));
        if (!keys)
            return fail(kWhat, keys.error().message);
        std::printf("%s%s%s%s%s\n", pad("PREFIX", 14).c_str(), pad("NAME", 24).c_str(),
                    pad("APP", 20).c_str(), pad("CREATED", 22).c_str(), "REVOKED");
        for (const auto &k : *keys)
            std::printf("%s%s%s%s%s\n", pad(k.prefix, 14).c_str(), pad(k.name, 24).c_str(),
                        pad(k.app.value_or("*"), 20).c_str(), pad(k.createdAt, 22).c_str(),
                        k.revoked ? k.revokedAt.c_str() : "-");
        return 0;
    }
    if (auto r = collector::revokeKey(*db, pos.at(1).toStdString()); !r)
        return fail(kWhat, r.error().message);
    std::printf("revoked; collectors stop accepting it within their key cache TTL "
                "(auth.key-cache-ttl, default 10s)\n");
    return 0;
}

} // namespace

IDL_ADMIN_COMMAND(keys, "Manage ingestion API keys: create | list | revoke", runKeys)

} // namespace idl::admin
