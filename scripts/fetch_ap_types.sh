#!/usr/bin/env bash
# Fetches the open-source Xilinx ap_types headers (Apache-2.0) into a cache and prints their folder.
# They come from the hls4ml wheel on PyPI (hls4ml/templates/vivado/ap_types); only those headers are
# extracted. They are never committed to this repository.
set -euo pipefail
version="1.3.0"
cache="${HLSRS_CACHE:-$HOME/.cache/hlsrs}"
dest="$cache/ap_types-hls4ml-$version"
if [ ! -f "$dest/ap_fixed.h" ]; then
  mkdir -p "$cache/wheels"
  if ! ls "$cache/wheels"/hls4ml-"$version"-*.whl >/dev/null 2>&1; then
    python3 -m pip download -q --no-deps --only-binary=:all: "hls4ml==$version" -d "$cache/wheels" >&2
  fi
  tmp="$(mktemp -d "$cache/ap_types.XXXXXX")"
  python3 - "$cache/wheels"/hls4ml-"$version"-*.whl "$tmp" <<'PY'
import sys, zipfile, os
whl, out = sys.argv[1], sys.argv[2]
prefix = "hls4ml/templates/vivado/ap_types/"
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        if n.startswith(prefix) and not n.endswith("/"):
            dst = os.path.join(out, n[len(prefix):])
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "wb") as f:
                f.write(z.read(n))
PY
  rm -rf "$dest"
  mv "$tmp" "$dest"
fi
echo "$dest"
