"""How this context plugs into the gateway app (`gateway.main` calls these; nothing else does)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from servicekit.projections import Projection
from servicekit.runtime import Policy

if TYPE_CHECKING:
    from ..container import Gateway
    from ..settings import GatewaySettings


def projections(settings: GatewaySettings) -> list[Projection]:
    """Read models this context keeps (consumers of the public topics, rebuildable)."""
    return []


def policies(settings: GatewaySettings) -> list[Policy]:
    """Consumers with effects (never replayed by a rebuild)."""
    return []


def routers() -> list[APIRouter]:
    """The context's HTTP routes (they come before the gateway's catch-all proxy)."""
    return []


async def start(gateway: Gateway, app: FastAPI) -> None:
    """After the runtime started (its database and Kafka are up): background tasks, indexes."""


async def stop(app: FastAPI) -> None:
    """Before the runtime stops."""
