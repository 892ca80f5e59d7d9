"""Persons (pure): resident ID numbers, who may hand a person an activation code, masking.

A person is known to the gateway once a public event names them (the `persons` read model): an enterprise
enrolled them (enrollment's `ApplicantsImported`), an old-style certificate of theirs was recorded
(certification's `LegacyCertificateImported`) or a certificate was issued to them (`CertificateIssued`,
`CertificateRenewed`). Who may ask for their activation code: an administrator; the enterprises and
institutions of the batches that named them; the institution that recorded an old-style certificate of theirs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from servicekit.auth import Identity, Role

from .errors import InvalidIdNumber

# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.
ID_NUMBER_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_NUMBER_CHECK_CHARACTERS = "10X98765432"  # indexed by the weighted sum modulo 11

_ID_NUMBER_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


def normalize_id_number(raw: str) -> str:
    """Trimmed, with a lower-case check character `x` written `X`."""
    return raw.strip().upper()


def id_number_check_character(first17: str) -> str:
    """The check character of the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("the first 17 characters of an ID number are digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_NUMBER_WEIGHTS, strict=True))
    return ID_NUMBER_CHECK_CHARACTERS[total % 11]


def is_valid_id_number(raw: str) -> bool:
    """18 characters, 17 digits and the right check character (`x` accepted for `X`)."""
    number = normalize_id_number(raw)
    if not _ID_NUMBER_SHAPE.match(number):
        return False
    return id_number_check_character(number[:17]) == number[17]


def validate_id_number(raw: str) -> str:
    """The normalized ID number, or `invalid_id_number` saying what is wrong with it."""
    number = normalize_id_number(raw)
    if len(number) != 18:
        raise InvalidIdNumber(f"身份证号应为 18 位，当前为 {len(number)} 位")
    if not _ID_NUMBER_SHAPE.match(number):
        raise InvalidIdNumber("身份证号格式不正确：前 17 位应为数字，最后一位为数字或 X")
    if id_number_check_character(number[:17]) != number[17]:
        raise InvalidIdNumber("身份证号校验位不正确，请核对后重新输入")
    return number


def mask_mobile(mobile: str) -> str:
    """`138****1111` (the first 3 and the last 4 digits kept)."""
    digits = mobile.strip()
    if len(digits) < 8:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def mask_id_number(id_number: str) -> str:
    """`330106********0015` (region and the last 4 characters kept)."""
    number = normalize_id_number(id_number)
    if len(number) != 18:
        return "*" * len(number)
    return f"{number[:6]}********{number[-4:]}"


# Where the gateway learnt of a person (the read model's `sources`).
SOURCE_APPLICANTS = "applicants"  # enrollment's ApplicantsImported
SOURCE_LEGACY_CERTIFICATE = "legacy_certificate"  # certification's LegacyCertificateImported
SOURCE_CERTIFICATE = "certificate"  # certification's CertificateIssued / CertificateRenewed

# `LegacyCertificateImported.imported_by` of an administrator: `admin:<account id>` (an institution's: its
# id).
ADMIN_IMPORTER_PREFIX = "admin:"


def importing_institution(imported_by: str) -> str | None:
    """The institution that recorded an old-style certificate (None: an administrator did, or unknown)."""
    importer = imported_by.strip()
    if not importer or importer.startswith(ADMIN_IMPORTER_PREFIX):
        return None
    return importer


@dataclass(frozen=True)
class Person:
    """A person as the gateway knows them: enrolled by some enterprises with some institutions, and/or the
    holder of old-style certificates recorded by some importers (institution ids or `admin:<account>`)."""

    id_number: str
    name: str
    mobile: str = ""
    enterprise_ids: frozenset[str] = frozenset()
    institution_ids: frozenset[str] = frozenset()
    legacy_importers: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()

    @property
    def legacy_institution_ids(self) -> frozenset[str]:
        """The institutions that recorded an old-style certificate of the person."""
        found = (importing_institution(importer) for importer in self.legacy_importers)
        return frozenset(institution for institution in found if institution)

    @property
    def holds_legacy_certificate(self) -> bool:
        return SOURCE_LEGACY_CERTIFICATE in self.sources or bool(self.legacy_importers)


def may_issue_activation_code(identity: Identity, person: Person) -> bool:
    """An administrator, an enterprise that enrolled the person, an institution they enrolled with, or an
    institution that recorded an old-style certificate of theirs."""
    if identity.role is Role.ADMIN:
        return True
    if identity.org_id is None:
        return False
    if identity.role is Role.ENTERPRISE:
        return identity.org_id in person.enterprise_ids
    if identity.role is Role.INSTITUTION:
        return identity.org_id in person.institution_ids or identity.org_id in person.legacy_institution_ids
    return False
