"""The training loop in-process: learning, freezing per stage, checkpoints in the save_pretrained
layout, and the refusal to overwrite a run."""
from __future__ import annotations

import torch

import pytest

from mmplug.core.errors import CheckpointError, ConfigError
from mmplug.core.training import load_train_config, train
from mmplug.core.training.metrics import read_metrics
from mmplug.core.training.state import list_checkpoints


def _snapshot(module):
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def test_loss_falls_and_metrics_are_logged(tiny_data, tmp_path, make_train_config):
    config = load_train_config(make_train_config(tiny_data, tmp_path / "run", stages=[
        {"name": "all", "steps": 12, "lr": 3e-3, "warmup_steps": 2}]))
    result = train(config)
    records = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert [r["step"] for r in records] == list(range(1, 13))
    assert records[-1]["loss"] < records[0]["loss"]
    lrs = [r["lr"] for r in records]
    assert lrs[1] == pytest.approx(3e-3) and lrs[-1] < lrs[1] and lrs[0] < lrs[1]
    assert all(r["grad_norm"] > 0 for r in records)
    assert result.steps == 12


def test_stages_freeze_the_parts_they_do_not_train(tiny_data, tmp_path, make_train_config):
    from mmplug.core.training.trainer import Trainer

    config = load_train_config(make_train_config(tiny_data, tmp_path / "run", stages=[
        {"name": "projector-only", "steps": 2, "lr": 1e-2, "train": ["projector"]},
        {"name": "projector+lm", "steps": 2, "lr": 1e-2, "train": ["projector", "language_model"]}]))
    trainer = Trainer(config)
    built = trainer.build()
    before = {part: _snapshot(getattr(built.model, part)) for part in ("vision_encoder", "projector",
                                                                        "language_model")}
    trainer.build = lambda: built  # train the model we snapshotted
    config_one = config.model_copy(update={"stages": config.stages[:1]})
    trainer.config = config_one
    trainer.run()
    after_one = {part: _snapshot(getattr(built.model, part)) for part in before}
    changed = {part: any(not torch.equal(before[part][n], after_one[part][n]) for n in before[part])
               for part in before}
    assert changed == {"vision_encoder": False, "projector": True, "language_model": False}
    trainer.config = config.model_copy(update={"stages": config.stages[1:], "output_dir": tmp_path / "run2"})
    trainer.output_dir = tmp_path / "run2"
    trainer.run()
    after_two = {part: _snapshot(getattr(built.model, part)) for part in before}
    assert all(torch.equal(after_one["vision_encoder"][n], after_two["vision_encoder"][n])
               for n in after_one["vision_encoder"])
    assert any(not torch.equal(after_one["language_model"][n], after_two["language_model"][n])
               for n in after_one["language_model"])


def test_lr_scale_slows_one_part(tiny_data, tmp_path, make_train_config):
    """Adam's first step moves every weight by about lr (sign of the gradient): a part with
    lr_scale 0.1 moves ten times less than the others."""
    from mmplug.core.training.trainer import Trainer

    config = load_train_config(make_train_config(tiny_data, tmp_path / "run", stages=[
        {"steps": 1, "lr": 1e-2, "weight_decay": 0.0, "lr_scale": {"vision_encoder": 0.1}}]))
    trainer = Trainer(config)
    built = trainer.build()
    before = {part: _snapshot(getattr(built.model, part)) for part in ("vision_encoder", "language_model")}
    trainer.build = lambda: built
    trainer.run()
    moved = {part: max(float((p.detach() - before[part][n]).abs().max())
                       for n, p in getattr(built.model, part).named_parameters()) for part in before}
    assert moved["vision_encoder"] == pytest.approx(1e-3, rel=0.05)
    assert moved["language_model"] == pytest.approx(1e-2, rel=0.05)


def test_checkpoints_load_with_from_pretrained(tiny_data, tmp_path, make_train_config):
    from mmplug.core.pipeline import Pipeline

    config = load_train_config(make_train_config(tiny_data, tmp_path / "run", save_every=2, keep_checkpoints=2,
                                                 save_final=True, final_dtype="float16"))
    result = train(config)
    names = [p.name for p in list_checkpoints(tmp_path / "run")]
    assert names == ["checkpoint-000004", "checkpoint-000006"]  # the oldest (step 2) was dropped
    loaded = Pipeline.from_pretrained(tmp_path / "run" / "checkpoint-000006")
    inputs = {"input_ids": torch.tensor([[1, 14, 16, 44]])}
    with torch.no_grad():
        expected = result.pipeline.model(**inputs).logits
        assert torch.allclose(loaded.model(**inputs).logits, expected, atol=1e-5)
        half = Pipeline.from_pretrained(tmp_path / "run" / "final")
        assert torch.allclose(half.model(**inputs).logits, expected, atol=5e-2)
    assert (tmp_path / "run" / "final" / "tokenizer.json").is_file()


def test_an_existing_run_is_not_overwritten(tiny_data, tmp_path, make_train_config):
    config = load_train_config(make_train_config(tiny_data, tmp_path / "run", save_every=2, save_final=True,
                                                 stages=[{"steps": 4, "lr": 1e-3}]))
    train(config)
    with pytest.raises(CheckpointError, match="--resume"):
        train(config)
    with pytest.raises(CheckpointError, match="already complete"):
        train(config, resume=True)


def test_freeze_clash_is_reported(tiny_data, tmp_path, make_train_config, make_pipeline):
    pipeline = make_pipeline()
    pipeline["multimodal"]["freeze"] = ["projector"]
    config = load_train_config(make_train_config(tiny_data, tmp_path / "run", pipeline=pipeline,
                                                 stages=[{"steps": 2, "lr": 1e-3, "train": ["projector"]}]))
    with pytest.raises(ConfigError, match="multimodal.freeze"):
        train(config)


def test_resume_at_a_stage_boundary_starts_the_next_stage_fresh(tiny_data, tmp_path, make_train_config):
    stages = [{"name": "a", "steps": 2, "lr": 3e-3}, {"name": "b", "steps": 3, "lr": 1e-3, "train": ["projector"]}]
    reference = train(load_train_config(make_train_config(tiny_data, tmp_path / "ref", stages=stages)))
    config = load_train_config(make_train_config(tiny_data, tmp_path / "run", save_every=2, stages=stages))
    train(config)  # leaves checkpoint-000002 (the end of stage a) and checkpoint-000004; final not saved
    import shutil

    shutil.rmtree(tmp_path / "run" / "checkpoint-000004")
    resumed = train(config, resume=True)
    expected = read_metrics(tmp_path / "ref" / "metrics.jsonl")
    curve = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert [r["step"] for r in curve] == [1, 2, 3, 4, 5]
    assert [r["loss"] for r in curve] == pytest.approx([r["loss"] for r in expected], rel=1e-4, abs=1e-5)
    assert resumed.last_loss == pytest.approx(reference.last_loss, rel=1e-4)


def test_init_std_reinitialises_weights_but_not_norms(make_pipeline):
    from mmplug.core.pipeline import Pipeline
    from mmplug.core.training.trainer import reinitialise

    model = Pipeline.from_config(make_pipeline(**{"language_model.hidden_size": 64})).model
    norms = {n: p.clone() for n, p in model.named_parameters() if "norm" in n}
    reinitialise(model, 0.02)
    for name, module in model.named_modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)) and module.weight.numel() >= 1000:
            assert module.weight.std().item() == pytest.approx(0.02, rel=0.15), name
        if isinstance(module, torch.nn.Linear) and module.bias is not None:
            assert not module.bias.any(), name
    assert all(torch.equal(p, norms[n]) for n, p in model.named_parameters() if n in norms)


def test_group_by_media_never_pads_an_image_to_a_clip(tiny_data, tmp_path, make_train_config, monkeypatch):
    from mmplug.core.training import trainer

    kinds = []
    real = trainer.training_batch

    def spy(processor, media, samples):
        kinds.append({(len(s.videos), len(s.images)) for s in samples})
        return real(processor, media, samples)

    monkeypatch.setattr(trainer, "training_batch", spy)
    config = make_train_config(tiny_data, tmp_path / "run", stages=[{"name": "all", "steps": 6, "lr": 1e-3}])
    train(load_train_config({**config, "group_by_media": True}))
    assert len(kinds) == 6 and all(len(kind) == 1 for kind in kinds)
    assert {kind.pop() for kind in kinds} == {(1, 0), (0, 1)}  # clips and images both came, never together
