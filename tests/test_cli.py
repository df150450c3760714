"""CLI: plugin listing (text and JSON), validate, schema; listing, --help, schema and validate
(without --build, on a CPU config) never import torch."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import toy_parts
from fixture_paths import REPOSITORY
from mmplug.core.cli.main import main

PROBE_TORCH = (
    "import sys\n"
    "from mmplug.core.cli.main import main\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "except SystemExit as exit:\n"
    "    code = exit.code\n"
    "print('TORCH_LOADED' if 'torch' in sys.modules else 'TORCH_ABSENT', code)\n"
)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE_TORCH, *args], capture_output=True, text=True, timeout=120,
                          cwd=REPOSITORY)


@pytest.mark.parametrize("args", [("--help",), ("plugins",), ("plugins", "--json"), ("schema",),
                                  ("validate", "tiny-random"), ("validate", "video-llava-7b", "--json"),
                                  ("validate", "models/shapes-tiny"), ("validate", "llava-onevision-qwen2-0.5b")])
def test_listing_help_schema_and_validate_do_not_import_torch(args):
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "TORCH_ABSENT 0", result.stdout[-500:]


def test_plugins_json_lists_builtins_with_distribution():
    result = run_cli("plugins", "--json")
    data = json.loads(result.stdout.rsplit("\n", 2)[0])
    assert set(data) == {"parts", "presets", "failures"}
    presets = {p["name"]: p for p in data["presets"]}
    assert presets["video-llava-7b"]["distribution"] == "mmplug"
    assert presets["video-llava-7b"]["version"]
    for part in data["parts"]:
        assert set(part) >= {"kind", "name", "summary", "distribution", "version"}
    assert data["failures"] == []


def test_plugins_text_output_groups_by_kind(toy_registry, capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "projector:\n  toy_proj" in out and "[plugin " in out and "presets:\n  toy" in out


def test_plugins_narrowed_to_one_kind(toy_registry, capsys):
    assert main(["plugins", "--kind", "projector", "--json"]) == 0
    kinds = {row["kind"] for row in json.loads(capsys.readouterr().out)["parts"]}
    assert kinds == {"projector"}
    assert main(["plugins", "--kind", "projector"]) == 0
    assert "toy_proj" in capsys.readouterr().out and main(["plugins", "--kind", "projectr"]) != 0


def test_plugins_shows_failures(toy_registry, capsys):
    from mmplug.registry import Provenance

    toy_registry.record_failure(Provenance("broken", "mmplug-broken", "0.1"), ImportError("no module named x"))
    main(["plugins"])
    out = capsys.readouterr().out
    assert "failed to load" in out and "mmplug-broken 0.1" in out and "no module named x" in out


def test_validate_reports_every_error_and_fails(tmp_path, toy_registry, capsys):
    config = toy_parts.toy_config()
    config["projector"]["hidden_act"] = "gleu"
    config["language_model"]["vocab_size"] = "many"
    path = tmp_path / "bad.yaml"
    import yaml

    path.write_text(yaml.safe_dump(config))
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "projector.hidden_act: unknown activation 'gleu'; did you mean 'gelu'?" in out
    assert "language_model.vocab_size:" in out


def test_validate_json_errors(toy_registry, capsys):
    assert main(["validate", "toy", "--set", "projector.in_features=5", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is False and data["errors"][0]["path"] == "projector.in_features"


def test_schema_has_each_installed_part(toy_registry, capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    branches = schema["properties"]["projector"]["oneOf"]
    [toy] = [b for b in branches if b["properties"]["name"]["const"] == "toy_proj"]
    assert toy["additionalProperties"] is False and "hidden_act" in toy["properties"]
    assert "multimodal" in schema["properties"]


def test_schema_validates_a_config(toy_registry, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    main(["schema"])
    schema = json.loads(capsys.readouterr().out)
    jsonschema.validate(toy_parts.toy_config(), schema)
    bad = toy_parts.toy_config()
    bad["projector"]["hidden_actt"] = "gelu"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_unknown_command_and_no_command():
    assert run_cli().stdout.strip().splitlines()[-1] == "TORCH_ABSENT 2"
    assert run_cli("frobnicate").returncode == 0  # argparse exit code 2 is captured by the probe
    assert run_cli("frobnicate").stdout.strip().endswith("TORCH_ABSENT 2")


def test_errors_are_one_readable_line(toy_registry, capsys):
    assert main(["validate", "no-such-preset"]) == 1
    captured = capsys.readouterr()
    assert "unknown preset 'no-such-preset'" in captured.out + captured.err


def test_doctor_reports_backends_decoders_and_codecs(capsys):
    from mmplug.registry import discover, use_registry

    with use_registry(discover()):
        assert main(["doctor", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    attention = {row["name"]: row for row in data["attention"]}
    assert attention["sdpa"]["cpu/float32"] == "ok" and attention["eager"]["cpu/float32"] == "ok"
    flash = attention["flash_attention_2"]["cpu/float32"]
    assert flash != "ok" and ("flash" in flash or "CUDA" in flash)
    decoders = {row["name"]: row["status"] for row in data["video_decoders"]}
    assert decoders["pyav"] == "ok"
    assert data["codecs"]["h264"] is True
