"""Files people send and the bot uploads; getFile and downloads."""

from __future__ import annotations

import hashlib
import mimetypes
import re

from aiohttp import web

from .api import (
    _FILE_KINDS,
    JSON,
    MAX_CAPTION_LENGTH,
    MAX_DOWNLOAD_SIZE,
    MAX_UPLOAD_SIZE,
    ApiError,
    _bad,
)
from .messages import Messages
from .objects import ApiCall, StoredFile, Upload


class Files(Messages):
    """Files: stored when a person or the bot sends one, `getFile`, downloads, media messages."""

    def _store_file(
        self,
        kind: str,
        data: bytes | None,
        mime: str | None,
        file_name: str | None,
        file_size: int | None,
    ) -> StoredFile:
        folder, default_ext, default_mime, prefix = _FILE_KINDS[kind]
        number = next(self._file_numbers)
        digest = hashlib.sha256(data or str(number).encode()).hexdigest()
        ext = default_ext
        if file_name and "." in file_name:
            ext = file_name.rsplit(".", 1)[1]
        elif kind in ("audio", "document") and mime:
            guessed = mimetypes.guess_extension(mime)
            ext = guessed.lstrip(".") if guessed else ext
        stored = StoredFile(
            file_id=f"{prefix}{number:06d}{digest[:24]}",
            file_unique_id=f"AgAD{digest[:12]}",
            kind=kind,
            data=data,
            file_size=len(data or b"") if file_size is None else file_size,
            file_path=f"{folder}/file_{number}.{ext}",
            mime_type=mime or default_mime,
            file_name=file_name,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _media_object(stored: StoredFile) -> JSON:
        media: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if stored.mime_type:
            media["mime_type"] = stored.mime_type
        if stored.file_name:
            media["file_name"] = stored.file_name
        return media

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error_response(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        call = ApiCall("download", {"file_path": path}, {}, self.clock())
        self.calls.append(call)
        fault = self._take_fault("download")
        try:
            if fault is not None:
                await self._apply_fault(request, fault)
                if fault.drop:
                    return web.Response()
            stored = self._files_by_path.get(path)
            if stored is None or not stored.downloadable or stored.data is None:
                raise ApiError(404, "Not Found")
        except ApiError as exc:
            call.status, call.description = exc.status, exc.description
            self._signal()
            return self._error_response(exc)
        call.status = 200
        self._signal()
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _resolve_media(
        self, kind: str, field_name: str, params: JSON, uploads: dict[str, Upload]
    ) -> StoredFile:
        value = params.get(field_name)
        upload = uploads.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad("wrong file identifier/HTTP URL specified")
        if upload is not None:
            if len(upload.data) > MAX_UPLOAD_SIZE:
                raise ApiError(413, "Request Entity Too Large")
            mime = upload.content_type
            if kind == "voice":
                mime = "audio/ogg"
            elif not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(upload.filename or "")[0] or mime
            name = upload.filename if kind in ("audio", "document") else None
            return self._store_file(kind, upload.data, mime, name, None)
        if isinstance(value, str) and value:
            if value in self.files:
                return self.files[value]
            if re.match(r"https?://", value):
                return self._store_file(kind, None, None, value.rsplit("/", 1)[-1], 0)
            raise _bad("wrong file identifier/HTTP URL specified")
        raise _bad(f"there is no {field_name} in the request")

    async def _send_media(
        self, kind: str, method: str, params: JSON, uploads: dict[str, Upload]
    ) -> JSON:
        chat = self._chat_for_sending(params)
        stored = self._resolve_media(kind, kind, params, uploads)
        content = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        media = self._media_object(stored)
        if kind in ("voice", "audio"):
            media["duration"] = int(params.get("duration") or 0)
        if kind == "audio":
            for key in ("performer", "title"):
                if params.get(key):
                    media[key] = params[key]
        if kind == "photo":
            media.pop("mime_type", None)
            media.update(
                width=int(params.get("width") or 1280), height=int(params.get("height") or 960)
            )
            content["photo"] = [media]
        else:
            content[kind] = media
        return self._record_bot_message(method, chat, params, content, stored).payload

    async def _send_voice(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return await self._send_media("voice", "sendVoice", params, uploads)

    async def _send_audio(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return await self._send_media("audio", "sendAudio", params, uploads)

    async def _send_document(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return await self._send_media("document", "sendDocument", params, uploads)

    async def _send_photo(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return await self._send_media("photo", "sendPhoto", params, uploads)

    async def _get_file(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        file_id = str(params.get("file_id") or "")
        if not file_id:
            raise _bad("file_id is empty")
        stored = self.files.get(file_id)
        if stored is None:
            raise _bad("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad("file is too big")
        stored.downloadable = True
        return stored.to_file()
