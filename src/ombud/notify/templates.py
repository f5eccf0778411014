"""Mail templates: Jinja files the retailer can edit, rendered strictly (a missing field is an error at once).

A template `<name>` is three files: `<name>.subject.j2` (one line), `<name>.txt.j2` (plain text, required) and
`<name>.html.j2` (optional HTML part, autoescaped). A folder named by `OMBUD_MAIL_TEMPLATES_DIR` is searched
first, so the retailer overrides any shipped file by putting one of the same name there. `<name>.sample.json`
beside them holds an example context for the console's preview.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from ombud.errors import InvalidInput, NotFound

SHIPPED_DIR = Path(__file__).parent / "templates"
#: A template's name: lower-case letters, digits and underscores, starting with a letter.
NAME_PATTERN = r"[a-z][a-z0-9_]{0,99}"
_NAME = re.compile(NAME_PATTERN)
PARTS = ("subject", "txt", "html")


@dataclass(frozen=True)
class Rendered:
    """A rendered email: its subject line, plain-text body and optional HTML body."""

    subject: str
    text: str
    html: str | None


@lru_cache(maxsize=8)
def _environment(override_dir: str | None) -> SandboxedEnvironment:
    loaders = [FileSystemLoader(override_dir)] if override_dir else []
    loaders.append(FileSystemLoader(str(SHIPPED_DIR)))
    # Sandboxed: the templates are files a retailer edits, so they must not reach Python internals.
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,
    )
    env.filters["money"] = lambda cents: f"${int(cents) / 100:,.2f}"
    return env


def environment(override_dir: Path | None = None) -> SandboxedEnvironment:
    """The Jinja environment over the retailer's folder (if any) and the shipped templates."""
    return _environment(str(override_dir.resolve()) if override_dir else None)


def check_name(name: str) -> str:
    """The template name, or InvalidInput naming the field."""
    if not _NAME.fullmatch(name or ""):
        raise InvalidInput("a template name is lower-case letters, digits and underscores", field="template")
    return name


def _render_part(env: SandboxedEnvironment, name: str, part: str, context: dict[str, Any]) -> str | None:
    try:
        template = env.get_template(f"{name}.{part}.j2")
    except TemplateNotFound:
        return None
    try:
        return template.render(**context)
    except TemplateError as exc:  # StrictUndefined: "'x' is undefined"; or a syntax error in the file
        raise InvalidInput(f"template {name}.{part}.j2: {exc.message or exc}", field="context") from exc
    except (TypeError, ValueError, ArithmeticError) as exc:  # a filter given the wrong kind of value
        raise InvalidInput(f"template {name}.{part}.j2: {exc}", field="context") from exc


def render(name: str, context: dict[str, Any], override_dir: Path | None = None) -> Rendered:
    """Render a template with this context; InvalidInput names the template file and the missing field."""
    check_name(name)
    env = environment(override_dir)
    subject = _render_part(env, name, "subject", context)
    text = _render_part(env, name, "txt", context)
    if subject is None or text is None:
        raise NotFound(f"no mail template {name!r} (needs {name}.subject.j2 and {name}.txt.j2)", field="template")
    subject = " ".join(subject.split())
    if not subject:
        raise InvalidInput(f"template {name}.subject.j2 rendered an empty subject", field="context")
    html = _render_part(env, name, "html", context)
    return Rendered(subject=subject[:500], text=text, html=html)


def available(override_dir: Path | None = None) -> list[str]:
    """Names of every template, shipped or the retailer's own, sorted."""
    names: set[str] = set()
    for folder in (SHIPPED_DIR, override_dir):
        if folder and folder.is_dir():
            names.update(p.name[: -len(".txt.j2")] for p in folder.glob("*.txt.j2"))
    return sorted(n for n in names if _NAME.fullmatch(n))


def origin(name: str, override_dir: Path | None = None) -> str:
    """Where the template's text part comes from: "retailer" (the override folder) or "shipped"."""
    if override_dir and (override_dir / f"{name}.txt.j2").is_file():
        return "retailer"
    return "shipped"


def sample_context(name: str, override_dir: Path | None = None) -> dict[str, Any]:
    """The example context of a template for previews ({} when it ships none)."""
    check_name(name)
    for folder in (override_dir, SHIPPED_DIR):
        if folder and (folder / f"{name}.sample.json").is_file():
            data = json.loads((folder / f"{name}.sample.json").read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
    return {}


@lru_cache(maxsize=2)
def _string_environment(html: bool) -> SandboxedEnvironment:
    # The same sandbox and strictness as the files' environment, for wording kept in the store (versioned there).
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=html, keep_trailing_newline=True,
                               trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = lambda cents: f"${int(cents) / 100:,.2f}"
    return env


@lru_cache(maxsize=64)
def _compiled(source: str, html: bool) -> Any:
    return _string_environment(html).from_string(source)


def _render_string(label: str, source: str, html: bool, context: dict[str, Any]) -> str:
    try:
        return str(_compiled(source, html).render(**context))
    except TemplateError as exc:  # a syntax error (with its line), or StrictUndefined naming the missing field
        line = getattr(exc, "lineno", None)
        where = f", line {line}" if line else ""
        raise InvalidInput(f"{label}{where}: {exc.message or exc}", field=label) from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise InvalidInput(f"{label}: {exc}", field=label) from exc


def render_source(subject: str, text: str, html: str | None, context: dict[str, Any]) -> Rendered:
    """Render wording given as text (subject, plain text, optional HTML) as strictly as the files are rendered.

    InvalidInput names the part (`subject`, `text`, `html`), the line of a syntax error, and a missing field.
    """
    rendered_subject = " ".join(_render_string("subject", subject, False, context).split())
    if not rendered_subject:
        raise InvalidInput("the subject renders empty", field="subject")
    body = _render_string("text", text, False, context)
    body_html = _render_string("html", html, True, context) if html and html.strip() else None
    return Rendered(subject=rendered_subject[:500], text=body, html=body_html)


def source_of(name: str, override_dir: Path | None = None) -> tuple[str, str, str | None]:
    """The text of a template's files as they would be used (the retailer's over the shipped): subject, txt, html."""
    check_name(name)
    env = environment(override_dir)
    parts: list[str | None] = []
    for part in PARTS:
        try:
            parts.append(env.loader.get_source(env, f"{name}.{part}.j2")[0])  # type: ignore[union-attr]
        except TemplateNotFound:
            parts.append(None)
    if parts[0] is None or parts[1] is None:
        raise NotFound(f"no mail template {name!r}", field="template")
    return parts[0], parts[1], parts[2]
