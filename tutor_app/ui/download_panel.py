"""The teacher's model download: the same fetch as ``python app.py --download``, from the browser.

The runtime's ``download_model`` resumes a broken download and verifies the file; it reports
progress with tqdm, which ``gr.Progress(track_tqdm=True)`` turns into the page's progress bar.
A new model is used after a restart (``--model NAME``): swapping the model under a class that
is using it is not worth the surprise.
"""

from __future__ import annotations

import gradio as gr

from ..bootstrap import Services
from ..runtime.download import DownloadError, download_model, measured_machine
from ..runtime.registry import KNOWN_MODELS, recommend
from .api import FAST
from .auth import SignIn
from .errors import page_handler
from .teacher_guard import require_teacher

AUTO = "auto"


def download_choices() -> list[tuple[str, str]]:
    choices = [("The largest Mixtral quant that fits this machine at a usable speed", AUTO)]
    choices += [(f"{e.name} ({e.size_bytes / 1e9:.1f} GB): {e.description}", e.name)
                for e in KNOWN_MODELS.values() if not e.shipped]
    return choices


def resolve(name: str, settings) -> str:
    """``auto`` becomes the quant ``python app.py download auto`` would fetch (it fits, and its
    speed here, corrected by a measured decode, reaches the minimum); a clear error when none does."""
    if name != AUTO:
        return name
    from ..runtime.machine import probe_machine_in_child  # llama.cpp stays out of the app's process

    found = recommend(measured_machine(settings, probe=probe_machine_in_child)[0], settings.min_tokens_per_s)
    if found.entry is None:
        raise DownloadError(f"Nothing downloaded: {found.reason}. The built-in model keeps working.")
    return found.entry.name


def done_markdown(name: str, path) -> str:
    return (f"**{name}** is ready: `{path}`.\n\nRestart the tutor with it:\n\n"
            f"```\npython app.py --model {name} --n-gpu-layers auto\n```")


def create_download_panel(services: Services, signin: SignIn) -> None:
    models_dir = services.settings.models_dir
    with gr.Accordion("Download a better model", open=False, elem_id="model-download"):
        with gr.Row(elem_classes="toolbar"):
            name = gr.Dropdown(download_choices(), value=AUTO, label="Model", scale=4, min_width=260,
                               elem_id="download-choice")
            start = gr.Button("Download", variant="primary", scale=0, min_width=130, elem_id="download-button")
        status = gr.Markdown(f"Files go to `{models_dir}`. A broken download resumes where it stopped.",
                             min_height=90, elem_id="download-status")  # room for the progress bar

    @page_handler("downloading a model")
    def on_download(choice: str, request: gr.Request, progress=gr.Progress(track_tqdm=True)):
        require_teacher(signin, request)
        try:
            model = resolve(choice or AUTO, services.settings)
            path = download_model(model, models_dir, progress=True)
        except (DownloadError, KeyError) as exc:
            return f"**Not downloaded.** {exc.args[0] if exc.args else exc}"
        return done_markdown(model, path)

    start.click(on_download, [name], [status], **FAST)
