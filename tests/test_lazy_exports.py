"""Every lazily exported name of the core packages resolves, and importing them stays light."""
import importlib
import subprocess
import sys

import pytest

PACKAGES = ["mmplug.core", "mmplug.core.checkpoint", "mmplug.core.model"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_export_resolves(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        module.nope


def test_importing_the_packages_does_not_import_torch():
    code = "import sys; import " + ", ".join(PACKAGES) + "; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
