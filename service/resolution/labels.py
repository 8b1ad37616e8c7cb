"""Reps' links as labels for the model: read the stored messages the model scored and the
links and rejections reps made for their senders, then calibrate (matchers.calibration)."""

from __future__ import annotations

import redis.asyncio as aioredis

from matchers.calibration import Calibration, calibrate, labelled
from service.ingest.messages import MessageStore
from service.resolution.links import IdentityLinks
from service.schemas import Channel
from service.store.keynames import KeySchema
from service.store.redistypes import members

_CHUNK = 500
# Links a person made or the customer proved; imports and the record's own identities
# say nothing about the model.
HUMAN_METHODS = frozenset({"rep_confirmed", "customer_verified"})


async def model_calibration(
    redis: aioredis.Redis, keys: KeySchema, messages: MessageStore, links: IdentityLinks
) -> Calibration:
    pairs: list[tuple[float, int]] = []
    labels: dict[tuple[str, str], tuple[str | None, frozenset[str]]] = {}
    start = 0
    while True:
        ids = members(await redis.zrange(keys.messages("all"), start, start + _CHUNK - 1))
        if not ids:
            break
        start += len(ids)
        for stored in (await messages.many(ids)).values():
            if stored.resolution.method != "model" or not stored.resolution.candidates:
                continue
            channel, sender = stored.message.channel, stored.message.sender.external_id
            if (channel.value, sender) not in labels:
                state = await links.state(Channel(channel.value), sender)
                human = state.link if state.link and state.link.method in HUMAN_METHODS else None
                labels[(channel.value, sender)] = (
                    human.customer_id if human and human.source == "api" else None,
                    frozenset(state.rejected),
                )
            confirmed, rejected = labels[(channel.value, sender)]
            candidates = [(c.customer_id, c.match_probability)
                          for c in stored.resolution.candidates]  # fmt: skip
            pairs += labelled(candidates, confirmed, rejected)
    return calibrate(pairs)
