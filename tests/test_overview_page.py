"""The Overview page through AppTest on the demo store: for an agent, what needs them today, each item a link
to its page with the query that opens it; for an agent without the coaching permission, only what they may
open; a lead's overview as before.

The expectations come from the functions the page calls (`coaching.overview`, `coaching.trends`) on the same
store, at the page tests' fixed now (`app_pages.DEMO_NOW`: Friday 27 Nov 2026, four weeks after the demo's
last day).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from coaching import demo
from coaching.overview import SCORE_DAYS, agent_today, oldest_first, store_overview
from coaching.settings import DEFAULT_REVIEW_SERVICE_LEVEL_DAYS
from coaching.trends import AUDIT, KORE, TrendFilters, headline_figures, own_headline

from app_pages import AGENT_EMAIL, DEMO_NOW, LEAD_EMAIL, as_user, captions, metrics, query, titles
from list_view import unescaped

pytestmark = pytest.mark.usefixtures("demo_app")

NO_COACHING = "no-coaching@example.com"
#: The items of a list the page shows at most (pages/overview.py's MOST_ITEMS).
MOST_ITEMS = 5


def links(at: AppTest) -> list[tuple[str, str, dict[str, str]]]:
    """Every page link: its page (as its URL names it), its label as read, its query."""
    return [(link.proto.page, unescaped(link.proto.label), dict(parse_qsl(link.proto.query_string)))
            for link in at.get("page_link")]


def subheaders(at: AppTest) -> list[str]:
    return [unescaped(s.value) for s in at.subheader]


def badges(at: AppTest) -> list[str]:
    """The badges' words, in page order (st.badge is markdown: ``:red-badge[words]``)."""
    return [unescaped(m) for md in at.markdown for m in re.findall(r":\w+-badge\[(.*?)\](?!\()", md.value)]


def test_an_agents_overview_is_what_needs_them_today(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL)
    assert titles(at) == ["Overview"]
    day = query(demo_db, agent_today, AGENT_EMAIL, DEMO_NOW.date())
    waiting = oldest_first(day.waiting, DEMO_NOW, DEFAULT_REVIEW_SERVICE_LEVEL_DAYS)
    assert len(waiting) and len(day.follow_ups) and day.latest, "the demo agent's day needs each part"
    heads = subheaders(at)
    assert heads[:2] == [f"Waiting on you ({len(waiting):,})", "Follow-ups" + (
        f" ({(day.follow_ups['follow_up'] == 'Overdue').sum()} overdue)"
        if (day.follow_ups["follow_up"] == "Overdue").any() else "")]
    assert heads[2:] == ["Your scores", "Latest coaching", "Your evaluations"]
    shown = links(at)
    # The reviews waiting on the agent, the longest waiting first, each opening its audit (and only that).
    audits = [query for page, _, query in shown if page == "audit"]
    assert audits == [{"conversation": c} for c in waiting["conversation_id"].head(MOST_ITEMS)]
    labels = [label for page, label, _ in shown if page == "audit"]
    assert all(label.startswith("Audit of ") for label in labels)
    # Each with its service level, the Review page's rule.
    levels = [b for b in badges(at) if b.endswith("service level")]
    assert levels == ["Past service level" if past else "Within service level"
                      for past in waiting["past_service_level"].head(MOST_ITEMS)]
    waits = [c for c in captions(at) if c.startswith("Waiting ")]
    assert waits[0].startswith(f"Waiting {waiting['waiting_days'][0]:.1f} business days · {waiting['to_do'][0]}")
    # The Review page's Pending Review tab, saying how many wait on the reviewer.
    [review] = [(label, query) for page, label, query in shown if page == "review"]
    assert review[1] == {"tab": "pending"}
    assert review[0].startswith("Review: Pending Review")
    if day.waiting_on_reviewer:
        assert f"{day.waiting_on_reviewer} waiting on the reviewer" in review[0]
    # Follow-ups earliest first, then the latest coaching: each opens its session, for the agent.
    sessions = [query for page, _, query in shown if page == "coaching" and query]
    follow_ups = [{"assignment": a, "agent": p} for a, p in zip(day.follow_ups["assignment_id"].head(MOST_ITEMS),
                                                                day.follow_ups["person_id"], strict=False)]
    assert sessions == [*follow_ups, {"assignment": day.latest.assignment_id, "agent": AGENT_EMAIL}]
    assert [b for b in badges(at) if b == "Overdue" or b.startswith("Due ")] == list(
        day.follow_ups["follow_up"].head(MOST_ITEMS))
    assert ("coaching", "All coaching assignments", {}) in shown
    assert ("trends", "My Score Trends", {}) in shown
    latest = [label for page, label, query in shown if query.get("assignment") == day.latest.assignment_id][-1]
    assert latest == day.latest.name
    assert any(day.latest.action_plan in unescaped(md.value) for md in at.markdown)


def test_an_agents_scores_are_their_headline_of_the_last_days(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL)
    filters = TrendFilters.last_days(DEMO_NOW.date(), SCORE_DAYS)
    figures = {f.measure: f for f in headline_figures(query(demo_db, own_headline, AGENT_EMAIL, filters))}
    shown = metrics(at)
    for measure, label in ((KORE, "Kore average"), (AUDIT, "Audit average")):
        assert shown[label] == figures[measure].value
        assert any(c.startswith(figures[measure].details[:1].upper() + figures[measure].details[1:])
                   for c in captions(at)), figures[measure].details
    deltas = {m.label: m.proto.delta for m in at.metric}
    assert deltas["Kore average"] == (figures[KORE].change or "")
    assert any(f"The last {SCORE_DAYS} days" in c for c in captions(at))
    # And the agent's counts, as a lead's overview counts their scope.
    counts = query(demo_db, store_overview, AGENT_EMAIL)
    assert shown["Evaluated interactions"] == f"{counts.evaluations:,}"
    assert shown["Supervisor audits"] == f"{counts.audited:,}"
    assert "Agents" not in shown and "Coaching assignments" not in shown


def test_an_agent_without_the_coaching_permission_sees_only_what_they_can_open(demo_db: Path) -> None:
    at = as_user(NO_COACHING)
    assert titles(at) == ["Overview"]
    assert set(demo.DEMO_ACCOUNTS) >= {NO_COACHING}
    # No reviews, follow-ups or sessions: the pages they open need the permission.
    assert subheaders(at) == ["Your scores", "Your evaluations"]
    assert [page for page, _, _ in links(at)] == ["trends"]
    assert {"Kore average", "Audit average", "Evaluated interactions"} <= set(metrics(at))
    assert not [c for c in captions(at) if "What needs you" in c]


def test_a_leads_overview_counts_their_team(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL)
    counts = query(demo_db, store_overview, LEAD_EMAIL)
    shown = metrics(at)
    assert shown == {"Evaluated interactions": f"{counts.evaluations:,}", "Supervisor audits": f"{counts.audited:,}",
                     "Agents": f"{counts.agents:,}", "Coaching assignments": f"{counts.assignments:,}"}
    assert [page for page, _, _ in links(at)] == ["coaching", "review"]
    assert not at.subheader
