"""Broken third-party plugins (issue 16, items 6-9), installed like real ones: each failure is
contained, listed by ``mmplug plugins`` (text and ``--json``) for the parts it affects, and
every other plugin keeps working."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import toy_parts
from fake_distributions import make_distribution, site  # noqa: F401 - site is a fixture
from mmplug.core.builder import build_model
from mmplug.core.cli.main import main
from mmplug.core.errors import BackendUnavailableError, ConfigError, DuplicatePartError, MmplugError
from mmplug.core.errors import PluginLoadError
from mmplug.registry import Provenance, Registry, discover, hookimpl, use_registry

HEALTHY = """
from mmplug.registry import hookimpl

@hookimpl
def mmplug_register_parts(register):
    register("frame_sampler", "healthy_sampler", "fakeplug_healthy:build", summary="still works")

def build(options, context):
    return "healthy sampler"
"""

EXITS_AT_IMPORT = {
    "sys.exit": "import sys\nsys.exit(3)\n",
    "argparse": "import argparse\nargparse.ArgumentParser(prog='fakeplug').parse_args(['--no-such-flag'])\n",
    "raise SystemExit": "raise SystemExit('bye')\n",
}


def install(site, dist: str, module: str, body: str) -> None:
    make_distribution(site, dist, "0.1", module, body)


def installed(site, *plugins: tuple[str, str, str]) -> Registry:
    """Install the healthy plugin and ``plugins`` (dist, module, body); discover only them."""
    install(site, "mmplug-fakeplug-healthy", "fakeplug_healthy", HEALTHY)
    for dist, module, body in plugins:
        install(site, dist, module, body)
    return discover(allow={"mmplug-fakeplug-healthy", *(dist for dist, _, _ in plugins)})


def listed(registry: Registry, capsys, *args: str) -> str:
    with use_registry(registry):
        assert main(["plugins", *args]) == 0
    return capsys.readouterr().out


def assert_listing_matches_what_builds(registry: Registry, capsys) -> dict:
    """Every part and preset ``--json`` calls usable can be asked for; every unusable one raises
    the problem the listing shows. Returns the listing."""
    data = json.loads(listed(registry, capsys, "--json"))
    for part in data["parts"]:
        if part["usable"]:
            assert registry.get(part["kind"], part["name"]).name == part["name"]
        else:
            with pytest.raises(MmplugError) as info:
                registry.get(part["kind"], part["name"])
            assert str(info.value) == part["problem"]
    for preset in data["presets"]:
        if preset["usable"]:
            registry.preset(preset["name"]).load()
        else:
            with pytest.raises(MmplugError):
                registry.preset(preset["name"])
    return data


def by_name(data: dict, name: str) -> dict:
    [row] = [p for p in data["parts"] + data["presets"] if p["name"] == name]
    return row


# ---------------------------------------------------------------------- item 6: SystemExit at import
@pytest.mark.parametrize("how", sorted(EXITS_AT_IMPORT))
def test_plugin_that_exits_at_import_is_listed_and_the_rest_work(site, capsys, how):
    registry = installed(site, ("mmplug-fakeplug-exits", "fakeplug_exits", EXITS_AT_IMPORT[how]))
    [failure] = registry.failures
    assert failure.provenance.distribution == "mmplug-fakeplug-exits"
    assert "SystemExit" in failure.error and "exit(" in failure.error
    assert registry.build("frame_sampler", "healthy_sampler", {}) == "healthy sampler"
    capsys.readouterr()  # argparse's own usage message
    data = assert_listing_matches_what_builds(registry, capsys)
    [row] = data["failures"]
    assert row["distribution"] == "mmplug-fakeplug-exits" and "SystemExit" in row["error"]
    assert by_name(data, "healthy_sampler")["usable"] is True
    text = listed(registry, capsys)
    assert "failed to load" in text and "fakeplug_exits [mmplug-fakeplug-exits 0.1]: SystemExit" in text


def test_every_command_survives_a_plugin_that_exits(site, capsys):
    install(site, "mmplug-fakeplug-exits", "fakeplug_exits", EXITS_AT_IMPORT["sys.exit"])
    registry = discover(allow={"mmplug", "mmplug-fakeplug-exits"})  # the built-in parts and the broken one
    with use_registry(registry):
        assert main(["validate", "tiny-random", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True


def test_the_mmplug_process_lists_a_plugin_that_exits(site):
    install(site, "mmplug-fakeplug-exits", "fakeplug_exits", EXITS_AT_IMPORT["argparse"])
    install(site, "mmplug-fakeplug-healthy", "fakeplug_healthy", HEALTHY)
    env = {**os.environ, "PYTHONPATH": str(site), "MMPLUG_PLUGINS": "mmplug-fakeplug-exits,mmplug-fakeplug-healthy"}
    result = subprocess.run([sys.executable, "-m", "mmplug.core.cli.main", "plugins", "--json"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [f["distribution"] for f in data["failures"]] == ["mmplug-fakeplug-exits"]
    assert [p["name"] for p in data["parts"]] == ["healthy_sampler"]


def test_keyboard_interrupt_in_a_plugin_still_interrupts(site):
    install(site, "mmplug-fakeplug-ctrl-c", "fakeplug_ctrl_c", "raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        discover(allow={"mmplug-fakeplug-ctrl-c"})


def test_exit_inside_a_hook_or_a_lazy_module_is_contained(site):
    registry = installed(site, ("mmplug-fakeplug-hook-exits", "fakeplug_hook_exits", """
        import sys
        from mmplug.registry import hookimpl

        @hookimpl
        def mmplug_register_parts(register):
            register("projector", "lazy_exit", "fakeplug_lazy_exit:build")
            sys.exit("no thanks")

        @hookimpl
        def mmplug_register_presets(register):
            register("exits-when-loaded", "fakeplug_lazy_exit:config")
    """))
    (site / "fakeplug_lazy_exit.py").write_text("raise SystemExit(4)\n")
    [failure] = registry.failures
    assert "mmplug_register_parts failed: SystemExit" in failure.error and "'no thanks'" in failure.error
    with pytest.raises(PluginLoadError, match="SystemExit"):
        registry.preset("exits-when-loaded").load()
    assert registry.build("frame_sampler", "healthy_sampler", {}) == "healthy sampler"


# ---------------------------------------------------------------------- item 7: misspelt hooks
MISSPELT = """
from mmplug.registry import hookimpl

@hookimpl
def mmplug_register_part(register):
    register("projector", "never_registered", "fakeplug_misspelt:build")

@hookimpl
def mmplug_register_presets(register):
    register("misspelt-preset", {"projector": {"name": "never_registered"}})
"""

UNDECORATED = """
def mmplug_register_parts(register):
    register("projector", "never_registered_either", "fakeplug_undecorated:build")
"""


def test_misspelt_and_undecorated_hooks_are_failures(site, capsys):
    registry = installed(site, ("mmplug-fakeplug-misspelt", "fakeplug_misspelt", MISSPELT),
                         ("mmplug-fakeplug-undecorated", "fakeplug_undecorated", UNDECORATED))
    errors = {f.provenance.distribution: f.error for f in registry.failures}
    assert set(errors) == {"mmplug-fakeplug-misspelt", "mmplug-fakeplug-undecorated"}
    misspelt = errors["mmplug-fakeplug-misspelt"]
    assert "'mmplug_register_part'" in misspelt and "did you mean 'mmplug_register_parts'" in misspelt
    assert "never called" in misspelt
    assert "'mmplug_register_parts'" in errors["mmplug-fakeplug-undecorated"]
    assert "no @hookimpl" in errors["mmplug-fakeplug-undecorated"]
    assert not registry.has("projector", "never_registered")
    data = assert_listing_matches_what_builds(registry, capsys)
    assert by_name(data, "misspelt-preset")["usable"] is True  # the correctly spelt hook still ran
    assert {f["distribution"] for f in data["failures"]} == set(errors)
    text = listed(registry, capsys)
    assert "fakeplug_misspelt [mmplug-fakeplug-misspelt 0.1]: @hookimpl 'mmplug_register_part'" in text


def test_a_helper_named_like_no_hook_is_not_reported():
    plugin = type(sys)("fakeplug_helpers")
    plugin.mmplug_version_string = lambda: "1.0"  # a plain function, far from every hook name
    registry = Registry()
    assert registry.add_plugin(plugin) is True and registry.failures == []


# ---------------------------------------------------------------------- item 9: listing = what builds
def registering(module: str, *names: str, then: str = "") -> str:
    lines = "\n".join(f"    register('frame_sampler', {n!r}, '{module}:build')" for n in names)
    return (f"from mmplug.registry import hookimpl\n\n@hookimpl\ndef mmplug_register_parts(register):\n{lines}\n"
            f"    {then or 'pass'}\n\ndef build(options, context):\n    return {module!r}\n")


def test_a_duplicate_name_is_listed_as_unusable_naming_both(site, capsys):
    registry = installed(site, ("mmplug-fakeplug-a", "fakeplug_a", registering("fakeplug_a", "clash", "only_a")),
                         ("mmplug-fakeplug-b", "fakeplug_b", registering("fakeplug_b", "clash", "only_b")))
    data = assert_listing_matches_what_builds(registry, capsys)
    clash = by_name(data, "clash")
    assert clash["usable"] is False
    assert "mmplug-fakeplug-a 0.1" in clash["problem"] and "mmplug-fakeplug-b 0.1" in clash["problem"]
    assert by_name(data, "only_a")["usable"] and by_name(data, "only_b")["usable"]
    with pytest.raises(DuplicatePartError):
        registry.build("frame_sampler", "clash", {})
    assert registry.build("frame_sampler", "only_b", {}) == "fakeplug_b"
    text = listed(registry, capsys)
    assert "UNUSABLE: frame_sampler 'clash' is registered twice" in text


def test_a_hook_that_raises_midway_withdraws_what_it_registered(site, capsys):
    registry = installed(site, ("mmplug-fakeplug-midway", "fakeplug_midway",
                                registering("fakeplug_midway", "before_crash", then="1 / 0")))
    [failure] = registry.failures
    assert "ZeroDivisionError" in failure.error and "withdrawn: frame_sampler 'before_crash'" in failure.error
    with pytest.raises(PluginLoadError, match="mmplug_register_parts hook failed after registering it"):
        registry.build("frame_sampler", "before_crash", {})
    data = assert_listing_matches_what_builds(registry, capsys)
    row = by_name(data, "before_crash")
    assert row["usable"] is False and row["distribution"] == "mmplug-fakeplug-midway"
    assert "UNUSABLE: frame_sampler 'before_crash' from mmplug-fakeplug-midway 0.1 is unavailable" in listed(
        registry, capsys)
    assert registry.build("frame_sampler", "healthy_sampler", {}) == "healthy sampler"


def test_a_failed_override_leaves_the_original_part_usable():
    registry = Registry()
    registry.register("projector", "p", lambda o, c: "original")
    plugin = type(sys)("fakeplug_override")

    @hookimpl
    def mmplug_register_parts(register):
        register("projector", "p", lambda o, c: "replacement", override=True)
        raise RuntimeError("crash after the override")

    plugin.mmplug_register_parts = mmplug_register_parts
    assert registry.add_plugin(plugin) is False
    assert registry.build("projector", "p", {}) == "original" and registry.problem("projector", "p") is None


def presets_plugin(own: str) -> str:
    return ("from mmplug.registry import hookimpl\n\n@hookimpl\ndef mmplug_register_presets(register):\n"
            f"    register('same-preset', {{}})\n    register({own!r}, {{}})\n")


def test_a_duplicate_preset_is_unusable_too(site, capsys):
    registry = installed(site, ("mmplug-fakeplug-pa", "fakeplug_pa", presets_plugin("pa")),
                         ("mmplug-fakeplug-pb", "fakeplug_pb", presets_plugin("pb")))
    data = assert_listing_matches_what_builds(registry, capsys)
    row = by_name(data, "same-preset")
    assert row["usable"] is False and "mmplug-fakeplug-pa" in row["problem"] and "mmplug-fakeplug-pb" in row["problem"]
    assert by_name(data, "pa")["usable"] and by_name(data, "pb")["usable"]
    with pytest.raises(DuplicatePartError):
        registry.preset("same-preset")


# ---------------------------------------------------------------------- item 8: factories that fail
def broken_registry(factory, provenance=Provenance("fakeplug_factory", "mmplug-fakeplug-factory", "0.3")):
    registry = Registry()
    assert registry.add_plugin(toy_parts)
    registry.register("projector", "broken_proj", factory, options=toy_parts.ToyProjectorOptions,
                      provenance=provenance)
    return registry


def toy_config_with(**sections) -> dict:
    config = toy_parts.toy_config()
    for section, name in sections.items():
        config[section] = {"name": name}
    return config


@pytest.mark.parametrize("factory, cause", [(lambda options, context: 1 / 0, "ZeroDivisionError: division by zero"),
                                            (lambda options, context: None, "returned None")])
def test_a_failing_factory_names_part_section_and_distribution(factory, cause):
    registry = broken_registry(factory)
    with use_registry(registry), pytest.raises(PluginLoadError) as info:
        build_model(toy_config_with(projector="broken_proj"))
    message = str(info.value)
    assert "projector 'broken_proj'" in message and "section 'projector'" in message
    assert "mmplug-fakeplug-factory 0.3" in message and cause in message


def test_the_original_exception_is_chained():
    registry = broken_registry(lambda options, context: {}["missing"])
    with pytest.raises(PluginLoadError) as info:
        registry.build("projector", "broken_proj", {}, section="video_projector")
    assert isinstance(info.value.__cause__, KeyError) and "section 'video_projector'" in str(info.value)


def test_mmplug_errors_of_a_factory_pass_through_unchanged():
    def refuses(options, context):
        raise BackendUnavailableError("needs a CUDA device")

    with pytest.raises(BackendUnavailableError, match="^needs a CUDA device$"):
        broken_registry(refuses).build("projector", "broken_proj", {})


def test_an_attention_factory_that_raises_becomes_a_config_issue():
    registry = broken_registry(lambda options, context: None)
    registry.register("attention", "crashing", lambda options, context: 1 / 0,
                      provenance=Provenance("fakeplug_attn", "mmplug-fakeplug-attn", "2.0"))
    with use_registry(registry), pytest.raises(ConfigError) as info:
        build_model(toy_config_with(attention="crashing"))
    issues = info.value.issues
    assert issues and {issue.path for issue in issues} == {"attention.name"}
    for issue in issues:
        assert "attention 'crashing'" in issue.message and "mmplug-fakeplug-attn 2.0" in issue.message
        assert "ZeroDivisionError" in issue.message


def test_an_installed_plugin_whose_factory_raises(site):
    install(site, "mmplug-fakeplug-crashy", "fakeplug_crashy", """
        from mmplug.registry import hookimpl

        @hookimpl
        def mmplug_register_parts(register):
            register("frame_sampler", "crashy", "fakeplug_crashy:build")

        def build(options, context):
            raise AttributeError("'NoneType' object has no attribute 'to'")
    """)
    registry = discover(allow={"mmplug-fakeplug-crashy"})
    with pytest.raises(PluginLoadError) as info:
        registry.build("frame_sampler", "crashy", {})
    assert str(info.value).startswith("frame_sampler 'crashy' (section 'frame_sampler', from "
                                      "mmplug-fakeplug-crashy 0.1) failed to build: AttributeError: ")
