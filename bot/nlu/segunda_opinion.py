"""A second opinion on DIET's intent: a logistic regression over n-grams.

DIET (config.yml) is sure of itself even when it is wrong: on a held-back
fold, 34 of its 56 errors came with a confidence above 0.9. A linear model over
the same kind of character and word n-grams errs on other sentences. This
component, placed right after DIETClassifier, averages the two probability
distributions over intents (`peso` is the linear model's share) and writes the
result back as `intent` and `intent_ranking`, so the FallbackClassifier after
it sees one calibrated answer: where the two disagree, the confidence drops
and the caller is asked to rephrase instead of being sent down a wrong path.
DIET's entities are untouched; the ResponseSelector still picks the faq key.

Measured with bench/nlu.py (README, NLU). sklearn's TfidfVectorizer is used
rather than the pipeline's count features because sublinear tf-idf is what
makes the linear model good, and Rasa's featurizers give raw counts.
"""

from __future__ import annotations

import logging
import zipfile
from typing import Any, Dict, List, Optional

import skops.io as sio
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union

logger = logging.getLogger(__name__)

ARCHIVO = "segunda_opinion.skops"
# What skops may rebuild besides its defaults: the idf diagonal of TfidfVectorizer.
TIPOS_CONFIABLES = {"scipy.sparse._csr.csr_matrix"}


def modelo_lineal(c: float, max_iter: int) -> Pipeline:
    """Character 2-4-grams and words and word pairs, accents stripped, into a
    logistic regression whose classes weigh alike (the out-of-scope class has
    five times the examples of most intents)."""
    return make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), strip_accents="unicode",
                            sublinear_tf=True),
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), strip_accents="unicode",
                            sublinear_tf=True),
        ),
        LogisticRegression(C=c, max_iter=max_iter, class_weight="balanced"),
    )


def combinar(
    ranking_diet: List[Dict[str, Any]], lineal: Dict[str, float], peso: float
) -> List[Dict[str, Any]]:
    """(1 - peso) * DIET + peso * linear model, per intent, best first.

    An intent outside DIET's ranking (it keeps the top 10) counts as 0 there;
    an intent the linear model never saw counts as 0 on its side.
    """
    diet = {r["name"]: float(r["confidence"]) for r in ranking_diet}
    nombres = set(diet) | set(lineal)
    mezcla = [
        {"name": n, "confidence": (1.0 - peso) * diet.get(n, 0.0) + peso * lineal.get(n, 0.0)}
        for n in nombres
    ]
    return sorted(mezcla, key=lambda r: -r["confidence"])


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class SegundaOpinion(GraphComponent, IntentClassifier):
    """Averages DIET's intent ranking with a linear model's (see module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"peso": 0.5, "C": 300.0, "max_iter": 3000, "ranking_length": 10}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        modelo: Optional[Pipeline] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.modelo = modelo

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SegundaOpinion:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        ejemplos = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        if len({e.get(INTENT) for e in ejemplos}) < 2:
            logger.warning("SegundaOpinion: fewer than two intents to learn; DIET decides alone.")
            return self._resource
        modelo = modelo_lineal(float(self.config["C"]), int(self.config["max_iter"]))
        modelo.fit([e.get(TEXT) for e in ejemplos], [e.get(INTENT) for e in ejemplos])
        self.modelo = modelo
        with self._model_storage.write_to(self._resource) as carpeta:
            sio.dump(modelo, carpeta / ARCHIVO)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SegundaOpinion:
        try:
            with model_storage.read_from(resource) as carpeta:
                archivo = carpeta / ARCHIVO
                desconocidos = set(sio.get_untrusted_types(file=archivo)) - TIPOS_CONFIABLES
                if desconocidos:
                    raise ValueError(f"tipos no confiables en {ARCHIVO}: {sorted(desconocidos)}")
                modelo = sio.load(archivo, trusted=sorted(TIPOS_CONFIABLES))
        # No resource (nothing was trained), an untrusted or unreadable file.
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            logger.warning("SegundaOpinion not loaded (%s); DIET decides alone.", exc)
            modelo = None
        return cls(config, model_storage, resource, modelo)

    def process(self, messages: List[Message]) -> List[Message]:
        if self.modelo is None:
            return messages
        con_texto = [m for m in messages if m.get(TEXT) and m.get(INTENT_RANKING_KEY)]
        if not con_texto:
            return messages
        probabilidades = self.modelo.predict_proba([m.get(TEXT) for m in con_texto])
        clases = [str(c) for c in self.modelo.classes_]
        peso = float(self.config["peso"])
        largo = int(self.config["ranking_length"])
        for mensaje, fila in zip(con_texto, probabilidades, strict=True):
            lineal = dict(zip(clases, fila, strict=True))
            ranking = combinar(mensaje.get(INTENT_RANKING_KEY), lineal, peso)
            mensaje.set(INTENT, dict(ranking[0]), add_to_output=True)
            mensaje.set(INTENT_RANKING_KEY, ranking[:largo] if largo > 0 else ranking,
                        add_to_output=True)
        return messages
