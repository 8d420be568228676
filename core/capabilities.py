"""What a chat channel can do: the engine asks these, never a platform's name.

Each channel package in bots/ declares one `Capabilities` value and registers it in `CHANNELS`
(see bots/channels.py and docs/adding-a-channel.md). The engine looks a channel up by the
`platform` of a person, chat or interview and reads the answer it needs: whether to ask for
a time zone, how a command is typed, which audio format plays inline, which ids name people
or user groups in a script's review lists, how large a file a bot may download.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.vocabulary import Verb

DEFAULT_MAX_DOWNLOAD = 20 * 1024 * 1024  # bytes; a channel with a lower limit declares it


class TimeZoneSource(enum.Enum):
    """Where a candidate's time zone comes from."""

    ASK = "ask"  # the platform does not say: the bot asks before the consent
    PROFILE = "profile"  # the adapter passes the person's zone when they accept (never asked)
    INVITATION = "invitation"  # the zone set at invitation (else UTC) stands, confirmed at once


class AudioFormat(enum.Enum):
    """A format reviewers' clients play inline (review copies are made in it)."""

    OGG_OPUS = "ogg-opus"
    M4A_AAC = "m4a-aac"


@dataclass(frozen=True)
class IdSyntax:
    """Which ids of a platform name what, in scripts' `review` lists ("platform:id").

    Any id is a destination a review card can go to (a chat, a channel, a person). Patterns
    match the whole id: `people` a single person, `groups` a user group the adapter resolves
    to its members (None: the platform has none). The `*_help` texts and examples appear in
    script errors; a channel with no `chat_help` is accepted but not suggested."""

    people: str = r".+"
    groups: str | None = None
    chat_help: str | None = None  # e.g. "<chat or user id>"
    person_help: str | None = None  # e.g. "<user id>"
    group_help: str | None = None  # e.g. "a user group (…)"
    chat_examples: tuple[str, ...] = ()
    person_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Capabilities:
    """One channel's answers to what the engine asks of it."""

    platform: str  # the prefix of its refs ("platform:id"), in scripts and the database
    time_zone: TimeZoneSource = TimeZoneSource.ASK
    command_syntax: str = "/{}"  # how a person types a command; {} is its word
    inline_audio: AudioFormat = AudioFormat.OGG_OPUS
    record_voice: str = "hold the microphone button"  # how a person records a voice note
    max_download: int = DEFAULT_MAX_DOWNLOAD  # bytes a bot may fetch of a person's file
    ids: IdSyntax = IdSyntax()

    def command(self, verb: Verb) -> str:
        """How a person types `verb` here, e.g. "/status"."""
        return self.command_syntax.format(verb.value)

    def is_person(self, ident: str) -> bool:
        return re.fullmatch(self.ids.people, ident) is not None

    def is_group(self, ident: str) -> bool:
        return self.ids.groups is not None and re.fullmatch(self.ids.groups, ident) is not None


class Channels:
    """The registered channels' capabilities, by platform.

    An unregistered platform (a row left by a channel since removed) answers with neutral
    defaults, so old interviews still load; script validation accepts registered ones only.
    """

    def __init__(self) -> None:
        self._known: dict[str, Capabilities] = {}

    def register(self, capabilities: Capabilities) -> Capabilities:
        """Add (or replace) a channel's capabilities; returns them."""
        if not re.fullmatch(r"[a-z][a-z0-9_]*", capabilities.platform):
            raise ValueError(f"a platform is lower-case letters, digits and _, not "
                             f"{capabilities.platform!r}")
        self._known[capabilities.platform] = capabilities
        return capabilities

    def unregister(self, platform: str) -> None:
        self._known.pop(platform, None)

    def __getitem__(self, platform: str) -> Capabilities:
        found = self._known.get(platform)
        return found if found is not None else Capabilities(platform)

    def __contains__(self, platform: object) -> bool:
        return platform in self._known

    def __iter__(self) -> Iterator[Capabilities]:
        """Registered channels, by platform name (a stable order for messages)."""
        return iter(sorted(self._known.values(), key=lambda c: c.platform))


CHANNELS = Channels()


def capabilities(platform: str) -> Capabilities:
    """The capabilities of the channel named by a ref's platform."""
    return CHANNELS[platform]


def split_ref(ref: str) -> tuple[Capabilities, str]:
    """A "platform:id" entry as (its channel's capabilities, the id)."""
    platform, _, ident = ref.partition(":")
    return CHANNELS[platform], ident


def is_person(ref: str) -> bool:
    """A single person ("platform:id" with the platform's person id syntax)."""
    caps, ident = split_ref(ref)
    return ref.partition(":")[0] in CHANNELS and caps.is_person(ident)


def is_user_group(ref: str) -> bool:
    """A user group, resolved to its members by its channel's adapter."""
    caps, ident = split_ref(ref)
    return ref.partition(":")[0] in CHANNELS and caps.is_group(ident)


def with_commands(text: str, platform: str) -> str:
    """`text` with each `{verb}` placeholder (`{status}`, `{delete}`...) written as the
    channel of `platform` types that command."""
    caps = CHANNELS[platform]
    for verb in Verb:
        text = text.replace("{" + verb.value + "}", caps.command(verb))
    return text


def known(ref: str) -> bool:
    """Whether a "platform:id" entry names a registered channel and has an id."""
    platform, _, ident = ref.partition(":")
    return platform in CHANNELS and bool(ident)


def ids_help() -> str:
    """How script lists write destinations, for errors: "a:<chat id> or b:<…>"."""
    shown = [f"{c.platform}:{c.ids.chat_help}" for c in CHANNELS if c.ids.chat_help]
    return " or ".join(shown) or "platform:id of a registered channel"


def people_help() -> str:
    """How script lists write people and user groups, for errors."""
    people = ", ".join(f"{c.platform}:{c.ids.person_help}" for c in CHANNELS
                       if c.ids.person_help)
    groups = " or ".join(c.ids.group_help for c in CHANNELS if c.ids.group_help)
    return f"a person ({people})" + (f" or {groups}" if groups else "")


def examples(*, people: bool) -> str:
    """A list of example entries, e.g. "[a:U1, b:-100]"."""
    return "[" + ", ".join(f"{c.platform}:{e}" for c in CHANNELS for e in (
        c.ids.person_examples if people else c.ids.chat_examples)) + "]"
