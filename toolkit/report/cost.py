"""Training cost per provider and model, from a dated price table (all figures are estimates).

The table ships as package data (``toolkit/data/prices.json``) with the date its prices
were taken and the source URL of every provider's pricing and billing rules. A user's own
file (``--prices FILE``, same format) replaces or extends entries, so a team can keep its
negotiated prices next to its dataset.

For each provider the table records how it *bills* (every provider here bills training
tokens = tokens in the file x epochs; OpenAI's cookbook additionally counts an example as at
most the model's per-example limit) and how it *chooses epochs* when the user does not:

* ``openai-auto``: OpenAI's documented rule (3 epochs, more for tiny sets, fewer for large ones);
* ``fixed``: a documented default (Together and Fireworks 1, Bedrock 2 or 5 by model);
* ``assumed``: the provider does not document one; ftkit states the number it assumed.

The token counts come from a tiktoken encoding, not each provider's own tokenizer; every
result carries the encoding's name and ``estimate: true``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping

PRICE_FORMAT = "ftkit-prices/1"
PER_TOKENS = 1_000_000
_SNAPSHOT = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}|\d{8}|latest|preview(-\d{2}-\d{4})?|\d{3}")


class PriceTableError(ValueError):
    """A price file is unreadable or malformed (the message names the file and the field)."""


@dataclass(frozen=True)
class ModelPrice:
    provider: str
    model: str
    training: float  # USD per 1M training tokens
    input: float | None  # fine-tuned model inference, USD per 1M input tokens
    output: float | None
    base_input: float | None  # the untuned base model, USD per 1M input tokens
    base_output: float | None
    cached_input: float | None = None
    aliases: tuple[str, ...] = ()
    default_epochs: int | None = None  # per-model override of the provider's epoch rule
    epochs_source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PriceTable:
    """The loaded price table: providers with billing rules, epoch rules and model prices."""

    data: dict[str, Any]
    sources: list[str]  # files the table was built from, in order

    @property
    def as_of(self) -> str:
        return str(self.data.get("as_of", "unknown"))

    @property
    def notice(self) -> str:
        return str(self.data.get("notice", ""))

    def providers(self) -> list[str]:
        return sorted(self.data.get("providers", {}))

    def provider(self, name: str) -> dict[str, Any]:
        try:
            return self.data["providers"][name]
        except KeyError:
            raise KeyError(f"unknown provider {name!r}; known: {', '.join(self.providers())}") from None

    def models(self, provider: str | None = None) -> list[ModelPrice]:
        out: list[ModelPrice] = []
        for pname in self.providers():
            if provider is not None and pname != provider:
                continue
            for mname, entry in sorted(self.data["providers"][pname].get("models", {}).items()):
                out.append(_model_price(pname, mname, entry))
        return out

    def find(self, model: str, provider: str | None = None) -> list[ModelPrice]:
        """Model entries matching ``model``: by name or alias, else as a dated snapshot of one.

        ``gpt-4o-mini`` matches the ``gpt-4o-mini`` alias only (not ``gpt-4o``);
        ``gpt-4o-2024-11-20`` matches ``gpt-4o`` as a dated snapshot; ``ft:gpt-4o-mini:org::id``
        matches its base model.
        """
        if model.startswith("ft:"):
            model = model[3:].split(":", 1)[0]
        models = self.models(provider)
        exact = [p for p in models if model == p.model or model in p.aliases]
        if exact:
            return exact
        return [
            p for p in models
            if any(model.startswith(n + "-") and _SNAPSHOT.fullmatch(model[len(n) + 1:]) for n in (p.model, *p.aliases) if n)
        ]


def _model_price(provider: str, model: str, entry: Mapping[str, Any]) -> ModelPrice:
    known = {"aliases", "training", "input", "output", "base_input", "base_output", "cached_input", "default_epochs", "epochs_source"}
    return ModelPrice(
        provider=provider,
        model=model,
        training=float(entry["training"]),
        input=_opt_float(entry.get("input")),
        output=_opt_float(entry.get("output")),
        base_input=_opt_float(entry.get("base_input")),
        base_output=_opt_float(entry.get("base_output")),
        cached_input=_opt_float(entry.get("cached_input")),
        aliases=tuple(entry.get("aliases") or ()),
        default_epochs=entry.get("default_epochs"),
        epochs_source=entry.get("epochs_source"),
        extra={k: v for k, v in entry.items() if k not in known},
    )


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- loading


def _check_table(data: Any, where: str) -> None:
    """Validate the structure of a price table; raise naming the file and the field."""
    if not isinstance(data, dict):
        raise PriceTableError(f"{where}: the price file must hold a JSON object")
    providers = data.get("providers")
    if not isinstance(providers, dict):
        raise PriceTableError(f"{where}: field 'providers' must be an object of provider -> entry")
    for pname, pentry in providers.items():
        base = f"{where}: providers.{pname}"
        if not isinstance(pentry, dict):
            raise PriceTableError(f"{base}: must be an object")
        epochs = pentry.get("epochs")
        if epochs is not None:
            if not isinstance(epochs, dict) or epochs.get("rule") not in ("openai-auto", "fixed", "assumed"):
                raise PriceTableError(f"{base}.epochs.rule: must be one of openai-auto, fixed, assumed")
            if epochs["rule"] in ("fixed", "assumed") and not _is_pos_int(epochs.get("value")):
                raise PriceTableError(f"{base}.epochs.value: must be a positive integer")
        for key in ("hosting_per_hour", "storage_per_month", "min_job_cost"):
            if key in pentry and not _is_nonneg_number(pentry[key]):
                raise PriceTableError(f"{base}.{key}: must be a number >= 0")
        models = pentry.get("models", {})
        if not isinstance(models, dict):
            raise PriceTableError(f"{base}.models: must be an object of model -> prices")
        for mname, mentry in models.items():
            mbase = f"{base}.models.{mname}"
            if not isinstance(mentry, dict):
                raise PriceTableError(f"{mbase}: must be an object")
            if "training" not in mentry:
                raise PriceTableError(f"{mbase}.training: missing (USD per 1M training tokens)")
            for key in ("training", "input", "output", "base_input", "base_output", "cached_input"):
                if key in mentry and mentry[key] is not None and not _is_nonneg_number(mentry[key]):
                    raise PriceTableError(f"{mbase}.{key}: must be a number >= 0, got {mentry[key]!r}")
            if "default_epochs" in mentry and mentry["default_epochs"] is not None and not _is_pos_int(mentry["default_epochs"]):
                raise PriceTableError(f"{mbase}.default_epochs: must be a positive integer")
            if "aliases" in mentry and not (isinstance(mentry["aliases"], list) and all(isinstance(a, str) for a in mentry["aliases"])):
                raise PriceTableError(f"{mbase}.aliases: must be a list of strings")


def _is_nonneg_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _is_pos_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into ``base`` (objects merge, everything else replaces)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_prices(path: str | Path | None = None, *, replace: bool = False) -> PriceTable:
    """Load the bundled table, then merge the user's file over it (or use only it with ``replace``)."""
    bundled_text = resources.files("toolkit").joinpath("data/prices.json").read_text(encoding="utf-8")
    data = json.loads(bundled_text)
    sources = ["toolkit/data/prices.json"]
    if path is not None:
        where = str(path)
        try:
            with open(path, "rb") as fh:
                user = json.loads(fh.read())
        except FileNotFoundError:
            raise PriceTableError(f"{where}: no such price file") from None
        except OSError as exc:
            raise PriceTableError(f"{where}: cannot read: {exc.strerror}") from None
        except ValueError as exc:
            raise PriceTableError(f"{where}: invalid JSON: {exc}") from None
        _check_table(user, where)
        data = user if replace else _merge(data, user)
        sources = [where] if replace else [*sources, where]
    _check_table(data, " + ".join(sources))
    return PriceTable(data=data, sources=sources)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class EpochChoice:
    epochs: int
    source: str  # "user", "provider-default", "provider-auto", "assumed"
    rule: str  # human description of how the number was chosen


def openai_auto_epochs(n_examples: int, rule: Mapping[str, Any] | None = None) -> int:
    """OpenAI's documented ``n_epochs: auto`` rule (cookbook, chat fine-tuning data prep)."""
    rule = rule or {}
    target = int(rule.get("target_epochs", 3))
    min_examples = int(rule.get("min_target_examples", 100))
    max_examples = int(rule.get("max_target_examples", 25000))
    min_epochs = int(rule.get("min_default_epochs", 1))
    max_epochs = int(rule.get("max_default_epochs", 25))
    if n_examples <= 0:
        return target
    epochs = target
    if n_examples * target < min_examples:
        epochs = min(max_epochs, min_examples // n_examples)
    elif n_examples * target > max_examples:
        epochs = max(min_epochs, max_examples // n_examples)
    return epochs


def choose_epochs(table: PriceTable, price: ModelPrice, n_examples: int, user_epochs: int | None = None) -> EpochChoice:
    """The epochs a job would run: the user's, else the provider's documented default/rule."""
    if user_epochs is not None:
        return EpochChoice(user_epochs, "user", f"--epochs {user_epochs}")
    if price.default_epochs is not None:
        return EpochChoice(int(price.default_epochs), "provider-default", f"documented default for {price.model}")
    rule = table.provider(price.provider).get("epochs") or {"rule": "assumed", "value": 1}
    kind = rule.get("rule")
    if kind == "openai-auto":
        epochs = openai_auto_epochs(n_examples, rule)
        return EpochChoice(epochs, "provider-auto", f"auto rule for {n_examples} examples")
    if kind == "fixed":
        return EpochChoice(int(rule["value"]), "provider-default", "documented default")
    return EpochChoice(int(rule.get("value", 1)), "assumed", "not documented by the provider; assumed")


@dataclass
class CostLine:
    """The estimated cost of one training job on one provider and model."""

    provider: str
    provider_name: str
    model: str
    epochs: int
    epochs_source: str
    epochs_rule: str
    file_tokens: int  # tokens in the file, after any per-example cap
    billed_tokens: int  # file_tokens x epochs
    training_price: float  # USD per 1M
    training_cost: float  # USD, including any minimum job fee
    minimum_applied: bool
    storage_per_month: float
    hosting_per_hour: float
    input_price: float | None
    output_price: float | None
    base_input_price: float | None
    base_output_price: float | None
    per_example_cap: int | None
    capped_examples: int
    encoding: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "provider_name": self.provider_name,
            "model": self.model,
            "epochs": self.epochs,
            "epochs_source": self.epochs_source,
            "epochs_rule": self.epochs_rule,
            "file_tokens": self.file_tokens,
            "billed_tokens": self.billed_tokens,
            "training_price_per_1m": self.training_price,
            "training_cost_usd": round(self.training_cost, 4),
            "minimum_applied": self.minimum_applied,
            "storage_per_month_usd": self.storage_per_month,
            "hosting_per_hour_usd": self.hosting_per_hour,
            "inference_input_per_1m": self.input_price,
            "inference_output_per_1m": self.output_price,
            "base_input_per_1m": self.base_input_price,
            "base_output_per_1m": self.base_output_price,
            "per_example_cap": self.per_example_cap,
            "capped_examples": self.capped_examples,
            "encoding": self.encoding,
            "estimate": True,
        }


@dataclass(frozen=True)
class TokenTotals:
    """What cost needs from a dataset: its size, its tokens, and its tokens with a per-example cap.

    ``capped(cap)`` returns ``(sum of min(cap, tokens) over examples, examples over the cap)``.
    """

    n_examples: int
    total_tokens: int
    encoding: str
    capped: Callable[[int], tuple[int, int]]

    @classmethod
    def from_lengths(cls, lengths: list[int] | Any, encoding: str) -> "TokenTotals":
        values = [int(v) for v in lengths]
        return cls(
            n_examples=len(values),
            total_tokens=sum(values),
            encoding=encoding,
            capped=lambda cap: (sum(min(cap, v) for v in values), sum(1 for v in values if v > cap)),
        )


def _model_limit(model: str) -> int | None:
    from toolkit.tokens import max_example_tokens

    return max_example_tokens(model)


def training_cost(table: PriceTable, price: ModelPrice, totals: TokenTotals, *, epochs: int | None = None) -> CostLine:
    """Estimate one job's cost by the provider's own rule: billed = file tokens x epochs."""
    pentry = table.provider(price.provider)
    billing = pentry.get("billing") or {}
    cap: int | None = None
    if billing.get("per_example_cap") == "model_limit":
        cap = _model_limit(price.model)
    elif isinstance(billing.get("per_example_cap"), int):
        cap = int(billing["per_example_cap"])
    if cap is not None:
        file_tokens, capped_examples = totals.capped(cap)
    else:
        file_tokens, capped_examples = totals.total_tokens, 0
    choice = choose_epochs(table, price, totals.n_examples, epochs)
    billed = file_tokens * choice.epochs
    cost = billed / PER_TOKENS * price.training
    minimum = float(pentry.get("min_job_cost") or 0)
    applied = minimum > 0 and cost < minimum
    if applied:
        cost = minimum
    return CostLine(
        provider=price.provider,
        provider_name=str(pentry.get("name", price.provider)),
        model=price.model,
        epochs=choice.epochs,
        epochs_source=choice.source,
        epochs_rule=choice.rule,
        file_tokens=file_tokens,
        billed_tokens=billed,
        training_price=price.training,
        training_cost=cost,
        minimum_applied=applied,
        storage_per_month=float(pentry.get("storage_per_month") or 0),
        hosting_per_hour=float(pentry.get("hosting_per_hour") or 0),
        input_price=price.input,
        output_price=price.output,
        base_input_price=price.base_input,
        base_output_price=price.base_output,
        per_example_cap=cap,
        capped_examples=capped_examples,
        encoding=totals.encoding,
    )


def cost_table(
    table: PriceTable,
    totals: TokenTotals,
    *,
    epochs: int | None = None,
    providers: list[str] | None = None,
    model: str | None = None,
) -> list[CostLine]:
    """Cost lines for every model in the table (or the given providers / a matching model).

    Sorted by provider then model so the output is deterministic.
    """
    lines = []
    for price in table.models():
        if providers and price.provider not in providers:
            continue
        if model and price not in table.find(model):
            continue
        lines.append(training_cost(table, price, totals, epochs=epochs))
    return lines


def cost_summary(table: PriceTable, lines: list[CostLine]) -> dict[str, Any]:
    """The JSON block for ``ftkit stats --output-format json`` and the report."""
    return {
        "as_of": table.as_of,
        "notice": table.notice,
        "price_sources": table.sources,
        "currency": table.data.get("currency", "USD"),
        "estimate": True,
        "provider_sources": {p: table.provider(p).get("sources", []) for p in sorted({line.provider for line in lines})},
        "lines": [line.to_dict() for line in lines],
    }
