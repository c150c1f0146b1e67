"""CloudEvents in and out: Kafka structured and binary mode, JSON, and protobuf format.

Inbound attributes are validated with pydantic against the spec's rules, never by letting
the CloudEvents SDK parse them: the SDK invents an `id` and a `time` when they are missing,
which would let a producer's retry be sequenced twice. Outbound events are built with the
SDK (`to_kafka`, `to_json`). Every rejection names the field and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

import orjson
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as SdkCloudEvent
from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints, ValidationError
from typing_extensions import Annotated, Literal

from casestream import catalogue

MAX_RECORD_BYTES = 1024 * 1024
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
_REQUIRED = ("specversion", "id", "source", "type", "subject", "time")
_KNOWN = set(_REQUIRED) | {"datacontenttype", "dataschema", "data", "data_base64"}

Attr = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class Rejection(Exception):
    """Bad input: `code` is stable for machines, `field` names the culprit."""

    def __init__(self, code: str, field: str, reason: str) -> None:
        super().__init__(reason if reason.startswith(field) else f"{field}: {reason}")
        self.code = code
        self.field = field
        self.reason = reason


class _Attributes(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    specversion: Literal["1.0"]
    id: Attr
    source: Attr
    type: Attr
    subject: Attr
    time: AwareDatetime
    datacontenttype: str | None = None
    dataschema: str | None = None


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """A validated inbound CloudEvent whose data matched its type's model."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    data: dict[str, Any]
    extensions: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """The idempotency key, (source, id), as the CloudEvents spec defines it."""
        return (self.source, self.id)

    @property
    def case_id(self) -> str | None:
        return self.extensions.get("caseid") or None


def _describe(err: ValidationError, prefix: str = "") -> Rejection:
    parts, first = [], None
    for e in err.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"])
        name = f"{prefix}{loc}" if loc else prefix.rstrip(".") or "value"
        first = first or name
        got = e.get("input")
        shown = "" if e["type"] == "missing" else f" (got {got!r:.60})"
        parts.append(f"{name}: {e['msg']}{shown}")
    code = "MISSING_FIELD" if all(e["type"] == "missing" for e in err.errors()) else "INVALID_FIELD"
    rej = Rejection(code, first or "value", "; ".join(parts))
    return rej


# RFC 3339 as producers send it; anything else (or any doubt) goes through pydantic.
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)")


def _plain(v: Any) -> bool:
    return type(v) is str and 0 < len(v) <= 512


def _fast_attributes(raw: Mapping[str, Any]) -> tuple[str, str, str, str, datetime, str | None] | None:
    """The attributes when every one is plainly valid, without pydantic (~10 us a record);
    None sends the record through `_Attributes.model_validate`, which names what is wrong."""
    t = raw["time"]
    if raw["specversion"] != "1.0" or not (_plain(raw["id"]) and _plain(raw["source"]) and _plain(raw["type"])
                                          and _plain(raw["subject"])):
        return None
    if type(t) is str:
        if not _RFC3339.fullmatch(t):
            return None
        try:
            t = datetime.fromisoformat(t[:-1] + "+00:00" if t[-1] == "Z" else t)
        except ValueError:
            return None
    elif not (isinstance(t, datetime) and t.tzinfo is not None and t.utcoffset() is not None):
        return None
    ctype, schema = raw.get("datacontenttype"), raw.get("dataschema")
    if (ctype is not None and type(ctype) is not str) or (schema is not None and type(schema) is not str):
        return None
    return raw["id"], raw["source"], raw["type"], raw["subject"], t, ctype


def _validate(raw: Mapping[str, Any], data: Any) -> InboundEvent:
    for name in _REQUIRED:
        if raw.get(name) in (None, ""):
            raise Rejection("MISSING_ATTRIBUTE", name, f"the CloudEvents attribute '{name}' is required")
    fast = _fast_attributes(raw)
    if fast is None:
        try:
            a = _Attributes.model_validate(raw)
        except ValidationError as e:
            raise _describe(e) from None
        fast = a.id, a.source, a.type, a.subject, a.time, a.datacontenttype
    id_, source, type_, subject, time_, ctype = fast
    if ctype is not None and not (ctype.startswith("application/json") or ctype.endswith("+json")):
        raise Rejection("INVALID_ATTRIBUTE", "datacontenttype", f"expected application/json, got {ctype!r}")
    model = catalogue.model_for(type_)
    if model is None or type_ in catalogue.INTAKE_OWN:
        raise Rejection("UNKNOWN_TYPE", "type", f"unknown event type {type_!r}; see the event catalogue")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise Rejection("INVALID_FIELD", "data", f"expected a JSON object, got {type(data).__name__}")
    try:
        validated = model.model_validate(data)
    except ValidationError as e:
        raise _describe(e, "data.") from None
    extensions = {}
    for k, v in raw.items():
        if k in _KNOWN:
            continue
        if not (k.isascii() and k.isalnum() and k.islower() and len(k) <= 20):
            raise Rejection("INVALID_ATTRIBUTE", k, "extension names are lowercase letters and digits, at most 20")
        extensions[k] = v if isinstance(v, str) else orjson.dumps(v).decode()
    return InboundEvent(
        id=id_, source=source, type=type_, subject=subject, time=time_, data=validated.model_dump(mode="json"), extensions=extensions,
    )


def _utf8(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Rejection("BAD_ENCODING", name, f"not valid UTF-8 at byte {e.start}") from None


def _json(raw: bytes | str, name: str) -> Any:
    if isinstance(raw, bytes):
        _utf8(raw, name)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise Rejection("MALFORMED_JSON", name, f"malformed JSON: {e}") from None


def parse_json(raw: bytes | str) -> InboundEvent:
    """Parse a structured-mode CloudEvent (JSON object)."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_RECORD_BYTES:
        raise Rejection("TOO_LARGE", "value", f"{size} bytes is over the limit of {MAX_RECORD_BYTES}")
    doc = _json(raw, "value")
    if not isinstance(doc, dict):
        raise Rejection("MALFORMED_JSON", "value", f"expected a JSON object, got {type(doc).__name__}")
    if "data_base64" in doc:
        raise Rejection("INVALID_FIELD", "data_base64", "binary data is not accepted; send JSON in 'data'")
    return _validate(doc, doc.get("data"))


def headers_dict(headers: Iterable[tuple[str, bytes]] | None) -> dict[str, bytes]:
    return {k: (v or b"") for k, v in (headers or [])}


def parse_kafka(value: bytes | None, headers: Iterable[tuple[str, bytes]] | None) -> InboundEvent:
    """Parse one case.inbound.v1 record in structured or binary mode."""
    hdrs = headers_dict(headers)
    size = len(value or b"") + sum(len(k) + len(v) for k, v in hdrs.items())
    if size > MAX_RECORD_BYTES:
        raise Rejection("TOO_LARGE", "value", f"{size} bytes is over the limit of {MAX_RECORD_BYTES}")
    ce_headers = {k[3:]: v for k, v in hdrs.items() if k.lower().startswith("ce_")}
    if not ce_headers:
        return parse_json(value or b"")
    raw: dict[str, Any] = {name: _utf8(v, f"ce_{name}") for name, v in ce_headers.items()}
    if "content-type" in hdrs:
        raw["datacontenttype"] = _utf8(hdrs["content-type"], "content-type")
    data = _json(value, "value") if value else None
    return _validate(raw, data)


def parse_proto(ce: Any) -> InboundEvent:
    """Parse a casestream.v1.CloudEvent (the CloudEvents protobuf format)."""
    raw: dict[str, Any] = {"specversion": ce.spec_version, "id": ce.id, "source": ce.source, "type": ce.type}
    for name, v in ce.attributes.items():
        kind = v.WhichOneof("attr")
        if kind == "ce_timestamp":
            raw[name] = v.ce_timestamp.ToDatetime(tzinfo=timezone.utc)
        elif kind is not None:
            raw[name] = getattr(v, kind)
    which = ce.WhichOneof("data")
    if which == "proto_data":
        raise Rejection("INVALID_FIELD", "proto_data", "protobuf data is not accepted; send JSON as text_data")
    data = None
    if which == "text_data":
        data = _json(ce.text_data, "text_data")
    elif which == "binary_data":
        data = _json(ce.binary_data, "binary_data")
    if ce.ByteSize() > MAX_RECORD_BYTES:
        raise Rejection("TOO_LARGE", "event", f"{ce.ByteSize()} bytes is over the limit of {MAX_RECORD_BYTES}")
    return _validate(raw, data)


def _sdk_event(
    *, id: str, source: str, type: str, subject: str, time: datetime,
    data: Mapping[str, Any], extensions: Mapping[str, str] | None = None,
) -> SdkCloudEvent:
    attrs = {"id": id, "source": source, "type": type, "subject": subject, "time": time,
             "specversion": "1.0", "datacontenttype": "application/json", **(extensions or {})}
    return SdkCloudEvent(attrs, dict(data))


def to_kafka(
    *, id: str, source: str, type: str, subject: str, time: datetime,
    data: Mapping[str, Any], extensions: Mapping[str, str] | None = None, binary: bool = True,
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Encode a CloudEvent for case.inbound.v1: (key = subject, value, headers)."""
    event = _sdk_event(id=id, source=source, type=type, subject=subject, time=time, data=data, extensions=extensions)
    to = ce_kafka.to_binary_event if binary else ce_kafka.to_structured_event
    msg = to(event, JSONFormat())
    headers = [(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in msg.headers.items()]
    return subject.encode(), msg.value or b"", headers


def to_json(
    *, id: str, source: str, type: str, subject: str, time: datetime,
    data: Mapping[str, Any], extensions: Mapping[str, str] | None = None,
) -> bytes:
    """A structured-mode CloudEvent as JSON bytes."""
    event = _sdk_event(id=id, source=source, type=type, subject=subject, time=time, data=data, extensions=extensions)
    return JSONFormat().write(event)
