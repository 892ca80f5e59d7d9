"""Registration use cases: register once per credit code, review by the city's authority."""

from __future__ import annotations

from collections.abc import Sequence

from events.registration import ReviewCheck
from pymongo.errors import DuplicateKeyError
from servicekit.commands import execute
from servicekit.errors import Conflict
from servicekit.eventstore import EventStore
from servicekit.mongo import Session, in_transaction

from ..domain import enterprise as domain
from ..domain.credit_code import normalize_credit_code

STREAM_TYPE = "enterprise"
CLAIMS = "credit_code_claims"


def stream_id(enterprise_id: str) -> str:
    return f"enterprise-{enterprise_id}"


async def ensure_indexes(store: EventStore) -> None:
    # `_id` is the credit code: the unique index that makes "one registration per enterprise" atomic
    await store.db[CLAIMS].create_index("enterprise_id")


async def register(store: EventStore, form: domain.RegistrationForm) -> str:
    """Register an enterprise; the credit code is claimed in the same transaction as the events."""
    credit_code = normalize_credit_code(form.credit_code)

    async def work(session: Session) -> None:
        try:
            await store.db[CLAIMS].insert_one(
                {"_id": credit_code, "enterprise_id": form.enterprise_id}, session=session
            )
        except DuplicateKeyError as exc:
            raise Conflict(
                "该统一社会信用代码已注册，一个企业只能注册一次；如忘记账号请联系所在市建设主管部门",
                code="credit_code_taken",
            ) from exc
        await execute(
            store,
            stream_id(form.enterprise_id),
            lambda h: domain.register(h, form),
            stream_type=STREAM_TYPE,
            session=session,
        )

    domain.ensure_valid(form)  # a bad form never claims the code
    await in_transaction(store.client, work)
    store.notify()
    return form.enterprise_id


async def review(
    store: EventStore,
    enterprise_id: str,
    *,
    reviewer_id: str,
    reviewer_city: str | None,
    checks: Sequence[ReviewCheck],
    approve: bool,
    reason: str = "",
) -> None:
    await execute(
        store,
        stream_id(enterprise_id),
        lambda history: domain.decide_review(
            history,
            reviewer_id=reviewer_id,
            reviewer_city=reviewer_city,
            checks=checks,
            approve=approve,
            reason=reason,
        ),
        stream_type=STREAM_TYPE,
    )


async def load(store: EventStore, enterprise_id: str) -> domain.Enterprise:
    history, _ = await store.load_events(stream_id(enterprise_id))
    return domain.Enterprise.from_history(history)
