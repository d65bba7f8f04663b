"""`customer-memory serve` as a user runs it: a process that prints the page's address, answers over real HTTP,
and stops cleanly on Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from tests.conftest import Database
from tests.web.conftest import DANA_EMAIL, PASSWORD


def test_serve_prints_its_address_serves_the_page_and_stops_on_ctrl_c(seeded: Database) -> None:
    env = {**os.environ, "CMS_SERVE_DATABASE_URL": seeded.url("authenticator")}
    env.pop("SUPABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("The memory page: http://127.0.0.1:") and first.rstrip().endswith("(Ctrl-C stops it)")
        address = first.split()[3]
        with httpx.Client(base_url=address, timeout=10) as http:
            for _ in range(50):  # the address is printed just before uvicorn takes its first request
                try:
                    page = http.get("/")
                    break
                except httpx.ConnectError:
                    continue
            assert page.status_code == 200 and "<html" in page.text.lower()
            session = http.post("/auth/v1/token?grant_type=password", json={"email": DANA_EMAIL, "password": PASSWORD})
            token = session.json()["access_token"]
            listing = http.get("/api/user/memories", headers={"Authorization": f"Bearer {token}"})
            assert listing.status_code == 200 and listing.json()["count"] == 12
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=20)
    assert process.returncode == 0, errors


def test_serve_refuses_a_database_role_with_privileges_of_its_own(seeded: Database) -> None:
    env = {**os.environ, "CMS_SERVE_DATABASE_URL": seeded.url("postgres")}
    env.pop("SUPABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "worker.cli", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "must connect as a role with no privilege of its own" in done.stderr
    assert "postgres bypasses row-level security" in done.stderr
