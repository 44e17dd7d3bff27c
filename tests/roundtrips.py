"""Round trips between loyaltyctl and a PostgreSQL server, counted on the wire.

`RoundTripCounter` is a TCP proxy in front of the server: a round trip is
each time the client speaks after the server has answered (or first), so
statements sent together in psycopg's pipeline mode count once. The
figure is the protocol's, whatever the driver does underneath.
"""

import socket
import threading
from urllib.parse import urlsplit, urlunsplit


class RoundTripCounter:
    def __init__(self, url: str):
        parts = urlsplit(url)
        self._server = (parts.hostname, parts.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        netloc = parts.netloc.rsplit("@", 1)
        self.url = urlunsplit(parts._replace(netloc=f"{netloc[0]}@127.0.0.1:{port}" if len(netloc) == 2
                                             else f"127.0.0.1:{port}"))
        self.count = 0
        self.cut_at: int | None = None  # the round trip whose answer never arrives (the connection drops)
        self._lock = threading.Lock()
        self._client_turn: dict[int, bool] = {}
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> int:
        with self._lock:
            count, self.count = self.count, 0
        return count

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._server)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            key = id(client)
            self._client_turn[key] = False
            threading.Thread(target=self._pump, args=(client, server, key, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, key, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, key: int, from_client: bool) -> None:
        try:
            while data := source.recv(65536):
                with self._lock:
                    if from_client and not self._client_turn[key]:
                        self.count += 1
                    self._client_turn[key] = from_client
                    cut = not from_client and self.cut_at is not None and self.count >= self.cut_at
                if cut:  # the server answered; the network loses the answer and the connection
                    self.cut_at = None
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._listener.close()
