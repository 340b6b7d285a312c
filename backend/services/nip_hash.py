"""NIP hashes: HMAC-SHA-256 keyed with a server-side pepper, versioned.

Stored form: ``hmac-sha256$<key id>$<64 hex>``, the HMAC of ``CURP:NIP`` (the
CURP makes every hash unique, like a salt) under the pepper named by the key id.
The key id is derived from the pepper itself (first 8 hex of a SHA-256 of it), so
rotating is only configuration: put the new pepper in ``NIP_PEPPER`` and the old
one in ``NIP_PEPPERS_ANTERIORES``. A hash under an old pepper, or an argon2 hash
from before this scheme, still verifies and is rewritten with the current pepper
on the next successful login. Comparisons are constant-time (hmac.compare_digest).

Why not argon2: a NIP has 10,000 values, so any hash of it alone falls to an
offline search in well under a second per person, whatever its cost; what stops
a thief holding the database is a key the database does not contain. See README.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from backend.settings import BackendSettings, get_settings, lista_peppers_anteriores

log = logging.getLogger("backend.identidad")

ESQUEMA = "hmac-sha256"
# Used only when NIP_PEPPER is unset (development and tests): it is public, so it
# protects nothing; `make run` writes a real one into .env.
PEPPER_DESARROLLO = "capp-desarrollo-pimienta-publica"
ID_DESARROLLO = "dev"
_argon2 = PasswordHasher()


def id_de(pepper: str) -> str:
    if pepper == PEPPER_DESARROLLO:
        return ID_DESARROLLO
    return hashlib.sha256(b"capp-nip-kid\x00" + pepper.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Pimientas:
    actual_id: str
    actual: bytes
    todas: dict[str, bytes] = field(default_factory=dict)  # key id -> pepper, current included

    @property
    def es_desarrollo(self) -> bool:
        return self.actual_id == ID_DESARROLLO


@lru_cache(maxsize=8)
def _pimientas(actual: str, anteriores: tuple[str, ...]) -> Pimientas:
    todas = {id_de(p): p.encode() for p in anteriores}
    todas[id_de(actual)] = actual.encode()
    return Pimientas(id_de(actual), actual.encode(), todas)


def pimientas(settings: BackendSettings | None = None) -> Pimientas:
    settings = settings or get_settings()
    actual = settings.nip_pepper.get_secret_value() if settings.nip_pepper else ""
    return _pimientas(actual or PEPPER_DESARROLLO, tuple(lista_peppers_anteriores(settings)))


def _hmac(pepper: bytes, curp: str, nip: str) -> str:
    return hmac.new(pepper, f"{curp}:{nip}".encode(), hashlib.sha256).hexdigest()


def hash_nip(curp: str, nip: str, claves: Pimientas | None = None) -> str:
    claves = claves or pimientas()
    return f"{ESQUEMA}${claves.actual_id}${_hmac(claves.actual, curp, nip)}"


@dataclass(frozen=True)
class Verificacion:
    correcto: bool
    rehacer: bool = False  # correct, but stored under an old pepper or as argon2


def verificar_nip(
    nip_hash: str | None, curp: str, nip: str, claves: Pimientas | None = None
) -> Verificacion:
    claves = claves or pimientas()
    if not nip_hash:
        return Verificacion(False)
    if nip_hash.startswith("$argon2"):
        try:
            return Verificacion(_argon2.verify(nip_hash, nip), rehacer=True)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verificacion(False)
    partes = nip_hash.split("$")
    if len(partes) != 3 or partes[0] != ESQUEMA or partes[1] not in claves.todas:
        # A pepper we no longer hold: this NIP cannot be checked (the person
        # must reset it); still spend an HMAC so the answer takes as long.
        _hmac(claves.actual, curp, nip)
        return Verificacion(False)
    calculado = _hmac(claves.todas[partes[1]], curp, nip)
    correcto = hmac.compare_digest(calculado, partes[2])
    return Verificacion(correcto, rehacer=correcto and partes[1] != claves.actual_id)


def senuelo(curp: str, nip: str, claves: Pimientas | None = None) -> None:
    """The same work as a real check, for a CURP nobody has."""
    claves = claves or pimientas()
    hmac.compare_digest(_hmac(claves.actual, curp, nip), "0" * 64)
