from casestream.v1 import cloudevent_pb2 as _cloudevent_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubmitStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBMIT_STATUS_UNSPECIFIED: _ClassVar[SubmitStatus]
    SUBMIT_STATUS_ACCEPTED: _ClassVar[SubmitStatus]
    SUBMIT_STATUS_SEQUENCED: _ClassVar[SubmitStatus]
    SUBMIT_STATUS_DUPLICATE: _ClassVar[SubmitStatus]
    SUBMIT_STATUS_REJECTED: _ClassVar[SubmitStatus]
SUBMIT_STATUS_UNSPECIFIED: SubmitStatus
SUBMIT_STATUS_ACCEPTED: SubmitStatus
SUBMIT_STATUS_SEQUENCED: SubmitStatus
SUBMIT_STATUS_DUPLICATE: SubmitStatus
SUBMIT_STATUS_REJECTED: SubmitStatus

class InboundEvent(_message.Message):
    __slots__ = ("cloud_event", "json")
    CLOUD_EVENT_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    cloud_event: _cloudevent_pb2.CloudEvent
    json: str
    def __init__(self, cloud_event: _Optional[_Union[_cloudevent_pb2.CloudEvent, _Mapping]] = ..., json: _Optional[str] = ...) -> None: ...

class SubmitRequest(_message.Message):
    __slots__ = ("event", "wait_sequenced", "timeout_ms")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    WAIT_SEQUENCED_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    event: InboundEvent
    wait_sequenced: bool
    timeout_ms: int
    def __init__(self, event: _Optional[_Union[InboundEvent, _Mapping]] = ..., wait_sequenced: _Optional[bool] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class SubmitResponse(_message.Message):
    __slots__ = ("status", "case_id", "sequence", "hash", "partition", "offset", "source", "id", "reason")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    status: SubmitStatus
    case_id: str
    sequence: int
    hash: str
    partition: int
    offset: int
    source: str
    id: str
    reason: str
    def __init__(self, status: _Optional[_Union[SubmitStatus, str]] = ..., case_id: _Optional[str] = ..., sequence: _Optional[int] = ..., hash: _Optional[str] = ..., partition: _Optional[int] = ..., offset: _Optional[int] = ..., source: _Optional[str] = ..., id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SubmitBatchRequest(_message.Message):
    __slots__ = ("events", "wait_sequenced", "timeout_ms")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    WAIT_SEQUENCED_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[InboundEvent]
    wait_sequenced: bool
    timeout_ms: int
    def __init__(self, events: _Optional[_Iterable[_Union[InboundEvent, _Mapping]]] = ..., wait_sequenced: _Optional[bool] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class SubmitBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SubmitResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[SubmitResponse, _Mapping]]] = ...) -> None: ...
