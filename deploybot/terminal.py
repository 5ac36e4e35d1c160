"""What the operator commands print for people: tables and step lines through rich.

On a terminal they get colour and the terminal's width; piped (to `less`, a log, a test) the same
layout in plain text, wide enough that a line is not folded. Scripts read `--json` instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Final, TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

PIPED_WIDTH: Final = 160


def verdict(ok: bool) -> Text:
    """A check's verdict, as doctor shows it."""
    return Text("ok", style="green") if ok else Text("NO", style="bold red")


def console(file: TextIO | None = None) -> Console:
    out = file or sys.stdout
    return Console(
        file=out,
        highlight=False,
        width=None if out.isatty() else PIPED_WIDTH,
        soft_wrap=False,
    )


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str | Text]]) -> Table:
    """A titled table. Its title and text cells are shown as they are: an environment, a branch
    or a login with brackets in it is not taken for markup."""
    shown = Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        shown.add_column(column, overflow="fold")
    for row in rows:
        shown.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in row))
    return shown


def show(*renderables: object) -> None:
    console().print(*renderables)
