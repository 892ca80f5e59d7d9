"""Who may follow an event (pure): its scope keys, resolved when the event is appended to the feed log.

- `province`: every event (the administrator).
- `city:<city>`: the events of an enterprise of that city and of its staff (the city authority, a reviewer
  whose `Identity.city` is that city). Registration events carry `city`; the others name an enterprise whose
  city the feed learnt from registration's events (`enterprise:<id>` lookups).
- `institution:<id>`: the events of the institution's applicants, orders, sessions, certificates, offers.

An event names its enterprise and institution directly (`enterprise_id`, `institution_id`) or through an id
the feed learnt from an earlier event (lookups kept by the feed itself):

| lookup | learnt from |
|---|---|
| `enterprise:<enterprise_id>` → city | EnterpriseRegistered / Resubmitted / Approved (`city`) |
| `applicant:<applicant_id>` → enterprise, institution | ApplicantsImported (every row) |
| `candidate:<candidate_id>` → enterprise, institution | ExamScheduled |
| `certificate:<id>` → enterprise, institution | CertificateIssued; CertificateRenewed (the previous one's) |

An event that names only a person (`id_number`: a blacklisting, a legacy certificate, a document upload) takes
the enterprises and institutions the gateway's `persons` read model holds for that ID number. An event none of
this resolves is in the `province` scope only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from events.reference import normalize_city

PROVINCE = "province"

# Ids an event may carry that a lookup resolves to enterprises and institutions.
REFERENCE_FIELDS: tuple[tuple[str, str], ...] = (
    ("applicant_id", "applicant"),
    ("candidate_id", "candidate"),
    ("certificate_id", "certificate"),
    ("previous_certificate_id", "certificate"),
)


def city_scope(city: str) -> str:
    """`city:杭州` (the short form events use; `杭州市` is the same city)."""
    return f"city:{normalize_city(city)}"


def institution_scope(institution_id: str) -> str:
    return f"institution:{institution_id}"


def enterprise_key(enterprise_id: str) -> str:
    return f"enterprise:{enterprise_id}"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class Resolution:
    scopes: list[str]
    enterprise_ids: list[str] = field(default_factory=list)
    institution_ids: list[str] = field(default_factory=list)


def lookup_keys(data: Mapping[str, Any]) -> list[str]:
    """The lookups resolving `data` may need (read before `resolve`)."""
    keys = []
    for name, kind in REFERENCE_FIELDS:
        value = _text(data.get(name))
        if value:
            keys.append(f"{kind}:{value}")
    enterprise = _text(data.get("enterprise_id"))
    if enterprise:
        keys.append(enterprise_key(enterprise))
    return keys


def needs_person(data: Mapping[str, Any], lookups: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether only the person (`id_number`) can resolve `data` (then `resolve` takes the person)."""
    if not _text(data.get("id_number")):
        return False
    enterprises, institutions = _direct(data, lookups)
    return not enterprises and not institutions


def _direct(data: Mapping[str, Any], lookups: Mapping[str, Mapping[str, Any]]) -> tuple[set[str], set[str]]:
    enterprises: set[str] = set()
    institutions: set[str] = set()
    if value := _text(data.get("enterprise_id")):
        enterprises.add(value)
    if value := _text(data.get("institution_id")):
        institutions.add(value)
    for name, kind in REFERENCE_FIELDS:
        value = _text(data.get(name))
        found = lookups.get(f"{kind}:{value}") if value else None
        if found:
            enterprises.update(_texts(found.get("enterprise_ids")))
            institutions.update(_texts(found.get("institution_ids")))
    return enterprises, institutions


def _texts(values: Any) -> list[str]:
    return [v for v in (values or []) if isinstance(v, str) and v]


def resolve(
    data: Mapping[str, Any],
    lookups: Mapping[str, Mapping[str, Any]],
    person: Mapping[str, Any] | None = None,
) -> Resolution:
    """The scope keys of an event's `data` (province first, then cities, then institutions, sorted)."""
    enterprises, institutions = _direct(data, lookups)
    if not enterprises and not institutions and person:
        enterprises.update(_texts(person.get("enterprise_ids")))
        institutions.update(_texts(person.get("institution_ids")))
    cities: set[str] = set()
    own_city = _text(data.get("city"))
    if own_city and _text(data.get("enterprise_id")):  # registration's events: the enterprise's own city
        cities.add(own_city)
    for enterprise in enterprises:
        found = lookups.get(enterprise_key(enterprise))
        if found and _text(found.get("city")):
            cities.add(_text(found.get("city")))
    scopes = [PROVINCE, *sorted({city_scope(c) for c in cities})]
    scopes += [institution_scope(i) for i in sorted(institutions)]
    return Resolution(scopes, sorted(enterprises), sorted(institutions))


def learnt(
    event_type: str, data: Mapping[str, Any], resolution: Resolution | None = None
) -> dict[str, dict[str, Any]]:
    """The lookups an event teaches (key → document), before (`resolution` None) or after it is resolved.

    Before: what the event says itself (an enterprise's city, an import's applicants, a scheduled candidate,
    an issued certificate). After: what only the resolution knows (a renewed certificate's parties)."""
    name = event_type.split(".")[1] if event_type.count(".") >= 2 else event_type
    enterprise = _text(data.get("enterprise_id"))
    institution = _text(data.get("institution_id"))
    parties = {
        "enterprise_ids": [enterprise] if enterprise else [],
        "institution_ids": [institution] if institution else [],
    }
    found: dict[str, dict[str, Any]] = {}
    if resolution is not None:
        if name == "CertificateRenewed" and _text(data.get("certificate_id")):
            found[f"certificate:{_text(data.get('certificate_id'))}"] = {
                "enterprise_ids": resolution.enterprise_ids,
                "institution_ids": resolution.institution_ids,
            }
        return found
    city = _text(data.get("city"))
    if enterprise and city and name.startswith("Enterprise"):
        found[enterprise_key(enterprise)] = {"city": normalize_city(city)}
    if name == "ApplicantsImported":
        for row in data.get("applicants") or []:
            applicant = _text(row.get("applicant_id")) if isinstance(row, Mapping) else ""
            if applicant:
                found[f"applicant:{applicant}"] = parties
    elif name == "ExamScheduled" and _text(data.get("candidate_id")):
        found[f"candidate:{_text(data.get('candidate_id'))}"] = parties
    elif name == "CertificateIssued" and _text(data.get("certificate_id")):
        found[f"certificate:{_text(data.get('certificate_id'))}"] = parties
    return found


def merged(
    lookups: Mapping[str, Mapping[str, Any]], learnt_now: Mapping[str, Mapping[str, Any]]
) -> dict[str, Mapping[str, Any]]:
    """`lookups` with what an event just taught (the event's own facts win)."""
    return {**lookups, **learnt_now}


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
