"""Built-in checkpoint formats (registered through the mmplug entry point group)."""
