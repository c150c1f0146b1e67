import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Owner(_message.Message):
    __slots__ = ("owner", "kind", "queue", "duty_owner", "since_sequence", "since", "reason")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    DUTY_OWNER_FIELD_NUMBER: _ClassVar[int]
    SINCE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    owner: str
    kind: str
    queue: str
    duty_owner: str
    since_sequence: int
    since: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, owner: _Optional[str] = ..., kind: _Optional[str] = ..., queue: _Optional[str] = ..., duty_owner: _Optional[str] = ..., since_sequence: _Optional[int] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class GetOwnershipRequest(_message.Message):
    __slots__ = ("case_id", "min_sequence")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    min_sequence: int
    def __init__(self, case_id: _Optional[str] = ..., min_sequence: _Optional[int] = ...) -> None: ...

class GetOwnershipResponse(_message.Message):
    __slots__ = ("current", "history", "priority", "escalation_level", "policy_version")
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    current: Owner
    history: _containers.RepeatedCompositeFieldContainer[Owner]
    priority: str
    escalation_level: int
    policy_version: str
    def __init__(self, current: _Optional[_Union[Owner, _Mapping]] = ..., history: _Optional[_Iterable[_Union[Owner, _Mapping]]] = ..., priority: _Optional[str] = ..., escalation_level: _Optional[int] = ..., policy_version: _Optional[str] = ...) -> None: ...

class Promise(_message.Message):
    __slots__ = ("ref", "what", "promised_by", "due", "status", "followed_up")
    REF_FIELD_NUMBER: _ClassVar[int]
    WHAT_FIELD_NUMBER: _ClassVar[int]
    PROMISED_BY_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FOLLOWED_UP_FIELD_NUMBER: _ClassVar[int]
    ref: str
    what: str
    promised_by: str
    due: _timestamp_pb2.Timestamp
    status: str
    followed_up: bool
    def __init__(self, ref: _Optional[str] = ..., what: _Optional[str] = ..., promised_by: _Optional[str] = ..., due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[str] = ..., followed_up: _Optional[bool] = ...) -> None: ...

class ListOpenPromisesRequest(_message.Message):
    __slots__ = ("case_id", "min_sequence", "include_resolved")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_RESOLVED_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    min_sequence: int
    include_resolved: bool
    def __init__(self, case_id: _Optional[str] = ..., min_sequence: _Optional[int] = ..., include_resolved: _Optional[bool] = ...) -> None: ...

class ListOpenPromisesResponse(_message.Message):
    __slots__ = ("promises",)
    PROMISES_FIELD_NUMBER: _ClassVar[int]
    promises: _containers.RepeatedCompositeFieldContainer[Promise]
    def __init__(self, promises: _Optional[_Iterable[_Union[Promise, _Mapping]]] = ...) -> None: ...

class Breach(_message.Message):
    __slots__ = ("kind", "ref", "at", "detail", "escalated_to_level")
    KIND_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_TO_LEVEL_FIELD_NUMBER: _ClassVar[int]
    kind: str
    ref: str
    at: _timestamp_pb2.Timestamp
    detail: str
    escalated_to_level: int
    def __init__(self, kind: _Optional[str] = ..., ref: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., detail: _Optional[str] = ..., escalated_to_level: _Optional[int] = ...) -> None: ...

class ListBreachesRequest(_message.Message):
    __slots__ = ("case_id", "min_sequence")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    min_sequence: int
    def __init__(self, case_id: _Optional[str] = ..., min_sequence: _Optional[int] = ...) -> None: ...

class ListBreachesResponse(_message.Message):
    __slots__ = ("breaches",)
    BREACHES_FIELD_NUMBER: _ClassVar[int]
    breaches: _containers.RepeatedCompositeFieldContainer[Breach]
    def __init__(self, breaches: _Optional[_Iterable[_Union[Breach, _Mapping]]] = ...) -> None: ...

class SlaClock(_message.Message):
    __slots__ = ("name", "state", "started_at", "deadline", "business_time", "calendar")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_TIME_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: str
    started_at: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    business_time: bool
    calendar: str
    def __init__(self, name: _Optional[str] = ..., state: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., business_time: _Optional[bool] = ..., calendar: _Optional[str] = ...) -> None: ...

class GetSlaRequest(_message.Message):
    __slots__ = ("case_id", "min_sequence")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    min_sequence: int
    def __init__(self, case_id: _Optional[str] = ..., min_sequence: _Optional[int] = ...) -> None: ...

class GetSlaResponse(_message.Message):
    __slots__ = ("clocks", "priority")
    CLOCKS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    clocks: _containers.RepeatedCompositeFieldContainer[SlaClock]
    priority: str
    def __init__(self, clocks: _Optional[_Iterable[_Union[SlaClock, _Mapping]]] = ..., priority: _Optional[str] = ...) -> None: ...
