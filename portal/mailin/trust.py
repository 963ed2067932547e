"""Who really sent a message. The From: header proves nothing; two things do:

1. A reply address. Ticket mail goes out with `Reply-To: support+t123.<token>@domain`,
   where the token is an HMAC of the ticket number and the recipient's address under the
   site's secret key. A reply that reaches that address from that recipient's address can
   only come from someone who received the mail (or can read their mailbox).
2. A trusted relay. Our own border MTA checks DKIM and DMARC and writes an
   `Authentication-Results` header (RFC 8601) naming itself (its authserv-id). When that
   id is in PORTAL_MAILIN_TRUSTED_RELAYS and the header was written on our own servers
   (above the Received header of the hop before them; PORTAL_MAILIN_RELAY_HOPS says how
   many Received headers they add), a DMARC pass for the From: domain, or an aligned DKIM
   pass, proves the sender. The relay must strip incoming headers claiming its id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass

import authres
from flask import current_app

from portal.mailin.parse import ParsedMail

log = logging.getLogger("portal.mailin")

TOKEN_LENGTH = 16  # base32 characters: 80 bits
REPLY_LOCAL = re.compile(r"^(?P<base>[^+@\s]+)\+t(?P<ticket>\d{1,9})\.(?P<token>[a-z2-7]{16})$")


@dataclass(frozen=True)
class Proof:
    how: str  # words for agents and logs
    ticket_id: int | None = None  # the ticket a reply address names


def _key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else bytes(secret)
    return hmac.new(secret, b"portal mail reply address", hashlib.sha256).digest()


def reply_token(ticket_id: int, address: str) -> str:
    digest = hmac.new(_key(), f"{ticket_id}:{address.strip().lower()}".encode(),
                      hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:TOKEN_LENGTH]


def reply_address(ticket_id: int, recipient: str) -> str | None:
    """support+t<ticket>.<token>@domain for mail about a ticket to `recipient` (None when
    reply addresses are switched off or the support address has no domain)."""
    config = current_app.config
    if not config["MAIL_REPLY_ADDRESSES"]:
        return None
    local, at, domain = config["SUPPORT_EMAIL"].strip().rpartition("@")
    if not at or not local or not domain:
        return None
    local = local.partition("+")[0]
    return f"{local}+t{ticket_id}.{reply_token(ticket_id, recipient)}@{domain}"


def _reply_address_proof(parsed: ParsedMail) -> Proof | None:
    support_local, _, support_domain = (
        current_app.config["SUPPORT_EMAIL"].strip().lower().rpartition("@"))
    support_local = support_local.partition("+")[0]
    for address in parsed.recipients:
        local, _, domain = address.lower().rpartition("@")
        found = REPLY_LOCAL.match(local)
        if found is None or found["base"] != support_local or domain != support_domain:
            continue
        ticket_id = int(found["ticket"])
        if hmac.compare_digest(found["token"], reply_token(ticket_id, parsed.sender)):
            return Proof("sent to the ticket's reply address", ticket_id)
        log.warning("reply address for ticket %s used by %s, who was not its recipient",
                    ticket_id, parsed.sender)
    return None


def _aligned(domain: str, from_domain: str) -> bool:
    """Relaxed DMARC alignment: the same domain, or the From: domain under it."""
    domain, from_domain = domain.strip().lower().lstrip("@"), from_domain.lower()
    return bool(domain) and (from_domain == domain or from_domain.endswith("." + domain))


def _relay_proof(parsed: ParsedMail) -> Proof | None:
    config = current_app.config
    trusted = {relay.lower() for relay in config["MAILIN_TRUSTED_RELAYS"]}
    if not trusted:
        return None
    from_domain = parsed.sender.rpartition("@")[2]
    for value in parsed.own_authentication_results(config["MAILIN_RELAY_HOPS"]):
        try:
            header = authres.AuthenticationResultsHeader.parse_value(value)
        except authres.AuthResError:
            continue
        relay = (header.authserv_id or "").lower()
        if relay not in trusted:
            continue
        for result in header.results:
            if (result.result or "").lower() != "pass":
                continue
            properties = {f"{p.type}.{p.name}".lower(): str(p.value or "")
                          for p in result.properties}
            method = (result.method or "").lower()
            if method == "dmarc" and properties.get("header.from", "").lower() == from_domain:
                return Proof(f"DMARC pass for {from_domain}, checked by {relay}")
            if method == "dkim":
                signer = properties.get("header.d") or properties.get(
                    "header.i", "").rpartition("@")[2]
                if _aligned(signer, from_domain):
                    return Proof(f"DKIM signature of {signer.lower()} checked by {relay}")
    return None


def proof_of_sender(parsed: ParsedMail) -> Proof | None:
    """Proof that the From: address really sent this message, or None."""
    return _reply_address_proof(parsed) or _relay_proof(parsed)


def relay_configured() -> bool:
    return bool(current_app.config["MAILIN_TRUSTED_RELAYS"])
