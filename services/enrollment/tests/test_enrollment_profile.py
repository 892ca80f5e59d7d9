"""The person's profile (我的资料): documents on the person's stream, the head photo of the materials zip,
the lock of the head photo once the exam uses it or a certificate carries it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from enrollment.application.profile import current_head_photo
from enrollment.domain import applicant as applicant_domain
from enrollment.domain import profile
from enrollment.domain.events import ApplicantMaterials, HeadPhotoLocked, MaterialDocument, MaterialsUploaded
from events import PersonDocumentUploaded
from servicekit.errors import Conflict, DomainError

ID = "330106199001010022"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def upload(history: list, document: str = "head_photo", key: str = "persons/k/1.jpg", **kw: bool) -> list:
    return profile.upload_document(
        history,
        id_number=ID,
        document=document,
        bucket="enrollment",
        key=key,
        content_type="image/jpeg",
        size=1000,
        **kw,
    )


def test_person_stream_hides_the_id_number_and_the_mask() -> None:
    stream = profile.person_stream(ID)
    assert ID not in stream and stream.startswith("person-")
    assert profile.person_stream(ID.lower()) == stream == profile.person_stream(f" {ID} ")
    assert profile.person_stream("330106199001010030") != stream
    assert profile.mask_id_number(ID) == "3301**********0022"
    assert profile.mask_id_number("123") == "***"


def test_documents_are_recorded_and_replace_each_other() -> None:
    first = upload([])
    event = first[0]
    assert isinstance(event, PersonDocumentUploaded)
    assert (event.id_number, event.document, event.bucket, event.key) == (
        ID,
        "head_photo",
        "enrollment",
        "persons/k/1.jpg",
    )
    second = upload(first, key="persons/k/2.jpg")
    front = upload([*first, *second], document="id_card_front", key="persons/k/f.png")
    person = profile.Person.from_history(
        [*first, *second, *front], [T0, T0 + timedelta(1), T0 + timedelta(2)]
    )
    assert person.documents["head_photo"].key == "persons/k/2.jpg"
    assert person.documents["id_card_front"].key == "persons/k/f.png"
    photo = person.head_photo()
    assert photo is not None and photo.at == T0 + timedelta(1) and photo.source == "profile"
    with pytest.raises(DomainError) as unknown:
        upload([], document="passport")
    assert unknown.value.code == "unknown_document"


def test_the_head_photo_is_locked_by_the_exam_application() -> None:
    first = upload([])
    photo = applicant_domain.ExamHeadPhoto(bucket="enrollment", key="persons/k/1.jpg")
    lock = profile.lock_head_photo(first, id_number=ID, applicant_id="a", photo=photo)
    assert isinstance(lock[0], HeadPhotoLocked) and lock[0].key == "persons/k/1.jpg"
    history = [*first, *lock]
    assert profile.lock_head_photo(history, id_number=ID, applicant_id="b", photo=photo) == [], "once"
    with pytest.raises(Conflict) as refused:
        upload(history, key="persons/k/3.jpg")
    assert refused.value.code == "head_photo_locked" and refused.value.status == 409
    assert "考试" in refused.value.message
    # the ID card can still be uploaded
    assert upload(history, document="id_card_back", key="persons/k/b.jpg")
    # the locked photo wins over any newer one
    person = profile.Person.from_history(history)
    newer = profile.StoredPhoto("enrollment", "batches/b/a/头像.jpg", T0 + timedelta(days=9), "materials")
    assert profile.exam_photo(person, newer).photo == photo


def test_a_certificate_locks_the_head_photo() -> None:
    with pytest.raises(Conflict) as refused:
        upload([], holds_certificate=True)
    assert refused.value.code == "head_photo_locked" and "证书" in refused.value.message
    assert upload([], document="id_card_front", holds_certificate=True)
    assert profile.lock_reason(profile.Person(), holds_certificate=False) is None


def materials(applicant_id: str, key: str, ok: bool | None, *documents: str) -> MaterialsUploaded:
    return MaterialsUploaded(
        batch_id="b",
        enterprise_id="ent",
        institution_id="inst",
        applicants=[
            ApplicantMaterials(
                applicant_id=applicant_id,
                id_number=ID,
                documents=[
                    MaterialDocument(document=d, object_key=f"{key}/{d}", content_type="image/jpeg", size=9)
                    for d in documents
                ],
                photo_ok=ok,
                photo_problems=[] if ok in (True, None) else ["照片模糊"],
            )
        ],
    )


def test_the_materials_head_photo_is_the_latest_zips() -> None:
    history = [
        (materials("a", "z1", True, "头像", "报名表"), T0),
        (materials("other", "z2", True, "头像"), T0 + timedelta(1)),
        (materials("a", "z3", None, "学历证书"), T0 + timedelta(2)),  # no head photo: the earlier stays
    ]
    photo = profile.materials_head_photo(history, "a", "enrollment")
    assert photo is not None and (photo.key, photo.at, photo.ok) == ("z1/头像", T0, True)
    history.append((materials("a", "z4", False, "头像"), T0 + timedelta(3)))
    bad = profile.materials_head_photo(history, "a", "enrollment")
    assert bad is not None and bad.key == "z4/头像" and not bad.ok and bad.problems == ("照片模糊",)
    assert profile.materials_head_photo(history, "nobody", "enrollment") is None
    choice = profile.exam_photo(profile.Person(), bad)
    assert choice.photo is None and choice.code == "head_photo_invalid" and "照片模糊" in choice.message
    missing = profile.exam_photo(profile.Person(), None)
    assert missing.photo is None and missing.code == "head_photo_missing"


def test_the_head_photo_shown_is_the_one_the_exam_uses() -> None:
    applicant = {
        "_id": "a",
        "materials": {
            "头像": {"object_key": "batches/b/a/头像.jpg", "content_type": "image/jpeg", "size": 9}
        },
        "head_photo_uploaded_at": T0,
        "photo_ok": True,
    }
    photo, locked = current_head_photo([applicant], None, "enrollment")
    assert photo is not None and photo["source"] == "materials" and not locked
    own = {"bucket": "enrollment", "key": "persons/k/1.jpg", "uploaded_at": T0 + timedelta(1)}
    person = {"documents": {"head_photo": own}, "head_photo_locked": False}
    photo, _ = current_head_photo([applicant], person, "enrollment")
    assert photo is not None and (photo["source"], photo["key"]) == ("profile", "persons/k/1.jpg")
    person["head_photo_locked"] = True
    person["locked_head_photo"] = {"bucket": "enrollment", "key": "batches/b/a/头像.jpg"}
    photo, locked = current_head_photo([applicant], person, "enrollment")
    assert (
        locked and photo is not None and (photo["source"], photo["key"]) == ("exam", "batches/b/a/头像.jpg")
    )
    assert current_head_photo([], None, "enrollment") == (None, False)
