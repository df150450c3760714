"""Built-in image plugin (registered through the mmplug entry point group)."""
