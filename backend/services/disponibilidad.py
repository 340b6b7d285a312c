"""The citas calendar: 15-minute slots, Monday to Friday 8:30-15:30 in Mexico
City time, no Mexican federal holidays (the `holidays` package), no past slots,
no full slots. All datetimes stored in the database are UTC. The business-day
calendar itself lives in backend/services/dias_habiles.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Cita, Oficina
from backend.services.dias_habiles import (  # noqa: F401  (re-exported for the citas modules)
    es_dia_habil,
    feriado,
    motivo_inhabil,
    sumar_dias_habiles,
)
from backend.services.errores import ReglaIncumplida
from backend.settings import get_settings

APERTURA = time(8, 30)
CIERRE = time(15, 30)
DURACION = timedelta(minutes=15)
HORARIO_TEXTO = "Lunes a viernes de 8:30 a 15:30 h (hora del centro)"
MAX_DIAS_CONSULTA = 62
HORIZONTE = timedelta(days=90)  # citas are offered up to 90 days ahead
_DIAS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_MESES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "octubre", "noviembre", "diciembre")


def zona() -> ZoneInfo:
    """The offices' time zone (setting TIMEZONE; every office in the catalogue
    uses central time). ZoneInfo caches its instances."""
    return ZoneInfo(get_settings().timezone)


def horas_cancelacion() -> int:
    """Hours before its start up to which a cita can be cancelled (setting
    CANCELACION_ANTICIPACION_HORAS)."""
    return get_settings().cancelacion_anticipacion_horas


def plazo_cancelacion() -> timedelta:
    return timedelta(hours=horas_cancelacion())




def utc(dt: datetime) -> datetime:
    """Normalise to aware UTC; SQLite hands back naive datetimes that are UTC."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def local(dt: datetime) -> datetime:
    return utc(dt).astimezone(zona())


def inicios_del_dia(dia: date) -> list[datetime]:
    """Every slot start of a business day, aware in local time (28 slots)."""
    return cuartos_del_dia(dia) if es_dia_habil(dia) else []


def cuartos_del_dia(dia: date) -> list[datetime]:
    """8:30, 8:45 ... 15:15 of `dia` in local time, business day or not."""
    actual = datetime.combine(dia, APERTURA, tzinfo=zona())
    cierre = datetime.combine(dia, CIERRE, tzinfo=zona())
    inicios = []
    while actual + DURACION <= cierre:
        inicios.append(actual)
        actual += DURACION
    return inicios


def fecha_texto(dt: datetime) -> str:
    """`30/01/2024`, in local time, as the bitácora shows it."""
    return local(dt).strftime("%d/%m/%Y")


def hora_texto(inicio: datetime) -> str:
    """`13:30 hrs-13:45 hrs`, as the bitácora shows it."""
    ini = local(inicio)
    return f"{ini:%H:%M} hrs-{ini + DURACION:%H:%M} hrs"


def registro_texto(dt: datetime) -> str:
    """`24/01/2024 15:53:49`, in local time."""
    return local(dt).strftime("%d/%m/%Y %H:%M:%S")


def fecha_larga(dt: datetime) -> str:
    """`martes 30 de enero de 2024` (babel has no weekday+date pattern in this exact form)."""
    d = local(dt)
    return f"{_DIAS[d.weekday()]} {d.day} de {_MESES[d.month - 1]} de {d.year}"


def validar_inicio(inicio: datetime, *, ahora: datetime) -> datetime:
    """Check that `inicio` is a real, future slot; return it in UTC.

    A naive `inicio` is read as Mexico City time (what a caller means by "13:30")."""
    if inicio.tzinfo is None:
        inicio = inicio.replace(tzinfo=zona())
    try:
        ini_local = inicio.astimezone(zona())
        fuera = ini_local - utc(ahora) > HORIZONTE
    except (OverflowError, ValueError):
        fuera = True
    if fuera:
        raise ReglaIncumplida("Las citas se agendan con un máximo de 90 días de anticipación; "
                              "elija una fecha más próxima.", "fuera_de_horizonte")
    motivo = motivo_inhabil(ini_local.date())
    if motivo:
        raise ReglaIncumplida(
            f"No hay citas el {fecha_larga(ini_local)} porque {motivo}. "
            "Elija un día hábil, de lunes a viernes.",
            "dia_inhabil",
        )
    if ini_local not in inicios_del_dia(ini_local.date()):
        raise ReglaIncumplida(
            "Las citas son cada 15 minutos, de 8:30 a 15:30 horas (por ejemplo 13:30 o 13:45). "
            "Elija uno de los horarios disponibles.",
            "horario_invalido",
        )
    if utc(inicio) <= utc(ahora):
        raise ReglaIncumplida("Ese horario ya pasó; elija uno posterior.", "horario_pasado")
    return utc(inicio)


@dataclass(frozen=True)
class Horario:
    inicio: datetime  # aware, local time
    lugares_disponibles: int

    @property
    def fin(self) -> datetime:
        return self.inicio + DURACION


def ocupacion(
    session: Session, *, oficina_id: int, desde: datetime, hasta: datetime
) -> dict[datetime, int]:
    """Taken places per slot start (UTC) between two instants."""
    filas = session.execute(
        select(Cita.inicio, func.count())
        .where(Cita.oficina_id == oficina_id, Cita.lugar.is_not(None),
               Cita.inicio >= utc(desde), Cita.inicio < utc(hasta))
        .group_by(Cita.inicio)
    ).all()
    return {utc(inicio): n for inicio, n in filas}


def horarios_libres(
    session: Session,
    *,
    oficina: Oficina,
    desde: date,
    hasta: date,
    ahora: datetime,
    limite: int,
) -> list[Horario]:
    """The next free slots of an office between two dates (inclusive), earliest first."""
    if hasta < desde:
        raise ReglaIncumplida(
            "La fecha final debe ser igual o posterior a la inicial.", "rango_invalido"
        )
    if (hasta - desde).days > MAX_DIAS_CONSULTA:
        raise ReglaIncumplida(
            f"Consulte como máximo {MAX_DIAS_CONSULTA} días a la vez.",
            "rango_demasiado_amplio",
        )
    hoy = local(ahora).date()
    ultimo = hoy + HORIZONTE
    # A range wholly outside [today, horizon] is a question with no possible answer:
    # say why instead of an empty list. A range that overlaps it is clipped to it.
    if hasta < hoy:
        raise ReglaIncumplida(
            "Esas fechas ya pasaron; consulte horarios de hoy en adelante.", "rango_pasado"
        )
    if desde > ultimo:
        raise ReglaIncumplida(
            "Las citas se agendan con un máximo de 90 días de anticipación; consulte fechas hasta "
            f"el {fecha_larga(datetime.combine(ultimo, time(12), tzinfo=zona()))}.",
            "fuera_de_horizonte",
        )
    hasta = min(hasta, ultimo)
    desde = max(desde, hoy)
    inicio_rango = datetime.combine(desde, time(0), tzinfo=zona())
    fin_rango = datetime.combine(hasta + timedelta(days=1), time(0), tzinfo=zona())
    tomados = ocupacion(session, oficina_id=oficina.id, desde=inicio_rango, hasta=fin_rango)
    libres: list[Horario] = []
    dia = desde
    while dia <= hasta and len(libres) < limite:
        for ini in inicios_del_dia(dia):
            if utc(ini) <= utc(ahora):
                continue
            disponibles = oficina.ventanillas - tomados.get(utc(ini), 0)
            if disponibles > 0:
                libres.append(Horario(inicio=ini, lugares_disponibles=disponibles))
                if len(libres) >= limite:
                    break
        dia += timedelta(days=1)
    return libres
