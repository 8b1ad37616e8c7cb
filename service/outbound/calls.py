"""The providers' send calls as data: pure functions from a target and a text to the
request (URL, headers, JSON body), and from the provider's answer to the id of what it
made or to its own words for a refusal. The senders only do the I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from service.outbound.target import ReplyTarget

MAX_REASON = 300


class CannotSend(Exception):
    """This message cannot be answered on its channel (the send is off for it): the
    message says why."""


@dataclass(frozen=True, slots=True)
class HttpCall:
    url: str
    headers: dict[str, str]
    body: dict[str, Any]


def _segment(value: str) -> str:
    # An id from a payload becomes one path segment, never a path of its own.
    return quote(value, safe="")


def _id(value: Any) -> str | None:
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
        return str(value)
    return None


def _data(answer: Any) -> dict[str, Any]:
    return answer if isinstance(answer, dict) else {}


def x_call(base: str, token: str, target: ReplyTarget, text: str) -> HttpCall:
    """A direct message to the sender of a DM; a reply post to a mention."""
    headers = {"Authorization": f"Bearer {token}"}
    base = base.rstrip("/")
    if target.kind == "dm":
        url = f"{base}/2/dm_conversations/with/{_segment(target.recipient)}/messages"
        return HttpCall(url, headers, {"text": text})
    if target.kind in ("tweet", "post"):
        body = {"text": text, "reply": {"in_reply_to_tweet_id": target.answers}}
        return HttpCall(f"{base}/2/tweets", headers, body)
    raise CannotSend(f"an X message of kind {target.kind!r} cannot be answered")


def x_sent_id(answer: Any) -> str | None:
    data = _data(_data(answer).get("data"))
    return _id(data.get("dm_event_id")) or _id(data.get("id"))


def meta_call(graph: str, token: str, target: ReplyTarget, text: str) -> HttpCall:
    """Messenger and Instagram DMs through the Send API; Page feed comments and
    Instagram comments answered in their thread."""
    headers = {"Authorization": f"Bearer {token}"}
    graph = graph.rstrip("/")
    if target.kind == "message":
        # RESPONSE: an answer within the 24 hours after the customer wrote, which is all
        # a rep's reply is; Meta refuses it later, and says so.
        body = {
            "recipient": {"id": target.recipient},
            "messaging_type": "RESPONSE",
            "message": {"text": text},
        }
        return HttpCall(f"{graph}/me/messages", headers, body)
    if target.kind == "feed":
        return HttpCall(f"{graph}/{_segment(target.answers)}/comments", headers, {"message": text})
    if target.kind == "comment":
        return HttpCall(f"{graph}/{_segment(target.answers)}/replies", headers, {"message": text})
    raise CannotSend(f"a Meta message of kind {target.kind!r} cannot be answered")


def meta_sent_id(answer: Any) -> str | None:
    data = _data(answer)
    return _id(data.get("message_id")) or _id(data.get("id"))


def same_site(a: str, b: str) -> bool:
    return a.rstrip("/").casefold() == b.rstrip("/").casefold()


def discourse_call(
    base: str, api_key: str, username: str, target: ReplyTarget, text: str
) -> HttpCall:
    """A post in the customer's topic, as a reply to their post."""
    if target.kind != "discourse":
        raise CannotSend("posts in the generic forum format have no send API")
    ref = target.ref
    if ref.topic_id is None:
        raise CannotSend("the post's topic is not known")
    # A topic id means another topic on another forum: never post there.
    if ref.site is None or not same_site(ref.site, base):
        where = ref.site or "another forum"
        raise CannotSend(f"the post is on {where}, not on SOCIALID_DISCOURSE_URL")
    topic: int | str = int(ref.topic_id) if ref.topic_id.isdigit() else ref.topic_id
    body: dict[str, Any] = {"topic_id": topic, "raw": text}
    if ref.post_number is not None:
        body["reply_to_post_number"] = ref.post_number
    headers = {"Api-Key": api_key, "Api-Username": username}
    return HttpCall(f"{base.rstrip('/')}/posts.json", headers, body)


def discourse_sent_id(answer: Any) -> str | None:
    return _id(_data(answer).get("id"))


def provider_error(answer: Any) -> str | None:
    """The provider's own words for a refusal, wherever it puts them: Graph API
    ``error.message``, X ``detail``/``title`` or ``errors[].message``, Discourse
    ``errors[]``."""
    data = _data(answer)
    error = data.get("error")
    found: list[str] = []
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        found.append(error["message"])
    elif isinstance(error, str):
        found.append(error)
    for name in ("detail", "title"):
        if not found and isinstance(data.get(name), str):
            found.append(data[name])
    errors = data.get("errors")
    if not found and isinstance(errors, list):
        for each in errors[:3]:
            words = each.get("message") or each.get("detail") if isinstance(each, dict) else each
            if isinstance(words, str):
                found.append(words)
    reason = "; ".join(w.strip() for w in found if w.strip())
    return reason[:MAX_REASON] or None
