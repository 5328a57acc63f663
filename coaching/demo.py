"""Demo data: realistic, deterministic exports of a contact center, written in the import formats.

Everything is generated in bulk with NumPy and formatted by DuckDB, so the large scale (5,000 agents,
2 million interactions) takes minutes, not hours. The same seed and end date give the same files.
What the dashboard shows is reachable here: teams with leads, queues with topics and intents, two
evaluation forms with different metric sets, Kore and audit scores that agree only roughly, coaching
assignments (individual and group, 1 to 7 areas, some overdue, some without best responses), and
review logs in every state, from an audit waiting for the agent to a dispute closed after 3 rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from coaching import store

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
# Metrics both forms share: the ones review events may dispute.
SHARED_METRICS = tuple(sorted(set(FORMS["Voice Quality Form"]) & set(FORMS["Chat Quality Form"])))

QUEUES = (
    ("Billing", ("double charge", "refund request", "payment plan"), ("Refund", "Dispute Charge", "Payment Arrangement")),
    ("Technical Support", ("router offline", "app login failure", "slow connection"), ("Troubleshoot", "Reset Password", "Speed Issue")),
    ("Sales", ("new line order", "plan upgrade", "device financing"), ("Purchase", "Upgrade", "Financing")),
    ("Retention", ("cancellation request", "competitor offer", "price increase"), ("Cancel", "Retention Offer", "Price Complaint")),
    ("Claims", ("damaged device", "lost device", "claim status"), ("File Claim", "Claim Status", "Replacement")),
    ("Onboarding", ("account setup", "first bill explained", "porting number"), ("Setup", "Bill Explanation", "Port In")),
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
DISPUTE_COMMENTS = (
    "I did verify the caller; it is at 00:45 in the recording.",
    "The customer hung up before I could recap.",
    "The empathy statement is in my second reply.",
    "Hold was at the customer's request.",
    "The policy was read out in full at 03:10.",
)
RESPONSES = {
    "Dispute Accepted": "Agreed after listening again; metric corrected.",
    "Dispute Denied": "The evaluation stands: the step is missing from the transcript.",
}

# Review scenarios: (weight for older audits, weight for recent audits, events).
# Each event: (round, actor, action, metric slot or None, hours after the audit, score change or None).
_A, _S, _Q, _Y = "Agent", "Supervisor", "QA", "System"
SCENARIOS: tuple[tuple[float, float, tuple[tuple[int, str, str, int | None, int, int | None], ...]], ...] = (
    # waiting for the agent
    (0.02, 0.40, ((0, _Q, "Audit Submitted", None, 0, None),)),
    # accepted as audited
    (0.50, 0.10, ((0, _Q, "Audit Submitted", None, 0, None), (1, _A, "Accepted", None, 20, None))),
    # per-metric accepts, then the system resolves
    (0.05, 0.02, ((0, _S, "Audit Submitted", None, 0, None), (1, _A, "Accepted", 0, 10, None),
                  (1, _A, "Accepted", 1, 10, None), (1, _Y, "Resolved", None, 48, None))),
    # disputed, waiting for the reviewer
    (0.01, 0.25, ((0, _Q, "Audit Submitted", None, 0, None), (1, _A, "Disputed", 0, 20, None))),
    # disputed and denied, waiting for the agent again
    (0.02, 0.15, ((0, _Q, "Audit Submitted", None, 0, None), (1, _A, "Disputed", 0, 20, None),
                  (1, _Q, "Dispute Denied", 0, 40, None))),
    # disputed, accepted with a re-evaluation, then accepted: resolved after 1 round
    (0.18, 0.04, ((0, _Q, "Audit Submitted", None, 0, None), (1, _A, "Disputed", 0, 20, None),
                  (1, _Q, "Dispute Accepted", 0, 40, None), (1, _Q, "Re-evaluated", None, 41, 12),
                  (2, _A, "Accepted", None, 60, None))),
    # two metrics disputed, one accepted and one denied; resolved after 1 round
    (0.08, 0.02, ((0, _S, "Audit Submitted", None, 0, None), (1, _A, "Disputed", 0, 20, None),
                  (1, _A, "Disputed", 1, 20, None), (1, _S, "Dispute Accepted", 0, 44, None),
                  (1, _S, "Dispute Denied", 1, 45, None), (1, _S, "Re-evaluated", None, 46, 8),
                  (2, _A, "Accepted", None, 70, None))),
    # two rounds, the second waiting for the reviewer
    (0.02, 0.02, ((0, _Q, "Audit Submitted", None, 0, None), (1, _A, "Disputed", 0, 20, None),
                  (1, _Q, "Dispute Denied", 0, 40, None), (2, _A, "Disputed", 0, 60, None))),
    # two rounds, resolved
    (0.07, 0.0, ((0, _Q, "Audit Submitted", None, 0, None), (1, _A, "Disputed", 0, 20, None),
                 (1, _Q, "Dispute Denied", 0, 40, None), (2, _A, "Disputed", 0, 60, None),
                 (2, _Q, "Dispute Accepted", 0, 80, None), (2, _Q, "Re-evaluated", None, 81, 10),
                 (3, _A, "Accepted", None, 100, None))),
    # three rounds: closed at the limit, the system confirms
    (0.05, 0.0, ((0, _Q, "Audit Submitted", None, 0, None), (1, _A, "Disputed", 0, 20, None),
                 (1, _Q, "Dispute Denied", 0, 40, None), (2, _A, "Disputed", 0, 60, None),
                 (2, _Q, "Dispute Denied", 0, 80, None), (3, _A, "Disputed", 0, 100, None),
                 (3, _Q, "Dispute Denied", 0, 120, None), (3, _Y, "Closed", None, 120, None))),
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
        if con.execute("SELECT count(*) FROM imports").fetchone()[0]:
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
    """Write the demo exports into ``out`` (created if needed) and say what was written."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    end = spec.end_date()
    start = end - timedelta(days=spec.days - 1)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")

    # -- people ---------------------------------------------------------------------------------
    n_agents = max(4, spec.agents)
    team_size = 12
    n_teams = max(1, round(n_agents / team_size))
    n_qa = max(1, n_agents // 200)
    names = _names(n_agents + n_teams + n_qa + 1)
    agent_names = names[:n_agents]
    lead_names = names[n_agents : n_agents + n_teams]
    qa_names = names[n_agents + n_teams : n_agents + n_teams + n_qa]
    admin_name = names[-1]
    agent_team = np.arange(n_agents) % n_teams
    team_names = [f"{QUEUES[t % len(QUEUES)][0]} Team {t // len(QUEUES) + 1}" for t in range(n_teams)]
    emails = [_email(n) for n in names]
    emails[0] = "agent@example.com"
    emails[1] = "no-coaching@example.com"
    emails[n_agents] = "lead@example.com"
    emails[n_agents + n_teams] = "qa@example.com"
    emails[-1] = "admin@example.com"
    lead_emails = emails[n_agents : n_agents + n_teams]
    roster = pa.table(
        {
            "Agent Name": agent_names + lead_names + qa_names + [admin_name],
            "Email": emails,
            "Team": [team_names[t] for t in agent_team] + team_names + [None] * (n_qa + 1),
            "Team Lead": [lead_emails[t] for t in agent_team] + [None] * (n_teams + n_qa + 1),
            "Role": ["Agent"] * n_agents + ["Supervisor"] * n_teams + ["QA"] * n_qa + ["Admin"],
            "Permissions": ["Agent Dashboard, Coaching Assignments"] * n_agents + [None] * (n_teams + n_qa + 1),
        }
    )
    permissions = roster.column("Permissions").to_pylist()
    permissions[1] = "Agent Dashboard"  # the agent without coaching access
    roster = roster.set_column(5, "Permissions", pa.array(permissions, pa.string()))
    con.register("roster", roster)
    con.execute(f"COPY roster TO {_target(out, 'roster.csv')} (HEADER, DELIMITER ',')")

    # -- interactions ---------------------------------------------------------------------------
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
    queue = (agent_team[agent] + (rng.random(n) < 0.15) * rng.integers(1, len(QUEUES), n)) % len(QUEUES)
    topic_pick = rng.integers(0, 3, n)
    chat = rng.random(n) < 0.3
    form_index = chat.astype(np.int8)  # 0 voice, 1 chat
    below_threshold = rng.random(n) < 0.03
    audited = (rng.random(n) < 0.08) & ~below_threshold

    n_metrics = len(METRICS)
    base = np.array([m[5] for m in METRICS])
    logits = base[None, :] + (skill[agent] + trend)[:, None] + rng.normal(0, 0.9, (n, n_metrics))
    adhered = rng.random((n, n_metrics)) < 1 / (1 + np.exp(-logits))
    not_applicable = rng.random((n, n_metrics)) < 0.08
    not_applicable[:, 1] = False  # identity verification always applies
    # result codes: 1 adhered, 0 not adhered, 2 not applicable, 3 not evaluated, 4 not on the form
    codes = np.where(adhered, 1, 0).astype(np.int8)
    codes[not_applicable] = 2
    manual = [i for i, m in enumerate(METRICS) if m[0] == MANUAL_METRIC][0]
    codes[~audited, manual] = 3
    codes[below_threshold, :] = 3
    on_form = np.zeros((2, n_metrics), dtype=bool)
    for f, (_, indexes) in enumerate(FORMS.items()):
        on_form[f, list(indexes)] = True
    codes[~on_form[form_index]] = 4

    weights = np.array([m[2] for m in METRICS], dtype=float)
    violations = np.array([m[3] for m in METRICS], dtype=float)
    counted = (codes == 0) | (codes == 1)
    earned = ((codes == 1) * weights).sum(axis=1) - ((codes == 0) * violations).sum(axis=1)
    possible = (counted * weights).sum(axis=1)
    kore = np.round(np.divide(earned, possible, out=np.zeros(n), where=possible > 0) * 100)
    fatal = codes[:, 1] == 0
    kore[fatal] = 0
    kore = np.clip(kore, -100, 100)
    sentiment = np.clip(np.round(5.6 + 0.028 * kore + rng.normal(0, 1.3, n), 1), 1, 10)
    # Auditors agree with Auto QA only roughly: each has a bias, each audit its own noise.
    auditor_bias = rng.normal(-4, 6, max(1, n_qa + n_teams))
    auditor = rng.integers(0, len(auditor_bias), n)
    audit = np.clip(np.round(kore + auditor_bias[auditor] + rng.normal(0, 13, n)), -100, 100)
    audit[fatal & audited] = np.clip(np.round(rng.normal(10, 20, int((fatal & audited).sum()))), -100, 100)
    # A tenth of interactions were transferred: a second, different agent is on them too.
    other = (agent + rng.integers(1, max(2, n_agents), n)) % n_agents
    second_agent = np.where(rng.random(n) < 0.1, other, -1)
    start_ts = np.datetime64(start) + day.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")
    start_ts = start_ts + rng.integers(0, 1000, n).astype("timedelta64[ms]")
    conversation = np.char.add("c-", np.char.zfill(np.arange(1, n + 1).astype(str), 8))

    topics = np.array([t for q in QUEUES for t in q[1]], dtype=object)
    intents = np.array([t for q in QUEUES for t in q[2]], dtype=object)
    queue_names = np.array([f"{q[0]} queue" for q in QUEUES], dtype=object)
    agent_arr = np.array(agent_names, dtype=object)
    agents_field = np.where(
        second_agent >= 0,
        agent_arr[agent] + ", " + agent_arr[np.maximum(second_agent, 0)],
        agent_arr[agent],
    )
    columns = {
        "conversation": pa.array(conversation.astype(object), pa.string()),
        "channel": pa.array(np.where(chat, "Chat", "Voice").astype(object), pa.string()),
        "queue": pa.array(queue_names[queue], pa.string()),
        "language": pa.array(np.full(n, "en", dtype=object), pa.string()),
        "agents": pa.array(agents_field, pa.string()),
        "agent": pa.array(agent_arr[agent], pa.string()),
        "start": pa.array(start_ts.astype("datetime64[ms]")),
        "sentiment": pa.array(np.where(below_threshold, np.nan, sentiment), pa.float64(), from_pandas=True),
        "topic": pa.array(topics[queue * 3 + topic_pick], pa.string()),
        "intent": pa.array(intents[queue * 3 + topic_pick], pa.string()),
        "escalation": pa.array(rng.random(n) < 0.05),
        "kore": pa.array(np.where(below_threshold, np.nan, kore), pa.float64(), from_pandas=True),
        "fatal": pa.array(fatal & ~below_threshold),
        "audit": pa.array(np.where(audited, audit, np.nan), pa.float64(), from_pandas=True),
        "inbound": pa.array(rng.random(n) < 0.85),
        "below": pa.array(below_threshold),
        "form": pa.array(np.array(list(FORMS), dtype=object)[form_index], pa.string()),
    }
    for i in range(n_metrics):
        columns[f"m{i}"] = pa.array(codes[:, i])
    con.register("interactions", pa.table(columns))

    def score(expr: str, missing: str) -> str:
        # Kore writes negative numbers quoted, e.g. '-36', and missing ones as N/A or empty.
        return (
            f"CASE WHEN {expr} IS NULL OR isnan({expr}) THEN '{missing}' WHEN {expr} < 0 "
            f"THEN '''' || CAST(CAST({expr} AS INTEGER) AS VARCHAR) || '''' "
            f"ELSE CAST(CAST({expr} AS INTEGER) AS VARCHAR) END"
        )

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
    con.execute(
        f"""COPY (SELECT conversation AS "ConversationID", channel AS "Channel", queue AS "Queues",
                queue AS "Last Queue", language AS "Language", agents AS "Agents", agent AS "Scored Agent",
                strftime(start, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS "Start Time",
                CASE WHEN sentiment IS NULL OR isnan(sentiment) THEN 'N/A'
                     ELSE CAST(sentiment AS VARCHAR) END AS "Sentiment Score",
                topic AS "Topics", CASE WHEN escalation THEN '1' ELSE '0' END AS "Escalation",
                {score('kore', '')} AS "Kore Evaluation Score",
                CASE WHEN kore IS NULL OR isnan(kore) THEN 'N/A' WHEN kore >= 40 THEN '1' ELSE '0' END
                    AS "Is Passed",
                CASE WHEN fatal THEN '1' ELSE '0' END AS "Is Fatal Interaction",
                {score('audit', 'N/A')} AS "Audit Score",
                CASE WHEN inbound THEN 'inbound' ELSE 'outbound' END AS "Contact Direction",
                CASE WHEN below THEN 'Below Threshold' ELSE 'Evaluated' END AS "Duration Status",
                form AS "Evaluation Form", intent AS "Intent", {", ".join(metric_selects)}
            FROM interactions) TO {_target(out, 'ie-report.csv')} (HEADER, DELIMITER ',', QUOTE '"')"""
    )

    # -- coaching assignments -------------------------------------------------------------------
    area_count_p = np.array([0.3, 0.25, 0.18, 0.12, 0.08, 0.04, 0.03])
    per_agent = rng.poisson(spec.days / 30 * 0.8, n_agents)
    per_agent[0] = max(per_agent[0], 6)
    ind_agent = np.repeat(np.arange(n_agents), per_agent)
    n_ind = len(ind_agent)
    group_rows_agent: list[int] = []
    group_rows_id: list[int] = []
    groups_per_team = rng.poisson(spec.days / 30 * 0.4, n_teams)
    group_team = np.repeat(np.arange(n_teams), groups_per_team)
    members_by_team = [np.flatnonzero(agent_team == t) for t in range(n_teams)]
    for g, team in enumerate(group_team):
        members = members_by_team[team]
        size = int(min(len(members), rng.integers(3, 9)))
        chosen = rng.choice(members, size=size, replace=False)
        if g == 0 and 0 in members and 0 not in chosen:
            chosen[0] = 0  # the demo agent is in a group assignment
        group_rows_agent.extend(int(a) for a in chosen)
        group_rows_id.extend([g] * size)
    n_groups = len(group_team)
    # Assignments follow two weeks of interactions to coach on (fewer when the period is shorter).
    first_assignable = min(14, spec.days - 1)
    assigned_offset = np.concatenate(
        [rng.integers(first_assignable, spec.days, n_ind), rng.integers(first_assignable, spec.days, n_groups)]
    )
    follow_gap = rng.integers(7, 22, n_ind + n_groups)
    area_k = rng.choice(np.arange(1, 8), size=n_ind + n_groups, p=area_count_p)
    area_order = np.argsort(rng.random((n_ind + n_groups, len(COACHING_AREAS))), axis=1)
    if n_ind:
        area_k[np.flatnonzero(ind_agent == 0)[:1]] = 7  # one with every area: the +N overflow
    # One numbering for individual and group assignments: an ID must not tell an agent it is a group's.
    keys = [f"CA-{i + 1:06d}" for i in range(n_ind + n_groups)]
    areas = [
        [COACHING_AREAS[j] for j in area_order[i, : area_k[i]]] for i in range(n_ind + n_groups)
    ]
    row_assign = np.concatenate([np.arange(n_ind), n_ind + np.array(group_rows_id, dtype=int)]).astype(int)
    row_agent = np.concatenate([ind_agent, np.array(group_rows_agent, dtype=int)]).astype(int)
    assigned = np.array([start + timedelta(days=int(d)) for d in assigned_offset[row_assign]])
    follow_up = assigned + np.array([timedelta(days=int(g)) for g in follow_gap[row_assign]])
    age = np.array([(end - d).days for d in assigned])
    status_roll = rng.random(len(row_assign))
    status = np.where(
        age < 7,
        np.where(status_roll < 0.6, "Yet to Start", "In Progress"),
        np.where(status_roll < 0.75, "Completed", np.where(status_roll < 0.9, "In Progress", "Yet to Start")),
    )
    first_area = [areas[a][0] for a in row_assign]
    feedback = [FEEDBACK[x] for x in first_area]
    first_demo = np.flatnonzero(row_agent == 0)
    if len(first_demo):
        feedback[first_demo[0]] = UNSAFE_FEEDBACK
    assignment_rows = pa.table(
        {
            "Assignment ID": [keys[a] for a in row_assign],
            "Name": [f"{areas[a][0]} focus" if a < n_ind else f"{areas[a][0]} refresher" for a in row_assign],
            "Agent": [agent_names[x] for x in row_agent],
            "Coaching Type": ["Individual Agent" if a < n_ind else "Group Agents" for a in row_assign],
            "Group Name": [None if a < n_ind else team_names[group_team[a - n_ind]] for a in row_assign],
            "Coaching Areas": [", ".join(areas[a]) for a in row_assign],
            "Assigned Date": pa.array(list(assigned), pa.date32()),
            "Follow-Up Date": pa.array(list(follow_up), pa.date32()),
            "Status": list(status),
            "Assigned By": [lead_names[agent_team[x]] for x in row_agent],
            "Feedback": feedback,
            "Action Plan": [ACTION_PLAN[x] for x in first_area],
        }
    )
    con.register("assignment_rows", assignment_rows)
    con.execute(f"COPY assignment_rows TO {_target(out, 'assignments.csv')} (HEADER, DELIMITER ',')")

    # Interactions marked for coaching: 1 to 3 of the agent's own from the 30 days before.
    day_key = agent.astype(np.int64) * 100_000 + day
    a_day = np.array([(d - start).days for d in assigned], dtype=np.int64)
    lo = np.searchsorted(day_key, row_agent.astype(np.int64) * 100_000 + np.maximum(a_day - 30, 0))
    hi = np.searchsorted(day_key, row_agent.astype(np.int64) * 100_000 + a_day)
    marks = rng.integers(1, 4, len(row_assign))
    ci_assign, ci_conv, ci_area, ci_date = [], [], [], []
    for r in np.flatnonzero(hi > lo):
        picks = np.unique(rng.integers(lo[r], hi[r], marks[r]))
        for p in picks:
            ci_assign.append(keys[row_assign[r]])
            ci_conv.append(conversation[p])
            ci_area.append(areas[row_assign[r]][int(p) % len(areas[row_assign[r]])])
            ci_date.append(follow_up[r])

    # Best responses: high-scoring interactions of the same queue, for about 70% of assignments.
    strong = np.flatnonzero((kore >= 85) & ~below_threshold)
    n_assign = n_ind + n_groups
    with_best = rng.random(n_assign) < 0.7
    demo_agent_assignments = np.flatnonzero(ind_agent == 0)
    with_best[demo_agent_assignments] = True
    with_best[demo_agent_assignments[1:2]] = False  # the demo agent has one without
    br_assign, br_conv, br_note = [], [], []
    notes = (
        "Names the customer's concern before explaining the policy.",
        "Verification done in three quick questions, then straight to the fix.",
        "Recaps next steps in two sentences and confirms the customer is happy.",
        "Keeps the customer informed during every hold.",
    )
    if len(strong):
        for a in np.flatnonzero(with_best):
            for p in np.unique(rng.choice(strong, size=int(rng.integers(1, 3)))):
                br_assign.append(keys[a])
                br_conv.append(conversation[p])
                br_note.append(notes[int(p) % len(notes)])
    con.register("best", pa.table({"Assignment ID": br_assign, "ConversationID": br_conv, "Note": br_note}))
    con.execute(f"COPY best TO {_target(out, 'best-responses.csv')} (HEADER, DELIMITER ',')")

    # -- review events --------------------------------------------------------------------------
    audited_idx = np.flatnonzero(audited)
    in_review = audited_idx[rng.random(len(audited_idx)) < 0.6]
    audit_time = start_ts[in_review] + (rng.integers(24, 96, len(in_review)) * 3600).astype("timedelta64[s]")
    end_ts = np.datetime64(datetime.combine(end, time(23, 59, 59)))
    recent = audit_time > end_ts - np.timedelta64(14, "D")
    weights_old = np.array([s[0] for s in SCENARIOS])
    weights_new = np.array([s[1] for s in SCENARIOS])
    scenario = np.where(
        recent,
        rng.choice(len(SCENARIOS), len(in_review), p=weights_new / weights_new.sum()),
        rng.choice(len(SCENARIOS), len(in_review), p=weights_old / weights_old.sum()),
    )
    # Make sure every scenario shows up at least once, on audits old enough to have finished.
    old = np.flatnonzero(~recent)
    for s in range(len(SCENARIOS)):
        if len(old) > s and not (scenario == s).any():
            scenario[old[s]] = s
    # The demo agent's two sessions assigned last each wait on a review: one on the agent, one on
    # the reviewer, through an audited interaction from before the session.
    demo_sessions = sorted(np.flatnonzero(row_agent == 0), key=lambda r: assigned[r])[-2:]
    demo_links: dict[int, int] = {}  # index into in_review -> session row
    for wanted_scenario, r in zip((0, 3), reversed(demo_sessions), strict=False):
        candidates = np.flatnonzero(
            (agent[in_review] == 0) & (start_ts[in_review] < np.datetime64(assigned[r]))
            & ~np.isin(np.arange(len(in_review)), list(demo_links))
        )
        if len(candidates):
            chosen = int(candidates[-1])
            scenario[chosen] = wanted_scenario
            demo_links[chosen] = int(r)
    # Drop audits whose last event would be in the future.
    last_hours = np.array([max(e[4] for e in s[2]) for s in SCENARIOS])
    fits = audit_time + (last_hours[scenario] * 3600).astype("timedelta64[s]") <= end_ts
    linked_conversations = {int(in_review[i]): r for i, r in demo_links.items() if fits[i]}
    in_review, audit_time, scenario = in_review[fits], audit_time[fits], scenario[fits]
    ev_rows: dict[str, list] = {k: [] for k in ("conv", "metric", "round", "actor", "action", "comment", "ts", "score")}
    shared = np.array([METRICS[i][0] for i in SHARED_METRICS if METRICS[i][0] != MANUAL_METRIC], dtype=object)
    for s, (_w_old, _w_new, events) in enumerate(SCENARIOS):
        chosen = np.flatnonzero(scenario == s)
        if not len(chosen):
            continue
        convs = in_review[chosen]
        first_metric = rng.integers(0, len(shared), len(chosen))
        base_score = audit[convs]
        running = base_score.copy()
        for rnd, actor, action, slot, hours, change in events:
            ev_rows["conv"].append(conversation[convs])
            if slot is None:
                ev_rows["metric"].append(np.full(len(chosen), None, dtype=object))
            else:
                ev_rows["metric"].append(shared[(first_metric + slot) % len(shared)])
            ev_rows["round"].append(np.full(len(chosen), rnd))
            ev_rows["actor"].append(np.full(len(chosen), actor, dtype=object))
            ev_rows["action"].append(np.full(len(chosen), action, dtype=object))
            if action == "Disputed":
                comment = np.array(DISPUTE_COMMENTS, dtype=object)[rng.integers(0, len(DISPUTE_COMMENTS), len(chosen))]
            elif action in RESPONSES:
                comment = np.full(len(chosen), RESPONSES[action], dtype=object)
            else:
                comment = np.full(len(chosen), None, dtype=object)
            ev_rows["comment"].append(comment)
            ev_rows["ts"].append(audit_time[chosen] + np.timedelta64(hours * 3600, "s"))
            if action == "Audit Submitted":
                ev_rows["score"].append(base_score)
            elif action == "Re-evaluated":
                running = np.clip(running + (change or 0), -100, 100)
                ev_rows["score"].append(running)
            else:
                ev_rows["score"].append(np.full(len(chosen), np.nan))
    n_events = int(sum(len(x) for x in ev_rows["conv"]))
    events_table = pa.table(
        {
            "ConversationID": pa.array(np.concatenate(ev_rows["conv"]).astype(object) if n_events else [], pa.string()),
            "Metric": pa.array(np.concatenate(ev_rows["metric"]) if n_events else [], pa.string()),
            "Round": pa.array(np.concatenate(ev_rows["round"]) if n_events else [], pa.int32()),
            "Actor": pa.array(np.concatenate(ev_rows["actor"]) if n_events else [], pa.string()),
            "Action": pa.array(np.concatenate(ev_rows["action"]) if n_events else [], pa.string()),
            "Comment": pa.array(np.concatenate(ev_rows["comment"]) if n_events else [], pa.string()),
            "ts": pa.array(np.concatenate(ev_rows["ts"]).astype("datetime64[s]") if n_events else [],
                           pa.timestamp("s")),
            "score": pa.array(np.concatenate(ev_rows["score"]) if n_events else [], pa.float64(),
                              from_pandas=True),
        }
    )
    con.register("events", events_table)
    con.execute(
        f"""COPY (SELECT "ConversationID", "Metric", "Round", "Actor", "Action", "Comment",
                strftime(ts, '%Y-%m-%dT%H:%M:%SZ') AS "Timestamp",
                CASE WHEN score IS NULL OR isnan(score) THEN NULL ELSE CAST(score AS INTEGER) END
                    AS "Audit Score"
            FROM events ORDER BY "ConversationID", "Round", ts)
            TO {_target(out, 'review-events.csv')} (HEADER, DELIMITER ',')"""
    )
    # Evaluations waiting in review are marked for coaching too, so sessions show pending statuses:
    # each such evaluation joins the agent's latest session assigned after the interaction.
    waiting = {0, 3, 4, 7}  # scenarios that end pending (agent, supervisor, agent, supervisor)
    latest_session: dict[int, int] = {}
    for r in np.argsort(assigned, kind="stable"):
        latest_session[int(row_agent[r])] = int(r)
    for s_index, conv_index in zip(scenario, in_review, strict=True):
        r = linked_conversations.get(int(conv_index), latest_session.get(int(agent[conv_index])))
        if int(s_index) in waiting and r is not None and start_ts[conv_index] < np.datetime64(assigned[r]):
            ci_assign.append(keys[row_assign[r]])
            ci_conv.append(conversation[conv_index])
            ci_area.append(areas[row_assign[r]][0])
            ci_date.append(follow_up[r])
    marked = pa.table(
        {"Assignment ID": ci_assign, "ConversationID": ci_conv, "Coaching Area": ci_area,
         "Date": pa.array(ci_date, pa.date32())}
    )
    con.register("marked", marked)
    con.execute(
        f"COPY (SELECT DISTINCT ON (\"Assignment ID\", \"ConversationID\") * FROM marked "
        f"ORDER BY \"Assignment ID\", \"ConversationID\") TO {_target(out, 'coaching-interactions.csv')} "
        f"(HEADER, DELIMITER ',')"
    )
    con.close()
    return DemoFiles(out, n, n_agents, n_ind + n_groups, n_events)
