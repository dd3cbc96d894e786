"""`/dashboard/board/…`: the dispatch board (`dispatchnode.web.dashboard.board`)."""

from django.urls import path

from dispatchnode.web.dashboard import board

urlpatterns = [
    path("board/", board.board, name="board"),
    path("board/poll/", board.poll, name="board_poll"),
    path("board/move/", board.move, name="board_move"),
]
