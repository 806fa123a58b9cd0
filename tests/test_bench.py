"""bench/quality.py's RESULTS.md row insertion (the benchmark itself runs for an hour: not in the suite)."""

import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROW = "| r | --f | 59 000 / last | 60 | 59.1 | 262 | 89.72 | **84.15** | 5000 | 2026-11-23 |"


def _quality():
    spec = importlib.util.spec_from_file_location("quality", os.path.join(HERE, "..", "bench", "quality.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_row_goes_under_the_existing_table_whatever_its_heading(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n# Quality per CPU-hour (`python bench/quality.py`), both machines\n\n"
                       "Prose.\n\n| recipe | x |\n|---|---|\n| old | 1 |\n\nAfter the table.\n\n## Later section\n")
    _quality().add_row(str(results), ROW)
    lines = results.read_text().split("\n")
    assert lines[lines.index("| old | 1 |") + 1] == ROW
    assert results.read_text().count("Quality per CPU-hour") == 1  # no second section
    assert "After the table." in lines and "## Later section" in lines


def test_row_creates_the_section_when_missing(tmp_path):
    results = tmp_path / "RESULTS.md"
    _quality().add_row(str(results), ROW)
    text = results.read_text()
    assert "## Quality per CPU-hour" in text and text.rstrip("\n").endswith(ROW)
    _quality().add_row(str(results), ROW.replace("| r |", "| s |"))
    assert results.read_text().count("Quality per CPU-hour") == 1
    assert results.read_text().rstrip("\n").split("\n")[-2:] == [ROW, ROW.replace("| r |", "| s |")]
