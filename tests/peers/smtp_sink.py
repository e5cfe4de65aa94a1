"""A real SMTP server on loopback for the e-mail tests (aiosmtpd from PyPI).

Usage: smtp_sink.py DIR — stores every message it receives as DIR/NNNN.eml (the
envelope's recipients, the decoded subject, the threading and List-Unsubscribe headers
and the decoded text part, so tests can read
them whatever transfer encoding the sender chose, and one `X-Attachment: NAME; TYPE;
SHA-256` line per attached file and an `X-Html:` line holding the HTML part on one line,
decoded by Python's own MIME parser) and prints the port it listens on, then
serves until killed.
"""
import email
import hashlib
from email import policy
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.folder, f"{self.count:04d}.eml")
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        part = message.get_body(preferencelist=("plain",))
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write("X-Envelope-To: " + ", ".join(envelope.rcpt_tos) + "\n")
            f.write("From: " + str(message["From"]) + "\n")
            f.write("Subject: " + str(message["Subject"]) + "\n")
            for name in ("Message-ID", "In-Reply-To", "References", "List-Unsubscribe", "List-Unsubscribe-Post"):
                if message[name] is not None:
                    f.write(f"{name}: {message[name]}\n")
            html = message.get_body(preferencelist=("html",))
            if html is not None:
                f.write("X-Html: " + " ".join(html.get_content().split()) + "\n")
            for attached in message.iter_attachments():
                data = attached.get_payload(decode=True) or b""
                f.write(
                    f"X-Attachment: {attached.get_filename()}; {attached.get_content_type()}; "
                    f"{hashlib.sha256(data).hexdigest()}\n"
                )
            f.write("\n")
            f.write(part.get_content() if part is not None else "")
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=free_port())
    controller.start()
    print(controller.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
