"""Live controls of a runnable cell: parameter lines in its code become sliders and selects.

A cell declares a parameter with a top-level assignment of a literal followed by a comment::

    keep = 0.5  # slider 0.1..1.0 step 0.1 "keep probability p"
    seed = 1  # choose 1|2|3|4|5 "random seed"
    activation = "sigmoid"  # choose sigmoid|relu

``slider MIN..MAX step STEP`` gives a range input over numbers (the default must lie on the grid
``MIN + k * STEP`` within the bounds); ``choose A|B|...`` gives a select whose options are Python
literals (numbers), or plain words when the default is a quoted string. The quoted text at the
end, optional, is the control's label; without it the variable's name is the label.

At build time the cell runs as written, so its static output is the defaults' output. In the
browser ``web/controls.js`` rewrites the value of the declaring line in the cell's code and runs
the cell again. This module only parses and renders: :func:`parse_controls` finds the
declarations (a malformed one raises :class:`ControlError`, which fails the build) and
:func:`render_controls` returns the HTML put above the cell's code.
"""

from __future__ import annotations

import ast
import html
import math
import re
from dataclasses import dataclass

DECLARATION = re.compile(
    r"^(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<value>[^#\n]*?)\s*"
    r"#\s*(?P<kind>slider|choose)\b(?P<spec>[^\"\n]*?)\s*(?:\"(?P<label>[^\"\n]+)\")?\s*$"
)
SLIDER_SPEC = re.compile(r"^\s*(?P<lo>\S+?)\s*\.\.\s*(?P<hi>\S+)\s+step\s+(?P<step>\S+)\s*$")
WORD = re.compile(r"^[\w.\-]+$")
MOST_OPTIONS = 50
MOST_POSITIONS = 1000


class ControlError(ValueError):
    """A parameter line that declares a control but cannot be one; the message says why."""


@dataclass(frozen=True)
class Control:
    """One parameter of a cell.

    Attributes
    ----------
    name : str
        The variable the declaring line assigns.
    kind : {"slider", "choose"}
    label : str
        What the control is called on the page.
    default : str
        The literal of the declaring line, as written in the code.
    options : tuple of str
        ``choose``: the Python literal of every option, in order.
    low, high, step : str
        ``slider``: the bounds and the step, as written.
    decimals : int
        ``slider``: decimals a value is written with (those of the step).
    line : int
        0-based line number of the declaration in the cell.
    """

    name: str
    kind: str
    label: str
    default: str
    line: int
    options: tuple[str, ...] = ()
    low: str = ""
    high: str = ""
    step: str = ""
    decimals: int = 0


def _number(text: str, what: str) -> float:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ControlError(f"{what} must be a number, got {text!r}")
    return float(value)


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text and "e" not in text.lower() else 0


def _slider(name: str, default: str, spec: str, label: str, line: int) -> Control:
    match = SLIDER_SPEC.match(spec)
    if not match:
        raise ControlError(f"{name}: write the slider as 'slider MIN..MAX step STEP', got {spec!r}")
    low, high, step = (_number(match[k], f"{name}'s {k}") for k in ("lo", "hi", "step"))
    value = _number(default, f"{name}'s default value")
    if step <= 0 or low >= high:
        raise ControlError(f"{name}: need MIN < MAX and STEP > 0, got {low}..{high} step {step}")
    positions = (high - low) / step
    if positions > MOST_POSITIONS or abs(positions - round(positions)) > 1e-9 * max(1, positions):
        raise ControlError(
            f"{name}: {low}..{high} must be a whole number of steps of {step}, "
            f"at most {MOST_POSITIONS}"
        )
    offset = (value - low) / step
    if not low <= value <= high or abs(offset - round(offset)) > 1e-9 * max(1, offset):
        raise ControlError(f"{name}: the default {default} is not on the grid {low}..{high}")
    decimals = max(_decimals(match["step"]), _decimals(match["lo"]))
    return Control(
        name, "slider", label, default, line,
        low=match["lo"], high=match["hi"], step=match["step"], decimals=decimals,
    )  # fmt: skip


def _choice(name: str, default: str, spec: str, label: str, line: int) -> Control:
    words = [w.strip() for w in spec.split("|")]
    if len(words) < 2 or len(words) > MOST_OPTIONS or not all(words):
        raise ControlError(
            f"{name}: write the options as 'choose A|B|...' (2 to {MOST_OPTIONS}), got {spec!r}"
        )
    try:
        value = ast.literal_eval(default)
    except (ValueError, SyntaxError):
        raise ControlError(f"{name}: the default {default!r} is not a Python literal") from None
    if isinstance(value, str):
        if not all(WORD.match(w) for w in words):
            raise ControlError(f"{name}: words to choose from are letters, digits, _ . -: {words}")
        quote = default[0]  # the options are written as the default is
        options = tuple(f"{quote}{w}{quote}" for w in words)
    else:
        for word in words:
            _number(word, f"{name}'s option")
        options = tuple(words)
    if default not in options:
        raise ControlError(f"{name}: the default {default} is not one of the options {words}")
    if len(set(options)) != len(options):
        raise ControlError(f"{name}: an option is listed twice in {words}")
    return Control(name, "choose", label, default, line, options=options)


def parse_controls(source: str) -> list[Control]:
    """Return the controls a cell's code declares, in the order of its lines.

    Raises
    ------
    ControlError
        If a line declares a slider or a choice that is malformed, or a name twice.
    """
    controls: list[Control] = []
    for number, text in enumerate(source.splitlines()):
        match = DECLARATION.match(text)
        if not match:
            continue
        name, default = match["name"], match["value"]
        label = match["label"] or name
        make = _slider if match["kind"] == "slider" else _choice
        control = make(name, default, match["spec"], label, number)
        if any(c.name == name for c in controls):
            raise ControlError(f"{name} is declared as a control twice")
        controls.append(control)
    return controls


def _attrs(**attrs: str | int) -> str:
    return "".join(
        f' {k.rstrip("_").replace("_", "-")}="{html.escape(str(v), quote=True)}"'
        for k, v in attrs.items()
    )


def _shown(option: str) -> str:
    """What an option reads as on the page: a word without its quotes."""
    value = ast.literal_eval(option)
    return value if isinstance(value, str) else option


def _control_html(control: Control) -> str:
    label = f'<span class="dp-control-label">{html.escape(control.label)}</span>'
    common = {"data_name": control.name, "disabled": "disabled"}
    if control.kind == "choose":
        options = "".join(
            f"<option{_attrs(value=o)}{' selected' if o == control.default else ''}>"
            f"{html.escape(_shown(o))}</option>"
            for o in control.options
        )
        field = f"<select{_attrs(**common)}>{options}</select>"
        return f'<div class="dp-control" data-kind="choose"><label>{label}{field}</label></div>'
    field = (
        f"<input{_attrs(type='range', min=control.low, max=control.high, step=control.step)}"
        f"{_attrs(value=control.default, data_decimals=control.decimals, **common)}>"
    )
    # The slider itself tells screen readers its value; the number beside it is for the eyes.
    value = f'<output class="dp-control-value" aria-hidden="true">{html.escape(control.default)}'
    return (
        f'<div class="dp-control" data-kind="slider"><label>{label}{field}</label>'
        f"{value}</output></div>"
    )


def render_controls(controls: list[Control]) -> str:
    """Return the HTML of a cell's controls (empty without any): labelled, disabled until the
    page script enables them, the slider's value shown beside it."""
    if not controls:
        return ""
    names = ", ".join(c.label for c in controls)
    inner = "".join(_control_html(c) for c in controls)
    return (
        f'<div class="dp-controls" role="group"'
        f"{_attrs(aria_label=f'Parameters of this cell: {names}')}>{inner}</div>"
    )
