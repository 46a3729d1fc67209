"""The report says "best" only where it means something, on a hand-made summary: not for metrics
a frozen frame satisfies trivially, not for collision timing won by a model that misses most
collisions, not for target metrics (shown with their true value, per scenario when scenarios
differ); captions are whole sentences without internal tags; an OOD table by axis; side-by-side
plots share their y-axis; metrics.parquet stores null where nothing was measured."""

import math
import re

import pyarrow.parquet as pq

from orrery.eval.summary import TRUTH, summarise, write_metrics
from orrery.report.best import best, contenders
from orrery.report.html import render
from orrery.report.plots import shared_ylim

MAIN, CV, CL = "run", "baseline:constant-velocity", "baseline:copy-last"
# model -> (position error px, collisions missed, timing error frames, energy flag, interpenetration, gravity)
SCORES = {MAIN: (1.0, 0.2, 1.5, 0.1, 0.3, 9.0), CV: (2.0, 0.4, 2.0, 0.8, 0.5, 0.1),
          CL: (4.0, 0.9, 0.5, 0.0, 0.0, 0.0), "floor": (0.05, 0.0, 0.1, 0.0, 0.0, 9.7)}
CLIPS = [("b0", "bounce", 9.81, "gap"), ("b1", "bounce", 9.81, "range"), ("c0", "collisions_2d", 0.0, "count")]


def rows() -> list[dict]:
    out = []
    for model, (pos, missed, timing, flag, pen, g) in SCORES.items():
        for key, scn, true_g, ood in CLIPS:
            base = {"model": model, "key": key, "split": "test_ood", "scenario": scn, "ood": ood}
            out += [dict(base, metric="position_error_px", step=s, value=pos * (1 + s)) for s in range(2)]
            out += [dict(base, metric=m, step=None, value=v) for m, v in (
                ("collisions_missed", missed), ("collision_timing_error", timing), ("energy_flag", flag),
                ("interpenetration_px", pen), ("gravity_recovered", g if true_g else 0.05 * g),
                ("restitution_error", math.nan))]
    for key, scn, true_g, ood in CLIPS:
        out.append({"model": TRUTH, "key": key, "split": "test_ood", "scenario": scn, "ood": ood,
                    "metric": "gravity_recovered", "step": None, "value": true_g})
    return out


def summary() -> dict:
    stamp = {"horizon": 2, "context": 4, "start": 0, "split": "test_ood", "data": "d", "model": MAIN}
    return summarise(rows(), stamp, [], main=MAIN)


def test_bold_only_where_ranking_means_something():
    s = summary()
    assert best(s, "position_error_px") == {MAIN}
    # copy-last misses 90% of collisions: its 0.5-frame timing is not a win; the run's 1.5 is
    assert best(s, "collision_timing_error") == {MAIN}
    assert contenders(s, "collision_timing_error") == ([MAIN, CV], "ranked only among models with collisions_missed <= 0.5")
    # a frozen frame never gains energy nor overlaps: no winner, marked instead
    assert best(s, "energy_flag") == set() and best(s, "interpenetration_px") == set()
    assert best(s, "gravity_recovered") == set()  # a target: compared with the truth
    assert best(s, "restitution_error") == set()  # nothing measured
    assert "floor" not in best(s, "collisions_missed")


def test_the_overview_shows_truth_per_scenario_and_no_false_bold():
    page = render(summary(), {})
    row = re.search(r"<tr><td class=\"l\"[^>]*>gravity_recovered.*?</tr>", page).group(0)
    assert "varies" in row and "per scenario" in row and "best" not in row
    flag = re.search(r"<tr><td class=\"l\"[^>]*>energy_flag.*?</tr>", page).group(0)
    assert "†" in flag and 'class="best"' not in flag
    timing = re.search(r"<tr><td class=\"l\"[^>]*>collision_timing_error.*?</tr>", page).group(0)
    assert timing.count('class="best"') == 1 and '<td class="best">1.5' in timing
    bounce = page.split("<h3>bounce · test_ood</h3>")[1].split("</table>")[0]
    assert "<td>9.81</td>" in re.search(r"gravity_recovered.*?</tr>", bounce).group(0)
    collide = page.split("<h3>collisions_2d · test_ood</h3>")[1].split("</table>")[0]
    assert "<td>0</td>" in re.search(r"gravity_recovered.*?</tr>", collide).group(0)


def test_captions_are_whole_and_untagged():
    s = summary()
    for name, info in s["metrics"].items():
        assert not info["doc"].startswith("[H]") and "[H]" not in info["doc"], name
        assert info["doc"].rstrip().endswith((".", ")")), (name, info["doc"])
    assert "[H]" not in render(s, {})


def test_ood_table_by_axis():
    s = summary()
    assert list(s["by_ood"]) == ["count", "gap", "range"]
    assert s["by_ood"]["gap"]["clips"] == 1 and s["by_ood"]["gap"][MAIN] == 1.5
    page = render(s, {})
    assert "Out of distribution, by axis" in page and "<td class=\"l\">count</td><td>1</td>" in page


def test_side_by_side_plots_share_one_y_range():
    a = {"m": {"position_error_px": [1.0, 2.0]}}
    b = {"m": {"position_error_px": [3.0, 8.0]}}
    lo, hi = shared_ylim([a, b], "position_error_px", ["m"])
    assert lo == 0.0 and 8.0 < hi < 9.0


def test_metrics_parquet_stores_null_where_nothing_was_measured(tmp_path):
    write_metrics(tmp_path / "m.parquet", rows())
    t = pq.read_table(tmp_path / "m.parquet")
    values = t["value"].to_pylist()
    assert None in values and not any(isinstance(v, float) and math.isnan(v) for v in values)
    import pyarrow.compute as pc

    assert pc.mean(t["value"]).as_py() is not None and math.isfinite(pc.mean(t["value"]).as_py())
