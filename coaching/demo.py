"""Demo data: realistic, deterministic exports of a contact center, written in the import formats.

Everything is generated in bulk with NumPy and formatted by DuckDB, so the large scale (5,000 agents,
2 million interactions) takes minutes, not hours. The same seed and end date give the same files.
What the dashboard shows is reachable here: teams with leads, queues with topics and intents, two
evaluation forms with different metric sets, Kore and audit scores that agree only roughly, coaching
assignments (individual and group, 1 to 7 areas, some overdue, some without best responses), and
review logs in every state, from an audit waiting for the agent to a dispute closed after 3 rounds; a
disputed metric is one the audit marked not adhered, and the agent's comment is about that metric.
``generate`` calls one function per export (``_roster``, ``_evaluation_report``, ``_coaching_assignments``,
``_best_responses``, ``_review_events``, ``_coaching_interactions``), each writing through ``_Writer``; the
review scenarios are written in the review state machine's actions, and it decides how each one ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from coaching import settings, store
from coaching.assignments import COMPLETED, IN_PROGRESS, YET_TO_START
from coaching.review_machine import (
    ACCEPTED,
    ACTORS,
    AUDIT_SUBMITTED,
    CLOSE,
    DISPUTE_ACCEPTED,
    DISPUTE_DENIED,
    DISPUTED,
    PENDING_AGENT,
    PENDING_SUPERVISOR,
    RE_EVALUATED,
    RESOLVE,
    ReviewEvent,
    derive_review,
)
from coaching.sql import scalar

#: Arrays of the generated data, one element per interaction, assignment or row.
_Array = npt.NDArray[Any]

COACHING_AREAS = (
    "Empathy",
    "Compliance",
    "Product Knowledge",
    "Communication Skills",
    "Etiquette",
    "Problem Solving",
    "Call Handling",
)

# (metric, coaching area, adherence weight, violation weight, fatal, base adherence logit)
METRICS = (
    ("Greeting", "Etiquette", 8, 6, False, 2.2),
    ("Identity Verification", "Compliance", 12, 12, True, 3.2),
    ("Empathy Statement", "Empathy", 12, 10, False, 0.6),
    ("Active Listening", "Communication Skills", 10, 8, False, 1.0),
    ("Accurate Information", "Product Knowledge", 14, 14, False, 1.4),
    ("Resolution Offered", "Problem Solving", 14, 12, False, 0.9),
    ("Hold Etiquette", "Call Handling", 8, 8, False, 1.2),
    ("Recap - Next Steps", "Communication Skills", 8, 6, False, 0.4),
    ("Proper Sign-off", "Etiquette", 6, 4, False, 1.8),
    ("Policy Disclosure", "Compliance", 10, 10, False, 1.1),
    ("Tone - Positive Language", "Empathy", 8, 6, False, 0.8),
    ("Response Time", "Call Handling", 8, 8, False, 1.0),
    ("QA Manual Review", "Problem Solving", 10, 10, False, 0.7),
)
MANUAL_METRIC = "QA Manual Review"
FORMS = {
    # form -> indexes into METRICS (voice has hold etiquette, chat has response time)
    "Voice Quality Form": (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12),
    "Chat Quality Form": (0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12),
}

QUEUES = (
    ("Billing", ("double charge", "refund request", "payment plan"),
     ("Refund", "Dispute Charge", "Payment Arrangement")),
    ("Technical Support", ("router offline", "app login failure", "slow connection"),
     ("Troubleshoot", "Reset Password", "Speed Issue")),
    ("Sales", ("new line order", "plan upgrade", "device financing"), ("Purchase", "Upgrade", "Financing")),
    ("Retention", ("cancellation request", "competitor offer", "price increase"),
     ("Cancel", "Retention Offer", "Price Complaint")),
    ("Claims", ("damaged device", "lost device", "claim status"), ("File Claim", "Claim Status", "Replacement")),
    ("Onboarding", ("account setup", "first bill explained", "porting number"),
     ("Setup", "Bill Explanation", "Port In")),
)

FIRST_NAMES = (
    "Avery Blake Casey Dana Eli Farah Gus Hana Ivan Jo Kai Lena Milo Nia Omar Pia Quin Rosa Sami Tara "
    "Uma Vik Wren Xena Yuri Zoe Ada Ben Cleo Dev Emi Finn Gia Hugo Isla Jay Kira Leo Maya Noah "
    "Owen Priya Raj Sara Theo Una Vera Will Yara Zack Alma Bo Cruz Demi Ezra Flor Gabe Hiro Ines Jude"
).split()
LAST_NAMES = (
    "Abbott Baker Chen Diaz Evans Fischer Garcia Haddad Ito Jensen Khan Lopez Moreau Nakamura Okafor Patel "
    "Quinn Rossi Silva Tanaka Ueda Varga Weber Xu Yilmaz Zimmer Adler Brooks Costa Dubois Ekström Ferreira "
    "Gupta Hughes Iyer Jovanovic Kowalski Larsen Mensah Novak Ortiz Petrov Reyes Santos Torres Ulloa "
    "Vogel Walsh Young Zhang Alvarez Bianchi Carter Dogan Eze Fontaine Grant Horvat Ibrahim Jansen"
).split()

FEEDBACK = {
    "Empathy": "Acknowledged the issue, but moved to policy before the customer felt heard.",
    "Compliance": "Verification was skipped once before account details were discussed.",
    "Product Knowledge": "Explained the plan correctly; unsure about the proration rules.",
    "Communication Skills": "Clear explanations; the recap at the end was missing.",
    "Etiquette": "Friendly opening; the sign-off was rushed.",
    "Problem Solving": "Found the root cause, but did not offer the available credit.",
    "Call Handling": "Long silent holds without checking back with the customer.",
}
ACTION_PLAN = {
    "Empathy": "Use one empathy statement before explaining policy on every complaint call.",
    "Compliance": "Complete all three verification questions before opening the account.",
    "Product Knowledge": "Review the proration guide and shadow a senior agent for two calls.",
    "Communication Skills": "Close every call with a two-sentence recap of next steps.",
    "Etiquette": "Use the standard sign-off and ask if anything else is needed.",
    "Problem Solving": "Check the credits panel before ending any billing complaint.",
    "Call Handling": "Check back every 60 seconds during holds; offer a callback past 3 minutes.",
}
#: What an agent writes when they dispute a metric the audit marked not adhered: about that metric.
DISPUTE_COMMENTS = {
    "Greeting": "I greeted the customer by name in my first line; the recording starts a few seconds late.",
    "Identity Verification": "I did verify the caller; it is at 00:45 in the recording.",
    "Empathy Statement": "The empathy statement is in my second reply.",
    "Active Listening": "I repeated the customer's issue back before troubleshooting, at 01:20.",
    "Accurate Information": "The price I quoted is the one on the current rate sheet.",
    "Resolution Offered": "I offered the credit at 04:30; the customer declined it.",
    "Hold Etiquette": "Hold was at the customer's request, and I checked back within a minute.",
    "Recap - Next Steps": "The customer hung up before I could recap.",
    "Proper Sign-off": "The customer ended the call before my sign-off.",
    "Policy Disclosure": "The policy was read out in full at 03:10.",
    "Tone - Positive Language": "My wording stayed positive throughout; please listen again from 02:15.",
    "Response Time": "The gap was the customer's: they left the chat for five minutes.",
    MANUAL_METRIC: "The manual review missed that the case was escalated as the process says.",
}
#: A dispute of the same metric in a later round ends so.
DISPUTED_AGAIN = " I still disagree with the answer."
RESPONSES = {
    DISPUTE_ACCEPTED: "Agreed after listening again; metric corrected.",
    DISPUTE_DENIED: "The evaluation stands: the step is missing from the transcript.",
}
BEST_RESPONSE_NOTES = (
    "Names the customer's concern before explaining the policy.",
    "Verification done in three quick questions, then straight to the fix.",
    "Recaps next steps in two sentences and confirms the customer is happy.",
    "Keeps the customer informed during every hold.",
)
#: How likely an assignment is to have 1, 2, ... 7 coaching areas.
AREA_COUNT_P = (0.3, 0.25, 0.18, 0.12, 0.08, 0.04, 0.03)

# Review scenarios: (weight for older audits, weight for recent audits, events).
# Each event: (round, actor, action, metric slot or None, hours after the audit, score change or None).
_A, _S, _Q, _Y = ACTORS  # Agent, Supervisor, QA, System
SCENARIOS: tuple[tuple[float, float, tuple[tuple[int, str, str, int | None, int, int | None], ...]], ...] = (
    # waiting for the agent
    (0.02, 0.40, ((0, _Q, AUDIT_SUBMITTED, None, 0, None),)),
    # accepted as audited
    (0.50, 0.10, ((0, _Q, AUDIT_SUBMITTED, None, 0, None), (1, _A, ACCEPTED, None, 20, None))),
    # per-metric accepts, then the system resolves
    (0.05, 0.02, ((0, _S, AUDIT_SUBMITTED, None, 0, None), (1, _A, ACCEPTED, 0, 10, None),
                  (1, _A, ACCEPTED, 1, 10, None), (1, _Y, RESOLVE, None, 48, None))),
    # disputed, waiting for the reviewer
    (0.01, 0.25, ((0, _Q, AUDIT_SUBMITTED, None, 0, None), (1, _A, DISPUTED, 0, 20, None))),
    # disputed and denied, waiting for the agent again
    (0.02, 0.15, ((0, _Q, AUDIT_SUBMITTED, None, 0, None), (1, _A, DISPUTED, 0, 20, None),
                  (1, _Q, DISPUTE_DENIED, 0, 40, None))),
    # disputed, accepted with a re-evaluation, then accepted: resolved after 1 round
    (0.18, 0.04, ((0, _Q, AUDIT_SUBMITTED, None, 0, None), (1, _A, DISPUTED, 0, 20, None),
                  (1, _Q, DISPUTE_ACCEPTED, 0, 40, None), (1, _Q, RE_EVALUATED, None, 41, 12),
                  (2, _A, ACCEPTED, None, 60, None))),
    # two metrics disputed, one accepted and one denied; resolved after 1 round
    (0.08, 0.02, ((0, _S, AUDIT_SUBMITTED, None, 0, None), (1, _A, DISPUTED, 0, 20, None),
                  (1, _A, DISPUTED, 1, 20, None), (1, _S, DISPUTE_ACCEPTED, 0, 44, None),
                  (1, _S, DISPUTE_DENIED, 1, 45, None), (1, _S, RE_EVALUATED, None, 46, 8),
                  (2, _A, ACCEPTED, None, 70, None))),
    # two rounds, the second waiting for the reviewer
    (0.02, 0.02, ((0, _Q, AUDIT_SUBMITTED, None, 0, None), (1, _A, DISPUTED, 0, 20, None),
                  (1, _Q, DISPUTE_DENIED, 0, 40, None), (2, _A, DISPUTED, 0, 60, None))),
    # two rounds, resolved
    (0.07, 0.0, ((0, _Q, AUDIT_SUBMITTED, None, 0, None), (1, _A, DISPUTED, 0, 20, None),
                 (1, _Q, DISPUTE_DENIED, 0, 40, None), (2, _A, DISPUTED, 0, 60, None),
                 (2, _Q, DISPUTE_ACCEPTED, 0, 80, None), (2, _Q, RE_EVALUATED, None, 81, 10),
                 (3, _A, ACCEPTED, None, 100, None))),
    # three rounds: closed at the limit, the system confirms
    (0.05, 0.0, ((0, _Q, AUDIT_SUBMITTED, None, 0, None), (1, _A, DISPUTED, 0, 20, None),
                 (1, _Q, DISPUTE_DENIED, 0, 40, None), (2, _A, DISPUTED, 0, 60, None),
                 (2, _Q, DISPUTE_DENIED, 0, 80, None), (3, _A, DISPUTED, 0, 100, None),
                 (3, _Q, DISPUTE_DENIED, 0, 120, None), (3, _Y, CLOSE, None, 120, None))),
)

#: The demo accounts the README documents, one per role (and one agent without coaching access).
DEMO_ACCOUNTS = {
    "agent@example.com": "Agent",
    "lead@example.com": "Supervisor",
    "qa@example.com": "QA",
    "admin@example.com": "Admin",
    "no-coaching@example.com": "Agent",
}
#: The password `coaching demo` gives every demo account (the README says so).
DEMO_PASSWORD = "coaching-demo"
#: What ``store_meta`` says of a store ``coaching demo`` created: the only store it loads into (and
#: gives its accounts the published password) unless told explicitly to use another.
CREATED_BY_KEY = "created_by"
CREATED_BY_DEMO = "coaching demo"
#: Supervisor-written text with markdown and HTML in it, given to the demo agent: shown as plain text.
UNSAFE_FEEDBACK = "**Great** recovery <b>today</b> <script>alert('x')</script> [link](javascript:alert(1))"


@dataclass(frozen=True)
class DemoSpec:
    agents: int = 60
    days: int = 180
    seed: int = 7
    end: date | None = None
    #: Evaluated interactions per agent per working day (2 million a year for 5,000 agents).
    per_agent_day: float = 1.1

    def end_date(self) -> date:
        return self.end or date.today()


@dataclass
class DemoFiles:
    folder: Path
    interactions: int
    agents: int
    assignments: int
    review_events: int


def create_store(db: Path) -> None:
    """Create an empty store at ``db`` marked as the demo's own (its data may go into it)."""
    with store.next_generation(db) as con:
        if scalar(con, "SELECT count(*) FROM imports"):
            # Another writer made a store there since the caller looked: it is not the demo's.
            raise store.StoreError(
                f"the store {db} was created meanwhile by someone else; nothing was changed"
            )
        store.set_meta(con, CREATED_BY_KEY, CREATED_BY_DEMO)


def created_store(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``coaching demo`` created this store."""
    return store.meta(con, CREATED_BY_KEY) == CREATED_BY_DEMO


def _target(folder: Path, name: str) -> str:
    """A file in ``folder`` as an SQL string literal."""
    return "'" + str(folder / name).replace("'", "''") + "'"


def _names(count: int) -> list[str]:
    names = []
    for i in range(count):
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        last = LAST_NAMES[(i // len(FIRST_NAMES) + i) % len(LAST_NAMES)]
        cycle = i // (len(FIRST_NAMES) * len(LAST_NAMES))
        names.append(f"{first} {last}" + (f" {cycle + 1}" if cycle else ""))
    return names


def _email(name: str) -> str:
    return name.lower().replace(" ", ".").replace("ö", "o").replace("ë", "e") + "@example.com"


def generate(spec: DemoSpec, out: Path) -> DemoFiles:
    """Write the demo exports into ``out`` (created if needed) and say what was written.

    One random generator feeds every export in turn, so the order of the calls is part of what a seed
    means: the same seed and end date give the same files as long as they draw in this order.
    """
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    end = spec.end_date()
    start = end - timedelta(days=spec.days - 1)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        write = _Writer(con, out)
        people = _roster(write, spec)
        interactions = _interactions(rng, spec, people, start)
        _evaluation_report(write, people, interactions)
        assignments = _coaching_assignments(write, rng, spec, people, start, end)
        marked = _marked_for_coaching(rng, interactions, assignments, start)
        _best_responses(write, rng, interactions, assignments)
        reviews = _review_events(write, rng, interactions, assignments, end)
        _coaching_interactions(write, marked, reviews, interactions, assignments)
    return DemoFiles(out, interactions.n, people.n_agents, assignments.count, reviews.events)


class _Writer:
    """The one way the demo writes an export: DuckDB copies a query over an Arrow table to a CSV file."""

    def __init__(self, con: duckdb.DuckDBPyConnection, folder: Path) -> None:
        self.con = con
        self.folder = folder

    def __call__(self, file_name: str, rows: pa.Table, select: str = "SELECT * FROM rows") -> None:
        """Write ``select`` over ``rows`` (the table it calls ``rows``), with a header, to ``file_name``."""
        self.con.register("rows", rows)
        try:
            self.con.execute(f"COPY ({select}) TO {_target(self.folder, file_name)} (HEADER, DELIMITER ',')")
        finally:
            self.con.unregister("rows")


# -- people -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _People:
    """Who is on the roster: agents in teams, one lead per team, QA and an admin."""

    agent_names: list[str]
    lead_names: list[str]
    team_names: list[str]
    agent_team: _Array  # each agent's team, an index into team_names
    n_qa: int

    @property
    def n_agents(self) -> int:
        return len(self.agent_names)

    @property
    def n_teams(self) -> int:
        return len(self.team_names)


def _roster(write: _Writer, spec: DemoSpec) -> _People:
    """roster.csv: agents in teams of 12 with their leads, a QA per 200 agents, an admin, the demo accounts."""
    n_agents = max(4, spec.agents)
    team_size = 12
    n_teams = max(1, round(n_agents / team_size))
    n_qa = max(1, n_agents // 200)
    names = _names(n_agents + n_teams + n_qa + 1)  # agents, leads, QA, the admin
    people = _People(
        agent_names=names[:n_agents],
        lead_names=names[n_agents : n_agents + n_teams],
        team_names=[f"{QUEUES[t % len(QUEUES)][0]} Team {t // len(QUEUES) + 1}" for t in range(n_teams)],
        agent_team=np.arange(n_agents) % n_teams,
        n_qa=n_qa,
    )
    emails = [_email(n) for n in names]
    emails[0] = "agent@example.com"
    emails[1] = "no-coaching@example.com"
    emails[n_agents] = "lead@example.com"
    emails[n_agents + n_teams] = "qa@example.com"
    emails[-1] = "admin@example.com"
    lead_emails = emails[n_agents : n_agents + n_teams]
    others = [None] * (n_teams + n_qa + 1)
    permissions = ["Agent Dashboard, Coaching Assignments"] * n_agents + others
    permissions[1] = "Agent Dashboard"  # the agent without coaching access
    team_of = people.agent_team
    write(
        "roster.csv",
        pa.table(
            {
                "Agent Name": names,
                "Email": emails,
                "Team": [people.team_names[t] for t in team_of] + people.team_names + [None] * (n_qa + 1),
                "Team Lead": [lead_emails[t] for t in team_of] + others,
                "Role": ["Agent"] * n_agents + ["Supervisor"] * n_teams + ["QA"] * n_qa + ["Admin"],
                "Permissions": pa.array(permissions, pa.string()),
            }
        ),
    )
    return people


# -- the evaluation report ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Interactions:
    """The evaluated interactions, one element each, in order of agent, day and time of day."""

    conversation: _Array
    agent: _Array
    second_agent: _Array  # -1 when no other agent was on the interaction
    day: _Array  # days after the first day
    start: _Array  # datetime64[ms]
    queue: _Array
    topic_pick: _Array  # which of the queue's three topics (and intents)
    chat: _Array
    codes: _Array  # per metric (a column each): see _metric_results
    kore: _Array
    fatal: _Array
    sentiment: _Array
    audit: _Array
    audited: _Array
    below_threshold: _Array
    escalation: _Array
    inbound: _Array

    @property
    def n(self) -> int:
        return len(self.conversation)


def _interactions(rng: np.random.Generator, spec: DemoSpec, people: _People, start: date) -> _Interactions:
    """About ``per_agent_day`` evaluated interactions per agent and day, scored by Kore and some audited."""
    n_agents = people.n_agents
    n = int(n_agents * spec.days * spec.per_agent_day)
    agent = rng.integers(0, n_agents, n)
    # Agent 0 (the demo agent) gets a steady share so their pages are full.
    agent[: max(1, n // n_agents)] = 0
    day = rng.integers(0, spec.days, n)
    seconds = rng.integers(8 * 3600, 20 * 3600, n)
    order = np.lexsort((seconds, day, agent))
    agent, day, seconds = agent[order], day[order], seconds[order]
    skill = rng.normal(0.0, 0.8, n_agents)
    # Agents improve slowly over the period, some more than others.
    trend = rng.normal(0.3, 0.3, n_agents)[agent] * day / max(1, spec.days)
    queue = (people.agent_team[agent] + (rng.random(n) < 0.15) * rng.integers(1, len(QUEUES), n)) % len(QUEUES)
    topic_pick = rng.integers(0, 3, n)
    chat = rng.random(n) < 0.3
    below_threshold = rng.random(n) < 0.03
    audited = (rng.random(n) < 0.08) & ~below_threshold
    codes = _metric_results(rng, skill[agent] + trend, chat.astype(np.int8), audited, below_threshold)
    kore, fatal = _kore_scores(codes)
    sentiment = np.clip(np.round(5.6 + 0.028 * kore + rng.normal(0, 1.3, n), 1), 1, 10)
    # Auditors agree with Auto QA only roughly: each has a bias, each audit its own noise.
    auditor_bias = rng.normal(-4, 6, max(1, people.n_qa + people.n_teams))
    auditor = rng.integers(0, len(auditor_bias), n)
    audit = np.clip(np.round(kore + auditor_bias[auditor] + rng.normal(0, 13, n)), -100, 100)
    audit[fatal & audited] = np.clip(np.round(rng.normal(10, 20, int((fatal & audited).sum()))), -100, 100)
    # A tenth of interactions were transferred: a second, different agent is on them too.
    other = (agent + rng.integers(1, max(2, n_agents), n)) % n_agents
    second_agent = np.where(rng.random(n) < 0.1, other, -1)
    start_ts = np.datetime64(start) + day.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")
    start_ts = start_ts + rng.integers(0, 1000, n).astype("timedelta64[ms]")
    escalation = rng.random(n) < 0.05
    inbound = rng.random(n) < 0.85
    return _Interactions(
        conversation=np.char.add("c-", np.char.zfill(np.arange(1, n + 1).astype(str), 8)),
        agent=agent,
        second_agent=second_agent,
        day=day,
        start=start_ts,
        queue=queue,
        topic_pick=topic_pick,
        chat=chat,
        codes=codes,
        kore=kore,
        fatal=fatal,
        sentiment=sentiment,
        audit=audit,
        audited=audited,
        below_threshold=below_threshold,
        escalation=escalation,
        inbound=inbound,
    )


def _metric_results(
    rng: np.random.Generator, ability: _Array, form_index: _Array, audited: _Array, below_threshold: _Array
) -> _Array:
    """Each interaction's result on each metric, coded 1 adhered, 0 not adhered, 2 not applicable, 3 not
    evaluated, 4 not on the interaction's form (``form_index``: 0 voice, 1 chat)."""
    n, n_metrics = len(ability), len(METRICS)
    base = np.array([m[5] for m in METRICS])
    logits = base[None, :] + ability[:, None] + rng.normal(0, 0.9, (n, n_metrics))
    adhered = rng.random((n, n_metrics)) < 1 / (1 + np.exp(-logits))
    not_applicable = rng.random((n, n_metrics)) < 0.08
    not_applicable[:, 1] = False  # identity verification always applies
    codes = np.where(adhered, 1, 0).astype(np.int8)
    codes[not_applicable] = 2
    manual = [i for i, m in enumerate(METRICS) if m[0] == MANUAL_METRIC][0]
    codes[~audited, manual] = 3
    codes[below_threshold, :] = 3
    on_form = np.zeros((2, n_metrics), dtype=bool)
    for f, indexes in enumerate(FORMS.values()):
        on_form[f, list(indexes)] = True
    codes[~on_form[form_index]] = 4
    return codes


def _kore_scores(codes: _Array) -> tuple[_Array, _Array]:
    """Kore's evaluation score from the metric results (0 when the fatal metric was missed) and the fatal flag."""
    weights = np.array([m[2] for m in METRICS], dtype=float)
    violations = np.array([m[3] for m in METRICS], dtype=float)
    counted = (codes == 0) | (codes == 1)
    earned = ((codes == 1) * weights).sum(axis=1) - ((codes == 0) * violations).sum(axis=1)
    possible = (counted * weights).sum(axis=1)
    kore = np.round(np.divide(earned, possible, out=np.zeros(len(codes)), where=possible > 0) * 100)
    fatal = codes[:, 1] == 0
    kore[fatal] = 0
    return np.clip(kore, -100, 100), fatal


def _evaluation_report(write: _Writer, people: _People, interactions: _Interactions) -> None:
    """ie-report.csv: Kore's Interaction Evaluation report, a row per interaction with every metric's result."""
    it = interactions
    n = it.n
    topics = np.array([t for q in QUEUES for t in q[1]], dtype=object)
    intents = np.array([t for q in QUEUES for t in q[2]], dtype=object)
    queue_names = np.array([f"{q[0]} queue" for q in QUEUES], dtype=object)
    agent_arr = np.array(people.agent_names, dtype=object)
    agents_field = np.where(
        it.second_agent >= 0,
        agent_arr[it.agent] + ", " + agent_arr[np.maximum(it.second_agent, 0)],
        agent_arr[it.agent],
    )
    columns = {
        "conversation": pa.array(it.conversation.astype(object), pa.string()),
        "channel": pa.array(np.where(it.chat, "Chat", "Voice").astype(object), pa.string()),
        "queue": pa.array(queue_names[it.queue], pa.string()),
        "language": pa.array(np.full(n, "en", dtype=object), pa.string()),
        "agents": pa.array(agents_field, pa.string()),
        "agent": pa.array(agent_arr[it.agent], pa.string()),
        "start": pa.array(it.start.astype("datetime64[ms]")),
        "sentiment": pa.array(np.where(it.below_threshold, np.nan, it.sentiment), pa.float64(), from_pandas=True),
        "topic": pa.array(topics[it.queue * 3 + it.topic_pick], pa.string()),
        "intent": pa.array(intents[it.queue * 3 + it.topic_pick], pa.string()),
        "escalation": pa.array(it.escalation),
        "kore": pa.array(np.where(it.below_threshold, np.nan, it.kore), pa.float64(), from_pandas=True),
        "fatal": pa.array(it.fatal & ~it.below_threshold),
        "audit": pa.array(np.where(it.audited, it.audit, np.nan), pa.float64(), from_pandas=True),
        "inbound": pa.array(it.inbound),
        "below": pa.array(it.below_threshold),
        "form": pa.array(np.array(list(FORMS), dtype=object)[it.chat.astype(np.int8)], pa.string()),
    }
    for i in range(len(METRICS)):
        columns[f"m{i}"] = pa.array(it.codes[:, i])
    write("ie-report.csv", pa.table(columns), _report_select())


def _score_sql(expr: str, missing: str) -> str:
    """A score as Kore writes it: negative numbers quoted, e.g. '-36', and missing ones as ``missing``."""
    return (
        f"CASE WHEN {expr} IS NULL OR isnan({expr}) THEN '{missing}' WHEN {expr} < 0 "
        f"THEN '''' || CAST(CAST({expr} AS INTEGER) AS VARCHAR) || '''' "
        f"ELSE CAST(CAST({expr} AS INTEGER) AS VARCHAR) END"
    )


def _report_select() -> str:
    """The ie-report's columns, in Kore's words and formats, over the ``rows`` of the interactions."""
    metric_selects = []
    for i, (metric, _area, weight, violation, is_fatal, _base) in enumerate(METRICS):
        result_header = metric + (" - Manual Evaluation Metric" if metric == MANUAL_METRIC else "")
        on = f"m{i} <> 4"
        metric_selects += [
            f"CASE m{i} WHEN 1 THEN '1' WHEN 0 THEN '0' WHEN 2 THEN 'NA' WHEN 3 THEN '''-''' ELSE '' END "
            f"AS \"{result_header}\"",
            f"CASE WHEN {on} THEN '{int(is_fatal)}' ELSE '' END AS \"{metric} - Is Fatal Metric\"",
            f"CASE WHEN {on} THEN '{weight}' ELSE '' END AS \"{metric} - Adherence Weight\"",
            f"CASE WHEN {on} THEN '{violation}' ELSE '' END AS \"{metric} - Violation\"",
        ]
    return f"""SELECT conversation AS "ConversationID", channel AS "Channel", queue AS "Queues",
            queue AS "Last Queue", language AS "Language", agents AS "Agents", agent AS "Scored Agent",
            strftime(start, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS "Start Time",
            CASE WHEN sentiment IS NULL OR isnan(sentiment) THEN 'N/A'
                 ELSE CAST(sentiment AS VARCHAR) END AS "Sentiment Score",
            topic AS "Topics", CASE WHEN escalation THEN '1' ELSE '0' END AS "Escalation",
            {_score_sql('kore', '')} AS "Kore Evaluation Score",
            CASE WHEN kore IS NULL OR isnan(kore) THEN 'N/A' WHEN kore >= 40 THEN '1' ELSE '0' END
                AS "Is Passed",
            CASE WHEN fatal THEN '1' ELSE '0' END AS "Is Fatal Interaction",
            {_score_sql('audit', 'N/A')} AS "Audit Score",
            CASE WHEN inbound THEN 'inbound' ELSE 'outbound' END AS "Contact Direction",
            CASE WHEN below THEN 'Below Threshold' ELSE 'Evaluated' END AS "Duration Status",
            form AS "Evaluation Form", intent AS "Intent", {", ".join(metric_selects)}
        FROM rows"""


# -- coaching assignments and what they link to -------------------------------------------------


@dataclass(frozen=True)
class _Assignments:
    """Coaching assignments, the individual ones first, then the group ones: a row per assignment and agent."""

    keys: list[str]  # per assignment, its Assignment ID
    areas: list[list[str]]  # per assignment, its coaching areas
    individual_agent: _Array  # the agent of each individual assignment
    row_assignment: _Array  # per row, an index into keys
    row_agent: _Array
    assigned: _Array  # per row, a date
    follow_up: _Array  # per row, a date

    @property
    def count(self) -> int:
        return len(self.keys)


def _coaching_assignments(
    write: _Writer, rng: np.random.Generator, spec: DemoSpec, people: _People, start: date, end: date
) -> _Assignments:
    """assignments.csv: individual sessions (about 0.8 per agent a month, the demo agent 6 or more) and group
    sessions (0.4 per team a month), with 1 to 7 coaching areas, statuses by age, feedback and action plans."""
    per_agent = rng.poisson(spec.days / 30 * 0.8, people.n_agents)
    per_agent[0] = max(per_agent[0], 6)
    individual_agent = np.repeat(np.arange(people.n_agents), per_agent)
    n_ind = len(individual_agent)
    group_team, group_agent, group_index = _groups(rng, spec, people)
    n_assign = n_ind + len(group_team)
    # Assignments follow two weeks of interactions to coach on (fewer when the period is shorter).
    first_assignable = min(14, spec.days - 1)
    assigned_offset = np.concatenate(
        [rng.integers(first_assignable, spec.days, n_ind), rng.integers(first_assignable, spec.days, len(group_team))]
    )
    follow_gap = rng.integers(7, 22, n_assign)
    area_k = rng.choice(np.arange(1, 8), size=n_assign, p=np.array(AREA_COUNT_P))
    area_order = np.argsort(rng.random((n_assign, len(COACHING_AREAS))), axis=1)
    if n_ind:
        area_k[np.flatnonzero(individual_agent == 0)[:1]] = 7  # one with every area: the +N overflow
    # One numbering for individual and group assignments: an ID must not tell an agent it is a group's.
    keys = [f"CA-{i + 1:06d}" for i in range(n_assign)]
    areas = [[COACHING_AREAS[j] for j in area_order[i, : area_k[i]]] for i in range(n_assign)]
    row_assign = np.concatenate([np.arange(n_ind), n_ind + np.array(group_index, dtype=int)]).astype(int)
    row_agent = np.concatenate([individual_agent, np.array(group_agent, dtype=int)]).astype(int)
    assigned = np.array([start + timedelta(days=int(d)) for d in assigned_offset[row_assign]])
    follow_up = assigned + np.array([timedelta(days=int(g)) for g in follow_gap[row_assign]])
    age = np.array([(end - d).days for d in assigned])
    status_roll = rng.random(len(row_assign))
    status = np.where(
        age < 7,
        np.where(status_roll < 0.6, YET_TO_START, IN_PROGRESS),
        np.where(status_roll < 0.75, COMPLETED, np.where(status_roll < 0.9, IN_PROGRESS, YET_TO_START)),
    )
    first_area = [areas[a][0] for a in row_assign]
    feedback = [FEEDBACK[x] for x in first_area]
    first_demo = np.flatnonzero(row_agent == 0)
    if len(first_demo):
        feedback[first_demo[0]] = UNSAFE_FEEDBACK
    write(
        "assignments.csv",
        pa.table(
            {
                "Assignment ID": [keys[a] for a in row_assign],
                "Name": [f"{areas[a][0]} focus" if a < n_ind else f"{areas[a][0]} refresher" for a in row_assign],
                "Agent": [people.agent_names[x] for x in row_agent],
                "Coaching Type": ["Individual Agent" if a < n_ind else "Group Agents" for a in row_assign],
                "Group Name": [None if a < n_ind else people.team_names[group_team[a - n_ind]] for a in row_assign],
                "Coaching Areas": [", ".join(areas[a]) for a in row_assign],
                "Assigned Date": pa.array(list(assigned), pa.date32()),
                "Follow-Up Date": pa.array(list(follow_up), pa.date32()),
                "Status": list(status),
                "Assigned By": [people.lead_names[people.agent_team[x]] for x in row_agent],
                "Feedback": feedback,
                "Action Plan": [ACTION_PLAN[x] for x in first_area],
            }
        ),
    )
    return _Assignments(keys, areas, individual_agent, row_assign, row_agent, assigned, follow_up)


def _groups(rng: np.random.Generator, spec: DemoSpec, people: _People) -> tuple[_Array, list[int], list[int]]:
    """Group sessions: each one's team, and its members as parallel lists of agent and group index."""
    groups_per_team = rng.poisson(spec.days / 30 * 0.4, people.n_teams)
    group_team = np.repeat(np.arange(people.n_teams), groups_per_team)
    members_by_team = [np.flatnonzero(people.agent_team == t) for t in range(people.n_teams)]
    member_agent: list[int] = []
    member_group: list[int] = []
    for g, team in enumerate(group_team):
        members = members_by_team[team]
        size = min(len(members), int(rng.integers(3, 9)))
        chosen = rng.choice(members, size=size, replace=False)
        if g == 0 and 0 in members and 0 not in chosen:
            chosen[0] = 0  # the demo agent is in a group assignment
        member_agent.extend(int(a) for a in chosen)
        member_group.extend([g] * size)
    return group_team, member_agent, member_group


@dataclass
class _Marked:
    """Interactions marked for coaching, as coaching-interactions.csv lists them."""

    assignments: list[str] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)

    def add(self, assignment: str, conversation: str, area: str, when: date) -> None:
        self.assignments.append(assignment)
        self.conversations.append(conversation)
        self.areas.append(area)
        self.dates.append(when)


def _marked_for_coaching(
    rng: np.random.Generator, interactions: _Interactions, assignments: _Assignments, start: date
) -> _Marked:
    """1 to 3 of each agent's own interactions from the 30 days before the session (written last, with the
    evaluations waiting in review that _coaching_interactions adds)."""
    day_key = interactions.agent.astype(np.int64) * 100_000 + interactions.day
    a_day = np.array([(d - start).days for d in assignments.assigned], dtype=np.int64)
    row_key = assignments.row_agent.astype(np.int64) * 100_000
    lo = np.searchsorted(day_key, row_key + np.maximum(a_day - 30, 0))
    hi = np.searchsorted(day_key, row_key + a_day)
    marks = rng.integers(1, 4, len(assignments.row_assignment))
    marked = _Marked()
    for r in np.flatnonzero(hi > lo):
        a = assignments.row_assignment[r]
        areas = assignments.areas[a]
        for p in np.unique(rng.integers(lo[r], hi[r], marks[r])):
            marked.add(assignments.keys[a], interactions.conversation[p], areas[int(p) % len(areas)],
                       assignments.follow_up[r])
    return marked


def _best_responses(
    write: _Writer, rng: np.random.Generator, interactions: _Interactions, assignments: _Assignments
) -> None:
    """best-responses.csv: 1 or 2 interactions that scored 85 or more, for about 70% of assignments (for every
    individual one of the demo agent's but their second)."""
    strong = np.flatnonzero((interactions.kore >= 85) & ~interactions.below_threshold)
    with_best = rng.random(assignments.count) < 0.7
    demo_agent_assignments = np.flatnonzero(assignments.individual_agent == 0)
    with_best[demo_agent_assignments] = True
    with_best[demo_agent_assignments[1:2]] = False  # the demo agent has one without
    rows: dict[str, list[str]] = {"Assignment ID": [], "ConversationID": [], "Note": []}
    if len(strong):
        for a in np.flatnonzero(with_best):
            for p in np.unique(rng.choice(strong, size=int(rng.integers(1, 3)))):
                rows["Assignment ID"].append(assignments.keys[a])
                rows["ConversationID"].append(interactions.conversation[p])
                rows["Note"].append(BEST_RESPONSE_NOTES[int(p) % len(BEST_RESPONSE_NOTES)])
    write("best-responses.csv", pa.table(rows))


# -- review events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reviews:
    """The audited interactions with a review log, and how many events the logs hold."""

    interaction: _Array  # an index into the interactions
    waiting: _Array  # whether its review ends waiting on the agent or the reviewer
    linked: dict[int, int]  # interaction -> the demo agent's session (an assignment row) it is marked for
    events: int


def _scenario_status(events: tuple[tuple[int, str, str, int | None, int, int | None], ...]) -> str:
    """The review status a scenario's log ends in, as the state machine decides it."""
    audited = datetime(2026, 1, 1)
    log = [
        ReviewEvent("scenario", None if slot is None else f"metric {slot}", rnd, actor, action,
                    "a comment", audited + timedelta(hours=hours), 50.0)
        for rnd, actor, action, slot, hours, _change in events
    ]
    state, rejection = derive_review(log, settings.DEFAULT_MAX_DISPUTE_ROUNDS)
    if state is None or rejection is not None:
        raise ValueError(f"the state machine rejects a demo review scenario: {rejection}")
    return state.review_status


def _metrics_needed(events: tuple[tuple[int, str, str, int | None, int, int | None], ...]) -> int:
    """How many different metrics a scenario's events name (its metric slots)."""
    return len({slot for _rnd, _actor, _action, slot, _hours, _change in events if slot is not None})


def _review_scenarios(
    rng: np.random.Generator,
    interactions: _Interactions,
    assignments: _Assignments,
    end: date,
    statuses: list[str],
) -> tuple[_Array, _Array, _Array, dict[int, int]]:
    """Which audits have a review log, when each was audited, which scenario each follows (recent audits more
    often still open), and which interaction each of the demo agent's two newest sessions waits on.

    A scenario that names metrics (disputes them, or accepts them one by one) is only ever given an audit
    with at least as many metrics not adhered: an agent disputes what the audit marked against them."""
    audited_idx = np.flatnonzero(interactions.audited)
    in_review = audited_idx[rng.random(len(audited_idx)) < 0.6]
    hours_later = rng.integers(24, 96, len(in_review)) * 3600
    audit_time = interactions.start[in_review] + hours_later.astype("timedelta64[s]")
    end_ts = np.datetime64(datetime.combine(end, time(23, 59, 59)))
    recent = audit_time > end_ts - np.timedelta64(14, "D")
    needs = np.array([_metrics_needed(s[2]) for s in SCENARIOS])
    # The metrics an audit could name, at most as many as any scenario needs.
    available = np.minimum((interactions.codes[in_review] == 0).sum(axis=1), needs.max())
    scenario = np.zeros(len(in_review), dtype=int)
    for is_recent, weights in ((False, np.array([s[0] for s in SCENARIOS])),
                               (True, np.array([s[1] for s in SCENARIOS]))):
        for k in range(needs.max() + 1):
            rows = np.flatnonzero((recent == is_recent) & (available == k))
            allowed = weights * (needs <= k)
            scenario[rows] = rng.choice(len(SCENARIOS), len(rows), p=allowed / allowed.sum())
    # Make sure every scenario shows up at least once, on audits old enough to have finished.
    taken = np.zeros(len(in_review), dtype=bool)
    for s in range(len(SCENARIOS)):
        if not (scenario == s).any():
            fitting = np.flatnonzero(~recent & ~taken & (available >= needs[s]))
            if len(fitting):
                scenario[fitting[0]], taken[fitting[0]] = s, True
    # The demo agent's two sessions assigned last each wait on a review: one on the agent, one on
    # the reviewer, through an audited interaction from before the session.
    demo_sessions = sorted(np.flatnonzero(assignments.row_agent == 0), key=lambda r: assignments.assigned[r])[-2:]
    demo_links: dict[int, int] = {}  # index into in_review -> session row
    wanted = (statuses.index(PENDING_AGENT), statuses.index(PENDING_SUPERVISOR))
    for wanted_scenario, r in zip(wanted, reversed(demo_sessions), strict=False):
        candidates = np.flatnonzero(
            (interactions.agent[in_review] == 0)
            & (interactions.start[in_review] < np.datetime64(assignments.assigned[r]))
            & (available >= needs[wanted_scenario])
            & ~np.isin(np.arange(len(in_review)), list(demo_links))
        )
        if len(candidates):
            chosen = int(candidates[-1])
            scenario[chosen] = wanted_scenario
            demo_links[chosen] = int(r)
    # Drop audits whose last event would be in the future.
    last_hours = np.array([max(e[4] for e in s[2]) for s in SCENARIOS])
    fits = audit_time + (last_hours[scenario] * 3600).astype("timedelta64[s]") <= end_ts
    linked = {int(in_review[i]): r for i, r in demo_links.items() if fits[i]}
    return in_review[fits], audit_time[fits], scenario[fits], linked


def _review_events(
    write: _Writer, rng: np.random.Generator, interactions: _Interactions, assignments: _Assignments, end: date
) -> _Reviews:
    """review-events.csv: the Agent Accept & Dispute log of about 60% of audits, each following a scenario.

    A metric the log names is one the audit marked not adhered (each audit's, in a random order: slot 0 is
    the first of them), and a dispute's comment is the agent's word on that metric."""
    statuses = [_scenario_status(events) for _old, _new, events in SCENARIOS]
    in_review, audit_time, scenario, linked = _review_scenarios(rng, interactions, assignments, end, statuses)
    columns: dict[str, list[_Array]] = {
        k: [] for k in ("conv", "metric", "round", "actor", "action", "comment", "ts", "score")
    }
    metric_names = np.array([m[0] for m in METRICS], dtype=object)
    not_adhered = interactions.codes[in_review] == 0
    # Each audit's metrics, those not adhered first in a random order.
    metric_order = np.argsort(np.where(not_adhered, rng.random(not_adhered.shape), np.inf), axis=1, kind="stable")
    for s, (_w_old, _w_new, events) in enumerate(SCENARIOS):
        chosen = np.flatnonzero(scenario == s)
        if not len(chosen):
            continue
        convs = in_review[chosen]
        base_score = interactions.audit[convs]
        running = base_score.copy()
        for rnd, actor, action, slot, hours, change in events:
            columns["conv"].append(interactions.conversation[convs])
            metrics = (np.full(len(chosen), None, dtype=object) if slot is None
                       else metric_names[metric_order[chosen, slot]])
            columns["metric"].append(metrics)
            columns["round"].append(np.full(len(chosen), rnd))
            columns["actor"].append(np.full(len(chosen), actor, dtype=object))
            columns["action"].append(np.full(len(chosen), action, dtype=object))
            if action == DISPUTED:
                again = DISPUTED_AGAIN if rnd > 1 else ""
                columns["comment"].append(np.array([DISPUTE_COMMENTS[m] + again for m in metrics], dtype=object))
            else:
                columns["comment"].append(np.full(len(chosen), RESPONSES.get(action), dtype=object))
            columns["ts"].append(audit_time[chosen] + np.timedelta64(hours * 3600, "s"))
            if action == AUDIT_SUBMITTED:
                columns["score"].append(base_score)
            elif action == RE_EVALUATED:
                running = np.clip(running + (change or 0), -100, 100)
                columns["score"].append(running)
            else:
                columns["score"].append(np.full(len(chosen), np.nan))
    n_events = int(sum(len(x) for x in columns["conv"]))

    def column(key: str, kind: Any, as_type: Any = object, from_pandas: bool = False) -> Any:
        values: Any = np.concatenate(columns[key]).astype(as_type) if n_events else []
        return pa.array(values, kind, from_pandas=from_pandas)

    events_table = pa.table(
        {
            "ConversationID": column("conv", pa.string()),
            "Metric": column("metric", pa.string()),
            "Round": column("round", pa.int32(), np.int64),
            "Actor": column("actor", pa.string()),
            "Action": column("action", pa.string()),
            "Comment": column("comment", pa.string()),
            "ts": column("ts", pa.timestamp("s"), "datetime64[s]"),
            "score": column("score", pa.float64(), np.float64, from_pandas=True),
        }
    )
    write(
        "review-events.csv",
        events_table,
        """SELECT "ConversationID", "Metric", "Round", "Actor", "Action", "Comment",
            strftime(ts, '%Y-%m-%dT%H:%M:%SZ') AS "Timestamp",
            CASE WHEN score IS NULL OR isnan(score) THEN NULL ELSE CAST(score AS INTEGER) END AS "Audit Score"
        FROM rows ORDER BY "ConversationID", "Round", ts""",
    )
    waiting = [status in (PENDING_AGENT, PENDING_SUPERVISOR) for status in statuses]
    return _Reviews(in_review, np.array(waiting)[scenario], linked, n_events)


def _coaching_interactions(
    write: _Writer, marked: _Marked, reviews: _Reviews, interactions: _Interactions, assignments: _Assignments
) -> None:
    """coaching-interactions.csv: the interactions marked for coaching and, so that sessions show pending
    statuses, every evaluation still waiting in review, marked for the agent's latest session after it."""
    latest_session: dict[int, int] = {}
    for row in np.argsort(assignments.assigned, kind="stable"):
        latest_session[int(assignments.row_agent[row])] = int(row)
    for index, waiting in zip(reviews.interaction, reviews.waiting, strict=True):
        r = reviews.linked.get(int(index), latest_session.get(int(interactions.agent[index])))
        if waiting and r is not None and interactions.start[index] < np.datetime64(assignments.assigned[r]):
            a = assignments.row_assignment[r]
            marked.add(assignments.keys[a], interactions.conversation[index], assignments.areas[a][0],
                       assignments.follow_up[r])
    rows = pa.table(
        {"Assignment ID": marked.assignments, "ConversationID": marked.conversations, "Coaching Area": marked.areas,
         "Date": pa.array(marked.dates, pa.date32())}
    )
    write(
        "coaching-interactions.csv",
        rows,
        'SELECT DISTINCT ON ("Assignment ID", "ConversationID") * FROM rows ORDER BY "Assignment ID", "ConversationID"',
    )
