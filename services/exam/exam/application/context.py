"""What every exam use case shares: the clock, the rules from the settings, stream names, the loaders of the
candidate (from the read model of ExamApplied) and of the blacklist, and decisions on a stream the request
has already read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from events import DomainEvent
from servicekit.commands import execute
from servicekit.errors import NotFound
from servicekit.eventstore import EventStore
from servicekit.mongo import Database, Document
from servicekit.snapshots import SnapshotKind, load_state

from ..domain.discipline import BlacklistEntry, blacklisted_on
from ..domain.live import LiveCheckRules
from ..domain.paper import PaperRule
from ..domain.session import Applicant, Session
from ..domain.timing import CheckInRules, ExamTiming, ScoringRules
from ..projections.candidates import CANDIDATES
from ..projections.discipline import BLACKLIST
from ..settings import ExamSettings

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def offset_clock(path: str) -> Clock:
    """The system clock plus the seconds written in `path` (missing or empty file: no offset). For the
    platform's integration tests only (EXAM_TEST_CLOCK_OFFSET_FILE)."""

    def now() -> datetime:
        try:
            text = Path(path).read_text().strip()
        except FileNotFoundError:
            text = ""
        return datetime.now(UTC) + timedelta(seconds=float(text or 0))

    return now


@dataclass(frozen=True)
class ExamRules:
    checkin: CheckInRules
    timing: ExamTiming
    scoring: ScoringRules
    paper: PaperRule
    duration_minutes: int
    max_seats: int
    blacklist_days: int
    demo_timing: bool = False  # EXAM_DEMO_TIMING: the answers to the candidate say so
    live: LiveCheckRules = field(default_factory=LiveCheckRules)  # in-exam face checks (EXAM_LIVE_*)

    @classmethod
    def from_settings(cls, settings: ExamSettings) -> ExamRules:
        paper = settings.paper_rule()
        if paper.full_marks != settings.exam_full_marks:
            raise ValueError(
                f"EXAM_FULL_MARKS={settings.exam_full_marks} differs from the paper rule's full marks "
                f"{paper.full_marks} (EXAM_PAPER_RULE)"
            )
        if not 0 < settings.exam_pass_mark <= settings.exam_full_marks:
            raise ValueError("EXAM_PASS_MARK must be between 1 and EXAM_FULL_MARKS")
        return cls(
            checkin=CheckInRules(
                opens_before=timedelta(minutes=settings.exam_checkin_opens_minutes),
                closes_after=timedelta(minutes=settings.exam_checkin_closes_minutes),
                start_opens_before=timedelta(minutes=settings.exam_start_opens_before_minutes),
                max_attempts=settings.exam_max_face_attempts,
                pending_timeout=timedelta(seconds=settings.exam_face_check_timeout_seconds),
            ),
            timing=ExamTiming(earliest_submit=timedelta(minutes=settings.exam_earliest_submit_minutes)),
            scoring=ScoringRules(full_marks=settings.exam_full_marks, pass_mark=settings.exam_pass_mark),
            paper=paper,
            duration_minutes=settings.exam_duration_minutes,
            max_seats=settings.exam_max_seats,
            blacklist_days=settings.exam_blacklist_days,
            demo_timing=settings.exam_demo_timing,
            live=LiveCheckRules(
                interval=timedelta(seconds=settings.exam_live_check_interval_seconds),
                jitter=timedelta(
                    seconds=min(
                        settings.exam_live_check_jitter_seconds,
                        settings.exam_live_check_interval_seconds // 2,
                    )
                ),
                violation_threshold=settings.exam_live_mismatch_violation_threshold,
                retention=timedelta(days=settings.exam_live_frame_retention_days),
            ),
        )


def session_stream(session_id: str) -> str:
    return f"session-{session_id}"


def candidate_stream(candidate_id: str) -> str:
    return f"candidate-{candidate_id}"


Loaded = tuple[list[DomainEvent], int]  # a stream's events and version, as a request read them


async def decide_on(
    store: EventStore,
    stream_id: str,
    loaded: Loaded,
    decide: Callable[[list[DomainEvent]], Sequence[DomainEvent]],
    *,
    stream_type: str,
) -> tuple[list[DomainEvent], bool]:
    """`execute` on the stream the request has already read (`loaded`): the stream's history after the
    decision (the history decided on, read again only after a concurrency conflict, and the new events) and
    whether something was appended. The caller needs no second read to see the outcome."""
    seen: list[DomainEvent] = list(loaded[0])
    made: list[DomainEvent] = []

    def tracked(history: list[DomainEvent]) -> list[DomainEvent]:
        nonlocal seen, made
        seen, made = history, list(decide(history))
        return made

    stored = await execute(store, stream_id, tracked, stream_type=stream_type, loaded=loaded)
    return ([*seen, *made] if stored else list(seen)), bool(stored)


def applicant_from(doc: Document) -> Applicant:
    return Applicant(
        candidate_id=doc["_id"],
        applicant_id=doc["applicant_id"],
        enterprise_id=doc["enterprise_id"],
        institution_id=doc["institution_id"],
        id_number=doc["id_number"],
        name=doc["name"],
        position=doc["position"],
        gender=doc.get("gender") or "",
        specialisation=doc.get("specialisation"),
        head_photo_bucket=doc.get("head_photo_bucket"),
        head_photo_key=doc.get("head_photo_key"),
        retake=bool(doc.get("retake")),
    )


async def candidate_doc(db: Database, candidate_id: str) -> Document:
    doc = await db[CANDIDATES].find_one({"_id": candidate_id})
    if doc is None or "applied_at" not in doc:
        raise NotFound("未找到该考生", code="candidate_not_found")
    return doc


async def load_applicant(db: Database, candidate_id: str) -> Applicant:
    return applicant_from(await candidate_doc(db, candidate_id))


def _fold_session(state: Session | None, events: Sequence[DomainEvent]) -> Session:
    return (state or Session()).apply(events)


# A session's stream holds a seat event per candidate (hundreds at an exam peak), and every check-in and start
# reads the session: they read a snapshot and the few events after it.
SESSION_SNAPSHOTS: SnapshotKind[Session] = SnapshotKind(
    name="exam-session", version=1, fold=_fold_session, dump=Session.dump, load=Session.load, every=50
)


async def load_session(store: EventStore, session_id: str) -> Session:
    state, _, _ = await load_state(store, session_stream(session_id), SESSION_SNAPSHOTS)
    if not state.exists:
        raise NotFound("未找到该考场", code="session_not_found")
    return state


async def blacklist_entries(db: Database, id_numbers: Sequence[str]) -> dict[str, list[BlacklistEntry]]:
    found: dict[str, list[BlacklistEntry]] = {}
    async for doc in db[BLACKLIST].find({"id_number": {"$in": list(id_numbers)}, "lifted": False}):
        found.setdefault(doc["id_number"], []).append(
            BlacklistEntry(
                blacklist_id=doc["_id"],
                id_number=doc["id_number"],
                since=date.fromisoformat(doc["since"]),
                until=date.fromisoformat(doc["until"]),
            )
        )
    return found


async def blacklisted_until(db: Database, id_number: str, day: date) -> date | None:
    return blacklisted_on((await blacklist_entries(db, [id_number])).get(id_number, []), day)
