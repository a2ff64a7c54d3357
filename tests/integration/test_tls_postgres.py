"""Encrypted connections, against a throw-away TLS-enabled PostgreSQL cluster.

The test makes its own certificate authority, a server certificate for `localhost` and a
client certificate for `windfarm_loader`, starts a cluster on a free port that refuses
unencrypted connections and logs the loader in by certificate, then connects through the
project's own paths: `warehouse.connect` (psycopg2 DSN), the URL dlt uses, and dbt.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from loaders import warehouse
from loaders.settings import Settings
from loaders.transform import dbt

HBA = """\
local all all trust
hostssl all windfarm_loader 127.0.0.1/32 cert
hostssl all windfarm_loader ::1/128 cert
hostssl all all 127.0.0.1/32 trust
hostssl all all ::1/128 trust
host all all 127.0.0.1/32 reject
host all all ::1/128 reject
"""


@dataclass(frozen=True)
class Cluster:
    settings: Settings  # admin over verify-full, the right CA, host localhost
    folder: Path
    wrong_ca: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None = None,
    *,
    server: bool = False,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer or (name, key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
    )
    if issuer is None:  # a certificate authority
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), False)
        if server:  # the name libpq's verify-full checks; deliberately not 127.0.0.1
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName("localhost")]), False
            )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, certificate: x509.Certificate | None = None, key=None) -> Path:  # noqa: ANN001
    if certificate is not None:
        path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(settings: Settings) -> Iterator[Cluster]:
    bindir = warehouse._postgres_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    folder = Path(tempfile.mkdtemp(prefix="windfarm-tls-", dir="/tmp"))
    server_files, client_files = folder / "server", folder / "client"
    server_files.mkdir()
    client_files.mkdir()
    ca_key, wrong_key = _key(), _key()
    ca = _certificate("windfarm test CA", ca_key)
    issuer = (ca.subject, ca_key)
    server_key, loader_key = _key(), _key()
    _write(server_files / "ca.crt", ca)
    _write(server_files / "server.crt", _certificate("localhost", server_key, issuer, server=True))
    _write(server_files / "server.key", key=server_key)
    _write(client_files / "ca.crt", ca)
    wrong_ca = _write(client_files / "wrong-ca.crt", _certificate("someone else", wrong_key))
    _write(
        client_files / "windfarm_loader.crt", _certificate("windfarm_loader", loader_key, issuer)
    )
    _write(client_files / "windfarm_loader.key", key=loader_key)
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in [folder, server_files, *server_files.iterdir()]:
            os.chown(path, owner.pw_uid, owner.pw_gid)
    data = folder / "data"
    port = _free_port()
    run = warehouse._as_cluster_user
    subprocess.run(
        run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--locale=C.UTF-8"]),
        check=True, capture_output=True,
    )  # fmt: skip
    (data / "pg_hba.conf").write_text(HBA, encoding="utf-8")
    options = (
        f"-p {port} -c listen_addresses=localhost -c unix_socket_directories={folder} "
        f"-c ssl=on -c ssl_cert_file={server_files / 'server.crt'} "
        f"-c ssl_key_file={server_files / 'server.key'} -c ssl_ca_file={server_files / 'ca.crt'}"
    )
    log = folder / "server.log"
    started = subprocess.run(
        run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"]
        ),
        capture_output=True,
        check=False,
    )
    try:
        assert started.returncode == 0, log.read_text() if log.exists() else started.stderr
        tls = replace(
            settings,
            pghost="localhost",
            pgport=port,
            database="windfarm_tls",
            admin_user="postgres",
            admin_password="",
            pgsslmode="verify-full",
            pgsslrootcert=str(client_files / "ca.crt"),
        )
        yield Cluster(tls, folder, wrong_ca)
    finally:
        subprocess.run(
            run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)


def _ssl_in_use(settings: Settings, role: str = "admin", database: str = "postgres") -> bool:
    connection = warehouse.connect(settings, role, database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def test_verify_full_connects_encrypted_to_the_named_server(cluster: Cluster) -> None:
    assert _ssl_in_use(cluster.settings) is True


def test_require_encrypts_without_checking_the_certificate(cluster: Cluster) -> None:
    assert _ssl_in_use(replace(cluster.settings, pgsslmode="require", pgsslrootcert="")) is True


def test_verify_full_refuses_a_server_signed_by_another_ca(cluster: Cluster) -> None:
    wrong = replace(cluster.settings, pgsslrootcert=str(cluster.wrong_ca))
    with pytest.raises(warehouse.WarehouseError, match="certificate verify failed"):
        warehouse.connect(wrong, "admin", "postgres")


def test_verify_full_refuses_a_host_name_the_certificate_does_not_carry(cluster: Cluster) -> None:
    by_address = replace(cluster.settings, pghost="127.0.0.1")
    with pytest.raises(warehouse.WarehouseError, match="does not match host name"):
        warehouse.connect(by_address, "admin", "postgres")


def test_the_server_refuses_unencrypted_connections(cluster: Cluster) -> None:
    plain = replace(cluster.settings, pgsslmode="disable", pgsslrootcert="")
    with pytest.raises(warehouse.WarehouseError, match="no encryption"):
        warehouse.connect(plain, "admin", "postgres")


def test_the_loader_logs_in_by_certificate_on_every_path(cluster: Cluster) -> None:
    """Bootstrap over TLS, then the loader by its certificate (`{user}` in the setting):
    through warehouse.connect, through the URL dlt uses, and refused without it."""
    warehouse.bootstrap(cluster.settings)
    client = Path(cluster.settings.pgsslrootcert).parent
    with_certificate = replace(
        cluster.settings,
        pgsslcert=str(client / "{user}.crt"),
        pgsslkey=str(client / "{user}.key"),
    )
    assert _ssl_in_use(with_certificate, "loader", with_certificate.database) is True
    url = with_certificate.sqlalchemy_url("loader")
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("select current_user, ssl from pg_stat_ssl where pid = pg_backend_pid()")
        assert cursor.fetchone() == ("windfarm_loader", True)
    connection.close()
    with pytest.raises(warehouse.WarehouseError, match="certificate"):
        warehouse.connect(cluster.settings, "loader")


def test_dbt_connects_with_the_same_tls_settings(cluster: Cluster) -> None:
    """dbt's profile has no TLS file names: libpq takes them from the environment that
    Settings.dbt_env() gives (PGSSLROOTCERT ...)."""
    warehouse.bootstrap(cluster.settings)
    environment = {**dbt.dbt_environment(cluster.settings), "DBT_USE_COLORS": "false"}
    project = cluster.settings.dbt_project_dir
    debug = subprocess.run(
        [dbt.dbt_executable(), "debug", "--connection",
         "--project-dir", project, "--profiles-dir", project],
        env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert debug.returncode == 0, debug.stdout + debug.stderr
    # verify-full needs the CA: without PGSSLROOTCERT libpq would look in ~/.postgresql.
    assert "Connection test: [OK connection ok]" in debug.stdout
