from __future__ import annotations

import pytest
from events import ExamFailed, ExamPassed
from exam.domain.attempt import Candidate, ScoringRules, record_result
from servicekit.errors import Conflict, DomainError

CANDIDATE = Candidate(
    applicant_id="a",
    enterprise_id="e",
    institution_id="i",
    id_number="x",
    name="张三",
    gender="男",
    position="施工员",
)


@pytest.mark.parametrize(("score", "passed"), [(60, True), (59, False), (100, True), (0, False)])
def test_pass_mark(score: int, passed: bool) -> None:
    events = record_result([], attempt_id="t", candidate=CANDIDATE, score=score, rules=ScoringRules())
    assert isinstance(events[0], ExamPassed if passed else ExamFailed)


def test_configurable_rules_and_bounds() -> None:
    rules = ScoringRules(full_marks=120, pass_mark=72)
    assert isinstance(
        record_result([], attempt_id="t", candidate=CANDIDATE, score=71, rules=rules)[0], ExamFailed
    )
    with pytest.raises(DomainError):
        record_result([], attempt_id="t", candidate=CANDIDATE, score=121, rules=rules)
    first = record_result([], attempt_id="t", candidate=CANDIDATE, score=80, rules=rules)
    with pytest.raises(Conflict):
        record_result(first, attempt_id="t", candidate=CANDIDATE, score=80, rules=rules)
