"""A stand-in for the LINE Messaging API and the Telegram Bot API on loopback, answering as
their documentation says, for the messenger tests' replies.

Usage: messenger_api.py LINE_TOKEN TELEGRAM_TOKEN OUT_FILE — prints its port.
- POST /v2/bot/message/push: needs `Authorization: Bearer LINE_TOKEN` (else 401), an
  `X-Line-Retry-Key` UUID, and `{"to", "messages": [1..5 text messages of <= 5,000
  characters]}` (else 400); a retry key already accepted answers 409, as LINE does.
- POST /bot<TELEGRAM_TOKEN>/sendMessage: `{"chat_id", "text" (1..4,096 characters)}`;
  another token answers 401 `{"ok": false, ...}`.
- GET /v2/bot/message/<id>/content (LINE, same token): a small PNG, as LINE serves a photo.
- POST /bot<TOKEN>/getFile then GET /file/bot<TOKEN>/<path> (Telegram): a small JPEG.
- POST /bot<TELEGRAM_TOKEN>/sendDocument or /sendPhoto as multipart/form-data with
  `chat_id` and the file under `document` / `photo`; recorded as api "telegram_file" with
  the method, chat id, file name, type and size.
Each accepted request is appended to OUT_FILE as a JSON line {"api", "headers", "body"}.
"""
import json
import re
import sys
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LINE_TOKEN, TELEGRAM_TOKEN, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
retry_keys = set()
sent = {"n": 0}


def record(api, headers, body):
    with open(OUT, "a") as f:
        f.write(json.dumps({"api": api, "headers": headers, "body": body}, ensure_ascii=False) + "\n")


PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89"
JPEG = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9"


class Handler(BaseHTTPRequestHandler):
    def send_bytes(self, content_type, data):
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if re.fullmatch(r"/v2/bot/message/\d+/content", self.path):
            if self.headers.get("authorization") != f"Bearer {LINE_TOKEN}":
                return self.answer(401, {"message": "Authentication failed."})
            return self.send_bytes("image/png", PNG)
        if self.path.startswith(f"/file/bot{TELEGRAM_TOKEN}/photos/"):
            return self.send_bytes("application/octet-stream", JPEG)
        self.answer(404, {"message": "Not found"})

    def answer(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        upload = re.fullmatch(r"/bot([^/]+)/(sendDocument|sendPhoto)", self.path)
        if upload:
            return self.telegram_file(upload.group(1), upload.group(2), raw)
        try:
            body = json.loads(raw)
        except ValueError:
            return self.answer(400, {"message": "The request body has 1 error(s)"})
        if self.path == "/v2/bot/message/push":
            return self.line(body)
        match = re.fullmatch(r"/bot([^/]+)/sendMessage", self.path)
        if match:
            return self.telegram(match.group(1), body)
        match = re.fullmatch(r"/bot([^/]+)/getFile", self.path)
        if match:
            if match.group(1) != TELEGRAM_TOKEN:
                return self.answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return self.answer(200, {"ok": True, "result": {"file_id": body.get("file_id"), "file_size": len(JPEG), "file_path": "photos/file_7.jpg"}})
        self.answer(404, {"message": "Not found"})

    def line(self, body):
        if self.headers.get("authorization") != f"Bearer {LINE_TOKEN}":
            return self.answer(401, {"message": "Authentication failed. Confirm that the access token in the authorization header is valid."})
        key = self.headers.get("x-line-retry-key", "")
        if key and not UUID.match(key):
            return self.answer(400, {"message": "The value for the 'X-Line-Retry-Key' header is invalid"})
        messages = body.get("messages")
        ok = (
            isinstance(body.get("to"), str)
            and isinstance(messages, list)
            and 1 <= len(messages) <= 5
            and all(m.get("type") == "text" and 1 <= len(m.get("text", "")) <= 5000 for m in messages)
        )
        if not ok:
            return self.answer(400, {"message": "The request body has 1 error(s)"})
        if key in retry_keys:
            return self.answer(409, {"message": "The retry key is already accepted"})
        retry_keys.add(key)
        record("line", {"x-line-retry-key": key}, body)
        self.answer(200, {"sentMessages": [{"id": str(461230966842064897 + i), "quoteToken": "IStG5h1Tz7b"} for i in range(len(messages))]})

    def telegram(self, token, body):
        if token != TELEGRAM_TOKEN:
            return self.answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        text = body.get("text")
        if "chat_id" not in body or not isinstance(text, str) or not 1 <= len(text) <= 4096:
            return self.answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"})
        sent["n"] += 1
        record("telegram", {}, body)
        self.answer(200, {"ok": True, "result": {"message_id": sent["n"], "chat": {"id": body["chat_id"]}, "text": text}})

    def telegram_file(self, token, method, raw):
        if token != TELEGRAM_TOKEN:
            return self.answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        ctype = self.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            return self.answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: there is no file in the request"})
        form = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
        fields, file = {}, None
        for part in form.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True) or b""
            if part.get_filename():
                file = {"field": name, "name": part.get_filename(), "type": part.get_content_type(), "size": len(data), "head": data[:4].hex()}
            else:
                fields[name] = data.decode()
        want = "photo" if method == "sendPhoto" else "document"
        if "chat_id" not in fields or not file or file["field"] != want:
            return self.answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: there is no " + want + " in the request"})
        sent["n"] += 1
        record("telegram_file", {}, {"method": method, "chat_id": fields["chat_id"], **file})
        self.answer(200, {"ok": True, "result": {"message_id": sent["n"], "chat": {"id": fields["chat_id"]}}})

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
