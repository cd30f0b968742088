"""The answer-leak guard on the error classes measured on real tutor replies (issue 14, part 1).

One table per class, each row a (student message, tutor reply) on a word problem, run through
the guard as the tutor chat runs it (``guarded``). Rows come in English and in Spanish and
French, the languages the math tutor may speak with the students of the shipped units. Rows
marked ``leak`` must be cut; the others are good Socratic replies that must pass untouched:
a false alarm cuts a tutor in the middle of helping, so both directions are tested.
"""

from __future__ import annotations

import pytest

from guard_problems import (CHOCOLATE, GLASSES, PIZZAS, POSTERS, SAVINGS, STICKERS, WAGES, WALK, guarded)

LEAK, SAFE = True, False


def _check(problem, student, reply, leaks, history=None, step_index=0):
    finding = guarded(problem, reply, student=student, history=history, step_index=step_index)
    if leaks:
        assert finding is not None, f"{reply!r} (student: {student!r}) gives the answer away but was let through"
    else:
        assert finding is None, f"{reply!r} (student: {student!r}) was cut: {finding}"


# 1. Confirmation means confirming the student's *final answer*; praise of their work is not that.
CONFIRMATION = [
    ("is it 7 weeks?", "Yes, exactly!", LEAK),
    ("I think the answer is 7", "That's right! Can you tell me how you found it?", LEAK),
    ("84 / 12 = 7, so 7 weeks", "Correct. Well done.", LEAK),
    ("7?", "Great job!", LEAK),
    ("I got 7", "You got it! Now explain your steps to me.", LEAK),
    ("My answer: 7 weeks", "Exactly, that is how long Steve has to wait.", LEAK),
    ("seven weeks?", "Yep, that's correct.", LEAK),
    ("¿Son 7 semanas?", "¡Sí, exacto!", LEAK),
    ("Creo que es 7", "¡Correcto! Muy bien.", LEAK),
    ("Me da siete", "Eso es, lo tienes.", LEAK),
    ("C'est 7 semaines ?", "Oui, c'est ça !", LEAK),
    ("Je trouve 7", "Exactement ! Bravo.", LEAK),
    ("J'ai 7", "Tu as raison, c'est juste.", LEAK),
    # praise of the work, or a number that is not the student's final answer
    ("It is not 7 weeks, right?", "Great job! Let's keep going: what do you divide by?", SAFE),
    ("I multiplied 12 by 7 and got 84", "Great job! What does that tell you?", SAFE),
    ("is it 7?", "Good thinking! How could you check it?", SAFE),
    ("is it 7?", "Great job setting up the division. What is 84 divided by 12?", SAFE),
    ("I think 7", "Nice try! What do you multiply 12 by to get 84?", SAFE),
    ("is it 6?", "Yes, let's check it together.", SAFE),
    ("is it 7?", "You're right that we need to divide. What is 84 ÷ 12?", SAFE),
    ("is it 7?", "Is that right? Check it by multiplying.", SAFE),
    ("is it 7?", "Let me know if you still think that's correct after checking.", SAFE),
    ("12 x 7 = 84, is that how I start?", "Good question! Start from what Steve wants to buy.", SAFE),
    ("¿Es 7?", "¡Buen trabajo planteando la división! ¿Cuánto es 84 entre 12?", SAFE),
    ("No es 7, ¿verdad?", "¡Muy bien! Sigue así: ¿qué operación usas?", SAFE),
    ("C'est 7 ?", "Bonne idée de diviser ! Combien font 84 divisé par 12 ?", SAFE),
    ("Ce n'est pas 7", "Très bien ! Continue : que fais-tu ensuite ?", SAFE),
]


@pytest.mark.parametrize(("student", "reply", "leaks"), CONFIRMATION, ids=[r[1] for r in CONFIRMATION])
def test_confirmation_is_of_the_final_answer(student, reply, leaks):
    _check(SAVINGS, student, reply, leaks)


def test_a_check_question_confirms_the_answer_of_an_earlier_turn():
    history = [{"role": "user", "content": "is it 7 weeks?"},
               {"role": "assistant", "content": "What makes you think so?"}]
    _check(SAVINGS, "am I right?", "Yes!", LEAK, history=history)
    _check(SAVINGS, "am I right?", "What would Steve have saved after that many weeks?", SAFE, history=history)


# 2. Story words and computations bind a value too: a seen number presented as the result.
RESULTS = [
    (SAVINGS, "is it 7?", "Steve needs 7 weeks.", LEAK),
    (SAVINGS, "is it 7?", "He must save for 7 weeks.", LEAK),
    (SAVINGS, "is it 7?", "It will take him 7 weeks.", LEAK),
    (SAVINGS, "is it 7?", "So the bike is his after 7 weeks.", LEAK),
    (SAVINGS, "is it 7?", "84 ÷ 12 = 7 weeks", LEAK),
    (SAVINGS, "is it 7?", "84 divided by 12 is 7, well done.", LEAK),
    (WAGES, "I think 1260", "The total should be 1260.", LEAK),
    (WAGES, "I think 1260", "$15/hour × 84 hours = $1260", LEAK),
    (WAGES, "I think 1260", "She earned 1260 dollars in total.", LEAK),
    (WAGES, "I think 1260", "Her pay was $1,260 last month.", LEAK),
    (WALK, "2,000?", "He must have done 2,000 steps.", LEAK),
    (WALK, "2,000?", "4 × 500 = 2000 steps for Ben.", LEAK),
    (POSTERS, "is it 5", "50 - 20 - 25 = 5 large posters", LEAK),
    (POSTERS, "is it 5", "Putting up both groups leaves 5 posters, that is what's left.", LEAK),
    (SAVINGS, "¿es 7?", "Steve necesita 7 semanas.", LEAK),
    (SAVINGS, "¿es 7?", "Tiene que ahorrar durante 7 semanas.", LEAK),
    (WAGES, "creo que 1260", "El total debería ser 1260.", LEAK),
    (POSTERS, "¿es 5?", "50 - 20 - 25 = 5 carteles", LEAK),
    (SAVINGS, "c'est 7 ?", "Steve a besoin de 7 semaines.", LEAK),
    (SAVINGS, "c'est 7 ?", "Il lui faut 7 semaines.", LEAK),
    (SAVINGS, "c'est 7 ?", "84 divisé par 12 donne 7.", LEAK),
    (WAGES, "je pense 1260", "Le total doit être 1260.", LEAK),
    # the same numbers, mentioned without being presented as the result
    (SAVINGS, "is it 7?", "You said 7. How did you get that?", SAFE),
    (SAVINGS, "is it 7?", "Why do you think 7 weeks?", SAFE),
    (SAVINGS, "is it 7?", "If Steve saves for 7 weeks, how much does he have?", SAFE),
    (SAVINGS, "is it 7?", "Let's check your 7: what is 12 × 7?", SAFE),
    (SAVINGS, "is it 7?", "Try 7 weeks: multiply 12 by 7 and compare it with 84.", SAFE),
    (WAGES, "I think 1260", "How did you get 1260? Show me your multiplication.", SAFE),
    (WAGES, "I think 1260", "What is 15 × 84? Compare it with your 1260.", SAFE),
    (POSTERS, "is it 5", "You wrote 5. What did you subtract first?", SAFE),
    (SAVINGS, "¿es 7?", "Dijiste 7. ¿Cómo lo calculaste?", SAFE),
    (SAVINGS, "¿es 7?", "Si ahorra durante 7 semanas, ¿cuánto tendrá?", SAFE),
    (SAVINGS, "c'est 7 ?", "Tu as dit 7. Comment l'as-tu trouvé ?", SAFE),
    (SAVINGS, "c'est 7 ?", "S'il économise pendant 7 semaines, combien aura-t-il ?", SAFE),
]


@pytest.mark.parametrize(("problem", "student", "reply", "leaks"), RESULTS, ids=[r[2] for r in RESULTS])
def test_a_seen_number_presented_as_the_result_leaks(problem, student, reply, leaks):
    _check(problem, student, reply, leaks)


# 3. A number the problem showed is still protected when presented as the result; a fraction
#    in words does not show its denominator.
SEEN_IN_PROBLEM = [
    (STICKERS, "20 - 5 - 10 = 5 stickers", LEAK),
    (STICKERS, "So Ana has 5 stickers left.", LEAK),
    (STICKERS, "Ana ends up with 5 stickers.", LEAK),
    (STICKERS, "Ana gives 5 stickers to Ben. How many are left after that?", SAFE),
    (STICKERS, "Start with the 20 stickers and take away the 5 she gives to Ben.", SAFE),
    (STICKERS, "Entonces a Ana le quedan 5 pegatinas.", LEAK),
    (STICKERS, "Ana le da 5 pegatinas a Ben. ¿Cuántas le quedan?", SAFE),
    (STICKERS, "Donc il reste 5 autocollants à Ana.", LEAK),
    (STICKERS, "Ana donne 5 autocollants à Ben. Combien lui en reste-t-il ?", SAFE),
    (CHOCOLATE, "The whole bar has 5 pieces.", LEAK),
    (CHOCOLATE, "La tableta entera tiene 5 trozos.", LEAK),
    (CHOCOLATE, "La tablette entière a 5 morceaux.", LEAK),
    (CHOCOLATE, "If 2 pieces are two-fifths, how many pieces make one fifth?", SAFE),
    (CHOCOLATE, "Si 2 trozos son dos quintos, ¿cuántos trozos son un quinto?", SAFE),
]


@pytest.mark.parametrize(("problem", "reply", "leaks"), SEEN_IN_PROBLEM, ids=[r[1] for r in SEEN_IN_PROBLEM])
def test_numbers_of_the_problem_count_as_seen_only_where_written(problem, reply, leaks):
    _check(problem, "", reply, leaks)


# 4. Percent against plain numbers: 30% gives the answer 30 away, 30 students do not.
PERCENT = [
    ("30% of the students wear glasses.", LEAK),
    ("So it is 30 percent.", LEAK),
    ("The glasses wearers are 0.3 of the class, so 30 %.", LEAK),
    ("El 30 % de los alumnos lleva gafas.", LEAK),
    ("Treinta por ciento de la clase.", LEAK),
    ("30 % des élèves portent des lunettes.", LEAK),
    ("Trente pour cent de la classe.", LEAK),
    ("There are 30 students in the class. How many wear glasses?", SAFE),
    ("What is 9 out of 30 as a fraction? Then turn it into a percent.", SAFE),
    ("Hay 30 alumnos. ¿Qué fracción lleva gafas?", SAFE),
    ("Il y a 30 élèves. Quelle fraction porte des lunettes ?", SAFE),
]


@pytest.mark.parametrize(("reply", "leaks"), PERCENT, ids=[r[0] for r in PERCENT])
def test_percent_and_plain_numbers(reply, leaks):
    _check(GLASSES, "", reply, leaks)


def test_a_percent_answer_is_given_away_by_its_plain_number():
    percent = GLASSES.model_copy(update={"steps": [GLASSES.steps[0].model_copy(update={"answer": "30%"})]})
    _check(percent, "", "The answer is 30.", LEAK)
    _check(percent, "", "30% of them wear glasses.", LEAK)
    _check(percent, "", "There are 30 students in the class.", SAFE)


# 5. Earlier turns of the chat count as seen.
HISTORY = [{"role": "user", "content": "Is it 7 weeks?"},
           {"role": "assistant", "content": "What would Steve have after that many weeks?"}]
EARLIER_TURNS = [
    ("84 dollars", "You said 7 weeks before and now 84 dollars. How are the two connected?", SAFE),
    ("84 dollars", "Earlier you mentioned 7. What did you multiply it by?", SAFE),
    ("84 dólares", "Antes dijiste 7 semanas y ahora 84 dólares. ¿Cómo se relacionan?", SAFE),
    ("84 dollars", "Tu as dit 7 semaines avant, et maintenant 84 dollars. Quel est le lien ?", SAFE),
    ("84 dollars", "Yes, so Steve needs 7 weeks.", LEAK),
    ("84 dólares", "Sí, Steve necesita 7 semanas.", LEAK),
    ("84 dollars", "Oui, donc il faut 7 semaines.", LEAK),
]


@pytest.mark.parametrize(("student", "reply", "leaks"), EARLIER_TURNS, ids=[r[1] for r in EARLIER_TURNS])
def test_earlier_turns_count_as_seen(student, reply, leaks):
    _check(SAVINGS, student, reply, leaks, history=HISTORY)


def test_without_the_history_the_same_number_is_new():
    assert guarded(SAVINGS, "Earlier you mentioned 7. What did you multiply it by?", student="84 dollars") is not None


# 6. Mixed numbers: the guard reads "1 1/2" as the checker does.
MIXED = [
    ("Each friend gets 1.5 pizzas.", LEAK),
    ("Each friend gets 1 1/2 pizzas.", LEAK),
    ("Each friend gets 3/2 of a pizza.", LEAK),
    ("Each friend gets one and a half pizzas.", LEAK),
    ("Each friend gets 1½ pizzas.", LEAK),
    (r"Each friend gets $\frac{3}{2}$ pizzas.", LEAK),
    ("Cada amigo recibe una pizza y media.", LEAK),
    ("Cada amigo recibe 1,5 pizzas.", LEAK),
    ("Chaque ami reçoit une pizza et demie.", LEAK),
    ("Chaque ami reçoit 1,5 pizza.", LEAK),
    ("Does each friend get more or less than 1 pizza?", SAFE),
    ("Would 11/2 pizzas each be too many?", SAFE),
    ("¿Cada amigo recibe más o menos de 1 pizza?", SAFE),
    ("Chaque ami reçoit-il plus ou moins d'une pizza ?", SAFE),
]


@pytest.mark.parametrize(("reply", "leaks"), MIXED, ids=[r[0] for r in MIXED])
def test_mixed_numbers(reply, leaks):
    _check(PIZZAS, "", reply, leaks)


def test_a_later_step_is_protected_while_the_first_is_discussed():
    # multi-step: on step 1, step 2's answer (1060) must not appear either
    _check(WAGES, "", "After rent she keeps 1060 dollars.", LEAK)
    _check(WAGES, "I got 1260", "Good. Now subtract the rent from your 1260.", SAFE, step_index=1,
           history=[{"role": "user", "content": "1260"}])
