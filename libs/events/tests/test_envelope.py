"""CloudEvents binary-mode envelope: round trip through Kafka records, and rejection of malformed ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from events import (
    EnterpriseRegistered,
    Envelope,
    EventRegistry,
    MalformedEnvelope,
    OrderPaid,
    UnknownEventType,
    UploadedDocument,
)
from pydantic import ValidationError

EVENT = EnterpriseRegistered(
    enterprise_id="ent-1",
    credit_code="91330100MA2XXXXX0X",
    name="杭州市西湖建设工程有限公司",
    legal_representative="张三",
    contact_mobile="13800000000",
    address="浙江省杭州市西湖区文三路 1 号",
    city="杭州市",
    documents=[
        UploadedDocument(
            kind="营业执照", object_key="ent-1/license.pdf", content_type="application/pdf", size=1
        )
    ],
)
TIME = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def make_envelope(**overrides: object) -> Envelope:
    options: dict[str, object] = {
        "subject": "ent-1",
        "source": "registration",
        "correlation_id": "corr-1",
        "causation_id": "cmd-1",
        "id": "evt-1",
        "time": TIME,
    }
    options.update(overrides)
    return Envelope.for_event(EVENT, **options)


def record(**drop_or_set: bytes | None) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """A valid record, with some headers replaced (bytes) or dropped (None)."""
    key, value, headers = make_envelope().to_kafka()
    names = {name for name, _ in headers}
    kept = [
        (n, drop_or_set.get(n, v)) for n, v in headers if not (n in drop_or_set and drop_or_set[n] is None)
    ]
    added = [(n, v) for n, v in drop_or_set.items() if n not in names and v is not None]
    return key, value, [(n, v) for n, v in kept + added if v is not None]


def test_for_event() -> None:
    envelope = make_envelope()
    assert envelope.type == "registration.EnterpriseRegistered.v1"
    assert envelope.data == EVENT.model_dump(mode="json")
    assert envelope.subject == "ent-1"
    assert envelope.time == TIME


def test_defaults_id_and_time() -> None:
    first = Envelope.for_event(EVENT, subject="ent-1", source="registration")
    second = Envelope.for_event(EVENT, subject="ent-1", source="registration")
    assert len(first.id) == 32 and int(first.id, 16) >= 0
    assert first.id != second.id
    assert first.time.tzinfo is not None and first.time.utcoffset() == timedelta(0)
    assert first.correlation_id is None and first.causation_id is None


def test_to_kafka() -> None:
    key, value, headers = make_envelope().to_kafka()
    assert key == b"ent-1"
    assert json.loads(value) == EVENT.model_dump(mode="json")
    assert "杭州市西湖建设工程有限公司".encode() in value  # UTF-8, not \u escapes
    assert b": " not in value and b", " not in value  # compact
    assert dict(headers) == {
        "ce_specversion": b"1.0",
        "ce_id": b"evt-1",
        "ce_type": b"registration.EnterpriseRegistered.v1",
        "ce_source": b"registration",
        "ce_time": b"2024-05-06T07:08:09.123456Z",
        "ce_subject": b"ent-1",
        "content-type": b"application/json",
        "ce_correlationid": b"corr-1",
        "ce_causationid": b"cmd-1",
    }
    assert all(isinstance(name, str) and isinstance(v, bytes) for name, v in headers)


def test_round_trip() -> None:
    envelope = make_envelope()
    restored = Envelope.from_kafka(*envelope.to_kafka())
    assert restored == envelope
    assert restored.correlation_id == "corr-1" and restored.causation_id == "cmd-1"
    assert restored.decode() == EVENT
    assert restored.decode().name == "杭州市西湖建设工程有限公司"


def test_round_trip_without_correlation() -> None:
    envelope = make_envelope(correlation_id=None, causation_id=None)
    _, _, headers = envelope.to_kafka()
    assert {"ce_correlationid", "ce_causationid"}.isdisjoint(name for name, _ in headers)
    assert Envelope.from_kafka(*envelope.to_kafka()) == envelope


@pytest.mark.parametrize(
    "time",
    [
        datetime(2024, 5, 6, 15, 8, 9, tzinfo=timezone(timedelta(hours=8))),
        datetime(2024, 5, 6, 7, 8, 9),  # naive: taken as UTC
        datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
    ],
)
def test_time_is_utc(time: datetime) -> None:
    envelope = make_envelope(time=time)
    assert envelope.time == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert envelope.time.utcoffset() == timedelta(0)
    assert dict(envelope.to_kafka()[2])["ce_time"] == b"2024-05-06T07:08:09Z"
    assert Envelope.from_kafka(*envelope.to_kafka()) == envelope


def test_other_producers_time_formats() -> None:
    for text, expected in [
        (b"2024-05-06T15:08:09+08:00", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        (b"2024-05-06T07:08:09.123456789Z", datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)),
        (b"2024-05-06t07:08:09.5z", datetime(2024, 5, 6, 7, 8, 9, 500000, tzinfo=UTC)),
    ]:
        assert Envelope.from_kafka(*record(ce_time=text)).time == expected


def test_unknown_headers_ignored_and_key_fallback() -> None:
    key, value, headers = record(ce_subject=None, traceparent=b"00-abc-def-01", dlq_error=b"boom")
    envelope = Envelope.from_kafka(key, value, headers)
    assert envelope == make_envelope()
    assert Envelope.from_kafka(None, value, make_envelope().to_kafka()[2]).subject == "ent-1"


def test_content_type_with_charset_accepted() -> None:
    assert (
        Envelope.from_kafka(*record(**{"content-type": b"application/json; charset=utf-8"}))
        == make_envelope()
    )


def test_frozen() -> None:
    with pytest.raises(ValidationError):
        make_envelope().subject = "other"


@pytest.mark.parametrize("header", ["ce_id", "ce_type", "ce_source", "ce_time"])
def test_missing_required_header(header: str) -> None:
    with pytest.raises(MalformedEnvelope, match=header):
        Envelope.from_kafka(*record(**{header: None}))


def test_empty_required_header() -> None:
    with pytest.raises(MalformedEnvelope, match="ce_id"):
        Envelope.from_kafka(*record(ce_id=b""))


def test_no_headers_at_all() -> None:
    with pytest.raises(MalformedEnvelope, match="ce_id, ce_type, ce_source, ce_time"):
        Envelope.from_kafka(b"k", b"{}", None)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'"text"', "expected a JSON object"),
        (b"null", "expected a JSON object"),
        (b"\xff\xfe", "not JSON"),
        (None, "tombstone"),
    ],
)
def test_bad_value(value: bytes | None, message: str) -> None:
    key, _, headers = record()
    with pytest.raises(MalformedEnvelope, match=message):
        Envelope.from_kafka(key, value, headers)


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        ("ce_time", b"yesterday", "ce_time"),
        ("ce_time", b"2024-05-06T07:08:09", "ce_time"),  # no offset
        ("ce_time", b"2024-13-06T07:08:09Z", "ce_time"),
        ("ce_time", b"1715000000", "ce_time"),
        ("ce_specversion", b"0.3", "specversion"),
        ("content-type", b"application/avro", "content-type"),
        ("ce_type", b"\xff", "not UTF-8"),
    ],
)
def test_bad_header(header: str, value: bytes, message: str) -> None:
    with pytest.raises(MalformedEnvelope, match=message):
        Envelope.from_kafka(*record(**{header: value}))


def test_no_subject() -> None:
    _, value, headers = record(ce_subject=None)
    with pytest.raises(MalformedEnvelope, match="subject"):
        Envelope.from_kafka(None, value, headers)


def test_malformed_is_a_value_error() -> None:
    assert issubclass(MalformedEnvelope, ValueError)


def test_decode_unknown_type_and_topic() -> None:
    envelope = make_envelope()
    assert envelope.topic == "registration.events"
    with pytest.raises(UnknownEventType):
        envelope.decode(EventRegistry())


def test_decode_invalid_data() -> None:
    envelope = Envelope(type=OrderPaid.type_name(), source="payment", subject="o1", data={"order_id": "o1"})
    with pytest.raises(ValidationError):
        envelope.decode()
