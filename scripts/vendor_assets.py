#!/usr/bin/env python3
"""Fetch the maps' JS/CSS from the npm registry (npm pack) and check or update gridgov/maps/static/.

Usage:
    python scripts/vendor_assets.py            # re-fetch and verify every file against vendored.json
    python scripts/vendor_assets.py --update   # re-fetch, rewrite the files, vendored.json and VENDORED.md

Only `npm pack` talks to the network; nothing is linked from a CDN at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "gridgov" / "maps" / "static"
MANIFEST = STATIC / "vendored.json"

# (npm package, version, file inside the tarball, destination under static/)
FILES: list[tuple[str, str, str, str]] = [
    ("leaflet", "1.9.4", "package/dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet", "1.9.4", "package/dist/leaflet.css", "leaflet/leaflet.css"),
    ("leaflet", "1.9.4", "package/dist/images/layers.png", "leaflet/images/layers.png"),
    ("leaflet", "1.9.4", "package/dist/images/layers-2x.png", "leaflet/images/layers-2x.png"),
    ("leaflet", "1.9.4", "package/dist/images/marker-icon.png", "leaflet/images/marker-icon.png"),
    ("leaflet", "1.9.4", "package/dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"),
    ("leaflet", "1.9.4", "package/dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"),
    ("leaflet", "1.9.4", "package/LICENSE", "leaflet/LICENSE"),
    ("leaflet.heat", "0.2.0", "package/dist/leaflet-heat.js", "leaflet.heat/leaflet-heat.js"),
    ("leaflet.heat", "0.2.0", "package/LICENSE", "leaflet.heat/LICENSE"),
    # folium's Popup builds its content with jQuery; nothing else of folium's defaults is used.
    ("jquery", "3.7.1", "package/dist/jquery.min.js", "jquery/jquery.min.js"),
    ("jquery", "3.7.1", "package/LICENSE.txt", "jquery/LICENSE.txt"),
]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npm_pack(spec: str, into: Path) -> Path:
    """Download one package tarball with `npm pack` into ``into``; returns its path."""
    done = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(into)],
        check=True, capture_output=True, text=True,
    )
    name = json.loads(done.stdout)[0]["filename"]
    return into / name


def fetch_all(workdir: Path) -> dict[str, bytes]:
    """destination -> bytes, read straight from the registry tarballs."""
    tarballs: dict[str, Path] = {}
    out: dict[str, bytes] = {}
    for package, version, member, dest in FILES:
        spec = f"{package}@{version}"
        if spec not in tarballs:
            tarballs[spec] = npm_pack(spec, workdir)
        with tarfile.open(tarballs[spec]) as tar:
            handle = tar.extractfile(member)
            if handle is None:
                raise SystemExit(f"{spec}: {member} is not a file")
            out[dest] = handle.read()
    return out


def write_markdown(entries: list[dict[str, str]]) -> None:
    lines = [
        "# Vendored map assets",
        "",
        "Fetched from the npm registry with `npm pack` by `scripts/vendor_assets.py`; gridgov serves",
        "or inlines these files so that maps work with no internet (no CDN). Re-check with",
        "`python scripts/vendor_assets.py`; `--update` re-fetches and rewrites this table.",
        "",
        "| package | version | file in package | vendored as | sha256 |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {e['package']} | {e['version']} | {e['member']} | {e['dest']} | `{e['sha256']}` |"
        for e in entries
    ]
    (STATIC / "VENDORED.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite files and the manifest")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fetched = fetch_all(Path(tmp))
    entries = [
        {"package": p, "version": v, "member": m.removeprefix("package/"), "dest": d,
         "sha256": sha256(fetched[d])}
        for p, v, m, d in FILES
    ]
    if args.update:
        for e in entries:
            target = STATIC / e["dest"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(fetched[e["dest"]])
        MANIFEST.write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")
        write_markdown(entries)
        print(f"updated {len(entries)} files under {STATIC}")
        return 0
    expected = {e["dest"]: e["sha256"] for e in json.loads(MANIFEST.read_text(encoding="utf-8"))}
    bad = []
    for e in entries:
        on_disk = STATIC / e["dest"]
        disk_sha = sha256(on_disk.read_bytes()) if on_disk.exists() else "missing"
        if not (e["sha256"] == expected.get(e["dest"]) == disk_sha):
            bad.append(f"{e['dest']}: registry {e['sha256']}, manifest {expected.get(e['dest'])}, disk {disk_sha}")
    for line in bad:
        print("MISMATCH", line, file=sys.stderr)
    print(f"{len(entries) - len(bad)}/{len(entries)} vendored files match the registry")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
