"""The model's forward pass in numpy over the safetensors weights, so serving needs no torch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from safetensors import safe_open

from tutor.architecture import ModelConfig
from tutor.features import char_matrix
from tutor.verify import PERSONS, TENSES

FORMAT = "tutor-v2"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "tutor.safetensors"
Array = npt.NDArray[np.float32]


class ModelFileError(ValueError):
    """The weights file is missing, unreadable, or not a tutor model."""


@dataclass(frozen=True)
class Predictions:
    """Per-word probabilities: verb (n,), lemma (n, lemmas), tense (n, 6), person (n, 6)."""

    verb: Array
    lemma: Array
    tense: Array
    person: Array


@dataclass(frozen=True)
class ModelInfo:
    """What the file says about itself: its digest and what it was trained on."""

    digest: str
    table_digest: str
    lemmas: tuple[str, ...]
    config: ModelConfig
    metadata: Mapping[str, str]


def _sigmoid(x: Array) -> Array:
    out: Array = (1.0 / (1.0 + np.exp(-x))).astype(np.float32, copy=False)
    return out


def _softmax(x: Array) -> Array:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    out: Array = e / e.sum(axis=-1, keepdims=True)
    return out


def _conv(x: Array, weight: Array, bias: Array) -> Array:
    """Conv1d with kernel 3 and padding 1 over (words, letters, channels), as one matmul."""
    n, width, channels = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (0, 0)))
    windows = np.concatenate([padded[:, k : k + width, :] for k in range(3)], axis=2)
    kernel = weight.transpose(2, 1, 0).reshape(3 * channels, -1)
    out: Array = windows.reshape(n * width, 3 * channels) @ kernel + bias
    return out.reshape(n, width, -1)


class NumpyModel:
    """Same arithmetic as tutor.model.TutorModel.forward for one sentence."""

    def __init__(self, weights: Mapping[str, Array], config: ModelConfig) -> None:
        self.w = {name: np.ascontiguousarray(v, dtype=np.float32) for name, v in weights.items()}
        self.config = config
        expected = self._shapes()
        for name, shape in expected.items():
            if name not in self.w or self.w[name].shape != shape:
                got = self.w[name].shape if name in self.w else "missing"
                raise ModelFileError(f"weight {name}: expected shape {shape}, got {got}")

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        c = self.config
        gru: dict[str, tuple[int, ...]] = {}
        for suffix in ("l0", "l0_reverse"):
            gru[f"context.weight_ih_{suffix}"] = (3 * c.hidden, c.word_dim)
            gru[f"context.weight_hh_{suffix}"] = (3 * c.hidden, c.hidden)
            gru[f"context.bias_ih_{suffix}"] = (3 * c.hidden,)
            gru[f"context.bias_hh_{suffix}"] = (3 * c.hidden,)
        return {
            "char_embedding.weight": (c.char_vocab, c.char_dim),
            "conv1.weight": (c.conv_channels, c.char_dim, 3),
            "conv1.bias": (c.conv_channels,),
            "conv2.weight": (c.conv_channels, c.conv_channels, 3),
            "conv2.bias": (c.conv_channels,),
            "word_projection.weight": (c.word_dim, 2 * c.conv_channels + c.table_features),
            "word_projection.bias": (c.word_dim,),
            **gru,
            "head_hidden.weight": (c.head_hidden, 2 * c.hidden + c.word_dim),
            "head_hidden.bias": (c.head_hidden,),
            "heads.weight": (sum(c.head_sizes), c.head_hidden),
            "heads.bias": (sum(c.head_sizes),),
        }

    def word_vectors(self, words: Sequence[str], table_features: Array) -> Array:
        w = self.w
        chars, lengths = char_matrix(words)
        mask = (np.arange(chars.shape[1])[None, :] < lengths[:, None])[:, :, None]
        x = w["char_embedding.weight"][chars]
        x = np.maximum(_conv(x, w["conv1.weight"], w["conv1.bias"]), 0) * mask
        x = np.maximum(_conv(x, w["conv2.weight"], w["conv2.bias"]), 0) * mask
        pooled = x.max(axis=1)
        end = x[np.arange(len(words)), lengths - 1]
        features = np.concatenate([pooled, end, table_features], axis=1)
        out: Array = np.tanh(features @ w["word_projection.weight"].T + w["word_projection.bias"])
        return out

    def _bigru(self, x: Array) -> Array:
        """Both GRU directions in one loop: step t reads word t forwards, word n-1-t backwards."""
        w, h_size = self.w, self.config.hidden
        directions = ("l0", "l0_reverse")
        gates_in = np.stack(
            [x @ w[f"context.weight_ih_{d}"].T + w[f"context.bias_ih_{d}"] for d in directions],
            axis=1,
        )
        gates_in[:, 1] = gates_in[::-1, 1].copy()
        weight_hh = np.stack([w[f"context.weight_hh_{d}"].T for d in directions])
        bias_hh = np.stack([w[f"context.bias_hh_{d}"] for d in directions])
        h = np.zeros((2, h_size), dtype=np.float32)
        out = np.empty((len(x), 2, h_size), dtype=np.float32)
        for t in range(len(x)):
            gi = gates_in[t]
            gh = np.matmul(h[:, None, :], weight_hh)[:, 0] + bias_hh
            rz = _sigmoid(gi[:, : 2 * h_size] + gh[:, : 2 * h_size])
            n = np.tanh(gi[:, 2 * h_size :] + rz[:, :h_size] * gh[:, 2 * h_size :])
            z = rz[:, h_size:]
            h = (1 - z) * n + z * h
            out[t] = h
        out[:, 1] = out[::-1, 1].copy()
        return out.reshape(len(x), 2 * h_size)

    def logits(
        self, words: Sequence[str], table_features: Array
    ) -> tuple[Array, Array, Array, Array]:
        """Raw scores (verb, lemma, tense, person) for each word, as the torch model gives them.

        words are model tokens (features.model_token); table_features has a row per word.
        """
        if not words:
            raise ValueError("no words")
        w = self.w
        vectors = self.word_vectors(words, table_features)
        joined = np.concatenate([self._bigru(vectors), vectors], axis=1)
        hidden = np.maximum(joined @ w["head_hidden.weight"].T + w["head_hidden.bias"], 0)
        scores = hidden @ w["heads.weight"].T + w["heads.bias"]
        cuts = np.cumsum(self.config.head_sizes)[:-1]
        verb, lemma, tense, person = np.split(scores, cuts, axis=1)
        return verb[:, 0], lemma, tense, person

    def predict(self, words: Sequence[str], table_features: Array) -> Predictions:
        verb, lemma, tense, person = self.logits(words, table_features)
        return Predictions(_sigmoid(verb), _softmax(lemma), _softmax(tense), _softmax(person))


def load_model(path: Path) -> tuple[NumpyModel, ModelInfo]:
    """Read a trained model file; raises ModelFileError with a one-line reason."""
    try:
        raw = path.read_bytes()
        with safe_open(str(path), framework="numpy") as f:
            metadata: dict[str, str] = dict(f.metadata() or {})
            weights = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
    except (OSError, ValueError) as e:
        raise ModelFileError(f"{path}: cannot read model: {e}") from e
    if metadata.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a {FORMAT} model (format={metadata.get('format')!r})")
    if json.loads(metadata["tenses"]) != list(TENSES) or json.loads(metadata["persons"]) != list(
        PERSONS
    ):
        raise ModelFileError(f"{path}: trained with other tenses or persons than the verifier's")
    config = ModelConfig.from_json(metadata["config"])
    info = ModelInfo(
        digest="sha256:" + hashlib.sha256(raw).hexdigest(),
        table_digest=metadata["table_digest"],
        lemmas=tuple(json.loads(metadata["lemmas"])),
        config=config,
        metadata=metadata,
    )
    return NumpyModel(weights, config), info
