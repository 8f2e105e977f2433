"""roost_core.output: the --json envelope is strict JSON whatever the data holds."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pytest

from roost_core.errors import RoostError
from roost_core.output import Output, dumps

NAN, INF = float("nan"), float("inf")


def strict(text: str):
    """JSON as a strict parser reads it: NaN, Infinity and -Infinity are errors."""
    def refuse(constant: str):
        raise AssertionError(f"{constant} in the envelope")
    return json.loads(text, parse_constant=refuse)


@dataclass
class Row:
    value: float

    def to_dict(self) -> dict:
        return {"value": self.value, "more": (self.value, {self.value})}


def test_the_envelope_never_carries_nan_or_infinity():
    out = Output(json_mode=True, stdout=io.StringIO(), stderr=io.StringIO())
    data = {"p50_s": NAN, "rows": [1.5, INF, -INF, (NAN, 2)], "nested": {"x": [{"y": -INF}]}, "row": Row(INF),
            "ok": 0.25, "big": 10 ** 30, "text": "NaN"}
    out.emit(data, {"count": NAN})
    body = strict(out.stdout.getvalue())
    assert body == {"data": {"p50_s": None, "rows": [1.5, None, None, [None, 2]], "nested": {"x": [{"y": None}]},
                             "row": {"value": None, "more": [None, [None]]}, "ok": 0.25, "big": 10 ** 30,
                             "text": "NaN"},
                    "meta": {"count": None}}
    assert out.stdout.getvalue().count("\n") == 1


def test_error_envelopes_and_an_ascii_stdout_too():
    out = Output(json_mode=True, stdout=io.StringIO(), stderr=io.StringIO())
    out.error(RoostError("boom", details={"retry_after_s": INF}))
    assert strict(out.stdout.getvalue())["error"]["details"] == {"retry_after_s": None}
    raw = io.BytesIO()
    ascii_out = io.TextIOWrapper(raw, encoding="ascii")
    Output(json_mode=True, stdout=ascii_out).emit({"name": "é", "v": NAN})
    ascii_out.flush()
    assert strict(raw.getvalue().decode("ascii")) == {"data": {"name": "é", "v": None}, "meta": {}}


def test_finite_payloads_are_dumped_as_before_and_a_cycle_still_fails():
    payload = {"a": [1, 2.5, None, True], "b": {"c": "ü"}, "d": (1, 2)}
    assert dumps(payload) == json.dumps(payload, ensure_ascii=False)
    assert dumps({NAN: 1, "x": 1}) == '{"null": 1, "x": 1}'
    loop: list = [1.0, {"v": NAN}]
    loop[1]["loop"] = loop
    with pytest.raises(ValueError):  # a bug in the caller, as before: no RecursionError from the retry
        dumps(loop)


def test_no_message_carries_a_whole_token():
    """The last line of defence: whatever put a token in an error or a line for people, only its
    last 4 characters leave (text and JSON)."""
    token = "sk-ant-oat01-" + "x1Y2z3" * 8 + "tail"
    out, err = io.StringIO(), io.StringIO()
    Output(json_mode=True, stdout=out, stderr=err).error(RoostError(f"bad argument ({token})"))
    Output(stdout=out, stderr=err).error(RoostError(f"bad argument ({token})"))
    Output(stdout=out, stderr=err).say(f"said {token}")
    assert token[:20] not in out.getvalue() + err.getvalue()
    assert strict(out.getvalue())["error"]["message"] == "bad argument (…tail)"
    assert err.getvalue().count("…tail") == 2


def test_c1_controls_are_escaped_in_json():
    """json escapes C0 only; a C1 CSI (U+009B) from a server string must not reach a terminal raw."""
    text = dumps({"currency": "\x9b2J", "name": "é ✓"})
    assert "\x9b" not in text and "\\u009b2J" in text and "é ✓" in text
    assert strict(text) == {"currency": "\x9b2J", "name": "é ✓"}
