"""Attachments as metadata with URLs, never content: what each channel's payload says of
its media and files."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from adapters.message import Attachment

# More than any real message carries; a payload listing thousands is not read whole.
MAX_ATTACHMENTS = 20


def tweet_media(holder: dict[str, Any]) -> list[Attachment]:
    """X media of a tweet (``extended_entities`` has every item, ``entities`` the first)
    or of a DM's ``message_data.attachment``."""
    found: list[Any] = []
    for key in ("extended_entities", "entities"):
        entities = holder.get(key)
        if isinstance(entities, dict) and isinstance(entities.get("media"), list):
            found = entities["media"]
            break
    attachment = holder.get("attachment")
    if isinstance(attachment, dict) and isinstance(attachment.get("media"), dict):
        found = [attachment["media"]]
    out = []
    for media in found[:MAX_ATTACHMENTS]:
        if not isinstance(media, dict):
            continue
        url = media.get("media_url_https") or media.get("media_url") or media.get("url")
        out.append(
            Attachment(
                kind=str(media["type"]) if isinstance(media.get("type"), str) else None,
                url=str(url) if isinstance(url, str) else None,
            )
        )
    return out


_UPLOAD = re.compile(r"!?\[([^\]|\n]{0,200})(?:\|[^\]\n]{0,100})?\]\(upload://([\w.-]{1,100})\)")


class _Uploads(HTMLParser):
    """Images (not emoji) and attachment links of a post's cooked HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str | None, str]] = []  # (url, name, kind)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if len(self.found) >= MAX_ATTACHMENTS:
            return
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "img" and a.get("src") and "emoji" not in classes and "avatar" not in classes:
            self.found.append((a["src"] or "", a.get("alt"), "image"))
        elif tag == "a" and "attachment" in classes and a.get("href"):
            self.found.append((a["href"] or "", None, "file"))


def discourse_uploads(raw: str, cooked: Any, site: str) -> list[Attachment]:
    """Uploads of a Discourse post, with URLs resolved against the instance: from the
    cooked HTML when the payload has it, else from the ``upload://`` links of the raw
    markdown (served at ``/uploads/short-url/``)."""
    base = site.rstrip("/") + "/"
    out: dict[str, Attachment] = {}
    if isinstance(cooked, str) and cooked:
        parser = _Uploads()
        parser.feed(cooked[:200_000])
        for src, name, kind in parser.found:
            url = urljoin(base, src)
            out.setdefault(url, Attachment(kind=kind, name=name or None, url=url))
    else:
        for match in _UPLOAD.finditer(raw[:200_000]):
            name, short = match.group(1).strip(), match.group(2)
            url = urljoin(base, f"uploads/short-url/{short}")
            kind = "image" if match.group(0).startswith("!") else "file"
            out.setdefault(url, Attachment(kind=kind, name=name or None, url=url))
            if len(out) >= MAX_ATTACHMENTS:
                break
    return list(out.values())
