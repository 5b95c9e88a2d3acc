"""Per-recipient rules: sandboxed Jinja expressions over `r` (computed fields, colorway choice)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined
from jinja2.sandbox import SandboxedEnvironment

from .errors import CampaignError, RowError
from .templating import Record

ALL = "all"


def compile_rule(env: SandboxedEnvironment, name: str, source: str) -> Callable[..., Any]:
    try:
        return env.compile_expression(source, undefined_to_none=False)
    except TemplateSyntaxError as exc:
        raise CampaignError(f"rule {name!r}: syntax error in {source!r}: {exc.message}") from None


class Rules:
    """The campaign's computed fields and its colorway rule, compiled once."""

    def __init__(
        self,
        env: SandboxedEnvironment,
        computed: Mapping[str, str],
        colorway_rule: str | None,
        colorways: list[str],
    ) -> None:
        self.colorways = colorways
        self._computed = {name: compile_rule(env, name, src) for name, src in computed.items()}
        literal_all = colorway_rule is None or colorway_rule.strip() == ALL
        self._choose = None if literal_all else compile_rule(env, "colorway", colorway_rule or "")

    def apply(self, values: Mapping[str, Any]) -> tuple[Record, list[str]]:
        """The recipient with computed fields added, and the colorways it gets."""
        values = dict(values)
        for name, expression in self._computed.items():
            values[name] = _evaluate(expression, Record(values), name)
        record = Record(values)
        return record, self._colorways_for(record)

    def _colorways_for(self, record: Record) -> list[str]:
        if self._choose is None:
            return list(self.colorways)
        choice = _evaluate(self._choose, record, "colorway")
        names = [choice] if isinstance(choice, str) else choice
        if names == [ALL]:
            return list(self.colorways)
        if not isinstance(names, (list, tuple)) or not names:
            raise RowError("colorway", f"the colorway rule gave {choice!r}, not a colorway name")
        unknown = [n for n in names if n not in self.colorways]
        if unknown:
            known = ", ".join(self.colorways)
            raise RowError("colorway", f"the colorway rule gave {unknown[0]!r}; colorways: {known}")
        return list(dict.fromkeys(names))


def _evaluate(expression: Callable[..., Any], record: Record, name: str) -> Any:
    try:
        result = expression(r=record)
        if isinstance(result, Undefined):
            str(result)  # a strict undefined raises here, naming the missing field
        return result
    except Exception as exc:  # a rule is user code: any failure rejects this recipient only
        raise RowError(name, f"rule {name!r} failed: {exc}") from None
