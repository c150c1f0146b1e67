import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Delivery(_message.Message):
    __slots__ = ("message_id", "rule", "template", "channel", "recipient_role", "status", "attempts", "reason", "at", "trigger_ref")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_ROLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_REF_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    rule: str
    template: str
    channel: str
    recipient_role: str
    status: str
    attempts: int
    reason: str
    at: _timestamp_pb2.Timestamp
    trigger_ref: str
    def __init__(self, message_id: _Optional[str] = ..., rule: _Optional[str] = ..., template: _Optional[str] = ..., channel: _Optional[str] = ..., recipient_role: _Optional[str] = ..., status: _Optional[str] = ..., attempts: _Optional[int] = ..., reason: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trigger_ref: _Optional[str] = ...) -> None: ...

class ListDeliveriesRequest(_message.Message):
    __slots__ = ("case_id",)
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    def __init__(self, case_id: _Optional[str] = ...) -> None: ...

class ListDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries",)
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ...) -> None: ...

class PreviewNotificationRequest(_message.Message):
    __slots__ = ("rule_id", "case_id", "locale")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    case_id: str
    locale: str
    def __init__(self, rule_id: _Optional[str] = ..., case_id: _Optional[str] = ..., locale: _Optional[str] = ...) -> None: ...

class PreviewNotificationResponse(_message.Message):
    __slots__ = ("subject", "body", "channel", "recipient_role", "locale")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_ROLE_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    subject: str
    body: str
    channel: str
    recipient_role: str
    locale: str
    def __init__(self, subject: _Optional[str] = ..., body: _Optional[str] = ..., channel: _Optional[str] = ..., recipient_role: _Optional[str] = ..., locale: _Optional[str] = ...) -> None: ...
