"""Cross-check data/verbs.yaml against two independent conjugators and list every difference.

The conjugators are not project dependencies; install them somewhere of their own first:
    pip install --target <dir> verbecc==2.0.3 spanishconjugator==2.3.9474
    PYTHONPATH=<dir> python tools/crosscheck_verbs.py
verbecc is the reference. spanishconjugator regularises many irregular verbs, so it is only a
second opinion: the report lists the slots that neither conjugator confirms, each of which must be
explained in the table's header (data/verbs.yaml).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.verify import PERSONS, TENSES, ConjugationTable

VERBECC_TENSES = {
    "present": ("indicativo", "presente"),
    "preterite": ("indicativo", "pretérito-perfecto-simple"),
    "imperfect": ("indicativo", "pretérito-imperfecto"),
    "future": ("indicativo", "futuro"),
    "conditional": ("condicional", "presente"),
    "present_subjunctive": ("subjuntivo", "presente"),
}
SPANISHCONJUGATOR_TENSES = {
    "present": ("present", "indicative"),
    "preterite": ("preterite", "indicative"),
    "imperfect": ("imperfect", "indicative"),
    "future": ("future", "indicative"),
    "conditional": ("simple_conditional", "conditional"),
    "present_subjunctive": ("present", "subjunctive"),
}
SPANISHCONJUGATOR_PERSONS = dict(
    zip(PERSONS, ("yo", "tu", "usted", "nosotros", "vosotros", "ustedes"), strict=True)
)
Slot = tuple[str, str, str]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def verbecc_forms(table: ConjugationTable) -> tuple[dict[Slot, tuple[str, ...]], list[str]]:
    """Every slot verbecc knows (its alternates in order), and the verbs it could not vouch for."""
    from verbecc import CompleteConjugator, LangCodeISO639_1

    logging.disable(logging.CRITICAL)  # verbecc logs its model loading at INFO
    conjugator = CompleteConjugator(LangCodeISO639_1.es)
    found: dict[Slot, tuple[str, ...]] = {}
    unknown: list[str] = []
    for lemma in table.lemmas:
        try:
            raw: Any = conjugator.conjugate(lemma).to_json()
        except Exception:
            unknown.append(f"{lemma} (verbecc raised an error)")
            continue
        data = json.loads(raw) if isinstance(raw, str) else raw
        if data["verb"].get("predicted"):
            unknown.append(f"{lemma} (verbecc only predicts it)")
            continue
        for tense, (mood, name) in VERBECC_TENSES.items():
            rows = {row["pr"]: row["c"] for row in data["moods"][mood][name]}
            for person in PERSONS:
                found[(lemma, tense, person)] = tuple(nfc(c.split()[-1]) for c in rows[person])
    return found, unknown


def spanishconjugator_forms(table: ConjugationTable) -> dict[Slot, str]:
    from spanishconjugator import Conjugator

    conjugator = Conjugator()
    found: dict[Slot, str] = {}
    for lemma in table.lemmas:
        for tense, (name, mood) in SPANISHCONJUGATOR_TENSES.items():
            for person in PERSONS:
                form = conjugator.conjugate(lemma, name, mood, SPANISHCONJUGATOR_PERSONS[person])
                if isinstance(form, str):
                    # It returns some forms as UTF-8 read as Latin-1 ("tenÃ©is").
                    fixed = re.sub("Ã.", lambda m: m.group().encode("latin-1").decode(), form)
                    found[(lemma, tense, person)] = nfc(fixed)
    return found


def main() -> int:
    table = ConjugationTable.load()
    reference, unknown = verbecc_forms(table)
    second = spanishconjugator_forms(table)
    slots = [(lemma, t, p) for lemma in table.lemmas for t in TENSES for p in PERSONS]
    differ = [s for s in slots if s in reference and reference[s] != table.forms(*s)]
    second_agrees = [s for s in slots if second.get(s) in table.forms(*s)]
    unconfirmed = [
        s
        for s in slots
        if reference.get(s) != table.forms(*s) and second.get(s) not in table.forms(*s)
    ]
    print(f"{len(slots)} slots in the table ({table.digest})")
    print(
        f"verbecc: {len(reference)} compared, {len(reference) - len(differ)} identical, "
        f"{len(differ)} different"
    )
    print(f"spanishconjugator: {len(second_agrees)} of {len(slots)} slots agree")
    print("not checked by verbecc:", ", ".join(unknown) or "none")
    print("differences from verbecc (table | verbecc):")
    for s in differ:
        print(f"  {'/'.join(s)}: {', '.join(table.forms(*s))} | {', '.join(reference[s])}")
    print(f"confirmed by neither ({len(unconfirmed)}):")
    for s in unconfirmed:
        print(f"  {'/'.join(s)}: {', '.join(table.forms(*s))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
