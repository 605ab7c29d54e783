"""Every stable problem code the services raise is documented for the programs that branch on it
(docs/PROBLEMS.md). Codes are found where they are written: `code="…"` arguments (also as a
conditional), `code = "…"` class attributes, and the request-validation layer's refusals."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Codes put together at run time, documented by their pattern.
COMPOSED = {"webhook.{exc.check}", "{kind}.transition_refused"}


def _constants(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _constants(node.body) + _constants(node.orelse)
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
                        for v in node.values)]
    return []


def written_codes() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "services").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "code":
                        codes.update(_constants(keyword.value))
                if getattr(node.func, "id", None) == "_refuse":
                    codes.update(_constants(node.args[1]))
            elif isinstance(node, ast.Assign) and [getattr(t, "id", getattr(t, "attr", None))
                                                   for t in node.targets] == ["code"]:
                codes.update(_constants(node.value))
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple) and \
                    any(getattr(e, "id", None) == "code" for t in node.targets for e in getattr(t, "elts", [])):
                names = [getattr(e, "id", None) for t in node.targets for e in getattr(t, "elts", [])]
                codes.update(_constants(node.value.elts[names.index("code")]))
    return codes


def test_every_problem_code_is_documented():
    documented = (ROOT / "docs" / "PROBLEMS.md").read_text(encoding="utf-8")
    missing = sorted(c for c in written_codes() - COMPOSED if f"`{c}`" not in documented)
    assert missing == [], "add them to docs/PROBLEMS.md"


def test_the_scan_finds_the_codes_it_should():
    codes = written_codes()
    assert {"case.transition_refused", "validation_failed", "input.forbidden_character", "not_found",
            "report.already_filed", "report.stale_correction"} <= codes and COMPOSED <= codes
