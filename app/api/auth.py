"""Optional API keys: from settings or created with `invoice-ocr keys create`, stored only as sha256 hashes.

Auth is off on a loopback bind until a key exists (settings or key file); from then on it stays on for as
long as the server runs, even when every key is revoked (no valid key: 401). On a non-loopback bind it is
on from the start unless the operator allowed an open bind. Keys travel as `Authorization: Bearer KEY` or
`X-API-Key: KEY`. Read-only keys may read and search, nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import secrets
import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from utils.errors import Forbidden, KeyFileDamaged, NotFound, Unauthorized
from utils.files import write_atomic

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from utils.settings import Settings

KEY_FILE = "api_keys.json"
KEY_PREFIX = "iok_"


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass
class KeyInfo:
    """One stored key (never the key itself)."""

    id: str
    name: str
    sha256: str
    read_only: bool
    created_at: str
    revoked_at: str | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key name (or 'anonymous' when auth is off) and what it may do."""

    name: str
    read_only: bool = False


ANONYMOUS = Principal("anonymous", read_only=False)


class KeyStore:
    """Hashed keys in a small JSON file under the data dir; re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: list[KeyInfo] = []

    @classmethod
    def for_settings(cls, settings: Settings) -> KeyStore:
        """The key store of this data dir."""
        return cls(settings.data_dir / KEY_FILE)

    def _load(self) -> list[KeyInfo]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._keys = None, []
            return self._keys
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            try:
                raw = json.loads(self.path.read_text("utf-8"))
                self._keys = [KeyInfo(**k) for k in raw.get("keys", [])]
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                # The message reaches callers without a key: it names the file, not where the data dir is.
                raise KeyFileDamaged(
                    f"the API key file {self.path.name} is damaged ({type(exc).__name__}); fix it, or move it away"
                    " and create keys again with `invoice-ocr keys create`"
                ) from exc
            self._stamp = stamp
        return self._keys

    def _save(self, keys: list[KeyInfo]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps({"keys": [asdict(k) for k in keys]}, indent=2).encode(), mode=0o600)
        self._stamp = None

    def all_keys(self) -> list[KeyInfo]:
        """Every stored key, revoked ones included."""
        with self._lock:
            return list(self._load())

    def active(self) -> list[KeyInfo]:
        """Keys not revoked."""
        return [k for k in self.all_keys() if k.revoked_at is None]

    def create(self, name: str | None = None, read_only: bool = False) -> tuple[str, KeyInfo]:
        """A new key: returns the key (shown once) and what is stored about it."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        digest = hash_key(key)
        with self._lock:
            keys = list(self._load())
            info = KeyInfo(
                id=digest[:12],
                name=name or f"key-{len(keys) + 1}",
                sha256=digest,
                read_only=read_only,
                created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            )
            self._save([*keys, info])
        return key, info

    def revoke(self, id_or_name: str) -> list[KeyInfo]:
        """Revoke the active keys with this id or name; NotFound when none matches."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._lock:
            keys = list(self._load())
            hit = [k for k in keys if k.revoked_at is None and id_or_name in (k.id, k.name)]
            if not hit:
                raise NotFound(f"no active key with id or name {id_or_name!r}")
            for k in hit:
                k.revoked_at = now
            self._save(keys)
        return hit

    def lookup(self, digest: str) -> KeyInfo | None:
        """The active key with this hash."""
        for k in self.active():
            if secrets.compare_digest(k.sha256, digest):
                return k
        return None


class Authenticator:
    """Checks presented keys against settings.api_keys (full access) and the key store."""

    def __init__(self, settings: Settings, store: KeyStore) -> None:
        self.store = store
        self._settings_keys = {hash_key(k): f"settings-key-{i + 1}" for i, k in enumerate(settings.api_keys)}
        # Fail closed: once on, auth never turns itself off while the server runs (revoking the last key
        # leaves no valid key rather than an open server); a network bind needs keys unless allowed open.
        self._on = bool(self._settings_keys) or not (is_loopback(settings.host) or settings.allow_insecure_bind)

    @property
    def enabled(self) -> bool:
        """Whether keys are required: some key exists now or existed since start, or the bind is not loopback.

        A damaged key file counts as holding keys (fail closed): requests then answer 503 key_file_damaged.
        """
        if not self._on:
            try:
                self._on = bool(self.store.active())
            except KeyFileDamaged:
                self._on = True
        return self._on

    def problem(self) -> str | None:
        """Why stored keys cannot be checked now (a damaged key file), or None."""
        try:
            self.store.active()
        except KeyFileDamaged as exc:
            return exc.message
        return None

    def principal_for(self, headers: Mapping[str, str]) -> Principal:
        """The caller of a request from its headers; Unauthorized when keys are required and none sent is valid."""
        if not self.enabled:
            return ANONYMOUS
        keys: list[str | None] = []
        authorization = headers.get("authorization")
        if authorization is not None:
            scheme, _, credentials = authorization.partition(" ")
            keys.append(credentials.strip() if scheme.lower() == "bearer" else None)
        if "x-api-key" in headers:
            keys.append(headers["x-api-key"])
        if not keys:
            return self.authenticate(None)
        # Every credential sent must hold: a valid key next to a bad one is refused, not picked over it.
        principals = [self.authenticate(key) for key in keys]
        return next((p for p in principals if p.read_only), principals[0])

    def authenticate(self, key: str | None) -> Principal:
        """The caller for this key; Unauthorized when auth is on and the key is missing or unknown."""
        if not self.enabled:
            return ANONYMOUS
        if not key:
            raise Unauthorized("an API key is required: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'")
        digest = hash_key(key)
        for known, name in self._settings_keys.items():
            if secrets.compare_digest(known, digest):
                return Principal(name)
        info = self.store.lookup(digest)
        if info is None:
            raise Unauthorized("the API key is not valid (unknown or revoked)")
        return Principal(info.name, read_only=info.read_only)


def require_write(principal: Principal, action: str) -> Principal:
    """Forbidden for read-only keys."""
    if principal.read_only:
        raise Forbidden(f"the key {principal.name!r} is read-only and cannot {action}")
    return principal
