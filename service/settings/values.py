"""Settings that the domain packages take as values, built from ``Settings``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class Routing:
    """Which team a new conversation goes to, and how long each may wait for a rep."""

    default_team: str = "social"
    channel_teams: dict[str, str] = field(default_factory=dict)
    sla_ms: dict[str, int] = field(default_factory=dict)  # "priority" or "team:priority"

    def team_of(self, channel: str) -> str:
        return self.channel_teams.get(channel, self.default_team)


@dataclass(frozen=True, slots=True)
class FlagThresholds:
    repeat_contacts: int = 3
    repeat_channels: int = 2
    repeat_window_days: int = 14


@dataclass(frozen=True, slots=True)
class CardSettings:
    recent_days: int = 90
    interactions: int = 5
    thresholds: FlagThresholds = field(default_factory=FlagThresholds)


@dataclass(frozen=True, slots=True)
class OutreachRules:
    recent_days: int = 90  # a renewal or upgrade this recent blocks retention offers
    contact_days: int = 7  # an interaction this recent blocks sales pitches and surveys

    def window(self, today: date) -> date:
        """The first day whose events a check reads besides the open items."""
        return today - timedelta(days=max(self.recent_days, self.contact_days))
