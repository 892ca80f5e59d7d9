"""The web application's API types come from the committed merged OpenAPI document: a changed endpoint must
be exported again (`make openapi`), or this fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_committed_openapi_equals_a_fresh_export() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/export_openapi.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        "web/src/api/openapi.json differs from the services' endpoints: run `make openapi` and commit "
        "web/src/api/openapi.json and web/src/api/schema.d.ts\n" + result.stderr[-3000:]
    )


def test_generated_types_name_every_path() -> None:
    schema = (ROOT / "web" / "src" / "api" / "schema.d.ts").read_text(encoding="utf-8")
    document = json.loads((ROOT / "web" / "src" / "api" / "openapi.json").read_text(encoding="utf-8"))
    missing = [path for path in document["paths"] if f'"{path}"' not in schema]
    assert not missing, f"schema.d.ts is stale (run `make openapi`): {missing[:5]}"
