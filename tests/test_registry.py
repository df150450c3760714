"""Registry: inline and entry-point plugins, duplicates, broken plugins, suggestions, allow-list."""
from __future__ import annotations

import types

import pytest

import toy_parts
from fake_distributions import make_distribution, site  # noqa: F401 - site is a fixture
from mmplug.core.errors import DuplicatePartError, PluginLoadError, UnknownPartError
from mmplug.registry import Kind, Registry, discover, hookimpl


GOOD_PLUGIN = """
from mmplug.registry import hookimpl

@hookimpl
def mmplug_register_parts(register):
    register("frame_sampler", "every_other", "{module}:build", summary="every second frame")

def build(options, context):
    return "built every_other"
"""


def test_inline_plugin_registers_through_the_hook(toy_registry):
    spec = toy_registry.get("projector", "toy_proj")
    assert spec.kind is Kind.PROJECTOR and spec.summary == "toy projector"
    assert toy_registry.names("attention") == ["cuda_only", "toy_attention"]
    assert [p.name for p in toy_registry.presets()] == ["toy"]


def test_entry_point_plugin_is_listed_with_its_distribution_and_usable(site):
    make_distribution(site, "mmplug-fakeplug", "1.2.3", "fakeplug_good", GOOD_PLUGIN.format(module="fakeplug_good"))
    registry = discover(allow={"mmplug-fakeplug"})
    spec = registry.get("frame_sampler", "every_other")
    assert spec.provenance.distribution == "mmplug-fakeplug"
    assert spec.provenance.version == "1.2.3"
    assert registry.build("frame_sampler", "every_other", {}) == "built every_other"
    assert registry.failures == []


def test_builtin_parts_come_from_the_mmplug_entry_points():
    registry = discover()
    presets = {p.name: p for p in registry.presets()}
    assert "tiny-random" in presets and "video-llava-7b" in presets
    assert presets["tiny-random"].provenance.distribution == "mmplug"


def test_duplicate_names_name_both_distributions(site):
    for dist, module in (("mmplug-fakeplug-a", "fakeplug_a"), ("mmplug-fakeplug-b", "fakeplug_b")):
        make_distribution(site, dist, "0.1", module, GOOD_PLUGIN.format(module=module))
    registry = discover(allow={"mmplug-fakeplug-a", "mmplug-fakeplug-b"})
    with pytest.raises(DuplicatePartError) as info:
        registry.get("frame_sampler", "every_other")
    assert "mmplug-fakeplug-a" in str(info.value) and "mmplug-fakeplug-b" in str(info.value)
    assert any("registered twice" in f.error for f in registry.failures)


def test_override_flag_replaces_a_part():
    registry = Registry()
    registry.register("projector", "p", lambda o, c: 1)
    with pytest.raises(DuplicatePartError):
        registry.register("projector", "p", lambda o, c: 2)
    registry.register("projector", "p", lambda o, c: 2, override=True)
    assert registry.build("projector", "p", {}) == 2


def test_plugin_that_raises_on_import_is_recorded_not_fatal(site):
    make_distribution(site, "mmplug-fakeplug-broken", "0.1", "fakeplug_broken", "raise RuntimeError('boom at import')\n")
    make_distribution(site, "mmplug-fakeplug", "1.0", "fakeplug_ok", GOOD_PLUGIN.format(module="fakeplug_ok"))
    registry = discover(allow={"mmplug-fakeplug-broken", "mmplug-fakeplug"})
    assert registry.get("frame_sampler", "every_other")  # the healthy plugin still works
    [failure] = registry.failures
    assert failure.provenance.distribution == "mmplug-fakeplug-broken" and "boom at import" in failure.error
    with pytest.raises(UnknownPartError) as info:
        registry.get("frame_sampler", "scene_change")
    assert "mmplug-fakeplug-broken" in str(info.value) and "boom at import" in str(info.value)


def test_lazy_factory_failure_raises_only_when_built(site):
    make_distribution(site, "mmplug-fakeplug-lazy", "0.1", "fakeplug_lazy", """
        from mmplug.registry import hookimpl

        @hookimpl
        def mmplug_register_parts(register):
            register("projector", "heavy", "fakeplug_lazy_missing_module:build")
    """)
    registry = discover(allow={"mmplug-fakeplug-lazy"})
    spec = registry.get("projector", "heavy")  # listing works
    with pytest.raises(PluginLoadError, match="fakeplug_lazy_missing_module"):
        spec.load_factory()


def test_hook_that_raises_is_recorded():
    plugin = types.ModuleType("fakeplug_hook")

    @hookimpl
    def mmplug_register_parts(register):
        register("projector", "first", lambda o, c: None)
        raise ValueError("half-way failure")

    plugin.mmplug_register_parts = mmplug_register_parts
    registry = Registry()
    assert registry.add_plugin(plugin) is False
    assert "half-way failure" in registry.failures[0].error


def test_unknown_name_suggests_close_matches(toy_registry):
    with pytest.raises(UnknownPartError) as info:
        toy_registry.get("projector", "toy_prj")
    message = str(info.value)
    assert "Did you mean: 'toy_proj'" in message and "Installed projector parts" in message
    with pytest.raises(ValueError, match="unknown plugin kind"):
        toy_registry.get("projektor", "x")


def test_allow_list_from_environment(site, monkeypatch):
    make_distribution(site, "mmplug-fakeplug", "1.0", "fakeplug_env", GOOD_PLUGIN.format(module="fakeplug_env"))
    monkeypatch.setenv("MMPLUG_PLUGINS", "mmplug")
    assert not discover().has("frame_sampler", "every_other")
    monkeypatch.setenv("MMPLUG_PLUGINS", "mmplug,fakeplug_env")  # entry-point names work too
    assert discover().has("frame_sampler", "every_other")


def test_entry_points_can_be_disabled(monkeypatch):
    monkeypatch.setenv("MMPLUG_DISABLE_ENTRY_POINTS", "1")
    registry = discover()
    assert registry.parts() == [] and registry.presets() == []
    registry.add_plugin(toy_parts)
    assert registry.has("projector", "toy_proj")
