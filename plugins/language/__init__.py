"""Built-in language plugin (registered through the mmplug entry point group)."""
