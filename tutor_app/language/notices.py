"""What the conversation page says without the model, in the learner's own language (not the target's).

These are notices about the app, never lines of the character, so they are shown but not stored
as turns of the conversation. English is the fallback for languages not listed.
"""

from __future__ import annotations

from .frequency import base_code

_NOTICES: dict[str, dict[str, str]] = {
    "unavailable": {
        "en": "The conversation partner isn't available right now (no model is running). Your message is saved; "
              "try again later.",
        "es": "Tu compañero de conversación no está disponible ahora (no hay ningún modelo en marcha). Tu mensaje "
              "está guardado; inténtalo más tarde.",
        "fr": "Ton partenaire de conversation n'est pas disponible pour le moment (aucun modèle ne tourne). Ton "
              "message est enregistré ; réessaie plus tard.",
        "de": "Dein Gesprächspartner ist gerade nicht verfügbar (kein Modell läuft). Deine Nachricht ist "
              "gespeichert; versuch es später noch einmal.",
    },
    "failed": {
        "en": "The conversation partner couldn't answer that. Your message is saved; send another one in a moment.",
        "es": "Tu compañero de conversación no pudo responder. Tu mensaje está guardado; envía otro dentro de un "
              "momento.",
        "fr": "Ton partenaire de conversation n'a pas pu répondre. Ton message est enregistré ; envoies-en un autre "
              "dans un instant.",
        "de": "Dein Gesprächspartner konnte nicht antworten. Deine Nachricht ist gespeichert; schick gleich eine "
              "neue.",
    },
    "translation_failed": {
        "en": "The translation couldn't be made right now. Try again in a moment.",
        "es": "Ahora no se pudo hacer la traducción. Inténtalo de nuevo dentro de un momento.",
        "fr": "La traduction n'a pas pu être faite pour le moment. Réessaie dans un instant.",
        "de": "Die Übersetzung ging gerade nicht. Versuch es gleich noch einmal.",
    },
}


def notice(key: str, language: str) -> str:
    table = _NOTICES[key]
    return table.get(base_code(language), table["en"])
