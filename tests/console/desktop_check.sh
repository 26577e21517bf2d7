#!/usr/bin/env bash
# The real-desktop check of the console (issue 19): the real `idl-console` binary on a real X
# server (Xvfb), driven from outside with xdotool through its keyboard shortcuts, against a
# real local cluster (`idl-stack up --demo`: PostgreSQL, Kafka, every service, demo traffic).
#
#   1 connected   the console starts with --import-stack and connects (gateway: a session,
#                 hello, the first tab's query)
#   2 query       Ctrl+L, types a query, F5 (gateway: one more query and aggregate); Ctrl+R
#                 picks "Last 5 minutes" (runs again); Ctrl+S saves it under a name (gateway:
#                 saved.put); a click on a result row fills the detail pane (its pixels change)
#   3 tail        Ctrl+Shift+T: a live tail with that filter (gateway: tail.start, tail events
#                 delivered; two screenshots a few seconds apart differ)
#   4 analytics   Ctrl+Shift+A (gateway: aggregate and top requests)
#   5 export      back to the query tab, Ctrl+E, Alt+F, types a path in a folder that does not
#                 exist yet, Enter (the file appears with a header and rows, no .part left)
#   6 profiles    Ctrl+, then Alt+T tests the connection (gateway: one more hello)
#   7 alerts      Ctrl+Shift+N on the query tab: the Alerts view with its query, previewed
#                 (gateway: alerts.rules.list, alerts.rules.test); a name typed, Ctrl+S
#                 saves the rule (gateway: alerts.rules.put)
#
# After every step: a screenshot (import -window root) that must not be blank and must differ
# from the previous one, and the console process must still be alive. Any failure stops the
# run with a message saying which step and what was missing; exit 0 pass, 1 fail, 77 skip (a
# tool or binary is missing). The console runs with a private HOME and XDG folders, so the
# user's settings are never touched. Everything started here is stopped on exit.
#
# Usage: tests/console/desktop_check.sh [--bin-dir DIR] [--out DIR] [--keep]
#   --bin-dir DIR         the built binaries (default: $IDL_BIN_DIR, else build/bin)
#   --out DIR             where the step screenshots, the exported CSV and the logs go
#                         (default: $IDL_DESKTOP_OUT, else BIN_DIR/../desktop-check)
#   --keep                keep the temporary folder (stack data, console HOME)
#   IDL_SCREENSHOT_DIR    also write the docs' screenshots there (console-query.png,
#                         console-tail.png, console-analytics.png, console-profiles.png,
#                         console-alerts.png):
#                         IDL_SCREENSHOT_DIR=docs/screenshots tests/console/desktop_check.sh
#   IDL_DESKTOP_DEMO_RATE demo events per second (default 100)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${IDL_BIN_DIR:-$root/build/bin}
out=${IDL_DESKTOP_OUT:-}
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *) echo "desktop_check: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -d "$bin" ] || { echo "SKIP: no binary folder $bin"; exit 77; }
bin=$(cd "$bin" && pwd)
[ -n "$out" ] || out=$(dirname "$bin")/desktop-check
docs_dir=${IDL_SCREENSHOT_DIR:-}
rate=${IDL_DESKTOP_DEMO_RATE:-100}
width=1440
height=900

for tool in Xvfb xdotool import convert compare curl python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/bootstrap installs it)"; exit 77; }
done
for b in idl-console idl-stack idl-gateway idl-collector; do
  [ -x "$bin/$b" ] || { echo "SKIP: $b is not built in $bin"; exit 77; }
done

start_s=$(date +%s)
elapsed() { echo $(($(date +%s) - start_s)); }
log() { printf '[%3ss] %s\n' "$(elapsed)" "$*"; }
step=setup

work=$(mktemp -d /tmp/idl-desktop-check-XXXXXX)
chmod 755 "$work" # PostgreSQL runs as user postgres when this runs as root: it must enter
mkdir -p "$out"
rm -f "$out"/[0-9][0-9]-*.png "$out"/failed-*.png "$out"/console.log "$out"/stack.log "$out"/export.csv
xvfb_pid=
stack_pid=
console_pid=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$console_pid" ] && kill -0 "$console_pid" 2>/dev/null; then
    kill -TERM "$console_pid" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$console_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$console_pid" 2>/dev/null
  fi
  [ -n "$console_pid" ] && wait "$console_pid" 2>/dev/null
  if [ -n "$stack_pid" ]; then
    "$bin/idl-stack" down --data-dir "$work/stack" >/dev/null 2>&1 || kill -INT "$stack_pid" 2>/dev/null
    for _ in $(seq 1 60); do kill -0 "$stack_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$stack_pid" 2>/dev/null
    wait "$stack_pid" 2>/dev/null
  fi
  if [ -n "$xvfb_pid" ]; then
    kill -TERM "$xvfb_pid" 2>/dev/null
    wait "$xvfb_pid" 2>/dev/null
  fi
  cp "$work/console.log" "$out/console.log" 2>/dev/null
  cp "$work/stack.out" "$out/stack.log" 2>/dev/null
  if [ "$keep" = 1 ]; then
    echo "desktop_check: kept $work"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL [$step] $*" >&2
  [ -n "${DISPLAY:-}" ] && import -window root "$out/failed-$step.png" 2>/dev/null &&
    echo "the screen at the failure: $out/failed-$step.png" >&2
  if [ -s "$work/console.log" ]; then
    echo "--- console log (last 20 lines)" >&2
    tail -n 20 "$work/console.log" >&2
  fi
  echo "screenshots so far: $out" >&2
  exit 1
}
pass() { log "ok   [$step] $*"; }

# ---- X server: Xvfb picks a free display itself and writes its number when it is ready.
: >"$work/display"
Xvfb -displayfd 3 -screen 0 "${width}x${height}x24" -nolisten tcp -noreset 3>"$work/display" \
  >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/display" ] && break
  kill -0 "$xvfb_pid" 2>/dev/null || { cat "$work/xvfb.log" >&2; fail "Xvfb exited"; }
  sleep 0.1
done
[ -s "$work/display" ] || fail "Xvfb wrote no display number within 10 s"
export DISPLAY=":$(head -n1 "$work/display")"
log "Xvfb on $DISPLAY (${width}x${height}), no window manager"

# ---- the stack (its own HOME: it finds the Kafka jars in the user's cache).
"$bin/idl-stack" up --data-dir "$work/stack" --collector-port 0 --gateway-port 0 \
  --demo --demo-rate "$rate" >"$work/stack.out" 2>&1 &
stack_pid=$!
stack_json=$work/stack/stack.json
for _ in $(seq 1 600); do
  [ -f "$stack_json" ] && [ ! -e "$work/stack/.starting" ] && break
  kill -0 "$stack_pid" 2>/dev/null || {
    tail -n 30 "$work/stack.out" >&2
    # The log of each service (the one that exited says why), before cleanup removes them.
    for f in "$work"/stack/logs/*.log; do
      [ -s "$f" ] && { echo "--- $f (last 10 lines)" >&2; tail -n 10 "$f" >&2; }
    done
    fail "idl-stack exited"
  }
  sleep 0.25
done
[ -f "$stack_json" ] && [ ! -e "$work/stack/.starting" ] || fail "idl-stack wrote no stack.json within 150 s"
gateway_http=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["gateway_http_url"])' "$stack_json") ||
  fail "no gateway_http_url in $stack_json"
# The metrics token goes to curl in a file, not on its command line.
python3 -c 'import json,sys; print("Authorization: Bearer " + json.load(open(sys.argv[1]))["metrics_token"])' \
  "$stack_json" >"$work/metrics.header" || fail "no metrics_token in $stack_json"
log "stack up: gateway $gateway_http"

# Counters of the gateway (Prometheus text): what the console really asked for.
metric() { # name{labels} -> value (0 when absent)
  curl -sf --max-time 5 -H @"$work/metrics.header" "$gateway_http/metrics" |
    awk -v m="$1" '$1 == m { v = $2 } END { printf "%d\n", (v == "" ? 0 : v) }'
}
requests() { metric "idl_gateway_requests_total{type=\"$1\"}"; }
wait_metric() { # seconds name min -> 0 when the counter reached min
  local deadline=$(($(date +%s) + $1)) v
  while :; do
    [ -z "$console_pid" ] || alive # a console that died says so, not "no request"
    v=$(metric "$2")
    [ "$v" -ge "$3" ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && { echo "$2 = $v, wanted >= $3" >&2; return 1; }
    sleep 0.25
  done
}
wait_requests() { wait_metric "$1" "idl_gateway_requests_total{type=\"$2\"}" "$3"; }

# ---- the console, with a private HOME and XDG folders.
chome=$work/home
mkdir -p "$chome/.config" "$chome/.local/share" "$chome/.cache" "$work/runtime"
chmod 700 "$work/runtime"
env -u DBUS_SESSION_BUS_ADDRESS -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM -u QT_STYLE_OVERRIDE \
  HOME="$chome" XDG_CONFIG_HOME="$chome/.config" XDG_DATA_HOME="$chome/.local/share" \
  XDG_CACHE_HOME="$chome/.cache" XDG_RUNTIME_DIR="$work/runtime" QT_QPA_PLATFORM=xcb \
  "$bin/idl-console" --import-stack "$stack_json" --secrets session >"$work/console.log" 2>&1 &
console_pid=$!
alive() {
  kill -0 "$console_pid" 2>/dev/null && return 0
  wait "$console_pid" 2>/dev/null
  fail "the console process is gone (exit status $?)"
}

win=
for _ in $(seq 1 80); do
  alive
  win=$(xdotool search --all --onlyvisible --pid "$console_pid" --name 'Instant Dev Logs' 2>/dev/null | head -n1)
  [ -n "$win" ] && break
  sleep 0.25
done
[ -n "$win" ] || fail "no console window appeared within 20 s"
xdotool windowmove "$win" 0 0 windowsize "$win" "$width" "$height"
xdotool mousemove $((width - 1)) $((height - 1)) # no hover effects in the screenshots
focus() { # window: give it the keyboard (no window manager does it here)
  [ "$(xdotool getwindowfocus 2>/dev/null)" = "$1" ] ||
    timeout 5 xdotool windowfocus --sync "$1" 2>/dev/null || xdotool windowfocus "$1" 2>/dev/null
  sleep 0.3
}
keys() { focus "$win"; xdotool key --clearmodifiers --delay 80 "$@"; }
find_dialog() { # title regex -> the console's visible window of that title, within 10 s
  local id
  for _ in $(seq 1 40); do
    id=$(xdotool search --all --onlyvisible --pid "$console_pid" --name "$1" 2>/dev/null | head -n1)
    # Mapped is not yet ready: keys sent before Qt has activated it are lost.
    [ -n "$id" ] && { sleep 0.8; echo "$id"; return 0; }
    sleep 0.25
  done
  return 1
}

prev=
shot() { # name [window]: screenshot into $out/name.png, checked
  local file=$out/$1.png target=${2:-root}
  sleep 0.5
  import -window "$target" "$file" 2>>"$work/import.log" || fail "import could not take $1.png"
  [ -s "$file" ] || fail "$1.png is empty"
  local sd
  sd=$(convert "$file" -colorspace Gray -format '%[fx:standard_deviation]' info: 2>/dev/null)
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0.02 else 1)' "${sd:-0}" ||
    fail "$1.png is blank (standard deviation ${sd:-?})"
  if [ -n "$prev" ]; then
    local diff
    diff=$(compare -metric AE -fuzz 3% "$prev" "$file" null: 2>&1 | cut -d' ' -f1)
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 500 else 1)' "${diff:-0}" ||
      fail "$1.png does not differ from $(basename "$prev") ($diff pixels): the step changed nothing on screen"
  fi
  prev=$file
}

# ---- 1: connected (the first tab runs its query once the connection is up).
step=connected
wait_metric 30 'idl_gateway_sessions' 1 || fail "the console opened no session with the gateway"
wait_requests 30 hello 1 || fail "the console sent no hello"
wait_requests 30 query 1 || fail "the first query tab did not run (not connected?)"
[ "$(metric idl_gateway_auth_failures_total)" = 0 ] || fail "the gateway refused the console's token"
sleep 2
alive
shot 01-connected
pass "session open, hello and the first tab's query seen by the gateway"

# ---- 2: a query in the first tab.
step=query
query='level:>=warn -app:search'
q0=$(requests query)
a0=$(requests aggregate)
keys ctrl+l
xdotool type --delay 40 "$query"
keys Escape F5
wait_requests 20 query $((q0 + 1)) || fail "F5 sent no query"
wait_requests 20 aggregate $((a0 + 1)) || fail "the histogram was not asked for"
# Ctrl+R: the range menu; its first preset (Last 5 minutes) runs the query again.
keys ctrl+r
sleep 0.5
xdotool key --clearmodifiers Down Return
wait_requests 20 query $((q0 + 2)) || fail "choosing a time range did not run the query"
wait_requests 20 aggregate $((a0 + 2)) || fail "choosing a time range did not redraw the histogram"
sleep 1.5
# Ctrl+S saves it (a name dialog; the saved-queries sidebar shows it).
s0=$(requests saved.put)
keys ctrl+s
dialog=$(find_dialog '^Save query') || fail "Ctrl+S opened no name dialog"
focus "$dialog"
xdotool key --clearmodifiers ctrl+a
xdotool type --delay 20 "Warnings and errors"
xdotool key --clearmodifiers Return
wait_requests 20 saved.put $((s0 + 1)) || fail "the query was not saved"
# A click on a row of the results table (left, below the histogram), then two rows down:
# the detail pane on the right shows that event.
sleep 1
import -window root "$work/before-detail.png"
focus "$win"
xdotool mousemove --window "$win" 500 420 click 1 sleep 0.3 key Down Down
xdotool mousemove $((width - 1)) $((height - 1))
sleep 1
import -window root "$work/after-detail.png"
for f in before after; do
  convert "$work/$f-detail.png" -crop 330x480+1095+340 +repage "$work/$f-pane.png"
done
detail=$(compare -metric AE -fuzz 3% "$work/before-pane.png" "$work/after-pane.png" null: 2>&1 | cut -d' ' -f1)
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 500 else 1)' "${detail:-0}" ||
  fail "selecting a row changed nothing in the detail pane ($detail pixels)"
alive
shot 02-query
pass "“$query” ran (F5, then Last 5 minutes from Ctrl+R), was saved (saved.put), a row shows in the detail pane"

# ---- 3: a live tail with the same filter; events must arrive.
step=tail
t0=$(requests tail.start)
keys ctrl+shift+t
wait_requests 20 tail.start $((t0 + 1)) || fail "Ctrl+Shift+T started no tail"
e0=$(metric idl_gateway_tail_events_total)
wait_metric 30 idl_gateway_tail_events_total $((e0 + 20)) || fail "no events reached the tail"
sleep 2
alive
shot 03-tail
first_tail=$prev
sleep 3
wait_metric 30 idl_gateway_tail_events_total $(($(metric idl_gateway_tail_events_total) + 5)) ||
  fail "the tail stopped receiving events"
shot 03-tail-later
pass "tail started, $(($(metric idl_gateway_tail_events_total) - e0)) events delivered, the table moved"

# ---- 4: analytics.
step=analytics
a0=$(requests aggregate)
p0=$(requests top)
keys ctrl+shift+a
wait_requests 20 top $((p0 + 2)) || fail "analytics asked for no top apps/hosts"
wait_requests 20 aggregate $((a0 + 1)) || fail "analytics asked for no aggregate"
sleep 3
alive
prev=$first_tail # differ from the tail, not only from its later frame
shot 04-analytics
pass "analytics view refreshed (aggregate + 2 top)"

# ---- 5: CSV export into a folder that does not exist yet.
step=export
export_dir=$work/exports/new-$(date +%s)/csv
export_file=$export_dir/events.csv
[ ! -e "$work/exports" ] || fail "$work/exports exists already"
x0=$(requests export)
keys ctrl+Next # analytics is the last tab: the next one is the query tab
sleep 0.5
keys ctrl+e
dialog=$(find_dialog '^Export to CSV') || fail "Ctrl+E opened no export dialog (is the query tab current?)"
focus "$dialog"
xdotool key --clearmodifiers alt+f ctrl+a
xdotool type --delay 10 "$export_file"
xdotool key --clearmodifiers Return
wait_requests 20 export $((x0 + 1)) || fail "the dialog sent no export request"
for _ in $(seq 1 120); do
  [ -f "$export_file" ] && break
  sleep 0.25
done
[ -f "$export_file" ] || fail "no $export_file after 30 s"
[ ! -e "$export_file.part" ] || fail "$export_file.part left behind"
# RFC 4180 records (messages may span lines): a header, rows of the same width, and only the
# rows the query asks for (level >= warn, no app search).
csv_check=$(python3 - "$export_file" <<'PY'
import csv, sys
def bad(why):
    print(why)
    sys.exit(1)
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
    records = list(csv.reader(f))
if not records:
    bad("the file is empty")
header, rows = records[0], records[1:]
if "level" not in header or "app" not in header:
    bad("the header is " + ",".join(header))
if not rows:
    bad("a header and no rows")
if any(len(r) != len(header) for r in rows):
    bad("a row has not %d fields" % len(header))
level, app = header.index("level"), header.index("app")
wrong = [r for r in rows if r[level] not in ("warn", "error", "fatal") or r[app] == "search"]
if wrong:
    bad("%d rows do not match the query, e.g. %s" % (len(wrong), wrong[0]))
print("header “%s”, %d rows, all matching the query" % (",".join(header), len(rows)))
PY
) || fail "$export_file: $csv_check"
cp "$export_file" "$out/export.csv"
sleep 1
alive
shot 05-export
focus "$dialog"
xdotool key --clearmodifiers Escape
pass "$export_file: $csv_check"

# ---- 6: the profile dialog tests the connection.
step=profiles
h0=$(requests hello)
sleep 0.5
keys ctrl+comma
dialog=$(find_dialog '^Cluster profiles') || fail "Ctrl+, opened no profile dialog"
focus "$dialog"
xdotool key --clearmodifiers alt+t
wait_requests 20 hello $((h0 + 1)) || fail "Test connection sent no hello"
sleep 2
alive
shot 06-profiles
import -window "$dialog" "$out/06-profiles-dialog.png" 2>>"$work/import.log" ||
  fail "import could not take the dialog"
focus "$dialog"
xdotool key --clearmodifiers Escape
pass "profile dialog tested the connection"

# ---- 7: alerts: "Create alert from this query" on the query tab (Ctrl+Shift+N) opens the
# Alerts view with the tab's query, previews it (alerts.rules.test), a name is typed into the
# focused name field and Ctrl+S saves the rule (alerts.rules.put).
step=alerts
t0=$(requests alerts.rules.test)
p0=$(requests alerts.rules.put)
l0=$(requests alerts.rules.list)
keys ctrl+shift+n
wait_requests 20 alerts.rules.list $((l0 + 1)) || fail "Ctrl+Shift+N did not open the Alerts view (no alerts.rules.list)"
wait_requests 20 alerts.rules.test $((t0 + 1)) || fail "the new rule was not previewed (no alerts.rules.test)"
sleep 1
focus "$win"
xdotool type --delay 30 "Warnings burst"
keys ctrl+s
wait_requests 20 alerts.rules.put $((p0 + 1)) || fail "Ctrl+S in the Alerts view saved no rule"
sleep 3
alive
shot 07-alerts
pass "Alerts view from the query tab: previewed (alerts.rules.test) and saved (alerts.rules.put)"

step=end
alive
if [ -n "$docs_dir" ]; then
  mkdir -p "$docs_dir"
  # The docs' names; palette-reduced PNGs stay small and look the same.
  for pair in 02-query:console-query 03-tail:console-tail 04-analytics:console-analytics \
    06-profiles-dialog:console-profiles 07-alerts:console-alerts; do
    convert "$out/${pair%%:*}.png" -strip -define png:compression-level=9 "$docs_dir/${pair#*:}.png" ||
      fail "could not write $docs_dir/${pair#*:}.png"
  done
  log "docs screenshots written to $docs_dir"
fi
log "desktop check passed in $(elapsed) s; screenshots in $out"
