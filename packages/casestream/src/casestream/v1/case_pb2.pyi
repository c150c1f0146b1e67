import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CaseState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CASE_STATE_UNSPECIFIED: _ClassVar[CaseState]
    CASE_STATE_OPEN: _ClassVar[CaseState]
    CASE_STATE_CLOSED: _ClassVar[CaseState]
CASE_STATE_UNSPECIFIED: CaseState
CASE_STATE_OPEN: CaseState
CASE_STATE_CLOSED: CaseState

class CaseSummary(_message.Message):
    __slots__ = ("case_id", "account_id", "state", "opened_at", "closed_at", "last_sequence", "last_hash", "partition", "contact_count", "last_type")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LAST_HASH_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    CONTACT_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_TYPE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    account_id: str
    state: CaseState
    opened_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    last_sequence: int
    last_hash: str
    partition: int
    contact_count: int
    last_type: str
    def __init__(self, case_id: _Optional[str] = ..., account_id: _Optional[str] = ..., state: _Optional[_Union[CaseState, str]] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_sequence: _Optional[int] = ..., last_hash: _Optional[str] = ..., partition: _Optional[int] = ..., contact_count: _Optional[int] = ..., last_type: _Optional[str] = ...) -> None: ...

class CaseEventRecord(_message.Message):
    __slots__ = ("case_id", "sequence", "type", "source", "id", "time", "hash", "prev_hash", "partition", "offset", "value", "data_json", "account_id")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    sequence: int
    type: str
    source: str
    id: str
    time: _timestamp_pb2.Timestamp
    hash: str
    prev_hash: str
    partition: int
    offset: int
    value: bytes
    data_json: str
    account_id: str
    def __init__(self, case_id: _Optional[str] = ..., sequence: _Optional[int] = ..., type: _Optional[str] = ..., source: _Optional[str] = ..., id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., hash: _Optional[str] = ..., prev_hash: _Optional[str] = ..., partition: _Optional[int] = ..., offset: _Optional[int] = ..., value: _Optional[bytes] = ..., data_json: _Optional[str] = ..., account_id: _Optional[str] = ...) -> None: ...

class GetCaseRequest(_message.Message):
    __slots__ = ("case_id", "min_sequence")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    min_sequence: int
    def __init__(self, case_id: _Optional[str] = ..., min_sequence: _Optional[int] = ...) -> None: ...

class GetCaseResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: CaseSummary
    def __init__(self, case: _Optional[_Union[CaseSummary, _Mapping]] = ...) -> None: ...

class ListCaseEventsRequest(_message.Message):
    __slots__ = ("case_id", "min_sequence", "from_sequence", "page_size", "page_token")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FROM_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    min_sequence: int
    from_sequence: int
    page_size: int
    page_token: str
    def __init__(self, case_id: _Optional[str] = ..., min_sequence: _Optional[int] = ..., from_sequence: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCaseEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[CaseEventRecord]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[CaseEventRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchCaseRequest(_message.Message):
    __slots__ = ("case_id", "after_sequence")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    after_sequence: int
    def __init__(self, case_id: _Optional[str] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class WatchCaseResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: CaseEventRecord
    def __init__(self, event: _Optional[_Union[CaseEventRecord, _Mapping]] = ...) -> None: ...

class FindCasesRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class FindCasesResponse(_message.Message):
    __slots__ = ("cases",)
    CASES_FIELD_NUMBER: _ClassVar[int]
    cases: _containers.RepeatedCompositeFieldContainer[CaseSummary]
    def __init__(self, cases: _Optional[_Iterable[_Union[CaseSummary, _Mapping]]] = ...) -> None: ...
