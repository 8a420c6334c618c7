"""`cadence stl robustness|decompose` as a user runs them (subprocess): outputs, exit codes, messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "stl"


# The installed console script, as users run it. Not `python -m cadence.cli`: there the module
# runs as __main__, a second copy whose CLIError is not the one the handlers raise.
CADENCE = str(Path(sys.executable).with_name("cadence"))


def cadence(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CADENCE, *args], capture_output=True, text=True, cwd=ROOT)


def write_csv(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_example_robustness_equals_rtamt() -> None:
    import csv

    import rtamt

    out = cadence(
        "stl",
        "robustness",
        "--spec-file",
        str(EXAMPLE / "visit_two_rooms.stl"),
        "--trace",
        str(EXAMPLE / "visit_two_rooms.csv"),
    )
    assert out.returncode == 0, out.stderr
    value = float(out.stdout.strip())
    rows = list(csv.DictReader((EXAMPLE / "visit_two_rooms.csv").open()))
    spec = rtamt.StlDiscreteTimeOfflineSpecification()
    for name in ("kitchen", "office", "lab"):
        spec.declare_var(name, "float")
    spec.spec = (EXAMPLE / "visit_two_rooms.stl").read_text().strip()
    spec.parse()
    spec.set_sampling_period(500, "ms", 0.1)
    data = {
        "time": [float(r["t"]) for r in rows],
        **{k: [float(r[k]) for r in rows] for k in ("kitchen", "office", "lab")},
    }
    assert value == spec.evaluate(data)[0][1] == 1.15


def test_decompose_prints_json() -> None:
    out = cadence("stl", "decompose", "--spec-file", str(EXAMPLE / "visit_two_rooms.stl"))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [g["options"][0]["region"] for g in doc["subgoals"]] == ["kitchen", "office"]
    assert doc["invariants"][0]["formula"] == "lab < 0"


def test_cli_does_not_import_torch() -> None:
    code = (
        "import sys; from cadence.cli import main; "
        "main(['stl', 'decompose', '--spec', 'eventually[0:1](x > 0)']); "
        "print(sorted(m for m in ('torch', 'mujoco', 'rclpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("spec", "csv_text", "message"),
    [
        ("eventually[0:1](x > 0", "t,x\n0,1\n1,2\n", "expected ')'"),
        ("eventually[0:1](y > 0)", "t,x\n0,1\n1,2\n", "lacks column(s) y (it has: x)"),
        ("x > 0", "t,x\n0,1\n1,nan\n", "line 3, column x: NaN"),
        ("x > 0", "t,x\n0,1\n1,2\n3,2\n", "not uniformly sampled"),
        ("eventually[0:5](x > 0)", "t,x\n0,1\n1,2\n", "looks 5 s ahead"),
        ("x > 0", "t,x\n0,1\n1,fast\n", "'fast' is not a number"),
        ("x > 0", "x\n1\n2\n", "no `t` column"),
        ("eventually[0:0.3](x > 0)", "t,x\n0,1\n0.2,1\n0.4,1\n", "not a whole number of sampling periods"),
    ],
)
def test_bad_input_exits_2_with_one_message(tmp_path: Path, spec: str, csv_text: str, message: str) -> None:
    out = cadence("stl", "robustness", "--spec", spec, "--trace", write_csv(tmp_path / "t.csv", csv_text))
    assert out.returncode == 2
    assert message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_missing_trace_file_and_bad_decomposition(tmp_path: Path) -> None:
    out = cadence("stl", "robustness", "--spec", "x > 0", "--trace", str(tmp_path / "nope.csv"))
    assert out.returncode == 2 and "cannot read trace" in out.stderr
    out = cadence("stl", "decompose", "--spec", "always[0:3](a > 0) or eventually[0:2](b > 0)")
    assert out.returncode == 2 and "top-level 'or'" in out.stderr and "Traceback" not in out.stderr
