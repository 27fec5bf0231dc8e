#!/usr/bin/env python3
"""The key of one file's clang-tidy run in tools/check-style.sh: a hash of
everything its findings depend on, which are clang-tidy's version, the
checks (.clang-tidy), the file as clang preprocesses it with the build's
flags (its code and every header it includes) and the line filter's entries
for those files. Equal keys give equal findings, so a file that passed once
is not parsed again (clang-tidy takes ~8 s a file, preprocessing ~0.5 s).

Paths inside the repository and the build directory are cut from what is
hashed, so clones at other paths (each CI run's) share the keys.

Usage: clang-tidy-key.py BUILD_DIR LINE_FILTER_JSON FILE [CLANG_ARG...]
Prints the key; exits 1, printing why, when the file cannot be preprocessed
(the caller then runs clang-tidy without a key).
"""
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys

build, filter_path, file, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
root = os.getcwd()  # check-style.sh runs from the repository's top
build = os.path.realpath(build)
path = os.path.realpath(file)

entry = next((e for e in json.load(open(os.path.join(build, "compile_commands.json"))) if e["file"] == path), None)
if entry is None:
    sys.exit(f"{file} is not in {build}/compile_commands.json")

# The compile command, preprocessing only, by clang: drop the compiler, -c and -o.
args, words = [], shlex.split(entry["command"])[1:]
skip = False
for word in words:
    if skip:
        skip = False
    elif word == "-o":
        skip = True
    elif word != "-c":
        args.append(word)
run = subprocess.run(["clang++-16", "-E", *args, *extra], cwd=entry["directory"], capture_output=True)
if run.returncode != 0:
    sys.exit(f"clang++-16 -E {file} failed:\n{run.stderr.decode(errors='replace')}")
preprocessed = run.stdout.replace(build.encode(), b"<build>").replace(root.encode(), b"<src>")

# The files the preprocessed text came from, by line markers (# 12 "<src>/core/x.hpp" 2).
included = {m.decode() for m in re.findall(rb'^# \d+ "<src>/([^"]+)"', preprocessed, re.M)}
included.add(os.path.relpath(path, root))
lines = [e for e in json.load(open(filter_path)) if e["name"] in included]

key = hashlib.sha256()
for part in (subprocess.run(["clang-tidy-16", "--version"], capture_output=True).stdout,
             open(os.path.join(root, ".clang-tidy"), "rb").read(),
             json.dumps(sorted(lines, key=lambda e: e["name"])).encode(),
             preprocessed):
    key.update(hashlib.sha256(part).digest())
print(key.hexdigest())
