"""Who is looking, and what they may see: the dashboard's security boundary.

A :class:`Viewer` is a roster entry. Every function in ``coaching/`` that returns rows takes one and
filters in SQL with bound parameters through :func:`agent_filter`:

* an **Agent** sees their own rows;
* a **Supervisor** (team lead) sees the agents whose roster Team Lead is their email;
* **QA** and **Admin** see everyone.

Pages never build SQL and never decide scope; they ask :func:`can` what to offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import assert_never

import duckdb

AGENT, SUPERVISOR, QA, ADMIN = "Agent", "Supervisor", "QA", "Admin"
#: Kore's rule: agents need both to open the coaching pages.
COACHING_PERMISSIONS = ("Agent Dashboard", "Coaching Assignments")


class Capability(StrEnum):
    """What a page needs."""

    OVERVIEW = "overview"
    COACHING = "coaching"  # coaching assignments, sessions, audits, reviews
    TEAM_ANALYTICS = "team analytics"  # score trends and comparisons across agents
    IMPORT = "import"  # loading exports from the browser


class AccessDenied(Exception):
    """A signed-in person who may not see what they asked for; the message is for them."""


@dataclass(frozen=True)
class Viewer:
    """A signed-in person, as the roster describes them. ``person_id`` is who they are (their email:
    see coaching/people.py); ``name`` is only shown."""

    name: str
    email: str
    role: str
    team: str | None
    permissions: tuple[str, ...]

    @property
    def person_id(self) -> str:
        """The viewer's ``people.person_id``: a roster entry is its email."""
        return self.email

    @property
    def scope(self) -> tuple[str, ...]:
        """What this viewer may see, as a key: viewers with equal scopes see the same rows.

        Caches of query results are keyed by it, so no entry can serve one viewer's rows to another.
        """
        if self.role == AGENT:
            return ("agent", self.person_id)
        if self.role == SUPERVISOR:
            return ("team", self.email)
        if self.sees_everyone:
            return ("everyone",)
        return ("nobody", self.role)  # agent_filter shows an unknown role nothing: never share QA's key

    @property
    def sees_everyone(self) -> bool:
        return self.role in (QA, ADMIN)


def can(viewer: Viewer, capability: Capability) -> bool:
    """Whether the viewer may open pages that need ``capability``."""
    if capability is Capability.OVERVIEW:
        return True
    if capability is Capability.COACHING:
        if viewer.role == AGENT:
            return all(p in viewer.permissions for p in COACHING_PERMISSIONS)
        return True
    if capability is Capability.TEAM_ANALYTICS:
        return viewer.role in (SUPERVISOR, QA, ADMIN)
    if capability is Capability.IMPORT:
        return viewer.role == ADMIN
    assert_never(capability)


def missing_permissions(viewer: Viewer, capability: Capability) -> str:
    """Why the viewer may not open pages that need ``capability``, in words for them."""
    if capability is Capability.COACHING and viewer.role == AGENT:
        lacking = [p for p in COACHING_PERMISSIONS if p not in viewer.permissions]
        return (
            "Coaching needs the " + " and ".join(f"“{p}”" for p in lacking)
            + " permission" + ("s" if len(lacking) > 1 else "") + ". Ask your team lead or an admin to add "
            "it to the roster."
        )
    if capability is Capability.IMPORT:
        return "Only admins can import exports."
    return f"Your role ({viewer.role}) cannot open this page."


def identify(con: duckdb.DuckDBPyConnection, email: str | None) -> Viewer:
    """The roster entry signed in as ``email`` (case-insensitive); :class:`AccessDenied` if none."""
    address = (email or "").strip().lower()
    if not address:
        raise AccessDenied("Your sign-in did not say who you are (no email). Sign in again.")
    row = con.execute(
        "SELECT name, email, role, team, permissions FROM people WHERE on_roster AND person_id = ?",
        [address],
    ).fetchone()
    if row is None:
        raise AccessDenied(
            f"{address} is not on the dashboard's roster, so there is nothing to show. "
            "Ask an admin to add you to the roster."
        )
    name, found_email, role, team, permissions = row
    return Viewer(name=name, email=found_email, role=role, team=team, permissions=tuple(permissions or ()))


def agent_filter(viewer: Viewer, column: str) -> tuple[str, list[object]]:
    """An SQL condition limiting ``column`` (a ``person_id``: who an agent is, never their name) to the
    viewer's scope, and its parameters.

    ``column`` is always a column name chosen in ``coaching/``, never user input.
    """
    if viewer.role == AGENT:
        return f"{column} = ?", [viewer.person_id]
    if viewer.role == SUPERVISOR:
        return (
            f"{column} IN (SELECT person_id FROM people WHERE team_lead_email = ?)",
            [viewer.email],
        )
    if viewer.sees_everyone:
        return "true", []
    return "false", []  # an unknown role sees nothing
