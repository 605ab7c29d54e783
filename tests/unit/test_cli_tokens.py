"""`zf token` and `zf keys` tell an operator what is wrong in one line: a key file that is missing or is
not a key set is named (no traceback), and a token is never issued already expired."""
from __future__ import annotations

import pytest

from zfcommon import cli


def run(capsys, monkeypatch, keys: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("ZF_JWT_KEYS", keys)
    monkeypatch.delenv("ZF_JWT_ALGORITHM", raising=False)
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:      # argparse refuses an argument
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", [("token", "office", "x"), ("keys", "show")])
def test_a_missing_key_file_is_named_with_what_creates_it(capsys, monkeypatch, tmp_path, argv):
    code, out, err = run(capsys, monkeypatch, str(tmp_path / "none.json"), *argv)
    assert (code, out) == (2, "")
    assert err.strip() == f"zf: no key set file at {tmp_path / 'none.json'} (`zf keys rotate` creates one)"


@pytest.mark.parametrize("text", ["{bad", "[1]", '{"keys": 5}', '{"keys": []}', '{"other": 1}'])
def test_a_file_that_is_not_a_key_set_is_named(capsys, monkeypatch, tmp_path, text):
    path = tmp_path / "keys.json"
    path.write_text(text)
    for argv in (("token", "office", "x"), ("keys", "show"), ("keys", "rotate")):
        code, out, err = run(capsys, monkeypatch, str(path), *argv)
        assert (code, out) == (2, "") and err.startswith(f"zf: {path} ") and "Traceback" not in err
    assert path.read_text() == text          # rotate left it as it was


@pytest.mark.parametrize("ttl", ["0", "-5", "abc", "1.5"])
def test_a_token_is_never_issued_already_expired(capsys, monkeypatch, tmp_path, ttl):
    keys = tmp_path / "keys.json"
    assert run(capsys, monkeypatch, str(keys), "keys", "rotate", "--at-once")[0] == 0
    code, out, err = run(capsys, monkeypatch, str(keys), "token", "office", "x", "--ttl", ttl)
    assert code == 2 and out == "" and "--ttl" in err
    code, out, _ = run(capsys, monkeypatch, str(keys), "token", "office", "x", "--ttl", "60")
    assert code == 0 and out.count(".") == 2
