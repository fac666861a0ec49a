#!/usr/bin/python3
"""Where radlink's alerts go in the tests: a mail server (Debian's
python3-aiosmtpd) that requires STARTTLS and authentication, an HTTPS
webhook receiver that requires a bearer token, and a syslog socket (a Unix
datagram socket, as /dev/log is).

  alert_sinks.py DIR CERT KEY USER PASSWORD TOKEN

Each mail is written to DIR/mail/N.eml, each POST body to DIR/hook/N.json
(a request without the token is answered 401 and not kept), each syslog
datagram to DIR/syslog.log (one line each). A mail's X-Received-Ms header says when it
came (ms since the epoch: the alert benchmark's clock). The ports are written to
DIR/ports as "smtp PORT" and "https PORT" lines once all three listen; the
syslog socket is DIR/syslog.sock.
"""
import asyncio
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.smtp import SMTP, AuthResult

DIR, CERT, KEY, USER, PASSWORD, TOKEN = sys.argv[1:7]
os.makedirs(os.path.join(DIR, "mail"), exist_ok=True)
os.makedirs(os.path.join(DIR, "hook"), exist_ok=True)
count = {"mail": 0, "hook": 0}
lock = threading.Lock()


def keep(kind, ext, data):
    with lock:
        count[kind] += 1
        n = count[kind]
    path = os.path.join(DIR, kind, "%d.%s" % (n, ext))
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        head = ("X-Envelope-From: %s\r\nX-Envelope-To: %s\r\nX-Authenticated: %s\r\n"
                "X-Received-Ms: %d\r\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos),
                                            session.authenticated, int(time.time() * 1000)))
        keep("mail", "eml", head.encode() + envelope.original_content)
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD
    return AuthResult(success=ok, handled=False)


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            self.send_response(401)
            self.end_headers()
            return
        keep("hook", "json", body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def syslog_loop(sock):
    with open(os.path.join(DIR, "syslog.log"), "ab", buffering=0) as f:
        while True:
            data = sock.recv(65536)
            f.write(data.replace(b"\n", b" ") + b"\n")


async def main():
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(CERT, KEY)
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(
        lambda: SMTP(Handler(), tls_context=tls, require_starttls=True, auth_required=True,
                     auth_require_tls=True, authenticator=authenticator),
        "127.0.0.1", 0)
    smtp_port = smtp.sockets[0].getsockname()[1]

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    path = os.path.join(DIR, "syslog.sock")
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    threading.Thread(target=syslog_loop, args=(s,), daemon=True).start()

    with open(os.path.join(DIR, "ports.tmp"), "w") as f:
        f.write("smtp %d\nhttps %d\n" % (smtp_port, httpd.server_address[1]))
    os.rename(os.path.join(DIR, "ports.tmp"), os.path.join(DIR, "ports"))
    await asyncio.Event().wait()


asyncio.run(main())
