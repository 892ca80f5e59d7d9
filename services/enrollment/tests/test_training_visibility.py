"""Who sees an applicant's training arrangement (GET /api/enrollment/applicants/{id}/training): the enterprise
that enrolled them, their institution, the person themselves by ID number, the administrator; nobody else."""

from __future__ import annotations

from enrollment.api.training import may_see_training
from servicekit.auth import Identity, Role

OWNERS = {"enterprise_id": "ent-1", "institution_id": "inst-1", "id_number": "330106199005170019"}


def test_owners_see_the_training() -> None:
    assert may_see_training(Identity("a", Role.ENTERPRISE, "ent-1"), **OWNERS)
    assert may_see_training(Identity("b", Role.INSTITUTION, "inst-1"), **OWNERS)
    assert may_see_training(Identity("c", Role.PERSON, "330106199005170019"), **OWNERS)
    assert may_see_training(Identity("d", Role.ADMIN), **OWNERS)


def test_others_do_not() -> None:
    assert not may_see_training(Identity("e", Role.PERSON, "330106199005170027"), **OWNERS)
    assert not may_see_training(Identity("f", Role.PERSON, None), **OWNERS)
    # a person whose ID number happens to equal an organisation's id is still only a person
    assert not may_see_training(Identity("g", Role.PERSON, "inst-1"), **OWNERS)
    assert not may_see_training(Identity("h", Role.ENTERPRISE, "ent-2"), **OWNERS)
    assert not may_see_training(Identity("i", Role.INSTITUTION, "ent-1"), **OWNERS)
    assert not may_see_training(Identity("j", Role.REVIEWER, "ent-1"), **OWNERS)
