"""The few sentences the tutor says without the model, in the unit's language.

When the model is down, or its reply had to be cut because it gave an answer away, the
student still gets a sentence they can read. English is the fallback for languages not
listed here; the model itself is told the language by name (``language_name``).
"""

from __future__ import annotations

LANGUAGE_NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "ga": "Irish", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
    "hu": "Hungarian", "id": "Indonesian", "is": "Icelandic", "it": "Italian", "ja": "Japanese", "ko": "Korean",
    "lt": "Lithuanian", "lv": "Latvian", "ms": "Malay", "nb": "Norwegian Bokmål", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak",
    "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "th": "Thai", "tr": "Turkish",
    "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}

_PHRASES: dict[str, dict[str, str]] = {
    "redirect": {
        "en": "I can't give you the answer, but let's work it out together. Look at the step again: {prompt} "
              "What could you try first?",
        "es": "No puedo darte la respuesta, pero podemos resolverlo juntos. Mira otra vez el paso: {prompt} "
              "¿Qué podrías intentar primero?",
        "fr": "Je ne peux pas te donner la réponse, mais cherchons ensemble. Relis l'étape : {prompt} "
              "Que pourrais-tu essayer d'abord ?",
        "de": "Die Antwort kann ich dir nicht verraten, aber wir finden sie gemeinsam. Sieh dir den Schritt noch "
              "einmal an: {prompt} Was könntest du zuerst versuchen?",
        "it": "Non posso darti la risposta, ma possiamo arrivarci insieme. Rileggi il passo: {prompt} "
              "Che cosa potresti provare per primo?",
        "pt": "Não posso dar a resposta, mas podemos resolver juntos. Veja o passo outra vez: {prompt} "
              "O que você poderia tentar primeiro?",
        "nl": "Ik kan je het antwoord niet geven, maar we komen er samen uit. Kijk nog eens naar de stap: "
              "{prompt} Wat zou je eerst kunnen proberen?",
    },
    "confirm_redirect": {
        "en": "I can't tell you here whether that is the answer. Type it into the answer box to check it, "
              "and tell me how you got it.",
        "es": "Aquí no puedo decirte si esa es la respuesta. Escríbela en la casilla de respuesta para "
              "comprobarla y cuéntame cómo llegaste a ella.",
        "fr": "Je ne peux pas te dire ici si c'est la réponse. Écris-la dans la case réponse pour la vérifier, "
              "et explique-moi comment tu l'as trouvée.",
        "de": "Ob das die Antwort ist, kann ich dir hier nicht sagen. Gib sie ins Antwortfeld ein, um sie zu "
              "prüfen, und erzähl mir, wie du darauf gekommen bist.",
        "it": "Qui non posso dirti se è la risposta. Scrivila nella casella della risposta per controllarla e "
              "raccontami come ci sei arrivato.",
        "pt": "Aqui não posso dizer se essa é a resposta. Escreva na caixa de resposta para verificar e me "
              "conte como chegou a ela.",
        "nl": "Ik kan hier niet zeggen of dat het antwoord is. Typ het in het antwoordvak om het te controleren "
              "en vertel me hoe je eraan kwam.",
    },
    "model_unavailable": {
        "en": "The tutor model isn't running right now; hints and answer checking still work.",
        "es": "El modelo del tutor no está funcionando ahora; las pistas y la corrección de respuestas siguen "
              "funcionando.",
        "fr": "Le modèle du tuteur ne fonctionne pas en ce moment ; les indices et la vérification des réponses "
              "marchent toujours.",
        "de": "Das Tutor-Modell läuft gerade nicht; Hinweise und die Antwortprüfung funktionieren weiterhin.",
        "it": "Il modello del tutor non è attivo in questo momento; suggerimenti e controllo delle risposte "
              "funzionano ancora.",
        "pt": "O modelo do tutor não está funcionando agora; as dicas e a correção das respostas continuam "
              "funcionando.",
        "nl": "Het tutormodel draait nu niet; hints en het nakijken van antwoorden werken nog wel.",
    },
    "model_switched_off": {
        "en": "Your teacher has turned the tutor chat off for this unit; hints and answer checking still work.",
        "es": "Tu profesor ha desactivado el chat del tutor en esta unidad; las pistas y la corrección de "
              "respuestas siguen funcionando.",
        "fr": "Ton professeur a désactivé le chat du tuteur pour ce chapitre ; les indices et la vérification des "
              "réponses marchent toujours.",
        "de": "Deine Lehrkraft hat den Tutor-Chat für diese Einheit ausgeschaltet; Hinweise und die "
              "Antwortprüfung funktionieren weiterhin.",
        "it": "Il tuo insegnante ha disattivato la chat del tutor per questa unità; suggerimenti e controllo delle "
              "risposte funzionano ancora.",
        "pt": "O seu professor desligou o chat do tutor nesta unidade; as dicas e a correção das respostas "
              "continuam funcionando.",
        "nl": "Je leraar heeft de tutorchat voor deze les uitgezet; hints en het nakijken van antwoorden werken "
              "nog wel.",
    },
    "model_failed": {
        "en": "The tutor couldn't finish that reply. Try asking again in a moment; hints and answer checking "
              "still work.",
        "es": "El tutor no pudo terminar la respuesta. Vuelve a preguntar en un momento; las pistas y la "
              "corrección siguen funcionando.",
        "fr": "Le tuteur n'a pas pu terminer sa réponse. Repose ta question dans un instant ; les indices et la "
              "vérification marchent toujours.",
        "de": "Der Tutor konnte die Antwort nicht beenden. Frag gleich noch einmal; Hinweise und die "
              "Antwortprüfung funktionieren weiterhin.",
        "it": "Il tutor non è riuscito a finire la risposta. Riprova tra poco; suggerimenti e controllo "
              "funzionano ancora.",
        "pt": "O tutor não conseguiu terminar a resposta. Pergunte de novo daqui a pouco; as dicas e a "
              "correção continuam funcionando.",
        "nl": "De tutor kon het antwoord niet afmaken. Vraag het zo nog eens; hints en nakijken werken nog wel.",
    },
    "model_restarted": {
        "en": "The tutor restarted, please ask again.",
        "es": "El tutor se ha reiniciado; vuelve a preguntar, por favor.",
        "fr": "Le tuteur a redémarré, repose ta question, s'il te plaît.",
        "de": "Der Tutor wurde neu gestartet, bitte frag noch einmal.",
        "it": "Il tutor si è riavviato, fai di nuovo la domanda, per favore.",
        "pt": "O tutor reiniciou, pergunte de novo, por favor.",
        "nl": "De tutor is opnieuw gestart, stel je vraag alsjeblieft nog eens.",
    },
    "generic_feedback": {
        "en": "That's not it yet. Look at what the step asks and check each part of your work.",
        "es": "Todavía no es correcto. Mira lo que pide el paso y revisa cada parte de tu trabajo.",
        "fr": "Ce n'est pas encore ça. Relis ce que demande l'étape et vérifie chaque partie de ton travail.",
        "de": "Das stimmt noch nicht. Lies, was der Schritt verlangt, und prüfe jeden Teil deiner Rechnung.",
        "it": "Non ci siamo ancora. Rileggi che cosa chiede il passo e controlla ogni parte del tuo lavoro.",
        "pt": "Ainda não está certo. Veja o que o passo pede e confira cada parte do seu trabalho.",
        "nl": "Dat klopt nog niet. Kijk wat de stap vraagt en controleer elk deel van je werk.",
    },
    "misconception_feedback": {
        "en": "This looks like a common mistake: {description}. Look at your work again with that in mind.",
        "es": "Parece un error frecuente: {description}. Revisa tu trabajo teniéndolo en cuenta.",
        "fr": "Cela ressemble à une erreur fréquente : {description}. Reprends ton travail en y pensant.",
        "de": "Das sieht nach einem häufigen Fehler aus: {description}. Sieh dir deine Rechnung daraufhin noch "
              "einmal an.",
        "it": "Sembra un errore comune: {description}. Ricontrolla il tuo lavoro tenendone conto.",
        "pt": "Parece um erro comum: {description}. Revise seu trabalho pensando nisso.",
        "nl": "Dit lijkt op een veelgemaakte fout: {description}. Bekijk je werk nog eens met dat in gedachten.",
    },
}


def language_name(code: str) -> str:
    """``"de"`` -> ``"German"``; a region (``pt-BR``) keeps the base name; unknown codes stay as given."""
    base = code.split("-")[0].split("_")[0].lower()
    return LANGUAGE_NAMES.get(base, code)


def phrase(key: str, language: str, **values: str) -> str:
    table = _PHRASES[key]
    base = language.split("-")[0].split("_")[0].lower()
    return table.get(base, table["en"]).format(**values)


# What the app says in the tutor's place when the model could not (down, failed, restarted,
# switched off). Stored with the chat, since the student read it, but never the model's words.
NOTICES = ("model_unavailable", "model_failed", "model_restarted", "model_switched_off")


def without_notices(text: str) -> str:
    """``text`` less the app's own notices: what the model really said. A small model shown a
    notice in its history repeats it word for word as its next reply, so the chat history the
    model reads (and trains on) leaves them out."""
    for key in NOTICES:
        for sentence in _PHRASES[key].values():
            text = text.replace(sentence, "")
    return text.strip()
