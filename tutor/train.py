"""Train the tutor's model on generated sentences: python -m tutor.train [--seed N] [--out PATH].

Deterministic for a fixed seed and table on a given machine: seeded generator and torch, fixed
thread count, deterministic kernels. Writes models/tutor.safetensors and prints its sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from tutor.architecture import ModelConfig
from tutor.features import char_matrix
from tutor.inference import DEFAULT_MODEL_PATH, FORMAT, ModelFileError, load_model
from tutor.model import Logits, TutorModel, parameter_count
from tutor.table_features import TableFeatures
from tutor.training_data import Example, generate
from tutor.verify import PERSONS, TENSES, ConjugationTable

IGNORE = -100
WRONG_WEIGHT = 1.0


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 20261126
    sentences: int = 100_000
    epochs: int = 5
    batch_size: int = 128
    learning_rate: float = 3e-3
    # A fixed thread count: the same weights on any machine with this torch build, whatever its
    # core count (the two cores the training budget names).
    threads: int = 2


@dataclass(frozen=True)
class Batch:
    chars: torch.Tensor
    char_lengths: torch.Tensor
    table_features: torch.Tensor
    word_index: torch.Tensor
    sentence_lengths: torch.Tensor
    verb: torch.Tensor
    lemma: torch.Tensor
    tense: torch.Tensor
    person: torch.Tensor
    wrong: torch.Tensor


class Corpus:
    """Examples as arrays: every distinct word's letters once, sentences as word ids and labels."""

    def __init__(self, examples: Sequence[Example], table: ConjugationTable) -> None:
        lemma_ids = {lemma: i for i, lemma in enumerate(table.lemmas)}
        vocabulary: dict[str, int] = {}
        words: list[str] = []  # each vocabulary token's word, without its boundary mark
        self.sentences: list[npt.NDArray[np.int64]] = []
        self.labels: list[npt.NDArray[np.int64]] = []
        for example in examples:
            ids = []
            for token, word in zip(example.tokens, example.words, strict=True):
                if token not in vocabulary:
                    vocabulary[token] = len(vocabulary)
                    words.append(word)
                ids.append(vocabulary[token])
            rows = [
                (0, IGNORE, IGNORE, IGNORE, 0)
                if r is None
                else (1, lemma_ids[r.lemma], TENSES.index(r.tense), PERSONS.index(r.person), w)
                for r, w in zip(example.readings, example.wrong, strict=True)
            ]
            self.sentences.append(np.array(ids, dtype=np.int64))
            self.labels.append(np.array(rows, dtype=np.int64).reshape(-1, 5))
        self.chars, self.char_lengths = char_matrix(list(vocabulary))
        self.table_features = TableFeatures(table).matrix(words)

    def __len__(self) -> int:
        return len(self.sentences)

    @property
    def sentence_lengths(self) -> list[int]:
        return [len(sentence) for sentence in self.sentences]

    def batch(self, indices: Sequence[int]) -> Batch:
        words = np.concatenate([self.sentences[i] for i in indices])
        distinct, inverse = np.unique(words, return_inverse=True)
        lengths = self.char_lengths[distinct]
        width = max(len(self.sentences[i]) for i in indices)
        word_index = np.zeros((len(indices), width), dtype=np.int64)
        labels = np.full((len(indices), width, 5), IGNORE, dtype=np.int64)
        offset = 0
        for row, i in enumerate(indices):
            n = len(self.sentences[i])
            word_index[row, :n] = inverse[offset : offset + n]
            labels[row, :n] = self.labels[i]
            offset += n
        t = torch.from_numpy
        return Batch(
            chars=t(self.chars[distinct][:, : int(lengths.max())].copy()),
            char_lengths=t(lengths.copy()),
            table_features=t(self.table_features[distinct]),
            word_index=t(word_index),
            sentence_lengths=torch.tensor([len(self.sentences[i]) for i in indices]),
            verb=t(labels[:, :, 0].copy()),
            lemma=t(labels[:, :, 1].copy()),
            tense=t(labels[:, :, 2].copy()),
            person=t(labels[:, :, 3].copy()),
            wrong=t(labels[:, :, 4].copy()),
        )


def length_buckets(
    order: Sequence[int], lengths: Sequence[int], batch_size: int, rng: random.Random
) -> list[list[int]]:
    """Batches of sentences of about one length, in shuffled order: a batch is as wide as its
    longest sentence, so mixing lengths spends a third of the time on padding."""
    span = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), span):
        chunk = sorted(order[start : start + span], key=lambda i: lengths[i])
        batches += [chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def loss(logits: Logits, batch: Batch) -> torch.Tensor:
    """Verb/not-verb on every word; lemma, tense and person on verbs, learner errors counting
    WRONG_WEIGHT times (they are where context, not the form, tells what was meant)."""
    real = batch.verb != IGNORE
    verb = nn.functional.binary_cross_entropy_with_logits(
        logits.verb[real], batch.verb[real].float()
    )
    verbs = batch.lemma != IGNORE
    weight = 1.0 + WRONG_WEIGHT * batch.wrong[verbs].float()
    total = verb
    for scores, target in (
        (logits.lemma, batch.lemma),
        (logits.tense, batch.tense),
        (logits.person, batch.person),
    ):
        ce = nn.functional.cross_entropy(scores[verbs], target[verbs], reduction="none")
        total = total + (ce * weight).sum() / weight.sum()
    return total


def _forward(model: TutorModel, batch: Batch) -> Logits:
    logits: Logits = model(
        batch.chars,
        batch.char_lengths,
        batch.table_features,
        batch.word_index,
        batch.sentence_lengths,
    )
    return logits


def train(
    table: ConjugationTable, config: TrainConfig, log: bool = False
) -> tuple[TutorModel, dict[str, str]]:
    """Train from scratch; returns the model and the metadata to store beside its weights."""
    torch.manual_seed(config.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(config.threads)
    corpus = Corpus(list(generate(table, config.seed, config.sentences)), table)
    model = TutorModel(ModelConfig(n_lemmas=len(table.lemmas)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=1e-4)
    steps_per_epoch = (len(corpus) + config.batch_size - 1) // config.batch_size
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=config.learning_rate,
        total_steps=steps_per_epoch * config.epochs,
        pct_start=0.1,
    )
    order = list(range(len(corpus)))
    shuffler = random.Random(config.seed)  # noqa: S311 (reproducible shuffling, not secrets)
    model.train()
    for epoch in range(config.epochs):
        shuffler.shuffle(order)
        total = 0.0
        for indices in length_buckets(order, corpus.sentence_lengths, config.batch_size, shuffler):
            batch = corpus.batch(indices)
            optimizer.zero_grad()
            value = loss(_forward(model, batch), batch)
            value.backward()  # type: ignore[no-untyped-call]
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            total += float(value.detach())
        if log:
            print(f"epoch {epoch + 1}/{config.epochs}: loss {total / steps_per_epoch:.4f}")
    model.eval()
    metadata = {
        "format": FORMAT,
        "seed": str(config.seed),
        "table_digest": table.digest,
        "config": model.config.to_json(),
        "training": json.dumps(asdict(config), sort_keys=True),
        "lemmas": json.dumps(list(table.lemmas), ensure_ascii=False),
        "tenses": json.dumps(list(TENSES)),
        "persons": json.dumps(list(PERSONS), ensure_ascii=False),
    }
    return model, metadata


def safetensors_bytes(
    tensors: dict[str, npt.NDArray[np.float32]], metadata: dict[str, str]
) -> bytes:
    """The safetensors encoding with sorted keys, so equal weights always give equal bytes
    (the safetensors library writes its header from a hash map, in no fixed order)."""
    header: dict[str, object] = {"__metadata__": dict(sorted(metadata.items()))}
    chunks: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(tensors[name].shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    encoded += b" " * (-len(encoded) % 8)
    return len(encoded).to_bytes(8, "little") + encoded + b"".join(chunks)


def model_bytes(model: TutorModel, metadata: dict[str, str]) -> bytes:
    tensors = {name: p.detach().numpy() for name, p in model.state_dict().items()}
    return safetensors_bytes(tensors, metadata)


def save(model: TutorModel, metadata: dict[str, str], path: Path) -> str:
    """Write weights and metadata atomically; returns "sha256:<hex>" of the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(model_bytes(model, metadata))
    # Readable by the image's unprivileged user whatever the trainer's umask.
    tmp.chmod(0o644)
    tmp.replace(path)
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def verify(path: Path, table: ConjugationTable) -> int:
    """Retrain with the settings recorded in a model file; 0 when the bytes come out the same.

    The release check that the weights shipped are the weights this code and table train.
    """
    try:
        _, info = load_model(path)
    except ModelFileError as e:
        print(f"cannot verify: {e}", file=sys.stderr)
        return 2
    if info.table_digest != table.digest:
        print(
            f"{path}: trained on table {info.table_digest}, but the table is {table.digest};"
            " retrain with `just train`",
            file=sys.stderr,
        )
        return 1
    config = TrainConfig(**json.loads(info.metadata["training"]))
    started = time.monotonic()
    model, metadata = train(table, config, log=True)
    digest = "sha256:" + hashlib.sha256(model_bytes(model, metadata)).hexdigest()
    print(f"retrained in {time.monotonic() - started:.0f} s on {config.threads} threads")
    if digest != info.digest:
        print(
            f"{path} is {info.digest}, but training with its recorded settings gives {digest}:"
            " the committed weights are not what this code trains; retrain with `just train`"
            " and commit the result",
            file=sys.stderr,
        )
        return 1
    print(f"{path}: reproduced {digest}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutor.train", description=__doc__)
    defaults = TrainConfig()
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--sentences", type=int, default=defaults.sentences)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--table", type=Path, default=None, help="default: the pinned table")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="retrain with the settings recorded in --out and require the same bytes;"
        " writes nothing",
    )
    args = parser.parse_args(argv)
    table = ConjugationTable.load(args.table, verify_pin=args.table is None)
    if args.verify:
        return verify(args.out, table)
    config = TrainConfig(
        seed=args.seed, sentences=args.sentences, epochs=args.epochs, threads=args.threads
    )
    started = time.monotonic()
    model, metadata = train(table, config, log=True)
    digest = save(model, metadata, args.out)
    print(f"parameters: {parameter_count(model)}")
    print(f"trained in {time.monotonic() - started:.0f} s on {config.threads} threads")
    print(f"wrote {args.out}")
    print(digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
