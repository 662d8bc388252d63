"""Bootstrap of ftb-offline's Python Lambda runtime (python3.9 and later), standard library only.

It does what AWS's runtime interface client (awslambdaric, github.com/aws/aws-lambda-python-runtime-interface-client)
does in the managed Python runtimes: import the handler named by `_HANDLER` once, then loop on the Lambda Runtime
API at `http://$AWS_LAMBDA_RUNTIME_API/2018-06-01`:

    GET  /runtime/invocation/next          -> event (body) + Lambda-Runtime-* headers
    POST /runtime/invocation/{id}/response <- the handler's result (JSON, or bytes as they are)
    POST /runtime/invocation/{id}/error    <- {"errorMessage","errorType","requestId","stackTrace"}
    POST /runtime/init/error               <- the same document when the handler cannot be loaded; then exit(1)

The emulator starts `python3 <dir>/bootstrap.py` with cwd = LAMBDA_TASK_ROOT and the Lambda environment
(_HANDLER, AWS_LAMBDA_*, AWS_EXECUTION_ENV, PYTHONPATH ...), one process per execution environment and one
invocation at a time. stdout/stderr lines become the invocation's log lines. A non-200 answer to /next (the
emulator is stopping this environment) or a vanished Runtime API ends the process quietly with status 0.
"""

import decimal
import http.client
import importlib
import json
import logging
import os
import re
import sys
import time
import traceback

RUNTIME_PATH = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
# awslambdaric lambda_literals.py: logged before an init error is reported.
UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, in rare "
    "cases, a Lambda runtime update can cause unexpected function behavior. For functions using managed runtimes, "
    "runtime updates can be triggered by a function change, or can be applied automatically. To determine if the "
    "runtime has been updated, check the runtime version in the INIT_START log entry. If this error correlates with a "
    "change in the runtime version, you may be able to mitigate this error by temporarily rolling back to the previous "
    "runtime version. For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)
JSON_LOGS = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"
_request_id = None  # for log records: "" until the first invocation, then the latest one (as awslambdaric)
_tenant_id = None


class Fault(Exception):
    """A runtime-detected error with a fixed `Runtime.*` type (awslambdaric lambda_runtime_exception.py)."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace


# ---------------------------------------------------------------- Runtime API client


class RuntimeApi:
    """One persistent HTTP/1.1 connection to the Runtime API, reopened once when it turns out to be dead."""

    def __init__(self, address):
        self.address, self.conn = address, None

    def call(self, method, path, body=None, headers=None):
        while True:
            fresh = self.conn is None
            if fresh:
                # timeout=None explicitly: /next must never time out, whatever socket.setdefaulttimeout()
                # the user's code set.
                self.conn = http.client.HTTPConnection(self.address, timeout=None)
            try:
                self.conn.request(method, RUNTIME_PATH + path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, response.headers, response.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if fresh:
                    raise

    def post(self, path, body, headers):
        """False when the Runtime API is gone. A non-2xx answer (413, an id that timed out) needs nothing from
        us: the emulator has already settled the invocation."""
        try:
            self.call("POST", path, body, headers)
            return True
        except (OSError, http.client.HTTPException):
            return False


# ---------------------------------------------------------------- marshalling


def _ensure_ascii():
    # awslambdaric lambda_runtime_marshaller.py: python3.12 and later emit non-ASCII characters raw, older
    # runtimes escape them (\uXXXX). Parsed rather than listed so that newer runtimes keep the newer behaviour.
    match = re.fullmatch(r"AWS_Lambda_python3\.(\d+)", os.environ.get("AWS_EXECUTION_ENV", ""))
    return not (match and int(match.group(1)) >= 12)


ENSURE_ASCII = _ensure_ascii()


class _Encoder(json.JSONEncoder):
    """awslambdaric encodes with simplejson: a Decimal becomes the raw number `str(d)` (NaN as NaN), and bytes
    inside a structure are decoded as UTF-8. The standard library cannot emit a raw number, so a Decimal is
    encoded as a placeholder string carrying a random nonce, and `to_json` swaps each placeholder for the
    Decimal's exact text: no float rounding, and the C encoder still does the rest."""

    def __init__(self):
        super().__init__(ensure_ascii=ENSURE_ASCII, allow_nan=True)
        self.numbers = []
        self.token = "__ftb_decimal_%s_" % os.urandom(8).hex()

    def default(self, o):
        if isinstance(o, decimal.Decimal):
            self.numbers.append("NaN" if o.is_nan() else str(o))
            return "%s%d" % (self.token, len(self.numbers) - 1)
        if isinstance(o, bytes):
            return o.decode("utf-8")
        return super().default(o)


def to_json(value):
    encoder = _Encoder()
    text = encoder.encode(value)
    if encoder.numbers:
        text = re.sub('"%s(\\d+)"' % encoder.token, lambda m: encoder.numbers[int(m.group(1))], text)
    return text


def marshal_response(result):
    if isinstance(result, bytes):
        return result, "application/unknown"  # awslambdaric lambda_runtime_marshaller.py: bytes go as they are
    try:
        return to_json(result).encode("utf-8"), "application/json"
    except Exception as e:
        raise Fault("Runtime.MarshalError", "Unable to marshal response: %s" % e)


def unmarshal_event(body, content_type):
    # awslambdaric only decodes application/json (Lambda always sends it); a missing header is taken as JSON too.
    if content_type and content_type != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as e:
        raise Fault("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)


# ---------------------------------------------------------------- context (awslambdaric lambda_context.py)


class _Record:
    __slots__ = ()

    def __init__(self, fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    def __repr__(self):  # same shape as awslambdaric: Name([a=1,b=2])
        return "%s([%s])" % (type(self).__name__, ",".join("%s=%s" % (n, getattr(self, n)) for n in self.__slots__))


class CognitoIdentity(_Record):
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")


class Client(_Record):
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")


class ClientContext(_Record):
    __slots__ = ("custom", "env", "client")


def _parse_header(value, name):
    try:
        return json.loads(value)
    except Exception as e:
        raise Fault("Runtime.LambdaContextUnmarshalError", "Unable to parse %s JSON: %s" % (name, e))


class LambdaContext:
    FIELDS = ("aws_request_id", "log_group_name", "log_stream_name", "function_name", "memory_limit_in_mb",
              "function_version", "invoked_function_arn", "client_context", "identity", "tenant_id")

    def __init__(self, headers):
        env = os.environ.get
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        self.log_group_name = env("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")  # a string, as on AWS
        self.function_version = env("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.tenant_id = headers.get("Lambda-Runtime-Aws-Tenant-Id") or None
        self.client_context = None
        client_context = headers.get("Lambda-Runtime-Client-Context")
        if client_context:
            fields = _parse_header(client_context, "Client Context")
            if fields is not None:
                self.client_context = ClientContext(fields)
                if self.client_context.client is not None:
                    self.client_context.client = Client(self.client_context.client)
        self.identity = CognitoIdentity({})  # always present, fields None without the header
        identity = headers.get("Lambda-Runtime-Cognito-Identity")
        if identity:
            fields = _parse_header(identity, "Cognito Identity")
            if fields is not None:
                self.identity.cognito_identity_id = fields.get("cognitoIdentityId")
                self.identity.cognito_identity_pool_id = fields.get("cognitoIdentityPoolId")
        try:
            self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)
        except ValueError:
            self._deadline_ms = 0

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg):
        sys.stdout.write(str(msg))  # no newline added, as awslambdaric

    def __repr__(self):
        return "LambdaContext([%s])" % ",".join("%s=%s" % (n, getattr(self, n)) for n in self.FIELDS)


# ---------------------------------------------------------------- logging (awslambdaric bootstrap.py, log utils)


class _Unbuffered:
    """stdout/stderr flushed on every write, so output reaches the emulator at once (awslambdaric bootstrap.py
    wraps both streams the same way; print() output itself is left unchanged)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        n = self._stream.write(text)
        self._stream.flush()
        return n

    def writelines(self, lines):
        self._stream.writelines(lines)
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _JsonFormatter(logging.Formatter):
    # awslambdaric lambda_runtime_log_utils.py: these record attributes are not copied into the JSON object.
    RESERVED = {"name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info",
                "exc_text", "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread",
                "threadName", "processName", "process", "aws_request_id", "tenant_id", "_frame_type"}

    def __init__(self):
        super().__init__(datefmt="%Y-%m-%dT%H:%M:%SZ")  # no milliseconds in JSON mode, as awslambdaric

    def format(self, record):
        exc = record.exc_info
        fields = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": logging.getLevelName(min(50, max(0, record.levelno)) // 10 * 10),
            "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc[2]) if exc else None,
            "errorType": exc[0].__name__ if exc else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": "%s:%s:%s" % (record.pathname, record.funcName, record.lineno) if exc else None,
            "tenantId": getattr(record, "tenant_id", None),
        }
        fields.update((k, v) for k, v in record.__dict__.items() if k not in self.RESERVED and k not in fields)
        return json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=False)


class _LambdaHandler(logging.Handler):
    def emit(self, record):
        try:
            # awslambdaric ends the text format with "\n" (after which a traceback would follow without one);
            # the newline is added here instead so that every record ends its line.
            sys.stdout.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def _add_request_id(record):
    record.aws_request_id = _request_id or ""
    record.tenant_id = _tenant_id
    return True


def setup_logging():
    logging.Formatter.converter = time.gmtime  # process-wide, as awslambdaric does
    handler = _LambdaHandler()
    if JSON_LOGS:
        handler.setFormatter(_JsonFormatter())
    else:
        fmt = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s"
        handler.setFormatter(logging.Formatter(fmt, "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_add_request_id)
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:  # awslambdaric _get_log_level_from_env_var: TRACE means DEBUG, unknown names are ignored
        level = ("DEBUG" if level == "TRACE" else level).upper()
        if isinstance(logging.getLevelName(level), int):
            root.setLevel(level)


def log_error(error):
    """One record for an error, as awslambdaric's log_error: in text mode its lines are joined with "\\r" (so it
    stays one log line) and the leading spaces of traceback lines become NO-BREAK SPACEs."""
    if JSON_LOGS:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        sys.stdout.write(to_json(dict({"timestamp": stamp, "log_level": "ERROR"}, **error)) + "\n")
        return
    described = ": ".join(part for part in (error["errorType"], error["errorMessage"]) if part)
    lines = ["[ERROR] " + described if described else "[ERROR]", "Traceback (most recent call last):"]
    for element in error["stackTrace"]:
        for line in element.splitlines() or [""]:
            stripped = line.lstrip(" ")
            lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    sys.stdout.write("\r".join(lines) + "\n")


# ---------------------------------------------------------------- errors and the handler


def make_error(message, error_type, stack_trace, request_id=""):
    return {"errorMessage": message or "", "errorType": error_type or "", "requestId": request_id or "",
            "stackTrace": stack_trace or []}


def error_from_exception(exc, request_id=""):
    frames = traceback.extract_tb(exc.__traceback__)
    # awslambdaric bootstrap.py drops the leading frames of the bootstrap itself (all kept if there is no other).
    for i, frame in enumerate(frames):
        if frame.filename != _OWN_FILE:
            frames = frames[i:]
            break
    # Plain 4-tuples as awslambdaric, so Python 3.11+ prints no ^^^^ column markers.
    stack = traceback.format_list([(f.filename, f.lineno, f.name, f.line) for f in frames])
    return make_error(str(exc), type(exc).__name__, stack, request_id)


def load_handler(spec):
    """awslambdaric bootstrap.py _get_handler: the LAST dot separates the function from the module path."""
    try:
        modname, fname = spec.rsplit(".", 1)
    except ValueError as e:
        raise Fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (spec, e))
    # Checked on the name before "/" becomes ".", exactly as awslambdaric does.
    if modname.split(".")[0] in sys.builtin_module_names:
        raise Fault("Runtime.BuiltInModuleConflict", "Cannot use built-in module %s as a handler module" % modname)
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise Fault("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise Fault("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e), trace)
    try:
        return getattr(module, fname)
    except AttributeError:
        raise Fault("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))


def fix_sys_path(task_root):
    """python puts this script's folder first on sys.path; the code folder takes its place (awslambdaric runs as
    `python -m awslambdaric` from /var/task, which puts the task root first)."""
    own_dir = os.path.realpath(os.path.dirname(os.path.abspath(__file__)))
    sys.path[:] = [p for p in sys.path if not p or os.path.realpath(p) != own_dir]
    if not sys.path or os.path.abspath(sys.path[0]) != os.path.abspath(task_root):  # PYTHONPATH may start with it
        sys.path.insert(0, task_root)


def init_failed(api, error):
    logging.warning(UNHANDLED_WARNING)
    log_error(error)
    body = to_json(error).encode("utf-8", "replace")
    api.post("/init/error", body, {ERROR_TYPE_HEADER: error["errorType"], "Content-Type": "application/json"})
    sys.exit(1)


def invoke(api, handler, headers, body):
    """One invocation; False when its answer could not be delivered (the Runtime API is gone)."""
    global _request_id, _tenant_id
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id") or ""
    _request_id, _tenant_id = request_id, headers.get("Lambda-Runtime-Aws-Tenant-Id") or None
    trace_id = headers.get("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    try:
        context = LambdaContext(headers)
        event = unmarshal_event(body, headers.get("Content-Type"))
        payload, content_type = marshal_response(handler(event, context))
        return api.post("/invocation/%s/response" % request_id, payload, {"Content-Type": content_type})
    except Fault as e:
        error = make_error(e.message, e.error_type, e.trace, request_id)
    except Exception as e:
        error = error_from_exception(e, request_id)
    log_error(error)
    # awslambdaric sends no error-type header here (its C++ client omits it); the emulator reads the body's
    # errorType first, and the header is what the Runtime API documentation recommends.
    headers = {ERROR_TYPE_HEADER: error["errorType"], "Content-Type": "application/json"}
    return api.post("/invocation/%s/error" % request_id, to_json(error).encode("utf-8", "replace"), headers)


def main():
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if hasattr(stream, "reconfigure") and stream.encoding.lower().replace("-", "") != "utf8":
            stream.reconfigure(encoding="utf-8")
        setattr(sys, name, _Unbuffered(stream))
    fix_sys_path(os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd())
    api = RuntimeApi(os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"))
    try:
        setup_logging()
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Fault as e:
        init_failed(api, make_error(e.message, e.error_type, e.trace))
    except Exception as e:
        init_failed(api, error_from_exception(e))
    while True:
        try:
            status, headers, body = api.call("GET", "/invocation/next")
        except (OSError, http.client.HTTPException):
            sys.exit(0)  # the Runtime API is gone: the environment is being stopped
        if status != 200:
            sys.exit(0)  # Lambda: on an error from /next the runtime should exit promptly
        # A post that failed (a response over the size limit closes the connection mid-upload) settled the
        # invocation on the emulator's side; only a failing /next means the environment is being stopped.
        invoke(api, handler, headers, body)


_OWN_FILE = main.__code__.co_filename  # how this file's frames are named in tracebacks

if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C in the emulator's terminal reaches its children too: no traceback
        sys.exit(130)
