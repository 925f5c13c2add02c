"""What each caste is for, in the words a runtime shows its model (any runtime).

``short`` goes into a worker definition's description, which the main model reads to choose a
worker; ``when`` and ``duties`` go into the definition's body, which the worker itself reads.
A caste the profile declares that is not listed here gets a generic role, so a custom caste
still installs.
"""

from __future__ import annotations

from aether.records import record


@record(frozen=True)
class Role:
    #: a few words for the list of workers the main model chooses from (it is in the main
    #: model's context on every request: every byte counts)
    short: str
    when: str
    duties: tuple[str, ...]


ROLES: dict[str, Role] = {
    "queen": Role(
        "coordinates the colony: phases, hand-offs",
        "coordinating the whole colony: splitting the goal into phases and handing work to the "
        "other castes",
        (
            "Keep the colony's goal and plan in view; decide what happens next and who does it.",
            "Hand concrete tasks to the castes that fit them instead of doing them yourself.",
        ),
    ),
    "prime": Role(
        "leads one phase and integrates its results",
        "leading one phase: sequencing its tasks and integrating what other workers produce",
        (
            "Order the phase's tasks, check each result, and integrate them into one whole.",
            "Say plainly which tasks are done, which are blocked and why.",
        ),
    ),
    "architect": Role(
        "designs structure, interfaces and formats",
        "design work: module boundaries, interfaces, data formats and their trade-offs, before "
        "code is written",
        (
            "Propose a structure with its trade-offs; name what you rejected and why.",
            "Write decisions down so builders can follow them without asking.",
        ),
    ),
    "route-setter": Role(
        "plans a goal into ordered, checkable tasks",
        "planning: turning a goal or phase into ordered, checkable tasks with dependencies",
        (
            "Produce tasks small enough to verify, each with what 'done' means.",
            "Mark dependencies and risks; do not implement the tasks.",
        ),
    ),
    "oracle": Role(
        "researches hard questions with evidence",
        "hard questions: research, reasoning about unknowns, weighing options with evidence",
        (
            "Answer the question asked, with the evidence that supports the answer.",
            "Say how sure you are and what would change your mind.",
        ),
    ),
    "builder": Role(
        "writes code and tests for one task",
        "implementation: writing and changing code and tests for one task of the plan",
        (
            "Implement exactly the task given; keep the change small and tested.",
            "Run the tests that cover your change before you report.",
        ),
    ),
    "watcher": Role(
        "reviews changes, runs tests, reports defects",
        "verification: reviewing changes, running tests and checks, reporting defects with "
        "evidence",
        (
            "Check the work against its task; reproduce every defect you report.",
            "Report defects; do not fix them yourself unless the task says so.",
        ),
    ),
    "scout": Role(
        "quick exploration: finds files, reads code",
        "quick exploration: finding files, reading code and docs, answering where and what "
        "questions",
        (
            "Find the facts asked for and cite file paths and lines.",
            "Change nothing.",
        ),
    ),
    "archaeologist": Role(
        "explains history from git and past decisions",
        "history: why code is the way it is, from git history, old designs and past decisions",
        (
            "Dig through history (git log, blame, old docs) and explain what you found.",
            "Separate what the record shows from what you infer.",
        ),
    ),
    "chaos": Role(
        "tries to break things: edge cases, bad input",
        "resilience testing: edge cases, bad input and injected failures that try to break things",
        (
            "Try to break the thing under test; keep every reproduction you find.",
            "Report what broke, how to reproduce it, and how bad it is.",
        ),
    ),
    "colonizer": Role(
        "sets up scaffolding, dependencies, config",
        "setting up new ground: scaffolding, project set-up, dependencies and configuration",
        (
            "Set up what the task asks for with the project's existing conventions.",
            "Leave the set-up runnable and say how to run it.",
        ),
    ),
}

COMMON_DUTIES = (
    "Stay within the task you were given.",
    "End with a short report: what you did, what you checked, what is left or blocked.",
)


def role_of(caste: str) -> Role:
    return ROLES.get(
        caste,
        Role(
            f"the colony's {caste} tasks",
            f"tasks the colony's profile assigns to the {caste} caste",
            (f"Do the work the colony gives the {caste} caste.",),
        ),
    )
