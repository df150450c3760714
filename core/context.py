"""What a part factory receives besides its options, and the factory contract itself.

Every factory is called as ``factory(options, context)``: ``options`` the part's validated
pydantic model, ``context`` a :class:`BuildContext` (always given; built with defaults when a
part is built alone through ``Registry.build``). Torch-free.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from mmplug.core.resolve import ResolvedPipeline

O = TypeVar("O", contravariant=True)
T = TypeVar("T", covariant=True)


@dataclass
class BuildContext:
    """Where and how a part is built.

    ``wiring`` holds facts the builder derived from other parts (the projector's
    ``in_features``/``out_features``, ``has_cls_token`` and ``grid`` of the vision tokens it
    receives); ``attention`` is the backend instance a part that runs attention must use
    (None for parts that run none, or when built alone: such parts then refuse to build).
    """

    section: str
    device: str = "cpu"
    dtype: str = "float32"
    attention: Any = None
    wiring: dict[str, Any] = field(default_factory=dict)
    pipeline: "ResolvedPipeline | None" = None

    @property
    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype)

    def require_attention(self) -> Any:
        """The attention backend; a clear error when the part is built without one."""
        if self.attention is None:
            from mmplug.core.errors import ConfigError, ConfigIssue

            raise ConfigError([ConfigIssue(f"{self.section}.attention", (
                "this part runs attention but was built without a backend; build it inside a pipeline "
                "(the builder resolves the 'attention' section) or pass BuildContext(attention=...)"))])
        return self.attention


class PartFactory(Protocol[O, T]):
    """``factory(options, context) -> part``: the signature every registered factory has."""

    def __call__(self, options: O, context: BuildContext) -> T: ...
