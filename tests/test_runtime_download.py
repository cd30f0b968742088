"""Model downloads through huggingface_hub against a local stand-in for the Hub's resolve endpoint.

The stand-in (``FakeHub``) answers HEAD and GET on ``/{repo}/resolve/{revision}/{file}`` on
127.0.0.1 with the headers huggingface_hub relies on (ETag = the file's SHA256, X-Repo-Commit,
Content-Length, Range requests), and can cut a transfer off, fail afterwards, or serve corrupted
bytes, so the real download code is exercised end to end without the internet.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import threading
from pathlib import Path

import numpy as np
import pytest

from tutor_app.runtime import registry
from tutor_app.runtime.download import DownloadError, download_command, download_model, list_models_command
from tutor_app.runtime.machine import Machine
from tutor_app.runtime.registry import ModelEntry
from tutor_app.settings import Settings

REPO = "test-org/tiny-GGUF"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
GIB = 2**30
DROP_AT = 15_000_000  # where the fake line goes down, mid-way through the second chunk


def resume_offset() -> int:
    """Bytes on disk after a drop at DROP_AT: huggingface_hub writes whole chunks."""
    from huggingface_hub import constants

    return DROP_AT // constants.DOWNLOAD_CHUNK_SIZE * constants.DOWNLOAD_CHUNK_SIZE


def make_gguf(path: Path, seed: int = 0) -> bytes:
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    writer.add_block_count(1)
    # 24 MiB: more than two of huggingface_hub's 10 MiB download chunks, the unit a resume starts from
    writer.add_tensor("token_embd.weight", np.random.default_rng(seed).standard_normal((6, 2**20), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


class FakeHub:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.served: dict[str, bytes] = {}  # bytes sent instead of the real file (corruption)
        self.requests: list[tuple[str, str, str | None]] = []
        self.drop_after: int | None = None  # cut the next GET off after this many body bytes
        self.fail_after_drop = False  # and answer 503 from then on
        self._dropped = False
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self._answer(body=False)

            def do_GET(self):
                self._answer(body=True)

            def _answer(self, body: bool) -> None:
                rng = self.headers.get("Range")
                hub.requests.append((self.command, self.path, rng))
                match = re.fullmatch(rf"/{REPO}/resolve/([^/]+)/(.+)", self.path)
                if not match or match.group(2) not in hub.files:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                name = match.group(2)
                real = hub.files[name]
                if body and hub._dropped and hub.fail_after_drop:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = hub.served.get(name, real)
                start = int(re.fullmatch(r"bytes=(\d+)-", rng).group(1)) if (rng and body) else 0
                self.send_response(206 if start else 200)
                self.send_header("ETag", f'"{hashlib.sha256(real).hexdigest()}"')
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(real) - start))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(real) - 1}/{len(real)}")
                self.end_headers()
                if not body:
                    return
                payload = data[start:]
                if hub.drop_after is not None and not hub._dropped:
                    hub._dropped = True
                    self.wfile.write(payload[:hub.drop_after])
                    self.wfile.flush()
                    self.close_connection = True  # the line goes down mid-file
                    return
                self.wfile.write(payload)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def resolves(self) -> list[tuple[str, str, str | None]]:
        """Requests for files (huggingface_hub also fetches /api/agent-harnesses for its user agent)."""
        return [r for r in self.requests if "/resolve/" in r[1]]

    def gets(self) -> list[tuple[str, str, str | None]]:
        return [r for r in self.resolves() if r[0] == "GET"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory) -> bytes:
    return make_gguf(tmp_path_factory.mktemp("src") / "tiny.gguf")


@pytest.fixture
def hub(tiny_file):
    fake = FakeHub({"tiny.Q4_0.gguf": tiny_file, "page.gguf": b"<html>Sign in to download</html>" * 40})
    yield fake
    fake.close()


@pytest.fixture
def tiny_entry(monkeypatch, tiny_file, hub):
    entry = ModelEntry(name="tiny-test", filename="tiny.Q4_0.gguf", size_bytes=len(tiny_file), quant="F32",
                       description="test stand-in", repo_id=REPO)
    monkeypatch.setitem(registry.KNOWN_MODELS, entry.name, entry)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)  # read by download_model at call time
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return entry


def test_download_verifies_and_is_not_repeated(tiny_entry, hub, tiny_file, tmp_path):
    models = tmp_path / "models"
    path = download_model("tiny-test", models, progress=False)
    assert path == models / "tiny.Q4_0.gguf" and path.read_bytes() == tiny_file
    assert [r[2] for r in hub.gets()] == [None]  # one plain GET
    assert not list(models.glob("*.part*"))
    hub.requests.clear()
    assert download_model("tiny-test", models, progress=False) == path
    assert hub.resolves() == []  # verified before: no network at all


def test_connection_drop_is_resumed_within_the_run(tiny_entry, hub, tiny_file, tmp_path):
    hub.drop_after = DROP_AT
    path = download_model("tiny-test", tmp_path, progress=False)
    assert path.read_bytes() == tiny_file
    assert [r[2] for r in hub.gets()] == [None, f"bytes={resume_offset()}-"]


def test_broken_download_resumes_in_the_next_run(tiny_entry, hub, tiny_file, tmp_path):
    hub.drop_after, hub.fail_after_drop = DROP_AT, True
    with pytest.raises(DownloadError, match="broke off at 10.0 MiB of 24.0 MiB .* Run the same command again: it resumes"):
        download_model("tiny-test", tmp_path, progress=False)
    part = tmp_path / "tiny.Q4_0.gguf.part"
    assert part.stat().st_size == resume_offset() > 0 and not (tmp_path / "tiny.Q4_0.gguf").exists()

    hub.fail_after_drop = False  # the line is back; a new run (a new process) picks up the part
    hub.requests.clear()
    path = download_model("tiny-test", tmp_path, progress=False)
    assert path.read_bytes() == tiny_file and not part.exists()
    assert [r[2] for r in hub.gets()] == [f"bytes={resume_offset()}-"]  # only the missing bytes were fetched


def test_part_of_another_version_is_not_resumed(tiny_entry, hub, tiny_file, tmp_path):
    part = tmp_path / "tiny.Q4_0.gguf.part"
    part.write_bytes(b"x" * 1000)
    (tmp_path / "tiny.Q4_0.gguf.part.json").write_text('{"sha256": "' + "0" * 64 + '", "size": 5}')
    assert download_model("tiny-test", tmp_path, progress=False).read_bytes() == tiny_file
    assert [r[2] for r in hub.gets()] == [None]


def test_corrupted_download_fails_verification(tiny_entry, hub, tiny_file, tmp_path):
    bad = bytearray(tiny_file)
    bad[-100] ^= 0xFF
    hub.served["tiny.Q4_0.gguf"] = bytes(bad)
    with pytest.raises(DownloadError, match=r"corrupted: its SHA256 is [0-9a-f]{64}, expected .*download it afresh"):
        download_model("tiny-test", tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []  # neither the bad file nor a part to resume from


def test_file_that_is_not_a_gguf_is_rejected(monkeypatch, tiny_entry, hub, tmp_path):
    entry = ModelEntry(name="page", filename="page.gguf", size_bytes=1, quant="?", description="", repo_id=REPO)
    monkeypatch.setitem(registry.KNOWN_MODELS, "page", entry)
    with pytest.raises(DownloadError, match="not a usable model file: it starts with b'<htm'"):
        download_model("page", tmp_path, progress=False)
    assert not (tmp_path / "page.gguf").exists()


def test_pinned_hash_must_match_the_hub(monkeypatch, tiny_entry, hub, tmp_path):
    pinned = ModelEntry(name="pinned", filename="tiny.Q4_0.gguf", size_bytes=1, quant="?", description="",
                        repo_id=REPO, sha256="f" * 64)
    monkeypatch.setitem(registry.KNOWN_MODELS, "pinned", pinned)
    with pytest.raises(DownloadError, match="not the one this app pins"):
        download_model("pinned", tmp_path, progress=False)
    assert hub.gets() == []


def test_existing_broken_file_is_replaced(tiny_entry, hub, tiny_file, tmp_path):
    (tmp_path / "tiny.Q4_0.gguf").write_bytes(tiny_file[:5000])  # a copy that broke off
    assert download_model("tiny-test", tmp_path, progress=False).read_bytes() == tiny_file


def test_offline_uses_a_prefilled_hugging_face_cache(tiny_entry, hub, tiny_file, tmp_path, monkeypatch):
    from huggingface_hub import hf_hub_download

    cache = tmp_path / "hf-cache"
    hf_hub_download(REPO, "tiny.Q4_0.gguf", cache_dir=cache, endpoint=hub.url)  # what IT did earlier, online
    hub.requests.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = download_model("tiny-test", tmp_path / "models", progress=False, cache_dir=cache)
    assert path.read_bytes() == tiny_file
    assert hub.resolves() == []


def test_offline_without_a_copy_says_what_to_do(tiny_entry, hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DownloadError, match="offline .* neither in .* nor in the Hugging Face cache"):
        download_model("tiny-test", tmp_path, progress=False, cache_dir=tmp_path / "empty-cache")
    assert hub.resolves() == []


def test_unreachable_hub_is_a_clear_error(tiny_entry, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(DownloadError, match="cannot reach the Hugging Face Hub"):
        download_model("tiny-test", tmp_path, progress=False)


def test_shipped_model_needs_no_download(tmp_path, smollm2_path):
    assert download_model("smollm2-135m-instruct", tmp_path) == smollm2_path
    assert list(tmp_path.iterdir()) == []


def test_download_command(tiny_entry, hub, tmp_path, capsys):
    settings = Settings(models_dir=tmp_path / "models")
    assert download_command("tiny-test", settings) == 0
    out = capsys.readouterr().out
    assert "verified" in out and "python app.py --model tiny-test" in out
    assert download_command("no-such-model", settings) == 1
    assert "unknown model 'no-such-model'" in capsys.readouterr().err


def test_download_auto_when_nothing_fits(monkeypatch, tmp_path, capsys):
    small = Machine(total_ram=8 * GIB, available_ram=8 * GIB, cpu_count=4)
    monkeypatch.setattr("tutor_app.runtime.machine.probe_machine", lambda: small)
    assert download_command("auto", Settings(models_dir=tmp_path, data_dir=tmp_path / "data")) == 1
    err = capsys.readouterr().err
    assert "no Mixtral quant fits this machine" in err and "does not fit" in err


def test_list_models(monkeypatch, tmp_path, capsys):
    big = Machine(total_ram=64 * GIB, available_ram=60 * GIB, cpu_count=8)
    monkeypatch.setattr("tutor_app.runtime.machine.probe_machine", lambda: big)
    (tmp_path / "mixtral-8x7b-instruct-v0.1.Q2_K.gguf").write_bytes(b"GGUF")
    assert list_models_command(Settings(models_dir=tmp_path, data_dir=tmp_path / "data", min_tokens_per_s=3)) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith(("smollm2", "mixtral"))}
    assert set(rows) == set(registry.KNOWN_MODELS)
    assert all("yes, about" in rows[name] for name in rows)
    assert rows["smollm2-135m-instruct"].rstrip().endswith("shipped")
    assert rows["mixtral-8x7b-instruct-q2_k"].rstrip().endswith("yes")
    assert rows["mixtral-8x7b-instruct-q5_k_m"].rstrip().endswith("no")
    assert "--download auto would fetch: mixtral-8x7b-instruct-q5_k_m" in out
