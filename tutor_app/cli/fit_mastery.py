"""``python app.py fit-mastery [UNIT ...] [--adopt] [--skill ID ...]``: each skill's BKT parameters
fitted from the class's stored answers, beside the ones in use; ``--adopt`` adopts them.

The same service as the dashboard's mastery page (``MasteryFitService``): the same fit, the same
thresholds, the same history (the changes are recorded as made by the command line).
"""

from __future__ import annotations

import argparse

from ..settings import Settings
from .app import OPERATOR, build, fail

CHANGED_BY = "command line (python app.py fit-mastery)"


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("units", nargs="*", metavar="UNIT", help="unit ids (default: every unit with skills)")
    parser.add_argument("--adopt", action="store_true",
                        help="adopt the fitted values of every skill whose fit can be adopted (or of --skill)")
    parser.add_argument("--skill", action="append", default=None, metavar="ID",
                        help="with --adopt: only this skill (repeat for more); each must have a usable fit")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..service.errors import TutorError

    services = build(settings, model_needed=False)
    try:
        units = args.units or sorted(uid for uid, unit in services.library.units.items() if unit.skills)
        if args.skill and not args.adopt:
            return fail("--skill names what --adopt adopts; add --adopt")
        for unit_id in units:
            table = services.mastery_fit.fits(OPERATOR, unit_id)
            print(fit_report(table))
            if args.adopt:
                changes = services.mastery_fit.adopt(OPERATOR, unit_id, args.skill, changed_by=CHANGED_BY)
                for change in changes:
                    print(f"  adopted for {change.skill_id}: {values(change.before)} -> {values(change.after)}")
                if not changes:
                    print("  nothing to adopt: no skill has a usable fit that differs from what is in use")
        return 0
    except TutorError as exc:
        return fail(exc)
    finally:
        services.close()


def values(params) -> str:
    return " ".join(f"{name}={getattr(params, name):.3f}" for name in ("p_init", "p_transit", "p_guess", "p_slip"))


def fit_report(table) -> str:
    lines = [f"{table.curriculum_id} ({table.title}): a fit needs at least {table.min_students} students and "
             f"{table.min_observations} observations, and every value within ±{table.max_margin} (95%)"]
    for skill in table.skills:
        source = f"adopted {skill.adopted_at:%Y-%m-%d} by {skill.adopted_by}" if skill.source == "adopted" else "unit file"
        lines.append(f"  {skill.skill_id}: in use {values(skill.current)} ({source})")
        data = f"{skill.students} students, {skill.observations} observations"
        if skill.status == "fitted":
            margins = " ".join(f"±{m:.3f}" if m is not None else "(bound)" for m in skill.margins.values())
            tail = "can be adopted" if skill.adoptable else "already in use"
            lines.append(f"    fitted {values(skill.fitted)} [{margins}] from {data}: {tail}")
        else:
            lines.append(f"    not adoptable ({data}): {skill.reason}")
    if table.ignored_events:
        lines.append(f"  ({table.ignored_events} stored answers or hints belong to problems or steps the unit no "
                     f"longer has and were left out)")
    return "\n".join(lines)
