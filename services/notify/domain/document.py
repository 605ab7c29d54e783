"""A published bulletin as a formal document (公文): its number (文号), issuer and issue date, and how it
names a case. Pure.

GB/T 9704-2012 (党政机关公文格式) 7.2.4: a document number is the issuing office's code (机关代字),
the year in full in hexagonal brackets 〔〕, and the sequence number without padding or 第, followed
by 号 — as the seeds' own 邵政办发〔2014〕54号 and 清府办〔2015〕10号. The office configures the pattern per
kind of publication; the sequence restarts each year and counts that kind's publications only, so a
monthly bulletin's numbers have no gaps from interim reports (which have their own pattern).

The number is given when the bulletin is published, not drafted: a draft may be redrafted or never
published, and a number once given must never be left unused. It is stored in the published event.

Supervision letters (督办函) are numbered the same way, in a sequence of their own: the scheduler gives
the number in the transaction that issues the step, and it is stored in the step's event
(docs/ESCALATION.md "Numbered supervision letters").
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from zfcommon.settings import ConfigError

PLACEHOLDERS = frozenset({"office", "year", "seq"})
REQUIRED = frozenset({"year", "seq"})
SHORT_ID = 8            # a case without a human number is named by the first characters of its id


class BadPattern(ValueError):
    pass


def check_pattern(pattern: str) -> str:
    """The pattern if it is one: only {office}, {year} and {seq}, and both of the last two."""
    try:
        names = {name for _, name, spec, conv in string.Formatter().parse(pattern) if name is not None}
        pattern.format(office="", year=2026, seq=1)
    except (ValueError, IndexError, KeyError) as exc:
        raise BadPattern(f"{pattern!r} is not a pattern ({exc})") from None
    if names - PLACEHOLDERS or REQUIRED - names:
        raise BadPattern(f"{pattern!r} must use {{year}} and {{seq}} (and may use {{office}}), nothing else")
    return pattern


@dataclass(frozen=True)
class Office:
    """Who issues the publications: the issuer's name as signed (发文机关署名), the short name a pattern
    writes as {office} (机关代字), and the number pattern of each numbered kind."""
    name: str
    short: str
    patterns: Mapping[str, str]

    def issue(self, kind: str, day: date, sequence: int) -> dict[str, Any]:
        """The document data of the `sequence`-th publication of `kind` issued in `day`'s year."""
        number = self.patterns[kind].format(office=self.short, year=day.year, seq=sequence)
        return {"number": number, "year": day.year, "sequence": sequence, "issuer": self.name,
                "issued_on": day.isoformat()}


# The numbered kinds, each with the setting that holds its pattern.
PATTERN_SETTINGS = {"bulletin": ("ZF_BULLETIN_NUMBER", "bulletin_number"),
                    "interim": ("ZF_INTERIM_NUMBER", "interim_number"),
                    "letter": ("ZF_LETTER_NUMBER", "letter_number"),
                    "appraisal": ("ZF_APPRAISAL_NUMBER", "appraisal_number")}


def office_from(settings: Any) -> Office:
    """The office as notify's settings describe it; ConfigError naming the variable whose 文号 pattern
    is not one (a bad pattern stops notify's start, not a publication or a letter)."""
    checked = {}
    for kind, (variable, attribute) in PATTERN_SETTINGS.items():
        try:
            checked[kind] = check_pattern(getattr(settings, attribute))
        except BadPattern as exc:
            raise ConfigError(f"{variable}: {exc}") from None
    return Office(settings.office_name or settings.notice_office, settings.notice_office, checked)


def case_label(case_id: str, case_number: str | None) -> str:
    """How a publication names a case: its human number (工单编号, ZF-2026-000123), else the start of its id."""
    return case_number or case_id[:SHORT_ID]
