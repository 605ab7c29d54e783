"""Duplicate suggestions (并单建议, docs/CAMPAIGNS.md): which open cases look like the same matter as a
case. Local and pure — no network model: character n-gram TF-IDF cosine of the descriptions (Chinese
needs no word segmentation for this; jieba was measured and did not help), the subject unit, the
place (rapidfuzz's partial ratio of the addresses) and the specifics both callers give (the numbers
they mention: days waited, trips made, sums asked). Each suggestion says why, in Chinese.

score = 0.5 × text + 0.15 × unit + 0.05 × place + 0.3 × numbers, each in [0, 1]; suggested at
score ≥ DEFAULT_THRESHOLD. The weights and the threshold were chosen on the labelled set in
tests/data (docs/CAMPAIGNS.md has the measured precision and recall)."""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from rapidfuzz import fuzz

DEFAULT_THRESHOLD = 0.37
WEIGHTS = {"text": 0.5, "unit": 0.15, "place": 0.05, "numbers": 0.3}
NGRAMS = (2, 3)
LIMIT = 5
NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Lead:
    case_id: str
    description: str
    subject_unit: str
    address: str | None
    received_at: datetime


def grams(text: str) -> Counter:
    chars = "".join(ch for ch in text if not ch.isspace())
    return Counter(chars[i:i + n] for n in NGRAMS for i in range(len(chars) - n + 1))


class _Lazy(dict):
    """A value per key, worked out on first use by `make` and kept."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, key):
        value = self[key] = self.make(key)
        return value


class Idf:
    """Inverse document frequencies over a pool of descriptions (smoothed, as scikit-learn's default).

    A suggestion compares one case with up to POOL candidates: each text's n-grams, each n-gram's
    inverse frequency and each text's vector are worked out once and kept (the case's own vector used
    to be rebuilt for every candidate), with the same arithmetic in the same order, so scores are
    unchanged."""

    def __init__(self, texts: Iterable[str]):
        self.df: Counter = Counter()
        self.n = 0
        self._grams = _Lazy(grams)
        for text in texts:
            self.n += 1
            self.df.update(self._grams[text].keys())
        n, df = self.n, self.df          # not self: the caches hold no reference back to the object
        self._idf = _Lazy(lambda g: math.log((1 + n) / (1 + df.get(g, 0))) + 1)
        self._tf = _Lazy(lambda count: 1 + math.log(count))
        self._vectors: dict[str, dict[str, float]] = {}

    def vector(self, text: str) -> dict[str, float]:
        found = self._vectors.get(text)
        if found is None:
            idf, tf = self._idf, self._tf
            weights = {g: tf[c] * idf[g] for g, c in self._grams[text].items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            found = self._vectors[text] = {g: w / norm for g, w in weights.items()}
        return found

    def cosine(self, a: str, b: str) -> float:
        va, vb = self.vector(a), self.vector(b)
        return sum(w * vb.get(g, 0.0) for g, w in va.items())


def numbers(a: str, b: str) -> float:
    """How far the specifics agree: Jaccard of the numbers mentioned; 0.5 when neither gives any."""
    na, nb = set(NUMBER.findall(a)), set(NUMBER.findall(b))
    return len(na & nb) / len(na | nb) if na | nb else 0.5


def unit(a: str, b: str) -> float:
    """1 for the same unit; a partly similar name (县住建局 / 住建局) counts half its likeness."""
    return 1.0 if a == b else 0.5 * fuzz.ratio(a, b) / 100


def place(a: str | None, b: str | None) -> float:
    return fuzz.partial_ratio(a, b) / 100 if a and b else 0.0


def compare(query: Lead, other: Lead, idf: Idf) -> tuple[float, dict[str, float]]:
    parts = {"text": idf.cosine(query.description, other.description),
             "unit": unit(query.subject_unit, other.subject_unit), "place": place(query.address, other.address),
             "numbers": numbers(query.description, other.description)}
    return round(sum(WEIGHTS[k] * v for k, v in parts.items()), 4), parts


def why(query: Lead, other: Lead, parts: dict[str, float]) -> list[str]:
    """The reasons an office reads beside a suggestion."""
    out = [f"问题描述相似度 {parts['text']:.2f}"]
    if query.subject_unit == other.subject_unit:
        out.append(f"被反映单位相同（{other.subject_unit}）")
    elif parts["unit"] >= 0.3:
        out.append(f"被反映单位相近（{other.subject_unit}）")
    if parts["place"] >= 0.6:
        out.append(f"地点相近（{other.address}）")
    shared = sorted(set(NUMBER.findall(query.description)) & set(NUMBER.findall(other.description)))
    if shared:
        out.append("提到相同的数字：" + "、".join(shared))
    days = abs((query.received_at - other.received_at).total_seconds()) / 86400
    out.append(f"受理时间相隔 {days:.0f} 天" if days >= 1 else "同一天受理")
    return out


def suggest(query: Lead, candidates: list[Lead], threshold: float = DEFAULT_THRESHOLD,
            limit: int = LIMIT) -> list[dict]:
    """Up to `limit` candidates scoring at least `threshold`, best first (ties: the more recent)."""
    idf = Idf([query.description, *(c.description for c in candidates)])
    scored = []
    for c in candidates:
        score, parts = compare(query, c, idf)
        if score >= threshold:
            scored.append((score, c.received_at, c, parts))
    scored.sort(key=lambda s: (-s[0], -s[1].timestamp()))
    return [{"case_id": c.case_id, "score": score, "parts": {k: round(v, 4) for k, v in parts.items()},
             "why": why(query, c, parts)} for score, _, c, parts in scored[:limit]]
