"""Plugin registration and option modules stay light: no torch, tokenizers, jinja2 or PIL."""
from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "tokenizers", "jinja2", "PIL", "numpy")


def test_registration_and_options_import_no_heavy_modules():
    code = (
        "import sys\n"
        "from mmplug.registry import Registry\n"
        "import mmplug.plugins.text, mmplug.plugins.image\n"
        "import mmplug.plugins.text.options, mmplug.plugins.image.options\n"
        "import mmplug.core.processor\n"
        "registry = Registry()\n"
        "assert registry.add_plugin(mmplug.plugins.text) and registry.add_plugin(mmplug.plugins.image)\n"
        "print(sorted(registry.names('chat_template')), registry.names('tokenizer'), registry.names('image_processor'))\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    names, loaded = result.stdout.strip().splitlines()
    assert names == "['jinja', 'llava_v1'] ['hf_tokenizers'] ['clip']"
    assert loaded == "[]"


def test_registered_parts_build_lazily(registry):
    for kind, name in (("tokenizer", "hf_tokenizers"), ("chat_template", "jinja"), ("chat_template", "llava_v1"),
                       ("image_processor", "clip")):
        spec = registry.get(kind, name)
        assert spec.provenance.plugin in ("text", "image") and isinstance(spec.factory, str)
