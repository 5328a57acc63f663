"""The score rules: each verdict on a score decided once, as SQL every query uses.

* The **current Supervisor Audit Score** of an evaluation: after its last re-evaluation (the review
  state machine's final audit score), else as exported.
* **Pass or Fail**: a score at or above the pass score passes (``COACHING_PASS_SCORE``, 40 by default).
* **Below threshold**: an interaction whose Duration Status starts with "below" (any case; Kore exports
  "Below Threshold") was below Kore's duration threshold and has no Kore score for that reason. (The
  Audit page read it so; the coaching session took any status containing "below", "Not below
  threshold" too.)
* A score's **result** on a page: Pass or Fail, or why there is no score (Below threshold, Not
  evaluated, Not audited).
* An average of fewer than :data:`FEW` scores is **thin**: drawn hollow on a trend, faded on the heatmap,
  and too few for the Team view's change or flags.
* A **change against noise**: the standard error of the difference of two averages, √(s₁²/n₁ + s₂²/n₂),
  from each side's count, sum and sum of squares (:func:`change_se_sql`): the Team view's Falling flag
  and the coaching effect's interval.

The expressions read an evaluation ``e`` LEFT JOINed to its review ``r`` (``evaluation_reviews``) and
bind the pass score by name, as ``$pass_score`` (:func:`pass_score`).
"""

from __future__ import annotations

import pandas as pd

from coaching.settings import DEFAULT_PASS_SCORE
from coaching.sql import Params

PASS, FAIL = "Pass", "Fail"
BELOW_THRESHOLD, NOT_EVALUATED, NOT_AUDITED = "Below threshold", "Not evaluated", "Not audited"
#: Every result a Kore or audit score can show.
RESULTS = (PASS, FAIL, BELOW_THRESHOLD, NOT_EVALUATED, NOT_AUDITED)

#: An average resting on fewer scores than this is thin (see above).
FEW = 5

#: SQL: the current Supervisor Audit Score of ``e`` with its review ``r``.
AUDIT_SQL = "coalesce(r.final_audit_score, e.audit_score)"
#: SQL: the interaction ``e`` was below Kore's duration threshold.
BELOW_THRESHOLD_SQL = "coalesce(starts_with(lower(trim(e.duration_status)), 'below'), false)"


def with_result(score: float | None, result: str) -> str:
    """A score as a page shows it, with its result: "54 (Pass)", or "— (Not audited)" without one."""
    return f"— ({result})" if score is None or pd.isna(score) else f"{score:.0f} ({result})"


def pass_score(score: float = DEFAULT_PASS_SCORE) -> Params:
    """The named parameter the verdicts below bind."""
    return {"pass_score": float(score)}


def verdict_sql(score: str) -> str:
    """SQL: Pass or Fail for the score ``score`` (an SQL expression), NULL when it has none."""
    return f"CASE WHEN ({score}) >= $pass_score THEN '{PASS}' WHEN ({score}) IS NOT NULL THEN '{FAIL}' END"


#: SQL: the Kore Evaluation Score's result of ``e``: Pass, Fail, Below threshold or Not evaluated.
KORE_RESULT_SQL = (
    f"coalesce({verdict_sql('e.kore_score')}, "
    f"CASE WHEN {BELOW_THRESHOLD_SQL} THEN '{BELOW_THRESHOLD}' ELSE '{NOT_EVALUATED}' END)"
)


def audit_result_sql(score: str = AUDIT_SQL) -> str:
    """SQL: the result of the audit score ``score`` (the current one by default): Pass, Fail or Not
    audited."""
    return f"coalesce({verdict_sql(score)}, '{NOT_AUDITED}')"


# -- averages and their changes, from sums ---------------------------------------------------------------
# A side is named by a prefix: ``{prefix}_n``, ``{prefix}_sum`` and ``{prefix}_squares`` are its count, sum
# and sum of squares (one pass over the scores gives all three, for any grouping).


def mean_sql(side: str) -> str:
    """SQL: the mean of the side ``side`` (a prefix: see above), NULL with no scores."""
    return f"{side}_sum / nullif({side}_n, 0)"


def variance_sql(side: str) -> str:
    """SQL: the sample variance of the side ``side``, (Σx² − (Σx)²/n) / (n − 1), NULL under two scores.
    (Scores are at most 100 points, so nothing that matters cancels.)"""
    n, total, squares = (f"{side}_{part}" for part in ("n", "sum", "squares"))
    return f"CASE WHEN {n} > 1 THEN greatest({squares} - {total} * {total} / {n}, 0) / ({n} - 1) END"


def change_se_sql(before: str, after: str) -> str:
    """SQL: the standard error of the change between the means of the sides ``before`` and ``after``,
    √(s₁²/n₁ + s₂²/n₂); NULL where either side has fewer than two scores."""
    return f"sqrt({variance_sql(before)} / {before}_n + {variance_sql(after)} / {after}_n)"
