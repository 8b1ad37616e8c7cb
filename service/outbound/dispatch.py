"""Sending a reply already recorded: to the sender of the conversation's last message,
through its channel's sender, and what became of it logged in the conversation."""

from __future__ import annotations

import redis.asyncio as aioredis

from service.conversations.messages import MessageStore
from service.conversations.repository import ConversationStore
from service.conversations.scriptcalls import log_time
from service.errors import DomainError
from service.ops.logs import get_logger
from service.ops.metrics import Metrics
from service.outbound.senders import Senders, SendResult
from service.outbound.target import ReplyTarget
from service.schemas.conversation import SendOutcome
from service.store.keynames import KeySchema
from service.store.redistypes import text_or_none

log = get_logger("socialid.outbound")


class ReplyNotFound(DomainError):
    status = 404
    slug = "reply-not-found"
    default_detail = "The conversation has no reply with this id."


class AlreadySent(DomainError):
    status = 409
    slug = "reply-already-sent"
    default_detail = "The customer already got this reply: it is not sent twice."


class SendInProgress(DomainError):
    status = 409
    slug = "send-in-progress"
    default_detail = "This reply is being sent right now; read the conversation to see how it went."


class Dispatch:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: KeySchema,
        *,
        conversations: ConversationStore,
        messages: MessageStore,
        senders: Senders,
        metrics: Metrics | None,
        timeout: float,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._conversations = conversations
        self._messages = messages
        self._senders = senders
        self._metrics = metrics
        # Past it a crashed sender's hold lapses; an SMTP send may wait on each command.
        self._hold = int(timeout * 6) + 10

    async def send(self, conversation_id: str, reply_id: str, rep: str, text: str) -> SendOutcome:
        """Send the reply and log the outcome; failures are outcomes, not errors."""
        hold = self._keys.reply_sending(reply_id)
        if not await self._redis.set(hold, rep, nx=True, ex=self._hold):
            raise SendInProgress
        try:
            stored = await self._messages.last_in(conversation_id)
            if stored is None:
                channel = text_or_none(
                    await self._redis.hget(self._keys.conversation(conversation_id), "channel")
                )
                result = SendResult(
                    "failed", reason="the conversation holds no message of the customer to answer"
                )
            else:
                channel = stored.message.channel.value
                target = ReplyTarget.of(stored.message)
                result = await self._senders.of(stored.message.channel).send(target, text)
            outcome = SendOutcome(
                status=result.status,
                channel=channel or "unknown",
                at=log_time(),
                provider_id=result.provider_id,
                provider_status=result.provider_status,
                reason=result.reason,
            )
            # Before it is logged: a store that fails now leaves the outcome in the logs.
            log.info(
                "reply_send",
                reply_id=reply_id,
                channel=outcome.channel,
                outcome=outcome.status,
                provider_status=outcome.provider_status,
            )
            if self._metrics is not None:
                self._metrics.child(
                    self._metrics.reply_sends, outcome.channel, outcome.status
                ).inc()
            await self._conversations.record_send(conversation_id, rep, reply_id, outcome)
        finally:
            await self._redis.delete(hold)
        return outcome

    async def resend(self, conversation_id: str, reply_id: str, rep: str) -> SendOutcome:
        """Send again a reply whose send failed or was off; never one already sent."""
        logged = await self._conversations.logged_reply(conversation_id, reply_id)
        if logged is None:
            raise ReplyNotFound
        if logged.sent:
            raise AlreadySent
        return await self.send(conversation_id, reply_id, rep, logged.text)
