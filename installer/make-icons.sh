#!/usr/bin/env bash
# Renders the console's SVG icon (resources/console/icons/app.svg) into the bitmap icons the
# packages need, and writes them into the source tree (they are checked in, so a build never
# needs these tools):
#   resources/linux/icons/hicolor/<N>x<N>/apps/instant-dev-logs.png   (Linux hicolor theme)
#   installer/windows/idl-console.ico                                 (NSIS, the .exe)
#   installer/macos/idl-console.icns                                  (the .app bundle)
# Needs rsvg-convert (Debian: librsvg2-bin), ImageMagick's convert and python3.
# Re-run it when the SVG changes.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
svg="$root/resources/console/icons/app.svg"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for n in 16 24 32 48 64 128 256 512 1024; do
  rsvg-convert -w "$n" -h "$n" "$svg" -o "$tmp/$n.png"
done
for n in 48 64 128 256 512; do
  dir="$root/resources/linux/icons/hicolor/${n}x${n}/apps"
  mkdir -p "$dir"
  cp "$tmp/$n.png" "$dir/instant-dev-logs.png"
done
# Windows: one .ico with the sizes Explorer and the Start menu ask for.
convert "$tmp/16.png" "$tmp/24.png" "$tmp/32.png" "$tmp/48.png" "$tmp/64.png" "$tmp/256.png" \
  "$root/installer/windows/idl-console.ico"
# macOS: an .icns is a header plus PNG chunks (ic07 128, ic08 256, ic09 512, ic10 1024@2x).
python3 - "$tmp" "$root/installer/macos/idl-console.icns" <<'PY'
import struct, sys
tmp, out = sys.argv[1], sys.argv[2]
chunks = b""
for kind, size in ((b"ic07", 128), (b"ic08", 256), (b"ic09", 512), (b"ic10", 1024)):
    data = open(f"{tmp}/{size}.png", "rb").read()
    chunks += kind + struct.pack(">I", len(data) + 8) + data
open(out, "wb").write(b"icns" + struct.pack(">I", len(chunks) + 8) + chunks)
PY
echo "make-icons: done"
