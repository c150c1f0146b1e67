import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CaseEvent(_message.Message):
    __slots__ = ("case_id", "sequence", "prev_hash", "event_id", "source", "type", "account_id", "time", "sequenced_at", "extensions", "redactions", "inbound_partition", "inbound_offset", "case_opened", "case_reopened", "case_closed", "contact_logged", "note_added", "account_holder_changed", "promise_made", "promise_fulfilled", "handoff_requested", "regulatory_complaint_filed", "charge_posted", "payment_received", "payment_evidence_submitted", "dispute_opened", "json")
    class ExtensionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    SEQUENCED_AT_FIELD_NUMBER: _ClassVar[int]
    EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    REDACTIONS_FIELD_NUMBER: _ClassVar[int]
    INBOUND_PARTITION_FIELD_NUMBER: _ClassVar[int]
    INBOUND_OFFSET_FIELD_NUMBER: _ClassVar[int]
    CASE_OPENED_FIELD_NUMBER: _ClassVar[int]
    CASE_REOPENED_FIELD_NUMBER: _ClassVar[int]
    CASE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    CONTACT_LOGGED_FIELD_NUMBER: _ClassVar[int]
    NOTE_ADDED_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_HOLDER_CHANGED_FIELD_NUMBER: _ClassVar[int]
    PROMISE_MADE_FIELD_NUMBER: _ClassVar[int]
    PROMISE_FULFILLED_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    REGULATORY_COMPLAINT_FILED_FIELD_NUMBER: _ClassVar[int]
    CHARGE_POSTED_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_EVIDENCE_SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    DISPUTE_OPENED_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    sequence: int
    prev_hash: bytes
    event_id: str
    source: str
    type: str
    account_id: str
    time: _timestamp_pb2.Timestamp
    sequenced_at: _timestamp_pb2.Timestamp
    extensions: _containers.ScalarMap[str, str]
    redactions: _containers.RepeatedCompositeFieldContainer[Redaction]
    inbound_partition: int
    inbound_offset: int
    case_opened: CaseOpened
    case_reopened: CaseReopened
    case_closed: CaseClosed
    contact_logged: ContactLogged
    note_added: NoteAdded
    account_holder_changed: AccountHolderChanged
    promise_made: PromiseMade
    promise_fulfilled: PromiseFulfilled
    handoff_requested: HandoffRequested
    regulatory_complaint_filed: RegulatoryComplaintFiled
    charge_posted: ChargePosted
    payment_received: PaymentReceived
    payment_evidence_submitted: PaymentEvidenceSubmitted
    dispute_opened: DisputeOpened
    json: JsonPayload
    def __init__(self, case_id: _Optional[str] = ..., sequence: _Optional[int] = ..., prev_hash: _Optional[bytes] = ..., event_id: _Optional[str] = ..., source: _Optional[str] = ..., type: _Optional[str] = ..., account_id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sequenced_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., extensions: _Optional[_Mapping[str, str]] = ..., redactions: _Optional[_Iterable[_Union[Redaction, _Mapping]]] = ..., inbound_partition: _Optional[int] = ..., inbound_offset: _Optional[int] = ..., case_opened: _Optional[_Union[CaseOpened, _Mapping]] = ..., case_reopened: _Optional[_Union[CaseReopened, _Mapping]] = ..., case_closed: _Optional[_Union[CaseClosed, _Mapping]] = ..., contact_logged: _Optional[_Union[ContactLogged, _Mapping]] = ..., note_added: _Optional[_Union[NoteAdded, _Mapping]] = ..., account_holder_changed: _Optional[_Union[AccountHolderChanged, _Mapping]] = ..., promise_made: _Optional[_Union[PromiseMade, _Mapping]] = ..., promise_fulfilled: _Optional[_Union[PromiseFulfilled, _Mapping]] = ..., handoff_requested: _Optional[_Union[HandoffRequested, _Mapping]] = ..., regulatory_complaint_filed: _Optional[_Union[RegulatoryComplaintFiled, _Mapping]] = ..., charge_posted: _Optional[_Union[ChargePosted, _Mapping]] = ..., payment_received: _Optional[_Union[PaymentReceived, _Mapping]] = ..., payment_evidence_submitted: _Optional[_Union[PaymentEvidenceSubmitted, _Mapping]] = ..., dispute_opened: _Optional[_Union[DisputeOpened, _Mapping]] = ..., json: _Optional[_Union[JsonPayload, _Mapping]] = ...) -> None: ...

class Redaction(_message.Message):
    __slots__ = ("field", "kind", "token")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    field: str
    kind: str
    token: str
    def __init__(self, field: _Optional[str] = ..., kind: _Optional[str] = ..., token: _Optional[str] = ...) -> None: ...

class JsonPayload(_message.Message):
    __slots__ = ("data_json",)
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    data_json: str
    def __init__(self, data_json: _Optional[str] = ...) -> None: ...

class CaseOpened(_message.Message):
    __slots__ = ("account", "opened_by", "extra_json")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    OPENED_BY_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    account: str
    opened_by: str
    extra_json: str
    def __init__(self, account: _Optional[str] = ..., opened_by: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...

class CaseReopened(_message.Message):
    __slots__ = ("by", "reason", "extra_json")
    BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    by: str
    reason: str
    extra_json: str
    def __init__(self, by: _Optional[str] = ..., reason: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...

class CaseClosed(_message.Message):
    __slots__ = ("by", "resolution", "extra_json")
    BY_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    by: str
    resolution: str
    extra_json: str
    def __init__(self, by: _Optional[str] = ..., resolution: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...

class ContactLogged(_message.Message):
    __slots__ = ("channel", "direction", "agent", "summary", "extra_json")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    channel: str
    direction: str
    agent: str
    summary: str
    extra_json: str
    def __init__(self, channel: _Optional[str] = ..., direction: _Optional[str] = ..., agent: _Optional[str] = ..., summary: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...

class NoteAdded(_message.Message):
    __slots__ = ("author", "text", "extra_json")
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    author: str
    text: str
    extra_json: str
    def __init__(self, author: _Optional[str] = ..., text: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...

class AccountHolderChanged(_message.Message):
    __slots__ = ("new_holder", "reason", "extra_json")
    NEW_HOLDER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    new_holder: str
    reason: str
    extra_json: str
    def __init__(self, new_holder: _Optional[str] = ..., reason: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...

class PromiseMade(_message.Message):
    __slots__ = ("promised_by", "what", "due", "extra_json")
    PROMISED_BY_FIELD_NUMBER: _ClassVar[int]
    WHAT_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    promised_by: str
    what: str
    due: _timestamp_pb2.Timestamp
    extra_json: str
    def __init__(self, promised_by: _Optional[str] = ..., what: _Optional[str] = ..., due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., extra_json: _Optional[str] = ...) -> None: ...

class PromiseFulfilled(_message.Message):
    __slots__ = ("promise_ref", "extra_json")
    PROMISE_REF_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    promise_ref: str
    extra_json: str
    def __init__(self, promise_ref: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...

class HandoffRequested(_message.Message):
    __slots__ = ("to_queue", "by", "reason", "extra_json")
    TO_QUEUE_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    to_queue: str
    by: str
    reason: str
    extra_json: str
    def __init__(self, to_queue: _Optional[str] = ..., by: _Optional[str] = ..., reason: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...

class RegulatoryComplaintFiled(_message.Message):
    __slots__ = ("regulator", "reference", "extra_json")
    REGULATOR_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    regulator: str
    reference: str
    extra_json: str
    def __init__(self, regulator: _Optional[str] = ..., reference: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...

class ChargePosted(_message.Message):
    __slots__ = ("reference", "amount_minor", "currency", "due", "extra_json")
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    reference: str
    amount_minor: int
    currency: str
    due: _timestamp_pb2.Timestamp
    extra_json: str
    def __init__(self, reference: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., extra_json: _Optional[str] = ...) -> None: ...

class PaymentReceived(_message.Message):
    __slots__ = ("reference", "amount_minor", "currency", "extra_json")
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    reference: str
    amount_minor: int
    currency: str
    extra_json: str
    def __init__(self, reference: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...

class PaymentEvidenceSubmitted(_message.Message):
    __slots__ = ("kind", "reference", "amount_minor", "currency", "extra_json")
    KIND_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    kind: str
    reference: str
    amount_minor: int
    currency: str
    extra_json: str
    def __init__(self, kind: _Optional[str] = ..., reference: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...

class DisputeOpened(_message.Message):
    __slots__ = ("reference", "reason", "extra_json")
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    reference: str
    reason: str
    extra_json: str
    def __init__(self, reference: _Optional[str] = ..., reason: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...
