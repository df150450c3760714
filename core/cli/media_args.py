"""Media named on the command line (``--video``/``--image``, chat's ``/video PATH``): checked
when given, so a bad file is reported before a model loads or a question is asked."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from mmplug.core.errors import MediaError


def require_files(paths: Iterable[str]) -> None:
    """MediaError naming the first path that is not a file (before any model is loaded)."""
    for path in paths:
        if not Path(path).expanduser().is_file():
            what = "a directory, not a file" if Path(path).expanduser().is_dir() else "no such file"
            raise MediaError(path, "mmplug", what)


def decode_now(pipe: Any, kind: str, path: str) -> Any:
    """The decoded medium: frames (T,H,W,3) of a video, a PIL image of an image; MediaError or
    ProcessorError naming the file if it cannot be read the way the pipeline will read it."""
    from mmplug.core.generation.media import load_image
    from mmplug.core.generation.requests import decode_video

    require_files([path])
    path = str(Path(path).expanduser())
    return decode_video(pipe, path) if kind == "video" else load_image(path)
