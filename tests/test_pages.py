"""The dashboard's pages through Streamlit's AppTest: sign-in, scope, links and the import page.

One demo store serves the whole module (the import tests write to copies of it). Every test signs in
either through the form or with ``AppTest.user`` (what Streamlit's own sign-in sets). The form is the
dashboard's HTML page (``ui.account``, beside Streamlit under ``server.py``): a test posts it through
Starlette's test client, and the app then runs with the session cookie the browser would send
(AppTest cannot send cookies, so ``ui.session.session_token`` is pointed at the test's cookie jar).

Streamlit runs a page of a ``pages/`` folder on its own, without app.py, until a run has reached
app.py's ``st.navigation`` in the process (its first-generation multipage mode). A real server does
that only until the first run of app.py; AppTest resets it before every run. So most tests make
AppTest behave like a server that has run app.py once (``_navigation_only``), and
``test_pages_run_on_their_own_show_nothing_without_app_py`` covers the page-on-its-own case.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from coaching import access, assignments, credentials, demo, sessions, store
from ui import account, cache, session

from app_pages import rows
from exports import build_demo_store
from list_view import every_list_row, list_header, unescaped

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "data" / "templates"
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
AGENT_EMAIL = "agent@example.com"
LEAD_EMAIL = "lead@example.com"
OTHER_LEAD_EMAIL = "zoe.zimmer@example.com"  # the demo's second team lead
DO_NOT_MATCH = "That email and password do not match an account."


class _NavigationOnlyPagesManager(PagesManager):
    """Runs always go through app.py's ``st.navigation``, as on a server once app.py has run."""

    uses_pages_directory = False


# -- the store --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(credentials, "HASHER", CHEAP_HASHER)
        db = build_demo_store(tmp_path_factory.mktemp("pages"))
        for email in demo.DEMO_ACCOUNTS:
            credentials.set_password(db, email, demo.DEMO_PASSWORD)
    yield db
    store.close_all()


@pytest.fixture(scope="module")
def names(demo_db: Path) -> dict[str, str]:
    """Roster names by email."""
    return dict(rows(demo_db, "SELECT email, name FROM people WHERE on_roster AND email IS NOT NULL"))


@pytest.fixture(autouse=True)
def app_env(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads the demo store, verifies cheaply, and starts with no failed sign-ins counted."""
    monkeypatch.setenv("COACHING_DB", str(demo_db))
    # The demo hashes are cheap: with the default hasher a sign-in would rehash (and rewrite) them.
    monkeypatch.setattr(credentials, "HASHER", CHEAP_HASHER)
    shutil.rmtree(credentials.throttle_dir(demo_db), ignore_errors=True)
    monkeypatch.setattr(script_runner, "PagesManager", _NavigationOnlyPagesManager)


#: The cookies of the test's browser: what the sign-in form set.
COOKIES: dict[str, str] = {}


@pytest.fixture(autouse=True)
def browser_cookies(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The app runs as under ``server.py`` (the form's routes are served) with the test's cookies."""
    COOKIES.clear()
    monkeypatch.setattr(account, "_served", True)
    monkeypatch.setattr(session, "session_token", lambda: COOKIES.get(account.SESSION_COOKIE))
    yield COOKIES
    COOKIES.clear()


# -- driving the app --------------------------------------------------------------------------------


def new_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def as_user(email: str, page: str | None = None, **query: str) -> AppTest:
    """The app for someone signed in through Streamlit's sign-in, on ``page`` with ``query``."""
    at = new_app()
    at.user = {"is_logged_in": True, "email": email}
    at.run()
    assert not at.exception
    if page or query:
        if page:
            at.switch_page(page)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def post_sign_in(email: str, password: str, next_path: str = "/"):
    """Sign in on the dashboard's form through its real routes; the browser keeps the session cookie."""
    client = TestClient(Starlette(routes=account.routes()), base_url="http://dashboard.test")
    form = client.get(account.sign_in_url(next_path))
    found = re.search(r'name="form_token" value="([^"]+)"', form.text)
    assert found, form.text
    response = client.post(account.sign_in_url(next_path), follow_redirects=False,
                           data={"email": email, "password": password, "form_token": found.group(1)})
    if account.SESSION_COOKIE in response.cookies:
        COOKIES[account.SESSION_COOKIE] = response.cookies[account.SESSION_COOKIE]
    return response


def form_message(response) -> str:
    found = re.search(r'role="alert">([^<]*)<', response.text)
    return found.group(1) if found else ""


def submit_sign_in(at: AppTest, email: str, password: str) -> AppTest:
    """Sign in through the form, then run the app as the browser that now has the cookie."""
    post_sign_in(email, password)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def titles(at: AppTest) -> list[str]:
    return [unescaped(t.value) for t in at.title]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def shows_only_the_sign_in_form(at: AppTest) -> bool:
    """The sign-in screen in place of a page: the title and a button to the form, nothing else."""
    return (
        titles(at) == ["Coaching & Quality"]
        and [b.label for b in at.button] == ["Sign in"]
        and not at.text_input
        and not at.metric
        and not at.dataframe
        and not at.text
        and not at.file_uploader
        and not at.subheader
    )


def shows_no_data(at: AppTest) -> bool:
    return (not at.metric and not at.dataframe and not at.text and not at.file_uploader
            and not at.get("page_link"))


def listed(at: AppTest) -> pd.DataFrame:
    """The coaching list's sessions, every page of it."""
    assert titles(at) == ["Coaching Assignments"], titles(at) + warnings(at) + errors(at)
    shown = every_list_row(at)
    assert len(shown), infos(at)
    return shown


def team(db: Path, lead_email: str) -> set[str]:
    """Who is on the lead's team (person_ids)."""
    return {p for (p,) in rows(db, "SELECT person_id FROM people WHERE team_lead_email = ?", lead_email)}


# -- 1. not signed in -------------------------------------------------------------------------------


def test_without_sign_in_every_page_shows_only_the_sign_in_form(demo_db: Path) -> None:
    own = rows(demo_db, "SELECT assignment_id, person_id FROM assignments LIMIT 1")[0]
    conversation = rows(demo_db, "SELECT conversation_id FROM evaluations LIMIT 1")[0][0]
    at = new_app().run()
    assert not at.exception
    assert shows_only_the_sign_in_form(at)
    at.switch_page("pages/coaching.py").run()
    assert shows_only_the_sign_in_form(at)
    at.query_params.update({"assignment": own[0], "agent": own[1]})
    at.run()
    assert shows_only_the_sign_in_form(at)
    at.query_params.clear()
    at.switch_page("pages/audit.py")
    at.query_params["conversation"] = conversation
    at.run()
    assert shows_only_the_sign_in_form(at)
    at.query_params.clear()
    at.switch_page("pages/import_exports.py").run()
    assert shows_only_the_sign_in_form(at)
    assert not at.sidebar.button  # no sign-out, no viewer


# -- 2. the sign-in form ----------------------------------------------------------------------------


def test_signing_in_with_the_demo_password_shows_the_agents_overview(demo_db: Path, names) -> None:
    at = submit_sign_in(new_app().run(), AGENT_EMAIL, demo.DEMO_PASSWORD)
    assert titles(at) == ["Overview"]
    metrics = {m.label: m.value for m in at.metric}
    expected = rows(
        demo_db, "SELECT count(*), count(audit_score) FROM evaluations WHERE scored_agent = ?", names[AGENT_EMAIL]
    )[0]
    assert metrics["Evaluated interactions"] == f"{expected[0]:,}"
    assert metrics["Supervisor audits"] == f"{expected[1]:,}"
    # The agent's own view: what needs them today (tests/test_overview_page.py reads it), no team counts.
    assert "Agents" not in metrics
    heads = [s.value for s in at.subheader]
    assert heads[0].startswith("Waiting on you") and heads[1].startswith("Follow-ups")
    assert heads[2:] == ["Your scores", "Latest coaching", "Your evaluations"]
    assert any(names[AGENT_EMAIL] in m.value for m in at.sidebar.markdown)


def test_a_wrong_password_is_refused_clearly() -> None:
    response = post_sign_in(AGENT_EMAIL, "not-the-password")
    assert response.status_code == 401 and form_message(response) == DO_NOT_MATCH
    assert account.SESSION_COOKIE not in response.cookies
    assert shows_only_the_sign_in_form(new_app().run())


def test_after_five_wrong_passwords_even_the_right_one_must_wait(demo_db: Path) -> None:
    for _ in range(5):
        assert form_message(post_sign_in(AGENT_EMAIL, "not-the-password")) == DO_NOT_MATCH
    # The form counted them where every process of the server looks.
    locked = credentials.attempt_sign_in(demo_db, AGENT_EMAIL, demo.DEMO_PASSWORD)
    assert locked.outcome is credentials.Outcome.LOCKED
    response = post_sign_in(AGENT_EMAIL, demo.DEMO_PASSWORD)
    assert response.status_code == 429
    assert re.fullmatch(r"Too many failed sign-ins for this email\. Try again in \d+ seconds\.",
                        form_message(response))
    assert not COOKIES
    assert shows_only_the_sign_in_form(new_app().run())
    # Another email is not locked.
    at = submit_sign_in(new_app(), LEAD_EMAIL, demo.DEMO_PASSWORD)
    assert titles(at) == ["Overview"]


def test_failures_in_another_process_of_the_server_lock_the_form_too(demo_db: Path) -> None:
    guesses = (
        "import sys; from coaching import credentials\n"
        "for _ in range(5):\n"
        "    print(credentials.attempt_sign_in(sys.argv[1], sys.argv[2], 'not-the-password').outcome)"
    )
    other = subprocess.run([sys.executable, "-c", guesses, str(demo_db), AGENT_EMAIL],
                           capture_output=True, text=True, cwd=ROOT, check=True)
    assert other.stdout.split() == ["wrong"] * 5
    response = post_sign_in(AGENT_EMAIL, demo.DEMO_PASSWORD)
    assert form_message(response).startswith("Too many failed sign-ins for this email.")
    assert not COOKIES


def test_an_unknown_email_gets_the_same_message_as_a_wrong_password() -> None:
    unknown = post_sign_in("nobody@example.com", demo.DEMO_PASSWORD)
    wrong = post_sign_in(AGENT_EMAIL, "not-the-password")
    assert (unknown.status_code, form_message(unknown)) == (wrong.status_code, form_message(wrong))
    assert form_message(unknown) == DO_NOT_MATCH and not COOKIES


# -- 3. signed in, but not on the roster ------------------------------------------------------------


def test_someone_not_on_the_roster_gets_a_message_and_no_data() -> None:
    at = as_user("stranger@example.com")
    [message] = errors(at)
    assert "stranger@example.com is not on the dashboard's roster" in unescaped(message)
    # The email is the identity provider's word, shown as text.
    hostile = as_user("[x](https://evil.example)@example.com")
    assert "](" not in errors(hostile)[0].replace("\\]\\(", "") and "\\[x\\]" in errors(hostile)[0]
    assert shows_no_data(at)
    assert titles(at) == ["Coaching & Quality"]  # the dashboard's name, as on the sign-in screen; no page
    sign_out = button(at, "Sign out")
    sign_out.click().run()
    assert not at.exception
    assert at.user.get("is_logged_in") is False
    assert shows_only_the_sign_in_form(at)


# -- 4. an agent without the coaching permission ----------------------------------------------------


def test_an_agent_without_coaching_permission_sees_the_overview_but_no_coaching() -> None:
    at = as_user("no-coaching@example.com")
    assert titles(at) == ["Overview"]
    assert {m.label for m in at.metric} >= {"Evaluated interactions", "Supervisor audits"}
    # Reviews and follow-ups open on pages that need the permission: nothing of what they cannot open.
    assert [s.value for s in at.subheader] == ["Your scores", "Your evaluations"]
    assert [link.proto.page for link in at.get("page_link")] == ["trends"]
    [caption] = [c.value for c in at.sidebar.caption if not c.value.startswith("Data as of")]
    assert "Coaching needs the “Coaching Assignments” permission" in caption
    assert "Agent Dashboard" not in caption  # the permission they have is not named as missing
    # The page is not offered at all...
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/coaching.py")
    # ...and a link to it (or to an audit) lands on the overview.
    for page, query in (("pages/coaching.py", {}), ("pages/audit.py", {"conversation": "any"})):
        at = new_app()
        at.user = {"is_logged_in": False}
        at.run().switch_page(page)
        at.query_params.update(query)
        at.user = {"is_logged_in": True, "email": "no-coaching@example.com"}
        at.run()
        assert not at.exception
        assert titles(at) == ["Overview"]
        # The overview, nothing of the page asked for.
        assert not at.dataframe and not at.text
        assert [s.value for s in at.subheader] == ["Your scores", "Your evaluations"]


# -- 5. an agent's coaching and audit pages ---------------------------------------------------------


def test_an_agent_sees_only_their_own_sessions(demo_db: Path, names) -> None:
    at = as_user(AGENT_EMAIL, "pages/coaching.py")
    table = listed(at)
    assert set(table["person_id"]) == {AGENT_EMAIL}
    expected = rows(demo_db, "SELECT assignment_id FROM assignments WHERE person_id = ?", AGENT_EMAIL)
    assert sorted(table["assignment_id"]) == sorted(a for (a,) in expected)
    assert set(table["shown_agent"]) == {None}  # an agent is not shown an Agent column


def test_an_agent_opens_their_session_by_its_url(demo_db: Path, names) -> None:
    name = names[AGENT_EMAIL]
    assignment_id, title, feedback, plan = rows(
        demo_db,
        "SELECT assignment_id, name, feedback, action_plan FROM assignments WHERE agent = ? AND feedback <> ? "
        "ORDER BY assignment_id LIMIT 1",
        name, demo.UNSAFE_FEEDBACK,
    )[0]
    at = as_user(AGENT_EMAIL, "pages/coaching.py", assignment=assignment_id, agent=AGENT_EMAIL)
    assert titles(at) == [title]
    subheaders = [s.value for s in at.subheader]
    assert "Feedback" in subheaders and "Action Plan" in subheaders
    texts = [t.value for t in at.text]
    assert feedback in texts and plan in texts
    assert not warnings(at)


def test_a_tampered_session_url_shows_not_found(demo_db: Path, names) -> None:
    name = names[AGENT_EMAIL]
    other_id, other_agent, feedback, plan = rows(
        demo_db,
        "SELECT assignment_id, person_id, feedback, action_plan FROM assignments WHERE assignment_id NOT IN "
        "(SELECT assignment_id FROM assignments WHERE agent = ?) ORDER BY assignment_id LIMIT 1",
        name,
    )[0]
    for agent in (other_agent, AGENT_EMAIL):  # the other agent, or the viewer themself on their session id
        at = as_user(AGENT_EMAIL, "pages/coaching.py", assignment=other_id, agent=agent)
        assert any("Coaching session not found" in w for w in warnings(at))
        assert not at.title and not at.subheader and not at.dataframe and not at.text and not at.metric
        shown = " ".join(m.value for m in at.markdown)
        assert feedback not in shown and plan not in shown
    # Without the agent part too.
    at = as_user(AGENT_EMAIL, "pages/coaching.py", assignment=other_id)
    assert any("Coaching session not found" in w for w in warnings(at))
    assert not at.subheader and not at.dataframe and not at.text


def test_an_agent_cannot_open_another_agents_audit(demo_db: Path, names) -> None:
    name = names[AGENT_EMAIL]
    # Not one of the best response examples, which are shared on purpose.
    conversation = rows(
        demo_db,
        "SELECT conversation_id FROM evaluations WHERE scored_agent <> ? AND conversation_id NOT IN "
        "(SELECT conversation_id FROM best_responses) ORDER BY conversation_id LIMIT 1",
        name,
    )[0][0]
    at = as_user(AGENT_EMAIL, "pages/audit.py", conversation=conversation)
    assert titles(at) == ["Audit"]
    assert any("Interaction not found" in w for w in warnings(at))
    assert not at.metric and not at.dataframe and not at.main.caption


def test_an_agent_opens_their_own_audit(demo_db: Path, names) -> None:
    conversation, kore, sentiment, metric_count = rows(
        demo_db,
        "SELECT e.conversation_id, e.kore_score, e.sentiment_score, "
        "(SELECT count(*) FROM evaluation_metrics m WHERE m.conversation_id = e.conversation_id) "
        "FROM evaluations e WHERE scored_agent = ? AND kore_score IS NOT NULL "
        "ORDER BY conversation_id LIMIT 1",
        names[AGENT_EMAIL],
    )[0]
    at = as_user(AGENT_EMAIL, "pages/audit.py", conversation=conversation)
    assert not warnings(at)
    assert any(conversation in unescaped(c.value) for c in at.caption)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Kore Evaluation Score"].split(" ")[0] == f"{kore:.0f}"  # then (Pass) or (Fail)
    assert metrics["Sentiment Score"] == ("—" if sentiment is None else f"{sentiment:.1f}")
    assert len(at.dataframe[0].value) == metric_count > 0


# -- 6. what people wrote is shown as text ----------------------------------------------------------


def test_markdown_and_html_in_feedback_are_shown_as_text(demo_db: Path, names) -> None:
    name = names[AGENT_EMAIL]
    [(assignment_id,)] = rows(
        demo_db, "SELECT assignment_id FROM assignments WHERE agent = ? AND feedback = ?", name, demo.UNSAFE_FEEDBACK
    )
    at = as_user(AGENT_EMAIL, "pages/coaching.py", assignment=assignment_id, agent=AGENT_EMAIL)
    assert demo.UNSAFE_FEEDBACK in [t.value for t in at.text]
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption] + titles(at)
    rendered += [s.value for s in at.subheader]
    assert all(demo.UNSAFE_FEEDBACK not in r and "<script>" not in r for r in rendered)


# -- 7. the cache never crosses viewers -------------------------------------------------------------


def test_cached_coaching_lists_never_cross_agents(demo_db: Path, names, monkeypatch) -> None:
    other_email, other = rows(
        demo_db,
        "SELECT p.email, p.name FROM people p JOIN assignments a ON a.agent = p.name "
        "WHERE p.role = 'Agent' AND p.email NOT IN (?, 'no-coaching@example.com') "
        "GROUP BY ALL ORDER BY count(*) DESC, p.name LIMIT 1",
        AGENT_EMAIL,
    )[0]
    calls = []
    original = assignments.assignment_page

    @functools.wraps(original)
    def counted(con, viewer, *args):
        calls.append(viewer.email)
        return original(con, viewer, *args)

    monkeypatch.setattr(assignments, "assignment_page", counted)
    cache.clear()
    seen = {}
    for email in (AGENT_EMAIL, other_email, AGENT_EMAIL, other_email):
        table = listed(as_user(email, "pages/coaching.py"))
        assert set(table["person_id"]) == {email}
        seen.setdefault(email, []).append(sorted(table["assignment_id"]))
    assert names[other_email] == other
    assert seen[AGENT_EMAIL][0] == seen[AGENT_EMAIL][1] != seen[other_email][0] == seen[other_email][1]
    assert calls == [AGENT_EMAIL, other_email]  # the second round came from the cache, each their own


def test_cached_coaching_lists_never_cross_leads(demo_db: Path, monkeypatch) -> None:
    cache.clear()
    teams = {email: team(demo_db, email) for email in (LEAD_EMAIL, OTHER_LEAD_EMAIL)}
    assert teams[LEAD_EMAIL] and teams[OTHER_LEAD_EMAIL] and not teams[LEAD_EMAIL] & teams[OTHER_LEAD_EMAIL]
    for email in (LEAD_EMAIL, OTHER_LEAD_EMAIL, LEAD_EMAIL, OTHER_LEAD_EMAIL):
        agents = set(listed(as_user(email, "pages/coaching.py"))["person_id"])
        assert agents and agents <= teams[email]


def test_cached_frames_are_private_to_each_caller(demo_db: Path) -> None:
    """The cache shares one object among callers; a page changing its copy changes no one else's."""
    cache.clear()
    calls = []

    def frame(con, viewer):
        calls.append(viewer.email)
        return pd.DataFrame({"agent": [viewer.name], "score": [1.0]})

    the_store = store.open_store(demo_db)
    with the_store.snapshot() as con:
        viewer = access.identify(con, AGENT_EMAIL)
    first = cache.scoped(the_store, viewer, frame)
    first.loc[0, "score"] = 99.0
    first["extra"] = 1
    again = cache.scoped(the_store, viewer, frame)
    assert calls == [AGENT_EMAIL]
    assert list(again.columns) == ["agent", "score"] and again.loc[0, "score"] == 1.0


def test_charts_are_built_once_per_distinct_data() -> None:
    """A chart is reused only for a frame with the same columns, types and values; columns of lists,
    which no chart draws, are left out of the chart's data."""
    built = []

    def make(frame: pd.DataFrame, label: str) -> dict:
        built.append((label, list(frame.columns)))
        return {"rows": len(frame), "label": label}

    frame = pd.DataFrame({"agent": ["Ana", "Ben"], "areas": [["Empathy"], ["Call flow", "Hold"]], "n": [1, 2]})
    first = cache.chart(make, frame, "a")
    assert built == [("a", ["agent", "n"])]
    assert cache.chart(make, frame.copy(), "a") is first
    assert cache.chart(make, frame.assign(areas=[["Empathy"], ["Hold"]]), "a") is first
    assert cache.chart(make, frame, "b")["label"] == "b"  # other arguments: another chart
    changed = [frame.assign(n=[1, 3]), frame.assign(agent=["Ana", "Cy"]), frame.astype({"n": float}),
               frame.head(1), frame.drop(columns="areas").rename(columns={"n": "count"})]
    for other in changed:
        assert cache.chart(make, other, "a") is not first
    assert len(built) == 2 + len(changed)


# -- 8. a lead's team -------------------------------------------------------------------------------


def test_a_lead_sees_their_teams_sessions_with_an_agent_column(demo_db: Path) -> None:
    members = team(demo_db, LEAD_EMAIL)
    at = as_user(LEAD_EMAIL, "pages/coaching.py")
    assert "Agent" in list_header(at)
    shown = listed(at)
    assert set(shown["person_id"]) <= members
    expected = rows(
        demo_db,
        "SELECT assignment_id, person_id, agent FROM assignments WHERE person_id IN (SELECT person_id FROM people "
        "WHERE team_lead_email = ?)",
        LEAD_EMAIL,
    )
    assert sorted(zip(shown["assignment_id"], shown["person_id"], shown["shown_agent"], strict=True)) == sorted(
        expected)
    assert len({a for _, a, _ in expected}) > 1


# -- 9. the link opened before signing in -----------------------------------------------------------


def test_after_signing_in_the_viewer_lands_on_the_link_they_opened(demo_db: Path, names) -> None:
    name = names[AGENT_EMAIL]
    assignment_id, title = rows(
        demo_db, "SELECT assignment_id, name FROM assignments WHERE agent = ? ORDER BY assignment_id DESC LIMIT 1",
        name,
    )[0]
    at = new_app().run()
    at.switch_page("pages/coaching.py")
    at.query_params.update({"assignment": assignment_id, "agent": AGENT_EMAIL})
    at.run()
    assert shows_only_the_sign_in_form(at)
    link = f"/coaching?assignment={assignment_id}&agent={AGENT_EMAIL}"
    response = post_sign_in(AGENT_EMAIL, demo.DEMO_PASSWORD, next_path=link)
    assert (response.status_code, response.headers["location"]) == (303, link)  # the form sends the browser back
    at.run()
    assert titles(at) == [title]
    assert "Feedback" in [s.value for s in at.subheader]
    assert at.query_params == {"assignment": assignment_id, "agent": AGENT_EMAIL}


# -- 10. signing out, and sessions that end ---------------------------------------------------------


def test_signing_out_ends_the_session_on_the_server(demo_db: Path) -> None:
    at = submit_sign_in(new_app(), AGENT_EMAIL, demo.DEMO_PASSWORD)
    assert titles(at) == ["Overview"]
    token = COOKIES[account.SESSION_COOKIE]
    assert sessions.resolve(demo_db, token) == AGENT_EMAIL
    button(at, "Sign out").click().run()
    assert not at.exception
    assert sessions.resolve(demo_db, token) is None  # the cookie works nowhere, even copied
    assert shows_only_the_sign_in_form(at)
    assert "viewer" not in at.session_state
    at.switch_page("pages/coaching.py").run()  # the pages stay closed
    assert shows_only_the_sign_in_form(at)


def test_a_session_ended_elsewhere_signs_this_tab_out_at_its_next_click(demo_db: Path) -> None:
    at = submit_sign_in(new_app(), AGENT_EMAIL, demo.DEMO_PASSWORD)
    assert titles(at) == ["Overview"]
    credentials.set_password(demo_db, AGENT_EMAIL, demo.DEMO_PASSWORD)  # a new password ends every session
    at.switch_page("pages/coaching.py").run()
    assert shows_only_the_sign_in_form(at)
    assert infos(at) == ["Your session has ended. Sign in again to go on."]
    assert shows_no_data(at)


def test_sessions_that_cannot_be_read_are_said_so_and_sign_no_one_out() -> None:
    at = submit_sign_in(new_app(), AGENT_EMAIL, demo.DEMO_PASSWORD)
    assert titles(at) == ["Overview"]

    def unreadable(*args, **kwargs):
        raise sessions.SessionStoreError("the sign-in sessions at data/x.sessions.sqlite3 cannot be used: locked")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sessions, "resolve", unreadable)
        at.run()
    assert not at.exception
    assert errors(at) == ["Sign-in is unavailable: the sign-in sessions at data/x.sessions.sqlite3 cannot be "
                          "used: locked."]
    assert not infos(at) and shows_no_data(at)  # not "your session has ended": it may well be live
    at.run()
    assert titles(at) == ["Overview"]  # readable again: still signed in


def test_without_server_py_the_sign_in_screen_says_how_to_start_the_dashboard() -> None:
    account._served = False  # `streamlit run app.py`: no form to send anyone to (the fixture restores it)
    at = new_app().run()
    [message] = errors(at)
    assert "streamlit run server.py" in message and not at.button
    assert shows_no_data(at)


# -- 11. the import page ----------------------------------------------------------------------------


@pytest.fixture
def import_db(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the module's store (and its passwords) for tests that import into it."""
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_db, db)
    shutil.copyfile(credentials.credentials_path(demo_db), credentials.credentials_path(db))
    monkeypatch.setenv("COACHING_DB", str(db))
    return db


def counts(db: Path) -> dict[str, int]:
    with store.open_store(db).snapshot() as con:
        return store.table_counts(con)


def test_only_admins_get_the_import_page(import_db: Path) -> None:
    agent = as_user(AGENT_EMAIL)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        agent.switch_page("pages/import_exports.py")
    # A link to it lands on the overview.
    at = new_app()
    at.user = {"is_logged_in": False}
    at.run().switch_page("pages/import_exports.py")
    at.user = {"is_logged_in": True, "email": AGENT_EMAIL}
    at.run()
    assert not at.exception
    assert titles(at) == ["Overview"] and not at.file_uploader
    admin = as_user("admin@example.com", "pages/import_exports.py")
    assert titles(admin) == ["Import exports"] and len(admin.file_uploader) == 1


def _import(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, content, "text/csv"))
    next(b for b in at.form_submit_button if b.label == "Import").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_admin_imports_a_valid_file(import_db: Path) -> None:
    before = counts(import_db)
    at = _import(as_user("admin@example.com", "pages/import_exports.py"), "roster.csv",
                 (TEMPLATES / "roster.csv").read_bytes())
    assert not errors(at)
    [success] = [s.value for s in at.success]
    assert success.startswith("Imported 1 file(s)")
    summary = at.dataframe[0].value
    assert list(summary.columns) == ["Kind", "Rows", "New", "Updated", "Unchanged"]
    assert summary["Rows"].sum() == 5
    assert counts(import_db)["people"] == before["people"] + 5  # the template's five people are new


def test_an_admin_sees_every_problem_of_a_bad_file_and_nothing_is_imported(import_db: Path) -> None:
    before = counts(import_db)
    roster = (TEMPLATES / "roster.csv").read_text(encoding="utf-8")
    bad = roster.replace(",QA,", ",Wizard,")
    assert bad != roster
    at = _import(as_user("admin@example.com", "pages/import_exports.py"), "roster.csv", bad.encode())
    assert not at.success
    [message] = errors(at)
    assert message.startswith("Nothing was imported: 1 problem(s) found.")
    problems = at.dataframe[0].value
    assert list(problems.columns) == ["File", "Line", "Column", "Value", "Expected"]
    [problem] = problems.to_dict("records")
    assert problem["File"] == "roster.csv" and problem["Line"] == 5
    assert problem["Column"] == "Role" and problem["Value"] == "Wizard"
    assert "Agent" in problem["Expected"]
    assert counts(import_db) == before


# -- pages run on their own -------------------------------------------------------------------------


def test_a_link_opened_first_on_a_fresh_server_goes_through_app_py(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a freshly started server does with a link to a page: Streamlit runs the page on its own (its
    folder-of-pages mode, until app.py's `st.navigation` has run once). The page leaves that mode and
    reruns through app.py: the sign-in form, with the link kept, and no data."""
    monkeypatch.setattr(script_runner, "PagesManager", PagesManager)  # Streamlit's own behaviour
    conversation = rows(demo_db, "SELECT conversation_id FROM evaluations LIMIT 1")[0][0]
    for page, query in (
        ("pages/import_exports.py", {}),
        ("pages/coaching.py", {}),
        ("pages/audit.py", {"conversation": conversation}),
        ("pages/review.py", {"tab": "resolved"}),
        ("pages/overview.py", {}),
    ):
        at = new_app().run()
        at.switch_page(page)
        at.query_params.update(query)
        at.run()  # AppTest starts every run as a fresh server does: in folder-of-pages mode
        assert not at.exception
        assert shows_only_the_sign_in_form(at), page
        assert shows_no_data(at), page
        assert at.query_params == query, page
    # A page that checks for itself also refuses a signed-in viewer who lacks what it needs.
    monkeypatch.syspath_prepend(str(ROOT))
    with store.open_store(demo_db).snapshot() as con:
        agent = access.identify(con, AGENT_EMAIL)
        no_coaching = access.identify(con, "no-coaching@example.com")
    for page, viewer, needs in (
        ("import_exports.py", agent, access.Capability.IMPORT),
        ("coaching.py", no_coaching, access.Capability.COACHING),
        ("audit.py", no_coaching, access.Capability.COACHING),
        ("review.py", no_coaching, access.Capability.COACHING),
    ):
        at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=30)
        at.session_state["viewer"] = viewer
        at.query_params["conversation"] = conversation
        at.run()
        assert not at.exception
        assert errors(at) == [access.missing_permissions(viewer, needs)], page
        assert shows_no_data(at) and not at.title, page
