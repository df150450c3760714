"""Tests of checkpoint loading, saving, config.json translation, hub resolution and conversion."""
