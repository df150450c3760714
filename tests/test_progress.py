import io

from mmplug.core.progress import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_on_terminals_only(monkeypatch):
    monkeypatch.delenv("MMPLUG_PROGRESS", raising=False)
    screen = Terminal()
    assert list(progress(range(3), description="loading", stream=screen)) == [0, 1, 2]
    assert "loading [" in screen.getvalue() and "3/3" in screen.getvalue()
    pipe = io.StringIO()
    assert list(progress(range(3), description="loading", stream=pipe)) == [0, 1, 2]
    assert pipe.getvalue() == ""
    monkeypatch.setenv("MMPLUG_PROGRESS", "0")
    quiet = Terminal()
    list(progress(range(2), stream=quiet))
    assert quiet.getvalue() == ""
