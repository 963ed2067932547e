"""Read one RFC 822 message: sender, subject, text, attachments, ticket number, severity."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import errors, policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from portal.mailin import quotes

TICKET_NUMBER = re.compile(r"\[#(\d{1,9})\]|\bticket\s*#\s*(\d{1,9})\b", re.I)
SEVERITY = re.compile(r"\bsev(?:erity)?\s*[:=#-]?\s*([123])\b", re.I)
FATAL_DEFECTS = (errors.NoBoundaryInMultipartDefect, errors.StartBoundaryNotFoundDefect,
                 errors.MultipartInvariantViolationDefect,
                 errors.MissingHeaderBodySeparatorDefect)
MIME_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif",
                   "application/pdf": "pdf", "text/plain": "txt", "text/csv": "csv",
                   "application/zip": "zip", "application/json": "json"}


class Malformed(ValueError):
    """The message cannot be read; the text says why (kept with the message set aside)."""


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str
    sender: str
    sender_name: str
    subject: str
    body: str  # the new text, quoted history removed (portal.mailin.quotes)
    attachments: list[Attachment] = field(default_factory=list)
    ticket_number: int | None = None
    severity: int | None = None
    automatic: str = ""  # why this looks like an auto-reply, or ""
    raw: bytes = field(default=b"", repr=False)  # the message as received
    recipients: list[str] = field(default_factory=list)  # envelope, To, Cc, Delivered-To...
    trace: list[tuple[str, str]] = field(default_factory=list, repr=False)  # Received, A-R
    references: list[str] = field(default_factory=list)  # In-Reply-To, then References

    def own_authentication_results(self, hops: int) -> list[str]:
        """The Authentication-Results values written while the message was on our own
        servers: above the Received header of the hop before them, when our mail system
        adds `hops` Received headers (a relay puts its results just under its own Received
        header; anything further down was there when the message reached us)."""
        if hops <= 0:
            return []
        found, received = [], 0
        for name, value in self.trace:
            if name == "received":
                received += 1
                if received > hops:
                    break
            else:
                found.append(value)
        return found


class _Text(HTMLParser):
    """HTML mail to plain text: keep the words and line breaks, drop scripts and styles."""

    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.links: list[tuple[str, int]] = []  # (href, where its text starts)

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head", "title"):
            self.skip += 1
        elif tag in self.BREAKS:
            self.parts.append("\n- " if tag == "li" else "\n")
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            self.links.append((href, len(self.parts)))

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head", "title") and self.skip:
            self.skip -= 1
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            text = "".join(self.parts[start:]).strip()
            shown = href.removeprefix("mailto:")
            if href.lower().startswith(("http://", "https://", "mailto:")) and (
                    shown not in text):
                self.parts.append(f" ({shown})")  # the link's address is part of the words

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    text = "".join(parser.parts)
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", text).strip()


def new_text(text: str, html: str | None = None) -> quotes.Split:
    """What the writer typed: for HTML mail, the HTML with its quotation containers cut,
    then the text without its quoted history. When the cut leaves nothing, the whole
    text is read instead, so nothing they wrote is lost."""
    if html is not None:
        split = quotes.split_text(html_to_text(quotes.reduce_html(html)))
        if split.new.strip():
            return split
    return quotes.split_text(text)


def _content_of(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # unknown charset, bad bytes
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if not isinstance(content, str):
        content = bytes(content).decode("utf-8", errors="replace")
    return content


def _body_of(part: EmailMessage | None) -> quotes.Split:
    if part is None:
        return quotes.Split("", "")
    content = _content_of(part)
    if part.get_content_type() == "text/html":
        return new_text(html_to_text(content), content)
    return new_text(content)


def _attached_parts(message: EmailMessage, body: EmailMessage | None) -> list[EmailMessage]:
    """Every part that is not the text itself: attachments (a forwarded message whole),
    and images shown inline in HTML mail, wherever the client nested them."""
    found: list[EmailMessage] = []

    def visit(part: EmailMessage) -> None:
        for child in part.iter_parts():
            if child is body:
                continue
            if child.get_content_type() == "message/rfc822" or not child.is_multipart():
                text_alternative = (child.get_content_maintype() == "text"
                                    and not child.get_filename()
                                    and child.get_content_disposition() != "attachment")
                if not text_alternative:
                    found.append(child)
            else:
                visit(child)

    if message.is_multipart():
        visit(message)
    return found


def _attachments(message: EmailMessage, body: EmailMessage | None = None) -> list[Attachment]:
    found = []
    for number, part in enumerate(_attached_parts(message, body), start=1):
        data = part.get_payload(decode=True)
        if data is None:  # a nested message or multipart: keep its bytes as they are
            data = part.as_bytes()
        content_type = part.get_content_type()
        name = part.get_filename() or (
            f"attachment-{number}.{MIME_EXTENSIONS.get(content_type, 'bin')}")
        found.append(Attachment(str(name), content_type, data))
    return found


RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


def _recipients(message: EmailMessage, envelope: list[str]) -> list[str]:
    values = [str(v) for name in RECIPIENT_HEADERS for v in message.get_all(name, [])]
    found = [address.strip().lower() for address in envelope]
    found += [address.strip().lower() for _, address in getaddresses(values) if "@" in address]
    return list(dict.fromkeys(a for a in found if a))


def _trace(raw: bytes) -> list[tuple[str, str]]:
    """Received and Authentication-Results headers, top to bottom, as written."""
    message = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
    return [(name.lower(), " ".join(str(value).split())) for name, value in message.items()
            if name.lower() in ("received", "authentication-results")]


def parse(raw: bytes, envelope_recipients: list[str] | None = None) -> ParsedMail:
    """Parse a message or raise Malformed with the reason. `envelope_recipients`: the
    addresses the MTA delivered it to, when it says (they prove nothing on their own)."""
    if not raw.strip():
        raise Malformed("empty message")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        fatal = [d for d in message.defects if isinstance(d, FATAL_DEFECTS)]
        for part in message.walk():
            fatal += [d for d in part.defects if isinstance(d, FATAL_DEFECTS)]
        if fatal:
            raise Malformed(f"broken message structure: {type(fatal[0]).__name__}")
        from_header = message.get("From")
        if from_header is None:
            raise Malformed("no From header")
        name, address = parseaddr(str(from_header))
        if not address or "@" not in address or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+",
                                                                 address):
            raise Malformed(f"no usable sender address in From: {str(from_header)[:100]!r}")
        subject = " ".join(str(message.get("Subject", "")).split())
        body_part = message.get_body(preferencelist=("plain", "html"))
        body = _body_of(body_part).new
        attachments = _attachments(message, body_part)
        recipients = _recipients(message, envelope_recipients or [])
        trace = _trace(raw)
    except Malformed:
        raise
    except Exception as exc:  # the email package raises many kinds on hostile input
        raise Malformed(f"unreadable message: {type(exc).__name__}: {exc}"[:300]) from exc
    if not subject and not body and not attachments:
        raise Malformed("nothing in it: no subject, no text, no attachments")
    message_id = str(message.get("Message-ID", "")).strip()[:255]
    if not message_id:
        message_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    number = TICKET_NUMBER.search(subject)
    severity = SEVERITY.search(subject) or SEVERITY.search("\n".join(body.splitlines()[:5]))
    return ParsedMail(
        message_id=message_id, sender=address.lower(), sender_name=name.strip()[:200],
        subject=subject[:300], body=body, attachments=attachments,
        ticket_number=int(number.group(1) or number.group(2)) if number else None,
        severity=int(severity.group(1)) if severity else None,
        automatic=_automatic(message), raw=raw, recipients=recipients, trace=trace,
        references=_references(message))


def _references(message: EmailMessage) -> list[str]:
    found = []
    for name in ("In-Reply-To", "References"):
        found += re.findall(r"<([^<>\s]{1,250})>", str(message.get(name, "")))
    return list(dict.fromkeys(found))


def _automatic(message: EmailMessage) -> str:
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "junk", "auto_reply", "list"):
        return f"Precedence: {precedence}"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "auto-responder header"
    return ""
