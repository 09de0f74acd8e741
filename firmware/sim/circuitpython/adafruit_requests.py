"""Stand-in for adafruit_requests (library 4.x): real HTTP(S) from the host, with the board's
limits. A Session keeps one response open (a new request closes the previous one); a body read
whole (.content, .text, .json()) must fit the device's free memory, so large downloads have to
stream with iter_content(); timeouts raise OSError ETIMEDOUT as the ESP32 socket does."""

import errno
import http.client
import json as _json
import socket
import ssl
import urllib.parse

from ..device import HttpExchange, current
from .adafruit_connection_manager import SocketPool


class Response:
    def __init__(self, session, exchange, raw, connection):
        self._session = session
        self._exchange = exchange
        self._raw = raw
        self._connection = connection
        self._consumed = False
        self._closed = False
        self.status_code = raw.status
        self.reason = raw.reason.encode("latin-1")
        self.headers = {k.lower(): v for k, v in raw.getheaders()}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read(self, size):
        if self._closed:
            raise OSError(errno.EBADF, "the response was closed (a newer request on the session closes it)")
        try:
            data = self._raw.read(size) if size is not None else self._raw.read()
        except (socket.timeout, TimeoutError):
            raise OSError(errno.ETIMEDOUT, "ETIMEDOUT") from None
        except (http.client.HTTPException, ConnectionError) as error:
            raise OSError(errno.ECONNRESET, "connection broken: %s" % error) from None
        if len(self._exchange.body_prefix) < 4096:
            self._exchange.body_prefix += data[: 4096 - len(self._exchange.body_prefix)]
        return data

    @property
    def content(self):
        if self._consumed:
            raise RuntimeError("the body was already read")
        limit = current().memory_limit
        data = self._read(limit + 1)
        self._consumed = True
        if len(data) > limit:
            self.close()
            raise MemoryError("memory allocation failed, allocating %d bytes (stream large bodies with iter_content)" % len(data))
        return data

    @property
    def text(self):
        return self.content.decode("utf-8")

    def json(self):
        return _json.loads(self.content)

    def iter_content(self, chunk_size=1, decode_unicode=False):
        if self._consumed:
            raise RuntimeError("the body was already read")
        self._consumed = True
        while True:
            chunk = self._read(chunk_size)
            if not chunk:
                break
            yield chunk.decode("utf-8") if decode_unicode else chunk

    def close(self):
        if not self._closed:
            self._closed = True
            self._connection.close()


class Session:
    def __init__(self, socket_pool, ssl_context=None, session_id=None):
        if not isinstance(socket_pool, SocketPool):
            raise TypeError("socket_pool must come from adafruit_connection_manager.get_radio_socketpool()")
        self._pool = socket_pool
        self._ssl_context = ssl_context
        self._last_response = None

    def request(self, method, url, data=None, json=None, headers=None, stream=False, timeout=60):
        device = current()
        if self._last_response is not None:
            self._last_response.close()
            self._last_response = None
        if not self._pool.radio.is_connected:
            raise ConnectionError("ESP32 not connected")
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError("Unsupported protocol: %s" % parts.scheme)
        if parts.scheme == "https" and self._ssl_context is None:
            raise RuntimeError("ssl_context must be set before using adafruit_requests for https")
        for name, value in (headers or {}).items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError("header names and values must be strings")
        body = data
        all_headers = {"User-Agent": "Adafruit CircuitPython"}
        all_headers.update(headers or {})
        if json is not None:
            body = _json.dumps(json)
            all_headers["Content-Type"] = "application/json"
        seconds = timeout * device.time_scale
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=seconds, context=ssl.create_default_context())
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=seconds)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            connection.request(method, path, body=body, headers=all_headers)
            raw = connection.getresponse()
        except (socket.timeout, TimeoutError):
            connection.close()
            raise OSError(errno.ETIMEDOUT, "ETIMEDOUT") from None
        except OSError as error:
            connection.close()
            raise OSError(error.errno or errno.ECONNREFUSED, "connect to %s failed: %s" % (parts.netloc, error.strerror or error)) from None
        exchange = HttpExchange(method, url, all_headers, timeout, raw.status, {k.lower(): v for k, v in raw.getheaders()}, b"")
        device.http.append(exchange)
        response = Response(self, exchange, raw, connection)
        self._last_response = response
        return response

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)
