"""NLU training data and config, checked with Rasa's own loaders.

Run: .venv-rasa/bin/python -m pytest tests/bot/test_nlu_data.py -q
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from rasa.nlu.utils.pattern_utils import extract_patterns
from rasa.shared.data import get_data_files, is_nlu_file
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import read_yaml_file

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
HELDOUT = ROOT / "bench" / "data" / "nlu_heldout.yml"
# A second held-out set, written from the intent descriptions by an author who
# never saw the training data (bench/nlu.py reports both).
HELDOUT_INDEP = ROOT / "bench" / "data" / "nlu_heldout_indep.yml"
# A third one, from the seeds and how callers talk, rich in CURPs and claves.
HELDOUT_HABLA = ROOT / "bench" / "data" / "nlu_heldout_habla.yml"

# DESIGN.md, "Contracts": none of these may be renamed.
INTENTS = [
    "saludar",
    "despedir",
    "afirmar",
    "negar",
    "agradecer",
    "preguntar_si_es_bot",
    "hablar_con_asesor",
    "pedir_ayuda",
    "fuera_de_alcance",
    "informar",
    "detener",
    "consultar_saldo",
    "consultar_condiciones_prestamo",
    "consultar_historial_prestamos",
    "simular_prestamo",
    "consultar_requisitos",
    "agendar_cita",
    "consultar_citas",
    "cancelar_cita",
    "reimprimir_cita",
    "generar_fopi",
    "regularizar_pagos",
    "registro_oficina_virtual",
]
FAQ_KEYS = [
    "faq/tiempo_deposito",
    "faq/buro_credito",
    "faq/forma_pago",
    "faq/prestamos_simultaneos",
    "faq/lugar_y_horario",
    "faq/duracion_tramite",
    "faq/contacto",
    "faq/tasa_interes",
]
ENTITIES = {
    "curp",
    "clave_cita",
    "monto",
    "plazo",
    "fecha",
    "oficina",
    "tipo_derechohabiente",
    "tipo_prestamo",
    "anios",
}
DEMO_CURPS = ["HEGG560427MVZRRL04", "BEML920313HMCLNS09", "PEGL890909MJCRMS08"]
MIN_EXAMPLES = 40

# The benchmark's own leak check (near duplicates, not only exact copies).
_spec = importlib.util.spec_from_file_location("bench_nlu", ROOT / "bench" / "nlu.py")
bench_nlu = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_nlu)

# Register markers. WhatsApp: shorthand and no accents; phone transcript:
# lowercase, no punctuation at all, and a filler or a number said in words.
WHATSAPP = re.compile(
    r"\b(xfa|porfa|plis|q|k|ke|kiero|kuanto|kuando|pa|x|grax|ok|ps|aki|oie|ofi|qnas|bye|bai|nel|sip"
    r"|nop|thx|ty|m|tmb|d|xq)\b"
    r"|(\w)\2\2"        # holaaa, siii
    r"|^[^¿]*\?$"        # a question typed without the opening mark
    r"|!!")
FILLERS = re.compile(r"^(este|mmm|pues|oiga|bueno|eh|ah|ps|si bueno|no este)\b")


@pytest.fixture(scope="module")
def training() -> TrainingData:
    # bot/data also holds stories and rules: load only its NLU files.
    files = get_data_files([str(BOT / "data")], is_nlu_file)
    assert files
    return TrainingData().merge(*[load_data(f) for f in files])


@pytest.fixture(scope="module", params=[HELDOUT, HELDOUT_INDEP, HELDOUT_HABLA],
                ids=["heldout", "heldout_indep", "heldout_habla"])
def heldout(request) -> TrainingData:
    return load_data(str(request.param))


def label(message) -> str:
    return message.get("intent_response_key") or message.get("intent")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def patterns(training: TrainingData) -> dict[str, re.Pattern]:
    found = extract_patterns(training, use_lookup_tables=False, use_only_entities=True)
    names = [p["name"] for p in found]
    assert sorted(names) == ["clave_cita", "curp"], names
    return {p["name"]: re.compile(p["pattern"]) for p in found}


def matches(pattern: re.Pattern, text: str) -> list[str]:
    return [m.group(0) for m in pattern.finditer(text)]


def test_every_intent_and_faq_key_has_enough_examples(training):
    counts = Counter(label(m) for m in training.intent_examples)
    too_few = {name: counts.get(name, 0) for name in INTENTS + FAQ_KEYS
               if counts.get(name, 0) < MIN_EXAMPLES}
    assert too_few == {}


def test_no_unknown_intents_and_every_faq_key_has_an_answer(training):
    labels = {label(m) for m in training.intent_examples}
    # More intents may be added later (DESIGN.md); every retrieval key needs an answer.
    assert labels >= set(INTENTS) | set(FAQ_KEYS)
    faq_keys = {lbl for lbl in labels if lbl.startswith("faq/")}
    assert set(training.responses) == {f"utter_{key}" for key in faq_keys}


def test_faq_answers_have_web_whatsapp_and_voice_variants(training):
    for name, variants in training.responses.items():
        channels = [v.get("channel") for v in variants]
        assert sorted(channels, key=str) == sorted([None, "ivr", "whatsapp"], key=str), name
        voice = next(v["text"] for v in variants if v.get("channel") == "ivr")
        assert not re.search(
            r"https?://|www\.|@|\*|_|[\U0001F300-\U0001FAFF\u2600-\u27BF]", voice
        ), (name, voice)


def test_contact_answer_spells_the_email_for_voice(training):
    variants = training.responses["utter_faq/contacto"]
    web = next(v["text"] for v in variants if not v.get("channel"))
    voice = next(v["text"] for v in variants if v.get("channel") == "ivr")
    assert "capp@issste.gob.mx" in web and "55 4000 1000" in web
    assert "capp arroba issste punto gob punto mx" in voice


def test_no_example_is_repeated_across_intents(training):
    seen: dict[str, set[str]] = {}
    for m in training.intent_examples:
        seen.setdefault(normalise(m.get("text")), set()).add(label(m))
    assert {t: ls for t, ls in seen.items() if len(ls) > 1} == {}


def test_heldout_covers_every_label_and_never_appears_in_training(training, heldout):
    counts = Counter(label(m) for m in heldout.intent_examples)
    assert {n: counts.get(n, 0) for n in INTENTS + FAQ_KEYS if counts.get(n, 0) < 8} == {}
    train = [(m.get("text"), label(m)) for m in training.intent_examples]
    held = [(m.get("text"), label(m)) for m in heldout.intent_examples]
    leaked = bench_nlu.leaked_pairs(train, [("heldout", held)])
    assert [(p["heldout"], p["training"], p["reason"]) for p in leaked] == []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("tengo quincenas sin pagar del préstamo", "tengo quincenas sin pagar del crédito"),
        ("estoy pensionada", "pues soy pensionada"),
        (
            "qué tasa me aplicaron en mi préstamo",
            "¿Qué tasa de interés me aplicaron en mi préstamo vigente?",
        ),
        ("cuanto dura el tramite", "este cuánto dura el trámite xfa"),
        ("kiero cancelar mi cita", "Quiero cancelar mi cita"),
    ],
)
def test_leak_check_catches_near_duplicates(a, b):
    assert bench_nlu.near_duplicate(bench_nlu.canonical(a), bench_nlu.canonical(b))


@pytest.mark.parametrize(("a", "b"), [
    ("anula mi cita", "cancela mi cita"),
    ("que dias abren las oficinas", "a qué hora abren las oficinas"),
    ("cuánto debo de mi préstamo", "cuánto me descuentan de mi préstamo"),
])
def test_leak_check_keeps_different_sentences_apart(a, b):
    assert bench_nlu.near_duplicate(bench_nlu.canonical(a), bench_nlu.canonical(b)) is None


def test_no_near_identical_examples_within_an_intent(training):
    """Two examples that differ only in accents, fillers, articles or WhatsApp
    spelling are one example twice: they inflate cross-validation."""
    seen: dict[tuple[str, str], str] = {}
    twins = []
    for m in training.intent_examples:
        words = bench_nlu.canonical(m.get("text"))
        key = (label(m), " ".join(words))
        if len(words) >= 2 and key in seen:
            twins.append((seen[key], m.get("text")))
        seen.setdefault(key, m.get("text"))
    assert twins == []


def test_every_intent_has_whatsapp_and_phone_examples(training):
    registers: dict[str, Counter] = {}
    for m in training.intent_examples:
        text = m.get("text")
        found = registers.setdefault(label(m), Counter())
        if WHATSAPP.search(text.lower()):
            found["whatsapp"] += 1
        if text == text.lower() and not re.search(r"[^\w\s]", text) and FILLERS.search(text):
            found["voz"] += 1
    # Short answers (informar, afirmar...) and every faq key included.
    missing = {name: dict(registers.get(name, {})) for name in INTENTS + FAQ_KEYS
               if registers.get(name, Counter())["whatsapp"] < 3
               or registers.get(name, Counter())["voz"] < 3}
    assert missing == {}


def test_entities_are_the_allowed_ones_and_all_used(training, heldout):
    assert training.entities == ENTITIES
    assert heldout.entities <= ENTITIES
    # The NIP is taken from the text by the form; it is never an entity.
    assert "nip" not in {s for s in training.entity_synonyms.values()}


def test_nip_answers_are_informar_without_entities(training):
    nip_examples = [m for m in training.intent_examples
                    if re.search(r"\bnip\b", m.get("text").lower())]
    assert len(nip_examples) >= 3
    for m in nip_examples:
        assert m.get("intent") == "informar"
        assert not m.get("entities"), m.get("text")


def test_curp_regex_matches_the_demo_curps_in_any_case(training):
    curp = patterns(training)["curp"]
    for c in DEMO_CURPS:
        assert matches(curp, f"mi curp es {c} gracias") == [c]
        assert matches(curp, f"{c.lower()}") == [c.lower()]
    assert matches(curp, "la clave es CC3QZ8") == []
    assert matches(curp, "HEGG560427XVZRRL04") == []  # sex must be H or M


def test_clave_regex_needs_letters_and_digits_and_stays_out_of_curps(training):
    clave = patterns(training)["clave_cita"]
    assert matches(clave, "la clave es CC3QZ8") == ["CC3QZ8"]
    assert matches(clave, "z8yp3q") == ["z8yp3q"]
    for text in ["HEGG560427MVZRRL04", "mi nip 4821", "123456", "ABCDEF", "pido 100mil",
                 "quiero $20,000", "naci el 27/04/1956", "cambiar"]:
        assert matches(clave, text) == [], text


def test_annotated_curps_and_claves_match_their_regex(training):
    found = patterns(training)
    for m in training.intent_examples:
        for e in m.get("entities") or []:
            if e["entity"] in found:
                assert matches(found[e["entity"]], e["value"]) == [e["value"]], e


CURP_DIGITS = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"


def curp_check_digit(curp: str) -> str:
    """RENAPO's check digit over the first 17 characters."""
    total = sum(CURP_DIGITS.index(ch) * (18 - i) for i, ch in enumerate(curp[:17]))
    return str((10 - total % 10) % 10)


def test_curp_check_digit_helper_on_the_demo_curps():
    for c in DEMO_CURPS:
        assert curp_check_digit(c) == c[-1]
    assert curp_check_digit("HEGG560427MVZRRL05") != "5"


def test_heldout_habla_has_many_valid_curps_and_claves(training):
    found = patterns(training)
    data = load_data(str(HELDOUT_HABLA))
    values: dict[str, list[str]] = {}
    for m in data.intent_examples:
        for e in m.get("entities") or []:
            values.setdefault(e["entity"], []).append(e["value"])
            if e["entity"] in found:
                assert matches(found[e["entity"]], e["value"]) == [e["value"]], e
    assert len(values["curp"]) >= 25 and len(values["clave_cita"]) >= 20
    assert [c for c in values["curp"] if curp_check_digit(c.upper()) != c[-1]] == []
    # Typed in either case, alone or inside a longer sentence.
    assert any(c.islower() for c in values["curp"]) and any(
        k.islower() for k in values["clave_cita"]
    )
    assert set(values["tipo_derechohabiente"]) == {"asegurado", "pensionado"}
    assert set(values["tipo_prestamo"]) == {"primero", "renovacion"}


def write_json(path: Path, data) -> None:
    import json

    path.write_text(json.dumps(data))


def test_bench_entity_scores_mark_untrained_entities(tmp_path):
    row = {"precision": 1.0, "recall": 0.5, "f1-score": 0.667, "support": 4}
    write_json(tmp_path / "DIETClassifier_report.json",
               {"curp": row, "anios": {**row, "recall": 0.0}, "micro avg": row})
    write_json(tmp_path / "RegexEntityExtractor_report.json", {"curp": row, "fecha": row})
    write_json(tmp_path / "intent_report.json", {"saludar": row})
    scores = bench_nlu.entity_scores(tmp_path, {"curp", "fecha"}, {"curp"})
    assert scores["DIETClassifier"]["anios"] == "no entrenada"
    assert scores["DIETClassifier"]["curp"]["recall"] == 0.5
    assert "micro avg" not in scores["DIETClassifier"]
    assert set(scores["RegexEntityExtractor"]) == {"curp"}  # no pattern for fecha
    assert "intent" not in scores
    assert bench_nlu.entity_f1(tmp_path, {"curp"}, {"curp"})["DIETClassifier"] == {"curp": 0.667}


def test_bench_entity_combined_counts_a_span_any_extractor_found(tmp_path):
    curp = {"entity": "curp", "start": 8, "end": 26, "value": "x"}
    anios = {"entity": "anios", "start": 0, "end": 2, "value": "12"}
    diet_miss = {"text": "mi curp HEGG560427MVZRRL04", "entities": [curp],
                 "predicted_entities": [{**curp, "extractor": "RegexEntityExtractor"},
                                        {**curp, "end": 20, "extractor": "DIETClassifier"}]}
    false_hit = {"text": "clave", "entities": [],
                 "predicted_entities": [{"entity": "curp", "start": 0, "end": 5,
                                         "extractor": "DIETClassifier"}]}
    missed = {"text": "otra", "entities": [curp, anios], "predicted_entities": []}
    write_json(tmp_path / "DIETClassifier_errors.json", [diet_miss, false_hit, missed])
    write_json(tmp_path / "RegexEntityExtractor_successes.json", [diet_miss])
    write_json(tmp_path / "intent_errors.json", [{"text": "x", "intent": "saludar"}])
    combined = bench_nlu.entity_combined(tmp_path, {"curp"})
    # 1 of 2 CURPs found; 1 of 3 distinct predicted spans is right.
    assert combined["curp"] == {"recall": 0.5, "precision": 0.333, "support": 2, "predicted": 3}
    assert combined["anios"] == "no entrenada"
    result = {"macro_f1": 0.96, "entity_combined": combined, "entity_scores": {}}
    goals = bench_nlu.targets_met(result)
    assert goals["macro_f1"]["cumple"] is True
    assert goals["recall_curp"] == {"valor": 0.5, "objetivo": 0.98, "cumple": False}
    assert goals["recall_clave_cita"]["cumple"] is None  # no figure at all


def test_bench_target_falls_back_to_the_best_extractor_report():
    result = {"macro_f1": 0.9, "entity_combined": {},
              "entity_scores": {"DIETClassifier": {"clave_cita": {"recall": 0.4}},
                                "RegexEntityExtractor": {"clave_cita": {"recall": 0.99}}}}
    goals = bench_nlu.targets_met(result)
    assert goals["recall_clave_cita"]["cumple"] is True
    assert goals["macro_f1"]["cumple"] is False


def test_offices_lookup_and_synonyms(training):
    lookup = next(t for t in training.lookup_tables if t["name"] == "oficina")
    names = set(lookup["elements"])
    for office in ["Ciudad de México", "Mérida", "Merida", "San Luis Potosí", "San Luis Potosi",
                   "Tuxtla Gutiérrez", "Tuxtla Gutierrez", "Culiacán", "Culiacan", "Villahermosa"]:
        assert office in names
    synonyms = training.entity_synonyms
    assert synonyms["cdmx"] == synonyms["df"] == synonyms["ciudad de mexico"] == "Ciudad de México"
    assert synonyms["gdl"] == "Guadalajara"
    assert synonyms["queretaro"] == "Querétaro"


def test_informar_carries_every_entity_and_numbers_in_words(training):
    informar = [m for m in training.intent_examples if m.get("intent") == "informar"]
    values: dict[str, list[str]] = {}
    for m in informar:
        for e in m.get("entities") or []:
            values.setdefault(e["entity"], []).append(e["value"])
    assert set(values) == ENTITIES
    assert any(re.fullmatch(r"[a-záéíóú ]+", v) for v in values["monto"])  # "quince mil quinientos"
    assert any(re.fullmatch(r"[a-záéíóú ]+ quincenas", v) for v in values["plazo"])
    assert any(v.startswith("$") for v in values["monto"])
    assert any(re.fullmatch(r"\d{2}/\d{2}/\d{4}", v) for v in values["fecha"])


def test_config_has_fixed_seeds_and_the_expected_components():
    config = read_yaml_file(ROOT / "config.yml")
    assert config["language"] == "es"
    assert config["assistant_id"] == "capp"
    pipeline = {c["name"]: c for c in config["pipeline"]}
    policies = {p["name"]: p for p in config["policies"]}
    for name in ["WhitespaceTokenizer", "RegexFeaturizer", "LexicalSyntacticFeaturizer",
                 "CountVectorsFeaturizer", "DIETClassifier", "EntitySynonymMapper",
                 "ResponseSelector", "FallbackClassifier"]:
        assert name in pipeline, name
    analyzers = [c.get("analyzer", "word") for c in config["pipeline"]
                 if c["name"] == "CountVectorsFeaturizer"]
    assert sorted(analyzers) == ["char_wb", "word"]
    assert pipeline["ResponseSelector"]["retrieval_intent"] == "faq"
    assert 0.5 <= pipeline["FallbackClassifier"]["threshold"] <= 0.6
    assert "ambiguity_threshold" in pipeline["FallbackClassifier"]
    assert set(policies) == {"MemoizationPolicy", "RulePolicy", "TEDPolicy"}
    trainable = [c for c in config["pipeline"] + config["policies"] if "epochs" in c]
    assert {c["name"] for c in trainable} == {"DIETClassifier", "ResponseSelector", "TEDPolicy"}
    for component in trainable:
        assert isinstance(component.get("random_seed"), int), component["name"]
        assert component["epochs"] <= 100, component["name"]


def test_rasa_data_validate_is_clean_with_the_domain():
    rasa = Path(sys.executable).with_name("rasa")
    assert shutil.which(str(rasa)), rasa
    proc = subprocess.run(
        [str(rasa), "data", "validate", "--data", "bot/data", "--fail-on-warnings"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_lexicons_are_features_not_entities(training):
    """The lex_* lookup tables feed the RegexFeaturizer; none may turn into an entity."""
    lexicons = {t["name"] for t in training.lookup_tables if t["name"].startswith("lex_")}
    assert {"lex_si", "lex_no", "lex_salud", "lex_humano"} <= lexicons
    assert not lexicons & training.entities
    pipeline = {c["name"]: c for c in read_yaml_file(ROOT / "config.yml")["pipeline"]}
    assert pipeline["RegexFeaturizer"].get("use_lookup_tables", True) is True
    assert pipeline["RegexEntityExtractor"]["use_lookup_tables"] is False
    # Every element is a plain phrase: Rasa escapes lookup elements, so a regex
    # metacharacter here would be a silent mistake.
    bad = [e for t in training.lookup_tables if t["name"] in lexicons
           for e in t["elements"] if re.search(r"[\\^$*+?()\[\]{}|]", e)]
    assert bad == []
