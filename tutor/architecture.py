"""The tutor model's layer sizes, shared by the torch model and the numpy forward pass."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from tutor.features import CHAR_VOCAB_SIZE
from tutor.table_features import N_TABLE_FEATURES
from tutor.verify import PERSONS, TENSES


@dataclass(frozen=True)
class ModelConfig:
    """Layer sizes; n_lemmas follows the table the model was trained with."""

    n_lemmas: int
    char_vocab: int = CHAR_VOCAB_SIZE
    table_features: int = N_TABLE_FEATURES
    char_dim: int = 48
    conv_channels: int = 160
    word_dim: int = 160
    hidden: int = 128
    head_hidden: int = 256

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        fields = json.loads(text)
        return cls(**{k: int(v) for k, v in fields.items()})

    @property
    def head_sizes(self) -> tuple[int, int, int, int]:
        """Output widths of the verb, lemma, tense and person heads (one shared linear layer)."""
        return 1, self.n_lemmas, len(TENSES), len(PERSONS)
