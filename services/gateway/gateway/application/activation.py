"""Person accounts: a one-time activation code, then a password of the trainee's own (no default password).

1. An enterprise that enrolled the person, an institution the person enrolled with, the institution that
   recorded an old-style certificate of theirs, or an administrator asks for a code (`issue_code`): 8 random
   digits, only the argon2 hash stored, valid for a limited time, sent to the person's mobile (if known) and
   returned once to the caller, who hands it to the trainee.
2. The trainee activates (`activate`) with their ID number, the code and a password of their own: the
   account is created (role person, organisation = the ID number) and the code is deleted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from servicekit.auth import Identity, Role
from servicekit.logging import get_logger

from ..domain.accounts import Account, validate_username
from ..domain.activation import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TTL_SECONDS,
    ActivationCode,
    CodeState,
    code_state,
    expiry,
    hours_valid,
    normalize_code,
    remaining_attempts,
)
from ..domain.errors import (
    ActivationExpired,
    ActivationLocked,
    InvalidActivationCode,
    NotPersonsOrganisation,
    PersonAlreadyActive,
    PersonNotFound,
    UsernameTaken,
    WeakPassword,
)
from ..domain.passwords import Violation, password_violations
from ..domain.persons import (
    Person,
    mask_id_number,
    mask_mobile,
    may_issue_activation_code,
    normalize_id_number,
    validate_id_number,
)
from .ports import (
    AccountRepository,
    ActivationCodeStore,
    Clock,
    CodeGenerator,
    Notification,
    Notifier,
    PasswordHasher,
    PersonDirectory,
    utc_now,
)

log = get_logger(__name__)

ACTIVATION_NOTIFICATION = "activation_code"


@dataclass(frozen=True)
class IssuedCode:
    id_number: str
    name: str
    code: str  # shown once, to the caller who hands it to the trainee
    expires_at: datetime
    max_attempts: int
    sent_to: str | None  # the masked mobile the code was sent to (None: not sent)

    def __repr__(self) -> str:  # never show the code
        return f"IssuedCode(expires_at={self.expires_at.isoformat()})"


@dataclass(frozen=True)
class Activation:
    id_number: str
    code: str
    password: str
    username: str | None = None

    def __repr__(self) -> str:  # never show the code or the password
        return "Activation(…)"


def activation_text(person: Person, code: str, ttl_seconds: int) -> str:
    return (
        f"【浙江省建筑施工现场专业人员证书平台】{person.name}您好，您的学员账号激活码为 {code}，"
        f"{hours_valid(ttl_seconds)} 小时内有效。"
        "请在平台的“激活账号”页面输入身份证号、激活码并设置您自己的密码。请勿将激活码告诉他人。"
    )


class ActivationService:
    def __init__(
        self,
        *,
        persons: PersonDirectory,
        codes: ActivationCodeStore,
        accounts: AccountRepository,
        hasher: PasswordHasher,
        notifier: Notifier,
        generate_code: CodeGenerator,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        clock: Clock = utc_now,
    ) -> None:
        self.persons = persons
        self.codes = codes
        self.accounts = accounts
        self.hasher = hasher
        self.notifier = notifier
        self.generate_code = generate_code
        self.ttl_seconds = ttl_seconds
        self.max_attempts = max_attempts
        self.clock = clock

    async def issue_code(self, identity: Identity, id_number: str) -> IssuedCode:
        """A new code for the person (replacing any earlier one), sent to their mobile and returned once."""
        number = normalize_id_number(id_number)
        person = await self.persons.get(number)
        if person is None:
            raise PersonNotFound()
        if not may_issue_activation_code(identity, person):
            raise NotPersonsOrganisation(legacy_holder=person.holds_legacy_certificate)
        if await self.accounts.person_account(number) is not None:
            raise PersonAlreadyActive()
        code = self.generate_code()
        now = self.clock()
        stored = ActivationCode(
            id_number=number,
            code_hash=await self.hasher.hash(code),
            created_at=now,
            expires_at=expiry(now, self.ttl_seconds),
            issued_by=identity.account_id,
            issued_by_role=identity.role.value,
            issued_by_org=identity.org_id,
        )
        await self.codes.replace(stored)
        sent_to = await self._notify(person, code, stored.expires_at)
        log.info(
            "activation.code_issued",
            person=mask_id_number(number),
            by=identity.account_id,
            role=identity.role.value,
            sent_to=sent_to,
        )
        return IssuedCode(number, person.name, code, stored.expires_at, self.max_attempts, sent_to)

    async def _notify(self, person: Person, code: str, expires_at: datetime) -> str | None:
        if not person.mobile:
            return None
        notification = Notification(
            kind=ACTIVATION_NOTIFICATION,
            mobile=person.mobile,
            text=activation_text(person, code, self.ttl_seconds),
            id_number=person.id_number,
            expires_at=expires_at,
        )
        try:
            await self.notifier.send(notification)
        except Exception as exc:  # the code is still handed over by the caller
            log.warning("activation.notify_failed", mobile=mask_mobile(person.mobile), error=repr(exc))
            return None
        return mask_mobile(person.mobile)

    async def activate(self, command: Activation) -> Account:
        """Check the code and create the person's account with their own password."""
        number = validate_id_number(command.id_number)
        username = validate_username(command.username or number)
        violations = password_violations(command.password, username, known_words=(number,))
        if command.password.strip().casefold() == number.casefold() and username != number.lower():
            violations.append(Violation("not_id_number", "不能与身份证号相同"))
        if violations:
            raise WeakPassword([v.as_dict() for v in violations])
        # Nothing is said about the ID number (or the username) before the code is proven: an ID number with
        # an account has no code left, so it is answered exactly like one without (`invalid_activation_code`,
        # after the same hashing work). Whether an account already exists is only told to the code's holder.
        stored = await self.codes.get(number)
        if stored is None:
            await self.hasher.verify_dummy(command.code)
            raise InvalidActivationCode()
        self._ensure_usable(stored)
        # Count the guess before checking it: concurrent guesses cannot exceed the limit.
        counted = await self.codes.count_attempt(number, stored.code_hash, self.max_attempts)
        if counted is None:
            again = await self.codes.get(number)
            if again is None or again.code_hash != stored.code_hash:
                raise InvalidActivationCode()  # used or replaced meanwhile
            raise ActivationLocked()
        if not await self.hasher.verify(counted.code_hash, normalize_code(command.code)):
            log.info("activation.wrong_code", person=mask_id_number(number), attempts=counted.attempts)
            left = remaining_attempts(counted, self.max_attempts)
            if left == 0:
                log.warning("activation.code_exhausted", person=mask_id_number(number))
                raise ActivationLocked()
            raise InvalidActivationCode(left)

        if await self.accounts.person_account(number) is not None:
            await self.codes.delete(number)  # a code left over beside an account: it is of no use
            raise PersonAlreadyActive()
        if await self.accounts.by_username(username) is not None:
            await self.codes.release_attempt(number, counted.code_hash)
            raise UsernameTaken(username)

        person = await self.persons.get(number)
        now = self.clock()
        account = Account(
            id=uuid.uuid4().hex,
            username=username,
            role=Role.PERSON,
            display_name=(person.name if person and person.name else number),
            password_hash=await self.hasher.hash(command.password),
            created_at=now,
            password_changed_at=now,
            org_id=number,
        )
        try:
            await self.accounts.add(account)
        except (UsernameTaken, PersonAlreadyActive):
            await self.codes.release_attempt(number, counted.code_hash)
            raise
        await self.codes.delete(number)
        log.info("activation.activated", account_id=account.id, person=mask_id_number(number))
        return account

    def _ensure_usable(self, code: ActivationCode) -> None:
        state = code_state(code, self.clock(), self.max_attempts)
        if state is CodeState.EXHAUSTED:
            raise ActivationLocked()
        if state is CodeState.EXPIRED:
            raise ActivationExpired()
