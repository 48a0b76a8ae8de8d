"""The device use cases (taxi_core.devices has the rules): add, list and remove a user's device
keys, change the password, and what the router's cryptosign login asks (is this key this user's
live device?) and tells (a session logged in with it). Each returns plain data; the removals
return the WAMP session ids the router must end, for the caller (components/devices.py) to end."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import Database
from .devices import SESSIONS_KEPT, DevicePolicy
from .domain import AuthenticationFailed, DeviceNotFound, InvalidArgument, WrongPassword
from .models import Device, DeviceSession, User
from .services import Clock, utc_now
from .views import device_view

REFUSED = "unknown device key"  # one refusal for an unknown, removed, expired or another user's key


class DeviceService:
    def __init__(self, db: Database, *, clock: Clock = utc_now, hasher: PasswordHasher | None = None,
                 policy: DevicePolicy = DevicePolicy()):  # fmt: skip
        self._db = db
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        self._policy = policy

    def add_device(self, *, user: str, public_key: str, name: str = "") -> dict:
        """The caller's new device. His own key again is not an error: he gets the device as it
        is (a retry after a lost answer must not fail), its name unchanged."""
        try:
            with self._db.unit_of_work(write=True) as session:
                return self._add(session, user, public_key, name)
        except IntegrityError:
            # Another add of the same key committed first: the unique index, not a SELECT, decides.
            with self._db.unit_of_work(write=False) as session:
                return self._view(_own_device(session, user, public_key, error=InvalidArgument(_TAKEN)))

    def _add(self, session: Session, user: str, public_key: str, name: str) -> dict:
        # The user's row locked (PostgreSQL; SQLite has one writer anyway), so that two adds at
        # once cannot both pass the limit.
        owner = session.scalar(select(User).where(User.username == user).with_for_update())
        now = self._clock()
        self._forget_dead_devices(session, owner.id, now)
        existing = session.scalar(select(Device).where(Device.public_key == public_key))
        if existing is not None:
            if existing.user_id != owner.id:
                raise InvalidArgument(_TAKEN)
            return self._view(existing)
        held = session.scalar(select(func.count()).select_from(Device).where(Device.user_id == owner.id))
        if not self._policy.may_add(devices_now=held):
            raise InvalidArgument(f"at most {self._policy.max_devices} devices per user: remove one first")
        device = Device(user=owner, public_key=public_key, name=name, created=now, last_used=None)
        session.add(device)
        session.flush()
        return self._view(device)

    def devices(self, *, user: str) -> list[dict]:
        """The caller's devices that still work, oldest first."""
        now = self._clock()
        with self._db.unit_of_work(write=False) as session:
            mine = session.scalars(_DEVICES_OF.where(User.username == user).order_by(Device.created, Device.id))
            return [self._view(device) for device in mine if self._alive(device, now)]

    def remove_device(self, *, user: str, public_key: str) -> list[int]:
        """Removes one of the caller's devices; returns the sessions that logged in with it."""
        with self._db.unit_of_work(write=True) as session:
            device_id = session.scalar(_locked_device_id(user, public_key))
            if device_id is None:
                raise DeviceNotFound("no such device")
            return _remove(session, [device_id])

    def change_password(self, *, user: str, old_password: str, new_password: str, session_id: int | None = None) -> list[int]:
        """Sets a new password once the old one is checked, and removes every device of the user;
        returns their sessions, all but the caller's own (`session_id`: it has just shown the password)."""
        with self._db.unit_of_work(write=False) as session:
            old_hash = session.scalar(select(User.password_hash).where(User.username == user))
        # The checks (argon2, a tenth of a second or more each) run outside any transaction.
        try:
            self._hasher.verify(old_hash, old_password)
        except (VerificationError, InvalidHashError):
            raise WrongPassword("old_password is not the password") from None
        new_hash = self._hasher.hash(new_password)
        with self._db.unit_of_work(write=True) as session:
            # Compare-and-set on the hash: of two changes at once, the one that checked a password
            # that is no longer the password loses.
            changed = session.execute(
                update(User).where(User.username == user, User.password_hash == old_hash)
                .values(password_hash=new_hash).execution_options(synchronize_session=False)
            ).rowcount  # fmt: skip
            if changed != 1:
                raise WrongPassword("old_password is not the password")
            ids = session.scalars(select(Device.id).join(User).where(User.username == user).with_for_update(of=Device)).all()
            return [sid for sid in _remove(session, ids) if sid != session_id]

    # --- what the router's cryptosign login asks and tells ---

    def authenticate_device(self, *, username: str, public_key: str) -> dict:
        """The principal of a login with `public_key` as `username`, if it is that user's live
        device: {"authid", "role"}. The router then checks the signature; nothing is written yet."""
        with self._db.unit_of_work(write=False) as session:
            device = session.scalar(_DEVICES_OF.where(User.username == username, Device.public_key == public_key))
            if device is None or not self._alive(device, self._clock()):
                raise AuthenticationFailed(REFUSED)
            return {"authid": device.user.username, "role": device.user.role}

    def device_joined(self, *, username: str, public_key: str, session_id: int) -> bool:
        """A session that logged in with the device has joined (the router checked its signature):
        the device was used now, and removing it must end this session. False if the device is
        gone meanwhile (removed between the login's two steps): the caller ends the session."""
        now = self._clock()
        try:
            with self._db.unit_of_work(write=True) as session:
                device_id = session.scalar(_locked_device_id(username, public_key))
                if device_id is None:
                    return False
                session.execute(update(Device).where(Device.id == device_id).values(last_used=now))
                # Every backend hears of every join: the first to write it records it, the others find it.
                if session.get(DeviceSession, session_id) is None:
                    session.add(DeviceSession(session_id=session_id, device_id=device_id, joined=now))
                session.flush()
                _forget_old_sessions(session, device_id)
                return True
        except IntegrityError:
            # Another backend recorded it at the same moment, or the device went meanwhile.
            with self._db.unit_of_work(write=False) as session:
                found = _DEVICES_OF.where(User.username == username, Device.public_key == public_key)
                return session.scalar(found) is not None

    def _alive(self, device: Device, now) -> bool:
        return self._policy.is_alive(created=device.created, last_used=device.last_used, now=now)

    def _view(self, device: Device) -> dict:
        return device_view(device, self._policy.expires(created=device.created, last_used=device.last_used))

    def _forget_dead_devices(self, session: Session, user_id: int, now) -> None:
        """A dead device can never log in again: it no longer takes one of the user's places."""
        dead = [d.id for d in session.scalars(select(Device).where(Device.user_id == user_id)) if not self._alive(d, now)]
        _remove(session, dead)


_TAKEN = "this public_key is another user's"
_DEVICES_OF = select(Device).join(Device.user)


def _locked_device_id(username: str, public_key: str):
    """The device's id, its row locked until the commit (PostgreSQL; SQLite has one writer at a
    time anyway). A join being recorded and a removal take the same lock, so one of them goes
    first: a removal then sees the join's session, or the join finds no device and says so. (Read
    without the lock, a removal could miss a session recorded between its SELECT and its DELETE.)"""
    return (
        select(Device.id).join(Device.user)
        .where(User.username == username, Device.public_key == public_key).with_for_update(of=Device)
    )  # fmt: skip


def _own_device(session: Session, user: str, public_key: str, *, error: Exception) -> Device:
    device = session.scalar(_DEVICES_OF.where(User.username == user, Device.public_key == public_key))
    if device is None:
        raise error
    return device


def _remove(session: Session, device_ids: list[int]) -> list[int]:
    """Deletes the devices and their sessions' rows; returns those sessions' ids."""
    if not device_ids:
        return []
    sessions = session.scalars(select(DeviceSession.session_id).where(DeviceSession.device_id.in_(device_ids))).all()
    session.execute(delete(DeviceSession).where(DeviceSession.device_id.in_(device_ids)))
    session.execute(delete(Device).where(Device.id.in_(device_ids)))
    return list(sessions)


def _forget_old_sessions(session: Session, device_id: int) -> None:
    kept = (
        select(DeviceSession.session_id).where(DeviceSession.device_id == device_id)
        .order_by(DeviceSession.joined.desc(), DeviceSession.session_id.desc()).limit(SESSIONS_KEPT)
    )  # fmt: skip
    session.execute(
        delete(DeviceSession).where(DeviceSession.device_id == device_id, DeviceSession.session_id.not_in(kept))
    )
