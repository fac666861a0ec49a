"""Raw MLLP peer for the integration tests: sockets driven byte by byte, so
that the tests control exactly what arrives and when. Used by the framing,
concurrency and crash tests (python3 standard library only)."""
import socket
import ssl
import time

SB, EB, CR = b'\x0b', b'\x1c', b'\r'


def msg(ctrl, pid='P1', mtype='ADT^A08', extra=''):
    return ('MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||%s|%s|P|2.5\r'
            'PID|1||%s^^^GENHOSP^MR||DOE^JANE%s\r' % (mtype, ctrl, pid, extra)).encode()


def frame(m):
    return SB + m + EB + CR


class Conn:
    def __init__(self, port, host='127.0.0.1', timeout=10, tls_ctx=None, source=None):
        s = socket.create_connection((host, port), timeout=timeout,
                                     source_address=(source, 0) if source else None)
        if tls_ctx:
            s = tls_ctx.wrap_socket(s, server_hostname=host)
        self.s = s
        self.buf = b''

    def send(self, data):
        self.s.sendall(data)

    def read_frame(self, timeout=10):
        """The next framed reply, or None when the server closed first."""
        self.s.settimeout(timeout)
        while True:
            start = self.buf.find(SB)
            end = self.buf.find(EB + CR, start + 1) if start >= 0 else -1
            if start >= 0 and end >= 0:
                out = self.buf[start + 1:end]
                self.buf = self.buf[end + 2:]
                return out
            try:
                chunk = self.s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                return None
            if not chunk:
                return None
            self.buf += chunk

    def closed_by_server(self, timeout=5):
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b''
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def msa(ack):
    """(code, control id, text) of an ACK's MSA segment."""
    for seg in ack.split(b'\r'):
        if seg.startswith(b'MSA|'):
            f = seg.decode('latin-1').split('|')
            return (f[1], f[2] if len(f) > 2 else '', f[3] if len(f) > 3 else '')
    return (None, None, None)


def wait_port(port, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False
