"""NLU benchmark for the CAPP assistant (Rasa 3.6).

Run from the repository root with the Rasa environment:

    .venv-rasa/bin/python bench/nlu.py              # held-out + 5-fold CV
    .venv-rasa/bin/python bench/nlu.py --skip-cv    # held-out only (~3-5 min)
    .venv-rasa/bin/python bench/nlu.py --skip-cv --reuse-model   # re-test only
    .venv-rasa/bin/python bench/nlu.py --cv-epochs 30   # faster CV, says so

It shells out to `rasa train nlu` / `rasa test nlu` and reads the JSON files
Rasa writes. Labels are "combined": an intent, or `faq/<key>` when the intent
is the retrieval intent `faq` (the ResponseSelector's key), so the macro-F1 is
over the 23 intents + 8 faq keys. `rasa test nlu` undoes the FallbackClassifier
(rasa/nlu/test.py) and scores the top intent, so a message the bot would ask
to rephrase is not an error here; `fallbacks` counts them apart (top intent
under the FallbackClassifier's threshold; Rasa's reports do not carry the
second intent, so its ambiguity rule is not counted).

Three held-out sets are tested with the same model: bench/data/nlu_heldout.yml
(written with the training data, by the same author),
bench/data/nlu_heldout_indep.yml (written by a second author from the intent
descriptions only, who never saw the training data) and
bench/data/nlu_heldout_habla.yml (a third author, from the seeds and the way
callers talk: typed, WhatsApp and phone transcripts evenly, with many CURPs and
claves de cita). Entities are scored per extractor from Rasa's reports
(precision, recall and F1 per entity, token level) and as the bot sees them
(`entity_combined`: a span counts when any extractor found it exactly); an
entity with no annotation in the training data is reported as "no entrenada".
Targets: macro-F1 >= 0.95 on every held-out set and in CV, recall >= 0.98 for
curp and clave_cita. Before anything else it
checks that no held-out text appears in the training data, not even as a near
duplicate (see `near_duplicate`: the same sentence once accents, case,
punctuation, fillers, articles, WhatsApp spellings and crédito/préstamo are
set aside; or a difflib ratio >= 0.85 over characters or words; or a training
sentence of 4+ words contained in a held-out one, or vice versa), and stops
with exit code 2, listing the pairs, if one is found. Check only:

    .venv-rasa/bin/python bench/nlu.py --check-leaks

Results go to var/bench/nlu/ (summary.json + Rasa's reports).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"
HELDOUT = ROOT / "bench" / "data" / "nlu_heldout.yml"
# Written later by a second author from the intent descriptions only, without
# ever seeing the training data or the first held-out set: the least biased figure.
HELDOUT_INDEP = ROOT / "bench" / "data" / "nlu_heldout_indep.yml"
# A third author's set, from the seeds and how callers really talk (three
# registers evenly), with many CURPs and claves: see its header.
HELDOUT_HABLA = ROOT / "bench" / "data" / "nlu_heldout_habla.yml"
HELDOUTS = [("heldout", HELDOUT), ("heldout_independiente", HELDOUT_INDEP),
            ("heldout_habla", HELDOUT_HABLA)]
OUT = ROOT / "var" / "bench" / "nlu"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
# `rasa test nlu --cross-validation` shuffles its folds with numpy's global
# generator and no seed (rasa/nlu/test.py, generate_folds): seeding it before
# Rasa starts makes the split, and so the figure, the same from run to run.
RASA_SEMBRADO = ("import sys, numpy; numpy.random.seed(int(sys.argv[1])); "
                 "from rasa.__main__ import main; sys.argv = ['rasa', *sys.argv[2:]]; main()")
TARGET = 0.95
# Recall the bot needs on fixed-format codes: a missed CURP or clave costs a turn.
ENTITY_RECALL_TARGETS = {"curp": 0.98, "clave_cita": 0.98}
# Rasa's per-extractor report files that are not entity reports.
NOT_ENTITY_REPORTS = {"intent", "response_selection"}


def normalise(text: str) -> str:
    """Lowercase, drop accents and punctuation, collapse spaces."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def load_nlu(path: Path) -> Any:
    """Rasa's TrainingData of every NLU file under path (or of that one file)."""
    from rasa.shared.data import get_data_files, is_nlu_file
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    # bot/data also holds stories and rules: load only its NLU files.
    return TrainingData().merge(*[load_data(f) for f in get_data_files([str(path)], is_nlu_file)])


def load_texts(path: Path) -> list[tuple[str, str]]:
    """(text, combined label) of every intent example, via Rasa's own loader."""
    data = load_nlu(path)
    return [
        (m.get("text"), m.get("intent_response_key") or m.get("intent"))
        for m in data.intent_examples
    ]


# Spellings that do not make a sentence new: WhatsApp shorthand, and the two
# words users take as the same thing.
SPELLING = {"q": "que", "k": "que", "ke": "que", "kiero": "quiero", "pa": "para", "x": "por",
            "xq": "porque", "credito": "prestamo", "creditos": "prestamos", "del": "de",
            "al": "a"}
# Fillers, politeness and articles: "este pues mi préstamo xfa" is "préstamo".
FILLER = {
    "xfa",
    "porfa",
    "porfavor",
    "plis",
    "pls",
    "este",
    "mmm",
    "mm",
    "eh",
    "ah",
    "oiga",
    "pues",
    "bueno",
    "el",
    "la",
    "los",
    "las",
    "lo",
    "un",
    "una",
    "unos",
    "unas",
    "mi",
    "mis",
    "su",
    "sus",
    "tu",
}
SIMILAR = 0.85


def canonical(text: str) -> list[str]:
    """The words that make a sentence what it is (see SPELLING and FILLER)."""
    words = " ".join(SPELLING.get(w, w) for w in normalise(text).split())
    return [w for w in words.replace("por favor", " ").split() if w not in FILLER]


def near_duplicate(a: list[str], b: list[str]) -> str | None:
    """Why two canonical sentences count as the same example, or None."""
    if not a or not b:
        return None
    if set(a) == set(b):
        return "mismas palabras"
    chars_a, chars_b = " ".join(a), " ".join(b)
    if min(len(chars_a), len(chars_b)) >= 8:
        chars = difflib.SequenceMatcher(None, chars_a, chars_b, autojunk=False)
        if chars.real_quick_ratio() >= SIMILAR and chars.quick_ratio() >= SIMILAR:
            ratio = chars.ratio()
            if ratio >= SIMILAR:
                return f"caracteres {ratio:.2f}"
    words = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if words.ratio() >= SIMILAR:
        return f"palabras {words.ratio():.2f}"
    short, long_ = sorted((a, b), key=len)
    matched = sum(block.size for block in words.get_matching_blocks())
    if len(short) >= 4 and matched == len(short) and len(short) / len(long_) >= 0.6:
        return "contenida"
    return None


def leaked_pairs(training: list[tuple[str, str]],
                 heldouts: list[tuple[str, list[tuple[str, str]]]]) -> list[dict[str, str]]:
    """Held-out examples that are (near) duplicates of a training example of the
    same label. A near duplicate under another label is not a leak (it can only
    lower the score), so it is not reported here."""
    by_label: dict[str, list[tuple[str, list[str]]]] = {}
    for text, lbl in training:
        by_label.setdefault(lbl, []).append((text, canonical(text)))
    pairs = []
    for key, examples in heldouts:
        for text, lbl in examples:
            words = canonical(text)
            for train_text, train_words in by_label.get(lbl, []):
                reason = near_duplicate(words, train_words)
                if reason:
                    pairs.append({"set": key, "label": lbl, "heldout": text,
                                  "training": train_text, "reason": reason})
    return pairs


def leaked_examples() -> list[dict[str, str]]:
    return leaked_pairs(load_texts(BOT / "data"),
                        [(key, load_texts(path)) for key, path in HELDOUTS if path.exists()])


def run(cmd: list[str], log: Path) -> float:
    """Run a rasa command from the repository root, log its output, return seconds taken."""
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    started = time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env)
    if proc.returncode != 0:
        sys.exit(f"falló {' '.join(cmd)} (ver {log})")
    return time.monotonic() - started


def read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else []


def combined_pairs(results_dir: Path) -> list[tuple[str, str, str]]:
    """(text, target, prediction) with faq split into its response keys."""
    intents = read_json(results_dir / "intent_successes.json") + read_json(
        results_dir / "intent_errors.json"
    )
    responses = {
        r["text"]: r
        for r in read_json(results_dir / "response_selection_successes.json")
        + read_json(results_dir / "response_selection_errors.json")
    }
    pairs = []
    for row in intents:
        text, target = row["text"], row["intent"]
        predicted = row["intent_prediction"]["name"] or "(ninguna)"
        response = responses.get(text)
        if target == "faq" and response:
            target = response["intent_response_key_target"]
        if predicted == "faq":
            predicted = (
                response["intent_response_key_prediction"]["name"]
                if response and response["intent_response_key_prediction"]["name"]
                else "faq"
            )
        pairs.append((text, target, predicted))
    return pairs


def fallback_threshold() -> float:
    import yaml

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
    return float(next(c["threshold"] for c in pipeline if c["name"] == "FallbackClassifier"))


def would_fall_back(results_dir: Path) -> int:
    """Messages whose top intent is under the FallbackClassifier's threshold."""
    threshold = fallback_threshold()
    rows = read_json(results_dir / "intent_successes.json") + read_json(
        results_dir / "intent_errors.json"
    )
    return sum(1 for r in rows if (r["intent_prediction"].get("confidence") or 0.0) < threshold)


def score(pairs: list[tuple[str, str, str]]) -> dict[str, Any]:
    from sklearn.metrics import f1_score

    targets = [t for _, t, _ in pairs]
    predictions = [p for _, _, p in pairs]
    labels = sorted(set(targets))
    confusions = Counter((t, p) for _, t, p in pairs if t != p)
    per_label = f1_score(targets, predictions, labels=labels, average=None, zero_division=0)
    return {
        "n": len(pairs),
        "macro_f1": round(float(f1_score(targets, predictions, labels=labels,
                                         average="macro", zero_division=0)), 4),
        "accuracy": round(sum(t == p for t, p in zip(targets, predictions)) / len(pairs), 4),
        "worst_labels": sorted(
            ((lbl, round(float(f), 3)) for lbl, f in zip(labels, per_label)),
            key=lambda x: x[1],
        )[:5],
        "top_confusions": [
            {"target": t, "predicted": p, "count": n} for (t, p), n in confusions.most_common(8)
        ],
        "errors": [
            {"text": x, "target": t, "predicted": p} for x, t, p in pairs if t != p
        ],
    }


def trained_entities() -> tuple[set[str], set[str]]:
    """Entities annotated in the training data, and those of them the regex
    extractor has a pattern for. Anything else the model cannot extract."""
    data = load_nlu(BOT / "data")
    entities = set(data.entities)
    regex = {r["name"] for r in data.regex_features} & entities
    return entities, regex


def entity_reports(results_dir: Path) -> dict[str, dict[str, Any]]:
    """Rasa's entity report of each extractor ({extractor}_report.json)."""
    reports = {}
    for path in sorted(results_dir.glob("*_report.json")):
        extractor = path.name[: -len("_report.json")]
        data = read_json(path)
        if extractor not in NOT_ENTITY_REPORTS and isinstance(data, dict):
            reports[extractor] = data
    return reports


def entity_rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: row for name, row in report.items()
            if isinstance(row, dict) and "avg" not in name and "support" in row}


def entity_f1(results_dir: Path, regex: set[str] | None = None,
              trained: set[str] | None = None) -> dict[str, dict[str, float]]:
    """F1 per entity and extractor, from Rasa's reports (summary key `entities`,
    kept as it was). The regex extractor is only scored on the entities it has
    patterns for; entities the model was never trained on are left out (see
    `entity_scores`)."""
    regex = {"curp", "clave_cita"} if regex is None else regex
    found: dict[str, dict[str, float]] = {}
    for extractor, report in entity_reports(results_dir).items():
        only = regex if extractor == "RegexEntityExtractor" else trained
        found[extractor] = {name: round(row["f1-score"], 3)
                            for name, row in entity_rows(report).items()
                            if only is None or name in only}
    return found


def entity_scores(results_dir: Path, trained: set[str],
                  regex: set[str]) -> dict[str, dict[str, Any]]:
    """Precision, recall, F1 and support per entity and extractor (Rasa's token
    level report); "no entrenada" for an entity absent from the training data."""
    found: dict[str, dict[str, Any]] = {}
    for extractor, report in entity_reports(results_dir).items():
        rows = {}
        for name, row in sorted(entity_rows(report).items()):
            if name not in trained:
                rows[name] = "no entrenada"
            elif extractor != "RegexEntityExtractor" or name in regex:
                rows[name] = {"precision": round(row["precision"], 3),
                              "recall": round(row["recall"], 3),
                              "f1": round(row["f1-score"], 3), "support": int(row["support"])}
        found[extractor] = rows
    return found


def entity_combined(results_dir: Path, trained: set[str]) -> dict[str, Any]:
    """Entities as the bot sees them: a target span counts as found when any
    extractor returned that entity on exactly that span; precision is over the
    distinct predicted spans. Read from Rasa's {extractor}_successes/_errors
    files (written with --successes), which together hold every message with a
    target or a prediction."""
    messages: dict[str, dict[str, Any]] = {}
    for path in sorted(results_dir.glob("*_successes.json")) + sorted(
        results_dir.glob("*_errors.json")
    ):
        if path.name.split("_")[0] in {"intent", "response"}:
            continue
        for row in read_json(path) or []:
            if isinstance(row, dict) and "predicted_entities" in row:
                messages[row["text"]] = row
    targets: Counter = Counter()
    recalled: Counter = Counter()
    predicted: Counter = Counter()
    correct: Counter = Counter()
    for row in messages.values():
        gold = {(e["entity"], e["start"], e["end"]) for e in row.get("entities") or []}
        spans = {(e["entity"], e["start"], e["end"]) for e in row.get("predicted_entities") or []}
        for span in gold:
            targets[span[0]] += 1
            recalled[span[0]] += span in spans
        for span in spans:
            predicted[span[0]] += 1
            correct[span[0]] += span in gold
    combined: dict[str, Any] = {}
    for name in sorted(set(targets) | set(predicted)):
        if name not in trained:
            combined[name] = "no entrenada"
            continue
        combined[name] = {
            "recall": round(recalled[name] / targets[name], 3) if targets[name] else None,
            "precision": round(correct[name] / predicted[name], 3) if predicted[name] else None,
            "support": targets[name], "predicted": predicted[name],
        }
    return combined


def entity_recall(result: dict[str, Any], name: str) -> float | None:
    """Recall of an entity as the bot sees it; without the combined figure (no
    successes/errors files), the best extractor's recall from Rasa's reports."""
    row = result.get("entity_combined", {}).get(name)
    if isinstance(row, dict) and row.get("recall") is not None:
        return row["recall"]
    recalls = [rows[name]["recall"] for rows in result.get("entity_scores", {}).values()
               if isinstance(rows.get(name), dict)]
    return max(recalls) if recalls else None


def targets_met(result: dict[str, Any]) -> dict[str, Any]:
    """Each target with its value; `cumple` is None when there is no figure."""
    met = {"macro_f1": {"valor": result["macro_f1"], "objetivo": TARGET,
                        "cumple": result["macro_f1"] >= TARGET}}
    for name, target in ENTITY_RECALL_TARGETS.items():
        value = entity_recall(result, name)
        met[f"recall_{name}"] = {"valor": value, "objetivo": target,
                                 "cumple": None if value is None else value >= target}
    return met


def score_entities(result: dict[str, Any], results_dir: Path,
                   trained: set[str], regex: set[str]) -> None:
    """Add the entity figures and the targets to a result (new summary keys)."""
    result["entities"] = entity_f1(results_dir, regex, trained)
    result["entity_scores"] = entity_scores(results_dir, trained, regex)
    result["entity_combined"] = entity_combined(results_dir, trained)
    result["objetivos"] = targets_met(result)


def config_with_epochs(epochs: int, tmp: Path) -> Path:
    """A copy of config.yml with fewer epochs for every ML component."""
    text = (ROOT / "config.yml").read_text()
    text = re.sub(r"(\n\s+epochs:)\s*\d+", rf"\1 {epochs}", text)
    path = tmp / "config_cv.yml"
    path.write_text(text)
    return path


def fmt(value: float | None) -> str:
    return "s/d" if value is None else f"{value:.3f}"


def print_block(title: str, result: dict[str, Any]) -> None:
    ok = "OK" if result["macro_f1"] >= TARGET else f"POR DEBAJO de {TARGET}"
    print(f"\n== {title}: macro-F1 {result['macro_f1']:.4f} ({ok}), "
          f"exactitud {result['accuracy']:.4f}, n={result['n']}, "
          f"bajo el umbral de fallback {result['fallbacks']} (el bot pediría repetirlo)")
    print("   etiquetas más débiles:", ", ".join(f"{lbl} {f}" for lbl, f in result["worst_labels"]))
    for c in result["top_confusions"]:
        print(f"   {c['count']:3d} x  {c['target']}  ->  {c['predicted']}")
    for extractor, rows in result.get("entity_scores", {}).items():
        print(f"   entidades ({extractor}, por token):")
        for name, row in rows.items():
            if isinstance(row, dict):
                print(f"     {name:22s} recall {fmt(row['recall'])}  precisión "
                      f"{fmt(row['precision'])}  F1 {fmt(row['f1'])}  n={row['support']}")
            else:
                print(f"     {name:22s} {row}")
    if result.get("entity_combined"):
        print("   entidades como las ve el bot (cualquier extractor, tramo exacto):")
        for name, row in result["entity_combined"].items():
            if isinstance(row, dict):
                print(f"     {name:22s} recall {fmt(row['recall'])}  precisión "
                      f"{fmt(row['precision'])}  n={row['support']}")
            else:
                print(f"     {name:22s} {row}")
    for key, goal in result.get("objetivos", {}).items():
        verdict = {True: "cumple", False: "NO cumple", None: "sin dato"}[goal["cumple"]]
        print(f"   objetivo {key} >= {goal['objetivo']}: {fmt(goal['valor'])} ({verdict})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-leaks", action="store_true",
                        help="only check that no held-out example is (nearly) in bot/data")
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--skip-heldout", action="store_true")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--reuse-model", action="store_true",
                        help="test the held-out set with the last model in var/bench/nlu/model")
    parser.add_argument("--cv-epochs", type=int, default=None,
                        help="fewer epochs for cross-validation only (reported)")
    parser.add_argument("--semilla", type=int, default=2026,
                        help="seed of the cross-validation split (same seed, same folds)")
    args = parser.parse_args()

    leaks = leaked_examples()
    if leaks:
        print(f"{len(leaks)} pares: ejemplos reservados iguales o casi iguales a uno de "
              f"entrenamiento ({len({p['training'] for p in leaks})} de entrenamiento):")
        for p in leaks:
            print(f"  [{p['set']}] {p['label']}: {p['heldout']!r}  ~  {p['training']!r}"
                  f"  ({p['reason']})")
        return 2
    print("OK: ningún ejemplo de los conjuntos reservados está (ni casi igual) en bot/data")
    if args.check_leaks:
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"config": str(ROOT / "config.yml")}
    trained, regex = trained_entities()

    if not args.skip_heldout:
        model = OUT / "model" / "nlu_bench.tar.gz"
        seconds = 0.0
        if not (args.reuse_model and model.exists()):
            seconds = run([str(RASA), "train", "nlu", "--config", "config.yml", "--nlu", "bot/data",
                           "--out", str(model.parent), "--fixed-model-name", "nlu_bench"],
                          OUT / "train_nlu.log")
        for key, path in HELDOUTS:
            if not path.exists():
                continue
            results = OUT / key
            shutil.rmtree(results, ignore_errors=True)
            run([str(RASA), "test", "nlu", "--model", str(model), "--nlu", str(path),
                 "--out", str(results), "--successes", "--no-plot"], OUT / f"test_{key}.log")
            held = score(combined_pairs(results))
            held["fallbacks"] = would_fall_back(results)
            score_entities(held, results, trained, regex)
            held["nlu_train_seconds"] = round(seconds, 1)
            summary[key] = held
            print_block(f"Conjunto reservado ({path.relative_to(ROOT)})", held)
        if seconds:
            print(f"   entrenamiento NLU: {seconds:.0f} s")

    if not args.skip_cv:
        with tempfile.TemporaryDirectory() as tmp:
            config = "config.yml"
            if args.cv_epochs:
                config = str(config_with_epochs(args.cv_epochs, Path(tmp)))
            results = OUT / "cv"
            shutil.rmtree(results, ignore_errors=True)
            seconds = run([str(RASA.parent / "python"), "-c", RASA_SEMBRADO, str(args.semilla),
                           "test", "nlu", "--nlu", "bot/data", "--config", config,
                           "--cross-validation", "--folds", str(args.folds),
                           "--out", str(results), "--successes", "--no-plot"],
                          OUT / "test_cv.log")
        cv = score(combined_pairs(results))
        cv["fallbacks"] = would_fall_back(results)
        score_entities(cv, results, trained, regex)
        cv["folds"] = args.folds
        cv["semilla"] = args.semilla
        cv["epochs_override"] = args.cv_epochs
        cv["seconds"] = round(seconds, 1)
        summary["cross_validation"] = cv
        note = f", épocas reducidas a {args.cv_epochs}" if args.cv_epochs else ""
        print_block(f"Validación cruzada ({args.folds} pliegues, semilla {args.semilla}{note})", cv)
        print(f"   duración: {seconds:.0f} s")

    summary["objetivos_cumplidos"] = all(
        goal["cumple"] is not False
        for key, result in summary.items() if isinstance(result, dict) and "objetivos" in result
        for goal in result["objetivos"].values())
    print("\nObjetivos:", "todos cumplidos" if summary["objetivos_cumplidos"]
          else "alguno NO se cumple (ver arriba)")
    (OUT / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    print(f"\nResumen en {(OUT / 'summary.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
