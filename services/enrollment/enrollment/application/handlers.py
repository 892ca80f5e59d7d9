"""Enrollment use cases: loading and changing applicants.

An applicant's stream (`applicant-<id>`) starts with `ApplicantRegistered` (its record and its batch's
header): a command on an applicant reads that one stream, once (`execute(..., loaded=...)` decides on what
was read). A stream written before ApplicantRegistered existed is completed by a registration made from the
batch's chunk naming the applicant (`legacy_registrations`; only that chunk is read, not the whole batch).
Commands on many applicants read their streams with a few queries (50 streams each) and append with one
insert (`streams.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from events import ApplicantsImported, DomainEvent
from pymongo import UpdateOne
from servicekit.commands import execute
from servicekit.errors import DomainError, Forbidden, NotFound
from servicekit.eventstore import EVENTS, EventStore, StoredEvent
from servicekit.mongo import Session
from servicekit.streams import Streams, commit, retrying

from ..domain import applicant as applicant_domain
from ..domain.events import ApplicantRegistered, EnrollmentClosed, EnrollmentReopened

# write side: applicant id -> its batch (and the batch's owner); `closed: true` (+ `closed_reason`) once the
# enrollment ended (EnrollmentClosed); a row without it is open (rows written before closing existed too)
APPLICANT_INDEX = "applicant_index"


def index_updates(events: Sequence[DomainEvent]) -> list[UpdateOne]:
    """What the applicant index's rows become after these applicant events (closing and reopening); the
    commands write them in the transaction of the events, and the write index's rebuild does the same."""
    updates: list[UpdateOne] = []
    for event in events:
        match event:
            case EnrollmentClosed():
                updates.append(
                    UpdateOne(
                        {"_id": event.applicant_id}, {"$set": {"closed": True, "closed_reason": event.reason}}
                    )
                )
            case EnrollmentReopened():
                updates.append(
                    UpdateOne({"_id": event.applicant_id}, {"$unset": {"closed": "", "closed_reason": ""}})
                )
    return updates


async def sync_index(store: EventStore, events: Sequence[DomainEvent], session: Session | None) -> None:
    if updates := index_updates(events):
        await store.db[APPLICANT_INDEX].bulk_write(updates, ordered=True, session=session)


def open_filter(*, position: str, continuing_education: bool) -> dict[str, Any]:
    """The index rows of open enrollments of a position and kind (the duplicate rule)."""
    return {"position": position, "continuing_education": continuing_education, "closed": {"$ne": True}}


class IndexedStreams(Streams):
    """Streams of a request on applicants that also keeps the applicant index in step (`sync_index`, in the
    transaction of `commit`)."""

    def __init__(self, store: EventStore, session: Session | None = None) -> None:
        super().__init__(store, session)
        self.decided: list[DomainEvent] = []

    def add(self, stream_id: str, events: Sequence[DomainEvent], *, stream_type: str) -> None:
        super().add(stream_id, events, stream_type=stream_type)
        self.decided += events

    async def sync_index(self, session: Session) -> None:
        await sync_index(self.store, self.decided, session)

    @property
    def index_writes(self) -> Callable[[Session], Awaitable[None]] | None:
        """`sync_index` when the decided events change the index, else None (`commit` then opens no
        transaction for a request that decided nothing)."""
        return self.sync_index if index_updates(self.decided) else None


def batch_stream(batch_id: str) -> str:
    return f"batch-{batch_id}"


def applicant_stream(applicant_id: str) -> str:
    return f"applicant-{applicant_id}"


async def ensure_indexes(store: EventStore) -> None:
    await store.db[APPLICANT_INDEX].create_index([("id_number", 1), ("position", 1)])
    await store.db[APPLICANT_INDEX].create_index("batch_id")


@dataclass(frozen=True)
class LoadedApplicant:
    """An applicant as a request read it: its state, its stream's events and version and, for a stream
    written before ApplicantRegistered existed, the registration made from its batch (`legacy`)."""

    state: applicant_domain.Applicant
    history: list[DomainEvent]
    version: int
    legacy: tuple[DomainEvent, ...] = ()

    @property
    def applicant_id(self) -> str:
        return self.state.applicant_id

    def fold(self, history: Sequence[DomainEvent]) -> applicant_domain.Applicant:
        """The state after `history` (the applicant's stream, e.g. with this request's new events)."""
        return applicant_domain.Applicant.from_history([*self.legacy, *history])


def _registered(history: Sequence[DomainEvent]) -> bool:
    return bool(history) and isinstance(history[0], ApplicantRegistered)


async def legacy_registrations(
    store: EventStore, applicant_ids: Sequence[str], *, session: Session | None = None
) -> dict[str, ApplicantRegistered]:
    """Registrations of applicants imported before ApplicantRegistered existed: from the batch chunk that
    names each one (the index gives the batch; the query returns only the chunks naming them)."""
    wanted = set(applicant_ids)
    by_batch: dict[str, list[str]] = {}
    cursor = store.db[APPLICANT_INDEX].find({"_id": {"$in": list(wanted)}}, {"batch_id": 1}, session=session)
    async for doc in cursor:
        by_batch.setdefault(doc["batch_id"], []).append(doc["_id"])
    found: dict[str, ApplicantRegistered] = {}
    for batch_id, ids in by_batch.items():
        chunks = store.db[EVENTS].find(
            {"stream_id": batch_stream(batch_id), "data.applicants.applicant_id": {"$in": ids}},
            session=session,
        )
        async for doc in chunks:
            event = StoredEvent.from_document(doc).decode()
            if not isinstance(event, ApplicantsImported):
                continue  # MaterialsUploaded names applicants too
            for record in event.applicants:
                if record.applicant_id in wanted:
                    found[record.applicant_id] = applicant_domain.registration_from_batch(
                        event, record.applicant_id
                    )
    return found


async def read_applicants(
    store: EventStore, applicant_ids: Sequence[str], *, session: Session | None = None
) -> dict[str, LoadedApplicant]:
    """The applicants found (an unknown id is absent), their streams read with one query per 50."""
    ids = list(dict.fromkeys(applicant_ids))
    streams = await store.load_many([applicant_stream(a) for a in ids], session=session)
    found: dict[str, LoadedApplicant] = {}
    legacy: list[str] = []
    for applicant_id in ids:
        history, version = streams.get(applicant_stream(applicant_id), ([], 0))
        if _registered(history):
            found[applicant_id] = LoadedApplicant(
                applicant_domain.Applicant.from_history(history), history, version
            )
        else:
            legacy.append(applicant_id)
    if legacy:
        registrations = await legacy_registrations(store, legacy, session=session)
        for applicant_id in legacy:
            registration = registrations.get(applicant_id)
            if registration is None:
                continue
            history, version = streams.get(applicant_stream(applicant_id), ([], 0))
            state = applicant_domain.Applicant.from_history([registration, *history])
            found[applicant_id] = LoadedApplicant(state, history, version, (registration,))
    return found


async def read_applicant(
    store: EventStore, applicant_id: str, *, session: Session | None = None
) -> LoadedApplicant:
    found = await read_applicants(store, [applicant_id], session=session)
    if applicant_id not in found:
        raise NotFound("未找到该学员报名记录", code="applicant_not_found")
    return found[applicant_id]


async def load_applicant(
    store: EventStore, applicant_id: str, *, session: Session | None = None
) -> tuple[applicant_domain.Applicant, int]:
    loaded = await read_applicant(store, applicant_id, session=session)
    return loaded.state, loaded.version


def _check_owner(state: applicant_domain.Applicant, institution_id: str | None) -> None:
    if institution_id is not None and state.batch.institution_id != institution_id:
        raise Forbidden("该学员不是向本机构报名的", code="not_owner")


async def change_applicant(
    store: EventStore,
    applicant_id: str,
    decide: Callable[[applicant_domain.Applicant], list[DomainEvent]],
    *,
    institution_id: str | None = None,
    session: Session | None = None,
    loaded: LoadedApplicant | None = None,
) -> None:
    """Check the institution owns the applicant (when given), decide and append. The applicant's stream is
    read once (or not at all when the request already read it: `loaded`, in the same transaction)."""
    current = loaded or await read_applicant(store, applicant_id, session=session)
    _check_owner(current.state, institution_id)
    stored = await execute(
        store,
        applicant_stream(applicant_id),
        lambda history: decide(current.fold(history)),
        stream_type="applicant",
        session=session,
        loaded=(current.history, current.version),
    )
    await sync_index(store, [s.decode() for s in stored], session)


def refusal(applicant_id: str, exc: DomainError) -> dict[str, Any]:
    return {"applicant_id": applicant_id, "code": exc.code, "message": exc.message}


async def decide_applicants(
    store: EventStore,
    applicant_ids: Sequence[str],
    decide: Callable[[applicant_domain.Applicant], list[DomainEvent]],
    *,
    institution_id: str | None = None,
    states: dict[str, applicant_domain.Applicant] | None = None,
) -> tuple[IndexedStreams, list[dict[str, Any]]]:
    """Read the applicants (one query per 50, no transaction), decide on each; nothing is appended yet
    (`commit`). Returns the decided streams and the refusals (unknown applicant, another institution's,
    DomainError); `states`, when given, receives the state each applicant was decided on."""
    loaded = await read_applicants(store, applicant_ids)
    if states is not None:
        states.update({applicant_id: current.state for applicant_id, current in loaded.items()})
    streams = IndexedStreams(store)
    refused: list[dict[str, Any]] = []
    for applicant_id in dict.fromkeys(applicant_ids):
        current = loaded.get(applicant_id)
        try:
            if current is None:
                raise NotFound("未找到该学员报名记录", code="applicant_not_found")
            _check_owner(current.state, institution_id)
            stream_id = applicant_stream(applicant_id)
            streams.known(stream_id, current.history, current.version)
            streams.add(stream_id, decide(current.state), stream_type="applicant")
        except DomainError as exc:
            refused.append(refusal(applicant_id, exc))
    return streams, refused


async def change_applicants(
    store: EventStore,
    applicant_ids: Sequence[str],
    decide: Callable[[applicant_domain.Applicant], list[DomainEvent]],
    *,
    institution_id: str | None = None,
    attempts: int = 3,
) -> list[dict[str, Any]]:
    """Decide on several applicants (one read of their streams) and record the decisions in one short
    transaction of their own (one insert): the applicants a rule refuses are returned (and left unchanged),
    the others recorded. A concurrency conflict runs it again on fresh state. Keep the set small (policies
    use chunks of ~50)."""

    async def request() -> list[dict[str, Any]]:
        streams, refused = await decide_applicants(
            store, applicant_ids, decide, institution_id=institution_id
        )
        await commit(store, streams, streams.index_writes)
        return refused

    return await retrying(request, attempts=attempts)
