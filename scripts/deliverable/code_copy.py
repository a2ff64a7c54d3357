"""The automation scripts: the repository's files as git sees them, nothing else.

`git ls-files` (tracked files, plus new files that .gitignore does not exclude) is the list,
so caches, the virtualenv, local data and secrets (all git-ignored) never get in. Outside a
git checkout (a source archive) the tree is walked with the same exclusions.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path, PurePosixPath

from scripts.deliverable import layout

# Top-level entries that are not code: build output and local state (all git-ignored too).
_WALK_EXCLUDED_TOP = frozenset({"var", "reports", "dist", "logs"})


def _forbidden(relative: PurePosixPath) -> bool:
    text = str(relative)
    return (
        any(part in layout.FORBIDDEN_PARTS for part in relative.parts)
        or text.endswith(layout.FORBIDDEN_SUFFIXES)
        or f"{layout.CODE}/{text}".startswith(layout.FORBIDDEN_PREFIXES)
    )


def repository_files(root: Path) -> list[PurePosixPath]:
    """Files of the repository at `root`, relative, sorted; present on disk only."""
    try:
        listed = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        names = [PurePosixPath(name) for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        names = [
            PurePosixPath(path.relative_to(root).as_posix())
            for path in root.rglob("*")
            if path.is_file() and path.relative_to(root).parts[0] not in _WALK_EXCLUDED_TOP
        ]
    return sorted(name for name in set(names) if (root / name).is_file() and not _forbidden(name))


def copy_repository(root: Path, target: Path) -> list[PurePosixPath]:
    """Copy the repository's files into `target`; returns what was copied."""
    files = repository_files(root)
    for name in files:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, destination)
    return files
