"""Reps and their shifts; ending a shift hands every conversation over in one round trip."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import redis.asyncio as aioredis

from service.conversations.scriptcalls import ConversationError, log_time, op_call
from service.schemas.conversation import TEAM_PATTERN, Rep, RepIn, ShiftEnded
from service.settings import Routing
from service.store.keynames import KeySchema
from service.store.lua import load_script
from service.store.redistypes import text, text_map, texts

TEAM = re.compile(TEAM_PATTERN)


class RepStore:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema, routing: Routing) -> None:
        self._redis = redis
        self._keys = keys
        self._routing = routing
        self._op = load_script(redis, "service.conversations", "conversation_op.lua")

    async def put_rep(self, rep_id: str, rep: RepIn) -> Rep:
        k = self._keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.rep(rep_id), mapping={"name": rep.name, "team": rep.team})
            pipe.hsetnx(k.rep(rep_id), "on_shift", "0")
            pipe.sadd(k.reps(), rep_id)
            await pipe.execute()
        found = await self.rep(rep_id)
        assert found is not None
        return found

    async def rep(self, rep_id: str) -> Rep | None:
        k = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(k.rep(rep_id))
            pipe.smembers(k.rep_conversations(rep_id))
            raw, owned = await pipe.execute()
        data = text_map(raw)
        if "team" not in data:
            return None
        return Rep(
            id=rep_id,
            name=data.get("name", ""),
            team=data["team"],
            on_shift=data.get("on_shift") == "1",
            shift_started_at=data.get("shift_started_at") or None,
            conversations=sorted(texts(owned)),
        )

    async def existing_rep(self, rep_id: str) -> Rep:
        found = await self.rep(rep_id)
        if found is None:
            raise ConversationError(404, "rep-not-found", f"No rep has the id {rep_id!r}.")
        return found

    async def shift_start(self, rep_id: str) -> Rep:
        await self.existing_rep(rep_id)
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        await self._redis.hset(
            self._keys.rep(rep_id), mapping={"on_shift": "1", "shift_started_at": at}
        )
        return await self.existing_rep(rep_id)

    async def shift_end(self, rep_id: str, handoff_to: str | None, note: str | None) -> ShiftEnded:
        """Off shift, and every conversation the rep owns handed over with the note: one
        atomic step per conversation, all in one round trip."""
        rep = await self.existing_rep(rep_id)
        to_rep, to_team = await self._target(rep, handoff_to)
        await self._redis.hset(self._keys.rep(rep_id), "on_shift", "0")
        if not rep.conversations:
            return ShiftEnded(rep=rep_id, to=to_rep or f"team:{to_team}", handed_off=[])
        # Rare and possibly the script's first use on this server: load it, then send
        # every hand-off at once.
        await self._redis.script_load(self._op.script)
        async with self._redis.pipeline(transaction=False) as pipe:
            for conversation_id in rep.conversations:
                keys, args = op_call(
                    self._keys,
                    self._routing.sla_ms,
                    conversation_id=conversation_id,
                    op="handoff",
                    rep=rep_id,
                    version=None,
                    at=log_time(),
                    text_=note or "",
                    to_rep=to_rep,
                    to_team=to_team,
                )
                pipe.evalsha(self._op.sha, len(keys), *keys, *args)
            replies = await pipe.execute()
        # A conversation another rep took meanwhile answers "conflict": not handed over.
        handed = [c for c, r in zip(rep.conversations, replies, strict=True) if text(r[0]) == "ok"]
        return ShiftEnded(rep=rep_id, to=to_rep or f"team:{to_team}", handed_off=handed)

    async def known_teams(self) -> set[str]:
        """The teams conversations are routed to, and those of the reps."""
        routing = self._routing
        teams = {routing.default_team, *routing.channel_teams.values()}
        reps = sorted(texts(await self._redis.smembers(self._keys.reps())))
        async with self._redis.pipeline(transaction=False) as pipe:
            for rep_id in reps:
                pipe.hget(self._keys.rep(rep_id), "team")
            teams.update(text(t) for t in await pipe.execute() if t)
        return teams

    async def _target(self, rep: Rep, handoff_to: str | None) -> tuple[str, str]:
        """(rep, team) a hand-off goes to: a rep who exists, or a team's queue."""
        if handoff_to is None:
            return "", rep.team
        if handoff_to.startswith("team:"):
            team = handoff_to.removeprefix("team:")
            if not TEAM.match(team):
                raise ConversationError(
                    422, "validation-failed", "handoff_to: team:<name>, letters and digits."
                )
            known = await self.known_teams()
            if team not in known:
                # Else the conversations wait in a queue nobody reads.
                raise ConversationError(
                    422,
                    "validation-failed",
                    f"handoff_to: no team {team!r}; teams are {', '.join(sorted(known))}.",
                )
            return "", team
        await self.existing_rep(handoff_to)
        return handoff_to, ""
