"""Package discovery for the fixed layout: every package under core/, plugins/ and
registry/ is installed under the ``mmplug`` namespace (never as a top-level package)."""
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).parent
SOURCE_DIRS = {"core": "mmplug.core", "plugins": "mmplug.plugins", "registry": "mmplug.registry"}


def namespaced_packages() -> list[str]:
    packages = []
    for folder, prefix in SOURCE_DIRS.items():
        for init in sorted((ROOT / folder).rglob("__init__.py")):
            relative = init.parent.relative_to(ROOT / folder).parts
            packages.append(".".join((prefix, *relative)))
    return packages


def package_dirs() -> dict[str, str]:
    dirs = {}
    for package in namespaced_packages():
        parts = package.split(".")[1:]
        dirs[package] = "/".join(parts)
    return dirs


setup(packages=namespaced_packages(), package_dir=package_dirs())
