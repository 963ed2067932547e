"""The new part of an email reply: what its writer typed, without the quoted history.

Plain text. The quotation starts at the first of:
- an attribution line ("On <date>, <name> wrote:", in many languages, possibly wrapped
  over two or three lines, or a date-and-address line ending in ':' as mail.ru and Yandex
  write it) followed by quoted text;
- an "-----Original Message-----" separator (localised) or a line of underscores
  followed by a header block;
- a header block: From/Sent/To/Subject (or Von/Gesendet/An/Betreff, De/Envoyé/À/Objet,
  От/Отправлено/Кому/Тема, ...), at least two of them on consecutive lines.
A reply written below or between '>' quoted lines keeps every line its writer typed: only
the '>' lines and the attribution lines in front of them go.

HTML. Known quotation containers (Gmail's gmail_quote, Apple and Thunderbird
blockquote type=cite, Outlook's reply header and everything after it, Yahoo's
yahoo_quoted, any blockquote) are cut from the tree before it becomes text; the text is
then checked as above.

Never lose the writer's words: when nothing is left but the quotation (a forward, or a
header we read wrongly), the whole text is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from mailparser_reply.constants import MAIL_LANGUAGES

# "wrote" in the languages we read; an attribution line contains one and ends with ':'.
WROTE = (r"wrote|writes|schrieb|schreibt|a écrit|a ecrit|escribió|escribio|escreveu|"
         r"ha scritto|schreef|napisał\(a\)|napisał|napisała|написал\(а\)|написала|написал|"
         r"пишет|skrev|kirjoitti|napsal\(a\)|napsal|írta|yazdı|έγραψε|כתב|写道|"
         r"のメッセージ|さんは書きました|は書きました|が書きました|님이 작성")
ATTRIBUTION = re.compile(rf"^\s*(?:>\s*)*\S.{{0,300}}?(?:{WROTE})\s*[:：]\s*$", re.I)
# mail.ru, Yandex and others: a date or time and an address, ending with ':'.
DATED_ADDRESS = re.compile(
    r"^\s*(?=.*\d{1,2}:\d{2})(?=.*(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\b\d{1,2}\s+\w{3,}\b))"
    r".{0,300}[\w.+-]+@[\w-]+(?:\.[\w-]+)+>?\"?\s*:\s*$")
SEPARATOR = re.compile(
    r"^\s*[-_=*]{2,}\s*(?:Original Message|Original-Nachricht|Ursprüngliche Nachricht|"
    r"Message d'origine|Message original|Mensaje original|Mensagem original|"
    r"Messaggio originale|Oorspronkelijk bericht|Oryginalna wiadomość|"
    r"Wiadomość oryginalna|Исходное сообщение|Пересылаемое сообщение|元のメッセージ|"
    r"Forwarded message|Weitergeleitete Nachricht|Message transféré|"
    r"Mensaje reenviado|Mensagem encaminhada|Messaggio inoltrato|Doorgestuurd bericht|"
    r"Videresendt melding|Vidarebefordrat meddelande)\s*[-_=*]{2,}\s*$", re.I)
RULE = re.compile(r"^\s*(?:_{10,}|-{10,})\s*$")
# Header fields of a quoted message, by language: from / sent or date / to / subject / cc.
FIELDS = (r"From|Sent|Date|To|Subject|Cc|Reply-To|"
          r"Von|Gesendet|Datum|An|Betreff|"
          r"De|Envoyé|Date|À|A|Objet|"
          r"Enviado|Enviada|Fecha|Para|Asunto|Assunto|Data|"
          r"Da|Inviato|Oggetto|"
          r"Van|Verzonden|Aan|Onderwerp|"
          r"Od|Wysłano|Wysłane|Do|Temat|DW|"
          r"От|Отправлено|Дата|Кому|Тема|Копия|"
          r"Från|Skickat|Till|Ämne|Fra|Sendt|Til|Emne|"
          r"差出人|送信日時|送信日|宛先|件名|日付")
FROM_FIELDS = r"From|Von|De|Da|Van|Od|От|Från|Fra|差出人"
DATE_OR_SUBJECT_FIELDS = (r"Sent|Date|Subject|Gesendet|Datum|Betreff|Envoyé|Objet|Enviado|"
                          r"Enviada|Fecha|Asunto|Assunto|Data|Inviato|Oggetto|Verzonden|"
                          r"Onderwerp|Wysłano|Wysłane|Temat|Отправлено|Дата|Тема|Skickat|"
                          r"Ämne|Sendt|Emne|送信日時|送信日|件名|日付")
HEADER_LINE = re.compile(rf"^\s*(?:>\s*)*\*?\s*(?:{FIELDS})\s*\*?\s*[:：]", re.I)
FROM_LINE = re.compile(rf"^\s*(?:>\s*)*\*?\s*(?:{FROM_FIELDS})\s*\*?\s*[:：]", re.I)
DATE_OR_SUBJECT = re.compile(rf"^\s*(?:>\s*)*\*?\s*(?:{DATE_OR_SUBJECT_FIELDS})\s*\*?\s*[:：]",
                             re.I)
QUOTED = re.compile(r"^\s*>")
# "..., John Doe <doe@example.com>:" as Gmail writes it in many languages.
ADDRESS_COLON = re.compile(r"<[\w.+-]+@[\w-]+(?:\.[\w-]+)+>\"?\s*:\s*$")
# A line that goes on from the one above (a wrapped address or a lower-case word).
CONTINUATION = re.compile(r"^\s*(?:[a-zа-яё(<\"]|[\w.+-]+@)")


@cache
def _library_attributions() -> tuple[re.Pattern, ...]:
    """mail-parser-reply's attribution patterns, for the languages it knows beyond ours."""
    found = []
    for table in MAIL_LANGUAGES.values():
        pattern = table.get("wrote_header") if isinstance(table, dict) else None
        for one in (pattern if isinstance(pattern, list) else [pattern]):
            if not one:
                continue
            try:
                found.append(re.compile(one, re.I | re.M))
            except re.error:
                continue
    return tuple(found)


def _is_attribution(line: str) -> bool:
    """An attribution names when or who: it has a digit (date, time) or an address, so
    "As Joe wrote:" in the writer's own text is not one."""
    line = line.strip()
    if (not line or len(line) > 400 or not line.endswith((":", "："))
            or not re.search(r"\d|@", line)):
        return False
    if ATTRIBUTION.match(line) or DATED_ADDRESS.match(line):
        return True
    return any(p.fullmatch(line) for p in _library_attributions())


@dataclass
class Split:
    new: str  # what the writer typed
    quoted: str  # what was taken away ("" when nothing was)
    confident: bool = True  # False: the quotation could not be told apart; new is everything


def _attribution_at(lines: list[str], i: int) -> int:
    """How many lines (1-3) starting at i form an attribution, or 0. A wrapped attribution
    has no blank line inside, ends with ':', and no shorter tail of it is one by itself
    (so "Thanks, Alex" above "On ... wrote:" stays the writer's)."""
    if not any(line.rstrip().endswith((":", "：")) for line in lines[i:i + 3]):
        return 0  # every attribution ends with a colon: the cheap test first
    for size in (1, 2, 3):
        part = lines[i:i + size]
        if len(part) < size or not all(line.strip() for line in part):
            break
        if size > 1 and (not part[-1].rstrip().endswith((":", "："))
                         or any(_is_attribution(" ".join(x.strip() for x in part[k:]))
                                and not CONTINUATION.match(part[k]) for k in range(1, size))):
            continue
        if _is_attribution(" ".join(line.strip() for line in part)):
            return size
    return 0


def _header_block_at(lines: list[str], i: int) -> bool:
    """A quoted message's header block starts here: a header field, and within the next
    few lines enough others (two with a From-like field, else three)."""
    if not HEADER_LINE.match(lines[i]):
        return False
    window = lines[i:i + 9]
    fields = [line for line in window if HEADER_LINE.match(line)]
    has_from = any(FROM_LINE.match(line) for line in fields)
    dated = any(DATE_OR_SUBJECT.match(line) for line in fields)
    addressed = any("@" in line for line in window)
    return len(fields) >= (2 if has_from else 3) and (dated or addressed)


def _next_content(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _quote_start(lines: list[str]) -> tuple[int, str] | None:
    """(index, kind) of the first line of the quotation: kind "cite" for '>' quoting,
    "block" for Outlook-style header blocks (everything after them is history)."""
    attributed = None
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if QUOTED.match(line):
            if attributed is None:
                attributed = any(_attribution_at(lines, k) for k in range(len(lines)))
            if attributed or _only_quotes_follow(lines, i):
                return i, "cite"
            continue  # '>' lines the writer typed (a shell prompt, a log), not a quotation
        size = _attribution_at(lines, i)
        if size:
            after = _next_content(lines, i + size)
            if after < len(lines) and QUOTED.match(lines[after]):
                return i, "cite"
            if (after >= len(lines) or _header_block_at(lines, after)
                    or SEPARATOR.match(lines[after])
                    or not DATED_ADDRESS.match(joined := " ".join(
                        x.strip() for x in lines[i:i + size]))
                    or ADDRESS_COLON.search(joined)):
                return i, "block"  # the old message follows without '>' marks
            continue  # a dated line with an address, then more of the writer's text
        if SEPARATOR.match(line):
            return i, "block"
        if RULE.match(line):
            after = _next_content(lines, i + 1)
            if after < len(lines) and _header_block_at(lines, after):
                return i, "block"
        if _header_block_at(lines, i):
            return i, "block"
    return None


def _only_quotes_follow(lines: list[str], i: int) -> bool:
    return all(QUOTED.match(line) or not line.strip() for line in lines[i:])


def _without_citations(lines: list[str]) -> list[str]:
    """Every line but '>' quoted ones and the attribution lines that introduce them."""
    kept, i = [], 0
    while i < len(lines):
        size = _attribution_at(lines, i)
        if size:
            after = _next_content(lines, i + size)
            if after < len(lines) and QUOTED.match(lines[after]):
                i = after
                continue
        if not QUOTED.match(lines[i]):
            kept.append(lines[i])
        i += 1
    return kept


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n").strip()


LIST_FOOTER_RULE = re.compile(r"^\s*_{2,}\s*$")
LIST_FOOTER = re.compile(r"mailing list|unsubscribe|Mailingliste|liste de diffusion", re.I)


def _without_list_footer(lines: list[str]) -> list[str]:
    """A mailing list's footer at the very end (a rule, then "... mailing list", an
    address or link, at most six lines) was added by the list, not typed."""
    for i in range(len(lines) - 1, max(len(lines) - 8, 0) - 1, -1):
        if LIST_FOOTER_RULE.match(lines[i]):
            footer = [line for line in lines[i + 1:] if line.strip()]
            if footer and len(footer) <= 6 and LIST_FOOTER.search(footer[0]):
                return lines[:i]
    return lines


def split_text(text: str) -> Split:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = _without_list_footer(text.split("\n"))
    found = _quote_start(lines)
    if found is None:
        return Split(text.strip(), "")
    start, kind = found
    rest = lines[start:]
    if kind == "cite":
        written_after = [line for line in _without_citations(rest) if line.strip()]
        if written_after:  # bottom-posted or interleaved: keep every line they wrote
            new = _tidy(_without_citations(lines))
            quoted = _tidy([line for line in lines if line not in _without_citations(lines)])
            return Split(new, quoted) if new else Split(text.strip(), "", False)
    new = _tidy(lines[:start])
    if not new:  # nothing but history (a forward?): keep it all
        return Split(text.strip(), "", confident=False)
    return Split(new, _tidy(rest))


# -- HTML --------------------------------------------------------------------------------

def _class(tag: str, name: str) -> str:
    return f".//{tag}[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"


# Containers that hold the quoted message itself.
QUOTE_CONTAINERS = (".//blockquote", _class("div", "gmail_quote"), _class("div", "yahoo_quoted"),
                    _class("div", "moz-cite-prefix"), _class("div", "protonmail_quote"),
                    _class("div", "zmail_extra"))
# Markers after which everything is history (Outlook, Hotmail, Outlook on the web).
CUT_FROM = (".//*[@id='divRplyFwdMsg']", ".//*[@id='appendonsend']", ".//hr[@id='stopSpelling']",
            ".//*[@id='mail-editor-reference-message-container']",
            _class("div", "OutlookMessageHeader"))
OUTLOOK_BORDER = re.compile(r"border-top\s*:\s*solid\s+#(?:E1E1E1|B5C4DF)", re.I)


def _cut_from_here(element) -> None:
    """Remove `element`, and everything after it in the document."""
    node = element
    while node.getparent() is not None:
        parent = node.getparent()
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        node = parent
    element.tail = None
    element.getparent().remove(element)


def reduce_html(html: str) -> str:
    """The HTML without its quotation containers (the caller turns it into text)."""
    import lxml.html
    from lxml.etree import LxmlError

    try:
        tree = lxml.html.document_fromstring(html)
    except (LxmlError, ValueError):
        return html
    body = tree.find("body")
    if body is None:
        return html
    for path in CUT_FROM:
        found = body.xpath(path)
        if found and found[0].getparent() is not None:
            _cut_from_here(found[0])
    for div in body.iter("div"):
        if OUTLOOK_BORDER.search(div.get("style", "")):
            parent = div.getparent()
            _cut_from_here(parent if parent is not body and len(parent) == 1 else div)
            break
    for path in QUOTE_CONTAINERS:
        for element in body.xpath(path):
            if element.getparent() is not None:
                element.drop_tree()
    return lxml.html.tostring(tree, encoding="unicode")


# -- signatures ---------------------------------------------------------------------------

SIGNATURE_DELIMITER = re.compile(r"^--\s?$")
MOBILE_FOOTER = re.compile(
    r"^\s*(?:Sent from my \w[\w ]{0,30}|Sent from (?:Yahoo Mail|Mail for Windows|Outlook)"
    r"(?: for \w+)?|Get Outlook for \w+|Sent with \w[\w ]{0,20}(?:\(.*\))?|"
    r"Sent from (?:my )?(?:iPhone|iPad|Android|BlackBerry|Samsung|Galaxy|mobile)\b.*|"
    r"Von meinem \w[\w ]{0,30} gesendet|Gesendet von meinem \w[\w ]{0,30}|"
    r"Envoyé de mon \w[\w ]{0,30}|Enviado desde mi \w[\w ]{0,30}|Enviado do meu \w[\w ]{0,30}|"
    r"Inviato da(?:l mio)? \w[\w ]{0,30}|Verzonden (?:met|vanaf) mijn \w[\w ]{0,30}|"
    r"Wysłane z (?:mojego )?\w[\w' ]{0,30}|Отправлено с(?:о)? \w[\w ]{0,30}|"
    r"\w+から送信)\s*\.?$", re.I)


def split_signature(text: str) -> tuple[str, str]:
    """(text, signature): a "-- " block near the end or a mobile footer ("Sent from my
    iPhone") is the signature, for display folded away; nothing is removed."""
    lines = text.rstrip().split("\n")
    for i in range(len(lines) - 1, max(len(lines) - 16, 0) - 1, -1):
        if SIGNATURE_DELIMITER.match(lines[i]) and i > 0:
            return "\n".join(lines[:i]).rstrip(), "\n".join(lines[i + 1:]).strip()
    tail = [i for i, line in enumerate(lines) if line.strip()][-2:]
    for i in tail:
        if i > 0 and MOBILE_FOOTER.match(lines[i]):
            return "\n".join(lines[:i]).rstrip(), "\n".join(lines[i:]).strip()
    return text, ""
