"""``mmplug convert``: the command module is torch-free at import; converting changes the layout
and keeps every tensor."""
from __future__ import annotations

import argparse
import subprocess
import sys

import torch
from safetensors.torch import load_file

from mmplug.core.cli import convert

from .helpers import LAYOUT_RULES, rename


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    convert.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["convert", *argv])
    return args.handler(args)


def test_importing_the_command_and_formats_does_not_import_torch():
    code = ("import sys, mmplug.core.cli.convert, mmplug.plugins.video_llava, mmplug.plugins.video_llava.translation; "
            "from mmplug.registry import discover; r = discover(); "
            "r.build('checkpoint_format', 'published', {}); assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_convert_writes_the_chosen_layout(published, registry, tmp_path, capsys):
    assert run_cli(str(published), str(tmp_path / "v5"), "--layout", "v5", "--dtype", "bfloat16") == 0
    assert "v5" in capsys.readouterr().out
    written = load_file(tmp_path / "v5" / "model.safetensors")
    original = rename(load_file(published / "model.safetensors"), LAYOUT_RULES["v5"])
    assert set(written) == set(original)
    for key, value in original.items():
        assert torch.equal(written[key], value.to(torch.bfloat16)), key
    assert run_cli(str(tmp_path / "v5"), str(tmp_path / "back")) == 0
    back = load_file(tmp_path / "back" / "model.safetensors")
    assert set(back) == set(load_file(published / "model.safetensors"))
