#pragma once

#include "idl/core/result.h"

#include <QString>
#include <QStringList>

#include <functional>
#include <string>
#include <vector>

namespace idl::pg {
class Connection;
}

// Subcommands of idl-admin. Each lives in its own file and registers itself with
// IDL_ADMIN_COMMAND, so adding one touches no other file:
//
//   static int runKeys(admin::Context &ctx, const QStringList &args);
//   IDL_ADMIN_COMMAND(keys, "Manage ingestion API keys: create | list | revoke", runKeys)
//
// `args` holds the words after the subcommand name, with args[0] = "idl-admin <name>" so it
// can go straight to idl::Config::load(). A subcommand prints results on stdout (the secret
// of a created credential on the last line, alone) and errors on stderr, and returns the
// process exit code (0 ok, 1 failure, 2 usage).
namespace idl::admin {

// What every subcommand gets: the global settings (given before the subcommand name).
struct Context
{
    QString pgDsn;
    // Opens a connection to pg.dsn.
    Result<pg::Connection> connect() const;
};

// One registered subcommand.
struct Command
{
    std::string name;
    std::string summary;
    std::function<int(Context &, const QStringList &)> run;
};

// Every registered subcommand, in name order.
std::vector<Command> &commands();

// Adds a subcommand (used by IDL_ADMIN_COMMAND at static-initialisation time).
struct Registration
{
    Registration(std::string name, std::string summary,
                 std::function<int(Context &, const QStringList &)> run);
};

// Prints an error on stderr as "idl-admin <what>: <message>" and returns 1.
int fail(const QString &what, const std::string &message);

} // namespace idl::admin

#define IDL_ADMIN_COMMAND(name, summary, fn)                                                       \
    static const ::idl::admin::Registration idlAdminCommand_##name(#name, summary, fn);
