"""api.test, auth.test, conversations.*, users.info, usergroups.users.list."""

from __future__ import annotations

import copy
import time

from .api import JSON, _flag, _rand_id, _SlackError
from .files import Files


class Conversations(Files):
    """Identity and directory methods: api.test, auth.test, conversations.*, users.info, user
    groups."""

    def _api_test(self, params: JSON) -> JSON:
        return {"args": {k: v for k, v in params.items() if isinstance(v, str)}}

    def _auth_test(self, params: JSON) -> JSON:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Fake Team",
            "user": self._users[self.bot_user_id]["name"],
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _conversations_open(self, params: JSON) -> JSON:
        if params.get("channel"):
            cid = self._resolve_channel(params["channel"])
        else:
            users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
            if not users:
                raise _SlackError("users_list_not_supplied")
            for u in users:
                self._user_obj(u)
            if len(users) == 1:
                cid = self.dm_channel(users[0])
            else:
                key = "mpim:" + ",".join(sorted(users))
                cid = self._dm_by_user.get(key) or _rand_id("G")
                if key not in self._dm_by_user:
                    self._dm_by_user[key] = cid
                    self._channels[cid] = {
                        "id": cid,
                        "is_mpim": True,
                        "is_im": False,
                        "is_member": True,
                        "created": int(time.time()),
                        "_members": [*users, self.bot_user_id],
                    }
        obj = self._channels[cid]
        if _flag(params.get("return_im")):
            return {"channel": self._public_channel(obj), "already_open": False}
        return {"channel": {"id": cid}, "no_op": False, "already_open": False}

    def _usergroups_users_list(self, params: JSON) -> JSON:
        group = str(params.get("usergroup") or "")
        if group not in self._usergroups:
            raise _SlackError("no_such_subteam")
        return {"users": list(self._usergroups[group])}

    def _conversations_members(self, params: JSON) -> JSON:
        cid = str(params.get("channel") or "")
        if cid not in self._channels:
            raise _SlackError("channel_not_found")
        members = self._channels[cid].get("_members")
        if members is None:
            members = [u for u, obj in self._users.items() if not obj.get("is_bot")]
        return {"members": list(members), "response_metadata": {"next_cursor": ""}}

    def _conversations_info(self, params: JSON) -> JSON:
        cid = params.get("channel")
        if not cid or cid not in self._channels:
            raise _SlackError("channel_not_found")
        return {"channel": self._public_channel(self._channels[str(cid)])}

    def _users_info(self, params: JSON) -> JSON:
        user = copy.deepcopy(self._user_obj(params.get("user")))
        if str(params.get("include_locale", "")).lower() in ("1", "true"):
            user["locale"] = self._locales.get(str(user["id"]), "en-US")  # only when asked
        return {"user": user}
