"""`python -m tutor.selfcheck`: what the tutor checks of itself where it is installed (a staged
image, a checkout): the conjugation table against its pin, and the tokenizer's exact round trip
over a fixed corpus. Prints one JSON object; exits 0 only when both hold.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from tutor.tokenizer import Tokenizer
from tutor.verify import PINNED_TABLE_SHA256, ConjugationTable, TableError, table_path

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "data" / "eval" / "roundtrip_corpus.txt"


def table_check() -> dict[str, object]:
    try:
        table = ConjugationTable.load()
    except TableError as error:
        return {"ok": False, "detail": str(error), "pinned": f"sha256:{PINNED_TABLE_SHA256}"}
    return {"ok": True, "digest": table.digest, "source": str(table_path())}


def round_trip_check(corpus: Path) -> dict[str, object]:
    try:
        lines = corpus.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        return {"ok": False, "detail": f"cannot read {corpus}: {error.strerror}"}
    tokenizer = Tokenizer()
    broken = [
        n for n, line in enumerate(lines, 1) if tokenizer.decode(tokenizer.encode(line)) != line
    ]
    return {"ok": not broken and bool(lines), "lines": len(lines), "broken_lines": broken[:10]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutor.selfcheck", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)
    found = {"table": table_check(), "tokenizer": round_trip_check(args.corpus)}
    print(json.dumps(found, ensure_ascii=False))
    return 0 if all(check["ok"] for check in found.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
