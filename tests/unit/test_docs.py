"""The developer docs stay true to the code."""
from pathlib import Path

from zfcommon.events.docs import catalogue_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_the_event_catalogue_document_is_generated_from_the_code():
    assert (ROOT / "docs" / "EVENTS.md").read_text(encoding="utf-8") == catalogue_markdown(), \
        "run `zf catalogue > docs/EVENTS.md`"


def test_the_readme_shows_the_two_commands_first():
    first_screen = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:40])
    assert "make up" in first_screen and "make test" in first_screen
