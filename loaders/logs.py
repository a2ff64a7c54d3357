"""Logs of a command, through the standard `logging` module: `[step] message` lines for the
person reading a terminal or a cron mail, JSON lines for a log system.

Modules log with `logs.event(step, message, level=..., **fields)` (fields such as `rows=`,
`source=`, `status=` become JSON keys) or with `logging.getLogger(__name__)`; each call
says its level. While a command runs under `capture()`, the `loaders` logger writes text to
the terminal and JSON objects (ts, level, run_id, command, step, source, rows, message and
the fields) to `<log_dir>/windfarm-elt.jsonl`; with `--log-json` (or
WINDFARM_LOG_FORMAT=json) stdout carries the JSON lines instead of the text. dlt's warnings
also go to the JSON file (dlt shows them on the terminal itself).

Secrets never reach a log: a filter masks the values of the secret settings and the
password of any URL before any handler formats a record. A log file that cannot be written
(disk full, permissions) is reported once on stderr and dropped: logs never fail a run.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from loaders.settings import SECRET_NAMES, Settings

LOG_FILE_NAME = "windfarm-elt.jsonl"
SOURCE_NAMES = frozenset({"sensor_db", "production_csv", "weather_api"})
_LOGGER = logging.getLogger("loaders")
_URL_PASSWORD = re.compile(r"(?P<head>://[^:/\s@]+:)[^@\s]+@")
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words

# The run the lines belong to (a backfill runs several, one after another).
_run_id: ContextVar[str | None] = ContextVar("windfarm_run_id", default=None)


@contextmanager
def run_scope(run_id: str) -> Iterator[None]:
    """The lines logged inside carry `run_id`; after, the id of the enclosing scope again
    (none outside a run: a command that starts several runs, or a test, sees no stale id)."""
    token = _run_id.set(run_id)
    try:
        yield
    finally:
        _run_id.reset(token)


def current_run() -> str | None:
    return _run_id.get()


def secret_values(settings: Settings) -> list[str]:
    """The configured secret values, longest first (so no secret is half-masked)."""
    values: set[str] = set()
    for field in fields(settings):
        if field.name in SECRET_NAMES:
            for value in str(getattr(settings, field.name) or "").split(","):
                if len(value.strip()) >= _MIN_SECRET_LENGTH:
                    values.add(value.strip())
    return sorted(values, key=len, reverse=True)


def mask(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return _URL_PASSWORD.sub(r"\g<head>***@", text)


def event(
    step: str,
    message: str,
    *,
    level: str = "info",
    stream: str = "stdout",
    **fields_: Any,
) -> None:
    """One line with structured fields: `[step] message` for people, a JSON object with the
    fields for a log system. `stream="stderr"`: the terminal's stderr in text mode."""
    _log(step, message, level=level, stream=stream, prefixed=True, fields_=fields_)


def line(step: str, text: str, *, level: str = "info") -> None:
    """A line of another program's output (dbt's), shown as it is, without `[step]`."""
    _log(step, text, level=level, stream="stdout", prefixed=False, fields_={})


def _log(
    step: str, message: str, *, level: str, stream: str, prefixed: bool, fields_: dict
) -> None:
    if not _LOGGER.handlers:  # no command set the logs up (a test, a library call): print
        print(f"[{step}] {message}" if prefixed else message, file=_stream(stream))
        return
    extra = {"step": step, "stream": stream, "prefixed": prefixed, "fields": fields_}
    _LOGGER.log(logging.getLevelName(level.upper()), message, extra=extra)


def _stream(name: str) -> IO[str]:
    return sys.stderr if name == "stderr" else sys.stdout


def output(text: str) -> None:
    """A command's answer (what `status` shows): to stdout as it is, not a log line."""
    print(text, flush=True)


def log_file(settings: Settings) -> Path | None:
    return Path(settings.log_dir) / LOG_FILE_NAME if settings.log_dir else None


def _step_of(record: logging.LogRecord) -> str:
    """The step a record belongs to: given by `event`, else the source or module that logged
    it (`loaders.sources.sensor_db.load` -> sensor_db), else the library (dlt, urllib3)."""
    step = getattr(record, "step", None)
    if step:
        return str(step)
    parts = record.name.split(".")
    if parts[0] != "loaders":
        return parts[0]
    return next((part for part in parts if part in SOURCE_NAMES), parts[-1])


class MaskSecrets(logging.Filter):
    """Masks secrets (and URL passwords) in the message and the fields of a record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def add(self, secret: str) -> None:
        if secret and secret not in self.secrets:
            self.secrets.append(secret)
            self.secrets.sort(key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = mask(record.getMessage(), self.secrets), None
        if getattr(record, "fields", None):
            record.fields = {
                key: json.loads(mask(json.dumps(value, default=str), self.secrets))
                for key, value in record.fields.items()
            }
        return True


class RunContext(logging.Filter):
    """Adds the run (from its context variable) and the command to each record."""

    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = _run_id.get()
        record.command = self.command
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = dict(getattr(record, "fields", None) or {})
        step = _step_of(record)
        document: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "run_id": getattr(record, "run_id", None),
            "command": getattr(record, "command", None),
            "step": step,
            "source": extra.pop("source", None) or (step if step in SOURCE_NAMES else None),
            "rows": extra.pop("rows", None),
            "message": record.getMessage(),
            **extra,
        }
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if getattr(record, "prefixed", True):
            text = f"[{_step_of(record)}] {text}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class ConsoleHandler(logging.StreamHandler):
    """stdout, or stderr for the records logged with `stream="stderr"` (text mode only)."""

    def __init__(self, stdout: IO[str], stderr: IO[str], *, json_stdout: bool) -> None:
        super().__init__(stdout)
        self.stdout, self.stderr, self.json_stdout = stdout, stderr, json_stdout
        self.setFormatter(JsonFormatter() if json_stdout else TextFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        to_stderr = not self.json_stdout and getattr(record, "stream", "") == "stderr"
        self.stream = self.stderr if to_stderr else self.stdout
        super().emit(record)


class JsonFileHandler(logging.FileHandler):
    """The JSON-lines file; on a write error it says so once on stderr and stops writing."""

    def __init__(self, path: Path, stderr: IO[str]) -> None:
        self.stderr = stderr
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path, mode="a", encoding="utf-8")
        self.setFormatter(JsonFormatter())
        self.dropped = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.dropped:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        self.dropped = True
        _warn_file_dropped(self.stderr, Path(self.baseFilename), sys.exc_info()[1])
        try:
            self.close()
        except OSError:
            pass


def _warn_file_dropped(stderr: IO[str], path: Path, error: BaseException | None) -> None:
    stderr.write(
        f"warning: cannot write the JSON log file {path}: {error}; continuing without it\n"
    )
    stderr.flush()


class LibraryHandler(logging.Handler):
    """dlt logs to a logger of its own that does not propagate, and makes the first handler
    it finds there its terminal one: this handler hands dlt's warnings to ours, the JSON
    file always, the terminal's stderr only when dlt has no terminal handler of its own."""

    def __init__(
        self, library: logging.Logger, console: logging.Handler, file: logging.Handler | None
    ) -> None:
        super().__init__(logging.WARNING)
        self.library, self.console, self.file = library, console, file

    def emit(self, record: logging.LogRecord) -> None:
        record.stream = "stderr"
        has_terminal = any(handler is not self for handler in self.library.handlers)
        for target in (self.file,) if has_terminal else (self.console, self.file):
            if target is not None:
                target.handle(record)


@contextmanager
def capture(
    settings: Settings, *, json_stdout: bool, command: str, stdout_is_data: bool = False
) -> Iterator[None]:
    """Set the logs of one command up (see the module doc), and take them down after.
    `stdout_is_data`: the command prints a document on stdout (`--json`), so its log lines
    go to stderr and the document stays parseable."""
    filters = (MaskSecrets(secret_values(settings)), RunContext(command))
    lines_out = sys.stderr if stdout_is_data else sys.stdout
    console = ConsoleHandler(lines_out, sys.stderr, json_stdout=json_stdout)
    handlers: list[logging.Handler] = [console]
    path = log_file(settings)
    file_handler: JsonFileHandler | None = None
    if path is not None:
        try:
            file_handler = JsonFileHandler(path, sys.stderr)
            handlers.append(file_handler)
        except OSError as error:
            _warn_file_dropped(sys.stderr, path, error)
    for handler in handlers:
        for filter_ in filters:
            handler.addFilter(filter_)
        _LOGGER.addHandler(handler)
    dlt_logger = logging.getLogger("dlt")
    library = LibraryHandler(dlt_logger, console, file_handler)
    dlt_logger.addHandler(library)
    previous_level = _LOGGER.level
    _LOGGER.setLevel(logging.INFO)
    run = _run_id.set(None)
    try:
        yield
    finally:
        _run_id.reset(run)
        _LOGGER.setLevel(previous_level)
        dlt_logger.removeHandler(library)
        for handler in handlers:
            _LOGGER.removeHandler(handler)
            handler.close()
