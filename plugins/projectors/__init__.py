"""Built-in projectors plugin (registered through the mmplug entry point group)."""
