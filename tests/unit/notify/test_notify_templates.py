import pytest

from notify.adapters.templates import TemplateLibrary, TemplateMissing
from notify.service_layer.messages import compose

FULL = {k: f"<{k}>" for k in [
    "case_ref", "recipient_name", "customer_name", "owner_name", "promise_what", "promise_due", "new_due",
    "sla", "priority", "level", "queue", "reason", "action", "amount", "reference", "outcome", "regulator",
    "event_time",
]}


@pytest.fixture
def lib(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "da").mkdir()
    (tmp_path / "en" / "hello.txt").write_text("Hello {{ name }}\n\nDear {{ name }}, about {{ case_ref }}.\n")
    (tmp_path / "en" / "only_en.txt").write_text("Only English\n\nBody\n")
    (tmp_path / "da" / "hello.txt").write_text("Hej {{ name }}\n\nKære {{ name }}, om {{ case_ref }}.\n")
    return TemplateLibrary(tmp_path, fallback_locale="en")


def test_renders_subject_and_body_in_the_requested_locale(lib):
    r = lib.render("hello", "da", {"name": "Jens", "case_ref": "C-1"})
    assert (r.subject, r.body, r.locale) == ("Hej Jens", "Kære Jens, om C-1.\n", "da")


@pytest.mark.parametrize("asked, used", [("da-DK", "da"), ("de", "en"), ("en-GB", "en")])
def test_locale_falls_back_by_language_then_to_the_fallback(lib, asked, used):
    assert lib.render("hello", asked, {"name": "X", "case_ref": "C"}).locale == used


def test_a_template_only_in_the_fallback_locale_is_used_for_other_locales(lib):
    r = lib.render("only_en", "da", {})
    assert (r.subject, r.locale) == ("Only English", "en")


def test_missing_template_and_undefined_variables_fail_loudly(lib):
    with pytest.raises(TemplateMissing):
        lib.render("nope", "en", {})
    assert compose(lib, "nope", "en", {}).blocked == "template_missing"
    assert compose(lib, "hello", "en", {"name": "X"}).blocked.startswith("template_error")  # case_ref missing


def test_no_html_escaping_in_plain_text_mail(lib):
    assert lib.render("hello", "en", {"name": "Tom & <Jerry>", "case_ref": "C"}).subject == "Hello Tom & <Jerry>"


@pytest.mark.parametrize("locale", ["en", "da"])
@pytest.mark.parametrize("name", TemplateLibrary().names())
def test_every_packaged_template_renders_in_en_and_da_with_the_standard_context(name, locale):
    lib = TemplateLibrary()
    assert lib.resolve(name, locale)[1] == locale  # both locales exist for every template
    assert lib.variables(name, locale) <= set(FULL)
    r = lib.render(name, locale, FULL)
    assert r.subject and "\n" not in r.subject
    assert "<case_ref>" in r.subject + r.body
