"""``mmplug probe``: one line per file, --json, exit code 1 when a file does not decode."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

from mmplug.core.cli import probe


def run_probe(capsys, *files, as_json=False, decoder="pyav"):
    code = probe.run(argparse.Namespace(files=[str(f) for f in files], json=as_json, decoder=decoder))
    return code, capsys.readouterr().out


def test_lines_for_good_files(media, capsys):
    code, out = run_probe(capsys, media["mp4"], media["webm"], media["rotated"], media["jpg"])
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 4
    assert "h264" in lines[0] and "12 frames (metadata)" in lines[0] and "64x48" in lines[0]
    assert "vp9" in lines[1] and "10 frames (duration)" in lines[1]
    assert "rotation -90" in lines[2] and "48x64" in lines[2]
    assert "still image" in lines[3]


def test_bad_files_fail_the_run(media, capsys):
    code, out = run_probe(capsys, media["mp4"], media["cut_data"], media["text"])
    lines = out.strip().splitlines()
    assert code == 1
    assert lines[0].endswith("ok")
    assert "NOT DECODABLE" in lines[1] and "truncated" in lines[1]
    assert "NOT DECODABLE" in lines[2] and "holds text" in lines[2]


def test_json_output(media, capsys):
    code, out = run_probe(capsys, media["vfr"], media["missing"], as_json=True)
    records = json.loads(out)
    assert code == 1
    assert records[0]["ok"] and records[0]["variable_fps"] and records[0]["num_frames"] == 8
    assert not records[1]["ok"] and "no such file" in records[1]["error"] and records[1]["backend"] == "pyav"


def test_command_line(media):
    command = [sys.executable, "-m", "mmplug.core.cli.main", "probe", "--json", str(media["three"])]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["num_frames"] == 3
    listed = subprocess.run([sys.executable, "-m", "mmplug.core.cli.main", "probe", "--help"],
                            capture_output=True, text=True)
    assert "--decoder" in listed.stdout and "--json" in listed.stdout
