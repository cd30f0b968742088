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
    "switched_off": {
        "en": "Your teacher has turned the conversation partner off for now. Your message is saved and checked "
              "for this unit's usual mistakes.",
        "es": "Tu profesor ha desactivado por ahora el compañero de conversación. Tu mensaje está guardado y se "
              "ha revisado con los errores habituales de esta unidad.",
        "fr": "Ton professeur a désactivé le partenaire de conversation pour le moment. Ton message est "
              "enregistré et vérifié pour les erreurs habituelles de ce chapitre.",
        "de": "Deine Lehrkraft hat den Gesprächspartner vorerst ausgeschaltet. Deine Nachricht ist gespeichert "
              "und auf die üblichen Fehler dieser Einheit geprüft.",
    },
    "reply_unfit": {
        "en": "The conversation partner's reply didn't fit your level or wasn't in the right language, so it "
              "isn't shown. Your message is saved: write your next line, or say it again in other words.",
        "es": "La respuesta de tu compañero de conversación no era de tu nivel o no estaba en el idioma correcto, "
              "así que no se muestra. Tu mensaje está guardado: escribe tu siguiente frase o dilo con otras "
              "palabras.",
        "fr": "La réponse de ton partenaire de conversation ne correspondait pas à ton niveau ou n'était pas dans "
              "la bonne langue, elle n'est donc pas affichée. Ton message est enregistré : écris ta phrase "
              "suivante ou redis-le autrement.",
        "de": "Die Antwort deines Gesprächspartners passte nicht zu deinem Niveau oder war in der falschen "
              "Sprache, deshalb wird sie nicht gezeigt. Deine Nachricht ist gespeichert: schreib deinen "
              "nächsten Satz oder sag es mit anderen Worten.",
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
