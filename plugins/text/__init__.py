"""Built-in text plugin (registered through the mmplug entry point group)."""
