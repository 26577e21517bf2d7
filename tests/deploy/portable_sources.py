#!/usr/bin/env python3
"""The console's sources stay portable: no POSIX/Linux-only header or API outside a guard.

The console ships for Linux, Windows and macOS (.github/workflows/console-packages.yml), and
it compiles console/ plus the parts of shared/ it links (core, net, query, protocol). Nothing
there may include a POSIX-only header (unistd.h, sys/*.h, pthread.h, dlfcn.h, signal.h, ...)
or call a POSIX-only function (fork, exec*, pipe, kill, sigaction, ::write, gmtime_r, ...)
unless it sits inside a preprocessor block that tests the platform (#ifdef _WIN32 ... #else,
#if defined(Q_OS_UNIX), __APPLE__, __linux__, ...; both branches count as guarded), or in a
file that only one platform compiles, named *_posix / *_unix / *_linux / *_mac / *_win.

    portable_sources.py [ROOT]          # ROOT: the source tree (default: IDL_SOURCE_DIR or ..)
    portable_sources.py --self-test     # the checker against snippets (runs first anyway)

Prints FILE:LINE: what for each finding and exits 1 if there is any, 0 otherwise.
"""

import os
import re
import sys

# What the console compiles, relative to the source root.
CONSOLE_DIRS = ["console", "shared/core", "shared/net", "shared/query", "shared/protocol"]
SOURCE_SUFFIXES = (".h", ".hpp", ".hh", ".c", ".cc", ".cpp", ".cxx", ".mm", ".inl")
# A file that only one platform compiles (its CMakeLists adds it under if(UNIX)/if(WIN32)).
PLATFORM_FILE = re.compile(r"_(posix|unix|linux|mac|macos|darwin|win|win32|windows)\.[a-z]+$")
# A preprocessor condition that tests the platform.
PLATFORM_MACRO = re.compile(
    r"\b(_WIN32|_WIN64|WIN32|_MSC_VER|__MINGW32__|__CYGWIN__|__unix__|__unix|unix|__linux__|"
    r"__linux|linux|__APPLE__|__MACH__|__FreeBSD__|__OpenBSD__|__NetBSD__|_POSIX_VERSION|"
    r"_POSIX_C_SOURCE|__has_include|Q_OS_\w+)\b")

POSIX_HEADERS = re.compile(
    r"^(unistd\.h|sys/.+|pthread\.h|dlfcn\.h|fcntl\.h|poll\.h|termios\.h|pwd\.h|grp\.h|"
    r"dirent\.h|syslog\.h|netdb\.h|netinet/.+|arpa/.+|linux/.+|execinfo\.h|spawn\.h|"
    r"semaphore\.h|sched\.h|signal\.h|strings\.h|libgen\.h|glob\.h|wordexp\.h|ucontext\.h|"
    r"mqueue\.h|aio\.h|ifaddrs\.h|net/.+|endian\.h|features\.h|malloc\.h|alloca\.h|"
    r"err\.h|error\.h|paths\.h|utmp\.h|utmpx\.h|link\.h|elf\.h|mntent\.h)$")

# Functions: an unqualified call, or one through the global namespace (::write), but not a
# member (obj.kill(), p->kill()) nor a qualified name (QThread::sleep, std::signal is fine).
POSIX_CALLS = [
    "fork", "vfork", "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp",
    "posix_spawn", "posix_spawnp", "pipe", "pipe2", "dup", "dup2", "waitpid", "wait3", "wait4",
    "kill", "killpg", "sigaction", "sigprocmask", "sigemptyset", "sigaddset", "pthread_sigmask",
    "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "setuid", "setgid", "setsid",
    "getpwuid", "getpwnam", "dlopen", "dlsym", "dlclose", "dlerror", "mmap", "munmap", "mprotect",
    "usleep", "nanosleep", "sleep", "alarm", "gmtime_r", "localtime_r", "timegm", "strcasecmp",
    "strncasecmp", "realpath", "mkstemp", "mkdtemp", "setenv", "unsetenv", "posix_memalign",
    "clock_gettime", "gettimeofday", "isatty", "sysconf", "prctl", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_wait", "inotify_init", "inotify_init1", "eventfd", "signalfd", "timerfd_create",
    "fcntl", "ioctl", "poll", "syslog", "openlog", "chown", "fchmod", "symlink", "readlink",
    "getrlimit", "setrlimit", "sched_setaffinity", "pthread_create", "pthread_setname_np",
    "strerror_r", "getline", "backtrace", "socketpair",
]
# Read, write, close, open and friends are common method and function names
# (idl::jlog::write): only the global-namespace form ::write( is POSIX.
GLOBAL_ONLY_CALLS = ["read", "write", "close", "open", "unlink", "access", "stat", "lstat",
                     "fstat", "chmod", "mkdir", "rmdir", "getcwd", "chdir", "send", "recv",
                     "socket", "select", "signal", "umask", "fsync", "lseek", "ftruncate"]
POSIX_NAMES = re.compile(
    r"\b(ssize_t|pid_t|uid_t|gid_t|SIGPIPE|SIGHUP|SIGUSR1|SIGUSR2|SIGCHLD|SIGKILL|SIGQUIT|"
    r"SIGALRM|O_CLOEXEC|O_NONBLOCK|MSG_NOSIGNAL|SO_REUSEPORT|environ|PATH_MAX)\b")

_call_re = re.compile(
    r"(?<![\w.>:])(?:(?<!\w)::)?\b(" + "|".join(POSIX_CALLS) + r")\s*\(")
_global_call_re = re.compile(r"(?<![\w:])::\s*(" + "|".join(GLOBAL_ONLY_CALLS) + r")\s*\(")
# "TYPE name(" declares a function (or a member) of that name (TYPE may end in a template's
# ">"); after these words it is a call.
_previous_word = re.compile(r"(\w+|>)[\s*&]*$")
_KEYWORDS_BEFORE_CALL = {"return", "co_return", "co_await", "co_yield", "else", "do", "case",
                         "throw", "not", "and", "or", "sizeof", "decltype", "noexcept", "new",
                         "delete", "const_cast", "static_cast", "reinterpret_cast"}
_include_re = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
_directive_re = re.compile(r"^\s*#\s*(\w+)(.*)$")


def strip_comments_and_strings(text):
    """The text with comments, string and character literals blanked (line breaks kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            while i < n and text[i] != "\n":
                i += 1
        elif c == "/" and nxt == "*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append("".join("\n" if ch == "\n" else " " for ch in text[i:end]))
            i = end
        elif c == "R" and nxt == '"' and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i)
            end = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + "".join("\n" if ch == "\n" else "" for ch in text[i:end]))
            i = end
        elif c in "\"'" and not (c == "'" and i > 0 and text[i - 1].isalnum()):
            # (a ' after a digit or letter is a digit separator: 1'000)
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1 if j < n and text[j] == c else j  # (an unterminated one ends at the line)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def check_text(path, text):
    """Findings (line, message) in one file's text."""
    findings = []
    # Directives are read on the raw text (an #include's <...> is not a string), code on the
    # stripped text; both have the same lines.
    raw_lines = text.split("\n")
    code_lines = strip_comments_and_strings(text).split("\n")
    stack = []  # one bool per open #if: does this block (or an earlier branch) test the platform
    continued = ""
    for number, (raw, code) in enumerate(zip(raw_lines, code_lines), start=1):
        guarded = any(stack)
        directive = _directive_re.match(continued + code) if (continued or code.lstrip().startswith("#")) else None
        if directive:
            if code.rstrip().endswith("\\"):
                continued += code.rstrip()[:-1] + " "
                continue
            continued = ""
            name, rest = directive.group(1), directive.group(2)
            if name in ("if", "ifdef", "ifndef"):
                stack.append(bool(PLATFORM_MACRO.search(rest)))
            elif name == "elif" or name == "elifdef" or name == "elifndef":
                if stack:
                    stack[-1] = stack[-1] or bool(PLATFORM_MACRO.search(rest))
            elif name == "endif":
                if stack:
                    stack.pop()
            elif name == "include":
                inc = _include_re.match(raw)
                if inc and POSIX_HEADERS.match(inc.group(1)) and not guarded:
                    findings.append((number, f"POSIX-only header <{inc.group(1)}>"))
            continue
        if guarded:
            continue
        for m in _call_re.finditer(code):
            before = _previous_word.search(code[:m.start()])
            if before and before.group(1) not in _KEYWORDS_BEFORE_CALL:
                continue  # a declaration of the project's own: int poll(int timeoutMs);
            findings.append((number, f"POSIX-only call {m.group(1)}()"))
        for m in _global_call_re.finditer(code):
            findings.append((number, f"POSIX call ::{m.group(1)}()"))
        for m in POSIX_NAMES.finditer(code):
            findings.append((number, f"POSIX-only name {m.group(1)}"))
    return findings


def check_tree(root):
    findings = []
    checked = 0
    for rel in CONSOLE_DIRS:
        top = os.path.join(root, rel)
        if not os.path.isdir(top):
            findings.append((os.path.relpath(top, root), 0, "folder missing (update CONSOLE_DIRS)"))
            continue
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                if not name.endswith(SOURCE_SUFFIXES) or PLATFORM_FILE.search(name):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                checked += 1
                for line, what in check_text(path, text):
                    findings.append((os.path.relpath(path, root), line, what))
    return checked, findings


SELF_TESTS = [
    # (snippet, expected number of findings)
    ("#include <unistd.h>\n", 1),
    ("#include <sys/socket.h>\n#include <pthread.h>\n", 2),
    ("#include <QFile>\n#include <cstdio>\n#include <csignal>\n", 0),
    ("#ifdef _WIN32\n#include <io.h>\n#else\n#include <unistd.h>\n#endif\n", 0),
    ("#if defined(Q_OS_UNIX) && !defined(Q_OS_MACOS)\n#include <sys/prctl.h>\n#endif\n", 0),
    ("#if 0\n#endif\n#include <dlfcn.h>\n", 1),
    ("#ifndef QT_NO_SSL\n#include <signal.h>\n#endif\n", 1),
    ("#if FOO\n#elif defined(__APPLE__)\nint x = fork();\n#endif\n", 0),
    ("void f() { if (fork() == 0) {} }\n", 1),
    ("void f() { ::write(2, p, n); }\n", 1),
    ("void f() { write(level, msg); log.write(x); QThread::sleep(1); p->kill(); }\n", 0),
    ("// fork() and <unistd.h> in a comment\nconst char *s = \"kill(1)\";\n", 0),
    ("/* sigaction(\n   SIGPIPE */ int x;\n", 0),
    ("ssize_t n = 0;\n", 1),
    ("class B { int poll(int ms); void kill(); };\nbool x = poll(1);\nreturn kill(p, 9);\n", 2),
    ("Result<std::optional<Message>> poll(std::chrono::milliseconds timeout);\n", 0),
    ("std::signal(SIGINT, h);\n", 0),
    ("int n = 1'000; int m = gmtime_r(a, b);\n", 1),
    ('auto s = R"(fork() ::write()";\nint k = 0;\n', 0),
    ("#if defined(_WIN32) \\\n    || defined(__APPLE__)\nint p = getpid();\n#endif\n", 0),
]


def self_test():
    failures = 0
    for snippet, expected in SELF_TESTS:
        got = check_text("<self-test>", snippet)
        if len(got) != expected:
            failures += 1
            print(f"self-test FAIL: expected {expected} finding(s), got {got} in:\n{snippet}")
    if not PLATFORM_FILE.search("spawn_posix.cpp") or PLATFORM_FILE.search("window.cpp"):
        failures += 1
        print("self-test FAIL: platform file names")
    print(f"self-test: {len(SELF_TESTS) - failures} of {len(SELF_TESTS)} snippets as expected")
    return failures == 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return 0 if self_test() else 1
    if not self_test():
        return 1
    root = argv[1] if len(argv) > 1 else os.environ.get(
        "IDL_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    checked, findings = check_tree(root)
    for path, line, what in findings:
        print(f"{path}:{line}: {what} outside a platform guard "
              "(#ifdef _WIN32 / #if defined(Q_OS_UNIX) ... or a *_posix.cpp file)")
    print(f"portable sources: {checked} files in {', '.join(CONSOLE_DIRS)}; "
          f"{len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
