"""The face worker's settings: the same connection variables as every service, plus the face rules."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import Field
from servicekit.settings import ServiceSettings

from .analysis import FaceRules

GROUP_ID = "exam.faceworker"


class FaceWorkerSettings(ServiceSettings):
    """KAFKA_BOOTSTRAP_SERVERS, S3_* (and LOG_*) as for the services; no MongoDB: the worker keeps nothing."""

    service_name: str = Field(default="faceworker", validation_alias="SERVICE_NAME")
    face_match_threshold: float = Field(default=0.6, validation_alias="FACE_MATCH_THRESHOLD")
    face_replay_distance: float = Field(default=0.15, validation_alias="FACE_REPLAY_DISTANCE")
    face_replay_similarity: float = Field(default=0.70, validation_alias="FACE_REPLAY_SIMILARITY")
    # The frame's faces searched first on a copy this size (px, e.g. 320; 0 = off): analysis.py, "Speed".
    face_detect_max_side: int = Field(default=0, ge=0, validation_alias="FACE_DETECT_MAX_SIDE")
    # Head photos kept prepared (embedding and chip, ~24 kB each), least recently used out; 0 = none.
    face_reference_cache_size: int = Field(default=4096, ge=0, validation_alias="FACE_REFERENCE_CACHE_SIZE")
    # The name in FaceChecked.worker and the logs; default `<hostname>-<pid>`.
    face_worker_name: str | None = Field(default=None, validation_alias="FACE_WORKER_NAME")
    # Written (the worker's name) once the models are loaded and the consumer started (the launcher waits).
    face_worker_ready_file: Path | None = Field(default=None, validation_alias="FACE_WORKER_READY_FILE")
    # FOR TESTS ONLY: while this file exists, every check first sleeps the seconds written in it (the crash
    # test uses it to kill a worker in the middle of a check). Unset in production.
    face_worker_test_delay_file: Path | None = Field(
        default=None, validation_alias="FACE_WORKER_TEST_DELAY_FILE"
    )

    def worker_name(self) -> str:
        return self.face_worker_name or f"{socket.gethostname()}-{os.getpid()}"

    def rules(self) -> FaceRules:
        return FaceRules(
            match_threshold=self.face_match_threshold,
            replay_distance=self.face_replay_distance,
            replay_similarity=self.face_replay_similarity,
            detect_max_side=self.face_detect_max_side,
        )

    def test_delay_seconds(self) -> float:
        path = self.face_worker_test_delay_file
        if path is None:
            return 0.0
        try:
            return max(0.0, float(path.read_text().strip() or 0))
        except (OSError, ValueError):
            return 0.0
