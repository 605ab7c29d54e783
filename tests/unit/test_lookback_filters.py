"""A look-back's filters are checked by intake before it asks the ledger for candidates: whatever
intake's LookbackIn accepts, the ledger's CandidateQuery accepts as intake passes it on. Otherwise the
office would get a 503 "台账服务暂不可用" for its own bad input (found by a deep schemathesis run: an empty
campaign_id) instead of a 422 naming the field."""
from __future__ import annotations

import itertools

import pytest
from marshmallow import ValidationError

from intake.adapters.ledger_client import candidate_params
from intake.entrypoints.campaign_schemas import LookbackIn
from intake.entrypoints.lookbacks import FILTERS
from ledger.entrypoints.plan_schemas import CandidateQuery

BASE = {"title": "回头看", "ratio": 0.5}
EDGES = {
    "campaign_id": ["", " ", "c" * 200, "c" * 201, "活动", None],
    "unit": ["", "县公安局", "u" * 200, "u" * 201, None],
    "category": ["", "推诿扯皮", "k" * 100, "k" * 101, None],
    "closed_from": ["2026-01-01", "2026-13-01", "", None],
    "closed_to": ["2026-12-31", "x", None],
    "kinds": [["case"], ["task"], ["case", "task"], [], ["other"], ["case", "case"]],
}


@pytest.mark.parametrize("field, value", [(f, v) for f, vs in EDGES.items() for v in vs])
def test_what_intake_accepts_the_ledger_accepts(field, value):
    try:
        loaded = LookbackIn().load({**BASE, field: value})
    except ValidationError as exc:
        assert field in exc.messages     # refused by intake, naming the field: the ledger is never asked
        return
    CandidateQuery().load(candidate_params({k: loaded[k] for k in FILTERS}))


def test_an_empty_campaign_is_refused_by_intake():
    with pytest.raises(ValidationError) as refused:
        LookbackIn().load({**BASE, "campaign_id": ""})
    assert "campaign_id" in refused.value.messages


def test_every_filter_together():
    for values in itertools.islice(itertools.product(*(v for v in EDGES.values())), 0, None, 7):
        body = {**BASE, **{k: v for k, v in zip(EDGES, values)}}
        try:
            loaded = LookbackIn().load(body)
        except ValidationError:
            continue
        CandidateQuery().load(candidate_params({k: loaded[k] for k in FILTERS}))
