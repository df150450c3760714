"""Shared pieces of the training tests: the shapes generator (examples/shapes), a tiny dataset
and a tiny pipeline config that trains in a fraction of a second per step."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHAPES_DIR = REPO / "examples" / "shapes"
PROCESSOR = SHAPES_DIR / "processor"


def load_shapes():
    """examples/shapes/shapes_data.py as a module (examples are not installed)."""
    name = "shapes_data"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SHAPES_DIR / "shapes_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def tiny_pipeline(**changes) -> dict:
    """A 1-layer CLIP + 1-layer Llama pipeline on the shapes tokenizer (64px frames, 4 frames)."""
    config = {
        "vision_encoder": {"name": "clip", "hidden_size": 32, "intermediate_size": 64, "num_layers": 1,
                           "num_heads": 2, "image_size": 64, "patch_size": 16},
        "projector": {"name": "mlp2x_gelu"},
        "language_model": {"name": "llama", "hidden_size": 32, "intermediate_size": 64, "num_layers": 1,
                           "num_heads": 2, "num_kv_heads": 2, "vocab_size": 64, "max_position_embeddings": 256},
        "attention": {"name": "sdpa"},
        "tokenizer": {"name": "hf_tokenizers", "path": str(PROCESSOR)},
        "chat_template": {"name": "jinja", "path": str(PROCESSOR)},
        "image_processor": {"name": "clip", "size": 64, "crop_size": 64},
        "video_decoder": {"name": "pyav"},
        "frame_sampler": {"name": "uniform", "num_frames": 4},
        "multimodal": {"image_token_id": 4, "video_token_id": 5, "pad_token_id": 3, "vision_feature_layer": -1,
                       "share_vision_encoder": True},
    }
    for key, value in changes.items():
        section, _, option = key.partition(".")
        config[section][option] = value
    return config


def tiny_train_config(data: Path, output: Path, **changes) -> dict:
    config = {"pipeline": tiny_pipeline(), "train_manifest": str(data / "train.jsonl"), "output_dir": str(output),
              "seed": 0, "batch_size": 4, "log_every": 1, "save_final": False, "threads": 1,
              "stages": [{"name": "all", "steps": 6, "lr": 3e-3, "warmup_steps": 1}]}
    config.update(changes)
    return config


@pytest.fixture(scope="session")
def make_pipeline():
    """The :func:`tiny_pipeline` builder (``make_pipeline(**{"frame_sampler.num_frames": 2})``)."""
    return tiny_pipeline


@pytest.fixture(scope="session")
def make_train_config():
    """The :func:`tiny_train_config` builder."""
    return tiny_train_config


@pytest.fixture(scope="session")
def shapes():
    return load_shapes()


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory, shapes) -> Path:
    """8 clips and 4 images with their train manifest, plus a 4-item test manifest."""
    out = tmp_path_factory.mktemp("shapes")
    shapes.write_split(out, "train", clips=8, images=4, first_seed=0)
    shapes.write_split(out, "test", clips=3, images=1, first_seed=shapes.HELD_OUT_SEED, one_question=True)
    return out
