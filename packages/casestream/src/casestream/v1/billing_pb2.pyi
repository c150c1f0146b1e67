import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Money(_message.Message):
    __slots__ = ("amount_minor", "currency")
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    amount_minor: int
    currency: str
    def __init__(self, amount_minor: _Optional[int] = ..., currency: _Optional[str] = ...) -> None: ...

class HolderChange(_message.Message):
    __slots__ = ("holder", "reason", "at")
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    holder: str
    reason: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, holder: _Optional[str] = ..., reason: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DunningHold(_message.Message):
    __slots__ = ("ref", "scope", "reason", "placed_at")
    REF_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PLACED_AT_FIELD_NUMBER: _ClassVar[int]
    ref: str
    scope: str
    reason: str
    placed_at: _timestamp_pb2.Timestamp
    def __init__(self, ref: _Optional[str] = ..., scope: _Optional[str] = ..., reason: _Optional[str] = ..., placed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetAccountRequest(_message.Message):
    __slots__ = ("account_id", "min_events")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_EVENTS_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    min_events: int
    def __init__(self, account_id: _Optional[str] = ..., min_events: _Optional[int] = ...) -> None: ...

class GetAccountResponse(_message.Message):
    __slots__ = ("account_id", "balance", "holder", "holder_history", "active_holds", "ageing_json", "events_folded", "policy_version")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    HOLDER_HISTORY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_HOLDS_FIELD_NUMBER: _ClassVar[int]
    AGEING_JSON_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FOLDED_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    balance: _containers.RepeatedCompositeFieldContainer[Money]
    holder: str
    holder_history: _containers.RepeatedCompositeFieldContainer[HolderChange]
    active_holds: _containers.RepeatedCompositeFieldContainer[DunningHold]
    ageing_json: str
    events_folded: int
    policy_version: str
    def __init__(self, account_id: _Optional[str] = ..., balance: _Optional[_Iterable[_Union[Money, _Mapping]]] = ..., holder: _Optional[str] = ..., holder_history: _Optional[_Iterable[_Union[HolderChange, _Mapping]]] = ..., active_holds: _Optional[_Iterable[_Union[DunningHold, _Mapping]]] = ..., ageing_json: _Optional[str] = ..., events_folded: _Optional[int] = ..., policy_version: _Optional[str] = ...) -> None: ...

class LedgerEntry(_message.Message):
    __slots__ = ("at", "kind", "reference", "amount", "case_id", "sequence")
    AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    kind: str
    reference: str
    amount: Money
    case_id: str
    sequence: int
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., reference: _Optional[str] = ..., amount: _Optional[_Union[Money, _Mapping]] = ..., case_id: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class ListLedgerRequest(_message.Message):
    __slots__ = ("account_id", "as_of", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    as_of: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLedgerResponse(_message.Message):
    __slots__ = ("entries", "balance", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    balance: _containers.RepeatedCompositeFieldContainer[Money]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ..., balance: _Optional[_Iterable[_Union[Money, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDisputeRequest(_message.Message):
    __slots__ = ("account_id", "reference")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reference: str
    def __init__(self, account_id: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class GetDisputeResponse(_message.Message):
    __slots__ = ("reference", "status", "reason", "opened_at", "resolved_at", "hold_ref")
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    HOLD_REF_FIELD_NUMBER: _ClassVar[int]
    reference: str
    status: str
    reason: str
    opened_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    hold_ref: str
    def __init__(self, reference: _Optional[str] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., hold_ref: _Optional[str] = ...) -> None: ...

class ExplainDunningRequest(_message.Message):
    __slots__ = ("account_id", "charge_reference", "at")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CHARGE_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    charge_reference: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., charge_reference: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExplainDunningResponse(_message.Message):
    __slots__ = ("would_send", "reasons", "notices_sent")
    WOULD_SEND_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    NOTICES_SENT_FIELD_NUMBER: _ClassVar[int]
    would_send: bool
    reasons: _containers.RepeatedScalarFieldContainer[str]
    notices_sent: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, would_send: _Optional[bool] = ..., reasons: _Optional[_Iterable[str]] = ..., notices_sent: _Optional[_Iterable[str]] = ...) -> None: ...
