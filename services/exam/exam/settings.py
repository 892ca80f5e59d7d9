from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator
from servicekit.settings import ServiceSettings

from .domain.paper import KindRule, PaperRule

# EXAM_DEMO_TIMING=1: the exam's length and the submission rule when trying the exam without waiting
DEMO_DURATION_MINUTES = 10
DEMO_EARLIEST_SUBMIT_MINUTES = 1


class KindRuleSetting(BaseModel):
    """How many questions of one kind a paper has, and the points of each (EXAM_PAPER_RULE)."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=0)
    points: int = Field(ge=1)


class PaperRuleSetting(BaseModel):
    """EXAM_PAPER_RULE, e.g. {"single": {"count": 20, "points": 2}, "multiple": {"count": 10, "points": 3},
    "judge": {"count": 15, "points": 2}, "multiple_partial_credit": false} (100 points)."""

    model_config = ConfigDict(extra="forbid")

    single: KindRuleSetting = KindRuleSetting(count=20, points=2)
    multiple: KindRuleSetting = KindRuleSetting(count=10, points=3)
    judge: KindRuleSetting = KindRuleSetting(count=15, points=2)
    multiple_partial_credit: bool = False

    @model_validator(mode="after")
    def _some_questions(self) -> PaperRuleSetting:
        if self.single.count + self.multiple.count + self.judge.count == 0:
            raise ValueError("EXAM_PAPER_RULE: a paper needs at least one question")
        return self

    def rule(self) -> PaperRule:
        return PaperRule(
            single=KindRule(self.single.count, self.single.points),
            multiple=KindRule(self.multiple.count, self.multiple.points),
            judge=KindRule(self.judge.count, self.judge.points),
            multiple_partial_credit=self.multiple_partial_credit,
        )


class ExamSettings(ServiceSettings):
    service_name: str = Field(default="exam", validation_alias="SERVICE_NAME")
    exam_full_marks: int = Field(default=100, validation_alias="EXAM_FULL_MARKS")
    exam_pass_mark: int = Field(default=60, validation_alias="EXAM_PASS_MARK")
    # the timed exam (the server's clock runs from ExamStarted.started_at)
    exam_duration_minutes: int = Field(default=120, ge=1, validation_alias="EXAM_DURATION_MINUTES")
    exam_earliest_submit_minutes: int = Field(
        default=30, ge=0, validation_alias="EXAM_EARLIEST_SUBMIT_MINUTES"
    )
    # check-in: the window around the session's start, and the face-check tries before a proctor override
    exam_checkin_opens_minutes: int = Field(default=60, ge=0, validation_alias="EXAM_CHECKIN_OPENS_MINUTES")
    exam_checkin_closes_minutes: int = Field(default=30, ge=0, validation_alias="EXAM_CHECKIN_CLOSES_MINUTES")
    # starting the exam opens this long before the session's start (0: at the start; see
    # docs/adr/0001-exam-clock.md) and closes with check-in (EXAM_CHECKIN_CLOSES_MINUTES after the start)
    exam_start_opens_before_minutes: int = Field(
        default=0, ge=0, validation_alias="EXAM_START_OPENS_BEFORE_MINUTES"
    )
    exam_max_face_attempts: int = Field(default=3, ge=1, validation_alias="EXAM_MAX_FACE_ATTEMPTS")
    exam_face_check_timeout_seconds: int = Field(
        default=60, ge=1, validation_alias="EXAM_FACE_CHECK_TIMEOUT_SECONDS"
    )
    exam_frame_max_bytes: int = Field(default=5 * 1024 * 1024, validation_alias="EXAM_FRAME_MAX_BYTES")
    exam_max_seats: int = Field(default=500, ge=1, validation_alias="EXAM_MAX_SEATS")
    # automatic submission at the deadline: how often the sweeper looks (seconds; 0 turns it off)
    exam_sweep_seconds: float = Field(default=5.0, ge=0, validation_alias="EXAM_SWEEP_SECONDS")
    # violations and the blacklist
    exam_blacklist_days: int = Field(default=365, ge=1, validation_alias="EXAM_BLACKLIST_DAYS")
    exam_evidence_max_bytes: int = Field(default=10 * 1024 * 1024, validation_alias="EXAM_EVIDENCE_MAX_BYTES")
    exam_evidence_max_files: int = Field(default=5, ge=0, validation_alias="EXAM_EVIDENCE_MAX_FILES")
    # in-exam (dynamic) face verification (docs/live-face-checks.md): the exam page sends a frame every
    # interval ± jitter seconds (a frame sooner than a third of the interval after the previous one is
    # refused; the jitter is capped at half the interval); this many consecutive mismatches let the
    # proctor record a violation; frames are deleted this many days after they were taken (a violation's
    # evidence is kept)
    exam_live_check_interval_seconds: int = Field(
        default=60, ge=3, validation_alias="EXAM_LIVE_CHECK_INTERVAL_SECONDS"
    )
    exam_live_check_jitter_seconds: int = Field(
        default=15, ge=0, validation_alias="EXAM_LIVE_CHECK_JITTER_SECONDS"
    )
    exam_live_mismatch_violation_threshold: int = Field(
        default=3, ge=1, validation_alias="EXAM_LIVE_MISMATCH_VIOLATION_THRESHOLD"
    )
    exam_live_frame_retention_days: int = Field(
        default=30, ge=1, validation_alias="EXAM_LIVE_FRAME_RETENTION_DAYS"
    )
    # tests only: a file holding seconds to add to the exam's clock (the platform tests move time forward
    # instead of waiting 30 or 120 minutes); unset in production
    exam_test_clock_offset_file: str | None = Field(
        default=None, validation_alias="EXAM_TEST_CLOCK_OFFSET_FILE"
    )
    # demo timing (development only, refused with PLATFORM_ENV=production): a DEMO_DURATION_MINUTES exam,
    # submission after DEMO_EARLIEST_SUBMIT_MINUTES, whatever EXAM_DURATION_MINUTES and
    # EXAM_EARLIEST_SUBMIT_MINUTES say; every other rule unchanged
    exam_demo_timing: bool = Field(default=False, validation_alias="EXAM_DEMO_TIMING")
    # question banks and papers (see the README: 题库与组卷)
    exam_paper_rule: PaperRuleSetting = Field(
        default_factory=PaperRuleSetting, validation_alias="EXAM_PAPER_RULE"
    )
    exam_bank_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1, validation_alias="EXAM_BANK_MAX_BYTES")
    exam_bank_max_questions: int = Field(default=3000, ge=1, validation_alias="EXAM_BANK_MAX_QUESTIONS")

    @model_validator(mode="after")
    def _demo_timing(self) -> ExamSettings:
        if not self.exam_demo_timing:
            return self
        if self.environment == "production":
            raise ValueError(
                "EXAM_DEMO_TIMING is on with PLATFORM_ENV=production: demo timing "
                f"(a {DEMO_DURATION_MINUTES}-minute exam, submission after "
                f"{DEMO_EARLIEST_SUBMIT_MINUTES} minute) is for trying the exam in development only; "
                "unset EXAM_DEMO_TIMING"
            )
        self.exam_duration_minutes = DEMO_DURATION_MINUTES
        self.exam_earliest_submit_minutes = DEMO_EARLIEST_SUBMIT_MINUTES
        return self

    def paper_rule(self) -> PaperRule:
        return self.exam_paper_rule.rule()
