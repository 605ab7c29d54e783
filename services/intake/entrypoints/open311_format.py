"""Open311's two representations of one document. XML is the spec's required format: schemaless, no
namespace, UTF-8 with its declaration. JSON follows the spec's Spark convention: a container of
repeated elements (`<services><service>…`) is an array, even of one, and top-level lists are bare
arrays. Empty XML elements are JSON nulls; booleans are true/false in both."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from flask import Response

from ..domain.open311 import Open311Error

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
# Containers and their repeated child element (the spec's ⇊ and ↴ in its response tables).
ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
         "values": "value", "endpoints": "endpoint", "formats": "format"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    # Characters XML 1.0 cannot carry (an error may echo a parameter name the client sent).
    return NOT_XML.sub("\ufffd", str(value))


def _element(tag: str, value: Any) -> ET.Element:
    node = ET.Element(tag)
    if isinstance(value, dict):
        node.extend(_element(k, v) for k, v in value.items())
    elif isinstance(value, list):
        node.extend(_element(ITEMS[tag], item) for item in value)
    else:
        node.text = _text(value)
    return node


def to_xml(root: str, document: Any) -> bytes:
    body = ET.tostring(_element(root, document), encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")


def render(fmt: str, root: str, document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """`document` as `fmt`; `root` names the XML root element (a JSON document has none)."""
    body = (json.dumps(document, ensure_ascii=False).encode("utf-8") if fmt == "json"
            else to_xml(root, document))
    return Response(body, status=status, headers=headers, content_type=FORMATS[fmt])


def errors(fmt: str, status: int, problems: list[tuple[str, str]], headers: dict[str, str] | None = None) -> Response:
    """The spec's error document: one {code, description} per problem; the description names the
    parameter, then says what is wrong in words for the person using the client."""
    return render(fmt, "errors", [{"code": status, "description": f"{param}: {why}"} for param, why in problems],
                  status, headers)


class Refused(Open311Error):
    """An error answer that needs HTTP headers too (Retry-After, Allow)."""

    def __init__(self, status: int, errors: list[tuple[str, str]], headers: dict[str, str]):
        super().__init__(status, errors)
        self.headers = headers


def checked(fmt: str) -> str:
    """The path's format extension; 404 for one we do not serve (that representation does not exist)."""
    if fmt not in FORMATS:
        raise Open311Error(404, [("format", f"没有 .{fmt} 格式,请用 .xml 或 .json")])
    return fmt
