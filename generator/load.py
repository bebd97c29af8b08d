"""Stage 1, load: read a spec's files, resolve relative `$ref`s, return one bundled document.

Only this module and `write.py` touch the disk. The bundle keeps, for every JSON pointer in the
output, the file and line it came from, so later stages can say where a problem is.

Bundling rule (see specs/README.md): a reference to a file `components/<type>/<Name>.yaml`, or to a
fragment `#/components/<type>/<Name>` of another file, becomes `#/components/<type>/<Name>` in the
bundle; any other external reference is inlined.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .diagnostics import Diagnostic, SpecError, join_pointer, split_pointer

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_COMPONENT_FILE = re.compile(r"(?:^|/)components/([A-Za-z]+)/([^/]+)\.(?:ya?ml|json)$")
_COMPONENT_POINTER = re.compile(r"^/components/([A-Za-z]+)/([^/]+)$")


def display_path(path: Path) -> str:
    """A path as users see it in messages: relative to the working directory when below it."""
    try:
        return Path(os.path.relpath(path)).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:  # another drive
        return path.as_posix()


@dataclass
class Source:
    """One parsed file with the line of every node."""

    path: Path
    data: Any
    lines: dict[str, int]

    @property
    def display(self) -> str:
        return display_path(self.path)

    def line_of(self, pointer: str) -> int:
        while True:
            if pointer in self.lines:
                return self.lines[pointer]
            if not pointer:
                return 1
            pointer = pointer.rsplit("/", 1)[0]


@dataclass
class Document:
    """A bundled spec: one dict, and where each of its parts was written."""

    name: str
    root: Path
    data: dict[str, Any]
    origins: dict[str, tuple[str, int]]
    files: tuple[Path, ...]
    broken_refs: frozenset[str] = frozenset()

    def locate(self, pointer: str) -> tuple[str, int]:
        probe = pointer
        while True:
            if probe in self.origins:
                return self.origins[probe]
            if not probe:
                return (display_path(self.root), 1)
            probe = probe.rsplit("/", 1)[0]

    def diagnostic(self, pointer: str, message: str, rule: str = "") -> Diagnostic:
        file, line = self.locate(pointer)
        return Diagnostic(file, line, pointer, message, rule)


_SURROGATE_PAIR = re.compile(r"(?<!\\)\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)


def _join_surrogates(text: str) -> str:
    """JSON writes characters beyond the BMP as two `\\u` escapes, which YAML refuses: join them."""

    def join(match: re.Match[str]) -> str:
        high, low = int(match.group(1), 16), int(match.group(2), 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))

    return _SURROGATE_PAIR.sub(join, text)


def parse_text(text: str, path: Path) -> Source:
    """Parse YAML (or JSON, which YAML reads too) keeping the line of every node."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        context = exc.context or ""
        if context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            context += f" (started at line {exc.context_mark.line + 1})"
        problem = ": ".join(str(p) for p in (context, exc.problem) if p)
        raise SpecError(
            [Diagnostic(display_path(path), line, "", f"YAML syntax error: {problem}", "yaml")]
        ) from None
    except yaml.YAMLError as exc:  # e.g. a reader error on bad bytes
        raise SpecError(
            [Diagnostic(display_path(path), 1, "", f"YAML syntax error: {exc}", "yaml")]
        ) from None
    lines: dict[str, int] = {}
    problems: list[Diagnostic] = []
    data = _construct(node, "", lines, problems, path) if node is not None else None
    if problems:
        raise SpecError(problems)
    return Source(path, data, lines)


_scalar_constructor = yaml.SafeLoader("")


def _construct(
    node: Node, pointer: str, lines: dict[str, int], problems: list[Diagnostic], path: Path
) -> Any:
    lines[pointer] = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                problems.append(
                    Diagnostic(
                        display_path(path),
                        key_node.start_mark.line + 1,
                        pointer,
                        "mapping keys must be plain strings",
                        "yaml",
                    )
                )
                continue
            # Keys stay strings exactly as written: `200:` is a status code, `on:` is not a bool.
            key = key_node.value
            child = join_pointer(pointer, key)
            if key in out:
                problems.append(
                    Diagnostic(
                        display_path(path),
                        key_node.start_mark.line + 1,
                        child,
                        f"duplicate key {key!r}",
                        "yaml",
                    )
                )
            out[key] = _construct(value_node, child, lines, problems, path)
            lines[child] = key_node.start_mark.line + 1  # point at `key:`, not at what follows
        return out
    if isinstance(node, SequenceNode):
        return [
            _construct(item, join_pointer(pointer, i), lines, problems, path)
            for i, item in enumerate(node.value)
        ]
    if node.tag == _TIMESTAMP_TAG:
        return node.value  # dates stay the strings JSON would carry
    return _scalar_constructor.construct_object(node, deep=True)


@dataclass
class _Bundler:
    root: Path
    sources: dict[Path, Source] = field(default_factory=dict)
    origins: dict[str, tuple[str, int]] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
    components: dict[tuple[str, str], tuple[Path, str]] = field(default_factory=dict)
    pending: list[tuple[str, str]] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)

    def source(self, path: Path) -> Source:
        if path not in self.sources:
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise FileNotFoundError(path) from None
            except UnicodeDecodeError as exc:
                raise SpecError(
                    [Diagnostic(display_path(path), 1, "", f"not UTF-8: {exc.reason}", "yaml")]
                ) from None
            if path.suffix == ".json":
                try:
                    json.loads(text)
                except json.JSONDecodeError as exc:
                    raise SpecError(
                        [
                            Diagnostic(
                                display_path(path),
                                exc.lineno,
                                "",
                                f"JSON syntax error: {exc.msg}",
                                "yaml",
                            )
                        ]
                    ) from None
                text = _join_surrogates(text)
            self.sources[path] = parse_text(text, path)
        return self.sources[path]

    def bundle(self) -> dict[str, Any]:
        root = self.source(self.root)
        if not isinstance(root.data, dict):
            raise SpecError(
                [Diagnostic(root.display, 1, "", "the document is not a mapping", "yaml")]
            )
        data: dict[str, Any] = self.walk(root.data, root, "", "", ())
        while self.pending:
            kind, name = self.pending.pop(0)
            path, fragment = self.components[(kind, name)]
            src = self.source(path)
            value = _resolve_pointer(src.data, fragment)
            out_ptr = join_pointer("/components", kind, name)
            bucket = data.setdefault("components", {}).setdefault(kind, {})
            bucket[name] = self.walk(value, src, fragment, out_ptr, ((path, fragment),))
        for kind, bucket in data.get("components", {}).items():
            if isinstance(bucket, dict):
                data["components"][kind] = dict(sorted(bucket.items()))
        return data

    def walk(
        self,
        value: Any,
        src: Source,
        src_ptr: str,
        out_ptr: str,
        stack: tuple[tuple[Path, str], ...],
    ) -> Any:
        self.origins[out_ptr] = (src.display, src.line_of(src_ptr))
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str):
                return self.reference(value, ref, src, src_ptr, out_ptr, stack)
            # extensions are the author's own data: a `$ref` in one is not an OpenAPI reference
            return {
                k: v
                if k.startswith("x-")
                else self.walk(v, src, join_pointer(src_ptr, k), join_pointer(out_ptr, k), stack)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [
                self.walk(v, src, join_pointer(src_ptr, i), join_pointer(out_ptr, i), stack)
                for i, v in enumerate(value)
            ]
        return value

    def reference(
        self,
        value: dict[str, Any],
        ref: str,
        src: Source,
        src_ptr: str,
        out_ptr: str,
        stack: tuple[tuple[Path, str], ...],
    ) -> Any:
        file_part, _, fragment = ref.partition("#")
        siblings = {
            k: self.walk(v, src, join_pointer(src_ptr, k), join_pointer(out_ptr, k), stack)
            for k, v in value.items()
            if k != "$ref"
        }
        if not file_part and src.path == self.root:
            return {"$ref": ref, **siblings}  # internal to the root: kept, checked by lint
        target = (src.path.parent / file_part).resolve() if file_part else src.path
        here = Diagnostic(
            src.display,
            src.line_of(join_pointer(src_ptr, "$ref")),
            join_pointer(out_ptr, "$ref"),
            "",
            "ref-resolves",
        )
        try:
            target_src = self.source(target)
        except FileNotFoundError:
            self.problems.append(
                _with(here, f"$ref {ref!r}: file {display_path(target)} not found")
            )
            self.broken.add(out_ptr)
            return {"$ref": ref, **siblings}
        try:
            target_value = _resolve_pointer(target_src.data, fragment)
        except LookupError:
            self.problems.append(
                _with(here, f"$ref {ref!r}: no {fragment or '/'} in {target_src.display}")
            )
            self.broken.add(out_ptr)
            return {"$ref": ref, **siblings}
        if target == self.root:
            return {"$ref": "#" + fragment, **siblings}
        component = _component_of(target, fragment)
        if component is not None:
            known = self.components.get(component)
            if known is None:
                self.components[component] = (target, fragment)
                self.pending.append(component)
            elif known != (target, fragment):
                self.problems.append(
                    _with(
                        here,
                        f"component name {component[1]!r} is used by two files: "
                        f"{display_path(known[0])} and {display_path(target)}",
                    )
                )
            return {"$ref": join_pointer("#/components", *component), **siblings}
        if (target, fragment) in stack:
            self.problems.append(
                _with(
                    here,
                    f"$ref {ref!r} is circular; make its target a component",
                )
            )
            self.broken.add(out_ptr)
            return {"$ref": ref, **siblings}
        inlined = self.walk(
            target_value, target_src, fragment, out_ptr, (*stack, (target, fragment))
        )
        if siblings and isinstance(inlined, dict):
            inlined = {**inlined, **siblings}
        return inlined


def _with(diagnostic: Diagnostic, message: str) -> Diagnostic:
    return Diagnostic(
        diagnostic.file, diagnostic.line, diagnostic.pointer, message, diagnostic.rule
    )


def _component_of(path: Path, fragment: str) -> tuple[str, str] | None:
    if not fragment:
        match = _COMPONENT_FILE.search(path.as_posix())
        return (match.group(1), match.group(2)) if match else None
    match = _COMPONENT_POINTER.match(fragment)
    if match:
        tokens = split_pointer(fragment)
        return (tokens[1], tokens[2])
    return None


def _resolve_pointer(data: Any, pointer: str) -> Any:
    for token in split_pointer(pointer):
        if isinstance(data, dict) and token in data:
            data = data[token]
        elif isinstance(data, list) and token.isdigit() and int(token) < len(data):
            data = data[int(token)]
        else:
            raise LookupError(pointer)
    return data


def resolve_pointer(data: Any, pointer: str) -> Any:
    """The value at `pointer` in `data`; LookupError when there is none."""
    return _resolve_pointer(data, pointer)


def load(root: Path, name: str | None = None) -> Document:
    """Read and bundle the spec rooted at `root`. Raises SpecError with every located problem."""
    root = root.resolve()
    bundler = _Bundler(root)
    try:
        data = bundler.bundle()
    except FileNotFoundError:
        raise SpecError([Diagnostic(display_path(root), 0, "", "file not found", "load")]) from None
    if bundler.problems:
        raise SpecError(bundler.problems)
    return Document(
        name=name or root.parent.name,
        root=root,
        data=data,
        origins=bundler.origins,
        files=tuple(sorted(bundler.sources)),
        broken_refs=frozenset(bundler.broken),
    )
