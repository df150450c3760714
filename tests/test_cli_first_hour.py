"""The command line in a new user's first hour (issue 16, items 20-24): chat commands and media
checked when given, --debug anywhere, a closed pipe, validate on whatever --model takes, a
mistyped local path, seeded random weights."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from mmplug.core.cli.main import BROKEN_PIPE, build_parser, main
from mmplug.core.errors import CheckpointError, MediaError

REPO = Path(__file__).resolve().parents[1]
MODEL = "models/shapes-tiny"
CLIP = "examples/media/shapes-1.mp4"  # the shipped model answers "right" (README quick start)


@pytest.fixture
def in_repo(monkeypatch):
    """Relative paths as a user in a fresh clone types them."""
    monkeypatch.chdir(REPO)


def fake_hub(monkeypatch, behaviour):
    """A stand-in for huggingface_hub that records its calls (no network in tests)."""
    module = types.ModuleType("huggingface_hub")
    calls = []

    def snapshot_download(**kwargs):
        calls.append(kwargs)
        return behaviour(**kwargs)

    module.snapshot_download = snapshot_download
    monkeypatch.setitem(sys.modules, "huggingface_hub", module)
    return calls


def chat_session(monkeypatch, capsys, lines: list[str], *extra: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    code = main(["chat", "-m", MODEL, "--max-new-tokens", "3", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------- 20: mmplug chat
def test_chat_checks_commands_and_media_when_given(in_repo, monkeypatch, capsys):
    code, out, err = chat_session(monkeypatch, capsys, [
        "/vidoe clip.mp4", "/video", "/video missing.mp4", f"/video {REPO / 'examples'}", f"/image {CLIP}",
        "/reset now", f"/video '{CLIP}'", "Which way does the shape move?", "/exit", "never asked"])
    assert code == 0
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 6, err
    assert "unknown command '/vidoe'; did you mean /video?" in errors[0]
    assert "/video needs a file" in errors[1]
    assert "missing.mp4" in errors[2] and "no such file" in errors[2]
    assert "examples" in errors[3] and "a directory, not a file" in errors[3]
    assert CLIP in errors[4] and "not a readable image" in errors[4]
    assert "/reset takes nothing" in errors[5]
    assert out.splitlines() == ["right"]  # only the real question reached the model, with its clip


def test_a_failed_turn_never_ends_the_session(in_repo, monkeypatch, capsys):
    from mmplug.core.generation import chat as chat_module

    real_stream, calls = chat_module.stream, []

    def failing_once(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 1:
            yield "ha"
            raise MediaError("clip.mp4", "pyav", "decoder gave up")
        yield from real_stream(*args, **kwargs)

    monkeypatch.setattr(chat_module, "stream", failing_once)
    code, out, err = chat_session(monkeypatch, capsys, ["Which way does the shape move?",
                                                        "Which way does the shape move?"], "--video", CLIP)
    assert code == 0
    assert "error: clip.mp4 [pyav]: decoder gave up (the question was not kept; 1 attached file(s) wait" in err
    assert out.splitlines()[-1] == "right"
    assert calls[0] == calls[1], "the failed turn left nothing behind in the conversation"


def test_chat_with_a_missing_file_fails_before_loading(monkeypatch, capsys):
    from mmplug.core import pipeline

    monkeypatch.setattr(pipeline.Pipeline, "from_pretrained", None)  # calling it would raise TypeError
    monkeypatch.setattr(sys, "stdin", io.StringIO("hello\n"))
    assert main(["chat", "-m", MODEL, "--video", "nope.mp4"]) == 1
    assert "nope.mp4 [mmplug]: no such file" in capsys.readouterr().err


def test_chat_turn_is_whole_or_absent(in_repo):
    from mmplug.core.generation import chat as chat_module
    from mmplug.core.pipeline import Pipeline

    chat = Pipeline.from_pretrained(MODEL).chat(max_new_tokens=2)
    chat.send("Which way does the shape move?", videos=[CLIP])
    before = (list(chat.messages), len(chat.videos))
    with pytest.raises(MediaError):
        chat.send("And now?", videos=["missing.mp4"])
    pieces = chat.stream("What colour is the shape?", videos=[CLIP])
    next(pieces)
    pieces.close()  # stopped before the end (Ctrl-C in the CLI)
    with pytest.raises(Exception, match="boom"), pytest.MonkeyPatch.context() as patch:
        patch.setattr(chat_module, "generate", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
        chat.send("Why?", videos=[CLIP])
    assert (chat.messages, len(chat.videos)) == before


# ---------------------------------------------------------------- 21: --debug, closed pipe
@pytest.mark.parametrize("argv", [["--debug", "validate", "no-such-preset"], ["validate", "no-such-preset", "--debug"]])
def test_debug_before_or_after_the_command_shows_the_traceback(argv):
    with pytest.raises(CheckpointError, match="unknown preset 'no-such-preset'"):
        main(argv)
    assert main(argv[1:] if argv[0] == "--debug" else argv[:-1]) == 1


def test_every_command_takes_debug():
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    for name, parser in subparsers.choices.items():
        assert any("--debug" in action.option_strings for action in parser._actions), name


@pytest.mark.parametrize("argv", [["plugins"], ["validate", "tiny-random"]])
def test_a_closed_pipe_ends_quietly(argv):
    """``mmplug plugins | head -1``: the reader is gone before mmplug writes."""
    read, write = os.pipe()
    os.close(read)
    try:
        result = subprocess.run([sys.executable, "-m", "mmplug.core.cli.main", *argv],
                                stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert (result.returncode, result.stderr) == (BROKEN_PIPE, "")


# ---------------------------------------------------------------- 22: validate what --model takes
def test_validate_a_checkpoint_directory_counts_what_loads(in_repo, capsys):
    from mmplug.core.builder import count_parameters
    from mmplug.core.pipeline import Pipeline

    assert main(["validate", MODEL, "--json", "--build"]) == 0
    tree = json.loads(capsys.readouterr().out)
    assert tree["valid"] is True and "tokenizer" in {row["section"] for row in tree["parts"]}
    assert tree["parameters"] == count_parameters(Pipeline.from_pretrained(MODEL).model)
    assert main(["validate", MODEL, "--set", "language_model.num_layrs=2"]) == 1
    assert "language_model.num_layrs" in capsys.readouterr().out


def test_validate_a_hub_id_downloads_no_weights(in_repo, monkeypatch, tmp_path, capsys):
    snapshot = tmp_path / "snapshot"
    shutil.copytree(MODEL, snapshot, ignore=shutil.ignore_patterns("*.safetensors"))
    calls = fake_hub(monkeypatch, lambda **_: str(snapshot))
    assert main(["validate", "someone/shapes-tiny"]) == 0
    assert capsys.readouterr().out.startswith("someone/shapes-tiny: valid")
    [call] = calls
    assert call["repo_id"] == "someone/shapes-tiny" and "*.json" in call["allow_patterns"]
    assert not [p for p in call["allow_patterns"] if p.endswith((".safetensors", ".bin"))]


# ---------------------------------------------------------------- 23: a mistyped local path
@pytest.mark.parametrize(("name", "guess"), [("models/shapes-tin", "'models/shapes-tiny'"),
                                             ("models/shapes-tni/sub", "'models/shapes-tiny/sub'"),
                                             ("./models/shapes-tiy", "'models/shapes-tiny'")])
def test_a_mistyped_local_path_is_named_and_never_sent_to_the_hub(in_repo, monkeypatch, capsys, name, guess):
    calls = fake_hub(monkeypatch, lambda **_: pytest.fail("asked the Hub"))
    assert main(["ask", "-m", name, "hello"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {name}: no such directory") and guess in err, err
    assert calls == []


def test_a_repo_id_without_a_local_folder_goes_to_the_hub_and_says_it_is_not_local(in_repo, monkeypatch):
    def offline(**_):
        raise OSError("We couldn't connect to 'https://huggingface.co'")

    calls = fake_hub(monkeypatch, offline)
    with pytest.raises(CheckpointError) as error:
        main(["--debug", "ask", "-m", "nobody-here/shapes-tiny", "hello"])
    assert str(error.value).startswith("'nobody-here/shapes-tiny' is not a local directory, and it cannot be "
                                       "downloaded from the Hugging Face Hub: OSError: We couldn't connect")
    assert len(calls) == 1


def test_a_bare_unknown_name_suggests_the_preset(in_repo, capsys):
    assert main(["ask", "-m", "tiny-randm", "hello"]) == 1
    err = capsys.readouterr().err
    assert "tiny-randm is not a local directory or config file" in err and "Did you mean: 'tiny-random'?" in err


# ---------------------------------------------------------------- 24: seeded random weights
def _weights(pipe) -> dict:
    return {key: value.clone() for key, value in pipe.model.state_dict().items()}


def _same(a: dict, b: dict) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_runtime_seed_repeats_the_random_weights_and_leaves_global_state():
    import torch

    from mmplug.core.pipeline import Pipeline

    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = _weights(Pipeline.from_config("tiny-random", ["runtime.seed=7"]))
    assert torch.equal(torch.get_rng_state(), state), "seeding the build disturbed the global generator"
    assert _same(first, _weights(Pipeline.from_config("tiny-random", ["runtime.seed=7"])))
    assert not _same(first, _weights(Pipeline.from_config("tiny-random", ["runtime.seed=8"])))
    assert not _same(_weights(Pipeline.from_config("tiny-random")), _weights(Pipeline.from_config("tiny-random")))


def test_cli_seed_seeds_the_initialisation(in_repo):
    from mmplug.core.cli.model_args import load_pipeline

    def load(*extra: str) -> dict:
        return _weights(load_pipeline(build_parser().parse_args(["ask", "-m", "tiny-random", *extra, "q"])))

    assert _same(load("--seed", "3"), load("--seed", "3"))
    assert not _same(load("--seed", "3"), load("--seed", "4"))
    assert _same(load("--seed", "3"), load("--set", "runtime.seed=3"))
