"""The tutor's torch model: a character encoder per word beside what the table says of the word
(tutor.table_features), a BiGRU over the sentence, four heads.

For every word it predicts whether it is a finite verb to check, and which lemma, tense and person
the learner meant. It never produces a form: the checker asks the table for that.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from tutor.architecture import ModelConfig
from tutor.features import PAD


@dataclass(frozen=True)
class Logits:
    """Per-word scores, each (batch, words, classes)."""

    verb: torch.Tensor
    lemma: torch.Tensor
    tense: torch.Tensor
    person: torch.Tensor


class TutorModel(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.char_embedding = nn.Embedding(c.char_vocab, c.char_dim, padding_idx=PAD)
        self.conv1 = nn.Conv1d(c.char_dim, c.conv_channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(c.conv_channels, c.conv_channels, kernel_size=3, padding=1)
        self.word_projection = nn.Linear(2 * c.conv_channels + c.table_features, c.word_dim)
        self.context = nn.GRU(c.word_dim, c.hidden, batch_first=True, bidirectional=True)
        self.head_hidden = nn.Linear(2 * c.hidden + c.word_dim, c.head_hidden)
        self.heads = nn.Linear(c.head_hidden, sum(c.head_sizes))

    def encode_words(
        self, chars: torch.Tensor, lengths: torch.Tensor, table_features: torch.Tensor
    ) -> torch.Tensor:
        """(words, letters) ids and (words, table_features) → (words, word_dim): max-pooled
        letters beside the word's end and the table's slots for it."""
        mask = (torch.arange(chars.shape[1]) < lengths[:, None]).unsqueeze(1).float()
        x = self.char_embedding(chars).transpose(1, 2)
        # Masking after each convolution keeps padding from leaking into real positions, so a
        # word's vector does not depend on how long its batch neighbours are.
        x = torch.relu(self.conv1(x)) * mask
        x = torch.relu(self.conv2(x)) * mask
        pooled = x.max(dim=2).values
        end = x.gather(2, (lengths - 1).view(-1, 1, 1).expand(-1, x.shape[1], 1)).squeeze(2)
        joined = torch.cat([pooled, end, table_features], dim=1)
        return torch.tanh(self.word_projection(joined))

    def forward(
        self,
        chars: torch.Tensor,
        char_lengths: torch.Tensor,
        table_features: torch.Tensor,
        word_index: torch.Tensor,
        sentence_lengths: torch.Tensor,
    ) -> Logits:
        """chars/char_lengths/table_features hold distinct words; word_index (batch, words)
        points into them."""
        vectors = self.encode_words(chars, char_lengths, table_features)[word_index]
        packed = pack_padded_sequence(
            vectors, sentence_lengths, batch_first=True, enforce_sorted=False
        )
        context, _ = self.context(packed)
        context, _ = pad_packed_sequence(context, batch_first=True, total_length=vectors.shape[1])
        hidden = torch.relu(self.head_hidden(torch.cat([context, vectors], dim=2)))
        verb, lemma, tense, person = self.heads(hidden).split(list(self.config.head_sizes), dim=2)
        return Logits(verb.squeeze(2), lemma, tense, person)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
