from __future__ import annotations

from datetime import date, timedelta

import pytest
from certification.domain import certificate as domain
from certification.domain import sheets
from certification.domain.certificate import Certificate
from certification.domain.hours import HoursRules, cycle
from events import (
    CertificateIssued,
    CertificateLapsed,
    CertificateRevoked,
    DomainEvent,
    ExamPassed,
    LegacyCertificateImported,
)
from servicekit.errors import Conflict, DomainError, NotFound

RULES = HoursRules()
TODAY = date(2026, 11, 25)
HOLDER = "330106199005170019"


def legacy(issued_on: date = date(2016, 5, 20), imported_on: date | None = TODAY) -> list[DomainEvent]:
    return [
        LegacyCertificateImported(
            certificate_id="old",
            certificate_number="ZJ-SG-2016-001",
            id_number=HOLDER,
            holder_name="张三",
            gender="男",
            position="施工员",
            specialisation="土建施工",
            issued_on=issued_on,
            issuer="浙江省建设厅",
            imported_on=imported_on,
        )
    ]


def add_hours(history: list[DomainEvent], day: date, hours: float, kind: str = "professional") -> None:
    history += domain.record_hours(
        history,
        record_id=f"r{len(history)}",
        institution_id="inst-ce",
        studied_on=day,
        hours=hours,
        kind=kind,
        course="新规范",
        recorded_by="acct",
        today=TODAY,
        rules=RULES,
        trains_holder=True,
    )


def test_issue_once_per_attempt() -> None:
    passed = ExamPassed(
        attempt_id="a1",
        applicant_id="ap1",
        enterprise_id="ent",
        institution_id="inst",
        id_number=HOLDER,
        name="张三",
        gender="男",
        position="施工员",
        specialisation="土建施工",
        score=80,
        pass_mark=60,
        head_photo_bucket="enrollment",
        head_photo_key="photos/x.jpg",
    )
    (issued,) = domain.issue([], passed=passed, certificate_id="c1", number="N", issued_on=TODAY)
    assert isinstance(issued, CertificateIssued)
    assert issued.enterprise_id == "ent" and issued.head_photo_key == "photos/x.jpg"
    assert domain.issue([issued], passed=passed, certificate_id="c1", number="N", issued_on=TODAY) == []
    cert = Certificate.from_history([issued])
    assert cert.state == "valid" and cert.state_label == "有效" and not cert.legacy


def test_hours_are_recorded_only_on_a_valid_certificate_and_once() -> None:
    history = legacy()
    add_hours(history, date(2026, 6, 1), 8)
    assert len(history) == 2
    again = domain.record_hours(
        history,
        record_id="r1",
        institution_id="inst-ce",
        studied_on=date(2026, 6, 1),
        hours=8,
        kind="professional",
        course="新规范",
        recorded_by="acct",
        today=TODAY,
        rules=RULES,
        trains_holder=True,
    )
    assert again == []  # the same record id: nothing new
    with pytest.raises(DomainError) as refused:
        add_hours(history, TODAY + timedelta(days=1), 13)
    assert {d["code"] for d in refused.value.details} == {"date_in_future", "invalid_hours"}
    history += domain.revoke(history, reason="违规", source="admin", revoked_by="root")
    with pytest.raises(Conflict):
        add_hours(history, date(2026, 6, 2), 8)


def test_renewal_needs_the_hours_and_the_holder() -> None:
    history = legacy()
    add_hours(history, date(2026, 6, 1), 8)

    def renew(holder: str = HOLDER) -> domain.Renewal:
        return domain.renew(
            history,
            holder_id_number=holder,
            new_certificate_id="new",
            new_number="332026010000001X",
            today=TODAY,
            rules=RULES,
            institution_id="inst-ce",
            institution_name="继续教育学院",
        )

    with pytest.raises(DomainError) as short:
        renew()
    assert short.value.code == "renewal_hours_insufficient"
    for i in range(2, 5):
        add_hours(history, date(2026, 6, i), 8, "professional" if i < 4 else "general")
    with pytest.raises(NotFound):
        renew("11010519491231002X")
    renewal = renew()
    assert renewal.issued.renews == "old" and renewal.issued.issued_on == TODAY
    assert renewal.renewed.previous_certificate_id == "old" and renewal.renewed.certificate_id == "new"
    old = Certificate.from_history([*history, renewal.renewed])
    assert old.state == "superseded" and old.renewed_by_number == "332026010000001X"
    new = Certificate.from_history([renewal.issued])
    assert new.state == "valid" and new.renews == "old" and new.institution_name == "继续教育学院"
    with pytest.raises(Conflict):  # an electronic certificate is not renewed
        domain.renew(
            [renewal.issued],
            holder_id_number=HOLDER,
            new_certificate_id="n2",
            new_number="x",
            today=TODAY,
            rules=RULES,
            institution_id="i",
            institution_name="i",
        )


def test_lapse_then_revoke_and_idempotence() -> None:
    issued = date(2023, 11, 1)
    history = legacy(issued, imported_on=None)  # judged from the issue date
    two = cycle(issued, 2, RULES)
    assert domain.lapse(history, today=two.ends_on, rules=RULES) == []  # not two complete cycles yet
    (lapsed,) = domain.lapse(history, today=two.ends_on + timedelta(days=1), rules=RULES)
    assert isinstance(lapsed, CertificateLapsed) and lapsed.hours == 0 and lapsed.required_hours == 64
    history.append(lapsed)
    assert domain.lapse(history, today=two.ends_on + timedelta(days=1), rules=RULES) == []
    assert Certificate.from_history(history).state_label == "已失效"
    (revoked,) = domain.revoke(
        history, reason="列入黑名单", source="blacklist", revoked_by="x", blacklist_id="b"
    )
    assert isinstance(revoked, CertificateRevoked)
    history.append(revoked)
    assert domain.revoke(history, reason="again", source="blacklist", revoked_by="x") == []
    with pytest.raises(Conflict):
        domain.revoke(history, reason="again", source="admin", revoked_by="x")
    assert Certificate.from_history(history).state_label == "已注销"
    with pytest.raises(DomainError):
        domain.revoke(legacy(), reason="  ", source="admin", revoked_by="x")


def test_legacy_sheet_reports_every_problem() -> None:
    header = list(sheets.LEGACY_COLUMNS)
    good = ["ZJ-001", "张三", "男", HOLDER, "施工员", "2016-05-20", "土建施工", "浙江省建设厅"]
    rows = [
        good,
        ["ZJ-001", "李四", "女", HOLDER, "安全员", "2016-13-01", "土建施工", ""],
        [None] * 8,
        ["ZJ-003", "", "男", "330106199005170018", "厨师", "2017-01-01", None, None],
    ]
    records, problems = sheets.legacy_rows(header, rows, existing_numbers=set(), today=TODAY)
    found = {(p.row, p.column, p.code) for p in problems}
    assert (3, "证书编号", "duplicate_in_sheet") in found
    assert (3, "性别", "gender_mismatch") in found
    assert (3, "发证日期", "invalid_date") in found
    assert (3, "专业方向", "invalid_specialisation") in found
    assert (5, "姓名", "required") in found and (5, "身份证号", "invalid_id_number") in found
    assert (5, "岗位", "invalid_position") in found
    assert [r.row for r in records] == [2]
    _, missing = sheets.legacy_rows(header[:-3], [good], existing_numbers=set(), today=TODAY)
    assert {p.code for p in missing} == {"missing_column"}
    _, exists = sheets.legacy_rows(header, [good], existing_numbers={"ZJ-001"}, today=TODAY)
    assert [p.code for p in exists] == ["certificate_exists"]


def test_hours_sheet_checks_the_certificate_and_the_holder() -> None:
    facts = {
        "N1": sheets.CertificateFacts("c1", HOLDER, date(2020, 1, 1), "valid", "有效"),
        "N2": sheets.CertificateFacts("c2", HOLDER, date(2020, 1, 1), "revoked", "已注销"),
    }
    header = list(sheets.HOURS_COLUMNS)
    rows: list[list[object]] = [
        ["n1", HOLDER, "2026-03-01", 4, "专业科目", "新规范"],
        ["N1", "11010519491231002X", "2026/3/2", "2.5", "公共科目", "法规"],
        ["N2", HOLDER, "2026-03-01", 4, "专业科目", "新规范"],
        ["N9", HOLDER, "2027-03-01", 0.3, "其他", ""],
    ]
    records, problems = sheets.hours_rows(header, rows, facts, today=TODAY, rules=RULES)
    found = {(p.row, p.code) for p in problems}
    assert found == {
        (3, "holder_mismatch"),
        (4, "certificate_not_valid"),
        (5, "certificate_not_found"),
        (5, "invalid_kind"),
        (5, "date_in_future"),
        (5, "invalid_hours"),
        (5, "required"),
    }
    assert [(r.row, r.certificate_id, r.hours, r.kind) for r in records] == [(2, "c1", 4.0, "professional")]


def _record(
    history: list[DomainEvent], institution_id: str | None, trains_holder: bool = False
) -> list[DomainEvent]:
    return domain.record_hours(
        history,
        record_id=f"r{len(history)}",
        institution_id=institution_id,
        studied_on=date(2026, 6, 1),
        hours=0.5,
        kind="general",
        course="新规范",
        recorded_by="acct",
        today=TODAY,
        rules=RULES,
        trains_holder=trains_holder,
    )


def test_only_the_training_institution_or_the_administrator_records_hours() -> None:
    from servicekit.errors import Forbidden

    imported = legacy()
    imported[0] = imported[0].model_copy(update={"imported_by": "inst-import"})
    by_admin = legacy()
    by_admin[0] = by_admin[0].model_copy(update={"imported_by": "admin:root"})
    for history, own in ((imported, "inst-import"), (by_admin, None)):
        with pytest.raises(Forbidden) as refused:
            _record(history, "inst-stranger")
        assert refused.value.code == "not_training_institution" and "不能登记" in refused.value.message
        with pytest.raises(Forbidden):
            _record(history, "")
        if own is not None:
            (mine,) = _record(history, own)
            assert mine.institution_id == own
        (ce,) = _record(history, "inst-ce", trains_holder=True)
        assert ce.institution_id == "inst-ce"
        (admin,) = _record(history, None)
        assert admin.institution_id == (own or "")
    cert = Certificate.from_history(imported)
    assert cert.own_institution == "inst-import"
    assert Certificate.from_history(by_admin).own_institution is None
