"""The OpenAPI 3.1 document of /api/v1, made from the pydantic models of bots/api/schemas.py."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bots.api import schemas as s

REF = "#/components/schemas/{model}"
MODELS: tuple[type[BaseModel], ...] = (s.InvitationIn, s.InvitationOut, s.InterviewOut,
                                       s.InterviewPage, s.Results, s.ExtendIn, s.Error)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*codes: int) -> dict[str, Any]:
    meaning = {400: "Invalid body or query (every bad field is named)",
               401: "No API key, or an unknown or revoked one",
               404: "Unknown interview or script", 409: "Not possible in the interview's state",
               410: "The interview was erased", 503: "The channel is not reachable"}
    return {str(c): _json(s.Error, meaning[c]) for c in codes}


def _id(name: str, what: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": what,
            "schema": {"type": "string"}}


@cache
def openapi_document() -> dict[str, Any]:
    _, top = models_json_schema([(m, "validation") for m in MODELS], ref_template=REF)
    schemas = top.get("$defs", {})
    interview = _id("id", "Interview id")
    paths: dict[str, Any] = {
        "/invitations": {"post": {
            "operationId": "createInvitation", "summary": "Invite a candidate",
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _ref(s.InvitationIn)}}},
            "responses": {"201": _json(s.InvitationOut, "Invitation created"),
                          **_errors(400, 401, 404, 503)}}},
        "/interviews": {"get": {
            "operationId": "listInterviews", "summary": "List interviews, newest last",
            "parameters": [
                {"name": "script", "in": "query", "schema": {"type": "string"}},
                {"name": "state", "in": "query", "schema": {"type": "string"}},
                {"name": "limit", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                {"name": "offset", "in": "query",
                 "schema": {"type": "integer", "minimum": 0, "default": 0}}],
            "responses": {"200": _json(s.InterviewPage, "One page"),
                          **_errors(400, 401, 404)}}},
        "/interviews/{id}": {
            "get": {"operationId": "getInterview", "summary": "One interview",
                    "parameters": [interview],
                    "responses": {"200": _json(s.InterviewOut, "The interview"),
                                  **_errors(401, 404)}},
            "delete": {"operationId": "eraseInterview",
                       "summary": "Erase answers, audio and name (an anonymous row stays)",
                       "parameters": [interview],
                       "responses": {"204": {"description": "Erased"},
                                     **_errors(401, 404, 410)}}},
        "/interviews/{id}/extend": {"post": {
            "operationId": "extendInterview", "summary": "Move the deadline later",
            "parameters": [interview],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _ref(s.ExtendIn)}}},
            "responses": {"200": _json(s.InterviewOut, "Extended"),
                          **_errors(400, 401, 404, 409, 410)}}},
        "/scripts/{id}/results": {"get": {
            "operationId": "scriptResults", "summary": "Scorecards of a script",
            "parameters": [_id("id", "Script id")],
            "responses": {"200": _json(s.Results, "One row per interview"),
                          **_errors(401, 404)}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "interviewbot API", "version": "1",
                 "description": "Invite candidates and read results from an applicant "
                                "tracking system. See docs/api.md."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
