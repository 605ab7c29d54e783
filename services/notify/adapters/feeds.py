"""The public feeds of published exposures and publications: JSON Feed 1.1, RSS 2.0 and Atom (RFC 4287).

The XML is built with xml.etree, which escapes text and attributes; characters XML 1.0 cannot carry at
all (control characters a pasted text may hold) are dropped first, so every feed is well-formed
whatever the office typed. Ids never change: an exposure's is its own UUID, a publication's a UUID
derived from its stream, the feed's a fixed one — so a reader never sees an item twice when the
site moves to another address.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Sequence
from xml.etree import ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"
NAMESPACE = uuid.UUID("6f0d1c52-6a43-5f57-9d0e-7a1f3c2b9e11")      # of Zhengfeng's public ids
FEED_ID = f"urn:uuid:{uuid.uuid5(NAMESPACE, 'public-feed')}"
GENERATOR = "Zhengfeng 正风台账"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
ET.register_namespace("atom", ATOM)


@dataclass(frozen=True)
class Item:
    id: str                 # a URI (urn:uuid:...)
    url: str                # absolute
    title: str
    summary: str
    text: str
    published: datetime
    category: str
    attachments: Sequence[tuple[str, str]] = field(default_factory=tuple)    # (absolute url, mime type)


@dataclass(frozen=True)
class Feed:
    title: str
    description: str
    home_url: str
    urls: dict[str, str]    # json, rss, atom: the feeds' absolute addresses
    author: str
    updated: datetime
    items: Sequence[Item]


def item_id(key: str) -> str:
    """urn:uuid of an exposure (its own id when it is a UUID) or a publication's stream."""
    try:
        return uuid.UUID(key).urn
    except ValueError:
        return uuid.uuid5(NAMESPACE, key).urn


def clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _rfc3339(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def json_feed(feed: Feed) -> str:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": feed.title, "home_page_url": feed.home_url,
           "feed_url": feed.urls["json"], "description": feed.description, "language": "zh-CN",
           "authors": [{"name": feed.author}],
           "items": [{"id": i.id, "url": i.url, "title": i.title, "summary": i.summary, "content_text": i.text,
                      "date_published": _rfc3339(i.published), "tags": [i.category],
                      **({"attachments": [{"url": u, "mime_type": m} for u, m in i.attachments]}
                         if i.attachments else {})}
                     for i in feed.items]}
    return json.dumps(doc, ensure_ascii=False, indent=1)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        el.text = clean(text)
    return el


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def rss(feed: Feed) -> bytes:
    """RSS 2.0 (https://www.rssboard.org/rss-specification), with atom:link rel=self as advised."""
    root = ET.Element("rss", {"version": "2.0"})
    channel = _sub(root, "channel")
    _sub(channel, "title", feed.title)
    _sub(channel, "link", feed.home_url)
    _sub(channel, "description", feed.description)
    _sub(channel, "language", "zh-CN")
    _sub(channel, "lastBuildDate", format_datetime(feed.updated.astimezone(timezone.utc), usegmt=True))
    _sub(channel, "generator", GENERATOR)
    _sub(channel, f"{{{ATOM}}}link", href=feed.urls["rss"], rel="self", type="application/rss+xml")
    for i in feed.items:
        item = _sub(channel, "item")
        _sub(item, "title", i.title)
        _sub(item, "link", i.url)
        _sub(item, "description", i.text)
        _sub(item, "category", i.category)
        _sub(item, "guid", i.id, isPermaLink="false")
        _sub(item, "pubDate", format_datetime(i.published.astimezone(timezone.utc), usegmt=True))
        for url, mime in i.attachments[:1]:       # RSS allows one enclosure; its length is not known here
            _sub(item, "enclosure", url=url, type=mime, length="0")
    return _xml(root)


def atom(feed: Feed) -> bytes:
    """Atom (RFC 4287): feed id, title, updated and author; each entry its id, title, updated, link.
    Atom is the document's default namespace, declared on the root (xml.etree would otherwise prefix
    every element)."""
    root = ET.Element("feed", {"xmlns": ATOM, "xml:lang": "zh-CN"})
    _sub(root, "id", FEED_ID)
    _sub(root, "title", feed.title)
    _sub(root, "subtitle", feed.description)
    _sub(root, "updated", _rfc3339(feed.updated))
    _sub(root, "link", rel="self", type="application/atom+xml", href=feed.urls["atom"])
    _sub(root, "link", rel="alternate", type="text/html", href=feed.home_url)
    _sub(_sub(root, "author"), "name", feed.author)
    _sub(root, "generator", GENERATOR)
    for i in feed.items:
        entry = _sub(root, "entry")
        _sub(entry, "id", i.id)
        _sub(entry, "title", i.title, type="text")
        _sub(entry, "published", _rfc3339(i.published))
        _sub(entry, "updated", _rfc3339(i.published))      # a published text is never changed
        _sub(entry, "link", rel="alternate", type="text/html", href=i.url)
        for url, mime in i.attachments:
            _sub(entry, "link", rel="enclosure", type=mime, href=url)
        _sub(entry, "category", term=i.category)
        _sub(entry, "summary", i.summary, type="text")
        _sub(entry, "content", i.text, type="text")
    return _xml(root)
