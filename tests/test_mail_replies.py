"""Email replies keep exactly what the customer wrote, from every common mail client.

The corpus in tests/data/mail/replies/ holds real replies (sources and licences in its
README) with the text each writer typed beside them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.mailin.parse import parse
from portal.mailin.quotes import split_signature, split_text
from portal.models import IncomingMail, MessageKind, Ticket
from tests.test_mailin import NOW, ingest, read, to_reply_address

REPLIES = Path(__file__).parent / "data" / "mail" / "replies"
FIXTURES = sorted(p.stem for p in REPLIES.glob("*.eml"))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def expected(name: str) -> str:
    return (REPLIES / f"{name}.expected.txt").read_text(encoding="utf-8")


@pytest.fixture
def app(make_app, tmp_path, make_user):
    app = make_app(CLOCK=lambda: NOW, MAILIN_DIR=str(tmp_path / "mailin"),
                   SITE_URL="https://help.bitumio.com")
    make_user(email="alice@acme.example", name="Alice Paver", org="Acme")
    make_user(email="agent@bitumio.com", name="Sam Agent", role="agent")
    ingest(app, read("new_ticket.eml"))  # ticket #1, Alice's
    return app


def stored_reply(app) -> str:
    with app.app_context():
        ticket = db.session.get(Ticket, 1)
        [message] = [m for m in ticket.messages if m.kind == MessageKind.PUBLIC]
        return message.body


def test_the_corpus_is_big_and_varied_enough():
    import json

    manifest = json.loads((REPLIES / "manifest.json").read_text(encoding="utf-8"))
    assert len(FIXTURES) >= 30 and {m["name"] for m in manifest} == set(FIXTURES)
    assert {m["format"] for m in manifest} == {"plain", "html"}
    assert {"top", "bottom", "interleaved"} <= {m["style"] for m in manifest}
    assert len({m["client"] for m in manifest} - {"unknown"}) >= 8
    assert len({m["language"] for m in manifest}) >= 5


@pytest.mark.parametrize("name", FIXTURES)
def test_a_reply_from_the_corpus_keeps_exactly_what_its_writer_typed(app, name):
    raw = to_reply_address(app, (REPLIES / f"{name}.eml").read_bytes())
    result = ingest(app, raw)
    assert "reply added to ticket #1" in result.output, result.output
    stored = stored_reply(app)
    assert squeeze(stored) == squeeze(expected(name)), stored


@pytest.mark.parametrize("name", FIXTURES)
def test_the_stored_text_is_never_shorter_than_what_the_customer_wrote(name):
    body = parse((REPLIES / f"{name}.eml").read_bytes()).body
    missing = [line for line in expected(name).splitlines()
               if squeeze(line) and squeeze(line) not in squeeze(body)]
    assert not missing and len(squeeze(body)) >= len(squeeze(expected(name)))


# -- how the quotation is told apart -------------------------------------------------------

@pytest.mark.parametrize("header", [
    "On Tue, Dec 1, 2026 at 3:05 PM Bitumio Support <support@bitumio.com> wrote:",
    "Am Di., 1. Dez. 2026 um 15:05 Uhr schrieb Bitumio Support <support@bitumio.com>:",
    "Le mar. 1 déc. 2026 à 15:05, Bitumio Support <support@bitumio.com> a écrit :",
    "El mar, 1 dic 2026 a las 15:05, Bitumio Support (<support@bitumio.com>) escribió:",
    "Em ter., 1 de dez. de 2026 às 15:05, Bitumio Support <support@bitumio.com> escreveu:",
    "Il giorno mar 1 dic 2026 alle ore 15:05 Bitumio Support <support@bitumio.com> ha "
    "scritto:",
    "Op di 1 dec. 2026 om 15:05 schreef Bitumio Support <support@bitumio.com>:",
    "вт, 1 дек. 2026 г. в 15:05, Bitumio Support <support@bitumio.com>:",
    "1 декабря 2026 г., в 15:05, Bitumio Support <support@bitumio.com> написал(а):",
    "wt., 1 gru 2026 o 15:05 Bitumio Support <support@bitumio.com> napisał(a):",
    "2026年12月1日(火) 15:05 Bitumio Support <support@bitumio.com>:",
])
def test_quote_headers_in_ten_languages_are_recognised(header):
    text = f"Thanks, that fixed it.\n\n{header}\n> Could you try again?\n> Bitumio Support\n"
    split = split_text(text)
    assert split.new == "Thanks, that fixed it."
    assert "Could you try again?" in split.quoted


def test_a_reply_written_below_the_quotation_keeps_the_writers_words():
    text = ("On 04/02/2026 06:26 PM, Bitumio Support wrote:\n> Which report is it?\n>\n"
            "The Smith Road one.\nIt started on Monday.\n")
    assert split_text(text).new == "The Smith Road one.\nIt started on Monday."


def test_an_interleaved_reply_keeps_every_answer_in_order():
    text = ("On Tue, Dec 1, 2026 at 3:05 PM Bitumio Support <support@bitumio.com> wrote:\n"
            "> Which browser do you use?\n"
            "Firefox 133.\n\n"
            "> Does it happen with other reports?\n"
            "Only with field reports.\n"
            "> Bitumio Support\n")
    assert split_text(text).new == "Firefox 133.\n\nOnly with field reports."


def test_an_outlook_header_block_and_all_below_it_is_history():
    text = ("It is fixed now, thank you.\n\nMaria\n\n"
            "From: Bitumio Support <support@bitumio.com>\nSent: Tuesday, December 1, 2026 3:05 PM\n"
            "To: Maria Silva <maria@acme.example>\nSubject: RE: [#12] Export totals\n\n"
            "Could you send us the export file?\n")
    split = split_text(text)
    assert split.new == "It is fixed now, thank you.\n\nMaria"


@pytest.mark.parametrize("text", [
    "---------- Forwarded message ---------\nFrom: Joe <joe@acme.example>\nDate: Mon\n"
    "Subject: Export\nTo: Alice <alice@acme.example>\n\nThe totals are wrong.\n",
    "> only a quotation, nothing new\n> at all\n",
])
def test_when_nothing_new_can_be_told_apart_the_whole_text_is_kept(text):
    split = split_text(text)
    assert split.new == text.strip() and not split.confident


def test_a_message_without_a_quotation_is_kept_as_written():
    text = "Hello,\n\nFrom: the export page, the totals are wrong.\nTo: fix it, I reload.\n"
    assert split_text(text).new == text.strip()


def test_signatures_are_folded_in_the_display_but_never_removed(app, client, login):
    raw = to_reply_address(app, read("reply.eml").replace(
        b"yesterday's.\n", b"yesterday's.\n\nSent from my iPhone\n"))
    ingest(app, raw)
    assert stored_reply(app).endswith("Sent from my iPhone")
    assert split_signature("Hi\n\n-- \nAlice Paver\nAcme Paving") == (
        "Hi", "Alice Paver\nAcme Paving")
    login("agent@bitumio.com")
    page = client.get("/tickets/1").get_data(as_text=True)
    assert re.search(r'<details class="mail-signature"><summary>Signature</summary>\s*'
                     r'<p>Sent from my iPhone</p>', page)


# -- threading and the original ------------------------------------------------------------

def sent_message_id(app) -> bytes:
    from email import message_from_bytes

    from tests.test_mailin import sent_mail

    return message_from_bytes(sent_mail(app)[-1])["Message-ID"].encode()


def test_a_reply_naming_our_message_threads_onto_its_ticket_without_a_number(app):
    raw = to_reply_address(app, read("reply.eml").replace(b"Re: [#1] New reply: ", b"Re: "))
    raw = raw.replace(b"In-Reply-To: <20261201141358.4411@mail.acme.example>",
                      b"In-Reply-To: " + sent_message_id(app))
    assert "reply added to ticket #1" in ingest(app, raw).output


def test_a_reference_alone_is_no_proof_of_the_sender(app):
    raw = read("reply.eml").replace(b"Re: [#1] New reply: ", b"Re: ").replace(
        b"In-Reply-To: <20261201141358.4411@mail.acme.example>",
        b"In-Reply-To: " + sent_message_id(app))
    assert "held for review: mentions ticket #1, but nothing proves" in ingest(app, raw).output


def test_a_made_up_reference_threads_nowhere(app):
    raw = to_reply_address(app, read("reply.eml").replace(b"Re: [#1] New reply: ", b"Re: "))
    raw = raw.replace(b"support+t1.", b"support+tX.").replace(
        b"In-Reply-To: <20261201141358.4411@mail.acme.example>",
        b"In-Reply-To: <portal.999.t1@bitumio.com>")
    assert "new ticket #2" in ingest(app, raw).output


def test_agents_can_download_the_original_message_from_the_ticket(app, client, login):
    raw = to_reply_address(app, read("reply.eml"))
    ingest(app, raw)
    with app.app_context():
        reply_row = db.session.scalars(select(IncomingMail).where(
            IncomingMail.ticket_id == 1).order_by(IncomingMail.id.desc())).first()
    login("alice@acme.example")
    assert client.get(f"/mail/review/{reply_row.id}/original").status_code == 403
    client.post("/logout")
    login("agent@bitumio.com")
    page = client.get("/tickets/1").get_data(as_text=True)
    assert f"/mail/review/{reply_row.id}/original" in page
    with client.get(f"/mail/review/{reply_row.id}/original") as original:
        assert original.status_code == 200 and original.data == raw
        assert b"Could you tell us" in original.data  # the history the ticket leaves out
    assert "Could you tell us" not in stored_reply(app)


HTML_WITH_INLINE_IMAGE = b"""From: Alice Paver <alice@acme.example>
To: Bitumio Support <support@bitumio.com>
Subject: Re: [#1] Field report export shows wrong totals
Message-ID: <inline-image@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

<div>The totals on <a href="https://acme.example/reports/7">this report</a> are off:
<img src="cid:shot1" alt="screenshot"> <img src="https://tracker.example/p.gif"></div>
<blockquote type="cite">Could you send us a screenshot?</blockquote>
--rel
Content-Type: image/png
Content-ID: <shot1>
Content-Disposition: inline; filename="shot.png"

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==
--rel--
--alt--
"""


def test_html_mail_keeps_link_addresses_and_its_inline_images_become_attachments(app):
    result = ingest(app, to_reply_address(app, HTML_WITH_INLINE_IMAGE.replace(
        b"Content-Type: image/png\n", b"Content-Type: image/png\nContent-Transfer-Encoding: "
        b"base64\n")))
    assert "reply added to ticket #1" in result.output
    body = stored_reply(app)
    assert body == "The totals on this report (https://acme.example/reports/7) are off:"
    assert "tracker.example" not in body and "Could you send" not in body
    with app.app_context():
        ticket = db.session.get(Ticket, 1)
        assert [a.original_name for a in ticket.attachments if a.message_id] == ["shot.png"]


@pytest.mark.parametrize("block", [
    "Von: Bitumio Support <support@bitumio.com>\nGesendet: Dienstag, 1. Dezember 2026 15:05\n"
    "An: Maria <maria@acme.example>\nBetreff: AW: [#12] Export",
    "De : Bitumio Support <support@bitumio.com>\nEnvoyé : mardi 1 décembre 2026 15:05\n"
    "À : Maria <maria@acme.example>\nObjet : RE: [#12] Export",
    "De: Bitumio Support <support@bitumio.com>\nEnviado: martes, 1 de diciembre de 2026 15:05\n"
    "Para: Maria <maria@acme.example>\nAsunto: RE: [#12] Export",
    "De: Bitumio Support <support@bitumio.com>\nEnviada em: terça-feira, 1 de dezembro de 2026\n"
    "Para: Maria <maria@acme.example>\nAssunto: RE: [#12] Export",
    "Da: Bitumio Support <support@bitumio.com>\nInviato: martedì 1 dicembre 2026 15:05\n"
    "A: Maria <maria@acme.example>\nOggetto: R: [#12] Export",
    "Van: Bitumio Support <support@bitumio.com>\nVerzonden: dinsdag 1 december 2026 15:05\n"
    "Aan: Maria <maria@acme.example>\nOnderwerp: RE: [#12] Export",
    "Od: Bitumio Support <support@bitumio.com>\nWysłano: wtorek, 1 grudnia 2026 15:05\n"
    "Do: Maria <maria@acme.example>\nTemat: RE: [#12] Export",
    "От: Bitumio Support <support@bitumio.com>\nОтправлено: 1 декабря 2026 г. 15:05\n"
    "Кому: Maria <maria@acme.example>\nТема: RE: [#12] Export",
    "差出人: Bitumio Support <support@bitumio.com>\n送信日時: 2026年12月1日 15:05\n"
    "宛先: Maria <maria@acme.example>\n件名: RE: [#12] Export",
    "-----Ursprüngliche Nachricht-----\nVon: Bitumio Support\nGesendet: Dienstag\nBetreff: Export",
    "________________________________\nFrom: Bitumio Support <support@bitumio.com>\n"
    "Sent: Tuesday, December 1, 2026 3:05 PM\nSubject: RE: [#12] Export",
])
def test_outlook_header_blocks_in_ten_languages_start_the_history(block):
    text = f"Das Problem ist gelöst.\n\nMaria\n\n{block}\n\nKönnen Sie die Datei senden?\n"
    assert split_text(text).new == "Das Problem ist gelöst.\n\nMaria"


def test_lines_the_writer_starts_with_a_greater_than_sign_are_kept():
    text = "I ran:\n> npm install\n> npm run build\nand it failed with exit 1."
    assert split_text(text).new == text
