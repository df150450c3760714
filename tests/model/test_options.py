"""Option validation of the model plugins: clear messages at dotted paths, before building."""
from __future__ import annotations

import subprocess
import sys

import pytest

from mmplug.core.errors import ConfigError
from mmplug.core.resolve import resolve_config
from mmplug.registry import discover

from .reference import Tiny


@pytest.fixture(scope="module")
def registry():
    return discover()


def problems(registry, **sections) -> str:
    config = Tiny().mmplug_config()
    for section, changes in sections.items():
        config[section] = {**config[section], **changes}
    with pytest.raises(ConfigError) as info:
        resolve_config(config, registry=registry)
    return str(info.value)


@pytest.mark.parametrize("section, changes, expected", [
    ("projector", {"hidden_act": "gleu"}, "projector.hidden_act: unknown activation 'gleu'; did you mean 'gelu'?"),
    ("vision_encoder", {"hidden_act": "quick_gleu"}, "did you mean 'quick_gelu'?"),
    ("language_model", {"num_heads": 5}, "num_heads 5 must divide hidden_size 64"),
    ("language_model", {"num_kv_heads": 3}, "num_kv_heads 3 must divide num_heads 4"),
    ("language_model", {"hidden_size": 0}, "language_model.hidden_size"),
    ("language_model", {"rope_scaling": {"rope_type": "linaer", "factor": 2.0}}, "rope_type 'linaer' is not supported"),
    ("language_model", {"rope_scaling": {"rope_type": "llama3", "factor": 8.0}}, "needs high_freq_factor"),
    ("language_model", {"rope_scaling": {"type": "linear", "factor": 2.0, "beta": 1}}, "unknown key(s) beta"),
    ("language_model", {"rope_scaling": {"rope_type": "dynamic", "factor": 0.5}}, "factor must be a number >= 1"),
    ("language_model", {"num_layerz": 2}, "language_model.num_layerz: unknown option"),
    ("vision_encoder", {"patch_size": 5}, "patch_size 5 must divide image_size 42"),
    ("vision_encoder", {"num_heads": 5}, "num_heads 5 must divide hidden_size 32"),
    ("projector", {"in_features": 99}, "projector.in_features: 99 does not match"),
])
def test_invalid_options_are_reported(registry, section: str, changes: dict, expected: str) -> None:
    assert expected in problems(registry, **{section: changes})


def test_sliding_window_is_a_mistral_option_only(registry) -> None:
    assert "language_model.sliding_window: unknown option" in problems(registry, language_model={"sliding_window": 4})
    resolved = resolve_config(Tiny(text="mistral", sliding_window=4).mmplug_config(), registry=registry)
    assert resolved.text.sliding_window == 4


def test_facts_state_the_geometry(registry) -> None:
    resolved = resolve_config(Tiny(vision_feature_layer=(-3, -1)).mmplug_config(), registry=registry)
    assert resolved.vision.patches_per_image == 9 and resolved.vision.has_cls_token
    assert resolved.text.num_kv_heads == 2 and resolved.text.sliding_window is None
    assert resolved.wiring["projector"] == {"in_features": 64, "out_features": 64}


def test_registration_and_options_stay_torch_free() -> None:
    code = (
        "import sys\n"
        "from mmplug.registry import discover\n"
        "registry = discover()\n"
        f"config = {Tiny(text='mistral', sliding_window=4).mmplug_config()!r}\n"
        "for section in ('vision_encoder', 'projector', 'language_model'):\n"
        "    options = dict(config[section]); kind = 'vision_encoder' if section == 'vision_encoder' else section\n"
        "    registry.get(kind, options.pop('name')).load_options().model_validate(options)\n"
        "import mmplug.core.model\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
