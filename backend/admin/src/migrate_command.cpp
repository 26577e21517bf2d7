// idl-admin migrate: applies the embedded database migrations.
#include "admin_command.h"

#include "idl/core/config.h"
#include "idl/pg/connection.h"
#include "idl/schema/migrations.h"

#include <cstdio>

namespace idl::admin {

namespace {

int runMigrate(Context &ctx, const QStringList &args)
{
    Config cfg(QStringLiteral("idl-admin migrate"),
               QStringLiteral("Applies every database migration this build embeds"));
    if (auto r = cfg.load(args, {}); !r)
        return fail(QStringLiteral("migrate"), r.error().message) + 1;
    if (cfg.helpRequested()) {
        std::fputs(cfg.helpText().toUtf8().constData(), stdout);
        return 0;
    }
    auto db = ctx.connect();
    if (!db)
        return fail(QStringLiteral("migrate"), db.error().message);
    auto applied = schema::migrate(*db);
    if (!applied)
        return fail(QStringLiteral("migrate"), applied.error().message);
    std::printf("applied %d migration(s)\n", *applied);
    return 0;
}

} // namespace

IDL_ADMIN_COMMAND(migrate, "Apply the database schema migrations", runMigrate)

} // namespace idl::admin
