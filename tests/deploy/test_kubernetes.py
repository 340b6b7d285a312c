"""The Kubernetes deployment (deploy/kubernetes, kustomize) as the cluster would get it.

The production overlay is rendered with `kubectl kustomize` (client only, no
cluster), every object is validated against the Kubernetes API schema
(kubernetes-validate, strict: an unknown field fails), and the rendered
objects are checked against the process contract: images, commands, probes,
replicas, the env contract (every setting from the ConfigMap or the Secret
`capp-secretos`, no secret value anywhere), HPAs, Ingress routes, Jobs.
The Dockerfiles are read as far as the manifests depend on them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from backend.settings import BackendSettings
from ivr.settings import IVRSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAY = DEPLOY / "kubernetes" / "overlays" / "produccion"
SECRETOS_EJEMPLO = DEPLOY / "kubernetes" / "secretos.env.example"
SECRET = "capp-secretos"
# oldest version the manifests target (CronJob timeZone is GA since 1.27)
KUBERNETES_VERSION = "1.30.0"

APP, RASA_IMG = "capp-app", "capp-rasa"

# Every Deployment: image, exact command, working dir, probes as (kind, path, port),
# the exact set of secrets it gets (least privilege), ConfigMap keys it relies on,
# and its replica bounds in the production overlay.
DEPLOYMENTS: dict[str, dict[str, Any]] = {
    "backend": {
        "image": APP,
        "command": ["uvicorn", "backend.main:app", "--host", "0.0.0.0", "--port", "8000"],
        "workdir": "/app",
        "port": 8000,
        "readiness": ("httpGet", "/health", 8000),
        "liveness": ("httpGet", "/chat", 8000),
        "secrets": {
            "DATABASE_URL",
            "TOKEN_SECRET",
            "NIP_PEPPER",
            "NIP_PEPPERS_ANTERIORES",
            "BANCO_WEBHOOK_SECRET",
            "CAPP_INTERNO_SECRET",
        },
        "config": {"BACKEND_PUBLIC_URL", "RASA_PUBLIC_URL", "TIMEZONE"},
        "replicas": (2, None),
    },
    "ivr": {
        "image": APP,
        "command": ["uvicorn", "ivr.main:app", "--host", "0.0.0.0", "--port", "8001"],
        "workdir": "/app",
        "port": 8001,
        "readiness": ("httpGet", "/health", 8001),
        "liveness": ("httpGet", "/health", 8001),
        "secrets": {"TWILIO_AUTH_TOKEN", "RASA_TOKEN"},
        "config": {"RASA_URL", "BACKEND_URL", "PUBLIC_BASE_URL", "IVR_REGISTRO_PATH"},
        "replicas": (1, None),
    },
    "notificaciones": {
        "image": APP,
        "command": ["python", "-m", "backend.notificaciones", "--loop"],
        "workdir": "/app",
        "port": None,
        "readiness": None,
        "liveness": None,
        "secrets": {"DATABASE_URL", "TOKEN_SECRET", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"},
        "config": {"TWILIO_FROM_SMS", "TWILIO_FROM_WHATSAPP", "BACKEND_PUBLIC_URL"},
        "replicas": (1, 1),
    },
    "rasa": {
        "image": RASA_IMG,
        "command": ["/app/scripts/rasa.sh"],
        "workdir": "/app",
        "port": 5005,
        "readiness": ("httpGet", "/webhooks/ivr/", 5005),
        "liveness": ("httpGet", "/", 5005),
        "secrets": {
            "TRACKER_STORE_URL",
            "LOCK_STORE_URL",
            "RASA_TOKEN",
            "RASA_ADMIN_TOKEN",
            "ACTIONS_TOKEN",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_ACCOUNT_SID",
        },
        "config": {
            "ACTION_ENDPOINT_URL",
            "PUBLIC_BASE_URL",
            "TWILIO_FROM_WHATSAPP",
            "TRACKER_RETENCION_DIAS",
            "RASA_HOST",
            "RASA_PORT",
            "ACCIONES_TIMEOUT",
            "TICKET_LOCK_LIFETIME",
        },
        "replicas": (2, None),
    },
    "actions": {
        "image": RASA_IMG,
        "command": ["/app/scripts/acciones.sh"],
        "workdir": "/app",
        "port": 5055,
        "readiness": ("httpGet", "/health", 5055),
        "liveness": ("httpGet", "/health", 5055),
        "secrets": {"ACTIONS_TOKEN", "ACCIONES_CLAVE"},
        "config": {"BACKEND_URL", "ACTIONS_PORT", "ACTIONS_HOST"},
        "replicas": (2, None),
    },
}

# Public routes: path -> (Service, port). Nothing else may reach Rasa from outside.
RUTAS = {
    "/ivr": ("ivr", 8001),
    "/webhooks/whatsapp": ("rasa", 5005),
    "/socket.io": ("rasa", 5005),
    "/chat": ("backend", 8000),
    "/api": ("backend", 8000),
}

# Settings whose code default is the production value (nothing to configure).
DEFAULTS_CONSERVADOS = {
    # backend identity rules (DESIGN.md)
    "token_ttl_minutes", "nip_max_intentos", "bloqueo_minutos",
    "ivr_idioma", "ivr_gather_timeout", "ivr_max_turnos",  # IVR tuning
}


# ----------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def objetos() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail(
            "kubectl no está en el PATH: instale el cliente de Kubernetes (solo el cliente, "
            "sin clúster) para renderizar deploy/kubernetes con `kubectl kustomize`."
        )
    salida = subprocess.run(
        [kubectl, "kustomize", str(OVERLAY)], capture_output=True, text=True, timeout=60
    )
    assert salida.returncode == 0, f"kubectl kustomize falló:\n{salida.stderr}"
    docs = [d for d in yaml.safe_load_all(salida.stdout) if d]
    assert docs, "kustomize no produjo ningún objeto"
    return docs


def _de(objetos: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objetos if o["kind"] == kind}


@pytest.fixture(scope="module")
def deployments(objetos: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return _de(objetos, "Deployment")


@pytest.fixture(scope="module")
def configmap(objetos: list[dict[str, Any]]) -> dict[str, Any]:
    mapas = [o for o in objetos if o["kind"] == "ConfigMap"]
    assert len(mapas) == 1, [m["metadata"]["name"] for m in mapas]
    return mapas[0]


@pytest.fixture(scope="module")
def claves_secretas() -> set[str]:
    claves = set()
    for linea in SECRETOS_EJEMPLO.read_text(encoding="utf-8").splitlines():
        linea = linea.strip()
        if linea and not linea.startswith("#"):
            clave, _, valor = linea.partition("=")
            assert valor == "", f"secretos.env.example no debe traer valores: {clave}"
            claves.add(clave)
    return claves


def _contenedor(plantilla: dict[str, Any]) -> dict[str, Any]:
    contenedores = plantilla["spec"]["containers"]
    assert len(contenedores) == 1
    return contenedores[0]


def _plantillas(objetos: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Pod templates of every workload (Deployment, Job, CronJob) by name."""
    plantillas = {}
    for o in objetos:
        if o["kind"] in ("Deployment", "Job"):
            plantillas[o["metadata"]["name"]] = o["spec"]["template"]
        elif o["kind"] == "CronJob":
            plantillas[o["metadata"]["name"]] = o["spec"]["jobTemplate"]["spec"]["template"]
    return plantillas


def _cadenas(valor: Any) -> list[str]:
    if isinstance(valor, str):
        return [valor]
    if isinstance(valor, dict):
        return [c for k, v in valor.items() for c in (*_cadenas(k), *_cadenas(v))]
    if isinstance(valor, list):
        return [c for v in valor for c in _cadenas(v)]
    return []


def _cantidad(q: str | int) -> float:
    """A Kubernetes quantity (cpu '500m', '2'; memory '512Mi', '3Gi') as a number."""
    unidades = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "": 1}
    numero, unidad = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi|)", str(q)).groups()  # type: ignore[union-attr]
    return float(numero) * unidades[unidad]


# ------------------------------------------------------------ schema, kinds


def test_every_object_is_valid_against_the_kubernetes_schema(objetos: list[dict[str, Any]]) -> None:
    errores = []
    for o in objetos:
        try:
            kubernetes_validate.validate(o, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errores.append(f"{o['kind']}/{o['metadata']['name']}: {exc.message}")
    assert not errores, "\n".join(errores)


def test_the_overlay_renders_the_expected_objects_in_one_namespace(
    objetos: list[dict[str, Any]],
) -> None:
    conteo = Counter(o["kind"] for o in objetos)
    assert conteo["Deployment"] == 5 and set(_de(objetos, "Deployment")) == set(DEPLOYMENTS)
    assert conteo["HorizontalPodAutoscaler"] == 2
    assert conteo["Job"] == 1 and conteo["CronJob"] == 1
    assert conteo["Secret"] == 0, "los secretos los crea el operador; ninguno va en los manifiestos"
    espacios = {o["metadata"].get("namespace") for o in objetos if o["kind"] != "Namespace"}
    assert espacios == {"capp"}
    assert set(_de(objetos, "Namespace")) == {"capp"}


# -------------------------------------------------------------- deployments


@pytest.mark.parametrize("nombre", sorted(DEPLOYMENTS))
def test_deployment_image_command_and_replicas(deployments: dict[str, Any], nombre: str) -> None:
    esperado = DEPLOYMENTS[nombre]
    d = deployments[nombre]
    c = _contenedor(d["spec"]["template"])
    repositorio, _, etiqueta = c["image"].rpartition(":")
    assert repositorio.split("/")[-1] == esperado["image"]
    assert "/" in repositorio, "la imagen de producción viene de un registro"
    assert etiqueta and etiqueta != "latest" and "/" not in etiqueta, "etiqueta fija por versión"
    assert c["command"] == esperado["command"]
    assert "args" not in c
    assert c["workingDir"] == esperado["workdir"]
    minimo, maximo = esperado["replicas"]
    assert d["spec"]["replicas"] >= minimo
    if maximo is not None:
        assert d["spec"]["replicas"] <= maximo
    selector = d["spec"]["selector"]["matchLabels"]
    assert selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()


def test_notificaciones_is_exactly_one_worker_never_two_at_once(
    objetos: list[dict[str, Any]], deployments: dict[str, Any]
) -> None:
    d = deployments["notificaciones"]
    assert d["spec"]["replicas"] == 1
    assert d["spec"]["strategy"]["type"] == "Recreate"
    objetivos = {
        h["spec"]["scaleTargetRef"]["name"]
        for h in _de(objetos, "HorizontalPodAutoscaler").values()
    }
    assert "notificaciones" not in objetivos


def _puerto(c: dict[str, Any], puerto: int | str) -> int:
    if isinstance(puerto, int):
        return puerto
    return next(p["containerPort"] for p in c["ports"] if p["name"] == puerto)


def _sonda(c: dict[str, Any], sonda: dict[str, Any] | None) -> tuple[str, str | None, int] | None:
    if sonda is None:
        return None
    if "httpGet" in sonda:
        return ("httpGet", sonda["httpGet"]["path"], _puerto(c, sonda["httpGet"]["port"]))
    if "tcpSocket" in sonda:
        return ("tcpSocket", None, _puerto(c, sonda["tcpSocket"]["port"]))
    return ("exec", None, 0)


@pytest.mark.parametrize("nombre", sorted(DEPLOYMENTS))
def test_deployment_probes_hit_the_right_paths_and_ports(
    deployments: dict[str, Any], nombre: str
) -> None:
    esperado = DEPLOYMENTS[nombre]
    c = _contenedor(deployments[nombre]["spec"]["template"])
    assert _sonda(c, c.get("readinessProbe")) == esperado["readiness"]
    assert _sonda(c, c.get("livenessProbe")) == esperado["liveness"]
    if esperado["port"] is not None:
        assert [p["containerPort"] for p in c["ports"]] == [esperado["port"]]
    else:
        assert "ports" not in c


def test_rasa_gets_time_to_load_its_model_before_liveness_counts(
    deployments: dict[str, Any],
) -> None:
    c = _contenedor(deployments["rasa"]["spec"]["template"])
    arranque = c["startupProbe"]
    assert _sonda(c, arranque) == ("httpGet", "/", 5005)
    assert arranque["periodSeconds"] * arranque["failureThreshold"] >= 180


@pytest.mark.parametrize("nombre", sorted(DEPLOYMENTS))
def test_env_comes_only_from_the_configmap_and_the_secret(
    deployments: dict[str, Any], configmap: dict[str, Any], claves_secretas: set[str], nombre: str
) -> None:
    esperado = DEPLOYMENTS[nombre]
    c = _contenedor(deployments[nombre]["spec"]["template"])
    assert c["envFrom"] == [{"configMapRef": {"name": configmap["metadata"]["name"]}}]
    secretos = set()
    for var in c.get("env", []):
        assert "value" not in var, f"{nombre}: {var['name']} tiene un valor literal"
        ref = var["valueFrom"]["secretKeyRef"]
        assert ref == {"name": SECRET, "key": var["name"]}
        secretos.add(var["name"])
    # Exactly these: each process gets the secrets it uses and no other.
    assert secretos == esperado["secrets"]
    assert secretos <= claves_secretas, "cada secreto usado está en secretos.env.example"
    assert esperado["config"] <= configmap["data"].keys()


def test_rasa_gets_the_tracker_store_and_the_lock_store_from_the_secret(
    deployments: dict[str, Any],
) -> None:
    c = _contenedor(deployments["rasa"]["spec"]["template"])
    refs = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in c["env"]}
    assert refs["TRACKER_STORE_URL"] == {"name": SECRET, "key": "TRACKER_STORE_URL"}
    assert refs["LOCK_STORE_URL"] == {"name": SECRET, "key": "LOCK_STORE_URL"}


def test_command_variables_are_defined_in_the_container(objetos: list[dict[str, Any]]) -> None:
    # Kubernetes leaves an undefined $(VAR) as is: Rasa would run with the
    # literal token "$(RASA_ADMIN_TOKEN)".
    for nombre, plantilla in _plantillas(objetos).items():
        c = _contenedor(plantilla)
        definidas = {v["name"] for v in c.get("env", [])}
        for var in re.findall(r"\$\(([A-Z0-9_]+)\)", " ".join(c["command"])):
            assert var in definidas, f"{nombre}: $({var}) no está en env"


def test_no_secret_value_anywhere_in_the_rendered_output(
    objetos: list[dict[str, Any]], configmap: dict[str, Any], claves_secretas: set[str]
) -> None:
    assert not claves_secretas & configmap["data"].keys(), "un secreto quedó en el ConfigMap"
    for o in objetos:
        for texto in _cadenas(o):
            assert not re.search(r"://[^/\s@]*:[^/\s@]+@", texto), (
                f"credenciales en una URL de {o['kind']}"
            )
            assert not re.search(r"(?i)(password|token|secret|pepper)\s*[=:]\s*\S{6,}", texto), (
                texto
            )
    for plantilla in _plantillas(objetos).values():
        for var in _contenedor(plantilla).get("env", []):
            assert "value" not in var


def test_the_secret_example_lists_the_whole_secret_contract(claves_secretas: set[str]) -> None:
    assert claves_secretas == {
        "DATABASE_URL",
        "TRACKER_STORE_URL",
        "LOCK_STORE_URL",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_ACCOUNT_SID",
        "RASA_TOKEN",
        "RASA_ADMIN_TOKEN",
        "ACTIONS_TOKEN",
        "ACCIONES_CLAVE",
        "TOKEN_SECRET",
        "NIP_PEPPER",
        "NIP_PEPPERS_ANTERIORES",
        "BANCO_WEBHOOK_SECRET",
        "CAPP_INTERNO_SECRET",
    }


def test_every_backend_and_ivr_setting_is_configured_or_deliberately_left_at_its_default(
        configmap: dict[str, Any], claves_secretas: set[str]) -> None:
    configuradas = {k.lower() for k in configmap["data"].keys() | claves_secretas}
    for modelo in (BackendSettings, IVRSettings):
        faltan = set(modelo.model_fields) - configuradas - DEFAULTS_CONSERVADOS
        assert not faltan, (
            f"{modelo.__name__}: {sorted(faltan)} no vienen del ConfigMap ni del Secret"
        )


def test_the_configmap_values_are_valid_settings(
    configmap: dict[str, Any], claves_secretas: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for clave, valor in configmap["data"].items():
        monkeypatch.setenv(clave, valor)
    for clave in claves_secretas:
        monkeypatch.setenv(clave, "x")
    backend = BackendSettings(_env_file=None)  # type: ignore[call-arg]
    ivr = IVRSettings(_env_file=None)  # type: ignore[call-arg]
    assert backend.backend_public_url == configmap["data"]["BACKEND_PUBLIC_URL"]
    assert ivr.rasa_url == "http://rasa:5005" and ivr.backend_url == "http://backend:8000"
    assert ivr.ivr_asesor_numero is None  # empty: transfers go to the Twilio queue


def test_internal_urls_point_at_services_that_exist(
    objetos: list[dict[str, Any]], configmap: dict[str, Any]
) -> None:
    servicios = _de(objetos, "Service")
    datos = configmap["data"]
    assert datos["ENTORNO"] == "produccion"
    for clave, ruta in (("BACKEND_URL", ""), ("RASA_URL", ""), ("ACTION_ENDPOINT_URL", "/webhook")):
        url = urlsplit(datos[clave])
        assert url.scheme == "http" and url.path == ruta
        servicio = servicios[url.hostname]
        assert url.port in [p["port"] for p in servicio["spec"]["ports"]]


@pytest.mark.parametrize("nombre", [n for n, e in sorted(DEPLOYMENTS.items()) if e["port"]])
def test_each_port_has_a_service_selecting_its_pods(
    objetos: list[dict[str, Any]], deployments: dict[str, Any], nombre: str
) -> None:
    servicio = _de(objetos, "Service")[nombre]
    etiquetas = deployments[nombre]["spec"]["template"]["metadata"]["labels"]
    assert servicio["spec"]["selector"].items() <= etiquetas.items()
    (puerto,) = servicio["spec"]["ports"]
    assert puerto["port"] == DEPLOYMENTS[nombre]["port"]
    assert (
        _puerto(_contenedor(deployments[nombre]["spec"]["template"]), puerto["targetPort"])
        == puerto["port"]
    )


def test_postgres_and_redis_are_external_services(objetos: list[dict[str, Any]]) -> None:
    servicios = _de(objetos, "Service")
    for nombre, puerto in (("postgres", 5432), ("redis", 6379)):
        s = servicios[nombre]["spec"]
        assert s["type"] == "ExternalName" and "." in s["externalName"]
        assert [p["port"] for p in s["ports"]] == [puerto]
    assert not any(o["kind"] == "StatefulSet" for o in objetos)


def test_every_container_has_requests_and_limits_and_runs_unprivileged(
    objetos: list[dict[str, Any]],
) -> None:
    for nombre, plantilla in _plantillas(objetos).items():
        assert plantilla["spec"]["securityContext"]["runAsNonRoot"] is True, nombre
        c = _contenedor(plantilla)
        recursos = c["resources"]
        for recurso in ("cpu", "memory"):
            assert _cantidad(recursos["requests"][recurso]) <= _cantidad(
                recursos["limits"][recurso]
            ), nombre
        assert c["securityContext"]["allowPrivilegeEscalation"] is False, nombre


# ---------------------------------------------------------- HPA and Ingress


@pytest.mark.parametrize("nombre", ["rasa", "actions"])
def test_hpa_scales_rasa_and_actions_on_cpu_never_below_two(
    objetos: list[dict[str, Any]], deployments: dict[str, Any], nombre: str
) -> None:
    hpa = _de(objetos, "HorizontalPodAutoscaler")[nombre]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": nombre,
    }
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    (metrica,) = hpa["spec"]["metrics"]
    assert (
        metrica["resource"]["name"] == "cpu"
        and metrica["resource"]["target"]["type"] == "Utilization"
    )
    # Utilization is relative to the request: without one the HPA cannot work.
    assert "cpu" in _contenedor(deployments[nombre]["spec"]["template"])["resources"]["requests"]
    assert deployments[nombre]["spec"]["replicas"] >= hpa["spec"]["minReplicas"]


def _rutas(objetos: list[dict[str, Any]]) -> dict[str, tuple[str, str, int | str, dict[str, str]]]:
    rutas = {}
    for ing in _de(objetos, "Ingress").values():
        anotaciones = ing["metadata"].get("annotations", {})
        for regla in ing["spec"]["rules"]:
            for p in regla["http"]["paths"]:
                assert p["pathType"] == "Prefix"
                assert p["path"] not in rutas, f"ruta duplicada {p['path']}"
                servicio = p["backend"]["service"]
                puerto = servicio["port"].get("number", servicio["port"].get("name"))
                rutas[p["path"]] = (regla["host"], servicio["name"], puerto, anotaciones)
    return rutas


def test_ingress_routes_each_public_path_to_its_service(objetos: list[dict[str, Any]]) -> None:
    servicios = _de(objetos, "Service")
    rutas = _rutas(objetos)
    assert set(rutas) == set(RUTAS)
    for ruta, (servicio, puerto) in RUTAS.items():
        _, nombre, ref, anotaciones = rutas[ruta]
        assert nombre == servicio
        (p,) = servicios[nombre]["spec"]["ports"]
        assert ref in (p["port"], p["name"]) and p["port"] == puerto
        assert "nginx.ingress.kubernetes.io/rewrite-target" not in anotaciones, (
            "Twilio firma la ruta original"
        )
    # Rasa's HTTP API and the ivr/rest channels stay inside the cluster.
    assert {r for r, (_, s, _, _) in rutas.items() if s == "rasa"} == {
        "/webhooks/whatsapp",
        "/socket.io",
    }


def test_socketio_is_sticky_and_the_host_matches_the_public_urls(objetos: list[dict[str, Any]],
                                                                 configmap: dict[str, Any]) -> None:
    rutas = _rutas(objetos)
    anotaciones = rutas["/socket.io"][3]
    assert anotaciones["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert anotaciones["nginx.ingress.kubernetes.io/session-cookie-name"]
    assert int(anotaciones["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 600  # websockets
    for ruta in set(RUTAS) - {"/socket.io"}:
        assert "nginx.ingress.kubernetes.io/affinity" not in rutas[ruta][3]
    hosts = {host for host, *_ in rutas.values()}
    assert len(hosts) == 1
    (host,) = hosts
    for clave in ("PUBLIC_BASE_URL", "BACKEND_PUBLIC_URL", "RASA_PUBLIC_URL"):
        url = urlsplit(configmap["data"][clave])
        assert (url.scheme, url.hostname, url.path) == ("https", host, "")
    for ing in _de(objetos, "Ingress").values():
        assert ing["spec"]["ingressClassName"] == "nginx"
        assert [t["hosts"] for t in ing["spec"]["tls"]] == [[host]]


def test_only_rasa_may_call_the_action_server(objetos: list[dict[str, Any]]) -> None:
    (politica,) = _de(objetos, "NetworkPolicy").values()
    assert politica["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "actions"}
    (regla,) = politica["spec"]["ingress"]
    assert regla["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "rasa"}}}]


# ------------------------------------------------------------------- jobs


def test_migrations_job_runs_alembic_with_the_app_image(objetos: list[dict[str, Any]]) -> None:
    job = _de(objetos, "Job")["migraciones"]
    c = _contenedor(job["spec"]["template"])
    assert c["image"].rpartition(":")[0].endswith("/" + APP)
    assert c["command"] == ["python", "-m", "backend.migrate"]
    assert (ROOT / "backend" / "migrate.py").is_file()
    assert [v["name"] for v in c["env"]] == ["DATABASE_URL"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_tracker_retention_cronjob(
    objetos: list[dict[str, Any]], configmap: dict[str, Any]
) -> None:
    cron = _de(objetos, "CronJob")["retencion-trackers"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert len(cron["spec"]["schedule"].split()) == 5
    c = _contenedor(cron["spec"]["jobTemplate"]["spec"]["template"])
    assert c["image"].rpartition(":")[0].endswith("/" + RASA_IMG)
    # Module name agreed with the Rasa tier work (issue 12); see README.
    assert c["command"] == ["python", "-m", "bot.almacenes", "retencion"]
    assert c["workingDir"] == "/app"
    assert [v["name"] for v in c["env"]] == ["TRACKER_STORE_URL"]
    assert int(configmap["data"]["TRACKER_RETENCION_DIAS"]) > 0


# -------------------------------------------------------------- Dockerfiles


def _instrucciones(ruta: Path) -> list[tuple[str, str]]:
    texto = re.sub(r"\\\n", " ", ruta.read_text(encoding="utf-8"))
    pares = []
    for linea in texto.splitlines():
        linea = linea.strip()
        if linea and not linea.startswith("#"):
            instruccion, _, resto = linea.partition(" ")
            pares.append((instruccion.upper(), resto.strip()))
    return pares


@pytest.mark.parametrize(("archivo", "base", "requisitos"), [
    ("app.Dockerfile", "python:3.11-slim", "requirements/app.txt"),
    ("rasa.Dockerfile", "python:3.10-slim", "requirements/rasa.txt"),
])
def test_dockerfiles_install_their_environment_and_run_unprivileged(archivo: str, base: str,
                                                                    requisitos: str) -> None:
    pasos = _instrucciones(DEPLOY / "docker" / archivo)
    assert pasos[0] == ("FROM", base)
    assert ("COPY", f"{requisitos} {requisitos}") in pasos
    assert any(i == "RUN" and f"pip install -r {requisitos}" in r for i, r in pasos)
    assert (ROOT / requisitos).is_file()
    assert ("COPY", ". .") in pasos
    usuarios = [r for i, r in pasos if i == "USER"]
    assert usuarios and usuarios[-1] not in ("root", "0")
    assert ("WORKDIR", "/app") in pasos
    # No secret is baked into an image.
    entorno = " ".join(r for i, r in pasos if i in ("ENV", "ARG"))
    assert not re.search(r"TOKEN|SECRET|PEPPER|DATABASE_URL|STORE_URL", entorno)
    ignorados = (DEPLOY / "docker" / f"{archivo}.dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".venv", ".venv-rasa", "var", ".git"} <= set(ignorados)


def test_the_rasa_image_bakes_the_model_where_the_deployment_loads_it(
    deployments: dict[str, Any],
) -> None:
    """The Deployment runs the Procfile's launcher, scripts/rasa.sh: the model,
    credentials and endpoints it names are where the image puts them, and it
    opens Rasa's HTTP API only behind RASA_ADMIN_TOKEN."""
    pasos = _instrucciones(DEPLOY / "docker" / "rasa.Dockerfile")
    c = _contenedor(deployments["rasa"]["spec"]["template"])
    lanzador = (ROOT / c["command"][0].removeprefix("/app/")).read_text(encoding="utf-8")
    modelo = re.search(r'RASA_MODEL:-([^}"]+)', lanzador).group(1)
    destino = Path(c["workingDir"]) / modelo
    assert ("COPY", f"bot/models/capp.tar.gz {destino.relative_to('/app')}") in pasos
    # The image's own working directory is the Deployment's: the repository root,
    # where config.yml, domain.yml and rasa_sdk_plugins/ are.
    assert [r for i, r in pasos if i == "WORKDIR"][-1] == c["workingDir"] == "/app"
    assert (ROOT / "rasa_sdk_plugins" / "__init__.py").is_file()
    ignorados = (
        (DEPLOY / "docker" / "rasa.Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    )
    assert "!bot/models/capp.tar.gz" in ignorados
    for opcion in ("--credentials", "--endpoints"):
        archivo = re.search(rf"{opcion} (\S+)", lanzador).group(1)
        assert (ROOT / archivo).is_file()
    assert '--enable-api --auth-token="$RASA_ADMIN_TOKEN"' in lanzador  # a token may start with -
    assert "for secreto in RASA_ADMIN_TOKEN ACTIONS_TOKEN" in lanzador  # refuses to start without
    (cmd,) = [r for i, r in pasos if i == "CMD"]
    assert "/app/scripts/rasa.sh" in cmd
