"""The login page's initial JavaScript, gzipped: the entry script and the modules index.html preloads (what a
browser must fetch before the first page shows). Goal: at most 250 KB. Needs a build (`make run` or
`npm run build` in web/); `make bench` builds it when the sources changed."""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
GOAL_BYTES = 250 * 1024
INITIAL = re.compile(r'<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="/?([^"]+\.js)"')


def initial_scripts(dist: Path = DIST) -> list[Path]:
    html = (dist / "index.html").read_text(encoding="utf-8")
    return [dist / name for name in dict.fromkeys(INITIAL.findall(html))]


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def run(dist: Path = DIST) -> int:
    if not (dist / "index.html").exists():
        print("web: not built (web/dist/index.html missing): run `npm run build` in web/")
        return 1
    scripts = initial_scripts(dist)
    total = sum(gzipped_size(p) for p in scripts)
    verdict = "ok" if total <= GOAL_BYTES else "OVER the goal"
    names = ", ".join(p.name for p in scripts)
    print(f"web: login page initial JavaScript {total / 1024:.1f} KB gzipped (goal ≤ 250 KB: {verdict})")
    print(f"     {names}")
    return 0 if total <= GOAL_BYTES else 1


if __name__ == "__main__":
    sys.exit(run())
