"""The office issues, rotates and revokes API clients; clients exchange a key for a token.

Each change to a client is stored in `api_clients`/`api_keys` and recorded as an event on the
client's own stream (its id), in the same transaction: the trail shows who gave which department
access to what, and who took it away. Events never carry a key or a key's hash.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from zfcommon.events.catalogue import CHANNELS

from ..adapters import clients
from ..adapters.clients import ApiClient
from ..domain.case import InvalidCommand, NewEvent
from .handlers import Context, _append, load_directory
from .uow import UnitOfWork

PREFIX = "cn.zhengfeng.client."
DEFAULT_RATE = 60          # requests per minute, per client, across every service
MAX_RATE = 1200
DEFAULT_GRACE = 24 * 3600  # seconds the previous key keeps working after a rotation
MAX_GRACE = 30 * 24 * 3600


class ClientNotFound(Exception):
    def __init__(self, client_id: str):
        super().__init__(f"没有接入客户端 {client_id}")
        self.client_id = client_id


class ClientRevoked(Exception):
    """409: a revoked client cannot be rotated or revoked again; issue a new one."""

    def __init__(self, client_id: str):
        super().__init__(f"接入客户端 {client_id} 已被撤销")
        self.client_id = client_id


@dataclass(frozen=True)
class RegisterClient:
    department: str
    unit: str | None = None
    channel: str | None = None
    rate_per_minute: int = DEFAULT_RATE


def _record(uow: UnitOfWork, client_id: str, name: str, data: dict[str, Any], ctx: Context) -> None:
    _append(uow, {client_id: uow.events.version(client_id)}, [NewEvent(f"{PREFIX}{name}.v1", data)], ctx,
            client_id)


def _locked(uow: UnitOfWork, client_id: str) -> None:
    row = clients.lock(uow.conn, client_id)
    if row is None:
        raise ClientNotFound(client_id)
    if row["revoked_at"] is not None:
        raise ClientRevoked(client_id)


def register_client(uow: UnitOfWork, cmd: RegisterClient, ctx: Context) -> tuple[dict[str, Any], str]:
    """Issue a client scoped to one active unit of the directory or one channel; returns its view and
    its first key (the only time the key exists outside the caller)."""
    if (cmd.unit is None) == (cmd.channel is None):
        raise InvalidCommand({"unit": ["unit 与 channel 须且只须填写一项"],
                              "channel": ["unit 与 channel 须且只须填写一项"]}, code="client.scope_invalid")
    if cmd.unit is not None and not load_directory(uow).active_unit(cmd.unit):
        raise InvalidCommand({"unit": [f"不是名录中的在用单位：{cmd.unit}"]}, code="client.unit_unknown")
    if cmd.channel is not None and cmd.channel not in CHANNELS:
        raise InvalidCommand({"channel": [f"没有这个渠道：{cmd.channel}"]}, code="client.channel_unknown")
    client = ApiClient(client_id=clients.new_client_id(), department=cmd.department,
                       role="unit" if cmd.unit else "channel", unit=cmd.unit, channel=cmd.channel,
                       rate_per_minute=cmd.rate_per_minute)
    key = clients.register(uow.conn, client, ctx.actor, ctx.now)
    registered = {k: v for k, v in client.__dict__.items() if k != "key_issued_at"}   # the client, not a key
    _record(uow, client.client_id, "registered", registered, ctx)
    return clients.view(uow.conn, client.client_id, ctx.now), key


def rotate_key(uow: UnitOfWork, client_id: str, grace_seconds: int, ctx: Context) -> tuple[dict[str, Any], str]:
    """A new key; the keys issued before keep working for `grace_seconds` (0: they stop now)."""
    _locked(uow, client_id)
    until = ctx.now + timedelta(seconds=grace_seconds)
    clients.expire_keys(uow.conn, client_id, until)
    key = clients.add_key(uow.conn, client_id, ctx.now)
    clients.mark_rotated(uow.conn, client_id, ctx.now)
    _record(uow, client_id, "key_rotated", {"client_id": client_id, "grace_seconds": grace_seconds,
                                            "previous_keys_expire_at": until.isoformat()}, ctx)
    return clients.view(uow.conn, client_id, ctx.now), key


def revoke_client(uow: UnitOfWork, client_id: str, reason: str | None, ctx: Context) -> dict[str, Any]:
    """Every key stops now, and intake refuses the client's outstanding tokens (the other services
    until those expire: they live at most TOKEN_TTL)."""
    _locked(uow, client_id)
    clients.revoke(uow.conn, client_id, ctx.now, ctx.actor, reason)
    _record(uow, client_id, "revoked", {"client_id": client_id, "reason": reason}, ctx)
    return clients.view(uow.conn, client_id, ctx.now)


def exchange_key(uow: UnitOfWork, key: str, claimed_id: str | None, now: datetime) -> ApiClient | None:
    """The live client a key authenticates (and its last use noted), or None. `claimed_id`, when the
    caller names its client id too, must be the key's."""
    client = clients.authenticate(uow.conn, key, now)
    if client is None or claimed_id and claimed_id != client.client_id:
        return None
    clients.touch(uow.conn, client.client_id, now)
    return client
