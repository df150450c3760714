"""The bag_of_words objective (vision-side pretraining) and stages with their own manifests."""
from __future__ import annotations

import json
import shutil

import pytest
import torch
import torch.nn.functional as F

from mmplug.core.errors import ConfigError, ProcessorError
from mmplug.core.pipeline import Pipeline
from mmplug.core.training import load_train_config, read_manifest, train
from mmplug.core.training.data import MediaCache, training_batch
from mmplug.core.training.metrics import read_metrics
from mmplug.core.training.objectives import bag_of_words_loss, pooled_media_embeddings, special_token_ids


@pytest.fixture(scope="module")
def pipe(make_pipeline):
    torch.manual_seed(0)
    return Pipeline.from_config(make_pipeline())


def _batch(pipe, tiny_data, lines):
    samples = read_manifest(tiny_data / "train.jsonl")
    return training_batch(pipe.processor, MediaCache(pipe), [samples[i] for i in lines])


def test_pooled_embeddings_are_the_mean_of_each_samples_media_features(pipe, tiny_data):
    samples = read_manifest(tiny_data / "train.jsonl")
    clip, image = next(i for i, s in enumerate(samples) if s.videos), next(i for i, s in enumerate(samples) if s.images)
    batch = _batch(pipe, tiny_data, [clip, image])
    with torch.no_grad():
        pooled = pooled_media_embeddings(pipe.model, batch)
        video = pipe.model.video_features(batch["pixel_values_videos"])[0]  # (T*L, D)
        picture = pipe.model.image_features(batch["pixel_values_images"])[0]  # (L, D)
    torch.testing.assert_close(pooled[0], video.mean(0))
    torch.testing.assert_close(pooled[1], picture.mean(0))


def test_bag_of_words_loss_scores_every_answer_token_but_special_ones(pipe, tiny_data):
    batch = _batch(pipe, tiny_data, [0, 1])
    ignore = special_token_ids(pipe.processor)
    assert pipe.processor.tokenizer.eos_token_id in ignore
    loss = bag_of_words_loss(pipe.model, batch, ignore)
    with torch.no_grad():
        logp = F.log_softmax(pipe.model.language_model.logits(pooled_media_embeddings(pipe.model, batch)), -1)
    terms = [logp[row, token] for row in range(2) for token in batch["labels"][row].tolist()
             if token != -100 and token not in ignore]
    assert len(terms) >= 2
    torch.testing.assert_close(loss.detach(), -torch.stack(terms).mean())


def test_bag_of_words_needs_media_in_every_sample(pipe):
    batch = pipe.processor.training_batch([[{"role": "user", "content": "What shape is it?"},
                                            {"role": "assistant", "content": "circle"}]])
    with pytest.raises(ProcessorError, match="no image or video"):
        bag_of_words_loss(pipe.model, batch)


def _stills(shapes, out, count=8):
    shapes.write_split(out, "stills", clips=0, images=0, first_seed=0, stills=count)
    return out / "stills.jsonl"


def test_a_bag_of_words_stage_trains_the_vision_side_only(tiny_data, tmp_path, make_train_config, shapes):
    stills = _stills(shapes, tmp_path / "data")
    config = load_train_config(make_train_config(tiny_data, tmp_path / "run", save_final=False, stages=[
        {"name": "tower", "steps": 8, "lr": 3e-3, "objective": "bag_of_words", "train_manifest": str(stills),
         "batch_size": 8}]))
    from mmplug.core.training.trainer import Trainer

    trainer = Trainer(config)
    built = trainer.build()
    trainer.build = lambda: built
    before = {n: p.detach().clone() for n, p in built.model.named_parameters()}
    train_result = trainer.run()
    after = dict(built.model.named_parameters())
    changed = {n for n in before if not torch.equal(before[n], after[n].detach())}
    assert any(n.startswith("vision_encoder.") for n in changed)
    assert any(n.startswith("projector.") for n in changed)
    assert "language_model.lm_head.weight" in changed
    decoder_layers = [n for n in before if n.startswith("language_model.layers.")]
    assert decoder_layers and not changed & set(decoder_layers)
    assert "language_model.embed_tokens.weight" not in changed
    records = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert records[-1]["loss"] < records[0]["loss"]
    assert train_result.steps == 8


def test_a_bag_of_words_stage_refuses_a_manifest_with_text_only_lines(tiny_data, tmp_path, make_train_config):
    manifest = tmp_path / "mixed.jsonl"
    lines = (tiny_data / "train.jsonl").read_text().splitlines()[:2]
    lines.append(json.dumps({"conversations": [{"role": "user", "content": "Hi?"},
                                               {"role": "assistant", "content": "circle"}]}))
    manifest.write_text("\n".join(lines) + "\n")
    for line in lines[:2]:
        media = json.loads(line).get("video") or json.loads(line).get("image")
        (tmp_path / media).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tiny_data / media, tmp_path / media)
    config = load_train_config(make_train_config(tiny_data, tmp_path / "run", stages=[
        {"name": "tower", "steps": 2, "lr": 1e-3, "objective": "bag_of_words", "train_manifest": str(manifest)}]))
    with pytest.raises(ConfigError, match=r"stages\.0\.objective.*mixed\.jsonl line 3 has no image or video"):
        train(config)


def test_stages_with_their_own_data_resume_at_the_boundary_and_inside(tiny_data, tmp_path, make_train_config,
                                                                      shapes):
    stills = _stills(shapes, tmp_path / "data")
    stages = [{"name": "tower", "steps": 4, "lr": 3e-3, "objective": "bag_of_words", "train_manifest": str(stills),
               "batch_size": 3},
              {"name": "all", "steps": 4, "lr": 1e-3}]
    reference = read_metrics(train(load_train_config(make_train_config(
        tiny_data, tmp_path / "ref", stages=stages))).pipeline and tmp_path / "ref" / "metrics.jsonl")
    config = load_train_config(make_train_config(tiny_data, tmp_path / "run", save_every=2, keep_checkpoints=4,
                                                 stages=stages))
    train(config)  # checkpoints at steps 2, 4 (the stage boundary) and 6
    for resume_from in (6, 4, 2):
        for later in tmp_path.joinpath("run").glob("checkpoint-*"):
            if int(later.name.rsplit("-", 1)[1]) > resume_from:
                shutil.rmtree(later)
        train(config, resume=True)
        curve = read_metrics(tmp_path / "run" / "metrics.jsonl")
        assert [r["step"] for r in curve] == list(range(1, 9))
        assert [r["loss"] for r in curve] == pytest.approx([r["loss"] for r in reference], rel=1e-4, abs=1e-5)
    assert [r["stage"] for r in curve] == ["tower"] * 4 + ["all"] * 4


def test_pooled_readout_scores_the_heads_best_word_among_the_tasks_answers(pipe, shapes, tmp_path, monkeypatch):
    from mmplug.core.training.objectives import pooled_readout

    samples = read_manifest(shapes.write_split(tmp_path, "test", clips=15, images=0, first_seed=shapes.HELD_OUT_SEED,
                                               one_question=True))
    shape_answers = [s.answer() for s in samples if s.meta["task"] == "shape"]
    assert "circle" in shape_answers and len(set(shape_answers)) > 1  # the check below can fail
    token = {w: pipe.processor.tokenizer.encode(w, add_special_tokens=False)[0] for w in ("circle", "?")}

    def logits(hidden):  # a head that prefers "?" (no task's answer), then "circle"
        out = torch.zeros(hidden.shape[0], pipe.model.language_model.vocab_size)
        out[:, token["?"]], out[:, token["circle"]] = 100.0, 10.0
        return out

    monkeypatch.setattr(pipe.model.language_model, "logits", logits)
    readout = pooled_readout(pipe, samples)
    assert set(readout) == {"shape", "colour", "direction"}
    assert readout["shape"] == shape_answers.count("circle") / len(shape_answers)


def test_pooled_readout_names_a_multi_token_answer(pipe, tiny_data):
    from mmplug.core.training.objectives import pooled_readout

    sample = read_manifest(tiny_data / "train.jsonl")[0]
    two_words = type(sample)(sample.images, sample.videos, sample.conversations[:1] + (
        {"role": "assistant", "content": "red circle"},), sample.meta, 7)
    with pytest.raises(ProcessorError, match="line 7: answer 'red circle' is 2 tokens"):
        pooled_readout(pipe, [two_words])
