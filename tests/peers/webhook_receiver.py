"""A real HTTP receiver on loopback for the webhook tests, checking Standard Webhooks
signatures on its own (Python's hmac, not nunchi's code).

Usage: webhook_receiver.py SECRET OUT_FILE FAIL_FIRST — answers 401 to a bad or stale
signature, 503 to the first FAIL_FIRST good deliveries (to exercise retries), 204 after;
appends each accepted message as a JSON line to OUT_FILE; prints its port.
"""
import base64
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET, OUT, FAIL_FIRST = sys.argv[1], sys.argv[2], int(sys.argv[3])
KEY = base64.b64decode(SECRET.removeprefix("whsec_"))
seen = {"good": 0}


def verified(headers, body):
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
        return False
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    for part in headers.get("webhook-signature", "").split():
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if not verified(self.headers, body):
            self.send_response(401)
            self.end_headers()
            return
        seen["good"] += 1
        if seen["good"] <= FAIL_FIRST:
            self.send_response(503)
            self.end_headers()
            return
        message = json.loads(body)
        with open(OUT, "a") as f:
            f.write(json.dumps({"id": self.headers["webhook-id"], **message}) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
