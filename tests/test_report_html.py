"""report.html is one self-contained file: nothing fetched from outside, every image decodes,
the model card has Mitchell et al.'s sections; and (where Chromium exists) it renders."""

import base64
import io
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from orrery.eval.evaluate import evaluate
from orrery.eval.synthetic import scene, write_dataset
from orrery.report.animate import triptych_frames
from orrery.report.model_card import sections


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.refs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "data", "poster", "action"):
                self.refs.append((tag, k, v or ""))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("rep")
    write_dataset(root / "ds", [scene(32, 20, seed=i, key=f"k{i}") for i in range(3)])
    summary = evaluate("baseline:constant-velocity", root / "ds", "test", root / "out", baselines=("copy-last",),
                       progress=False)
    return root / "out" / "report.html", summary


def test_report_is_self_contained_and_images_decode(report):
    path, summary = report
    html = path.read_text()
    p = Collect()
    p.feed(html)
    assert "script" not in p.tags and "link" not in p.tags and "iframe" not in p.tags
    assert "url(" not in html and "@import" not in html
    imgs = [v for tag, k, v in p.refs if tag == "img"]
    assert p.refs and all(v.startswith("data:image/") for _, _, v in p.refs)  # nothing from the network
    gifs = 0
    for uri in imgs:
        head, data = uri.split(",", 1)
        im = Image.open(io.BytesIO(base64.b64decode(data)))
        im.load()
        assert im.size[0] > 50 and im.size[1] > 50
        if head.startswith("data:image/gif"):
            gifs += 1
            assert getattr(im, "n_frames", 1) == summary["context"] + summary["horizon"]
    assert gifs == 3  # best, typical, worst
    text = " ".join(p.text)
    for title, _ in sections(summary):
        assert title in text
    for m in summary["models"]:
        assert m in text
    assert "\n# Model card: baseline:constant-velocity" in (path.parent / "model_card.md").read_text()


def test_triptych_shows_truth_prediction_and_error():
    ctx = np.zeros((2, 8, 8, 3), np.uint8)
    truth = np.full((3, 8, 8, 3), 200, np.uint8)
    pred = np.full((3, 8, 8, 3), 50, np.uint8)
    f = triptych_frames(ctx, truth, pred, zoom=1)
    assert f.shape == (5, 10, 3 * 8 + 4, 3)
    assert (f[2, :8, :8] == 200).all() and (f[2, :8, 10:18] == 50).all() and (f[2, :8, 20:] == 150).all()
    assert (f[0, :8, 20:] == 0).all()  # no error panel during the context


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(report, tmp_path):
    path, _ = report
    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600",
                    f"--screenshot={shot}", path.as_uri()], check=True, capture_output=True, timeout=120)
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[:2] == (1600, 1200)
    # a rendered page: mostly white background, with text, tables and plots drawn on it
    assert (img > 240).all(-1).mean() > 0.5 and (img < 100).any(-1).mean() > 0.01
