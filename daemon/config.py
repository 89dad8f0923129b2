"""The daemon's configuration: one TOML file, validated before anything starts.

Every table is a pydantic model with ``extra="forbid"``, so a typo is an error rather than a
silently ignored setting. Device lists carry a ``type`` discriminator and each subsystem owns
the models of its devices (``rfid.config``, ``sensors.config``, ``stacker.config``); this module
assembles them. ``ARCHROOM_*`` environment variables override the file (nested keys joined
with ``__``, e.g. ``ARCHROOM_API__PORT=9000``), and secrets are read from files in
``$CREDENTIALS_DIRECTORY`` (systemd ``LoadCredential=``) so they never sit in the TOML.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from drivers.links import parse_link
from drivers.models import StrictModel
from rfid.config import GateConfig, ReaderConfig, ShelfEngineConfig
from sensors.config import ROOM_CLASSES, BusConfig, ClimateConfig, LimitsOverride, SensorConfig
from sensors.control_config import ActuatorConfig, ControlTuning
from sensors.limits import limits_for
from sensors.profiles import profile_for
from stacker.config import StackerConfig

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]


class SiteConfig(StrictModel):
    """The site (one body's archive): the first level of MQTT topics."""

    id: Identifier = "site"
    """Short id used in MQTT topics ``archroom/{site}/{room}/...``."""
    name: str = "Archive"
    """Display name."""


class RoomConfig(StrictModel):
    """A climate-controlled room; the daemon owns the one named by ``ArchroomConfig.room``."""

    model_config = ConfigDict(populate_by_name=True)

    id: Identifier
    """Room id; location codes of the room start with it."""
    name: str = ""
    """Display name (e.g. ``1号库房``); the console names the room's locations with it."""
    name_en: str = ""
    """Display name on the console's English pages (e.g. ``Room 1``; default: ``name``)."""
    room_class: str = Field(default="paper", alias="class")
    """Storage class of JGJ 25-2010 §5.2: ``paper``, ``special``, ``av``, ``film-copy``,
    ``film-master``; it sets the climate limits."""
    limits: LimitsOverride = LimitsOverride()
    control: ControlTuning = ControlTuning()
    """How the room's actuators are switched (with ``[[actuators]]``; docs/climate.md)."""

    @field_validator("room_class")
    @classmethod
    def _known_class(cls, v: str) -> str:
        if v not in ROOM_CLASSES:
            raise ValueError(f"unknown room class {v!r} (one of: {', '.join(ROOM_CLASSES)})")
        return v


class DatabaseConfig(StrictModel):
    """Where the room's records live."""

    url: str | None = None
    """``sqlite:///PATH`` or ``postgresql+asyncpg://user@host/db``; default: SQLite in state_dir.
    A primary and its standbys: ``postgresql+asyncpg://user@h1:5432,h2:5432/db?target_session_attrs=read-write``."""
    password_credential: str | None = None
    """Name of a credential file holding the database password."""
    replica_url: str | None = None
    """A PostgreSQL hot standby that location lookups, search and the EPCIS export may read
    from (same form as ``url``; the same password). Writes never go to it."""
    replica_max_lag_s: float = Field(default=5.0, gt=0)
    """Read from the primary instead while the standby is further behind than this."""
    max_connections: int = Field(default=15, ge=1, le=1000)
    """The most connections this daemon opens to PostgreSQL (and as many to the replica): five
    kept open, the rest opened while requests queue. Rooms sharing one server need its
    ``max_connections`` above the sum of theirs, or a connection pooler in front of it."""

    @field_validator("replica_url")
    @classmethod
    def _replica_scheme(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("postgres"):
            raise ValueError(f"a replica is a PostgreSQL standby: {v!r} is not postgresql://")
        return v

    @field_validator("url")
    @classmethod
    def _scheme(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("sqlite://", "sqlite+aiosqlite://", "postgresql")):
            raise ValueError(
                f"unsupported database URL {v!r} (use sqlite:/// or postgresql+asyncpg://)"
            )
        return v


class ApiConfig(StrictModel):
    """The REST API, the staff console, ``/metrics`` and ``/healthz``."""

    bind: str = "127.0.0.1"
    """Address to listen on (``0.0.0.0`` for every interface)."""
    port: int = Field(default=8080, ge=0, le=65535)
    """TCP port (0: any free port)."""
    tls_cert_file: Path | None = None
    """PEM certificate (chain) to serve HTTPS; goes with ``tls_key_file``."""
    tls_key_file: Path | None = None
    """PEM private key of ``tls_cert_file``."""
    failed_auth_per_minute: int = Field(default=30, ge=1)
    """Failed token attempts per client per minute before it gets 429."""
    failed_auth_clients: int = Field(default=10_000, ge=100)
    """Client addresses (IPv6: /64 networks) whose failures are counted at once; beyond, new
    ones share one count (the table is never emptied to make room)."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses or networks (``10.0.5.2``, ``10.0.5.0/24``) of reverse proxies whose
    ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed; from anyone else they are
    ignored. Default: none (the client address is the TCP peer's)."""
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    """Largest request body of a JSON route, in bytes (larger: 413, before it is read)."""
    max_import_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    """Largest catalogue import body (``POST /api/v1/items/import``), in bytes."""
    header_timeout_s: float = Field(default=15.0, gt=0)
    """Seconds a client has to send a request's line and headers (else 408, connection
    closed); also how long a new connection may stay silent."""
    body_timeout_s: float = Field(default=30.0, gt=0)
    """Seconds a client has to send the whole body of a JSON request (else 408)."""
    import_timeout_s: float = Field(default=900.0, gt=0)
    """Seconds a client has to send the whole body of a catalogue import (else 408)."""
    keep_alive_s: int = Field(default=5, ge=1)
    """Seconds an idle keep-alive connection stays open between requests."""
    session_idle_s: float = Field(default=900.0, ge=60, le=86400)
    """Seconds a console session may go without a request before it ends (sign in again)."""
    session_max_s: float = Field(default=43200.0, ge=300, le=7 * 86400)
    """Seconds a console session lasts at most, however busy (default: a working day)."""

    @model_validator(mode="after")
    def _tls_pair(self) -> ApiConfig:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for entry in v:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted proxy {entry!r} is not an IP address or network (10.0.5.0/24)"
                ) from None
        return v


class MqttConfig(StrictModel):
    """The MQTT broker; leave the table out to run without MQTT."""

    url: str = "mqtt://127.0.0.1:1883"
    """``mqtt://host:port`` or ``mqtts://host:port`` (TLS)."""
    client_id: str | None = None
    """MQTT client id (default ``archroom-{site}-{room}``)."""
    username: str | None = None
    """Broker user name."""
    password_credential: str | None = None
    """Name of a credential file holding the broker password."""
    ca_file: Path | None = None
    """CA certificate that signed the broker's (with ``mqtts://``; default: the system's)."""
    keepalive_s: int = Field(default=30, ge=5)
    """MQTT keepalive; the broker publishes the ``offline`` Last Will after 1.5 times this."""

    @field_validator("url")
    @classmethod
    def _scheme(cls, v: str) -> str:
        if not v.startswith(("mqtt://", "mqtts://")):
            raise ValueError(f"MQTT URL must start with mqtt:// or mqtts://, got {v!r}")
        return v


class OutboxConfig(StrictModel):
    """The durable queue of events for MQTT."""

    prune_after_s: float = Field(default=7 * 86400, gt=0)
    """Delivered events are deleted after this long."""
    batch: int = Field(default=200, ge=1, le=10000)
    """Events published at once (in order) before their acknowledgements are awaited."""


class LedgerConfig(StrictModel):
    """Catalogue, tags and circulation rules."""

    company_prefix: str = Field(default="0614141", pattern=r"^\d{6,12}$")
    """GS1 company prefix for new GIAI-96 tags."""
    loan_days: int = Field(default=30, ge=1)
    """Loan period when a check-out gives no due date, and the extension of a renewal."""
    max_renewals: int = Field(default=2, ge=0)
    """Renewals allowed per loan."""
    gate_in_returns: bool = False
    """A passage in through a gate returns the item's open loan (default: returns happen at
    the desk)."""


class AuditConfig(StrictModel):
    """The audit trail: its hash chain and its copy on a central log server."""

    hash: Literal["sha256", "sm3"] = "sha256"
    """Hash function of the chain: ``sha256``, or ``sm3`` (GB/T 32905). Chosen when the
    database is created (the first ``archroom db upgrade`` or start) and recorded there; a later
    change is logged and ignored, and ``archroom audit verify`` uses the recorded one."""
    forward: str | None = Field(default=None, pattern=r"^tls://[^/:]+(:\d{1,5})?$")
    """Forward each of this room's audit entries as RFC 5424 syslog over TLS (RFC 5425) to
    ``tls://host:port`` (port 6514 if omitted); unset: no forwarding."""
    ca_file: Path | None = None
    """PEM file of the CA that signed the log server's certificate (default: the system's)."""
    cert_file: Path | None = None
    """Client certificate (PEM) for servers that authenticate their senders."""
    key_file: Path | None = None
    """Private key of ``cert_file``."""
    server_name: str | None = None
    """Name checked in the server's certificate (default: the host of ``forward``)."""
    sign_in_window_s: float = Field(default=60.0, ge=1.0, le=3600.0)
    """Sign-ins (good and failed) are audited as one entry per client, token and outcome per
    window, with their count, so a flood of attempts does not write a flood of entries."""


class LoanRule(StrictModel):
    """Circulation rules of one catalogue category (e.g. personnel files leave only with an
    approval)."""

    category: str = Field(min_length=1, max_length=100)
    """The catalogue category the rule governs."""
    approval: bool = False
    """A check-out needs a loan request approved by an ``approver`` (with its approval
    number); the desk checks out against the request."""
    max_days: int | None = Field(default=None, ge=1, le=3650)
    """Longest term of a loan and of a renewal (default: ``ledger.loan_days``)."""
    max_renewals: int | None = Field(default=None, ge=0, le=100)
    """Renewals allowed (default: ``ledger.max_renewals``)."""
    borrower_kinds: list[str] = Field(default_factory=list)
    """Kinds of borrower who may borrow (e.g. ``internal``, ``unit``, ``court``); empty:
    anyone, and the kind need not be given."""


class CategoryPairing(StrictModel):
    """How one catalogue category pairs the paper original with its electronic record (双套制)."""

    category: str = Field(min_length=1, max_length=100)
    """The catalogue category, as items and catalogue records name it (e.g. ``personnel``)."""
    electronic_record: Literal["require", "warn", "none"] = "none"
    """A paper item of this category must name its electronic record (``record_id``):
    ``require`` refuses an item without one (422), ``warn`` accepts it; both are reported by
    reconciliation as ``no_electronic_record``, as is a ``record_id`` the catalogue service
    has not pushed."""
    paper_original: bool = False
    """Electronic records of this category have a paper original: a record pushed by the
    catalogue service that no item names is reported as ``no_paper_original``."""


class PairingConfig(StrictModel):
    """Paper and electronic records kept as one archive, checked both ways
    (docs/reconciliation.md)."""

    categories: list[CategoryPairing] = Field(default_factory=list)
    """One entry per category with a rule; categories not listed are not checked."""
    report_records_without_paper: bool = True
    """This room's reconciliation lists electronic records without a paper original. Records
    belong to no room: with several rooms on one database, leave this on in one of them."""

    @field_validator("categories")
    @classmethod
    def _unique(cls, v: list[CategoryPairing]) -> list[CategoryPairing]:
        seen = [c.category for c in v]
        repeated = sorted({c for c in seen if seen.count(c) > 1})
        if repeated:
            raise ValueError(f"category listed twice: {', '.join(repeated)}")
        return v


class RackConfig(StrictModel):
    """Shelving created as locations at start-up: ``bays = "1-20"``, ``levels = 6``."""

    id: str = Field(pattern=r"^[A-Za-z0-9]{1,8}$")
    """Rack letter or number; shelf codes are ``{room}-{rack}-{bay:02}-{level:02}``."""
    bays: str | int
    """Bays as a range (``"1-20"``) or a count (``20``)."""
    levels: str | int
    """Levels as a range or a count."""
    sides: list[str] = Field(default_factory=list)
    """Sides of a double-sided rack (e.g. ``["L", "R"]``), none for a single-sided one."""

    @field_validator("bays", "levels")
    @classmethod
    def _range(cls, v: str | int) -> str | int:
        from daemon.ledger.locations import parse_range

        parse_range(v)
        return v


class InventoryConfig(StrictModel):
    """Reconciliation runs and inventory campaigns (docs/reconciliation.md, docs/design.md §5.6)."""

    campaign_interval_days: float = Field(default=182.5, gt=0)
    """A full inventory is due this long after the last one ended; the reminder alarm
    ``inventory.due`` is raised when it is."""
    reminder_check_s: float = Field(default=3600.0, gt=0)
    """How often the schedule is checked."""
    sweeps: int | None = Field(default=None, ge=1, le=10000)
    """Full sweeps every shelf location needs during a campaign (default: shelf.missing_sweeps,
    so that the shelf engine has reported every item that is not there)."""
    unknown_tag_days: float = Field(default=30.0, gt=0)
    """An unknown tag seen on a shelf within this many days is listed by a run outside a
    campaign (a campaign's run lists those seen during the campaign)."""
    chunk: int = Field(default=10_000, ge=100, le=1_000_000)
    """Items read per query by a run."""


class ArchroomConfig(BaseSettings):
    model_config = SettingsConfigDict(
        extra="forbid",
        frozen=True,
        env_prefix="ARCHROOM_",
        env_nested_delimiter="__",
        populate_by_name=True,
        use_attribute_docstrings=True,
    )

    site: SiteConfig = SiteConfig()
    room: Identifier = "room-1"
    """The room this daemon owns: MQTT topics, and the room of its locations."""
    state_dir: Path = Path(os.environ.get("STATE_DIRECTORY", "/var/lib/archroom").split(":")[0])
    """SQLite database and the local spool (default: systemd's ``$STATE_DIRECTORY``, else
    ``/var/lib/archroom``)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Log level (libraries that log request contents stay at WARNING)."""
    database: DatabaseConfig = DatabaseConfig()
    api: ApiConfig = ApiConfig()
    mqtt: MqttConfig | None = None
    outbox: OutboxConfig = OutboxConfig()
    ledger: LedgerConfig = LedgerConfig()
    audit: AuditConfig = AuditConfig()
    pairing: PairingConfig = PairingConfig()
    loan_rules: list[LoanRule] = Field(default_factory=list)
    rooms: list[RoomConfig] = Field(default_factory=list)
    racks: list[RackConfig] = Field(default_factory=list)
    readers: list[ReaderConfig] = Field(default_factory=list)
    gates: list[GateConfig] = Field(default_factory=list)
    shelf: ShelfEngineConfig = ShelfEngineConfig()
    buses: list[BusConfig] = Field(default_factory=list)
    sensors: list[SensorConfig] = Field(default_factory=list)
    climate: ClimateConfig = ClimateConfig()
    actuators: list[ActuatorConfig] = Field(default_factory=list)
    """Dehumidifiers, humidifiers, cooling and heating the daemon switches (docs/climate.md)."""
    stacker: StackerConfig | None = None
    inventory: InventoryConfig = InventoryConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _references(self) -> ArchroomConfig:
        problems: list[str] = []
        _unique("rooms", (r.id for r in self.rooms), problems)
        _unique("readers", (r.id for r in self.readers), problems)
        _unique("sensors", (s.id for s in self.sensors), problems)
        _unique("buses", (b.id for b in self.buses), problems)
        _unique("gates", (g.id for g in self.gates), problems)
        rooms = {r.id for r in self.rooms}
        if self.rooms and self.room not in rooms:
            problems.append(f"room: {self.room!r} is not one of the configured rooms")
        readers = {r.id: r for r in self.readers}
        for i, gate in enumerate(self.gates):
            reader = readers.get(gate.reader)
            if reader is None:
                problems.append(f"gates[{i}].reader: unknown reader {gate.reader!r}")
            elif reader.role != "gate":
                problems.append(
                    f"gates[{i}].reader: reader {gate.reader!r} has role {reader.role!r}"
                )
        buses = {b.id for b in self.buses}
        for i, sensor in enumerate(self.sensors):
            if sensor.bus not in buses:
                problems.append(f"sensors[{i}].bus: unknown bus {sensor.bus!r}")
            if rooms and sensor.room not in rooms:
                problems.append(f"sensors[{i}].room: unknown room {sensor.room!r}")
        problems += _mixed_line_speeds(self.buses, self.sensors)
        problems += _actuator_problems(self.actuators, self.sensors, rooms)
        for i, room in enumerate(self.rooms):
            try:
                limits_for(room.room_class, room.limits)
            except ValueError as e:
                problems.append(f"rooms[{i}].limits: {e}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def room_config(self) -> RoomConfig:
        for r in self.rooms:
            if r.id == self.room:
                return r
        return RoomConfig(id=self.room)

    def replica_database_url(self) -> str | None:
        """The standby's SQLAlchemy async URL (password as the primary's), or None."""
        if self.database.replica_url is None:
            return None
        return self.database_url(self.database.replica_url)

    def database_url(self, configured: str | None = None) -> str:
        """The SQLAlchemy async URL, with the password from its credential if configured."""
        url = configured or self.database.url or f"sqlite:///{self.state_dir / 'archroom.db'}"
        if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
            url = "sqlite+aiosqlite://" + url.removeprefix("sqlite://")
        elif url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        if self.database.password_credential:
            from daemon.store.db import parse_url

            password = read_credential(self.database.password_credential)
            url = parse_url(url).set(password=password).render_as_string(hide_password=False)
        return url


def _mixed_line_speeds(buses: Sequence[BusConfig], sensors: Sequence[SensorConfig]) -> list[str]:
    """An RS485 line runs at one speed: sensors whose defaults differ need the bus's baudrate."""
    problems = []
    for i, bus in enumerate(buses):
        speeds = {profile_for(s).serial.baudrate for s in sensors if s.bus == bus.id}
        if bus.framer == "rtu" and bus.baudrate is None and len(speeds) > 1:
            listed = " and ".join(str(b) for b in sorted(speeds))
            problems.append(
                f"buses[{i}].baudrate: its sensors default to {listed} baud but one line runs "
                "at one speed; set the devices to one speed and baudrate to it"
            )
    return problems


def _actuator_problems(
    actuators: Sequence[ActuatorConfig], sensors: Sequence[SensorConfig], rooms: set[str]
) -> list[str]:
    """Each actuator in a known room that has sensors (the controller needs readings), and
    no two on the same output."""
    problems: list[str] = []
    _unique("actuators", (a.id for a in actuators), problems)
    measured = {s.room for s in sensors}
    outputs: dict[tuple[str, int, str, int], str] = {}
    for i, a in enumerate(actuators):
        if rooms and a.room not in rooms:
            problems.append(f"actuators[{i}].room: unknown room {a.room!r}")
        elif a.room not in measured:
            problems.append(
                f"actuators[{i}].room: no sensor measures room {a.room!r}, so nothing could "
                "decide when to switch it"
            )
        link = parse_link(a.url, default_port=502)
        where = (f"{link.host}:{link.port}", a.device_id, a.output, a.address)
        other = outputs.setdefault(where, a.id)
        if other != a.id:
            problems.append(
                f"actuators[{i}].address: {a.output} {a.address} of {a.url} (device "
                f"{a.device_id}) already switches {other!r}"
            )
    return problems


def _unique(table: str, ids: Iterable[str], problems: list[str]) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            problems.append(f"{table}[{i}].id: duplicate id {ident!r}")
        seen.add(ident)


class ConfigError(Exception):
    """The configuration cannot be used; ``errors`` holds one line per problem."""

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(errors))
        self.source = source
        self.errors = list(errors)


def read_credential(name: str) -> str:
    """Read a secret that systemd passed with ``LoadCredential=NAME:...``."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        raise ConfigError(
            name, [f"credential {name!r} needs $CREDENTIALS_DIRECTORY (LoadCredential=)"]
        )
    path = Path(directory) / name
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ConfigError(name, [f"credential {name!r} unreadable: {e.strerror}"]) from None


def load_config(path: Path | str | None, **overrides: Any) -> ArchroomConfig:
    """Read, validate and return the configuration, or raise ConfigError listing every problem."""
    data: dict[str, Any] = {}
    source = str(path) if path is not None else "<defaults>"
    if path is not None:
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except OSError as e:
            raise ConfigError(source, [f"cannot read: {e.strerror}"]) from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(source, [f"TOML syntax: {e}"]) from None
        except UnicodeDecodeError as e:
            raise ConfigError(source, [f"not UTF-8 text ({e.reason} at byte {e.start})"]) from None
    data.update(overrides)
    try:
        return ArchroomConfig(**data)
    except ValidationError as e:
        raise ConfigError(source, format_errors(e)) from None


def format_errors(error: ValidationError) -> list[str]:
    """One line per error, located like ``rooms[0].class: unknown room class 'papr'``."""
    lines = []
    for err in error.errors(include_url=False):
        message = str(err["msg"]).removeprefix("Value error, ")
        where = _location(err["loc"], err.get("input"))
        if err["type"] == "extra_forbidden":
            message = "unknown setting"
        elif err["type"] == "union_tag_invalid":
            ctx = err.get("ctx") or {}
            message = f"unknown type {ctx.get('tag')!r} (one of: {ctx.get('expected_tags')})"
        elif err["type"] == "union_tag_not_found":
            message = "missing 'type'"
        lines.append(f"{where}: {message}" if where else message)
    return lines


_TAGS = {"uhfreader18", "llrp", "xy-md02", "rs-ws-n01", "generic"}
_ALIASES = {"room_class": "class"}


def _location(loc: tuple[int | str, ...], _input: object) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _TAGS:
            continue  # pydantic names the union member; the file does not
        else:
            out += ("." if out else "") + _ALIASES.get(part, part)
    return out
