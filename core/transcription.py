"""Offline transcription of stored takes, in the background; never fails an interview."""

from __future__ import annotations

import asyncio
import logging

from core.audio import MultilingualTranscriber
from core.services import Services

log = logging.getLogger("interviewbot.engine")


class Transcription:
    """Starts transcriptions as background tasks and attaches their text to the take."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self._background: set[asyncio.Task[None]] = set()

    def request(self, interview_id: str, take_id: str) -> None:
        """Transcribe a take in the background (nothing when no transcriber is set)."""
        if self.s.transcriber is None:
            return
        task = asyncio.create_task(self.transcribe(interview_id, take_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def transcribe(self, interview_id: str, take_id: str) -> None:
        """Attach an offline transcript to a stored take; no transaction open meanwhile."""
        assert self.s.transcriber is not None
        with self.s.uow() as uow:
            interview = uow.interviews.get(interview_id)
            found = interview.take_by_id(take_id) if interview else None
            key = found[1].media_key if found else None
            hint = found[1].language if found else None  # asked in; else the model detects
        if key is None:
            return
        heard: str | None = None
        try:
            if isinstance(self.s.transcriber, MultilingualTranscriber):
                result = await self.s.transcriber.transcribe_in(key, hint)
                transcript, heard = (result.text, result.language) if result else (None, None)
            else:
                transcript = await self.s.transcriber.transcribe(key)
        except Exception:
            log.exception("transcription failed")
            return
        if not transcript:
            return
        with self.s.uow() as uow:
            interview = uow.interviews.get(interview_id)
            found = interview.take_by_id(take_id) if interview else None
            if found is not None and found[1].transcript is None and found[1].media_key == key:
                found[1].transcript = transcript  # not a draft's recording since replaced
                found[1].language = heard or found[1].language
                uow.commit()

    async def idle(self) -> None:
        """Wait for background transcriptions to finish."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
