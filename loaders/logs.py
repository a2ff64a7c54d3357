"""Logs of a command: lines for the person reading a terminal or a cron mail, JSON lines for
a log system.

The pipeline reports progress by printing `[step] message` lines (the sources print, dbt's
output is streamed through `line`): that stays the one way to report, so no module needs to
know where logs go. While a command runs under `capture()`, every printed line also becomes
a JSON object (ts, level, run_id, step, source, rows, message and any extra fields), appended
to `<log_dir>/windfarm-elt.jsonl`; with `--log-json` (or WINDFARM_LOG_FORMAT=json) stdout
carries those JSON lines instead of the text. `event()` adds structured fields (rows, status)
to a line.

Secrets never reach a log: the values of the secret settings and the password of any URL
are masked in both forms. A log file that cannot be written (disk full, permissions) is
reported once on stderr and dropped: logs never fail a run.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from loaders.settings import SECRET_NAMES, Settings

LOG_FILE_NAME = "windfarm-elt.jsonl"
SOURCE_NAMES = frozenset({"sensor_db", "production_csv", "weather_api"})
_PREFIX = re.compile(r"^\[(?P<step>[\w.:-]+)\]\s?(?P<message>.*)$", re.DOTALL)
# Words that make a line an error or a warning; `WARN=0 ERROR=0` (dbt's totals) are not.
_ERROR = re.compile(r"\b(error|errors|fail|failed|failure|traceback)\b(?!=)", re.IGNORECASE)
_WARNING = re.compile(r"\b(warn|warning|refused|could not|cannot)\b(?!=)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>://[^:/\s@]+:)[^@\s]+@")
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words

_state: dict[str, Any] = {"run_id": None, "sink": None}


def set_run(run_id: str | None) -> None:
    """The run the following lines belong to (a backfill runs several, one after another)."""
    _state["run_id"] = run_id


def current_run() -> str | None:
    return _state["run_id"]


def level_of(message: str, default: str = "info") -> str:
    if _ERROR.search(message):
        return "error"
    if _WARNING.search(message):
        return "warning"
    return default


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


class _Sink:
    """Where the lines of one command go: the terminal (text or JSON) and the JSON file."""

    def __init__(
        self,
        stdout: IO[str],
        stderr: IO[str],
        *,
        json_stdout: bool,
        file_path: Path | None,
        secrets: list[str],
        command: str,
    ) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.json_stdout = json_stdout
        self.secrets = secrets
        self.command = command
        self.lock = threading.RLock()
        self.file: IO[str] | None = None
        self.file_path = file_path
        if file_path is not None:
            try:
                file_path.parent.mkdir(parents=True, exist_ok=True)
                self.file = file_path.open("a", encoding="utf-8")
            except OSError as error:
                self._drop_file(error)

    def _drop_file(self, error: OSError) -> None:
        self.stderr.write(
            f"warning: cannot write the JSON log file {self.file_path}: {error}; "
            "continuing without it\n"
        )
        self.stderr.flush()
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
        self.file = None

    def record(
        self,
        message: str,
        *,
        step: str | None,
        level: str,
        stream: str,
        prefixed: bool,
        extra: dict[str, Any],
        file_only: bool = False,
    ) -> None:
        message = mask(message.rstrip("\r\n"), self.secrets)
        source = extra.pop("source", None) or (step if step in SOURCE_NAMES else None)
        record: dict[str, Any] = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": level,
            "run_id": _state["run_id"],
            "command": self.command,
            "step": step,
            "source": source,
            "rows": extra.pop("rows", None),
            "message": message,
        }
        for key, value in extra.items():
            record[key] = json.loads(mask(json.dumps(value, default=str), self.secrets))
        line = json.dumps(record, default=str, ensure_ascii=False)
        text = f"[{step}] {message}" if (prefixed and step) else message
        with self.lock:
            if not file_only:
                target = self.stdout if (self.json_stdout or stream == "stdout") else self.stderr
                target.write((line if self.json_stdout else text) + "\n")
                target.flush()
            if self.file is not None:
                try:
                    self.file.write(line + "\n")
                    self.file.flush()
                except OSError as error:
                    self._drop_file(error)

    def close(self) -> None:
        if self.file is not None:
            try:
                self.file.close()
            except OSError as error:
                self._drop_file(error)
            self.file = None


class _LineWriter:
    """Stands in for sys.stdout/sys.stderr: cuts what is printed into lines for the sink."""

    def __init__(self, sink: _Sink, original: IO[str], stream: str) -> None:
        self._sink = sink
        self._original = original
        self._stream = stream
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self._emit(line)
        return len(text)

    def _emit(self, line: str) -> None:
        if not line.strip():
            return
        match = _PREFIX.match(line)
        step, message = (match["step"], match["message"]) if match else (None, line)
        default = "warning" if self._stream == "stderr" else "info"
        self._sink.record(
            message if match else line,
            step=step,
            level=level_of(message, default),
            stream=self._stream,
            prefixed=bool(match),
            extra={},
        )

    def flush(self) -> None:
        self._original.flush()

    def finish(self) -> None:
        if self._buffer:
            self._emit(self._buffer)
            self._buffer = ""

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._original.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._original, "encoding", "utf-8")

    def writable(self) -> bool:
        return True


class _LibraryHandler(logging.Handler):
    """dlt logs through `logging` to its own stderr handler; its warnings also belong in
    the JSON file (the terminal already shows them once)."""

    def __init__(self, sink: _Sink) -> None:
        super().__init__(logging.WARNING)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = "error" if record.levelno >= logging.ERROR else "warning"
            self._sink.record(
                record.getMessage(),
                step=record.name.split(".")[0],
                level=level,
                stream="stderr",
                prefixed=False,
                extra={},
                file_only=True,
            )
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def event(
    step: str,
    message: str,
    *,
    level: str = "info",
    stream: str = "stdout",
    **fields_: Any,
) -> None:
    """One line with structured fields (`rows=`, `source=`, `status=`…): `[step] message`
    for people, a JSON object with the fields for a log system."""
    sink: _Sink | None = _state["sink"]
    if sink is None:
        print(f"[{step}] {message}", file=sys.stderr if stream == "stderr" else sys.stdout)
        return
    sink.record(message, step=step, level=level, stream=stream, prefixed=True, extra=fields_)


def line(step: str, text: str) -> None:
    """A line of another program's output (dbt's), kept as it is for people."""
    sink: _Sink | None = _state["sink"]
    if sink is None:
        print(text)
        return
    sink.record(text, step=step, level=level_of(text), stream="stdout", prefixed=False, extra={})


def output(text: str) -> None:
    """A command's answer (what `status` shows): to stdout as it is, not a log line."""
    sink: _Sink | None = _state["sink"]
    if sink is None:
        print(text)
        return
    with sink.lock:
        sink.stdout.write(text + "\n")
        sink.stdout.flush()


def log_file(settings: Settings) -> Path | None:
    return Path(settings.log_dir) / LOG_FILE_NAME if settings.log_dir else None


@contextmanager
def capture(settings: Settings, *, json_stdout: bool, command: str) -> Iterator[None]:
    """Route everything printed during a command through the sink (see the module doc)."""
    original_out, original_err = sys.stdout, sys.stderr
    sink = _Sink(
        original_out,
        original_err,
        json_stdout=json_stdout,
        file_path=log_file(settings),
        secrets=secret_values(settings),
        command=command,
    )
    out = _LineWriter(sink, original_out, "stdout")
    err = _LineWriter(sink, original_err, "stderr")
    library_handler = _LibraryHandler(sink)
    logging.getLogger("dlt").addHandler(library_handler)
    _state["sink"] = sink
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        yield
    finally:
        out.finish()
        err.finish()
        logging.getLogger("dlt").removeHandler(library_handler)
        sys.stdout, sys.stderr = original_out, original_err
        _state["sink"] = None
        _state["run_id"] = None
        sink.close()
