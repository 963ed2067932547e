"""Misspellings are corrected; real words, names and word forms are left as typed."""

from __future__ import annotations

import pytest

from portal.content.loader import load_tree
from portal.search import english
from portal.search.service import get_service
from portal.search.spelling import Vocabulary, document_words
from tests.conftest import SAMPLE_ARTICLES

ARTICLES = {
    "account/reset-password.md": "---\ntitle: Reset your password\n---\n"
                                 "Use the reset link on the sign-in page to choose a new "
                                 "password.\n",
    "dev/rest-api.md": "---\ntitle: The REST API\n---\n"
                       "The REST API answers in JSON. Rest assured: every REST call is "
                       "logged, and the rest of the calls are listed below.\n",
    "media/photos.md": "---\ntitle: Add photos to a ticket\n---\n"
                       "Attach photos and screenshots so an agent can see the problem.\n",
    "tools/sink-server.md": "---\ntitle: Test with a sink server\n---\n"
                            "A sink server accepts mail and throws it away, for load tests.\n",
    "tools/since.md": "---\ntitle: What changed since the last release\n---\n"
                      "Since version 2 the export runs nightly. Since then, reports are "
                      "faster, and since May every report can be shared.\n",
    "tools/tracking.md": "---\ntitle: Custom tracking domain\n---\n"
                         "A custom tracking domain puts your own domain in tracked links.\n",
    "tools/taking.md": "---\ntitle: Taking a break\n---\nTaking time off: taking leave, "
                       "taking holidays, taking a day, taking turns.\n",
}


@pytest.fixture
def app(searchable_app):
    return searchable_app(ARTICLES)


def search(app, text: str):
    with app.test_request_context():
        return get_service(app).search(text)


def sample_vocabulary() -> Vocabulary:
    counts: dict[str, int] = {}
    for article in load_tree(SAMPLE_ARTICLES).published():
        for word in document_words(article.title, article.summary, article.body):
            counts[word] = counts.get(word, 0) + 1
    return Vocabulary(counts)


def test_none_of_the_5000_most_frequent_english_words_is_ever_corrected():
    vocabulary = sample_vocabulary()
    absent = [w for w in english.most_frequent(5000) if w.isalpha() and w not in vocabulary]
    assert len(absent) > 3000  # the sample articles use only a small part of English
    changed = {w: vocabulary.correct(w) for w in absent}
    assert {w: c for w, c in changed.items() if c} == {}


@pytest.mark.parametrize("word", ["stuck", "iphone", "android", "spreadsheet", "zoom",
                                  "colleague", "unsubscribe", "google", "salesforce"])
def test_real_words_and_names_are_not_replaced_for_being_absent(word):
    vocabulary = Vocabulary({"stack": 40, "phone": 30, "androids": 1, "spreadsheets": 3,
                             "room": 20, "college": 2, "subscribe": 9, "goggle": 1,
                             "salesforces": 1})
    assert vocabulary.correct(word) is None


def test_a_form_of_an_indexed_word_is_not_a_misspelling():
    vocabulary = Vocabulary({"webhook": 12, "closure": 3})
    assert vocabulary.correct("webhooks") is None
    assert vocabulary.correct("closures") is None
    # ...but a misspelling that happens to be one ending away from a word is.
    assert Vocabulary({"cancel": 20, "cancelled": 4}).correct("cancell") == "cancel"


def test_sound_alike_misspellings_are_corrected():
    vocabulary = Vocabulary({"photos": 5, "phone": 8, "schedule": 6, "fine": 9})
    assert vocabulary.correct("fotos") == "photos"
    assert vocabulary.correct("shedule") == "schedule"


def test_a_query_with_two_misspelt_words_is_offered_with_both_corrected(app):
    page = search(app, "pasword resett")
    assert page.corrected == "password reset"
    assert page.items[0].article.slug == "reset-password"


def test_a_suggestion_is_not_offered_when_it_would_leave_a_misspelling(app):
    page = search(app, "pasword qwzxrtp")
    assert page.corrected is None
    assert page.items and page.items[0].article.slug == "reset-password"  # still searched


def test_a_word_outside_the_articles_is_corrected_from_english(app):
    assert search(app, "reset pasword tomorow").corrected == "reset password tomorrow"


def test_the_correction_that_fits_the_other_words_wins(app):
    assert search(app, "sinc server").corrected == "sink server"
    assert search(app, "custom traking domain").corrected == "custom tracking domain"


def test_sound_alike_misspelling_finds_the_article(app):
    page = search(app, "add fotos to my ticket")
    assert page.corrected == "add photos to my ticket"
    assert page.items[0].article.slug == "photos"


def test_real_words_in_a_query_are_left_alone(app):
    page = search(app, "stuck on iphone")
    assert page.corrected is None
