"""A real IMAP server on 127.0.0.1: Debian's Dovecot, started with a private configuration in
a temporary folder (IMAPS only, a certificate from the test CA, one user with a password)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .smtpsink import free_port
from .testca import CertAuthority

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "bounces", "s3cret-imap-pass"


def _user(uid: int) -> str:
    return pwd.getpwuid(uid).pw_name


class Dovecot:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca = CertAuthority(folder)
        cert, key = self.ca.server("imap")
        self.port = free_port()
        uid, gid = os.getuid(), os.getgid()
        internal = _user(uid)
        if uid == 0:
            # Dovecot will not run a mailbox as root: use an unprivileged account, and a home
            # outside pytest's private (0700) temporary folders that it can reach.
            account = pwd.getpwnam("nobody")
            uid, gid = account.pw_uid, account.pw_gid
        self.home = Path(tempfile.mkdtemp(prefix="notify-imap-"))
        self.home.chmod(0o711)
        (self.home / USER).mkdir()
        os.chown(self.home / USER, uid, gid)
        (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (folder / "dovecot.conf").write_text(
            f"""
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
first_valid_uid = 0
default_internal_user = {internal}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.home}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def maildir(self) -> Path:
        return self.home / USER / "Maildir"

    def start(self) -> Dovecot:
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.folder / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                log_file = self.folder / "dovecot.log"
                log = log_file.read_text() if log_file.exists() else ""
                raise RuntimeError(f"dovecot exited: {err}{log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not start listening")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stderr:
                self.proc.stderr.close()
        shutil.rmtree(self.home, ignore_errors=True)
