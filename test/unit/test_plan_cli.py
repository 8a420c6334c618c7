"""`cadence plan` (subprocess smoke tests), the back end registry and the optional llama back end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cadence.planner.backends import list_backends, make_backend
from cadence.planner.errors import BackendUnavailable, PlannerError
from cadence.planner.plan import Plan

ROOT = Path(__file__).resolve().parents[2]


CADENCE = Path(sys.executable).parent / "cadence"  # the console script (under `python -m cadence.cli`
# the module runs as __main__, so its CLIError is not the class handlers raise)


def cadence(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CADENCE), *args], capture_output=True, text=True, cwd=ROOT)


def test_plan_prints_plan_json() -> None:
    out = cadence(
        "plan", "go to the kitchen, then the dock within 60 s", "--scene", "apartment", "--indent", "0"
    )
    assert out.returncode == 0, out.stderr
    plan = Plan.from_json(out.stdout)
    assert [s.region for s in plan.subgoals] == ["kitchen", "dock"]
    assert plan.spec.startswith("eventually[0:")
    assert json.loads(out.stdout)["backend"] == "rules"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["go to the garage"], "did not understand 'garage'"),
        (["go to the kitchen within 2 s"], "is not enough"),
        (["go to the kitchen", "--scene", "moon_base"], "unknown scene 'moon_base'"),
        (["go to the kitchen", "--backend", "gpt"], "back ends: rules, openai, llama"),
        (["go to the kitchen", "--backend", "llama"], "llama-cpp-python"),
        (
            ["go to the kitchen", "--backend", "openai", "--base-url", "ftp://x"],
            "base_url must start with http",
        ),
    ],
)
def test_plan_errors_exit_2_without_traceback(args: list[str], message: str) -> None:
    out = cadence("plan", *args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_plan_openai_unreachable_falls_back_to_rules() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = cadence("plan", "go to the lab", "--backend", "openai", "--base-url", f"http://127.0.0.1:{port}/v1")
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["backend"] == "rules" and "cannot reach the server" in plan["notes"][0]


def test_registry() -> None:
    assert list_backends() == ["rules", "openai", "llama"]
    assert make_backend("rules").name == "rules"
    with pytest.raises(ValueError, match="takes no options"):
        make_backend("rules", model="x")


def test_llama_without_llama_cpp_names_the_package() -> None:
    try:  # llama_cpp is deliberately not installed here (it compiles for 12 minutes)
        import llama_cpp  # noqa: F401
    except ImportError:
        with pytest.raises(BackendUnavailable, match="pip install llama-cpp-python") as info:
            make_backend("llama", model_path="/nonexistent.gguf")
        assert isinstance(info.value, PlannerError)
    else:
        pytest.skip("llama_cpp is installed")
