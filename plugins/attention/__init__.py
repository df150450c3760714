"""Built-in attention plugin (registered through the mmplug entry point group)."""
