"""Whether a device string names a device that torch can use on this machine (torch is
imported only to ask about an accelerator)."""
from __future__ import annotations

#: Devices that exist wherever torch runs (asking about them needs no torch).
ALWAYS_PRESENT_DEVICES = ("cpu", "meta")

#: Device types torch can report on, with how to ask whether one is present.
ACCELERATORS = ("cuda", "mps", "xpu")


def device_problem(device: str) -> str | None:
    """Why ``device`` (e.g. "cuda", "cuda:1", "mps") cannot be used here, or None if it can."""
    if device in ALWAYS_PRESENT_DEVICES:
        return None
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        return f"{device!r} is not a device torch knows; use 'cpu', 'cuda' or 'cuda:N'"
    if parsed.type in ALWAYS_PRESENT_DEVICES:
        return None
    if parsed.type not in ACCELERATORS:
        return f"{device!r}: mmplug runs on cpu, {', '.join(ACCELERATORS)}"
    backend = getattr(torch, parsed.type, None) if parsed.type != "mps" else getattr(torch.backends, "mps", None)
    if backend is None or not backend.is_available():
        built = "this torch has no CUDA support (a CPU build)" if parsed.type == "cuda" and torch.version.cuda is None \
            else f"no {parsed.type} device is visible to torch here"
        return f"{device!r}: {built}; use 'cpu' or run on a machine with that device"
    count = backend.device_count() if hasattr(backend, "device_count") else 1
    if parsed.index is not None and parsed.index >= count:
        return f"{device!r}: only {count} {parsed.type} device(s) here (indices 0..{count - 1})"
    return None
