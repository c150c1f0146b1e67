"""One gRPC server bootstrap for every service: health, reflection, Prometheus metrics,
errors with field details, and a graceful stop on SIGTERM."""

from __future__ import annotations

import time
from concurrent import futures
from typing import Any, Callable, Iterable, NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status
from prometheus_client import Counter, Histogram

RPC_LATENCY = Histogram(
    "casestream_grpc_server_handling_seconds", "gRPC handling time",
    ["service", "method"], buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)
RPC_TOTAL = Counter("casestream_grpc_server_handled_total", "gRPC calls handled", ["service", "method", "code"])


class _Timer:
    """The metrics of one method, label children resolved once."""

    __slots__ = ("service", "method", "latency", "ok")

    def __init__(self, service: str, method: str) -> None:
        self.service, self.method = service, method
        self.latency = RPC_LATENCY.labels(service, method)
        self.ok = RPC_TOTAL.labels(service, method, "OK")

    def done(self, start: float, code: str) -> None:
        self.latency.observe(time.perf_counter() - start)
        (self.ok if code == "OK" else RPC_TOTAL.labels(self.service, self.method, code)).inc()


def _instrument(handler: grpc.RpcMethodHandler, service: str, method: str) -> grpc.RpcMethodHandler:
    """Time and count a unary method. Wrapped once, at registration: a server interceptor
    would build a new handler and closure for every call."""
    if handler.unary_unary is None:
        return handler
    inner = handler.unary_unary
    timer = _Timer(service, method)

    def timed(request: Any, context: grpc.ServicerContext) -> Any:
        start = time.perf_counter()
        code = "OK"
        try:
            return inner(request, context)
        except Exception:
            code = "ERROR"
            raise
        finally:
            c = context.code()  # set by abort / set_code
            if c is not None and c != grpc.StatusCode.OK:
                code = c.name
            timer.done(start, code)

    return grpc.unary_unary_rpc_method_handler(
        timed, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer)


class _InstrumentedGeneric(grpc.GenericRpcHandler):
    def __init__(self, inner: grpc.GenericRpcHandler) -> None:
        self._inner = inner
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        h = self._handlers.get(details.method)
        if h is None:
            h = self._inner.service(details)
            if h is None:  # not ours (unknown names are not kept)
                return None
            _, service, method = details.method.split("/")
            h = self._handlers[details.method] = _instrument(h, service, method)
        return h


class _Registrar:
    """The server as `register` and the generated add_*_to_server functions see it: every
    handler is instrumented on its way in."""

    def __init__(self, server: grpc.Server) -> None:
        self._server = server

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        self._server.add_generic_rpc_handlers(tuple(_InstrumentedGeneric(h) for h in handlers))

    def add_registered_method_handlers(self, service: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        self._server.add_registered_method_handlers(
            service, {m: _instrument(h, service, m) for m, h in handlers.items()})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


def abort_invalid(context: grpc.ServicerContext, field: str, description: str, code: str = "INVALID_ARGUMENT") -> NoReturn:
    """Abort with INVALID_ARGUMENT and a google.rpc.BadRequest naming the field."""
    bad = error_details_pb2.BadRequest(field_violations=[
        error_details_pb2.BadRequest.FieldViolation(field=field, description=description, reason=code)
    ])
    detail = any_pb2.Any()
    detail.Pack(bad)
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=f"{field}: {description}", details=[detail])
    context.abort_with_status(rpc_status.to_status(status))
    raise AssertionError("unreachable")


def require(context: grpc.ServicerContext, value: Any, field: str, what: str = "is required") -> None:
    if not value:
        abort_invalid(context, field, what)


class GrpcServer:
    """A started gRPC server with health and reflection; `stop` drains in-flight calls."""

    def __init__(
        self, register: Callable[[grpc.Server], Iterable[str]], *, host: str, port: int,
        max_workers: int = 16,
    ) -> None:
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers),
            options=[("grpc.max_receive_message_length", 4 * 1024 * 1024), ("grpc.so_reuseport", 0)],
        )
        registrar: Any = _Registrar(self.server)
        names = list(register(registrar))
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, registrar)
        self.service_names = names
        # grpc's HealthServicer answers SERVING for "" from creation; a process is not ready
        # until its state is recovered, so every name starts NOT_SERVING.
        self.set_serving(False)
        reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server)
        self.port = self.server.add_insecure_port(f"{host}:{port}")
        if self.port == 0:
            raise RuntimeError(f"could not bind gRPC to {host}:{port}")

    def start(self) -> "GrpcServer":
        self.server.start()
        return self

    def set_serving(self, serving: bool = True) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ["", *self.service_names]:
            self.health.set(name, status)

    def stop(self, grace: float = 5.0) -> None:
        self.set_serving(False)
        self.server.stop(grace).wait(grace + 1)


def start_metrics(port: int) -> None:
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, addr="127.0.0.1")
