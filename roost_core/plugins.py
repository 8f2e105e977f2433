"""PluginHost: finds plugins through the ``roost.plugins`` entry-point group and
loads them lazily, one kind at a time.

Entry-point names are ``<kind>.<plugin>`` (``strategy.least-used``,
``probe.anthropic``). Reading entry points touches metadata only; a kind's
modules are imported the first time one of its hooks is needed, so
``roost pick`` on a warm cache never imports the probe (httpx) or the
renderers (rich). Every import and registration is isolated: a broken plugin
becomes a PluginFailure and one warning, and the rest keeps working.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

import pluggy

from . import ENTRY_POINT_GROUP, PROJECT_NAME, hookspecs
from .errors import ValidationError

# Which hook each kind of entry point serves.
KIND_HOOKS: dict[str, str] = {
    "strategy": "roost_register_strategies",
    "probe": "roost_register_probe_sources",
    "refresher": "roost_register_token_refreshers",
    "classifier": "roost_classify",
    "observer": "roost_probe_completed",
    "renderer": "roost_register_renderers",
    "feed": "roost_register_status_feeds",
    "doctor": "roost_register_doctor_checks",
    "state": "roost_register_state_backends",
    "command": "roost_register_commands",
    "settings": "roost_register_settings",
    "passive": "roost_register_passive_sources",
    "credstore": "roost_register_credential_stores",
    "exec": "roost_prepare_exec",
    "tap": "roost_exec_stdout",
}
ANY_KIND = "*"  # entry points without a known kind prefix load with every kind


@dataclass
class PluginEntry:
    """One entry point, split into kind and plugin name."""

    entry_name: str
    value: str
    kind: str
    plugin: str
    dist: str | None = None
    version: str | None = None
    loader: Callable[[], Any] | None = None


@dataclass
class PluginFailure:
    plugin: str
    dist: str | None
    version: str | None
    error: str

    def message(self) -> str:
        where = f" ({self.dist} {self.version})" if self.dist else ""
        hint = f"--disable-plugin {self.plugin}" + (f" or pip uninstall {self.dist}" if self.dist else "")
        return f"plugin {self.plugin!r}{where} skipped: {self.error}; silence with {hint}"


@dataclass
class PluginInfo:
    name: str
    dist: str | None
    version: str | None
    kinds: list[str] = field(default_factory=list)
    provides: dict[str, list[str]] = field(default_factory=dict)
    status: str = "loaded"  # loaded | disabled | failed | not-loaded
    error: str | None = None


def split_entry_name(name: str) -> tuple[str, str]:
    kind, sep, plugin = name.partition(".")
    if sep and kind in KIND_HOOKS and plugin:
        return kind, plugin
    return ANY_KIND, name


def _entries_from_metadata() -> list[PluginEntry]:
    from .entrypoints import entry_points

    result = []
    for ep in entry_points(ENTRY_POINT_GROUP):
        kind, plugin = split_entry_name(ep.name)
        result.append(PluginEntry(ep.name, ep.value, kind, plugin, ep.dist, ep.version, ep.load))
    return result


class PluginHost:
    """The one pluggy PluginManager of a roost invocation, with a typed facade."""

    def __init__(self, *, disabled: Iterable[str] = (), entries: list[PluginEntry] | None = None,
                 plugins: Iterable[tuple[str, Any]] = (), warn: Callable[[str], None] | None = None):
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.disabled = set(disabled)
        self._entries = entries
        self._loaded_kinds: set[str] = set()
        self._loaded_values: dict[str, str] = {}  # entry value -> registered plugin name
        self.failures: list[PluginFailure] = []
        self._failed_plugins: set[str] = set()
        self._warn = warn or (lambda msg: None)
        self._cache: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, dict[str, str]] = {}
        for name, obj in plugins:
            self.register(obj, name)

    # -- discovery -------------------------------------------------------
    @property
    def entries(self) -> list[PluginEntry]:
        if self._entries is None:
            self._entries = _entries_from_metadata()
        return self._entries

    def register(self, plugin: Any, name: str, entry: PluginEntry | None = None) -> bool:
        """Register ``plugin`` under ``name``; on failure roll back and record it."""
        if name in self.disabled or self.pm.is_registered(plugin) or self.pm.get_plugin(name) is not None:
            return False
        unknown = [attr for attr in dir(plugin)
                   if attr.startswith("roost_") and callable(getattr(plugin, attr, None))
                   and not hasattr(self.pm.hook, attr)]
        if unknown:
            self._fail(name, entry, f"implements unknown hook(s) {', '.join(unknown)} (typo?)")
            return False
        try:
            self.pm.register(plugin, name)
        except Exception as exc:  # pluggy validation or a plugin's own error
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(name=name)
            self._fail(name, entry, f"{type(exc).__name__}: {exc}")
            return False
        self._cache.clear()
        return True

    def load_kind(self, kind: str, only: str | None = None) -> None:
        """Import and register the entry points of ``kind`` (or just plugin ``only``)."""
        if kind in self._loaded_kinds:
            return
        for entry in self.entries:
            if entry.kind not in (kind, ANY_KIND) or (only and entry.plugin != only and entry.kind == kind):
                continue
            self._load_entry(entry)
        if only is None:
            self._loaded_kinds.add(kind)

    def load_all(self) -> None:
        for kind in KIND_HOOKS:
            self.load_kind(kind)

    def _load_entry(self, entry: PluginEntry) -> None:
        if entry.plugin in self.disabled or entry.plugin in self._failed_plugins:
            return
        if entry.value in self._loaded_values:
            return
        try:
            obj = entry.loader() if entry.loader else importlib.import_module(entry.value)
        except Exception as exc:
            self._fail(entry.plugin, entry, f"{type(exc).__name__}: {exc}")
            return
        name = entry.plugin
        existing = self.pm.get_plugin(name)
        if existing is not None and existing is not obj:
            name = f"{entry.plugin}:{entry.kind}"
        if existing is obj or self.register(obj, name, entry):
            self._loaded_values[entry.value] = name

    def _fail(self, plugin: str, entry: PluginEntry | None, error: str) -> None:
        failure = PluginFailure(plugin, entry.dist if entry else None, entry.version if entry else None, error)
        self.failures.append(failure)
        self._failed_plugins.add(plugin)
        self._warn(failure.message())

    def failure_for(self, plugin: str) -> PluginFailure | None:
        return next((f for f in self.failures if f.plugin == plugin), None)

    # -- registries --------------------------------------------------------
    def _collect(self, kind: str, **kwargs: Any) -> dict[str, Any]:
        """Call a registry hook impl by impl; objects keyed by their ``name``."""
        if kind in self._cache:
            return self._cache[kind]
        hook = getattr(self.pm.hook, KIND_HOOKS[kind])
        found: dict[str, Any] = {}
        owners: dict[str, str] = {}
        for impl in reversed(hook.get_hookimpls()):  # registration order
            try:
                result = impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception as exc:
                self._fail(impl.plugin_name, None, f"{KIND_HOOKS[kind]} raised {type(exc).__name__}: {exc}")
                continue
            for obj in result if isinstance(result, (list, tuple)) else [result]:
                if obj is None:
                    continue
                name = getattr(obj, "name", None)
                if not isinstance(name, str) or not name:
                    self._warn(f"plugin {impl.plugin_name!r} returned a {kind} without a name; ignored")
                    continue
                if name in found:
                    raise ValidationError(
                        f"{kind} {name!r} is provided by both plugin {owners[name]!r} and "
                        f"plugin {impl.plugin_name!r}; disable one with --disable-plugin")
                found[name] = obj
                owners[name] = impl.plugin_name
        self._cache[kind] = found
        self._owners[kind] = owners
        return found

    def registry(self, kind: str, name: str | None = None) -> dict[str, Any]:
        """Objects of ``kind`` by name; with ``name``, try loading just that plugin first."""
        if name is not None and kind not in self._loaded_kinds:
            self.load_kind(kind, only=name)
            found = self._collect(kind)
            if name in found:
                return found
        self.load_kind(kind)
        return self._collect(kind)

    def get(self, kind: str, name: str, what: str | None = None) -> Any:
        """One object by name, or VALIDATION listing what exists (and why a plugin failed)."""
        found = self.registry(kind, name)
        if name in found:
            return found[name]
        failure = self.failure_for(name)
        why = f" (plugin failed to load: {failure.error})" if failure else ""
        names = ", ".join(sorted(found)) or "none"
        raise ValidationError(f"unknown {what or kind} {name!r}{why}; available: {names}",
                              details={"available": sorted(found)})

    def owner(self, kind: str, name: str) -> str | None:
        return self._owners.get(kind, {}).get(name)

    # -- calls -------------------------------------------------------------
    def classify(self, **kwargs: Any) -> Any:
        self.load_kind("classifier")
        return self.pm.hook.roost_classify(**kwargs)

    def notify(self, hook_name: str, kind: str, **kwargs: Any) -> None:
        """Call an observer hook impl by impl; an exception is a warning, not a crash."""
        self._each(hook_name, kind, (), kwargs)

    def answers(self, hook_name: str, kind: str, **kwargs: Any) -> list[Any]:
        """Like ``notify``, returning every impl's answer that is not None."""
        return [r for r in self._each(hook_name, kind, (), kwargs) if r is not None]

    def prepare(self, hook_name: str, kind: str, **kwargs: Any) -> None:
        """Like ``notify``, but a RoostError stops the command (its exit code); others are warnings."""
        from .errors import RoostError

        self._each(hook_name, kind, (RoostError,), kwargs)

    def _each(self, hook_name: str, kind: str, stops: tuple[type[BaseException], ...],
              kwargs: dict[str, Any]) -> list[Any]:
        self.load_kind(kind)
        results = []
        for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):
            try:
                results.append(impl.function(*[kwargs[arg] for arg in impl.argnames]))
            except stops:
                raise
            except Exception as exc:
                self._warn(f"plugin {impl.plugin_name!r} failed in {hook_name}: {type(exc).__name__}: {exc}")
        return results

    def add_commands(self, cli: Any) -> None:
        self.notify("roost_register_commands", "command", cli=cli)

    def declared_settings(self, plugin: str | None = None) -> list[Any]:
        """Settings declared through ``roost_register_settings`` (of one plugin, or all), owner filled in.

        A plugin that fails to declare is a warning (its settings then keep
        their defaults), not a failed command.
        """
        key = f"settings:{plugin or '*'}"
        if key in self._cache:
            return list(self._cache[key].values())
        self.load_kind("settings", only=plugin)
        found: dict[str, Any] = {}
        for impl in reversed(self.pm.hook.roost_register_settings.get_hookimpls()):
            owner = impl.plugin_name.split(":")[0]
            if plugin is not None and owner != plugin:
                continue
            try:
                result = impl.function()
            except Exception as exc:
                self._warn(f"plugin {owner!r} failed in roost_register_settings: {type(exc).__name__}: {exc}")
                continue
            specs: list[Any] = list(result) if isinstance(result, (list, tuple)) else [result]
            for spec in specs:
                if spec is None or not getattr(spec, "name", ""):
                    continue
                spec = replace(spec, plugin=owner)
                found.setdefault(spec.key, spec)
        self._cache[key] = found
        return list(found.values())

    # -- introspection -----------------------------------------------------
    def plugin_infos(self) -> list[PluginInfo]:
        """Every plugin known (loaded, failed or disabled) with what it provides."""
        self.load_all()
        provides: dict[str, dict[str, list[str]]] = {}
        for kind in KIND_HOOKS:
            if KIND_HOOKS[kind].startswith("roost_register_") and kind != "command":
                self._collect(kind)
                for obj_name, owner in self._owners.get(kind, {}).items():
                    provides.setdefault(owner, {}).setdefault(kind, []).append(obj_name)
        infos: dict[str, PluginInfo] = {}
        for entry in self.entries:
            info = infos.setdefault(entry.plugin, PluginInfo(entry.plugin, entry.dist, entry.version))
            info.kinds.append(entry.kind)
            if entry.plugin in self.disabled:
                info.status = "disabled"
            failure = self.failure_for(entry.plugin)
            if failure:
                info.status, info.error = "failed", failure.error
        for name, plugin in self.pm.list_name_plugin():
            base = name.split(":")[0]
            info = infos.setdefault(base, PluginInfo(base, None, None))
            for hook in self.pm.get_hookcallers(plugin) or []:
                hook_kind = next((k for k, h in KIND_HOOKS.items() if h == hook.name), None)
                if hook_kind and hook_kind not in info.kinds:
                    info.kinds.append(hook_kind)
            info.provides.update(provides.get(name, {}))
        return sorted(infos.values(), key=lambda i: i.name)
