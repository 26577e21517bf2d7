#!/usr/bin/env python3
"""Smoke start of an idl-console binary, the same on Linux, Windows and macOS.

    smoke_start.py EXE [--version-expected X.Y.Z] [--platform offscreen|native] [--seconds N]

Runs EXE --version (must print "idl-console X.Y.Z"), EXE --help (must list --profile), then
starts the real window with session-only secrets, a private HOME and no cluster: it must
still be running after N seconds (default 8) with no Qt plugin error in its output, and is
then stopped. --platform offscreen passes "-platform offscreen" (no display needed; the
offscreen plugin must be reachable, as it is from a build tree); native uses the platform
the package deploys (windows, cocoa, xcb). Used by .github/workflows/console-packages.yml
and by the test test_console_smoke. Prints one line per check; exit 0 when all pass.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

PLUGIN_ERRORS = re.compile(
    r"could not (load|find) the qt platform plugin|cannot load library|"
    r"this application failed to start because no qt platform plugin", re.IGNORECASE)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exe")
    parser.add_argument("--version-expected", default="")
    parser.add_argument("--platform", choices=["offscreen", "native"], default="offscreen")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()

    exe = os.path.abspath(args.exe)
    failures = []
    passed = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        (passed if ok else failures).append(what)

    if not os.path.isfile(exe):
        print(f"FAIL {exe} does not exist")
        return 1

    with tempfile.TemporaryDirectory(prefix="idl-console-smoke-") as home:
        env = dict(os.environ)
        env.pop("QT_QPA_PLATFORM", None)
        # Private settings and runtime folders (QSettings uses the registry on Windows).
        env.update({"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"),
                    "XDG_RUNTIME_DIR": home, "APPDATA": os.path.join(home, "AppData"),
                    "IDL_CONSOLE_SECRETS": "session"})

        version = subprocess.run([exe, "--version"], capture_output=True, text=True,
                                 timeout=60, env=env)
        out = (version.stdout + version.stderr).strip()
        expected = "idl-console " + args.version_expected
        check(version.returncode == 0 and out.startswith(expected),
              f"--version prints '{expected}...' (exit {version.returncode}: {out!r})")

        helped = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60,
                                env=env)
        check(helped.returncode == 0 and "--profile" in helped.stdout,
              f"--help lists --profile (exit {helped.returncode})")

        command = [exe, "--secrets", "session"]
        if args.platform == "offscreen":
            command += ["-platform", "offscreen"]
        log_path = os.path.join(home, "console.log")
        with open(log_path, "w", encoding="utf-8") as log:
            started = time.monotonic()
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            try:
                code = process.wait(timeout=args.seconds)
            except subprocess.TimeoutExpired:
                code = None
            alive = code is None
            if alive:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        with open(log_path, encoding="utf-8", errors="replace") as log:
            output = log.read()
        check(alive, f"starts ({args.platform}) and is still running after {args.seconds:g} s"
              + ("" if alive else f" (exited with {code} after "
                 f"{time.monotonic() - started:.1f} s)"))
        check(not PLUGIN_ERRORS.search(output), "no Qt plugin error at start")
        if failures:
            print("---- console output ----")
            print(output[-4000:])

    print(f"{len(passed)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
