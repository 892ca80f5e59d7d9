"""Which headers a reverse proxy passes on (pure)."""

from __future__ import annotations

from collections.abc import Iterable

# RFC 9110 §7.6.1 connection-specific headers, plus the legacy ones proxies conventionally drop.
HOP_BY_HOP: frozenset[str] = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)

IDENTITY_ACCOUNT = "x-identity-account"
IDENTITY_ROLE = "x-identity-role"
IDENTITY_ORG = "x-identity-org"
IDENTITY_PREFIX = "x-identity-"
# The gateway's own proof of origin (servicekit.origin): never taken from the client.
PROOF_HEADER = "x-gateway-proof"

Headers = list[tuple[str, str]]


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    """Header names listed in `Connection:` are hop-by-hop as well."""
    tokens: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            tokens |= {t.strip().lower() for t in value.split(",") if t.strip()}
    return tokens


def filter_request_headers(headers: Iterable[tuple[str, str]]) -> Headers:
    """Client headers to send upstream: no hop-by-hop headers, no Host, no client-supplied identity headers.

    `Authorization` and everything end-to-end (content type and length, cookies, correlation id…) is kept.
    """
    items = list(headers)
    dropped = HOP_BY_HOP | _connection_tokens(items) | {"host"}
    return [
        (name, value)
        for name, value in items
        if name.lower() not in dropped
        and not name.lower().startswith(IDENTITY_PREFIX)
        and name.lower() != PROOF_HEADER
    ]


def filter_response_headers(headers: Iterable[tuple[str, str]]) -> Headers:
    """Upstream response headers to return to the client: everything but hop-by-hop headers."""
    items = list(headers)
    dropped = HOP_BY_HOP | _connection_tokens(items)
    return [(name, value) for name, value in items if name.lower() not in dropped]


def replace_header(headers: Headers, name: str, value: str | None) -> Headers:
    """Remove every `name` header (case-insensitively) and add one with `value` (unless None)."""
    out = [(k, v) for k, v in headers if k.lower() != name.lower()]
    if value is not None:
        out.append((name, value))
    return out


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: frozenset[str]) -> str:
    """The client as the gateway sees it: the connection's peer, unless the peer is a trusted proxy, then the
    nearest address in `X-Forwarded-For` that is not a trusted proxy (entries are added on the right, so the
    left ones are whatever the client claimed)."""
    address = peer or "unknown"
    if address not in trusted_proxies or not forwarded_for:
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if hop not in trusted_proxies:
            return hop[:64]
    return address
