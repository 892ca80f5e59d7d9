"""What a receiver sees of an event's payload (pure), by the receiver's role.

- Administrator (`province`): everything as the event carries it.
- City authority (`reviewer`): enterprise data in full (name, credit code, legal representative, contact
  name and mobile, address: it reviews them); staff ID numbers masked `330106********0015`, staff mobiles and
  other people's phones (an invoice's `phone`) masked `138****1111`.
- Institution: its applicants' ID numbers, names and mobiles in full (it sees them in its UI); other
  people's mobiles (an enterprise's `contact_mobile`, an invoice's `phone`) masked.
- Everyone: names, positions, dates, scores, amounts as they are; storage coordinates (`bucket`, `key`,
  `object_key`, `*_bucket`, `*_key`, `evidence_keys`) are never sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servicekit.auth import Role

from ...domain.persons import mask_id_number, mask_mobile

STORAGE_FIELDS = frozenset({"bucket", "key", "object_key", "evidence_keys"})
STORAGE_SUFFIXES = ("_bucket", "_key", "_keys")
ID_NUMBER_FIELDS = frozenset({"id_number"})
STAFF_MOBILE_FIELDS = frozenset({"mobile"})
ENTERPRISE_MOBILE_FIELDS = frozenset({"contact_mobile"})
OTHER_PHONE_FIELDS = frozenset({"phone"})


def is_storage_field(name: str) -> bool:
    return name in STORAGE_FIELDS or name.endswith(STORAGE_SUFFIXES)


def _masked_fields(role: Role) -> dict[str, Any]:
    """Field name → masking function for `role` (fields not named are sent as they are)."""
    if role is Role.ADMIN:
        return {}
    if role is Role.REVIEWER:
        return {
            **dict.fromkeys(ID_NUMBER_FIELDS, mask_id_number),
            **dict.fromkeys(STAFF_MOBILE_FIELDS, mask_mobile),
            **dict.fromkeys(OTHER_PHONE_FIELDS, mask_mobile),
        }
    if role is Role.INSTITUTION:
        return {
            **dict.fromkeys(ENTERPRISE_MOBILE_FIELDS, mask_mobile),
            **dict.fromkeys(OTHER_PHONE_FIELDS, mask_mobile),
        }
    # Any other role never reaches a feed (the API refuses it); mask everything personal if one did.
    return {
        **dict.fromkeys(ID_NUMBER_FIELDS, mask_id_number),
        **dict.fromkeys(STAFF_MOBILE_FIELDS | ENTERPRISE_MOBILE_FIELDS | OTHER_PHONE_FIELDS, mask_mobile),
    }


def mask_payload(data: Mapping[str, Any], role: Role) -> dict[str, Any]:
    """A copy of `data` as a receiver of `role` may see it (see the module's table)."""
    masks = _masked_fields(role)

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for name, inner in value.items():
                if is_storage_field(str(name)):
                    continue
                mask = masks.get(str(name))
                if mask is not None and isinstance(inner, str) and inner:
                    out[name] = mask(inner)
                else:
                    out[name] = walk(inner)
            return out
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    result: dict[str, Any] = walk(data)
    return result
