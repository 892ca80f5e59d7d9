"""Long-running commands with progress (a 5,000-row import, a large zip of materials).

The command is started in the service process and answered at once with a job id (202); the client polls
`GET …/jobs/{id}` for `rows_done / total` and finally the result or the problems. The work itself decides and
appends its events in one go at the end, so a job that fails — or a process that dies — has written nothing
(a job found `running` at start-up is marked failed with a clear message).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from .errors import DomainError, NotFound
from .logging import get_logger
from .mongo import Database, Document

log = get_logger(__name__)

JOBS = "jobs"


class Progress:
    """Thread-safe progress counter that the work updates and a ticker copies to the job document."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.done = 0
        self.total: int | None = None
        self.stage = ""

    def __call__(self, done: int, total: int | None = None, stage: str | None = None) -> None:
        with self._lock:
            self.done = done
            if total is not None:
                self.total = total
            if stage is not None:
                self.stage = stage

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"done": self.done, "total": self.total, "stage": self.stage}


Work = Callable[[Progress], Awaitable[dict[str, Any]]]


class Jobs:
    def __init__(self, database: Database, *, tick_seconds: float = 0.5) -> None:
        self.db = database
        self.tick_seconds = tick_seconds
        self._tasks: set[asyncio.Task[None]] = set()

    async def recover(self) -> None:
        """Jobs left `running` by a previous process can never finish: say so."""
        await self.db[JOBS].update_many(
            {"state": "running"},
            {
                "$set": {
                    "state": "failed",
                    "finished_at": datetime.now(UTC),
                    "error": {
                        "code": "interrupted",
                        "message": "服务重启，处理被中断，未写入任何数据，请重新提交",
                    },
                }
            },
        )

    async def start(
        self, kind: str, owner: str | None, work: Work, *, meta: dict[str, Any] | None = None
    ) -> str:
        job_id = uuid.uuid4().hex
        await self.db[JOBS].insert_one(
            {
                "_id": job_id,
                "kind": kind,
                "owner": owner,
                "state": "running",
                "meta": meta or {},
                "progress": {"done": 0, "total": None, "stage": ""},
                "created_at": datetime.now(UTC),
            }
        )
        task = asyncio.get_running_loop().create_task(self._run(job_id, work), name=f"job-{kind}-{job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job_id

    async def _run(self, job_id: str, work: Work) -> None:
        progress = Progress()
        started = time.perf_counter()
        ticker = asyncio.get_running_loop().create_task(self._tick(job_id, progress))
        update: dict[str, Any]
        try:
            result = await work(progress)
            update = {"state": "succeeded", "result": result}
        except DomainError as exc:
            update = {
                "state": "failed",
                "error": {
                    "code": exc.code,
                    "message": exc.message,
                    "status": exc.status,
                    "errors": exc.details,
                },
            }
        except Exception as exc:
            log.exception("job.crashed", job_id=job_id, error=repr(exc))
            update = {
                "state": "failed",
                "error": {
                    "code": "internal_error",
                    "message": "处理时发生内部错误，未写入任何数据，请稍后重试",
                },
            }
        finally:
            ticker.cancel()
        update.update(
            progress=progress.snapshot(),
            finished_at=datetime.now(UTC),
            seconds=round(time.perf_counter() - started, 3),
        )
        await self.db[JOBS].update_one({"_id": job_id}, {"$set": update})

    async def _tick(self, job_id: str, progress: Progress) -> None:
        last: dict[str, Any] | None = None
        while True:
            await asyncio.sleep(self.tick_seconds)
            current = progress.snapshot()
            if current != last:
                await self.db[JOBS].update_one(
                    {"_id": job_id, "state": "running"}, {"$set": {"progress": current}}
                )
                last = current

    async def get(self, job_id: str, owner: str | None) -> Document:
        """The job, if `owner` started it (None: any owner, for administrators)."""
        query: dict[str, Any] = {"_id": job_id}
        if owner is not None:
            query["owner"] = owner
        doc = await self.db[JOBS].find_one(query)
        if doc is None:
            raise NotFound("未找到该处理任务", code="job_not_found")
        doc["job_id"] = doc.pop("_id")
        return doc

    async def wait_idle(self, timeout: float = 30.0) -> None:
        if self._tasks:
            await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), timeout)
