"""The language an extraction reports, through ``extract_article`` as a crawl calls it."""

from __future__ import annotations

import pytest

from newsarchive.crawler.extraction import extract_article

URL = "https://news.example.com/2024/05/story"

# Two or three sentences of news in each language, as a story's text would carry.
STORIES = {
    "el": "Η κυβέρνηση ανακοίνωσε χθες νέα μέτρα για τη στήριξη των νοικοκυριών. Οι τιμές "
    "της ενέργειας παραμένουν υψηλές, ενώ ο πληθωρισμός επιβραδύνεται.",
    "pl": "Rząd przyjął we wtorek projekt ustawy o podwyżkach dla nauczycieli. Minister "
    "edukacji zapowiedział, że zmiany wejdą w życie od września.",
    "ru": "В среду правительство утвердило новый бюджет на следующий год. Министр финансов "
    "заявил, что расходы на здравоохранение вырастут.",
    "uk": "Уряд ухвалив рішення про підвищення мінімальної заробітної плати з наступного "
    "місяця. Прем'єр-міністр пояснив, що це допоможе людям.",
    "de": "Der Bundestag hat am Donnerstag ein neues Gesetz zur Begrenzung der Mieten "
    "beschlossen. Die Opposition kritisierte den Entwurf scharf.",
    "fr": "Le gouvernement a présenté mercredi son projet de réforme des retraites. Les "
    "syndicats appellent à une journée de grève la semaine prochaine.",
    "es": "El Gobierno aprobó este martes una subida del salario mínimo para el próximo año. "
    "Los sindicatos celebraron la medida.",
    "pt": "O governo anunciou nesta segunda-feira um novo pacote de medidas para conter a "
    "inflação. Os economistas consideram as medidas insuficientes.",
    "it": "Il governo ha approvato ieri sera la nuova legge di bilancio. Il ministro "
    "dell'economia ha detto che le tasse non aumenteranno.",
    "nl": "Het kabinet heeft dinsdag nieuwe maatregelen aangekondigd om de woningnood aan te "
    "pakken. De oppositie noemt de plannen onvoldoende.",
    "tr": "Hükümet, gelecek yıl için asgari ücrete yüzde otuz zam yapılacağını açıkladı. "
    "Sendikalar kararı yetersiz buldu.",
    "ar": "أعلنت الحكومة اليوم عن خطة جديدة لدعم الأسر ذات الدخل المحدود. وقال وزير المالية "
    "إن الخطة ستبدأ الشهر المقبل.",
    "hi": "सरकार ने आज किसानों के लिए एक नई योजना की घोषणा की। कृषि मंत्री ने कहा कि इससे लाखों "
    "परिवारों को लाभ होगा।",
    "he": "הממשלה אישרה הלילה את תקציב המדינה לשנה הבאה. שר האוצר אמר כי ההוצאה על בריאות "
    "וחינוך תגדל.",
    "en": "The council voted on Tuesday to approve a new budget for the harbour. Residents "
    "said the plan would protect the coast from storms.",
}


def page(text: str, lang: str = "") -> str:
    """A story page whose article is ``text``, three times over (a story's length)."""
    attribute = f' lang="{lang}"' if lang else ""
    paragraphs = "".join(f"<p>{text}</p>" for _ in range(3))
    return (
        f"<html{attribute}><head><title>Story</title></head>"
        f"<body><article><h1>Story</h1>{paragraphs}</article></body></html>"
    )


@pytest.mark.parametrize("language", sorted(STORIES))
def test_story_language_is_identified(language: str) -> None:
    # The page declares English: a template's wrong lang must not win over the text.
    assert extract_article(page(STORIES[language], "en"), URL).language == language


def test_text_without_words_falls_back_to_the_pages_lang() -> None:
    table = "| 12 | 7 | 0.583 | 3.5 | W4 | 6-4 | 14 | 9 | 1.000 | 2.0 |"
    result = extract_article(page(f"{table} {table} {table}", "nl-NL"), URL)
    if result.text:
        assert result.language == "nl"
