"""Built-in clip plugin (registered through the mmplug entry point group)."""
