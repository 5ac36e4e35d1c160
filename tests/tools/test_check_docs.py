"""The docs stage finds links, recipes and settings that drifted away from the code."""

from __future__ import annotations

from tools.check_docs import check_text, table_problems

FILES = ["README.md", "bot", "bot/README.md", "data", "data/verbs.yaml"]
RECIPES = ["lint", "test", "bench"]
VARIABLES = ["DEPLOYBOT_REDIS_URL"]


def problems(path: str, text: str) -> list[str]:
    return [
        str(p) for p in check_text(path, text, exists=FILES, recipes=RECIPES, variables=VARIABLES)
    ]


def test_a_consistent_document_has_no_problems() -> None:
    text = (
        "See [the receiver](bot/README.md#endpoints) and [home](https://example.com).\n"
        "Run `just test` with DEPLOYBOT_REDIS_URL set; [table](data/verbs.yaml)."
    )
    assert problems("README.md", text) == []


def test_links_resolve_relative_to_the_document() -> None:
    assert problems("bot/README.md", "[up](../README.md) [gone](../docs/missing.md)") == [
        "bot/README.md:1:27: DOC001 broken link ../docs/missing.md"
    ]


def test_unknown_recipes_and_settings_are_named_with_their_line() -> None:
    found = problems("README.md", "intro\nrun `just deploy-all` with DEPLOYBOT_SECRET_SAUCE=1")
    assert found == [
        "README.md:2:11: DOC002 `just deploy-all` is not a recipe of the justfile",
        "README.md:2:28: DOC003 DEPLOYBOT_SECRET_SAUCE is not a setting deploybot reads",
    ]


def test_the_configuration_table_must_list_every_setting() -> None:
    readme = (
        "# x\n\n## Configuration\n\n| variable | default |\n|---|---|\n"
        "| `DEPLOYBOT_REDIS_URL` / `DEPLOYBOT_DATA_DIR` | x |\n\n## Next\n"
        "| `DEPLOYBOT_WEBHOOK_SECRET` | listed in another section: does not count |\n"
    )
    known = ["DEPLOYBOT_REDIS_URL", "DEPLOYBOT_DATA_DIR", "DEPLOYBOT_WEBHOOK_SECRET"]
    assert [str(p) for p in table_problems("README.md", readme, variables=known)] == [
        "README.md:3:1: DOC004 the configuration table does not list DEPLOYBOT_WEBHOOK_SECRET"
    ]
    assert [str(p) for p in table_problems("README.md", "# x\n", variables=known)] == [
        "README.md:1:1: DOC004 no '## Configuration' section"
    ]
