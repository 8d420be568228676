"""views.* methods and trigger ids."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Mapping
from typing import Any

from .api import JSON, _rand_id, _SlackError, _str_or_none
from .blocks import _BlockChecker, _fill_ids, validate_blocks
from .messages import Messages
from .objects import View


class Views(Messages):
    """Modals and App Home views, opened with trigger ids that expire."""

    def _make_view(
        self,
        params: Mapping[str, Any],
        user: str,
        expected: str,
        *,
        trigger_id: str | None = None,
        view_id: str | None = None,
    ) -> View:
        view = params.get("view")
        if not isinstance(view, dict):
            raise _SlackError("invalid_arguments", response_metadata={"messages": ["view"]})
        kind = view.get("type")
        if kind != expected:
            raise _SlackError(
                "invalid_arguments",
                response_metadata={
                    "messages": [f"[ERROR] must be {expected} [json-pointer:/view/type]"]
                },
            )
        errors = validate_blocks(view.get("blocks", []), kind)
        if kind == "modal":
            checker = _BlockChecker(kind)
            for key in ("title", "submit", "close"):
                if view.get(key) is not None or key == "title":
                    checker.text_obj(view.get(key), f"/view/{key}", max_len=24, plain_only=True)
            if any((b or {}).get("type") == "input" for b in view.get("blocks") or []) and not (
                view.get("submit")
            ):
                checker.err("must provide submit when using input blocks", "/view/submit")
            errors += checker.errors
        if len(str(view.get("private_metadata", ""))) > 3000:
            errors.append("must be at most 3000 characters [json-pointer:/view/private_metadata]")
        if len(str(view.get("callback_id", ""))) > 255:
            errors.append("must be at most 255 characters [json-pointer:/view/callback_id]")
        if errors:
            raise _SlackError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        stored = copy.deepcopy(view)
        stored["blocks"] = _fill_ids(list(view.get("blocks") or []))
        return View(
            id=view_id or _rand_id("V"),
            user=user,
            type=kind,
            view=stored,
            hash=f"{int(time.time())}.{secrets.token_hex(4)}",
            trigger_id=trigger_id,
            external_id=_str_or_none(params.get("external_id") or view.get("external_id")),
        )

    def _use_trigger(self, params: Mapping[str, Any]) -> tuple[str, str]:
        trigger_id = params.get("trigger_id")
        if not trigger_id and params.get("interactivity_pointer"):
            trigger_id = params["interactivity_pointer"]
        if not trigger_id:
            raise _SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] missing trigger_id"]}
            )
        entry = self._triggers.get(str(trigger_id))
        if entry is None:
            raise _SlackError("invalid_trigger_id")
        user, issued = entry
        if self.now() - issued > self.trigger_ttl:
            raise _SlackError("expired_trigger_id")
        return str(trigger_id), user

    def _views_open(self, params: JSON) -> JSON:
        trigger_id, user = self._use_trigger(params)
        view = self._make_view(params, user, "modal", trigger_id=trigger_id)
        del self._triggers[trigger_id]
        self._views[view.id] = view
        return {"view": view.as_slack(self.team_id)}

    def _views_push(self, params: JSON) -> JSON:
        trigger_id, user = self._use_trigger(params)
        view = self._make_view(params, user, "modal", trigger_id=trigger_id)
        del self._triggers[trigger_id]
        parents = [v for v in self._views.values() if v.user == user and v.type == "modal"]
        if parents:
            view.previous_view_id = parents[-1].id
            view.root_view_id = parents[-1].root_view_id or parents[-1].id
        self._views[view.id] = view
        return {"view": view.as_slack(self.team_id)}

    def _views_update(self, params: JSON) -> JSON:
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        existing: View | None = None
        if view_id:
            existing = self._views.get(str(view_id))
        elif external_id:
            existing = next((v for v in self._views.values() if v.external_id == external_id), None)
        else:
            raise _SlackError("invalid_arguments")
        if existing is None:
            raise _SlackError("not_found")
        if params.get("hash") and params["hash"] != existing.hash:
            raise _SlackError("hash_conflict")
        new = self._make_view(params, existing.user, existing.type, view_id=existing.id)
        existing.history.append(existing.view)
        existing.view = new.view
        existing.hash = new.hash
        return {"view": existing.as_slack(self.team_id)}

    def _views_publish(self, params: JSON) -> JSON:
        user = str(params.get("user_id") or "")
        self._user_obj(user)
        current = self.home(user)
        if current is not None and params.get("hash") and params["hash"] != current.hash:
            raise _SlackError("hash_conflict")
        new = self._make_view(params, user, "home", view_id=current.id if current else None)
        if current is None:
            self._views[new.id] = new
            return {"view": new.as_slack(self.team_id)}
        current.history.append(current.view)
        current.view = new.view
        current.hash = new.hash
        return {"view": current.as_slack(self.team_id)}
