"""Every registered model: examples round-trip, frozen, tolerant of unknown fields."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date

import events
import pytest
from events import DomainEvent, certification, enrollment, exam, identity, payment, registration, registry
from pydantic import BaseModel, ValidationError

# The contract's own models: other packages' tests may register test-only events in the global registry.
MODELS = [model for model in registry.all_models() if model.__module__.startswith("events.")]
MakeExample = Callable[[type[BaseModel]], BaseModel]


def test_every_context_module_is_registered() -> None:
    declared = {
        obj
        for module in (registration, enrollment, payment, exam, certification, identity)
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, DomainEvent) and obj is not DomainEvent
    }
    assert declared == set(MODELS)


def test_every_model_is_exported() -> None:
    for model in MODELS:
        assert getattr(events, model.__name__) is model
        assert model.__name__ in events.__all__


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.type_name())
def test_round_trip(model: type[DomainEvent], make_example: MakeExample) -> None:
    original = make_example(model)
    dumped = original.model_dump(mode="json")
    assert model.model_validate(dumped) == original
    assert model.model_validate_json(original.model_dump_json()) == original
    assert registry.decode(model.type_name(), dumped) == original


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.type_name())
def test_frozen_and_ignores_unknown_fields(model: type[DomainEvent], make_example: MakeExample) -> None:
    original = make_example(model)
    field = next(iter(model.model_fields))
    with pytest.raises(ValidationError):
        setattr(original, field, "changed")
    data = {**original.model_dump(mode="json"), "added_by_a_newer_producer": 1}
    assert model.model_validate(data) == original


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.type_name())
def test_type_name_and_topic(model: type[DomainEvent]) -> None:
    assert model.type_name() == f"{model.context}.{model.event_name}.v{model.version}"
    assert model.event_name == model.__name__
    assert model.version == 1
    assert model.topic() == (model.topic_name or f"{model.context}.events")
    assert model.public  # internal events live in their service, not in the contract


def test_only_the_face_requests_have_a_topic_of_their_own() -> None:
    assert {m.type_name(): m.topic() for m in MODELS if m.topic_name} == {
        "exam.FaceCheckRequested.v1": "face.requests"
    }


def test_money_is_integer_fen() -> None:
    for model in [*MODELS, events.OrderLine]:
        for name, info in model.model_fields.items():
            if name.endswith("_fen"):
                assert info.annotation is int, f"{model.__name__}.{name}"
    assert events.OrderCreated.model_fields["amount_fen"].annotation is int


def test_dates_and_defaults() -> None:
    plan = events.TrainingPlanned.model_validate(
        {
            "plan_id": "p1",
            "applicant_id": "a1",
            "institution_id": "i1",
            "enterprise_id": "e1",
            "training_mode": "线上",
            "starts_on": "2024-05-06",
            "ends_on": "2024-05-20",
        }
    )
    assert plan.starts_on == date(2024, 5, 6)
    assert plan.place == ""
    registered = events.EnterpriseRegistered(
        enterprise_id="e1", credit_code="91330100MA2XXXXX0X", name="杭州建工有限公司", city="杭州市"
    )
    assert registered.documents == []
    assert registered.is_branch is False
    assert registered.preferred_institution_id is None
    passed = events.ExamPassed.model_validate(
        {
            "attempt_id": "t1",
            "applicant_id": "a1",
            "enterprise_id": "e1",
            "institution_id": "i1",
            "id_number": "330106199001011234",
            "name": "张三",
            "position": "施工员",
            "score": 80,
            "pass_mark": 60,
        }
    )
    assert passed.full_marks == 100


def test_required_fields_are_enforced() -> None:
    with pytest.raises(ValidationError) as info:
        events.OrderPaid.model_validate({"order_id": "o1"})
    missing = {error["loc"][0] for error in info.value.errors() if error["type"] == "missing"}
    assert missing == {"order_number", "enterprise_id", "institution_id", "applicant_ids", "amount_fen"}
