"""Real temporary git repositories for tests of the publishing flow."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GitRepo:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, author: str = "Test Author", when: str | None = None) -> str:
        env = os.environ | {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": f"{author.split()[0].lower()}@example.com",
            "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": "ci@example.com",
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull,
        }
        if when:
            env |= {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        done = subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=self.root,
                              env=env, capture_output=True, text=True, check=True)
        return done.stdout

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def commit(self, message: str, author: str = "Test Author", when: str | None = None) -> str:
        self.git("add", "-A", author=author)
        self.git("commit", "-q", "-m", message, author=author, when=when)
        return self.git("rev-parse", "HEAD").strip()
