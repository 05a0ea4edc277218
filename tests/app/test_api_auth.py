"""API keys: off by default, settings keys, stored keys (hashed), read-only keys, the keys commands, safe binds."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from app.api.auth import KeyStore, hash_key
from app.cli import cli
from app.commands.serve import is_loopback
from tests.builders import make_invoice_pdf, make_settings
from utils.settings import get_settings


def test_auth_is_off_by_default(client_for):
    client = client_for()
    assert client.get("/health").json()["auth"] is False
    assert client.get("/invoices").status_code == 200


def test_settings_keys_via_bearer_or_header(client_for):
    client = client_for(api_keys=["s3cret-key"])
    assert client.get("/health").status_code == 200  # stays open
    assert client.get("/health").json()["auth"] is True
    missing = client.get("/invoices")
    assert missing.status_code == 401 and missing.json()["error"] == "unauthorized"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/invoices", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/invoices", headers={"Authorization": "Bearer s3cret-key"}).status_code == 200
    assert client.get("/invoices", headers={"X-API-Key": "s3cret-key"}).status_code == 200
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"X-API-Key": "s3cret-key"}).status_code == 200


def test_read_only_keys_read_but_never_change(client_for, tmp_path):
    store = KeyStore.for_settings(make_settings(tmp_path / "data"))
    full, _ = store.create("ops")
    reader, _ = store.create("dashboard", read_only=True)
    client = client_for()
    as_full = {"X-API-Key": full}
    as_reader = {"Authorization": f"Bearer {reader}"}
    stored = client.post("/extract", headers=as_full, files={"file": ("a.pdf", make_invoice_pdf(), "application/pdf")})
    assert stored.status_code == 200, stored.text
    invoice_id = stored.json()["invoice_id"]
    assert client.get(f"/invoices/{invoice_id}", headers=as_reader).status_code == 200
    assert client.get("/search", params={"q": "Acme"}, headers=as_reader).status_code == 200
    refused = [
        client.patch(f"/invoices/{invoice_id}", json={"changes": {"total": 1}}, headers=as_reader),
        client.post(f"/invoices/{invoice_id}/approve", headers=as_reader),
        client.delete(f"/invoices/{invoice_id}", headers=as_reader),
        client.post("/extract", headers=as_reader, files={"file": ("a.pdf", make_invoice_pdf(), "application/pdf")}),
        client.post("/ocr", headers=as_reader, files={"file": ("a.pdf", make_invoice_pdf(), "application/pdf")}),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert {r.json()["error"] for r in refused} == {"forbidden"}
    record = client.get(f"/invoices/{invoice_id}", headers=as_full).json()
    assert record["status"] == "new" and record["corrections"] == []
    patched = client.patch(f"/invoices/{invoice_id}", json={"changes": {"payment_terms": "Net 7"}}, headers=as_full)
    assert patched.status_code == 200
    assert patched.json()["corrections"][-1]["who"] == "ops"
    store.revoke("dashboard")
    assert client.get("/invoices", headers=as_reader).status_code == 401


def test_keys_file_holds_only_hashes(tmp_path):
    store = KeyStore(tmp_path / "keys.json")
    key, info = store.create("x")
    text = (tmp_path / "keys.json").read_text()
    assert key not in text and hash_key(key) in text
    assert json.loads(text)["keys"][0]["id"] == info.id


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("INVOICE_OCR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("INVOICE_OCR_API_KEYS", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_keys_commands_create_list_revoke(cli_env):
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--name", "erp", "--read-only"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    assert key.startswith("iok_")
    info = KeyStore(cli_env / "api_keys.json").lookup(hash_key(key))
    assert info is not None and info.read_only and info.name == "erp"
    listed = runner.invoke(cli, ["keys", "list"])
    assert "erp" in listed.stdout and "read-only" in listed.stdout and key not in listed.stdout
    assert runner.invoke(cli, ["keys", "revoke", "erp"]).exit_code == 0
    assert KeyStore(cli_env / "api_keys.json").lookup(hash_key(key)) is None
    assert runner.invoke(cli, ["keys", "revoke", "erp"]).exit_code == 1


def test_serve_refuses_a_network_bind_without_keys(cli_env):
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "refusing to bind" in result.output


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")


def test_a_bad_credential_beside_a_good_one_is_refused(client_for):
    client = client_for(api_keys=["s3cret-key"])
    mixed = {"X-API-Key": "s3cret-key", "Authorization": "Basic Zm9vOmJhcg=="}
    assert client.get("/invoices", headers=mixed).status_code == 401
    both = {"X-API-Key": "s3cret-key", "Authorization": "Bearer s3cret-key"}
    assert client.get("/invoices", headers=both).status_code == 200


def test_revoking_the_last_key_keeps_auth_on(client_for, tmp_path):
    # Revoking the last stored key used to turn authentication off: an anonymous DELETE then answered 204.
    store = KeyStore.for_settings(make_settings(tmp_path / "data"))
    key, _ = store.create("ops")
    client = client_for()
    stored = client.post("/extract", headers={"X-API-Key": key}, files={"file": ("a.pdf", make_invoice_pdf(), "x")})
    assert stored.status_code == 200, stored.text
    store.revoke("ops")
    assert client.get("/health").json()["auth"] is True
    for response in (client.get("/invoices"), client.delete(f"/invoices/{stored.json()['invoice_id']}")):
        assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert client.get("/invoices", headers={"X-API-Key": key}).status_code == 401


def test_a_key_created_while_running_turns_auth_on_for_good(client_for, tmp_path):
    client = client_for()
    assert client.get("/invoices").status_code == 200
    store = KeyStore.for_settings(make_settings(tmp_path / "data"))
    key, _ = store.create("ops")
    assert client.get("/invoices").status_code == 401
    assert client.get("/invoices", headers={"X-API-Key": key}).status_code == 200
    store.revoke("ops")
    assert client.get("/invoices").status_code == 401


def test_a_network_bind_always_needs_a_key(client_for, tmp_path):
    client = client_for(host="0.0.0.0")
    assert client.get("/health").json()["auth"] is True
    assert client.get("/invoices").status_code == 401
    assert client.delete("/invoices/1").status_code == 401
    # Unless the operator asked for an open network bind.
    open_bind = client_for(host="0.0.0.0", allow_insecure_bind=True, data_dir=tmp_path / "open")
    assert open_bind.get("/invoices").status_code == 200


def _call_without_reading(app, method: str, path: str, headers: dict[str, str]) -> tuple[int, bool]:
    """Send one request straight to the ASGI app; (status, whether the app asked for the body)."""
    import asyncio

    asked: list[bool] = []
    status: list[int] = []

    async def receive() -> dict:
        asked.append(True)
        return {"type": "http.request", "body": b"{" + b" " * (1 << 20), "more_body": True}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"content-length", str(300 << 20).encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": raw,
        "client": ("127.0.0.1", 1234), "server": ("127.0.0.1", 80), "state": {},
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    return status[0], bool(asked)


def test_no_body_is_read_before_the_caller_is_known(client_for, tmp_path):
    # An unauthenticated 300 MiB PATCH grew the server by 777 MB before its 401.
    store = KeyStore.for_settings(make_settings(tmp_path / "data"))
    reader, _ = store.create("dashboard", read_only=True)
    app = client_for().app
    assert _call_without_reading(app, "PATCH", "/invoices/1", {}) == (401, False)
    assert _call_without_reading(app, "PATCH", "/invoices/1", {"X-API-Key": "wrong"}) == (401, False)
    assert _call_without_reading(app, "POST", "/extract", {"Authorization": f"Bearer {reader}"}) == (403, False)


def test_json_routes_take_small_bodies_and_uploads_the_configured_size(client_for):
    client = client_for(api_keys=["k"], max_json_bytes=4096)
    key = {"X-API-Key": "k"}
    big = client.patch("/invoices/1", json={"changes": {"payment_terms": "x" * 5000}}, headers=key)
    assert big.status_code == 413 and big.json()["error"] == "document_too_large" and "4096" in big.json()["message"]
    assert client.patch("/invoices/1", json={"changes": {"payment_terms": "x"}}, headers=key).status_code == 404
    upload = client.post("/ocr", headers=key, files={"file": ("a.pdf", make_invoice_pdf(), "application/pdf")})
    assert upload.status_code == 200, upload.text


def test_a_damaged_key_file_answers_a_clear_error_and_health_stays_up(client_for, tmp_path, cli_env):
    store = KeyStore.for_settings(make_settings(tmp_path / "data"))
    key, _ = store.create("ops")
    client = client_for()
    assert client.get("/invoices", headers={"X-API-Key": key}).status_code == 200
    store.path.write_text('{"keys": [{"id": "trunc')  # cut short by a full disk or an editor
    health = client.get("/health")
    assert health.status_code == 200, health.text
    assert health.json()["auth"] is True and health.json()["status"] == "degraded"
    assert any("api_keys.json is damaged" in p for p in health.json()["problems"])
    for headers in ({"X-API-Key": key}, {}):
        refused = client.get("/invoices", headers=headers)
        assert refused.status_code in (401, 503), refused.text
    refused = client.get("/invoices", headers={"X-API-Key": key})
    assert refused.status_code == 503 and refused.json()["error"] == "key_file_damaged"
    assert "api_keys.json is damaged" in refused.json()["message"] and str(tmp_path) not in refused.text
    listed = CliRunner().invoke(cli, ["keys", "list"])
    assert listed.exit_code == 1 and "damaged" in listed.output


def test_health_shows_where_the_database_is_to_key_holders_only(client_for):
    client = client_for(api_keys=["s3cret-key"])
    for headers in ({}, {"X-API-Key": "wrong"}):
        store = client.get("/health", headers=headers).json()["store"]
        assert store["path"] == "invoices.duckdb", store
    shown = client.get("/health", headers={"X-API-Key": "s3cret-key"}).json()["store"]["path"]
    assert shown.endswith("invoices.duckdb") and shown != "invoices.duckdb"
    open_client = client_for(data_dir=client.app.state.services.settings.data_dir.parent / "open")
    assert open_client.get("/health").json()["store"]["path"] == "invoices.duckdb"
