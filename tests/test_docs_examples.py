"""Every example in README.md and docs/ runs (issue 16, item 26).

Each fenced block is extracted and run the way a reader would use it, in a scratch folder
that sees the repository's ``models/``, ``examples/`` and ``plugins/`` (so nothing is written
into the checkout):

- ``bash``: each command (``\\``-continued lines joined, ``&&`` chains split) runs in a shell;
  setting up the environment (venv, activate, ``pip install``) is what this test session
  already is, so those steps are not repeated;
- ``python``: the block runs in a fresh interpreter (and the ``test_*`` functions it defines
  are called, as pytest would);
- ``yaml``: a pipeline config must resolve, a training config must load; ``json`` lines and
  ``toml`` must parse; ``--8<--`` includes must name a file of the repository.

Blocks in ``text`` (or no language) show output and are not run. A block that cannot run
here says why on the line before it: ``<!-- example: not run (needs the Hub and a GPU) -->``.
``<!-- example: file NAME -->`` saves the block as NAME for the commands after it on the page;
``<!-- example: prints TEXT -->`` requires TEXT in the block's output.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from fixture_paths import REPOSITORY

PAGES = [REPOSITORY / "README.md", *sorted((REPOSITORY / "docs").glob("*.md"))]
RUN_LANGUAGES = ("bash", "python", "yaml", "json", "toml")
SHOWN_LANGUAGES = ("", "text")
MARKER = re.compile(r"<!--\s*example:\s*(not run|file|prints)\s*(.*?)\s*-->")
#: Environment set-up steps: this test session is that environment already.
SETUP_STEP = re.compile(r"^(python3? -m venv\b|\. \.venv/bin/activate$|source \.venv/bin/activate$|pip install\b)")
#: What the repository gives each scratch folder (read-only use: nothing is written there).
SHARED = ("models", "examples", "plugins")
TIMEOUT_S = 600
#: Appended to a python example: call the test functions it defines.
CALL_TESTS = "\n\nfor _name, _test in list(globals().items()):\n    if _name.startswith('test_') and callable(_test):\n        _test()\n"


@dataclass
class Example:
    page: Path
    line: int
    language: str
    body: str
    markers: dict[str, str]

    @property
    def label(self) -> str:
        return f"{self.page.relative_to(REPOSITORY)}:{self.line}"


def examples_of(page: Path) -> list[Example]:
    """The fenced blocks of ``page`` with the example markers of the lines just before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        markers, k = {}, i - 1
        while k >= 0 and (MARKER.search(lines[k]) or lines[k].strip() == "<!-- ci:test-command -->"):
            for kind, value in MARKER.findall(lines[k]):
                markers[kind] = value
            k -= 1
        found.append(Example(page, i + 1, fence.group(1), "\n".join(lines[i + 1:end]), markers))
        i = end + 1
    return found


ALL = [example for page in PAGES for example in examples_of(page)]
RUNNABLE = [e for e in ALL if e.language in RUN_LANGUAGES and "not run" not in e.markers]


def test_every_block_is_run_shown_or_says_why_not():
    for example in ALL:
        assert example.language in RUN_LANGUAGES + SHOWN_LANGUAGES, (
            f"{example.label}: unknown block language {example.language!r}")
        if "not run" in example.markers:
            assert example.markers["not run"].strip("() "), f"{example.label}: 'not run' needs a reason"
    assert len(RUNNABLE) >= 20, "the examples are no longer found"


def scratch_folder(tmp_path: Path) -> Path:
    for name in SHARED:
        (tmp_path / name).symlink_to(REPOSITORY / name)
    return tmp_path


def commands_of(body: str) -> list[str]:
    """Shell commands of a bash block: continuations joined, ``&&`` chains split, comments and
    set-up steps dropped."""
    joined = re.sub(r"\\\n\s*", " ", body)
    commands = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for step in line.split(" && "):
            step = step.strip()
            if not SETUP_STEP.match(step):
                commands.append(step)
    return commands


def shell(command: str, cwd: Path) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S,
                            env=env)
    assert result.returncode == 0, f"{command}\nexit {result.returncode}\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def run_example(example: Example, cwd: Path) -> str:
    if example.body.lstrip().startswith("--8<--"):
        included = example.body.split('"')[1]
        assert (REPOSITORY / included).is_file(), f"{example.label}: includes a missing file {included}"
        return ""
    if example.language == "bash":
        return "".join(shell(command, cwd) for command in commands_of(example.body))
    if example.language == "python":
        script = cwd / "example.py"
        script.write_text(example.body + CALL_TESTS, encoding="utf-8")
        return shell(f"{sys.executable} example.py", cwd)
    if example.language == "yaml":
        return check_yaml(example, cwd)
    if example.language == "json":
        for line in example.body.splitlines():
            json.loads(line)
        return ""
    tomllib.loads(example.body)
    return ""


def check_yaml(example: Example, cwd: Path) -> str:
    data = yaml.safe_load(example.body)
    if "pipeline" in data or "train_manifest" in data:  # a whole training config (cwd is the scratch folder)
        from mmplug.core.training import load_train_config

        path = cwd / "train.yaml"
        path.write_text(example.body, encoding="utf-8")
        load_train_config(path)
        return ""
    if "stages" in data:  # a fragment of a training config: its stages must load in the shipped recipe
        from mmplug.core.training.config import TrainConfig

        recipe = yaml.safe_load((REPOSITORY / "examples/shapes/train.yaml").read_text(encoding="utf-8"))
        TrainConfig.model_validate({**recipe, "stages": data["stages"]})
        return ""
    from mmplug.core.resolve import resolve_config

    resolve_config(data)
    return ""


def pages_examples(page: Path) -> list[Example]:
    return [e for e in RUNNABLE if e.page == page]


@pytest.mark.parametrize("page", [p for p in PAGES if pages_examples(p)], ids=lambda p: p.name)
def test_the_examples_of_a_page_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cwd = scratch_folder(tmp_path)
    for example in pages_examples(page):
        if "file" in example.markers:
            (cwd / example.markers["file"]).write_text(example.body + "\n", encoding="utf-8")
        output = run_example(example, cwd)
        if "prints" in example.markers:
            assert example.markers["prints"] in output, f"{example.label}: expected {example.markers['prints']!r}"


def test_the_quick_start_is_two_commands_and_ci_runs_the_second():
    """README: one command sets up and answers offline, one sets up and runs the whole suite;
    .ci/run extracts the second (issue 16, item 29)."""
    readme = REPOSITORY / "README.md"
    text = readme.read_text(encoding="utf-8")
    section = text[text.index("## Quick start"):text.index("\n## ", text.index("## Quick start") + 1)]
    blocks = [e for e in examples_of(readme) if e.language == "bash" and e.body in section]
    assert [len(e.body.splitlines()) for e in blocks] == [1, 1]
    ask, test = (e.body for e in blocks)
    assert "mmplug ask --model models/shapes-tiny" in ask and blocks[0].markers.get("prints") == "right"
    assert test.endswith("python -m pytest -q -p no:cacheprovider tests") and "examples/mmplug-example" in test
    script = (REPOSITORY / ".ci" / "run").read_text(encoding="utf-8")
    extract = re.search(r"test_command=\$\((awk .*)\)\n", script).group(1)
    extracted = subprocess.run(["bash", "-c", extract], cwd=REPOSITORY, capture_output=True, text=True, check=True)
    assert extracted.stdout.strip() == test
    torch_installs = set(re.findall(r"pip install torch==[\d.]+", text))
    assert len(torch_installs) == 1, f"the README installs torch in more than one way: {torch_installs}"
