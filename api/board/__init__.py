"""The Alliance Leadership Board's web pages (server-rendered, under ``/board``)."""

from api.board.routes import router

__all__ = ["router"]
