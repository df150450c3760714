"""Built-in presets plugin (registered through the mmplug entry point group)."""
