"""The emulators as users run them: `python -m emulators`, real HTTP on loopback, a real database.

Acknowledged writes survive `kill -9`; two workers writing at once lose nothing; the same store runs
on PostgreSQL where a server can be started here.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import PROJECT

from emulators.store import Store
from generated.qiscus import models
from generated.qiscus.client import Client

SECRET = {"sdk_secret": "qiscus-secret", "app_id": "qiscus-app"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def emulator(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators", *args, "--port", str(port)],
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT), **(env or {})},
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    scheme = "https" if "--tls-cert" in args else "http"
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/openapi.json", timeout=1, verify=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:  # stuck: stop it, or reading its output never ends
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)
                out = process.stdout.read() if process.stdout else ""
                raise RuntimeError(f"emulator did not start: {out}")
            time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def setup_room(client: Client) -> int:
    for name in ("ann", "bob"):
        client.login_or_register(
            models.LoginOrRegisterRequest(email=f"{name}@example.com", username=name)
        )
    return client.create_room(
        models.CreateRoomRequest(
            name="t", creator="ann@example.com", participants=["bob@example.com"]
        )
    ).results.room_id


def test_print_config_reads_the_environment() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulators", "qiscus", "--print-config"],
        cwd=PROJECT,
        env={**os.environ, "QISCUS_SECRET": "from-env"},
        capture_output=True,
        text=True,
    )
    config = json.loads(result.stdout)
    assert config["credentials"] == {"app_id": "qiscus-app", "secret": "from-env"}
    assert config["base_url"].startswith("http://127.0.0.1:")


def test_serves_its_spec_over_loopback(tmp_path: Path) -> None:
    with emulator("qiscus", "--db", str(tmp_path / "db.sqlite3")) as (base, _):
        served = httpx.get(base + "/openapi.json").json()
        unauthorized = httpx.get(
            base + "/api/v2/rest/user_profile", params={"user_email": "a@example.com"}
        )
    assert served["info"]["title"].startswith("Qiscus")
    assert unauthorized.status_code == 401 and unauthorized.json()["error"]["message"]


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    db = str(tmp_path / "db.sqlite3")
    with emulator("qiscus", "--db", db) as (base, process):
        with Client(base, **SECRET) as client:
            room = setup_room(client)
            acknowledged = [
                client.post_comment(
                    models.PostCommentRequest(
                        sender_email="ann@example.com", room_id=room, message=f"m{i}"
                    )
                ).results.comment.id
                for i in range(30)
            ]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    with emulator("qiscus", "--db", db) as (base, _), Client(base, **SECRET) as client:
        kept = [c.id for c in client.iter_load_comments(room_id=room, limit=100)]
    assert sorted(kept) == sorted(acknowledged)


def test_two_workers_and_many_connections_lose_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "db.sqlite3")
    with emulator("qiscus", "--db", db, "--workers", "2") as (base, _):
        with Client(base, **SECRET) as client:
            room = setup_room(client)
        lock = threading.Lock()
        acknowledged: list[int] = []

        def writer(n: int) -> None:
            with Client(base, **SECRET) as own:
                for i in range(15):
                    comment = own.post_comment(
                        models.PostCommentRequest(
                            sender_email="bob@example.com", room_id=room, message=f"w{n}-{i}"
                        )
                    ).results.comment
                    with lock:
                        acknowledged.append(comment.id)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(writer, range(8)))
        with Client(base, **SECRET) as client:
            comments = list(client.iter_load_comments(room_id=room, limit=100))
            unread = (
                client.get_user_rooms(user_email="ann@example.com")
                .results.rooms_info[0]
                .unread_count
            )
    assert len(acknowledged) == 120 and len(set(acknowledged)) == 120
    assert sorted(c.id for c in comments) == sorted(acknowledged)
    # each comment points at the one posted just before it: no interleaved read-modify-write
    by_id = sorted(comments, key=lambda c: c.id)
    assert all(b.comment_before_id == a.id for a, b in itertools.pairwise(by_id))
    assert unread == 120


def test_malformed_requests_never_get_a_500(tmp_path: Path) -> None:
    bodies = [b"", b"{", b"\xff\xfe", b"[]", b"room_id=abc", b"a" * 100_000]
    with emulator("qiscus", "--db", str(tmp_path / "db.sqlite3")) as (base, _):
        spec = httpx.get(base + "/openapi.json").json()
        headers = {"QISCUS_SDK_SECRET": "qiscus-secret"}
        for path, item in spec["paths"].items():
            for method in item:
                url = base + path.replace("{backup_unique_id}", "x")
                for body in bodies:
                    for ctype in (
                        "application/json",
                        "application/x-www-form-urlencoded",
                        "multipart/form-data",
                    ):
                        response = httpx.request(
                            method.upper(),
                            url,
                            content=body,
                            headers={**headers, "content-type": ctype},
                        )
                        assert response.status_code < 500, (
                            method,
                            path,
                            body[:20],
                            response.text[:200],
                        )


# -- PostgreSQL ------------------------------------------------------------------------------------


def _postgres_tools() -> str | None:
    for candidate in ("initdb", "/usr/lib/postgresql/15/bin/initdb"):
        found = shutil.which(candidate)
        if found:
            return str(Path(found).resolve().parent)
    return None


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    tools = _postgres_tools()
    if tools is None:
        pytest.skip("PostgreSQL server binaries (Debian package postgresql) are not installed")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed")
    root = Path(tempfile.mkdtemp(prefix="baas-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser")
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    data = root / "data"
    subprocess.run(
        [*as_user, f"{tools}/initdb", "-D", str(data), "-U", "baas", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_user,
            f"{tools}/pg_ctl",
            "-D",
            str(data),
            "-l",
            str(root / "log"),
            "-w",
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://baas@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, f"{tools}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def test_store_on_postgres(postgres_url: str) -> None:
    store = Store(postgres_url)
    key = store.insert("thing", {"a": 1})
    store.update("thing", key, lambda doc: {**doc, "a": doc["a"] + 1})
    assert store.get("thing", key) == {"a": 2}
    assert store.next_id("pg-seq") + 1 == store.next_id("pg-seq")
    assert store.delete("thing", key) and store.get("thing", key) is None
    store.close()


def test_qiscus_emulator_on_postgres(postgres_url: str) -> None:
    args = ("qiscus", "--db", postgres_url, "--workers", "2")
    with emulator(*args) as (base, _), Client(base, **SECRET) as client:
        room = setup_room(client)
        for i in range(10):
            message = models.PostCommentRequest(
                sender_email="ann@example.com", room_id=room, message=f"pg{i}"
            )
            client.post_comment(message)
        assert len(client.load_comments(room_id=room).results.comments) == 10
