"""Debian's Dovecot as a real IMAP server on loopback for the e-mail tests: one user whose
mail is a Maildir the test delivers into, the way a local delivery agent would.

Usage: dovecot_imap.py WORK_DIR USER PASSWORD — the Maildir is WORK_DIR/home/Maildir;
prints the IMAP port once Dovecot answers, and stops Dovecot when this process ends (even
when killed: Dovecot gets SIGTERM when its parent dies).
"""
import ctypes
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

WORK, USER, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


uid, gid = os.getuid(), os.getgid()
me = pwd.getpwuid(uid).pw_name
group = grp.getgrgid(gid).gr_name
# Dovecot's own processes never run as root: as root, use the users its package made.
login_user, internal_user, internal_group = (
    ("dovenull", "dovecot", "dovecot") if uid == 0 else (me, me, group)
)
os.chmod(WORK, 0o755)
for d in ("run", "state", "home/Maildir/new", "home/Maildir/cur", "home/Maildir/tmp"):
    os.makedirs(os.path.join(WORK, d), exist_ok=True)
# Mail is never read as root either: as root, the mailbox belongs to the dovecot user (the
# test, as root, can still deliver into it).
mail_uid, mail_gid = uid, gid
if uid == 0:
    mail_uid, mail_gid = pwd.getpwnam("dovecot").pw_uid, grp.getgrnam("dovecot").gr_gid
    for root, dirs, _ in os.walk(os.path.join(WORK, "home")):
        os.chown(root, mail_uid, mail_gid)
with open(os.path.join(WORK, "passwd"), "w") as f:
    f.write(f"{USER}:{{PLAIN}}{PASSWORD}:{mail_uid}:{mail_gid}::{WORK}/home\n")
port = free_port()
config = os.path.join(WORK, "dovecot.conf")
with open(config, "w") as f:
    f.write(f"""
base_dir = {WORK}/run
state_dir = {WORK}/state
log_path = {WORK}/dovecot.log
instance_name = nunchi-test-{os.getpid()}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {mail_uid}
first_valid_gid = {mail_gid}
mail_location = maildir:{WORK}/home/Maildir
passdb {{
  driver = passwd-file
  args = {WORK}/passwd
}}
userdb {{
  driver = passwd-file
  args = {WORK}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
""")


def die_with_parent():
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


server = subprocess.Popen([DOVECOT, "-F", "-c", config], preexec_fn=die_with_parent)
deadline = time.time() + 20
while True:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            if s.recv(100).startswith(b"* OK"):
                break
    except OSError:
        pass
    if server.poll() is not None or time.time() > deadline:
        log = open(os.path.join(WORK, "dovecot.log")).read() if os.path.exists(os.path.join(WORK, "dovecot.log")) else ""
        sys.exit(f"dovecot did not start: {log}")
    time.sleep(0.1)
print(port, flush=True)
signal.signal(signal.SIGTERM, lambda *_: (server.terminate(), sys.exit(0)))
server.wait()
