"""Tests of the processor: tokenizer, chat templates, image preprocessing, batching, labels."""
