"""Poolers that Kubernetes operators run for a custom resource.

The object is any mapping-like tree (``.get``); positions come from the caller's ``locate``
(path of keys and indexes from the object root → :class:`Loc`), so plain dicts and the
loader's position-carrying nodes both work.  Each operator's pooler is described as the
``pgbouncer.ini`` the operator generates, and checked like any other (:mod:`.pgbouncer`).

Documented behaviour used, per operator:

- CloudNativePG ``Pooler`` (postgresql.cnpg.io): api/v1 ``pooler_types.go`` — ``instances``
  default 1, ``type`` default ``rw``, ``pgbouncer.poolMode`` enum session|transaction default
  session; ``pkg/management/pgbouncer/config`` — ``* = host=<cluster>-<type>``, and
  ``listen_port = 5432`` forced over any parameter.  The Service is named after the Pooler.
- Zalando ``postgresql`` (acid.zalan.do): ``pkg/cluster/connection_pooler.go``
  ``getConnectionPoolerEnvVars`` — per pod ``max_db_connections = maxDBConnections ÷
  numberOfInstances``, ``default_pool_size = that ÷ 2``, ``reserve_pool_size =
  default_pool_size ÷ 2`` (Go integer division), ``max_client_conn = 10000``, port 5432;
  defaults (docs/reference/operator_parameters.md): ``connection_pooler_number_of_instances``
  2, ``connection_pooler_mode`` transaction, ``connection_pooler_max_db_connections`` 60.
  Services ``<cluster>-pooler`` (primary) and ``<cluster>-pooler-repl`` (replicas).
- Crunchy PGO ``PostgresCluster`` and Percona ``PerconaPGCluster`` (a fork of PGO v5):
  ``internal/pgbouncer/config.go`` ``clusterINI`` — ``* = host=<cluster>-primary port=<spec.port>``,
  ``listen_port`` = ``proxy.pgBouncer.port`` (default 5432), then ``config.global`` overrides,
  ``config.databases`` replaces the ``*`` entry, ``config.users`` fills [users]; CRD defaults
  ``replicas`` 1, ports 5432.  Service ``<cluster>-pgbouncer``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scalelint.findings import Loc, Notice
from scalelint.model import State, Val, default, known, unknown

from .ini import IniEntry
from .model import Locate, PoolerSettings, notice, to_int
from .pgbouncer import settings_from_entries

__all__ = ["read_operator_poolers"]

_ZALANDO_CLIENT_CONN = 10000  # constants.ConnectionPoolerMaxClientConnections
_CNPG_FORCED = ("unix_socket_dir", "listen_port", "listen_addr", "admin_users", "auth_hba_file", "server_tls_ca_file",
                "client_tls_cert_file", "client_tls_key_file", "client_tls_ca_file")


def _mapping(node: Any) -> bool:
    return hasattr(node, "get") and hasattr(node, "items") and not isinstance(node, (str, bytes))


class _Reader:
    """Walks one object, reporting wrong types as notices at their positions."""

    def __init__(self, obj: Any, locate: Locate | None, path: str, settings: PoolerSettings) -> None:
        self.obj, self.locate, self.path, self.settings = obj, locate, path, settings

    def loc(self, keys: tuple[str | int, ...]) -> Loc | None:
        if self.locate is None:
            return None
        try:
            return self.locate(keys)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):  # a path locate cannot place
            return None

    def node(self, keys: tuple[str | int, ...]) -> Any:
        node = self.obj
        for key in keys:
            if not _mapping(node):
                return None
            node = node.get(key)
        return node

    def val(self, keys: tuple[str | int, ...]) -> Val[Any] | None:
        node = self.node(keys)
        return None if node is None else known(node, self.loc(keys))

    def wrong(self, keys: tuple[str | int, ...], expected: str) -> Val[Any]:
        where = ".".join(str(k) for k in keys)
        loc = self.loc(keys)
        self.settings.notices.append(notice(f"{where} must be {expected}", loc, self.path))
        self.settings.problems.append((f"{where} must be {expected}: the API server rejects the object", loc))
        return unknown(loc, f"{where} is not {expected}")

    def string(self, keys: tuple[str | int, ...]) -> Val[str] | None:
        value = self.val(keys)
        if value is None or isinstance(value.value, str):
            return value
        return self.wrong(keys, "a string")

    def integer(self, keys: tuple[str | int, ...], minimum: int) -> Val[int] | None:
        value = self.val(keys)
        if value is None:
            return None
        if isinstance(value.value, bool) or not isinstance(value.value, int):
            return self.wrong(keys, "a whole number")
        if value.value < minimum:
            return self.wrong(keys, f"at least {minimum}")
        return value

    def flag(self, keys: tuple[str | int, ...]) -> bool | None:
        value = self.val(keys)
        if value is None:
            return False
        if isinstance(value.value, bool):
            return value.value
        self.wrong(keys, "true or false")
        return None

    def params(self, keys: tuple[str | int, ...], section: str) -> list[IniEntry]:
        """A ``map[string]string`` of PgBouncer settings as ini entries (non-strings are problems)."""
        node = self.node(keys)
        if node is None:
            return []
        if not _mapping(node):
            self.wrong(keys, "a mapping")
            return []
        entries: list[IniEntry] = []
        for key, raw in node.items():
            where = (*keys, key)
            if not isinstance(raw, str):
                self.wrong(where, f"a string (\"{raw}\")")
            text = raw if isinstance(raw, (str, int, float)) and not isinstance(raw, bool) else None
            value = known(str(text), self.loc(where)) if text is not None else unknown(self.loc(where), "not a string")
            entries.append(IniEntry(section, str(key), value, self.loc(where), ".".join(map(str, where))))
        return entries


def _name(reader: _Reader) -> str:
    name = reader.node(("metadata", "name"))
    if isinstance(name, str) and name:
        return name
    reader.settings.notices.append(notice("the object has no metadata.name: its Services are unknown",
                                          reader.loc(("metadata",)) or reader.loc(()), reader.path))
    return ""


def _service_entry(host: str, loc: Loc | None, why: str, port: Val[Any] | None = None) -> IniEntry:
    params = {"host": default(host, loc, why)}
    if port is not None:
        params["port"] = Val(str(port.value), port.loc, port.state, port.reason)
    return IniEntry("databases", "*", params["host"], loc, "", params)


def _cnpg(obj: Any, locate: Locate | None, path: str) -> list[PoolerSettings]:
    settings = PoolerSettings("pgbouncer", "cnpg", source="operator")
    reader = _Reader(obj, locate, path, settings)
    settings.name = _name(reader)
    settings.services = [settings.name] if settings.name else []
    root = reader.loc(())
    instances = reader.integer(("spec", "instances"), 0)
    settings.replicas = instances if instances is not None else default(
        1, root, "CloudNativePG Pooler default spec.instances = 1")
    cluster = reader.string(("spec", "cluster", "name"))
    kind = reader.string(("spec", "type")) or default("rw", root, "CloudNativePG Pooler default spec.type = rw")
    entries: list[IniEntry] = []
    if cluster is None or cluster.value is None or not cluster.value:
        settings.problems.append((("the Pooler names no cluster (spec.cluster.name): CloudNativePG rejects it and its "
                                  "database is unknown"), reader.loc(("spec",)) or root))
    elif kind.value not in ("rw", "ro", "r"):
        if kind.state is not State.UNKNOWN:
            settings.problems.append((f"spec.type {kind.value!r}: CloudNativePG accepts rw, ro or r", kind.loc))
    else:
        entries.append(_service_entry(f"{cluster.value}-{kind.value}", cluster.loc,
                                      "CloudNativePG points the Pooler at the <cluster>-<type> Service"))
    mode = reader.string(("spec", "pgbouncer", "poolMode"))
    if mode is not None and mode.value is not None and mode.value not in ("session", "transaction"):
        settings.problems.append(((f"spec.pgbouncer.poolMode {mode.value!r}: CloudNativePG accepts session or "
                                  "transaction and rejects the Pooler"), mode.loc))
        mode = unknown(mode.loc, f"invalid poolMode {mode.value!r}")
    for entry in reader.params(("spec", "pgbouncer", "parameters"), "pgbouncer"):
        if entry.key in _CNPG_FORCED:
            settings.notices.append(notice(f"{entry.origin}: CloudNativePG sets {entry.key} itself; this value is "
                                           "ignored", entry.key_loc, path))
        elif entry.key != "pool_mode":
            entries.append(entry)
    if mode is not None:
        entries.append(IniEntry("pgbouncer", "pool_mode", mode, mode.loc, "spec.pgbouncer.poolMode"))
    defaults: dict[str, Val[Any]] = {
        "pool_mode": default("session", root, "CloudNativePG default spec.pgbouncer.poolMode = session"),
        "listen_port": default(5432, root, "CloudNativePG forces listen_port = 5432"),
    }
    settings_from_entries(entries, settings, writer="CloudNativePG", defaults=defaults, default_loc=root)
    return [settings]


def _derive(inputs: list[tuple[str, Val[int]]], value: int | None, loc: Loc | None, formula: str) -> Val[int]:
    """A value the operator computes: unknown if an input is, default if one is (the reason shows the sum)."""
    if value is None or any(v.state is State.UNKNOWN for _, v in inputs):
        return unknown(loc, f"{formula}: an input is unknown")
    state = State.DEFAULT if any(v.state is State.DEFAULT for _, v in inputs) else State.KNOWN
    shown = ", ".join(f"{name} {v.value}{' (default)' if v.state is State.DEFAULT else ''}" for name, v in inputs)
    return Val(value, loc, state, f"Zalando operator: {formula} = {value} ({shown})")


def _zalando(obj: Any, locate: Locate | None, path: str, operator_config: Mapping[str, Val[Any]] | None,
             stray: list[Notice]) -> list[PoolerSettings]:
    config = operator_config or {}
    probe = PoolerSettings("pgbouncer", "zalando", source="operator")
    reader = _Reader(obj, locate, path, probe)
    name = _name(reader)
    roles = [(role, reader.flag(("spec", key))) for role, key in
             (("master", "enableConnectionPooler"), ("replica", "enableReplicaConnectionPooler"))]
    root = reader.loc(())
    if not any(enabled for _, enabled in roles):
        if reader.node(("spec", "connectionPooler")) is not None:
            probe.notices.append(notice("spec.connectionPooler is set but neither enableConnectionPooler nor "
                                        "enableReplicaConnectionPooler is true: the operator runs a pooler only if "
                                        "its enable_connection_pooler configuration is on", reader.loc(
                                            ("spec", "connectionPooler")), path))
        stray.extend(probe.notices)
        return []
    pooler = ("spec", "connectionPooler")
    if reader.node(pooler) is not None and not _mapping(reader.node(pooler)):
        reader.wrong(pooler, "a mapping")

    def setting(key: str, config_key: str, fallback: Any, minimum: int | None) -> Val[Any]:
        written = reader.integer((*pooler, key), minimum) if minimum is not None else reader.string((*pooler, key))
        if written is not None:
            return written
        if config.get(config_key) is not None:
            return config[config_key]
        return default(fallback, reader.loc(pooler) or root,
                       f"Zalando operator default {config_key} = {fallback}")

    instances = to_int(setting("numberOfInstances", "connection_pooler_number_of_instances", 2, 1),
                       "numberOfInstances", probe.notices, minimum=1)
    max_db = to_int(setting("maxDBConnections", "connection_pooler_max_db_connections", 60, 0),
                    "maxDBConnections", probe.notices, minimum=0)
    mode = setting("mode", "connection_pooler_mode", "transaction", None)
    if mode.value is not None and mode.value not in ("session", "transaction"):
        probe.problems.append(((f"connectionPooler.mode {mode.value!r}: the postgresql CRD accepts session or "
                               "transaction"), mode.loc))
        mode = unknown(mode.loc, f"invalid mode {mode.value!r}")
    per_pod = (max_db.value // instances.value
               if max_db.value is not None and instances.value and max_db.known and instances.known else None)
    loc = max_db.loc or instances.loc
    max_db_conn = _derive([("maxDBConnections", max_db), ("numberOfInstances", instances)], per_pod, loc,
                          "max_db_connections = maxDBConnections ÷ numberOfInstances")
    pool = _derive([("max_db_connections", max_db_conn)], None if per_pod is None else per_pod // 2, loc,
                   "default_pool_size = max_db_connections ÷ 2")
    reserve = _derive([("default_pool_size", pool)], None if pool.value is None else pool.value // 2, loc,
                      "reserve_pool_size = default_pool_size ÷ 2")
    results: list[PoolerSettings] = []
    for role, enabled in roles:
        if not enabled:
            continue
        settings = PoolerSettings("pgbouncer", "zalando", source="operator", name=name)
        settings.problems.extend(probe.problems)
        settings.notices.extend(probe.notices)
        suffix, backend = ("-pooler", name) if role == "master" else ("-pooler-repl", f"{name}-repl")
        settings.services = [f"{name}{suffix}"] if name else []
        settings.replicas = instances
        entries = [_service_entry(backend, root, f"the Zalando {role} pooler connects to the {backend} Service",
                                  default(5432, root, "Zalando: PostgreSQL port 5432"))] if name else []
        defaults: dict[str, Val[Any]] = {
            "pool_mode": mode, "default_pool_size": pool, "reserve_pool_size": reserve,
            "max_db_connections": max_db_conn,
            "max_client_conn": default(_ZALANDO_CLIENT_CONN, root, "Zalando operator: max_client_conn = 10000 "
                                       "(constants.ConnectionPoolerMaxClientConnections)"),
            "listen_port": default(5432, root, "Zalando operator: the pooler listens on 5432"),
        }
        results.append(settings_from_entries(entries, settings, defaults=defaults, default_loc=root))
    return results


def _pgo(obj: Any, locate: Locate | None, path: str, flavour: str) -> list[PoolerSettings]:
    settings = PoolerSettings("pgbouncer", flavour, source="operator")
    reader = _Reader(obj, locate, path, settings)
    bouncer = ("spec", "proxy", "pgBouncer")
    node = reader.node(bouncer)
    if node is None:
        return []
    if not _mapping(node):
        reader.wrong(bouncer, "a mapping")
        return [settings]
    label = "Crunchy PGO" if flavour == "crunchy" else "Percona Operator for PostgreSQL"
    settings.name = _name(reader)
    settings.services = [f"{settings.name}-pgbouncer"] if settings.name else []
    root = reader.loc(bouncer) or reader.loc(())
    settings.replicas = reader.integer((*bouncer, "replicas"), 0) or default(
        1, root, f"{label} default spec.proxy.pgBouncer.replicas = 1")
    port = reader.integer((*bouncer, "port"), 1024) or default(5432, root, f"{label} default "
                                                                         "spec.proxy.pgBouncer.port = 5432")
    db_port = reader.integer(("spec", "port"), 1024) or default(5432, root, f"{label} default spec.port = 5432")
    config = (*bouncer, "config")
    if reader.node((*config, "files")) is not None:
        settings.notices.append(notice(f"{'.'.join(config)}.files: files projected into /etc/pgbouncer may set more "
                                       "PgBouncer settings (the generated file %includes /etc/pgbouncer/pgbouncer.ini)",
                                       reader.loc((*config, "files")), path))
    databases = reader.params((*config, "databases"), "databases")
    entries = databases or ([_service_entry(f"{settings.name}-primary", root, f"{label} points PgBouncer at the "
                                            "<cluster>-primary Service", db_port)] if settings.name else [])
    entries += reader.params((*config, "global"), "pgbouncer") + reader.params((*config, "users"), "users")
    # clusterINI writes listen_port from spec.proxy.pgBouncer.port; config.global may override it
    return [settings_from_entries(entries, settings, writer=label, defaults={"listen_port": port}, default_loc=root)]


def read_operator_poolers(
    obj: Any,
    locate: Locate | None = None,
    *,
    path: str = "",
    operator_config: Mapping[str, Val[Any]] | None = None,
    notices: list[Notice] | None = None,
) -> list[PoolerSettings]:
    """The poolers an operator runs for ``obj`` (none when it is no pooler object).

    ``path`` names the file for notices without a position; ``operator_config`` holds the
    Zalando operator's ``connection_pooler_*`` configuration values when the caller found
    them (its ConfigMap or OperatorConfiguration), which replace the operator's defaults.
    ``notices`` receives what concerns the object but no pooler it runs (a Zalando cluster
    with ``connectionPooler`` set but no pooler enabled, or an enable flag that is no boolean).
    """
    if not _mapping(obj):
        return []
    api, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str):
        return []
    group = api.split("/", 1)[0]
    if kind == "Pooler" and group == "postgresql.cnpg.io":
        return _cnpg(obj, locate, path)
    if kind == "postgresql" and group == "acid.zalan.do":
        return _zalando(obj, locate, path, operator_config, notices if notices is not None else [])
    if kind == "PostgresCluster" and group == "postgres-operator.crunchydata.com":
        return _pgo(obj, locate, path, "crunchy")
    if kind == "PerconaPGCluster" and group == "pgv2.percona.com":
        return _pgo(obj, locate, path, "percona")
    return []
