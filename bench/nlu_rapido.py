"""A fast stand-in for the NLU cross-validation, to guide training-data work.

Run from the repository root with the Rasa environment:

    .venv-rasa/bin/python bench/nlu_rapido.py          # figures, worst labels, confusions
    .venv-rasa/bin/python bench/nlu_rapido.py -v       # + every misclassified example

Rasa's 5-fold cross-validation (`bench/nlu.py`) takes about an hour on 2 cores.
This trains a linear SVM on the same kind of features as config.yml's pipeline
(char_wb 2-4-grams and words, accents stripped) over the same labels (intents,
`faq/<key>` for the retrieval intent), 5 folds x 3 shuffles, in seconds. It is
NOT the figure the issue's target is about (DIET reads lexicons and regexes too),
but it tracks it (6 Dec 2026: 0.925 here vs 0.918 with Rasa; after the
fronteras2 data 0.940 vs 0.933), so a data change can be judged before paying for
the real one. An example missed under all three shuffles is a place to look:
a label to fix, or a boundary that needs more phrasings. Never tune against the
held-out sets; this reads only bot/data.

    .venv-rasa/bin/python bench/nlu_rapido.py --segunda-opinion

scores instead the linear model of bot/nlu/segunda_opinion.py alone, as it is
trained inside the pipeline (intents only, faq not split into keys; C from
config.yml), on the same folds: how its own changes are judged.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nlu import BOT, ROOT, load_texts  # noqa: E402 - bench/ is not a package

SHUFFLES = (1, 2, 3)


def segunda_opinion() -> Pipeline:
    """SegundaOpinion's linear model with config.yml's C."""
    import yaml

    sys.path.insert(0, str(ROOT))
    from bot.nlu.segunda_opinion import SegundaOpinion, modelo_lineal

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
    config = {**SegundaOpinion.get_default_config(),
              **next(c for c in pipeline if c["name"].endswith("SegundaOpinion"))}
    return modelo_lineal(float(config["C"]), int(config["max_iter"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--errores", action="store_true",
                        help="list every misclassified training example")
    parser.add_argument("--segunda-opinion", action="store_true",
                        help="score SegundaOpinion's linear model instead (intents only)")
    args = parser.parse_args()

    examples = load_texts(BOT / "data")
    texts = [t for t, _ in examples]
    labels = [lbl for _, lbl in examples]
    if args.segunda_opinion:
        labels = [lbl.split("/")[0] for lbl in labels]
        model = segunda_opinion()
    else:
        model = make_pipeline(
            make_union(
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), strip_accents="unicode",
                                sublinear_tf=True),
                TfidfVectorizer(analyzer="word", strip_accents="unicode"),
            ),
            LinearSVC(C=0.5),
        )
    scores: list[float] = []
    missed: Counter[tuple[str, str, str]] = Counter()
    for seed in SHUFFLES:
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        predicted = cross_val_predict(model, texts, labels, cv=folds)
        scores.append(f1_score(labels, predicted, average="macro"))
        pairs = zip(texts, labels, predicted, strict=True)
        missed.update((t, lbl, p) for t, lbl, p in pairs if lbl != p)
    names = sorted(set(labels))
    per_label = f1_score(labels, predicted, labels=names, average=None)
    print(f"{len(texts)} ejemplos, {len(names)} etiquetas; macro-F1 por barajada "
          f"{[round(float(s), 4) for s in scores]}, media {np.mean(scores):.4f}")
    print("etiquetas más débiles:", ", ".join(
        f"{n} {f:.3f}" for f, n in sorted(zip(per_label, names, strict=True))[:8]))
    confusions: Counter[tuple[str, str]] = Counter()
    for (_, lbl, p), n in missed.items():
        confusions[(lbl, p)] += n
    for (lbl, p), n in confusions.most_common(12):
        print(f"  {n:3d} x  {lbl}  ->  {p}")
    if args.errores:
        for (text, lbl, p), n in sorted(missed.items(), key=lambda x: (x[0][1], x[0][2])):
            print(f"{n} {lbl:30s} -> {p:30s} | {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
