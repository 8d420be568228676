"""files.* methods, the upload flow and private file hosting."""

from __future__ import annotations

import copy
import json
import mimetypes
import secrets
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .api import _FILETYPES, _LOGIN_PAGE, JSON, _rand_id, _SlackError, _str_or_none
from .objects import Download, Upload
from .views import Views


class Files(Views):
    """Files: those people share (hosted privately), uploads by the app (the external upload
    flow), files.info and files.delete."""

    def add_file(
        self,
        user: str | Mapping[str, Any],
        data: bytes,
        name: str,
        mimetype: str | None = None,
        *,
        subtype: str | None = None,
        duration_ms: int | None = None,
        transcription: Mapping[str, Any] | None = None,
        title: str | None = None,
    ) -> JSON:
        """Store a file a user shared; returns the file object for a ``file_share`` event."""
        user_id = user if isinstance(user, str) else str(user["id"])
        file_id = _rand_id("F")
        mimetype = mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream"
        obj = self._file_object(file_id, user_id, name, mimetype, len(data), title=title)
        if subtype is not None:
            obj["subtype"] = subtype
        if subtype == "slack_audio":
            obj["media_display_type"] = "audio"
            obj["audio_wave_samples"] = [0] * 20
            obj["aac"] = obj["url_private"]
        if duration_ms is not None:
            obj["duration_ms"] = duration_ms
        if transcription is not None:
            obj["transcription"] = {"locale": "en-US", **copy.deepcopy(dict(transcription))}
        self._files[file_id] = obj
        self._file_bytes[file_id] = bytes(data)
        self._notify()
        return copy.deepcopy(obj)

    def set_transcription(self, file_id: str, transcription: Mapping[str, Any] | None) -> None:
        """Change a file's ``transcription`` (e.g. from ``processing`` to ``complete``)."""
        if transcription is None:
            self._files[file_id].pop("transcription", None)
        else:
            self._files[file_id]["transcription"] = {"locale": "en-US", **dict(transcription)}
        self._notify()

    def file(self, file_id: str) -> JSON:
        return copy.deepcopy(self._files[file_id])

    def file_bytes(self, file_id: str) -> bytes:
        return self._file_bytes[file_id]

    def _file_object(
        self,
        file_id: str,
        user_id: str,
        name: str,
        mimetype: str,
        size: int,
        *,
        title: str | None = None,
    ) -> JSON:
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        filetype, pretty = _FILETYPES.get(ext, (ext or "binary", ext.upper() or "Binary"))
        base = f"{self.url}/files-pri/{self.team_id}-{file_id}"
        created = int(time.time())
        return {
            "id": file_id,
            "created": created,
            "timestamp": created,
            "name": name,
            "title": title or name,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": pretty,
            "user": user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{base}/{name}",
            "url_private_download": f"{base}/download/{name}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{user_id}/{file_id}/{name}",
            "has_rich_preview": False,
            "file_access": "visible",
        }

    def _files_info(self, params: JSON) -> JSON:
        file_id = params.get("file")
        if not file_id or file_id not in self._files:
            raise _SlackError("file_not_found")
        return {
            "file": copy.deepcopy(self._files[str(file_id)]),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def _files_delete(self, params: JSON) -> JSON:
        """Delete a file: its bytes, its object, and the messages that share it (a file share
        with the file gone shows nothing). Only the bot's own files (no admin token here)."""
        file_id = str(params.get("file") or "")
        found = self._files.get(file_id)
        if found is None:
            raise _SlackError("file_not_found")
        if found.get("user") != self.bot_user_id:
            raise _SlackError("cant_delete_file")
        del self._files[file_id]
        self._file_bytes.pop(file_id, None)
        upload = self._uploads_by_id.get(file_id)
        if upload is not None:
            upload.deleted, upload.data = True, None
        for messages in self._messages.values():
            for msg in messages:
                if any(f.get("id") == file_id for f in msg.files):
                    msg.files = [f for f in msg.files if f.get("id") != file_id]
                    if not msg.files:
                        msg.deleted = True
        return {}

    def _files_get_upload_url(self, params: JSON) -> JSON:
        filename = params.get("filename")
        length = params.get("length")
        if not filename or length is None:
            raise _SlackError("invalid_arguments")
        try:
            size = int(length)
        except (TypeError, ValueError):
            raise _SlackError("invalid_arguments") from None
        file_id = _rand_id("F")
        upload_id = secrets.token_hex(12)
        mimetype = mimetypes.guess_type(str(filename))[0] or "application/octet-stream"
        self._files[file_id] = self._file_object(
            file_id, self.bot_user_id, str(filename), mimetype, size
        )
        upload = Upload(file_id, str(filename), size, alt_txt=_str_or_none(params.get("alt_txt")))
        self._uploads_by_id[file_id] = upload
        self._upload_url_ids[upload_id] = file_id
        self.uploads.append(upload)
        return {"upload_url": f"{self.url}/upload/v1/{upload_id}", "file_id": file_id}

    def _files_complete_upload(self, params: JSON) -> JSON:
        files = params.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except json.JSONDecodeError:
                raise _SlackError("invalid_arguments") from None
        if not isinstance(files, list) or not files:
            raise _SlackError("invalid_arguments")
        channels: list[str] = []
        if params.get("channel_id"):
            channels.append(self._resolve_channel(params["channel_id"]))
        for cid in str(params.get("channels") or "").split(","):
            if cid.strip():
                channels.append(self._resolve_channel(cid.strip()))
        for cid in channels:
            self._can_post(cid)
        uploads: list[Upload] = []
        for item in files:
            upload = self._uploads_by_id.get(str((item or {}).get("id")))
            if upload is None or upload.completed:
                raise _SlackError("file_not_found")
            if upload.data is None:
                raise _SlackError("file_upload_not_found")
            uploads.append(upload)
        comment = _str_or_none(params.get("initial_comment"))
        thread_ts = _str_or_none(params.get("thread_ts"))
        out: list[JSON] = []
        for upload, item in zip(uploads, files, strict=True):
            upload.completed = True
            upload.title = _str_or_none(item.get("title")) or upload.filename
            upload.channels = channels
            upload.initial_comment = comment
            upload.thread_ts = thread_ts
            obj = self._files[upload.file_id]
            obj["title"] = upload.title
            obj["channels"] = [c for c in channels if not self._channels[c].get("is_im")]
            obj["ims"] = [c for c in channels if self._channels[c].get("is_im")]
            out.append({"id": upload.file_id, "title": upload.title})
        for cid in channels:
            msg = self._store_message(
                cid,
                comment or "",
                [],
                params,
                thread_ts=thread_ts,
                files=[copy.deepcopy(self._files[u.file_id]) for u in uploads],
            )
            for upload in uploads:
                upload.message_ts = upload.message_ts or msg.ts
        return {"files": out}

    def _files_upload_retired(self, params: JSON) -> JSON:
        raise _SlackError("method_deprecated")

    async def _handle_upload(self, request: web.Request) -> web.Response:
        upload_id = request.match_info["upload_id"]
        fault = self._take_fault("upload")
        if fault is not None:
            self._notify()
            return web.Response(
                status=fault.status if fault.status != 200 else 500,
                text=fault.error,
                content_type="text/plain",
            )
        file_id = self._upload_url_ids.get(upload_id)
        if file_id is None:
            return web.Response(status=404, text="upload_not_found", content_type="text/plain")
        data: bytes
        if request.content_type == "multipart/form-data":
            data = b""
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if getattr(part, "filename", None) or getattr(part, "name", None) in (
                    "file",
                    "filename",
                ):
                    data = bytes(await part.read())  # type: ignore[union-attr]
                    break
        else:
            data = await request.read()
        upload = self._uploads_by_id[file_id]
        upload.data = data
        self._file_bytes[file_id] = data
        self._files[file_id]["size"] = len(data)
        self._notify()
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _handle_private_file(self, request: web.Request) -> web.StreamResponse:
        team_file = request.match_info["team_file"]
        file_id = team_file.split("-", 1)[1] if "-" in team_file else team_file
        header = request.headers.get("Authorization", "")
        authorized = header == f"Bearer {self.bot_token}"
        self.downloads.append(Download(file_id, authorized, request.path))
        self._notify()
        fault = self._take_fault("files-pri")
        if fault is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            return web.Response(status=fault.status, text=fault.error, headers=headers)
        if not authorized:
            return web.Response(text=_LOGIN_PAGE, content_type="text/html", charset="utf-8")
        if file_id not in self._file_bytes:
            return web.Response(
                status=404, text="<html><body>Not found</body></html>", content_type="text/html"
            )
        obj = self._files[file_id]
        return web.Response(
            body=self._file_bytes[file_id],
            content_type=obj.get("mimetype") or "application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{obj.get("name")}"'},
        )
