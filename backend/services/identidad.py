"""Identity: CURP validation, NIP hashing and the CURP+NIP check with lockout.

Three consecutive wrong NIPs lock the CURP for `bloqueo_minutos`. The counter is
changed with one conditional UPDATE ... RETURNING (atomic on every database) and,
on PostgreSQL, the row is also locked with SELECT ... FOR UPDATE while the NIP is
checked, so parallel wrong attempts can never add up to more than the limit.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import and_, case, literal, null, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.types import DateTime
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.mx import curp as stdnum_curp

from backend.errors import ErrorNegocio
from backend.models import Derechohabiente
from backend.privacy import mascara_curp
from backend.settings import BackendSettings

log = logging.getLogger("backend.identidad")

_hasher = PasswordHasher()
_NIP_RE = re.compile(r"^\d{4}$")


@lru_cache(maxsize=1)
def _hash_senuelo() -> str:
    """Checked when the CURP is unknown, so that answer takes as long as a wrong NIP."""
    return _hasher.hash("0000")


MENSAJE_CREDENCIALES = "La CURP o el NIP no coinciden con nuestros registros."


def normalizar_curp(valor: str) -> str:
    """Upper-case, strip spaces/dashes and validate with python-stdnum.

    Raises ValueError with a Spanish sentence a caller can hear.
    """
    try:
        return str(stdnum_curp.validate(valor))
    except InvalidLength as exc:
        raise ValueError("La CURP debe tener 18 caracteres; revísela por favor.") from exc
    except InvalidChecksum as exc:
        raise ValueError(
            "La CURP no es válida: el último dígito (verificador) no corresponde; revísela por favor."
        ) from exc
    except (InvalidFormat, InvalidComponent) as exc:
        raise ValueError(
            "La CURP no tiene un formato válido (4 letras, fecha de nacimiento, sexo, estado y 4 caracteres más); revísela por favor."
        ) from exc


def validar_nip(valor: str) -> str:
    valor = valor.strip()
    if not _NIP_RE.fullmatch(valor):
        raise ValueError("El NIP debe tener exactamente 4 dígitos.")
    return valor


def hash_nip(nip: str) -> str:
    return _hasher.hash(validar_nip(nip))


def nip_correcto(nip_hash: str, nip: str) -> bool:
    try:
        return _hasher.verify(nip_hash, nip)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def como_utc(momento: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if momento is None:
        return None
    return momento.replace(tzinfo=UTC) if momento.tzinfo is None else momento.astimezone(UTC)


def hora_local(momento: datetime, settings: BackendSettings) -> datetime:
    return momento.astimezone(ZoneInfo(settings.timezone))


def _error_bloqueo(hasta: datetime, settings: BackendSettings) -> ErrorNegocio:
    local = hora_local(hasta, settings)
    return ErrorNegocio(
        423,
        "Por su seguridad, el acceso con esta CURP quedó bloqueado tras tres intentos fallidos. "
        f"Podrá intentarlo de nuevo a partir de las {local:%H:%M} horas del {local:%d/%m/%Y} "
        "(hora del centro de México).",
        "bloqueado",
        bloqueado_hasta=local.isoformat(timespec="seconds"),
    )


def verificar(
    session: Session,
    *,
    curp: str,
    nip: str,
    settings: BackendSettings,
    ahora: datetime,
) -> Derechohabiente:
    """Check CURP + NIP. Returns the derechohabiente or raises ErrorNegocio
    (401 wrong data, 423 locked). Commits the counter changes itself."""
    ahora = como_utc(ahora) or datetime.now(UTC)
    D = Derechohabiente
    dh = session.scalars(select(D).where(D.curp == curp).with_for_update()).one_or_none()
    if dh is None:
        nip_correcto(_hash_senuelo(), nip)
        session.rollback()
        log.info("verificación: CURP no registrada %s", mascara_curp(curp))
        raise ErrorNegocio(401, MENSAJE_CREDENCIALES + " Verifique sus datos e intente de nuevo.",
                           "credenciales_invalidas")

    hasta = como_utc(dh.bloqueado_hasta)
    if hasta is not None and hasta > ahora:
        session.rollback()
        log.info("verificación: CURP bloqueada %s", mascara_curp(curp))
        raise _error_bloqueo(hasta, settings)

    libre = or_(D.bloqueado_hasta.is_(None), D.bloqueado_hasta <= ahora)
    dh_id = dh.id
    if nip_correcto(dh.nip_hash, nip):
        nuevo_hash = _hasher.hash(nip) if _hasher.check_needs_rehash(dh.nip_hash) else dh.nip_hash
        res = session.execute(
            update(D).where(D.id == dh_id, libre)
            .values(intentos_fallidos=0, bloqueado_hasta=None, nip_hash=nuevo_hash)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount == 0:  # type: ignore[attr-defined]  # locked by a parallel attempt
            session.rollback()
            session.expire_all()
            actual = session.get(D, dh_id)
            raise _error_bloqueo(como_utc(actual.bloqueado_hasta) or ahora, settings)  # type: ignore[union-attr]
        session.commit()
        session.refresh(dh)
        log.info("verificación correcta %s", mascara_curp(curp))
        return dh

    # Wrong NIP: one atomic statement counts the failure (a lock that has already
    # expired starts a fresh count) and sets the lock on reaching the limit.
    vencido = and_(D.bloqueado_hasta.is_not(None), D.bloqueado_hasta <= ahora)
    nuevos = case((vencido, 1), else_=D.intentos_fallidos + 1)
    bloqueo = literal(ahora + timedelta(minutes=settings.bloqueo_minutos), DateTime(timezone=True))
    fila = session.execute(
        update(D).where(D.id == dh_id, libre)
        .values(
            intentos_fallidos=nuevos,
            bloqueado_hasta=case((nuevos >= settings.nip_max_intentos, bloqueo), else_=null()),
        )
        .returning(D.intentos_fallidos, D.bloqueado_hasta)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    session.commit()
    session.expire_all()
    if fila is None:  # a parallel attempt locked it first
        actual = session.get(D, dh_id)
        raise _error_bloqueo(como_utc(actual.bloqueado_hasta) or ahora, settings)  # type: ignore[union-attr]
    intentos, bloqueado = fila
    bloqueado = como_utc(bloqueado)
    if bloqueado is not None:
        log.warning("verificación: CURP bloqueada por intentos %s", mascara_curp(curp))
        raise _error_bloqueo(bloqueado, settings)
    restantes = max(settings.nip_max_intentos - int(intentos), 0)
    log.info("verificación: NIP incorrecto %s (quedan %d)", mascara_curp(curp), restantes)
    palabra = "intento" if restantes == 1 else "intentos"
    raise ErrorNegocio(
        401,
        f"{MENSAJE_CREDENCIALES} Le {'queda' if restantes == 1 else 'quedan'} {restantes} {palabra} "
        f"antes de que el acceso se bloquee {settings.bloqueo_minutos} minutos.",
        "credenciales_invalidas",
        intentos_restantes=restantes,
    )
