"""Write the platform's merged OpenAPI document (what the gateway serves at /openapi.json) without a running
platform: every service's FastAPI app is built (nothing is started, settings get dummy secrets) and the
documents are merged the way the gateway's OpenAPIAggregator does it.

    uv run python scripts/export_openapi.py            # writes web/src/api/openapi.json
    uv run python scripts/export_openapi.py --check    # exit 1 if the committed file differs

`npm run gen:types` in web/ then turns it into web/src/api/schema.d.ts."""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "web" / "src" / "api" / "openapi.json"

# Settings the apps need to be built; nothing is connected to (the apps are never started).
DUMMY_ENV = {
    "JWT_SECRET": "export-openapi-" + "x" * 40,
    "CERTIFICATION_SIGNING_KEY": base64.b64encode(b"\x01" * 32).decode(),
    "GATEWAY_SIGNING_SECRET": "export-openapi-" + "y" * 40,
    "PLATFORM_ENV": "development",
}


def _builders() -> dict[str, Callable[[], Any]]:
    from certification.main import build_app as certification
    from enrollment.main import build_app as enrollment
    from exam.main import build_app as exam
    from payment.main import build_app as payment
    from registration.main import build_app as registration

    return {
        "registration": registration,
        "enrollment": enrollment,
        "payment": payment,
        "exam": exam,
        "certification": certification,
    }


def merged_document() -> dict[str, Any]:
    for key, value in DUMMY_ENV.items():
        os.environ.setdefault(key, value)
    from gateway.application.openapi import merge_openapi
    from gateway.main import build_app as gateway

    documents: dict[str, dict[str, Any]] = {}
    for service, build in _builders().items():
        os.environ["SERVICE_NAME"] = service
        documents[service] = build().openapi()
    os.environ["SERVICE_NAME"] = "gateway"
    own = gateway().openapi()
    merged = merge_openapi(own, documents)
    merged["info"].pop("x-unavailable", None)
    return merged


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    parser.add_argument("-o", "--output", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    text = render(merged_document())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
