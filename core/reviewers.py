"""Who may review and decide an interview of a script, and what they have been shown.

One rule (see docs/reviews.md): you may rate when you are not a candidate of the script, and
you are listed in `review.reviewers` (yourself or through a user group), or you act inside
a listed review chat and, when `review.members` is set, you are listed there too.
"""

from __future__ import annotations

from collections.abc import Callable

from core import texts
from core.ports import UnitOfWork
from core.refs import ChatRef, UserRef
from core.review_settings import is_user_group
from core.script import Script
from core.services import Services

REVEALED = "others revealed"  # audit: a reviewer was shown others' scores ("<answer id>")
REVISED = "revised after reveal"  # audit: and changed their own afterwards
DECISIONS = "decisions"  # what `REVEALED` names when others' decisions were shown


def named_in(refs: tuple[str, ...], user: UserRef,
             members: Callable[[str], frozenset[str]]) -> bool:
    """The person is in `refs` themselves or through a listed user group (`members`
    of a group, as last resolved)."""
    person = str(user)
    return person in refs or any(person in members(g) for g in refs if is_user_group(g))


def is_named(services: Services, refs: tuple[str, ...], user: UserRef) -> bool:
    """The person is in `refs` themselves or through a listed user group."""
    return named_in(refs, user, services.group_members)


def reviewer_refusal(services: Services, uow: UnitOfWork, script: Script, user: UserRef,
                     chat: ChatRef) -> str | None:
    """Why this person may not review interviews of this script here, or None if they may.

    You may rate when you are not a candidate of the script, and you are listed in
    `review.reviewers` (yourself or through a user group), or you act inside a listed
    review chat and, when `review.members` is set, you are listed there too.
    """
    if uow.interviews.is_candidate(script.id, user):
        return texts.NOT_A_REVIEWER  # a candidate of this script, of any of its interviews
    if is_named(services, script.review.reviewers, user):
        return None
    if str(chat) in {str(d) for d in services.destinations(script)}:
        members = script.review.members
        if members is None or is_named(services, members, user):
            return None
        return texts.NOT_A_LISTED_MEMBER
    return texts.NOT_A_REVIEWER


def is_reviewer(services: Services, uow: UnitOfWork, script: Script, user: UserRef,
                chat: ChatRef) -> bool:
    """See `reviewer_refusal`."""
    return reviewer_refusal(services, uow, script, user, chat) is None


def decides(script: Script, user: UserRef, members: Callable[[str], frozenset[str]]) -> bool:
    """Any reviewer decides unless `review.deciders` names people (or user groups); then
    only they do."""
    deciders = script.review.deciders
    return not deciders or named_in(deciders, user, members)


def may_decide(script: Script, services: Services, user: UserRef) -> bool:
    """See `decides`."""
    return decides(script, user, services.group_members)


def revealed(uow: UnitOfWork, interview_id: str, user: UserRef, what: str) -> bool:
    return any(e.actor == str(user) and e.action == REVEALED and e.detail == what
               for e in uow.reviews.audit_log(interview_id))
