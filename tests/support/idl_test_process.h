#pragma once

// Child processes a test starts (idl-stack, a service) go down with the test, also when the
// test itself is killed (ctest timeout, crash, Ctrl-C): Linux delivers SIGTERM to the child when
// its parent dies (PR_SET_PDEATHSIG), and idl-stack's SIGTERM handler stops everything it
// started. Without it a killed benchmark left whole stacks (Kafka JVM, PostgreSQL, services)
// running, reparented to init.
//
//   QProcess stack;  idl::testsupport::endWithTest(stack);  stack.start();

#include <QProcess>

#ifdef Q_OS_LINUX
#include <csignal>
#include <sys/prctl.h>
#endif

namespace idl::testsupport {

inline void endWithTest(QProcess &process)
{
#ifdef Q_OS_LINUX
    process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
#else
    (void)process;
#endif
}

} // namespace idl::testsupport
