"""Tests of the model plugins (CLIP, projectors, decoders, attention) and the multimodal assembly."""
