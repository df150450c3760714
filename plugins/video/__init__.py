"""Built-in video plugin (registered through the mmplug entry point group)."""
