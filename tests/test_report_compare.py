"""The ID vs OOD page: ratios per horizon, self-contained, links to the split reports."""

import base64
import re

from orrery.report.compare import write_comparison


def _summary(scale: float) -> dict:
    per = {m: {"position_error_px": [scale * k * (h + 1) for h in range(12)], "objects_lost": [0.0] * 11 + [k / 10]}
           for m, k in (("run", 1.0), ("baseline:copy-last", 2.0), ("floor", 0.05))}
    return {"model": "run", "horizon": 12, "context": 4, "models": list(per), "per_step": per}


def test_comparison_shows_ood_over_id_and_is_self_contained(tmp_path):
    reports = {"test": str(tmp_path / "eval-test" / "report.html"), "test_ood": str(tmp_path / "eval-test_ood" / "report.html")}
    path = write_comparison(tmp_path / "report.html", {"test": _summary(1.0), "test_ood": _summary(3.0)}, reports)
    page = path.read_text()
    assert page.count("3.00×") == 5 * 3  # every model (3) at every marked horizon (1, 2, 4, 8, 12)
    assert "href='eval-test/report.html'" in page and "href='eval-test_ood/report.html'" in page
    srcs = re.findall(r"src='([^']+)'", page)
    assert len(srcs) == 2 and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert base64.b64decode(srcs[0].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
