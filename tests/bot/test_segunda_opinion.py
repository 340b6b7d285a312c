"""bot.nlu.segunda_opinion: DIET's intent averaged with a linear model's."""

from __future__ import annotations

from fractions import Fraction

import pytest
import skops.io as sio
import yaml
from conftest import ROOT
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.segunda_opinion import ARCHIVO, SegundaOpinion, combinar

EJEMPLOS = {
    "consultar_saldo": ["cuanto debo", "mi saldo por favor", "que saldo tengo del prestamo",
                        "cuánto me falta por pagar", "quiero saber mi adeudo"],
    "agendar_cita": ["quiero una cita", "agendar cita por favor", "necesito sacar cita",
                     "me da una cita para el préstamo", "hacer una cita"],
    "saludar": ["hola", "buenos días", "buenas tardes", "qué tal", "hola buen día"],
}


def _componente(tmp_path, **config):
    almacen = LocalModelStorage(tmp_path)
    recurso = Resource("segunda_opinion")
    contexto = ExecutionContext(GraphSchema({}), "prueba")
    return almacen, recurso, contexto, SegundaOpinion.create(config, almacen, recurso, contexto)


def _entrenado(tmp_path, **config):
    almacen, recurso, contexto, componente = _componente(tmp_path, **config)
    datos = TrainingData([Message(data={"text": t, "intent": i})
                          for i, textos in EJEMPLOS.items() for t in textos])
    componente.train(datos)
    return SegundaOpinion.load(config, almacen, recurso, contexto)


def _mensaje(texto, ranking):
    m = Message(data={"text": texto})
    m.set("intent", dict(ranking[0]))
    m.set("intent_ranking", ranking)
    return m


def test_combinar_promedia_por_intencion_y_ordena():
    ranking = combinar(
        [{"name": "a", "confidence": 0.9}, {"name": "b", "confidence": 0.1}],
        {"a": 0.2, "b": 0.7, "c": 0.1},
        0.5,
    )
    assert [r["name"] for r in ranking] == ["a", "b", "c"]
    assert [round(r["confidence"], 6) for r in ranking] == [0.55, 0.4, 0.05]


def test_combinar_un_desacuerdo_baja_la_confianza_bajo_el_umbral_de_fallback():
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
    umbral = next(c["threshold"] for c in pipeline if c["name"] == "FallbackClassifier")
    ranking = combinar([{"name": "detener", "confidence": 0.95}],
                       {"cancelar_cita": 0.9, "detener": 0.05}, 0.5)
    assert ranking[0]["confidence"] < umbral


def test_entrenado_y_cargado_corrige_a_diet_donde_el_texto_es_claro(tmp_path):
    componente = _entrenado(tmp_path)
    assert componente.modelo is not None
    # DIET leaning the wrong way, without much conviction.
    m = _mensaje("cuánto debo de mi préstamo", [
        {"name": "agendar_cita", "confidence": 0.55},
        {"name": "consultar_saldo", "confidence": 0.4},
        {"name": "saludar", "confidence": 0.05},
    ])
    componente.process([m])
    assert m.get("intent")["name"] == "consultar_saldo"
    confianzas = [r["confidence"] for r in m.get("intent_ranking")]
    assert confianzas == sorted(confianzas, reverse=True)
    assert sum(confianzas) == pytest.approx(1.0)
    assert m.get("intent")["confidence"] == confianzas[0]


def test_el_ranking_respeta_su_largo(tmp_path):
    componente = _entrenado(tmp_path, ranking_length=2)
    m = _mensaje("hola", [{"name": "saludar", "confidence": 1.0}])
    componente.process([m])
    assert [r["name"] for r in m.get("intent_ranking")][:1] == ["saludar"]
    assert len(m.get("intent_ranking")) == 2


def test_sin_ranking_de_diet_no_toca_el_mensaje(tmp_path):
    componente = _entrenado(tmp_path)
    m = Message(data={"text": "hola"})
    componente.process([m])
    assert m.get("intent") is None and m.get("intent_ranking") is None


def test_sin_entrenar_diet_decide_solo(tmp_path):
    almacen, recurso, contexto, _ = _componente(tmp_path)
    componente = SegundaOpinion.load({}, almacen, recurso, contexto)
    ranking = [{"name": "saludar", "confidence": 0.8}, {"name": "despedir", "confidence": 0.2}]
    m = _mensaje("hola", ranking)
    componente.process([m])
    assert m.get("intent_ranking") == ranking


def test_un_archivo_con_tipos_no_confiables_no_se_carga(tmp_path):
    almacen, recurso, contexto, _ = _componente(tmp_path)
    with almacen.write_to(recurso) as carpeta:
        sio.dump({"trampa": Fraction(1, 3)}, carpeta / ARCHIVO)
    assert SegundaOpinion.load({}, almacen, recurso, contexto).modelo is None


def test_config_lo_pone_tras_diet_y_antes_del_fallback():
    nombres = [c["name"] for c in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]]
    i = nombres.index("bot.nlu.segunda_opinion.SegundaOpinion")
    assert nombres[i - 1] == "DIETClassifier"
    assert i < nombres.index("FallbackClassifier")
