"""Identity: CURP validation, NIP hashing and the CURP+NIP check with lockout.

No enumeration: a wrong NIP for a registered CURP and any NIP for an unknown
(well-formed) CURP get the same 401 with the same body, and both are counted per
CURP in `intento_identidad`, so an unknown CURP locks (423) exactly like a known
one. Each lockout of a CURP lasts twice the previous one (15, 30, 60 min...) up
to `bloqueo_maximo_minutos`; a successful login clears the record.

The counter is changed with one INSERT ... ON CONFLICT DO UPDATE ... RETURNING
(atomic on SQLite and PostgreSQL) that only counts while the CURP is not locked,
so parallel wrong attempts can never add up to more than the limit. Failed
attempts are also counted per source (backend/services/limites.py).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, delete, literal, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.types import DateTime
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.mx import curp as stdnum_curp

from backend.models import Derechohabiente, IntentoIdentidad
from backend.privacy import mascara_curp
from backend.services import limites
from backend.services import nip_hash as claves_nip
from backend.services.disponibilidad import local as disp_local
from backend.services.disponibilidad import utc
from backend.services.errores import Bloqueado, ErrorDominio, NoAutenticado
from backend.settings import BackendSettings

log = logging.getLogger("backend.identidad")

_NIP_RE = re.compile(r"^\d{4}$")

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
            "La CURP no es válida: el último dígito (verificador) no corresponde; "
            "revísela por favor."
        ) from exc
    except (InvalidFormat, InvalidComponent) as exc:
        raise ValueError(
            "La CURP no tiene un formato válido (4 letras, fecha de nacimiento, sexo, estado y 4 "
            "caracteres más); revísela por favor."
        ) from exc


def validar_nip(valor: str) -> str:
    valor = valor.strip()
    if not _NIP_RE.fullmatch(valor):
        raise ValueError("El NIP debe tener exactamente 4 dígitos.")
    return valor


def hash_nip(nip: str, curp: str, claves: claves_nip.Pimientas | None = None) -> str:
    """The stored form of `nip` for `curp` under the current pepper."""
    return claves_nip.hash_nip(curp, validar_nip(nip), claves)


def nip_correcto(
    nip_hash: str | None, nip: str, curp: str, claves: claves_nip.Pimientas | None = None
) -> bool:
    return claves_nip.verificar_nip(nip_hash, curp, nip, claves).correcto


def como_utc(momento: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return None if momento is None else utc(momento)


def _error_bloqueo(hasta: datetime) -> ErrorDominio:
    local = disp_local(hasta)
    return Bloqueado(
        "Por su seguridad, el acceso con esta CURP quedó bloqueado tras varios intentos fallidos. "
        f"Podrá intentarlo de nuevo a partir de las {local:%H:%M} horas del {local:%d/%m/%Y} "
        "(hora del centro de México).",
        "bloqueado",
        bloqueado_hasta=local.isoformat(timespec="seconds"),
    )


def _error_credenciales(settings: BackendSettings) -> ErrorDominio:
    # Never the attempts left: that count exists only for registered CURPs and
    # would tell who has an account. The rule itself is the same for everybody.
    return NoAutenticado(
        f"{MENSAJE_CREDENCIALES} Verifique sus datos e intente de nuevo; por su seguridad, tras "
        f"{settings.nip_max_intentos} intentos fallidos el acceso se bloquea temporalmente.",
        "credenciales_invalidas",
    )


def duracion_bloqueo(bloqueos_previos: int, settings: BackendSettings) -> timedelta:
    """15 min the first time, then 30, 60... up to `bloqueo_maximo_minutos`."""
    minutos = settings.bloqueo_minutos * 2 ** min(bloqueos_previos, 20)
    return timedelta(
        minutes=min(minutos, max(settings.bloqueo_maximo_minutos, settings.bloqueo_minutos))
    )


def _insert_para(session: Session):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _bloqueado_hasta(session: Session, curp: str, ahora: datetime) -> datetime | None:
    hasta = como_utc(
        session.scalar(
            select(IntentoIdentidad.bloqueado_hasta).where(IntentoIdentidad.curp == curp)
        )
    )
    return hasta if hasta is not None and hasta > ahora else None


def _contar_fallo(
    session: Session, curp: str, ahora: datetime, settings: BackendSettings
) -> datetime | None:
    """Count one wrong attempt for `curp` atomically; commit; the lock end if the
    CURP is (now) locked. A lock that already expired starts a fresh count."""
    t = IntentoIdentidad.__table__
    maximo = settings.nip_max_intentos
    # The lock length depends on the lockouts so far: one literal per step up to the cap.
    pasos = []
    n = 0
    while True:
        pasos.append(duracion_bloqueo(n, settings))
        if pasos[-1] >= timedelta(minutes=settings.bloqueo_maximo_minutos) or n >= 20:
            break
        n += 1
    fin = (
        case(
            *(
                (t.c.bloqueos == i, literal(ahora + d, DateTime(timezone=True)))
                for i, d in enumerate(pasos[:-1])
            ),
            else_=literal(ahora + pasos[-1], DateTime(timezone=True)),
        )
        if len(pasos) > 1
        else literal(ahora + pasos[0], DateTime(timezone=True))
    )
    vencido = and_(t.c.bloqueado_hasta.is_not(None), t.c.bloqueado_hasta <= ahora)
    nuevos = case((vencido, 1), else_=t.c.intentos_fallidos + 1)
    primero = maximo <= 1
    insert = _insert_para(session)(t).values(
        curp=curp, intentos_fallidos=1, actualizado_en=ahora, bloqueos=1 if primero else 0,
        bloqueado_hasta=(ahora + pasos[0]) if primero else None,
    )
    fila = session.execute(
        insert.on_conflict_do_update(
            index_elements=[t.c.curp],
            set_={"intentos_fallidos": nuevos, "actualizado_en": ahora,
                  "bloqueado_hasta": case((nuevos >= maximo, fin), else_=null()),
                  "bloqueos": case((nuevos >= maximo, t.c.bloqueos + 1), else_=t.c.bloqueos)},
            where=or_(t.c.bloqueado_hasta.is_(None), t.c.bloqueado_hasta <= ahora),
        ).returning(t.c.bloqueado_hasta)
    ).one_or_none()
    # Forget quiet records (two days without attempts, not locked): the table stays
    # small and an old lockout no longer lengthens the next one.
    session.execute(delete(IntentoIdentidad).where(
        IntentoIdentidad.actualizado_en < ahora - timedelta(days=2),
        or_(IntentoIdentidad.bloqueado_hasta.is_(None), IntentoIdentidad.bloqueado_hasta <= ahora)))
    session.commit()
    if fila is None:  # locked by a parallel attempt in the meantime
        return _bloqueado_hasta(session, curp, ahora) or ahora + pasos[0]
    return como_utc(fila[0])


def verificar(
    session: Session,
    *,
    curp: str,
    nip: str,
    settings: BackendSettings,
    ahora: datetime,
    origen: str = "desconocido",
) -> Derechohabiente:
    """Check CURP + NIP. Returns the derechohabiente or raises ErrorDominio
    (401 wrong data or unknown CURP, 423 locked, 429 too many failures from this
    source or overall). Commits the counter changes itself."""
    ahora = como_utc(ahora) or datetime.now(UTC)
    limites.exigir_cupo(
        session, ambito=limites.IDENTIDAD, origen=origen, ahora=ahora, settings=settings
    )
    claves = claves_nip.pimientas(settings)

    def fallo() -> None:
        limites.registrar_fallo(
            session, ambito=limites.IDENTIDAD, origen=origen, ahora=ahora, settings=settings
        )

    hasta = _bloqueado_hasta(session, curp, ahora)
    if hasta is not None:
        session.rollback()
        fallo()
        log.info("verificación: CURP bloqueada %s", mascara_curp(curp))
        raise _error_bloqueo(hasta)

    D = Derechohabiente
    dh = session.scalars(select(D).where(D.curp == curp)).one_or_none()
    if dh is None:
        claves_nip.senuelo(curp, nip, claves)
        resultado = claves_nip.Verificacion(False)
    else:
        resultado = claves_nip.verificar_nip(dh.nip_hash, curp, nip, claves)

    if not resultado.correcto:
        session.rollback()
        bloqueo = _contar_fallo(session, curp, ahora, settings)
        fallo()
        if bloqueo is not None:
            log.warning("verificación: CURP bloqueada por intentos %s", mascara_curp(curp))
            raise _error_bloqueo(bloqueo)
        log.info("verificación fallida %s", mascara_curp(curp))
        raise _error_credenciales(settings)

    assert dh is not None
    if resultado.rehacer:  # argon2 or an old pepper: rewrite under the current one
        session.execute(
            update(D)
            .where(D.id == dh.id)
            .values(nip_hash=claves_nip.hash_nip(curp, nip, claves))
            .execution_options(synchronize_session=False)
        )
    # Clear the record unless a parallel attempt locked the CURP meanwhile.
    session.execute(delete(IntentoIdentidad).where(
        IntentoIdentidad.curp == curp,
        or_(IntentoIdentidad.bloqueado_hasta.is_(None), IntentoIdentidad.bloqueado_hasta <= ahora)))
    hasta = _bloqueado_hasta(session, curp, ahora)
    if hasta is not None:
        session.rollback()
        raise _error_bloqueo(hasta)
    session.commit()
    session.refresh(dh)
    log.info("verificación correcta %s", mascara_curp(curp))
    return dh
