"""The floating-point dtypes a pipeline runs and stores weights in: one list of names, used by
the config schema, the command line, the builder and the checkpoint loader. Torch-free until
:func:`torch_dtype` is called."""
from __future__ import annotations

from typing import Any, Literal, get_args

DType = Literal["float32", "float16", "bfloat16"]
DTYPE_NAMES: tuple[str, ...] = get_args(DType)


def torch_dtype(name: Any) -> Any:
    """The ``torch.dtype`` of a dtype name (a ``torch.dtype`` passes through); ValueError for
    names outside :data:`DTYPE_NAMES`."""
    import torch

    if isinstance(name, torch.dtype):
        return name
    if name not in DTYPE_NAMES:
        raise ValueError(f"dtype {name!r} is not one of {', '.join(DTYPE_NAMES)}")
    return getattr(torch, name)


def dtype_name(dtype: Any) -> str:
    """``torch.float16`` -> ``"float16"``."""
    return str(dtype).replace("torch.", "")
