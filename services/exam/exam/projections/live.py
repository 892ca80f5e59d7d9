"""The in-exam face checks' read model for the proctor (`domain.live`): one alert per answered check that did
not match (mismatch, no face, several faces), and per candidate the latest count of consecutive mismatches.

The answers and dismissals come from the candidate's stream (in order); a violation naming a frame
(`ViolationRecorded.evidence_keys` holding `live/<candidate>/<check>.jpg`) comes from its own stream, in any
order relative to them (live or in a rebuild): each handler merges its own fields and the alert's state is
derived from the fields (a recorded violation wins over a dismissal).
"""

from __future__ import annotations

from typing import Any

from events import ViolationRecorded
from pymongo import IndexModel
from servicekit.consumer import ReceivedEvent
from servicekit.mongo import Document, Session
from servicekit.projections import Projection

from exam.domain import live
from exam.domain.events import LiveAlertDismissed, LiveCheckAnswered

LIVE_ALERTS = "live_alerts"
LIVE_STATUS = "live_status"


def derive(doc: Document) -> None:
    if doc.get("violation_id"):
        doc["state"] = "violation_recorded"
    elif doc.get("dismissed"):
        doc["state"] = "dismissed"
    else:
        doc["state"] = "open"


def live_checks(database: str) -> Projection:
    projection = Projection(
        name="live-checks",
        collections=[LIVE_ALERTS, LIVE_STATUS],
        database=database,
        indexes={
            LIVE_ALERTS: [
                IndexModel([("session_id", 1), ("at", -1)]),
                IndexModel([("session_id", 1), ("state", 1), ("at", -1)]),
            ],
            LIVE_STATUS: [IndexModel("session_id")],
        },
    )

    async def merge(session: Session, alert_id: str, fields: dict[str, Any]) -> None:
        alerts = projection.collection(session, LIVE_ALERTS)
        doc = await alerts.find_one({"_id": alert_id}, session=session) or {"_id": alert_id}
        doc.update(fields)
        derive(doc)
        await alerts.replace_one({"_id": alert_id}, doc, upsert=True, session=session)

    @projection.handlers.on(LiveCheckAnswered)
    async def answered(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, LiveCheckAnswered)
        await projection.collection(session, LIVE_STATUS).update_one(
            {"_id": e.candidate_id},
            {
                "$set": {
                    "session_id": e.session_id,
                    "consecutive_mismatches": e.consecutive_mismatches,
                    "last_state": e.state,
                    "last_answered_at": e.answered_at,
                },
                "$inc": {"answered": 1, **({"alerts": 1} if e.state in live.ALERTS else {})},
            },
            upsert=True,
            session=session,
        )
        if e.state not in live.ALERTS:
            return
        await merge(
            session,
            e.check_id,
            {
                "candidate_id": e.candidate_id,
                "session_id": e.session_id,
                "check_id": e.check_id,
                "reason": e.state,
                "distance": e.distance,
                "threshold": e.threshold,
                "quality_flags": list(e.quality_flags),
                "replay_suspected": e.replay_suspected,
                "frame_key": e.frame_key,
                "at": e.requested_at or e.answered_at,
                "answered_at": e.answered_at,
                "consecutive_mismatches_then": e.consecutive_mismatches,
            },
        )

    @projection.handlers.on(LiveAlertDismissed)
    async def dismissed(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, LiveAlertDismissed)
        await merge(
            session,
            e.check_id,
            {
                "dismissed": True,
                "dismissed_by": e.dismissed_by,
                "dismiss_reason": e.reason,
                "dismissed_at": e.dismissed_at,
            },
        )

    @projection.handlers.on(ViolationRecorded)
    async def violation(received: ReceivedEvent, session: Session) -> None:
        e = received.event
        assert isinstance(e, ViolationRecorded)
        for key in e.evidence_keys:
            check_id = live.check_id_of_key(key)
            if check_id is not None:
                await merge(session, check_id, {"violation_id": e.violation_id})

    return projection
