"""Read model `certificates`: what holders, institutions and the public verification page see."""

from __future__ import annotations

from events import CertificateIssued
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Session
from servicekit.projections import Projection

CERTIFICATES = "certificates"


def certificates(database: str) -> Projection:
    projection = Projection(name="certificates", collections=[CERTIFICATES], database=database)

    @projection.handlers.on(CertificateIssued)
    async def issued(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, CertificateIssued)
        await projection.collection(session).replace_one(
            {"_id": e.certificate_id},
            {
                "_id": e.certificate_id,
                **e.model_dump(mode="json", exclude={"certificate_id"}),
                "state": "valid",
            },
            upsert=True,
            session=session,
        )

    return projection
