"""Model cards, datasheets and dataset cards carry YAML front matter in the Hugging Face
conventions (read back with a YAML loader, and with huggingface_hub when installed), datasheets
have every section of Gebru et al., and a model card's intended use is what its run was trained on."""

from pathlib import Path

import pytest
import yaml

from orrery.curate.config import CurateConfig
from orrery.curate.datasheet import write_datasheet as curate_datasheet
from orrery.eval.evaluate import evaluate
from orrery.eval.synthetic import scene, write_dataset
from orrery.report.model_card import markdown
from orrery.sim.simulate import simulate

GEBRU = ("Motivation", "Composition", "Collection process", "Uses", "Distribution", "Maintenance")


def front(text: str) -> dict:
    assert text.startswith("---\n"), text[:40]
    head, _, body = text[4:].partition("\n---\n")
    meta = yaml.safe_load(head)
    assert isinstance(meta, dict) and body.strip()
    return meta


def test_simulate_datasheet_and_card_have_front_matter_and_every_section(tmp_path):
    spec = {"name": "cards", "seed": 1, "video": {"size": 32, "fps": 15, "frames": 4}, "shard_size": 4,
            "scenarios": [{"scenario": "bounce", "clips": {"train": 2, "val": 1, "test": 1, "test_ood": 0}}]}
    simulate(spec, tmp_path / "d", progress=False)
    sheet = (tmp_path / "d" / "datasheet.md").read_text()
    meta = front(sheet)
    assert meta["license"] == "cc-by-4.0" and "bounce" in meta["tags"] and meta["size_categories"] == ["n<1K"]
    for section in GEBRU:
        assert f"\n## {section}" in sheet, section
    card = front((tmp_path / "d" / "README.md").read_text())
    assert card["pretty_name"] == "cards" and [d["split"] for d in card["configs"][0]["data_files"]] == \
        ["train", "val", "test"]


def test_curate_datasheet_has_front_matter_and_every_section(tmp_path):
    summary = {"inputs": 2, "kept": 1, "rejected": 1, "reasons": {"blurry": 1}, "shards": ["train-00000.tar"],
               "stages": {}}
    rows = [{"key": "a", "split": "train", "n_frames": 16, "fps": 8.0, "score.motion": 1.0}]
    curate_datasheet(tmp_path / "datasheet.md", CurateConfig(), summary, rows, [])
    text = (tmp_path / "datasheet.md").read_text()
    meta = front(text)
    assert meta["license"] == "other" and "face-blurred" in meta["tags"] and "physics" not in meta["tags"]
    for section in GEBRU:
        assert f"\n## {section}" in text, section


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from orrery.recipes.world import train_world

    root = tmp_path_factory.mktemp("card")
    clips = [scene(32, 20, seed=i, key=f"t{i}") for i in range(2)]
    clips = [(f, m, dict(meta, split="train")) for f, m, meta in clips] + [scene(32, 20, seed=9, key="s0")]
    write_dataset(root / "ds", clips)
    train_world(root / "ds", root / "run", "pixel", "tiny", sets=[
        "train.steps=1", "train.batch_size=2", "train.val_every=100", "model.channels=[8,8]",
        "model.residual_channels=[8,8]", "model.cond_dim=16", "model.text_dim=16"], progress=False)
    evaluate(str(root / "run"), root / "ds", "test", root / "ev", baselines=("copy-last",), progress=False)
    return root


def test_model_card_front_matter_and_intended_use_from_the_training_data(trained):
    text = (trained / "ev" / "model_card.md").read_text()
    meta = front(text)
    assert meta["license"] == "apache-2.0" and meta["library_name"] == "orrery"
    assert meta["datasets"] == ["ds"] and "pixel" in meta["tags"] and "position_error_px" in meta["metrics"]
    result = meta["model-index"][0]["results"][0]
    assert result["dataset"]["split"] == "test" and result["metrics"][0]["type"] == "position_error_px"
    use = text.split("## Intended use\n\n")[1].split("\n")[0]
    assert "synthetic" in use and "32x32 px" in use and "4 context frames" in use
    assert "pendulum" not in use and "projectile" not in use  # scenes it never saw are not its intended use


def test_a_baseline_card_says_it_has_no_training_distribution(tmp_path, trained):
    s = evaluate("baseline:copy-last", trained / "ds", "test", tmp_path, baselines=(), progress=False)
    text = markdown(s)
    meta = front(text)
    assert meta["datasets"] == [] and "model-index" in meta


def test_huggingface_hub_reads_the_model_card(trained):
    hub = pytest.importorskip("huggingface_hub")
    card = hub.ModelCard.load(Path(trained / "ev" / "model_card.md"))
    assert card.data.license == "apache-2.0" and card.data.datasets == ["ds"]
    assert card.data.eval_results and card.data.eval_results[0].metric_type == "position_error_px"
