"""Which PostgreSQL programs the private cluster and the dumps use, on folders of real
executables that answer `--version` like PostgreSQL's (the versions are what is chosen on).

The machine's own programs come first (PATH's, then the install folders, newest first),
only in a supported version; an existing cluster keeps the version that created it;
pg_dump must be at least as new as the server.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from loaders.settings import Settings, load_settings
from loaders.warehouse import cluster

PROGRAMS = ("initdb", "pg_ctl", "postgres", "pg_dump", "psql")


def fake_install(root: Path, major: int) -> Path:
    """root/<major>/bin with programs that print `<name> (PostgreSQL) <major>.3`."""
    bindir = root / str(major) / "bin"
    bindir.mkdir(parents=True)
    for name in PROGRAMS:
        program = bindir / name
        program.write_text(f'#!/bin/sh\necho "{name} (PostgreSQL) {major}.3"\n', encoding="ascii")
        program.chmod(0o755)
    return bindir


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Path]:
    """Settings searching tmp_path/lib/*/bin; PATH holding only tmp_path/path/*/bin."""
    settings = replace(
        load_settings(),
        postgres_bin_dirs=f"{tmp_path / 'lib'}/*/bin",
        local_cluster_dir=str(tmp_path / "cluster"),
    )
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    return settings, tmp_path


def put_on_path(monkeypatch: pytest.MonkeyPatch, bindir: Path) -> None:
    monkeypatch.setenv("PATH", str(bindir))


def test_path_first_then_the_install_folders_newest_first(
    machine: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, root = machine
    put_on_path(monkeypatch, fake_install(root / "path", 16))
    fake_install(root / "lib", 14)
    fake_install(root / "lib", 17)
    found = [(p.major, p.bindir.parent.parent.name) for p in cluster.system_programs(settings)]
    assert found == [(16, "path"), (17, "lib"), (14, "lib")]


def test_a_new_cluster_uses_a_supported_version_of_the_machine(
    machine: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, root = machine
    put_on_path(monkeypatch, fake_install(root / "path", 13))  # too old, though on PATH
    fake_install(root / "lib", 16)
    chosen = cluster.server_programs(settings, None, install=False)
    assert (chosen.major, chosen.embedded) == (16, False)


def test_an_existing_cluster_keeps_the_version_that_created_it(
    machine: tuple[Settings, Path],
) -> None:
    settings, root = machine
    fake_install(root / "lib", 15)
    fake_install(root / "lib", 17)
    assert cluster.server_programs(settings, 15, install=False).major == 15


def test_an_existing_cluster_without_its_version_is_a_clear_error(
    machine: tuple[Settings, Path],
) -> None:
    settings, root = machine
    fake_install(root / "lib", 17)
    with pytest.raises(cluster.ClusterError, match=r"created by PostgreSQL 13 .* move that"):
        cluster.server_programs(settings, 13, install=False)


def test_pg_dump_older_than_the_server_is_passed_over(
    machine: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, root = machine
    put_on_path(monkeypatch, fake_install(root / "path", 15))
    newer = fake_install(root / "lib", 17)
    assert cluster.client_program("pg_dump", settings, 15) == str(root / "path/15/bin/pg_dump")
    assert cluster.client_program("pg_dump", settings, 17) == str(newer / "pg_dump")


def test_the_private_cluster_is_named_only_once_it_exists(machine: tuple[Settings, Path]) -> None:
    settings, root = machine
    local = cluster.local_settings(settings)
    assert cluster.is_local_cluster(local) is False
    (root / "cluster" / "data").mkdir(parents=True)
    (root / "cluster" / "data" / "PG_VERSION").write_text("18\n", encoding="ascii")
    assert cluster.is_local_cluster(local) is True
    assert cluster.is_local_cluster(replace(local, pgport=5432)) is False
