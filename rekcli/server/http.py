"""The HTTP front: stdlib ThreadingHTTPServer, hardened (keep-alive, no Nagle, bounded bodies,
JSON errors), dispatching `X-Amz-Target` to the service layer."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rekcli.server import protocol
from rekcli.server.protocol import FrontDoorError

# CompareFaces carries two base64 images of up to 5 MiB each: ~14 MB is a legal body.
MAX_BODY_BYTES = 16 * 1024 * 1024
_DISCARD_CHUNK = 1 << 16
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "[::1]"}


class RekognitionServer(ThreadingHTTPServer):
    daemon_threads = True
    # ThreadingMixIn starts a thread per connection without limit; past this many live
    # connections a new one is answered ThrottlingException and closed.
    max_connections = 64

    def __init__(self, address, *, pool, data_dir, default_region: str, log_requests: bool,
                 max_body: int = MAX_BODY_BYTES, verifier=None):
        super().__init__(address, RekognitionHandler)
        self.pool = pool
        self.data_dir = data_dir
        self.default_region = default_region
        self.log_requests = log_requests
        self.max_body = max_body
        self.verifier = verifier
        host = address[0]
        self.in_flight = 0
        self.connections = threading.BoundedSemaphore(self.max_connections)
        self.idle = threading.Condition()
        self.loopback_only = host in ("localhost", "::1") or host.startswith("127.")


    def process_request(self, request, client_address):
        if not self.connections.acquire(blocking=False):
            body = protocol.encode_error("ThrottlingException", "Too many connections")
            try:
                request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: "
                                + protocol.CONTENT_TYPE.encode()
                                + b"\r\nx-amzn-ErrorType: ThrottlingException\r\n"
                                + b"Connection: close\r\nContent-Length: "
                                + str(len(body)).encode() + b"\r\n\r\n" + body)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()


class RekognitionHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: boto3 reuses its connection
    disable_nagle_algorithm = True  # with Nagle each call waits ~40 ms for a delayed ACK
    timeout = 30  # an idle keep-alive connection frees its thread
    server_version = "rekcli"
    sys_version = ""

    def do_POST(self):
        with self.server.idle:
            self.server.in_flight += 1
        try:
            self._answer()
        finally:
            with self.server.idle:
                self.server.in_flight -= 1
                self.server.idle.notify_all()

    def _answer(self):
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        operation_name = "-"
        try:
            body = self._read_body()
            self._check_host()
            if self.path.split("?")[0] != "/":
                raise FrontDoorError("UnknownOperationException", "")
            operation_name = protocol.operation_from_target(self.headers.get("X-Amz-Target"))
            if self.server.verifier is not None:
                self.server.verifier.check(self.command, self.path, self.headers, body)
            request = protocol.parse_request(operation_name, body)
            region = (protocol.region_from_authorization(self.headers.get("Authorization"))
                      or self.server.default_region)
            status, payload, code = 200, protocol.encode_response(
                self._invoke(operation_name, request, region, body)), None
        except FrontDoorError as error:
            status, code = error.status, error.code
            payload = protocol.encode_error(code, error.message,
                                            lower_case_message=getattr(error, "lower", False))
        except Exception as error:  # noqa: BLE001 - every failure must become an AWS error
            status, payload, code = self._service_error(error)
        self._send(status, payload, request_id, code)
        if self.server.log_requests:
            sys.stderr.write(f"{self.address_string()} {operation_name} {status} "
                             f"{code or 'OK'} {1000 * (time.monotonic() - started):.1f}ms "
                             f"{request_id}\n")

    def _check_host(self) -> None:
        """On a loopback bind only loopback names are served: a web page whose DNS name is
        rebound to 127.0.0.1 sends its own name as Host, and is refused here."""
        if not self.server.loopback_only:
            return
        host = (self.headers.get("Host") or "").strip().lower()
        name = host.rpartition("]")[0] + "]" if host.startswith("[") else host.partition(":")[0]
        if name not in LOOPBACK_NAMES:
            raise FrontDoorError("AccessDeniedException",
                                 f"Host {host!r} is not served here; use 127.0.0.1, localhost "
                                 f"or [::1].", 403)

    def _invoke(self, operation_name: str, request: dict, region: str, body: bytes) -> dict:
        from rekcli.server.workers import ENGINE_OPERATIONS

        if operation_name in ENGINE_OPERATIONS and self.server.pool is not None:
            import hashlib

            digest = hashlib.sha256(operation_name.encode() + b"\0" + body).hexdigest()
            # botocore numbers its attempts: "amz-sdk-request: attempt=2; max=5".
            attempt = (self.headers.get("amz-sdk-request") or "").partition("attempt=")[2]
            is_retry = attempt.partition(";")[0].strip() not in ("", "1")
            return self.server.pool.call(operation_name, request, region, self.server.data_dir,
                                         digest=digest, is_retry=is_retry)
        from rekcli.service import invoke
        from rekcli.service.context import ServiceContext

        return invoke(operation_name, request,
                      ServiceContext(region=region, data_dir=self.server.data_dir))

    def _service_error(self, error: Exception):
        from rekcli.service import OperationNotAvailable
        from rekcli.service.context import InvalidRegionError
        from rekcli.service.errors import ServiceError

        if isinstance(error, ServiceError):
            code, message = error.code, error.message
        elif isinstance(error, (InvalidRegionError, OperationNotAvailable)):
            code, message = "InvalidParameterException", str(error)
        elif isinstance(error, (KeyError, TypeError, AttributeError)):
            # A body botocore would have refused (missing or mistyped member).
            code, message = "InvalidParameterException", "Request has invalid parameters"
        else:
            import traceback

            traceback.print_exc(file=sys.stderr)
            code, message = "InternalServerError", "Internal server error"
        return protocol.error_status(code), protocol.encode_error(code, message), code

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            raise FrontDoorError("LengthRequiredException", "Content-Length is required.", 411)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise FrontDoorError("SerializationException", "Invalid Content-Length.") from None
        if length < 0:
            self.close_connection = True
            raise FrontDoorError("SerializationException", "Invalid Content-Length.")
        if length > self.server.max_body:
            self._discard(length)
            raise FrontDoorError("RequestEntityTooLargeException",
                                 f"Request body is larger than {self.server.max_body} bytes.",
                                 413)
        return self.rfile.read(length)

    def _discard(self, length: int) -> None:
        """Read an oversized body in small pieces (memory stays bounded) so the client sees
        our error instead of a reset it would retry."""
        while length > 0:
            chunk = self.rfile.read(min(length, _DISCARD_CHUNK))
            if not chunk:
                self.close_connection = True
                return
            length -= len(chunk)

    def _send(self, status: int, payload: bytes, request_id: str, code: str | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", protocol.CONTENT_TYPE)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", request_id)
        if code:
            self.send_header("x-amzn-ErrorType", code)
        self.end_headers()
        self.wfile.write(payload)

    def send_error(self, code, message=None, explain=None):
        """Malformed HTTP: a JSON error, never http.server's HTML page."""
        self.close_connection = True
        # An unparsable request line leaves http.server in HTTP/0.9 mode, which writes no
        # status line or headers; answer it as HTTP/1.1 so the client can read the error.
        self.request_version = "HTTP/1.1"
        name = "UnknownOperationException" if code in (404, 405, 501) else "SerializationException"
        status = 400 if code in (404, 405, 501) else code
        try:
            self._send(status, protocol.encode_error(name, message or ""), str(uuid.uuid4()), name)
        except OSError:
            pass

    def do_GET(self):
        self.send_error(405, "Only POST / is served.")

    do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def log_request(self, code="-", size="-"):
        """do_POST writes its own line (operation, error code, time, request id)."""

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        if self.server.log_requests:
            sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))


def stop_on_signals() -> threading.Event:
    """SIGTERM and Ctrl-C set the returned event; installed before the ready line so a
    supervisor that stops the server right after it sees the line still gets exit 0."""
    import signal

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())
    return stop


def serve_until_stopped(server: RekognitionServer, stop: threading.Event) -> None:
    """Serve until `stop` is set, then finish in-flight requests and return."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()  # no new connections are accepted from here on
        # Requests already being handled get their answers; idle keep-alive connections
        # do not count (their threads are daemons and end with the process).
        with server.idle:
            server.idle.wait_for(lambda: server.in_flight == 0, timeout=120)
        server.server_close()
