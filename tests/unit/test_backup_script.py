"""The SQL script pg_restore writes, fitted to the server it restores into (zfcommon.backup.for_server)."""
from __future__ import annotations

from zfcommon.backup import for_server

SCRIPT = [
    b"SET statement_timeout = 0;\n",
    b"SET transaction_timeout = 0;\n",
    b"SET client_encoding = 'UTF8';\n",
    b"COPY intake.notes (id, text) FROM stdin;\n",
    b"1\tSET transaction_timeout = 0;\n",
    b"SET transaction_timeout = 0;\n",          # a row whose one column says exactly that
    b"\\.\n",
    b"SET transaction_timeout = 0;\n",
    b"CREATE INDEX i ON intake.notes (id);\n",
]


def test_an_older_server_gets_the_script_without_the_setting_it_does_not_know():
    out = list(for_server(SCRIPT, 16))
    assert b"SET transaction_timeout = 0;\n" not in out[:3] + out[7:]
    assert out[:2] == [b"SET statement_timeout = 0;\n", b"SET client_encoding = 'UTF8';\n"]


def test_rows_of_copy_data_pass_untouched_whatever_they_hold():
    out = list(for_server(SCRIPT, 16))
    assert out[2:6] == SCRIPT[3:7]


def test_a_server_of_17_or_newer_gets_the_script_as_written():
    assert list(for_server(SCRIPT, 17)) == list(for_server(SCRIPT, 18)) == SCRIPT
