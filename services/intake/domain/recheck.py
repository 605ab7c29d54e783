"""The re-check sampling draw (查否复查抽查), reproducible by anyone from the inputs in the event. Beside
it the office may choose a dismissal the draw did not pick (lifecycle `choose_recheck`, recorded as
case.recheck_chosen with who chose it and why): the draw keeps units from predicting re-checks, the
choice lets the office follow up what it has reason to doubt (an unsatisfied complainant, a pattern).

The seed is the case id and a random nonce chosen when the dismissal is accepted: nobody can know
in advance which dismissals will be drawn (so a unit cannot game it), and afterwards anyone can
recompute the draw from the recorded seed and ratio. The event is stored once, append-only, so the
office cannot draw again to change the outcome.
"""
from __future__ import annotations

from zfcommon.draw import draw


def recheck_draw(case_id: str, nonce: str, ratio: float) -> dict:
    seed = f"{case_id}:{nonce}"
    value = draw(seed)
    return {"ratio": ratio, "seed": seed, "draw": value, "selected": value < ratio}
